//! `list_models`: filters, sorts and pages exactly as SPEC says, checked against an independent
//! oracle over the raw catalog JSON, on the fixture catalog and on the real 371-model catalog when
//! `../shared/fixtures/openrouter/openrouter-models.json` is present. Also: where the catalog comes
//! from (live, saved, embedded). The MCP tests use the in-process harness (`support::inproc`).

use crate::support::{FakeOpenRouter, InProc, catalog_fixture};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use switchboard::catalog::search;
use switchboard::catalog::{Snapshot, Source};
use switchboard::openrouter::types::ModelsResponse;
use switchboard::tools::list_models::{ListModelsArgs, filter};

const REAL_CATALOG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/openrouter/openrouter-models.json"
);

/// A price per 1M tokens, or None when unknown ("-1"). A missing key is 0.
fn per_m(model: &Value, key: &str) -> Option<Decimal> {
    let text = model["pricing"][key].as_str().unwrap_or("0");
    let per_token = Decimal::from_str(text).ok()?;
    (per_token >= Decimal::ZERO).then(|| per_token * Decimal::from(1_000_000))
}

fn params(model: &Value) -> Vec<&str> {
    model["supported_parameters"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn has_capability(model: &Value, capability: &str) -> bool {
    let p = params(model);
    match capability {
        "reasoning" => p.contains(&"reasoning") || p.contains(&"include_reasoning"),
        "web_search" => p.contains(&"web_search_options"),
        other => p.contains(&other),
    }
}

/// The oracle: SPEC's rules written out plainly over the raw JSON.
fn expected(catalog: &[Value], args: &Value) -> (Vec<String>, usize) {
    let text = |k: &str| args[k].as_str().map(str::to_lowercase);
    let dec = |k: &str| {
        args[k]
            .as_f64()
            .map(|v| Decimal::from_str(&v.to_string()).unwrap())
    };
    let mut hits: Vec<&Value> = catalog
        .iter()
        .filter(|m| {
            let id = m["id"].as_str().unwrap().to_lowercase();
            let name = m["name"].as_str().unwrap_or("").to_lowercase();
            text("query").is_none_or(|q| id.contains(&q) || name.contains(&q))
                && text("provider").is_none_or(|p| id.split('/').next() == Some(p.as_str()))
                && args["min_context"]
                    .as_u64()
                    .is_none_or(|min| m["context_length"].as_u64().is_some_and(|c| c >= min))
                && dec("max_prompt_price")
                    .is_none_or(|max| per_m(m, "prompt").is_some_and(|p| p <= max))
                && dec("max_completion_price")
                    .is_none_or(|max| per_m(m, "completion").is_some_and(|p| p <= max))
                && args["supports"]
                    .as_array()
                    .is_none_or(|caps| caps.iter().all(|c| has_capability(m, c.as_str().unwrap())))
                && args["input_modality"].as_str().is_none_or(|wanted| {
                    m["architecture"]["input_modalities"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x == wanted)
                })
                && (args["free_only"] != true
                    || (per_m(m, "prompt") == Some(Decimal::ZERO)
                        && per_m(m, "completion") == Some(Decimal::ZERO)))
        })
        .collect();
    let id = |m: &Value| m["id"].as_str().unwrap().to_string();
    match args["sort"].as_str().unwrap_or("price") {
        "price" => hits.sort_by_key(|m| {
            let sum = per_m(m, "prompt")
                .zip(per_m(m, "completion"))
                .map(|(p, c)| p + c);
            (sum.is_none(), sum, id(m))
        }),
        "context" => hits.sort_by_key(|m| (std::cmp::Reverse(m["context_length"].as_u64()), id(m))),
        "newest" => hits.sort_by_key(|m| (std::cmp::Reverse(m["created"].as_i64()), id(m))),
        "name" => hits.sort_by_key(|m| (m["name"].as_str().unwrap().to_lowercase(), id(m))),
        other => panic!("no such sort {other}"),
    }
    let total = hits.len();
    let offset = args["offset"].as_u64().unwrap_or(0) as usize;
    let limit = args["limit"].as_u64().unwrap_or(20) as usize;
    (
        hits.into_iter().skip(offset).take(limit).map(id).collect(),
        total,
    )
}

fn cases() -> Vec<Value> {
    vec![
        json!({}),
        json!({"limit": 200}),
        json!({"query": "CLAUDE"}),
        json!({"query": "gpt", "sort": "name", "limit": 5, "offset": 2}),
        json!({"provider": "anthropic", "sort": "context"}),
        json!({"provider": "google", "sort": "newest", "limit": 7}),
        json!({"min_context": 200000, "sort": "price", "limit": 50}),
        json!({"max_prompt_price": 0.5, "max_completion_price": 2, "limit": 200}),
        json!({"max_prompt_price": 3, "limit": 200, "offset": 10}),
        json!({"supports": ["tools", "reasoning"], "limit": 30}),
        json!({"supports": ["web_search"], "sort": "name", "limit": 200}),
        json!({"supports": ["structured_outputs", "response_format"], "input_modality": "image", "limit": 100}),
        json!({"input_modality": "audio", "sort": "context", "limit": 200}),
        json!({"free_only": true, "sort": "newest", "limit": 200}),
        json!({"sort": "price", "offset": 360, "limit": 20}),
    ]
}

fn actual(snapshot: &Snapshot, args: &Value) -> (Vec<String>, usize) {
    let args: ListModelsArgs = serde_json::from_value(args.clone()).unwrap();
    let page = search::search(&snapshot.models, &filter(args).unwrap(), &|_| true);
    (
        page.models.iter().map(|m| m.id.clone()).collect(),
        page.total,
    )
}

fn check_catalog(raw: &Value) {
    let catalog = raw["data"].as_array().unwrap().clone();
    let response: ModelsResponse = serde_json::from_value(raw.clone()).unwrap();
    let snapshot = Snapshot::new(response.data, Source::Live, std::time::SystemTime::now());
    for case in cases() {
        assert_eq!(
            actual(&snapshot, &case),
            expected(&catalog, &case),
            "case {case}"
        );
    }
}

#[test]
fn filters_sorts_and_pages_the_fixture_catalog() {
    check_catalog(&catalog_fixture());
}

#[test]
fn filters_sorts_and_pages_the_real_catalog() {
    let Ok(text) = std::fs::read_to_string(REAL_CATALOG) else {
        eprintln!("note: {REAL_CATALOG} is not present; the real-catalog check did not run");
        return;
    };
    let raw: Value = serde_json::from_str(&text).unwrap();
    assert!(raw["data"].as_array().unwrap().len() > 300);
    check_catalog(&raw);
}

#[tokio::test]
async fn lists_through_mcp_with_prices_per_million_and_the_catalog_source() {
    let fake = FakeOpenRouter::start().await;
    let server = InProc::start(&fake).await;
    let out = server
        .call_ok("list_models", json!({"provider": "anthropic"}))
        .await;
    assert_eq!(out["total"], 1);
    let model = &out["models"][0];
    assert_eq!(model["id"], "anthropic/claude-sonnet-4.5");
    assert_eq!(model["name"], "Anthropic: Claude Sonnet 4.5");
    assert_eq!(model["context_length"], 1000000);
    assert_eq!(model["prompt_price_per_m"], 3.0);
    assert_eq!(model["completion_price_per_m"], 15.0);
    assert_eq!(model["input_modalities"], json!(["text", "image", "file"]));
    assert_eq!(model["output_modalities"], json!(["text"]));
    assert_eq!(model["supports"], json!(["tools", "reasoning"]));
    assert_eq!(model["max_completion_tokens"], 64000);
    assert_eq!(out["catalog"]["source"], "live");
    assert_eq!(out["catalog"]["model_count"], 9);

    let all = server.call_ok("list_models", json!({"limit": 200})).await;
    let last = all["models"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["id"], "openrouter/auto", "unknown prices sort last");
    assert!(last["prompt_price_per_m"].is_null());
    server.stop().await;
}

#[tokio::test]
async fn the_next_start_works_offline_from_the_saved_catalog_then_the_embedded_one() {
    let fake = FakeOpenRouter::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let online = InProc::start_with(&fake, &[("SWITCHBOARD_DATA_DIR", &dir)]).await;
    assert_eq!(
        online.call_ok("list_models", json!({})).await["catalog"]["source"],
        "live"
    );
    online.stop().await;

    let dead = "http://127.0.0.1:9/api/v1";
    let offline = InProc::start_with(
        &fake,
        &[
            ("SWITCHBOARD_DATA_DIR", &dir),
            ("OPENROUTER_BASE_URL", dead),
        ],
    )
    .await;
    let out = offline.call_ok("list_models", json!({})).await;
    assert_eq!(out["catalog"]["source"], "saved");
    assert_eq!(out["catalog"]["model_count"], 9);
    offline.stop().await;

    let first_start = InProc::start_with(&fake, &[("OPENROUTER_BASE_URL", dead)]).await;
    let out = first_start
        .call_ok("list_models", json!({"query": "gpt-5-mini"}))
        .await;
    assert_eq!(out["catalog"]["source"], "embedded");
    assert_eq!(out["catalog"]["fetched_at"], "2026-05-01T00:00:00Z");
    assert_eq!(out["models"][0]["id"], "openai/gpt-5-mini");
    assert_eq!(out["models"][0]["prompt_price_per_m"], 0.25);
    first_start.stop().await;
}
