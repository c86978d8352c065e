//! Any OpenAI-compatible upstream, with the accounting intact: usage asked for on the stream and
//! priced from the catalog, a gateway's OpenAI-shaped `/models` behind the key, a spent OpenRouter
//! budget (403) that stops, `max_completion_tokens` learnt from a 400, and `check` on a gateway.

use crate::support::fake::{FakeGateway, openai_model_list};
use crate::support::mcp::{BIN, env_for};
use crate::support::{FakeOpenRouter, McpServer, catalog_fixture};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, Request, ResponseTemplate};

/// The fixture's price of openai/gpt-5-mini ($0.25 / $2 per 1M) on 12 prompt + 7 completion tokens.
const PRICED_COST: f64 = 0.000017;

async fn ask(server: &McpServer, model: &str, extra: Value) -> Value {
    let mut args =
        json!({"prompt": "hi", "model": model, "fallback_models": [], "cache": "bypass"});
    args.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    server.call_ok("ask_model", args).await
}

#[tokio::test]
async fn a_gateway_without_cost_is_asked_for_usage_and_priced_from_the_catalog() {
    let gateway = FakeGateway::start(catalog_fixture()).await;
    gateway.answer("openai/gpt-5-mini", "Paris.").await;
    let budget = [("SWITCHBOARD_BUDGET_USD", "1")];
    let server = McpServer::start_at(&gateway.base_url(), &budget).await;
    let out = ask(&server, "openai/gpt-5-mini", json!({})).await;
    assert_eq!(out["text"], "Paris.");
    let usage = &out["usage"];
    assert_eq!(
        (
            usage["prompt_tokens"].as_u64(),
            usage["completion_tokens"].as_u64()
        ),
        (Some(12), Some(7))
    );
    assert_eq!(usage["cost_source"], "catalog");
    assert_eq!(
        usage["cost_usd"], PRICED_COST,
        "exact decimal price of the tokens"
    );
    let sent = gateway.chat_requests().await;
    assert_eq!(sent[0]["stream_options"], json!({"include_usage": true}));
    let status = server.call_ok("account_status", json!({})).await;
    assert_eq!(status["budget"]["spent_usd"], PRICED_COST, "{status}");
    assert!(
        status["key_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("this upstream has no key endpoint")),
        "a gateway's missing GET /key is said plainly: {status}"
    );
    assert_eq!(
        status["by_model"],
        json!([{"model": "openai/gpt-5-mini", "cost_source": "catalog", "calls": 1, "cost_usd": PRICED_COST}])
    );
    server.stop().await;
}

#[tokio::test]
async fn a_gateway_list_is_the_catalog_and_its_unknown_prices_keep_the_worst_case_charged() {
    let gateway = FakeGateway::start(openai_model_list(&["gpt-4o-mini", "local-mock"])).await;
    gateway.answer("local-mock", "A mock answer.").await;
    let env = [
        ("SWITCHBOARD_DEFAULT_MODEL", "local-mock"),
        ("SWITCHBOARD_FALLBACK_MODELS", "gpt-4o-mini"),
        ("SWITCHBOARD_BUDGET_USD", "0.0025"),
        ("SWITCHBOARD_UNKNOWN_PRICE", "1"),
    ];
    let server = McpServer::start_at(&gateway.base_url(), &env).await;
    let listed = server.call_ok("list_models", json!({})).await;
    assert_eq!(listed["catalog"]["source"], "live", "{listed}");
    let ids: Vec<&str> = listed["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        ids.contains(&"gpt-4o-mini") && ids.contains(&"local-mock"),
        "{ids:?}"
    );
    let model = &listed["models"][0];
    assert!(
        model["prompt_price_per_m"].is_null() && model["context_length"].is_null(),
        "{model}"
    );
    let free = server
        .call_ok("list_models", json!({"free_only": true}))
        .await;
    assert_eq!(free["total"], 0, "an unknown price is never free");

    // 8 prompt tokens + max_tokens 1000 at the assumed $1 per 1M: a $0.001008 worst case.
    let out = ask(&server, "local-mock", json!({"max_tokens": 1000})).await;
    assert_eq!(out["usage"]["completion_tokens"], 7, "tokens counted");
    assert_eq!(out["usage"]["cost_source"], "unknown");
    assert_eq!(
        out["usage"]["cost_usd"], 0.001008,
        "the worst case stays charged"
    );
    ask(&server, "local-mock", json!({"max_tokens": 1000})).await;
    let refused = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "max_tokens": 1000, "cache": "bypass"}),
        )
        .await;
    assert!(refused.contains("SWITCHBOARD_BUDGET_USD"), "{refused}");
    assert_eq!(
        gateway.chat_requests().await.len(),
        2,
        "the third call sent nothing"
    );
    let status = server.call_ok("account_status", json!({})).await;
    assert_eq!(status["budget"]["spent_usd"], 0.002016, "{status}");
    assert_eq!(
        status["by_model"],
        json!([{"model": "local-mock", "cost_source": "unknown", "calls": 2, "cost_usd": 0.002016}])
    );
    server.stop().await;
}

#[tokio::test]
async fn without_an_assumed_price_a_budget_refuses_an_unpriced_model_and_says_what_to_set() {
    let gateway = FakeGateway::start(openai_model_list(&["local-mock"])).await;
    gateway.answer("local-mock", "never sent").await;
    let env = [("SWITCHBOARD_BUDGET_USD", "1")];
    let server = McpServer::start_at(&gateway.base_url(), &env).await;
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "model": "local-mock", "fallback_models": []}),
        )
        .await;
    assert!(error.contains("SWITCHBOARD_UNKNOWN_PRICE"), "{error}");
    assert!(gateway.chat_requests().await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_spent_workspace_budget_stops_after_one_request_and_moderation_still_falls_back() {
    let fake = FakeOpenRouter::start().await;
    let spent = "Workspace monthly budget of $500.00 exceeded. Contact your workspace admin.";
    fake.fail("openai/gpt-5-mini", 403, spent).await;
    let flagged = json!({"error": {"code": 403, "message": "Your input was flagged for \"harassment\".",
        "metadata": {"reasons": ["harassment"], "flagged_input": "hi", "provider_name": "OpenAI",
                     "model_slug": "x-ai/grok-4"}}});
    Mock::given(method("POST"))
        .and(path(crate::support::fake::CHAT))
        .and(body_partial_json(json!({"model": "x-ai/grok-4"})))
        .respond_with(ResponseTemplate::new(403).set_body_json(flagged))
        .mount(&fake.server)
        .await;
    fake.answer("google/gemini-2.5-flash", "Fallback answer.", 0.0001)
        .await;
    let server = McpServer::start(&fake).await;
    let stopped = server.call_err("ask_model", json!({"prompt": "hi"})).await;
    assert!(
        stopped.contains("budget") && stopped.contains("raise it"),
        "{stopped}"
    );
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "no fallback was paid for or tried"
    );
    let out = server
        .call_ok("ask_model", json!({"prompt": "hi", "model": "x-ai/grok-4"}))
        .await;
    assert_eq!(out["model"], "google/gemini-2.5-flash");
    assert_eq!(out["attempts"][0]["outcome"], "fell_back");
    server.stop().await;
}

/// Whether a request body names `field` (with any value).
struct HasField(&'static str);

impl wiremock::Match for HasField {
    fn matches(&self, request: &Request) -> bool {
        serde_json::from_slice::<Value>(&request.body).is_ok_and(|b| b.get(self.0).is_some())
    }
}

#[tokio::test]
async fn a_400_refusing_max_tokens_is_retried_once_with_max_completion_tokens_and_remembered() {
    let gateway = FakeGateway::start(catalog_fixture()).await;
    let refusal = json!({"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}});
    Mock::given(method("POST"))
        .and(path(FakeGateway::CHAT))
        .and(HasField("max_tokens"))
        .respond_with(ResponseTemplate::new(400).set_body_json(refusal))
        .with_priority(1)
        .mount(&gateway.server)
        .await;
    gateway.answer("openai/gpt-5-mini", "Reasoned.").await;
    let server = McpServer::start_at(&gateway.base_url(), &[]).await;
    let first = ask(&server, "openai/gpt-5-mini", json!({"max_tokens": 300})).await;
    assert_eq!(first["text"], "Reasoned.");
    assert_eq!(first["attempts"].as_array().unwrap().len(), 1, "{first}");
    ask(&server, "openai/gpt-5-mini", json!({"max_tokens": 300})).await;
    let sent = gateway.chat_requests().await;
    assert_eq!(sent.len(), 3, "one retry, then the right name first");
    assert_eq!(sent[0]["max_tokens"], 300);
    for later in &sent[1..] {
        assert_eq!(later["max_completion_tokens"], 300);
        assert!(later.get("max_tokens").is_none(), "{later}");
    }
    server.stop().await;
}

async fn check(base_url: &str, args: &[&str], extra: &[(&str, &str)]) -> (i32, String) {
    let data_dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env_for(base_url, data_dir.path()))
        .envs(extra.iter().copied())
        .output()
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[tokio::test]
async fn check_passes_on_a_gateway_without_a_key_endpoint_and_chats_when_asked() {
    let gateway = FakeGateway::start(openai_model_list(&["local-mock", "other-mock"])).await;
    gateway.answer("local-mock", "ok").await;
    let env = [
        ("SWITCHBOARD_DEFAULT_MODEL", "local-mock"),
        ("SWITCHBOARD_FALLBACK_MODELS", "other-mock"),
    ];
    let (code, stdout) = check(&gateway.base_url(), &["check"], &env).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("ok   key: accepted by GET /models; this upstream has no key endpoint"),
        "{stdout}"
    );
    assert!(stdout.contains("ok   catalog: 2 models, live"), "{stdout}");
    assert!(
        gateway.chat_requests().await.is_empty(),
        "no chat without --chat"
    );
    let (code, stdout) = check(&gateway.base_url(), &["check", "--chat"], &env).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("ok   chat: local-mock answered"),
        "{stdout}"
    );
    assert!(
        stdout.contains("12 prompt + 7 completion tokens, cost $0 (unknown)"),
        "an unpriced answer: {stdout}"
    );
    let (code, stdout) = check(
        &gateway.base_url(),
        &["check"],
        &[("OPENROUTER_API_KEY", "sk-wrong-key")],
    )
    .await;
    assert_eq!(code, 1, "a key the gateway refuses fails: {stdout}");
    assert!(stdout.contains("FAIL key: GET /models failed"), "{stdout}");
}
