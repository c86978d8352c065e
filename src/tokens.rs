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
use fancy_regex::Regex;
use std::sync::LazyLock;
use vocab::Vocab;

/// What counted the tokens, as reported by `estimate_cost`.
pub const COUNTER: &str = "o200k_base";

/// Tokens the chat format adds around each message (role and separators).
const PER_MESSAGE_OVERHEAD: usize = 3;
/// Tokens that prime the assistant's reply.
const REPLY_PRIMING: usize = 3;

/// o200k_base's pre-tokenizer, exactly as tiktoken (and tiktoken-rs) spell it.
const O200K_BASE_PATTERN: &str = concat!(
    r#"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
    "|",
    r#"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
    "|",
    r#"\p{N}{1,3}"#,
    "|",
    r#" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
    "|",
    r#"\s*[\r\n]+"#,
    "|",
    r#"\s+(?!\S)"#,
    "|",
    r#"\s+"#
);

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
        let pattern = Regex::new(O200K_BASE_PATTERN)
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
        while pos < text.len() {
            let piece = match self.pattern.find_from_pos(text, pos) {
                Ok(Some(found)) => found.range(),
                Ok(None) => break,
                // The regex engine gives up on a whitespace run of about a million characters
                // (its backtracking stack is full); such a run is matched by `\s+(?!\S)`.
                Err(_) => match long_whitespace_piece(text, pos) {
                    Some(end) => pos..end,
                    None => return total + byte_estimate(&text[pos..]) as usize,
                },
            };
            total += bpe::count_piece(&self.vocab, &text.as_bytes()[piece.clone()]);
            pos = piece.end;
        }
        total
    }
}

/// Where `\s+(?!\S)` ends when it matches at `pos`: the whole whitespace run at the end of the
/// text, otherwise the run without its last character (which goes with the next word). `None`
/// when that would not be at least one character.
fn long_whitespace_piece(text: &str, pos: usize) -> Option<usize> {
    let rest = &text[pos..];
    let run = rest
        .char_indices()
        .find(|&(_, c)| !c.is_whitespace())
        .map_or(rest.len(), |(i, _)| i);
    let end = if run == rest.len() {
        run
    } else {
        rest[..run].char_indices().next_back().map_or(0, |(i, _)| i)
    };
    (end > 0).then_some(pos + end)
}
