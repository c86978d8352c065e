//! Finds the API key in upstream text and masks it: written plainly, percent-encoded (`%73%6B…`),
//! JSON-escaped (`\u0073`, `\/`) or any mix of these, and also a key cut short at the end of a text.

/// What every found key is replaced with.
pub const MASK: &str = "[redacted]";

/// A key prefix at least this long at the very end of a text is masked too: the text was cut
/// inside the key.
const MIN_PARTIAL: usize = 8;

/// How far a match of `key` at some position got.
enum Match {
    /// The whole key, written in this many bytes of text.
    Whole(usize),
    /// The text ended after this many bytes, inside the key.
    CutShort(usize),
}

/// `text` with every occurrence of `key` (in any of its written forms) replaced by [`MASK`].
pub fn redact(text: &str, key: &str) -> String {
    let key = key.as_bytes();
    if key.is_empty() {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = String::new();
    let (mut copied, mut at) = (0, 0);
    while at < bytes.len() {
        if !could_start(bytes[at], key[0]) || !text.is_char_boundary(at) {
            at += 1;
            continue;
        }
        let span = match match_at(bytes, at, key) {
            Some(Match::Whole(len)) => len,
            Some(Match::CutShort(len)) => len,
            None => {
                at += 1;
                continue;
            }
        };
        out.push_str(&text[copied..at]);
        out.push_str(MASK);
        at += span;
        copied = at;
    }
    if copied == 0 {
        return text.to_string();
    }
    out.push_str(&text[copied..]);
    out
}

fn could_start(byte: u8, first: u8) -> bool {
    byte == first || byte == b'%' || byte == b'\\'
}

/// Matches `key` at `start`, each key byte in any written form.
fn match_at(text: &[u8], start: usize, key: &[u8]) -> Option<Match> {
    let mut pos = start;
    for (matched, &want) in key.iter().enumerate() {
        if pos >= text.len() {
            return (matched >= MIN_PARTIAL).then_some(Match::CutShort(pos - start));
        }
        pos += unit_at(&text[pos..], want)?;
    }
    Some(Match::Whole(pos - start))
}

/// How many bytes at the start of `rest` spell `want`: the byte itself, `%XX`, `\u00XX` or `\/`.
fn unit_at(rest: &[u8], want: u8) -> Option<usize> {
    match rest[0] {
        b if b == want => Some(1),
        b'%' => (hex(rest.get(1..3)?)? == u32::from(want)).then_some(3),
        b'\\' => match rest.get(1)? {
            b'/' if want == b'/' => Some(2),
            b'u' | b'U' => (hex(rest.get(2..6)?)? == u32::from(want)).then_some(6),
            _ => None,
        },
        _ => None,
    }
}

fn hex(digits: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-or-v1-abcdef0123456789";

    fn percent(text: &str) -> String {
        text.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    #[test]
    fn masks_the_plain_key_anywhere() {
        let text = format!("{KEY} and again:{KEY}!");
        assert_eq!(redact(&text, KEY), "[redacted] and again:[redacted]!");
    }

    #[test]
    fn masks_percent_encoded_and_json_escaped_forms() {
        let encoded = percent(KEY);
        assert_eq!(redact(&format!("k={encoded}&x"), KEY), "k=[redacted]&x");
        let lower = encoded.to_lowercase();
        assert_eq!(redact(&lower, KEY), MASK);
        let mixed = format!("\\u0073k-or%2Dv1-{}", &KEY[9..]);
        assert_eq!(redact(&format!("<{mixed}>"), KEY), "<[redacted]>");
    }

    #[test]
    fn masks_a_key_cut_short_at_the_end_only() {
        let cut = format!("message ends in {}", &KEY[..12]);
        assert_eq!(redact(&cut, KEY), "message ends in [redacted]");
        let inside = format!("{} then more", &KEY[..12]);
        assert_eq!(redact(&inside, KEY), inside);
        assert_eq!(redact("ends in sk-or", KEY), "ends in sk-or");
    }

    #[test]
    fn leaves_other_text_alone_and_keeps_unicode() {
        let text = "héllo % \\ sk-or-v1 \\u00 ünïcode";
        assert_eq!(redact(text, KEY), text);
    }
}
