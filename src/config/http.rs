//! The `http` command's validated settings ([`HttpConfig`]) and the start-up exposure rule.

use super::values::{
    count, duration, invalid, parse_bind, parse_size, parse_token, split_list, valid_origin,
};
use super::{ConfigError, DEFAULT_BIND, MIN_TOKEN_CHARS};
use crate::cli::HttpSettings;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::time::Duration;

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
    pub(super) fn from_settings(s: &HttpSettings) -> Result<HttpConfig, ConfigError> {
        let bind = parse_bind(s.bind.as_deref().unwrap_or(DEFAULT_BIND))?;
        let token = parse_token("SWITCHBOARD_HTTP_TOKEN", s.http_token.as_deref())?;
        let allowed_hosts = match &s.allowed_hosts {
            Some(list) => split_list(list),
            None => default_hosts(bind),
        };
        Ok(HttpConfig {
            bind,
            stateless: s.stateless,
            token,
            allowed_hosts,
            allowed_origins: allowed_origins(s.allowed_origins.as_deref())?,
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

/// The origins listed (default: loopback on any port), each checked.
fn allowed_origins(list: Option<&str>) -> Result<Vec<String>, ConfigError> {
    let origins = match list {
        Some(list) => split_list(list),
        None => LOOPBACK_ORIGINS.iter().map(|o| o.to_string()).collect(),
    };
    if let Some(bad) = origins.iter().find(|o| !valid_origin(o)) {
        return Err(invalid(
            "SWITCHBOARD_ALLOWED_ORIGINS",
            format!(
                "`{bad}` is not an origin; write it like https://app.example.com, http://localhost:* or *"
            ),
        ));
    }
    Ok(origins)
}

/// Loopback names, plus the bind address itself when it is one specific address.
fn default_hosts(bind: SocketAddr) -> Vec<String> {
    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| h.to_string()).collect();
    if !bind.ip().is_unspecified() && !bind.ip().is_loopback() {
        hosts.push(bind.ip().to_string());
    }
    hosts
}

#[cfg(test)]
mod tests {
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
