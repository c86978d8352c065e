//! The stdio transport as a host sees it: stdout carries only JSON-RPC, and the server exits
//! cleanly when stdin closes.

use crate::support::FakeOpenRouter;
use crate::support::mcp::{BIN, base_env};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

const SESSION: &str = concat!(
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
    "\n",
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    "\n",
    r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    "\n",
    r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_models","arguments":{"limit":2}}}"#,
    "\n",
);

#[tokio::test]
async fn stdout_is_only_json_rpc_and_stdin_eof_exits_cleanly() {
    let fake = FakeOpenRouter::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .env_clear()
        .envs(base_env(&fake, data_dir.path()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(SESSION.as_bytes()).await.unwrap();
    // Give the tool call time to answer before stdin closes.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    drop(stdin);
    let output = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("the server exits after stdin closes")
        .unwrap();
    assert!(output.status.success(), "exit status {:?}", output.status);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let ids: Vec<i64> = stdout
        .lines()
        .map(|line| {
            let message: serde_json::Value =
                serde_json::from_str(line).expect("every stdout line is JSON");
            assert_eq!(message["jsonrpc"], "2.0", "{line}");
            message["id"].as_i64().unwrap_or(-1)
        })
        .collect();
    assert!(
        ids.contains(&1) && ids.contains(&2) && ids.contains(&3),
        "{stdout}"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("DEBUG"), "logs went to stderr");
}
