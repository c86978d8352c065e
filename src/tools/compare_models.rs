//! `compare_models`: one prompt to several models at once; each model succeeds or fails on its own.
//! With `judge_model`, one more call judges the answers (see [`super::judge`]). Each text gets an
//! equal share of `SWITCHBOARD_MAX_RESULT_CHARS`, so the whole result stays within it.

use super::capabilities::{self, Fitted};
use super::consult_args::{self, Consultation, ReasoningMap};
use super::judge::{self, Entry, Judgement};
use super::models::PromptSize;
use super::{ToolError, UsageOutput, attachments, input, models};
use crate::App;
use crate::answers;
use crate::catalog::Snapshot;
use crate::consult::{self, Answer, Ask, Worst};
use crate::openrouter::types::ChatMessage;
use crate::pricing;
use crate::router::{Call, clamp, millis, shape};
use futures_util::future::join_all;
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub const MIN_MODELS: usize = 2;
pub const MAX_MODELS: usize = 8;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareModelsArgs {
    /// The question or task. Give this or `messages`.
    pub prompt: Option<String>,
    /// [{role, content}] instead of `prompt`.
    pub messages: Option<Vec<ChatMessage>>,
    /// System instructions.
    pub system: Option<String>,
    /// 2 to 8 model ids (no fallback).
    pub models: Vec<String>,
    /// As in ask_model, per model.
    pub max_tokens: Option<i64>,
    /// 0 to 2.
    pub temperature: Option<f64>,
    /// use (default), bypass or refresh.
    pub cache: Option<String>,
    /// Text/PDF paths or globs.
    pub files: Option<Vec<String>>,
    /// Image paths or URLs.
    pub images: Option<Vec<String>>,
    /// Model that then ranks the answers, blind.
    pub judge_model: Option<String>,
    /// As in ask_model.
    pub reasoning: Option<ReasoningMap>,
    /// JSON Schema each answer must match.
    pub response_format: Option<Map<String, Value>>,
    /// As in ask_model.
    pub provider: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CompareModelsOutput {
    /// In the order asked.
    pub results: Vec<ModelResult>,
    pub total_cost_usd: f64,
    pub wall_ms: u64,
    /// Secrets (and PII) masked before sending, by kind.
    #[serde(skip_serializing_if = "attachments::Masked::is_empty")]
    pub masked: attachments::Masked,
    /// With judge_model: the judge's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judgement: Option<Judgement>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelResult {
    pub model: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Set when `text` was cut; read the rest with read_answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_chars: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageOutput>,
    pub latency_ms: u64,
    pub cached: bool,
    /// Still cut by max_tokens after SWITCHBOARD_MAX_CONTINUATIONS follow-ups.
    pub truncated: bool,
    /// What to know about this model's cost: an unusable upstream cost, a ledger write that failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Runs every model concurrently, then the judge, then pages the texts. `on_done` is told as each
/// model finishes (done, total).
pub async fn run(
    app: &App,
    args: CompareModelsArgs,
    on_done: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<CompareModelsOutput, ToolError> {
    let started = Instant::now();
    let messages = input::messages(args.prompt, args.messages, args.system)?;
    let attached = attachments::prepare(app, messages, args.files, args.images)?;
    let messages = attached.messages;
    let asked_tokens = input::max_tokens(args.max_tokens)?;
    let temperature = input::temperature(args.temperature)?;
    let cache = input::cache_mode(args.cache.as_deref())?;
    let (snapshot, unknown) = check_models(app, &args.models).await?;
    let max_tokens = clamp::resolve(&snapshot, &args.models, asked_tokens);
    let consultation = consult_args::consultation(
        app.config.provider.as_ref(),
        args.reasoning,
        args.response_format,
        args.provider,
        max_tokens,
    )?;
    if let Some(judge) = &args.judge_model {
        judge::check(app, &snapshot, judge)?;
    }
    let mut size = models::PromptSize::new(&messages, max_tokens);
    let plans: Vec<_> = args
        .models
        .iter()
        .zip(unknown)
        .map(|(m, unknown)| match unknown {
            Some(error) => Err(error),
            None => plan(app, &snapshot, m, &mut size, &consultation, &attached.needs),
        })
        .collect();
    if let Some(judge) = &args.judge_model {
        judge::fits_budget(app, &snapshot, judge, &plans, &mut size).await?;
    }
    let (tokens, continuations) = (
        (max_tokens, asked_tokens),
        app.config.retry.max_continuations,
    );
    let finished = AtomicUsize::new(0);
    let total = args.models.len();
    let runs = args.models.iter().zip(plans).map(|(model, plan)| async {
        let result = match plan {
            Err(reason) => (ModelResult::failed(model, reason, 0), None),
            Ok((worst, fitted)) => {
                let chain = vec![model.to_string()];
                let call = Call {
                    temperature,
                    reasoning: fitted.reasoning,
                    structured: consultation.structured.clone(),
                    provider: consultation.provider.clone(),
                    notes: fitted.notes,
                    ..Call::new(
                        &snapshot,
                        chain,
                        messages.clone(),
                        tokens,
                        cache,
                        continuations,
                    )
                };
                ask_one(app, &snapshot, call, worst).await
            }
        };
        on_done(finished.fetch_add(1, Ordering::SeqCst) + 1, total);
        result
    });
    let asked = join_all(runs).await;
    let mut warnings = Vec::new();
    let judgement = match &args.judge_model {
        Some(id) => judged(app, &snapshot, id, &messages, &asked, cache, &mut warnings).await,
        None => None,
    };
    let results = asked.into_iter().map(|(result, _)| result).collect();
    let (results, judgement) = paged(app, results, judgement).await;
    Ok(CompareModelsOutput {
        total_cost_usd: total_cost(&results, judgement.as_ref()),
        results,
        wall_ms: millis(started.elapsed()),
        masked: attached.masked,
        judgement,
        warnings,
    })
}

/// What every model and the judge cost, USD.
fn total_cost(results: &[ModelResult], judgement: Option<&Judgement>) -> f64 {
    let models: f64 = results
        .iter()
        .filter_map(|r| r.usage.as_ref())
        .map(|u| u.cost_usd)
        .sum();
    pricing::usd(models + judgement.map_or(0.0, |j| j.cost_usd))
}

/// The judge's verdict on the answers, or `None` (with a warning) when fewer than two answered.
async fn judged(
    app: &App,
    snapshot: &Snapshot,
    judge_model: &str,
    question: &[ChatMessage],
    asked: &[(ModelResult, Option<String>)],
    cache: crate::router::CacheMode,
    warnings: &mut Vec<String>,
) -> Option<Judgement> {
    let entries: Vec<Entry<'_>> = asked
        .iter()
        .filter_map(|(result, provider)| {
            Some(Entry {
                model: &result.model,
                provider: provider.as_deref(),
                text: result.text.as_deref().filter(|_| result.ok)?,
            })
        })
        .collect();
    if entries.len() < MIN_MODELS {
        warnings.push(format!(
            "judge_model was not asked: {} model(s) answered and a judgement needs {MIN_MODELS}",
            entries.len()
        ));
        return None;
    }
    Some(judge::judge(app, snapshot, judge_model, question, &entries, cache).await)
}

/// Each text (and the judge's) within an equal share of `SWITCHBOARD_MAX_RESULT_CHARS`; a
/// longer one is cut, and stored whole for read_answer.
async fn paged(
    app: &App,
    mut results: Vec<ModelResult>,
    mut judgement: Option<Judgement>,
) -> (Vec<ModelResult>, Option<Judgement>) {
    let texts = results.iter().filter(|r| r.text.is_some()).count();
    let judged = judgement.as_ref().is_some_and(|j| j.text.is_some());
    let share = app.config.max_result_chars / (texts + usize::from(judged)).max(1);
    let pages = results.iter_mut().map(|r| async move {
        if let Some(text) = r.text.take() {
            let page = answers::paged(app, &r.model, text, share).await;
            r.text = Some(page.text);
            (r.answer_id, r.total_chars) = (page.answer_id, page.total_chars);
            r.warnings.extend(page.warning);
        }
    });
    join_all(pages).await;
    if let Some(j) = judgement.as_mut()
        && let Some(text) = j.text.take()
    {
        let page = answers::paged(app, &j.model, text, share).await;
        j.text = Some(page.text);
        (j.answer_id, j.total_chars) = (page.answer_id, page.total_chars);
        j.warnings.extend(page.warning);
    }
    (results, judgement)
}

/// Why `model` is not asked at all, or its worst case when a cost cap applies and what the
/// consultation arguments send it.
fn plan(
    app: &App,
    snapshot: &Snapshot,
    model: &str,
    size: &mut PromptSize<'_>,
    consultation: &Consultation,
    needs: &[&str],
) -> Result<(Option<Worst>, Fitted), String> {
    if let Some(reason) = app.policy.refusal(model, snapshot.find(model)) {
        return Err(format!("refused: {reason}"));
    }
    if let Some(reason) = models::modality_misfit(snapshot, model, needs) {
        return Err(format!("skipped: {reason}"));
    }
    if let Some((_, reason)) = capabilities::refusal(snapshot.find(model), consultation) {
        return Err(format!("skipped: {reason}"));
    }
    if let Some(reason) = size.misfit(snapshot, model) {
        return Err(format!("skipped: {reason}"));
    }
    let chain = vec![model.to_string()];
    let fitted = capabilities::fit(snapshot, chain, &mut Vec::new(), consultation)
        .map_err(|e| e.to_string())?;
    let worst = consult::worst_case(app, snapshot, &[model.to_string()], size, None)
        .map_err(|e| e.to_string())?;
    Ok((worst, fitted))
}

/// The catalog, and for each id the error that keeps it from being asked (an unknown id), as long
/// as [`MIN_MODELS`] known ones remain; otherwise the first unknown id fails the call.
async fn check_models(
    app: &App,
    ids: &[String],
) -> Result<(Arc<Snapshot>, Vec<Option<String>>), ToolError> {
    if !(MIN_MODELS..=MAX_MODELS).contains(&ids.len()) {
        return Err(ToolError::invalid(
            "models",
            format!(
                "names {} models; give between {MIN_MODELS} and {MAX_MODELS} ids",
                ids.len()
            ),
        ));
    }
    let snapshot = app.catalog.snapshot().await;
    let mut verdicts = Vec::with_capacity(ids.len());
    let mut first_unknown = None;
    for id in ids {
        match models::check(&snapshot, "models", id) {
            Ok(()) => verdicts.push(None),
            Err(error @ ToolError::UnknownModel { .. }) => {
                verdicts.push(Some(error.to_string()));
                first_unknown.get_or_insert(error);
            }
            Err(error) => return Err(error),
        }
    }
    let known = verdicts.iter().filter(|v| v.is_none()).count();
    match first_unknown {
        Some(error) if known < MIN_MODELS => Err(error),
        _ => Ok((snapshot, verdicts)),
    }
}

/// One model's answer (and the provider that served it), through the paid-call owner; a refusal
/// or failure is this model's alone.
async fn ask_one(
    app: &App,
    snapshot: &Snapshot,
    call: Call,
    worst: Option<Worst>,
) -> (ModelResult, Option<String>) {
    let started = Instant::now();
    let model = call.chain[0].clone();
    let structured = call.structured.is_some();
    let ask = Ask {
        tool: "compare_models",
        requested_model: model.clone(),
        snapshot,
        call,
        worst,
        max_cost: None,
        progress: &mut |_, _| {},
    };
    let result = consult::answer(app, ask).await;
    let latency_ms = millis(started.elapsed());
    let failed = match result {
        Ok(Answer { routed, charge }) => {
            let answered = ModelResult {
                model,
                ok: true,
                usage: Some(UsageOutput::new(
                    &routed.completion.usage,
                    &charge,
                    routed.cached,
                )),
                json: structured
                    .then(|| shape::parse(&routed.completion.text).ok())
                    .flatten(),
                text: Some(routed.completion.text),
                answer_id: None,
                total_chars: None,
                error: None,
                latency_ms,
                cached: routed.cached,
                truncated: routed.truncated,
                warnings: charge.warnings,
            };
            return (answered, routed.completion.provider);
        }
        Err(error @ ToolError::Route(_)) => {
            ModelResult::failed(&model, app.redact(&error.to_string()), latency_ms)
        }
        Err(refusal) => ModelResult::failed(&model, refusal.to_string(), 0),
    };
    (failed, None)
}

impl ModelResult {
    fn failed(model: &str, error: String, latency_ms: u64) -> Self {
        Self {
            model: model.to_string(),
            ok: false,
            text: None,
            answer_id: None,
            total_chars: None,
            json: None,
            error: Some(error),
            usage: None,
            latency_ms,
            cached: false,
            truncated: false,
            warnings: Vec::new(),
        }
    }
}
