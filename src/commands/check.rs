//! `openrouter-switchboard check`: a self-test with one line per part; exit 1 if any part fails.

use super::print_lines;
use crate::App;
use crate::catalog::Source;
use std::time::Duration;

const KEY_TIMEOUT: Duration = Duration::from_secs(15);

/// Returns whether every check passed.
pub async fn check(app: &App) -> anyhow::Result<bool> {
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
    let cache = check_data_dir(app);
    let passed = key.0 && catalog.0 && cache.0;
    lines.extend([key.1, catalog.1, cache.1]);
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
        Err(error) => line(false, format!("key: {}", app.redact(&error.to_string()))),
    }
}

async fn check_catalog(app: &App) -> (bool, String) {
    let snapshot = app.catalog.snapshot().await;
    let text = format!(
        "catalog: {} models, {} (fetched {})",
        snapshot.models.len(),
        snapshot.source.as_str(),
        snapshot.fetched_at_rfc3339()
    );
    line(snapshot.source == Source::Live, text)
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
