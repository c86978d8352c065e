//! The in-memory response cache: complete, successful answers keyed by the SHA-256 of the canonical
//! request, bounded by size and expired after a TTL.

use crate::openrouter::Completion;
use crate::openrouter::types::ChatMessage;
use moka::sync::Cache;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Upper bound on what the cache holds, in bytes of answer text (plus a fixed overhead per entry).
const MAX_BYTES: u64 = 64 * 1024 * 1024;
const ENTRY_OVERHEAD: u32 = 512;

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
    pub stored_at: Instant,
}

#[derive(Debug, Clone)]
pub struct ResponseCache {
    entries: Option<Cache<String, Arc<CachedAnswer>>>,
}

impl ResponseCache {
    /// A cache that keeps answers for `ttl`; `enabled: false` keeps nothing.
    pub fn new(enabled: bool, ttl: Duration) -> Self {
        let entries = enabled.then(|| {
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
        Self { entries }
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedAnswer>> {
        self.entries.as_ref()?.get(key)
    }

    /// Stores only complete answers: not truncated (`length`), not empty.
    pub fn put(&self, key: String, model: &str, completion: &Completion) {
        let Some(entries) = &self.entries else { return };
        if !is_cacheable(completion) {
            return;
        }
        let answer = CachedAnswer {
            model: model.to_string(),
            completion: completion.clone(),
            stored_at: Instant::now(),
        };
        entries.insert(key, Arc::new(answer));
    }
}

fn is_cacheable(completion: &Completion) -> bool {
    completion.finish_reason != "length" && !completion.text.trim().is_empty()
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

    #[test]
    fn key_changes_with_sampling_parameters() {
        assert_eq!(key(None), key(None));
        assert_ne!(key(None), key(Some(0.5)));
        assert_eq!(key(None).len(), 64);
    }

    #[test]
    fn stores_only_complete_answers() {
        let cache = ResponseCache::new(true, Duration::from_secs(60));
        cache.put("truncated".into(), "a/b", &completion("half", "length"));
        cache.put("empty".into(), "a/b", &completion(" ", "stop"));
        cache.put("good".into(), "a/b", &completion("whole", "stop"));
        assert!(cache.get("truncated").is_none());
        assert!(cache.get("empty").is_none());
        assert_eq!(cache.get("good").unwrap().completion.text, "whole");
    }

    #[test]
    fn disabled_cache_keeps_nothing() {
        let cache = ResponseCache::new(false, Duration::from_secs(60));
        cache.put("good".into(), "a/b", &completion("whole", "stop"));
        assert!(cache.get("good").is_none());
    }
}
