//! The typed, validated configuration. Built once at start-up from [`Settings`]; nothing after
//! start-up reads the environment.

use crate::cli::Settings;
use crate::router::{RetryPolicy, Routing};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://openrouter.ai/api/v1";
pub const DEFAULT_MODEL: &str = "openai/gpt-5-mini";
pub const DEFAULT_FALLBACKS: &str = "google/gemini-2.5-flash";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("{setting} is not valid: {problem}")]
    Invalid {
        setting: &'static str,
        problem: String,
    },
}

/// Whether answers are cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheBackend {
    Off,
    Memory,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub api_key: Option<SecretString>,
    pub base_url: String,
    pub default_model: String,
    pub fallback_models: Vec<String>,
    pub cache: CacheBackend,
    pub cache_ttl: Duration,
    pub data_dir: PathBuf,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub catalog_ttl: Duration,
    pub stall_timeout: Duration,
    pub cooldown: Duration,
    pub routing: Routing,
}

impl Config {
    /// Reads the config file named in `settings` (if any) and validates everything.
    ///
    /// # Errors
    /// A [`ConfigError`] that names the setting and what is wrong with it.
    pub fn load(settings: Settings) -> Result<Config, ConfigError> {
        let settings = match settings.config.clone() {
            Some(path) => settings.or(read_file(&path)?),
            None => settings,
        };
        Config::from_settings(settings)
    }

    fn from_settings(s: Settings) -> Result<Config, ConfigError> {
        let base_url = s.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.into());
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(invalid(
                "OPENROUTER_BASE_URL",
                format!("`{base_url}` must start with http:// or https://"),
            ));
        }
        let defaults = RetryPolicy::default();
        Ok(Config {
            api_key: s
                .api_key
                .filter(|k| !k.trim().is_empty())
                .map(|k| SecretString::from(k.trim().to_string())),
            base_url,
            default_model: s.default_model.unwrap_or_else(|| DEFAULT_MODEL.into()),
            fallback_models: split_list(s.fallback_models.as_deref().unwrap_or(DEFAULT_FALLBACKS)),
            cache: parse_cache(s.cache.as_deref().unwrap_or("memory"))?,
            cache_ttl: duration("SWITCHBOARD_CACHE_TTL", s.cache_ttl.as_deref(), "24h")?,
            data_dir: s.data_dir.unwrap_or_else(default_data_dir),
            timeout: duration("SWITCHBOARD_TIMEOUT", s.timeout.as_deref(), "120s")?,
            retry: RetryPolicy {
                max_retries: s.max_retries.unwrap_or(defaults.max_retries),
                base_delay: duration("SWITCHBOARD_RETRY_BASE", s.retry_base.as_deref(), "250ms")?,
                max_delay: defaults.max_delay,
            },
            catalog_ttl: duration("SWITCHBOARD_CATALOG_TTL", s.catalog_ttl.as_deref(), "1h")?,
            stall_timeout: duration(
                "SWITCHBOARD_STALL_TIMEOUT",
                s.stall_timeout.as_deref(),
                "30s",
            )?,
            cooldown: duration("SWITCHBOARD_COOLDOWN", s.cooldown.as_deref(), "30s")?,
            routing: parse_routing(s.routing.as_deref().unwrap_or("switchboard"))?,
        })
    }

    /// Where the catalog fetched live is saved for offline starts.
    pub fn catalog_path(&self) -> PathBuf {
        self.data_dir.join("catalog.json")
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

fn invalid(setting: &'static str, problem: String) -> ConfigError {
    ConfigError::Invalid { setting, problem }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn duration(
    setting: &'static str,
    value: Option<&str>,
    default: &str,
) -> Result<Duration, ConfigError> {
    let text = value.unwrap_or(default);
    let parsed = humantime::parse_duration(text).map_err(|e| {
        invalid(
            setting,
            format!("`{text}` is not a duration ({e}); write it like 30s, 5m or 24h"),
        )
    })?;
    if parsed.is_zero() {
        return Err(invalid(setting, "must be greater than zero".into()));
    }
    Ok(parsed)
}

fn parse_cache(text: &str) -> Result<CacheBackend, ConfigError> {
    match text.trim() {
        "off" => Ok(CacheBackend::Off),
        "memory" => Ok(CacheBackend::Memory),
        other => Err(invalid(
            "SWITCHBOARD_CACHE",
            format!("`{other}` is not supported by this build; use `memory` or `off`"),
        )),
    }
}

fn parse_routing(text: &str) -> Result<Routing, ConfigError> {
    match text.trim() {
        "switchboard" => Ok(Routing::Switchboard),
        "native" => Ok(Routing::Native),
        other => Err(invalid(
            "SWITCHBOARD_ROUTING",
            format!("`{other}` is not one of switchboard, native"),
        )),
    }
}

/// `$XDG_CACHE_HOME/openrouter-switchboard`, or `~/.cache/openrouter-switchboard`.
fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("openrouter-switchboard")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let config = Config::from_settings(Settings::default()).unwrap();
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.default_model, "openai/gpt-5-mini");
        assert_eq!(config.fallback_models, vec!["google/gemini-2.5-flash"]);
        assert_eq!(config.timeout, Duration::from_secs(120));
        assert_eq!(config.cache_ttl, Duration::from_secs(24 * 3600));
    }

    #[test]
    fn flags_win_over_the_file() {
        let flags = Settings {
            default_model: Some("a/flag".into()),
            ..Settings::default()
        };
        let file: Settings =
            toml::from_str("default_model = \"a/file\"\nfallback_models = \"x/1, x/2\"").unwrap();
        let config = Config::from_settings(flags.or(file)).unwrap();
        assert_eq!(config.default_model, "a/flag");
        assert_eq!(config.fallback_models, vec!["x/1", "x/2"]);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let settings = Settings {
            timeout: Some("soon".into()),
            ..Settings::default()
        };
        let err = Config::from_settings(settings).unwrap_err().to_string();
        assert!(err.starts_with("SWITCHBOARD_TIMEOUT is not valid"), "{err}");
        let settings = Settings {
            cache: Some("floppy".into()),
            ..Settings::default()
        };
        assert!(
            Config::from_settings(settings)
                .unwrap_err()
                .to_string()
                .contains("SWITCHBOARD_CACHE")
        );
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<Settings>("defualt_model = \"x\"").is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let settings = Settings {
            api_key: Some("sk-or-v1-hidden".into()),
            ..Settings::default()
        };
        let config = Config::from_settings(settings).unwrap();
        assert!(!format!("{config:?}").contains("sk-or-v1-hidden"));
    }
}
