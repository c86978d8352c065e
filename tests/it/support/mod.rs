//! Test helpers: the fake OpenRouter, the real server driven by a real MCP client, the library's
//! handler in process (`inproc`), the `TEST_LOG` switch (`log`), fixtures.

pub mod fake;
pub mod inproc;
pub mod log;
pub mod mcp;
pub mod redis;
pub mod scripted;

pub use fake::FakeOpenRouter;
pub use inproc::InProc;
pub use mcp::McpServer;

/// The key every test server is given; no output may ever contain it.
pub const TEST_KEY: &str = "sk-or-v1-test-7f3a9c2e51b84d6fa0c3e9d2b7a41f66";

/// The test catalog: shaped like the real `GET /models`, owned by this repository.
pub fn catalog_fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/models.json"
    ))
    .expect("tests/fixtures/models.json is readable");
    serde_json::from_str(&text).expect("the fixture catalog is JSON")
}
