//! One tool call as a unit: counted in flight while it runs (graceful shutdown waits on that
//! count), its paid calls collected as they end, and at its end the tool's metrics and its one
//! audit line (also for calls that failed or were refused).

use super::{Event, account};
use crate::App;
use crate::audit::{self, Caller};
use crate::router::{Attempt, RouteError, Routed, millis};
use rmcp::RoleServer;
use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use serde::Serialize;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;
use tokio::sync::Notify;

tokio::task_local! {
    static TRAIL: Arc<Trail>;
}

/// The paid calls of the tool call running in this task.
#[derive(Debug, Default)]
struct Trail(Mutex<Vec<Consultation>>);

/// How one paid call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    /// Refused before anything was sent: `max_cost_usd`, the budget or the ledger.
    Refused,
    /// Every model of the chain failed, or a failure stopped it.
    Failed,
}

/// One paid call as the audit line shows it: models, attempts, tokens and cost, never text.
#[derive(Debug, Clone, Serialize)]
pub struct Consultation {
    pub requested_model: String,
    /// The model that answered (catalog id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub outcome: Verdict,
    pub cached: bool,
    pub attempts: Vec<AttemptNote>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
    /// upstream, catalog or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_source: Option<&'static str>,
}

/// One attempt without its error text (which may quote upstream).
#[derive(Debug, Clone, Serialize)]
pub struct AttemptNote {
    pub model: String,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub latency_ms: u64,
}

impl From<&Attempt> for AttemptNote {
    fn from(a: &Attempt) -> Self {
        Self {
            model: a.model.clone(),
            outcome: a.outcome.as_str(),
            status: a.status,
            latency_ms: a.latency_ms,
        }
    }
}

impl Consultation {
    pub fn new(requested_model: String) -> Self {
        Self {
            requested_model,
            model: None,
            outcome: Verdict::Failed,
            cached: false,
            attempts: Vec::new(),
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: 0.0,
            cost_source: None,
        }
    }

    pub fn answered(&mut self, model: String, routed: &Routed, charge: &super::Charge) {
        self.outcome = Verdict::Ok;
        self.model = Some(model);
        self.cached = routed.cached;
        self.attempts = routed.attempts.iter().map(AttemptNote::from).collect();
        if !routed.cached {
            self.prompt_tokens = routed.completion.usage.prompt_tokens;
            self.completion_tokens = routed.completion.usage.completion_tokens;
            self.cost_usd = charge.usd;
        }
        self.cost_source = Some(charge.source.as_str());
    }

    pub fn failed(&mut self, error: &RouteError) {
        self.outcome = Verdict::Failed;
        self.attempts = super::attempts_of(error)
            .iter()
            .map(AttemptNote::from)
            .collect();
    }
}

/// Adds a finished paid call to the current tool call's trail (none outside a tool call).
pub fn record(note: Consultation) {
    let _ = TRAIL.try_with(|trail| {
        trail
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(note);
    });
}

/// Tool calls running now; graceful shutdown waits for them.
#[derive(Debug, Default)]
pub struct InFlight {
    count: AtomicI64,
    idle: Notify,
}

/// Counts one tool call as in flight until dropped.
#[derive(Debug)]
pub struct Running(&'static InFlight);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

static IN_FLIGHT: OnceLock<InFlight> = OnceLock::new();

/// The process's in-flight count.
pub fn in_flight() -> &'static InFlight {
    IN_FLIGHT.get_or_init(InFlight::default)
}

impl InFlight {
    /// Marks a tool call as started; it ends when the returned guard drops.
    pub fn enter(&'static self) -> Running {
        self.count.fetch_add(1, Ordering::AcqRel);
        Running(self)
    }

    /// Tool calls running now.
    pub fn count(&self) -> i64 {
        self.count.load(Ordering::Acquire).max(0)
    }

    /// Returns once no tool call is running.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.count() <= 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Wraps every tool of `router`: in flight while it runs, its paid calls collected, then the
/// tool's metrics and its audit line.
pub fn instrument<S: AsRef<App> + Send + Sync + 'static>(router: &mut ToolRouter<S>) {
    for route in router.map.values_mut() {
        let inner = route.call.clone();
        let tool: Arc<str> = Arc::from(route.attr.name.as_ref());
        *route = ToolRoute::new_dyn(
            route.attr.clone(),
            move |context: ToolCallContext<'_, S>| {
                let (inner, tool) = (inner.clone(), tool.clone());
                Box::pin(async move {
                    let _running = in_flight().enter();
                    let app: &App = context.service.as_ref();
                    let caller = app
                        .events
                        .auditing()
                        .then(|| caller_of(&context.request_context));
                    let cancel = context.request_context.ct.clone();
                    let trail = Arc::new(Trail::default());
                    let started = Instant::now();
                    let response = TRAIL.scope(trail.clone(), inner(context)).await;
                    let elapsed = started.elapsed();
                    let failed = !matches!(&response, Ok(CallToolResponse::Complete(r)) if r.is_error != Some(true));
                    app.events.emit(&Event::ToolFinished {
                        tool: &tool,
                        failed,
                        elapsed,
                    });
                    if let Some(caller) = caller {
                        let notes = std::mem::take(
                            &mut *trail.0.lock().unwrap_or_else(PoisonError::into_inner),
                        );
                        let outcome = outcome(&response, &notes, cancel.is_cancelled());
                        let line = audit::Line::new(&tool, caller, outcome, millis(elapsed), notes)
                            .with_budget_left(account::budget_left(app).await);
                        app.events.audit(&line);
                    }
                    response
                })
            },
        );
    }
}

/// The call's outcome class: ok, invalid (a bad argument), refused, failed (upstream),
/// cancelled or error (a protocol error).
fn outcome(
    response: &Result<CallToolResponse, rmcp::ErrorData>,
    notes: &[Consultation],
    cancelled: bool,
) -> &'static str {
    let is_error = match response {
        Ok(CallToolResponse::Complete(result)) => result.is_error == Some(true),
        Ok(_) => false,
        Err(_) => return "error",
    };
    if !is_error {
        "ok"
    } else if cancelled {
        "cancelled"
    } else if notes.iter().any(|n| n.outcome == Verdict::Refused) {
        "refused"
    } else if notes.iter().any(|n| n.outcome == Verdict::Failed) {
        "failed"
    } else {
        "invalid"
    }
}

/// Who is calling: transport, client name and version from `initialize`, session id.
pub(crate) fn caller_of(context: &RequestContext<RoleServer>) -> Caller {
    let parts = context.extensions.get::<axum::http::request::Parts>();
    let session = parts
        .and_then(|p| p.headers.get("mcp-session-id"))
        .and_then(|v| v.to_str().ok())
        .map(audit::shown);
    let transport = match parts {
        Some(_) => "http",
        None if SERVING_HTTP.get().is_some() => "sse",
        None => "stdio",
    };
    let client = context.peer.peer_info().map(|info| {
        (
            audit::shown(&info.client_info.name),
            audit::shown(&info.client_info.version),
        )
    });
    Caller {
        transport,
        client,
        session,
    }
}

static SERVING_HTTP: OnceLock<()> = OnceLock::new();

/// Tells the audit trail that this process serves HTTP: a call without HTTP request parts came
/// over the legacy SSE transport.
pub fn serving_http() {
    let _ = SERVING_HTTP.set(());
}

#[cfg(test)]
mod tests {
    use super::in_flight;
    use std::time::Duration;

    #[tokio::test]
    async fn wait_idle_returns_when_the_last_call_ends() {
        let guard = in_flight().enter();
        let waiter = tokio::spawn(async { in_flight().wait_idle().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(guard);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
