//! The client's error type: it keeps the HTTP status and the parsed error body so the router can
//! classify every outcome, and it never carries the API key.

use super::redact::redact;
use super::types::{ApiErrorBody, ApiErrorDetail};
use std::time::Duration;

/// Longest upstream message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 300;
/// What to do about a 403 that says a spend limit is reached (see [`spend_limit_reached`]).
const LIMIT_HINT: &str = "; a spend limit is reached (the key's limit, the workspace's budget or a guardrail's budget): \
    raise it in OpenRouter's settings (Keys, Workspaces > Budgets or Guardrails), or wait for it to reset; no other model can help";

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
    #[error("HTTP {status}: {message}{}", if *limit_reached { LIMIT_HINT } else { "" })]
    Api {
        status: u16,
        message: String,
        error_type: Option<String>,
        retry_after: Option<Duration>,
        /// A 403 that says a key, workspace or guardrail budget is spent: it stops like a 402.
        limit_reached: bool,
        /// The request parameter the server named as refused (`error.param`), if it did.
        param: Option<String>,
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
    /// `finish_reason: length` with no text: reasoning used the whole `max_tokens`. The request
    /// was billed (`usage`); the router may retry it once with a larger `max_tokens`.
    #[error(
        "empty answer: reasoning used {reasoning_tokens} tokens, the whole max_tokens, and no text was left (finish_reason `length`); raise max_tokens well above {reasoning_tokens}, or lower the reasoning effort"
    )]
    ReasoningExhausted {
        reasoning_tokens: u64,
        usage: Box<crate::openrouter::types::Usage>,
    },
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

    /// What a failed request was billed: only an answer whose reasoning used the whole
    /// `max_tokens` is both a failure and paid for.
    pub fn paid_usage(&self) -> Option<&crate::openrouter::types::Usage> {
        match self {
            Error::ReasoningExhausted { usage, .. } => Some(usage),
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
                limit_reached,
                param,
            } => Error::Api {
                status,
                message: scrub(message),
                error_type: error_type.map(scrub),
                retry_after,
                limit_reached,
                param: param.map(scrub),
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
            exhausted @ Error::ReasoningExhausted { .. } => exhausted,
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
            limit_reached: detail.is_some_and(|d| spend_limit_reached(status, d)),
            param: detail.and_then(|d| d.param.clone()),
            message,
            error_type,
            retry_after,
        }
    }

    /// Whether this is a 403 saying a spend limit is reached (see [`spend_limit_reached`]).
    pub fn is_limit_reached(&self) -> bool {
        matches!(
            self,
            Error::Api {
                limit_reached: true,
                ..
            }
        )
    }

    /// Whether this is a 400 refusing the request parameter `name` itself (not its value), as
    /// OpenAI answers `max_tokens` for its reasoning models: "Unsupported parameter: 'max_tokens'
    /// is not supported with this model. Use 'max_completion_tokens' instead."
    pub fn refuses_param(&self, name: &str) -> bool {
        let Error::Api {
            status: 400,
            message,
            param,
            ..
        } = self
        else {
            return false;
        };
        let lower = message.to_lowercase();
        // The server's own `param` is trusted; else the message must name it, and not as the
        // one to use instead.
        let recommended = ["use '", "use \"", "use `", "use "]
            .iter()
            .any(|u| lower.contains(&format!("{u}{name}")));
        let names_it = match param {
            Some(param) => param == name,
            None => mentions(&lower, name) && !recommended,
        };
        const REFUSALS: [&str; 7] = [
            "unsupported",
            "not supported",
            "unrecognized",
            "unknown parameter",
            "not allowed",
            "not permitted",
            "extra inputs",
        ];
        names_it && REFUSALS.iter().any(|r| lower.contains(r))
    }
}

/// Whether `text` names `word` as a whole identifier (`max_tokens`, not `reasoning_max_tokens`).
fn mentions(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Whether a 403 says a spend limit is reached: the key's limit, a workspace budget ("Workspace
/// monthly budget of $500.00 exceeded. Contact your workspace admin.") or a guardrail budget
/// (`metadata.limit_source`: `openrouter_key_limit`, `openrouter_workspace_budget`,
/// `openrouter_guardrail_budget`). Moderation (`metadata.reasons`/`flagged_input`) and guardrail
/// blocks ("Request blocked: …") are not: another model may answer those. The one place this
/// wording is matched.
pub fn spend_limit_reached(status: u16, detail: &ApiErrorDetail) -> bool {
    if status != 403 {
        return false;
    }
    let metadata = detail.metadata.as_ref();
    let field = |name: &str| metadata.and_then(|m| m.get(name));
    if field("reasons").is_some() || field("flagged_input").is_some() {
        return false;
    }
    let source = field("limit_source").and_then(|s| s.as_str()).unwrap_or("");
    if source.contains("budget") || source.contains("limit") {
        return true;
    }
    let message = detail.message.as_deref().unwrap_or("").to_lowercase();
    const LIMITS: [&str; 6] = [
        "budget",
        "spend limit",
        "spending limit",
        "credit limit",
        "key limit",
        "usage limit",
    ];
    const SPENT: [&str; 5] = ["exceeded", "exhausted", "reached", "spent", "used up"];
    LIMITS.iter().any(|l| message.contains(l)) && SPENT.iter().any(|s| message.contains(s))
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

    fn limit_reached(body: &str) -> bool {
        Error::from_response(403, body, None).is_limit_reached()
    }

    #[test]
    fn a_workspace_budget_403_is_a_spent_limit() {
        // The body OpenRouter's workspace-budgets guide shows.
        let body = r#"{"error":{"code":403,"message":"Workspace monthly budget of $500.00 exceeded. Contact your workspace admin."}}"#;
        assert!(limit_reached(body));
        let text = Error::from_response(403, body, None).to_string();
        assert!(text.contains("raise it in OpenRouter's settings"), "{text}");
    }

    #[test]
    fn a_key_limit_403_is_a_spent_limit() {
        let body = r#"{"error":{"code":403,"message":"Budget limit exceeded","metadata":{"limit_source":"openrouter_key_limit","scope":"key","limit_usd":10,"spend_usd":10.01,"resets_at":null}}}"#;
        assert!(limit_reached(body));
    }

    #[test]
    fn a_guardrail_budget_403_is_a_spent_limit() {
        let body = r#"{"error":{"code":403,"message":"Budget limit exceeded","metadata":{"limit_source":"openrouter_guardrail_budget","scope":"guardrail","limit_usd":5,"spend_usd":5,"resets_at":"2026-12-03T00:00:00Z"}}}"#;
        assert!(limit_reached(body));
    }

    #[test]
    fn a_moderation_403_is_not_a_spent_limit() {
        let body = r#"{"error":{"code":403,"message":"openai/gpt-5-mini requires moderation on OpenAI. Your input was flagged for \"harassment\". No credits were charged.","metadata":{"reasons":["harassment"],"flagged_input":"you are...","provider_name":"OpenAI","model_slug":"openai/gpt-5-mini"}}}"#;
        assert!(!limit_reached(body));
    }

    #[test]
    fn a_guardrail_block_or_a_management_only_403_is_not_a_spent_limit() {
        let blocked = r#"{"error":{"code":403,"message":"Request blocked: the prompt matches a blocked pattern","metadata":{"patterns":["secret"]}}}"#;
        assert!(!limit_reached(blocked));
        let management =
            r#"{"error":{"code":403,"message":"Only management keys can perform this operation"}}"#;
        assert!(!limit_reached(management));
        let text = Error::from_response(403, management, None).to_string();
        assert_eq!(
            text,
            "HTTP 403: Only management keys can perform this operation"
        );
    }

    #[test]
    fn a_400_refusing_max_tokens_by_name_is_told_from_one_about_its_value() {
        let openai = r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#;
        let err = Error::from_response(400, openai, None);
        assert!(err.refuses_param("max_tokens"));
        assert!(!err.refuses_param("max_completion_tokens"));
        let no_param = r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."}}"#;
        let err = Error::from_response(400, no_param, None);
        assert!(err.refuses_param("max_tokens"));
        assert!(!err.refuses_param("max_completion_tokens"));
        let azure = r#"{"error":{"message":"Unrecognized request argument supplied: max_completion_tokens"}}"#;
        assert!(Error::from_response(400, azure, None).refuses_param("max_completion_tokens"));
        let value =
            r#"{"error":{"message":"max_tokens must be at least 16","param":"max_tokens"}}"#;
        assert!(!Error::from_response(400, value, None).refuses_param("max_tokens"));
        assert!(!Error::from_response(403, openai, None).refuses_param("max_tokens"));
    }

    #[test]
    fn truncates_long_messages() {
        let long = "x".repeat(1000);
        assert_eq!(truncate(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
