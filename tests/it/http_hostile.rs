//! `openrouter-switchboard http` under hostile or careless clients: who may read `/metrics`, the
//! loopback names staying allowed, 400 for bodies that are not JSON, one reply per call even when
//! ids collide, 503 + `Retry-After` past every cap, and idle sessions, streams and half-sent
//! requests being closed. The real binary on 127.0.0.1, over real HTTP.

use crate::http::http_server::{McpHttp, TOKEN, initialize_params, reply_with_id, start};
use crate::support::FakeOpenRouter;
use crate::support::scripted::{Behaviour, ScriptedUpstream};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MODEL: &str = "openai/gpt-5-mini";
const METRICS_TOKEN: &str = "metrics-token-9f8e7d6c5b4a";

fn init_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params()})
}

fn port(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap()
}

async fn get_status(url: &str, host: Option<&str>, token: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new().get(url);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn metrics_need_a_token_unless_bound_to_loopback_without_one() {
    let fake = FakeOpenRouter::start().await;
    let public = start(
        &fake.base_url(),
        &["--bind", "0.0.0.0:0"],
        &[
            ("SWITCHBOARD_HTTP_TOKEN", TOKEN),
            ("SWITCHBOARD_METRICS_TOKEN", METRICS_TOKEN),
        ],
    )
    .await;
    let url = format!("http://127.0.0.1:{}/metrics", port(&public.addr));
    let localhost = format!("localhost:{}", port(&public.addr));
    assert_eq!(get_status(&url, None, None).await, 401, "no token");
    assert_eq!(
        get_status(&url, Some(&localhost), None).await,
        401,
        "Host: localhost is no way around it"
    );
    assert_eq!(
        get_status(&url, None, Some("wrong-token-000000000")).await,
        401
    );
    assert_eq!(get_status(&url, None, Some(METRICS_TOKEN)).await, 200);
    assert_eq!(get_status(&url, None, Some(TOKEN)).await, 200);
    let health = format!("http://127.0.0.1:{}/healthz", port(&public.addr));
    assert_eq!(
        get_status(&health, None, None).await,
        200,
        "health stays open"
    );

    let with_token = start(&fake.base_url(), &[], &[("SWITCHBOARD_HTTP_TOKEN", TOKEN)]).await;
    let url = with_token.url("/metrics");
    assert_eq!(get_status(&url, None, None).await, 401, "a token is set");
    assert_eq!(get_status(&url, None, Some(TOKEN)).await, 200);

    let open = start(&fake.base_url(), &[], &[]).await;
    assert_eq!(get_status(&open.url("/metrics"), None, None).await, 200);
}

#[tokio::test]
async fn allowed_hosts_keep_the_loopback_names() {
    let fake = FakeOpenRouter::start().await;
    let server = start(
        &fake.base_url(),
        &["--allowed-hosts", "mcp.example.com"],
        &[],
    )
    .await;
    let url = server.url("/healthz");
    let p = port(&server.addr);
    for host in [
        format!("127.0.0.1:{p}"),
        format!("localhost:{p}"),
        format!("[::1]:{p}"),
        "mcp.example.com".to_string(),
    ] {
        assert_eq!(get_status(&url, Some(&host), None).await, 200, "{host}");
    }
    assert_eq!(get_status(&url, Some("evil.example"), None).await, 403);
}

/// POSTs `body` with `content_type`; returns the status and the body as JSON (Null if not JSON).
async fn post_raw(url: &str, content_type: &str, body: &'static str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Opens `GET /sse` on a raw socket and returns it with the `/message?sessionId=…` path.
async fn open_sse(addr: &str) -> (TcpStream, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET /sse HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = String::from_utf8_lossy(&seen).to_string();
        if let Some(rest) = text.split("data: ").nth(1)
            && let Some(path) = rest.split('\n').next().filter(|_| rest.contains('\n'))
        {
            assert!(text.starts_with("HTTP/1.1 200"), "{text}");
            return (tcp, path.trim().to_string());
        }
        assert!(Instant::now() < deadline, "no endpoint event: {text}");
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("the endpoint event in time")
            .unwrap();
        assert!(n > 0, "the stream closed: {text}");
        seen.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_400_with_a_json_rpc_parse_error() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &[], &[]).await;
    let (_stream, message_path) = open_sse(&server.addr).await;
    for path in ["/mcp", message_path.as_str()] {
        let url = server.url(path);
        let (status, body) =
            post_raw(&url, "application/json", "{\"jsonrpc\": \"2.0\", oops").await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], -32700, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not JSON")
        );
        let (status, body) = post_raw(&url, "application/json; charset=utf-8", "[1, 2]").await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(
            body["error"]["code"], -32600,
            "{path}: JSON but not JSON-RPC: {body}"
        );
        let (status, _) = post_raw(&url, "text/plain", "{\"jsonrpc\": \"2.0\"}").await;
        assert_eq!(status, 415, "{path}: only a wrong Content-Type is 415");
    }
}

#[tokio::test]
async fn fifty_concurrent_calls_with_one_id_get_fifty_replies() {
    let every = Duration::from_millis(100);
    let upstream =
        ScriptedUpstream::start(&[(MODEL, Behaviour::Stream { chunks: 5, every })]).await;
    let server = start(&upstream.base_url, &[], &[]).await;
    let mut client = McpHttp::new(server.url("/mcp"), None);
    client.initialize().await;
    let client = std::sync::Arc::new(client);
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "ask_model",
        "arguments": {"model": MODEL, "prompt": "count", "fallback_models": [], "cache": "bypass"}}});
    let calls = (0..50).map(|_| {
        let (client, body) = (client.clone(), body.clone());
        tokio::spawn(async move {
            let response = client.post(&body).await;
            let text = response.text().await.unwrap();
            reply_with_id(&text, 7).unwrap_or_else(|| panic!("no reply in {text}"))
        })
    });
    let replies = tokio::time::timeout(
        Duration::from_secs(30),
        futures_util::future::join_all(calls),
    )
    .await
    .expect("every call is answered");
    let replies: Vec<Value> = replies.into_iter().map(Result::unwrap).collect();
    let answered = replies.iter().filter(|r| r["result"].is_object()).count();
    let refused: Vec<&Value> = replies.iter().filter(|r| r["error"].is_object()).collect();
    assert_eq!(answered + refused.len(), 50);
    assert!(answered >= 1, "{replies:?}");
    for reply in &refused {
        assert_eq!(reply["error"]["code"], -32600, "{reply}");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains("id 7 is already in use"), "{message}");
    }
    // The id is free again once its call has been answered.
    let again = client.post(&body).await.text().await.unwrap();
    let again = reply_with_id(&again, 7).unwrap();
    assert!(again["result"].is_object(), "{again}");
}

fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

#[tokio::test]
async fn initialize_past_the_session_cap_gets_503_with_retry_after() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &["--max-sessions", "2"], &[]).await;
    let mut first = McpHttp::new(server.url("/mcp"), None);
    first.initialize().await;
    McpHttp::new(server.url("/mcp"), None).initialize().await;
    let third = McpHttp::new(server.url("/mcp"), None)
        .post(&init_body())
        .await;
    assert_eq!(third.status(), 503);
    assert!(
        retry_after(&third).is_some_and(|s| s > 0),
        "{:?}",
        third.headers()
    );
    let body: Value = third.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("SWITCHBOARD_MAX_SESSIONS"), "{message}");
    // Sessions already open are served, and ending one makes room.
    let listed = first.call("list_models", json!({"limit": 1})).await;
    assert_ne!(listed["isError"], true, "{listed}");
    let session = first.session_id().expect("a session id");
    let ended = reqwest::Client::new()
        .delete(server.url("/mcp"))
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    McpHttp::new(server.url("/mcp"), None).initialize().await;
}

#[tokio::test]
async fn sse_streams_past_the_cap_get_503_with_retry_after_on_sse_and_mcp() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &["--max-sse-streams", "2"], &[]).await;
    let _a = open_sse(&server.addr).await;
    let _b = open_sse(&server.addr).await;
    let third = reqwest::get(server.url("/sse")).await.unwrap();
    assert_eq!(third.status(), 503);
    assert!(retry_after(&third).is_some_and(|s| s > 0));
    let text = third.text().await.unwrap();
    assert!(text.contains("SWITCHBOARD_MAX_SSE_STREAMS"), "{text}");
    // Standalone Streamable HTTP streams (GET /mcp) have their own slots under the same limit.
    let mut streams = Vec::new();
    for expected in [200, 200, 503] {
        let mut client = McpHttp::new(server.url("/mcp"), None);
        client.initialize().await;
        let stream = reqwest::Client::new()
            .get(server.url("/mcp"))
            .header("accept", "text/event-stream")
            .header("mcp-session-id", client.session_id().unwrap())
            .header("mcp-protocol-version", "2025-06-18")
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), expected);
        if expected == 503 {
            assert!(retry_after(&stream).is_some_and(|s| s > 0));
        }
        streams.push((client, stream));
    }
    // Closing one frees its slot.
    let (client, stream) = streams.remove(0);
    drop(stream);
    let mut reopened = 0;
    for _ in 0..50 {
        let again = reqwest::Client::new()
            .get(server.url("/mcp"))
            .header("accept", "text/event-stream")
            .header("mcp-session-id", client.session_id().unwrap())
            .header("mcp-protocol-version", "2025-06-18")
            .send()
            .await
            .unwrap();
        if again.status() == 200 {
            reopened += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(reopened, 1, "a closed stream gave its slot back");
}

/// Sends `head` (no blank line: the request is never finished) on a fresh connection.
async fn half_request(addr: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp
}

/// True once the server closed `tcp` (EOF or reset) within `limit`.
async fn closed_within(tcp: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn past_the_connection_cap_idle_ones_make_room_and_busy_ones_mean_503() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &["--max-connections", "2"], &[]).await;
    let mut oldest = half_request(&server.addr).await;
    let _newer = half_request(&server.addr).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(
        health.status(),
        200,
        "a half-sent request does not lock others out"
    );
    assert!(
        closed_within(&mut oldest, Duration::from_secs(5)).await,
        "the connection idle the longest was closed to make room"
    );
    drop(_newer);
    // Two open SSE streams keep both connections busy: the next one is refused quickly.
    let _a = open_sse(&server.addr).await;
    let _b = open_sse(&server.addr).await;
    let refused = reqwest::Client::new()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert!(retry_after(&refused).is_some_and(|s| s > 0));
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("SWITCHBOARD_MAX_CONNECTIONS")
    );
}

#[tokio::test]
async fn a_request_whose_headers_never_finish_is_closed_after_the_header_timeout() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &["--header-timeout", "500ms"], &[]).await;
    let mut slow = half_request(&server.addr).await;
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "the half-sent request was dropped"
    );
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_body_that_trickles_in_gets_408_after_the_header_timeout() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &["--header-timeout", "500ms"], &[]).await;
    let addr = &server.addr;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"jsonrpc\""
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut reply)).await;
    assert!(read.is_ok(), "the server gave up on the body and closed");
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("SWITCHBOARD_HEADER_TIMEOUT"), "{text}");
}

#[tokio::test]
async fn idle_sessions_and_sse_streams_expire() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &["--session-idle", "1s"], &[]).await;
    let mut client = McpHttp::new(server.url("/mcp"), None);
    client.initialize().await;
    let (mut stream, message_path) = open_sse(&server.addr).await;
    // Busy for longer than the idle time, in small steps: activity keeps a session alive.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let listed = client.call("list_models", json!({"limit": 1})).await;
        assert_ne!(listed["isError"], true, "{listed}");
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let body = json!({"jsonrpc": "2.0", "id": 50, "method": "ping"});
    let gone = client.post(&body).await;
    assert_eq!(gone.status(), 404, "the idle session was closed");
    assert!(
        closed_within(&mut stream, Duration::from_secs(5)).await,
        "the idle SSE stream was closed"
    );
    let (status, _) = post_raw(
        &server.url(&message_path),
        "application/json",
        "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"ping\"}",
    )
    .await;
    assert_eq!(status, 404, "its session is gone");
}

#[tokio::test]
async fn a_legacy_stream_nobody_reads_refuses_requests_instead_of_piling_replies() {
    let fake = FakeOpenRouter::start().await;
    let server = start(&fake.base_url(), &[], &[]).await;
    let (_unread, message_path) = open_sse(&server.addr).await;
    let url = server.url(&message_path);
    let http = reqwest::Client::new();
    let post = |body: Value| http.post(&url).json(&body).send();
    assert_eq!(post(init_body()).await.unwrap().status(), 202);
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(note).await.unwrap().status(), 202);
    let mut refused = None;
    for id in 2..5000 {
        let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "list_models", "arguments": {"limit": 100}}});
        let response = post(call).await.unwrap();
        match response.status().as_u16() {
            202 => {}
            503 => {
                refused = Some(response);
                break;
            }
            other => panic!("POST {id} got {other}"),
        }
    }
    let refused = refused.expect("the server stopped taking requests for the unread stream");
    assert!(retry_after(&refused).is_some_and(|s| s > 0));
    let text = refused.text().await.unwrap();
    assert!(text.contains("not read"), "{text}");
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200
    );
}
