//! What a JSON-RPC POST must pass before rmcp sees it: a body that is JSON (400 with a JSON-RPC
//! -32700/-32600 error otherwise; a wrong `Content-Type` still gets rmcp's 415), room for one more
//! Streamable HTTP session on `initialize` (503 + `Retry-After` past `SWITCHBOARD_MAX_SESSIONS`),
//! and an id not already used by a call in flight in the same session (rmcp routes replies by id,
//! so a duplicate would leave one of the two callers waiting forever). Standalone `GET /mcp`
//! streams are capped like legacy SSE streams (`SWITCHBOARD_MAX_SSE_STREAMS`), since each holds a
//! connection busy.

use super::guarded::Guarded;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, RequestId};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

/// Seconds a client is told to wait when every session slot (or stream slot) is taken.
const SESSIONS_RETRY_AFTER: &str = "10";

/// A POST body read whole (bounded) and parsed as one JSON-RPC message.
pub struct Parsed {
    pub message: ClientJsonRpcMessage,
    pub bytes: Bytes,
}

/// True when the request declares a JSON body (`application/json`, any parameters).
pub fn declares_json(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim())
        .is_some_and(|essence| essence.eq_ignore_ascii_case("application/json"))
}

/// How much of a body may arrive, and how long it may take (a body that trickles in would
/// otherwise hold its connection busy, where the idle-connection eviction cannot reach it).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// Reads the body within `limits` and parses it; the error is the response to send.
pub async fn read_message(body: Body, limits: BodyLimits) -> Result<Parsed, Response> {
    let bytes = match tokio::time::timeout(limits.timeout, read_bounded(body, limits.max_bytes))
        .await
    {
        Ok(read) => read?,
        Err(_) => {
            let message = format!(
                "request timeout: the body did not arrive within {} (SWITCHBOARD_HEADER_TIMEOUT)\n",
                humantime::format_duration(limits.timeout)
            );
            return Err((StatusCode::REQUEST_TIMEOUT, message).into_response());
        }
    };
    match serde_json::from_slice::<ClientJsonRpcMessage>(&bytes) {
        Ok(message) => Ok(Parsed {
            message,
            bytes: bytes.into(),
        }),
        Err(error) => Err(malformed(&bytes, &error)),
    }
}

async fn read_bounded(body: Body, max: usize) -> Result<Vec<u8>, Response> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) if super::guard::is_too_large(&error) => {
                return Err(super::guard::too_large(max));
            }
            Err(_) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "the request body could not be read\n",
                )
                    .into_response());
            }
        };
        if bytes.len() + chunk.len() > max {
            return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("payload too large: the limit is {max} bytes (SWITCHBOARD_MAX_BODY)\n"),
            )
                .into_response());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// 400 with a JSON-RPC error: -32700 when the body is not JSON, -32600 when it is JSON but not
/// one JSON-RPC message.
fn malformed(bytes: &[u8], error: &serde_json::Error) -> Response {
    if error.is_syntax() || error.is_eof() {
        let message =
            format!("parse error: the body is not JSON ({error}); send one JSON-RPC 2.0 message");
        return jsonrpc_error(StatusCode::BAD_REQUEST, Value::Null, -32700, &message);
    }
    let id = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null);
    let message = format!(
        "invalid request: the body is JSON but not a JSON-RPC 2.0 message ({error}); \
         send one object with jsonrpc \"2.0\", method and (for requests) id"
    );
    jsonrpc_error(StatusCode::BAD_REQUEST, id, -32600, &message)
}

/// A JSON-RPC error object as an `application/json` response.
pub fn jsonrpc_error(status: StatusCode, id: Value, code: i64, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// 503 with `Retry-After` and a JSON-RPC error body naming the setting.
pub fn busy(id: Value, retry_after: &'static str, message: &str) -> Response {
    let mut response = jsonrpc_error(StatusCode::SERVICE_UNAVAILABLE, id, -32000, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(retry_after));
    response
}

/// State of the `/mcp` front: the session manager (absent when stateless) and the ids in flight.
#[derive(Debug)]
pub struct McpFront {
    sessions: Option<Arc<LocalSessionManager>>,
    max_sessions: usize,
    body: BodyLimits,
    max_streams: usize,
    /// Standalone `GET /mcp` streams open.
    streams: Arc<AtomicUsize>,
    /// `initialize`s admitted but not answered yet, so a burst cannot overshoot the cap.
    opening: AtomicUsize,
    in_flight: Arc<Mutex<HashSet<(String, String)>>>,
}

impl McpFront {
    pub fn new(
        sessions: Option<Arc<LocalSessionManager>>,
        max_sessions: usize,
        body: BodyLimits,
        max_streams: usize,
    ) -> McpFront {
        McpFront {
            sessions,
            max_sessions,
            body,
            max_streams,
            streams: Arc::default(),
            opening: AtomicUsize::new(0),
            in_flight: Arc::default(),
        }
    }

    async fn session_count(&self) -> usize {
        match &self.sessions {
            Some(manager) => manager.sessions.read().await.len(),
            None => 0,
        }
    }
}

/// The `/mcp` middleware (see the module docs).
pub async fn mcp_front(
    State(front): State<Arc<McpFront>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::GET {
        return open_stream(&front, request, next).await;
    }
    if request.method() != Method::POST || !declares_json(&request) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let parsed = match read_message(body, front.body).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let session = parts
        .headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let ClientJsonRpcMessage::Request(call) = &parsed.message else {
        return next
            .run(Request::from_parts(parts, Body::from(parsed.bytes)))
            .await;
    };
    let id = call.id.clone();
    let initialize = matches!(call.request, ClientRequest::InitializeRequest(_));
    let request = Request::from_parts(parts, Body::from(parsed.bytes));
    match session {
        None if initialize && front.sessions.is_some() => {
            open_session(&front, id, request, next).await
        }
        Some(session) => call_once(&front, session, id, request, next).await,
        None => next.run(request).await,
    }
}

/// Lets a standalone `GET /mcp` stream open when a stream slot is free; the slot is held until
/// the stream's body is dropped.
async fn open_stream(front: &McpFront, request: Request, next: Next) -> Response {
    let open = front.streams.fetch_add(1, Ordering::AcqRel);
    let slot = StreamSlot(front.streams.clone());
    if open >= front.max_streams {
        tracing::debug!(open, "GET /mcp refused: every stream slot is taken");
        let message = format!(
            "server busy: {open} streams are open, the limit (SWITCHBOARD_MAX_SSE_STREAMS) is {}; \
             retry later",
            front.max_streams
        );
        return busy(Value::Null, SESSIONS_RETRY_AFTER, &message);
    }
    let response = next.run(request).await;
    response.map(|body| Guarded::wrap(body, slot))
}

/// One stream slot, given back on drop.
struct StreamSlot(Arc<AtomicUsize>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Lets an `initialize` through when a session slot is free.
async fn open_session(front: &McpFront, id: RequestId, request: Request, next: Next) -> Response {
    let opening = front.opening.fetch_add(1, Ordering::AcqRel);
    let open = front.session_count().await;
    if open + opening >= front.max_sessions {
        front.opening.fetch_sub(1, Ordering::AcqRel);
        tracing::debug!(open, "initialize refused: every session slot is taken");
        let message = format!(
            "server busy: {open} sessions are open, the limit (SWITCHBOARD_MAX_SESSIONS) is {}; \
             retry later, and end unused sessions with DELETE /mcp",
            front.max_sessions
        );
        return busy(id_value(&id), SESSIONS_RETRY_AFTER, &message);
    }
    let response = next.run(request).await;
    front.opening.fetch_sub(1, Ordering::AcqRel);
    response
}

/// Refuses a request whose id is already in flight in `session`; otherwise holds the id until its
/// reply has gone out (or its stream is dropped).
async fn call_once(
    front: &McpFront,
    session: String,
    id: RequestId,
    request: Request,
    next: Next,
) -> Response {
    let id_json = id_value(&id);
    let key = (session, id_json.to_string());
    let fresh = lock(&front.in_flight).insert(key.clone());
    if !fresh {
        let message = format!(
            "id {id_json} is already in use by a call in flight in this session; use a unique id"
        );
        return jsonrpc_error(StatusCode::OK, id_json, -32600, &message);
    }
    let held = HeldId {
        set: front.in_flight.clone(),
        key: Some(key),
        id: id_json,
    };
    let response = next.run(request).await;
    response.map(|body| Body::new(Releasing { body, held }))
}

fn id_value(id: &RequestId) -> Value {
    serde_json::to_value(id).unwrap_or(Value::Null)
}

fn lock(
    set: &Mutex<HashSet<(String, String)>>,
) -> std::sync::MutexGuard<'_, HashSet<(String, String)>> {
    set.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An id in flight; released once.
struct HeldId {
    set: Arc<Mutex<HashSet<(String, String)>>>,
    key: Option<(String, String)>,
    id: Value,
}

impl HeldId {
    fn release(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.set).remove(&key);
        }
    }

    /// True when `frame` (SSE or plain JSON) carries the reply to this id.
    fn is_reply(&self, frame: &[u8]) -> bool {
        let text = String::from_utf8_lossy(frame);
        let candidates = std::iter::once(text.trim()).chain(
            text.lines()
                .filter_map(|l| l.strip_prefix("data:").map(str::trim)),
        );
        candidates
            .filter(|c| c.starts_with('{'))
            .filter_map(|c| serde_json::from_str::<Value>(c).ok())
            .any(|v| v["id"] == self.id && (v.get("result").is_some() || v.get("error").is_some()))
    }
}

impl Drop for HeldId {
    fn drop(&mut self) {
        self.release();
    }
}

/// A reply body that frees its id as soon as the reply passes (a client may reuse the id for its
/// next call the moment it has read the reply), or when the body ends or is dropped.
struct Releasing {
    body: Body,
    held: HeldId,
}

impl HttpBody for Releasing {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let reply = frame
                    .data_ref()
                    .is_some_and(|data| self.held.key.is_some() && self.held.is_reply(data));
                if reply {
                    self.held.release();
                }
            }
            Poll::Ready(_) => self.held.release(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
