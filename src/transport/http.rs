//! MCP over HTTP: Streamable HTTP at `/mcp` (sessions, or stateless for replicas behind a load
//! balancer), legacy HTTP+SSE at `/sse` + `/message`, `GET /healthz` and `GET /metrics`. Every route
//! passes the Host/Origin check; MCP routes also need the bearer token when one is set, and
//! `/metrics` follows its own rule (see `guard`). Connections, sessions and streams are capped
//! (see `conn`, `admission`, `legacy_sse`). On shutdown it stops accepting, lets calls in flight
//! finish within the grace period, then cancels what is left.

use super::admission::{self, BodyLimits, McpFront};
use super::conn::{self, Limits};
use super::guard::{self, Access};
use super::legacy_sse;
use crate::config::HttpConfig;
use crate::{App, Switchboard, metrics};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::middleware::{from_fn_with_state, map_response_with_state};
use axum::response::IntoResponse;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;

pub const MCP_PATH: &str = "/mcp";
/// After in-flight calls end, how long their last replies get to reach the wire before sessions
/// are closed.
const SETTLE: Duration = Duration::from_millis(100);
/// After sessions are cancelled, how long open connections get to close before we stop anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// Binds `addr`, with an error that names it.
///
/// # Errors
/// When the address is in use or cannot be bound.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// Serves until `shutdown` resolves, then drains (see the module docs) and returns.
///
/// # Errors
/// When the listener fails.
pub async fn serve_http(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    crate::consult::scope::serving_http();
    let config = app.config.http.clone();
    let sessions = CancellationToken::new();
    let router = router(app, &config, sessions.clone());
    let addr = listener.local_addr()?;
    tracing::info!(
        stateless = config.stateless,
        token = config.token.is_some(),
        "listening on http://{addr}"
    );
    let stop_accepting = CancellationToken::new();
    let kill = CancellationToken::new();
    let limits = Limits {
        max_connections: config.max_connections,
        header_timeout: config.header_timeout,
    };
    // Spawned, so that the listener closes as soon as accepting stops, while we drain.
    let mut server = tokio::spawn(conn::serve(
        listener,
        router,
        limits,
        stop_accepting.clone(),
        kill.clone(),
    ));
    tokio::select! {
        result = &mut server => return result.map_err(Into::into),
        () = shutdown => {}
    }
    stop_accepting.cancel();
    drain(config.shutdown_grace).await;
    sessions.cancel();
    if tokio::time::timeout(CLOSE_TIMEOUT, &mut server)
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close; stopping anyway");
        kill.cancel();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for the tool calls in flight, at most `grace`.
async fn drain(grace: Duration) {
    let running = crate::consult::scope::in_flight().count();
    tracing::info!(
        running,
        "shutting down: no new connections; calls in flight get {}",
        humantime::format_duration(grace)
    );
    let idle = crate::consult::scope::in_flight().wait_idle();
    if tokio::time::timeout(grace, idle).await.is_ok() {
        tokio::time::sleep(SETTLE).await;
    } else {
        let left = crate::consult::scope::in_flight().count();
        tracing::warn!(
            cancelled = left,
            "grace period over; cancelling the calls still running"
        );
    }
}

/// Resolves on SIGTERM or ctrl-c (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The whole HTTP surface. `sessions` ends every MCP session and stream when cancelled.
pub fn router(app: Arc<App>, config: &HttpConfig, sessions: CancellationToken) -> Router {
    let access = Access::new(
        &config.allowed_hosts,
        &config.allowed_origins,
        config.token.as_ref(),
    )
    .with_metrics(
        config.bind.ip().is_loopback(),
        config.metrics_token.as_ref(),
    );
    let access = Arc::new(access);
    let server = Switchboard::new(app);
    let sse_limits = legacy_sse::Limits {
        max_streams: config.max_sse_streams,
        idle: config.session_idle,
        body: body_limits(config),
    };
    let mcp = streamable(server.clone(), config, &sessions)
        .merge(legacy_sse::router(server, sessions, sse_limits))
        .route_layer(from_fn_with_state(access.clone(), guard::require_token));
    let metrics = Router::new()
        .route("/metrics", get(render_metrics))
        .route_layer(from_fn_with_state(
            access.clone(),
            guard::require_metrics_token,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(metrics)
        .merge(mcp)
        .layer(from_fn_with_state(access, guard::check_host_origin))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(map_response_with_state(
            config.max_body_bytes,
            guard::explain_too_large,
        ))
}

/// rmcp's Streamable HTTP service at [`MCP_PATH`]. Host/Origin are checked by our own layer for
/// every route, so rmcp's check (which only covers `/mcp`) is turned off rather than kept twice.
fn streamable(server: Switchboard, config: &HttpConfig, sessions: &CancellationToken) -> Router {
    let rmcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(!config.stateless)
        .with_json_response(config.stateless)
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_max_request_body_bytes(config.max_body_bytes)
        .with_cancellation_token(sessions.child_token());
    // The factory runs per session (per request when stateless): clone a ready handler rather
    // than building the tool router again.
    let factory = move || Ok(server.clone());
    let (router, sessions) = if config.stateless {
        let manager = Arc::new(NeverSessionManager::default());
        let service = StreamableHttpService::new(factory, manager, rmcp_config);
        (Router::new().nest_service(MCP_PATH, service), None)
    } else {
        let mut manager = LocalSessionManager::default();
        manager.session_config.keep_alive = Some(config.session_idle);
        let manager = Arc::new(manager);
        let service = StreamableHttpService::new(factory, manager.clone(), rmcp_config);
        (Router::new().nest_service(MCP_PATH, service), Some(manager))
    };
    let front = McpFront::new(
        sessions,
        config.max_sessions,
        body_limits(config),
        config.max_sse_streams,
    );
    router.route_layer(from_fn_with_state(Arc::new(front), admission::mcp_front))
}

/// A JSON-RPC body must arrive whole, within the header timeout.
fn body_limits(config: &HttpConfig) -> BodyLimits {
    BodyLimits {
        max_bytes: config.max_body_bytes,
        timeout: config.header_timeout,
    }
}

async fn healthz() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        concat!(
            "{\"status\":\"ok\",\"version\":\"",
            env!("CARGO_PKG_VERSION"),
            "\"}\n"
        ),
    )
}

async fn render_metrics() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::global().render(),
    )
}
