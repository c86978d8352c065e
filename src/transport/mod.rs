//! How the MCP server is reached. stdio today (what desktop hosts spawn).

mod stdio;

pub use stdio::serve_stdio;
