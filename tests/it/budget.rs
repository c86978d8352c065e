//! Never pay more than allowed: the worst case is checked before sending, concurrent calls cannot
//! jointly overspend, the ledger survives a restart, and the model policy applies to every tool.

use crate::support::fake::{CHAT, sse_answer};
use crate::support::{FakeOpenRouter, McpServer};
use futures_util::future::join_all;
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn a_call_whose_worst_case_passes_the_budget_is_refused_with_the_figures() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("anthropic/claude-sonnet-4.5", "never sent", 0.0)
        .await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_BUDGET_USD", "0.001")]).await;
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "model": "anthropic/claude-sonnet-4.5", "fallback_models": []}),
        )
        .await;
    // 8 prompt tokens at $3/1M + 4096 completion tokens (the default of a model that reasons)
    // at $15/1M.
    assert!(
        error.starts_with("budget: the worst case $0.061464 (8 prompt tokens + max_tokens 4096 on anthropic/claude-sonnet-4.5)"),
        "{error}"
    );
    assert!(
        error.contains("SWITCHBOARD_BUDGET_USD: $0.001 per day"),
        "{error}"
    );
    assert!(error.contains("$0.001000 left"), "{error}");

    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "max_cost_usd": 0.0001, "max_tokens": 2000}),
        )
        .await;
    assert!(
        error.contains("`max_cost_usd`") && error.contains("above max_cost_usd $0.0001"),
        "{error}"
    );
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "nothing was sent"
    );
    server.stop().await;
}

#[tokio::test]
async fn concurrent_calls_near_the_limit_never_overspend_and_the_ledger_survives_a_restart() {
    let fake = FakeOpenRouter::start().await;
    // gpt-5-mini: $2/1M completion, so max_tokens 10000 is a $0.02 worst case (plus a few prompt tokens).
    Mock::given(method("POST"))
        .and(path(CHAT))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(
                    sse_answer("openai/gpt-5-mini", "paid", 0.02),
                    "text/event-stream",
                )
                .set_delay(Duration::from_secs(1)),
        )
        .mount(&fake.server)
        .await;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let env = [
        ("SWITCHBOARD_DATA_DIR", dir.as_str()),
        ("SWITCHBOARD_BUDGET_USD", "0.05"),
    ];
    let server = McpServer::start_with(&fake, &env).await;

    let calls = (0..6).map(|i| {
        server.call(
            "ask_model",
            json!({"prompt": format!("task {i}"), "max_tokens": 10000, "fallback_models": []}),
        )
    });
    let results = join_all(calls).await;
    let answered = results.iter().filter(|r| r.is_error != Some(true)).count();
    assert_eq!(
        answered, 2,
        "two $0.02 worst cases fit in $0.05, a third does not"
    );
    for refused in results.iter().filter(|r| r.is_error == Some(true)) {
        let text = crate::support::mcp::text(refused);
        assert!(
            text.starts_with("budget:") && text.contains("reserved by calls in flight"),
            "{text}"
        );
    }
    assert_eq!(
        fake.chat_requests(None).await.len(),
        2,
        "refused calls sent nothing"
    );
    server.stop().await;

    let restarted = McpServer::start_with(&fake, &env).await;
    let status = restarted.call_ok("account_status", json!({})).await;
    assert!(
        (status["budget"]["spent_usd"].as_f64().unwrap() - 0.04).abs() < 1e-9,
        "{status}"
    );
    assert!(
        (status["budget"]["left_usd"].as_f64().unwrap() - 0.01).abs() < 1e-9,
        "{status}"
    );
    assert_eq!(status["budget"]["period"], "day");
    assert_eq!(status["by_model"][0]["calls"], 2);
    restarted.stop().await;
}

#[tokio::test]
async fn account_status_shows_the_key_the_ledger_and_the_cache() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("openai/gpt-5-mini", "hello", 0.003).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"label": "sk-or-v1-abc...xyz", "limit": 20.0, "limit_remaining": 12.5, "usage": 7.5, "is_free_tier": false}
        })))
        .mount(&fake.server)
        .await;
    let server = McpServer::start(&fake).await;
    server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    let status = server.call_ok("account_status", json!({})).await;
    assert_eq!(
        status["key"],
        json!({"limit_usd": 20.0, "limit_remaining_usd": 12.5, "usage_usd": 7.5, "is_free_tier": false})
    );
    assert_eq!(
        status["by_model"],
        json!([{"model": "openai/gpt-5-mini", "cost_source": "upstream", "calls": 1, "cost_usd": 0.003}])
    );
    assert_eq!(status["budget"]["limit_usd"], serde_json::Value::Null);
    assert_eq!(
        status["cache"],
        json!({"backend": "memory", "hits": 1, "misses": 1})
    );
    server.stop().await;
}

#[tokio::test]
async fn the_model_policy_applies_to_every_tool() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("openai/gpt-5-mini", "allowed", 0.0001).await;
    let env = [
        ("SWITCHBOARD_ALLOWED_MODELS", "google/*,openai/*,*:free"),
        ("SWITCHBOARD_MAX_PRICE", "2.2"),
        ("SWITCHBOARD_DEFAULT_MODEL", "google/gemini-2.5-flash"),
        ("SWITCHBOARD_FALLBACK_MODELS", "openai/gpt-5-mini"),
    ];
    let server = McpServer::start_with(&fake, &env).await;

    // gemini-2.5-flash passes the glob but costs $2.5/1M for completions: refused, so the fallback answers.
    let out = server.call_ok("ask_model", json!({"prompt": "hi"})).await;
    assert_eq!(out["model"], "openai/gpt-5-mini");
    assert_eq!(out["attempts"][0]["model"], "google/gemini-2.5-flash");
    assert_eq!(out["attempts"][0]["outcome"], "skipped");
    assert_eq!(
        out["attempts"][0]["error"],
        "refused: completion price $2.5/1M is above SWITCHBOARD_MAX_PRICE $2.2/1M"
    );

    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "model": "x-ai/grok-4", "fallback_models": []}),
        )
        .await;
    assert!(
        error.contains("model `x-ai/grok-4` is refused: not in SWITCHBOARD_ALLOWED_MODELS"),
        "{error}"
    );

    let out = server
        .call_ok(
            "compare_models",
            json!({"prompt": "hi", "models": ["openai/gpt-5-mini", "x-ai/grok-4"]}),
        )
        .await;
    assert_eq!(out["results"][0]["ok"], true);
    assert_eq!(
        out["results"][1]["error"],
        "refused: not in SWITCHBOARD_ALLOWED_MODELS"
    );

    let listed = server.call_ok("list_models", json!({"limit": 200})).await;
    let ids: Vec<&str> = listed["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "meta-llama/llama-3.3-70b-instruct:free",
            "openai/gpt-5-mini"
        ],
        "only usable models are offered"
    );
    let error = server
        .call_err(
            "estimate_cost",
            json!({"model": "x-ai/grok-4", "prompt_tokens": 10}),
        )
        .await;
    assert!(error.contains("`x-ai/grok-4` is refused"), "{error}");
    assert!(fake.chat_requests(Some("x-ai/grok-4")).await.is_empty());
    assert!(
        fake.chat_requests(Some("google/gemini-2.5-flash"))
            .await
            .is_empty()
    );
    server.stop().await;
}
