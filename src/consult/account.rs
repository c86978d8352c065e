//! What `account_status` reads from the paid-call side: the budget period, this period's spend
//! and ledger by model, and the response cache's counters.

use crate::App;
use crate::cache::Tier;
use crate::pricing;
use crate::store::StoreError;
use std::time::SystemTime;

/// This period's spend, as the ledger has it.
#[derive(Debug, Default)]
pub struct Ledger {
    pub period: &'static str,
    pub limit_usd: Option<f64>,
    pub spent_usd: f64,
    pub reserved_usd: f64,
    pub left_usd: Option<f64>,
    /// Spend by model and cost source, costliest first.
    pub by_model: Vec<ModelRow>,
}

/// One model's spend this period, by how its cost was known.
#[derive(Debug)]
pub struct ModelRow {
    pub model: String,
    /// `upstream`, `catalog` or `unknown` (a worst case charged).
    pub cost_source: String,
    pub calls: u64,
    pub cost_usd: f64,
}

/// The ledger for the current period; when the data dir is unusable, the budget settings with
/// zero spend, and the problem (with the file's path and what to do).
pub async fn ledger(app: &App) -> (Ledger, Option<String>) {
    let mut ledger = Ledger {
        period: app.budget.period().as_str(),
        limit_usd: app.budget.limit(),
        ..Ledger::default()
    };
    match read(app, &mut ledger).await {
        Ok(()) => (ledger, None),
        Err(error) => {
            ledger.left_usd = ledger.limit_usd.map(|l| pricing::usd(l.max(0.0)));
            (ledger, Some(problem(app, &error)))
        }
    }
}

async fn read(app: &App, ledger: &mut Ledger) -> Result<(), StoreError> {
    let since = app.budget.period().start(SystemTime::now());
    let spend = app.budget.spend().await?;
    let rows = app.budget.store().ledger(since).await?;
    ledger.spent_usd = spend.settled;
    ledger.reserved_usd = spend.reserved;
    ledger.left_usd = ledger
        .limit_usd
        .map(|l| pricing::usd((l - spend.total()).max(0.0)));
    ledger.by_model = rows
        .into_iter()
        .map(|r| ModelRow {
            model: r.model,
            cost_source: r.cost_source,
            calls: r.calls,
            cost_usd: r.cost_usd,
        })
        .collect();
    Ok(())
}

/// The budget left now, when there is a budget and the ledger can be read.
pub async fn budget_left(app: &App) -> Option<f64> {
    let limit = app.budget.limit()?;
    let spend = app.budget.spend().await.ok()?;
    Some(pricing::usd((limit - spend.total()).max(0.0)))
}

/// An unusable data dir leaves the rest of the status standing; this says what and where.
fn problem(app: &App, error: &StoreError) -> String {
    let store = app.budget.store();
    let fix = if store.shared().is_some() {
        "start Redis or fix SWITCHBOARD_CACHE; calls with a budget are refused until it answers"
    } else {
        "make the data dir writable, move a damaged file aside, or set SWITCHBOARD_DATA_DIR"
    };
    format!(
        "the spend ledger {} is unavailable ({error}); {fix}",
        store.path().display()
    )
}

/// The response cache: its backend, hits and misses.
pub fn cache(app: &App) -> (&'static str, u64, u64) {
    let cache = app.router.cache();
    let (hits, misses) = cache.counts();
    let backend = match cache.tier() {
        Tier::Off => "off",
        Tier::Memory => "memory",
        Tier::Sqlite => "sqlite",
        Tier::Redis => "redis",
    };
    (backend, hits, misses)
}
