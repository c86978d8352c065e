//! `list_models`: search the catalog with real prices.

use super::ToolError;
use super::input::{self, shown};
use crate::App;
use crate::catalog::ModelInfo;
use crate::catalog::model::CAPABILITIES;
use crate::catalog::search::{self, Filter, Sort};
use crate::pricing::{self, Price};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 200;
const MODALITIES: [&str; 5] = ["text", "image", "audio", "file", "video"];
/// Longest `query` and `provider` accepted, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// Largest `min_context` and `offset` accepted: no catalog comes near.
const MAX_COUNT: i64 = 100_000_000;
/// Largest price limit accepted, in USD per 1M tokens.
const MAX_PRICE_LIMIT: f64 = 1_000_000.0;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListModelsArgs {
    /// Substring of id or name, case-insensitive.
    pub query: Option<String>,
    /// Id prefix before `/`, e.g. `anthropic`.
    pub provider: Option<String>,
    /// Minimum context window, tokens.
    pub min_context: Option<i64>,
    /// USD per 1M prompt tokens.
    pub max_prompt_price: Option<f64>,
    /// USD per 1M completion tokens.
    pub max_completion_price: Option<f64>,
    /// Required: tools, reasoning, structured_outputs, response_format, web_search.
    pub supports: Option<Vec<String>>,
    /// text, image, audio, file or video.
    pub input_modality: Option<String>,
    /// Only models priced 0.
    pub free_only: Option<bool>,
    /// price (default, cheapest first), context, newest or name.
    pub sort: Option<String>,
    /// Default 20, max 200.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListModelsOutput {
    pub models: Vec<ModelOutput>,
    /// Matches before limit.
    pub total: usize,
    pub catalog: CatalogOutput,
}

/// Prices in USD per 1M tokens; null when the price is set per call (router models).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelOutput {
    pub id: String,
    pub name: String,
    pub context_length: Option<u64>,
    pub prompt_price_per_m: Option<f64>,
    pub completion_price_per_m: Option<f64>,
    pub input_modalities: Vec<String>,
    pub output_modalities: Vec<String>,
    pub supports: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CatalogOutput {
    /// live, saved or embedded.
    pub source: &'static str,
    pub fetched_at: String,
    pub model_count: usize,
}

pub async fn run(app: &App, args: ListModelsArgs) -> Result<ListModelsOutput, ToolError> {
    let filter = filter(args)?;
    let snapshot = app.catalog.snapshot().await;
    // Models the policy refuses are not offered at all.
    let usable = |m: &ModelInfo| app.policy.refusal(&m.id, Some(m)).is_none();
    let page = search::search(&snapshot.models, &filter, &usable);
    Ok(ListModelsOutput {
        models: page.models.into_iter().map(ModelOutput::from).collect(),
        total: page.total,
        catalog: CatalogOutput {
            source: snapshot.source.as_str(),
            fetched_at: snapshot.fetched_at_rfc3339(),
            model_count: snapshot.models.len(),
        },
    })
}

impl From<&ModelInfo> for ModelOutput {
    fn from(m: &ModelInfo) -> Self {
        Self {
            id: m.id.clone(),
            name: m.name.clone(),
            context_length: m.context_length,
            prompt_price_per_m: per_million(m.prompt_price),
            completion_price_per_m: per_million(m.completion_price),
            input_modalities: m.input_modalities.clone(),
            output_modalities: m.output_modalities.clone(),
            supports: m.supports.clone(),
            max_completion_tokens: m.max_completion_tokens,
        }
    }
}

pub fn per_million(price: Price) -> Option<f64> {
    price.per_million().map(pricing::to_f64)
}

/// Validates the arguments into a [`Filter`].
pub fn filter(args: ListModelsArgs) -> Result<Filter, ToolError> {
    let supports = args.supports.unwrap_or_default();
    if supports.len() > CAPABILITIES.len() {
        return Err(ToolError::invalid(
            "supports",
            format!(
                "names {} capabilities; give at most {} of {}",
                supports.len(),
                CAPABILITIES.len(),
                CAPABILITIES.join(", ")
            ),
        ));
    }
    if let Some(bad) = supports
        .iter()
        .find(|s| !CAPABILITIES.contains(&s.as_str()))
    {
        return Err(ToolError::invalid(
            "supports",
            format!("`{}` is not one of {}", shown(bad), CAPABILITIES.join(", ")),
        ));
    }
    if let Some(bad) = args
        .input_modality
        .as_deref()
        .filter(|m| !MODALITIES.contains(m))
    {
        return Err(ToolError::invalid(
            "input_modality",
            format!("`{}` is not one of {}", shown(bad), MODALITIES.join(", ")),
        ));
    }
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ToolError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}, got {limit}; page with `offset`"),
        ));
    }
    Ok(Filter {
        query: input::short_text("query", args.query, MAX_QUERY_CHARS)?,
        provider: input::short_text("provider", args.provider, MAX_QUERY_CHARS)?
            .map(|p| p.trim_end_matches('/').to_string()),
        min_context: non_negative("min_context", args.min_context)?.map(|n| n as u64),
        max_prompt_price: price_limit("max_prompt_price", args.max_prompt_price)?,
        max_completion_price: price_limit("max_completion_price", args.max_completion_price)?,
        supports,
        input_modality: args.input_modality,
        free_only: args.free_only.unwrap_or(false),
        sort: sort(args.sort.as_deref())?,
        limit: limit as usize,
        offset: non_negative("offset", args.offset)?.unwrap_or(0) as usize,
    })
}

fn non_negative(field: &'static str, value: Option<i64>) -> Result<Option<i64>, ToolError> {
    match value {
        Some(n) if !(0..=MAX_COUNT).contains(&n) => Err(ToolError::invalid(
            field,
            format!("must be between 0 and {MAX_COUNT}, got {n}"),
        )),
        other => Ok(other),
    }
}

fn price_limit(
    field: &'static str,
    value: Option<f64>,
) -> Result<Option<rust_decimal::Decimal>, ToolError> {
    match value {
        None => Ok(None),
        Some(p) if (0.0..=MAX_PRICE_LIMIT).contains(&p) => Ok(pricing::per_million_limit(p)),
        Some(p) => Err(ToolError::invalid(
            field,
            format!("must be a price in USD per 1M tokens, from 0 to {MAX_PRICE_LIMIT}, got {p}"),
        )),
    }
}

fn sort(value: Option<&str>) -> Result<Sort, ToolError> {
    match value {
        None | Some("price") => Ok(Sort::Price),
        Some("context") => Ok(Sort::Context),
        Some("newest") => Ok(Sort::Newest),
        Some("name") => Ok(Sort::Name),
        Some(other) => Err(ToolError::invalid(
            "sort",
            format!(
                "`{}` is not one of price, context, newest, name",
                shown(other)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_over_200_names_the_field() {
        let args = ListModelsArgs {
            limit: Some(201),
            ..ListModelsArgs::default()
        };
        let err = filter(args).unwrap_err().to_string();
        assert!(err.contains("`limit`") && err.contains("201"), "{err}");
    }

    #[test]
    fn unknown_capability_is_refused() {
        let args = ListModelsArgs {
            supports: Some(vec!["telepathy".into()]),
            ..ListModelsArgs::default()
        };
        assert!(filter(args).unwrap_err().to_string().contains("`supports`"));
    }
}
