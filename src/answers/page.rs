//! Cutting a text into pages by characters (Unicode scalar values, never bytes, so no character
//! is ever split): a page ends after its last line break when that falls in the page's second
//! half, else at the limit.

/// One page of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<'a> {
    pub text: &'a str,
    /// Where the page starts, in characters.
    pub offset: usize,
    /// Where the next page starts, in characters; `None` when this page reaches the end.
    pub next_offset: Option<usize>,
    /// The whole text's length, in characters.
    pub total_chars: usize,
}

/// The page of `text` that starts `offset` characters in and holds at most `max_chars` (at
/// least 1). `None` when `offset` is past the end.
pub fn page(text: &str, offset: usize, max_chars: usize) -> Option<Page<'_>> {
    let total_chars = text.chars().count();
    if offset > total_chars {
        return None;
    }
    let rest = &text[byte_at(text, offset)..];
    if total_chars - offset <= max_chars {
        return Some(Page {
            text: rest,
            offset,
            next_offset: None,
            total_chars,
        });
    }
    let taken = cut(rest, max_chars.max(1));
    Some(Page {
        text: &rest[..byte_at(rest, taken)],
        offset,
        next_offset: Some(offset + taken),
        total_chars,
    })
}

/// How many characters a page of `rest` (longer than `max_chars`) takes: up to and including
/// its last line break when that lies in the second half of the page, else `max_chars`.
fn cut(rest: &str, max_chars: usize) -> usize {
    let last_break = rest
        .chars()
        .take(max_chars)
        .enumerate()
        .filter(|(_, c)| *c == '\n')
        .last()
        .map(|(i, _)| i + 1);
    match last_break {
        Some(taken) if taken > max_chars / 2 => taken,
        _ => max_chars,
    }
}

/// The byte index of the character `chars` characters into `text` (its length at the end).
fn byte_at(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every page from the start, following `next_offset`.
    fn pages(text: &str, max_chars: usize) -> Vec<Page<'_>> {
        let mut out = Vec::new();
        let mut offset = Some(0);
        while let Some(at) = offset {
            let page = page(text, at, max_chars).unwrap();
            offset = page.next_offset;
            out.push(page);
        }
        out
    }

    #[test]
    fn a_short_text_is_one_page() {
        let one = page("short", 0, 10).unwrap();
        assert_eq!(
            (one.text, one.next_offset, one.total_chars),
            ("short", None, 5)
        );
        let empty = page("", 0, 10).unwrap();
        assert_eq!((empty.text, empty.next_offset), ("", None));
    }

    #[test]
    fn a_page_ends_at_a_line_break_in_its_second_half() {
        let text = format!("{}\n{}\n{}", "a".repeat(70), "b".repeat(10), "c".repeat(50));
        let first = page(&text, 0, 100).unwrap();
        assert_eq!(
            first.text,
            format!("{}\n{}\n", "a".repeat(70), "b".repeat(10))
        );
        assert_eq!(first.next_offset, Some(82));
    }

    #[test]
    fn without_a_late_line_break_a_page_ends_at_the_limit() {
        let text = format!("{}\n{}", "a".repeat(10), "b".repeat(200));
        let first = page(&text, 0, 100).unwrap();
        assert_eq!(
            first.text.chars().count(),
            100,
            "the break at 11 is in the first half"
        );
        assert_eq!(first.next_offset, Some(100));
    }

    #[test]
    fn offsets_and_limits_count_characters_and_never_split_one() {
        let text = "é€😀\n".repeat(300);
        let all = pages(&text, 37);
        assert!(all.iter().all(|p| p.text.chars().count() <= 37));
        let joined: String = all.iter().map(|p| p.text).collect();
        assert_eq!(joined, text);
        let second = all[1];
        assert_eq!(second.offset, all[0].next_offset.unwrap());
        assert_eq!(
            second.text.chars().next(),
            text.chars().nth(second.offset),
            "the offset is in characters"
        );
    }

    #[test]
    fn pages_reassemble_exactly_and_an_offset_past_the_end_is_none() {
        let text: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        let joined: String = pages(&text, 333).iter().map(|p| p.text).collect();
        assert_eq!(joined, text);
        let total = text.chars().count();
        assert_eq!(page(&text, total, 10).unwrap().text, "");
        assert!(page(&text, total + 1, 10).is_none());
        let single: String = pages("abc", 1).iter().map(|p| p.text).collect();
        assert_eq!(single, "abc");
    }
}
