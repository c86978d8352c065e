//! Prompt-token estimates for the parts that are not text: images (from the dimensions in their
//! header bytes) and PDFs (from their page count). Upper bounds, for the context pre-check and the
//! budget's worst case; the upstream's `usage.prompt_tokens` is what is charged.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// An image whose size cannot be read (an `https://` URL is not fetched): the most any of the
/// common providers charges for one image (Anthropic's cap of about 1.15 megapixels / 750).
pub const UNKNOWN_IMAGE_TOKENS: u64 = 1600;
/// Tokens a PDF page is counted as: text plus the page image some providers add.
pub const PDF_PAGE_TOKENS: u64 = 2000;
/// Base64 characters decoded to find an image's dimensions (JPEG headers can follow 64 KB of EXIF).
const HEADER_CHARS: usize = 96 * 1024;

/// Tokens of an image part: the larger of OpenAI's tile formula (high detail) and Anthropic's
/// pixels / 750, from the width and height in the bytes of a `data:` URL.
pub fn image_tokens(url: &str) -> u64 {
    match data_bytes(url, HEADER_CHARS).and_then(|b| dimensions(&b)) {
        Some((w, h)) => openai_tiles(w, h).max(anthropic(w, h)),
        None => UNKNOWN_IMAGE_TOKENS,
    }
}

/// Tokens of a PDF part: [`PDF_PAGE_TOKENS`] per page (at least one page).
pub fn pdf_tokens(file_data: &str) -> u64 {
    let pages = data_bytes(file_data, usize::MAX).map_or(1, |b| page_count(&b));
    pages.max(1) * PDF_PAGE_TOKENS
}

/// The decoded payload of a base64 `data:` URL, at most `chars` characters of it.
fn data_bytes(url: &str, chars: usize) -> Option<Vec<u8>> {
    let payload = url.strip_prefix("data:")?.split_once(";base64,")?.1;
    let take = payload.len().min(chars) / 4 * 4;
    STANDARD.decode(&payload[..take]).ok()
}

/// OpenAI (gpt-4o family, high detail): fit in 2048x2048, shortest side to 768, then 170 tokens
/// per 512-pixel tile plus 85.
fn openai_tiles(w: u32, h: u32) -> u64 {
    let (mut w, mut h) = (f64::from(w.max(1)), f64::from(h.max(1)));
    let fit = (2048.0 / w.max(h)).min(1.0);
    (w, h) = (w * fit, h * fit);
    let short = (768.0 / w.min(h)).min(1.0);
    (w, h) = (w * short, h * short);
    let tiles = (w / 512.0).ceil() * (h / 512.0).ceil();
    85 + 170 * tiles as u64
}

/// Anthropic: the image is scaled to at most 1568 pixels on its long side, then w*h/750.
fn anthropic(w: u32, h: u32) -> u64 {
    let (w, h) = (f64::from(w.max(1)), f64::from(h.max(1)));
    let fit = (1568.0 / w.max(h)).min(1.0);
    ((w * fit) * (h * fit) / 750.0).ceil() as u64
}

/// Width and height from a PNG, GIF, JPEG or WebP header.
pub(crate) fn dimensions(b: &[u8]) -> Option<(u32, u32)> {
    let be32 = |i: usize| Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?));
    let le16 = |i: usize| {
        Some(u32::from(u16::from_le_bytes(
            b.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    let le24 = |i: usize| {
        Some(u32::from_le_bytes([
            *b.get(i)?,
            *b.get(i + 1)?,
            *b.get(i + 2)?,
            0,
        ]))
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?));
    }
    if b.starts_with(b"GIF8") {
        return Some((le16(6)?, le16(8)?));
    }
    if b.starts_with(&[0xFF, 0xD8]) {
        return jpeg(b);
    }
    if b.len() >= 30 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP" {
        return match &b[12..16] {
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            b"VP8L" => {
                let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
                Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
            }
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            _ => None,
        };
    }
    None
}

/// The frame size from a JPEG's first SOF marker.
fn jpeg(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < b.len() {
        if b[i] != 0xFF {
            i += 1;
            continue;
        }
        let marker = b[i + 1];
        let length = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if sof {
            let h = u32::from(u16::from_be_bytes([b[i + 5], b[i + 6]]));
            let w = u32::from(u16::from_be_bytes([b[i + 7], b[i + 8]]));
            return Some((w, h));
        }
        i += 2 + length;
    }
    None
}

/// Pages in a PDF: its `/Type /Page` objects (not `/Pages`).
fn page_count(b: &[u8]) -> u64 {
    let mut count = 0;
    let mut i = 0;
    while let Some(at) = find(&b[i..], b"/Type") {
        let mut j = i + at + 5;
        while b.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if b[j..].starts_with(b"/Page") && !b[j + 5..].starts_with(b"s") {
            count += 1;
        }
        i = j;
    }
    count
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> String {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend(w.to_be_bytes());
        bytes.extend(h.to_be_bytes());
        bytes.extend([8, 6, 0, 0, 0]);
        format!("data:image/png;base64,{}", STANDARD.encode(bytes))
    }

    #[test]
    fn image_tokens_follow_the_dimensions() {
        // 512x512: OpenAI 85 + 170 = 255; Anthropic 512*512/750 = 350.
        assert_eq!(image_tokens(&png(512, 512)), 350);
        // 1024x1024: OpenAI 4 tiles = 765; Anthropic 1398.
        assert_eq!(image_tokens(&png(1024, 1024)), 1399);
        // Tiny images cost OpenAI's base of 85 + one tile.
        assert_eq!(image_tokens(&png(16, 16)), 255);
        assert_eq!(
            image_tokens("https://example.com/a.png"),
            UNKNOWN_IMAGE_TOKENS
        );
    }

    #[test]
    fn pdf_tokens_follow_the_pages() {
        let pdf = b"%PDF-1.4\n1 0 obj <</Type /Pages /Count 2>>\n2 0 obj <</Type /Page>>\n3 0 obj <</Type/Page>>\n";
        let url = format!("data:application/pdf;base64,{}", STANDARD.encode(pdf));
        assert_eq!(pdf_tokens(&url), 2 * PDF_PAGE_TOKENS);
    }
}
