//! The `switchboard://usage` resource: this server's spend ledger for the last 31 UTC days, by
//! day and model, with this budget period's spend, reservations and what is left (USD).

use super::health;
use super::resources::to_json;
use crate::App;
use crate::pricing;
use crate::store::LedgerRow;
use serde::Serialize;
use std::time::{Duration, UNIX_EPOCH};

/// How many UTC days the resource covers, today included.
const USAGE_DAYS: i64 = 31;
const DAY_MS: i64 = 86_400_000;

#[derive(Serialize)]
struct UsageBody {
    period: &'static str,
    limit_usd: Option<f64>,
    /// Settled costs this period, plus the worst case of calls that never settled.
    spent_usd: f64,
    /// Worst cases held by calls in flight.
    reserved_usd: f64,
    left_usd: Option<f64>,
    /// Newest first.
    days: Vec<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger_error: Option<String>,
}

#[derive(Serialize)]
struct Day {
    /// UTC, YYYY-MM-DD.
    day: String,
    calls: u64,
    cost_usd: f64,
    models: Vec<LedgerRowOut>,
}

#[derive(Serialize)]
struct LedgerRowOut {
    model: String,
    calls: u64,
    cost_usd: f64,
}

/// The resource's JSON.
pub async fn body(app: &App) -> String {
    let limit = app.budget.limit();
    let today = crate::store::now_millis().div_euclid(DAY_MS);
    let since = (today - (USAGE_DAYS - 1)) * DAY_MS;
    let read = async {
        let spend = app.budget.spend().await?;
        let rows = app.budget.store().ledger_by_day(since).await?;
        Ok::<_, crate::store::StoreError>((spend, rows))
    };
    let (spend, rows, ledger_error) = match read.await {
        Ok((spend, rows)) => (spend, rows, None),
        Err(error) => (
            Default::default(),
            Vec::new(),
            Some(health::store_problem(app, &error)),
        ),
    };
    to_json(&UsageBody {
        period: app.budget.period().as_str(),
        limit_usd: limit,
        spent_usd: spend.settled,
        reserved_usd: spend.reserved,
        left_usd: limit.map(|l| pricing::usd((l - spend.total()).max(0.0))),
        days: days(rows),
        ledger_error,
    })
}

/// Groups `(day, row)` pairs (newest day first) into days.
fn days(rows: Vec<(i64, LedgerRow)>) -> Vec<Day> {
    let mut days: Vec<(i64, Day)> = Vec::new();
    for (day, row) in rows {
        if days.last().is_none_or(|(last, _)| *last != day) {
            days.push((
                day,
                Day {
                    day: date(day),
                    calls: 0,
                    cost_usd: 0.0,
                    models: Vec::new(),
                },
            ));
        }
        if let Some((_, entry)) = days.last_mut() {
            entry.calls += row.calls;
            entry.cost_usd = pricing::usd(entry.cost_usd + row.cost_usd);
            entry.models.push(LedgerRowOut {
                model: row.model,
                calls: row.calls,
                cost_usd: row.cost_usd,
            });
        }
    }
    days.into_iter().map(|(_, day)| day).collect()
}

/// `YYYY-MM-DD` of a day count since the epoch.
fn date(day: i64) -> String {
    let secs = u64::try_from(day.max(0))
        .unwrap_or(0)
        .saturating_mul(86_400);
    let at = UNIX_EPOCH + Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(at).to_string()[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_group_rows_and_sum_them_exactly() {
        let row = |model: &str, calls, cost_usd| LedgerRow {
            model: model.into(),
            cost_source: "upstream".into(),
            calls,
            cost_usd,
        };
        let grouped = days(vec![
            (20_424, row("a/b", 2, 0.1)),
            (20_424, row("c/d", 1, 0.2)),
            (20_423, row("a/b", 1, 0.3)),
        ]);
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].day, "2025-12-02");
        assert_eq!((grouped[0].calls, grouped[0].cost_usd), (3, 0.3));
        assert_eq!(grouped[1].day, "2025-12-01");
        assert_eq!(grouped[1].models.len(), 1);
    }
}
