//! Before a paid call: its worst case over the chain, checked against `max_cost_usd` and the
//! budget left (a refusal states the figures, and nothing is sent). After it: what it is charged.
//!
//! The worst case of one model is prompt tokens x its dearest prompt rate (plain or prompt
//! cache), plus max_tokens x its dearest completion rate (plain or reasoning), plus its
//! per-request fee and one web search. The call's worst case is the dearest model of the chain: retries and fallbacks
//! are separate requests, but OpenRouter bills a failed attempt nothing, and only one attempt
//! answers, so each call pays for one answered request.

use crate::App;
use crate::budget::CostSource;
use crate::budget::{Admission, Charge, Refusal};
use crate::catalog::Snapshot;
use crate::pricing;
use crate::router::complete::Gate;
use crate::router::{RouteError, Routed};
use crate::tools::ToolError;
use crate::tools::models::PromptSize;
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;

/// The most a call can cost, and on which model.
#[derive(Debug, Clone)]
pub struct Worst {
    pub usd: f64,
    pub model: String,
    pub prompt_tokens: u64,
    pub max_tokens: u32,
    /// The per-request and web-search fees within `usd`.
    pub fees: f64,
    /// The worst case of each request an answer may take: the first (`usd`), then each of
    /// `SWITCHBOARD_MAX_CONTINUATIONS` continuations (each resends the prompt and the answer so far).
    pub requests: Vec<f64>,
}

impl Worst {
    /// The worst case of the first request and `continuations` follow-ups.
    pub fn with_continuations(&self, continuations: u32) -> f64 {
        let count = usize::try_from(continuations).map_or(usize::MAX, |n| n.saturating_add(1));
        self.requests.iter().take(count).sum::<f64>().max(self.usd)
    }
}

/// Tokens a continuation adds to the prompt besides the answer so far (the assistant turn).
const CONTINUATION_OVERHEAD: u64 = 8;

impl std::fmt::Display for Worst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fees = if self.fees > 0.0 {
            format!(" + ${} in per-request fees", self.fees)
        } else {
            String::new()
        };
        write!(
            f,
            "worst case ${} ({} prompt tokens + max_tokens {}{fees} on {})",
            pricing::usd(self.usd),
            self.prompt_tokens,
            self.max_tokens,
            self.model
        )
    }
}

/// The worst case over `chain`, when a cap applies (`max_cost_usd` or a budget); else `None`,
/// and the prompt is not even counted.
pub fn worst_case(
    app: &App,
    snapshot: &Snapshot,
    chain: &[String],
    size: &mut PromptSize<'_>,
    max_cost: Option<f64>,
) -> Result<Option<Worst>, ToolError> {
    if max_cost.is_none() && app.budget.limit().is_none() {
        return Ok(None);
    }
    let prompt_tokens = size.tokens();
    let max_tokens = size.max_tokens();
    let continuations = u64::from(app.config.retry.max_continuations);
    let mut worst: Option<(Decimal, Decimal, &String)> = None;
    let mut requests: Vec<Decimal> = Vec::new();
    for id in chain {
        let assumed = app.config.unknown_price;
        let pricing = snapshot.find(id).map(|m| m.worst_case_pricing(assumed));
        let costs = pricing.and_then(|p| {
            let per_request = (0..=continuations)
                .map(|k| {
                    let resent = k * (u64::from(max_tokens) + CONTINUATION_OVERHEAD);
                    p.worst_case(prompt_tokens + resent, u64::from(max_tokens))
                })
                .collect::<Option<Vec<Decimal>>>()?;
            Some((per_request, p.per_call()?))
        });
        let Some((per_request, fees)) = costs else {
            return Err(ToolError::invalid(
                "model",
                format!(
                    "`{id}` has no known price (or fee), so the cost cap cannot be checked; pick a model with a listed price, or set SWITCHBOARD_UNKNOWN_PRICE to the most this upstream charges per 1M tokens"
                ),
            ));
        };
        let cost = per_request[0];
        if worst.is_none_or(|(w, _, _)| cost > w) {
            worst = Some((cost, fees, id));
        }
        fold_dearest(&mut requests, &per_request);
    }
    Ok(worst.map(|(usd, fees, model)| Worst {
        usd: pricing::to_f64_up(usd),
        model: model.clone(),
        prompt_tokens,
        max_tokens,
        fees: pricing::to_f64(fees),
        requests: requests.into_iter().map(pricing::to_f64_up).collect(),
    }))
}

/// Keeps in `dearest` the dearest worst case of each request, over the models seen.
fn fold_dearest(dearest: &mut Vec<Decimal>, per_request: &[Decimal]) {
    for (k, cost) in per_request.iter().enumerate() {
        match dearest.get_mut(k) {
            Some(worst) => *worst = (*worst).max(*cost),
            None => dearest.push(*cost),
        }
    }
}

/// Lets a continuation through when its worst case still fits: the call's worst case with it
/// stays within `max_cost_usd`, and its own worst case is reserved in the budget (released by
/// [`Continuations::release`]; the answer's whole cost settles on the call's admission). The
/// same for the one retry with a larger `max_tokens` after reasoning used the whole budget.
pub struct Continuations<'a> {
    pub app: &'a App,
    pub snapshot: &'a Snapshot,
    pub worst: Option<&'a Worst>,
    pub max_cost: Option<f64>,
    held: tokio::sync::Mutex<Held>,
}

/// What the gate reserved: the admissions, and the worst case of a larger retry.
#[derive(Default)]
struct Held {
    admissions: Vec<Admission>,
    retry_usd: f64,
}

impl<'a> Continuations<'a> {
    pub fn new(
        app: &'a App,
        snapshot: &'a Snapshot,
        worst: Option<&'a Worst>,
        max_cost: Option<f64>,
    ) -> Self {
        Self {
            app,
            snapshot,
            worst,
            max_cost,
            held: tokio::sync::Mutex::new(Held::default()),
        }
    }

    /// The worst case of a retry with a larger `max_tokens` that was let through (0 if none).
    pub async fn retry_usd(&self) -> f64 {
        self.held.lock().await.retry_usd
    }

    /// Frees the continuations' reservations: what they cost is settled with the call.
    pub async fn release(self, model: &str, source: CostSource) -> Vec<String> {
        let mut warnings = Vec::new();
        for admission in self.held.into_inner().admissions {
            warnings.extend(admission.settle(model, 0.0, source).await);
        }
        warnings
    }

    async fn admit(&self, model: String, number: u32) -> bool {
        let Some(worst) = self.worst else {
            return true;
        };
        let index = usize::try_from(number).unwrap_or(usize::MAX);
        let Some(cost) = worst.requests.get(index).copied() else {
            return false;
        };
        let total = worst.with_continuations(number) + self.retry_usd().await;
        self.reserve(model, cost, total, "continuation").await
    }

    /// Lets `model` be asked again with `max_tokens` when that request's worst case fits.
    async fn admit_retry(&self, model: String, max_tokens: u32) -> bool {
        let Some(worst) = self.worst else {
            return true;
        };
        let assumed = self.app.config.unknown_price;
        let cost = self
            .snapshot
            .find(&model)
            .map(|m| m.worst_case_pricing(assumed))
            .and_then(|p| p.worst_case(worst.prompt_tokens, u64::from(max_tokens)))
            .map(pricing::to_f64_up);
        let Some(cost) = cost else {
            return false;
        };
        if !self.reserve(model, cost, worst.usd + cost, "retry").await {
            return false;
        }
        self.held.lock().await.retry_usd += cost;
        true
    }

    /// Checks `total` (the call's worst case with this request) against `max_cost_usd`, then
    /// reserves `cost` in the budget.
    async fn reserve(&self, model: String, cost: f64, total: f64, what: &str) -> bool {
        if self.max_cost.is_some_and(|max| total > max) {
            tracing::info!(model, what, "request not sent: over max_cost_usd");
            return false;
        }
        match self.app.budget.admit(&model, cost).await {
            Ok(admission) => {
                self.held.lock().await.admissions.push(admission);
                true
            }
            Err(_) => {
                tracing::info!(model, what, "request not sent: over the budget");
                false
            }
        }
    }
}

impl Gate for Continuations<'_> {
    fn allow(&self, model: &str, number: u32) -> BoxFuture<'_, bool> {
        Box::pin(self.admit(model.to_string(), number))
    }

    fn retry(&self, model: &str, max_tokens: u32) -> BoxFuture<'_, bool> {
        Box::pin(self.admit_retry(model.to_string(), max_tokens))
    }
}

/// Checks `max_cost_usd`, then reserves the worst case against the budget.
pub async fn admit(
    app: &App,
    first_model: &str,
    worst: Option<&Worst>,
    max_cost: Option<f64>,
) -> Result<Admission, ToolError> {
    if let (Some(max), Some(worst)) = (max_cost, worst)
        && worst.usd > max
    {
        return Err(ToolError::invalid(
            "max_cost_usd",
            format!(
                "the {worst} is above max_cost_usd ${max}; lower max_tokens, shorten the prompt or raise max_cost_usd"
            ),
        ));
    }
    let amount = worst.map_or(0.0, |w| w.usd);
    app.budget.admit(first_model, amount).await.map_err(|refusal| match refusal {
        Refusal::OverBudget { limit, spend } => {
            let left = pricing::usd((limit - spend.total()).max(0.0));
            let what = worst.map_or_else(|| "the call".to_string(), ToString::to_string);
            ToolError::Budget(format!(
                "the {what} does not fit in SWITCHBOARD_BUDGET_USD: ${limit} per {}, ${:.6} spent, ${:.6} reserved by calls in flight, ${left:.6} left; lower max_tokens, pick a cheaper model or wait for the next period",
                app.budget.period().as_str(),
                spend.settled,
                spend.reserved,
            ))
        }
        Refusal::Store(error) => ToolError::Budget(format!("the spend ledger is unavailable ({error}); nothing was sent")),
    })
}

/// What a routed call is charged: for an answer, what upstream reported, or the catalog price
/// of its tokens, or its worst case (see [`Charge::of`]); for a cached answer, what it cost when
/// it was produced. OpenRouter bills a failed attempt nothing, except an answer whose reasoning
/// used the whole `max_tokens`: those bills are added, answered or not. `extra_worst` is the
/// worst case of a larger retry let through.
pub fn charge(
    snapshot: &Snapshot,
    result: Result<&Routed, &RouteError>,
    worst: Option<&Worst>,
    extra_worst: f64,
) -> Charge {
    let pricing_of = |model: &str| snapshot.find(model).map(|m| m.pricing());
    let (mut charge, attempts) = match result {
        Ok(routed) if routed.cached => {
            let original = Charge::of(&routed.completion.usage, pricing_of(&routed.model), None);
            return Charge {
                warnings: Vec::new(),
                ..original
            };
        }
        Ok(routed) => {
            let worst = worst.map(|w| w.with_continuations(routed.continuations) + extra_worst);
            let usage = &routed.completion.usage;
            let charge = Charge::of(usage, pricing_of(&routed.model), worst);
            (charge, routed.attempts.as_slice())
        }
        Err(error) => (Charge::nothing(), super::attempts_of(error)),
    };
    for attempt in attempts {
        if let Some(usage) = &attempt.paid {
            let billed = Charge::of(usage, pricing_of(&attempt.model), worst.map(|w| w.usd));
            charge.usd = pricing::to_f64(
                pricing::from_f64(charge.usd).unwrap_or_default()
                    + pricing::from_f64(billed.usd).unwrap_or_default(),
            );
            charge.warnings.extend(billed.warnings);
        }
    }
    charge
}

/// What the call paid now: nothing for an answer from the cache or shared with an identical call.
pub fn paid(result: &Result<Routed, RouteError>, charge: &Charge) -> f64 {
    match result {
        Ok(routed) if routed.cached => 0.0,
        _ => charge.usd,
    }
}
