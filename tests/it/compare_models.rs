//! `compare_models`: answers side by side, in the order asked, each model failing on its own.

use crate::support::{FakeOpenRouter, McpServer};
use serde_json::json;

#[tokio::test]
async fn answers_side_by_side_in_the_order_asked() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("x-ai/grok-4", "grok says yes", 0.003).await;
    fake.answer("openai/gpt-5-mini", "mini says no", 0.0005)
        .await;
    let server = McpServer::start(&fake).await;

    let out = server
        .call_ok("compare_models", json!({"prompt": "yes or no?", "models": ["x-ai/grok-4", "openai/gpt-5-mini"], "max_tokens": 32}))
        .await;
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["model"], "x-ai/grok-4");
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[0]["text"], "grok says yes");
    assert_eq!(results[0]["cached"], false);
    assert_eq!(results[0]["usage"]["cost_usd"], 0.003);
    assert_eq!(results[1]["model"], "openai/gpt-5-mini");
    assert_eq!(results[1]["text"], "mini says no");
    assert!(
        results
            .iter()
            .all(|r| r["latency_ms"].is_u64() && r.get("error").is_none())
    );
    assert!((out["total_cost_usd"].as_f64().unwrap() - 0.0035).abs() < 1e-12);
    assert!(out["wall_ms"].is_u64());
    let sent = fake.chat_requests(None).await;
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|body| body["max_tokens"] == 32));
    server.stop().await;
}

#[tokio::test]
async fn one_failing_model_never_sinks_the_others() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("x-ai/grok-4", "first", 0.001).await;
    fake.fail("deepseek/deepseek-r1-0528", 500, "Internal Server Error")
        .await;
    fake.answer("openai/gpt-5-mini", "third", 0.002).await;
    let server = McpServer::start(&fake).await;

    let models = [
        "x-ai/grok-4",
        "deepseek/deepseek-r1-0528",
        "openai/gpt-5-mini",
    ];
    let out = server
        .call_ok("compare_models", json!({"prompt": "go", "models": models}))
        .await;
    let results = out["results"].as_array().unwrap();
    let order: Vec<&str> = results
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    assert_eq!(order, models);
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[2]["ok"], true);
    assert_eq!(results[1]["ok"], false);
    assert!(results[1].get("text").is_none());
    let error = results[1]["error"].as_str().unwrap();
    assert!(error.contains("HTTP 500: Internal Server Error"), "{error}");
    assert!((out["total_cost_usd"].as_f64().unwrap() - 0.003).abs() < 1e-12);
    assert!(
        fake.chat_requests(Some("google/gemini-2.5-flash"))
            .await
            .is_empty(),
        "compare never falls back"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_id_gets_its_own_error_while_two_models_remain() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("x-ai/grok-4", "grok answers", 0.001).await;
    fake.answer("openai/gpt-5-mini", "mini answers", 0.002)
        .await;
    let server = McpServer::start(&fake).await;

    let models = ["x-ai/grok-4", "openai/gpt-5-mnii", "openai/gpt-5-mini"];
    let out = server
        .call_ok("compare_models", json!({"prompt": "go", "models": models}))
        .await;
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["text"], "grok answers");
    assert_eq!(results[2]["text"], "mini answers");
    assert_eq!(results[1]["model"], "openai/gpt-5-mnii");
    assert_eq!(results[1]["ok"], false);
    let error = results[1]["error"].as_str().unwrap();
    assert!(
        error.contains("unknown model id") && error.contains("closest ids: openai/gpt-5-mini"),
        "{error}"
    );
    assert_eq!(
        fake.chat_requests(None).await.len(),
        2,
        "the unknown id is never sent"
    );
    server.stop().await;
}
