//! A finished completion, and the accumulator that builds one from streamed chunks (or from one
//! non-streamed body). A stream that fails or ends early, an empty answer and an answer over the
//! size limit are errors, never answers.

use super::error::Error;
use super::redact::redact;
use super::types::{ChatChunk, Usage};

/// The largest answer accepted by default, in bytes of UTF-8 text (`SWITCHBOARD_MAX_ANSWER_BYTES`).
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// One complete answer from one model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Completion {
    pub text: String,
    /// The model OpenRouter says answered (may be a dated canonical slug).
    pub model: Option<String>,
    pub provider: Option<String>,
    pub generation_id: Option<String>,
    pub finish_reason: String,
    pub usage: Usage,
}

impl Completion {
    /// Masks `key` (in any written form) in every string upstream sent, so it can reach no tool
    /// output, log or cache row. The text is redacted whole, so a key split across stream chunks
    /// is caught too.
    pub fn redacted(mut self, key: Option<&str>) -> Completion {
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            return self;
        };
        let scrub = |text: &mut String| *text = redact(text, key);
        scrub(&mut self.text);
        scrub(&mut self.finish_reason);
        let fields = [&mut self.model, &mut self.provider, &mut self.generation_id];
        fields.into_iter().flatten().for_each(scrub);
        self
    }

    /// Whether the provider's content filter cut the answer: it is returned, never cached.
    pub fn is_filtered(&self) -> bool {
        self.finish_reason == "content_filter"
    }
}

/// Folds chunks into a [`Completion`], keeping count of the text as it grows (O(1) per read).
#[derive(Debug)]
pub struct Accumulator {
    text: String,
    chars: usize,
    max_bytes: usize,
    model: Option<String>,
    provider: Option<String>,
    id: Option<String>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    done: bool,
}

impl Default for Accumulator {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ANSWER_BYTES)
    }
}

impl Accumulator {
    /// An accumulator that fails once the answer text passes `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            text: String::new(),
            chars: 0,
            max_bytes,
            model: None,
            provider: None,
            id: None,
            finish_reason: None,
            usage: None,
            done: false,
        }
    }

    /// Characters of answer text received so far.
    pub fn chars(&self) -> usize {
        self.chars
    }

    /// Whether `[DONE]` has arrived.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Takes one SSE payload. `[DONE]` ends the stream; an `error` chunk fails it.
    pub fn push_event(&mut self, data: &str) -> Result<(), Error> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: ChatChunk = serde_json::from_str(data)
            .map_err(|e| Error::decode(format!("bad stream chunk: {e}")))?;
        self.push_chunk(chunk)
    }

    /// Takes one parsed chunk or whole response body.
    pub fn push_chunk(&mut self, chunk: ChatChunk) -> Result<(), Error> {
        if let Some(error) = chunk.error {
            return Err(Error::MidStream {
                code: error
                    .code
                    .map(|c| c.to_string().trim_matches('"').to_string()),
                message: error.message.unwrap_or_else(|| "stream error".into()),
                received_chars: self.chars,
            });
        }
        self.id = self.id.take().or(chunk.id);
        self.model = self.model.take().or(chunk.model);
        self.provider = self.provider.take().or(chunk.provider);
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for choice in chunk.choices {
            let content = choice.delta.or(choice.message).and_then(|c| c.content);
            self.push_text(content.as_deref().unwrap_or_default())?;
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        Ok(())
    }

    fn push_text(&mut self, piece: &str) -> Result<(), Error> {
        if self.text.len() + piece.len() > self.max_bytes {
            return Err(too_large(self.max_bytes));
        }
        self.text.push_str(piece);
        self.chars += piece.chars().count();
        Ok(())
    }

    /// Ends the stream. Without a finish reason the answer was cut off, which is an error.
    pub fn finish(self) -> Result<Completion, Error> {
        let Some(finish_reason) = self.finish_reason else {
            return Err(Error::MidStream {
                code: None,
                message: "the stream ended before the answer was complete".into(),
                received_chars: self.chars,
            });
        };
        if finish_reason == "error" {
            return Err(Error::MidStream {
                code: None,
                message: "the provider ended the answer with an error".into(),
                received_chars: self.chars,
            });
        }
        if self.text.trim().is_empty() {
            return Err(empty_answer(&finish_reason, self.usage.as_ref()));
        }
        Ok(Completion {
            text: self.text,
            model: self.model,
            provider: self.provider,
            generation_id: self.id,
            finish_reason,
            usage: self.usage.unwrap_or_default(),
        })
    }
}

/// The error for an answer with no text. When reasoning used the whole `max_tokens`, it says how
/// many tokens reasoning took and what to raise.
fn empty_answer(finish_reason: &str, usage: Option<&Usage>) -> Error {
    let reasoning = usage.and_then(Usage::reasoning_tokens).filter(|r| *r > 0);
    match (reasoning, usage) {
        (Some(reasoning_tokens), Some(usage)) if finish_reason == "length" => {
            Error::ReasoningExhausted {
                reasoning_tokens,
                usage: Box::new(usage.clone()),
            }
        }
        _ => Error::bad_answer(format!(
            "empty answer: the model sent no text (finish_reason `{finish_reason}`); \
             if it reasons, raise max_tokens, else try another model"
        )),
    }
}

/// The error for an answer over the limit; it names the setting and the fix.
pub fn too_large(max_bytes: usize) -> Error {
    Error::bad_answer(format!(
        "answer too large: over SWITCHBOARD_MAX_ANSWER_BYTES ({max_bytes} bytes); \
         ask for a shorter answer (lower max_tokens) or raise SWITCHBOARD_MAX_ANSWER_BYTES"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(json: &str) -> String {
        json.to_string()
    }

    #[test]
    fn builds_text_and_takes_usage_from_final_chunk_with_choices() {
        let mut acc = Accumulator::default();
        acc.push_event(&chunk(
            r#"{"id":"gen-1","model":"m","provider":"P","choices":[{"delta":{"content":"he"}}]}"#,
        ))
        .unwrap();
        acc.push_event(&chunk(
            r#"{"choices":[{"delta":{"content":"llo"},"finish_reason":"stop"}]}"#,
        ))
        .unwrap();
        acc.push_event(&chunk(r#"{"choices":[{"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"cost":0.5}}"#)).unwrap();
        acc.push_event("[DONE]").unwrap();
        assert!(acc.is_done());
        let done = acc.finish().unwrap();
        assert_eq!(done.text, "hello");
        assert_eq!(done.generation_id.as_deref(), Some("gen-1"));
        assert_eq!(done.usage.cost, Some(0.5));
        assert_eq!(done.finish_reason, "stop");
    }

    #[test]
    fn usage_chunk_may_have_no_choices() {
        let mut acc = Accumulator::default();
        acc.push_event(r#"{"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}"#)
            .unwrap();
        acc.push_event(r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"cost":0.1}}"#).unwrap();
        assert_eq!(acc.finish().unwrap().usage.total_tokens, 2);
    }

    #[test]
    fn error_chunk_after_content_is_an_error() {
        let mut acc = Accumulator::default();
        acc.push_event(r#"{"choices":[{"delta":{"content":"partial"},"finish_reason":"length"}]}"#)
            .unwrap();
        let err = acc
            .push_event(r#"{"error":{"code":400,"message":"Token limit reached"},"choices":[{"delta":{"content":""},"finish_reason":null}]}"#)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "stream failed after 7 characters: Token limit reached"
        );
    }

    #[test]
    fn an_empty_answer_is_an_error() {
        let mut acc = Accumulator::default();
        acc.push_event(r#"{"choices":[{"delta":{"content":""},"finish_reason":"stop"}]}"#)
            .unwrap();
        let err = acc.finish().unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err:?}");
        assert!(err.to_string().starts_with("empty answer"), "{err}");
    }

    #[test]
    fn an_answer_over_the_limit_is_an_error_naming_it() {
        let mut acc = Accumulator::new(10);
        acc.push_event(r#"{"choices":[{"delta":{"content":"ünïcode"}}]}"#)
            .unwrap();
        assert_eq!(acc.chars(), 7);
        let err = acc
            .push_event(r#"{"choices":[{"delta":{"content":"ab"}}]}"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("SWITCHBOARD_MAX_ANSWER_BYTES (10 bytes)"),
            "{err}"
        );
    }

    #[test]
    fn redacts_every_field_and_a_key_split_across_chunks() {
        let key = "sk-or-v1-abcdef0123456789";
        let mut acc = Accumulator::default();
        let (head, tail) = key.split_at(12);
        for piece in [format!("key {head}"), format!("{tail} end")] {
            let chunk = serde_json::json!({"id": key, "model": key, "provider": key,
                "choices": [{"delta": {"content": piece}, "finish_reason": null}]});
            acc.push_event(&chunk.to_string()).unwrap();
        }
        acc.push_event(&format!(
            r#"{{"choices":[{{"delta":{{}},"finish_reason":"{key}"}}]}}"#
        ))
        .unwrap();
        let done = acc.finish().unwrap().redacted(Some(key));
        assert_eq!(done.text, "key [redacted] end");
        let fields = [done.model, done.provider, done.generation_id];
        assert!(fields.iter().all(|f| f.as_deref() == Some("[redacted]")));
        assert_eq!(done.finish_reason, "[redacted]");
    }

    #[test]
    fn a_stream_cut_short_is_an_error() {
        let mut acc = Accumulator::default();
        acc.push_event(r#"{"choices":[{"delta":{"content":"half"}}]}"#)
            .unwrap();
        assert!(matches!(acc.finish(), Err(Error::MidStream { .. })));
    }
}
