//! Never pay twice: what is cached and what never is, persistence shared by several processes, and
//! single-flight for identical calls in flight at once.

use crate::support::fake::{CHAT, sse_answer, sse_midstream_error};
use crate::support::{FakeOpenRouter, McpServer};
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const MODEL: &str = "openai/gpt-5-mini";

fn ask(prompt: &str) -> Value {
    json!({"prompt": prompt, "model": MODEL, "fallback_models": []})
}

#[tokio::test]
async fn errors_truncated_and_failed_streams_are_never_cached() {
    let fake = FakeOpenRouter::start().await;
    fake.stream("x-ai/grok-4", sse_midstream_error("x-ai/grok-4"))
        .await;
    fake.fail("deepseek/deepseek-r1-0528", 500, "Internal Server Error")
        .await;
    let truncated = sse_answer(MODEL, "cut off mid", 0.001)
        .replace("\"finish_reason\":\"stop\"", "\"finish_reason\":\"length\"");
    fake.stream(MODEL, truncated).await;
    // No continuations: this fake sends the same cut answer to every request.
    let server = McpServer::start_with(
        &fake,
        &[
            ("SWITCHBOARD_CACHE", "sqlite"),
            ("SWITCHBOARD_MAX_CONTINUATIONS", "0"),
        ],
    )
    .await;

    for _ in 0..2 {
        let out = server.call_ok("ask_model", ask("long question")).await;
        assert_eq!(
            (out["finish_reason"].as_str(), out["cached"].as_bool()),
            (Some("length"), Some(false))
        );
        server
            .call_err(
                "ask_model",
                json!({"prompt": "q", "model": "x-ai/grok-4", "fallback_models": []}),
            )
            .await;
        server
            .call_err(
                "ask_model",
                json!({"prompt": "q", "model": "deepseek/deepseek-r1-0528", "fallback_models": []}),
            )
            .await;
    }
    assert_eq!(
        fake.chat_requests(Some(MODEL)).await.len(),
        2,
        "a truncated answer is asked again"
    );
    assert_eq!(
        fake.chat_requests(Some("x-ai/grok-4")).await.len(),
        6,
        "a failed stream is asked again"
    );
    assert_eq!(
        fake.chat_requests(Some("deepseek/deepseek-r1-0528"))
            .await
            .len(),
        6,
        "an error is asked again"
    );
    server.stop().await;
}

#[tokio::test]
async fn sqlite_answers_expire_after_the_ttl() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "kept a while", 0.001).await;
    let server = McpServer::start_with(
        &fake,
        &[
            ("SWITCHBOARD_CACHE", "sqlite"),
            ("SWITCHBOARD_CACHE_TTL", "400ms"),
        ],
    )
    .await;
    server.call_ok("ask_model", ask("q")).await;
    let hit = server.call_ok("ask_model", ask("q")).await;
    assert_eq!(hit["cached"], true);
    assert_eq!(hit["cost_saved_usd"], 0.001);
    assert!(hit["cache_age_s"].is_u64());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(server.call_ok("ask_model", ask("q")).await["cached"], false);
    assert_eq!(fake.chat_requests(None).await.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn two_processes_share_the_cache_and_both_write_the_ledger() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "shared", 0.001).await;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let env = [
        ("SWITCHBOARD_DATA_DIR", dir.as_str()),
        ("SWITCHBOARD_CACHE", "sqlite"),
    ];
    let (first, second) = tokio::join!(
        McpServer::start_with(&fake, &env),
        McpServer::start_with(&fake, &env)
    );

    assert_eq!(
        first.call_ok("ask_model", ask("same everywhere")).await["cached"],
        false
    );
    let other = second.call_ok("ask_model", ask("same everywhere")).await;
    assert_eq!(other["cached"], true, "cached by the other process");
    assert_eq!(other["text"], "shared");
    assert_eq!(fake.chat_requests(None).await.len(), 1);

    let (a, b) = tokio::join!(ten_calls(&first, "first"), ten_calls(&second, "second"));
    assert_eq!(a.len() + b.len(), 20);
    let status = first.call_ok("account_status", json!({})).await;
    let by_model = &status["by_model"][0];
    assert_eq!(by_model["model"], MODEL);
    assert_eq!(by_model["calls"], 21, "no ledger entry was lost: {status}");
    assert!(
        (status["budget"]["spent_usd"].as_f64().unwrap() - 0.021).abs() < 1e-9,
        "{status}"
    );
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn ten_identical_concurrent_calls_make_one_upstream_request() {
    let fake = FakeOpenRouter::start().await;
    Mock::given(method("POST"))
        .and(path(CHAT))
        .and(body_partial_json(json!({"model": MODEL})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(sse_answer(MODEL, "one for all", 0.002), "text/event-stream")
                .set_delay(Duration::from_millis(500)),
        )
        .mount(&fake.server)
        .await;
    let server = McpServer::start(&fake).await;
    let answers =
        join_all((0..10).map(|_| server.call_ok("ask_model", ask("popular question")))).await;
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "exactly one upstream request"
    );
    assert!(answers.iter().all(|a| a["text"] == "one for all"));
    let paid: Vec<&Value> = answers.iter().filter(|a| a["cached"] == false).collect();
    assert_eq!(
        paid.len(),
        1,
        "one caller paid, the others shared its answer"
    );
    let total: f64 = answers
        .iter()
        .map(|a| a["usage"]["cost_usd"].as_f64().unwrap())
        .sum();
    assert!((total - 0.002).abs() < 1e-12);
    server.stop().await;
}

/// Ten different paid questions from one server, all at once.
async fn ten_calls(server: &McpServer, tag: &str) -> Vec<Value> {
    let questions = (0..10)
        .map(|i| json!({"prompt": format!("{tag} {i}"), "model": MODEL, "fallback_models": []}));
    join_all(questions.map(|args| server.call_ok("ask_model", args))).await
}

/// A cache write the SQLite file refuses (a full disk, a damaged table) must not pass silently:
/// the answer is delivered, and its output says that an identical call will be paid again.
#[tokio::test]
async fn a_cache_write_that_fails_is_reported_in_the_output() {
    let fake = FakeOpenRouter::start().await;
    fake.stream(MODEL, sse_answer(MODEL, "kept", 0.001)).await;
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let server = McpServer::start_with(
        &fake,
        &[
            ("SWITCHBOARD_CACHE", "sqlite"),
            ("SWITCHBOARD_DATA_DIR", &dir),
        ],
    )
    .await;
    let first = server.call_ok("ask_model", ask("first")).await;
    assert!(
        first.get("warnings").is_none(),
        "no warning while the cache works: {first}"
    );
    // From now on the file refuses every new cached answer, as a full disk would.
    let db = rusqlite::Connection::open(data.path().join("switchboard.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON responses BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
    )
    .unwrap();
    let second = server.call_ok("ask_model", ask("second")).await;
    assert_eq!(second["text"], "kept", "the answer is still delivered");
    let warning = second["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.starts_with("the answer could not be saved in the response cache")
            && warning.contains("disk is full")
            && warning.contains("switchboard.db"),
        "{second}"
    );
}
