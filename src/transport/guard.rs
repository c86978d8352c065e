//! The HTTP front door: the DNS-rebinding check (Host and Origin) on every route, the bearer
//! token on every MCP route, and the rule for `/metrics` (open only on a loopback bind with no
//! token set; otherwise the HTTP token or `SWITCHBOARD_METRICS_TOKEN`). The token is compared as SHA-256 digests in constant time, so neither
//! its bytes nor its length leak through timing, and it is never logged or echoed.

use crate::metrics::{self, Rejection};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header, uri::Authority};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Who may talk to the server: Host names, browser Origins and the token.
#[derive(Debug)]
pub struct Access {
    hosts: Vec<AllowedHost>,
    any_host: bool,
    origins: Vec<AllowedOrigin>,
    any_origin: bool,
    token_digest: Option<[u8; 32]>,
    metrics_digest: Option<[u8; 32]>,
    /// `/metrics` needs no token (a loopback bind, and neither token set).
    metrics_open: bool,
}

/// The loopback names, accepted in addition to whatever list is configured: a request naming
/// them cannot come from a rebound DNS name, and health checks on the machine use them.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

#[derive(Debug, PartialEq)]
struct AllowedHost {
    name: String,
    port: Option<u16>,
}

#[derive(Debug, PartialEq)]
struct AllowedOrigin {
    /// `None` is the literal `null` origin.
    tuple: Option<(String, String)>,
    /// `None` matches any port (`:*`, or no port given).
    port: Option<u16>,
}

impl Access {
    /// `hosts` and `origins` are the configured lists; an entry `*` accepts anything.
    pub fn new(hosts: &[String], origins: &[String], token: Option<&SecretString>) -> Access {
        let loopback = LOOPBACK_HOSTS.iter().map(|h| h.to_string());
        let hosts: Vec<String> = hosts.iter().cloned().chain(loopback).collect();
        Access {
            any_host: hosts.iter().any(|h| h.trim() == "*"),
            hosts: hosts.iter().filter_map(|h| parse_allowed_host(h)).collect(),
            any_origin: origins.iter().any(|o| o.trim() == "*"),
            origins: origins
                .iter()
                .filter_map(|o| parse_allowed_origin(o))
                .collect(),
            token_digest: token.map(|t| digest(t.expose_secret().as_bytes())),
            metrics_digest: None,
            metrics_open: token.is_none(),
        }
    }

    /// Sets who may read `/metrics`: anyone only when `loopback_bind` and no token is set at all.
    pub fn with_metrics(mut self, loopback_bind: bool, token: Option<&SecretString>) -> Access {
        self.metrics_digest = token.map(|t| digest(t.expose_secret().as_bytes()));
        self.metrics_open = loopback_bind && self.token_digest.is_none() && token.is_none();
        self
    }

    fn metrics_ok(&self, headers: &HeaderMap) -> bool {
        if self.metrics_open {
            return true;
        }
        let presented = bearer(headers);
        let matches = |expected: &Option<[u8; 32]>| {
            expected
                .as_ref()
                .zip(presented)
                .is_some_and(|(expected, token)| same_digest(&digest(token.as_bytes()), expected))
        };
        matches(&self.token_digest) | matches(&self.metrics_digest)
    }

    fn host_allowed(&self, uri: &Uri, headers: &HeaderMap) -> bool {
        if self.any_host {
            return true;
        }
        let authority = match headers.get(header::HOST) {
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|h| Authority::try_from(h).ok()),
            None => uri.authority().cloned(),
        };
        let Some(authority) = authority else {
            return false;
        };
        let name = normalize(authority.host());
        let port = authority.port_u16();
        self.hosts
            .iter()
            .any(|a| a.name == name && a.port.is_none_or(|p| Some(p) == port))
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(header::ORIGIN) else {
            return true; // not a browser, or a same-origin GET: nothing to rebind
        };
        if self.any_origin {
            return true;
        }
        let Some(origin) = value.to_str().ok().and_then(parse_origin) else {
            return false;
        };
        self.origins
            .iter()
            .any(|allowed| match (&allowed.tuple, &origin.tuple) {
                (None, None) => true,
                (Some(a), Some(o)) => a == o && allowed.port.is_none_or(|p| Some(p) == origin.port),
                _ => false,
            })
    }

    fn token_ok(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token_digest else {
            return true;
        };
        let presented = bearer(headers);
        let got = digest(presented.unwrap_or("").as_bytes());
        same_digest(&got, expected) && presented.is_some()
    }
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// Constant-time comparison of two digests.
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Refuses `/metrics` with 401 unless the rule in the module docs lets the request through.
pub async fn require_metrics_token(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    if access.metrics_ok(request.headers()) {
        return next.run(request).await;
    }
    metrics::global().reject(Rejection::Unauthorized);
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "unauthorized: /metrics needs `Authorization: Bearer <SWITCHBOARD_HTTP_TOKEN or SWITCHBOARD_METRICS_TOKEN>` \
         unless the server is bound to a loopback address with no token set\n",
    )
        .into_response()
}

/// Refuses a foreign `Host` or `Origin` with 403, on every route (DNS-rebinding protection).
pub async fn check_host_origin(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    if !access.host_allowed(request.uri(), request.headers()) {
        metrics::global().reject(Rejection::Host);
        tracing::warn!("refused a request whose Host header is not allowed");
        return forbidden("Host header is not allowed; add it to SWITCHBOARD_ALLOWED_HOSTS");
    }
    if !access.origin_allowed(request.headers()) {
        metrics::global().reject(Rejection::Origin);
        tracing::warn!("refused a request whose Origin header is not allowed");
        return forbidden("Origin header is not allowed; add it to SWITCHBOARD_ALLOWED_ORIGINS");
    }
    next.run(request).await
}

/// Refuses a request without the right `Authorization: Bearer` token with 401.
pub async fn require_token(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    if access.token_ok(request.headers()) {
        return next.run(request).await;
    }
    metrics::global().reject(Rejection::Unauthorized);
    tracing::debug!(
        path = request.uri().path(),
        "refused a request without the right token"
    );
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "unauthorized: send the header `Authorization: Bearer <SWITCHBOARD_HTTP_TOKEN>`\n",
    )
        .into_response()
}

/// The 413 for a body over `max`: names the setting. Bodies are limited by
/// `tower_http::limit::RequestBodyLimitLayer` (a declared `Content-Length` over the limit before
/// any of it is read, a streamed body as it is read); this only words its answer.
pub fn too_large(max: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("payload too large: the limit is {max} bytes (SWITCHBOARD_MAX_BODY)\n"),
    )
        .into_response()
}

/// Rewords any 413 (tower-http's says only "length limit exceeded") with [`too_large`].
pub async fn explain_too_large(State(max): State<usize>, response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(max);
    }
    response
}

/// Whether a body read failed because the body limit was reached.
pub fn is_too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

fn forbidden(message: &str) -> Response {
    (StatusCode::FORBIDDEN, format!("forbidden: {message}\n")).into_response()
}

fn normalize(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// `name` or `name:port`; IPv6 as `::1` or `[::1]:8787`.
fn parse_allowed_host(entry: &str) -> Option<AllowedHost> {
    let entry = entry.trim();
    if entry.is_empty() || entry == "*" {
        return None;
    }
    if let Ok(authority) = Authority::try_from(entry) {
        return Some(AllowedHost {
            name: normalize(authority.host()),
            port: authority.port_u16(),
        });
    }
    Some(AllowedHost {
        name: normalize(entry),
        port: None,
    })
}

/// `scheme://host[:port|:*]` or `null`.
fn parse_allowed_origin(entry: &str) -> Option<AllowedOrigin> {
    let entry = entry.trim();
    if entry == "*" {
        return None;
    }
    match entry.strip_suffix(":*") {
        Some(base) => parse_origin(base).map(|o| AllowedOrigin { port: None, ..o }),
        None => parse_origin(entry),
    }
}

fn parse_origin(value: &str) -> Option<AllowedOrigin> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("null") {
        return Some(AllowedOrigin {
            tuple: None,
            port: None,
        });
    }
    let uri = Uri::try_from(value).ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    Some(AllowedOrigin {
        port: authority.port_u16().or(default_port),
        tuple: Some((scheme, normalize(authority.host()))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn access(hosts: &[&str], origins: &[&str], token: Option<&str>) -> Access {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let token = token.map(|t| SecretString::from(t.to_string()));
        Access::new(&strings(hosts), &strings(origins), token.as_ref())
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn hosts_match_by_name_and_optional_port() {
        let a = access(
            &["localhost", "127.0.0.1", "::1", "mcp.example.com:443"],
            &[],
            None,
        );
        let uri = Uri::from_static("/mcp");
        let ok = |host: &str| a.host_allowed(&uri, &headers(&[(header::HOST, host)]));
        assert!(ok("localhost:8787") && ok("LOCALHOST") && ok("127.0.0.1:1") && ok("[::1]:8787"));
        assert!(ok("mcp.example.com:443"));
        assert!(!ok("mcp.example.com:8443") && !ok("evil.com") && !ok("localhost.evil.com"));
        assert!(!a.host_allowed(&uri, &HeaderMap::new()));
        let team = access(&["mcp.example.com"], &[], None);
        let ok = |host: &str| team.host_allowed(&uri, &headers(&[(header::HOST, host)]));
        assert!(ok("mcp.example.com") && ok("127.0.0.1:8787") && ok("localhost"));
        assert!(!ok("evil.com"), "loopback names are added, nothing else");
        assert!(access(&["*"], &[], None).host_allowed(&uri, &headers(&[(header::HOST, "x")])));
    }

    #[test]
    fn origins_match_scheme_host_and_port() {
        let a = access(
            &[],
            &["http://localhost:*", "https://app.example.com", "null"],
            None,
        );
        let ok = |origin: &str| a.origin_allowed(&headers(&[(header::ORIGIN, origin)]));
        assert!(ok("http://localhost:6274") && ok("http://localhost") && ok("null"));
        assert!(ok("https://app.example.com") && ok("https://app.example.com:443"));
        assert!(!ok("https://app.example.com:8443") && !ok("http://app.example.com"));
        assert!(!ok("http://evil.com") && !ok("https://localhost:1") && !ok("garbage"));
        assert!(
            a.origin_allowed(&HeaderMap::new()),
            "no Origin is not a browser"
        );
    }

    #[test]
    fn the_token_must_match_exactly() {
        let a = access(&[], &[], Some("s3cret-token-0123456789"));
        let ok = |value: &str| a.token_ok(&headers(&[(header::AUTHORIZATION, value)]));
        assert!(ok("Bearer s3cret-token-0123456789") && ok("bearer s3cret-token-0123456789"));
        assert!(!ok("Bearer s3cret-token-012345678") && !ok("Bearer s3cret-token-01234567890"));
        assert!(!ok("Basic s3cret-token-0123456789") && !ok("s3cret-token-0123456789"));
        assert!(!ok("Bearer ") && !a.token_ok(&HeaderMap::new()));
        assert!(access(&[], &[], None).token_ok(&HeaderMap::new()));
    }

    #[test]
    fn metrics_are_open_only_on_a_loopback_bind_without_tokens() {
        let metrics_token = SecretString::from("metrics-token-0123456789".to_string());
        let bearer = |t: &str| headers(&[(header::AUTHORIZATION, &format!("Bearer {t}"))]);
        let open = access(&[], &[], None).with_metrics(true, None);
        assert!(open.metrics_ok(&HeaderMap::new()));
        let public = access(&[], &[], Some("s3cret-token-0123456789")).with_metrics(false, None);
        assert!(!public.metrics_ok(&HeaderMap::new()));
        assert!(public.metrics_ok(&bearer("s3cret-token-0123456789")));
        let both = access(&[], &[], Some("s3cret-token-0123456789"))
            .with_metrics(false, Some(&metrics_token));
        assert!(both.metrics_ok(&bearer("metrics-token-0123456789")));
        assert!(both.metrics_ok(&bearer("s3cret-token-0123456789")));
        assert!(!both.metrics_ok(&bearer("wrong-token-0123456789")));
        let loopback = access(&[], &[], None).with_metrics(true, Some(&metrics_token));
        assert!(!loopback.metrics_ok(&HeaderMap::new()));
    }
}
