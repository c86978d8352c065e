//! The Prometheus registry behind `GET /metrics` (OpenMetrics text, encoded by
//! `prometheus-client`): tool calls, errors and latency per tool; answers, tokens, cost, latency
//! and cache hits per model; upstream attempts by outcome; HTTP rejections. Everything is recorded
//! from typed [`Event`]s where they happen, never by re-reading a tool's output. Nothing secret is
//! recorded: labels are tool names, model ids (at most [`MAX_MODELS`], then `other`) and fixed words.

use crate::consult::Event;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

/// Histogram upper bounds in seconds: from a cache hit (sub-millisecond) to the 120 s call deadline.
const BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Distinct model labels kept; later ones are counted under `other` so a caller cannot grow the
/// registry without bound by naming made-up models.
pub const MAX_MODELS: usize = 256;
const OTHER: &str = "other";

/// What `/metrics` is served as.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    &GLOBAL
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabel {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    tool: String,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    model: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    backend: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabel {
    backend: String,
}

/// Store round trips in seconds: 50 µs on loopback to the 1.5 s cap of one Redis command.
const STORE_BUCKETS: [f64; 12] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.5,
];

fn store_histogram() -> Histogram {
    Histogram::new(STORE_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;
type Usd = Counter<f64, AtomicU64>;

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    in_flight: Gauge,
    tool_calls: Family<ToolLabel, Counter>,
    tool_errors: Family<ToolLabel, Counter>,
    tool_duration: Histograms<ToolLabel>,
    answers: Family<ModelLabels, Counter>,
    cache_hits: Family<ModelLabels, Counter>,
    prompt_tokens: Family<ModelLabels, Counter>,
    completion_tokens: Family<ModelLabels, Counter>,
    cost_usd: Family<ModelLabels, Usd>,
    model_latency: Histograms<ModelLabels>,
    attempts: Family<AttemptLabels, Counter>,
    rejected: Family<ReasonLabel, Counter>,
    store_commands: Family<StoreLabels, Counter>,
    store_latency: Histograms<BackendLabel>,
    model_names: Mutex<HashSet<String>>,
    /// The attempt counts again, by unescaped model label and outcome, for `switchboard://health`.
    attempt_totals: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let build = Family::<VersionLabel, Gauge>::default();
        build
            .get_or_create(&VersionLabel {
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);
        registry.register("switchboard_build_info", "Version of this server", build);
        let metrics = Self {
            registry,
            in_flight: Gauge::default(),
            tool_calls: Family::default(),
            tool_errors: Family::default(),
            tool_duration: Family::new_with_constructor(histogram),
            answers: Family::default(),
            cache_hits: Family::default(),
            prompt_tokens: Family::default(),
            completion_tokens: Family::default(),
            cost_usd: Family::default(),
            model_latency: Family::new_with_constructor(histogram),
            attempts: Family::default(),
            rejected: Family::default(),
            store_commands: Family::default(),
            store_latency: Family::new_with_constructor(store_histogram),
            model_names: Mutex::new(HashSet::new()),
            attempt_totals: Mutex::new(BTreeMap::new()),
        };
        for why in Rejection::ALL {
            let _ = metrics.rejected.get_or_create(&reason(why));
        }
        metrics.register()
    }

    fn register(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "switchboard_tool_calls_in_flight",
            "Tool calls running now",
            self.in_flight.clone(),
        );
        r.register(
            "switchboard_http_rejected",
            "HTTP requests refused: missing/wrong token, foreign Host, foreign Origin",
            self.rejected.clone(),
        );
        r.register(
            "switchboard_tool_calls",
            "Tool calls finished, by tool",
            self.tool_calls.clone(),
        );
        r.register(
            "switchboard_tool_errors",
            "Tool calls that ended in a tool error (isError) or a protocol error, by tool",
            self.tool_errors.clone(),
        );
        r.register(
            "switchboard_tool_duration_seconds",
            "Tool call wall time, by tool",
            self.tool_duration.clone(),
        );
        r.register(
            "switchboard_model_answers",
            "Answers returned, by tool and answering model",
            self.answers.clone(),
        );
        r.register(
            "switchboard_cache_hits",
            "Answers served from the response cache, by tool and model",
            self.cache_hits.clone(),
        );
        r.register(
            "switchboard_prompt_tokens",
            "Prompt tokens billed upstream (cache hits excluded), by tool and model",
            self.prompt_tokens.clone(),
        );
        r.register(
            "switchboard_completion_tokens",
            "Completion tokens billed upstream (cache hits excluded), by tool and model",
            self.completion_tokens.clone(),
        );
        r.register(
            "switchboard_cost_usd",
            "USD charged for answers, by tool and model",
            self.cost_usd.clone(),
        );
        r.register(
            "switchboard_model_latency_seconds",
            "Latency of each answer, by tool and model",
            self.model_latency.clone(),
        );
        r.register(
            "switchboard_upstream_attempts",
            "Upstream attempts by model and outcome (ok, retried, fell_back, failed, skipped)",
            self.attempts.clone(),
        );
        r.register(
            "switchboard_store_commands",
            "Commands sent to the shared store, by backend (redis) and result (ok, error)",
            self.store_commands.clone(),
        );
        r.register(
            "switchboard_store_latency_seconds",
            "Round trip of each command to the shared store, by backend",
            self.store_latency.clone(),
        );
        self
    }

    /// Records one command to the shared store: whether it was answered, and how long it took.
    pub fn store_command(&self, backend: &str, ok: bool, took: Duration) {
        let result = if ok { "ok" } else { "error" };
        let labels = StoreLabels {
            backend: backend.to_string(),
            result: result.to_string(),
        };
        self.store_commands.get_or_create(&labels).inc();
        let backend = BackendLabel {
            backend: backend.to_string(),
        };
        self.store_latency
            .get_or_create(&backend)
            .observe(took.as_secs_f64());
    }

    /// Records one event.
    pub fn record(&self, event: &Event<'_>) {
        match *event {
            Event::Attempt(attempt) => {
                let labels = AttemptLabels {
                    model: self.model_label(&attempt.model),
                    outcome: attempt.outcome.as_str().to_string(),
                };
                self.attempts.get_or_create(&labels).inc();
                let model = if labels.model == OTHER {
                    OTHER
                } else {
                    attempt.model.as_str()
                };
                *self
                    .attempt_totals
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry((model.to_string(), attempt.outcome.as_str()))
                    .or_default() += 1;
            }
            Event::Answered {
                tool,
                model,
                latency,
                ..
            } => {
                let labels = self.model_labels(tool, model);
                self.answers.get_or_create(&labels).inc();
                for family in [
                    &self.cache_hits,
                    &self.prompt_tokens,
                    &self.completion_tokens,
                ] {
                    let _ = family.get_or_create(&labels);
                }
                let _ = self.cost_usd.get_or_create(&labels);
                self.model_latency
                    .get_or_create(&labels)
                    .observe(latency.as_secs_f64());
            }
            Event::CacheHit { tool, model } => {
                let labels = self.model_labels(tool, model);
                self.cache_hits.get_or_create(&labels).inc();
            }
            Event::Refused { .. } => {}
            Event::Spent {
                tool,
                model,
                prompt_tokens,
                completion_tokens,
                cost_usd,
            } => {
                let labels = self.model_labels(tool, model);
                self.prompt_tokens
                    .get_or_create(&labels)
                    .inc_by(prompt_tokens);
                self.completion_tokens
                    .get_or_create(&labels)
                    .inc_by(completion_tokens);
                self.cost_usd
                    .get_or_create(&labels)
                    .inc_by(cost_usd.max(0.0));
            }
            Event::ToolFinished {
                tool,
                failed,
                elapsed,
            } => self.tool_finished(tool, failed, elapsed),
        }
    }

    fn tool_finished(&self, tool: &str, failed: bool, elapsed: Duration) {
        let labels = ToolLabel { tool: escape(tool) };
        self.tool_calls.get_or_create(&labels).inc();
        let errors = self.tool_errors.get_or_create(&labels);
        if failed {
            errors.inc();
        }
        self.tool_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// `(model, outcome, count)` of every upstream attempt since start, as counted under
    /// `switchboard_upstream_attempts_total` (model ids unescaped; `other` past [`MAX_MODELS`]).
    pub fn attempt_counts(&self) -> Vec<(String, String, u64)> {
        self.attempt_totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|((model, outcome), count)| (model.clone(), (*outcome).to_string(), *count))
            .collect()
    }

    pub fn reject(&self, why: Rejection) {
        self.rejected.get_or_create(&reason(why)).inc();
    }

    /// The whole registry as OpenMetrics text; the in-flight gauge is read at this moment.
    pub fn render(&self) -> String {
        self.in_flight
            .set(crate::consult::scope::in_flight().count());
        let mut out = String::with_capacity(8192);
        if let Err(error) = encode(&mut out, &self.registry) {
            tracing::error!(%error, "could not encode /metrics");
        }
        out
    }

    fn model_labels(&self, tool: &str, model: &str) -> ModelLabels {
        ModelLabels {
            tool: escape(tool),
            model: self.model_label(model),
        }
    }

    /// The label for `model`, or `other` once [`MAX_MODELS`] distinct ones are known.
    fn model_label(&self, model: &str) -> String {
        let mut names = self
            .model_names
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if names.contains(model) {
            return escape(model);
        }
        if names.len() >= MAX_MODELS {
            return OTHER.to_string();
        }
        names.insert(model.to_string());
        escape(model)
    }
}

fn reason(why: Rejection) -> ReasonLabel {
    ReasonLabel {
        reason: why.label().to_string(),
    }
}

/// Label values escape `\`, `"` and newlines (the encoder writes them as given).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::{Attempt, Outcome};

    fn attempt(model: &str, outcome: Outcome) -> Attempt {
        Attempt {
            model: model.to_string(),
            outcome,
            status: None,
            error: None,
            latency_ms: 1,
            note: None,
            paid: None,
        }
    }

    #[test]
    fn attempt_counts_follow_the_attempt_series_unescaped() {
        let metrics = Metrics::new();
        metrics.record(&Event::Attempt(&attempt("we\"ird", Outcome::Retried)));
        metrics.record(&Event::Attempt(&attempt("we\"ird", Outcome::Retried)));
        metrics.record(&Event::Attempt(&attempt("a/m", Outcome::Ok)));
        assert_eq!(
            metrics.attempt_counts(),
            [
                ("a/m".to_string(), "ok".to_string(), 1),
                ("we\"ird".to_string(), "retried".to_string(), 2),
            ]
        );
        assert!(metrics.render().contains(
            "switchboard_upstream_attempts_total{model=\"we\\\"ird\",outcome=\"retried\"} 2"
        ));
    }

    #[test]
    fn events_become_series() {
        let metrics = Metrics::new();
        let (tool, model) = ("ask_model", "a/m");
        metrics.record(&Event::Attempt(&attempt("b/x", Outcome::FellBack)));
        metrics.record(&Event::Attempt(&attempt(model, Outcome::Ok)));
        metrics.record(&Event::Answered {
            tool,
            model,
            cached: false,
            latency: Duration::from_millis(120),
        });
        metrics.record(&Event::Spent {
            tool,
            model,
            prompt_tokens: 10,
            completion_tokens: 5,
            cost_usd: 0.25,
        });
        metrics.record(&Event::CacheHit {
            tool: "compare_models",
            model,
        });
        metrics.record(&Event::Answered {
            tool: "compare_models",
            model,
            cached: true,
            latency: Duration::from_millis(1),
        });
        metrics.record(&Event::ToolFinished {
            tool,
            failed: false,
            elapsed: Duration::from_millis(130),
        });
        metrics.record(&Event::ToolFinished {
            tool: "list_models",
            failed: true,
            elapsed: Duration::from_millis(1),
        });
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
            "switchboard_tool_duration_seconds_bucket{le=\"0.25\",tool=\"ask_model\"} 1",
            "switchboard_tool_duration_seconds_bucket{le=\"0.1\",tool=\"ask_model\"} 0",
            "switchboard_model_latency_seconds_count{tool=\"ask_model\",model=\"a/m\"} 1",
            "switchboard_http_rejected_total{reason=\"origin\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }

    #[test]
    fn model_labels_are_bounded_and_escaped() {
        let metrics = Metrics::new();
        for i in 0..MAX_MODELS + 10 {
            let model = format!("m/{i}\"\n");
            metrics.record(&Event::Attempt(&attempt(&model, Outcome::Ok)));
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
}
