//! `SWITCHBOARD_CACHE=rediss://:PASSWORD@…` against a real TLS-only `redis-server` whose
//! certificate a throwaway CA signed, trusted through `SSL_CERT_FILE`: replicas share cached
//! answers and the budget ledger over TLS, `check` reports Redis reachable, and the password shows
//! nowhere. A certificate that is not trusted refuses budgeted calls in time, naming the
//! unreachable Redis and the fix, and the client never falls back to plaintext.

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "support/http_server.rs"]
mod http_server;

use crate::support::FakeOpenRouter;
use crate::support::redis::{RedisServer, TestCa};
use http_server::{HttpServer, McpHttp, start};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MODEL: &str = "openai/gpt-5-mini";
/// The Redis password, which no output or log may show.
const PASSWORD: &str = "hunter2-tls-secret";
/// The promise under test: no call outlives the call deadline.
const TIMEOUT_S: u64 = 5;

async fn call(replica: &HttpServer, tool: &str, arguments: Value) -> (Value, Duration) {
    let started = Instant::now();
    let result = McpHttp::new(replica.url("/mcp"), None)
        .call(tool, arguments)
        .await;
    (result, started.elapsed())
}

fn ask(prompt: &str) -> Value {
    json!({"model": MODEL, "fallback_models": [], "prompt": prompt})
}

fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `SWITCHBOARD_CACHE=url`, a budget, a short timeout, and `SSL_CERT_FILE=ca_file`.
fn env(url: &str, ca_file: &str) -> Vec<(String, String)> {
    [
        ("SWITCHBOARD_CACHE", url),
        ("SWITCHBOARD_BUDGET_USD", "5"),
        ("SWITCHBOARD_TIMEOUT", "5s"),
        ("SSL_CERT_FILE", ca_file),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn replica(fake: &FakeOpenRouter, env: &[(String, String)]) -> HttpServer {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    start(&fake.base_url(), &["--stateless"], &pairs).await
}

/// `openrouter-switchboard check` with `env`: (its `store:` line, all it printed).
fn check(fake: &FakeOpenRouter, env: &[(String, String)]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(crate::support::mcp::BIN);
    command.arg("check").env_clear();
    for (key, value) in crate::support::mcp::env_for(&fake.base_url(), dir.path()) {
        command.env(key, value);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let output = command.output().expect("check runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let line = stdout
        .lines()
        .find(|l| l.get(5..).is_some_and(|l| l.starts_with("store:")))
        .unwrap_or_else(|| panic!("no store line in {stdout}"))
        .to_string();
    (line, format!("{stdout}{stderr}"))
}

#[tokio::test]
async fn replicas_on_rediss_share_answers_and_the_ledger_and_never_show_the_password() {
    let redis = RedisServer::start_tls(PASSWORD);
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "answered over TLS", 0.003).await;
    let env = env(&redis.url(), &redis.ca_file().display().to_string());
    let first = replica(&fake, &env).await;
    let second = replica(&fake, &env).await;

    let (paid, _) = call(&first, "ask_model", ask("what does TLS protect")).await;
    assert_eq!(paid["structuredContent"]["cached"], false, "{paid}");
    let (hit, _) = call(&second, "ask_model", ask("what does TLS protect")).await;
    let out = &hit["structuredContent"];
    assert_eq!(
        (out["cached"].clone(), out["text"].clone()),
        (json!(true), json!("answered over TLS")),
        "the other replica reads the answer from Redis over TLS: {hit}"
    );
    assert_eq!(fake.chat_requests(None).await.len(), 1, "one upstream call");
    let answers: Vec<String> = redis::cmd("KEYS")
        .arg("switchboard:answer:*")
        .query(&mut redis.connection())
        .expect("KEYS over TLS");
    assert_eq!(answers.len(), 1, "the answer is kept in the TLS Redis");

    let (status, _) = call(&second, "account_status", json!({})).await;
    let budget = &status["structuredContent"]["budget"];
    assert_eq!(budget["spent_usd"], 0.003, "the fleet ledger: {status}");
    assert_eq!(budget["reserved_usd"], 0.0, "{status}");
    assert_eq!(budget["limit_usd"], 5.0, "{status}");

    let (line, printed) = check(&fake, &env);
    let port = redis.port;
    assert!(
        line.starts_with("ok")
            && line.contains(&format!(
                "Redis at rediss://127.0.0.1:{port}/0 is reachable"
            )),
        "{line}"
    );
    let mut shown: Vec<String> = [&paid, &hit, &status].map(Value::to_string).to_vec();
    shown.push(printed);
    for replica in [&first, &second] {
        shown.push(replica.stderr());
        shown.push(replica.metrics().await);
    }
    for text in shown {
        assert!(!text.contains(PASSWORD), "the Redis password shows: {text}");
    }
}

#[tokio::test]
async fn a_rediss_certificate_that_is_not_trusted_refuses_budgeted_calls_in_time() {
    let redis = RedisServer::start_tls(PASSWORD);
    let stranger = TestCa::generate();
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "never paid", 0.003).await;
    let env = env(&redis.url(), &stranger.ca_file.display().to_string());
    let server = replica(&fake, &env).await;
    let port = redis.port;
    for i in 0..2 {
        let (refused, took) = call(&server, "ask_model", ask(&format!("budgeted {i}"))).await;
        assert_eq!(refused["isError"], true, "{refused}");
        let why = text(&refused);
        assert!(
            why.contains(&format!("Redis at 127.0.0.1:{port} cannot be reached")),
            "{why}"
        );
        assert!(why.contains("nothing was sent"), "{why}");
        assert!(
            why.contains("certificate") && why.contains("SSL_CERT_FILE"),
            "the refusal names the untrusted certificate and the fix: {why}"
        );
        assert!(!why.contains(PASSWORD), "{why}");
        assert!(took < Duration::from_secs(TIMEOUT_S), "took {took:?}");
    }
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "nothing was paid"
    );
    let (line, printed) = check(&fake, &env);
    assert!(
        line.starts_with("FAIL")
            && line.contains("cannot be reached")
            && line.contains("SSL_CERT_FILE"),
        "{line}"
    );
    for text in [printed, server.stderr(), server.metrics().await] {
        assert!(!text.contains(PASSWORD), "the Redis password shows: {text}");
    }
}

/// A listener on 127.0.0.1 that keeps the first bytes of every connection and answers as a
/// plaintext Redis would (`+OK`), then hangs up.
async fn plaintext_listener() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 4096];
            let read = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buffer)).await;
            let n = read.ok().and_then(Result::ok).unwrap_or(0);
            record.lock().unwrap().push(buffer[..n].to_vec());
            let _ = socket.write_all(b"+OK\r\n").await;
        }
    });
    (port, seen)
}

#[tokio::test]
async fn rediss_to_a_server_without_tls_never_falls_back_to_plaintext() {
    let (port, seen) = plaintext_listener().await;
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "never paid", 0.003).await;
    let ca = TestCa::generate();
    let url = format!("rediss://:{PASSWORD}@127.0.0.1:{port}/0");
    let server = replica(&fake, &env(&url, &ca.ca_file.display().to_string())).await;
    let (refused, took) = call(&server, "ask_model", ask("budgeted")).await;
    assert_eq!(refused["isError"], true, "{refused}");
    let why = text(&refused);
    assert!(
        why.contains(&format!("Redis at 127.0.0.1:{port} cannot be reached"))
            && why.contains("does not speak TLS"),
        "{why}"
    );
    assert!(took < Duration::from_secs(TIMEOUT_S), "took {took:?}");
    let connections = seen.lock().unwrap().clone();
    assert!(!connections.is_empty(), "the replica tried to connect");
    for bytes in &connections {
        assert_eq!(
            bytes.first(),
            Some(&0x16),
            "every connection opens with a TLS handshake: {:?}",
            String::from_utf8_lossy(bytes)
        );
        let clear = String::from_utf8_lossy(bytes);
        assert!(
            !clear.contains(PASSWORD) && !clear.contains("AUTH"),
            "{clear}"
        );
    }
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "nothing was paid"
    );
}
