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
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// This upstream refused `max_tokens` by name (OpenAI's reasoning models do), so the limit is
    /// sent as `max_completion_tokens`. Learnt from a 400, kept for the life of the process.
    completion_tokens_name: AtomicBool,
}

/// The names an upstream may want for the answer's token limit.
const TOKEN_LIMIT_NAMES: [&str; 2] = ["max_tokens", "max_completion_tokens"];

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
            completion_tokens_name: AtomicBool::new(false),
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

    /// `GET /models`: the catalog, with the key masked if it echoes it. OpenRouter's needs no key,
    /// but it is sent when set: a gateway (LiteLLM with a master key) answers nothing without it.
    pub async fn list_models(&self, timeout: Duration) -> Result<ModelsResponse, Error> {
        let fetch = async {
            let mut request = self.http().get(self.url("/models")).timeout(timeout);
            if let Some(key) = &self.inner.key {
                request = request.bearer_auth(key.expose_secret());
            }
            let response = send(request).await?;
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

    /// Sends the request with the token-limit name this upstream takes. A 400 that refuses that
    /// name is retried once with the other one, which is then used for every later request.
    async fn chat_unredacted(
        &self,
        request: &ChatRequest,
        on_progress: &mut (dyn FnMut(&Accumulator) + Send),
    ) -> Result<Completion, Error> {
        let completion_name = self.inner.completion_tokens_name.load(Ordering::Relaxed);
        let refused = TOKEN_LIMIT_NAMES[usize::from(completion_name)];
        match self.chat_once(request, completion_name, on_progress).await {
            Err(error) if error.refuses_param(refused) => {
                let other = !completion_name;
                tracing::info!(
                    refused,
                    using = TOKEN_LIMIT_NAMES[usize::from(other)],
                    "upstream refused the token limit's name; retrying with the other name"
                );
                self.inner
                    .completion_tokens_name
                    .store(other, Ordering::Relaxed);
                self.chat_once(request, other, on_progress).await
            }
            result => result,
        }
    }

    async fn chat_once(
        &self,
        request: &ChatRequest,
        completion_name: bool,
        on_progress: &mut (dyn FnMut(&Accumulator) + Send),
    ) -> Result<Completion, Error> {
        let builder = self.authorized(self.http().post(self.url("/chat/completions")))?;
        let body = wire_body(request, completion_name)?;
        let stall = self.inner.stall_timeout;
        let response = tokio::time::timeout(stall, send(builder.json(&body)))
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

/// The JSON sent for `request`. A stream asks for usage (`stream_options.include_usage`):
/// OpenAI-compatible servers send token counts on a stream only when asked, and OpenRouter
/// ignores the flag. `completion_name` sends the limit as `max_completion_tokens`.
fn wire_body(request: &ChatRequest, completion_name: bool) -> Result<serde_json::Value, Error> {
    let mut body = serde_json::to_value(request).map_err(Error::decode)?;
    let Some(fields) = body.as_object_mut() else {
        return Ok(body);
    };
    if request.stream {
        let options = serde_json::json!({ "include_usage": true });
        fields.insert("stream_options".into(), options);
    }
    if completion_name && let Some(limit) = fields.remove("max_tokens") {
        fields.insert("max_completion_tokens".into(), limit);
    }
    Ok(body)
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

    fn request(stream: bool) -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
            models: None,
            messages: vec![types::ChatMessage::new(types::Role::User, "hi")],
            max_tokens: 64,
            temperature: None,
            stream,
            ..ChatRequest::default()
        }
    }

    #[test]
    fn a_stream_asks_for_usage_and_the_limit_takes_the_name_upstream_wants() {
        let body = wire_body(&request(true), false).unwrap();
        assert_eq!(
            body["stream_options"],
            serde_json::json!({"include_usage": true})
        );
        assert_eq!(body["max_tokens"], 64);
        let body = wire_body(&request(true), true).unwrap();
        assert_eq!(body["max_completion_tokens"], 64);
        assert!(body.get("max_tokens").is_none());
        let body = wire_body(&request(false), false).unwrap();
        assert!(body.get("stream_options").is_none(), "only streams take it");
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
