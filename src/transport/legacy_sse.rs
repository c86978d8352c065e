//! Legacy HTTP+SSE transport (MCP 2024-11-05) for older hosts: `GET /sse` opens an event stream
//! whose first event names `/message?sessionId=…`; the client POSTs JSON-RPC there (202) and the
//! replies come back on the stream. rmcp 3 has no SSE server, so this adapts its `Transport` trait
//! to two channels; each stream runs its own rmcp service. Streams are capped
//! (`SWITCHBOARD_MAX_SSE_STREAMS`), end after `SWITCHBOARD_SESSION_IDLE` without traffic, and
//! refuse further requests (503) while [`MAX_UNREAD`] replies wait for a reader.

use super::admission::{self, busy};
use super::conn::ConnectionCloser;
use crate::Switchboard;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt, stream};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{RoleServer, ServiceExt};
use serde_json::Value;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub const SSE_PATH: &str = "/sse";
pub const MESSAGE_PATH: &str = "/message";
/// Requests whose replies are not yet on the stream (running, or waiting for a reader), per
/// stream; past this a POSTed request gets 503.
pub const MAX_UNREAD: usize = 16;
/// Messages buffered each way per session; a POST that finds the inbox full gets 503.
const CHANNEL: usize = 64;
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const STREAMS_RETRY_AFTER: &str = "10";
const UNREAD_RETRY_AFTER: &str = "1";

/// The limits of this transport.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_streams: usize,
    pub idle: Duration,
    pub body: admission::BodyLimits,
}

/// One open stream, as POSTs see it.
#[derive(Debug)]
struct Session {
    inbox: mpsc::Sender<ClientJsonRpcMessage>,
    unread: AtomicUsize,
    /// Milliseconds since `Shared::epoch` of the last message either way.
    last_seen: AtomicU64,
    end: CancellationToken,
}

type Sessions = Arc<Mutex<HashMap<String, Arc<Session>>>>;

#[derive(Clone)]
struct Shared {
    sessions: Sessions,
    server: Switchboard,
    shutdown: CancellationToken,
    limits: Limits,
    epoch: Instant,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// The two routes, serving clones of `server`; every stream ends when `shutdown` is cancelled.
pub fn router(server: Switchboard, shutdown: CancellationToken, limits: Limits) -> Router {
    let shared = Shared {
        sessions: Sessions::default(),
        server,
        shutdown,
        limits,
        epoch: Instant::now(),
    };
    Router::new()
        .route(SSE_PATH, get(open_stream))
        .route(MESSAGE_PATH, post(post_message))
        .with_state(shared)
}

/// The rmcp side of one stream: what the service sends goes to the SSE stream, what clients
/// POST comes in.
struct ChannelTransport {
    to_client: mpsc::Sender<ServerJsonRpcMessage>,
    from_client: mpsc::Receiver<ClientJsonRpcMessage>,
}

impl Transport<RoleServer> for ChannelTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let to_client = self.to_client.clone();
        async move {
            to_client
                .send(item)
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ClientJsonRpcMessage>> + Send {
        self.from_client.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.from_client.close();
        Ok(())
    }
}

/// Removes the session when its stream is dropped, and ends its service.
struct SessionGuard(Sessions, String, CancellationToken);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        lock(&self.0).remove(&self.1);
        self.2.cancel();
    }
}

fn lock(sessions: &Sessions) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
    sessions.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn open_stream(State(shared): State<Shared>, request: Request) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (in_tx, in_rx) = mpsc::channel(CHANNEL);
    let (out_tx, out_rx) = mpsc::channel(CHANNEL);
    let session = Arc::new(Session {
        inbox: in_tx,
        unread: AtomicUsize::new(0),
        last_seen: AtomicU64::new(shared.now_ms()),
        end: shared.shutdown.child_token(),
    });
    {
        let mut sessions = lock(&shared.sessions);
        if sessions.len() >= shared.limits.max_streams {
            let message = format!(
                "server busy: {} SSE streams are open, the limit (SWITCHBOARD_MAX_SSE_STREAMS); \
                 retry later or use Streamable HTTP at /mcp",
                sessions.len()
            );
            return busy(Value::Null, STREAMS_RETRY_AFTER, &message);
        }
        sessions.insert(id.clone(), session.clone());
    }
    let closer = request.extensions().get::<ConnectionCloser>().cloned();
    tokio::spawn(expire_when_idle(
        shared.clone(),
        id.clone(),
        session.clone(),
        closer,
    ));
    let transport = ChannelTransport {
        to_client: out_tx,
        from_client: in_rx,
    };
    let service_ct = session.end.clone();
    let server = shared.server.clone();
    tokio::spawn(async move {
        match server.serve_with_ct(transport, service_ct).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(error) => tracing::debug!(%error, "legacy SSE session ended before initialize"),
        }
    });
    let guard = SessionGuard(shared.sessions.clone(), id.clone(), session.end.clone());
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("{MESSAGE_PATH}?sessionId={id}"));
    let end = session.end.clone().cancelled_owned();
    Sse::new(events(endpoint, out_rx, guard, session, shared).take_until(end))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// Ends the stream (and closes its connection, which a client that never reads would otherwise
/// hold) once nothing has passed either way for the idle time and no reply is pending.
async fn expire_when_idle(
    shared: Shared,
    id: String,
    session: Arc<Session>,
    closer: Option<ConnectionCloser>,
) {
    let idle = shared.limits.idle;
    let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
    loop {
        let seen = session.last_seen.load(Ordering::Acquire);
        let due = shared.epoch + Duration::from_millis(seen.saturating_add(idle_ms));
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            () = session.end.cancelled() => return,
        }
        let quiet = shared
            .now_ms()
            .saturating_sub(session.last_seen.load(Ordering::Acquire));
        if quiet >= idle_ms && session.unread.load(Ordering::Acquire) == 0 {
            break;
        }
        if quiet >= idle_ms {
            // A call is still running: look again after another idle period.
            session.last_seen.store(shared.now_ms(), Ordering::Release);
        }
    }
    tracing::debug!(
        "legacy SSE stream idle for {}; closing it",
        humantime::format_duration(idle)
    );
    lock(&shared.sessions).remove(&id);
    session.end.cancel();
    if let Some(closer) = closer {
        closer.close();
    }
}

fn events(
    endpoint: Event,
    out_rx: mpsc::Receiver<ServerJsonRpcMessage>,
    guard: SessionGuard,
    session: Arc<Session>,
    shared: Shared,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let state = (out_rx, guard, session, shared);
    let messages = stream::unfold(state, |(mut rx, guard, session, shared)| async move {
        let message = rx.recv().await?;
        if matches!(
            message,
            ServerJsonRpcMessage::Response(_) | ServerJsonRpcMessage::Error(_)
        ) {
            let _ = session
                .unread
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        }
        session.last_seen.store(shared.now_ms(), Ordering::Release);
        let data = serde_json::to_string(&message).unwrap_or_default();
        Some((
            Ok(Event::default().event("message").data(data)),
            (rx, guard, session, shared),
        ))
    });
    stream::once(async move { Ok(endpoint) }).chain(messages)
}

#[derive(serde::Deserialize)]
struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

async fn post_message(
    State(shared): State<Shared>,
    Query(query): Query<SessionQuery>,
    request: Request,
) -> Response {
    if !admission::declares_json(&request) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type: send the message with Content-Type: application/json\n",
        )
            .into_response();
    }
    let message = match admission::read_message(request.into_body(), shared.limits.body).await {
        Ok(parsed) => parsed.message,
        Err(response) => return response,
    };
    let Some(session) = lock(&shared.sessions).get(&query.session_id).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            "unknown session: open GET /sse first\n",
        )
            .into_response();
    };
    deliver(&shared, &session, message)
}

/// Hands a message to the stream's service without waiting: 503 when the client is not reading
/// its replies, 410 when the stream has ended.
fn deliver(shared: &Shared, session: &Session, message: ClientJsonRpcMessage) -> Response {
    let request = matches!(message, ClientJsonRpcMessage::Request(_));
    if request && session.unread.fetch_add(1, Ordering::AcqRel) >= MAX_UNREAD {
        session.unread.fetch_sub(1, Ordering::AcqRel);
        return not_reading();
    }
    match session.inbox.try_send(message) {
        Ok(()) => {
            session.last_seen.store(shared.now_ms(), Ordering::Release);
            StatusCode::ACCEPTED.into_response()
        }
        Err(error) => {
            if request {
                session.unread.fetch_sub(1, Ordering::AcqRel);
            }
            match error {
                mpsc::error::TrySendError::Full(_) => not_reading(),
                mpsc::error::TrySendError::Closed(_) => {
                    (StatusCode::GONE, "session closed: open GET /sse again\n").into_response()
                }
            }
        }
    }
}

fn not_reading() -> Response {
    let message = format!(
        "server busy: {MAX_UNREAD} replies on this session's SSE stream are not read yet; \
         read the stream (GET /sse), then retry"
    );
    busy(Value::Null, UNREAD_RETRY_AFTER, &message)
}
