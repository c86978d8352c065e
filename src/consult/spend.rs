//! Before a paid call: its worst case over the chain, checked against `max_cost_usd` and the
//! budget left (a refusal states the figures, and nothing is sent). After it: what it is charged.
//!
//! The worst case of one model is prompt tokens x its dearest prompt rate (plain or prompt
//! cache), plus max_tokens x its dearest completion rate (plain or reasoning), plus its
//! per-request fee and one web search. The call's worst case is the dearest model of the chain: retries and fallbacks
//! are separate requests, but OpenRouter bills a failed attempt nothing, and only one attempt
//! answers, so each call pays for one answered request.

use crate::App;
use crate::budget::{Admission, Charge, Refusal};
use crate::catalog::Snapshot;
use crate::pricing;
use crate::router::{RouteError, Routed};
use crate::tools::ToolError;
use crate::tools::models::PromptSize;
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
}

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
    let mut worst: Option<(Decimal, Decimal, &String)> = None;
    for id in chain {
        let assumed = app.config.unknown_price;
        let pricing = snapshot.find(id).map(|m| m.worst_case_pricing(assumed));
        let cost = pricing.and_then(|p| {
            Some((
                p.worst_case(prompt_tokens, u64::from(max_tokens))?,
                p.per_call()?,
            ))
        });
        let Some((cost, fees)) = cost else {
            return Err(ToolError::invalid(
                "model",
                format!(
                    "`{id}` has no known price (or fee), so the cost cap cannot be checked; pick a model with a listed price, or set SWITCHBOARD_UNKNOWN_PRICE to the most this upstream charges per 1M tokens"
                ),
            ));
        };
        if worst.is_none_or(|(w, _, _)| cost > w) {
            worst = Some((cost, fees, id));
        }
    }
    Ok(worst.map(|(usd, fees, model)| Worst {
        usd: pricing::to_f64_up(usd),
        model: model.clone(),
        prompt_tokens,
        max_tokens,
        fees: pricing::to_f64(fees),
    }))
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

/// What a routed call is charged: nothing when it failed (OpenRouter bills a failed attempt
/// nothing); for an answer, what upstream reported, or the catalog price of its tokens, or its
/// worst case (see [`Charge::of`]). For a cached answer: what it cost when it was produced.
pub fn charge(snapshot: &Snapshot, answered: Option<&Routed>, worst: Option<&Worst>) -> Charge {
    let Some(routed) = answered else {
        return Charge::nothing();
    };
    let pricing = snapshot.find(&routed.model).map(|m| m.pricing());
    if routed.cached {
        let original = Charge::of(&routed.completion.usage, pricing, None);
        return Charge {
            warnings: Vec::new(),
            ..original
        };
    }
    Charge::of(&routed.completion.usage, pricing, worst.map(|w| w.usd))
}

/// What the call paid now: nothing for an answer from the cache or shared with an identical call.
pub fn paid(result: &Result<Routed, RouteError>, charge: &Charge) -> f64 {
    match result {
        Ok(routed) if !routed.cached => charge.usd,
        _ => 0.0,
    }
}
