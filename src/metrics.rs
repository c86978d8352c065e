//! Process-wide counters for `GET /metrics` (Prometheus text format 0.0.4): tool calls, errors and
//! latency per tool; answers, tokens, cost, latency and cache hits per model; upstream attempts by
//! outcome; calls in flight (what graceful shutdown waits for). Hand-rolled: one mutexed map
//! touched once per tool call, which is all a few thousand calls a second need. Nothing secret is
//! ever recorded: labels are tool names, catalog model ids and fixed words.

use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::model::{CallToolResponse, CallToolResult};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Histogram upper bounds in seconds: from a cache hit (sub-millisecond) to the 120 s call deadline.
const BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Distinct model labels kept; later ones are counted under `other` so a caller cannot grow the
/// map without bound by naming made-up models.
const MAX_MODELS: usize = 256;
const OTHER: &str = "other";

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

#[derive(Debug, Default)]
pub struct Metrics {
    in_flight: AtomicI64,
    idle: Notify,
    series: Mutex<Series>,
    rejected: [AtomicU64; Rejection::ALL.len()],
}

/// Why the HTTP front door refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Unauthorized,
    Host,
    Origin,
}

impl Rejection {
    const ALL: [Rejection; 3] = [Rejection::Unauthorized, Rejection::Host, Rejection::Origin];

    fn label(self) -> &'static str {
        match self {
            Rejection::Unauthorized => "unauthorized",
            Rejection::Host => "host",
            Rejection::Origin => "origin",
        }
    }
}

#[derive(Debug, Default)]
struct Series {
    tools: BTreeMap<String, ToolSeries>,
    models: BTreeMap<(String, String), ModelSeries>,
    attempts: BTreeMap<(String, String), u64>,
    model_names: std::collections::BTreeSet<String>,
}

#[derive(Debug, Default)]
struct ToolSeries {
    calls: u64,
    errors: u64,
    duration: Histogram,
}

#[derive(Debug, Default)]
struct ModelSeries {
    answers: u64,
    cache_hits: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    cost_usd: f64,
    latency: Histogram,
}

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// Counts one tool call as in flight until dropped.
#[derive(Debug)]
pub struct InFlight(&'static Metrics);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Metrics {
    /// Marks a tool call as started; it ends when the returned guard drops.
    pub fn enter(&'static self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self)
    }

    /// Tool calls running now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Returns once no tool call is running.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight() <= 0 {
                return;
            }
            notified.await;
        }
    }

    pub fn reject(&self, why: Rejection) {
        let index = Rejection::ALL.iter().position(|r| *r == why).unwrap_or(0);
        self.rejected[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Records one finished call of `tool`, reading models, usage and attempts from its
    /// structured output (`ask_model`'s `model`/`usage`/`attempts`, `compare_models`' `results`).
    pub fn record_call(&self, tool: &str, elapsed: Duration, result: Option<&CallToolResult>) {
        let failed = result.is_none_or(|r| r.is_error == Some(true));
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        if !series.tools.contains_key(tool) {
            series.tools.insert(tool.to_string(), ToolSeries::default());
        }
        let Some(entry) = series.tools.get_mut(tool) else {
            return;
        };
        entry.calls += 1;
        entry.errors += u64::from(failed);
        entry.duration.observe(elapsed.as_secs_f64());
        let Some(output) = result.and_then(|r| r.structured_content.as_ref()) else {
            return;
        };
        if failed {
            return;
        }
        if let Some(Value::Array(attempts)) = output.get("attempts") {
            for attempt in attempts {
                let outcome = attempt["outcome"].as_str().unwrap_or("unknown");
                series.attempt(attempt["model"].as_str(), outcome);
            }
        }
        if output.get("usage").is_some() && output.get("model").is_some() {
            series.answer(tool, output);
        }
        if let Some(Value::Array(results)) = output.get("results") {
            for one in results {
                if one["ok"].as_bool() == Some(true) {
                    series.answer(tool, one);
                }
                if one["cached"].as_bool() != Some(true) {
                    let outcome = if one["ok"].as_bool() == Some(true) {
                        "ok"
                    } else {
                        "failed"
                    };
                    series.attempt(one["model"].as_str(), outcome);
                }
            }
        }
    }

    /// The whole registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let _ = self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) -> std::fmt::Result {
        header(
            out,
            "switchboard_build_info",
            "gauge",
            "Version of this server",
        )?;
        writeln!(
            out,
            "switchboard_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )?;
        header(
            out,
            "switchboard_tool_calls_in_flight",
            "gauge",
            "Tool calls running now",
        )?;
        writeln!(
            out,
            "switchboard_tool_calls_in_flight {}",
            self.in_flight().max(0)
        )?;
        header(
            out,
            "switchboard_http_rejected_total",
            "counter",
            "HTTP requests refused: missing/wrong token, foreign Host, foreign Origin",
        )?;
        for why in Rejection::ALL {
            let index = Rejection::ALL.iter().position(|r| *r == why).unwrap_or(0);
            let n = self.rejected[index].load(Ordering::Relaxed);
            writeln!(
                out,
                "switchboard_http_rejected_total{{reason=\"{}\"}} {n}",
                why.label()
            )?;
        }
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series.write_tools(out)?;
        series.write_models(out)?;
        series.write_attempts(out)
    }
}

impl Series {
    /// The label for `model`, or `other` once [`MAX_MODELS`] distinct ones are known.
    fn model_label(&mut self, model: Option<&str>) -> String {
        let model = model.unwrap_or("unknown");
        if self.model_names.contains(model) {
            return model.to_string();
        }
        if self.model_names.len() >= MAX_MODELS {
            return OTHER.to_string();
        }
        self.model_names.insert(model.to_string());
        model.to_string()
    }

    fn attempt(&mut self, model: Option<&str>, outcome: &str) {
        let model = self.model_label(model);
        *self
            .attempts
            .entry((model, outcome.to_string()))
            .or_default() += 1;
    }

    /// One answer (`ask_model`'s output or one `compare_models` result).
    fn answer(&mut self, tool: &str, answer: &Value) {
        let model = self.model_label(answer["model"].as_str());
        let cached = answer["cached"].as_bool() == Some(true);
        let entry = self.models.entry((tool.to_string(), model)).or_default();
        entry.answers += 1;
        if cached {
            entry.cache_hits += 1;
        } else {
            let usage = &answer["usage"];
            entry.prompt_tokens += usage["prompt_tokens"].as_u64().unwrap_or(0);
            entry.completion_tokens += usage["completion_tokens"].as_u64().unwrap_or(0);
            entry.cost_usd += usage["cost_usd"].as_f64().unwrap_or(0.0).max(0.0);
        }
        let latency_ms = answer["latency_ms"].as_u64().unwrap_or(0);
        entry.latency.observe(latency_ms as f64 / 1000.0);
    }

    fn write_tools(&self, out: &mut String) -> std::fmt::Result {
        header(
            out,
            "switchboard_tool_calls_total",
            "counter",
            "Tool calls finished, by tool",
        )?;
        for (tool, s) in &self.tools {
            writeln!(
                out,
                "switchboard_tool_calls_total{{tool=\"{}\"}} {}",
                escape(tool),
                s.calls
            )?;
        }
        header(
            out,
            "switchboard_tool_errors_total",
            "counter",
            "Tool calls that ended in a tool error (isError) or a protocol error, by tool",
        )?;
        for (tool, s) in &self.tools {
            writeln!(
                out,
                "switchboard_tool_errors_total{{tool=\"{}\"}} {}",
                escape(tool),
                s.errors
            )?;
        }
        header(
            out,
            "switchboard_tool_duration_seconds",
            "histogram",
            "Tool call wall time, by tool",
        )?;
        for (tool, s) in &self.tools {
            let labels = format!("tool=\"{}\"", escape(tool));
            histogram(
                out,
                "switchboard_tool_duration_seconds",
                &labels,
                &s.duration,
            )?;
        }
        Ok(())
    }

    fn write_models(&self, out: &mut String) -> std::fmt::Result {
        type Field = fn(&ModelSeries) -> String;
        let counters: [(&str, &str, Field); 5] = [
            (
                "switchboard_model_answers_total",
                "Answers returned, by tool and answering model",
                |s| s.answers.to_string(),
            ),
            (
                "switchboard_cache_hits_total",
                "Answers served from the response cache, by tool and model",
                |s| s.cache_hits.to_string(),
            ),
            (
                "switchboard_prompt_tokens_total",
                "Prompt tokens billed upstream (cache hits excluded), by tool and model",
                |s| s.prompt_tokens.to_string(),
            ),
            (
                "switchboard_completion_tokens_total",
                "Completion tokens billed upstream (cache hits excluded), by tool and model",
                |s| s.completion_tokens.to_string(),
            ),
            (
                "switchboard_cost_usd_total",
                "USD charged by OpenRouter, by tool and model",
                |s| s.cost_usd.to_string(),
            ),
        ];
        for (name, help, field) in counters {
            header(out, name, "counter", help)?;
            for ((tool, model), s) in &self.models {
                writeln!(
                    out,
                    "{name}{{tool=\"{}\",model=\"{}\"}} {}",
                    escape(tool),
                    escape(model),
                    field(s)
                )?;
            }
        }
        header(
            out,
            "switchboard_model_latency_seconds",
            "histogram",
            "Latency of each answer as the tool reports it, by tool and model",
        )?;
        for ((tool, model), s) in &self.models {
            let labels = format!("tool=\"{}\",model=\"{}\"", escape(tool), escape(model));
            histogram(
                out,
                "switchboard_model_latency_seconds",
                &labels,
                &s.latency,
            )?;
        }
        Ok(())
    }

    fn write_attempts(&self, out: &mut String) -> std::fmt::Result {
        header(
            out,
            "switchboard_upstream_attempts_total",
            "counter",
            "Upstream attempts by model and outcome (ok, retried, fell_back, failed, skipped)",
        )?;
        for ((model, outcome), n) in &self.attempts {
            writeln!(
                out,
                "switchboard_upstream_attempts_total{{model=\"{}\",outcome=\"{}\"}} {n}",
                escape(model),
                escape(outcome)
            )?;
        }
        Ok(())
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) -> std::fmt::Result {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} {kind}")
}

fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) -> std::fmt::Result {
    let mut cumulative = 0;
    for (bound, n) in BUCKETS.iter().zip(h.counts) {
        cumulative += n;
        writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}")?;
    }
    writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count)?;
    writeln!(out, "{name}_sum{{{labels}}} {}", h.sum)?;
    writeln!(out, "{name}_count{{{labels}}} {}", h.count)
}

/// Label values escape `\`, `"` and newlines (exposition format 0.0.4).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Wraps every tool of `router` so each call is counted in [`global`]: in flight while it runs,
/// then its duration, error state and structured output.
pub fn instrument<S: Send + Sync + 'static>(router: &mut ToolRouter<S>) {
    for route in router.map.values_mut() {
        let inner = route.call.clone();
        let tool: Arc<str> = Arc::from(route.attr.name.as_ref());
        *route = ToolRoute::new_dyn(route.attr.clone(), move |context| {
            let (inner, tool) = (inner.clone(), tool.clone());
            Box::pin(async move {
                let metrics = global();
                let _in_flight = metrics.enter();
                let started = Instant::now();
                let response = inner(context).await;
                let result = match &response {
                    Ok(CallToolResponse::Complete(result)) => Some(result),
                    _ => None,
                };
                metrics.record_call(&tool, started.elapsed(), result);
                response
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(output: Value, is_error: bool) -> CallToolResult {
        let mut result = CallToolResult::structured(output);
        result.is_error = Some(is_error);
        result
    }

    #[test]
    fn records_answers_attempts_and_errors() {
        let metrics = Metrics::default();
        let ask = json!({"model": "a/m", "cached": false, "latency_ms": 120,
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.25},
            "attempts": [{"model": "b/x", "outcome": "fell_back"}, {"model": "a/m", "outcome": "ok"}]});
        metrics.record_call(
            "ask_model",
            Duration::from_millis(130),
            Some(&result(ask, false)),
        );
        let compare = json!({"results": [
            {"model": "a/m", "ok": true, "cached": true, "latency_ms": 1, "usage": {"prompt_tokens": 3}},
            {"model": "c/y", "ok": false, "cached": false, "latency_ms": 9}]});
        metrics.record_call(
            "compare_models",
            Duration::from_millis(10),
            Some(&result(compare, false)),
        );
        metrics.record_call("list_models", Duration::from_millis(1), None);
        let text = metrics.render();
        for line in [
            "switchboard_tool_calls_total{tool=\"ask_model\"} 1",
            "switchboard_tool_errors_total{tool=\"list_models\"} 1",
            "switchboard_tool_errors_total{tool=\"ask_model\"} 0",
            "switchboard_prompt_tokens_total{tool=\"ask_model\",model=\"a/m\"} 10",
            "switchboard_cost_usd_total{tool=\"ask_model\",model=\"a/m\"} 0.25",
            "switchboard_cache_hits_total{tool=\"compare_models\",model=\"a/m\"} 1",
            "switchboard_prompt_tokens_total{tool=\"compare_models\",model=\"a/m\"} 0",
            "switchboard_upstream_attempts_total{model=\"b/x\",outcome=\"fell_back\"} 1",
            "switchboard_upstream_attempts_total{model=\"c/y\",outcome=\"failed\"} 1",
            "switchboard_tool_duration_seconds_bucket{tool=\"ask_model\",le=\"0.25\"} 1",
            "switchboard_tool_duration_seconds_bucket{tool=\"ask_model\",le=\"0.1\"} 0",
            "switchboard_model_latency_seconds_count{tool=\"ask_model\",model=\"a/m\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }

    #[test]
    fn model_labels_are_bounded_and_escaped() {
        let metrics = Metrics::default();
        for i in 0..MAX_MODELS + 10 {
            let output = json!({"attempts": [{"model": format!("m/{i}\"\n"), "outcome": "ok"}]});
            metrics.record_call("ask_model", Duration::ZERO, Some(&result(output, false)));
        }
        let text = metrics.render();
        let attempts = text
            .lines()
            .filter(|l| l.starts_with("switchboard_upstream_attempts_total{"))
            .count();
        assert_eq!(attempts, MAX_MODELS + 1);
        assert!(text.contains("model=\"other\",outcome=\"ok\"} 10"));
        assert!(text.contains("model=\"m/0\\\"\\n\""));
    }

    #[tokio::test]
    async fn wait_idle_returns_when_the_last_call_ends() {
        let guard = global().enter();
        let waiter = tokio::spawn(async { global().wait_idle().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(guard);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
