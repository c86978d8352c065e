//! Filtering, sorting and paging the catalog for `list_models`. Pure functions over a snapshot.

use super::model::ModelInfo;
use crate::pricing::Price;
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// How to order matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Prompt + completion price per 1M tokens, cheapest first; unknown prices last.
    #[default]
    Price,
    /// Largest context window first.
    Context,
    /// Most recently added first.
    Newest,
    /// Display name, A to Z.
    Name,
}

/// A validated `list_models` query.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub query: Option<String>,
    pub provider: Option<String>,
    pub min_context: Option<u64>,
    /// USD per 1M tokens.
    pub max_prompt_price: Option<Decimal>,
    /// USD per 1M tokens.
    pub max_completion_price: Option<Decimal>,
    pub supports: Vec<String>,
    pub input_modality: Option<String>,
    pub free_only: bool,
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
}

/// One page of matches and how many matched in all.
#[derive(Debug)]
pub struct Page<'a> {
    pub models: Vec<&'a ModelInfo>,
    pub total: usize,
}

/// The models matching `filter` (and `usable`, the caller's own rule), sorted and paged.
pub fn search<'a>(
    models: &'a [ModelInfo],
    filter: &Filter,
    usable: &dyn Fn(&ModelInfo) -> bool,
) -> Page<'a> {
    let query = filter.query.as_ref().map(|q| q.to_lowercase());
    let mut matches: Vec<&ModelInfo> = models
        .iter()
        .filter(|m| usable(m))
        .filter(|m| query.as_ref().is_none_or(|q| matches_query(m, q)))
        .filter(|m| matches_filters(m, filter))
        .collect();
    sort(&mut matches, filter.sort);
    let total = matches.len();
    let models = matches
        .into_iter()
        .skip(filter.offset)
        .take(filter.limit)
        .collect();
    Page { models, total }
}

fn matches_query(model: &ModelInfo, query: &str) -> bool {
    model.id.to_lowercase().contains(query) || model.name.to_lowercase().contains(query)
}

fn matches_filters(model: &ModelInfo, filter: &Filter) -> bool {
    let provider_ok = filter
        .provider
        .as_ref()
        .is_none_or(|p| model.provider().eq_ignore_ascii_case(p));
    let context_ok = filter
        .min_context
        .is_none_or(|min| model.context_length.is_some_and(|c| c >= min));
    let modality_ok = filter
        .input_modality
        .as_ref()
        .is_none_or(|wanted| model.input_modalities.iter().any(|m| m == wanted));
    provider_ok
        && context_ok
        && modality_ok
        && within(model.prompt_price, filter.max_prompt_price)
        && within(model.completion_price, filter.max_completion_price)
        && filter
            .supports
            .iter()
            .all(|capability| model.supports(capability))
        && (!filter.free_only || model.is_free())
}

/// An unknown price never passes a price filter.
fn within(price: Price, max_per_million: Option<Decimal>) -> bool {
    match max_per_million {
        None => true,
        Some(max) => price.per_million().is_some_and(|p| p <= max),
    }
}

/// Prompt + completion per 1M tokens, or `None` when either is unknown.
pub fn combined_price(model: &ModelInfo) -> Option<Decimal> {
    Some(model.prompt_price.per_million()? + model.completion_price.per_million()?)
}

/// Sorts by `by`, ties broken by id. The price sort works out each model's combined price once,
/// as an integer, rather than in every comparison: decimal arithmetic in the comparator was the
/// hottest code of `list_models` under load.
fn sort(matches: &mut Vec<&ModelInfo>, by: Sort) {
    if by == Sort::Price {
        let key = |m: &ModelInfo| combined_price(m).map_or(i128::MAX, price_key);
        let mut keyed: Vec<_> = matches.iter().map(|m| (key(m), *m)).collect();
        keyed.sort_unstable_by(|(x, a), (y, b)| x.cmp(y).then_with(|| a.id.cmp(&b.id)));
        *matches = keyed.into_iter().map(|(_, m)| m).collect();
    } else {
        matches.sort_by(|a, b| compare(a, b, by).then_with(|| a.id.cmp(&b.id)));
    }
}

/// A price per 1M tokens as an integer count of 1e-12 USD (exact for catalog prices, which have
/// far fewer decimals), so sorting compares integers; unknown prices sort last as `i128::MAX`.
fn price_key(price: Decimal) -> i128 {
    let mut scaled = price;
    scaled.rescale(12);
    scaled.mantissa()
}

/// Cheapest first; unknown prices last.
fn price_order(a: Option<Decimal>, b: Option<Decimal>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn compare(a: &ModelInfo, b: &ModelInfo, sort: Sort) -> Ordering {
    match sort {
        Sort::Price => price_order(combined_price(a), combined_price(b)),
        Sort::Context => b.context_length.cmp(&a.context_length),
        Sort::Newest => b.created.cmp(&a.created),
        Sort::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openrouter::types::ApiModel;

    fn model(id: &str, prompt: &str, completion: &str, context: u64, created: i64) -> ModelInfo {
        let api: ApiModel = serde_json::from_value(serde_json::json!({
            "id": id, "name": id.to_uppercase(), "created": created, "context_length": context,
            "pricing": {"prompt": prompt, "completion": completion},
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
        }))
        .unwrap();
        ModelInfo::from_api(api)
    }

    fn ids(page: &Page<'_>) -> Vec<String> {
        page.models.iter().map(|m| m.id.clone()).collect()
    }

    #[test]
    fn price_sort_puts_unknown_last_and_pages() {
        let models = vec![
            model("r/auto", "-1", "-1", 1000, 1),
            model("a/cheap", "0.000001", "0.000002", 8000, 2),
            model("b/free", "0", "0", 4000, 3),
        ];
        let filter = Filter {
            limit: 2,
            ..Filter::default()
        };
        let page = search(&models, &filter, &|_| true);
        assert_eq!(ids(&page), vec!["b/free", "a/cheap"]);
        assert_eq!(page.total, 3);
        let page = search(
            &models,
            &Filter {
                limit: 2,
                offset: 2,
                ..Filter::default()
            },
            &|_| true,
        );
        assert_eq!(ids(&page), vec!["r/auto"]);
    }

    #[test]
    fn price_filter_excludes_unknown_prices() {
        let models = vec![
            model("r/auto", "-1", "-1", 1000, 1),
            model("a/cheap", "0.000001", "0.000002", 8000, 2),
        ];
        let filter = Filter {
            max_prompt_price: Some(Decimal::from(1)),
            limit: 20,
            ..Filter::default()
        };
        assert_eq!(ids(&search(&models, &filter, &|_| true)), vec!["a/cheap"]);
    }
}
