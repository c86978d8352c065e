//! How the MCP server is reached: stdio (what desktop hosts spawn) and HTTP (Streamable HTTP,
//! legacy HTTP+SSE, health and metrics), with the HTTP front door's checks in `guard`.

mod admission;
mod conn;
mod guard;
mod guarded;
pub mod http;
mod legacy_sse;
mod stdio;

pub use http::serve_http;
pub use stdio::serve_stdio;
