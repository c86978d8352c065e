//! The TCP front door: accepts connections under `SWITCHBOARD_MAX_CONNECTIONS` and serves HTTP/1.1
//! on each with hyper, with a header-read timeout (which also bounds how long a keep-alive
//! connection may sit idle). At the cap, the connection idle the longest (no request in progress,
//! such as one that sent half a request) is closed to make room; when every connection is busy,
//! the new one gets a quick 503 with `Retry-After` and is closed, so no socket is held for it.

use super::guarded::Guarded;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Refusals being written at once; past this a refused socket is simply closed.
const MAX_REFUSALS: usize = 64;
/// How long a refused connection gets to send its request head before the 503 goes out.
const REFUSAL_READ: Duration = Duration::from_millis(200);
/// Kernel send buffer per connection (Linux doubles it). Left to autotuning it grows to megabytes,
/// so a client that never reads its SSE stream could make the server produce that much before
/// the stream pushes back and [`super::legacy_sse::MAX_UNREAD`] refuses more work.
const SEND_BUFFER: usize = 64 * 1024;
const BUSY_REPLY: &str =
    "server busy: too many open connections (SWITCHBOARD_MAX_CONNECTIONS); retry shortly\n";

/// How many connections, and how long one may take to send its headers.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// Lets a handler close the connection it is served on (an SSE stream that expired).
#[derive(Debug, Clone)]
pub struct ConnectionCloser(CancellationToken);

impl ConnectionCloser {
    pub fn close(&self) {
        self.0.cancel();
    }
}

/// One open connection: requests in progress, when it last finished one, how to close it.
#[derive(Debug)]
struct Slot {
    busy: AtomicUsize,
    idle_since_ms: AtomicU64,
    close: CancellationToken,
}

/// Every open connection, by accept number.
#[derive(Debug)]
struct Registry {
    slots: Mutex<HashMap<u64, Arc<Slot>>>,
    max: usize,
    epoch: Instant,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Registers connection `id`, closing the longest-idle one if at the cap; `None` when every
    /// connection is busy.
    fn admit(&self, id: u64) -> Option<Arc<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots.len() >= self.max {
            let victim = slots
                .iter()
                .filter(|(_, s)| s.busy.load(Ordering::Acquire) == 0)
                .min_by_key(|(id, s)| (s.idle_since_ms.load(Ordering::Acquire), **id))
                .map(|(id, _)| *id)?;
            if let Some(slot) = slots.remove(&victim) {
                slot.close.cancel();
            }
        }
        let slot = Arc::new(Slot {
            busy: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(self.now_ms()),
            close: CancellationToken::new(),
        });
        slots.insert(id, slot.clone());
        Some(slot)
    }

    fn release(&self, id: u64) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }
}

/// Accepts until `stop` is cancelled, then drops the listener (new connections are refused),
/// asks every connection to finish its current response and close, and waits until all have.
/// Cancelling `kill` drops the connections that are left.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: CancellationToken,
    kill: CancellationToken,
) {
    let registry = Arc::new(Registry {
        slots: Mutex::default(),
        max: limits.max_connections,
        epoch: Instant::now(),
    });
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    let mut next_id = 0u64;
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors, or the peer left already: back off briefly.
                    tracing::debug!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        next_id += 1;
        tune(&tcp);
        let Some(slot) = registry.admit(next_id) else {
            refuse(tcp, &refusals);
            continue;
        };
        let connection = Connection {
            id: next_id,
            slot,
            registry: registry.clone(),
            router: router.clone(),
            limits,
            stop: stop.clone(),
            kill: kill.clone(),
            _alive: alive.clone(),
        };
        tokio::spawn(connection.run(tcp));
    }
    drop(listener);
    drop(alive);
    let _ = all_closed.recv().await;
}

/// TCP_NODELAY (SSE replies go out in several small writes; with Nagle's algorithm each would
/// wait for the client's delayed ACK, about 40 ms per call) and a bounded send buffer.
fn tune(tcp: &TcpStream) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY");
    }
    if let Err(error) = socket2::SockRef::from(tcp).set_send_buffer_size(SEND_BUFFER) {
        tracing::debug!(%error, "cannot set SO_SNDBUF");
    }
}

/// Answers 503 + `Retry-After` without holding the socket for long.
fn refuse(mut tcp: TcpStream, refusals: &Arc<Semaphore>) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return; // dropping closes it
    };
    tracing::debug!("connection refused: every connection is busy");
    tokio::spawn(async move {
        let _permit = permit;
        let mut head = [0u8; 4096];
        let _ = tokio::time::timeout(REFUSAL_READ, tcp.read(&mut head)).await;
        let reply = format!(
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{BUSY_REPLY}",
            BUSY_REPLY.len()
        );
        let write = async {
            tcp.write_all(reply.as_bytes()).await?;
            tcp.shutdown().await
        };
        let _ = tokio::time::timeout(REFUSAL_READ, write).await;
    });
}

struct Connection {
    id: u64,
    slot: Arc<Slot>,
    registry: Arc<Registry>,
    router: Router,
    limits: Limits,
    stop: CancellationToken,
    kill: CancellationToken,
    _alive: mpsc::Sender<()>,
}

impl Connection {
    async fn run(self, tcp: TcpStream) {
        let slot = self.slot.clone();
        let registry = self.registry.clone();
        let router = self.router.clone();
        let closer = ConnectionCloser(slot.close.clone());
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let busy = Busy::start(slot.clone(), registry.clone());
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(closer.clone());
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await?;
                Ok::<_, Infallible>(response.map(|body| Guarded::wrap(body, busy)))
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout);
        let conn = builder.serve_connection(TokioIo::new(tcp), service);
        tokio::pin!(conn);
        tokio::select! {
            result = conn.as_mut() => log_end(result),
            () = self.slot.close.cancelled() => {}
            () = self.stop.cancelled() => {
                conn.as_mut().graceful_shutdown();
                tokio::select! {
                    result = conn.as_mut() => log_end(result),
                    () = self.kill.cancelled() => {}
                    () = self.slot.close.cancelled() => {}
                }
            }
        }
        self.registry.release(self.id);
    }
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Marks the connection busy from the request's arrival until its response body is done.
struct Busy {
    slot: Arc<Slot>,
    registry: Arc<Registry>,
}

impl Busy {
    fn start(slot: Arc<Slot>, registry: Arc<Registry>) -> Busy {
        slot.busy.fetch_add(1, Ordering::AcqRel);
        Busy { slot, registry }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.slot
            .idle_since_ms
            .store(self.registry.now_ms(), Ordering::Release);
        self.slot.busy.fetch_sub(1, Ordering::AcqRel);
    }
}
