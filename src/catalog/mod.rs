//! The model catalog: fetched live from `GET /models`, kept in memory for a while, saved to the
//! data dir so the next start works offline, with an embedded table of popular models for the very
//! first offline start. Nothing is loaded until a tool first needs it.

pub mod model;
pub mod search;
pub mod snapshot;
pub mod suggest;

pub use model::ModelInfo;
pub use snapshot::{Snapshot, Source};

use crate::openrouter::Client;
use crate::openrouter::types::ApiModel;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The embedded table: real catalog facts (ids, context, prices) captured on the date it names.
const EMBEDDED: &str = include_str!("embedded.json");
/// How long to wait before trying the live catalog again after it failed.
const LIVE_RETRY: Duration = Duration::from_secs(60);

/// The file format of the saved catalog (and of the embedded table).
#[derive(Serialize, Deserialize)]
struct SavedCatalog {
    /// Unix seconds, or an RFC 3339 date for the embedded table.
    #[serde(default)]
    fetched_at: Option<u64>,
    #[serde(default)]
    captured: Option<String>,
    data: Vec<ApiModel>,
}

#[derive(Debug)]
pub struct Catalog {
    client: Client,
    saved_path: PathBuf,
    ttl: Duration,
    fetch_timeout: Duration,
    state: Mutex<State>,
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    current: Option<Arc<Snapshot>>,
    fresh_until: Option<Instant>,
}

impl Catalog {
    pub fn new(
        client: Client,
        saved_path: PathBuf,
        ttl: Duration,
        fetch_timeout: Duration,
    ) -> Self {
        Self {
            client,
            saved_path,
            ttl,
            fetch_timeout,
            state: Mutex::new(State::default()),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// The catalog to use now: the in-memory one while fresh, else a live fetch, else the saved
    /// copy, else the embedded table. Concurrent callers share one refresh.
    pub async fn snapshot(&self) -> Arc<Snapshot> {
        if let Some(fresh) = self.fresh() {
            return fresh;
        }
        let _one_refresh = self.refresh.lock().await;
        if let Some(fresh) = self.fresh() {
            return fresh;
        }
        self.refresh_now().await
    }

    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = state
            .fresh_until
            .is_some_and(|until| Instant::now() < until);
        if fresh { state.current.clone() } else { None }
    }

    fn store(&self, snapshot: Arc<Snapshot>, fresh_for: Duration) -> Arc<Snapshot> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.current = Some(snapshot.clone());
        state.fresh_until = Some(Instant::now() + fresh_for);
        snapshot
    }

    async fn refresh_now(&self) -> Arc<Snapshot> {
        match self.client.list_models(self.fetch_timeout).await {
            Ok(response) => {
                let fetched_at = SystemTime::now();
                self.save(&response.data, fetched_at).await;
                let snapshot = Snapshot::new(response.data, Source::Live, fetched_at);
                tracing::debug!(models = snapshot.models.len(), "catalog fetched live");
                self.store(Arc::new(snapshot), self.ttl)
            }
            Err(err) => {
                tracing::warn!(error = %err, "live catalog unavailable; using the last known catalog");
                let previous = self
                    .state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .current
                    .clone();
                let fallback = match previous {
                    Some(previous) => previous,
                    None => Arc::new(self.load_saved().await.unwrap_or_else(embedded)),
                };
                self.store(fallback, LIVE_RETRY)
            }
        }
    }

    async fn save(&self, models: &[ApiModel], fetched_at: SystemTime) {
        let saved = SavedCatalog {
            fetched_at: fetched_at
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs()),
            captured: None,
            data: models.to_vec(),
        };
        if let Err(err) = write_atomically(&self.saved_path, &saved).await {
            tracing::warn!(error = %err, path = %self.saved_path.display(), "could not save the catalog");
        }
    }

    async fn load_saved(&self) -> Option<Snapshot> {
        let bytes = tokio::fs::read(&self.saved_path).await.ok()?;
        let saved: SavedCatalog = serde_json::from_slice(&bytes)
            .inspect_err(|e| tracing::warn!(error = %e, "saved catalog is unreadable; ignoring it"))
            .ok()?;
        let fetched_at = UNIX_EPOCH + Duration::from_secs(saved.fetched_at.unwrap_or_default());
        Some(Snapshot::new(saved.data, Source::Saved, fetched_at))
    }
}

/// Writes to a temporary file and renames it, so a reader never sees half a catalog.
async fn write_atomically(path: &std::path::Path, saved: &SavedCatalog) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let body = serde_json::to_vec(saved).map_err(std::io::Error::other)?;
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    tokio::fs::write(&temporary, body).await?;
    tokio::fs::rename(&temporary, path).await
}

/// The embedded table of popular models.
pub fn embedded() -> Snapshot {
    let table: SavedCatalog = serde_json::from_str(EMBEDDED).unwrap_or(SavedCatalog {
        fetched_at: None,
        captured: None,
        data: Vec::new(),
    });
    let captured = table
        .captured
        .as_deref()
        .and_then(|d| humantime::parse_rfc3339(d).ok());
    Snapshot::new(table.data, Source::Embedded, captured.unwrap_or(UNIX_EPOCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_and_has_the_default_chain() {
        let snapshot = embedded();
        assert!(snapshot.models.len() >= 20);
        assert!(snapshot.find("openai/gpt-5-mini").is_some());
        assert!(snapshot.find("google/gemini-2.5-flash").is_some());
        assert_eq!(snapshot.fetched_at_rfc3339(), "2026-05-01T00:00:00Z");
    }
}
