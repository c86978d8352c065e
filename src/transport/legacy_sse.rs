//! Legacy HTTP+SSE transport (MCP 2024-11-05) for older hosts: `GET /sse` opens an event stream
//! whose first event names `/message?sessionId=…`; the client POSTs JSON-RPC there (202) and the
//! replies come back on the stream. rmcp 3 has no SSE server, so this adapts its `Transport` trait
//! to two channels; each stream runs its own rmcp service.

use crate::Switchboard;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt, stream};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{RoleServer, ServiceExt};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const SSE_PATH: &str = "/sse";
pub const MESSAGE_PATH: &str = "/message";
/// Open streams at once; more get 503 rather than unbounded memory.
const MAX_SESSIONS: usize = 1024;
/// Messages buffered each way per session before the sender waits.
const CHANNEL: usize = 64;
const KEEP_ALIVE: Duration = Duration::from_secs(15);

type Sessions = Arc<Mutex<HashMap<String, mpsc::Sender<ClientJsonRpcMessage>>>>;

#[derive(Clone)]
struct Shared {
    sessions: Sessions,
    server: Switchboard,
    shutdown: CancellationToken,
}

/// The two routes, serving clones of `server`; every stream ends when `shutdown` is cancelled.
/// A POSTed message over `max_body` bytes gets 413.
pub fn router(server: Switchboard, shutdown: CancellationToken, max_body: usize) -> Router {
    let shared = Shared {
        sessions: Sessions::default(),
        server,
        shutdown,
    };
    Router::new()
        .route(SSE_PATH, get(open_stream))
        .route(
            MESSAGE_PATH,
            post(post_message).layer(DefaultBodyLimit::max(max_body)),
        )
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

/// Removes the session when its stream is dropped, which ends the service (its inbox closes).
struct SessionGuard(Sessions, String);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        lock(&self.0).remove(&self.1);
    }
}

fn lock(
    sessions: &Sessions,
) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<ClientJsonRpcMessage>>> {
    sessions.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn open_stream(State(shared): State<Shared>) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (in_tx, in_rx) = mpsc::channel(CHANNEL);
    let (out_tx, out_rx) = mpsc::channel(CHANNEL);
    {
        let mut sessions = lock(&shared.sessions);
        if sessions.len() >= MAX_SESSIONS {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many open SSE sessions\n",
            )
                .into_response();
        }
        sessions.insert(id.clone(), in_tx);
    }
    let transport = ChannelTransport {
        to_client: out_tx,
        from_client: in_rx,
    };
    let service_ct = shared.shutdown.child_token();
    let server = shared.server.clone();
    tokio::spawn(async move {
        match server.serve_with_ct(transport, service_ct).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(error) => tracing::debug!(%error, "legacy SSE session ended before initialize"),
        }
    });
    let guard = SessionGuard(shared.sessions.clone(), id.clone());
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("{MESSAGE_PATH}?sessionId={id}"));
    Sse::new(events(endpoint, out_rx, guard).take_until(shared.shutdown.cancelled_owned()))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

fn events(
    endpoint: Event,
    out_rx: mpsc::Receiver<ServerJsonRpcMessage>,
    guard: SessionGuard,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let messages = stream::unfold((out_rx, guard), |(mut rx, guard)| async move {
        let message = rx.recv().await?;
        let data = serde_json::to_string(&message).unwrap_or_default();
        Some((
            Ok(Event::default().event("message").data(data)),
            (rx, guard),
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
    body: Bytes,
) -> Response {
    let Some(inbox) = lock(&shared.sessions).get(&query.session_id).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            "unknown session: open GET /sse first\n",
        )
            .into_response();
    };
    let message = match serde_json::from_slice::<ClientJsonRpcMessage>(&body) {
        Ok(message) => message,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not a JSON-RPC message: {error}\n"),
            )
                .into_response();
        }
    };
    if inbox.send(message).await.is_err() {
        return (StatusCode::GONE, "session closed\n").into_response();
    }
    StatusCode::ACCEPTED.into_response()
}
