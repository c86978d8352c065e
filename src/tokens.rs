//! Token counting for `estimate_cost`: tiktoken's o200k_base, exactly, without tiktoken's start-up.
//!
//! The vocabulary is a sorted byte-string table compiled into the binary and searched in place
//! (`vocab`), with tiktoken's merge loop on top (`bpe`). The first count only builds the
//! pre-tokenizer regex (a few ms); nothing is decoded or hashed at run time.

mod bpe;
pub mod media;
#[cfg(test)]
mod tests;
mod vocab;

use crate::openrouter::types::{ChatMessage, ContentPart, MessageContent};
use regex::Regex;
use std::sync::LazyLock;
use vocab::Vocab;

/// What counted the tokens, as reported by `estimate_cost`.
pub const COUNTER: &str = "o200k_base";

/// Tokens the chat format adds around each message (role and separators).
const PER_MESSAGE_OVERHEAD: usize = 3;
/// Tokens that prime the assistant's reply.
const REPLY_PRIMING: usize = 3;

/// The alternatives of o200k_base's pre-tokenizer before its last two (`\s+(?!\S)`, `\s+`).
macro_rules! o200k_head {
    () => {
        concat!(
            r#"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
            "|",
            r#"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
            "|",
            r#"\p{N}{1,3}"#,
            "|",
            r#" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
            "|",
            r#"\s*[\r\n]+"#,
        )
    };
}

/// o200k_base's pre-tokenizer, exactly as tiktoken (and tiktoken-rs) spell it.
#[cfg(test)]
const O200K_BASE_PATTERN: &str = concat!(o200k_head!(), "|", r#"\s+(?!\S)"#, "|", r#"\s+"#);

/// The same without the look-ahead, for the `regex` crate's automata (several times faster than
/// a backtracking engine, and no backtracking limit): `\s+(?!\S)|\s+` becomes `\s+`, and
/// [`lookahead_end`] gives back the last whitespace character where the look-ahead would have.
/// Anchored (`^`) and run on the rest of the text: every position starts a piece, so the search
/// never scans ahead, and the pattern has no look-around that the slicing could change.
const PATTERN: &str = concat!("^(?:", o200k_head!(), "|", r#"\s+"#, ")");

/// The o200k_base vocabulary table; `SWITCHBOARD_UPDATE_TOKENS=1 cargo test --lib tokens::` rewrites it.
static TABLE: &[u8] = include_bytes!("tokens/o200k_base.bin");

static TOKENIZER: LazyLock<Option<Tokenizer>> = LazyLock::new(Tokenizer::load);

/// Counts the tokens of plain text. Falls back to a byte estimate only if the tokenizer cannot be
/// built (its table and pattern are compiled in and checked by tests, so that does not happen).
pub fn count_text(text: &str) -> u64 {
    match TOKENIZER.as_ref() {
        Some(tokenizer) => tokenizer.count(text) as u64,
        None => byte_estimate(text),
    }
}

/// Counts the prompt tokens of a chat request, including the chat format's per-message overhead.
pub fn count_messages(messages: &[ChatMessage]) -> u64 {
    let body: u64 = messages
        .iter()
        .map(|m| {
            count_text(m.role.as_str()) + count_content(&m.content) + PER_MESSAGE_OVERHEAD as u64
        })
        .sum();
    body + REPLY_PRIMING as u64
}

/// Tokens of a message's content: text exactly, images and PDFs by [`media`]'s estimates.
pub fn count_content(content: &MessageContent) -> u64 {
    match content {
        MessageContent::Text(text) => count_text(text),
        MessageContent::Parts(parts) => parts.iter().map(count_part).sum(),
    }
}

/// An upper bound on a content's tokens without running the tokenizer: every text token covers at
/// least one byte; images and PDFs by [`media`]'s estimates.
pub fn content_bound(content: &MessageContent) -> u64 {
    match content {
        MessageContent::Text(text) => text.len() as u64,
        MessageContent::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                ContentPart::Text { text } => text.len() as u64,
                other => count_part(other),
            })
            .sum(),
    }
}

fn count_part(part: &ContentPart) -> u64 {
    match part {
        ContentPart::Text { text } => count_text(text),
        ContentPart::ImageUrl { image_url } => media::image_tokens(&image_url.url),
        ContentPart::File { file } => media::pdf_tokens(&file.file_data),
    }
}

fn byte_estimate(text: &str) -> u64 {
    text.len().div_ceil(4) as u64
}

/// The pre-tokenizer and the vocabulary.
struct Tokenizer {
    pattern: Regex,
    vocab: Vocab,
}

impl Tokenizer {
    fn load() -> Option<Self> {
        let vocab = Vocab::parse(TABLE);
        if vocab.is_none() {
            tracing::warn!("the o200k_base table is malformed; estimating tokens from bytes");
        }
        let pattern = Regex::new(PATTERN)
            .inspect_err(|e| tracing::warn!(error = %e, "the o200k_base pattern does not compile"))
            .ok()?;
        Some(Self {
            pattern,
            vocab: vocab?,
        })
    }

    /// tiktoken's `encode_ordinary`, counting instead of collecting the tokens.
    fn count(&self, text: &str) -> usize {
        let mut total = 0;
        let mut pos = 0;
        // Every character starts a match of one alternative (whitespace, letters and marks,
        // digits, anything else), so the anchored search only ends at the end of the text.
        while let Some(found) = self.pattern.find(&text[pos..]) {
            let end = lookahead_end(text, pos, pos + found.end());
            total += bpe::count_piece(&self.vocab, &text.as_bytes()[pos..end]);
            pos = end;
            if pos >= text.len() {
                break;
            }
        }
        total
    }
}

/// Where o200k_base's own pattern ends a match that [`PATTERN`] found at `start..end`. They differ
/// only on a match of the final `\s+` (whitespace with no line break: a run with one would have
/// matched `\s*[\r\n]+` first). In o200k_base, `\s+(?!\S)` comes before `\s+`: when the run is
/// followed by a non-space and is longer than one character, it leaves the run's last
/// character to go with the next word.
fn lookahead_end(text: &str, start: usize, end: usize) -> usize {
    let piece = &text[start..end];
    if end == text.len() || !piece.chars().all(char::is_whitespace) || piece.ends_with(['\r', '\n'])
    {
        return end;
    }
    match piece.char_indices().next_back() {
        Some((last, _)) if last > 0 => start + last,
        _ => end,
    }
}
