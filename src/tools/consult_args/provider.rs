//! `provider`: OpenRouter provider preferences, checked key by key (only the keys OpenRouter
//! documents, each with a value it takes) for the tool argument and for `SWITCHBOARD_PROVIDER`.

use crate::tools::error::ToolError;
use crate::tools::input::shown;
use serde_json::{Map, Value};

/// The provider preference keys passed through to OpenRouter.
pub const PROVIDER_KEYS: [&str; 9] = [
    "order",
    "only",
    "ignore",
    "sort",
    "allow_fallbacks",
    "data_collection",
    "zdr",
    "max_price",
    "quantizations",
];
const SORTS: [&str; 3] = ["price", "throughput", "latency"];
const DATA_COLLECTION: [&str; 2] = ["allow", "deny"];
const QUANTIZATIONS: [&str; 9] = [
    "int4", "int8", "fp4", "fp6", "fp8", "fp16", "bf16", "fp32", "unknown",
];
const MAX_PRICE_KEYS: [&str; 5] = ["prompt", "completion", "request", "image", "audio"];
/// Most provider names one list may hold, and their longest name.
const MAX_PROVIDERS: usize = 64;
const MAX_PROVIDER_CHARS: usize = 128;

/// `provider`, checked key by key.
///
/// # Errors
/// An unknown key or a bad value, named as `provider.<key>`.
pub fn provider(
    value: Option<Map<String, Value>>,
) -> Result<Option<Map<String, Value>>, ToolError> {
    let Some(map) = value else { return Ok(None) };
    check_provider(&map)
        .map_err(|p| ToolError::argument(format!("provider.{}", p.key), p.problem))?;
    Ok((!map.is_empty()).then_some(map))
}

/// What is wrong with one provider preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProblem {
    /// The key at fault (shown safely).
    pub key: String,
    pub problem: String,
}

/// Checks provider preferences: only [`PROVIDER_KEYS`], each with a value OpenRouter takes.
///
/// # Errors
/// The first key at fault.
pub fn check_provider(map: &Map<String, Value>) -> Result<(), ProviderProblem> {
    for (key, value) in map {
        let problem = match key.as_str() {
            "order" | "only" | "ignore" => names(value),
            "sort" => one_of(value, &SORTS),
            "data_collection" => one_of(value, &DATA_COLLECTION),
            "allow_fallbacks" | "zdr" => value.as_bool().map_or_else(
                || Err(format!("must be true or false, got {}", brief(value))),
                |_| Ok(()),
            ),
            "max_price" => max_price(value),
            "quantizations" => quantizations(value),
            _ => Err(format!(
                "is not a provider preference; use {}",
                PROVIDER_KEYS.join(", ")
            )),
        };
        if let Err(problem) = problem {
            return Err(ProviderProblem {
                key: shown(key),
                problem,
            });
        }
    }
    Ok(())
}

/// A short rendering of a bad value for an error.
fn brief(value: &Value) -> String {
    shown(&value.to_string())
}

fn one_of(value: &Value, allowed: &[&str]) -> Result<(), String> {
    match value.as_str() {
        Some(text) if allowed.contains(&text) => Ok(()),
        _ => Err(format!(
            "must be one of {}, got {}",
            allowed.join(", "),
            brief(value)
        )),
    }
}

fn names(value: &Value) -> Result<(), String> {
    let fix = "must be a list of provider names such as [\"openai\", \"anthropic\"]";
    let Some(items) = value.as_array() else {
        return Err(format!("{fix}, got {}", brief(value)));
    };
    if items.len() > MAX_PROVIDERS {
        return Err(format!(
            "names {} providers; the limit is {MAX_PROVIDERS}",
            items.len()
        ));
    }
    let bad = items.iter().find(|item| {
        item.as_str()
            .is_none_or(|s| s.trim().is_empty() || s.chars().count() > MAX_PROVIDER_CHARS)
    });
    match bad {
        Some(item) => Err(format!("{fix}; {} is not one", brief(item))),
        None => Ok(()),
    }
}

fn quantizations(value: &Value) -> Result<(), String> {
    let fix = format!("must be a list of {}", QUANTIZATIONS.join(", "));
    let Some(items) = value.as_array() else {
        return Err(format!("{fix}, got {}", brief(value)));
    };
    match items
        .iter()
        .find(|q| q.as_str().is_none_or(|q| !QUANTIZATIONS.contains(&q)))
    {
        Some(bad) => Err(format!("{fix}; {} is not one", brief(bad))),
        None => Ok(()),
    }
}

fn max_price(value: &Value) -> Result<(), String> {
    let fix = "must be an object of USD prices (per 1M tokens for prompt and completion; per request, image or audio unit) such as {\"prompt\": 1, \"completion\": 2}";
    let Some(prices) = value.as_object() else {
        return Err(format!("{fix}, got {}", brief(value)));
    };
    for (key, price) in prices {
        if !MAX_PRICE_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "has `{}`; its keys are {}",
                shown(key),
                MAX_PRICE_KEYS.join(", ")
            ));
        }
        // A number, or a decimal string as OpenRouter's own SDKs send it.
        let amount = price
            .as_f64()
            .or_else(|| price.as_str().and_then(|t| t.trim().parse::<f64>().ok()));
        if amount.is_none_or(|p| !p.is_finite() || p < 0.0) {
            return Err(format!(
                "`{key}` must be a USD amount of 0 or more, got {}",
                brief(price)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn provider_keys_and_values_are_checked() {
        let ok = map(
            json!({"order": ["openai"], "sort": "price", "allow_fallbacks": false,
            "data_collection": "deny", "zdr": true, "max_price": {"prompt": 1, "completion": 2.5},
            "quantizations": ["fp8"], "only": ["a"], "ignore": ["b"]}),
        );
        assert_eq!(check_provider(&ok), Ok(()));
        let unknown = check_provider(&map(json!({"speed": "fast"}))).unwrap_err();
        assert_eq!(unknown.key, "speed");
        let sort = check_provider(&map(json!({"sort": "fastest"}))).unwrap_err();
        assert!(
            sort.problem.contains("price, throughput, latency"),
            "{sort:?}"
        );
        let price = check_provider(&map(json!({"max_price": {"prompt": -1}}))).unwrap_err();
        assert_eq!(price.key, "max_price");
        assert_eq!(
            check_provider(&map(json!({"max_price": {"completion": "2.5"}}))),
            Ok(())
        );
        assert!(check_provider(&map(json!({"max_price": {"completion": "lots"}}))).is_err());
        let error = provider(Some(map(json!({"zdr": "yes"}))))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`provider.zdr`"), "{error}");
    }
}
