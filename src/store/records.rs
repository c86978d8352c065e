//! Records kept for a while by id: conversations and stored long answers. Each is one JSON body
//! under (`kind`, `id`) with an expiry; expired rows read as absent and are pruned.

use super::{Store, StoreError, now_millis};
use rusqlite::{Connection, OptionalExtension, params};
use std::time::Duration;

/// What a record holds; one namespace each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `conversation_id`'s transcript.
    Conversation,
    /// A long answer read back with `read_answer`.
    Answer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Conversation => "conversation",
            Kind::Answer => "answer",
        }
    }
}

/// Expired rows are removed every this many writes (and when the store opens).
const CLEAN_EVERY: i64 = 64;

impl Store {
    /// The body stored under (`kind`, `id`), unless it has expired.
    pub async fn get_record(&self, kind: Kind, id: String) -> Result<Option<String>, StoreError> {
        if let Some(redis) = self.shared() {
            return redis.get_record(kind.as_str(), &id).await;
        }
        self.run(move |c| {
            let body = c
                .query_row(
                    "SELECT body FROM records WHERE kind = ?1 AND id = ?2 AND expires_at > ?3",
                    params![kind.as_str(), id, now_millis()],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(body)
        })
        .await
    }

    /// Stores (or replaces) `body` under (`kind`, `id`) for `ttl`.
    pub async fn put_record(
        &self,
        kind: Kind,
        id: String,
        body: String,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        if let Some(redis) = self.shared() {
            return redis.put_record(kind.as_str(), &id, body, ttl).await;
        }
        self.run(move |c| {
            let now = now_millis();
            let expires = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
            let row: i64 = c.query_row(
                "INSERT OR REPLACE INTO records (kind, id, body, expires_at)
                 VALUES (?1, ?2, ?3, ?4) RETURNING rowid",
                params![kind.as_str(), id, body, expires],
                |r| r.get(0),
            )?;
            if row % CLEAN_EVERY == 0 {
                delete_expired(c, now)?;
            }
            Ok(())
        })
        .await
    }
}

pub(super) fn delete_expired(connection: &Connection, now: i64) -> Result<usize, StoreError> {
    Ok(connection.execute("DELETE FROM records WHERE expires_at <= ?1", params![now])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_record_is_read_back_until_it_expires_and_kinds_do_not_mix() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("switchboard.db"));
        let day = Duration::from_secs(86_400);
        store
            .put_record(Kind::Answer, "a1".into(), "{\"x\":1}".into(), day)
            .await
            .unwrap();
        let got = store.get_record(Kind::Answer, "a1".into()).await.unwrap();
        assert_eq!(got.as_deref(), Some("{\"x\":1}"));
        let other = store.get_record(Kind::Conversation, "a1".into()).await;
        assert_eq!(other.unwrap(), None, "another kind's id is not this one");
        store
            .put_record(Kind::Answer, "old".into(), "{}".into(), Duration::ZERO)
            .await
            .unwrap();
        let expired = store.get_record(Kind::Answer, "old".into()).await;
        assert_eq!(expired.unwrap(), None, "an expired record reads as absent");
    }
}
