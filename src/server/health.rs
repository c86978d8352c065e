//! The `switchboard://health` resource: what a user checks when a provider is flaky. Models with
//! a failure streak or in cooldown (later calls skip them until it ends), attempt outcomes per
//! model since start (as counted for `/metrics`), the catalog's source and age, and whether the
//! data store works.

use super::resources::to_json;
use crate::App;
use crate::store::StoreError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

#[derive(Serialize)]
struct Health {
    /// Models with a failure streak, a cooldown or counted attempts, by id.
    models: Vec<ModelHealth>,
    cooldown: CooldownRule,
    catalog: CatalogHealth,
    store: StoreHealth,
}

#[derive(Serialize)]
struct ModelHealth {
    model: String,
    /// Failed attempts since its last success; `cooldown.after_failures` in a row start a cooldown.
    failures_in_a_row: u32,
    cooling_down: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cooldown_left_s: Option<u64>,
    /// Attempts by outcome (ok, retried, fell_back, failed, skipped) in calls that answered,
    /// since the server started.
    attempts: BTreeMap<String, u64>,
}

#[derive(Serialize)]
struct CooldownRule {
    after_failures: u32,
    period_s: u64,
}

#[derive(Serialize)]
struct CatalogHealth {
    /// live, saved or embedded.
    source: &'static str,
    fetched_at: String,
    age_s: u64,
    model_count: usize,
}

#[derive(Serialize)]
struct StoreHealth {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The resource's JSON.
pub async fn body(app: &App) -> String {
    let cooldowns = app.router.cooldowns.snapshot();
    let mut models: BTreeMap<String, ModelHealth> = BTreeMap::new();
    for state in cooldowns.models {
        let entry = model_entry(&mut models, &state.model);
        entry.failures_in_a_row = state.failures_in_a_row;
        entry.cooling_down = state.cooling_for.is_some();
        entry.cooldown_left_s = state.cooling_for.map(|d| d.as_secs_f64().ceil() as u64);
    }
    for (model, outcome, count) in crate::metrics::global().attempt_counts() {
        model_entry(&mut models, &model)
            .attempts
            .insert(outcome, count);
    }
    let snapshot = app.catalog.snapshot().await;
    let age = SystemTime::now()
        .duration_since(snapshot.fetched_at)
        .unwrap_or_default();
    let store = match store_works(app).await {
        Ok(()) => StoreHealth {
            ok: true,
            error: None,
        },
        Err(error) => StoreHealth {
            ok: false,
            error: Some(store_problem(app, &error)),
        },
    };
    to_json(&Health {
        models: models.into_values().collect(),
        cooldown: CooldownRule {
            after_failures: cooldowns.threshold,
            period_s: cooldowns.period.as_secs(),
        },
        catalog: CatalogHealth {
            source: snapshot.source.as_str(),
            fetched_at: snapshot.fetched_at_rfc3339(),
            age_s: age.as_secs(),
            model_count: snapshot.models.len(),
        },
        store,
    })
}

fn model_entry<'a>(
    models: &'a mut BTreeMap<String, ModelHealth>,
    model: &str,
) -> &'a mut ModelHealth {
    models
        .entry(model.to_string())
        .or_insert_with(|| ModelHealth {
            model: model.to_string(),
            failures_in_a_row: 0,
            cooling_down: false,
            cooldown_left_s: None,
            attempts: BTreeMap::new(),
        })
}

/// Opens the SQLite file (if not yet open) and reads the ledger once.
async fn store_works(app: &App) -> Result<(), StoreError> {
    app.budget
        .store()
        .run(|c| {
            c.query_row("SELECT COUNT(*) FROM ledger", [], |r| r.get::<_, i64>(0))?;
            Ok(())
        })
        .await
}

/// What is wrong with the data store, where, and what to do.
pub fn store_problem(app: &App, error: &StoreError) -> String {
    format!(
        "the data store {} is unavailable ({error}); make the data dir writable, move a damaged file aside, or set SWITCHBOARD_DATA_DIR",
        app.budget.store().path().display()
    )
}
