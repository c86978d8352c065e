//! Before a paid call: its worst case over the chain (prompt tokens x prompt price + max_tokens x
//! completion price, for the costliest model), checked against `max_cost_usd` and the budget left.
//! A refusal states the figures, and nothing is sent.

use super::ToolError;
use super::models::PromptSize;
use crate::App;
use crate::budget::{Admission, Refusal};
use crate::catalog::Snapshot;
use crate::pricing;
use rust_decimal::Decimal;

/// The most a call can cost, and on which model.
#[derive(Debug, Clone)]
pub struct Worst {
    pub usd: f64,
    pub model: String,
    pub prompt_tokens: u64,
    pub max_tokens: u32,
}

impl std::fmt::Display for Worst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "worst case ${:.6} ({} prompt tokens + max_tokens {} on {})",
            self.usd, self.prompt_tokens, self.max_tokens, self.model
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
    let mut worst: Option<(Decimal, &String)> = None;
    for id in chain {
        let model = snapshot.find(id);
        let cost = model.and_then(|m| {
            Some(
                m.prompt_price.cost(prompt_tokens)?
                    + m.completion_price.cost(u64::from(max_tokens))?,
            )
        });
        let Some(cost) = cost else {
            return Err(ToolError::invalid(
                "model",
                format!(
                    "`{id}` has no known price, so the cost cap cannot be checked; pick a model with a listed price"
                ),
            ));
        };
        if worst.is_none_or(|(w, _)| cost > w) {
            worst = Some((cost, id));
        }
    }
    Ok(worst.map(|(usd, model)| Worst {
        usd: pricing::to_f64(usd),
        model: model.clone(),
        prompt_tokens,
        max_tokens,
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
            let left = (limit - spend.settled - spend.reserved).max(0.0);
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
