//! `account_status`: what the key may spend and has spent (from OpenRouter), what this server's
//! ledger recorded this period, the budget left, and cache hits.

use super::ToolError;
use crate::App;
use crate::cache::Tier;
use crate::pricing;
use crate::store::{LedgerRow, Spend, StoreError};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

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
        Err(error) => (None, Some(app.redact(&error.to_string()))),
    };
    let (spend, rows, ledger_error) = match ledger(app).await {
        Ok((spend, rows)) => (spend, rows, None),
        Err(error) => (
            Spend::default(),
            Vec::new(),
            Some(ledger_problem(app, &error)),
        ),
    };
    let limit = app.budget.limit();
    let (hits, misses) = app.router.cache().counts();
    Ok(AccountStatusOutput {
        key,
        key_error,
        ledger_error,
        budget: BudgetStatus {
            period: app.budget.period().as_str(),
            limit_usd: limit,
            spent_usd: spend.settled,
            reserved_usd: spend.reserved,
            left_usd: limit.map(|l| pricing::usd((l - spend.total()).max(0.0))),
        },
        by_model: rows
            .into_iter()
            .map(|r| ModelSpend {
                model: r.model,
                cost_source: r.cost_source,
                calls: r.calls,
                cost_usd: r.cost_usd,
            })
            .collect(),
        cache: CacheStatus {
            backend: tier_name(app.router.cache().tier()),
            hits,
            misses,
        },
    })
}

/// This period's spend and the ledger by model.
async fn ledger(app: &App) -> Result<(Spend, Vec<LedgerRow>), StoreError> {
    let since = app.budget.period().start(SystemTime::now());
    let spend = app.budget.spend().await?;
    let rows = app.budget.store().ledger(since).await?;
    Ok((spend, rows))
}

/// An unusable data dir leaves the rest of the status standing; this says what and where.
fn ledger_problem(app: &App, error: &StoreError) -> String {
    format!(
        "the spend ledger {} is unavailable ({error}); make the data dir writable, move a damaged file aside, or set SWITCHBOARD_DATA_DIR",
        app.budget.store().path().display()
    )
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Off => "off",
        Tier::Memory => "memory",
        Tier::Sqlite => "sqlite",
    }
}
