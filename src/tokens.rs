//! Token counting for `estimate_cost` with a real BPE tokenizer (tiktoken's o200k_base).
//!
//! The tokenizer tables are large, so they load on first use, never at start-up.

use crate::openrouter::types::ChatMessage;
use std::sync::LazyLock;
use tiktoken_rs::CoreBPE;

/// What counted the tokens, as reported by `estimate_cost`.
pub const COUNTER: &str = "o200k_base (tiktoken-rs)";

/// Tokens the chat format adds around each message (role and separators).
const PER_MESSAGE_OVERHEAD: usize = 3;
/// Tokens that prime the assistant's reply.
const REPLY_PRIMING: usize = 3;

static BPE: LazyLock<Option<CoreBPE>> = LazyLock::new(|| tiktoken_rs::o200k_base().ok());

/// Counts the tokens of plain text. Falls back to a byte estimate only if the tokenizer tables fail
/// to load (they are compiled into the binary, so that does not happen in practice).
pub fn count_text(text: &str) -> u64 {
    match BPE.as_ref() {
        Some(bpe) => bpe.encode_ordinary(text).len() as u64,
        None => text.len().div_ceil(4) as u64,
    }
}

/// Counts the prompt tokens of a chat request, including the chat format's per-message overhead.
pub fn count_messages(messages: &[ChatMessage]) -> u64 {
    let body: u64 = messages
        .iter()
        .map(|m| count_text(m.role.as_str()) + count_text(&m.content) + PER_MESSAGE_OVERHEAD as u64)
        .sum();
    body + REPLY_PRIMING as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openrouter::types::Role;

    #[test]
    fn counts_with_o200k_base() {
        // "Hello" "," " world" "!" are single tokens in o200k_base.
        assert_eq!(count_text("Hello, world!"), 4);
        assert_eq!(count_text(""), 0);
    }

    #[test]
    fn message_overhead_is_added() {
        let messages = vec![ChatMessage::new(Role::User, "Hello, world!")];
        assert_eq!(count_messages(&messages), 1 + 4 + 3 + 3);
    }
}
