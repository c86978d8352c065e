//! Validation shared by the tools: the prompt (or messages), token counts, temperature, cache mode.
//! Limits keep a single call from sending megabytes upstream by mistake.

use super::error::ToolError;
use crate::openrouter::types::{ChatMessage, Role};
use crate::router::CacheMode;

/// Largest prompt accepted, summed over all messages, in bytes.
pub const MAX_PROMPT_BYTES: usize = 1024 * 1024;
/// Most messages accepted in one call.
pub const MAX_MESSAGES: usize = 500;
/// Largest `max_tokens` accepted.
pub const MAX_TOKENS_LIMIT: i64 = 1_000_000;
pub use crate::router::clamp::DEFAULT_MAX_TOKENS;
/// Largest `max_cost_usd` accepted, in USD: anything above is surely a typo.
pub const MAX_COST_LIMIT: f64 = 1_000_000.0;
/// Most characters of user input an error message repeats.
const SHOWN_CHARS: usize = 64;

/// Builds the message list from `prompt` or `messages`, with `system` first when given.
pub fn messages(
    prompt: Option<String>,
    messages: Option<Vec<ChatMessage>>,
    system: Option<String>,
) -> Result<Vec<ChatMessage>, ToolError> {
    let from_messages = messages.is_some();
    let system_bytes = system.as_ref().map_or(0, String::len);
    let mut list = match (prompt, messages) {
        (Some(_), Some(_)) => {
            return Err(ToolError::invalid(
                "prompt",
                "give either `prompt` or `messages`, not both",
            ));
        }
        (None, None) => {
            return Err(ToolError::invalid(
                "prompt",
                "missing: give `prompt` (text) or `messages`",
            ));
        }
        (Some(prompt), None) if prompt.trim().is_empty() => {
            return Err(ToolError::invalid(
                "prompt",
                "is empty: write the question or task to send",
            ));
        }
        (Some(prompt), None) => vec![ChatMessage::new(Role::User, prompt)],
        (None, Some(messages)) => check_messages(messages)?,
    };
    if let Some(system) = system.filter(|s| !s.trim().is_empty()) {
        list.insert(0, ChatMessage::new(Role::System, system));
    }
    let bytes: usize = list.iter().map(ChatMessage::text_len).sum();
    if bytes > MAX_PROMPT_BYTES {
        let field = match (system_bytes > MAX_PROMPT_BYTES, from_messages) {
            (true, _) => "system",
            (false, true) => "messages",
            (false, false) => "prompt",
        };
        return Err(ToolError::invalid(
            field,
            format!(
                "is {bytes} bytes, over the {MAX_PROMPT_BYTES}-byte limit; shorten it or send a summary"
            ),
        ));
    }
    Ok(list)
}

fn check_messages(messages: Vec<ChatMessage>) -> Result<Vec<ChatMessage>, ToolError> {
    if messages.is_empty() {
        return Err(ToolError::invalid(
            "messages",
            "is empty: give at least one {role, content} message",
        ));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(ToolError::invalid(
            "messages",
            format!(
                "has {} messages; the limit is {MAX_MESSAGES}",
                messages.len()
            ),
        ));
    }
    if messages.iter().all(|m| m.text().trim().is_empty()) {
        return Err(ToolError::invalid(
            "messages",
            "every message is empty: write the question or task to send",
        ));
    }
    Ok(messages)
}

/// `max_tokens` when given (checked); `None` leaves the per-model default
/// ([`crate::router::clamp::resolve`]: 1024, or 4096 for models that reason).
pub fn max_tokens(value: Option<i64>) -> Result<Option<u32>, ToolError> {
    value
        .map(|v| token_count("max_tokens", Some(v), DEFAULT_MAX_TOKENS))
        .transpose()
}

/// A positive token count no larger than [`MAX_TOKENS_LIMIT`], or `default` when absent.
pub fn token_count(
    field: &'static str,
    value: Option<i64>,
    default: u32,
) -> Result<u32, ToolError> {
    match value {
        None => Ok(default),
        Some(n) if (1..=MAX_TOKENS_LIMIT).contains(&n) => Ok(n as u32),
        Some(n) => Err(ToolError::invalid(
            field,
            format!(
                "must be between 1 and {MAX_TOKENS_LIMIT}, got {n}; omit it for the default {default}"
            ),
        )),
    }
}

pub fn temperature(value: Option<f64>) -> Result<Option<f64>, ToolError> {
    match value {
        Some(t) if !(0.0..=2.0).contains(&t) => Err(ToolError::invalid(
            "temperature",
            format!("must be between 0 and 2, got {t}"),
        )),
        other => Ok(other),
    }
}

/// `max_cost_usd`: a positive USD amount.
pub fn max_cost(value: Option<f64>) -> Result<Option<f64>, ToolError> {
    match value {
        Some(v) if !v.is_finite() || v <= 0.0 || v > MAX_COST_LIMIT => Err(ToolError::invalid(
            "max_cost_usd",
            format!(
                "must be a USD amount above 0 and at most {MAX_COST_LIMIT}, got {v}; omit it for no per-call cap"
            ),
        )),
        other => Ok(other),
    }
}

pub fn cache_mode(value: Option<&str>) -> Result<CacheMode, ToolError> {
    match value {
        None | Some("use") => Ok(CacheMode::Use),
        Some("bypass") => Ok(CacheMode::Bypass),
        Some("refresh") => Ok(CacheMode::Refresh),
        Some(other) => Err(ToolError::invalid(
            "cache",
            format!("`{}` is not one of use, bypass, refresh", shown(other)),
        )),
    }
}

/// `value` trimmed, or `None` when blank; longer than `max_chars` is an error naming `field`.
pub fn short_text(
    field: &'static str,
    value: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, ToolError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(ToolError::invalid(
            field,
            format!("is {chars} characters long; the limit is {max_chars}"),
        ));
    }
    Ok(Some(value.trim().to_string()))
}

/// A short, printable prefix of user input for an error message: invisible and
/// direction-changing characters (and backticks) are escaped, and a long value is cut, with its
/// length noted. Errors never echo more.
pub fn shown(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == SHOWN_CHARS {
            out.push_str(&format!("… ({} characters)", text.chars().count()));
            break;
        }
        if is_invisible(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '`' | '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_rules() {
        assert!(
            messages(Some("  ".into()), None, None)
                .unwrap_err()
                .to_string()
                .contains("`prompt`")
        );
        assert!(
            messages(None, Some(vec![]), None)
                .unwrap_err()
                .to_string()
                .contains("`messages`")
        );
        let list = messages(Some("hi".into()), None, Some("be brief".into())).unwrap();
        assert_eq!(list[0].role, Role::System);
        assert_eq!(list[1].content, "hi");
        let huge = "x".repeat(MAX_PROMPT_BYTES + 1);
        assert!(
            messages(Some(huge), None, None)
                .unwrap_err()
                .to_string()
                .contains("limit")
        );
    }

    #[test]
    fn numbers_are_range_checked() {
        assert_eq!(max_tokens(None).unwrap(), None);
        assert_eq!(max_tokens(Some(7)).unwrap(), Some(7));
        let err = max_tokens(Some(-5)).unwrap_err().to_string();
        assert!(
            err.contains("`max_tokens`") && err.contains("got -5"),
            "{err}"
        );
        assert!(temperature(Some(3.0)).is_err());
        assert!(
            cache_mode(Some("sometimes"))
                .unwrap_err()
                .to_string()
                .contains("`cache`")
        );
        assert!(max_cost(Some(1e308)).is_err());
    }

    #[test]
    fn shown_input_is_short_and_visible() {
        assert_eq!(shown("a\u{202E}b`"), "a\\u{202e}b\\u{60}");
        let long = shown(&"x".repeat(2_000_000));
        assert!(
            long.len() < 100 && long.ends_with("(2000000 characters)"),
            "{long}"
        );
    }
}
