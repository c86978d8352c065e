//! `estimate_cost`: exact totals from catalog prices, real token counts, context fit, and never a
//! chat call. Through the in-process harness (`support::inproc`).

use crate::support::{FakeOpenRouter, InProc};
use serde_json::json;

#[tokio::test]
async fn totals_are_exact_for_given_token_counts_and_cheapest_first() {
    let fake = FakeOpenRouter::start().await;
    let server = InProc::start(&fake).await;
    let out = server
        .call_ok(
            "estimate_cost",
            json!({"models": ["anthropic/claude-sonnet-4.5", "openrouter/auto", "openai/gpt-5-mini"],
                   "prompt_tokens": 1000, "completion_tokens": 500, "calls": 3}),
        )
        .await;
    assert_eq!(out["token_counter"], "given");
    let estimates = out["estimates"].as_array().unwrap();
    let order: Vec<&str> = estimates
        .iter()
        .map(|e| e["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "openai/gpt-5-mini",
            "anthropic/claude-sonnet-4.5",
            "openrouter/auto"
        ]
    );
    // gpt-5-mini: $0.25 / $2 per 1M tokens.
    assert_eq!(estimates[0]["prompt_cost_usd"], 0.00075);
    assert_eq!(estimates[0]["completion_cost_usd"], 0.003);
    assert_eq!(estimates[0]["total_cost_usd"], 0.00375);
    // claude-sonnet-4.5: $3 / $15 per 1M tokens.
    assert_eq!(estimates[1]["prompt_cost_usd"], 0.009);
    assert_eq!(estimates[1]["completion_cost_usd"], 0.0225);
    assert_eq!(estimates[1]["total_cost_usd"], 0.0315);
    assert_eq!(estimates[1]["prompt_tokens"], 1000);
    assert_eq!(estimates[1]["completion_tokens"], 500);
    assert_eq!(estimates[1]["context_length"], 1000000);
    assert_eq!(estimates[1]["fits_context"], true);
    // The router model's price is decided per call: never multiplied.
    assert!(estimates[2]["total_cost_usd"].is_null());
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "estimating never calls the chat endpoint"
    );
    server.stop().await;
}

#[tokio::test]
async fn counts_real_text_with_o200k_base() {
    let fake = FakeOpenRouter::start().await;
    let server = InProc::start(&fake).await;
    let out = server
        .call_ok(
            "estimate_cost",
            json!({"model": "openai/gpt-5-mini", "prompt": "Hello, world!"}),
        )
        .await;
    assert!(
        out["token_counter"]
            .as_str()
            .unwrap()
            .starts_with("o200k_base")
    );
    // "Hello" "," " world" "!" plus the chat format: role (1) + 3 per message + 3 reply priming.
    assert_eq!(out["estimates"][0]["prompt_tokens"], 4 + 1 + 3 + 3);
    assert_eq!(
        out["estimates"][0]["completion_tokens"], 4096,
        "the default max_tokens of a model that reasons"
    );
    let plain = server
        .call_ok(
            "estimate_cost",
            json!({"model": "mistralai/mistral-small-3.2-24b-instruct", "prompt": "Hello, world!"}),
        )
        .await;
    assert_eq!(plain["estimates"][0]["completion_tokens"], 1024);

    let long = "The quick brown fox jumps over the lazy dog. ".repeat(200);
    let out = server
        .call_ok(
            "estimate_cost",
            json!({"model": "openai/gpt-5-mini", "prompt": long}),
        )
        .await;
    // 10 tokens per sentence, not characters/4 (which would say 2,250).
    let counted = out["estimates"][0]["prompt_tokens"].as_u64().unwrap();
    assert!((2000..=2020).contains(&counted), "{counted}");
    server.stop().await;
}

#[tokio::test]
async fn fits_context_says_when_a_prompt_is_too_big() {
    let fake = FakeOpenRouter::start().await;
    let server = InProc::start(&fake).await;
    let out = server
        .call_ok(
            "estimate_cost",
            json!({"model": "test/tiny-context", "prompt_tokens": 3072, "completion_tokens": 1024}),
        )
        .await;
    assert_eq!(
        out["estimates"][0]["fits_context"], true,
        "exactly 4096 fits"
    );
    let out = server
        .call_ok(
            "estimate_cost",
            json!({"model": "test/tiny-context", "prompt_tokens": 3073, "completion_tokens": 1024}),
        )
        .await;
    assert_eq!(out["estimates"][0]["fits_context"], false);
    server.stop().await;
}
