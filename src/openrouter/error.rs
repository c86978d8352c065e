//! The client's error type: it keeps the HTTP status and the parsed error body so the router can
//! classify every outcome, and it never carries the API key.

use super::redact::redact;
use super::types::ApiErrorBody;
use std::time::Duration;

/// Longest upstream message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `OPENROUTER_API_KEY` was configured.
    #[error(
        "OPENROUTER_API_KEY is not set: create a key at https://openrouter.ai/keys and add it to the server's env"
    )]
    MissingKey,
    /// The request never got an HTTP answer: connect, TLS, reset or timeout.
    #[error("{kind}: {detail}")]
    Transport { kind: TransportKind, detail: String },
    /// OpenRouter (or the provider behind it) answered with an error status.
    #[error("HTTP {status}: {message}")]
    Api {
        status: u16,
        message: String,
        error_type: Option<String>,
        retry_after: Option<Duration>,
    },
    /// The stream failed after it had started: an error chunk, or the stream ended early.
    /// Never a short answer.
    #[error("stream failed after {received_chars} characters: {message}")]
    MidStream {
        code: Option<String>,
        message: String,
        received_chars: usize,
    },
    /// A 200 that is no usable answer: a body that cannot be read as a completion, an empty
    /// answer, or one over the size limit. The next model is tried. Build it with
    /// `Error::decode` or `Error::bad_answer`.
    #[error("{0}")]
    Decode(String),
}

/// What kind of transport failure happened (each is retried the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Connect,
    Timeout,
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection failed",
            TransportKind::Timeout => "timed out",
            TransportKind::Other => "connection error",
        })
    }
}

impl Error {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A body that could not be read as a completion.
    pub(crate) fn decode(detail: impl std::fmt::Display) -> Error {
        Error::Decode(format!("unreadable response: {detail}"))
    }

    /// A readable answer that must not count as one (empty, or too large).
    pub(crate) fn bad_answer(reason: impl Into<String>) -> Error {
        Error::Decode(reason.into())
    }

    pub(crate) fn transport(err: reqwest::Error) -> Error {
        let kind = if err.is_timeout() {
            TransportKind::Timeout
        } else if err.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        Error::Transport {
            kind,
            detail: describe(&err.without_url()),
        }
    }

    /// Replaces `key` wherever upstream text might have echoed it (in any written form), then cuts
    /// each text to [`MAX_MESSAGE_CHARS`]: cutting first could leave part of the key behind. Every
    /// error leaving the client passes through here, so no log line or tool output downstream can
    /// carry the key.
    pub(crate) fn redacted(self, key: Option<&str>) -> Error {
        let key = key.filter(|k| !k.is_empty());
        let scrub = |text: String| match key {
            Some(key) => truncate(&redact(&text, key)),
            None => truncate(&text),
        };
        match self {
            Error::Transport { kind, detail } => Error::Transport {
                kind,
                detail: scrub(detail),
            },
            Error::Api {
                status,
                message,
                error_type,
                retry_after,
            } => Error::Api {
                status,
                message: scrub(message),
                error_type: error_type.map(scrub),
                retry_after,
            },
            Error::MidStream {
                code,
                message,
                received_chars,
            } => Error::MidStream {
                code: code.map(scrub),
                message: scrub(message),
                received_chars,
            },
            Error::Decode(detail) => Error::Decode(scrub(detail)),
            Error::MissingKey => Error::MissingKey,
        }
    }

    /// Builds an API error from a status and a body that may or may not be JSON.
    pub(crate) fn from_response(status: u16, body: &str, retry_after: Option<Duration>) -> Error {
        let parsed = serde_json::from_str::<ApiErrorBody>(body).ok();
        let detail = parsed.as_ref().map(|b| &b.error);
        let message = detail
            .and_then(|d| provider_message(d.metadata.as_ref()).or(d.message.clone()))
            .unwrap_or_else(|| body.trim().to_string());
        let error_type = detail
            .and_then(|d| d.metadata.as_ref())
            .and_then(|m| m.get("error_type"))
            .and_then(|t| t.as_str())
            .map(str::to_string);
        let message = if message.is_empty() {
            "no error body".to_string()
        } else {
            message
        };
        Error::Api {
            status,
            message,
            error_type,
            retry_after,
        }
    }
}

/// The provider's own message (`metadata.raw`) says more than OpenRouter's "Provider returned error".
fn provider_message(metadata: Option<&serde_json::Value>) -> Option<String> {
    let raw = metadata?.get("raw")?.as_str()?;
    Some(raw.to_string())
}

/// A reqwest error's chain as one line (cut later, by [`Error::redacted`]).
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Cuts a message to `MAX_MESSAGE_CHARS` characters.
pub fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_status_and_message_from_json_body() {
        let err = Error::from_response(
            401,
            r#"{"error":{"message":"No auth credentials found","code":401}}"#,
            None,
        );
        assert_eq!(err.status(), Some(401));
        assert_eq!(err.to_string(), "HTTP 401: No auth credentials found");
    }

    #[test]
    fn prefers_the_provider_message_and_reads_error_type() {
        let body = r#"{"error":{"code":429,"message":"Provider returned error",
            "metadata":{"raw":"rate-limited upstream","error_type":"rate_limit_exceeded"}}}"#;
        let Error::Api {
            message,
            error_type,
            ..
        } = Error::from_response(429, body, None)
        else {
            panic!("expected an api error");
        };
        assert_eq!(message, "rate-limited upstream");
        assert_eq!(error_type.as_deref(), Some("rate_limit_exceeded"));
    }

    #[test]
    fn tolerates_non_json_bodies() {
        let err = Error::from_response(502, "<html>bad gateway</html>", None);
        assert_eq!(err.to_string(), "HTTP 502: <html>bad gateway</html>");
        let err = Error::from_response(503, "", None);
        assert_eq!(err.to_string(), "HTTP 503: no error body");
    }

    #[test]
    fn redacts_an_echoed_key() {
        let err =
            Error::from_response(400, r#"{"error":{"message":"bad key sk-or-v1-abc"}}"#, None);
        assert_eq!(
            err.redacted(Some("sk-or-v1-abc")).to_string(),
            "HTTP 400: bad key [redacted]"
        );
    }

    #[test]
    fn redacts_before_cutting_so_no_key_prefix_survives() {
        let key = "sk-or-v1-abcdef0123456789";
        let message = format!("{}{key} and more", "x".repeat(MAX_MESSAGE_CHARS - 10));
        let body = serde_json::json!({"error": {"message": message}}).to_string();
        let err = Error::from_response(400, &body, None).redacted(Some(key));
        let text = err.to_string();
        assert!(!text.contains(&key[..6]), "{text}");
        assert!(text.chars().count() <= MAX_MESSAGE_CHARS + "HTTP 400: …".len());
    }

    #[test]
    fn redacts_every_field_even_percent_encoded() {
        let key = "sk-or-v1-abcdef0123456789";
        let encoded: String = key.bytes().map(|b| format!("%{b:02x}")).collect();
        let err = Error::MidStream {
            code: Some(key.into()),
            message: format!("see ?k={encoded}"),
            received_chars: 0,
        }
        .redacted(Some(key));
        let Error::MidStream { code, message, .. } = err else {
            panic!("still a mid-stream error")
        };
        assert_eq!(
            (code.as_deref(), message.as_str()),
            (Some("[redacted]"), "see ?k=[redacted]")
        );
    }

    #[test]
    fn truncates_long_messages() {
        let long = "x".repeat(1000);
        assert_eq!(truncate(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
