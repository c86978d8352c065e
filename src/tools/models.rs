//! Checking model ids against the catalog and building the fallback chain.

use super::error::ToolError;
use crate::App;
use crate::catalog::{Snapshot, suggest};
use crate::router::Attempt;

/// Most models one chain or one call may name.
pub const MAX_CHAIN: usize = 20;

/// Fails with the 3 closest ids when `id` is not in an authoritative catalog. The embedded table is
/// only a sample, so against it every id passes.
pub fn check(snapshot: &Snapshot, field: &'static str, id: &str) -> Result<(), ToolError> {
    if id.trim().is_empty() {
        return Err(ToolError::invalid(
            field,
            "is empty: give a model id such as openai/gpt-5-mini",
        ));
    }
    if !snapshot.is_authoritative() || snapshot.find(id).is_some() {
        return Ok(());
    }
    let closest = suggest::closest_ids(snapshot, id, 3);
    Err(ToolError::UnknownModel {
        field,
        id: id.to_string(),
        closest,
    })
}

/// The chain for `ask_model`: the requested (or default) model, then the caller's fallbacks (or the
/// configured ones). A configured fallback missing from the catalog is skipped, not fatal.
pub async fn chain(
    app: &App,
    model: Option<String>,
    fallbacks: Option<Vec<String>>,
) -> Result<(Vec<String>, Vec<Attempt>), ToolError> {
    let snapshot = app.catalog.snapshot().await;
    let first = model.unwrap_or_else(|| app.config.default_model.clone());
    check(&snapshot, "model", &first)?;
    let mut chain = vec![first];
    let mut skipped = Vec::new();
    match fallbacks {
        Some(list) => {
            if list.len() >= MAX_CHAIN {
                return Err(ToolError::invalid(
                    "fallback_models",
                    format!(
                        "names {} models; the limit is {}",
                        list.len(),
                        MAX_CHAIN - 1
                    ),
                ));
            }
            for id in list {
                check(&snapshot, "fallback_models", &id)?;
                push_unique(&mut chain, id);
            }
        }
        None => {
            for id in &app.config.fallback_models {
                match check(&snapshot, "fallback_models", id) {
                    Ok(()) => push_unique(&mut chain, id.clone()),
                    Err(_) => skipped.push(Attempt::skipped(
                        id,
                        "not in the catalog (SWITCHBOARD_FALLBACK_MODELS)",
                    )),
                }
            }
        }
    }
    Ok((chain, skipped))
}

fn push_unique(chain: &mut Vec<String>, id: String) {
    if !chain.contains(&id) {
        chain.push(id);
    }
}
