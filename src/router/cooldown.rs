//! Per-model cooldown (a circuit breaker): after `threshold` failed attempts in a row a model is
//! skipped by later calls for `period`, then tried again. One success closes it. In a fleet sharing
//! Redis the streak and the cooldown are kept there too, so a model cooled through one replica is
//! skipped by all; the in-process state stays in front and is what a Redis out of reach leaves.

use crate::store::RedisStore;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Debug)]
pub struct Cooldowns {
    threshold: u32,
    period: Duration,
    models: Mutex<HashMap<String, Health>>,
    shared: Option<RedisStore>,
    /// Models seen with a failure streak in the fleet (Redis): a success clears it there.
    fleet_streaks: Mutex<HashSet<String>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Health {
    failures_in_a_row: u32,
    cooling_until: Option<Instant>,
}

impl Cooldowns {
    pub fn new(threshold: u32, period: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            period,
            models: Mutex::new(HashMap::new()),
            shared: None,
            fleet_streaks: Mutex::new(HashSet::new()),
        }
    }

    /// Keeps streaks and cooldowns in `redis` too, shared with every replica using it.
    pub fn shared(mut self, redis: Option<RedisStore>) -> Self {
        self.shared = redis;
        self
    }

    /// How much longer each of `models` cools down, here or (with Redis) anywhere in the fleet:
    /// one round trip for the whole chain.
    pub async fn remaining_each(&self, models: &[String]) -> Vec<Option<Duration>> {
        let local: Vec<Option<Duration>> = models.iter().map(|m| self.remaining(m)).collect();
        let Some(redis) = &self.shared else {
            return local;
        };
        match redis.cooling(models).await {
            Ok(fleet) => {
                let mut streaks = self.fleet_streaks.lock().unwrap_or_else(|e| e.into_inner());
                for (model, (_, streak)) in models.iter().zip(&fleet) {
                    if *streak {
                        streaks.insert(model.clone());
                    }
                }
                local
                    .into_iter()
                    .zip(fleet)
                    .map(|(here, (there, _))| here.max(there))
                    .collect()
            }
            Err(error) => {
                tracing::debug!(%error, "fleet cooldowns unknown; using this replica's");
                local
            }
        }
    }

    /// How much longer `model` cools down, if it does.
    pub fn remaining(&self, model: &str) -> Option<Duration> {
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        let until = models.get(model)?.cooling_until?;
        until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// A success ends the model's streak here and, when one was seen, in the fleet (so a call
    /// to a healthy model costs no round trip for it).
    pub async fn record_success(&self, model: &str) {
        let had_streak = self.forget(model);
        let fleet_streak = self
            .fleet_streaks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(model);
        if !(had_streak || fleet_streak) {
            return;
        }
        if let Some(redis) = &self.shared
            && let Err(error) = redis.model_answered(model).await
        {
            tracing::debug!(%error, model, "could not clear the fleet's cooldown");
        }
    }

    /// Ends the streak here; whether there was one.
    fn forget(&self, model: &str) -> bool {
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        let removed = models.remove(model);
        if removed.is_some_and(|h| h.cooling_until.is_some()) {
            tracing::info!(model, "model answered again; cooldown cleared");
        }
        removed.is_some()
    }

    /// Counts a failed attempt; the `threshold`-th in a row (and every one after, while the model
    /// keeps failing) starts a cooldown.
    pub async fn record_failure(&self, model: &str) {
        let fleet = match &self.shared {
            Some(redis) => redis
                .model_failed(model, self.threshold, self.period)
                .await
                .inspect_err(|error| tracing::debug!(%error, model, "fleet streak not counted"))
                .ok(),
            None => None,
        };
        self.count_failure(model, fleet);
    }

    /// Counts a failure here; `fleet` is the streak across replicas, when known.
    fn count_failure(&self, model: &str, fleet: Option<u32>) {
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        let health = models.entry(model.to_string()).or_default();
        health.failures_in_a_row = (health.failures_in_a_row + 1).max(fleet.unwrap_or(0));
        if health.failures_in_a_row >= self.threshold {
            // A period too long for the clock cools down for a century instead of panicking.
            let now = Instant::now();
            health.cooling_until = now
                .checked_add(self.period)
                .or_else(|| now.checked_add(CENTURY));
            tracing::warn!(
                model,
                failures = health.failures_in_a_row,
                cooldown = %humantime::format_duration(self.period),
                "model keeps failing; later calls skip it during the cooldown"
            );
        }
    }

    /// Models cooling down right now, with the time left, for health reports.
    pub fn cooling(&self) -> Vec<(String, Duration)> {
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let mut list: Vec<(String, Duration)> = models
            .iter()
            .filter_map(|(m, h)| Some((m.clone(), h.cooling_until?.checked_duration_since(now)?)))
            .collect();
        list.sort();
        list
    }

    /// Every model with a failure streak, for the health resource: how many attempts in a row
    /// failed and how long its cooldown has left (`None` once it ended or before it started).
    pub fn snapshot(&self) -> CooldownSnapshot {
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let mut states: Vec<ModelState> = models
            .iter()
            .map(|(model, health)| ModelState {
                model: model.clone(),
                failures_in_a_row: health.failures_in_a_row,
                cooling_for: health
                    .cooling_until
                    .and_then(|until| until.checked_duration_since(now))
                    .filter(|left| !left.is_zero()),
            })
            .collect();
        states.sort_by(|a, b| a.model.cmp(&b.model));
        CooldownSnapshot {
            threshold: self.threshold,
            period: self.period,
            models: states,
        }
    }
}

/// What [`Cooldowns::snapshot`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CooldownSnapshot {
    /// Failed attempts in a row that start a cooldown.
    pub threshold: u32,
    pub period: Duration,
    /// Models whose last attempts failed, by id.
    pub models: Vec<ModelState>,
}

/// One model's failure streak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelState {
    pub model: String,
    pub failures_in_a_row: u32,
    /// Time left in its cooldown, if it is cooling down now.
    pub cooling_for: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_after_the_threshold_and_closes_on_success() {
        let cooldowns = Cooldowns::new(3, Duration::from_secs(60));
        cooldowns.record_failure("a/b").await;
        cooldowns.record_failure("a/b").await;
        assert!(cooldowns.remaining("a/b").is_none());
        cooldowns.record_failure("a/b").await;
        assert!(cooldowns.remaining("a/b").is_some());
        assert_eq!(cooldowns.cooling().len(), 1);
        cooldowns.record_success("a/b").await;
        assert!(cooldowns.remaining("a/b").is_none());
    }

    #[tokio::test]
    async fn the_snapshot_shows_streaks_and_cooldowns_and_forgets_a_model_that_answers() {
        let cooldowns = Cooldowns::new(2, Duration::from_secs(60));
        cooldowns.record_failure("b/flaky").await;
        cooldowns.record_failure("a/down").await;
        cooldowns.record_failure("a/down").await;
        let snapshot = cooldowns.snapshot();
        assert_eq!(
            (snapshot.threshold, snapshot.period),
            (2, Duration::from_secs(60))
        );
        let names: Vec<_> = snapshot.models.iter().map(|m| m.model.as_str()).collect();
        assert_eq!(names, ["a/down", "b/flaky"]);
        assert_eq!(snapshot.models[0].failures_in_a_row, 2);
        assert!(
            snapshot.models[0]
                .cooling_for
                .is_some_and(|d| d <= Duration::from_secs(60))
        );
        assert_eq!(snapshot.models[1].cooling_for, None);
        cooldowns.record_success("a/down").await;
        assert_eq!(cooldowns.snapshot().models.len(), 1);
    }

    #[tokio::test]
    async fn expires_after_the_period() {
        let cooldowns = Cooldowns::new(1, Duration::from_millis(1));
        cooldowns.record_failure("a/b").await;
        std::thread::sleep(Duration::from_millis(5));
        assert!(cooldowns.remaining("a/b").is_none());
    }
}
