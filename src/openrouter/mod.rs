//! The OpenRouter HTTP client: the only place that builds URLs and headers. One shared
//! `reqwest::Client`, built on first use so that start-up stays instant.

pub mod completion;
pub mod error;
pub mod sse;
pub mod types;

pub use completion::{Accumulator, Completion};
pub use error::Error;

use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use sse::SseDecoder;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use types::{ChatChunk, ChatRequest, KeyInfo, KeyResponse, ModelsResponse};

/// Attribution headers OpenRouter uses to credit the app.
const REFERER: &str = "https://github.com/openrouter-switchboard/openrouter-switchboard";
const TITLE: &str = "openrouter-switchboard";
/// Upper bound on an error body we read, in bytes.
const MAX_ERROR_BODY: usize = 16 * 1024;

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
        };
        Self {
            inner: Arc::new(inner),
        }
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

    /// `GET /models`: the public catalog (no key needed).
    pub async fn list_models(&self, timeout: Duration) -> Result<ModelsResponse, Error> {
        let fetch = async {
            let response = send(self.http().get(self.url("/models")).timeout(timeout)).await?;
            response
                .json()
                .await
                .map_err(|e| Error::Decode(e.to_string()))
        };
        fetch.await.map_err(|e| e.redacted(self.key_text()))
    }

    /// `GET /key`: the key's limit and usage.
    pub async fn key_info(&self, timeout: Duration) -> Result<KeyInfo, Error> {
        let fetch = async {
            let response =
                send(self.authorized(self.http().get(self.url("/key")).timeout(timeout))?).await?;
            let body: KeyResponse = response
                .json()
                .await
                .map_err(|e| Error::Decode(e.to_string()))?;
            Ok(body.data)
        };
        fetch.await.map_err(|e: Error| e.redacted(self.key_text()))
    }

    /// `POST /chat/completions`. Reads an SSE stream when the server sends one (always, when
    /// `request.stream` is set and the server honours it), else one JSON body. `on_progress` is
    /// called as streamed text arrives.
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
        if is_stream {
            read_stream(response, stall, on_progress).await
        } else {
            tokio::time::timeout(stall, read_body(response))
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

async fn read_body(response: reqwest::Response) -> Result<Completion, Error> {
    let chunk: ChatChunk = response
        .json()
        .await
        .map_err(|e| Error::Decode(e.to_string()))?;
    let mut acc = Accumulator::default();
    acc.push_chunk(chunk)?;
    acc.finish()
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

async fn read_stream(
    response: reqwest::Response,
    stall: Duration,
    on_progress: &mut (dyn FnMut(&Accumulator) + Send),
) -> Result<Completion, Error> {
    let mut decoder = SseDecoder::default();
    let mut acc = Accumulator::default();
    let mut body = response.bytes_stream();
    while !acc.is_done() {
        let next = tokio::time::timeout(stall, body.next())
            .await
            .map_err(|_| stalled(stall, acc.chars()))?;
        let Some(bytes) = next else { break };
        let bytes = bytes.map_err(|e| Error::MidStream {
            code: None,
            message: format!("connection lost: {}", error::truncate(&e.to_string())),
            received_chars: acc.chars(),
        })?;
        for event in decoder.feed(&bytes) {
            acc.push_event(&event)?;
        }
        on_progress(&acc);
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
