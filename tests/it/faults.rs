//! Fault injection against real HTTP on 127.0.0.1: every failure class the router knows, the
//! per-model cooldown, and the context-window pre-check. Delays are short and injected.

use crate::support::McpServer;
use crate::support::fake::FakeOpenRouter;
use crate::support::mcp::text;
use crate::support::scripted::{self, Behaviour, RetryAfter, ScriptedUpstream};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const FIRST: &str = "openai/gpt-5-mini";
const SECOND: &str = "google/gemini-2.5-flash";

fn outcomes(out: &Value) -> Vec<String> {
    let attempts = out["attempts"].as_array().unwrap();
    attempts
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["model"].as_str().unwrap(),
                a["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

fn fast_answer() -> Behaviour {
    Behaviour::Stream {
        chunks: 2,
        every: Duration::from_millis(1),
    }
}

#[tokio::test]
async fn a_503_storm_that_ends_is_ridden_out_on_the_same_model() {
    let fake = FakeOpenRouter::start().await;
    fake.fail_times(FIRST, 503, 2, None).await;
    fake.answer(FIRST, "recovered", 0.0001).await;
    let server = McpServer::start(&fake).await;
    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(
        outcomes(&out),
        [
            format!("{FIRST} retried"),
            format!("{FIRST} retried"),
            format!("{FIRST} ok")
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_retry_after_longer_than_the_deadline_falls_back_instead_of_waiting() {
    let fake = FakeOpenRouter::start().await;
    fake.fail_times(FIRST, 429, 10, Some("30")).await;
    fake.answer(SECOND, "no waiting", 0.0001).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_TIMEOUT", "5s")]).await;
    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(
        out["text"], "no waiting",
        "waiting 30 s would have hit the 5 s deadline"
    );
    assert_eq!(
        outcomes(&out),
        [format!("{FIRST} fell_back"), format!("{SECOND} ok")]
    );
    assert_eq!(out["attempts"][0]["status"], 429);
    server.stop().await;
}

#[tokio::test]
async fn a_reset_connection_is_retried_then_falls_back() {
    let upstream =
        ScriptedUpstream::start(&[(FIRST, Behaviour::Reset), (SECOND, fast_answer())]).await;
    let server = McpServer::start_at(&upstream.base_url, &[]).await;
    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(out["model"], SECOND);
    assert_eq!(out["text"], "word0 word1 ");
    assert_eq!(
        outcomes(&out)[..3],
        [
            format!("{FIRST} retried"),
            format!("{FIRST} retried"),
            format!("{FIRST} fell_back")
        ]
    );
    assert_eq!(upstream.requests(FIRST), 3);
    server.stop().await;
}

#[tokio::test]
async fn an_upstream_that_stalls_past_the_attempt_timeout_is_abandoned() {
    let upstream =
        ScriptedUpstream::start(&[(FIRST, Behaviour::Stall), (SECOND, fast_answer())]).await;
    let server = McpServer::start_at(
        &upstream.base_url,
        &[("SWITCHBOARD_STALL_TIMEOUT", "200ms")],
    )
    .await;
    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(out["model"], SECOND);
    let first = &out["attempts"][0];
    assert_eq!(first["outcome"], "retried");
    assert_eq!(first["error"], "timed out: upstream sent nothing for 200ms");
    assert_eq!(upstream.requests(FIRST), 3);
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_model_falls_back_at_once() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 400, "openai/gpt-5-mini is not a valid model ID")
        .await;
    fake.answer(SECOND, "fallback", 0.0001).await;
    let server = McpServer::start(&fake).await;
    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(
        outcomes(&out),
        [format!("{FIRST} fell_back"), format!("{SECOND} ok")]
    );
    assert_eq!(
        fake.chat_requests(Some(FIRST)).await.len(),
        1,
        "no retry of an invalid model"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_dead_model_cools_down_then_is_tried_again() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 503, "Provider returned error").await;
    fake.answer(SECOND, "fallback", 0.0001).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_COOLDOWN", "1s")]).await;

    server
        .call_ok("ask_model", json!({"prompt": "one", "cache": "bypass"}))
        .await;
    assert_eq!(fake.chat_requests(Some(FIRST)).await.len(), 3);

    let out = server
        .call_ok("ask_model", json!({"prompt": "two", "cache": "bypass"}))
        .await;
    assert_eq!(
        outcomes(&out),
        [format!("{FIRST} skipped"), format!("{SECOND} ok")]
    );
    assert!(
        out["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("cooling down"),
        "{out}"
    );
    assert_eq!(
        fake.chat_requests(Some(FIRST)).await.len(),
        3,
        "the cooling model was not asked"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = server
        .call_ok("ask_model", json!({"prompt": "three", "cache": "bypass"}))
        .await;
    assert_eq!(
        outcomes(&out)[0],
        format!("{FIRST} retried"),
        "tried again after the cooldown: {out}"
    );
    assert!(fake.chat_requests(Some(FIRST)).await.len() > 3);
    server.stop().await;
}

#[tokio::test]
async fn models_too_small_for_the_prompt_are_skipped_before_paying_for_a_400() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(SECOND, "big enough", 0.0001).await;
    let server = McpServer::start(&fake).await;
    let prompt = "The quick brown fox jumps over the lazy dog. ".repeat(400);
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": prompt, "model": "test/tiny-context", "fallback_models": [SECOND]}),
        )
        .await;
    assert_eq!(
        outcomes(&out),
        [
            "test/tiny-context skipped".to_string(),
            format!("{SECOND} ok")
        ]
    );
    let reason = out["attempts"][0]["error"].as_str().unwrap();
    assert!(
        reason.starts_with("context window of 4096 tokens is too small for 40"),
        "{reason}"
    );
    assert!(
        fake.chat_requests(Some("test/tiny-context"))
            .await
            .is_empty()
    );

    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": prompt, "model": "test/tiny-context", "fallback_models": []}),
        )
        .await;
    assert!(
        error.contains("`prompt`") && error.contains("lower max_tokens"),
        "{error}"
    );
    server.stop().await;
}

/// A 429 or 503 for every request, with this `Retry-After`.
fn refuse(status: u16, retry_after: RetryAfter) -> Behaviour {
    Behaviour::Respond {
        status,
        retry_after: Some(retry_after),
        content_type: "application/json",
        body: scripted::error_body(status),
    }
}

/// Calls `ask_model` and insists on a reply (success or tool error) within `bound`.
async fn ask_within(server: &McpServer, bound: Duration, arguments: Value) -> Value {
    let started = Instant::now();
    let result = tokio::time::timeout(bound, server.call("ask_model", arguments))
        .await
        .unwrap_or_else(|_| panic!("no reply within {bound:?}"));
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    assert!(started.elapsed() < bound);
    result.structured_content.expect("structuredContent")
}

#[tokio::test]
async fn an_absurd_retry_after_is_capped_and_the_fallback_answers() {
    let upstream = ScriptedUpstream::start(&[
        (
            "e20|openai/gpt-5-mini",
            refuse(429, RetryAfter::Value("1e20".into())),
        ),
        (
            "e19|openai/gpt-5-mini",
            refuse(503, RetryAfter::Value("1e19".into())),
        ),
        (SECOND, fast_answer()),
    ])
    .await;
    let server = McpServer::start_at(&upstream.base_url, &[("SWITCHBOARD_TIMEOUT", "3s")]).await;
    for (case, status) in [("e20", 429), ("e19", 503)] {
        let prompt = format!("[case:{case}] hi");
        let out = ask_within(&server, Duration::from_secs(4), json!({"prompt": prompt})).await;
        assert_eq!(out["model"], SECOND, "{case}: {out}");
        assert_eq!(
            outcomes(&out),
            [format!("{FIRST} fell_back"), format!("{SECOND} ok")],
            "{case}: a wait that long never fits the deadline"
        );
        assert_eq!(out["attempts"][0]["status"], status);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_retry_after_given_as_an_http_date_is_waited_for() {
    let first = Behaviour::Sequence(vec![refuse(429, RetryAfter::DateIn(2)), fast_answer()]);
    let upstream = ScriptedUpstream::start(&[(FIRST, first)]).await;
    let server = McpServer::start_at(&upstream.base_url, &[("SWITCHBOARD_TIMEOUT", "10s")]).await;
    let out = ask_within(&server, Duration::from_secs(10), json!({"prompt": "hi"})).await;
    assert_eq!(
        outcomes(&out),
        [format!("{FIRST} retried"), format!("{FIRST} ok")]
    );
    let arrivals = upstream.arrivals(FIRST);
    assert_eq!(arrivals.len(), 2);
    let waited = arrivals[1] - arrivals[0];
    assert!(
        waited >= Duration::from_millis(1500),
        "told to wait until a date 2 s ahead, retried after {waited:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_catalog_that_never_answers_does_not_eat_the_call_deadline() {
    let upstream =
        ScriptedUpstream::start(&[("/models", Behaviour::Stall), (FIRST, fast_answer())]).await;
    let server = McpServer::start_at(&upstream.base_url, &[("SWITCHBOARD_TIMEOUT", "3s")]).await;
    let out = ask_within(&server, Duration::from_secs(4), json!({"prompt": "hi"})).await;
    assert_eq!(out["model"], FIRST);
    assert_eq!(out["text"], "word0 word1 ");
    let started = Instant::now();
    let listed = tokio::time::timeout(
        Duration::from_secs(4),
        server.call_ok("list_models", json!({"limit": 1})),
    )
    .await
    .expect("list_models replies within the deadline too");
    assert_eq!(listed["catalog"]["source"], "embedded", "{listed}");
    assert!(started.elapsed() < Duration::from_secs(4));
    server.stop().await;
}
