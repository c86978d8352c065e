//! The directories attachments may come from, and the check that a resolved path is inside one.

use super::AttachError;
use std::path::{Path, PathBuf};

/// Canonical directories (symlinks resolved). A path is attachable only when its own canonical
/// form is inside one of them, so a symlink or `..` that leads out is refused.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    dirs: Vec<PathBuf>,
}

impl Roots {
    /// Canonicalizes each directory (from `SWITCHBOARD_FILE_ROOTS` and the client's MCP roots).
    ///
    /// # Errors
    /// A root that does not exist or is not a directory.
    pub fn new(dirs: Vec<PathBuf>) -> Result<Self, AttachError> {
        let dirs = dirs
            .into_iter()
            .map(|root| match root.canonicalize() {
                Ok(dir) if dir.is_dir() => Ok(dir),
                Ok(_) => Err(AttachError::BadRoot {
                    source: std::io::Error::other("not a directory"),
                    root,
                }),
                Err(source) => Err(AttachError::BadRoot { root, source }),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { dirs })
    }

    /// The canonical directories, the first one first.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The first root: relative paths and globs are resolved against it.
    pub(super) fn first(&self) -> Result<&Path, AttachError> {
        self.dirs
            .first()
            .map(PathBuf::as_path)
            .ok_or(AttachError::NoRoots)
    }

    /// `path` as given, made absolute against the first root (not yet resolved).
    pub(super) fn join(&self, path: &str) -> Result<PathBuf, AttachError> {
        Ok(self.first()?.join(path))
    }

    /// Resolves `path` (symlinks followed, `..` removed) and checks it is inside a root.
    pub(super) fn resolve(&self, path: &str) -> Result<PathBuf, AttachError> {
        self.resolve_path(path, &self.join(path)?)
    }

    /// Resolves an absolute `joined` path, naming it `shown` in errors.
    pub(super) fn resolve_path(&self, shown: &str, joined: &Path) -> Result<PathBuf, AttachError> {
        let resolved = joined
            .canonicalize()
            .map_err(|source| AttachError::NotFound {
                path: shown.to_owned(),
                source,
            })?;
        self.check(shown, resolved)
    }

    /// Refuses a canonical path that is inside no root.
    pub(super) fn check(&self, path: &str, resolved: PathBuf) -> Result<PathBuf, AttachError> {
        if self.dirs.iter().any(|dir| resolved.starts_with(dir)) {
            return Ok(resolved);
        }
        Err(AttachError::OutsideRoots {
            path: path.to_owned(),
            resolved,
            roots: self.list(),
        })
    }

    /// How a path is shown to the model: relative to the first root when inside it.
    pub(super) fn display(&self, resolved: &Path) -> String {
        match self
            .dirs
            .first()
            .and_then(|dir| resolved.strip_prefix(dir).ok())
        {
            Some(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
            _ => resolved.display().to_string(),
        }
    }

    fn list(&self) -> String {
        let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        dirs.join(", ")
    }
}
