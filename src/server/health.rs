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
    /// `sqlite`, or `redis` for a store shared by a fleet.
    backend: &'static str,
    /// Redis only: commands sent and failed since start, and the last one's round trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    commands: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_round_trip_ms: Option<f64>,
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
    let store = store_health(app).await;
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

/// Opens the SQLite file (if not yet open) and reads the ledger once, or pings Redis.
async fn store_health(app: &App) -> StoreHealth {
    let store = app.budget.store();
    let error = store
        .probe()
        .await
        .err()
        .map(|error| store_problem(app, &error));
    let redis = store.shared().map(|redis| redis.health());
    StoreHealth {
        ok: error.is_none(),
        error,
        backend: if redis.is_some() { "redis" } else { "sqlite" },
        commands: redis.map(|(commands, _, _)| commands),
        command_errors: redis.map(|(_, errors, _)| errors),
        last_round_trip_ms: redis.map(|(_, _, last)| last.as_secs_f64() * 1000.0),
    }
}

/// What is wrong with the data store, where, and what to do.
pub fn store_problem(app: &App, error: &StoreError) -> String {
    if let Some(redis) = app.budget.store().shared() {
        return format!(
            "the shared store {} is unavailable ({error}); start Redis or fix SWITCHBOARD_CACHE",
            redis.redacted()
        );
    }
    format!(
        "the data store {} is unavailable ({error}); make the data dir writable, move a damaged file aside, or set SWITCHBOARD_DATA_DIR",
        app.budget.store().path().display()
    )
}
