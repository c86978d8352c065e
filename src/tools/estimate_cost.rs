//! `estimate_cost`: what a prompt will cost on one or more models, before anything is spent.
//! Counts tokens locally and prices them from the catalog; never calls the chat endpoint.

use super::input::shown;
use super::{ToolError, attachments, input, models};
use crate::App;
use crate::catalog::ModelInfo;
use crate::openrouter::types::ChatMessage;
use crate::pricing;
use crate::tokens;
use rmcp::schemars::{self, JsonSchema};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

const MAX_MODELS: usize = 20;
const MAX_CALLS: i64 = 1_000_000_000;
/// Largest `prompt_tokens` accepted: far above any context window.
const MAX_PROMPT_TOKENS: i64 = 100_000_000;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateCostArgs {
    /// 1 to 20 model ids to price. Or give `model`.
    pub models: Option<Vec<String>>,
    pub model: Option<String>,
    /// Prompt text to count. Or give `messages` or `prompt_tokens`.
    pub prompt: Option<String>,
    pub messages: Option<Vec<ChatMessage>>,
    pub prompt_tokens: Option<i64>,
    /// Answer tokens per call. Default: as max_tokens.
    pub completion_tokens: Option<i64>,
    /// Calls to price. Default 1.
    pub calls: Option<i64>,
    pub files: Option<Vec<String>>,
    pub images: Option<Vec<String>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EstimateCostOutput {
    /// Cheapest first. Costs in USD for all calls; null when the model's price is set per call.
    pub estimates: Vec<Estimate>,
    pub token_counter: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Estimate {
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub prompt_cost_usd: Option<f64>,
    pub completion_cost_usd: Option<f64>,
    pub total_cost_usd: Option<f64>,
    pub context_length: Option<u64>,
    pub fits_context: Option<bool>,
}

pub async fn run(app: &App, args: EstimateCostArgs) -> Result<EstimateCostOutput, ToolError> {
    let ids = model_ids(args.models, args.model)?;
    // Absent: each model's default max_tokens (4096 for models that reason).
    let completion_tokens = args
        .completion_tokens
        .map(|n| input::token_count("completion_tokens", Some(n), input::DEFAULT_MAX_TOKENS))
        .transpose()?
        .map(u64::from);
    let calls = match args.calls {
        None => 1,
        Some(n) if (1..=MAX_CALLS).contains(&n) => n as u64,
        Some(n) => {
            return Err(ToolError::invalid(
                "calls",
                format!("must be between 1 and {MAX_CALLS}, got {n}"),
            ));
        }
    };
    let snapshot = app.catalog.snapshot().await;
    let mut priced = Vec::with_capacity(ids.len());
    for id in &ids {
        let model = snapshot.find(id).ok_or_else(|| unknown(&snapshot, id))?;
        if let Some(reason) = app.policy.refusal(id, Some(model)) {
            return Err(ToolError::Refused {
                field: "models",
                id: id.clone(),
                reason,
            });
        }
        priced.push((id, model));
    }
    // Counted only once every cheaper check has passed.
    let attached = (args.files, args.images);
    let (prompt_tokens, token_counter) = prompt_tokens(
        app,
        args.prompt,
        args.messages,
        args.prompt_tokens,
        attached,
    )?;
    let mut estimates: Vec<Estimate> = priced
        .into_iter()
        .map(|(id, model)| {
            let completion = completion_tokens
                .unwrap_or_else(|| u64::from(crate::router::clamp::default_for(&snapshot, id)));
            estimate(model, id, prompt_tokens, completion, calls)
        })
        .collect();
    estimates.sort_by(|a, b| match (a.total_cost_usd, b.total_cost_usd) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(EstimateCostOutput {
        estimates,
        token_counter,
    })
}

fn unknown(snapshot: &crate::catalog::Snapshot, id: &str) -> ToolError {
    match models::check(snapshot, "models", id) {
        Err(error) => error,
        Ok(()) => ToolError::invalid(
            "models",
            format!(
                "`{}` has no price in the {} catalog; try again once the live catalog is reachable",
                shown(id),
                snapshot.source.as_str()
            ),
        ),
    }
}

fn model_ids(list: Option<Vec<String>>, single: Option<String>) -> Result<Vec<String>, ToolError> {
    let ids = match (list, single) {
        (Some(_), Some(_)) => {
            return Err(ToolError::invalid(
                "model",
                "give either `model` or `models`, not both",
            ));
        }
        (None, None) => {
            return Err(ToolError::invalid(
                "models",
                "missing: give `model` or `models` (1 to 20 ids)",
            ));
        }
        (Some(list), None) => list,
        (None, Some(one)) => vec![one],
    };
    if ids.is_empty() || ids.len() > MAX_MODELS {
        return Err(ToolError::invalid(
            "models",
            format!(
                "names {} models; give between 1 and {MAX_MODELS}",
                ids.len()
            ),
        ));
    }
    Ok(ids)
}

/// Prompt tokens per call (attachments and masking as ask_model sends them), and what counted them.
fn prompt_tokens(
    app: &App,
    prompt: Option<String>,
    messages: Option<Vec<ChatMessage>>,
    given: Option<i64>,
    (files, images): (Option<Vec<String>>, Option<Vec<String>>),
) -> Result<(u64, String), ToolError> {
    let to_count = prompt.is_some() || messages.is_some() || files.is_some() || images.is_some();
    match (given, to_count) {
        (Some(_), true) => Err(ToolError::invalid(
            "prompt_tokens",
            "give either `prompt_tokens` or a prompt to count, not both",
        )),
        (Some(n), false) if !(0..=MAX_PROMPT_TOKENS).contains(&n) => Err(ToolError::invalid(
            "prompt_tokens",
            format!("must be 0 or more and at most {MAX_PROMPT_TOKENS}, got {n}"),
        )),
        (Some(n), false) => Ok((n as u64, "given".to_string())),
        (None, _) => {
            let list = input::messages(prompt, messages, None)?;
            let list = attachments::prepare(app, list, files, images)?.messages;
            Ok((tokens::count_messages(&list), tokens::COUNTER.to_string()))
        }
    }
}

fn estimate(
    model: &ModelInfo,
    id: &str,
    prompt_tokens: u64,
    completion_tokens: u64,
    calls: u64,
) -> Estimate {
    let for_calls = |cost: Option<Decimal>| cost.map(|c| c * Decimal::from(calls));
    let prompt_cost = for_calls(model.prompt_price.cost(prompt_tokens));
    let completion_cost = for_calls(model.completion_price.cost(completion_tokens));
    let total = prompt_cost.zip(completion_cost).map(|(p, c)| p + c);
    Estimate {
        model: id.to_string(),
        prompt_tokens,
        completion_tokens,
        prompt_cost_usd: prompt_cost.map(pricing::to_f64),
        completion_cost_usd: completion_cost.map(pricing::to_f64),
        total_cost_usd: total.map(pricing::to_f64),
        context_length: model.context_length,
        fits_context: model
            .context_length
            .map(|c| prompt_tokens + completion_tokens <= c),
    }
}
