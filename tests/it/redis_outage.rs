//! Redis stopped under a running fleet: calls without a budget keep answering (without the
//! cache), calls with a budget are refused with a message that names the unreachable Redis (and
//! no password), nothing hangs past `SWITCHBOARD_TIMEOUT`; Redis back, the same replicas use it
//! again by themselves. `check` reports Redis reachability and latency; `/metrics` its health.

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "support/http_server.rs"]
mod http_server;

use crate::support::FakeOpenRouter;
use crate::support::redis::RedisServer;
use http_server::{HttpServer, McpHttp, start};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MODEL: &str = "openai/gpt-5-mini";
/// The Redis password, which no output or log may show.
const PASSWORD: &str = "hunter2-redis-pw";
/// The promise under test: no call outlives the call deadline.
const TIMEOUT_S: u64 = 10;

async fn call(replica: &HttpServer, prompt: &str) -> (Value, Duration) {
    let started = Instant::now();
    let arguments = json!({"model": MODEL, "fallback_models": [], "prompt": prompt});
    let result = McpHttp::new(replica.url("/mcp"), None)
        .call("ask_model", arguments)
        .await;
    (result, started.elapsed())
}

fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn answer_keys(redis: &RedisServer) -> usize {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("switchboard:answer:*")
        .query(&mut redis.connection())
        .expect("KEYS");
    keys.len()
}

#[tokio::test]
async fn calls_survive_a_redis_outage_and_the_replicas_use_it_again_when_it_returns() {
    let mut redis = RedisServer::start_with_password(PASSWORD);
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "still here", 0.001).await;
    let url = redis.url();
    let timeout = format!("{TIMEOUT_S}s");
    let base = [
        ("SWITCHBOARD_CACHE", url.as_str()),
        ("SWITCHBOARD_TIMEOUT", timeout.as_str()),
    ];
    let free = start(&fake.base_url(), &["--stateless"], &base).await;
    let mut budgeted_env = base.to_vec();
    budgeted_env.push(("SWITCHBOARD_BUDGET_USD", "5"));
    let budgeted = start(&fake.base_url(), &["--stateless"], &budgeted_env).await;
    let (before, _) = call(&budgeted, "before the outage").await;
    assert_ne!(before["isError"], true, "{before}");

    redis.stop();
    for i in 0..3 {
        let (answered, took) = call(&free, &format!("during the outage {i}")).await;
        assert_ne!(answered["isError"], true, "{answered}");
        assert_eq!(answered["structuredContent"]["text"], "still here");
        assert!(took < Duration::from_secs(TIMEOUT_S), "took {took:?}");
        let (refused, took) = call(&budgeted, &format!("budgeted during the outage {i}")).await;
        assert_eq!(refused["isError"], true, "{refused}");
        let why = text(&refused);
        let port = redis.port;
        assert!(
            why.contains(&format!("Redis at 127.0.0.1:{port} cannot be reached")),
            "{why}"
        );
        assert!(why.contains("nothing was sent"), "{why}");
        assert!(!why.contains("hunter2"), "{why}");
        assert!(took < Duration::from_secs(TIMEOUT_S), "took {took:?}");
    }
    for replica in [&free, &budgeted] {
        let logs = replica.stderr();
        assert!(
            !logs.contains("hunter2"),
            "a log line shows the Redis password"
        );
        let metrics = replica.metrics().await;
        assert!(
            metrics
                .contains("switchboard_store_commands_total{backend=\"redis\",result=\"error\"}"),
            "{metrics}"
        );
        assert!(!metrics.contains("hunter2"));
    }

    redis.restart();
    // A replica that just found no Redis refuses at once for 300 ms rather than wait again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (admitted, _) = call(&budgeted, "after the outage").await;
    assert_ne!(
        admitted["isError"], true,
        "the budgeted replica uses Redis again by itself: {admitted}"
    );
    let (again, _) = call(&free, "cached again after the outage").await;
    assert_ne!(again["isError"], true, "{again}");
    assert_eq!(
        answer_keys(&redis),
        2,
        "both replicas store answers in Redis again"
    );
}

#[tokio::test]
async fn check_reports_redis_reachability_and_latency() {
    let mut redis = RedisServer::start_with_password(PASSWORD);
    let fake = FakeOpenRouter::start().await;
    let url = redis.url();
    let check = || {
        let dir = tempfile::tempdir().unwrap();
        let mut command = std::process::Command::new(crate::support::mcp::BIN);
        command.arg("check").env_clear();
        for (key, value) in crate::support::mcp::env_for(&fake.base_url(), dir.path()) {
            command.env(key, value);
        }
        let output = command.env("SWITCHBOARD_CACHE", &url).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        (stdout, stderr)
    };
    let (up, logs) = check();
    let port = redis.port;
    let line = up
        .lines()
        .find(|l| l.get(5..).is_some_and(|l| l.starts_with("store:")))
        .unwrap_or_else(|| panic!("no store line in {up}"));
    assert!(
        line.starts_with("ok")
            && line.contains(&format!("Redis at redis://127.0.0.1:{port}/0 is reachable")),
        "{line}"
    );
    assert!(
        line.contains("answers PING in") && line.contains(" ms"),
        "{line}"
    );
    redis.stop();
    let (down, more_logs) = check();
    let line = down
        .lines()
        .find(|l| l.get(5..).is_some_and(|l| l.starts_with("store:")))
        .unwrap();
    assert!(
        line.starts_with("FAIL") && line.contains("cannot be reached"),
        "{line}"
    );
    for text in [up, logs, down, more_logs] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[tokio::test]
async fn a_hung_redis_delays_no_call_past_the_timeout_and_refuses_budgeted_ones() {
    let redis = RedisServer::start();
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "answered without the cache", 0.001)
        .await;
    let url = redis.url();
    let env = [
        ("SWITCHBOARD_CACHE", url.as_str()),
        ("SWITCHBOARD_TIMEOUT", "5s"),
    ];
    let free = start(&fake.base_url(), &["--stateless"], &env).await;
    let mut budgeted_env = env.to_vec();
    budgeted_env.push(("SWITCHBOARD_BUDGET_USD", "5"));
    let budgeted = start(&fake.base_url(), &["--stateless"], &budgeted_env).await;
    let (warm, _) = call(&free, "while Redis answers").await;
    assert_ne!(warm["isError"], true, "{warm}");

    redis.pause();
    let (answered, took) = call(&free, "while Redis hangs").await;
    let (refused, refused_took) = call(&budgeted, "budgeted while Redis hangs").await;
    redis.resume();
    assert_eq!(
        answered["structuredContent"]["text"], "answered without the cache",
        "{answered}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(text(&refused).contains("cannot be reached"), "{refused}");
    assert!(
        refused_took < Duration::from_secs(5),
        "took {refused_took:?}"
    );
}
