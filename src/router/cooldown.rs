//! Per-model cooldown (a circuit breaker): after `threshold` failed attempts in a row a model is
//! skipped by later calls for `period`, then tried again. One success closes it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Debug)]
pub struct Cooldowns {
    threshold: u32,
    period: Duration,
    models: Mutex<HashMap<String, Health>>,
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

    pub fn record_success(&self, model: &str) {
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        if models
            .remove(model)
            .is_some_and(|h| h.cooling_until.is_some())
        {
            tracing::info!(model, "model answered again; cooldown cleared");
        }
    }

    /// Counts a failed attempt; the `threshold`-th in a row (and every one after, while the model
    /// keeps failing) starts a cooldown.
    pub fn record_failure(&self, model: &str) {
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        let health = models.entry(model.to_string()).or_default();
        health.failures_in_a_row += 1;
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

    #[test]
    fn opens_after_the_threshold_and_closes_on_success() {
        let cooldowns = Cooldowns::new(3, Duration::from_secs(60));
        cooldowns.record_failure("a/b");
        cooldowns.record_failure("a/b");
        assert!(cooldowns.remaining("a/b").is_none());
        cooldowns.record_failure("a/b");
        assert!(cooldowns.remaining("a/b").is_some());
        assert_eq!(cooldowns.cooling().len(), 1);
        cooldowns.record_success("a/b");
        assert!(cooldowns.remaining("a/b").is_none());
    }

    #[test]
    fn the_snapshot_shows_streaks_and_cooldowns_and_forgets_a_model_that_answers() {
        let cooldowns = Cooldowns::new(2, Duration::from_secs(60));
        cooldowns.record_failure("b/flaky");
        cooldowns.record_failure("a/down");
        cooldowns.record_failure("a/down");
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
        cooldowns.record_success("a/down");
        assert_eq!(cooldowns.snapshot().models.len(), 1);
    }

    #[test]
    fn expires_after_the_period() {
        let cooldowns = Cooldowns::new(1, Duration::from_millis(1));
        cooldowns.record_failure("a/b");
        std::thread::sleep(Duration::from_millis(5));
        assert!(cooldowns.remaining("a/b").is_none());
    }
}
