//! Prices as OpenRouter publishes them (decimal strings, USD per token) and exact cost arithmetic.
//!
//! Money is computed in [`Decimal`] so that a total for given token counts is exact; it becomes an
//! `f64` only at the output edge.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::str::FromStr;

/// A per-token price in USD, or `Unknown` for router models priced `"-1"` (dynamic price).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Price {
    Known(Decimal),
    /// Never multiply an unknown price: the model's real price is decided at call time.
    #[default]
    Unknown,
}

impl Price {
    /// Parses the API's decimal string. A missing key means 0 ([`Price::zero`]); a negative or
    /// unparsable value means the price is unknown.
    pub fn parse(text: &str) -> Price {
        match Decimal::from_str(text.trim()) {
            Ok(value) if value >= Decimal::ZERO => Price::Known(value),
            _ => Price::Unknown,
        }
    }

    pub fn zero() -> Price {
        Price::Known(Decimal::ZERO)
    }

    pub fn is_free(self) -> bool {
        self == Price::zero()
    }

    /// USD per 1M tokens, the unit prices are shown to people in.
    pub fn per_million(self) -> Option<Decimal> {
        match self {
            Price::Known(per_token) => Some(per_token * Decimal::from(1_000_000u32)),
            Price::Unknown => None,
        }
    }

    /// The cost of `tokens` tokens at this price, exact.
    pub fn cost(self, tokens: u64) -> Option<Decimal> {
        match self {
            Price::Known(per_token) => Some(per_token * Decimal::from(tokens)),
            Price::Unknown => None,
        }
    }
}

/// Converts an exact decimal to the nearest `f64` for JSON output.
pub fn to_f64(value: Decimal) -> f64 {
    value.normalize().to_f64().unwrap_or(f64::NAN)
}

/// A price per 1M tokens given by a user (a filter or `SWITCHBOARD_MAX_PRICE`) as a decimal.
pub fn per_million_limit(limit: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(limit).map(|d| d.round_dp(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_strings_and_router_prices() {
        assert_eq!(
            Price::parse("0.000003").per_million(),
            Some(Decimal::from(3))
        );
        assert_eq!(Price::parse("0"), Price::zero());
        assert_eq!(Price::parse("-1"), Price::Unknown);
        assert_eq!(Price::parse("abc"), Price::Unknown);
    }

    #[test]
    fn cost_is_exact() {
        let price = Price::parse("0.0000004");
        let cost = price.cost(1234).unwrap();
        assert_eq!(cost.to_string(), "0.0004936");
        assert_eq!(to_f64(cost), 0.0004936);
        assert_eq!(Price::Unknown.cost(10), None);
    }
}
