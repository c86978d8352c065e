//! Answers a user must never be handed as good ones: a huge answer (streamed or not) is an error
//! naming the limit, costs bounded memory and is never cached; an empty answer falls back to the
//! next model; a content-filtered answer is returned as such but never cached.

// The http.rs helpers, which keeps its own copy private; this file uses a part of them.
#[path = "support/http_server.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod http_server;

use crate::support::fake::{BigUpstream, sse_answer};
use crate::support::{FakeOpenRouter, McpServer};
use http_server::McpHttp;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const STREAMED: &str = "openai/gpt-5-mini";
const PLAIN: &str = "x-ai/grok-4";
/// The default `SWITCHBOARD_MAX_ANSWER_BYTES`.
const LIMIT: u64 = 4 * 1024 * 1024;

fn ask(model: &str, prompt: &str) -> Value {
    json!({"prompt": prompt, "model": model, "fallback_models": []})
}

fn text_of(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The server's resident memory in bytes, from /proc.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[tokio::test]
async fn a_100_mb_answer_is_an_error_naming_the_limit_in_bounded_memory_and_never_cached() {
    let upstream = BigUpstream::start(STREAMED, 100 * 1024 * 1024).await;
    let server =
        http_server::start(&upstream.base_url, &[], &[("SWITCHBOARD_TIMEOUT", "20s")]).await;
    let mut mcp = McpHttp::new(server.url("/mcp"), None);
    mcp.initialize().await;
    // The process's own size before any answer: code, catalog and tokenizer paged in.
    mcp.call(
        "estimate_cost",
        json!({"model": STREAMED, "prompt": "write forever"}),
    )
    .await;
    let before = rss_bytes(server.pid());
    for model in [STREAMED, PLAIN, STREAMED, PLAIN] {
        let started = Instant::now();
        let result = mcp.call("ask_model", ask(model, "write forever")).await;
        let elapsed = started.elapsed();
        let text = text_of(&result);
        assert_eq!(
            result["isError"], true,
            "{model} gave a success: {result:.300}"
        );
        assert!(
            text.contains("SWITCHBOARD_MAX_ANSWER_BYTES (4194304 bytes)"),
            "{model}: the error names the limit: {text}"
        );
        assert!(
            elapsed < Duration::from_secs(20),
            "{model}: answered within SWITCHBOARD_TIMEOUT, took {elapsed:?}"
        );
    }
    assert_eq!(upstream.requests(STREAMED), 2, "never cached: asked again");
    assert_eq!(upstream.requests(PLAIN), 2, "never cached: asked again");
    let rss = rss_bytes(server.pid());
    // Four answers cut at the limit: a few copies of one limit's worth, never the 100 MB.
    assert!(
        rss.saturating_sub(before) < 3 * LIMIT + 16 * 1024 * 1024,
        "resident memory stayed bounded: {} MB, from {} MB before the answers",
        rss / (1024 * 1024),
        before / (1024 * 1024)
    );
}

#[tokio::test]
async fn an_answer_one_byte_over_a_configured_limit_fails_and_one_at_it_passes() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(STREAMED, &"b".repeat(2048), 0.001).await;
    fake.answer(PLAIN, &"c".repeat(2049), 0.001).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_MAX_ANSWER_BYTES", "2KiB")]).await;
    let out = server.call_ok("ask_model", ask(STREAMED, "exactly")).await;
    assert_eq!(out["text"].as_str().map(str::len), Some(2048));
    let error = server.call_err("ask_model", ask(PLAIN, "one more")).await;
    assert!(
        error.contains("SWITCHBOARD_MAX_ANSWER_BYTES (2048 bytes)"),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_empty_answer_falls_back_to_the_next_model() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(STREAMED, "", 0.001).await;
    fake.answer(PLAIN, "a real answer", 0.002).await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "say something", "model": STREAMED, "fallback_models": [PLAIN]}),
        )
        .await;
    assert_eq!(out["text"], "a real answer");
    assert_eq!(out["model"], PLAIN);
    let first = &out["attempts"][0];
    assert_eq!(
        (first["model"].as_str(), first["outcome"].as_str()),
        (Some(STREAMED), Some("fell_back"))
    );
    assert!(
        first["error"]
            .as_str()
            .unwrap_or_default()
            .contains("empty answer"),
        "{first}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_content_filtered_answer_is_returned_as_filtered_and_never_cached() {
    let fake = FakeOpenRouter::start().await;
    let filtered = sse_answer(STREAMED, "The first half of", 0.001).replace(
        "\"finish_reason\":\"stop\"",
        "\"finish_reason\":\"content_filter\"",
    );
    fake.stream(STREAMED, filtered).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_CACHE", "sqlite")]).await;
    for _ in 0..2 {
        let out = server.call_ok("ask_model", ask(STREAMED, "tell me")).await;
        assert_eq!(out["text"], "The first half of");
        assert_eq!(out["finish_reason"], "content_filter");
        assert_eq!(out["cached"], false);
    }
    assert_eq!(
        fake.chat_requests(Some(STREAMED)).await.len(),
        2,
        "the second identical call went upstream again"
    );
    server.stop().await;
}
