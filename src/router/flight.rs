//! Single-flight: identical calls in flight at the same time share one upstream request. The first
//! caller leads; the others wait for its result. If the leader is cancelled, a waiting caller
//! takes over rather than failing. In a fleet sharing Redis, the leader in each process also takes
//! a lease on the key ([`across`]); leaders elsewhere wait for the answer it stores, and take the
//! lease themselves when it goes (its holder finished without an answer to store, or died).

use super::{RouteError, Routed};
use crate::cache::{CachedAnswer, ResponseCache};
use crate::store::RedisStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How long a lease lives unless its holder renews it: a replica that dies mid-call frees the
/// key this long after its last renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(3);
/// How often a live holder renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// Waiting for another replica's answer: the first and the longest pause between looks.
const FIRST_LOOK: Duration = Duration::from_millis(10);
const LONGEST_LOOK: Duration = Duration::from_millis(200);

type Outcome = Option<Result<Routed, RouteError>>;

#[derive(Debug, Default)]
pub struct Flights {
    inflight: Mutex<HashMap<String, watch::Receiver<Outcome>>>,
}

/// The caller's role for one key.
#[derive(Debug)]
pub enum Flight<'a> {
    Lead(Lead<'a>),
    Follow(watch::Receiver<Outcome>),
}

impl Flights {
    /// Follows the flight under `key` if one is going, else starts one.
    pub fn join(&self, key: &str) -> Flight<'_> {
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(receiver) = inflight.get(key).filter(|r| r.has_changed().is_ok()) {
            return Flight::Follow(receiver.clone());
        }
        let (sender, receiver) = watch::channel(None);
        inflight.insert(key.to_string(), receiver.clone());
        Flight::Lead(Lead {
            flights: self,
            key: key.to_string(),
            sender,
            receiver,
        })
    }
}

/// Leadership of one flight; dropping it ends the flight.
#[derive(Debug)]
pub struct Lead<'a> {
    flights: &'a Flights,
    key: String,
    sender: watch::Sender<Outcome>,
    receiver: watch::Receiver<Outcome>,
}

impl Lead<'_> {
    /// Hands the result to every follower.
    pub fn finish(&self, result: &Result<Routed, RouteError>) {
        self.sender.send_replace(Some(result.clone()));
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let mut inflight = self
            .flights
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if inflight
            .get(&self.key)
            .is_some_and(|r| r.same_channel(&self.receiver))
        {
            inflight.remove(&self.key);
        }
    }
}

/// Waits for the leader. `None` when it went away without a result.
pub async fn follow(mut receiver: watch::Receiver<Outcome>) -> Option<Result<Routed, RouteError>> {
    let outcome = receiver.wait_for(Option::is_some).await.ok()?;
    outcome.clone()
}

/// What this process's leader of a flight does in a fleet.
#[derive(Debug)]
pub enum Across {
    /// Send the request (holding the lease, when Redis could give one).
    Lead(Option<Lease>),
    /// Another replica answered it meanwhile.
    Answered(Arc<CachedAnswer>),
}

/// Takes the fleet-wide lease on `key`, or waits (until `give_up`) for the replica holding it to
/// store its answer. Without Redis, or when it cannot be reached, leads alone.
pub async fn across(cache: &ResponseCache, key: &str, give_up: Instant) -> Across {
    let Some(redis) = cache.shared() else {
        return Across::Lead(None);
    };
    let token = uuid::Uuid::new_v4().to_string();
    let mut pause = FIRST_LOOK;
    loop {
        match redis.take_lease(key, &token, LEASE_TTL).await {
            Ok(true) => {
                let lease = Lease::hold(redis.clone(), key, token);
                // The holder before us stored its answer before it let go.
                return match cache.peek(key).await {
                    Some(hit) => Across::Answered(hit),
                    None => Across::Lead(Some(lease)),
                };
            }
            Ok(false) => {}
            Err(_) => return Across::Lead(None),
        }
        loop {
            if Instant::now() + pause >= give_up {
                return Across::Lead(None);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_LOOK);
            if let Some(hit) = cache.peek(key).await {
                return Across::Answered(hit);
            }
            match redis.lease_held(key).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => return Across::Lead(None),
            }
        }
    }
}

/// A fleet-wide lease on one key, renewed while held; dropping it lets it go.
#[derive(Debug)]
pub struct Lease {
    redis: RedisStore,
    key: String,
    token: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl Lease {
    fn hold(redis: RedisStore, key: &str, token: String) -> Self {
        let (store, name, mine) = (redis.clone(), key.to_string(), token.clone());
        let renewer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                if !matches!(store.renew_lease(&name, &mine, LEASE_TTL).await, Ok(true)) {
                    tracing::debug!("single-flight lease lost; identical calls may repeat");
                }
            }
        });
        Self {
            redis,
            key: key.to_string(),
            token,
            renewer,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
        let (redis, key, token) = (
            self.redis.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { redis.release_lease(&key, &token).await });
        }
    }
}
