//! Where attachments by path may come from: over stdio, the client's MCP roots (asked with
//! `roots/list`, asked again on `notifications/roots/list_changed`); over `http`, only
//! `SWITCHBOARD_FILE_ROOTS`, and without it `files` is refused with a message naming it.
#![allow(deprecated)] // roots are SEP-2577-deprecated in rmcp 3.x but served to peers before 2026-07-28

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "support/http_server.rs"]
mod http_server;

use crate::support::FakeOpenRouter;
use crate::support::mcp::{BIN, call, env_for, text};
use http_server::{McpHttp, TOKEN};
use rmcp::model::{ClientInfo, ListRootsResult, Root};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MODEL: &str = "openai/gpt-5-mini";

/// A client that declares `roots` (with `listChanged`) and counts how often it was asked.
#[derive(Clone)]
struct RootsClient {
    roots: Arc<Mutex<Vec<String>>>,
    asked: Arc<tokio::sync::watch::Sender<usize>>,
}

impl ClientHandler for RootsClient {
    fn get_info(&self) -> ClientInfo {
        let mut info = ClientInfo::default();
        info.capabilities =
            serde_json::from_value(json!({"roots": {"listChanged": true}})).unwrap();
        info
    }

    async fn list_roots(
        &self,
        _: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        let roots = self.roots.lock().unwrap().iter().map(Root::new).collect();
        self.asked.send_modify(|n| *n += 1);
        Ok(ListRootsResult::new(roots))
    }
}

fn uri(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

/// Waits (bounded) until the client has been asked for its roots `times` times.
async fn asked(client: &RootsClient, times: usize) {
    let mut seen = client.asked.subscribe();
    tokio::time::timeout(Duration::from_secs(20), seen.wait_for(|n| *n >= times))
        .await
        .expect("the server asks for the roots")
        .unwrap();
}

async fn ask(
    client: &RunningService<RoleClient, RootsClient>,
    file: &str,
) -> rmcp::model::CallToolResult {
    let args = json!({"prompt": "Read it.", "model": MODEL, "files": [file], "cache": "bypass"});
    let Value::Object(arguments) = args else {
        unreachable!()
    };
    client
        .call_tool(rmcp::model::CallToolRequestParams::new("ask_model").with_arguments(arguments))
        .await
        .expect("tools/call gets a response")
}

#[tokio::test]
async fn over_stdio_the_roots_come_from_the_client_and_follow_list_changed() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "Read.", 0.001).await;
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    std::fs::write(first.path().join("a.txt"), "from the first root\n").unwrap();
    let b = second.path().join("b.txt");
    std::fs::write(&b, "from the second root\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(BIN);
    command.arg("stdio").env_clear();
    for (key, value) in env_for(&fake.base_url(), data.path()) {
        command.env(key, value);
    }
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let handler = RootsClient {
        roots: Arc::new(Mutex::new(vec![uri(first.path())])),
        asked: Arc::new(tokio::sync::watch::Sender::new(0)),
    };
    let client = handler.clone().serve(transport).await.unwrap();
    asked(&handler, 1).await;

    let result = ask(&client, "a.txt").await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    let b_path = b.display().to_string();
    let refused = ask(&client, &b_path).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text(&refused).contains("outside the file roots"),
        "{}",
        text(&refused)
    );

    *handler.roots.lock().unwrap() = vec![uri(second.path())];
    client.notify_roots_list_changed().await.unwrap();
    asked(&handler, 2).await;
    let result = ask(&client, &b_path).await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    let a_path = first.path().join("a.txt").display().to_string();
    let refused = ask(&client, &a_path).await;
    assert!(
        text(&refused).contains("outside the file roots"),
        "{}",
        text(&refused)
    );

    let sent: Vec<String> = fake
        .chat_requests(Some(MODEL))
        .await
        .iter()
        .map(Value::to_string)
        .collect();
    assert_eq!(sent.len(), 2, "only the two allowed calls went upstream");
    assert!(sent[0].contains("from the first root") && sent[1].contains("from the second root"));
    let _ = client.cancel().await;
}

#[tokio::test]
async fn over_stdio_a_client_without_roots_gets_a_refusal_naming_the_setting() {
    let fake = FakeOpenRouter::start().await;
    let server = crate::support::McpServer::start(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.txt");
    std::fs::write(&file, "x").unwrap();
    let result = call(
        &server.client,
        "ask_model",
        json!({"prompt": "Read.", "model": MODEL, "files": [file.display().to_string()]}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        text(&result).contains("SWITCHBOARD_FILE_ROOTS"),
        "{}",
        text(&result)
    );
    assert!(fake.chat_requests(None).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn over_http_files_need_switchboard_file_roots() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "Read.", 0.001).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "http notes\n").unwrap();
    let args = json!({"prompt": "Read.", "model": MODEL, "files": [file.display().to_string()]});

    let server = http_server::start(&fake.base_url(), &[], &[]).await;
    let mut client = McpHttp::new(server.url("/mcp"), Some(TOKEN));
    client.initialize().await;
    let result = client.call("ask_model", args.clone()).await;
    assert_eq!(result["isError"], true, "{result}");
    let message = result["content"][0]["text"].as_str().unwrap();
    assert!(
        message.contains("`files`") && message.contains("SWITCHBOARD_FILE_ROOTS"),
        "{message}"
    );
    assert!(fake.chat_requests(None).await.is_empty());
    drop(server);

    let roots = dir.path().display().to_string();
    let server =
        http_server::start(&fake.base_url(), &[], &[("SWITCHBOARD_FILE_ROOTS", &roots)]).await;
    let mut client = McpHttp::new(server.url("/mcp"), Some(TOKEN));
    client.initialize().await;
    let result = client.call("ask_model", args).await;
    assert_ne!(result["isError"], true, "{result}");
    let sent = fake.chat_requests(Some(MODEL)).await;
    assert!(sent[0].to_string().contains("http notes"));
}
