//! The one owner of a paid call: cache read, budget admission, the chain walk (single-flight
//! included, in [`crate::router`]), settlement in the ledger, and the events that metrics and the
//! audit trail are made from. Tools validate their arguments, call [`answer`] once per model and
//! shape the output; none of them touches the budget, the cache, the store or the metrics.

pub mod account;
pub mod events;
pub mod scope;
mod spend;

pub use crate::budget::Charge;
pub use events::{Event, Events};
pub use spend::{Worst, worst_case};

use crate::App;
use crate::catalog::Snapshot;
use crate::router::{Call, Progress, RouteError, Routed};
use crate::tools::ToolError;
use scope::{Consultation, Verdict};
use std::time::Instant;

/// One paid call, checked and ready: the chain, messages and limits, and its worst case.
pub struct Ask<'a> {
    /// The tool the call serves (a metrics label).
    pub tool: &'static str,
    /// The model the caller asked for, before any was left out of the chain.
    pub requested_model: String,
    pub snapshot: &'a Snapshot,
    pub call: Call,
    pub worst: Option<Worst>,
    /// The caller's `max_cost_usd`.
    pub max_cost: Option<f64>,
    /// Sees streamed text as it arrives.
    pub progress: Progress<'a>,
}

impl std::fmt::Debug for Ask<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ask")
            .field("tool", &self.tool)
            .field("chain", &self.call.chain)
            .finish_non_exhaustive()
    }
}

/// An answered call and what it is charged.
#[derive(Debug)]
pub struct Answer {
    pub routed: Routed,
    pub charge: Charge,
}

/// Serves `ask` from the cache, or admits it against `max_cost_usd` and the budget, routes it and
/// settles what it cost. Every step emits its [`Event`]; the call's summary joins the tool
/// call's audit line.
///
/// # Errors
/// A refusal (`max_cost_usd`, budget, ledger) before anything is sent, or the chain's failure.
pub async fn answer(app: &App, ask: Ask<'_>) -> Result<Answer, ToolError> {
    let started = Instant::now();
    let (tool, snapshot) = (ask.tool, ask.snapshot);
    let mut note = Consultation::new(ask.requested_model.clone());
    let result = serve(app, ask, &mut note).await;
    if let Ok(answer) = &result {
        let model = catalog_id(snapshot, &answer.routed.model);
        let cached = answer.routed.cached;
        app.events.emit(&Event::Answered {
            tool,
            model: &model,
            cached,
            latency: started.elapsed(),
        });
        if !cached {
            let usage = &answer.routed.completion.usage;
            app.events.emit(&Event::Spent {
                tool,
                model: &model,
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                cost_usd: answer.charge.usd,
            });
        }
        note.answered(model, &answer.routed, &answer.charge);
    }
    scope::record(note);
    result
}

/// Cache, admission, routing, settlement: in that order, without leaving this function.
async fn serve(app: &App, ask: Ask<'_>, note: &mut Consultation) -> Result<Answer, ToolError> {
    let Ask {
        tool,
        snapshot,
        call,
        worst,
        max_cost,
        progress,
        ..
    } = ask;
    if let Some(hit) = app.router.cached(&call).await {
        let model = catalog_id(snapshot, &hit.model);
        app.events.emit(&Event::CacheHit {
            tool,
            model: &model,
        });
        let charge = spend::charge(snapshot, Ok(&hit), None, 0.0);
        return Ok(Answer {
            routed: hit,
            charge,
        });
    }
    let first = call.chain[0].clone();
    let first = first.as_str();
    let admission = match spend::admit(app, first, worst.as_ref(), max_cost).await {
        Ok(admission) => admission,
        Err(refusal) => {
            app.events.emit(&Event::Refused { tool, model: first });
            note.outcome = Verdict::Refused;
            return Err(refusal);
        }
    };
    let gate = spend::Continuations::new(app, snapshot, worst.as_ref(), max_cost);
    let result = app.router.route(&call, &gate, progress).await;
    let retry_worst = gate.retry_usd().await;
    let mut charge = spend::charge(snapshot, result.as_ref(), worst.as_ref(), retry_worst);
    let model = result.as_ref().map_or(first, |r| r.model.as_str());
    let paid = spend::paid(&result, &charge);
    charge
        .warnings
        .extend(admission.settle(model, paid, charge.source).await);
    charge
        .warnings
        .extend(gate.release(model, charge.source).await);
    if let Ok(routed) = &result {
        charge.warnings.extend(routed.warnings.iter().cloned());
    }
    if let Err(error) = &result {
        note.failed(error);
    }
    let routed = result.map_err(ToolError::from)?;
    Ok(Answer { routed, charge })
}

/// A response may name a dated canonical slug; answers, metrics and the audit use the catalog id.
pub fn catalog_id(snapshot: &Snapshot, model: &str) -> String {
    snapshot
        .find(model)
        .map_or_else(|| model.to_string(), |m| m.id.clone())
}

/// The attempts a failed route made.
pub(crate) fn attempts_of(error: &RouteError) -> &[crate::router::Attempt] {
    match error {
        RouteError::Stopped { attempts, .. }
        | RouteError::Exhausted { attempts }
        | RouteError::Deadline { attempts, .. } => attempts,
    }
}
