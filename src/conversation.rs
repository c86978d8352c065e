//! Conversations: the transcript behind a `conversation_id` (the messages exactly as sent, each
//! answer as an assistant turn, and which model gave it), kept in the data store for
//! `SWITCHBOARD_CONVERSATION_TTL` and continued with whichever model answers next.

use crate::App;
use crate::openrouter::types::{ChatMessage, Role};
use crate::store::{Kind, StoreError};
use serde::{Deserialize, Serialize};

/// Every id starts with this, then 32 hex digits.
pub const PREFIX: &str = "conv_";
const HEX_DIGITS: usize = 32;

/// What is stored under a `conversation_id`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Transcript {
    /// Every message sent so far and every answer, in order.
    pub messages: Vec<ChatMessage>,
    /// The model that gave each answer, in order.
    #[serde(default)]
    pub models: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error(
        "is not a conversation id (they look like conv_ and 32 hex digits, as ask_model returns them)"
    )]
    Malformed,
    #[error(
        "conversation `{0}` is unknown or has expired (kept for SWITCHBOARD_CONVERSATION_TTL); leave conversation_id out to start a new one"
    )]
    Unknown(String),
    #[error(
        "conversation `{id}` cannot be read from the data store ({source}); retry, or leave conversation_id out"
    )]
    Store { id: String, source: StoreError },
    #[error("conversation `{0}` is stored damaged; leave conversation_id out to start a new one")]
    Damaged(String),
}

/// A new id: `conv_` and a random (v4) UUID in hex, from the operating system's generator. The id
/// is all it takes to read or continue a transcript on a shared server, so it must not be
/// guessable from another one (as a seeded fast generator's next output would be).
pub fn new_id() -> String {
    format!("{PREFIX}{}", uuid::Uuid::new_v4().simple())
}

/// `id` when it has the shape of one this server hands out.
///
/// # Errors
/// [`ConversationError::Malformed`].
pub fn checked_id(id: &str) -> Result<&str, ConversationError> {
    let id = id.trim();
    let hex = id
        .strip_prefix(PREFIX)
        .ok_or(ConversationError::Malformed)?;
    if hex.len() == HEX_DIGITS && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(ConversationError::Malformed)
    }
}

/// The transcript stored under `id`.
///
/// # Errors
/// A malformed, unknown or expired id, or a store that cannot be read.
pub async fn load(app: &App, id: &str) -> Result<Transcript, ConversationError> {
    let id = checked_id(id)?.to_string();
    let body = app
        .store
        .get_record(Kind::Conversation, id.clone())
        .await
        .map_err(|source| ConversationError::Store {
            id: id.clone(),
            source,
        })?
        .ok_or_else(|| ConversationError::Unknown(id.clone()))?;
    serde_json::from_str(&body).map_err(|_| ConversationError::Damaged(id))
}

/// The messages to send: the stored transcript, then `new`. A `system` message at the start of
/// `new` replaces the stored one.
pub fn continued(stored: Vec<ChatMessage>, new: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let replaces_system = new.first().is_some_and(|m| m.role == Role::System);
    let mut messages: Vec<ChatMessage> = stored
        .into_iter()
        .enumerate()
        .filter(|(i, m)| !(replaces_system && *i == 0 && m.role == Role::System))
        .map(|(_, m)| m)
        .collect();
    if replaces_system {
        let mut new = new.into_iter();
        messages.splice(0..0, new.next());
        messages.extend(new);
    } else {
        messages.extend(new);
    }
    messages
}

/// Stores `sent` plus `answer` (from `model`) under `id` for `SWITCHBOARD_CONVERSATION_TTL`.
/// Returns a warning when it could not be stored: the answer stands, the id cannot be continued.
pub async fn save(
    app: &App,
    id: &str,
    mut transcript: Transcript,
    answer: ChatMessage,
    model: &str,
) -> Option<String> {
    transcript.messages.push(answer);
    transcript.models.push(model.to_string());
    let body = match serde_json::to_string(&transcript) {
        Ok(body) => body,
        Err(error) => return Some(format!("conversation not saved: {error}")),
    };
    let ttl = app.config.conversation_ttl;
    match app
        .store
        .put_record(Kind::Conversation, id.to_string(), body, ttl)
        .await
    {
        Ok(()) => None,
        Err(error) => {
            tracing::warn!(error = %error, "conversation not saved");
            Some(format!(
                "conversation not saved ({error}): conversation_id {id} cannot be continued"
            ))
        }
    }
}

/// The transcript as the `switchboard://conversations/{id}` resource shows it.
///
/// # Errors
/// As [`load`].
pub async fn body(app: &App, id: &str) -> Result<String, ConversationError> {
    let transcript = load(app, id).await?;
    let shown = serde_json::json!({"id": id.trim(), "messages": transcript.messages,
        "models": transcript.models, "turns": transcript.models.len()});
    Ok(shown.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_checked() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(checked_id(&a).unwrap(), a);
        for bad in [
            "",
            "conv_",
            "conv_xyz",
            "abc",
            &format!("{a}0"),
            "conv_../../etc",
        ] {
            assert!(checked_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_new_system_replaces_the_stored_one() {
        let m = |role, text: &str| ChatMessage::new(role, text);
        let stored = vec![
            m(Role::System, "old"),
            m(Role::User, "q1"),
            m(Role::Assistant, "a1"),
        ];
        let kept = continued(stored.clone(), vec![m(Role::User, "q2")]);
        assert_eq!(kept.len(), 4);
        assert_eq!(kept[0], m(Role::System, "old"));
        let replaced = continued(stored, vec![m(Role::System, "new"), m(Role::User, "q2")]);
        assert_eq!(
            replaced,
            vec![
                m(Role::System, "new"),
                m(Role::User, "q1"),
                m(Role::Assistant, "a1"),
                m(Role::User, "q2"),
            ]
        );
    }
}
