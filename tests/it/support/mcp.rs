//! The real server binary, spawned over stdio and driven by rmcp's MCP client.

use super::{FakeOpenRouter, TEST_KEY};
use rmcp::ClientHandler;
use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::NotificationContext;
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::AsyncReadExt;

pub const BIN: &str = env!("CARGO_BIN_EXE_openrouter-switchboard");

/// The test client: records every progress notification with the time it arrived, and every log
/// message (`notifications/message`) the server sends.
#[derive(Clone, Default)]
pub struct ProgressLog {
    pub progress: Arc<Mutex<Vec<Notified>>>,
    pub logs: Arc<Mutex<Vec<Value>>>,
}

/// One progress notification: progress, message, when it arrived.
pub type Notified = (f64, Option<String>, Instant);

impl ClientHandler for ProgressLog {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        self.progress
            .lock()
            .unwrap()
            .push((params.progress, params.message, Instant::now()));
    }

    #[allow(deprecated)] // logging serves peers before 2026-07-28
    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        self.logs
            .lock()
            .unwrap()
            .push(serde_json::to_value(&params).unwrap());
    }
}

pub struct McpServer {
    pub client: RunningService<RoleClient, ProgressLog>,
    pub progress: ProgressLog,
    stderr: Arc<Mutex<String>>,
    stderr_task: tokio::task::JoinHandle<()>,
    _data_dir: tempfile::TempDir,
}

/// The environment every test server starts with: the fake upstream, fast retries, a fresh data dir.
pub fn base_env(fake: &FakeOpenRouter, data_dir: &std::path::Path) -> Vec<(String, String)> {
    env_for(&fake.base_url(), data_dir)
}

pub fn env_for(base_url: &str, data_dir: &std::path::Path) -> Vec<(String, String)> {
    [
        ("OPENROUTER_API_KEY", TEST_KEY.to_string()),
        ("OPENROUTER_BASE_URL", base_url.to_string()),
        ("SWITCHBOARD_DATA_DIR", data_dir.display().to_string()),
        ("SWITCHBOARD_RETRY_BASE", "1ms".to_string()),
        ("SWITCHBOARD_CACHE", "memory".to_string()),
        ("SWITCHBOARD_DEFAULT_MODEL", "openai/gpt-5-mini".to_string()),
        (
            "SWITCHBOARD_FALLBACK_MODELS",
            "google/gemini-2.5-flash".to_string(),
        ),
        ("RUST_LOG", "debug".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

impl McpServer {
    pub async fn start(fake: &FakeOpenRouter) -> Self {
        Self::start_with(fake, &[]).await
    }

    /// Starts the binary with the base env plus `extra` (which wins).
    pub async fn start_with(fake: &FakeOpenRouter, extra: &[(&str, &str)]) -> Self {
        Self::start_at(&fake.base_url(), extra).await
    }

    /// Starts the binary against the upstream at `base_url`.
    pub async fn start_at(base_url: &str, extra: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut command = tokio::process::Command::new(BIN);
        command.arg("stdio").env_clear();
        for (key, value) in env_for(base_url, data_dir.path()) {
            command.env(key, value);
        }
        for (key, value) in extra {
            command.env(key, value);
        }
        let (transport, stderr) = TokioChildProcess::builder(command)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let buffer = Arc::new(Mutex::new(String::new()));
        let stderr_task = tokio::spawn(collect(stderr, buffer.clone()));
        let progress = ProgressLog::default();
        let client = progress
            .clone()
            .serve(transport)
            .await
            .expect("the MCP handshake succeeds");
        Self {
            client,
            progress,
            stderr: buffer,
            stderr_task,
            _data_dir: data_dir,
        }
    }

    pub async fn call(&self, tool: &str, arguments: Value) -> CallToolResult {
        call(&self.client, tool, arguments).await
    }

    /// Calls a tool that must succeed; returns its structured content.
    pub async fn call_ok(&self, tool: &str, arguments: Value) -> Value {
        succeeded(tool, self.call(tool, arguments).await)
    }

    /// Calls a tool that must fail; returns the error text.
    pub async fn call_err(&self, tool: &str, arguments: Value) -> String {
        let result = self.call(tool, arguments).await;
        assert_eq!(
            result.is_error,
            Some(true),
            "{tool} should have failed: {result:?}"
        );
        text(&result)
    }

    /// Closes stdin, waits for the process to exit and returns everything it wrote to stderr.
    pub async fn stop(self) -> String {
        let _ = self.client.cancel().await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), self.stderr_task).await;
        self.stderr.lock().unwrap().clone()
    }
}

/// `tools/call` through `client`; the call must get a response (a tool error is a response).
pub async fn call(
    client: &RunningService<RoleClient, ProgressLog>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    client
        .call_tool(params(tool, arguments))
        .await
        .expect("tools/call gets a response")
}

/// The structured content of a result that must not be a tool error.
pub fn succeeded(tool: &str, result: CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} failed: {}",
        text(&result)
    );
    result
        .structured_content
        .clone()
        .expect("structuredContent is present")
}

/// All text blocks of a result, joined.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn collect(stderr: Option<tokio::process::ChildStderr>, buffer: Arc<Mutex<String>>) {
    let Some(mut stderr) = stderr else { return };
    let mut chunk = vec![0u8; 8192];
    while let Ok(n) = stderr.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        super::log::echo(&chunk[..n]);
        buffer
            .lock()
            .unwrap()
            .push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
}

/// `tools/call` parameters for `tool` with `arguments` (a JSON object).
pub fn params(tool: &str, arguments: Value) -> CallToolRequestParams {
    let Value::Object(arguments) = arguments else {
        panic!("tool arguments must be an object")
    };
    CallToolRequestParams::new(tool.to_string()).with_arguments(arguments)
}
