//! Which models may be used at all: `SWITCHBOARD_ALLOWED_MODELS` (ids and globs such as
//! `anthropic/*` or `*:free`) and `SWITCHBOARD_MAX_PRICE` (USD per 1M tokens). Applied by every tool.

use crate::catalog::ModelInfo;
use crate::pricing;
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
        for (kind, price) in [
            ("prompt", model.prompt_price),
            ("completion", model.completion_price),
        ] {
            match price.per_million() {
                None => {
                    return Some(format!(
                        "{kind} price unknown while SWITCHBOARD_MAX_PRICE is set"
                    ));
                }
                Some(p) if p > max => {
                    return Some(format!(
                        "{kind} price ${}/1M is above SWITCHBOARD_MAX_PRICE ${}/1M",
                        p.normalize(),
                        max.normalize()
                    ));
                }
                Some(_) => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openrouter::types::ApiModel;

    fn model(id: &str, prompt: &str) -> ModelInfo {
        let api: ApiModel = serde_json::from_value(serde_json::json!({
            "id": id, "name": id, "pricing": {"prompt": prompt, "completion": "0.000001"}
        }))
        .unwrap();
        ModelInfo::from_api(api)
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
}
