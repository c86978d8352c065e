//! The spend budget (`SWITCHBOARD_BUDGET_USD` per `SWITCHBOARD_BUDGET_PERIOD`): reserve a call's
//! worst case before anything is sent, settle to the real cost after, record every answer.

mod charge;

pub use charge::{Charge, CostSource};

use crate::pricing;
use crate::store::{Spend, Store, StoreError};
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

    /// When the period containing `now` began, in ms since the epoch.
    pub fn start(self, now: SystemTime) -> i64 {
        let days = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 86_400) as i64;
        let start_day = match self {
            Period::Day => days,
            Period::Month => {
                let (year, month, _) = civil_from_days(days);
                days_from_civil(year, month, 1)
            }
            Period::Total => return 0,
        };
        start_day * 86_400_000
    }
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
            Some(id) => {
                let (store, model) = (self.store.clone(), model.to_string());
                tokio::task::spawn_blocking(move || store.settle_blocking(id, &model, cost, source))
                    .await
                    .unwrap_or_else(|e| Err(StoreError::Task(e.to_string())))
            }
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
                runtime.spawn_blocking(move || {
                    store.settle_blocking(id, "(cancelled)", worst, unknown)
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
    fn civil_dates_round_trip() {
        for days in [-1, 0, 59, 60, 365, 11_016, 20_000, 20_782] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
