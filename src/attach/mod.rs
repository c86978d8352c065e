//! Attachments for consultations (`files`, `images`): paths and globs resolved and checked inside
//! the roots, read with size caps, sniffed, and turned into OpenRouter content parts.
//!
//! A path is resolved (symlinks followed, `..` removed) before it is checked against the roots;
//! only regular files are opened, and only UTF-8 text, PDFs and PNG/JPEG/WebP/GIF images pass.

mod error;
mod glob;
mod image;
mod limits;
mod parts;
mod read;
mod roots;
#[cfg(test)]
mod tests;

pub use error::AttachError;
pub use limits::*;
pub use parts::{content_parts, fenced};
pub use roots::Roots;

use crate::mask::{Counts, Masker};
use image::data_url;
use read::Contents;
use std::collections::HashSet;
use std::path::PathBuf;

/// One attachment, ready for the request builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachment {
    /// A text file: its path as shown to the model and its contents (masked once `mask` ran).
    Text { path: String, text: String },
    /// A PDF, sent as a `file` part: `data_url` is `data:application/pdf;base64,...`.
    Pdf {
        path: String,
        filename: String,
        data_url: String,
        bytes: u64,
    },
    /// An image, sent as an `image_url` part: `url` is the `https://` URL or a `data:` URI.
    /// `mime` is known for data (from the bytes) and `None` for URLs, which are not fetched.
    Image {
        source: String,
        url: String,
        mime: Option<&'static str>,
    },
}

impl Attachment {
    /// Masks a text attachment in place, adding to `counts`. PDFs and images are binary and
    /// pass unchanged.
    pub fn mask(&mut self, masker: &Masker, counts: &mut Counts) {
        if let Self::Text { text, .. } = self
            && let std::borrow::Cow::Owned(masked) = masker.mask_counting(text, counts)
        {
            *text = masked;
        }
    }

    /// The text the model reads for this attachment (the fenced block), for token counting.
    pub fn model_text(&self) -> Option<String> {
        match self {
            Self::Text { path, text } => Some(fenced(path, text)),
            _ => None,
        }
    }
}

/// Reads `files` (paths and globs; relative ones against the first root) in order, each file once.
///
/// # Errors
/// The first refusal: a path outside the roots (after resolution), a missing file, a directory,
/// a device, FIFO or socket, a binary that is not a PDF, or a file, total, count or glob limit.
pub fn read_files(
    files: &[String],
    roots: &Roots,
    limits: &Limits,
) -> Result<Vec<Attachment>, AttachError> {
    let targets = resolve_all(files, roots, limits)?;
    let mut total = 0u64;
    targets
        .into_iter()
        .map(|(shown, resolved)| read_file(&shown, &resolved, roots, limits, &mut total))
        .collect()
}

/// Each path or glob match, resolved and inside a root, with the name errors show; no duplicates.
fn resolve_all(
    files: &[String],
    roots: &Roots,
    limits: &Limits,
) -> Result<Vec<(String, PathBuf)>, AttachError> {
    let mut seen = HashSet::new();
    let mut targets = Vec::new();
    for file in files {
        let found = if glob::is_glob(file) {
            glob::expand(file, roots, limits)?
                .into_iter()
                .map(|m| {
                    let shown = roots.display(&m);
                    roots.resolve_path(&shown, &m).map(|r| (shown, r))
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            vec![(file.clone(), roots.resolve(file)?)]
        };
        targets.extend(found.into_iter().filter(|(_, r)| seen.insert(r.clone())));
        if targets.len() > limits.max_files {
            return Err(AttachError::TooManyFiles {
                count: targets.len(),
                limit: limits.max_files,
            });
        }
    }
    Ok(targets)
}

fn read_file(
    shown: &str,
    resolved: &std::path::Path,
    roots: &Roots,
    limits: &Limits,
    total: &mut u64,
) -> Result<Attachment, AttachError> {
    let size = read::regular_size(shown, resolved)?;
    if size > limits.max_file_bytes {
        return Err(AttachError::FileTooLarge {
            path: shown.to_owned(),
            size,
            limit: limits.max_file_bytes,
        });
    }
    let over_total = || AttachError::TotalTooLarge {
        path: shown.to_owned(),
        limit: limits.max_total_bytes,
    };
    if *total + size > limits.max_total_bytes {
        return Err(over_total());
    }
    let bytes = read::read_capped(shown, resolved, limits.max_file_bytes)?;
    *total += bytes.len() as u64;
    if *total > limits.max_total_bytes {
        return Err(over_total());
    }
    let path = roots.display(resolved);
    Ok(match read::sniff(shown, bytes)? {
        Contents::Text(text) => Attachment::Text { path, text },
        Contents::Pdf(bytes) => Attachment::Pdf {
            filename: file_name(resolved),
            data_url: data_url("application/pdf", &bytes),
            bytes: bytes.len() as u64,
            path,
        },
    })
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads `images`: `https://` URLs (kept, not fetched), `data:` URIs and image files by path.
///
/// # Errors
/// Too many images, another URL scheme, a data URI over `max_image_bytes` or whose bytes are not
/// its declared type, a path refused as in [`read_files`], or a file that is not an image.
pub fn read_images(
    images: &[String],
    roots: &Roots,
    limits: &Limits,
) -> Result<Vec<Attachment>, AttachError> {
    if images.len() > limits.max_images {
        return Err(AttachError::TooManyImages {
            count: images.len(),
            limit: limits.max_images,
        });
    }
    images
        .iter()
        .map(|i| read_image(i, roots, limits))
        .collect()
}

fn read_image(image: &str, roots: &Roots, limits: &Limits) -> Result<Attachment, AttachError> {
    let lower = image.get(..8).unwrap_or(image).to_ascii_lowercase();
    if lower.starts_with("https://") {
        return image::https(image);
    }
    if lower.starts_with("data:") {
        return image::data_uri(image, limits);
    }
    if image.contains("://") {
        return Err(AttachError::ImageScheme {
            url: image.to_owned(),
        });
    }
    let resolved = roots.resolve(image)?;
    image_file(image, &resolved, limits)
}

fn image_file(
    shown: &str,
    resolved: &std::path::Path,
    limits: &Limits,
) -> Result<Attachment, AttachError> {
    let size = read::regular_size(shown, resolved)?;
    if size > limits.max_image_bytes {
        return Err(AttachError::ImageTooLarge {
            path: shown.to_owned(),
            size,
            limit: limits.max_image_bytes,
        });
    }
    let bytes = read::read_capped(shown, resolved, limits.max_image_bytes)?;
    let mime = image::sniff(&bytes).ok_or_else(|| AttachError::NotAnImage {
        path: shown.to_owned(),
    })?;
    Ok(Attachment::Image {
        source: shown.to_owned(),
        url: data_url(mime, &bytes),
        mime: Some(mime),
    })
}
