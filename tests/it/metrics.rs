//! `GET /metrics`, parsed with a real Prometheus text parser (`prometheus-parse`): counts that match
//! what happened, upstream attempts counted even when the whole chain fails or when
//! `compare_models` retries, and no secret anywhere.

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "support/http_server.rs"]
mod http_server;

use crate::support::{FakeOpenRouter, TEST_KEY};
use http_server::{McpHttp, TOKEN, free_of_secrets, start};
use prometheus_parse::{LineInfo, Sample, Scrape, Value};
use serde_json::json;

const MODEL: &str = "openai/gpt-5-mini";
const FLAKY: &str = "google/gemini-2.5-flash";
const BROKEN: &str = "anthropic/claude-sonnet-4.5";

fn with_token() -> [(&'static str, &'static str); 1] {
    [("SWITCHBOARD_HTTP_TOKEN", TOKEN)]
}

/// A parsed `/metrics` body.
struct Metrics {
    text: String,
    samples: Vec<Sample>,
}

impl Metrics {
    /// Parses `text` with `prometheus-parse`, and checks what that lenient parser lets through:
    /// every line is a comment or a sample, every sample belongs to a family declared by
    /// `# TYPE`, and every histogram's buckets rise and end at its `_count`.
    fn parse(text: String) -> Self {
        let mut families = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match LineInfo::parse(line) {
                LineInfo::Type {
                    metric_name,
                    metric_alias,
                    ..
                } => {
                    families.push(metric_alias.unwrap_or(metric_name));
                }
                LineInfo::Doc { .. } => {}
                LineInfo::Sample { metric_name, .. } => {
                    let family = ["_total", "_bucket", "_sum", "_count", "_created", ""]
                        .iter()
                        .find_map(|s| {
                            metric_name
                                .strip_suffix(s)
                                .filter(|f| families.iter().any(|d| d == f))
                        });
                    assert!(family.is_some(), "no # TYPE for `{line}` in\n{text}");
                }
                _ => assert_eq!(line, "# EOF", "not a sample or a comment: `{line}`"),
            }
        }
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let scrape = Scrape::parse(lines).expect("prometheus-parse reads /metrics");
        let metrics = Self {
            samples: scrape.samples,
            text,
        };
        metrics.check_histograms();
        metrics
    }

    fn check_histograms(&self) {
        for sample in &self.samples {
            let Value::Histogram(buckets) = &sample.value else {
                continue;
            };
            assert!(
                buckets.windows(2).all(|w| w[0].count <= w[1].count),
                "{}",
                self.text
            );
            let last = buckets.last().expect("a histogram has buckets");
            assert!(last.less_than.is_infinite(), "{}", self.text);
            let labels: Vec<(&str, &str)> = sample
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let count = self.get(&format!("{}_count", sample.metric), &labels);
            assert_eq!(count, Some(last.count), "{}", self.text);
        }
    }

    /// The value of `name` with exactly these labels.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .filter(|s| s.metric == name && s.labels.len() == labels.len())
            .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .and_then(|s| match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(v),
                _ => None,
            })
    }

    fn attempts(&self, model: &str, outcome: &str) -> Option<f64> {
        self.get(
            "switchboard_upstream_attempts_total",
            &[("model", model), ("outcome", outcome)],
        )
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_hold_no_secrets() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FLAKY, 500, &format!("upstream echoed {TEST_KEY}"))
        .await;
    fake.answer(MODEL, "hello there", 0.0042).await;
    let server = start(&fake.base_url(), &[], &with_token()).await;
    let mut client = McpHttp::new(server.url("/mcp"), Some(TOKEN));
    client.initialize().await;
    let listed = client.call("list_models", json!({"limit": 3})).await;
    assert_eq!(
        listed["structuredContent"]["models"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let ask = json!({"model": FLAKY, "fallback_models": [MODEL], "prompt": "hello"});
    let asked = client.call("ask_model", ask.clone()).await;
    assert_ne!(asked["isError"], true, "{asked}");
    let again = client.call("ask_model", ask).await;
    assert_eq!(again["structuredContent"]["cached"], true, "{again}");
    let failed = client
        .call(
            "estimate_cost",
            json!({"model": "no/such-model", "prompt": "x"}),
        )
        .await;
    assert_eq!(failed["isError"], true);

    let metrics = Metrics::parse(server.metrics().await);
    assert!(free_of_secrets(&metrics.text), "{}", metrics.text);
    let tool = |name: &str, tool: &str| metrics.get(name, &[("tool", tool)]);
    assert_eq!(tool("switchboard_tool_calls_total", "ask_model"), Some(2.0));
    assert_eq!(
        tool("switchboard_tool_calls_total", "list_models"),
        Some(1.0)
    );
    assert_eq!(
        tool("switchboard_tool_errors_total", "estimate_cost"),
        Some(1.0)
    );
    assert_eq!(
        tool("switchboard_tool_errors_total", "ask_model"),
        Some(0.0)
    );
    let by_model = |name: &str| metrics.get(name, &[("tool", "ask_model"), ("model", MODEL)]);
    assert_eq!(by_model("switchboard_prompt_tokens_total"), Some(12.0));
    assert_eq!(by_model("switchboard_completion_tokens_total"), Some(7.0));
    assert_eq!(by_model("switchboard_cost_usd_total"), Some(0.0042));
    assert_eq!(by_model("switchboard_cache_hits_total"), Some(1.0));
    assert_eq!(by_model("switchboard_model_answers_total"), Some(2.0));
    assert_eq!(metrics.attempts(MODEL, "ok"), Some(1.0));
    assert_eq!(metrics.attempts(FLAKY, "fell_back"), Some(1.0));
    assert!(
        metrics.attempts(FLAKY, "retried").is_some_and(|n| n >= 1.0),
        "{}",
        metrics.text
    );
    let count = tool("switchboard_tool_duration_seconds_count", "ask_model");
    assert_eq!(count, Some(2.0));
    assert_eq!(
        metrics.get("switchboard_tool_calls_in_flight", &[]),
        Some(0.0)
    );
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        metrics.get("switchboard_build_info", &[("version", version)]),
        Some(1.0)
    );
    assert!(free_of_secrets(&server.stderr()), "{}", server.stderr());
}

/// During an outage `/metrics` is not blind: an `ask_model` whose whole chain fails still counts
/// every request sent upstream, each under its outcome.
#[tokio::test]
async fn a_chain_that_fails_counts_every_upstream_attempt() {
    let fake = FakeOpenRouter::start().await;
    fake.fail(FLAKY, 503, "overloaded").await;
    fake.fail(BROKEN, 500, "down").await;
    let server = start(&fake.base_url(), &[], &with_token()).await;
    let mut client = McpHttp::new(server.url("/mcp"), Some(TOKEN));
    client.initialize().await;
    let ask = json!({"model": FLAKY, "fallback_models": [BROKEN], "prompt": "anyone?"});
    let failed = client.call("ask_model", ask).await;
    assert_eq!(failed["isError"], true, "{failed}");

    let metrics = Metrics::parse(server.metrics().await);
    for model in [FLAKY, BROKEN] {
        let sent = fake.chat_requests(Some(model)).await.len() as f64;
        assert!(sent >= 2.0, "{model} was retried: {sent} requests");
        let counted: f64 = ["ok", "retried", "fell_back", "failed"]
            .iter()
            .filter_map(|outcome| metrics.attempts(model, outcome))
            .sum();
        assert_eq!(
            counted, sent,
            "{model}: every request counted\n{}",
            metrics.text
        );
    }
    assert_eq!(metrics.attempts(FLAKY, "fell_back"), Some(1.0));
    assert_eq!(metrics.attempts(BROKEN, "failed"), Some(1.0));
    assert!(metrics.attempts(FLAKY, "retried").is_some_and(|n| n >= 1.0));
    let errors = metrics.get("switchboard_tool_errors_total", &[("tool", "ask_model")]);
    assert_eq!(errors, Some(1.0));
}

/// `compare_models` counts a retried model's retry, and its answer.
#[tokio::test]
async fn compare_models_counts_the_retry_of_a_model() {
    let fake = FakeOpenRouter::start().await;
    fake.fail_times(FLAKY, 429, 1, None).await;
    fake.answer(FLAKY, "second try", 0.001).await;
    fake.answer(MODEL, "first try", 0.002).await;
    let server = start(&fake.base_url(), &[], &with_token()).await;
    let mut client = McpHttp::new(server.url("/mcp"), Some(TOKEN));
    client.initialize().await;
    let compared = client
        .call(
            "compare_models",
            json!({"models": [MODEL, FLAKY], "prompt": "race"}),
        )
        .await;
    let results = &compared["structuredContent"]["results"];
    assert_eq!(results[0]["ok"], true, "{compared}");
    assert_eq!(results[1]["ok"], true, "{compared}");

    let metrics = Metrics::parse(server.metrics().await);
    assert_eq!(
        metrics.attempts(FLAKY, "retried"),
        Some(1.0),
        "{}",
        metrics.text
    );
    assert_eq!(metrics.attempts(FLAKY, "ok"), Some(1.0));
    assert_eq!(metrics.attempts(MODEL, "ok"), Some(1.0));
    assert_eq!(fake.chat_requests(Some(FLAKY)).await.len(), 2);
    let answers = |model: &str| {
        metrics.get(
            "switchboard_model_answers_total",
            &[("tool", "compare_models"), ("model", model)],
        )
    };
    assert_eq!(answers(FLAKY), Some(1.0));
    assert_eq!(answers(MODEL), Some(1.0));
}
