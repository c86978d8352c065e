//! "Did you mean": the catalog ids closest to an unknown one.

use super::snapshot::Snapshot;

/// Only this many leading characters of an unknown id are compared: the cost of Jaro-Winkler
/// grows with the product of the lengths, and catalog ids are far shorter.
const COMPARED_CHARS: usize = 128;

/// Up to `n` catalog ids closest to `wanted`, best first.
pub fn closest_ids(snapshot: &Snapshot, wanted: &str, n: usize) -> Vec<String> {
    let wanted: String = wanted.chars().take(COMPARED_CHARS).collect();
    let wanted = wanted.to_lowercase();
    let wanted_name = wanted.rsplit('/').next().unwrap_or(&wanted);
    let mut scored: Vec<(f64, &str)> = snapshot
        .models
        .iter()
        .map(|m| {
            let id = m.id.to_lowercase();
            let name = id.rsplit('/').next().unwrap_or(&id);
            let whole = strsim::jaro_winkler(&wanted, &id);
            let short = strsim::jaro_winkler(wanted_name, name);
            let contains = if id.contains(wanted_name) { 0.1 } else { 0.0 };
            (whole.max(short) + contains, m.id.as_str())
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(n)
        .map(|(_, id)| id.to_string())
        .collect()
}
