//! `max_tokens` clamped to what each model can send (`top_provider.max_completion_tokens`).

use crate::catalog::Snapshot;
use std::collections::BTreeMap;

/// The completion limit of each model in `chain` that has one below `max_tokens`.
pub fn limits(snapshot: &Snapshot, chain: &[String], max_tokens: u32) -> BTreeMap<String, u32> {
    chain
        .iter()
        .filter_map(|id| {
            let limit = snapshot.find(id)?.max_completion_tokens?;
            let limit = u32::try_from(limit).ok()?;
            (limit > 0 && limit < max_tokens).then(|| (id.clone(), limit))
        })
        .collect()
}

/// The attempt note for a request whose `max_tokens` was clamped from `asked` to `sent`.
pub fn note(asked: u32, sent: u32) -> Option<String> {
    (sent < asked).then(|| {
        format!("max_tokens clamped from {asked} to {sent}, the model's max_completion_tokens")
    })
}
