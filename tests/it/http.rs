//! `openrouter-switchboard http`: the real binary on 127.0.0.1, driven over real HTTP. The token,
//! the Host/Origin checks on `/mcp` and `/sse`, the refusal to expose itself without a token, the
//! body limit, `/metrics`, the stateless and legacy SSE modes, and graceful shutdown.

#[path = "support/http_server.rs"]
pub mod http_server;

use crate::support::FakeOpenRouter;
use crate::support::scripted::{Behaviour, ScriptedUpstream};
use http_server::{McpHttp, TOKEN, free_of_secrets, initialize_params, reply_with_id, start};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MODEL: &str = "openai/gpt-5-mini";

fn with_token() -> [(&'static str, &'static str); 1] {
    [("SWITCHBOARD_HTTP_TOKEN", TOKEN)]
}

fn init_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params()})
}

#[tokio::test]
async fn no_token_or_a_wrong_token_gets_401_on_every_mcp_route() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &[], &with_token()).await;
    let http = reqwest::Client::new();
    for auth in [None, Some("Bearer wrong-token-0000000000"), Some(TOKEN)] {
        let with = |r: reqwest::RequestBuilder| match auth {
            Some(value) => r.header("authorization", value),
            None => r,
        };
        let mcp = with(http.post(server.url("/mcp")))
            .header("accept", "application/json, text/event-stream")
            .json(&init_body());
        let sse = with(http.get(server.url("/sse")));
        let message = with(http.post(server.url("/message?sessionId=nope"))).json(&init_body());
        for request in [mcp, sse, message] {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            assert_eq!(status, 401, "auth {auth:?}: {:?}", response.url().path());
            let challenge = response.headers().get("www-authenticate").unwrap();
            assert_eq!(challenge, "Bearer");
            assert!(free_of_secrets(&response.text().await.unwrap()));
        }
        if auth.is_none() {
            let health = http.get(server.url("/healthz")).send().await.unwrap();
            assert_eq!(health.status(), 200, "health checks need no token");
        }
        // The bare token (no `Bearer` scheme) was refused above; with the scheme it works.
        if auth == Some(TOKEN) {
            let mut client = McpHttp::new(server.url("/mcp"), Some(TOKEN));
            let reply = client.initialize().await;
            assert_eq!(
                reply["result"]["serverInfo"]["name"],
                "openrouter-switchboard"
            );
        }
    }
    assert!(free_of_secrets(&server.stderr()), "{}", server.stderr());
}

#[tokio::test]
async fn a_foreign_host_or_origin_is_refused_on_mcp_and_sse() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &[], &with_token()).await;
    let http = reqwest::Client::new();
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    let cases = [
        (Some("evil.example"), None, 403),
        (Some("evil.example:80"), None, 403),
        (None, Some("http://evil.example"), 403),
        (None, Some("https://localhost.evil.example"), 403),
        (Some("localhost"), Some("http://localhost:6274"), 200),
        (None, Some("http://127.0.0.1:9999"), 200),
    ];
    for path in ["/mcp", "/sse"] {
        for (host, origin, expected) in &cases {
            let mut request = if path == "/mcp" {
                http.post(server.url(path))
                    .header("accept", "application/json, text/event-stream")
                    .json(&init_body())
            } else {
                http.get(server.url(path))
            };
            request = request.bearer_auth(TOKEN);
            if let Some(host) = host {
                let host = if host.contains(':') {
                    host.to_string()
                } else {
                    format!("{host}:{port}")
                };
                request = request.header("host", host);
            }
            if let Some(origin) = origin {
                request = request.header("origin", *origin);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status().as_u16(),
                *expected,
                "{path} host {host:?} origin {origin:?}"
            );
        }
    }
    let foreign = http
        .get(server.url("/healthz"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403, "every route checks the Host");
    let metrics = server.metrics().await;
    assert!(metrics.contains("switchboard_http_rejected_total{reason=\"host\"} 5"));
    assert!(metrics.contains("switchboard_http_rejected_total{reason=\"origin\"} 4"));
}

#[tokio::test]
async fn a_public_bind_without_a_token_refuses_to_start() {
    let fake = FakeOpenRouter::start().await;
    let (mut child, stderr, _dir) =
        http_server::spawn(&fake.base_url(), &["--bind", "0.0.0.0:0"], &[]);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("it exits by itself")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let text = stderr.lock().unwrap().clone();
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("0.0.0.0:0"), "{text}");
    assert!(text.contains("set SWITCHBOARD_HTTP_TOKEN"), "{text}");
    assert!(!text.contains("listening on"), "{text}");

    let (mut child, stderr, _dir) = http_server::spawn(
        &fake.base_url(),
        &["--bind", "0.0.0.0:0"],
        &[("SWITCHBOARD_HTTP_TOKEN", "short")],
    );
    let status = child.wait().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let text = stderr.lock().unwrap().clone();
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(
        text.contains("SWITCHBOARD_HTTP_TOKEN is not valid"),
        "{text}"
    );
    assert!(!text.contains("short"), "the token is never echoed: {text}");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &["--max-body", "64KiB"], &with_token()).await;
    let auth = format!("Authorization: Bearer {TOKEN}");
    for path in ["/mcp", "/message?sessionId=any"] {
        // A Content-Length over the limit is refused before any of the body is read.
        let head = format!(
            "POST {path} HTTP/1.1\r\n{auth}\r\nAccept: application/json, text/event-stream\r\n\
             Content-Type: application/json\r\nContent-Length: {}",
            100 * 1024
        );
        assert_eq!(
            http_server::raw_status(&server.addr, &head, b"").await,
            413,
            "{path}"
        );
        // Without a Content-Length (chunked), the limit holds while the body streams in.
        let head = format!(
            "POST {path} HTTP/1.1\r\n{auth}\r\nAccept: application/json, text/event-stream\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked"
        );
        let mut body = Vec::new();
        for _ in 0..65 {
            body.extend_from_slice(b"400\r\n");
            body.extend_from_slice(&[b' '; 1024]);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        assert_eq!(
            http_server::raw_status(&server.addr, &head, &body).await,
            413,
            "{path} chunked"
        );
    }
    // Just under the limit still works.
    let mut client = McpHttp::new(server.url("/mcp"), Some(TOKEN));
    client.initialize().await;
    let prompt = "y".repeat(40 * 1024);
    let result = client
        .call("estimate_cost", json!({"model": MODEL, "prompt": prompt}))
        .await;
    assert_ne!(result["isError"], true, "{result}");
}

#[tokio::test]
async fn stateless_mode_answers_a_call_without_a_session() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &["--stateless"], &[]).await;
    let client = McpHttp::new(server.url("/mcp"), None);
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "list_models", "arguments": {"limit": 2}}});
    let response = client.post(&call).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("mcp-session-id").is_none());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let reply = reply_with_id(&response.text().await.unwrap(), 7).unwrap();
    assert_eq!(
        reply["result"]["structuredContent"]["models"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn legacy_sse_round_trip() {
    use futures_util::StreamExt;
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &[], &with_token()).await;
    let http = reqwest::Client::new();
    let stream = http
        .get(server.url("/sse"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    let mut seen = String::new();
    let mut next_event = async || loop {
        if let Some(end) = seen.find("\n\n") {
            let event = seen[..end].to_string();
            seen.drain(..end + 2);
            return event;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next()).await;
        let chunk = chunk
            .expect("an event in time")
            .expect("the stream stays open")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    };
    let endpoint = next_event().await;
    assert!(endpoint.starts_with("event: endpoint"), "{endpoint}");
    let path = endpoint.split("data: ").nth(1).unwrap().trim().to_string();
    assert!(path.starts_with("/message?sessionId="), "{path}");
    let post = |body: Value| {
        http.post(server.url(&path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    assert_eq!(post(init_body()).await.unwrap().status(), 202);
    let init = next_event().await;
    let init = reply_with_id(&init, 1).unwrap_or_else(|| panic!("{init}"));
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(note).await.unwrap().status(), 202);
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "list_models", "arguments": {"limit": 1}}});
    assert_eq!(post(call).await.unwrap().status(), 202);
    let reply = next_event().await;
    let reply = reply_with_id(&reply, 2).unwrap_or_else(|| panic!("{reply}"));
    assert_eq!(
        reply["result"]["structuredContent"]["models"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let unknown = http
        .post(server.url("/message?sessionId=nope"))
        .bearer_auth(TOKEN)
        .json(&init_body())
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// Polls `/metrics` until `n` tool calls are in flight.
async fn wait_in_flight(server: &http_server::HttpServer, n: u32) {
    let line = format!("switchboard_tool_calls_in_flight {n}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.metrics().await.lines().any(|l| l == line) {
        assert!(Instant::now() < deadline, "never saw `{line}`");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Connecting fails once the server stopped accepting (the signal is handled asynchronously).
async fn wait_refused(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return,
            _ => assert!(
                Instant::now() < deadline,
                "new connections were still accepted"
            ),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_ask_finish_refuses_new_connections_and_exits() {
    let every = Duration::from_millis(100);
    let upstream =
        ScriptedUpstream::start(&[(MODEL, Behaviour::Stream { chunks: 8, every })]).await;
    let grace = Duration::from_secs(15);
    let mut server = start(&upstream.base_url, &["--shutdown-grace", "15s"], &[]).await;
    let mut client = McpHttp::new(server.url("/mcp"), None);
    client.initialize().await;
    let call = tokio::spawn(async move {
        let args =
            json!({"model": MODEL, "prompt": "count", "fallback_models": [], "cache": "bypass"});
        client.call("ask_model", args).await
    });
    wait_in_flight(&server, 1).await;
    let signalled = Instant::now();
    server.sigterm();
    wait_refused(&server.addr).await;
    let result = call.await.unwrap();
    assert_ne!(result["isError"], true, "{result}");
    let text = result["structuredContent"]["text"].as_str().unwrap();
    assert_eq!(
        text.split_whitespace().count(),
        8,
        "the whole answer arrived: {text}"
    );
    let status = server
        .wait_exit(grace)
        .await
        .expect("it exits within the grace period");
    assert!(status.success(), "{status}\n{}", server.stderr());
    assert!(signalled.elapsed() < grace);
    assert!(
        server.stderr().contains("shutting down"),
        "{}",
        server.stderr()
    );
}

#[tokio::test]
async fn sigterm_cancels_calls_that_outlast_the_grace_period() {
    let upstream = ScriptedUpstream::start(&[(MODEL, Behaviour::Stall)]).await;
    let mut server = start(&upstream.base_url, &["--shutdown-grace", "300ms"], &[]).await;
    let mut client = McpHttp::new(server.url("/mcp"), None);
    client.initialize().await;
    let url = server.url("/mcp");
    let call = tokio::spawn(async move {
        let args =
            json!({"model": MODEL, "prompt": "wait", "fallback_models": [], "cache": "bypass"});
        let body = json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call",
            "params": {"name": "ask_model", "arguments": args}});
        let response = client.post(&body).await;
        response.text().await.map(|t| reply_with_id(&t, 99))
    });
    wait_in_flight(&server, 1).await;
    server.sigterm();
    let status = server
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("it exits after the grace period instead of waiting for upstream");
    assert!(status.success(), "{status}\n{}", server.stderr());
    assert!(
        server.stderr().contains("grace period over"),
        "{}",
        server.stderr()
    );
    let outcome = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the client is released");
    let answered =
        matches!(&outcome, Ok(Ok(Some(r))) if r["result"]["structuredContent"]["text"].is_string());
    assert!(
        !answered,
        "the stalled call was cancelled, not answered: {outcome:?}"
    );
    assert!(reqwest::get(url).await.is_err(), "nothing listens any more");
}
