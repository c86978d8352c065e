//! The spend budget (`SWITCHBOARD_BUDGET_USD` per `SWITCHBOARD_BUDGET_PERIOD`): reserve a call's
//! worst case before anything is sent, settle to the real cost after, record every answer.

mod charge;

pub use charge::{Charge, CostSource};

use crate::pricing;
use crate::store::{Spend, Store, StoreError};
use chrono::{DateTime, Datelike, NaiveTime};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The span a budget covers, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    #[default]
    Day,
    Month,
    Total,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
            Period::Total => "total",
        }
    }

    /// When the period containing `now` began, in ms since the epoch (UTC calendar: `chrono`).
    pub fn start(self, now: SystemTime) -> i64 {
        let seconds = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let Some(today) = DateTime::from_timestamp(seconds, 0).map(|t| t.date_naive()) else {
            return 0;
        };
        let first = match self {
            Period::Day => today,
            Period::Month => today.with_day(1).unwrap_or(today),
            Period::Total => return 0,
        };
        first.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
    }
}

#[derive(Debug, Clone)]
pub struct Budget {
    store: Store,
    limit: Option<f64>,
    period: Period,
    /// How long a reservation counts as reserved; one never settled by then (its process died)
    /// counts as a charge of its worst case from then on.
    hold: Duration,
}

/// Why a call was not admitted.
#[derive(Debug)]
pub enum Refusal {
    /// The worst case does not fit in what is left of the budget.
    OverBudget {
        limit: f64,
        spend: Spend,
    },
    Store(StoreError),
}

impl Budget {
    pub fn new(store: Store, limit: Option<f64>, period: Period, hold: Duration) -> Self {
        Self {
            store,
            limit,
            period,
            hold,
        }
    }

    pub fn limit(&self) -> Option<f64> {
        self.limit
    }

    pub fn period(&self) -> Period {
        self.period
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Admits a call whose worst case is `worst` USD: with a budget, reserves it; without one,
    /// only prepares to record the real cost.
    pub async fn admit(&self, model: &str, worst: f64) -> Result<Admission, Refusal> {
        let Some(limit) = self.limit else {
            return Ok(Admission {
                store: self.store.clone(),
                reservation: None,
                worst,
                done: false,
            });
        };
        let since = self.period.start(SystemTime::now());
        match self
            .store
            .reserve(model.to_string(), worst, since, limit, self.hold)
            .await
        {
            Ok(Ok(id)) => Ok(Admission {
                store: self.store.clone(),
                reservation: Some(id),
                worst,
                done: false,
            }),
            Ok(Err(spend)) => Err(Refusal::OverBudget { limit, spend }),
            Err(error) => Err(Refusal::Store(error)),
        }
    }

    /// Spend in the current period.
    pub async fn spend(&self) -> Result<Spend, StoreError> {
        self.store.spend(self.period.start(SystemTime::now())).await
    }
}

/// A call let through. Settle it with the real cost; one dropped unsettled (the call was
/// cancelled midway) is charged its worst case, since upstream may have billed part of it.
#[derive(Debug)]
pub struct Admission {
    store: Store,
    reservation: Option<i64>,
    worst: f64,
    done: bool,
}

impl Admission {
    /// Records what the call really cost (0 when it failed or was served from the cache) and
    /// where that figure came from. Returns a warning for the caller's output when the ledger
    /// could not record it.
    pub async fn settle(mut self, model: &str, cost: f64, source: CostSource) -> Option<String> {
        self.done = true;
        let source = source.as_str();
        let result = match self.reservation {
            Some(id) => self.store.settle(id, model.to_string(), cost, source).await,
            None if cost > 0.0 => self.store.record(model.to_string(), cost, source).await,
            None => Ok(()),
        };
        let error = result.err()?;
        tracing::error!(%error, model, cost, "could not record spend in the ledger");
        let cost = pricing::usd(cost);
        Some(match self.reservation {
            Some(_) => format!(
                "the spend ledger could not record this call's cost ${cost} ({error}); its worst case ${} stays charged to the budget",
                pricing::usd(self.worst)
            ),
            None => format!(
                "the spend ledger could not record this call's cost ${cost} ({error}); account_status will not show it"
            ),
        })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(id) = self.reservation {
            let (store, worst) = (self.store.clone(), self.worst);
            tracing::warn!(
                worst,
                "call ended before settling; charging its worst case to the budget"
            );
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let unknown = CostSource::Unknown.as_str();
                runtime.spawn(async move {
                    store.settle(id, "(cancelled)".into(), worst, unknown).await
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn periods_start_at_utc_boundaries() {
        let now = at("2026-11-25T10:40:00Z");
        assert_eq!(
            Period::Day.start(now),
            at("2026-11-25T00:00:00Z")
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64
        );
        assert_eq!(
            Period::Month.start(now),
            at("2026-11-01T00:00:00Z")
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64
        );
        let leap = at("2024-02-29T23:59:59Z");
        assert_eq!(
            Period::Month.start(leap),
            at("2024-02-01T00:00:00Z")
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64
        );
        assert_eq!(Period::Total.start(now), 0);
    }

    #[test]
    fn month_starts_are_the_first_at_midnight_across_years_and_leap_days() {
        let cases = [
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
            ("2000-02-29T12:00:00Z", "2000-02-01T00:00:00Z"),
            ("2025-12-31T23:59:59Z", "2025-12-01T00:00:00Z"),
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            ("2026-03-01T00:00:01Z", "2026-03-01T00:00:00Z"),
        ];
        let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        for (now, first) in cases {
            assert_eq!(Period::Month.start(at(now)), ms(at(first)), "{now}");
        }
        assert_eq!(Period::Day.start(UNIX_EPOCH), 0);
    }
}
