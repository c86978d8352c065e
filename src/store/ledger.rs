//! The spend ledger: every answer's real cost, per model, with a timestamp. A budgeted call first
//! reserves its worst case inside one write transaction (so concurrent calls, even from other
//! processes, cannot jointly overspend), then settles to the real cost.

use super::{Store, StoreError, now_millis};
use rusqlite::{Connection, TransactionBehavior, params};
use std::time::Duration;

/// What the ledger holds for a period, in USD.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    /// Real costs of finished calls.
    pub settled: f64,
    /// Worst cases held by calls still running.
    pub reserved: f64,
}

/// One model's spend in a period.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub model: String,
    pub calls: u64,
    pub cost_usd: f64,
}

fn spend_since(connection: &Connection, since: i64, now: i64) -> Result<Spend, StoreError> {
    let (settled, reserved) = connection.query_row(
        "SELECT COALESCE(SUM(CASE WHEN reserved_until IS NULL THEN cost END), 0),
                COALESCE(SUM(CASE WHEN reserved_until > ?2 THEN cost END), 0)
         FROM ledger WHERE at >= ?1",
        params![since, now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Spend { settled, reserved })
}

impl Store {
    /// Reserves `amount` USD for a call if `settled + reserved + amount <= limit` for the period
    /// starting at `since` (ms). Returns the reservation's id, or the spend that refused it. A
    /// reservation not settled within `hold` (a crashed process) stops counting.
    pub async fn reserve(
        &self,
        model: String,
        amount: f64,
        since: i64,
        limit: f64,
        hold: Duration,
    ) -> Result<Result<i64, Spend>, StoreError> {
        self.run(move |c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_millis();
            let spend = spend_since(&transaction, since, now)?;
            if spend.settled + spend.reserved + amount > limit {
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

    /// Turns reservation `id` into the real cost of the call (0 when nothing was paid).
    pub fn settle_blocking(&self, id: i64, model: &str, cost: f64) -> Result<(), StoreError> {
        self.run_blocking(|c| {
            c.execute(
                "UPDATE ledger SET cost = ?2, model = ?3, reserved_until = NULL WHERE id = ?1",
                params![id, cost, model],
            )?;
            Ok(())
        })
    }

    /// Records the cost of a call that held no reservation.
    pub async fn record(&self, model: String, cost: f64) -> Result<(), StoreError> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO ledger (at, model, cost, reserved_until) VALUES (?1, ?2, ?3, NULL)",
                params![now_millis(), model, cost],
            )?;
            Ok(())
        })
        .await
    }

    /// Settled and reserved spend since `since` (ms).
    pub async fn spend(&self, since: i64) -> Result<Spend, StoreError> {
        self.run(move |c| spend_since(c, since, now_millis())).await
    }

    /// Settled spend since `since` (ms), per model, costliest first.
    pub async fn ledger(&self, since: i64) -> Result<Vec<LedgerRow>, StoreError> {
        self.run(move |c| {
            let mut statement = c.prepare(
                "SELECT model, COUNT(*), SUM(cost) FROM ledger
                 WHERE at >= ?1 AND reserved_until IS NULL GROUP BY model ORDER BY SUM(cost) DESC, model",
            )?;
            let rows = statement.query_map(params![since], |r| {
                Ok(LedgerRow { model: r.get(0)?, calls: r.get::<_, i64>(1)? as u64, cost_usd: r.get(2)? })
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
        store.settle_blocking(first, "a/b", 0.25).unwrap();
        assert!(
            store
                .reserve("a/b".into(), 0.6, 0, 1.0, hold)
                .await
                .unwrap()
                .is_ok()
        );
        store.record("c/d".into(), 0.5).await.unwrap();
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
                calls: 1,
                cost_usd: 0.5
            }
        );
        assert_eq!(
            rows[1],
            LedgerRow {
                model: "a/b".into(),
                calls: 1,
                cost_usd: 0.25
            }
        );
    }

    #[tokio::test]
    async fn a_stale_reservation_stops_counting() {
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
                settled: 0.0,
                reserved: 0.0
            }
        );
    }
}
