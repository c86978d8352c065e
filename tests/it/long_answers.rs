//! Answers that are never silently cut: `max_tokens` clamped to what the model can send, and
//! the reasoning tokens reported, against a fake model that reasons before it answers.

use crate::support::fake::ReasoningModel;
use crate::support::{FakeOpenRouter, McpServer};
use serde_json::json;

const SONNET: &str = "anthropic/claude-sonnet-4.5";

fn thinker(reasoning: u64, answer: &str) -> ReasoningModel {
    ReasoningModel {
        reasoning,
        answer: answer.to_string(),
        usd_per_token: 0.000_001,
    }
}

#[tokio::test]
async fn max_tokens_above_the_models_completion_limit_is_clamped_and_said_in_the_attempt() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(5, "Short and complete."))
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": SONNET, "fallback_models": [], "max_tokens": 100000}),
        )
        .await;
    assert_eq!(out["text"], "Short and complete.");
    let sent = fake.chat_requests(Some(SONNET)).await;
    assert_eq!(
        sent[0]["max_tokens"], 64000,
        "the catalog's top_provider.max_completion_tokens for {SONNET} is 64000"
    );
    let note = out["attempts"][0]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("max_tokens clamped from 100000 to 64000"),
        "the attempt says what was sent: {out}"
    );
    server.stop().await;
}

#[tokio::test]
async fn reasoning_tokens_are_reported_in_the_usage() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(300, "Four words of answer."))
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": SONNET, "fallback_models": [], "max_tokens": 1000}),
        )
        .await;
    assert_eq!(out["text"], "Four words of answer.");
    assert_eq!(out["finish_reason"], "stop");
    assert_eq!(out["usage"]["reasoning_tokens"], 300);
    assert_eq!(
        out["usage"]["completion_tokens"], 304,
        "reasoning counts as completion tokens"
    );
    server.stop().await;
}
