//! What must outlive the process: cached answers, the spend ledger, conversations and stored long
//! answers. Two backends behind one [`Store`]: the SQLite file in the data dir (WAL mode with a
//! busy timeout, so several server processes, Claude Desktop and Cursor at once, can share one
//! file; opened on first use, never at start-up), or a Redis server shared by a fleet of replicas
//! (`redis`, with the single-flight leases and cooldowns only a fleet needs).

mod ledger;
mod records;
mod redis;
mod redis_ledger;
mod redis_shared;
mod responses;

pub use ledger::{LedgerRow, Spend};
pub use records::Kind;
pub use redis::RedisStore;

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    /// No Redis answered in time; named by host and port, never with the password.
    #[error(
        "Redis at {address} cannot be reached ({detail}); check that it runs and SWITCHBOARD_CACHE"
    )]
    Unreachable { address: String, detail: String },
    #[error("Redis error: {0}")]
    Redis(String),
}

/// A cheap-to-clone handle; the connection opens on first use.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(Arc<Inner>),
    Redis(RedisStore, PathBuf),
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    /// Opened on first use. A failed open is not remembered: the next use tries again, so a file
    /// that was briefly locked (another process creating it) or a data dir fixed later recovers.
    connection: Mutex<Option<Connection>>,
}

impl Store {
    /// The SQLite file at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            backend: Backend::Sqlite(Arc::new(Inner {
                path,
                connection: Mutex::new(None),
            })),
        }
    }

    /// The Redis server at `url`; connects on first use.
    pub fn redis(url: crate::config::RedisUrl) -> Self {
        let label = PathBuf::from(url.redacted());
        Self {
            backend: Backend::Redis(RedisStore::new(url), label),
        }
    }

    /// The SQLite file, or the Redis URL without its password, for messages.
    pub fn path(&self) -> &Path {
        match &self.backend {
            Backend::Sqlite(inner) => &inner.path,
            Backend::Redis(_, label) => label,
        }
    }

    /// The Redis server, when the store is one (shared by a fleet).
    pub fn shared(&self) -> Option<&RedisStore> {
        match &self.backend {
            Backend::Redis(redis, _) => Some(redis),
            Backend::Sqlite(_) => None,
        }
    }

    fn sqlite(&self) -> Result<&Arc<Inner>, StoreError> {
        match &self.backend {
            Backend::Sqlite(inner) => Ok(inner),
            Backend::Redis(redis, _) => Err(StoreError::Task(format!(
                "the store is Redis ({}), not a SQLite file",
                redis.redacted()
            ))),
        }
    }

    /// Opens the store and reads it once: the SQLite ledger's row count, or a Redis `PING`.
    pub async fn probe(&self) -> Result<String, StoreError> {
        if let Some(redis) = self.shared() {
            let took = redis.ping().await?;
            return Ok(format!(
                "answers PING in {:.2} ms",
                took.as_secs_f64() * 1000.0
            ));
        }
        let rows = self
            .run(|c| Ok(c.query_row("SELECT count(*) FROM ledger", [], |r| r.get::<_, i64>(0))?))
            .await?;
        Ok(format!("opens ({rows} ledger rows)"))
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

    /// Runs `work` with the connection on this thread, opening it first if needed.
    pub fn run_blocking<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let inner = self.sqlite()?;
        let mut guard = inner.connection.lock().unwrap_or_else(|e| e.into_inner());
        let connection = match &mut *guard {
            Some(connection) => connection,
            empty => empty.insert(open_waiting(&inner.path)?),
        };
        work(connection)
    }
}

/// Opens the file, waiting out another process that holds a lock while it creates or migrates it
/// (SQLite answers some of those steps `database is locked` at once, without its busy handler).
fn open_waiting(path: &Path) -> Result<Connection, StoreError> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match open(path) {
            Err(error) if error.is_busy() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10 + u64::from(fastrand::u8(..40))));
            }
            result => return result,
        }
    }
}

impl StoreError {
    /// Another connection holds a lock (`SQLITE_BUSY` / `SQLITE_LOCKED`).
    fn is_busy(&self) -> bool {
        let sqlite = match self {
            StoreError::Sql(error) | StoreError::Open { source: error, .. } => error,
            _ => return false,
        };
        matches!(
            sqlite.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
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
    records::delete_expired(&connection, now_millis())?;
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
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
";

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_open_is_tried_again_on_the_next_use() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("data");
        std::fs::write(&blocker, "a file where the data dir should be").unwrap();
        let store = Store::new(blocker.join("switchboard.db"));
        assert!(store.spend(0).await.is_err(), "no data dir can be made");
        std::fs::remove_file(&blocker).unwrap();
        let spend = store.spend(0).await.expect("the next use opens the file");
        assert_eq!(spend.settled, 0.0);
    }

    /// Several processes (here: handles with their own connections) creating one new file at once
    /// all get a working store; SQLite answers some of those first steps `database is locked`.
    #[test]
    fn handles_opening_a_new_file_at_once_all_work() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("switchboard.db");
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let store = Store::new(path.clone());
                    std::thread::spawn(move || {
                        store.run_blocking(|c| {
                            c.execute(
                                "INSERT INTO ledger (at, model, cost) VALUES (1, 'a/b', 1)",
                                [],
                            )?;
                            Ok(())
                        })
                    })
                })
                .collect();
            for thread in threads {
                thread
                    .join()
                    .unwrap()
                    .expect("every handle opens and writes");
            }
        }
    }
}
