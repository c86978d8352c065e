//! The response cache: complete, successful answers keyed by the SHA-256 of the canonical request,
//! expired after a TTL. A size-bounded memory front, over the store when persistence is on: the
//! SQLite file, or Redis shared by a fleet (where an unreachable Redis only costs the cache).

use crate::openrouter::Completion;
use crate::openrouter::types::ChatMessage;
use crate::store::{Store, now_millis};
use moka::sync::Cache;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bound on what the cache holds, in bytes of answer text (plus a fixed overhead per entry).
const MAX_BYTES: u64 = 64 * 1024 * 1024;
const ENTRY_OVERHEAD: u32 = 512;
/// Largest answer stored, in bytes of text (the client refuses larger ones unless
/// `SWITCHBOARD_MAX_ANSWER_BYTES` allows them).
const MAX_ENTRY_BYTES: usize = 16 * 1024 * 1024;

/// How one call uses the cache (the `cache` tool argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheMode {
    /// Serve a stored answer when there is one; store a fresh one.
    #[default]
    Use,
    /// Neither read nor store.
    Bypass,
    /// Ask upstream even if an answer is stored, and store the fresh one.
    Refresh,
}

impl CacheMode {
    pub fn reads(self) -> bool {
        self == CacheMode::Use
    }

    pub fn writes(self) -> bool {
        self != CacheMode::Bypass
    }
}

/// Everything that makes two requests the same request.
#[derive(Debug, Serialize)]
pub struct KeyMaterial<'a> {
    pub chain: &'a [String],
    pub messages: &'a [ChatMessage],
    pub max_tokens: u32,
    pub temperature: Option<f64>,
}

impl KeyMaterial<'_> {
    /// SHA-256 of the canonical JSON, hex-encoded.
    pub fn key(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(canonical))
    }
}

/// A stored answer and the catalog id of the model that gave it.
#[derive(Debug, Clone)]
pub struct CachedAnswer {
    pub model: String,
    pub completion: Completion,
    /// When it was stored, ms since the epoch.
    pub stored_at: i64,
}

impl CachedAnswer {
    /// Seconds since it was stored.
    pub fn age_secs(&self) -> u64 {
        u64::try_from((now_millis() - self.stored_at).max(0) / 1000).unwrap_or(0)
    }
}

/// Where answers are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Off,
    Memory,
    /// A memory front over the SQLite store, shared by every process using the same file.
    Sqlite,
    /// A memory front over Redis, shared by every replica using the same server.
    Redis,
}

impl Tier {
    /// Answers outlive the process (and are shared with other processes).
    pub fn persists(self) -> bool {
        matches!(self, Tier::Sqlite | Tier::Redis)
    }
}

/// The response cache. Reads try memory, then the store; writes go to both.
#[derive(Debug)]
pub struct ResponseCache {
    tier: Tier,
    memory: Option<Cache<String, Arc<CachedAnswer>>>,
    store: Store,
    ttl: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ResponseCache {
    pub fn new(tier: Tier, ttl: Duration, store: Store) -> Self {
        let memory = (tier != Tier::Off).then(|| {
            Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|_key: &String, value: &Arc<CachedAnswer>| {
                    u32::try_from(value.completion.text.len())
                        .unwrap_or(u32::MAX)
                        .saturating_add(ENTRY_OVERHEAD)
                })
                .time_to_live(ttl)
                .build()
        });
        Self {
            tier,
            memory,
            store,
            ttl,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// The Redis server behind the cache, when replicas share one.
    pub fn shared(&self) -> Option<&crate::store::RedisStore> {
        self.store.shared().filter(|_| self.tier == Tier::Redis)
    }

    /// (hits, misses) since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    pub async fn get(&self, key: &str) -> Option<Arc<CachedAnswer>> {
        let found = self.lookup(key).await;
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Like [`ResponseCache::get`], without counting a hit or a miss.
    pub async fn peek(&self, key: &str) -> Option<Arc<CachedAnswer>> {
        self.lookup(key).await
    }

    async fn lookup(&self, key: &str) -> Option<Arc<CachedAnswer>> {
        let memory = self.memory.as_ref()?;
        if let Some(hit) = memory.get(key) {
            return Some(hit);
        }
        if !self.tier.persists() {
            return None;
        }
        let row = self.store.get_response(key.to_string()).await;
        let (model, completion, stored_at) = row
            .inspect_err(|e| tracing::warn!(error = %e, "cache read failed"))
            .ok()??;
        let completion: Completion = serde_json::from_str(&completion).ok()?;
        // A row written by an older build may hold what is no longer stored.
        if !is_cacheable(&completion) {
            return None;
        }
        let answer = Arc::new(CachedAnswer {
            model,
            completion,
            stored_at,
        });
        memory.insert(key.to_string(), answer.clone());
        Some(answer)
    }

    /// Stores only complete answers: not truncated (`length`), not cut by a content filter, not
    /// empty, not over the answer limit. A write the SQLite file refused comes back as a warning
    /// for the call's output: the answer was delivered, but an identical call will be paid again.
    pub async fn put(&self, key: String, model: &str, completion: &Completion) -> Option<String> {
        let memory = self.memory.as_ref()?;
        if !is_cacheable(completion) {
            return None;
        }
        let answer = CachedAnswer {
            model: model.to_string(),
            completion: completion.clone(),
            stored_at: now_millis(),
        };
        memory.insert(key.clone(), Arc::new(answer));
        if !self.tier.persists() {
            return None;
        }
        let body = serde_json::to_string(completion).unwrap_or_default();
        let error = self
            .store
            .put_response(key, model.to_string(), body, self.ttl)
            .await
            .err()?;
        tracing::warn!(%error, "cache write failed");
        if self.tier == Tier::Redis {
            return Some(format!(
                "the answer could not be saved in the shared response cache ({error}); it was delivered, but other replicas will pay for an identical call again"
            ));
        }
        Some(format!(
            "the answer could not be saved in the response cache {} ({error}); it was delivered, but other server processes will pay for an identical call again; check the data dir (SWITCHBOARD_DATA_DIR) or set SWITCHBOARD_CACHE=memory",
            self.store.path().display()
        ))
    }
}

fn is_cacheable(completion: &Completion) -> bool {
    completion.finish_reason != "length"
        && !completion.is_filtered()
        && !completion.text.trim().is_empty()
        && completion.text.len() <= MAX_ENTRY_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openrouter::types::{Role, Usage};

    fn completion(text: &str, finish_reason: &str) -> Completion {
        Completion {
            text: text.into(),
            model: None,
            provider: None,
            generation_id: None,
            finish_reason: finish_reason.into(),
            usage: Usage::default(),
        }
    }

    fn key(temperature: Option<f64>) -> String {
        let chain = vec!["a/b".to_string()];
        let messages = vec![ChatMessage::new(Role::User, "hi")];
        KeyMaterial {
            chain: &chain,
            messages: &messages,
            max_tokens: 10,
            temperature,
        }
        .key()
    }

    fn cache(tier: Tier, dir: &tempfile::TempDir) -> ResponseCache {
        ResponseCache::new(
            tier,
            Duration::from_secs(60),
            Store::new(dir.path().join("s.db")),
        )
    }

    #[test]
    fn key_changes_with_sampling_parameters() {
        assert_eq!(key(None), key(None));
        assert_ne!(key(None), key(Some(0.5)));
        assert_eq!(key(None).len(), 64);
    }

    #[tokio::test]
    async fn stores_only_complete_answers() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(Tier::Memory, &dir);
        cache
            .put("truncated".into(), "a/b", &completion("half", "length"))
            .await;
        cache
            .put("empty".into(), "a/b", &completion(" ", "stop"))
            .await;
        cache
            .put(
                "filtered".into(),
                "a/b",
                &completion("partial", "content_filter"),
            )
            .await;
        cache
            .put("good".into(), "a/b", &completion("whole", "stop"))
            .await;
        assert!(cache.get("truncated").await.is_none());
        assert!(cache.get("empty").await.is_none());
        assert!(cache.get("filtered").await.is_none());
        assert_eq!(cache.get("good").await.unwrap().completion.text, "whole");
        assert_eq!(cache.counts(), (1, 3));
    }

    #[tokio::test]
    async fn sqlite_answers_outlive_the_memory_front() {
        let dir = tempfile::tempdir().unwrap();
        cache(Tier::Sqlite, &dir)
            .put("k".into(), "a/b", &completion("kept", "stop"))
            .await;
        let other_process = cache(Tier::Sqlite, &dir);
        let hit = other_process.get("k").await.unwrap();
        assert_eq!(
            (hit.model.as_str(), hit.completion.text.as_str()),
            ("a/b", "kept")
        );
    }

    #[tokio::test]
    async fn disabled_cache_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(Tier::Off, &dir);
        cache
            .put("good".into(), "a/b", &completion("whole", "stop"))
            .await;
        assert!(cache.get("good").await.is_none());
    }
}
