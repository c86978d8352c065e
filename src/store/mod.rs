//! The SQLite file in the data dir that holds what must outlive the process: cached answers and
//! the spend ledger. WAL mode with a busy timeout, so several server processes (Claude Desktop and
//! Cursor at once) can share one file. Opened on first use, never at start-up.

mod ledger;
mod responses;

pub use ledger::{LedgerRow, Spend};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the data dir {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store task failed: {0}")]
    Task(String),
}

/// A cheap-to-clone handle; the connection opens on first use.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    connection: OnceLock<Result<Mutex<Connection>, String>>,
}

impl Store {
    pub fn new(path: PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                path,
                connection: OnceLock::new(),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `work` with the connection on the blocking pool.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.run_blocking(work))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `work` with the connection on this thread.
    pub fn run_blocking<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let opened = self.inner.connection.get_or_init(|| {
            open(&self.inner.path)
                .map(Mutex::new)
                .map_err(|e| e.to_string())
        });
        let connection = opened.as_ref().map_err(|e| StoreError::Task(e.clone()))?;
        let mut guard = connection.lock().unwrap_or_else(|e| e.into_inner());
        work(&mut guard)
    }
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.into(),
            source,
        })?;
    }
    let mut connection = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.into(),
        source,
    })?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.execute_batch(SCHEMA)?;
    ledger::migrate(&mut connection)?;
    responses::delete_expired(&connection, now_millis())?;
    Ok(connection)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    completion TEXT NOT NULL,
    stored_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    model TEXT NOT NULL,
    cost REAL NOT NULL,
    reserved_until INTEGER,
    cost_source TEXT
);
CREATE INDEX IF NOT EXISTS ledger_at ON ledger (at);
";

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
