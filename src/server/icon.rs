//! The server icon hosts show next to the server's name: `packaging/icon.png` (512x512), kept as
//! `icon.png` beside this file so the published crate compiles it in, and served in `initialize`
//! as a `data:` URI encoded at compile time (no start-up cost, nothing fetched).

const PNG: &[u8] = include_bytes!("icon.png");
const PREFIX: &[u8] = b"data:image/png;base64,";
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LEN: usize = PREFIX.len() + PNG.len().div_ceil(3) * 4;
const DATA_URI: [u8; LEN] = encode();

/// `data:image/png;base64,…` of the icon.
pub fn data_uri() -> &'static str {
    std::str::from_utf8(&DATA_URI).unwrap_or_default()
}

pub const SIZES: &str = "512x512";

/// Standard base64 (RFC 4648, padded) after the URI prefix.
const fn encode() -> [u8; LEN] {
    let mut out = [b'='; LEN];
    let mut i = 0;
    while i < PREFIX.len() {
        out[i] = PREFIX[i];
        i += 1;
    }
    let mut read = 0;
    let mut write = PREFIX.len();
    while read < PNG.len() {
        let left = PNG.len() - read;
        let b0 = PNG[read] as u32;
        let b1 = if left > 1 { PNG[read + 1] as u32 } else { 0 };
        let b2 = if left > 2 { PNG[read + 2] as u32 } else { 0 };
        let n = (b0 << 16) | (b1 << 8) | b2;
        out[write] = ALPHABET[(n >> 18) as usize & 63];
        out[write + 1] = ALPHABET[(n >> 12) as usize & 63];
        if left > 1 {
            out[write + 2] = ALPHABET[(n >> 6) as usize & 63];
        }
        if left > 2 {
            out[write + 3] = ALPHABET[n as usize & 63];
        }
        read += 3;
        write += 4;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_icon_is_the_packaging_icon() {
        let packaged = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/icon.png"))
            .expect("packaging/icon.png");
        assert!(
            packaged == PNG,
            "src/server/icon.png differs from packaging/icon.png: copy it over"
        );
    }

    #[test]
    fn the_data_uri_is_standard_base64_of_the_png() {
        let uri = data_uri();
        let encoded = uri.strip_prefix("data:image/png;base64,").expect("prefix");
        assert_eq!(encoded.len() % 4, 0);
        assert!(encoded.starts_with("iVBORw0KGgo"), "the PNG signature");
        // Decode by hand and compare: the encoder above is the only one in the crate.
        let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32);
        let mut decoded = Vec::new();
        for chunk in encoded.as_bytes().chunks(4) {
            let pad = chunk.iter().filter(|&&c| c == b'=').count();
            let n = chunk
                .iter()
                .map(|&c| value(c).unwrap_or(0))
                .fold(0, |acc, v| (acc << 6) | v);
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            decoded.extend_from_slice(&bytes[..3 - pad]);
        }
        assert_eq!(decoded, PNG);
        assert!(uri.len() < 6 * 1024, "{} bytes", uri.len());
    }
}
