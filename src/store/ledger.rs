//! The spend ledger: every answer's real cost, per model, with a timestamp. A budgeted call first
//! reserves its worst case inside one write transaction (so concurrent calls, even from other
//! processes, cannot jointly overspend), then settles to the real cost.
//!
//! A reservation never silently disappears. Until its hold ends (the call's deadline plus a
//! grace) it counts as reserved; after that it counts as a charge of its worst case, because a
//! call that never settled (its process was killed, or the host quit mid-call) may well have been
//! billed upstream, and nothing else will ever report what it cost. Its process may still settle it
//! late, to the real cost. Amounts are stored rounded to [`pricing::USD_DECIMALS`] places and never
//! negative, so no report can credit the budget. Each row says where its cost came from
//! (`cost_source`: `upstream`, `catalog` or `unknown`, the last for a worst case charged).

use super::{Store, StoreError, now_millis};
use crate::pricing;
use rusqlite::{Connection, TransactionBehavior, params};
use std::time::Duration;

/// What the ledger holds for a period, in USD.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    /// Real costs of finished calls, and the worst cases of calls that never settled.
    pub settled: f64,
    /// Worst cases held by calls still running.
    pub reserved: f64,
}

impl Spend {
    /// Settled and reserved together, rounded.
    pub fn total(&self) -> f64 {
        pricing::usd(self.settled + self.reserved)
    }
}

/// One model's spend in a period, for one source of its costs.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub model: String,
    /// `upstream`, `catalog` or `unknown` (a worst case charged, also for a reservation never
    /// settled and rows older than this column).
    pub cost_source: String,
    pub calls: u64,
    pub cost_usd: f64,
}

/// Adds the `cost_source` column to a ledger written by an older version (a new file has it).
/// One write transaction checks and adds it, so two processes opening the file at once agree.
pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let has_column = |c: &Connection| -> Result<bool, StoreError> {
        let mut query =
            c.prepare("SELECT 1 FROM pragma_table_info('ledger') WHERE name = 'cost_source'")?;
        Ok(query.exists([])?)
    };
    if has_column(connection)? {
        return Ok(());
    }
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !has_column(&transaction)? {
        transaction.execute("ALTER TABLE ledger ADD COLUMN cost_source TEXT", [])?;
    }
    transaction.commit()?;
    Ok(())
}

/// An amount as the ledger stores it: finite, never negative, rounded.
fn stored(cost: f64) -> f64 {
    if cost.is_nan() {
        0.0
    } else if cost.is_finite() {
        pricing::usd(cost.max(0.0))
    } else {
        f64::MAX
    }
}

fn spend_since(connection: &Connection, since: i64, now: i64) -> Result<Spend, StoreError> {
    let (settled, reserved): (f64, f64) = connection.query_row(
        "SELECT TOTAL(CASE WHEN reserved_until IS NULL OR reserved_until <= ?2 THEN MAX(cost, 0) END),
                TOTAL(CASE WHEN reserved_until > ?2 THEN MAX(cost, 0) END)
         FROM ledger WHERE at >= ?1",
        params![since, now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Spend {
        settled: pricing::usd(settled),
        reserved: pricing::usd(reserved),
    })
}

impl Store {
    /// Reserves `amount` USD for a call if `settled + reserved + amount <= limit` for the period
    /// starting at `since` (ms). Returns the reservation's id, or the spend that refused it. A
    /// reservation not settled within `hold` counts as a charge of `amount` from then on.
    pub async fn reserve(
        &self,
        model: String,
        amount: f64,
        since: i64,
        limit: f64,
        hold: Duration,
    ) -> Result<Result<i64, Spend>, StoreError> {
        let amount = stored(amount);
        if let Some(redis) = self.shared() {
            let now = now_millis();
            let until = now.saturating_add(i64::try_from(hold.as_millis()).unwrap_or(i64::MAX));
            return redis
                .reserve(&model, amount, since, limit, (now, until))
                .await;
        }
        self.run(move |c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_millis();
            let spend = spend_since(&transaction, since, now)?;
            if pricing::usd(spend.total() + amount) > pricing::usd(limit) {
                return Ok(Err(spend));
            }
            let until = now.saturating_add(i64::try_from(hold.as_millis()).unwrap_or(i64::MAX));
            transaction.execute(
                "INSERT INTO ledger (at, model, cost, reserved_until) VALUES (?1, ?2, ?3, ?4)",
                params![now, model, amount, until],
            )?;
            let id = transaction.last_insert_rowid();
            transaction.commit()?;
            Ok(Ok(id))
        })
        .await
    }

    /// Turns reservation `id` into the real cost of the call (0 when nothing was paid), with
    /// where that cost came from (`source`).
    pub async fn settle(
        &self,
        id: i64,
        model: String,
        cost: f64,
        source: &'static str,
    ) -> Result<(), StoreError> {
        if let Some(redis) = self.shared() {
            return redis.settle(id, &model, stored(cost), source).await;
        }
        self.run(move |c| {
            c.execute(
                "UPDATE ledger SET cost = ?2, model = ?3, cost_source = ?4, reserved_until = NULL WHERE id = ?1",
                params![id, stored(cost), model, source],
            )?;
            Ok(())
        })
        .await
    }

    /// Records the cost of a call that held no reservation.
    pub async fn record(&self, model: String, cost: f64, source: &str) -> Result<(), StoreError> {
        if let Some(redis) = self.shared() {
            return redis
                .record(&model, stored(cost), source, now_millis())
                .await;
        }
        let source = source.to_string();
        self.run(move |c| {
            c.execute(
                "INSERT INTO ledger (at, model, cost, reserved_until, cost_source) VALUES (?1, ?2, ?3, NULL, ?4)",
                params![now_millis(), model, stored(cost), source],
            )?;
            Ok(())
        })
        .await
    }

    /// Settled and reserved spend since `since` (ms).
    pub async fn spend(&self, since: i64) -> Result<Spend, StoreError> {
        if let Some(redis) = self.shared() {
            return redis.spend(since, now_millis()).await;
        }
        self.run(move |c| spend_since(c, since, now_millis())).await
    }

    /// Settled spend since `since` (ms), per model and cost source, costliest first; a
    /// reservation past its hold counts as settled at its worst case (`unknown`).
    pub async fn ledger(&self, since: i64) -> Result<Vec<LedgerRow>, StoreError> {
        if let Some(redis) = self.shared() {
            return redis.ledger(since, now_millis()).await;
        }
        self.run(move |c| {
            let mut statement = c.prepare(
                "SELECT model, COALESCE(CASE WHEN reserved_until IS NULL THEN cost_source END, 'unknown') AS source,
                        COUNT(*), TOTAL(MAX(cost, 0)) AS spent FROM ledger
                 WHERE at >= ?1 AND (reserved_until IS NULL OR reserved_until <= ?2)
                 GROUP BY model, source ORDER BY spent DESC, model, source",
            )?;
            let rows = statement.query_map(params![since, now_millis()], |r| {
                Ok(LedgerRow {
                    model: r.get(0)?,
                    cost_source: r.get(1)?,
                    calls: r.get::<_, i64>(2)? as u64,
                    cost_usd: pricing::usd(r.get(3)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Settled spend since `since` (ms), per UTC day (days since the epoch) and model: newest
    /// day first, costliest model first within a day. Counted as [`Store::ledger`] counts; the
    /// row's `cost_source` is the least certain of its calls' (`unknown`, then `catalog`).
    pub async fn ledger_by_day(&self, since: i64) -> Result<Vec<(i64, LedgerRow)>, StoreError> {
        if let Some(redis) = self.shared() {
            return redis.ledger_by_day(since, now_millis()).await;
        }
        self.run(move |c| {
            let mut statement = c.prepare(
                "SELECT at / 86400000 AS day, model, COUNT(*), TOTAL(MAX(cost, 0)) AS spent,
                        CASE MAX(CASE COALESCE(CASE WHEN reserved_until IS NULL THEN cost_source END, 'unknown')
                                 WHEN 'unknown' THEN 2 WHEN 'catalog' THEN 1 ELSE 0 END)
                             WHEN 2 THEN 'unknown' WHEN 1 THEN 'catalog' ELSE 'upstream' END AS source
                 FROM ledger
                 WHERE at >= ?1 AND (reserved_until IS NULL OR reserved_until <= ?2)
                 GROUP BY day, model ORDER BY day DESC, spent DESC, model",
            )?;
            let rows = statement.query_map(params![since, now_millis()], |r| {
                let row = LedgerRow {
                    model: r.get(1)?,
                    cost_source: r.get(4)?,
                    calls: r.get::<_, i64>(2)? as u64,
                    cost_usd: pricing::usd(r.get(3)?),
                };
                Ok((r.get::<_, i64>(0)?, row))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_refuse_past_the_limit_and_settle_to_real_costs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("s.db"));
        let hold = Duration::from_secs(60);
        let first = store
            .reserve("a/b".into(), 0.6, 0, 1.0, hold)
            .await
            .unwrap()
            .unwrap();
        let refused = store
            .reserve("a/b".into(), 0.6, 0, 1.0, hold)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            refused,
            Spend {
                settled: 0.0,
                reserved: 0.6
            }
        );
        store
            .settle(first, "a/b".into(), 0.25, "catalog")
            .await
            .unwrap();
        assert!(
            store
                .reserve("a/b".into(), 0.6, 0, 1.0, hold)
                .await
                .unwrap()
                .is_ok()
        );
        store.record("c/d".into(), 0.5, "upstream").await.unwrap();
        let spend = store.spend(0).await.unwrap();
        assert_eq!(
            spend,
            Spend {
                settled: 0.75,
                reserved: 0.6
            }
        );
        let rows = store.ledger(0).await.unwrap();
        assert_eq!(
            rows[0],
            LedgerRow {
                model: "c/d".into(),
                cost_source: "upstream".into(),
                calls: 1,
                cost_usd: 0.5
            }
        );
        assert_eq!(
            rows[1],
            LedgerRow {
                model: "a/b".into(),
                cost_source: "catalog".into(),
                calls: 1,
                cost_usd: 0.25
            }
        );
    }

    #[tokio::test]
    async fn a_reservation_past_its_hold_becomes_a_charge_of_its_worst_case() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("s.db"));
        store
            .reserve("a/b".into(), 0.9, 0, 1.0, Duration::from_millis(1))
            .await
            .unwrap()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            store.spend(0).await.unwrap(),
            Spend {
                settled: 0.9,
                reserved: 0.0
            }
        );
        let refused = store
            .reserve("a/b".into(), 0.2, 0, 1.0, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(refused.is_err(), "the unsettled call still counts");
        let rows = store.ledger(0).await.unwrap();
        assert_eq!(
            (rows[0].cost_usd, rows[0].cost_source.as_str()),
            (0.9, "unknown")
        );
    }

    #[tokio::test]
    async fn a_ledger_from_an_older_version_gains_the_cost_source_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE ledger (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, model TEXT NOT NULL,
                                  cost REAL NOT NULL, reserved_until INTEGER);
             INSERT INTO ledger (at, model, cost) VALUES (1, 'a/b', 0.5);",
        )
        .unwrap();
        drop(old);
        let store = Store::new(path);
        store.record("a/b".into(), 0.25, "catalog").await.unwrap();
        let rows = store.ledger(0).await.unwrap();
        let sources: Vec<(&str, f64)> = rows
            .iter()
            .map(|r| (r.cost_source.as_str(), r.cost_usd))
            .collect();
        assert_eq!(sources, [("unknown", 0.5), ("catalog", 0.25)]);
    }

    #[tokio::test]
    async fn spend_by_day_splits_at_utc_midnight_and_leaves_out_open_reservations() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("s.db"));
        let day = 86_400_000_i64;
        store
            .run_blocking(move |c| {
                for (at, model, cost) in [
                    (3 * day - 1, "a/b", 0.25),
                    (3 * day - 2, "a/b", 0.5),
                    (3 * day, "a/b", 0.125),
                    (3 * day + 5, "c/d", 1.0),
                    (day, "old", 9.0),
                ] {
                    c.execute(
                        "INSERT INTO ledger (at, model, cost) VALUES (?1, ?2, ?3)",
                        params![at, model, cost],
                    )?;
                }
                Ok(())
            })
            .unwrap();
        store
            .reserve("c/d".into(), 0.5, 0, 100.0, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let rows = store.ledger_by_day(2 * day).await.unwrap();
        // Rows written without a cost source (as by a version before the column) count as unknown.
        let row = |model: &str, calls, cost_usd| LedgerRow {
            model: model.into(),
            cost_source: "unknown".into(),
            calls,
            cost_usd,
        };
        // Day 1 is before `since`; the reservation still held is not spend.
        assert_eq!(
            rows,
            [
                (3, row("c/d", 1, 1.0)),
                (3, row("a/b", 1, 0.125)),
                (2, row("a/b", 2, 0.75)),
            ]
        );
    }

    #[tokio::test]
    async fn no_amount_credits_the_ledger_and_sums_carry_no_float_noise() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("s.db"));
        store.record("a/b".into(), -5.0, "upstream").await.unwrap();
        store
            .record("a/b".into(), f64::NAN, "upstream")
            .await
            .unwrap();
        for _ in 0..5 {
            store.record("a/b".into(), 0.002, "upstream").await.unwrap();
        }
        assert_eq!(store.spend(0).await.unwrap().settled, 0.01);
        let reserved = store
            .reserve("a/b".into(), 0.0, 0, 0.01, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(reserved.is_ok(), "exactly at the limit still fits");
        store
            .run_blocking(|c| {
                c.execute(
                    "INSERT INTO ledger (at, model, cost) VALUES (1, 'old', -3)",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        assert_eq!(
            store.spend(0).await.unwrap().settled,
            0.01,
            "a negative row from an older version credits nothing"
        );
    }
}
