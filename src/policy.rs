//! Which models may be used at all: `SWITCHBOARD_ALLOWED_MODELS` (ids and globs such as
//! `anthropic/*` or `*:free`) and `SWITCHBOARD_MAX_PRICE` (USD per 1M tokens). Applied by every tool.
//!
//! The cap applies to every per-token price a call can be billed at (prompt, completion,
//! reasoning, prompt cache read and write). A per-request fee has no price per token to compare:
//! spread over a short answer it makes a model dearer per token than any cap, so while the cap is
//! set, a model with a non-zero (or unknown) `pricing.request` is refused. A web-search fee is
//! billed per search, only by models that search; the budget's worst case counts it instead.

use crate::catalog::ModelInfo;
use crate::pricing::{self, Price};
use rust_decimal::Decimal;
use wildmatch::WildMatch;

#[derive(Debug, Clone, Default)]
pub struct ModelPolicy {
    allowed: Vec<WildMatch>,
    max_price: Option<Decimal>,
}

impl ModelPolicy {
    pub fn new(allowed: &[String], max_price: Option<f64>) -> Self {
        Self {
            allowed: allowed
                .iter()
                .map(|pattern| WildMatch::new(pattern))
                .collect(),
            max_price: max_price.and_then(pricing::per_million_limit),
        }
    }

    /// Why `id` may not be used, or `None` when it may. `model` is its catalog entry, if known.
    pub fn refusal(&self, id: &str, model: Option<&ModelInfo>) -> Option<String> {
        if !self.allowed.is_empty() && !self.allowed.iter().any(|pattern| pattern.matches(id)) {
            return Some("not in SWITCHBOARD_ALLOWED_MODELS".into());
        }
        let max = self.max_price?;
        let Some(model) = model else {
            return Some("price unknown while SWITCHBOARD_MAX_PRICE is set".into());
        };
        token_prices(model)
            .into_iter()
            .find_map(|(kind, price)| above(kind, price, max))
            .or_else(|| request_fee(model.fees.request))
    }
}

/// Every per-token price a call to `model` can be billed at.
fn token_prices(model: &ModelInfo) -> [(&'static str, Price); 5] {
    [
        ("prompt", model.prompt_price),
        ("completion", model.completion_price),
        ("reasoning", model.fees.internal_reasoning),
        ("prompt cache read", model.fees.input_cache_read),
        ("prompt cache write", model.fees.input_cache_write),
    ]
}

fn above(kind: &str, price: Price, max: Decimal) -> Option<String> {
    match price.per_million() {
        None => Some(format!(
            "{kind} price unknown while SWITCHBOARD_MAX_PRICE is set"
        )),
        Some(p) if p > max => Some(format!(
            "{kind} price ${}/1M is above SWITCHBOARD_MAX_PRICE ${}/1M",
            p.normalize(),
            max.normalize()
        )),
        Some(_) => None,
    }
}

fn request_fee(fee: Price) -> Option<String> {
    match fee {
        Price::Known(usd) if usd.is_zero() => None,
        Price::Known(usd) => Some(format!(
            "per-request fee ${} cannot be held to SWITCHBOARD_MAX_PRICE (USD per 1M tokens); unset SWITCHBOARD_MAX_PRICE to use this model",
            usd.normalize()
        )),
        Price::Unknown => Some("per-request fee unknown while SWITCHBOARD_MAX_PRICE is set".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openrouter::types::ApiModel;

    fn priced(id: &str, pricing: serde_json::Value) -> ModelInfo {
        let api: ApiModel =
            serde_json::from_value(serde_json::json!({"id": id, "name": id, "pricing": pricing}))
                .unwrap();
        ModelInfo::from_api(api)
    }

    fn model(id: &str, prompt: &str) -> ModelInfo {
        priced(
            id,
            serde_json::json!({"prompt": prompt, "completion": "0.000001"}),
        )
    }

    #[test]
    fn globs_and_prices() {
        let policy = ModelPolicy::new(&["anthropic/*".into(), "*:free".into()], Some(2.0));
        assert_eq!(
            policy.refusal("x/y:free", Some(&model("x/y:free", "0"))),
            None
        );
        assert_eq!(
            policy
                .refusal("openai/gpt", Some(&model("openai/gpt", "0")))
                .unwrap(),
            "not in SWITCHBOARD_ALLOWED_MODELS"
        );
        let pricey = model("anthropic/opus", "0.000015");
        assert_eq!(
            policy.refusal("anthropic/opus", Some(&pricey)).unwrap(),
            "prompt price $15/1M is above SWITCHBOARD_MAX_PRICE $2/1M"
        );
        assert!(
            policy
                .refusal("anthropic/auto", Some(&model("anthropic/auto", "-1")))
                .is_some()
        );
        assert_eq!(ModelPolicy::default().refusal("any/thing", None), None);
    }

    #[test]
    fn per_request_fees_and_dear_reasoning_are_refused_under_the_cap() {
        let policy = ModelPolicy::new(&[], Some(2.0));
        let fee = priced(
            "p/fee",
            serde_json::json!({"prompt": "0", "completion": "0", "request": "0.005"}),
        );
        assert_eq!(
            policy.refusal("p/fee", Some(&fee)).unwrap(),
            "per-request fee $0.005 cannot be held to SWITCHBOARD_MAX_PRICE (USD per 1M tokens); unset SWITCHBOARD_MAX_PRICE to use this model"
        );
        let reasoning = priced(
            "p/think",
            serde_json::json!({"prompt": "0.000001", "completion": "0.000001", "internal_reasoning": "0.00001"}),
        );
        assert_eq!(
            policy.refusal("p/think", Some(&reasoning)).unwrap(),
            "reasoning price $10/1M is above SWITCHBOARD_MAX_PRICE $2/1M"
        );
        let search = priced(
            "p/search",
            serde_json::json!({"prompt": "0.000001", "completion": "0.000001", "web_search": "0.01", "request": "0"}),
        );
        assert_eq!(policy.refusal("p/search", Some(&search)), None);
        assert_eq!(
            ModelPolicy::default().refusal("p/fee", Some(&fee)),
            None,
            "no cap, no refusal"
        );
    }
}
