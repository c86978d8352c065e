//! The API key never leaves the process, however upstream echoes it: in any string field of an
//! answer (plain JSON or streamed, split across chunks), straddling the cut of an error message,
//! percent-encoded or JSON-escaped, or in the catalog. It appears in no tool result (text or
//! structuredContent), no progress notification, no stderr line at `RUST_LOG=trace`, no
//! `/metrics` line and no row or byte of the SQLite file (nor any other file in the data dir).

// The http.rs helpers, which keeps its own copy private; this file uses a part of them.
#[path = "support/http_server.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod http_server;

use crate::support::fake::{CHAT, error};
use crate::support::mcp::params;
use crate::support::{FakeOpenRouter, McpServer, TEST_KEY};
use http_server::McpHttp;
use rmcp::model::{
    CallToolRequest, ClientRequest, NumberOrString, ProgressToken, RequestMetaObject,
};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

/// Streams the key in its id, model, provider, finish_reason and text (split across two chunks).
const STREAMED: &str = "openai/gpt-5-mini";
/// One JSON body with the key percent-encoded and JSON-escaped in every string field.
const PLAIN: &str = "anthropic/claude-sonnet-4.5";
/// A 400 whose message holds the key across the 300-character cut.
const CUT: &str = "x-ai/grok-4";
/// A stream that fails mid-way with an error chunk echoing the key in its code and message.
const MIDSTREAM: &str = "google/gemini-2.5-flash";
/// A 503 with the key percent-encoded in `metadata.raw` and plain in `metadata.error_type`.
const ENCODED: &str = "deepseek/deepseek-r1-0528";

fn percent(text: &str, upper: bool) -> String {
    let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
    if upper {
        encoded
    } else {
        encoded.to_lowercase()
    }
}

/// Every way a leak of the key could show in `text`: the key, its first 10 characters (what a cut
/// leaves), any 12-character piece of it, or its percent-encoded forms.
fn leaks(text: &str) -> Option<String> {
    let key = TEST_KEY;
    let mut forms = vec![key.to_string(), key[..10].to_string()];
    forms.extend((0..=key.len() - 12).map(|i| key[i..i + 12].to_string()));
    for upper in [true, false] {
        forms.push(percent(key, upper));
        forms.push(percent(&key[..10], upper));
    }
    forms.into_iter().find(|form| text.contains(form.as_str()))
}

fn assert_clean(place: &str, text: &str) {
    if let Some(form) = leaks(text) {
        let at = text.find(&form).unwrap_or(0);
        let around =
            &text.as_bytes()[at.saturating_sub(80)..(at + form.len() + 80).min(text.len())];
        let around = String::from_utf8_lossy(around);
        panic!("{place} leaked the key as {form:?}: …{around}…");
    }
}

fn chat_for(model: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(CHAT))
        .and(body_partial_json(json!({ "model": model })))
}

fn streamed_echo() -> String {
    let (head, tail) = TEST_KEY.split_at(14);
    let chunk = |content: &str, finish: Value| {
        json!({"id": TEST_KEY, "model": TEST_KEY, "provider": TEST_KEY,
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}]})
    };
    let mut last = chunk("", json!(TEST_KEY));
    last["usage"] =
        json!({"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8, "cost": 0.001});
    format!(
        ": OPENROUTER PROCESSING\n\ndata: {}\n\ndata: {}\n\ndata: {last}\n\ndata: [DONE]\n\n",
        chunk(&format!("Your key is {head}"), Value::Null),
        chunk(&format!("{tail}, keep it safe"), Value::Null),
    )
}

/// A JSON body written by hand: `\u0073` in the wire decodes to the key itself; `\\u0073` leaves a
/// literal backslash form in the decoded string.
fn plain_echo() -> String {
    let rest = &TEST_KEY[1..];
    let upper = percent(TEST_KEY, true);
    let lower = percent(TEST_KEY, false);
    format!(
        r#"{{"id":"{upper}","model":"\u0073{rest}","provider":"\\u0073{rest}","object":"chat.completion",
"choices":[{{"index":0,"message":{{"role":"assistant","content":"encoded {lower} escaped \\u0073{rest} plain \u0073{rest}"}},"finish_reason":"stop"}}],
"usage":{{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8,"cost":0.002}}}}"#
    )
}

fn midstream_echo() -> String {
    let content = json!({"id": "gen-mid", "model": MIDSTREAM, "provider": "P",
        "choices": [{"index": 0, "delta": {"content": "partial "}, "finish_reason": null}]});
    let failure = json!({"id": "gen-mid", "model": MIDSTREAM,
        "error": {"code": TEST_KEY, "message": format!("provider saw {TEST_KEY}"),
                  "metadata": {"raw": TEST_KEY, "error_type": TEST_KEY}},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]});
    format!("data: {content}\n\ndata: {failure}\n\ndata: [DONE]\n\n")
}

/// The fixture catalog with the key in model names and modalities, plain and escaped.
fn echoing_catalog() -> Value {
    let mut catalog = crate::support::catalog_fixture();
    let models = catalog["data"].as_array_mut().unwrap();
    models[0]["name"] = json!(format!("Echo {TEST_KEY}"));
    models[1]["name"] = json!(format!("Encoded {}", percent(TEST_KEY, true)));
    models[2]["architecture"]["input_modalities"] = json!(["text", TEST_KEY]);
    catalog
}

async fn echoing_fake() -> FakeOpenRouter {
    let fake = FakeOpenRouter::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(echoing_catalog()))
        .with_priority(1)
        .mount(&fake.server)
        .await;
    chat_for(STREAMED)
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-echo", TEST_KEY)
                .set_body_raw(streamed_echo(), "text/event-stream"),
        )
        .mount(&fake.server)
        .await;
    chat_for(PLAIN)
        .respond_with(ResponseTemplate::new(200).set_body_raw(plain_echo(), "application/json"))
        .mount(&fake.server)
        .await;
    let straddling = format!("{}{TEST_KEY} was refused", "x".repeat(290));
    chat_for(CUT)
        .respond_with(error(400, &straddling))
        .mount(&fake.server)
        .await;
    chat_for(MIDSTREAM)
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(midstream_echo(), "text/event-stream"),
        )
        .mount(&fake.server)
        .await;
    let encoded = json!({"error": {"code": 503, "message": "Provider returned error",
        "metadata": {"raw": format!("callback https://p.example/?key={}", percent(TEST_KEY, true)),
                     "error_type": TEST_KEY}}});
    chat_for(ENCODED)
        .respond_with(ResponseTemplate::new(503).set_body_json(encoded))
        .mount(&fake.server)
        .await;
    fake
}

/// Every call the tests make: each echoing model alone, the catalog, then side by side.
fn calls() -> Vec<(&'static str, Value)> {
    let mut calls: Vec<(&str, Value)> = [STREAMED, PLAIN, CUT, MIDSTREAM, ENCODED]
        .into_iter()
        .map(|m| {
            (
                "ask_model",
                json!({"prompt": "echo", "model": m, "fallback_models": []}),
            )
        })
        .collect();
    calls.push(("list_models", json!({"limit": 50})));
    calls.push((
        "compare_models",
        json!({"prompt": "side by side", "models": [STREAMED, PLAIN, CUT, ENCODED]}),
    ));
    calls
}

/// Every text column of every table of the store, then every byte of every file in the data
/// dir (the database, its WAL, the saved catalog).
fn assert_data_dir_clean(dir: &Path) {
    let db = dir.join("switchboard.db");
    assert!(db.exists(), "the store was written at {}", db.display());
    let connection = rusqlite::Connection::open(&db).unwrap();
    let mut rows = 0;
    for table in tables(&connection) {
        let mut query = connection
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .unwrap();
        let columns = query.column_count();
        let mut result = query.query([]).unwrap();
        while let Some(row) = result.next().unwrap() {
            rows += 1;
            for index in 0..columns {
                let text = match row.get_ref(index).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    _ => continue,
                };
                assert_clean(&format!("table {table}"), &text);
            }
        }
    }
    assert!(rows > 0, "the store holds rows to check");
    drop(connection);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert_clean(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
}

fn tables(connection: &rusqlite::Connection) -> Vec<String> {
    let mut query = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap();
    let names = query.query_map([], |r| r.get::<_, String>(0)).unwrap();
    names.map(Result::unwrap).collect()
}

/// The answers really came through, with the key masked (not the calls failing).
fn assert_answers_masked(streamed: &Value, plain: &Value) {
    let streamed = &streamed["structuredContent"];
    assert_eq!(
        streamed["text"], "Your key is [redacted], keep it safe",
        "{streamed}"
    );
    assert_eq!(streamed["provider"], "[redacted]");
    assert_eq!(streamed["generation_id"], "[redacted]");
    assert_eq!(streamed["finish_reason"], "[redacted]");
    let plain = &plain["structuredContent"];
    assert_eq!(
        plain["text"], "encoded [redacted] escaped [redacted] plain [redacted]",
        "{plain}"
    );
    assert_eq!(plain["provider"], "[redacted]");
    assert_eq!(plain["generation_id"], "[redacted]");
}

/// `ask_model` with a progress token and the cache bypassed, so the stream is read again while
/// progress is reported; returns the result as text.
async fn ask_with_progress(server: &McpServer, model: &str) -> String {
    let mut call = params(
        "ask_model",
        json!({"prompt": "echo", "model": model, "fallback_models": [], "cache": "bypass"}),
    );
    call.meta = Some(RequestMetaObject::with_progress_token(ProgressToken(
        NumberOrString::Number(1),
    )));
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(call));
    let handle = server
        .client
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .unwrap();
    format!("{:?}", handle.await_response().await.unwrap())
}

#[tokio::test]
async fn over_stdio_the_key_reaches_no_output_log_or_store() {
    let fake = echoing_fake().await;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let env = [
        ("RUST_LOG", "trace"),
        ("SWITCHBOARD_CACHE", "sqlite"),
        ("SWITCHBOARD_DATA_DIR", dir.as_str()),
    ];
    let server = McpServer::start_with(&fake, &env).await;
    let mut results = Vec::new();
    for (tool, args) in calls() {
        let result = serde_json::to_value(server.call(tool, args).await).unwrap();
        assert_clean(&format!("{tool} result"), &result.to_string());
        results.push(result);
    }
    assert_answers_masked(&results[0], &results[1]);
    let catalog = results[5].to_string();
    assert!(catalog.contains("Echo [redacted]"), "{catalog:.400}");
    let cut = results[2]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        cut.contains("HTTP 400: xxx"),
        "the cut error is reported: {cut}"
    );
    let streamed = ask_with_progress(&server, STREAMED).await;
    assert_clean("ask_model result with progress", &streamed);
    let progress = server.progress.progress.lock().unwrap().clone();
    assert_clean("progress notifications", &format!("{progress:?}"));
    let stderr = server.stop().await;
    assert!(stderr.contains("TRACE"), "trace logs were on");
    assert_clean("stderr", &stderr);
    assert_data_dir_clean(data_dir.path());
}

#[tokio::test]
async fn over_http_with_native_routing_the_key_reaches_no_output_log_metrics_or_store() {
    let fake = echoing_fake().await;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let env = [
        ("RUST_LOG", "trace"),
        ("SWITCHBOARD_CACHE", "sqlite"),
        ("SWITCHBOARD_DATA_DIR", dir.as_str()),
        ("SWITCHBOARD_ROUTING", "native"),
    ];
    let mut server = http_server::start(&fake.base_url(), &[], &env).await;
    let mut mcp = McpHttp::new(server.url("/mcp"), None);
    mcp.initialize().await;
    let mut results = Vec::new();
    for (tool, args) in calls() {
        let result = mcp.call(tool, args).await;
        assert_clean(&format!("{tool} result over http"), &result.to_string());
        results.push(result);
    }
    assert_answers_masked(&results[0], &results[1]);
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("switchboard_model_answers_total"),
        "{metrics}"
    );
    assert_clean("/metrics", &metrics);
    server.sigterm();
    assert!(server.wait_exit(Duration::from_secs(20)).await.is_some());
    let stderr = server.stderr();
    assert!(stderr.contains("TRACE"), "trace logs were on");
    assert_clean("stderr over http", &stderr);
    assert_data_dir_clean(data_dir.path());
}
