//! Single-flight: identical calls in flight at the same time share one upstream request. The first
//! caller leads; the others wait for its result. If the leader is cancelled, a waiting caller
//! takes over rather than failing.

use super::{RouteError, Routed};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

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
