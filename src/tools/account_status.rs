//! `account_status`: what the key may spend and has spent (from OpenRouter), what this server's
//! ledger recorded this period, the budget left, and cache hits.

use super::ToolError;
use crate::App;
use crate::consult::account;
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use std::time::Duration;

const KEY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountStatusArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountStatusOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_error: Option<String>,
    /// Why spend and budget figures are missing (the ledger file cannot be used), with its path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_error: Option<String>,
    pub budget: BudgetStatus,
    /// This period's spend per model and cost_source, costliest first.
    pub by_model: Vec<ModelSpend>,
    pub cache: CacheStatus,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyStatus {
    pub limit_usd: Option<f64>,
    pub limit_remaining_usd: Option<f64>,
    pub usage_usd: Option<f64>,
    pub is_free_tier: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BudgetStatus {
    pub period: &'static str,
    pub limit_usd: Option<f64>,
    /// Settled costs, plus the worst case of every call that never settled (its process died).
    pub spent_usd: f64,
    /// Worst cases held by calls in flight.
    pub reserved_usd: f64,
    pub left_usd: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelSpend {
    pub model: String,
    pub cost_source: String,
    pub calls: u64,
    pub cost_usd: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CacheStatus {
    pub backend: &'static str,
    pub hits: u64,
    pub misses: u64,
}

/// What a gateway without OpenRouter's `GET /key` gets instead of a raw 404.
const NO_KEY_ENDPOINT: &str = "this upstream has no key endpoint (GET /key answered 404), so there is no key limit or usage to show; the local ledger below is this server's spend";

pub async fn run(app: &App, _args: AccountStatusArgs) -> Result<AccountStatusOutput, ToolError> {
    let (key, key_error) = match app.client.key_info(KEY_TIMEOUT).await {
        Ok(info) => (
            Some(KeyStatus {
                limit_usd: info.limit,
                limit_remaining_usd: info.limit_remaining,
                usage_usd: info.usage,
                is_free_tier: info.is_free_tier,
            }),
            None,
        ),
        Err(error) if error.status() == Some(404) => (None, Some(NO_KEY_ENDPOINT.to_string())),
        Err(error) => (None, Some(app.redact(&error.to_string()))),
    };
    let (ledger, ledger_error) = account::ledger(app).await;
    let (backend, hits, misses) = account::cache(app);
    Ok(AccountStatusOutput {
        key,
        key_error,
        ledger_error,
        budget: BudgetStatus {
            period: ledger.period,
            limit_usd: ledger.limit_usd,
            spent_usd: ledger.spent_usd,
            reserved_usd: ledger.reserved_usd,
            left_usd: ledger.left_usd,
        },
        by_model: ledger
            .by_model
            .into_iter()
            .map(|r| ModelSpend {
                model: r.model,
                cost_source: r.cost_source,
                calls: r.calls,
                cost_usd: r.cost_usd,
            })
            .collect(),
        cache: CacheStatus {
            backend,
            hits,
            misses,
        },
    })
}
