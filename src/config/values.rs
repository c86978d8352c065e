//! Parsers for setting values (durations, sizes, USD amounts, limits, lists, tokens, addresses):
//! each error names the setting and shows how to write the value.

use super::{ConfigError, MIN_TOKEN_CHARS};
use secrecy::SecretString;
use std::net::SocketAddr;
use std::time::Duration;

pub(super) fn invalid(setting: &'static str, problem: String) -> ConfigError {
    ConfigError::Invalid { setting, problem }
}

pub(super) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) fn duration(
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

/// A non-negative USD amount.
pub(super) fn usd(setting: &'static str, value: Option<f64>) -> Result<Option<f64>, ConfigError> {
    match value {
        Some(v) if !v.is_finite() || v < 0.0 => Err(invalid(
            setting,
            format!("`{v}` must be a USD amount, 0 or more"),
        )),
        other => Ok(other),
    }
}

/// A limit of at least 1.
pub(super) fn count(
    setting: &'static str,
    value: Option<usize>,
    default: usize,
) -> Result<usize, ConfigError> {
    match value.unwrap_or(default) {
        0 => Err(invalid(setting, "must be at least 1".into())),
        n => Ok(n),
    }
}

/// A byte count: `1048576`, `512KiB`, `4MiB` (also `KB`/`MB` for powers of 1000).
pub(super) fn parse_size(setting: &'static str, text: &str) -> Result<usize, ConfigError> {
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

/// A bearer token of at least [`MIN_TOKEN_CHARS`]; empty means none. The error never echoes it.
pub(super) fn parse_token(
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

/// `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`.
pub(super) fn parse_bind(text: &str) -> Result<SocketAddr, ConfigError> {
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

pub(super) fn valid_origin(origin: &str) -> bool {
    let base = origin.strip_suffix(":*").unwrap_or(origin);
    origin == "*"
        || origin == "null"
        || base
            .parse::<axum::http::Uri>()
            .is_ok_and(|u| u.scheme().is_some() && u.authority().is_some() && u.path() == "/")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
