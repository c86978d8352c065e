//! `openrouter-switchboard check`: a self-test with one line per part; exit 1 if any part fails.

use super::print_lines;
use crate::App;
use crate::budget::Charge;
use crate::catalog::{Snapshot, Source, suggest};
use crate::cli::CheckArgs;
use crate::openrouter::types::{ChatMessage, ChatRequest, Role};
use std::time::{Duration, Instant};

const KEY_TIMEOUT: Duration = Duration::from_secs(15);
/// The `--chat` round trip: a few tokens, within the configured stall timeout.
const CHAT_MAX_TOKENS: u32 = 16;

/// Returns whether every check passed.
pub async fn check(app: &App, args: &CheckArgs) -> anyhow::Result<bool> {
    let config = &app.config;
    let mut lines = vec![format!(
        "ok   config: base url {}, default model {}, fallbacks [{}], timeout {}",
        config.base_url,
        config.default_model,
        config.fallback_models.join(", "),
        humantime::format_duration(config.timeout)
    )];
    let key = check_key(app).await;
    let catalog = check_catalog(app).await;
    let snapshot = app.catalog.snapshot().await;
    let mut parts = vec![key, catalog];
    parts.extend(check_models(app, &snapshot));
    parts.push(check_data_dir(app));
    parts.push(check_store(app).await);
    if args.chat {
        parts.push(check_chat(app).await);
    }
    let passed = parts.iter().all(|(ok, _)| *ok);
    lines.extend(parts.into_iter().map(|(_, text)| text));
    print_lines(&lines)?;
    Ok(passed)
}

fn line(ok: bool, text: String) -> (bool, String) {
    (ok, format!("{} {text}", if ok { "ok  " } else { "FAIL" }))
}

async fn check_key(app: &App) -> (bool, String) {
    if !app.client.has_key() {
        return line(
            false,
            "key: OPENROUTER_API_KEY is not set (list_models and estimate_cost still work)".into(),
        );
    }
    match app.client.key_info(KEY_TIMEOUT).await {
        Ok(info) => {
            let limit = info
                .limit
                .map_or_else(|| "no limit".into(), |l| format!("limit ${l}"));
            let usage = info.usage.map_or_else(|| "?".into(), |u| format!("${u}"));
            line(true, format!("key: valid, {limit}, used {usage}"))
        }
        Err(error) if error.status() == Some(404) => check_key_on_models(app).await,
        Err(error) => line(false, format!("key: {}", app.redact(&error.to_string()))),
    }
}

/// An upstream without OpenRouter's `GET /key` (a gateway): the key is probed with `GET /models`,
/// which such gateways guard with it.
async fn check_key_on_models(app: &App) -> (bool, String) {
    let note = "this upstream has no key endpoint (GET /key answered 404)";
    match app.client.list_models(KEY_TIMEOUT).await {
        Ok(_) => line(true, format!("key: accepted by GET /models; {note}")),
        Err(error) => {
            let error = app.redact(&error.to_string());
            line(
                false,
                format!("key: GET /models failed with it ({error}); {note}"),
            )
        }
    }
}

async fn check_catalog(app: &App) -> (bool, String) {
    let snapshot = app.catalog.snapshot().await;
    let unpriced = snapshot
        .models
        .iter()
        .filter(|m| m.prompt_price.per_million().is_none())
        .count();
    let prices = match unpriced {
        0 => String::new(),
        n if n == snapshot.models.len() => {
            ", no prices (an OpenAI-shaped list: costs are priced as unknown)".into()
        }
        n => format!(", {n} without a price"),
    };
    let text = format!(
        "catalog: {} models, {} (fetched {}){prices}",
        snapshot.models.len(),
        snapshot.source.as_str(),
        snapshot.fetched_at_rfc3339()
    );
    let text = match snapshot.source {
        Source::Live => text,
        _ => format!(
            "{text}; GET {}/models did not answer with a catalog (see the log), check OPENROUTER_BASE_URL and the key",
            app.config.base_url.trim_end_matches('/')
        ),
    };
    line(snapshot.source == Source::Live, text)
}

/// One short request to the default model, straight to upstream (no cache), its cost recorded in
/// the ledger like any paid answer's.
async fn check_chat(app: &App) -> (bool, String) {
    let model = &app.config.default_model;
    let request = ChatRequest {
        model: model.clone(),
        models: None,
        messages: vec![ChatMessage::new(
            Role::User,
            "Reply with the single word: ok",
        )],
        max_tokens: CHAT_MAX_TOKENS,
        temperature: None,
        stream: true,
        ..ChatRequest::default()
    };
    let started = Instant::now();
    let completion = match app.client.chat(&request, &mut |_| {}).await {
        Ok(completion) => completion,
        Err(error) => {
            let error = app.redact(&error.to_string());
            return line(false, format!("chat: {model} failed: {error}"));
        }
    };
    let elapsed = started.elapsed().as_millis();
    let snapshot = app.catalog.snapshot().await;
    let pricing = snapshot.find(model).map(|m| m.pricing());
    let charge = Charge::of(&completion.usage, pricing, None);
    let store = app.budget.store();
    let source = charge.source.as_str();
    if charge.usd > 0.0
        && store
            .record(model.clone(), charge.usd, source)
            .await
            .is_err()
    {
        tracing::warn!("could not record the check's chat cost in the ledger");
    }
    let usage = &completion.usage;
    let text = format!(
        "chat: {model} answered in {elapsed} ms, {} prompt + {} completion tokens, cost ${} ({source})",
        usage.prompt_tokens,
        usage.completion_tokens,
        crate::pricing::usd(charge.usd)
    );
    line(true, text)
}

fn check_data_dir(app: &App) -> (bool, String) {
    let dir = &app.config.data_dir;
    let probe = dir.join(format!(".check-{}", std::process::id()));
    let writable = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"ok"))
        .is_ok();
    let _ = std::fs::remove_file(&probe);
    let cache = format!("{:?} cache", app.config.cache).to_lowercase();
    let text = format!(
        "cache store: {cache}; data dir {} {}",
        dir.display(),
        if writable { "writable" } else { "not writable" }
    );
    line(writable, text)
}

/// The configured default and fallback models must exist, or every call without a `model` fails.
/// Checked only against a live or saved catalog: the embedded one is a sample.
fn check_models(app: &App, snapshot: &Snapshot) -> Vec<(bool, String)> {
    let config = &app.config;
    let mut settings = vec![("SWITCHBOARD_DEFAULT_MODEL", &config.default_model)];
    settings.extend(
        config
            .fallback_models
            .iter()
            .map(|id| ("SWITCHBOARD_FALLBACK_MODELS", id)),
    );
    settings
        .into_iter()
        .filter(|(_, id)| snapshot.is_authoritative() && snapshot.find(id).is_none())
        .map(|(setting, id)| {
            let closest = suggest::closest_ids(snapshot, id, 3).join(", ");
            line(
                false,
                format!(
                    "models: {setting} names `{id}`, which is not in the catalog; closest ids: {closest} (fix the setting; `models` lists ids)"
                ),
            )
        })
        .collect()
}

/// Opens the SQLite file (cache and spend ledger) and reads it, as the first budgeted call would;
/// or, for a fleet's Redis, pings it and reports the round trip.
async fn check_store(app: &App) -> (bool, String) {
    let store = app.budget.store();
    let path = store.path().display().to_string();
    let redis = store.shared().is_some();
    match (store.probe().await, redis) {
        (Ok(how), true) => line(true, format!("store: Redis at {path} is reachable, {how}")),
        (Ok(how), false) => line(true, format!("store: {path} {how}")),
        (Err(error), true) => line(
            false,
            format!(
                "store: Redis at {path} does not answer ({error}); start it, or fix the host, port or password in SWITCHBOARD_CACHE"
            ),
        ),
        (Err(error), false) => line(
            false,
            format!(
                "store: cannot use {path} ({error}); move the file aside (a new one is created) or set SWITCHBOARD_DATA_DIR to a writable directory"
            ),
        ),
    }
}
