//! The OpenRouter HTTP client: the only place that builds URLs and headers. One shared
//! `reqwest::Client`, built on first use so that start-up stays instant.

pub mod completion;
pub mod error;
pub mod redact;
pub mod sse;
pub mod types;

pub use completion::{Accumulator, Completion, DEFAULT_MAX_ANSWER_BYTES};
pub use error::Error;

use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use sse::SseDecoder;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;
use types::{ChatChunk, ChatRequest, KeyInfo, KeyResponse, ModelsResponse};

/// Attribution headers OpenRouter uses to credit the app.
const REFERER: &str = "https://github.com/openrouter-switchboard/openrouter-switchboard";
const TITLE: &str = "openrouter-switchboard";
/// Upper bound on an error body we read, in bytes.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// Upper bound on the `GET /models` body (the real catalog is about 1 MB).
const MAX_CATALOG_BODY: usize = 64 * 1024 * 1024;
/// Upper bound on the `GET /key` body.
const MAX_KEY_BODY: usize = 64 * 1024;
/// Slack over the answer limit allowed for the JSON around the text of one body or one event.
const ENVELOPE_SLACK: usize = 64 * 1024;
/// Streamed progress is reported at most this often (the MCP side throttles further).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// A cheap-to-clone handle on the shared client.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: OnceLock<reqwest::Client>,
    base_url: String,
    key: Option<SecretString>,
    connect_timeout: Duration,
    stall_timeout: Duration,
    max_answer_bytes: usize,
}

impl Client {
    /// `base_url` is the API root such as `https://openrouter.ai/api/v1`. A chat attempt fails as
    /// timed out when upstream sends nothing (not even a keep-alive comment) for `stall_timeout`.
    pub fn new(
        base_url: &str,
        key: Option<SecretString>,
        connect_timeout: Duration,
        stall_timeout: Duration,
    ) -> Self {
        let inner = Inner {
            http: OnceLock::new(),
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            connect_timeout,
            stall_timeout,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Answers longer than `bytes` of text fail (`SWITCHBOARD_MAX_ANSWER_BYTES`). Call before the
    /// handle is cloned.
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.max_answer_bytes = bytes.max(1);
        }
        self
    }

    pub fn has_key(&self) -> bool {
        self.inner.key.is_some()
    }

    /// The key, for redacting it from any text that leaves the process.
    pub fn key_text(&self) -> Option<&str> {
        self.inner.key.as_ref().map(|k| k.expose_secret())
    }

    fn http(&self) -> &reqwest::Client {
        self.inner.http.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(self.inner.connect_timeout)
                .default_headers(attribution_headers())
                .tcp_nodelay(true)
                .build()
                .unwrap_or_default()
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base_url)
    }

    fn authorized(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let key = self.inner.key.as_ref().ok_or(Error::MissingKey)?;
        Ok(builder.bearer_auth(key.expose_secret()))
    }

    /// `GET /models`: the public catalog (no key needed), with the key masked if it echoes it.
    pub async fn list_models(&self, timeout: Duration) -> Result<ModelsResponse, Error> {
        let fetch = async {
            let response = send(self.http().get(self.url("/models")).timeout(timeout)).await?;
            let body = read_capped(
                response,
                MAX_CATALOG_BODY,
                oversized("GET /models", MAX_CATALOG_BODY),
            )
            .await?;
            let body = self.redacted_json(body);
            serde_json::from_slice(&body).map_err(Error::decode)
        };
        fetch.await.map_err(|e| e.redacted(self.key_text()))
    }

    /// A JSON body with the key masked wherever it is written, even escaped: the mask holds no
    /// quote or backslash, so the JSON stays valid and no parsed string can carry the key.
    fn redacted_json(&self, body: Vec<u8>) -> Vec<u8> {
        match (self.key_text(), String::from_utf8(body)) {
            (Some(key), Ok(text)) if !key.is_empty() => redact::redact(&text, key).into_bytes(),
            (_, Ok(text)) => text.into_bytes(),
            (_, Err(not_utf8)) => not_utf8.into_bytes(),
        }
    }

    /// `GET /key`: the key's limit and usage.
    pub async fn key_info(&self, timeout: Duration) -> Result<KeyInfo, Error> {
        let fetch = async {
            let response =
                send(self.authorized(self.http().get(self.url("/key")).timeout(timeout))?).await?;
            let body =
                read_capped(response, MAX_KEY_BODY, oversized("GET /key", MAX_KEY_BODY)).await?;
            let body: KeyResponse = serde_json::from_slice(&body).map_err(Error::decode)?;
            Ok(body.data)
        };
        fetch.await.map_err(|e: Error| e.redacted(self.key_text()))
    }

    /// `POST /chat/completions`. Reads an SSE stream when the server sends one (always, when
    /// `request.stream` is set and the server honours it), else one JSON body, either way at most
    /// the answer limit. `on_progress` is called as streamed text arrives, at most every 100 ms.
    /// Every string of the answer or error is redacted.
    pub async fn chat(
        &self,
        request: &ChatRequest,
        on_progress: &mut (dyn FnMut(&Accumulator) + Send),
    ) -> Result<Completion, Error> {
        let key = self.key_text();
        match self.chat_unredacted(request, on_progress).await {
            Ok(completion) => Ok(completion.redacted(key)),
            Err(error) => Err(error.redacted(key)),
        }
    }

    async fn chat_unredacted(
        &self,
        request: &ChatRequest,
        on_progress: &mut (dyn FnMut(&Accumulator) + Send),
    ) -> Result<Completion, Error> {
        let builder = self.authorized(self.http().post(self.url("/chat/completions")))?;
        let stall = self.inner.stall_timeout;
        let response = tokio::time::timeout(stall, send(builder.json(request)))
            .await
            .map_err(|_| stalled(stall, 0))??;
        let is_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let limit = self.inner.max_answer_bytes;
        if is_stream {
            read_stream(response, stall, limit, on_progress).await
        } else {
            tokio::time::timeout(stall, read_body(response, limit))
                .await
                .map_err(|_| stalled(stall, 0))?
        }
    }
}

fn attribution_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("HTTP-Referer", HeaderValue::from_static(REFERER));
    headers.insert("X-Title", HeaderValue::from_static(TITLE));
    headers.insert("X-OpenRouter-Title", HeaderValue::from_static(TITLE));
    headers
}

/// Sends a request and turns an error status into [`Error::Api`].
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
    let response = request.send().await.map_err(Error::transport)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = retry_after(response.headers());
    let body = read_limited(response).await;
    Err(Error::from_response(status.as_u16(), &body, retry_after))
}

/// `Retry-After` as a wait: seconds or an HTTP date, absurd values capped (see
/// [`crate::router::retry::parse_retry_after`]).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    crate::router::retry::parse_retry_after(value, std::time::SystemTime::now())
}

async fn read_limited(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// How many bytes of JSON may carry an answer of `limit` bytes of text.
fn envelope(limit: usize) -> usize {
    limit.saturating_mul(2).saturating_add(ENVELOPE_SLACK)
}

/// A whole body, read in chunks and refused with `over()` as soon as it passes `cap` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    over: impl FnOnce() -> Error,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(lost(0))? {
        if body.len() + chunk.len() > cap {
            return Err(over());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error for a `GET` body over `cap` bytes.
fn oversized(what: &'static str, cap: usize) -> impl FnOnce() -> Error {
    move || {
        Error::bad_answer(format!(
            "the {what} response is over {cap} bytes; check OPENROUTER_BASE_URL"
        ))
    }
}

/// One JSON body, refused as soon as it passes the answer's envelope.
async fn read_body(response: reqwest::Response, limit: usize) -> Result<Completion, Error> {
    let body = read_capped(response, envelope(limit), || completion::too_large(limit)).await?;
    let chunk: ChatChunk = serde_json::from_slice(&body).map_err(Error::decode)?;
    drop(body);
    let mut acc = Accumulator::new(limit);
    acc.push_chunk(chunk)?;
    acc.finish()
}

/// The error for a connection that failed while the body was being read.
fn lost(received_chars: usize) -> impl FnOnce(reqwest::Error) -> Error {
    move |e| Error::MidStream {
        code: None,
        message: format!("connection lost: {e}"),
        received_chars,
    }
}

/// The error for an upstream that went silent for longer than the stall timeout.
fn stalled(stall: Duration, received_chars: usize) -> Error {
    let detail = format!(
        "upstream sent nothing for {}",
        humantime::format_duration(stall)
    );
    if received_chars == 0 {
        Error::Transport {
            kind: error::TransportKind::Timeout,
            detail,
        }
    } else {
        Error::MidStream {
            code: None,
            message: detail,
            received_chars,
        }
    }
}

/// Reads the stream until `[DONE]`, refusing an answer (or one event) past the limit. Each read
/// costs time in its own size only; progress is reported at most every [`PROGRESS_EVERY`].
async fn read_stream(
    response: reqwest::Response,
    stall: Duration,
    limit: usize,
    on_progress: &mut (dyn FnMut(&Accumulator) + Send),
) -> Result<Completion, Error> {
    let mut decoder = SseDecoder::new(envelope(limit));
    let mut acc = Accumulator::new(limit);
    let mut body = response.bytes_stream();
    let mut reported: Option<(Instant, usize)> = None;
    while !acc.is_done() {
        let next = tokio::time::timeout(stall, body.next())
            .await
            .map_err(|_| stalled(stall, acc.chars()))?;
        let Some(bytes) = next else { break };
        let bytes = bytes.map_err(lost(acc.chars()))?;
        let events = decoder
            .feed(&bytes)
            .map_err(|_| completion::too_large(limit))?;
        for event in events {
            acc.push_event(&event)?;
        }
        let due = reported
            .is_none_or(|(at, chars)| chars != acc.chars() && at.elapsed() >= PROGRESS_EVERY);
        if due {
            on_progress(&acc);
            reported = Some((Instant::now(), acc.chars()));
        }
    }
    if let Some(event) = decoder.finish() {
        acc.push_event(&event)?;
    }
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let client = Client::new(
            "http://x",
            Some("sk-or-v1-secret".to_string().into()),
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
        assert!(!format!("{client:?}").contains("sk-or-v1-secret"));
    }
}
