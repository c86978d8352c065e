//! The router seen from a user: fallback, retries that honour `Retry-After`, stops on key and credit
//! errors, mid-stream failures and the whole-call deadline. Every answer names every attempt.

use crate::support::McpServer;
use crate::support::fake::{FakeOpenRouter, sse_midstream_error};
use serde_json::{Value, json};

const FIRST: &str = "openai/gpt-5-mini";
const SECOND: &str = "google/gemini-2.5-flash";

fn outcomes(out: &Value) -> Vec<(String, String)> {
    out["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["model"].as_str().unwrap().to_string(),
                a["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(model: &str, outcome: &str) -> (String, String) {
    (model.to_string(), outcome.to_string())
}

#[tokio::test]
async fn a_5xx_model_falls_back_to_the_next_after_its_retries() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 503, "Provider returned error").await;
    fake.answer(SECOND, "from the fallback", 0.0004).await;
    let server = McpServer::start(&fake).await;

    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(out["text"], "from the fallback");
    assert_eq!(out["model"], SECOND);
    assert_eq!(out["requested_model"], FIRST);
    assert_eq!(
        outcomes(&out),
        vec![
            pair(FIRST, "retried"),
            pair(FIRST, "retried"),
            pair(FIRST, "fell_back"),
            pair(SECOND, "ok")
        ]
    );
    assert_eq!(out["attempts"][0]["status"], 503);
    assert!(
        out["attempts"][2]["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 503")
    );
    assert_eq!(
        fake.chat_requests(Some(FIRST)).await.len(),
        3,
        "two retries after the first try"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_on_the_same_model_after_the_wait() {
    let fake = FakeOpenRouter::start().await;
    fake.fail_times(FIRST, 429, 1, Some("1")).await;
    fake.answer(FIRST, "after the wait", 0.0002).await;
    let server = McpServer::start(&fake).await;

    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(out["model"], FIRST);
    assert_eq!(
        outcomes(&out),
        vec![pair(FIRST, "retried"), pair(FIRST, "ok")]
    );
    assert_eq!(out["attempts"][0]["status"], 429);
    assert!(
        out["latency_ms"].as_u64().unwrap() >= 1000,
        "waited the 1 s Retry-After: {out}"
    );
    assert!(
        fake.chat_requests(Some(SECOND)).await.is_empty(),
        "no fallback was needed"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_401_stops_at_once_with_a_message_about_the_key() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 401, "No auth credentials found").await;
    fake.answer(SECOND, "must not be asked", 0.0).await;
    let server = McpServer::start(&fake).await;

    let error = server.call_err("ask_model", json!({"prompt": "hi"})).await;
    assert!(error.contains("OPENROUTER_API_KEY"), "{error}");
    assert!(
        error.contains("HTTP 401: No auth credentials found"),
        "{error}"
    );
    assert!(
        error.contains(&format!("{FIRST}: failed")),
        "the attempt is listed: {error}"
    );
    assert_eq!(fake.chat_requests(Some(FIRST)).await.len(), 1, "no retry");
    assert!(
        fake.chat_requests(Some(SECOND)).await.is_empty(),
        "no fallback"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_402_stops_at_once_with_a_message_about_credits() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 402, "This request requires more credits")
        .await;
    let server = McpServer::start(&fake).await;
    let error = server.call_err("ask_model", json!({"prompt": "hi"})).await;
    assert!(
        error.contains("credits") && error.contains("HTTP 402"),
        "{error}"
    );
    assert!(fake.chat_requests(Some(SECOND)).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_mid_stream_error_is_never_a_short_answer() {
    let fake = FakeOpenRouter::start().await;
    fake.stream(FIRST, sse_midstream_error(FIRST)).await;
    fake.answer(SECOND, "a whole answer", 0.0003).await;
    let server = McpServer::start(&fake).await;

    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(out["text"], "a whole answer");
    assert_eq!(out["model"], SECOND);
    let last_first = &out["attempts"][2];
    assert_eq!(last_first["outcome"], "fell_back");
    assert_eq!(
        last_first["error"], "stream failed after 15 characters: Provider disconnected",
        "the partial text was discarded"
    );

    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi again", "fallback_models": []}),
        )
        .await;
    assert!(
        error.contains("stream failed after 15 characters"),
        "{error}"
    );
    assert!(!error.contains("The partial ans"), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn a_model_with_no_endpoints_falls_back_without_retrying() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 404, "No endpoints found for openai/gpt-5-mini.")
        .await;
    fake.answer(SECOND, "ok", 0.0001).await;
    let server = McpServer::start(&fake).await;
    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(
        outcomes(&out),
        vec![pair(FIRST, "fell_back"), pair(SECOND, "ok")]
    );
    assert_eq!(fake.chat_requests(Some(FIRST)).await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn when_every_model_fails_the_error_lists_every_attempt() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 400, "openai/gpt-5-mini is not a valid model ID")
        .await;
    fake.fail(SECOND, 500, "Internal Server Error").await;
    let server = McpServer::start(&fake).await;
    let error = server.call_err("ask_model", json!({"prompt": "hi"})).await;
    assert!(
        error.starts_with("every model in the chain failed"),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "{FIRST}: fell_back (HTTP 400: openai/gpt-5-mini is not a valid model ID)"
        )),
        "{error}"
    );
    assert_eq!(
        error.matches(&format!("{SECOND}: retried")).count(),
        2,
        "{error}"
    );
    assert!(
        error.contains(&format!("{SECOND}: failed (HTTP 500")),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_whole_call_respects_the_deadline() {
    let fake = FakeOpenRouter::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_raw(
                    crate::support::fake::sse_answer(FIRST, "too late", 0.0),
                    "text/event-stream",
                )
                .set_delay(std::time::Duration::from_secs(5)),
        )
        .mount(&fake.server)
        .await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_TIMEOUT", "500ms")]).await;
    let error = server.call_err("ask_model", json!({"prompt": "hi"})).await;
    assert!(
        error.starts_with("no answer within SWITCHBOARD_TIMEOUT (500ms)"),
        "{error}"
    );
    assert!(error.contains(&format!("{FIRST}: failed")), "{error}");
    server.stop().await;
}

#[tokio::test]
#[allow(deprecated)] // logging/setLevel serves peers before 2026-07-28
async fn a_fallback_is_logged_as_a_warning_to_clients_that_asked_for_logs() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 404, "No endpoints found for openai/gpt-5-mini.")
        .await;
    fake.answer(SECOND, "from the fallback", 0.0001).await;
    let quiet = McpServer::start(&fake).await;
    let listening = McpServer::start(&fake).await;
    let level = rmcp::model::SetLevelRequestParams::new(rmcp::model::LoggingLevel::Warning);
    listening.client.set_level(level).await.unwrap();

    listening
        .call_ok("ask_model", json!({"prompt": "hi"}))
        .await;
    quiet
        .call_ok("ask_model", json!({"prompt": "hi", "cache": "bypass"}))
        .await;
    let logged = || listening.client.service().logs.lock().unwrap().clone();
    for _ in 0..100 {
        if !logged().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let logs = logged();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["level"], "warning");
    assert_eq!(logs[0]["logger"], "ask_model");
    assert_eq!(logs[0]["data"]["attempts"][0]["model"], FIRST);
    assert_eq!(logs[0]["data"]["attempts"][0]["outcome"], "fell_back");
    assert!(
        quiet.client.service().logs.lock().unwrap().is_empty(),
        "nothing unless asked for"
    );
    quiet.stop().await;
    listening.stop().await;
}
