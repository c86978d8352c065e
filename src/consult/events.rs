//! What happened during a call, as typed events: an attempt finished, an answer was served, a
//! cache hit, a refusal, tokens and cost, a tool call finished. [`Events`] sends each one to the
//! metrics registry; the audit line is made from the same records (see [`super::scope`]).

use crate::audit::{AuditLog, AuditTarget, Line};
use crate::metrics::{self, Metrics};
use crate::router::Attempt;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// One upstream attempt finished, or a model was skipped.
    Attempt(&'a Attempt),
    /// An answer was served (from upstream, the cache or a shared flight).
    Answered {
        tool: &'a str,
        model: &'a str,
        cached: bool,
        latency: Duration,
    },
    /// An answer came from the response cache.
    CacheHit { tool: &'a str, model: &'a str },
    /// A call was refused before anything was sent (`max_cost_usd`, budget, ledger).
    Refused { tool: &'a str, model: &'a str },
    /// What an upstream answer was billed.
    Spent {
        tool: &'a str,
        model: &'a str,
        prompt_tokens: u64,
        completion_tokens: u64,
        cost_usd: f64,
    },
    /// A tool call ended, as a tool error or not.
    ToolFinished {
        tool: &'a str,
        failed: bool,
        elapsed: Duration,
    },
}

/// Where events go: the process's metrics registry (built at the first event, so start-up builds
/// nothing) and, with `SWITCHBOARD_AUDIT_LOG`, the audit log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    metrics: fn() -> &'static Metrics,
    audit: Option<Arc<AuditLog>>,
}

impl Events {
    pub fn new(audit: Option<&AuditTarget>) -> Self {
        Self {
            metrics: metrics::global,
            audit: audit.map(|target| Arc::new(AuditLog::new(target.clone()))),
        }
    }

    pub fn emit(&self, event: &Event<'_>) {
        (self.metrics)().record(event);
    }

    /// Whether tool calls are written to an audit log.
    pub fn auditing(&self) -> bool {
        self.audit.is_some()
    }

    /// Appends one tool call's line to the audit log, if there is one.
    pub fn audit(&self, line: &Line<'_>) {
        if let Some(audit) = &self.audit {
            audit.write(line);
        }
    }
}
