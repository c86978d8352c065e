//! The resources a host attaches to a conversation: the catalog and one model's record, this
//! server's spend by model and day, and router health (a failing model's cooldown), read with a
//! real MCP client from the real binary; and how the server introduces itself in `initialize`.

use crate::support::{FakeOpenRouter, McpServer, TEST_KEY};
use rmcp::ServiceError;
use rmcp::model::{CacheScope, ReadResourceRequestParams, ReadResourceResult, ResourceContents};
use serde_json::{Value, json};

const FIRST: &str = "openai/gpt-5-mini";
const SECOND: &str = "google/gemini-2.5-flash";

async fn read(server: &McpServer, uri: &str) -> Result<ReadResourceResult, ServiceError> {
    server
        .client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
}

/// The JSON body of `uri`, which must be one `application/json` text.
async fn read_json(server: &McpServer, uri: &str) -> (Value, ReadResourceResult) {
    let result = read(server, uri)
        .await
        .unwrap_or_else(|e| panic!("{uri}: {e}"));
    assert_eq!(result.contents.len(), 1, "{uri}");
    let ResourceContents::TextResourceContents {
        text,
        mime_type,
        uri: got,
        ..
    } = &result.contents[0]
    else {
        panic!("{uri} is not text");
    };
    assert_eq!(got, uri);
    assert_eq!(mime_type.as_deref(), Some("application/json"), "{uri}");
    assert!(!text.contains('\n'), "{uri} is compact JSON");
    assert!(!text.contains(TEST_KEY), "{uri} holds the key");
    let value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{uri}: {e}: {text}"));
    (value, result)
}

/// The JSON-RPC error a read gets.
async fn read_error(server: &McpServer, uri: &str) -> (i32, String) {
    match read(server, uri).await {
        Err(ServiceError::McpError(error)) => (error.code.0, error.message.to_string()),
        other => panic!("{uri} should fail: {other:?}"),
    }
}

#[tokio::test]
async fn every_resource_and_template_is_listed_and_reads_as_compact_json() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let listed = server.client.list_resources(None).await.unwrap().resources;
    let uris: Vec<&str> = listed.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "openrouter://models",
            "switchboard://usage",
            "switchboard://health"
        ]
    );
    for resource in &listed {
        assert!(
            resource.title.is_some() && resource.description.is_some(),
            "{}",
            resource.uri
        );
        assert_eq!(resource.mime_type.as_deref(), Some("application/json"));
        read_json(&server, &resource.uri).await;
    }
    let templates = server
        .client
        .list_resource_templates(None)
        .await
        .unwrap()
        .resource_templates;
    let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(
        uris,
        [
            "openrouter://models/{id}",
            "switchboard://answers/{id}",
            "switchboard://conversations/{id}"
        ]
    );
    for template in &templates {
        assert!(template.title.is_some(), "{}", template.uri_template);
        assert_eq!(template.mime_type.as_deref(), Some("application/json"));
    }

    let (catalog, result) = read_json(&server, "openrouter://models").await;
    assert_eq!(catalog["catalog"]["source"], "live");
    assert_eq!(catalog["models"].as_array().unwrap().len(), 9);
    let ttl = result
        .ttl_ms
        .expect("the catalog says how long it stays fresh");
    assert!(
        ttl > 3_500_000 && ttl <= 3_600_000,
        "SWITCHBOARD_CATALOG_TTL is 1h: {ttl}"
    );
    assert_eq!(result.cache_scope, Some(CacheScope::Public));

    // An RFC 6570 client expands {id} with `/` as %2F; both forms name the same model.
    let (plain, _) = read_json(&server, "openrouter://models/openai/gpt-5-mini").await;
    let (encoded, _) = read_json(&server, "openrouter://models/openai%2Fgpt-5-mini").await;
    assert_eq!(plain, encoded);
    assert_eq!(plain["id"], FIRST);
    assert_eq!(plain["prompt_price_per_m"], 0.25, "{plain}");
    assert_eq!(plain["completion_price_per_m"], 2.0, "{plain}");
    assert!(
        plain["context_length"].as_u64().is_some() && plain["supports"].is_array(),
        "{plain}"
    );
    server.stop().await;
}

#[tokio::test]
async fn unknown_resources_and_models_and_refused_models_are_errors_that_say_what_to_read() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start_with(
        &fake,
        &[("SWITCHBOARD_ALLOWED_MODELS", "openai/*,google/*")],
    )
    .await;
    let (code, message) = read_error(&server, "switchboard://nope").await;
    assert_eq!(code, -32002, "resource not found");
    assert!(
        message.contains("openrouter://models/{id}") && message.contains("switchboard://health"),
        "{message}"
    );

    let (code, message) = read_error(&server, "openrouter://models/openai/gpt-5-mimi").await;
    assert_eq!(code, -32002);
    assert!(message.contains(FIRST), "the closest id: {message}");

    let (_, message) = read_error(&server, "openrouter://models/x-ai/grok-4").await;
    assert!(message.contains("SWITCHBOARD_ALLOWED_MODELS"), "{message}");
    let (catalog, _) = read_json(&server, "openrouter://models").await;
    let ids: Vec<&str> = catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "only the models the policy allows: {ids:?}");

    let (code, message) = read_error(&server, "openrouter://models/a%2").await;
    assert_eq!(code, -32602, "a broken escape is a bad request");
    assert!(message.contains("openai/gpt-5-mini"), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn health_shows_the_failing_model_cooling_down_and_usage_shows_spend_by_day_and_model() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FIRST, 503, "Provider returned error").await;
    fake.answer(SECOND, "fallback", 0.25).await;
    let server = McpServer::start_with(
        &fake,
        &[
            ("SWITCHBOARD_COOLDOWN", "10m"),
            ("SWITCHBOARD_BUDGET_USD", "1"),
        ],
    )
    .await;
    let (before, _) = read_json(&server, "switchboard://health").await;
    assert_eq!(before["models"], json!([]), "{before}");
    server
        .call_ok("ask_model", json!({"prompt": "one", "cache": "bypass"}))
        .await;

    let (health, result) = read_json(&server, "switchboard://health").await;
    assert_eq!(result.ttl_ms, Some(0), "health is never stale-cached");
    let model = |id: &str| {
        health["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing: {health}"))
    };
    let failing = model(FIRST);
    assert_eq!(failing["failures_in_a_row"], 3, "{health}");
    assert_eq!(failing["cooling_down"], true);
    let left = failing["cooldown_left_s"].as_u64().unwrap();
    assert!(left > 500 && left <= 600, "{left}");
    assert!(
        failing["attempts"]["retried"].as_u64() >= Some(1),
        "{failing}"
    );
    let answering = model(SECOND);
    assert_eq!(
        (
            answering["cooling_down"].clone(),
            answering["attempts"]["ok"].clone()
        ),
        (json!(false), json!(1))
    );
    assert_eq!(
        health["cooldown"],
        json!({"after_failures": 3, "period_s": 600})
    );
    assert_eq!(health["catalog"]["source"], "live");
    assert_eq!(health["catalog"]["model_count"], 9);
    assert_eq!(health["store"]["ok"], true, "{health}");

    let (usage, _) = read_json(&server, "switchboard://usage").await;
    let today = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10]
        .to_string();
    assert_eq!(usage["days"][0]["day"], today.as_str(), "{usage}");
    assert_eq!(
        usage["days"][0]["models"],
        json!([{"model": SECOND, "calls": 1, "cost_usd": 0.25}])
    );
    assert_eq!(
        (usage["spent_usd"].clone(), usage["left_usd"].clone()),
        (json!(0.25), json!(0.75)),
        "{usage}"
    );
    assert_eq!(usage["period"], "day");
    server.stop().await;
}

#[tokio::test]
async fn initialize_names_the_server_with_a_title_icon_and_website_and_offers_resources_and_prompts()
 {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let info = server.client.peer_info().expect("initialize result");
    let me = info.server_info.as_ref().expect("serverInfo");
    assert_eq!(me.name, "openrouter-switchboard");
    assert_eq!(me.title.as_deref(), Some("OpenRouter Switchboard"));
    assert!(
        me.website_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        "{me:?}"
    );
    let icon = &me.icons.as_ref().expect("icons")[0];
    assert_eq!(icon.mime_type.as_deref(), Some("image/png"));
    let png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/icon.png")).unwrap();
    assert_eq!(
        icon.src.len(),
        "data:image/png;base64,".len() + png.len().div_ceil(3) * 4,
        "the whole packaging/icon.png"
    );
    assert!(icon.src.starts_with("data:image/png;base64,iVBORw0KGgo"));
    assert!(info.capabilities.resources.is_some() && info.capabilities.prompts.is_some());
    let tools = server.client.list_tools(None).await.unwrap();
    for tool in &tools.tools {
        assert!(
            tool.title.as_deref().is_some_and(|t| !t.is_empty()),
            "{} has a title",
            tool.name
        );
    }
    assert!(serde_json::to_string(&tools).unwrap().len() < 8 * 1024);
    server.stop().await;
}
