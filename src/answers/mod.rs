//! Long answers: a text longer than its share of `SWITCHBOARD_MAX_RESULT_CHARS` goes out as its
//! first page with an `answer_id` and `total_chars`, and the whole answer is kept in the store
//! (`store::Kind::Answer`, for `SWITCHBOARD_CONVERSATION_TTL`), where `read_answer` and the
//! `switchboard://answers/{id}` resource read it back without calling upstream.

mod page;

pub use page::{Page, page};

use crate::App;
use crate::store::{Kind, StoreError};
use crate::tools::input::shown;
use serde::{Deserialize, Serialize};

/// What an answer id looks like: this prefix, then [`ID_HEX`] lowercase hex digits.
const ID_PREFIX: &str = "ans_";
const ID_HEX: usize = 24;

/// A whole answer, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredAnswer {
    /// The model that answered (a catalog id).
    pub model: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error(
        "`{}` is not an answer id; give the `answer_id` of an ask_model or compare_models result (ans_ and 24 hex digits)",
        shown(.0)
    )]
    Malformed(String),
    #[error(
        "no stored answer `{id}`: it is unknown or has expired (answers are kept for SWITCHBOARD_CONVERSATION_TTL, {ttl}); ask the model again"
    )]
    Unknown { id: String, ttl: String },
    #[error(
        "the answer store is unavailable ({0}); make the data dir writable or set SWITCHBOARD_DATA_DIR"
    )]
    Store(#[from] StoreError),
    #[error("the stored answer `{0}` cannot be read (damaged record); ask the model again")]
    Damaged(String),
}

/// A new random answer id: `ans_` and 24 hex digits (from a v4 UUID, so not guessable).
pub fn new_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{ID_PREFIX}{}", &hex[..ID_HEX])
}

fn is_id(id: &str) -> bool {
    id.strip_prefix(ID_PREFIX).is_some_and(|hex| {
        hex.len() == ID_HEX && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Stores `text` (the whole answer by `model`) and returns its new id.
///
/// # Errors
/// When the store cannot be written.
pub async fn keep(app: &App, model: &str, text: &str) -> Result<String, StoreError> {
    let id = new_id();
    let body = StoredAnswer {
        model: model.to_string(),
        text: text.to_string(),
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    let ttl = app.config.conversation_ttl;
    app.store
        .put_record(Kind::Answer, id.clone(), json, ttl)
        .await?;
    Ok(id)
}

/// The stored answer `id`.
///
/// # Errors
/// A malformed, unknown or expired id, or a store that cannot be read.
pub async fn load(app: &App, id: &str) -> Result<StoredAnswer, AnswerError> {
    if !is_id(id) {
        return Err(AnswerError::Malformed(id.to_string()));
    }
    let Some(body) = app.store.get_record(Kind::Answer, id.to_string()).await? else {
        return Err(AnswerError::Unknown {
            id: id.to_string(),
            ttl: humantime::format_duration(app.config.conversation_ttl).to_string(),
        });
    };
    serde_json::from_str(&body).map_err(|_| AnswerError::Damaged(id.to_string()))
}

/// What a tool returns of an answer's text: all of it, or its first page and where the rest is.
#[derive(Debug, Default)]
pub struct Paged {
    pub text: String,
    /// Set when the text was cut and the whole is stored.
    pub answer_id: Option<String>,
    /// The whole text's length in characters, when it was cut.
    pub total_chars: Option<usize>,
    /// Why the rest cannot be read back (the store failed).
    pub warning: Option<String>,
}

/// `text` whole when it has at most `limit` characters; else its first page, with the whole
/// stored under a new `answer_id`.
pub async fn paged(app: &App, model: &str, text: String, limit: usize) -> Paged {
    let first = match page(&text, 0, limit.max(1)) {
        Some(first) if first.next_offset.is_some() => first,
        _ => {
            return Paged {
                text,
                ..Paged::default()
            };
        }
    };
    let (head, total) = (first.text.to_string(), first.total_chars);
    let (answer_id, warning) = match keep(app, model, &text).await {
        Ok(id) => (Some(id), None),
        Err(error) => (
            None,
            Some(format!(
                "the text is cut at {} of {total} characters and the rest could not be stored ({error}); make the data dir writable, or ask again with a lower max_tokens",
                head.chars().count()
            )),
        ),
    };
    Paged {
        text: head,
        answer_id,
        total_chars: Some(total),
        warning,
    }
}

/// What a tool that pages at `limit` characters declares as `_meta["anthropic/maxResultSizeChars"]`:
/// each character of text can take two once JSON-escaped (`\n`, `\"`), and the other fields
/// (usage, attempts, a comparison's per-model entries) need room too.
pub fn result_size_hint(limit: usize) -> usize {
    limit.saturating_mul(2).saturating_add(16 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_checked_by_shape() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(is_id(&a) && a.len() == ID_PREFIX.len() + ID_HEX, "{a}");
        for bad in [
            "",
            "ans_",
            "ans_0123",
            "ANS_0123456789abcdef01234567",
            "ans_0123456789abcdef0123456g",
            "ans_0123456789abcdef012345678",
        ] {
            assert!(!is_id(bad), "{bad}");
        }
    }
}
