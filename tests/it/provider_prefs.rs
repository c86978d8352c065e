//! `provider`: OpenRouter provider preferences passed through, merged key by key over
//! `SWITCHBOARD_PROVIDER`; unknown keys and bad values are refused before anything is sent, and
//! a bad `SWITCHBOARD_PROVIDER` stops the server at start-up.

use crate::support::mcp::{BIN, base_env};
use crate::support::{FakeOpenRouter, McpServer};
use serde_json::json;

const FIRST: &str = "openai/gpt-5-mini";
const CONFIGURED: &str = r#"{"sort": "price", "data_collection": "deny"}"#;

#[tokio::test]
async fn provider_preferences_are_merged_over_the_configured_default() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, "Routed.", 0.001).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_PROVIDER", CONFIGURED)]).await;
    server
        .call_ok(
            "ask_model",
            json!({"prompt": "one", "model": FIRST, "fallback_models": [],
                   "provider": {"sort": "latency", "only": ["openai"], "max_price": {"prompt": 2}}}),
        )
        .await;
    server
        .call_ok(
            "ask_model",
            json!({"prompt": "two", "model": FIRST, "fallback_models": []}),
        )
        .await;
    let sent = fake.chat_requests(Some(FIRST)).await;
    assert_eq!(
        sent[0]["provider"],
        json!({"sort": "latency", "data_collection": "deny", "only": ["openai"], "max_price": {"prompt": 2}}),
        "the call's keys win, the others stay"
    );
    assert_eq!(
        sent[1]["provider"],
        json!({"sort": "price", "data_collection": "deny"})
    );
    let second = "google/gemini-2.5-flash";
    fake.answer(second, "Routed too.", 0.001).await;
    server
        .call_ok(
            "compare_models",
            json!({"prompt": "three", "models": [FIRST, second], "provider": {"zdr": true},
                   "reasoning": {"effort": "low"}}),
        )
        .await;
    for model in [FIRST, second] {
        let sent = fake.chat_requests(Some(model)).await;
        let last = sent.last().unwrap();
        assert_eq!(
            last["provider"],
            json!({"sort": "price", "data_collection": "deny", "zdr": true}),
            "{model}"
        );
        assert_eq!(last["reasoning"], json!({"effort": "low"}), "{model}");
    }
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_key_or_a_bad_value_is_refused_naming_the_key() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let cases = [
        (
            json!({"speed": "fast"}),
            "`provider.speed`",
            "order, only, ignore",
        ),
        (
            json!({"sort": "fastest"}),
            "`provider.sort`",
            "price, throughput, latency",
        ),
        (json!({"zdr": "yes"}), "`provider.zdr`", "true or false"),
        (json!({"order": "openai"}), "`provider.order`", "list"),
        (
            json!({"quantizations": ["fp7"]}),
            "`provider.quantizations`",
            "fp8",
        ),
        (
            json!({"max_price": {"prompt": -1}}),
            "`provider.max_price`",
            "0 or more",
        ),
    ];
    for (provider, key, fix) in cases {
        for tool in ["ask_model", "compare_models"] {
            let args = json!({"prompt": "hi", "models": [FIRST, "google/gemini-2.5-flash"],
                              "provider": provider});
            let args = if tool == "ask_model" {
                json!({"prompt": "hi", "provider": provider})
            } else {
                args
            };
            let error = server.call_err(tool, args).await;
            assert!(
                error.contains(key) && error.contains(fix),
                "{tool} {provider}: {error}"
            );
        }
    }
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "nothing was sent"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_bad_configured_provider_stops_the_server_at_start() {
    let fake = FakeOpenRouter::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(BIN)
        .arg("stdio")
        .env_clear()
        .envs(base_env(&fake, data_dir.path()))
        .env("SWITCHBOARD_PROVIDER", r#"{"sort": "fastest"}"#)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SWITCHBOARD_PROVIDER") && stderr.contains("`sort`"),
        "{stderr}"
    );
}
