//! The real binary in `http` mode on 127.0.0.1 (port read from its `listening on` log line), and a
//! small JSON-RPC client over Streamable HTTP and legacy SSE built on reqwest.

use crate::support::TEST_KEY;
use crate::support::mcp::{BIN, env_for};
use serde_json::{Value, json};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A token long enough for the server to accept.
pub const TOKEN: &str = "test-token-5d1c0e9a7b3f4e2a";

pub struct HttpServer {
    pub addr: String,
    child: Child,
    stderr: Arc<Mutex<String>>,
    _data_dir: tempfile::TempDir,
}

/// Starts `openrouter-switchboard http --bind 127.0.0.1:0 ARGS` against `base_url`, with the test
/// key and `extra` env; returns once it logged its address.
pub async fn start(base_url: &str, args: &[&str], extra: &[(&str, &str)]) -> HttpServer {
    let (child, stderr, data_dir) = spawn(base_url, args, extra);
    listening(child, stderr, data_dir).await
}

/// Like [`start`], with the server's open-file limit (`ulimit -n`) set to `nofile`.
#[allow(dead_code)] // used by tests/flood.rs, which shares this file
pub async fn start_with_fd_limit(
    base_url: &str,
    args: &[&str],
    extra: &[(&str, &str)],
    nofile: u32,
) -> HttpServer {
    let mut command = Command::new("/bin/sh");
    let script = format!("ulimit -n {nofile} && exec \"$0\" \"$@\"");
    command.args(["-c", &script, BIN]);
    let (child, stderr, data_dir) = spawn_with(command, base_url, args, extra);
    listening(child, stderr, data_dir).await
}

async fn listening(
    mut child: Child,
    stderr: Arc<Mutex<String>>,
    data_dir: tempfile::TempDir,
) -> HttpServer {
    let addr = wait_for_address(&mut child, &stderr).await;
    HttpServer {
        addr,
        child,
        stderr,
        _data_dir: data_dir,
    }
}

/// Spawns the binary and collects its stderr; does not wait for it to listen.
pub fn spawn(
    base_url: &str,
    args: &[&str],
    extra: &[(&str, &str)],
) -> (Child, Arc<Mutex<String>>, tempfile::TempDir) {
    spawn_with(Command::new(BIN), base_url, args, extra)
}

fn spawn_with(
    mut command: Command,
    base_url: &str,
    args: &[&str],
    extra: &[(&str, &str)],
) -> (Child, Arc<Mutex<String>>, tempfile::TempDir) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    command.arg("http").args(args);
    if !args.contains(&"--bind") {
        command.args(["--bind", "127.0.0.1:0"]);
    }
    command.env_clear();
    for (key, value) in env_for(base_url, data_dir.path()) {
        command.env(key, value);
    }
    for (key, value) in extra {
        command.env(key, value);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("the server binary starts");
    let stderr = Arc::new(Mutex::new(String::new()));
    let pipe = child.stderr.take().expect("stderr is piped");
    let buffer = stderr.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            crate::support::log::echo(format!("{line}\n").as_bytes());
            let mut text = buffer.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    (child, stderr, data_dir)
}

async fn wait_for_address(child: &mut Child, stderr: &Arc<Mutex<String>>) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = stderr.lock().unwrap().clone();
        if let Some(rest) = text.split("listening on http://").nth(1) {
            return rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited ({status}) before listening:\n{text}");
        }
        assert!(
            Instant::now() < deadline,
            "the server never listened:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl HttpServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// Sends SIGTERM, as a supervisor does.
    pub fn sigterm(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `GET /metrics` as text, with the test token (needed when the server has one).
    pub async fn metrics(&self) -> String {
        reqwest::Client::new()
            .get(self.url("/metrics"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body")
    }
}

/// A Streamable HTTP client session: `initialize` then `tools/call`, one JSON-RPC POST each.
pub struct McpHttp {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    session: Option<String>,
    next_id: u64,
}

impl McpHttp {
    pub fn new(url: String, token: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            url,
            token: token.map(str::to_string),
            session: None,
            next_id: 1,
        }
    }

    /// The `Mcp-Session-Id` the server gave, once initialized.
    pub fn session_id(&self) -> Option<String> {
        self.session.clone()
    }

    /// POSTs one JSON-RPC message and returns the raw response.
    pub async fn post(&self, body: &Value) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        request.send().await.expect("the POST is answered")
    }

    /// `initialize` + `notifications/initialized`; keeps the session id when the server gives one.
    pub async fn initialize(&mut self) -> Value {
        let reply = self.request("initialize", initialize_params()).await;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let status = self.post(&note).await.status();
        assert!(status.is_success(), "initialized got {status}");
        reply
    }

    /// Sends a request and returns its JSON-RPC reply (the whole object).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = self.post(&body).await;
        assert!(
            response.status().is_success(),
            "{method} got {}",
            response.status()
        );
        if let Some(session) = response.headers().get("mcp-session-id") {
            self.session = Some(session.to_str().unwrap().to_string());
        }
        let text = response.text().await.expect("a reply body");
        reply_with_id(&text, id).unwrap_or_else(|| panic!("no reply to {method} in {text}"))
    }

    /// `tools/call`; returns the `result` object.
    pub async fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let reply = self
            .request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await;
        reply["result"].clone()
    }
}

pub fn initialize_params() -> Value {
    json!({"protocolVersion": "2025-06-18", "capabilities": {},
           "clientInfo": {"name": "it-http", "version": "1"}})
}

/// Sends a raw HTTP/1.1 request (`head` without the final blank line, then `body`) and returns
/// the status code; used where a client library would not send a malformed or oversized request.
pub async fn raw_status(addr: &str, head: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write head");
    let _ = stream.write_all(body).await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    let text = String::from_utf8_lossy(&reply);
    let status = text.split_whitespace().nth(1).unwrap_or_default();
    status
        .parse()
        .unwrap_or_else(|_| panic!("no HTTP status in {text:?}"))
}

/// The JSON-RPC message with `id` in a plain JSON body or in SSE `data:` lines.
pub fn reply_with_id(text: &str, id: u64) -> Option<Value> {
    let candidates = std::iter::once(text.trim()).chain(
        text.lines()
            .filter_map(|l| l.strip_prefix("data:").map(str::trim)),
    );
    candidates
        .filter_map(|c| serde_json::from_str::<Value>(c).ok())
        .find(|v| v["id"] == id)
}

/// True when nothing in `text` could reveal the API key or the token.
pub fn free_of_secrets(text: &str) -> bool {
    !text.contains(TEST_KEY) && !text.contains(TOKEN) && !text.contains(&TEST_KEY[10..30])
}
