//! Reading one resolved file: its type checked from metadata before and after opening, its bytes
//! read with a cap, and its contents sniffed (UTF-8 text, a PDF, or a refused binary).

use super::AttachError;
use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::path::Path;

/// What a file turned out to hold.
#[derive(Debug)]
pub(super) enum Contents {
    Text(String),
    Pdf(Vec<u8>),
}

/// The size of `resolved` after checking it is a regular file (not a directory, device, FIFO or socket).
pub(super) fn regular_size(path: &str, resolved: &Path) -> Result<u64, AttachError> {
    let metadata = std::fs::metadata(resolved).map_err(|source| AttachError::Read {
        path: path.to_owned(),
        source,
    })?;
    check_type(path, &metadata)?;
    Ok(metadata.len())
}

/// Reads at most `limit` bytes of a regular file; a file that has grown past `limit` is refused.
/// Opened non-blocking and checked again on the open handle, so a file swapped for a FIFO or a
/// device after the first check is refused, never read.
pub(super) fn read_capped(path: &str, resolved: &Path, limit: u64) -> Result<Vec<u8>, AttachError> {
    let read_error = |source| AttachError::Read {
        path: path.to_owned(),
        source,
    };
    let file = open(resolved).map_err(read_error)?;
    check_type(path, &file.metadata().map_err(read_error)?)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(AttachError::FileTooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

fn check_type(path: &str, metadata: &Metadata) -> Result<(), AttachError> {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok(());
    }
    if file_type.is_dir() {
        return Err(AttachError::Directory {
            path: path.to_owned(),
        });
    }
    Err(AttachError::NotRegular {
        path: path.to_owned(),
        kind: special_kind(&file_type),
    })
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_char_device() || file_type.is_block_device() {
        "device"
    } else if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "special file"
}

/// UTF-8 without NUL bytes is text; `%PDF-` is a PDF; anything else is refused as binary.
pub(super) fn sniff(path: &str, bytes: Vec<u8>) -> Result<Contents, AttachError> {
    if bytes.starts_with(b"%PDF-") {
        return Ok(Contents::Pdf(bytes));
    }
    if !bytes.contains(&0)
        && let Ok(text) = String::from_utf8(bytes)
    {
        return Ok(Contents::Text(text));
    }
    Err(AttachError::Binary {
        path: path.to_owned(),
    })
}
