//! Prices as OpenRouter publishes them (decimal strings, USD per token or per call) and exact cost
//! arithmetic: what a call can cost at most, and what it cost from its token counts.
//!
//! Money is computed in [`Decimal`] so that a total for given token counts is exact; it becomes an
//! `f64` only at the output edge, rounded to [`USD_DECIMALS`] places so that no float noise shows.

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// Decimal places of every USD amount the switchboard shows or stores (a ten-billionth of a
/// dollar: far below any price OpenRouter charges, far above float noise).
pub const USD_DECIMALS: u32 = 10;

/// A price in USD (per token, or per call for fees), or `Unknown` for router models priced `"-1"`
/// (dynamic price).
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
            Price::Known(per_token) => per_token.checked_mul(Decimal::from(1_000_000u32)),
            Price::Unknown => None,
        }
    }

    /// The cost of `tokens` tokens (or calls) at this price, exact; `None` when unknown or too
    /// large to represent.
    pub fn cost(self, tokens: u64) -> Option<Decimal> {
        match self {
            Price::Known(per_token) => per_token.checked_mul(Decimal::from(tokens)),
            Price::Unknown => None,
        }
    }

    /// The dearer of two prices; unknown when either is.
    pub fn max(self, other: Price) -> Price {
        match (self, other) {
            (Price::Known(a), Price::Known(b)) => Price::Known(a.max(b)),
            _ => Price::Unknown,
        }
    }
}

/// Everything a model's catalog entry charges for, besides prompt and completion tokens. A
/// missing key is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    /// USD per request, whatever its size (`pricing.request`).
    pub request: Price,
    /// USD per web search (`pricing.web_search`); models that search do so on their own.
    pub web_search: Price,
    /// USD per input image (`pricing.image`). This version sends no images.
    pub image: Price,
    /// USD per reasoning token, when it differs from the completion price.
    pub internal_reasoning: Price,
    /// USD per prompt token read from or written to the provider's prompt cache.
    pub input_cache_read: Price,
    pub input_cache_write: Price,
}

impl Default for Fees {
    fn default() -> Self {
        Self {
            request: Price::zero(),
            web_search: Price::zero(),
            image: Price::zero(),
            internal_reasoning: Price::zero(),
            input_cache_read: Price::zero(),
            input_cache_write: Price::zero(),
        }
    }
}

/// What one model charges: token prices plus [`Fees`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelPricing {
    pub prompt: Price,
    pub completion: Price,
    pub fees: Fees,
}

impl ModelPricing {
    /// The dearest a prompt token can be billed at: plain, read from or written to the cache.
    pub fn prompt_rate(&self) -> Price {
        self.prompt
            .max(self.fees.input_cache_read)
            .max(self.fees.input_cache_write)
    }

    /// The dearest a completion token can be billed at: reasoning tokens count as completion
    /// tokens (within `max_tokens`) and may have their own price.
    pub fn completion_rate(&self) -> Price {
        self.completion.max(self.fees.internal_reasoning)
    }

    /// What one request costs whatever its tokens: the request fee, plus one web search, which a
    /// model that searches may bill on any request (OpenRouter bills a failed attempt nothing).
    pub fn per_call(&self) -> Option<Decimal> {
        self.fees
            .request
            .cost(1)?
            .checked_add(self.fees.web_search.cost(1)?)
    }

    /// The most one answered request can cost with `prompt_tokens` in and at most `max_tokens`
    /// out, or `None` when a price is unknown.
    pub fn worst_case(&self, prompt_tokens: u64, max_tokens: u64) -> Option<Decimal> {
        self.prompt_rate()
            .cost(prompt_tokens)?
            .checked_add(self.completion_rate().cost(max_tokens)?)?
            .checked_add(self.per_call()?)
    }

    /// What a request that used these tokens cost at catalog prices (plain token prices plus the
    /// per-call fees), for an upstream that reports no cost of its own.
    pub fn cost_of(&self, prompt_tokens: u64, completion_tokens: u64) -> Option<Decimal> {
        self.prompt
            .cost(prompt_tokens)?
            .checked_add(self.completion.cost(completion_tokens)?)?
            .checked_add(self.per_call()?)
    }
}

/// Converts an exact decimal to the `f64` nearest to it, rounded to [`USD_DECIMALS`] places, for
/// JSON output (an `f64` prints back as the shortest decimal that round-trips, so `0.00019225`
/// stays `0.00019225`).
pub fn to_f64(value: Decimal) -> f64 {
    value
        .round_dp(USD_DECIMALS)
        .normalize()
        .to_string()
        .parse()
        .unwrap_or(f64::NAN)
}

/// Like [`to_f64`], rounding up: a worst case is never shown or reserved below its exact value.
pub fn to_f64_up(value: Decimal) -> f64 {
    to_f64(value.round_dp_with_strategy(USD_DECIMALS, RoundingStrategy::AwayFromZero))
}

/// An exact decimal for a finite `f64` (a reported cost, a ledger sum), or `None`.
pub fn from_f64(value: f64) -> Option<Decimal> {
    if value.is_finite() {
        Decimal::from_str(&value.to_string())
            .ok()
            .or_else(|| Decimal::from_f64_retain(value))
    } else {
        None
    }
}

/// A USD amount as shown and stored: rounded to [`USD_DECIMALS`] places, without float noise
/// such as `0.00019224999999999998`. Values too large for a decimal are left as they are.
pub fn usd(value: f64) -> f64 {
    from_f64(value).map_or(value, to_f64)
}

/// A price per 1M tokens given by a user (a filter or `SWITCHBOARD_MAX_PRICE`) as a decimal.
pub fn per_million_limit(limit: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(limit).map(|d| d.round_dp(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pricing(prompt: &str, completion: &str, fees: Fees) -> ModelPricing {
        ModelPricing {
            prompt: Price::parse(prompt),
            completion: Price::parse(completion),
            fees,
        }
    }

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

    #[test]
    fn a_hostile_price_too_large_to_multiply_is_unknown_not_a_panic() {
        let huge = Price::parse("79228162514264337593543950335");
        assert_eq!(huge.cost(1024), None);
        assert_eq!(huge.per_million(), None);
    }

    #[test]
    fn the_worst_case_counts_fees_cache_and_reasoning_prices() {
        let fees = Fees {
            request: Price::parse("0.001"),
            web_search: Price::parse("0.005"),
            internal_reasoning: Price::parse("0.00001"),
            input_cache_write: Price::parse("0.000004"),
            ..Fees::default()
        };
        let model = pricing("0.000003", "0.000002", fees);
        // 100 x $4/1M (cache write) + 1000 x $10/1M (reasoning) + $0.001 + $0.005.
        assert_eq!(model.worst_case(100, 1000).unwrap().to_string(), "0.016400");
        // Reported tokens at plain prices, plus the per-call fees.
        assert_eq!(
            model.cost_of(100, 10).unwrap().normalize().to_string(),
            "0.00632"
        );
        let unknown_fee = Fees {
            request: Price::Unknown,
            ..Fees::default()
        };
        assert_eq!(pricing("0", "0", unknown_fee).worst_case(1, 1), None);
    }

    #[test]
    fn amounts_show_without_float_noise() {
        let noisy = 0.000024 + 0.00016825;
        assert_ne!(noisy.to_string(), "0.00019225");
        assert_eq!(usd(noisy).to_string(), "0.00019225");
        assert_eq!(usd(0.1 + 0.2), 0.3);
        assert_eq!(usd(f64::INFINITY), f64::INFINITY);
        assert_eq!(to_f64(Decimal::new(19225, 8)).to_string(), "0.00019225");
        let third = Price::parse("0.00000008333333333333334").cost(1).unwrap();
        assert_eq!(to_f64(third), 0.0000000833);
        assert_eq!(to_f64_up(third), 0.0000000834);
    }
}
