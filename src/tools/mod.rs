//! The MCP tools. Each file owns one tool: its arguments, its output and a `run` function that the
//! rmcp handler ([`crate::server`]) and the shell commands ([`crate::commands`]) both call.

pub mod account_status;
pub mod ask_model;
pub mod attachments;
pub mod capabilities;
pub mod compare_models;
pub mod consult_args;
pub mod error;
pub mod estimate_cost;
pub mod input;
pub mod judge;
pub mod list_models;
pub mod models;
pub mod read_answer;

pub use error::ToolError;

use crate::consult::Charge;
use crate::openrouter::types::Usage;
use crate::router::Attempt;
use rmcp::schemars::{self, JsonSchema};
use serde::Serialize;

/// Token counts and what the call cost, in USD.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UsageOutput {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// Of completion_tokens, those spent reasoning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// What this call paid, USD (0 when cached).
    pub cost_usd: f64,
    /// upstream (reported by OpenRouter), catalog (priced from token counts) or unknown.
    pub cost_source: &'static str,
}

impl UsageOutput {
    /// `cached`: nothing was paid for this answer now. `charge`: what the answer cost.
    pub fn new(usage: &Usage, charge: &Charge, cached: bool) -> Self {
        Self {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            total_tokens: usage
                .total_tokens
                .max(usage.prompt_tokens + usage.completion_tokens),
            reasoning_tokens: usage.reasoning_tokens(),
            cost_usd: if cached { 0.0 } else { charge.usd },
            cost_source: charge.source.as_str(),
        }
    }
}

/// One upstream attempt.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttemptOutput {
    pub model: String,
    /// ok, retried, fell_back, failed or skipped.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: u64,
    /// What the switchboard changed in the request, e.g. a clamped max_tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl From<&Attempt> for AttemptOutput {
    fn from(a: &Attempt) -> Self {
        Self {
            model: a.model.clone(),
            outcome: a.outcome.as_str(),
            status: a.status,
            error: a.error.clone(),
            latency_ms: a.latency_ms,
            note: a.note.clone(),
        }
    }
}
