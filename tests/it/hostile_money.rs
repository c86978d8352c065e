//! Never more than the budget under hostile input: per-request fees, negative, missing and
//! excessive upstream costs, a process killed mid-call, with two server processes on one data
//! dir; and money shown without float noise, ledger failures surfaced.

use crate::support::fake::CHAT;
use crate::support::mcp::{self, ProgressLog};
use crate::support::{FakeOpenRouter, McpServer, catalog_fixture};
use futures_util::future::join_all;
use rmcp::ServiceExt;
use rmcp::model::CallToolResult;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// $100 per 1M prompt and completion tokens: the 19 tokens every fake answer reports cost $0.0019.
const DEAR: &str = "0.0001";
const BUDGET: &str = "0.01";
const MAX_TOKENS: u32 = 16;

/// The fixture catalog plus models priced for these tests.
fn catalog() -> Value {
    let mut catalog = catalog_fixture();
    let models = catalog["data"].as_array_mut().unwrap();
    let dear = |id: &str| json!({"id": id, "name": id, "context_length": 100000, "pricing": {"prompt": DEAR, "completion": DEAR}});
    for id in [
        "hostile/negative",
        "hostile/missing",
        "hostile/no-usage",
        "hostile/overcharge",
        "hostile/slow",
    ] {
        models.push(dear(id));
    }
    models.push(
        json!({"id": "fees/request-fee", "name": "Fee", "context_length": 100000,
        "pricing": {"prompt": "0", "completion": "0", "request": "0.001"}}),
    );
    models.push(
        json!({"id": "cheap/a", "name": "A", "context_length": 100000,
        "pricing": {"prompt": "0.000001", "completion": "0.000001"}}),
    );
    models.push(
        json!({"id": "cheap/b", "name": "B", "context_length": 100000,
        "pricing": {"prompt": "0.000001", "completion": "0.000001"}}),
    );
    catalog
}

async fn fake() -> FakeOpenRouter {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(catalog()))
        .mount(&server)
        .await;
    FakeOpenRouter { server }
}

/// An OpenRouter-shaped stream whose final chunk carries `usage` (none when `Value::Null`).
fn sse(model: &str, usage: Value) -> String {
    let mut last = json!({"id": "gen-hostile", "model": model, "provider": "TestProvider",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "answer"}, "finish_reason": "stop"}]});
    if !usage.is_null() {
        last["usage"] = usage;
    }
    format!(": OPENROUTER PROCESSING\n\ndata: {last}\n\ndata: [DONE]\n\n")
}

fn tokens(cost: Option<f64>) -> Value {
    let mut usage = json!({"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19});
    if let Some(cost) = cost {
        usage["cost"] = json!(cost);
    }
    usage
}

async fn serve(fake: &FakeOpenRouter, model: &str, body: String, delay: Duration) {
    Mock::given(method("POST"))
        .and(path(CHAT))
        .and(body_partial_json(json!({"model": model})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(body, "text/event-stream")
                .set_delay(delay),
        )
        .mount(&fake.server)
        .await;
}

fn ask(model: &str, prompt: String) -> Value {
    json!({"prompt": prompt, "model": model, "fallback_models": [], "max_tokens": MAX_TOKENS})
}

/// Two server processes on one data dir with a budget.
async fn two_servers(fake: &FakeOpenRouter, dir: &str, budget: &str) -> (McpServer, McpServer) {
    let env = [
        ("SWITCHBOARD_DATA_DIR", dir),
        ("SWITCHBOARD_BUDGET_USD", budget),
    ];
    tokio::join!(
        McpServer::start_with(fake, &env),
        McpServer::start_with(fake, &env)
    )
}

/// What two waves of 50 concurrent calls (25 per process) cost.
struct Burst {
    /// Chat requests upstream received, in each wave.
    requests: [usize; 2],
    /// `spent_usd` + `reserved_usd` of the ledger afterwards, seen by the second process.
    ledger_usd: f64,
    /// Every call's result, wave after wave.
    results: Vec<CallToolResult>,
    first: McpServer,
    second: McpServer,
}

async fn burst(fake: &FakeOpenRouter, model: &str, dir: &str) -> Burst {
    let (first, second) = two_servers(fake, dir, BUDGET).await;
    let (mut requests, mut results) = ([0; 2], Vec::new());
    for (wave, seen) in requests.iter_mut().enumerate() {
        let calls = (0..50).map(|i| {
            let server = if i % 2 == 0 { &first } else { &second };
            server.call("ask_model", ask(model, format!("wave {wave} call {i}")))
        });
        results.extend(join_all(calls).await);
        *seen = fake.chat_requests(None).await.len();
    }
    requests[1] -= requests[0];
    let status = second.call_ok("account_status", json!({})).await;
    assert!(
        status.get("ledger_error").is_none(),
        "the ledger is readable: {status}"
    );
    let budget = &status["budget"];
    let ledger_usd =
        budget["spent_usd"].as_f64().unwrap() + budget["reserved_usd"].as_f64().unwrap();
    Burst {
        requests,
        ledger_usd,
        results,
        first,
        second,
    }
}

impl Burst {
    /// Calls that got an answer: what upstream billed. (Upstream may have received more requests
    /// than that: under load a pooled connection can drop and the router retries it, and a failed
    /// request is not billed.)
    fn answered(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.is_error != Some(true))
            .count()
    }

    async fn stop(self) -> (String, String) {
        (self.first.stop().await, self.second.stop().await)
    }
}

/// Asserts the real spend (answered calls x what each really costs) fits the budget, and that the
/// ledger holds exactly that.
fn assert_within_budget(burst: &Burst, real_cost: f64) {
    let real = burst.answered() as f64 * real_cost;
    assert!(
        burst.answered() >= 1,
        "some calls fit: {:?}",
        burst.requests
    );
    assert!(
        burst.requests[0] + burst.requests[1] >= burst.answered(),
        "every answer came from upstream: {:?} requests for {} answers",
        burst.requests,
        burst.answered()
    );
    assert!(
        real <= 0.01 + 1e-12,
        "{} calls at ${real_cost} spent ${real} of a $0.01 budget ({:?} per wave)",
        burst.answered(),
        burst.requests
    );
    assert!(
        (burst.ledger_usd - real).abs() < 1e-12,
        "the ledger holds ${} for ${real} spent ({} answers, {:?} requests per wave)",
        burst.ledger_usd,
        burst.answered(),
        burst.requests
    );
}

#[tokio::test]
async fn per_request_fees_count_in_the_worst_case_across_two_processes() {
    let fake = fake().await;
    let model = "fees/request-fee";
    // Free tokens, $0.001 per request: upstream bills the fee.
    serve(
        &fake,
        model,
        sse(model, tokens(Some(0.001))),
        Duration::from_millis(300),
    )
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let burst = burst(&fake, model, &data_dir.path().display().to_string()).await;
    assert_within_budget(&burst, 0.001);
    assert_eq!(burst.answered(), 10, "ten $0.001 fees fit in $0.01");
    burst.stop().await;
}

#[tokio::test]
async fn a_negative_upstream_cost_is_priced_from_the_catalog_and_never_credits() {
    let fake = fake().await;
    let model = "hostile/negative";
    serve(
        &fake,
        model,
        sse(model, tokens(Some(-5.0))),
        Duration::from_millis(200),
    )
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let burst = burst(&fake, model, &data_dir.path().display().to_string()).await;
    // 12 + 7 tokens at $100/1M.
    assert_within_budget(&burst, 0.0019);
    burst.stop().await;
}

#[tokio::test]
async fn a_missing_upstream_cost_is_priced_from_the_token_counts() {
    let fake = fake().await;
    let model = "hostile/missing";
    serve(
        &fake,
        model,
        sse(model, tokens(None)),
        Duration::from_millis(200),
    )
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let burst = burst(&fake, model, &data_dir.path().display().to_string()).await;
    assert_within_budget(&burst, 0.0019);
    burst.stop().await;

    let out = one_call(&fake, model, data_dir.path()).await;
    assert_eq!(out["usage"]["cost_usd"], 0.0019, "{out}");
    assert_eq!(out["usage"]["cost_source"], "catalog");
}

#[tokio::test]
async fn an_answer_without_usage_is_charged_its_worst_case() {
    let fake = fake().await;
    let model = "hostile/no-usage";
    serve(
        &fake,
        model,
        sse(model, Value::Null),
        Duration::from_millis(200),
    )
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let burst = burst(&fake, model, &dir).await;
    assert!(burst.answered() >= 1);
    assert!(burst.ledger_usd <= 0.01 + 1e-12, "${}", burst.ledger_usd);
    // Each answered call is charged at least the 19 tokens it may have used, in fact its worst case.
    assert!(
        burst.ledger_usd >= burst.answered() as f64 * (MAX_TOKENS as f64 + 1.0) * 0.0001 - 1e-12,
        "${} for {} calls",
        burst.ledger_usd,
        burst.answered()
    );
    assert_eq!(
        burst.requests[1], 0,
        "the second wave sees the first wave's charges"
    );
    burst.stop().await;
}

#[tokio::test]
async fn a_cost_above_the_worst_case_is_recorded_as_charged_logged_and_seen_by_both_processes() {
    let fake = fake().await;
    let model = "hostile/overcharge";
    // Worst case about $0.0025; upstream charges $0.02.
    let body = sse(model, tokens(Some(0.02)));
    serve(&fake, model, body, Duration::from_millis(200)).await;
    let data_dir = tempfile::tempdir().unwrap();
    let burst = burst(&fake, model, &data_dir.path().display().to_string()).await;
    let answered: Vec<Value> = burst
        .results
        .iter()
        .filter(|r| r.is_error != Some(true))
        .map(|r| r.structured_content.clone().unwrap())
        .collect();
    assert_eq!(answered.len(), burst.answered());
    assert!(burst.requests[0] >= answered.len(), "{:?}", burst.requests);
    assert!((1..=4).contains(&answered.len()), "{:?}", burst.requests);
    assert_eq!(burst.requests[1], 0, "the next calls see the overcharges");
    for out in &answered {
        assert_eq!(out["usage"]["cost_usd"], 0.02);
        let warning = out["warnings"][0].as_str().unwrap_or_default();
        assert!(
            warning.starts_with("upstream charged $0.02, above this call's worst case $0.00"),
            "{out}"
        );
    }
    assert!(
        (burst.ledger_usd - answered.len() as f64 * 0.02).abs() < 1e-12,
        "recorded as charged: ${}",
        burst.ledger_usd
    );
    let refused = mcp::text(burst.results.last().unwrap());
    assert!(
        refused.starts_with("budget:") && refused.contains("spent"),
        "{refused}"
    );
    let (first, second) = burst.stop().await;
    assert!(
        format!("{first}{second}").contains("upstream charged more than the call's worst case"),
        "logged"
    );
}

#[tokio::test]
async fn a_reservation_of_a_killed_process_keeps_counting_after_its_hold() {
    let fake = fake().await;
    let model = "hostile/slow";
    serve(
        &fake,
        model,
        sse(model, tokens(Some(0.001))),
        Duration::from_secs(30),
    )
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().display().to_string();
    let env = [
        ("SWITCHBOARD_DATA_DIR", dir.as_str()),
        ("SWITCHBOARD_BUDGET_USD", BUDGET),
        ("SWITCHBOARD_TIMEOUT", "20s"),
    ];
    let survivor = McpServer::start_with(&fake, &env).await;
    let mut command = tokio::process::Command::new(mcp::BIN);
    command.arg("stdio").env_clear();
    for (key, value) in mcp::env_for(&fake.base_url(), data_dir.path()) {
        command.env(key, value);
    }
    command.envs(env);
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let pid = transport.id().expect("the child has a pid");
    let doomed = ProgressLog::default().serve(transport).await.unwrap();

    // max_tokens 50: a worst case of (prompt tokens + 50) x $100/1M, over half the budget.
    let args = json!({"prompt": "never answered", "model": model, "fallback_models": [], "max_tokens": 50});
    let call = doomed.call_tool(mcp::params("ask_model", args.clone()));
    let kill = async {
        for _ in 0..200 {
            if !fake.chat_requests(None).await.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let status = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    let (killed, ()) = tokio::join!(call, kill);
    assert!(killed.is_err(), "the killed process never answered");

    // Let the reservation's hold (SWITCHBOARD_TIMEOUT + 60 s) pass without waiting for it.
    let db = rusqlite::Connection::open(data_dir.path().join("switchboard.db")).unwrap();
    let aged = db
        .execute(
            "UPDATE ledger SET reserved_until = 1 WHERE reserved_until IS NOT NULL",
            [],
        )
        .unwrap();
    assert_eq!(aged, 1, "the killed call held one reservation");
    let worst: f64 = db
        .query_row("SELECT cost FROM ledger", [], |r| r.get(0))
        .unwrap();
    assert!(worst > 0.005, "{worst}");

    let status = survivor.call_ok("account_status", json!({})).await;
    assert_eq!(
        status["budget"]["spent_usd"], worst,
        "charged its worst case: {status}"
    );
    let refused = survivor.call_err("ask_model", args).await;
    assert!(refused.starts_with("budget:"), "{refused}");
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "nothing more was sent"
    );
    survivor.stop().await;
}

/// One call on a fresh server without a budget, on `data_dir`; returns its output.
async fn one_call(fake: &FakeOpenRouter, model: &str, data_dir: &std::path::Path) -> Value {
    let dir = data_dir.display().to_string();
    let server = McpServer::start_with(fake, &[("SWITCHBOARD_DATA_DIR", dir.as_str())]).await;
    let out = server
        .call_ok("ask_model", ask(model, "one more".into()))
        .await;
    server.stop().await;
    out
}

#[tokio::test]
async fn switchboard_max_price_refuses_a_model_with_a_per_request_fee() {
    let fake = fake().await;
    serve(
        &fake,
        "cheap/a",
        sse("cheap/a", tokens(Some(0.00001))),
        Duration::ZERO,
    )
    .await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_MAX_PRICE", "1")]).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": "fees/request-fee", "fallback_models": ["cheap/a"]}),
        )
        .await;
    assert_eq!(out["model"], "cheap/a");
    assert_eq!(out["attempts"][0]["outcome"], "skipped");
    assert_eq!(
        out["attempts"][0]["error"],
        "refused: per-request fee $0.001 cannot be held to SWITCHBOARD_MAX_PRICE (USD per 1M tokens); unset SWITCHBOARD_MAX_PRICE to use this model"
    );
    let listed = server
        .call_ok("list_models", json!({"query": "fee", "limit": 200}))
        .await;
    assert_eq!(listed["total"], 0, "{listed}");
    assert!(
        fake.chat_requests(Some("fees/request-fee"))
            .await
            .is_empty()
    );
    server.stop().await;
}

#[tokio::test]
async fn costs_show_without_float_noise_in_structured_output_and_text() {
    let fake = fake().await;
    // Each sum below is 0.00019224999999999998 in f64 arithmetic.
    serve(
        &fake,
        "cheap/a",
        sse("cheap/a", tokens(Some(0.000024))),
        Duration::ZERO,
    )
    .await;
    serve(
        &fake,
        "cheap/b",
        sse("cheap/b", tokens(Some(0.00016825))),
        Duration::ZERO,
    )
    .await;
    let server = McpServer::start(&fake).await;
    let result = server
        .call(
            "compare_models",
            json!({"prompt": "hi", "models": ["cheap/a", "cheap/b"]}),
        )
        .await;
    let out = result.structured_content.clone().unwrap();
    assert_eq!(out["total_cost_usd"].to_string(), "0.00019225", "{out}");
    let text = mcp::text(&result);
    assert!(
        text.contains("0.00019225") && !text.contains("0.000192249"),
        "{text}"
    );
    let status = server.call_ok("account_status", json!({})).await;
    assert_eq!(
        status["budget"]["spent_usd"].to_string(),
        "0.00019225",
        "{status}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_ledger_write_that_fails_without_a_budget_is_reported_in_the_output() {
    let fake = fake().await;
    serve(
        &fake,
        "cheap/a",
        sse("cheap/a", tokens(Some(0.00002))),
        Duration::ZERO,
    )
    .await;
    serve(
        &fake,
        "cheap/b",
        sse("cheap/b", tokens(Some(0.00003))),
        Duration::ZERO,
    )
    .await;
    // A data dir beneath a regular file can never be created.
    let file = tempfile::NamedTempFile::new().unwrap();
    let dir = file.path().join("data").display().to_string();
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_DATA_DIR", dir.as_str())]).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": "cheap/a", "fallback_models": []}),
        )
        .await;
    assert_eq!(out["text"], "answer");
    let warning = out["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.starts_with("the spend ledger could not record this call's cost $0.00002 (")
            && warning.ends_with("account_status will not show it"),
        "{out}"
    );
    let compared = server
        .call_ok(
            "compare_models",
            json!({"prompt": "side by side", "models": ["cheap/a", "cheap/b"]}),
        )
        .await;
    for result in compared["results"].as_array().unwrap() {
        assert!(
            result["warnings"][0]
                .as_str()
                .is_some_and(|w| w.starts_with("the spend ledger could not record")),
            "{compared}"
        );
    }
    server.stop().await;
}
