//! The typed, validated configuration. Built once at start-up from [`Settings`]; nothing after
//! start-up reads the environment.

use crate::budget::Period;
use crate::cli::{HttpSettings, Settings};
use crate::router::{RetryPolicy, Routing};
use secrecy::SecretString;
use std::net::SocketAddr;
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

/// Where answers are cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheBackend {
    Off,
    Memory,
    /// The SQLite file (default: `switchboard.db` in the data dir), shared by every process.
    Sqlite(Option<PathBuf>),
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
    pub http: HttpConfig,
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
        let http = HttpConfig::from_settings(&s.http)?;
        let defaults = RetryPolicy::default();
        Ok(Config {
            api_key: s
                .api_key
                .filter(|k| !k.trim().is_empty())
                .map(|k| SecretString::from(k.trim().to_string())),
            base_url,
            default_model: s.default_model.unwrap_or_else(|| DEFAULT_MODEL.into()),
            fallback_models: split_list(s.fallback_models.as_deref().unwrap_or(DEFAULT_FALLBACKS)),
            cache: parse_cache(s.cache.as_deref().unwrap_or("sqlite"))?,
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
            budget_usd: usd("SWITCHBOARD_BUDGET_USD", s.budget_usd)?,
            budget_period: parse_period(s.budget_period.as_deref().unwrap_or("day"))?,
            max_price: usd("SWITCHBOARD_MAX_PRICE", s.max_price)?,
            unknown_price: usd("SWITCHBOARD_UNKNOWN_PRICE", s.unknown_price)?,
            allowed_models: split_list(s.allowed_models.as_deref().unwrap_or("")),
            max_answer_bytes: parse_size(
                "SWITCHBOARD_MAX_ANSWER_BYTES",
                s.max_answer_bytes.as_deref().unwrap_or("4MiB"),
            )?,
            audit_log: s.audit_log.as_deref().map(crate::audit::AuditTarget::parse),
            http,
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
        "sqlite" => Ok(CacheBackend::Sqlite(None)),
        other if other.starts_with("sqlite:") => Ok(CacheBackend::Sqlite(Some(PathBuf::from(
            &other["sqlite:".len()..],
        )))),
        other => Err(invalid(
            "SWITCHBOARD_CACHE",
            format!(
                "`{other}` is not supported by this build; use `sqlite`, `sqlite:PATH`, `memory` or `off`"
            ),
        )),
    }
}

fn parse_period(text: &str) -> Result<Period, ConfigError> {
    match text.trim() {
        "day" => Ok(Period::Day),
        "month" => Ok(Period::Month),
        "total" => Ok(Period::Total),
        other => Err(invalid(
            "SWITCHBOARD_BUDGET_PERIOD",
            format!("`{other}` is not one of day, month, total"),
        )),
    }
}

/// A non-negative USD amount.
fn usd(setting: &'static str, value: Option<f64>) -> Result<Option<f64>, ConfigError> {
    match value {
        Some(v) if !v.is_finite() || v < 0.0 => Err(invalid(
            setting,
            format!("`{v}` must be a USD amount, 0 or more"),
        )),
        other => Ok(other),
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

/// How `openrouter-switchboard http` serves.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub bind: SocketAddr,
    /// No sessions: every Streamable HTTP POST stands alone (replicas behind a load balancer).
    pub stateless: bool,
    pub token: Option<SecretString>,
    /// Host names (or `host:port`) accepted; `*` accepts any.
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted (`scheme://host[:port|:*]`); `*` accepts any.
    pub allowed_origins: Vec<String>,
    pub shutdown_grace: Duration,
    pub max_body_bytes: usize,
    /// Streamable HTTP sessions at once.
    pub max_sessions: usize,
    /// Idle life of a session or a legacy SSE stream.
    pub session_idle: Duration,
    /// Legacy SSE streams at once.
    pub max_sse_streams: usize,
    /// Open TCP connections at once.
    pub max_connections: usize,
    /// Time allowed to send a request's headers (and to stay idle between requests).
    pub header_timeout: Duration,
    /// A second bearer token accepted on `/metrics`.
    pub metrics_token: Option<SecretString>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8787";
/// Shortest bearer token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
const LOOPBACK_ORIGINS: [&str; 6] = [
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
];

impl HttpConfig {
    fn from_settings(s: &HttpSettings) -> Result<HttpConfig, ConfigError> {
        let bind = parse_bind(s.bind.as_deref().unwrap_or(DEFAULT_BIND))?;
        let token = parse_token("SWITCHBOARD_HTTP_TOKEN", s.http_token.as_deref())?;
        let allowed_hosts = match &s.allowed_hosts {
            Some(list) => split_list(list),
            None => default_hosts(bind),
        };
        let allowed_origins = match &s.allowed_origins {
            Some(list) => split_list(list),
            None => LOOPBACK_ORIGINS.iter().map(|o| o.to_string()).collect(),
        };
        if let Some(bad) = allowed_origins.iter().find(|o| !valid_origin(o)) {
            return Err(invalid(
                "SWITCHBOARD_ALLOWED_ORIGINS",
                format!(
                    "`{bad}` is not an origin; write it like https://app.example.com, http://localhost:* or *"
                ),
            ));
        }
        Ok(HttpConfig {
            bind,
            stateless: s.stateless,
            token,
            allowed_hosts,
            allowed_origins,
            shutdown_grace: duration(
                "SWITCHBOARD_SHUTDOWN_GRACE",
                s.shutdown_grace.as_deref(),
                "25s",
            )?,
            max_body_bytes: parse_size(
                "SWITCHBOARD_MAX_BODY",
                s.max_body.as_deref().unwrap_or("4MiB"),
            )?,
            max_sessions: count("SWITCHBOARD_MAX_SESSIONS", s.max_sessions, 1000)?,
            session_idle: duration("SWITCHBOARD_SESSION_IDLE", s.session_idle.as_deref(), "10m")?,
            max_sse_streams: count("SWITCHBOARD_MAX_SSE_STREAMS", s.max_sse_streams, 100)?,
            max_connections: count("SWITCHBOARD_MAX_CONNECTIONS", s.max_connections, 512)?,
            header_timeout: duration(
                "SWITCHBOARD_HEADER_TIMEOUT",
                s.header_timeout.as_deref(),
                "10s",
            )?,
            metrics_token: parse_token("SWITCHBOARD_METRICS_TOKEN", s.metrics_token.as_deref())?,
        })
    }

    /// The start-up rule for `http`: a bind address other machines can reach needs a token.
    ///
    /// # Errors
    /// When the bind address is not loopback and no token is set.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        if self.bind.ip().is_loopback() || self.token.is_some() {
            return Ok(());
        }
        Err(invalid(
            "SWITCHBOARD_BIND",
            format!(
                "{} is reachable from other machines, so a token is required: set SWITCHBOARD_HTTP_TOKEN \
                 (at least {MIN_TOKEN_CHARS} characters) or bind a loopback address such as {DEFAULT_BIND}",
                self.bind
            ),
        ))
    }
}

/// A bearer token of at least [`MIN_TOKEN_CHARS`]; empty means none. The error never echoes it.
fn parse_token(
    setting: &'static str,
    value: Option<&str>,
) -> Result<Option<SecretString>, ConfigError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() < MIN_TOKEN_CHARS => Err(invalid(
            setting,
            format!(
                "it has {} characters; use at least {MIN_TOKEN_CHARS} (for example the output of `openssl rand -hex 32`)",
                t.chars().count()
            ),
        )),
        Some(t) => Ok(Some(SecretString::from(t.to_string()))),
    }
}

/// A limit of at least 1.
fn count(
    setting: &'static str,
    value: Option<usize>,
    default: usize,
) -> Result<usize, ConfigError> {
    match value.unwrap_or(default) {
        0 => Err(invalid(setting, "must be at least 1".into())),
        n => Ok(n),
    }
}

/// `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`.
fn parse_bind(text: &str) -> Result<SocketAddr, ConfigError> {
    let text = text.trim();
    let localhost = text
        .strip_prefix("localhost:")
        .and_then(|port| port.parse::<u16>().ok())
        .map(|port| SocketAddr::from(([127, 0, 0, 1], port)));
    localhost.or_else(|| text.parse().ok()).ok_or_else(|| {
        invalid(
            "SWITCHBOARD_BIND",
            format!("`{text}` is not an address; write it like 127.0.0.1:8787, [::1]:8787 or 0.0.0.0:8787"),
        )
    })
}

/// Loopback names, plus the bind address itself when it is one specific address.
fn default_hosts(bind: SocketAddr) -> Vec<String> {
    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| h.to_string()).collect();
    if !bind.ip().is_unspecified() && !bind.ip().is_loopback() {
        hosts.push(bind.ip().to_string());
    }
    hosts
}

fn valid_origin(origin: &str) -> bool {
    let base = origin.strip_suffix(":*").unwrap_or(origin);
    origin == "*"
        || origin == "null"
        || base
            .parse::<axum::http::Uri>()
            .is_ok_and(|u| u.scheme().is_some() && u.authority().is_some() && u.path() == "/")
}

/// A byte count: `1048576`, `512KiB`, `4MiB` (also `KB`/`MB` for powers of 1000).
fn parse_size(setting: &'static str, text: &str) -> Result<usize, ConfigError> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    let multiplier = match unit.trim() {
        "" | "b" => Some(1),
        "k" | "kib" => Some(1024),
        "kb" => Some(1000),
        "m" | "mib" => Some(1024 * 1024),
        "mb" => Some(1000 * 1000),
        _ => None,
    };
    let bytes = digits
        .parse::<usize>()
        .ok()
        .zip(multiplier)
        .and_then(|(n, m)| n.checked_mul(m))
        .filter(|n| (1024..=1024 * 1024 * 1024).contains(n));
    bytes.ok_or_else(|| {
        invalid(
            setting,
            format!("`{text}` is not a size between 1KiB and 1024MiB; write it like 4MiB or 65536"),
        )
    })
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

#[cfg(test)]
mod http_tests {
    use super::*;

    fn http(settings: HttpSettings) -> Result<HttpConfig, ConfigError> {
        HttpConfig::from_settings(&settings)
    }

    #[test]
    fn defaults_are_loopback_without_a_token() {
        let config = http(HttpSettings::default()).unwrap();
        assert_eq!(config.bind.to_string(), DEFAULT_BIND);
        assert!(!config.stateless && config.token.is_none());
        assert_eq!(config.allowed_hosts, ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(config.max_body_bytes, 4 * 1024 * 1024);
        assert_eq!(config.shutdown_grace, Duration::from_secs(25));
        config.check_exposure().unwrap();
    }

    #[test]
    fn a_public_bind_needs_a_token() {
        let public = HttpSettings {
            bind: Some("0.0.0.0:8787".into()),
            ..HttpSettings::default()
        };
        let err = http(public.clone())
            .unwrap()
            .check_exposure()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SWITCHBOARD_HTTP_TOKEN") && err.contains("0.0.0.0:8787"),
            "{err}"
        );
        let with_token = HttpSettings {
            http_token: Some("0123456789abcdef".into()),
            ..public
        };
        http(with_token).unwrap().check_exposure().unwrap();
        let specific = HttpSettings {
            bind: Some("192.0.2.7:80".into()),
            ..HttpSettings::default()
        };
        assert!(
            http(specific)
                .unwrap()
                .allowed_hosts
                .contains(&"192.0.2.7".to_string())
        );
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases = [
            (
                HttpSettings {
                    bind: Some("here".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_BIND",
            ),
            (
                HttpSettings {
                    http_token: Some("short".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_HTTP_TOKEN",
            ),
            (
                HttpSettings {
                    max_body: Some("lots".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_MAX_BODY",
            ),
            (
                HttpSettings {
                    max_body: Some("10".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_MAX_BODY",
            ),
            (
                HttpSettings {
                    allowed_origins: Some("evil.com".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_ALLOWED_ORIGINS",
            ),
            (
                HttpSettings {
                    shutdown_grace: Some("soon".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_SHUTDOWN_GRACE",
            ),
        ];
        for (settings, name) in cases {
            let err = http(settings).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{name} is not valid")), "{err}");
            assert!(
                !err.contains("short\u{60}"),
                "the token is never echoed: {err}"
            );
        }
    }

    #[test]
    fn sizes_and_addresses_parse() {
        assert_eq!(parse_size("x", "512KiB").unwrap(), 512 * 1024);
        assert_eq!(parse_size("x", "2mb").unwrap(), 2_000_000);
        assert_eq!(parse_size("x", "65536").unwrap(), 65536);
        assert_eq!(
            parse_bind("localhost:0").unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(parse_bind("[::1]:9").unwrap().to_string(), "[::1]:9");
    }

    #[test]
    fn limits_have_defaults_and_bad_ones_name_their_setting() {
        let config = http(HttpSettings::default()).unwrap();
        assert_eq!(config.max_sessions, 1000);
        assert_eq!(config.session_idle, Duration::from_secs(600));
        assert_eq!(config.max_sse_streams, 100);
        assert_eq!(config.max_connections, 512);
        assert_eq!(config.header_timeout, Duration::from_secs(10));
        assert!(config.metrics_token.is_none());
        let file: HttpSettings =
            toml::from_str("max_sessions = 5\nsession_idle = \"30s\"\nheader_timeout = \"2s\"")
                .unwrap();
        let config = http(HttpSettings::default().or(file)).unwrap();
        assert_eq!(config.max_sessions, 5);
        assert_eq!(config.session_idle, Duration::from_secs(30));
        assert_eq!(config.header_timeout, Duration::from_secs(2));
        let cases = [
            (
                HttpSettings {
                    max_connections: Some(0),
                    ..Default::default()
                },
                "SWITCHBOARD_MAX_CONNECTIONS",
            ),
            (
                HttpSettings {
                    session_idle: Some("forever".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_SESSION_IDLE",
            ),
            (
                HttpSettings {
                    metrics_token: Some("short".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_METRICS_TOKEN",
            ),
        ];
        for (settings, name) in cases {
            let err = http(settings).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{name} is not valid")), "{err}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let settings = HttpSettings {
            http_token: Some("tok-0123456789abcdef-secret".into()),
            metrics_token: Some("metrics-0123456789-secret".into()),
            ..HttpSettings::default()
        };
        assert!(!format!("{settings:?}").contains("secret"));
        assert!(!format!("{:?}", http(settings).unwrap()).contains("secret"));
    }
}
