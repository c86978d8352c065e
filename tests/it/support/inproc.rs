//! The library's server handler (`switchboard::Switchboard` over an `App` built from a test
//! `Config`) driven by rmcp's client over `tokio::io::duplex`: no process, no port, no stderr
//! scraping. For tool behaviour; transports, shutdown, the CLI and secrets keep the real binary
//! ([`super::McpServer`]). [`InProcHttp`] serves the library's HTTP service on 127.0.0.1:0 the
//! same way, for HTTP behaviour that needs no process.
//!
//! Settings are given as the binary's environment variables (the same pairs as
//! [`super::mcp::env_for`]), mapped to their flags and parsed by the binary's own clap
//! definitions, with the process environment ignored.

use super::FakeOpenRouter;
use super::mcp::{self, ProgressLog, env_for};
use clap::{CommandFactory, FromArgMatches};
use rmcp::model::CallToolResult;
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use switchboard::cli::{Cli, Settings};
use switchboard::{App, Config, Switchboard};

/// Bytes the duplex pipe buffers each way.
const PIPE: usize = 1 << 20;

pub struct InProc {
    pub client: RunningService<RoleClient, ProgressLog>,
    server: tokio::task::JoinHandle<()>,
    _data_dir: tempfile::TempDir,
}

impl InProc {
    pub async fn start(fake: &FakeOpenRouter) -> Self {
        Self::start_with(fake, &[]).await
    }

    /// The base settings plus `extra` (which wins), named by their environment variables.
    pub async fn start_with(fake: &FakeOpenRouter, extra: &[(&str, &str)]) -> Self {
        Self::start_at(&fake.base_url(), extra).await
    }

    /// Serves the handler against the upstream at `base_url`.
    pub async fn start_at(base_url: &str, extra: &[(&str, &str)]) -> Self {
        super::log::init();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut pairs = env_for(base_url, data_dir.path());
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::load(settings(&pairs)).expect("the test config is valid");
        let app = App::new(config);
        let (server_end, client_end) = tokio::io::duplex(PIPE);
        let handler = Switchboard::new(app);
        let server = tokio::spawn(async move {
            if let Ok(running) = handler.serve(server_end).await {
                let _ = running.waiting().await;
            }
        });
        let client = ProgressLog::default()
            .serve(client_end)
            .await
            .expect("the MCP handshake succeeds");
        Self {
            client,
            server,
            _data_dir: data_dir,
        }
    }

    pub async fn call(&self, tool: &str, arguments: Value) -> CallToolResult {
        mcp::call(&self.client, tool, arguments).await
    }

    /// Calls a tool that must succeed; returns its structured content.
    pub async fn call_ok(&self, tool: &str, arguments: Value) -> Value {
        mcp::succeeded(tool, self.call(tool, arguments).await)
    }

    /// Closes the client side and waits for the server side to end.
    pub async fn stop(self) {
        let _ = self.client.cancel().await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), self.server).await;
    }
}

/// The library's HTTP service (`switchboard::transport::serve_http`) on 127.0.0.1:0, in process.
pub struct InProcHttp {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    _data_dir: tempfile::TempDir,
}

impl InProcHttp {
    /// Serves with the base settings plus `extra` (`http` ones included), named by their
    /// environment variables.
    pub async fn start(base_url: &str, extra: &[(&str, &str)]) -> Self {
        super::log::init();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut pairs = env_for(base_url, data_dir.path());
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::load(settings(&pairs)).expect("the test config is valid");
        let app = App::new(config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            let _ = switchboard::transport::serve_http(app, listener, shutdown).await;
        });
        Self {
            addr,
            stop: Some(stop),
            server,
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Shuts the service down as SIGTERM would and waits for it to return.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), self.server).await;
    }
}

/// `Settings` from `(VARIABLE, value)` pairs: each variable becomes its flag (a global one, or
/// one of the `http` command's), parsed by the binary's clap definitions; the process environment
/// is not read.
pub fn settings(pairs: &[(String, String)]) -> Settings {
    let command = Cli::command();
    let http = command
        .find_subcommand("http")
        .expect("the http command")
        .clone();
    let mut argv = vec!["openrouter-switchboard".to_string()];
    let mut http_argv = vec!["http".to_string()];
    // A later pair wins, as a later `env` call does.
    let mut last = std::collections::BTreeMap::new();
    for (name, value) in pairs {
        last.insert(name.as_str(), value.as_str());
    }
    for (name, value) in last {
        if name == "RUST_LOG" {
            continue;
        }
        let long = |command: &clap::Command| {
            command
                .get_arguments()
                .find(|arg| arg.get_env().is_some_and(|env| env == name))
                .and_then(|arg| arg.get_long().map(str::to_string))
        };
        match (long(&command), long(&http)) {
            (Some(long), _) => argv.push(format!("--{long}={value}")),
            (None, Some(long)) => http_argv.push(format!("--{long}={value}")),
            (None, None) => panic!("{name} is not a setting of the binary"),
        }
    }
    argv.extend(http_argv);
    let command = command
        .mut_args(|arg| arg.env(None::<&str>))
        .mut_subcommand("http", |http| http.mut_args(|arg| arg.env(None::<&str>)));
    let matches = command
        .try_get_matches_from(argv)
        .expect("the test settings parse");
    let cli = Cli::from_arg_matches(&matches).expect("the test settings parse");
    let mut settings = cli.settings;
    if let Some(switchboard::cli::Command::Http(http)) = cli.command {
        settings.http = http;
    }
    settings
}
