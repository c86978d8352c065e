//! `ask_model`: ask one model, falling back along the chain when it cannot answer.

use super::consult_args::{self, ReasoningMap};
use super::{AttemptOutput, ToolError, UsageOutput, attachments, capabilities, input, models};
use crate::App;
use crate::answers;
use crate::catalog::Snapshot;
use crate::consult::{self, Answer, Ask, Worst};
use crate::conversation::{self, Transcript};
use crate::openrouter::types::{ChatMessage, Role};
use crate::router::{Call, Progress, clamp, millis, shape};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Instant;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskModelArgs {
    /// The question or task. Give this or `messages`.
    pub prompt: Option<String>,
    /// [{role, content}] instead of `prompt`.
    pub messages: Option<Vec<ChatMessage>>,
    /// System instructions.
    pub system: Option<String>,
    /// Model id, e.g. `openai/gpt-5-mini` (see list_models).
    pub model: Option<String>,
    /// Tried in order if `model` fails; [] for none.
    pub fallback_models: Option<Vec<String>>,
    /// Answer cap, tokens. Default 1024 (4096 if the model reasons).
    pub max_tokens: Option<i64>,
    /// 0 to 2.
    pub temperature: Option<f64>,
    /// use (default), bypass or refresh.
    pub cache: Option<String>,
    /// USD cap on the worst case; above it nothing is sent.
    pub max_cost_usd: Option<f64>,
    /// Text/PDF paths or globs.
    pub files: Option<Vec<String>>,
    /// Image paths or URLs.
    pub images: Option<Vec<String>>,
    /// Continue an earlier exchange (a result's id).
    pub conversation_id: Option<String>,
    /// {effort: minimal|low|medium|high} or {max_tokens: N}; exclude: true hides it.
    pub reasoning: Option<ReasoningMap>,
    /// JSON Schema the answer must match; parsed into `json`.
    pub response_format: Option<Map<String, Value>>,
    /// OpenRouter provider preferences: order, only, ignore, sort, zdr...
    pub provider: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AskModelOutput {
    pub text: String,
    /// The model that answered.
    pub model: String,
    pub requested_model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<String>,
    pub finish_reason: String,
    pub usage: UsageOutput,
    pub cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_age_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_saved_usd: Option<f64>,
    pub latency_ms: u64,
    pub attempts: Vec<AttemptOutput>,
    /// Still cut by max_tokens after SWITCHBOARD_MAX_CONTINUATIONS follow-ups.
    pub truncated: bool,
    /// Follow-up requests that completed an answer cut by max_tokens.
    pub continuations: u32,
    /// Set when `text` was cut at SWITCHBOARD_MAX_RESULT_CHARS; read the rest with read_answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_chars: Option<usize>,
    /// What to know about this call's cost: an unusable upstream cost, a ledger write that failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Secrets (and PII) masked before sending, by kind.
    #[serde(skip_serializing_if = "attachments::Masked::is_empty")]
    pub masked: attachments::Masked,
    /// Pass it back to continue this exchange.
    pub conversation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
}

/// Validates, hands the call to [`consult::answer`] and shapes the answer. `progress` sees streamed text as it arrives.
pub async fn run(
    app: &App,
    args: AskModelArgs,
    progress: Progress<'_>,
) -> Result<AskModelOutput, ToolError> {
    let started = Instant::now();
    let max_cost = input::max_cost(args.max_cost_usd)?;
    let (id, transcript) = open(app, args.conversation_id.as_deref()).await?;
    let snapshot = app.catalog.snapshot().await;
    let (call, worst, requested_model, masked) =
        prepare(app, &snapshot, args, max_cost, transcript.messages)?;
    let sent = Transcript {
        messages: call.messages.clone(),
        models: transcript.models,
    };
    let structured = call.structured.is_some();
    let ask = Ask {
        tool: "ask_model",
        requested_model: requested_model.clone(),
        snapshot: &snapshot,
        call,
        worst,
        max_cost,
        progress,
    };
    let answer = consult::answer(app, ask).await?;
    let model = consult::catalog_id(&snapshot, &answer.routed.model);
    let reply = ChatMessage::new(Role::Assistant, answer.routed.completion.text.clone());
    let unsaved = conversation::save(app, &id, sent, reply, &model).await;
    // The router accepted the answer only if it matched the schema; parsed before paging.
    let json = structured
        .then(|| shape::parse(&answer.routed.completion.text).ok())
        .flatten();
    let mut out = output(app, &snapshot, answer, requested_model, started, id).await;
    out.warnings.extend(unsaved);
    out.json = json;
    out.masked = masked;
    Ok(out)
}

/// The conversation this call continues (its id and transcript), or a new one.
async fn open(app: &App, id: Option<&str>) -> Result<(String, Transcript), ToolError> {
    let Some(id) = id else {
        return Ok((conversation::new_id(), Transcript::default()));
    };
    let transcript = conversation::load(app, id)
        .await
        .map_err(|e| ToolError::invalid("conversation_id", e.to_string()))?;
    Ok((id.trim().to_string(), transcript))
}

/// Checks the arguments and builds the call: chain, policy, context fit, worst case.
fn prepare(
    app: &App,
    snapshot: &Snapshot,
    args: AskModelArgs,
    max_cost: Option<f64>,
    earlier: Vec<ChatMessage>,
) -> Result<(Call, Option<Worst>, String, attachments::Masked), ToolError> {
    let messages = input::messages(args.prompt, args.messages, args.system)?;
    let attached = attachments::prepare(app, messages, args.files, args.images)?;
    // The stored transcript was masked when it was sent; its attachments still need their modalities.
    let messages = conversation::continued(earlier, attached.messages);
    let needs = attachments::needs_of(&messages);
    let asked_tokens = input::max_tokens(args.max_tokens)?;
    let temperature = input::temperature(args.temperature)?;
    let cache = input::cache_mode(args.cache.as_deref())?;
    let (chain, mut skipped) = models::chain(app, snapshot, args.model, args.fallback_models)?;
    let requested_model = chain[0].clone();
    let chain = models::allowed(app, snapshot, chain, &mut skipped)?;
    let chain = models::fit_modalities(snapshot, chain, &mut skipped, &needs)?;
    let max_tokens = clamp::resolve(snapshot, &chain, asked_tokens);
    let consultation = consult_args::consultation(
        app.config.provider.as_ref(),
        args.reasoning,
        args.response_format,
        args.provider,
        max_tokens,
    )?;
    let fitted = capabilities::fit(snapshot, chain, &mut skipped, &consultation)?;
    let chain = fitted.chain;
    let mut size = models::PromptSize::new(&messages, max_tokens);
    let (chain, room) = models::fit_context(snapshot, chain, &mut skipped, &mut size)?;
    let worst = consult::worst_case(app, snapshot, &chain, &mut size, max_cost)?;
    let continuations = app.config.retry.max_continuations;
    let tokens = (max_tokens, asked_tokens);
    let mut call = Call {
        skipped,
        temperature,
        reasoning: fitted.reasoning,
        structured: consultation.structured,
        provider: consultation.provider,
        notes: fitted.notes,
        ..Call::new(snapshot, chain, messages, tokens, cache, continuations)
    };
    clamp::within_context(&mut call.completion_limits, &room, max_tokens);
    Ok((call, worst, requested_model, attached.masked))
}

/// Shapes the answer; a text over SWITCHBOARD_MAX_RESULT_CHARS is paged (see [`answers::paged`]).
async fn output(
    app: &App,
    snapshot: &Snapshot,
    Answer { routed, charge }: Answer,
    requested_model: String,
    started: Instant,
    conversation_id: String,
) -> AskModelOutput {
    let completion = routed.completion;
    let saved = routed.cached.then_some(charge.usd);
    // A response may name a dated canonical slug; answer with the catalog id.
    let model = consult::catalog_id(snapshot, &routed.model);
    let page = answers::paged(app, &model, completion.text, app.config.max_result_chars).await;
    let usage = UsageOutput::new(&completion.usage, &charge, routed.cached);
    let mut warnings = charge.warnings;
    warnings.extend(page.warning);
    AskModelOutput {
        usage,
        warnings,
        text: page.text,
        answer_id: page.answer_id,
        total_chars: page.total_chars,
        model,
        requested_model,
        provider: completion.provider,
        generation_id: completion.generation_id,
        finish_reason: completion.finish_reason,
        cached: routed.cached,
        cache_age_s: routed.cached.then_some(routed.age_secs),
        cost_saved_usd: saved,
        latency_ms: millis(started.elapsed()),
        attempts: routed.attempts.iter().map(AttemptOutput::from).collect(),
        truncated: routed.truncated,
        continuations: routed.continuations,
        masked: attachments::Masked::new(),
        conversation_id,
        json: None,
    }
}
