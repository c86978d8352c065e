//! The Redis backend of the store (`SWITCHBOARD_CACHE=redis://…`), shared by every replica of a
//! fleet: cached answers, stored records, the spend ledger (`redis_ledger`), single-flight leases
//! and cooldowns (`redis_shared`). One multiplexed connection per process (`redis`'s
//! `ConnectionManager`, which reconnects by itself); every command is bounded by what is left of
//! the call's deadline and a short cap, and a Redis that cannot be reached is
//! [`StoreError::Unreachable`], named by host and port only (never the password).

use super::StoreError;
use super::responses::StoredRow;
use crate::config::RedisUrl;
use crate::router::deadline;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// The longest one Redis command may take, whatever is left of the call's deadline.
const COMMAND_CAP: Duration = Duration::from_millis(1500);
/// How long commands fail at once after Redis could not be reached, so that a dead Redis costs
/// each call one quick refusal rather than one wait per command.
const FAIL_FAST_FOR: Duration = Duration::from_millis(300);
/// Every key this program writes starts with this.
pub(super) const PREFIX: &str = "switchboard:";

/// A cheap-to-clone handle on one Redis server.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    url: RedisUrl,
    /// Made on first use (it needs the runtime); connects lazily and reconnects by itself.
    manager: OnceCell<ConnectionManager>,
    /// Until when commands fail at once, after an unreachable Redis.
    failing_until: Mutex<Option<Instant>>,
    /// Why Redis could not be reached last time, repeated by the commands that fail fast.
    last_failure: Mutex<String>,
    /// The last command found no Redis: the next one first checks the connection is back.
    unhealthy: AtomicBool,
    health: Health,
}

/// What the backend has seen since start, for `/metrics` and the health resource.
#[derive(Debug, Default)]
struct Health {
    commands: AtomicU64,
    errors: AtomicU64,
    /// The last command's round trip, µs.
    last_micros: AtomicU64,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.inner.url)
            .finish_non_exhaustive()
    }
}

/// How a cached answer is kept under its key.
#[derive(Serialize, Deserialize)]
struct AnswerBody {
    model: String,
    completion: String,
    stored_at: i64,
}

impl RedisStore {
    pub fn new(url: RedisUrl) -> Self {
        Self {
            inner: Arc::new(Inner {
                url,
                manager: OnceCell::new(),
                failing_until: Mutex::new(None),
                last_failure: Mutex::new(String::new()),
                unhealthy: AtomicBool::new(false),
                health: Health::default(),
            }),
        }
    }

    /// `redis://HOST:PORT/DB`, without the password.
    pub fn redacted(&self) -> &str {
        self.inner.url.redacted()
    }

    /// (commands, errors, last round trip) since start.
    pub fn health(&self) -> (u64, u64, Duration) {
        let health = &self.inner.health;
        (
            health.commands.load(Ordering::Relaxed),
            health.errors.load(Ordering::Relaxed),
            Duration::from_micros(health.last_micros.load(Ordering::Relaxed)),
        )
    }

    async fn manager(&self) -> Result<ConnectionManager, StoreError> {
        let url = &self.inner.url;
        let made = self
            .inner
            .manager
            .get_or_try_init(|| async {
                let client = redis::Client::open(url.secret_url())
                    .map_err(|e| self.unreachable(&e.to_string()))?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(COMMAND_CAP))
                    .set_response_timeout(Some(COMMAND_CAP))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(20))
                    .set_max_delay(Duration::from_millis(200));
                ConnectionManager::new_lazy_with_config(client, config)
                    .map_err(|e| self.unreachable(&e.to_string()))
            })
            .await?;
        Ok(made.clone())
    }

    fn unreachable(&self, detail: &str) -> StoreError {
        let url = self.inner.url.secret_url();
        let detail = detail.replace(url, self.redacted());
        let tls = self.redacted().starts_with("rediss://");
        StoreError::Unreachable {
            address: self.inner.url.address().to_string(),
            detail: explain_tls(detail, tls),
        }
    }

    /// Refuses at once while failing fast, with why Redis could not be reached last time.
    fn still_unreachable(&self) -> StoreError {
        let last = self
            .inner
            .last_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        StoreError::Unreachable {
            address: self.inner.url.address().to_string(),
            detail: format!("it did not answer moments ago: {last}"),
        }
    }

    /// Fails fast from now on and remembers why (`error` is an [`StoreError::Unreachable`]).
    fn given_up(&self, error: StoreError) -> StoreError {
        self.fail_fast();
        if let StoreError::Unreachable { detail, .. } = &error {
            let mut last = self
                .inner
                .last_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            detail.clone_into(&mut last);
        }
        error
    }

    /// Runs one command (or script, or pipeline) on the shared connection, within the call's
    /// deadline and [`COMMAND_CAP`].
    pub(super) async fn run<T, F>(
        &self,
        work: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        if self.failing_fast() {
            return Err(self.still_unreachable());
        }
        let mut connection = self.manager().await?;
        let started = Instant::now();
        let limit = deadline::earliest(started + COMMAND_CAP);
        if self.inner.unhealthy.load(Ordering::Relaxed) {
            self.revive(&mut connection, limit).await?;
        }
        let result = tokio::time::timeout_at(limit, work(connection)).await;
        let elapsed = started.elapsed();
        let outcome = match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) if reaches_no_server(&error) => {
                Err(self.given_up(self.unreachable(&error.to_string())))
            }
            Ok(Err(error)) => Err(StoreError::Redis(error.to_string())),
            Err(_) => {
                let waited = elapsed.as_millis();
                let error = self.unreachable(&format!("no answer within {waited} ms"));
                Err(self.given_up(error))
            }
        };
        self.count(outcome.is_ok(), elapsed);
        outcome
    }

    fn count(&self, ok: bool, elapsed: Duration) {
        let health = &self.inner.health;
        health.commands.fetch_add(1, Ordering::Relaxed);
        if !ok {
            health.errors.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        health.last_micros.store(micros, Ordering::Relaxed);
        crate::metrics::global().store_command("redis", ok, elapsed);
    }

    fn failing_fast(&self) -> bool {
        let until = self
            .inner
            .failing_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|until| Instant::now() < until)
    }

    /// After an outage the connection's first answer may be the stale failure, while it
    /// reconnects: up to two `PING`s find out whether Redis is back.
    async fn revive(
        &self,
        connection: &mut ConnectionManager,
        limit: Instant,
    ) -> Result<(), StoreError> {
        let mut last = String::from("no answer in time");
        let ping_command = redis::cmd("PING");
        for _ in 0..2 {
            let ping = ping_command.query_async::<String>(&mut *connection);
            match tokio::time::timeout_at(limit, ping).await {
                Ok(Ok(_)) => {
                    self.inner.unhealthy.store(false, Ordering::Relaxed);
                    tracing::info!(redis = self.redacted(), "Redis answers again");
                    return Ok(());
                }
                Ok(Err(error)) => last = error.to_string(),
                Err(_) => break,
            }
        }
        Err(self.given_up(self.unreachable(&last)))
    }

    fn fail_fast(&self) {
        self.inner.unhealthy.store(true, Ordering::Relaxed);
        let mut until = self
            .inner
            .failing_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *until = Some(Instant::now() + FAIL_FAST_FOR);
    }

    /// One `PING`: how long the round trip took.
    pub async fn ping(&self) -> Result<Duration, StoreError> {
        let started = Instant::now();
        let reply: String = self
            .run(|mut c| async move { redis::cmd("PING").query_async(&mut c).await })
            .await?;
        if reply != "PONG" {
            return Err(StoreError::Redis(format!("PING answered {reply:?}")));
        }
        Ok(started.elapsed())
    }

    pub async fn get_response(&self, key: &str) -> Result<Option<StoredRow>, StoreError> {
        let name = format!("{PREFIX}answer:{key}");
        let body: Option<String> = self
            .run(|mut c| async move { redis::cmd("GET").arg(name).query_async(&mut c).await })
            .await?;
        Ok(body
            .and_then(|b| serde_json::from_str::<AnswerBody>(&b).ok())
            .map(|b| (b.model, b.completion, b.stored_at)))
    }

    pub async fn put_response(
        &self,
        key: &str,
        model: String,
        completion: String,
        stored_at: i64,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let body = AnswerBody {
            model,
            completion,
            stored_at,
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        self.set_for(format!("{PREFIX}answer:{key}"), body, ttl)
            .await
    }

    pub async fn get_record(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        let name = format!("{PREFIX}record:{kind}:{id}");
        self.run(|mut c| async move { redis::cmd("GET").arg(name).query_async(&mut c).await })
            .await
    }

    pub async fn put_record(
        &self,
        kind: &str,
        id: &str,
        body: String,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.set_for(format!("{PREFIX}record:{kind}:{id}"), body, ttl)
            .await
    }

    /// `SET name value PX ttl`; a zero TTL removes the key (it has expired already).
    async fn set_for(&self, name: String, value: String, ttl: Duration) -> Result<(), StoreError> {
        let millis = ttl_millis(ttl);
        self.run(|mut c| async move {
            if millis == 0 {
                redis::cmd("DEL").arg(name).query_async::<()>(&mut c).await
            } else {
                let mut set = redis::cmd("SET");
                set.arg(name).arg(value).arg("PX").arg(millis);
                set.query_async::<()>(&mut c).await
            }
        })
        .await
    }
}

/// A TTL as Redis `PX` milliseconds, at most a century.
pub(super) fn ttl_millis(ttl: Duration) -> u64 {
    const CENTURY_MS: u64 = 100 * 365 * 24 * 3600 * 1000;
    u64::try_from(ttl.as_millis())
        .unwrap_or(u64::MAX)
        .min(CENTURY_MS)
}

/// What a TLS failure means for the user: a certificate not trusted here (and how to trust a
/// private CA), or a `rediss://` URL at a port that does not speak TLS.
fn explain_tls(detail: String, tls: bool) -> String {
    if !tls {
        detail
    } else if detail.contains("certificate") {
        format!(
            "{detail}; its TLS certificate is not trusted here: set SSL_CERT_FILE to the PEM file of the CA that signed it"
        )
    } else if detail.contains("corrupt message") {
        format!(
            "{detail}; it does not speak TLS at that port: use its TLS port, or redis:// for a server without TLS"
        )
    } else {
        detail
    }
}

/// The error says no Redis answered (refused, dropped, timed out), not that a command was wrong.
fn reaches_no_server(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_refusal()
        || error.is_connection_dropped()
        || error.is_timeout()
        || error.is_unrecoverable_error()
}
