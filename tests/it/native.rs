//! `SWITCHBOARD_ROUTING=native`: the chain goes to OpenRouter as one request with a `models`
//! array, and the answer names the catalog id of the model that answered.

use crate::support::fake::{CHAT, sse_answer};
use crate::support::{FakeOpenRouter, McpServer};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn one_request_carries_the_chain_and_the_answer_names_the_catalog_id() {
    let fake = FakeOpenRouter::start().await;
    // OpenRouter answers with the dated canonical slug of the fallback that served the call.
    let body = sse_answer(
        "anthropic/claude-4.5-sonnet-20250929",
        "native fallback",
        0.004,
    );
    Mock::given(method("POST"))
        .and(path(CHAT))
        .and(body_partial_json(
            json!({"models": ["openai/gpt-5-mini", "anthropic/claude-sonnet-4.5"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&fake.server)
        .await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_ROUTING", "native")]).await;

    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "fallback_models": ["anthropic/claude-sonnet-4.5"]}),
        )
        .await;
    assert_eq!(out["text"], "native fallback");
    assert_eq!(out["model"], "anthropic/claude-sonnet-4.5");
    assert_eq!(out["requested_model"], "openai/gpt-5-mini");
    assert_eq!(out["usage"]["cost_usd"], 0.004);
    let sent = fake.chat_requests(None).await;
    assert_eq!(sent.len(), 1, "one upstream request for the whole chain");
    assert_eq!(sent[0]["model"], "openai/gpt-5-mini");
    assert_eq!(
        sent[0]["models"],
        json!(["openai/gpt-5-mini", "anthropic/claude-sonnet-4.5"])
    );
    server.stop().await;
}
