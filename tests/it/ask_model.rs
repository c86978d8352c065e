//! `ask_model` end to end: the answer field by field, what was sent upstream, and the cache.

use crate::support::{FakeOpenRouter, McpServer, TEST_KEY, mcp::text};
use serde_json::json;

#[tokio::test]
async fn answers_with_every_field_and_sends_a_complete_request() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(
        "anthropic/claude-sonnet-4.5",
        "Paris is the capital of France.",
        0.0133176,
    )
    .await;
    let server = McpServer::start(&fake).await;

    let result = server
        .call(
            "ask_model",
            json!({"prompt": "Capital of France?", "model": "anthropic/claude-sonnet-4.5",
                   "system": "Answer in one sentence.", "max_tokens": 64, "temperature": 0.2}),
        )
        .await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    assert!(
        text(&result).contains("Paris is the capital of France."),
        "hosts that read only text see the answer"
    );
    let out = result.structured_content.expect("structured content");
    assert_eq!(out["text"], "Paris is the capital of France.");
    assert_eq!(out["model"], "anthropic/claude-sonnet-4.5");
    assert_eq!(out["requested_model"], "anthropic/claude-sonnet-4.5");
    assert_eq!(out["provider"], "TestProvider");
    assert_eq!(out["generation_id"], "gen-test-1");
    assert_eq!(out["finish_reason"], "stop");
    assert_eq!(out["cached"], false);
    assert_eq!(
        out["usage"],
        json!({"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19, "cost_usd": 0.0133176, "cost_source": "upstream"})
    );
    let attempts = out["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["model"], "anthropic/claude-sonnet-4.5");
    assert_eq!(attempts[0]["outcome"], "ok");
    assert!(attempts[0]["latency_ms"].is_u64());
    assert!(out["latency_ms"].as_u64().unwrap() >= attempts[0]["latency_ms"].as_u64().unwrap());

    let requests = fake.server.received_requests().await.unwrap();
    let chat = requests
        .iter()
        .find(|r| r.url.path() == crate::support::fake::CHAT)
        .expect("one chat request");
    assert_eq!(
        chat.headers.get("authorization").unwrap(),
        &format!("Bearer {TEST_KEY}")
    );
    assert!(chat.headers.get("http-referer").is_some());
    assert_eq!(
        chat.headers.get("x-title").unwrap(),
        "openrouter-switchboard"
    );
    let body: serde_json::Value = serde_json::from_slice(&chat.body).unwrap();
    assert_eq!(
        body,
        json!({"model": "anthropic/claude-sonnet-4.5", "max_tokens": 64, "temperature": 0.2, "stream": true,
               "stream_options": {"include_usage": true},
               "messages": [{"role": "system", "content": "Answer in one sentence."},
                            {"role": "user", "content": "Capital of France?"}]})
    );
    server.stop().await;
}

#[tokio::test]
async fn uses_the_default_model_and_an_explicit_max_tokens() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("openai/gpt-5-mini", "hello", 0.0001).await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(out["model"], "openai/gpt-5-mini");
    assert_eq!(out["requested_model"], "openai/gpt-5-mini");
    let sent = fake.chat_requests(None).await;
    assert_eq!(
        sent[0]["max_tokens"], 4096,
        "max_tokens is always sent, default 4096 for a model that reasons"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_repeated_call_is_served_from_the_cache() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("openai/gpt-5-mini", "cached answer", 0.002)
        .await;
    let server = McpServer::start(&fake).await;
    let ask = json!({"prompt": "same question", "model": "openai/gpt-5-mini"});

    let first = server.call_ok("ask_model", ask.clone()).await;
    let second = server.call_ok("ask_model", ask.clone()).await;
    assert_eq!(first["cached"], false);
    assert_eq!(second["cached"], true);
    assert_eq!(second["text"], "cached answer");
    assert_eq!(
        second["usage"]["cost_usd"], 0.0,
        "nothing is paid for a cached answer"
    );
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "the second call never reached upstream"
    );

    let warmer = server
        .call_ok(
            "ask_model",
            json!({"prompt": "same question", "model": "openai/gpt-5-mini", "temperature": 0.9}),
        )
        .await;
    assert_eq!(
        warmer["cached"], false,
        "different sampling parameters miss"
    );
    let bypass = server
        .call_ok(
            "ask_model",
            json!({"prompt": "same question", "model": "openai/gpt-5-mini", "cache": "bypass"}),
        )
        .await;
    assert_eq!(bypass["cached"], false);
    let refresh = server
        .call_ok(
            "ask_model",
            json!({"prompt": "same question", "model": "openai/gpt-5-mini", "cache": "refresh"}),
        )
        .await;
    assert_eq!(refresh["cached"], false);
    assert_eq!(fake.chat_requests(None).await.len(), 4);
    server.stop().await;
}

#[tokio::test]
async fn cached_answers_expire_after_the_ttl() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("openai/gpt-5-mini", "short-lived", 0.001).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_CACHE_TTL", "300ms")]).await;
    let ask = json!({"prompt": "q", "model": "openai/gpt-5-mini"});
    server.call_ok("ask_model", ask.clone()).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let again = server.call_ok("ask_model", ask).await;
    assert_eq!(again["cached"], false);
    assert_eq!(fake.chat_requests(None).await.len(), 2);
    server.stop().await;
}
