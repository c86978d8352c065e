//! MCP over stdin/stdout. Returns when the host closes stdin.

use crate::{App, Switchboard};
use rmcp::ServiceExt;
use std::sync::Arc;

/// Serves until stdin reaches EOF (the host went away).
///
/// # Errors
/// When the MCP handshake fails or the transport breaks.
pub async fn serve_stdio(app: Arc<App>) -> anyhow::Result<()> {
    let running = Switchboard::new(app)
        .serve(rmcp::transport::stdio_pipes())
        .await?;
    if let Some(peer) = running.peer().peer_info() {
        let client = &peer.client_info;
        tracing::info!(
            client = %client.name,
            version = %client.version,
            protocol = %peer.protocol_version,
            "serving MCP over stdio"
        );
    }
    running.waiting().await?;
    Ok(())
}
