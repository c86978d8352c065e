//! One set of store tests, run on both backends (the SQLite file and a real `redis-server`): the
//! ledger's reservations, settling, expiry of an unsettled hold into a worst-case charge and its
//! reports; records and cached answers with their TTLs. What holds for a laptop holds for a fleet.

use crate::support::redis::RedisServer;
use std::time::Duration;
use switchboard::config::RedisUrl;
use switchboard::store::{Kind, LedgerRow, Spend, Store};

/// Runs `check` on a fresh SQLite store and on a fresh Redis store.
async fn on_both<F, Fut>(check: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    check(Store::new(dir.path().join("switchboard.db"))).await;
    let redis = RedisServer::start();
    check(Store::redis(RedisUrl::parse(&redis.url()).unwrap())).await;
}

fn row(model: &str, source: &str, calls: u64, cost_usd: f64) -> LedgerRow {
    LedgerRow {
        model: model.into(),
        cost_source: source.into(),
        calls,
        cost_usd,
    }
}

#[tokio::test]
async fn reservations_refuse_past_the_limit_and_settle_to_real_costs_on_both_backends() {
    on_both(|store| async move {
        let hold = Duration::from_secs(60);
        let first = store
            .reserve("a/b".into(), 0.6, 0, 1.0, hold)
            .await
            .unwrap()
            .unwrap();
        let refused = store
            .reserve("a/b".into(), 0.6, 0, 1.0, hold)
            .await
            .unwrap();
        assert_eq!(
            refused,
            Err(Spend {
                settled: 0.0,
                reserved: 0.6
            }),
            "{store:?}"
        );
        store
            .settle(first, "a/b".into(), 0.25, "catalog")
            .await
            .unwrap();
        let second = store
            .reserve("a/b".into(), 0.6, 0, 1.0, hold)
            .await
            .unwrap();
        assert!(second.is_ok(), "{store:?}");
        store.record("c/d".into(), 0.5, "upstream").await.unwrap();
        let exact = store
            .reserve("e/f".into(), 0.0, 0, 1.35, hold)
            .await
            .unwrap();
        assert!(exact.is_ok(), "exactly at the limit still fits: {store:?}");
        assert_eq!(
            store.spend(0).await.unwrap(),
            Spend {
                settled: 0.75,
                reserved: 0.6
            }
        );
        assert_eq!(
            store.ledger(0).await.unwrap(),
            [
                row("c/d", "upstream", 1, 0.5),
                row("a/b", "catalog", 1, 0.25)
            ],
            "{store:?}"
        );
        let today = switchboard::store::now_millis() / 86_400_000;
        let by_day = store.ledger_by_day(0).await.unwrap();
        let days: Vec<i64> = by_day.iter().map(|(day, _)| *day).collect();
        assert_eq!(days, [today, today]);
        assert_eq!(by_day[0].1, row("c/d", "upstream", 1, 0.5));
    })
    .await;
}

#[tokio::test]
async fn an_unsettled_reservation_becomes_a_charge_of_its_worst_case_on_both_backends() {
    on_both(|store| async move {
        let short = Duration::from_millis(1);
        store
            .reserve("a/b".into(), 0.9, 0, 1.0, short)
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
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
        assert!(
            refused.is_err(),
            "the unsettled call still counts: {store:?}"
        );
        assert_eq!(
            store.ledger(0).await.unwrap(),
            [row("a/b", "unknown", 1, 0.9)]
        );
        store.record("a/b".into(), -5.0, "upstream").await.unwrap();
        assert_eq!(
            store.spend(0).await.unwrap().settled,
            0.9,
            "no amount credits the ledger"
        );
    })
    .await;
}

#[tokio::test]
async fn records_and_cached_answers_expire_and_kinds_do_not_mix_on_both_backends() {
    on_both(|store| async move {
        let day = Duration::from_secs(86_400);
        store
            .put_record(Kind::Answer, "a1".into(), "{\"x\":1}".into(), day)
            .await
            .unwrap();
        let got = store.get_record(Kind::Answer, "a1".into()).await.unwrap();
        assert_eq!(got.as_deref(), Some("{\"x\":1}"));
        let other = store
            .get_record(Kind::Conversation, "a1".into())
            .await
            .unwrap();
        assert_eq!(other, None, "another kind's id is not this one");
        store
            .put_record(Kind::Answer, "old".into(), "{}".into(), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            store.get_record(Kind::Answer, "old".into()).await.unwrap(),
            None
        );
        store
            .put_response("k".into(), "a/b".into(), "{\"text\":\"t\"}".into(), day)
            .await
            .unwrap();
        let (model, body, _) = store.get_response("k".into()).await.unwrap().unwrap();
        assert_eq!((model.as_str(), body.as_str()), ("a/b", "{\"text\":\"t\"}"));
        store
            .put_response(
                "gone".into(),
                "a/b".into(),
                "{}".into(),
                Duration::from_millis(1),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(store.get_response("gone".into()).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_redis_is_a_distinct_error_naming_host_and_port_only() {
    let mut redis = RedisServer::start_with_password("hunter2-store");
    let store = Store::redis(RedisUrl::parse(&redis.url()).unwrap());
    assert!(store.probe().await.unwrap().starts_with("answers PING in"));
    redis.stop();
    let error = store.spend(0).await.unwrap_err();
    assert!(
        matches!(error, switchboard::store::StoreError::Unreachable { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    let port = redis.port;
    assert!(
        text.starts_with(&format!("Redis at 127.0.0.1:{port} cannot be reached")),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !format!("{store:?}").contains("hunter2"),
        "{text}"
    );
}
