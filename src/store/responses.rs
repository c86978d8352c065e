//! Cached answers in the store: one row per request key, with an expiry.

use super::{Store, StoreError, now_millis};
use rusqlite::{Connection, OptionalExtension, params};
use std::time::Duration;

/// A stored answer: the model that gave it, the completion as JSON, when it was stored (ms).
pub type StoredRow = (String, String, i64);

/// Expired rows are removed every this many writes (and when the store opens).
const CLEAN_EVERY: i64 = 64;

impl Store {
    /// The answer stored under `key`, unless it has expired.
    pub async fn get_response(&self, key: String) -> Result<Option<StoredRow>, StoreError> {
        if let Some(redis) = self.shared() {
            return redis.get_response(&key).await;
        }
        self.run(move |c| {
            let row = c
                .query_row(
                    "SELECT model, completion, stored_at FROM responses WHERE key = ?1 AND expires_at > ?2",
                    params![key, now_millis()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            Ok(row)
        })
        .await
    }

    /// Stores an answer for `ttl`; every `CLEAN_EVERY`th write also deletes expired rows.
    pub async fn put_response(
        &self,
        key: String,
        model: String,
        completion: String,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        if let Some(redis) = self.shared() {
            return redis
                .put_response(&key, model, completion, now_millis(), ttl)
                .await;
        }
        self.run(move |c| {
            let now = now_millis();
            let expires = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
            let id: i64 = c.query_row(
                "INSERT OR REPLACE INTO responses (key, model, completion, stored_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING rowid",
                params![key, model, completion, now, expires],
                |r| r.get(0),
            )?;
            if id % CLEAN_EVERY == 0 {
                delete_expired(c, now)?;
            }
            Ok(())
        })
        .await
    }
}

pub(super) fn delete_expired(connection: &Connection, now: i64) -> Result<usize, StoreError> {
    Ok(connection.execute("DELETE FROM responses WHERE expires_at <= ?1", params![now])?)
}
