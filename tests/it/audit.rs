//! `SWITCHBOARD_AUDIT_LOG`: two server processes (stdio and HTTP) append to one file at once; every
//! tool call (answered, fallen back, failed, cached, refused by the budget, free) leaves exactly
//! one whole JSON line with who, what, which models and attempts, tokens, cost and outcome, and
//! the file holds no prompt, no answer, no key and no token.

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "support/http_server.rs"]
mod http_server;

use crate::support::mcp::McpServer;
use crate::support::{FakeOpenRouter, TEST_KEY};
use http_server::{McpHttp, TOKEN, start};
use serde_json::{Value, json};

const MODEL: &str = "openai/gpt-5-mini";
const FLAKY: &str = "google/gemini-2.5-flash";
const BROKEN: &str = "anthropic/claude-sonnet-4.5";
const ANSWER: &str = "ANSWER-7d41-the-model-said-this";
const PROMPTS: [&str; 6] = [
    "PROMPT-a1-answered",
    "PROMPT-b2-fallback",
    "PROMPT-c3-all-fail",
    "PROMPT-d4-compare",
    "PROMPT-e5-refused",
    "PROMPT-f6-compare-refused",
];

/// The stdio process: answered, cached, fallen back, failed and compared calls.
async fn stdio_calls(server: &McpServer) {
    let ask = json!({"model": MODEL, "fallback_models": [], "prompt": PROMPTS[0]});
    server.call_ok("ask_model", ask.clone()).await;
    let hit = server.call_ok("ask_model", ask).await;
    assert_eq!(hit["cached"], true);
    let fallback = json!({"model": FLAKY, "fallback_models": [MODEL], "prompt": PROMPTS[1]});
    let fell = server.call_ok("ask_model", fallback).await;
    assert_eq!(fell["model"], MODEL);
    let dead = json!({"model": BROKEN, "fallback_models": [], "prompt": PROMPTS[2]});
    server.call_err("ask_model", dead).await;
    let compare = json!({"models": [MODEL, BROKEN], "prompt": PROMPTS[3], "cache": "bypass"});
    server.call_ok("compare_models", compare).await;
}

/// The HTTP process, with a budget too small for anything: refused calls and a free one.
async fn http_calls(client: &mut McpHttp) {
    client.initialize().await;
    let refused = client
        .call("ask_model", json!({"model": MODEL, "prompt": PROMPTS[4]}))
        .await;
    assert_eq!(refused["isError"], true, "{refused}");
    let compare = json!({"models": [MODEL, FLAKY], "prompt": PROMPTS[5]});
    let compared = client.call("compare_models", compare).await;
    assert_eq!(
        compared["structuredContent"]["results"][0]["ok"], false,
        "{compared}"
    );
    let listed = client.call("list_models", json!({"limit": 2})).await;
    assert_ne!(listed["isError"], true, "{listed}");
}

fn lines_of(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The one line of `tool`, not served from the cache, whose first paid call asked `requested` and
/// ended `outcome`.
fn find<'a>(lines: &'a [Value], tool: &str, outcome: &str, requested: Option<&str>) -> &'a Value {
    let found: Vec<&Value> = lines
        .iter()
        .filter(|l| l["tool"] == tool && l["outcome"] == outcome && l["cached"] == false)
        .filter(|l| requested.is_none_or(|r| l["consultations"][0]["requested_model"] == r))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{tool}/{outcome}/{requested:?} in {lines:#?}"
    );
    found[0]
}

#[tokio::test]
async fn two_processes_write_one_whole_line_per_call_and_no_secret() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FLAKY, 503, &format!("overloaded, key {TEST_KEY}"))
        .await;
    fake.fail(BROKEN, 500, "down").await;
    fake.answer(MODEL, ANSWER, 0.0042).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let log_env = log.display().to_string();
    let stdio = McpServer::start_with(&fake, &[("SWITCHBOARD_AUDIT_LOG", &log_env)]).await;
    let http_env = [
        ("SWITCHBOARD_AUDIT_LOG", log_env.as_str()),
        ("SWITCHBOARD_HTTP_TOKEN", TOKEN),
        ("SWITCHBOARD_BUDGET_USD", "0.000001"),
    ];
    let http = start(&fake.base_url(), &[], &http_env).await;
    let mut client = McpHttp::new(http.url("/mcp"), Some(TOKEN));
    tokio::join!(stdio_calls(&stdio), http_calls(&mut client));
    let text = std::fs::read_to_string(&log).unwrap();
    let lines = lines_of(&text);
    assert_eq!(lines.len(), 8, "one line per tool call:\n{text}");

    for line in &lines {
        for field in [
            "time",
            "tool",
            "transport",
            "outcome",
            "latency_ms",
            "cost_usd",
            "cached",
        ] {
            assert!(!line[field].is_null(), "no `{field}` in {line}");
        }
        assert!(line["client_name"].is_string(), "{line}");
        assert!(line["client_version"].is_string(), "{line}");
        assert!(
            humantime::parse_rfc3339(line["time"].as_str().unwrap()).is_ok(),
            "{line}"
        );
    }
    let answered = find(&lines, "ask_model", "ok", Some(MODEL));
    assert_eq!(answered["transport"], "stdio");
    assert!(
        answered["budget_left_usd"].is_null(),
        "no budget in this process: {answered}"
    );
    let first = &answered["consultations"][0];
    assert_eq!(first["model"], MODEL);
    assert_eq!(first["cached"], false);
    assert_eq!(first["prompt_tokens"], 12);
    assert_eq!(first["completion_tokens"], 7);
    assert_eq!(first["cost_usd"], 0.0042);
    assert_eq!(first["cost_source"], "upstream");
    assert_eq!(
        first["attempts"],
        json!([{"model": MODEL, "outcome": "ok", "latency_ms": first["attempts"][0]["latency_ms"]}])
    );

    let hits: Vec<&Value> = lines.iter().filter(|l| l["cached"] == true).collect();
    assert_eq!(hits.len(), 1, "{text}");
    assert_eq!(hits[0]["consultations"][0]["model"], MODEL);
    assert_eq!(hits[0]["cost_usd"], 0.0);

    let fell = find(&lines, "ask_model", "ok", Some(FLAKY));
    let attempts = fell["consultations"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.last().unwrap()["model"], MODEL);
    assert!(
        attempts
            .iter()
            .any(|a| a["model"] == FLAKY && a["outcome"] == "fell_back" && a["status"] == 503),
        "{fell}"
    );
    assert_eq!(fell["consultations"][0]["requested_model"], FLAKY);
    assert_eq!(fell["consultations"][0]["model"], MODEL);

    let failed = find(&lines, "ask_model", "failed", Some(BROKEN));
    let attempts = failed["consultations"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.last().unwrap()["outcome"], "failed", "{failed}");
    assert!(attempts.iter().all(|a| a["status"] == 500), "{failed}");
    assert_eq!(failed["cost_usd"], 0.0);

    let compared = lines
        .iter()
        .find(|l| l["tool"] == "compare_models" && l["transport"] == "stdio")
        .expect("the compare_models over stdio");
    assert_eq!(compared["outcome"], "ok");
    let outcomes: Vec<&Value> = compared["consultations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["outcome"])
        .collect();
    assert_eq!(outcomes.len(), 2, "{compared}");
    assert!(
        outcomes.contains(&&json!("ok")) && outcomes.contains(&&json!("failed")),
        "{compared}"
    );

    let refused = find(&lines, "ask_model", "refused", Some(MODEL));
    assert_eq!(refused["transport"], "http");
    assert!(
        refused["session"].is_string(),
        "the Mcp-Session-Id: {refused}"
    );
    assert_eq!(refused["budget_left_usd"], 0.000001);
    assert_eq!(refused["consultations"][0]["outcome"], "refused");
    let refused_compare = lines
        .iter()
        .find(|l| l["tool"] == "compare_models" && l["transport"] == "http")
        .expect("the refused compare_models");
    let verdicts: Vec<&Value> = refused_compare["consultations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["outcome"])
        .collect();
    assert_eq!(
        verdicts,
        [&json!("refused"), &json!("refused")],
        "{refused_compare}"
    );
    let free = find(&lines, "list_models", "ok", None);
    assert_eq!(free["consultations"], json!([]));

    for secret in PROMPTS
        .iter()
        .chain([&ANSWER, &TEST_KEY, &TOKEN, &&TEST_KEY[10..30]])
    {
        assert!(
            !text.contains(secret),
            "`{secret}` is in the audit log:\n{text}"
        );
    }
    drop(stdio);
}
