//! Layering: flags and environment variables (parsed by clap into [`Settings`]) over the TOML
//! config file over the defaults. Only fills in unset values; [`super::Config`] validates them.

use super::ConfigError;
use crate::cli::{HttpSettings, Settings};
use std::path::Path;

/// The flags and environment in `settings`, over the config file it names (if any).
///
/// # Errors
/// When the file cannot be read or is not valid TOML of known keys.
pub fn layered(settings: Settings) -> Result<Settings, ConfigError> {
    match settings.config.clone() {
        Some(path) => Ok(settings.or(read_file(&path)?)),
        None => Ok(settings),
    }
}

fn read_file(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.into(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
        path: path.into(),
        message: e.to_string(),
    })
}

impl Settings {
    /// Fills every unset field from `file`.
    pub fn or(self, file: Settings) -> Settings {
        Settings {
            config: self.config,
            api_key: self.api_key.or(file.api_key),
            base_url: self.base_url.or(file.base_url),
            default_model: self.default_model.or(file.default_model),
            fallback_models: self.fallback_models.or(file.fallback_models),
            cache: self.cache.or(file.cache),
            cache_ttl: self.cache_ttl.or(file.cache_ttl),
            data_dir: self.data_dir.or(file.data_dir),
            timeout: self.timeout.or(file.timeout),
            max_retries: self.max_retries.or(file.max_retries),
            retry_base: self.retry_base.or(file.retry_base),
            catalog_ttl: self.catalog_ttl.or(file.catalog_ttl),
            stall_timeout: self.stall_timeout.or(file.stall_timeout),
            cooldown: self.cooldown.or(file.cooldown),
            routing: self.routing.or(file.routing),
            budget_usd: self.budget_usd.or(file.budget_usd),
            budget_period: self.budget_period.or(file.budget_period),
            max_price: self.max_price.or(file.max_price),
            allowed_models: self.allowed_models.or(file.allowed_models),
            max_answer_bytes: self.max_answer_bytes.or(file.max_answer_bytes),
            http: self.http.or(file.http),
        }
    }
}

impl HttpSettings {
    /// Fills every unset field from `file`.
    pub fn or(self, file: HttpSettings) -> HttpSettings {
        HttpSettings {
            bind: self.bind.or(file.bind),
            stateless: self.stateless || file.stateless,
            http_token: self.http_token.or(file.http_token),
            allowed_hosts: self.allowed_hosts.or(file.allowed_hosts),
            allowed_origins: self.allowed_origins.or(file.allowed_origins),
            shutdown_grace: self.shutdown_grace.or(file.shutdown_grace),
            max_body: self.max_body.or(file.max_body),
            max_sessions: self.max_sessions.or(file.max_sessions),
            session_idle: self.session_idle.or(file.session_idle),
            max_sse_streams: self.max_sse_streams.or(file.max_sse_streams),
            max_connections: self.max_connections.or(file.max_connections),
            header_timeout: self.header_timeout.or(file.header_timeout),
            metrics_token: self.metrics_token.or(file.metrics_token),
        }
    }
}
