//! The MCP resources: the catalog (`openrouter://models`, `openrouter://models/{id}`), this
//! server's spend (`switchboard://usage`), router health (`switchboard://health`) and stored long
//! answers (`switchboard://answers/{id}`), as compact JSON with cache hints. Nothing secret goes in: every body passes through the key redaction.

use super::{health, usage};
use crate::App;
use crate::answers::{self, AnswerError};
use crate::catalog::suggest::closest_ids;
use crate::catalog::{ModelInfo, Snapshot, Source};
use crate::pricing::{self, Price};
use crate::tools::input::shown;
use crate::tools::list_models::{CatalogOutput, ModelOutput, per_million};
use rmcp::ErrorData;
use rmcp::model::{CacheScope, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde::Serialize;
use std::time::{Duration, SystemTime};

pub const MODELS: &str = "openrouter://models";
const MODEL_PREFIX: &str = "openrouter://models/";
pub const MODEL_TEMPLATE: &str = "openrouter://models/{id}";
pub const USAGE: &str = "switchboard://usage";
pub const HEALTH: &str = "switchboard://health";
const ANSWER_PREFIX: &str = "switchboard://answers/";
pub const ANSWER_TEMPLATE: &str = "switchboard://answers/{id}";
const CONVERSATION_PREFIX: &str = "switchboard://conversations/";
pub const CONVERSATION_TEMPLATE: &str = "switchboard://conversations/{id}";
const JSON: &str = "application/json";
/// Longest model id accepted, as in the tools.
const MAX_ID_CHARS: usize = 256;

/// The fixed resources `resources/list` returns.
pub fn list() -> Vec<Resource> {
    let entry = |uri: &str, name: &str, title: &str, description: &str| {
        Resource::new(uri, name)
            .with_title(title)
            .with_description(description)
            .with_mime_type(JSON)
    };
    vec![
        entry(
            MODELS,
            "models",
            "OpenRouter model catalog",
            "Every model this server offers: id, name, context window, prices in USD per 1M tokens, capabilities; and which catalog it is (live, saved or embedded).",
        ),
        entry(
            USAGE,
            "usage",
            "Spend by model and day",
            "This server's spend ledger for the last 31 UTC days, by day and model, and the budget left this period (USD).",
        ),
        entry(
            HEALTH,
            "health",
            "Router health",
            "Models failing or cooling down (skipped by calls until the cooldown ends), attempt outcomes per model since start, catalog source and age, and whether the data store works.",
        ),
    ]
}

/// The templates `resources/templates/list` returns.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(MODEL_TEMPLATE, "model")
            .with_title("One OpenRouter model")
            .with_description("A model's whole catalog record: prices and fees, context and completion limits, modalities, capabilities. `id` is a catalog id such as openai/gpt-5-mini; its `/` may be sent as is or as %2F.")
            .with_mime_type(JSON),
        ResourceTemplate::new(ANSWER_TEMPLATE, "answer")
            .with_title("A stored long answer")
            .with_description("The whole text of an answer that ask_model or compare_models cut at SWITCHBOARD_MAX_RESULT_CHARS; `id` is the result's answer_id. Kept for SWITCHBOARD_CONVERSATION_TTL.")
            .with_mime_type(JSON),
        ResourceTemplate::new(CONVERSATION_TEMPLATE, "conversation")
            .with_title("A conversation's transcript")
            .with_description("The messages of a conversation_id as sent upstream, each answer as an assistant turn, and the model that gave each answer.")
            .with_mime_type(JSON),
    ]
}

/// `resources/read`: the body of `uri`, with a cache hint.
pub async fn read(app: &App, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let (body, ttl, scope) = match uri {
        MODELS => catalog(app).await,
        USAGE => (usage::body(app).await, Duration::ZERO, CacheScope::Private),
        HEALTH => (health::body(app).await, Duration::ZERO, CacheScope::Private),
        _ if uri.starts_with(CONVERSATION_PREFIX) => conversation(app, uri).await?,
        _ => match (
            uri.strip_prefix(MODEL_PREFIX),
            uri.strip_prefix(ANSWER_PREFIX),
        ) {
            (Some(id), _) => model(app, id).await?,
            (_, Some(id)) => answer(app, id).await?,
            _ => return Err(unknown(uri)),
        },
    };
    let text = app.redact(&body);
    let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    Ok(
        ReadResourceResult::new(vec![ResourceContents::text(text, uri).with_mime_type(JSON)])
            .with_ttl_ms(millis)
            .with_cache_scope(scope),
    )
}

fn unknown(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(
        format!(
            "no resource `{}`; read {MODELS}, {MODEL_TEMPLATE}, {USAGE}, {HEALTH}, {ANSWER_TEMPLATE} or {CONVERSATION_TEMPLATE}",
            shown(uri)
        ),
        None,
    )
}

/// `switchboard://conversations/{id}`: the transcript, never cached by the client.
async fn conversation(app: &App, uri: &str) -> Result<(String, Duration, CacheScope), ErrorData> {
    let id = uri.strip_prefix(CONVERSATION_PREFIX).unwrap_or_default();
    match crate::conversation::body(app, id).await {
        Ok(body) => Ok((body, Duration::ZERO, CacheScope::Private)),
        Err(error) => Err(ErrorData::resource_not_found(
            format!("{}: {error}", shown(uri)),
            None,
        )),
    }
}

#[derive(Serialize)]
struct CatalogBody {
    catalog: CatalogOutput,
    models: Vec<ModelOutput>,
}

async fn catalog(app: &App) -> (String, Duration, CacheScope) {
    let snapshot = app.catalog.snapshot().await;
    let body = CatalogBody {
        catalog: catalog_output(&snapshot),
        models: offered(app, &snapshot).map(ModelOutput::from).collect(),
    };
    (
        to_json(&body),
        fresh_for(app, &snapshot),
        CacheScope::Public,
    )
}

/// The models the policy lets through, as `list_models` offers them.
fn offered<'a>(app: &'a App, snapshot: &'a Snapshot) -> impl Iterator<Item = &'a ModelInfo> {
    snapshot
        .models
        .iter()
        .filter(|m| app.policy.refusal(&m.id, Some(m)).is_none())
}

fn catalog_output(snapshot: &Snapshot) -> CatalogOutput {
    CatalogOutput {
        source: snapshot.source.as_str(),
        fetched_at: snapshot.fetched_at_rfc3339(),
        model_count: snapshot.models.len(),
    }
}

/// How long the catalog stays as it is: the rest of `SWITCHBOARD_CATALOG_TTL` for a live one; a
/// saved or embedded one is replaced as soon as OpenRouter answers again.
fn fresh_for(app: &App, snapshot: &Snapshot) -> Duration {
    if snapshot.source != Source::Live {
        return Duration::ZERO;
    }
    let age = SystemTime::now()
        .duration_since(snapshot.fetched_at)
        .unwrap_or_default();
    app.config.catalog_ttl.saturating_sub(age)
}

/// A model's whole record.
#[derive(Serialize)]
struct ModelRecord<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    canonical_slug: Option<&'a str>,
    name: &'a str,
    /// Unix seconds.
    created: i64,
    context_length: Option<u64>,
    max_completion_tokens: Option<u64>,
    /// USD per 1M tokens; null when unknown (set per call).
    prompt_price_per_m: Option<f64>,
    completion_price_per_m: Option<f64>,
    internal_reasoning_price_per_m: Option<f64>,
    input_cache_read_price_per_m: Option<f64>,
    input_cache_write_price_per_m: Option<f64>,
    /// USD per request, per web search and per input image.
    request_fee_usd: Option<f64>,
    web_search_fee_usd: Option<f64>,
    image_fee_usd: Option<f64>,
    input_modalities: &'a [String],
    output_modalities: &'a [String],
    supports: &'a [&'static str],
    catalog: CatalogOutput,
}

async fn model(app: &App, raw: &str) -> Result<(String, Duration, CacheScope), ErrorData> {
    let id = model_id(raw)?;
    let snapshot = app.catalog.snapshot().await;
    let Some(model) = snapshot.find(&id) else {
        let closest = closest_ids(&snapshot, &id, 3).join(", ");
        return Err(ErrorData::resource_not_found(
            format!(
                "no model `{}` in the {} catalog; closest ids: {closest}",
                shown(&id),
                snapshot.source.as_str()
            ),
            None,
        ));
    };
    if let Some(why) = app.policy.refusal(&model.id, Some(model)) {
        return Err(ErrorData::resource_not_found(
            format!("`{}` is not offered by this server: {why}", model.id),
            None,
        ));
    }
    let record = record(model, catalog_output(&snapshot));
    let ttl = fresh_for(app, &snapshot);
    Ok((to_json(&record), ttl, CacheScope::Public))
}

fn record(m: &ModelInfo, catalog: CatalogOutput) -> ModelRecord<'_> {
    let fee = |price: Price| match price {
        Price::Known(usd) => Some(pricing::to_f64(usd)),
        Price::Unknown => None,
    };
    ModelRecord {
        id: &m.id,
        canonical_slug: m.canonical_slug.as_deref(),
        name: &m.name,
        created: m.created,
        context_length: m.context_length,
        max_completion_tokens: m.max_completion_tokens,
        prompt_price_per_m: per_million(m.prompt_price),
        completion_price_per_m: per_million(m.completion_price),
        internal_reasoning_price_per_m: per_million(m.fees.internal_reasoning),
        input_cache_read_price_per_m: per_million(m.fees.input_cache_read),
        input_cache_write_price_per_m: per_million(m.fees.input_cache_write),
        request_fee_usd: fee(m.fees.request),
        web_search_fee_usd: fee(m.fees.web_search),
        image_fee_usd: fee(m.fees.image),
        input_modalities: &m.input_modalities,
        output_modalities: &m.output_modalities,
        supports: &m.supports,
        catalog,
    }
}

#[derive(Serialize)]
struct AnswerBody {
    answer_id: String,
    model: String,
    total_chars: usize,
    text: String,
}

/// A stored long answer, whole.
async fn answer(app: &App, id: &str) -> Result<(String, Duration, CacheScope), ErrorData> {
    let stored = answers::load(app, id).await.map_err(|error| match error {
        AnswerError::Store(_) => ErrorData::internal_error(error.to_string(), None),
        _ => ErrorData::resource_not_found(error.to_string(), None),
    })?;
    let body = AnswerBody {
        answer_id: id.to_string(),
        model: stored.model,
        total_chars: stored.text.chars().count(),
        text: stored.text,
    };
    Ok((to_json(&body), Duration::ZERO, CacheScope::Private))
}

/// The id in `openrouter://models/{id}`, percent-decoded (an RFC 6570 client sends `/` as %2F).
fn model_id(raw: &str) -> Result<String, ErrorData> {
    let bad = |problem: &str| {
        ErrorData::invalid_params(
            format!(
                "the model id in `{MODEL_PREFIX}{}` {problem}; send a catalog id such as openai/gpt-5-mini",
                shown(raw)
            ),
            None,
        )
    };
    let id = percent_decoded(raw).ok_or_else(|| bad("has a broken %-escape or is not UTF-8"))?;
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
        return Err(bad(&format!("must have 1 to {MAX_ID_CHARS} characters")));
    }
    Ok(id)
}

fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Compact JSON; serialising these plain structs cannot fail.
pub fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_percent_decoded_and_bounded() {
        assert_eq!(model_id("openai/gpt-5-mini").unwrap(), "openai/gpt-5-mini");
        assert_eq!(
            model_id("openai%2Fgpt-5-mini").unwrap(),
            "openai/gpt-5-mini"
        );
        assert_eq!(model_id("a%2fb%3Afree").unwrap(), "a/b:free");
        for bad in ["", "a%2", "a%zz", "%ff%fe", &"x".repeat(257)] {
            let error = model_id(bad).unwrap_err();
            assert!(
                error.message.contains("openai/gpt-5-mini"),
                "{bad}: {error:?}"
            );
        }
    }
}
