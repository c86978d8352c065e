//! One catalog model in the switchboard's terms: parsed prices and derived capabilities.

use crate::openrouter::types::{ApiModel, ApiPricing};
use crate::pricing::{Fees, ModelPricing, Price};

/// Capabilities `list_models` can filter on, derived from `supported_parameters`.
pub const CAPABILITIES: [&str; 5] = [
    "tools",
    "reasoning",
    "structured_outputs",
    "response_format",
    "web_search",
];

#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub id: String,
    pub canonical_slug: Option<String>,
    pub name: String,
    pub created: i64,
    pub context_length: Option<u64>,
    pub prompt_price: Price,
    pub completion_price: Price,
    /// Per-request, per-search, per-image, reasoning and cache prices.
    pub fees: Fees,
    pub input_modalities: Vec<String>,
    pub output_modalities: Vec<String>,
    pub supports: Vec<&'static str>,
    pub max_completion_tokens: Option<u64>,
    /// The catalog's `supported_parameters` as sent (empty when the catalog does not say).
    pub parameters: Vec<String>,
    /// The catalog's `reasoning` object, when it has one that parses.
    pub reasoning: Option<Reasoning>,
}

/// How a model reasons, from the catalog's `reasoning` object. Missing or null fields are unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Reasoning {
    /// Reasoning cannot be turned off: never send such a model a disable.
    #[serde(default)]
    pub mandatory: Option<bool>,
    #[serde(default)]
    pub default_effort: Option<String>,
    /// The `reasoning.effort` values it takes; unknown when absent.
    #[serde(default)]
    pub supported_efforts: Option<Vec<String>>,
    /// Whether it takes `reasoning.max_tokens`; unknown when absent.
    #[serde(default)]
    pub supports_max_tokens: Option<bool>,
}

impl Reasoning {
    pub fn is_mandatory(&self) -> bool {
        self.mandatory == Some(true)
    }
}

impl ModelInfo {
    pub fn from_api(model: ApiModel) -> Self {
        let architecture = model.architecture.unwrap_or_default();
        let top = model.top_provider.unwrap_or_default();
        let (prompt_price, completion_price, fees) = match &model.pricing {
            Some(pricing) => (
                price(pricing.prompt.as_deref()),
                price(pricing.completion.as_deref()),
                fees(pricing),
            ),
            None => (Price::Unknown, Price::Unknown, unknown_fees()),
        };
        Self {
            supports: supports(&model.supported_parameters),
            reasoning: model.reasoning.and_then(|r| serde_json::from_value(r).ok()),
            prompt_price,
            completion_price,
            fees,
            context_length: model
                .context_length
                .or(top.context_length)
                .or(model.max_input_tokens),
            max_completion_tokens: top.max_completion_tokens.or(model.max_output_tokens),
            input_modalities: architecture.input_modalities,
            output_modalities: architecture.output_modalities,
            created: model.created.unwrap_or_default(),
            name: if model.name.is_empty() {
                model.id.clone()
            } else {
                model.name
            },
            canonical_slug: model.canonical_slug,
            parameters: model.supported_parameters,
            id: model.id,
        }
    }

    /// The part of the id before `/`, e.g. `anthropic`.
    pub fn provider(&self) -> &str {
        self.id.split_once('/').map_or("", |(provider, _)| provider)
    }

    pub fn is_free(&self) -> bool {
        self.prompt_price.is_free()
            && self.completion_price.is_free()
            && self.fees.request.is_free()
    }

    pub fn supports(&self, capability: &str) -> bool {
        self.supports.contains(&capability)
    }

    /// Whether the catalog lists `parameter` in `supported_parameters`; `None` when it lists
    /// none at all (a gateway's list, which says nothing either way).
    pub fn takes(&self, parameter: &str) -> Option<bool> {
        (!self.parameters.is_empty()).then(|| self.parameters.iter().any(|p| p == parameter))
    }

    /// Whether reasoning is mandatory for this model (the catalog's `reasoning.mandatory`).
    pub fn is_mandatory(&self) -> bool {
        self.reasoning.as_ref().is_some_and(Reasoning::is_mandatory)
    }

    /// Everything this model charges for, as the budget prices it.
    pub fn pricing(&self) -> ModelPricing {
        ModelPricing {
            prompt: self.prompt_price,
            completion: self.completion_price,
            fees: self.fees,
        }
    }

    /// What a budget's worst case holds this model to: its [`ModelInfo::pricing`], with every
    /// unknown token price taken as `assumed` USD per 1M tokens (`SWITCHBOARD_UNKNOWN_PRICE`) and
    /// every unknown fee as 0. Without an assumption, unknown stays unknown (and is refused).
    pub fn worst_case_pricing(&self, assumed: Option<f64>) -> ModelPricing {
        let pricing = self.pricing();
        let Some(per_token) = assumed
            .and_then(crate::pricing::per_million_limit)
            .and_then(|m| m.checked_div(rust_decimal::Decimal::from(1_000_000u32)))
        else {
            return pricing;
        };
        let or = |price: Price, assumed: Price| match price {
            Price::Unknown => assumed,
            known => known,
        };
        let (rate, zero) = (Price::Known(per_token), Price::zero());
        let fees = &pricing.fees;
        ModelPricing {
            prompt: or(pricing.prompt, rate),
            completion: or(pricing.completion, rate),
            fees: Fees {
                request: or(fees.request, zero),
                web_search: or(fees.web_search, zero),
                image: or(fees.image, zero),
                internal_reasoning: or(fees.internal_reasoning, rate),
                input_cache_read: or(fees.input_cache_read, rate),
                input_cache_write: or(fees.input_cache_write, rate),
            },
        }
    }
}

/// A missing price key means 0.
fn price(text: Option<&str>) -> Price {
    text.map_or(Price::zero(), Price::parse)
}

fn fees(pricing: &ApiPricing) -> Fees {
    Fees {
        request: price(pricing.request.as_deref()),
        web_search: price(pricing.web_search.as_deref()),
        image: price(pricing.image.as_deref()),
        internal_reasoning: price(pricing.internal_reasoning.as_deref()),
        input_cache_read: price(pricing.input_cache_read.as_deref()),
        input_cache_write: price(pricing.input_cache_write.as_deref()),
    }
}

/// A model listed with no `pricing` at all (a gateway's OpenAI-shaped list) may charge anything.
fn unknown_fees() -> Fees {
    Fees {
        request: Price::Unknown,
        web_search: Price::Unknown,
        image: Price::Unknown,
        internal_reasoning: Price::Unknown,
        input_cache_read: Price::Unknown,
        input_cache_write: Price::Unknown,
    }
}

fn supports(parameters: &[String]) -> Vec<&'static str> {
    let has = |name: &str| parameters.iter().any(|p| p == name);
    CAPABILITIES
        .into_iter()
        .filter(|capability| match *capability {
            "reasoning" => has("reasoning") || has("include_reasoning"),
            "web_search" => has("web_search_options"),
            other => has(other),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_capabilities_and_prices() {
        let api: ApiModel = serde_json::from_value(serde_json::json!({
            "id": "openrouter/auto", "name": "Auto", "pricing": {"prompt": "-1", "completion": "-1"},
            "supported_parameters": ["include_reasoning", "web_search_options", "tools"]
        }))
        .unwrap();
        let model = ModelInfo::from_api(api);
        assert_eq!(model.supports, vec!["tools", "reasoning", "web_search"]);
        assert_eq!(model.prompt_price, Price::Unknown);
        assert!(!model.is_free());
        assert_eq!(model.provider(), "openrouter");
    }

    #[test]
    fn a_model_without_pricing_has_unknown_prices_never_free() {
        let api: ApiModel = serde_json::from_value(serde_json::json!({
            "id": "gpt-4o-mini", "object": "model", "created": 1677610602, "owned_by": "openai"
        }))
        .unwrap();
        let model = ModelInfo::from_api(api);
        assert_eq!(
            (model.prompt_price, model.completion_price),
            (Price::Unknown, Price::Unknown)
        );
        assert!(!model.is_free());
        assert_eq!(model.context_length, None);
        assert_eq!(model.name, "gpt-4o-mini");
        assert_eq!(model.pricing().worst_case(1, 1), None);
        assert_eq!(model.pricing().cost_of(1, 1), None);
    }

    #[test]
    fn an_assumed_price_bounds_only_what_is_unknown() {
        let gateway: ApiModel = serde_json::from_value(serde_json::json!({"id": "local"})).unwrap();
        let model = ModelInfo::from_api(gateway);
        assert_eq!(model.worst_case_pricing(None).worst_case(10, 10), None);
        let held = model.worst_case_pricing(Some(2.0));
        // 1000 prompt + 500 completion tokens at $2 per 1M each.
        assert_eq!(
            held.worst_case(1000, 500),
            Some(rust_decimal::Decimal::new(3, 3))
        );
        assert_eq!(
            held.cost_of(1000, 500),
            Some(rust_decimal::Decimal::new(3, 3))
        );
        assert_eq!(
            model.pricing().cost_of(1000, 500),
            None,
            "the catalog still cannot price it"
        );
        let priced: ApiModel = serde_json::from_value(serde_json::json!({
            "id": "a/b", "pricing": {"prompt": "0.000001", "completion": "0.000002"}
        }))
        .unwrap();
        let priced = ModelInfo::from_api(priced);
        assert_eq!(priced.worst_case_pricing(Some(50.0)), priced.pricing());
    }

    #[test]
    fn reads_the_reasoning_object_and_tolerates_an_odd_one() {
        let api: ApiModel = serde_json::from_value(serde_json::json!({
            "id": "a/thinker", "supported_parameters": ["reasoning", "max_tokens"],
            "reasoning": {"mandatory": true, "default_effort": "medium",
                          "supported_efforts": ["low", "medium", "high"], "supports_max_tokens": null}
        }))
        .unwrap();
        let saved = serde_json::to_value(&api).unwrap();
        assert_eq!(
            saved["reasoning"]["mandatory"], true,
            "kept in the saved catalog"
        );
        let model = ModelInfo::from_api(api);
        assert!(model.is_mandatory());
        let reasoning = model.reasoning.clone().unwrap();
        assert_eq!(reasoning.supported_efforts.unwrap().len(), 3);
        assert_eq!(reasoning.supports_max_tokens, None);
        assert_eq!(model.takes("reasoning"), Some(true));
        assert_eq!(model.takes("structured_outputs"), Some(false));
        let odd: ApiModel = serde_json::from_value(serde_json::json!({
            "id": "a/odd", "reasoning": "yes"
        }))
        .unwrap();
        let odd = ModelInfo::from_api(odd);
        assert!(odd.reasoning.is_none() && !odd.is_mandatory());
        assert_eq!(
            odd.takes("reasoning"),
            None,
            "no parameters listed: unknown"
        );
    }

    #[test]
    fn missing_price_keys_are_zero() {
        let api: ApiModel =
            serde_json::from_value(serde_json::json!({"id": "a/b", "name": "B", "pricing": {}}))
                .unwrap();
        let model = ModelInfo::from_api(api);
        assert!(model.is_free());
        assert_eq!(model.fees, Fees::default());
    }

    #[test]
    fn parses_fees_and_keeps_them_in_the_saved_catalog() {
        let api: ApiModel = serde_json::from_value(serde_json::json!({
            "id": "p/sonar", "name": "Sonar",
            "pricing": {"prompt": "0.000001", "completion": "0.000001", "request": "0.005",
                        "web_search": "0.005", "internal_reasoning": "-1", "input_cache_read": "0.0000001"}
        }))
        .unwrap();
        let saved = serde_json::to_value(&api).unwrap();
        assert_eq!(saved["pricing"]["request"], "0.005");
        assert!(saved["pricing"].get("image").is_none());
        let model = ModelInfo::from_api(api);
        assert_eq!(model.fees.request, Price::parse("0.005"));
        assert_eq!(model.fees.web_search, Price::parse("0.005"));
        assert_eq!(model.fees.internal_reasoning, Price::Unknown);
        assert_eq!(model.fees.image, Price::zero());
        assert_eq!(model.pricing().worst_case(10, 10), None, "an unknown fee");
    }
}
