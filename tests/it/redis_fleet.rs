//! A fleet that behaves as one server: several `http --stateless` replicas sharing one real
//! `redis-server` (`SWITCHBOARD_CACHE=redis://…`). An answer paid on one replica is a hit on the
//! others, identical calls spread over replicas make one upstream request, a budget holds across
//! the fleet, a cooldown started through one replica is honoured by all, and a replica killed
//! mid-call leaves neither a lease nor a reservation counted past its expiry.

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "support/http_server.rs"]
mod http_server;

use crate::support::FakeOpenRouter;
use crate::support::fake::{CHAT, sse_answer};
use crate::support::redis::RedisServer;
use futures_util::future::join_all;
use http_server::{HttpServer, McpHttp, start};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const MODEL: &str = "openai/gpt-5-mini";
const FLAKY: &str = "google/gemini-2.5-flash";

/// `n` stateless replicas on `redis`, with `extra` env.
async fn fleet(
    fake: &FakeOpenRouter,
    redis: &RedisServer,
    n: usize,
    extra: &[(&str, &str)],
) -> Vec<HttpServer> {
    let url = redis.url();
    let mut env = vec![("SWITCHBOARD_CACHE", url.as_str())];
    env.extend_from_slice(extra);
    let base = fake.base_url();
    join_all((0..n).map(|_| start(&base, &["--stateless"], &env))).await
}

/// One `tools/call` on `replica`; the `result` object.
async fn call(replica: &HttpServer, tool: &str, arguments: Value) -> Value {
    let mut client = McpHttp::new(replica.url("/mcp"), None);
    client.call(tool, arguments).await
}

fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `MODEL` answers `answer` after `delay`, charging `cost`.
async fn slow_answer(fake: &FakeOpenRouter, answer: &str, cost: f64, delay: Duration) {
    Mock::given(method("POST"))
        .and(path(CHAT))
        .and(body_partial_json(json!({"model": MODEL})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(sse_answer(MODEL, answer, cost), "text/event-stream")
                .set_delay(delay),
        )
        .mount(&fake.server)
        .await;
}

fn ask(prompt: &str) -> Value {
    json!({"model": MODEL, "fallback_models": [], "prompt": prompt})
}

#[tokio::test]
async fn an_answer_paid_on_one_replica_is_a_cache_hit_on_the_others() {
    let redis = RedisServer::start();
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "paid once", 0.003).await;
    let replicas = fleet(&fake, &redis, 3, &[]).await;
    let first = call(&replicas[0], "ask_model", ask("what is shared state")).await;
    assert_eq!(first["structuredContent"]["cached"], false, "{first}");
    for replica in &replicas[1..] {
        let hit = call(replica, "ask_model", ask("what is shared state")).await;
        let out = &hit["structuredContent"];
        assert_eq!(
            (out["cached"].clone(), out["text"].clone()),
            (json!(true), json!("paid once")),
            "{hit}"
        );
        assert_eq!(out["usage"]["cost_usd"], 0.0, "a hit costs nothing");
    }
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "one upstream call for the fleet"
    );
}

#[tokio::test]
async fn identical_concurrent_calls_spread_over_replicas_make_one_upstream_request() {
    let redis = RedisServer::start();
    let fake = FakeOpenRouter::start().await;
    slow_answer(
        &fake,
        "one for the fleet",
        0.002,
        Duration::from_millis(800),
    )
    .await;
    let replicas = fleet(&fake, &redis, 3, &[]).await;
    let calls = (0..12).map(|i| call(&replicas[i % 3], "ask_model", ask("popular question")));
    let results = join_all(calls).await;
    for result in &results {
        assert_eq!(
            result["structuredContent"]["text"], "one for the fleet",
            "{result}"
        );
    }
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "exactly one upstream request"
    );
    let paid = results
        .iter()
        .filter(|r| r["structuredContent"]["cached"] == false)
        .count();
    assert_eq!(paid, 1, "one caller paid, the others got its answer");
}

#[tokio::test]
async fn a_fleet_budget_is_never_overspent_by_concurrent_calls_on_three_replicas() {
    let redis = RedisServer::start();
    let fake = FakeOpenRouter::start().await;
    // gpt-5-mini: $2/1M completion, so max_tokens 10000 is a $0.02 worst case (plus a few
    // prompt tokens): $0.105 admits five at once, not six.
    slow_answer(&fake, "paid", 0.02, Duration::from_millis(1500)).await;
    let budget = [("SWITCHBOARD_BUDGET_USD", "0.105")];
    let replicas = fleet(&fake, &redis, 3, &budget).await;
    let calls = (0..40).map(|i| {
        let arguments = json!({"model": MODEL, "fallback_models": [], "max_tokens": 10000,
                               "prompt": format!("distinct task {i}")});
        call(&replicas[i % 3], "ask_model", arguments)
    });
    let results = join_all(calls).await;
    let answered = results.iter().filter(|r| r["isError"] != true).count();
    assert_eq!(
        answered, 5,
        "five worst cases fit in the fleet's budget, not fifteen"
    );
    for refused in results.iter().filter(|r| r["isError"] == true) {
        let why = text(refused);
        assert!(
            why.starts_with("budget:") && why.contains("$0.105"),
            "{why}"
        );
    }
    assert_eq!(
        fake.chat_requests(None).await.len(),
        5,
        "refused calls sent nothing"
    );
    let store = switchboard::store::Store::redis(
        switchboard::config::RedisUrl::parse(&redis.url()).unwrap(),
    );
    let spend = store.spend(0).await.expect("the ledger in Redis reads");
    assert_eq!(spend.reserved, 0.0, "every call settled");
    assert!(spend.settled <= 0.105 + 1e-12, "the fleet spent {spend:?}");
    assert!(
        (spend.settled - 0.1).abs() < 1e-9,
        "five answers at $0.02: {spend:?}"
    );
}

#[tokio::test]
async fn a_model_cooled_down_through_one_replica_is_skipped_by_the_others() {
    let redis = RedisServer::start();
    let fake = FakeOpenRouter::start().await;
    fake.fail(FLAKY, 503, "Provider returned error").await;
    fake.answer(MODEL, "from the fallback", 0.001).await;
    let retries = [("SWITCHBOARD_MAX_RETRIES", "2")];
    let replicas = fleet(&fake, &redis, 3, &retries).await;
    let chain =
        |prompt: &str| json!({"model": FLAKY, "fallback_models": [MODEL], "prompt": prompt});
    // Three failed attempts in a row (one call and its two retries) start the cooldown.
    let first = call(&replicas[0], "ask_model", chain("first")).await;
    assert_eq!(first["structuredContent"]["model"], MODEL, "{first}");
    let tried = fake.chat_requests(Some(FLAKY)).await.len();
    assert_eq!(tried, 3);
    for (i, replica) in replicas[1..].iter().enumerate() {
        let out = call(replica, "ask_model", chain(&format!("later {i}"))).await;
        let attempts = &out["structuredContent"]["attempts"];
        assert_eq!(attempts[0]["model"], FLAKY, "{out}");
        assert_eq!(attempts[0]["outcome"], "skipped", "{out}");
        assert_eq!(out["structuredContent"]["model"], MODEL);
    }
    assert_eq!(
        fake.chat_requests(Some(FLAKY)).await.len(),
        tried,
        "no other replica asked the cooling model"
    );
}

/// The one pending key under `pattern`, waiting a moment for a replica to write it.
fn keys(redis: &RedisServer, pattern: &str) -> Vec<String> {
    redis::cmd("KEYS")
        .arg(pattern)
        .query(&mut redis.connection())
        .expect("KEYS")
}

#[tokio::test]
async fn a_replica_killed_mid_call_frees_its_lease_and_its_reservation_expires() {
    let redis = RedisServer::start();
    let fake = FakeOpenRouter::start().await;
    // The first request hangs (its replica is killed meanwhile); later ones answer at once.
    Mock::given(method("POST"))
        .and(path(CHAT))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(sse_answer(MODEL, "never seen", 0.01), "text/event-stream")
                .set_delay(Duration::from_secs(30)),
        )
        .up_to_n_times(1)
        .mount(&fake.server)
        .await;
    fake.answer(MODEL, "answered by the survivor", 0.001).await;
    let env = [
        ("SWITCHBOARD_BUDGET_USD", "1"),
        ("SWITCHBOARD_TIMEOUT", "20s"),
    ];
    let mut replicas = fleet(&fake, &redis, 2, &env).await;
    let doomed = replicas.remove(0);
    let survivor = replicas.remove(0);
    let question = ask("a question whose first replica dies");
    let leader = tokio::spawn({
        let url = doomed.url("/mcp");
        let question = question.clone();
        async move { McpHttp::new(url, None).call("ask_model", question).await }
    });
    while fake.chat_requests(None).await.is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let leases = keys(&redis, "switchboard:lease:*");
    assert_eq!(leases.len(), 1, "the leader holds a lease");
    // The survivor's identical call waits for the leader's answer...
    let follower = tokio::spawn({
        let url = survivor.url("/mcp");
        async move { McpHttp::new(url, None).call("ask_model", question).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "the follower waits"
    );
    // ...and the leader's replica dies without a word.
    let status = std::process::Command::new("kill")
        .args(["-KILL", &doomed.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = leader.await;
    let answer = tokio::time::timeout(Duration::from_secs(15), follower)
        .await
        .expect("the follower takes over once the dead leader's lease expires")
        .unwrap();
    assert_eq!(
        answer["structuredContent"]["text"], "answered by the survivor",
        "{answer}"
    );
    assert_eq!(fake.chat_requests(None).await.len(), 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        keys(&redis, "switchboard:lease:*").is_empty(),
        "no lease is left held"
    );

    // The dead replica's reservation: held for the call's timeout plus a minute, then charged
    // at its worst case, never reserved for ever.
    let store = switchboard::store::Store::redis(
        switchboard::config::RedisUrl::parse(&redis.url()).unwrap(),
    );
    let fleet_store = store.shared().unwrap();
    let now = switchboard::store::now_millis();
    let spend = fleet_store.spend(0, now).await.unwrap();
    assert!(
        spend.reserved > 0.0,
        "the dead call still holds its worst case: {spend:?}"
    );
    let after_expiry = now + Duration::from_secs(20 + 60 + 1).as_millis() as i64;
    let later = fleet_store.spend(0, after_expiry).await.unwrap();
    assert_eq!(
        later.reserved, 0.0,
        "nothing stays reserved past the expiry: {later:?}"
    );
    assert!(
        (later.settled - (spend.settled + spend.reserved)).abs() < 1e-9,
        "the dead call's worst case is charged: {later:?}"
    );
    drop(survivor);
}

#[tokio::test]
async fn a_long_answer_stored_by_one_replica_is_read_back_on_another() {
    let redis = RedisServer::start();
    let fake = FakeOpenRouter::start().await;
    let long: String = (0..60)
        .map(|i| format!("{i:04} {}\n", "y".repeat(95)))
        .collect();
    fake.answer(MODEL, &long, 0.001).await;
    let pages = [("SWITCHBOARD_MAX_RESULT_CHARS", "1000")];
    let replicas = fleet(&fake, &redis, 2, &pages).await;
    let first = call(&replicas[0], "ask_model", ask("write at length")).await;
    let out = &first["structuredContent"];
    let id = out["answer_id"]
        .as_str()
        .expect("a long answer has an answer_id");
    let shown = out["text"].as_str().unwrap().chars().count();
    assert!(shown < long.chars().count(), "{first}");
    let mut text = out["text"].as_str().unwrap().to_string();
    let mut offset = Some(shown as u64);
    while let Some(at) = offset {
        let args = json!({"answer_id": id, "offset": at});
        let page = call(&replicas[1], "read_answer", args).await;
        assert_ne!(page["isError"], true, "{page}");
        text += page["structuredContent"]["text"].as_str().unwrap();
        offset = page["structuredContent"]["next_offset"].as_u64();
    }
    assert_eq!(text.len(), long.len(), "{first}");
    assert_eq!(
        text, long,
        "the other replica reads the stored answer from Redis"
    );
    assert_eq!(fake.chat_requests(None).await.len(), 1);
}

#[tokio::test]
async fn a_conversation_started_on_one_replica_continues_on_another() {
    let redis = RedisServer::start();
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "Paris is the capital.", 0.001).await;
    let replicas = fleet(&fake, &redis, 2, &[]).await;
    let first = call(
        &replicas[0],
        "ask_model",
        ask("What is the capital of France?"),
    )
    .await;
    let id = first["structuredContent"]["conversation_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a conversation id: {first}"))
        .to_string();
    let mut next = ask("How many people live there?");
    next["conversation_id"] = json!(id);
    let second = call(&replicas[1], "ask_model", next).await;
    assert_ne!(
        second["isError"], true,
        "replica B knows A's conversation: {second}"
    );
    assert_eq!(second["structuredContent"]["conversation_id"], id.as_str());
    let sent = fake.chat_requests(None).await;
    let messages = sent[1]["messages"].to_string();
    assert!(
        messages.contains("What is the capital of France?")
            && messages.contains("Paris is the capital."),
        "the second turn carries the first: {messages}"
    );
}
