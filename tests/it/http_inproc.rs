//! The HTTP service started in process (`serve_http` on 127.0.0.1:0, no binary, no port scraping):
//! the body limit (413 with and without a `Content-Length`, with the setting named), the token,
//! and a tool call over Streamable HTTP.

use crate::http::http_server::{McpHttp, raw_status};
use crate::support::FakeOpenRouter;
use crate::support::inproc::InProcHttp;
use serde_json::json;

const TOKEN: &str = "inproc-token-0123456789abcdef";
const MODEL: &str = "openai/gpt-5-mini";

async fn server(fake: &FakeOpenRouter) -> InProcHttp {
    InProcHttp::start(
        &fake.base_url(),
        &[
            ("SWITCHBOARD_HTTP_TOKEN", TOKEN),
            ("SWITCHBOARD_MAX_BODY", "64KiB"),
        ],
    )
    .await
}

/// A POST head for `path` with the token, without its blank line.
fn head(path: &str, length: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n{length}"
    )
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_declared_or_streamed_and_under_it_work() {
    let fake = FakeOpenRouter::start().await;
    let server = server(&fake).await;
    for path in ["/mcp", "/message?sessionId=any"] {
        let declared = head(path, &format!("Content-Length: {}", 100 * 1024));
        assert_eq!(
            raw_status(&server.addr, &declared, b"").await,
            413,
            "{path}"
        );
        let mut chunked = Vec::new();
        for _ in 0..65 {
            chunked.extend_from_slice(b"400\r\n");
            chunked.extend_from_slice(&[b' '; 1024]);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let streamed = head(path, "Transfer-Encoding: chunked");
        assert_eq!(
            raw_status(&server.addr, &streamed, &chunked).await,
            413,
            "{path} chunked"
        );
    }
    // The 413 names the setting, whichever layer refused the body.
    let response = reqwest::Client::new()
        .post(server.url("/mcp"))
        .bearer_auth(TOKEN)
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .body(vec![b' '; 100 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let text = response.text().await.unwrap();
    assert!(text.contains("SWITCHBOARD_MAX_BODY"), "{text}");

    let mut client = McpHttp::new(server.url("/mcp"), Some(TOKEN));
    client.initialize().await;
    let prompt = "y".repeat(40 * 1024);
    let result = client
        .call("estimate_cost", json!({"model": MODEL, "prompt": prompt}))
        .await;
    assert_ne!(result["isError"], true, "{result}");
    server.stop().await;
}

#[tokio::test]
async fn without_the_token_mcp_gets_401_and_healthz_answers() {
    let fake = FakeOpenRouter::start().await;
    let server = server(&fake).await;
    let response = reqwest::Client::new()
        .post(server.url("/mcp"))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    server.stop().await;
}
