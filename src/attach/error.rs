//! Why an attachment was refused: each variant names the path (or the limit and how to stay under it).

use std::path::PathBuf;

/// An attachment that cannot be sent. The caller prefixes the argument (`files: ...`, `images: ...`).
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("no file roots: set SWITCHBOARD_FILE_ROOTS or let the client share its MCP roots")]
    NoRoots,
    #[error("file root {root}: {source}; every root must be an existing directory")]
    BadRoot {
        root: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    NotFound {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: resolves to {resolved}, which is outside the file roots ({roots}); attach files inside a root"
    )]
    OutsideRoots {
        path: String,
        resolved: PathBuf,
        roots: String,
    },
    #[error("{path}: is a directory; name its files or use a glob such as {path}/**/*.rs")]
    Directory { path: String },
    #[error("{path}: is a {kind}, not a regular file; only regular files can be attached")]
    NotRegular { path: String, kind: &'static str },
    #[error("{path}: is a binary file; only UTF-8 text and PDF files can be attached")]
    Binary { path: String },
    #[error(
        "{path}: is {size} bytes, over the limit of {limit} bytes per file; attach a smaller file or an excerpt"
    )]
    FileTooLarge { path: String, size: u64, limit: u64 },
    #[error(
        "{path}: would bring the attachments over the limit of {limit} bytes in total; attach fewer or smaller files"
    )]
    TotalTooLarge { path: String, limit: u64 },
    #[error(
        "{count} files to attach, over the limit of {limit} files; attach fewer files or narrow the globs"
    )]
    TooManyFiles { count: usize, limit: usize },
    #[error("{pattern}: matches more than {limit} files; narrow the glob")]
    GlobTooMany { pattern: String, limit: usize },
    #[error(
        "{pattern}: looked at more than {limit} entries without finishing; narrow the glob to a smaller directory"
    )]
    GlobTooBroad { pattern: String, limit: usize },
    #[error("{pattern}: matches no files")]
    GlobNoMatch { pattern: String },
    #[error("{pattern}: not a valid glob: {reason}")]
    BadGlob { pattern: String, reason: String },
    #[error("{path}: cannot be read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: is not a PNG, JPEG, WebP or GIF image")]
    NotAnImage { path: String },
    #[error("data: URI: says {declared} but the bytes are {actual}; fix the data: URI's MIME type")]
    ImageTypeMismatch {
        declared: String,
        actual: &'static str,
    },
    #[error(
        "data: URI of {size} bytes, over the limit of {limit} bytes per image; send a smaller image or an https:// URL"
    )]
    DataUriTooLarge { size: u64, limit: u64 },
    #[error(
        "{path}: is {size} bytes, over the limit of {limit} bytes per image; send a smaller image"
    )]
    ImageTooLarge { path: String, size: u64, limit: u64 },
    #[error("data: URI: {reason}; use data:image/png;base64,<data> (png, jpeg, webp or gif)")]
    BadDataUri { reason: &'static str },
    #[error("{url}: only https:// URLs, data: URIs and file paths can be attached as images")]
    ImageScheme { url: String },
    #[error("{count} images, over the limit of {limit}; attach fewer images")]
    TooManyImages { count: usize, limit: usize },
}
