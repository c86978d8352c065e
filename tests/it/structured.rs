//! `response_format`: sent as strict OpenRouter structured output with
//! `provider.require_parameters`, the answer parsed into `json`; an answer that is not JSON or does
//! not match is retried, then falls back, and is never a success; models without
//! `structured_outputs` are skipped; a bad schema is refused before anything is sent.

use crate::support::{FakeOpenRouter, McpServer};
use serde_json::{Value, json};

const FIRST: &str = "openai/gpt-5-mini";
const SECOND: &str = "google/gemini-2.5-flash";
const THIRD: &str = "x-ai/grok-4";
/// No `structured_outputs` in the fixture catalog.
const SONNET: &str = "anthropic/claude-sonnet-4.5";

fn city_schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
           "required": ["city", "population"], "additionalProperties": false})
}

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

#[tokio::test]
async fn a_structured_answer_is_sent_as_strict_json_schema_and_parsed_into_json() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, r#"{"city": "Paris", "population": 2100000}"#, 0.001)
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "Capital of France?", "model": FIRST, "fallback_models": [],
                   "response_format": city_schema()}),
        )
        .await;
    assert_eq!(out["json"], json!({"city": "Paris", "population": 2100000}));
    let sent = &fake.chat_requests(Some(FIRST)).await[0];
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert_eq!(sent["response_format"]["json_schema"]["strict"], true);
    assert_eq!(sent["response_format"]["json_schema"]["name"], "answer");
    assert_eq!(
        sent["response_format"]["json_schema"]["schema"],
        city_schema()
    );
    assert_eq!(sent["provider"], json!({"require_parameters": true}));
    let plain = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": FIRST, "fallback_models": []}),
        )
        .await;
    assert!(
        plain.get("json").is_none(),
        "no json without response_format"
    );
    let sent = fake.chat_requests(Some(FIRST)).await;
    assert!(sent[1].get("response_format").is_none() && sent[1].get("provider").is_none());
    server.stop().await;
}

#[tokio::test]
async fn an_answer_that_is_not_json_or_does_not_match_is_retried_then_falls_back() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, "Sure! The capital is Paris.", 0.001)
        .await;
    fake.answer(SECOND, r#"{"city": "Paris", "population": "lots"}"#, 0.001)
        .await;
    fake.answer(THIRD, r#"{"city": "Paris", "population": 2100000}"#, 0.001)
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "Capital of France?", "model": FIRST, "fallback_models": [SECOND, THIRD],
                   "response_format": city_schema()}),
        )
        .await;
    assert_eq!(out["model"], THIRD);
    assert_eq!(out["json"]["population"], 2100000);
    let expected = [
        (FIRST, "retried"),
        (FIRST, "fell_back"),
        (SECOND, "retried"),
        (SECOND, "fell_back"),
        (THIRD, "ok"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, o)| (m.to_string(), o.to_string()))
        .collect();
    assert_eq!(outcomes(&out), expected, "{out}");
    let reasons = out["attempts"].to_string();
    assert!(
        reasons.contains("not JSON") && reasons.contains("/population"),
        "{reasons}"
    );
    assert!(
        !reasons.contains("Sure! The capital"),
        "the answer is not echoed: {reasons}"
    );
    assert_eq!(
        fake.chat_requests(Some(FIRST)).await.len(),
        2,
        "asked once more"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_answer_is_never_a_success_nor_cached() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, "[1, 2, 3]", 0.001).await;
    let server = McpServer::start(&fake).await;
    let ask = json!({"prompt": "Capital?", "model": FIRST, "fallback_models": [],
                     "response_format": city_schema()});
    for round in 1..=2 {
        let error = server.call_err("ask_model", ask.clone()).await;
        assert!(error.contains("response_format"), "{error}");
        assert_eq!(
            fake.chat_requests(Some(FIRST)).await.len(),
            2 * round,
            "asked again: nothing was cached"
        );
    }
    let status = server.call_ok("account_status", json!({})).await;
    let spent = status["budget"]["spent_usd"].as_f64().unwrap();
    assert!(
        (spent - 0.004).abs() < 1e-9,
        "the four rejected answers were billed, so they are charged: {status}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_model_without_structured_outputs_is_skipped_and_alone_is_refused() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, r#"{"city": "Paris", "population": 1}"#, 0.001)
        .await;
    fake.answer(SONNET, r#"{"city": "Paris", "population": 1}"#, 0.001)
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "Capital?", "model": SONNET, "fallback_models": [FIRST],
                   "response_format": city_schema()}),
        )
        .await;
    assert_eq!(out["model"], FIRST);
    assert_eq!(out["attempts"][0]["model"], SONNET);
    assert_eq!(out["attempts"][0]["outcome"], "skipped");
    assert!(
        out["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("structured_outputs"),
        "{out}"
    );
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "Capital?", "model": SONNET, "fallback_models": [],
                   "response_format": city_schema()}),
        )
        .await;
    assert!(
        error.contains("`response_format`") && error.contains("structured_outputs"),
        "{error}"
    );
    let compared = server
        .call_ok(
            "compare_models",
            json!({"prompt": "Capital?", "models": [FIRST, SONNET], "response_format": city_schema()}),
        )
        .await;
    assert_eq!(compared["results"][0]["json"]["city"], "Paris");
    assert_eq!(compared["results"][1]["ok"], false);
    assert!(
        compared["results"][1]["error"]
            .as_str()
            .unwrap()
            .contains("structured_outputs"),
        "{compared}"
    );
    assert!(
        fake.chat_requests(Some(SONNET)).await.is_empty(),
        "never asked"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_bad_schema_is_refused_before_anything_is_sent() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    for bad in [
        json!({"type": 12}),
        json!({}),
        json!({"$ref": "https://example.com/schema.json"}),
    ] {
        let error = server
            .call_err(
                "ask_model",
                json!({"prompt": "hi", "model": FIRST, "response_format": bad}),
            )
            .await;
        assert!(error.contains("`response_format`"), "{bad}: {error}");
    }
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "response_format": "json"}),
        )
        .await;
    assert!(error.contains("response_format"), "{error}");
    assert!(fake.chat_requests(None).await.is_empty());
    server.stop().await;
}
