//! The typed, validated configuration. Built once at start-up from [`Settings`]; nothing after
//! start-up reads the environment.
//!
//! - [`layers`]: flags and environment over the TOML file over defaults (unvalidated
//!   [`Settings`]).
//! - this module: [`Config`], what the rest of the program reads, validated from them;
//!   `http`: the `http` command's part, [`HttpConfig`].
//! - `values`: the value parsers, whose errors name the setting and the fix.

mod http;
pub mod layers;
mod values;

pub use http::HttpConfig;

use crate::budget::Period;
use crate::cli::{BudgetPeriod, RoutingMode, Settings};
use crate::router::{RetryPolicy, Routing};
use secrecy::SecretString;
use std::path::PathBuf;
use std::time::Duration;
use values::{duration, invalid, parse_size, split_list, usd};

pub const DEFAULT_BASE_URL: &str = "https://openrouter.ai/api/v1";
pub const DEFAULT_MODEL: &str = "openai/gpt-5-mini";
/// Follow-up requests that complete an answer cut by `max_tokens` (`SWITCHBOARD_MAX_CONTINUATIONS`).
pub const DEFAULT_MAX_CONTINUATIONS: u32 = 2;
pub const DEFAULT_FALLBACKS: &str = "google/gemini-2.5-flash";
pub const DEFAULT_BIND: &str = "127.0.0.1:8787";
/// Shortest bearer token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;

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

/// Where answers are cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheBackend {
    Off,
    Memory,
    /// The SQLite file (default: `switchboard.db` in the data dir), shared by every process.
    Sqlite(Option<PathBuf>),
    /// A Redis server shared by every replica: cache, flights, ledger, cooldowns and records.
    Redis(RedisUrl),
}

/// A `redis://` or `rediss://` URL. It may hold a password, so `Debug` and [`RedisUrl::redacted`]
/// show only the scheme, host, port and database.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    url: String,
    redacted: String,
    address: String,
}

impl RedisUrl {
    /// Parses and checks `text`; the error never repeats a password.
    pub fn parse(text: &str) -> Result<RedisUrl, String> {
        let url = reqwest::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err("the scheme must be redis:// or rediss://".into());
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("no host")?;
        let port = url.port().unwrap_or(6379);
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u32>().is_err() {
            return Err(format!("the database `/{db}` is not a number"));
        }
        let address = format!("{host}:{port}");
        let db = if db.is_empty() { "0" } else { db };
        Ok(RedisUrl {
            url: text.to_string(),
            redacted: format!("{}://{address}/{db}", url.scheme()),
            address,
        })
    }

    /// The whole URL, password included: for the Redis client only, never for output.
    pub fn secret_url(&self) -> &str {
        &self.url
    }

    /// `redis://HOST:PORT/DB`, without user or password.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// `HOST:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
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
    pub budget_usd: Option<f64>,
    pub budget_period: Period,
    pub max_price: Option<f64>,
    /// USD per 1M tokens assumed for the worst case of a model with no known price.
    pub unknown_price: Option<f64>,
    pub allowed_models: Vec<String>,
    /// Largest upstream answer accepted, in bytes of text.
    pub max_answer_bytes: usize,
    /// `SWITCHBOARD_AUDIT_LOG`: where one JSON line per tool call goes.
    pub audit_log: Option<crate::audit::AuditTarget>,
    /// `SWITCHBOARD_MAX_RESULT_CHARS`: longest answer text in one tool result.
    pub max_result_chars: usize,
    /// `SWITCHBOARD_CONVERSATION_TTL`: how long conversations and stored answers are kept.
    pub conversation_ttl: Duration,
    /// `SWITCHBOARD_FILE_ROOTS`: directories attachments may be read from (as given, unresolved).
    pub file_roots: Vec<PathBuf>,
    /// `SWITCHBOARD_MASK`.
    pub mask: crate::mask::MaskMode,
    /// `SWITCHBOARD_PROVIDER`: default provider preferences (a JSON object), if any.
    pub provider: Option<serde_json::Map<String, serde_json::Value>>,
    pub http: HttpConfig,
}

impl Config {
    /// Reads the config file named in `settings` (if any) and validates everything.
    ///
    /// # Errors
    /// A [`ConfigError`] that names the setting and what is wrong with it.
    pub fn load(settings: Settings) -> Result<Config, ConfigError> {
        Config::from_settings(layers::layered(settings)?)
    }

    /// Validates every value, or names the first setting that is wrong.
    fn from_settings(s: Settings) -> Result<Config, ConfigError> {
        Ok(Config {
            api_key: api_key(s.api_key.as_deref()),
            base_url: base_url(s.base_url.as_deref())?,
            default_model: s.default_model.unwrap_or_else(|| DEFAULT_MODEL.into()),
            fallback_models: split_list(s.fallback_models.as_deref().unwrap_or(DEFAULT_FALLBACKS)),
            cache: parse_cache(s.cache.as_deref().unwrap_or("sqlite"))?,
            cache_ttl: duration("SWITCHBOARD_CACHE_TTL", s.cache_ttl.as_deref(), "24h")?,
            data_dir: s.data_dir.unwrap_or_else(default_data_dir),
            timeout: duration("SWITCHBOARD_TIMEOUT", s.timeout.as_deref(), "120s")?,
            retry: RetryPolicy {
                max_continuations: s.max_continuations.unwrap_or(DEFAULT_MAX_CONTINUATIONS),
                ..retry(s.max_retries, s.retry_base.as_deref())?
            },
            catalog_ttl: duration("SWITCHBOARD_CATALOG_TTL", s.catalog_ttl.as_deref(), "1h")?,
            stall_timeout: duration(
                "SWITCHBOARD_STALL_TIMEOUT",
                s.stall_timeout.as_deref(),
                "30s",
            )?,
            cooldown: duration("SWITCHBOARD_COOLDOWN", s.cooldown.as_deref(), "30s")?,
            routing: s.routing.unwrap_or(RoutingMode::Switchboard).into(),
            budget_usd: usd("SWITCHBOARD_BUDGET_USD", s.budget_usd)?,
            budget_period: s.budget_period.unwrap_or(BudgetPeriod::Day).into(),
            max_price: usd("SWITCHBOARD_MAX_PRICE", s.max_price)?,
            unknown_price: usd("SWITCHBOARD_UNKNOWN_PRICE", s.unknown_price)?,
            allowed_models: split_list(s.allowed_models.as_deref().unwrap_or("")),
            max_answer_bytes: parse_size(
                "SWITCHBOARD_MAX_ANSWER_BYTES",
                s.max_answer_bytes.as_deref().unwrap_or("4MiB"),
            )?,
            audit_log: s.audit_log.as_deref().map(crate::audit::AuditTarget::parse),
            max_result_chars: max_result_chars(s.max_result_chars)?,
            conversation_ttl: duration(
                "SWITCHBOARD_CONVERSATION_TTL",
                s.conversation_ttl.as_deref(),
                "7d",
            )?,
            file_roots: split_list(s.file_roots.as_deref().unwrap_or(""))
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            mask: mask(s.mask.as_deref())?,
            provider: provider(s.provider_preferences.as_deref())?,
            http: HttpConfig::from_settings(&s.http)?,
        })
    }

    /// Where the catalog fetched live is saved for offline starts.
    pub fn catalog_path(&self) -> PathBuf {
        self.data_dir.join("catalog.json")
    }

    /// The SQLite file for cached answers and the spend ledger.
    pub fn store_path(&self) -> PathBuf {
        match &self.cache {
            CacheBackend::Sqlite(Some(path)) => path.clone(),
            _ => self.data_dir.join("switchboard.db"),
        }
    }
}

/// Shortest `SWITCHBOARD_MAX_RESULT_CHARS` accepted: a page must hold a useful piece of text.
const MIN_RESULT_CHARS: usize = 1000;

fn max_result_chars(value: Option<usize>) -> Result<usize, ConfigError> {
    match value {
        None => Ok(20_000),
        Some(n) if n >= MIN_RESULT_CHARS => Ok(n),
        Some(n) => Err(invalid(
            "SWITCHBOARD_MAX_RESULT_CHARS",
            format!("{n} is too small; use at least {MIN_RESULT_CHARS} (default 20000)"),
        )),
    }
}

fn mask(value: Option<&str>) -> Result<crate::mask::MaskMode, ConfigError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(crate::mask::MaskMode::default()),
        Some(text) => text
            .parse()
            .map_err(|e: crate::mask::MaskModeError| invalid("SWITCHBOARD_MASK", e.to_string())),
    }
}

/// `SWITCHBOARD_PROVIDER` must be a JSON object; its keys are checked where the `provider`
/// argument's are.
fn provider(
    value: Option<&str>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, ConfigError> {
    let Some(text) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => {
            match crate::tools::consult_args::check_provider(&map) {
                Ok(()) => Ok(Some(map)),
                Err(p) => Err(invalid(
                    "SWITCHBOARD_PROVIDER",
                    format!("key `{}` {}", p.key, p.problem),
                )),
            }
        }
        Ok(_) => Err(invalid(
            "SWITCHBOARD_PROVIDER",
            "must be a JSON object such as {\"sort\":\"price\"}".to_string(),
        )),
        Err(e) => Err(invalid(
            "SWITCHBOARD_PROVIDER",
            format!("is not valid JSON ({e}); give an object such as {{\"sort\":\"price\"}}"),
        )),
    }
}

/// A blank key is no key; whitespace around one is dropped.
fn api_key(value: Option<&str>) -> Option<SecretString> {
    value
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| SecretString::from(k.to_string()))
}

fn base_url(value: Option<&str>) -> Result<String, ConfigError> {
    let url = value.unwrap_or(DEFAULT_BASE_URL);
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(invalid(
            "OPENROUTER_BASE_URL",
            format!("`{url}` must start with http:// or https://"),
        ));
    }
    Ok(url.to_string())
}

fn retry(max_retries: Option<u32>, base: Option<&str>) -> Result<RetryPolicy, ConfigError> {
    let defaults = RetryPolicy::default();
    Ok(RetryPolicy {
        max_retries: max_retries.unwrap_or(defaults.max_retries),
        base_delay: duration("SWITCHBOARD_RETRY_BASE", base, "250ms")?,
        max_delay: defaults.max_delay,
        max_continuations: defaults.max_continuations,
    })
}

fn parse_cache(text: &str) -> Result<CacheBackend, ConfigError> {
    match text.trim() {
        "off" => Ok(CacheBackend::Off),
        "memory" => Ok(CacheBackend::Memory),
        "sqlite" => Ok(CacheBackend::Sqlite(None)),
        other if other.starts_with("sqlite:") => Ok(CacheBackend::Sqlite(Some(PathBuf::from(
            &other["sqlite:".len()..],
        )))),
        other if other.starts_with("redis://") || other.starts_with("rediss://") => {
            RedisUrl::parse(other)
                .map(CacheBackend::Redis)
                .map_err(|problem| {
                    invalid(
                        "SWITCHBOARD_CACHE",
                        format!(
                            "{problem}; use redis://[:PASSWORD@]HOST:PORT/DB (rediss:// for TLS)"
                        ),
                    )
                })
        }
        other => Err(invalid(
            "SWITCHBOARD_CACHE",
            format!(
                "`{other}` is not a cache; use `sqlite`, `sqlite:PATH`, `redis://HOST:PORT/DB`, `memory` or `off`"
            ),
        )),
    }
}

impl From<RoutingMode> for Routing {
    fn from(mode: RoutingMode) -> Routing {
        match mode {
            RoutingMode::Switchboard => Routing::Switchboard,
            RoutingMode::Native => Routing::Native,
        }
    }
}

impl From<BudgetPeriod> for Period {
    fn from(period: BudgetPeriod) -> Period {
        match period {
            BudgetPeriod::Day => Period::Day,
            BudgetPeriod::Month => Period::Month,
            BudgetPeriod::Total => Period::Total,
        }
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
        assert_eq!(config.max_result_chars, 20_000);
        assert_eq!(config.conversation_ttl, Duration::from_secs(7 * 86_400));
        assert!(config.file_roots.is_empty());
        assert_eq!(config.mask, crate::mask::MaskMode::Secrets);
        assert!(config.provider.is_none());
    }

    #[test]
    fn consultation_settings_are_checked() {
        let bad = |s: Settings| Config::from_settings(s).unwrap_err().to_string();
        let err = bad(Settings {
            provider_preferences: Some("[1]".into()),
            ..Settings::default()
        });
        assert!(
            err.contains("SWITCHBOARD_PROVIDER") && err.contains("object"),
            "{err}"
        );
        let err = bad(Settings {
            mask: Some("everything".into()),
            ..Settings::default()
        });
        assert!(err.contains("SWITCHBOARD_MASK"), "{err}");
        let err = bad(Settings {
            provider_preferences: Some(r#"{"sort":"fastest"}"#.into()),
            ..Settings::default()
        });
        assert!(
            err.contains("SWITCHBOARD_PROVIDER") && err.contains("`sort`"),
            "{err}"
        );
        let err = bad(Settings {
            max_result_chars: Some(10),
            ..Settings::default()
        });
        assert!(err.contains("SWITCHBOARD_MAX_RESULT_CHARS"), "{err}");
        let config = Config::from_settings(Settings {
            file_roots: Some("/a, /b".into()),
            provider_preferences: Some(r#"{"sort":"price"}"#.into()),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(
            config.file_roots,
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(config.provider.unwrap()["sort"], "price");
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
    fn a_redis_url_is_accepted_and_never_shows_its_password() {
        let CacheBackend::Redis(url) =
            parse_cache("rediss://:hunter2-secret@cache.internal:6380/2").unwrap()
        else {
            panic!("a redis backend")
        };
        assert_eq!(url.redacted(), "rediss://cache.internal:6380/2");
        assert_eq!(url.address(), "cache.internal:6380");
        assert!(!format!("{:?}", CacheBackend::Redis(url.clone())).contains("hunter2"));
        assert_eq!(
            parse_cache("redis://127.0.0.1")
                .map(|b| format!("{b:?}"))
                .unwrap(),
            "Redis(redis://127.0.0.1:6379/0)"
        );
        let bad = parse_cache("redis://:hunter2@h:1/x")
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("SWITCHBOARD_CACHE") && !bad.contains("hunter2"),
            "{bad}"
        );
    }

    #[test]
    fn enum_settings_take_their_values_from_flags_and_the_file() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "x",
            "--routing",
            "native",
            "--budget-period",
            "month",
        ])
        .unwrap();
        let config = Config::from_settings(cli.settings).unwrap();
        assert_eq!(config.routing, Routing::Native);
        assert_eq!(config.budget_period, Period::Month);
        let err = crate::cli::Cli::try_parse_from(["x", "--routing", "nativ"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--routing") && err.contains("switchboard, native"),
            "{err}"
        );
        let file: Settings =
            toml::from_str("routing = \"native\"\nbudget_period = \"total\"").unwrap();
        let config = Config::from_settings(Settings::default().or(file)).unwrap();
        assert_eq!(config.routing, Routing::Native);
        assert_eq!(config.budget_period, Period::Total);
        let err = toml::from_str::<Settings>("budget_period = \"week\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("budget_period") && err.contains("month"),
            "{err}"
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
