//! `reasoning`: the effort (or budget) is sent as OpenRouter's `reasoning` object and the
//! reasoning tokens come back in `usage`; a model that cannot honour it is skipped, a model whose
//! reasoning is mandatory is never sent a disable, and an effort outside the four is refused
//! before anything is sent.

use crate::support::fake::ReasoningModel;
use crate::support::{FakeOpenRouter, McpServer, catalog_fixture};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FIRST: &str = "openai/gpt-5-mini";
const SECOND: &str = "google/gemini-2.5-flash";
/// No reasoning parameters in the fixture catalog.
const MISTRAL: &str = "mistralai/mistral-small-3.2-24b-instruct";

fn thinker(reasoning: u64, answer: &str) -> ReasoningModel {
    ReasoningModel {
        reasoning,
        answer: answer.to_string(),
        usd_per_token: 0.000_001,
    }
}

/// The fixture catalog with `reasoning` objects: FIRST's reasoning is mandatory and takes three
/// efforts; SECOND's can be turned off.
async fn fake_with_reasoning_objects() -> FakeOpenRouter {
    let mut catalog = catalog_fixture();
    for model in catalog["data"].as_array_mut().unwrap() {
        let reasoning = match model["id"].as_str() {
            Some(FIRST) => json!({"mandatory": true, "default_effort": "medium",
                                  "supported_efforts": ["low", "medium", "high"], "supports_max_tokens": false}),
            Some(SECOND) => json!({"mandatory": false, "supports_max_tokens": true}),
            _ => continue,
        };
        model["reasoning"] = reasoning;
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(catalog))
        .mount(&server)
        .await;
    FakeOpenRouter { server }
}

fn attempt_error(out: &Value, index: usize) -> String {
    out["attempts"][index]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_effort_is_sent_and_the_reasoning_tokens_are_reported() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(FIRST, thinker(200, "Done thinking.")).await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "Think hard.", "model": FIRST, "fallback_models": [],
                   "max_tokens": 1000, "reasoning": {"effort": "high", "exclude": true}}),
        )
        .await;
    assert_eq!(out["text"], "Done thinking.");
    assert_eq!(out["usage"]["reasoning_tokens"], 200);
    let sent = &fake.chat_requests(Some(FIRST)).await[0];
    assert_eq!(
        sent["reasoning"],
        json!({"effort": "high", "exclude": true})
    );
    let low = server
        .call_ok(
            "ask_model",
            json!({"prompt": "Think hard.", "model": FIRST, "fallback_models": [],
                   "max_tokens": 1000, "reasoning": {"effort": "low"}}),
        )
        .await;
    assert_eq!(low["cached"], false, "another effort is another answer");
    let sent = fake.chat_requests(Some(FIRST)).await;
    assert_eq!(sent[1]["reasoning"], json!({"effort": "low"}));
    server.stop().await;
}

#[tokio::test]
async fn a_model_that_cannot_reason_is_skipped_and_alone_is_refused() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(FIRST, thinker(10, "Fine.")).await;
    fake.answer(MISTRAL, "Fine.", 0.001).await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": MISTRAL, "fallback_models": [FIRST],
                   "reasoning": {"effort": "low"}}),
        )
        .await;
    assert_eq!(out["model"], FIRST);
    assert_eq!(out["attempts"][0]["outcome"], "skipped");
    assert!(
        attempt_error(&out, 0).contains("does not support reasoning"),
        "{out}"
    );
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "model": MISTRAL, "fallback_models": [],
                   "reasoning": {"max_tokens": 500}}),
        )
        .await;
    assert!(
        error.contains("`reasoning`") && error.contains("does not support reasoning"),
        "{error}"
    );
    assert!(
        fake.chat_requests(Some(MISTRAL)).await.is_empty(),
        "never asked"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_effort_outside_the_four_or_a_bad_shape_is_refused_before_anything_is_sent() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "reasoning": {"effort": "max"}}),
        )
        .await;
    assert!(
        error.contains("`reasoning.effort`") && error.contains("minimal, low, medium, high"),
        "{error}"
    );
    for bad in [
        json!({"effort": "low", "max_tokens": 100}),
        json!({"enabled": false}),
        json!({}),
    ] {
        let error = server
            .call_err("ask_model", json!({"prompt": "hi", "reasoning": bad}))
            .await;
        assert!(error.contains("`reasoning"), "{bad}: {error}");
    }
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "max_tokens": 500, "reasoning": {"max_tokens": 800}}),
        )
        .await;
    assert!(error.contains("raise max_tokens"), "{error}");
    assert!(fake.chat_requests(None).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn mandatory_reasoning_is_never_sent_a_disable_and_unlisted_efforts_are_skipped() {
    let fake = fake_with_reasoning_objects().await;
    fake.reasoning(FIRST, thinker(10, "Mandatory thinker."))
        .await;
    fake.reasoning(SECOND, thinker(0, "Optional thinker."))
        .await;
    let server = McpServer::start(&fake).await;
    let off = json!({"max_tokens": 0});
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "quick", "model": FIRST, "fallback_models": [], "reasoning": off}),
        )
        .await;
    let note = out["attempts"][0]["note"].as_str().unwrap_or_default();
    assert!(note.contains("mandatory"), "the attempt says why: {out}");
    let sent = &fake.chat_requests(Some(FIRST)).await[0];
    assert!(sent.get("reasoning").is_none(), "no disable sent: {sent}");
    server
        .call_ok(
            "ask_model",
            json!({"prompt": "quick", "model": SECOND, "fallback_models": [], "reasoning": off}),
        )
        .await;
    let sent = &fake.chat_requests(Some(SECOND)).await[0];
    assert_eq!(sent["reasoning"], json!({"enabled": false}));
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "slow", "model": FIRST, "fallback_models": [SECOND],
                   "reasoning": {"effort": "minimal"}}),
        )
        .await;
    assert_eq!(out["model"], SECOND);
    assert!(
        attempt_error(&out, 0).contains("low, medium, high"),
        "{out}"
    );
    let sent = fake.chat_requests(Some(SECOND)).await;
    assert_eq!(sent[1]["reasoning"], json!({"effort": "minimal"}));
    assert_eq!(
        fake.chat_requests(Some(FIRST)).await.len(),
        1,
        "FIRST skipped"
    );
    server.stop().await;
}
