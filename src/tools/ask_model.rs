//! `ask_model`: ask one model, falling back along the chain when it cannot answer.

use super::{AttemptOutput, ToolError, UsageOutput, input, models};
use crate::App;
use crate::openrouter::types::ChatMessage;
use crate::router::{Call, Progress, millis};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskModelArgs {
    /// The question or task. Give this or `messages`.
    pub prompt: Option<String>,
    /// Chat history instead of `prompt`.
    pub messages: Option<Vec<ChatMessage>>,
    /// System instructions.
    pub system: Option<String>,
    /// Model id such as `anthropic/claude-sonnet-4.5` (see list_models). Default: the server's.
    pub model: Option<String>,
    /// Models to try in order if `model` fails. Default: the server's chain; [] for none.
    pub fallback_models: Option<Vec<String>>,
    /// Answer length cap in tokens. Default 1024.
    pub max_tokens: Option<i64>,
    /// 0 to 2.
    pub temperature: Option<f64>,
    /// `use` (default) serves an identical earlier answer; `bypass` skips the cache; `refresh` asks again.
    pub cache: Option<String>,
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
    pub latency_ms: u64,
    pub attempts: Vec<AttemptOutput>,
}

/// Validates, routes and shapes the answer. `progress` sees streamed text as it arrives.
pub async fn run(
    app: &App,
    args: AskModelArgs,
    progress: Progress<'_>,
) -> Result<AskModelOutput, ToolError> {
    let started = Instant::now();
    let messages = input::messages(args.prompt, args.messages, args.system)?;
    let max_tokens = input::max_tokens(args.max_tokens)?;
    let temperature = input::temperature(args.temperature)?;
    let cache = input::cache_mode(args.cache.as_deref())?;
    let snapshot = app.catalog.snapshot().await;
    let (chain, mut skipped) = models::chain(app, &snapshot, args.model, args.fallback_models)?;
    let requested_model = chain[0].clone();
    let mut size = models::PromptSize::new(&messages, max_tokens);
    let chain = models::fit_context(&snapshot, chain, &mut skipped, &mut size)?;
    let call = Call {
        chain,
        skipped,
        messages,
        max_tokens,
        temperature,
        cache,
    };
    let routed = app.router.route(&call, progress).await?;
    let completion = routed.completion;
    Ok(AskModelOutput {
        usage: UsageOutput::new(&completion.usage, routed.cached),
        text: completion.text,
        // A response may name a dated canonical slug; answer with the catalog id.
        model: snapshot
            .find(&routed.model)
            .map_or(routed.model, |m| m.id.clone()),
        requested_model,
        provider: completion.provider,
        generation_id: completion.generation_id,
        finish_reason: completion.finish_reason,
        cached: routed.cached,
        latency_ms: millis(started.elapsed()),
        attempts: routed.attempts.iter().map(AttemptOutput::from).collect(),
    })
}
