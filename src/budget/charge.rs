//! What an answer is charged when upstream's `usage.cost` is missing, negative or above the worst
//! case: never a credit, priced from the catalog when it can be, else the worst case.

use crate::openrouter::types::Usage;
use crate::pricing::{self, ModelPricing};

/// Where a call's cost came from, as `usage.cost_source` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostSource {
    /// The `usage.cost` upstream reported.
    Upstream,
    /// Priced from the catalog with the reported token counts (upstream gave no usable cost).
    Catalog,
    /// Neither: the call's worst case is charged when there is one.
    Unknown,
}

impl CostSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CostSource::Upstream => "upstream",
            CostSource::Catalog => "catalog",
            CostSource::Unknown => "unknown",
        }
    }
}

/// What one answer cost, decided from what upstream reported. Never negative: a missing,
/// negative or non-finite `usage.cost` is priced from the catalog with the reported token counts
/// (exact decimal arithmetic), and with no token counts either, the call's worst case is charged.
/// A reported cost above the worst case is taken as reported, and logged.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub usd: f64,
    pub source: CostSource,
    /// What the user should know about this charge.
    pub warnings: Vec<String>,
}

impl Charge {
    pub fn nothing() -> Self {
        Charge {
            usd: 0.0,
            source: CostSource::Upstream,
            warnings: Vec::new(),
        }
    }

    /// The charge for `usage` on a model priced `pricing` whose worst case was `worst` USD.
    pub fn of(usage: &Usage, pricing: Option<ModelPricing>, worst: Option<f64>) -> Self {
        if let Some(cost) = usage.cost.filter(|c| c.is_finite() && *c >= 0.0) {
            return Self::reported(cost, worst);
        }
        Self::unreported(usage, pricing, worst)
    }

    /// No usable cost: the token counts at catalog prices, else the worst case, never a credit.
    fn unreported(usage: &Usage, pricing: Option<ModelPricing>, worst: Option<f64>) -> Self {
        let what = match usage.cost {
            Some(cost) => format!("upstream reported a cost of {cost}, which is not a charge"),
            None => "upstream reported no cost".to_string(),
        };
        let tokens = (usage.prompt_tokens, usage.completion_tokens);
        let priced = pricing
            .filter(|_| tokens != (0, 0))
            .and_then(|p| p.cost_of(tokens.0, tokens.1));
        let (usd, source, warning) = match (priced, worst.map(pricing::usd)) {
            (Some(cost), _) => {
                let usd = pricing::to_f64(cost);
                let warning = usage
                    .cost
                    .is_some()
                    .then(|| format!("{what}; charged ${usd}, its token counts at catalog prices"));
                (usd, CostSource::Catalog, warning)
            }
            (None, Some(worst)) => (
                worst,
                CostSource::Unknown,
                Some(format!(
                    "{what}, and its token counts cannot be priced; the worst case ${worst} was charged"
                )),
            ),
            (None, None) => (
                0.0,
                CostSource::Unknown,
                Some(format!(
                    "{what}, and its token counts cannot be priced; nothing was recorded"
                )),
            ),
        };
        if let Some(warning) = &warning {
            tracing::warn!(reported = ?usage.cost, charged = usd, "{warning}");
        }
        Charge {
            usd,
            source,
            warnings: warning.into_iter().collect(),
        }
    }

    fn reported(cost: f64, worst: Option<f64>) -> Self {
        let usd = pricing::usd(cost);
        let mut warnings = Vec::new();
        if let Some(worst) = worst.map(pricing::usd).filter(|w| usd > *w) {
            tracing::warn!(
                charged = usd,
                worst,
                "upstream charged more than the call's worst case; recorded as charged"
            );
            warnings.push(format!(
                "upstream charged ${usd}, above this call's worst case ${worst}; the ledger records what was charged"
            ));
        }
        Charge {
            usd,
            source: CostSource::Upstream,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(cost: Option<f64>, prompt: u64, completion: u64) -> Usage {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
            cost,
            completion_tokens_details: None,
        }
    }

    fn pricing() -> Option<ModelPricing> {
        let api: crate::openrouter::types::ApiModel = serde_json::from_value(serde_json::json!({
            "id": "a/b", "pricing": {"prompt": "0.000001", "completion": "0.000002", "request": "0.0001"}
        }))
        .unwrap();
        Some(crate::catalog::ModelInfo::from_api(api).pricing())
    }

    #[test]
    fn a_negative_or_missing_cost_is_priced_from_the_catalog_never_credited() {
        for reported in [Some(-5.0), None, Some(f64::NAN)] {
            let charge = Charge::of(&usage(reported, 100, 10), pricing(), Some(0.01));
            // 100 x $1/1M + 10 x $2/1M + the $0.0001 request fee.
            assert_eq!(charge.usd, 0.00022, "{reported:?}");
            assert_eq!(charge.source, CostSource::Catalog);
        }
        let none = Charge::of(&usage(None, 0, 0), pricing(), Some(0.0123));
        assert_eq!((none.usd, none.source), (0.0123, CostSource::Unknown));
        assert!(none.warnings[0].contains("worst case $0.0123 was charged"));
        let unpriced = Charge::of(&usage(Some(-1.0), 5, 5), None, None);
        assert_eq!(unpriced.usd, 0.0);
    }

    #[test]
    fn a_cost_above_the_worst_case_is_recorded_as_reported_with_a_warning() {
        let charge = Charge::of(&usage(Some(0.02), 1, 1), pricing(), Some(0.002));
        assert_eq!((charge.usd, charge.source), (0.02, CostSource::Upstream));
        assert_eq!(
            charge.warnings,
            [
                "upstream charged $0.02, above this call's worst case $0.002; the ledger records what was charged"
            ]
        );
        assert!(
            Charge::of(&usage(Some(0.002), 1, 1), pricing(), Some(0.002))
                .warnings
                .is_empty()
        );
    }
}
