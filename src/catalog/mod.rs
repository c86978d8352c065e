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
/// Inside a tool call, the live fetch may take this fraction (1/N) of the call's remaining time.
const CALL_SHARE: u32 = 4;

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
    /// copy, else the embedded table. Concurrent callers share one refresh. Inside a tool call
    /// the wait for a live fetch takes at most a quarter of the call's remaining time (see
    /// [`crate::router::deadline`]); past that the last known catalog is used and the server
    /// keeps serving.
    pub async fn snapshot(&self) -> Arc<Snapshot> {
        if let Some(fresh) = self.fresh() {
            return fresh;
        }
        let limit = self.wait_limit();
        let refreshed = tokio::time::timeout(limit, async {
            let _one_refresh = self.refresh.lock().await;
            match self.fresh() {
                Some(fresh) => fresh,
                None => self.refresh_now().await,
            }
        })
        .await;
        match refreshed {
            Ok(snapshot) => snapshot,
            Err(_) => {
                let waited = humantime::format_duration(limit);
                let reason = format!("GET /models did not answer within {waited}");
                self.fall_back(&reason).await
            }
        }
    }

    /// How long this caller may wait for a live fetch.
    fn wait_limit(&self) -> Duration {
        match crate::router::deadline::remaining() {
            Some(left) => self.fetch_timeout.min(left / CALL_SHARE),
            None => self.fetch_timeout,
        }
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
        // A TTL too long for the clock never expires.
        state.fresh_until = Some(
            Instant::now()
                .checked_add(fresh_for)
                .unwrap_or_else(far_future),
        );
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
            Err(err) => self.fall_back(&err.to_string()).await,
        }
    }

    /// The last known catalog (in memory, else saved, else embedded), used for [`LIVE_RETRY`]
    /// before the live one is tried again.
    async fn fall_back(&self, reason: &str) -> Arc<Snapshot> {
        if let Some(fresh) = self.fresh() {
            return fresh;
        }
        tracing::warn!(error = %reason, "live catalog unavailable; using the last known catalog");
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

    async fn save(&self, models: &[ApiModel], fetched_at: SystemTime) {
        let saved = SavedCatalog {
            fetched_at: fetched_at
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs()),
            captured: None,
            data: models.to_vec(),
        };
        let path = self.saved_path.clone();
        // On the blocking pool: a caller that stops waiting never leaves half a write behind.
        let written = tokio::task::spawn_blocking(move || write_atomically(&path, &saved)).await;
        if let Err(err) = written.map_err(std::io::Error::other).and_then(|r| r) {
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

/// Writes to a temporary file in the same directory and renames it over `path`, so a reader never
/// sees half a catalog. On any error (a full disk, say) the temporary file is removed.
fn write_atomically(path: &std::path::Path, saved: &SavedCatalog) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let body = serde_json::to_vec(saved).map_err(std::io::Error::other)?;
    let mut temporary = tempfile::Builder::new()
        .prefix("catalog.")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temporary.write_all(&body)?;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// An instant no TTL reaches: a century from now.
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600))
        .unwrap_or(now)
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

    #[test]
    fn a_failed_save_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory (not empty) where the catalog file should go: the rename must fail.
        let path = dir.path().join("catalog.json");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("keep"), b"x").unwrap();
        let saved = SavedCatalog {
            fetched_at: Some(1),
            captured: None,
            data: Vec::new(),
        };
        assert!(write_atomically(&path, &saved).is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["catalog.json"], "no temporary file is left behind");
    }

    #[test]
    fn a_save_replaces_the_catalog_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("catalog.json");
        let saved = SavedCatalog {
            fetched_at: Some(7),
            captured: None,
            data: Vec::new(),
        };
        write_atomically(&path, &saved).unwrap();
        write_atomically(&path, &saved).unwrap();
        let back: SavedCatalog = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back.fetched_at, Some(7));
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
