//! Images: `https://` URLs kept as they are, `data:` URIs decoded with a cap, and files read
//! from the roots; the type always comes from the bytes (PNG, JPEG, WebP, GIF), never the name.

use super::{AttachError, Attachment, Limits};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The image type that `bytes` start with, as a MIME type.
pub(super) fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// `data:<mime>;base64,` followed by the bytes in base64.
pub(super) fn data_url(mime: &str, bytes: &[u8]) -> String {
    let mut url = String::with_capacity(mime.len() + 13 + bytes.len().div_ceil(3) * 4);
    url.push_str("data:");
    url.push_str(mime);
    url.push_str(";base64,");
    STANDARD.encode_string(bytes, &mut url);
    url
}

/// An `https://` URL, kept as a URL (the model's provider fetches it).
pub(super) fn https(url: &str) -> Result<Attachment, AttachError> {
    if url.len() <= "https://".len() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AttachError::ImageScheme {
            url: url.to_owned(),
        });
    }
    Ok(Attachment::Image {
        source: url.to_owned(),
        url: url.to_owned(),
        mime: None,
    })
}

/// A `data:` URI: size-capped before decoding, then its declared type checked against its bytes.
pub(super) fn data_uri(uri: &str, limits: &Limits) -> Result<Attachment, AttachError> {
    let (header, payload) =
        uri["data:".len()..]
            .split_once(',')
            .ok_or(AttachError::BadDataUri {
                reason: "no comma before the data",
            })?;
    let declared = header
        .strip_suffix(";base64")
        .ok_or(AttachError::BadDataUri {
            reason: "not base64-encoded",
        })?
        .to_ascii_lowercase();
    let size = (payload.len() as u64 / 4) * 3;
    if size > limits.max_image_bytes {
        return Err(AttachError::DataUriTooLarge {
            size,
            limit: limits.max_image_bytes,
        });
    }
    let bytes = STANDARD
        .decode(payload)
        .map_err(|_| AttachError::BadDataUri {
            reason: "the data is not valid base64",
        })?;
    let actual = sniff(&bytes).ok_or_else(|| AttachError::NotAnImage {
        path: format!("data:{declared} URI"),
    })?;
    let declared_norm = if declared == "image/jpg" {
        "image/jpeg"
    } else {
        declared.as_str()
    };
    if declared_norm != actual {
        return Err(AttachError::ImageTypeMismatch { declared, actual });
    }
    Ok(Attachment::Image {
        source: format!("data:{actual} URI"),
        url: data_url(actual, &bytes),
        mime: Some(actual),
    })
}
