//! Attachments against real files in temp dirs: what is read, what is refused and why.

mod files;
mod images;
mod masking;
mod refusals;

use super::*;
use std::fs;
use std::path::Path;
use tempfile::TempDir;

/// A temp dir used as the only root.
fn root() -> (TempDir, Roots) {
    let dir = tempfile::tempdir().unwrap();
    let roots = Roots::new(vec![dir.path().to_path_buf()]).unwrap();
    (dir, roots)
}

fn write(dir: &Path, relative: &str, contents: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = dir.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, contents).unwrap();
    path
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn read(items: &[&str], roots: &Roots) -> Result<Vec<Attachment>, AttachError> {
    read_files(&strings(items), roots, &Limits::default())
}

fn text_paths(attachments: &[Attachment]) -> Vec<&str> {
    attachments
        .iter()
        .map(|a| match a {
            Attachment::Text { path, .. } | Attachment::Pdf { path, .. } => path.as_str(),
            Attachment::Image { source, .. } => source.as_str(),
        })
        .collect()
}
