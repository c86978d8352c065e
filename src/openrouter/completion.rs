//! A finished completion, and the accumulator that builds one from streamed chunks (or from one
//! non-streamed body). A stream that fails or ends early is an error, never a short answer.

use super::error::Error;
use super::types::{ChatChunk, Usage};

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
    /// Replaces `key` if the answer echoes it, so it can reach no tool output or log.
    pub fn redacted(mut self, key: Option<&str>) -> Completion {
        if let Some(key) = key.filter(|k| !k.is_empty() && self.text.contains(k)) {
            self.text = self.text.replace(key, "[redacted]");
        }
        self
    }
}

/// Folds chunks into a [`Completion`].
#[derive(Debug, Default)]
pub struct Accumulator {
    text: String,
    model: Option<String>,
    provider: Option<String>,
    id: Option<String>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    done: bool,
}

impl Accumulator {
    /// Characters of answer text received so far.
    pub fn chars(&self) -> usize {
        self.text.chars().count()
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
            .map_err(|e| Error::Decode(format!("bad stream chunk: {e}")))?;
        self.push_chunk(chunk)
    }

    /// Takes one parsed chunk or whole response body.
    pub fn push_chunk(&mut self, chunk: ChatChunk) -> Result<(), Error> {
        if let Some(error) = chunk.error {
            return Err(Error::MidStream {
                code: error
                    .code
                    .map(|c| c.to_string().trim_matches('"').to_string()),
                message: super::error::truncate(error.message.as_deref().unwrap_or("stream error")),
                received_chars: self.chars(),
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
            self.text.push_str(content.as_deref().unwrap_or_default());
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        Ok(())
    }

    /// Ends the stream. Without a finish reason the answer was cut off, which is an error.
    pub fn finish(self) -> Result<Completion, Error> {
        let Some(finish_reason) = self.finish_reason else {
            return Err(Error::MidStream {
                code: None,
                message: "the stream ended before the answer was complete".into(),
                received_chars: self.text.chars().count(),
            });
        };
        if finish_reason == "error" {
            return Err(Error::MidStream {
                code: None,
                message: "the provider ended the answer with an error".into(),
                received_chars: self.text.chars().count(),
            });
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
    fn a_stream_cut_short_is_an_error() {
        let mut acc = Accumulator::default();
        acc.push_event(r#"{"choices":[{"delta":{"content":"half"}}]}"#)
            .unwrap();
        assert!(matches!(acc.finish(), Err(Error::MidStream { .. })));
    }
}
