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

/// Lines a broken or hostile host might write, each of which must get a -32700 reply with
/// `"id": null`: garbage, invalid UTF-8, a bare `NaN`, and nesting 10,000 deep.
fn unparsable_lines() -> Vec<Vec<u8>> {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        b"this is not json".to_vec(),
        b"{\"jsonrpc\":\"2.0\",\"id\":\xff\xfe}".to_vec(),
        b"NaN".to_vec(),
        deep.into_bytes(),
    ]
}

#[tokio::test]
async fn malformed_lines_get_json_rpc_errors_and_the_server_keeps_serving() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let fake = FakeOpenRouter::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .env_clear()
        .envs(base_env(&fake, data_dir.path()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut input = SESSION
        .lines()
        .take(2)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    input.push(b'\n');
    for line in unparsable_lines() {
        input.extend_from_slice(&line);
        input.push(b'\n');
    }
    input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":7}\n");
    input.extend_from_slice(
        br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"list_models","arguments":{"limit":1}}}"#,
    );
    input.push(b'\n');
    stdin.write_all(&input).await.unwrap();

    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut replies = Vec::new();
    let read_all = async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            let reply: serde_json::Value = serde_json::from_str(&line).expect("stdout is JSON");
            let done = reply["id"] == 5;
            replies.push(reply);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), read_all)
        .await
        .expect("the tools/call after the bad lines is answered");

    let parse_errors: Vec<_> = replies
        .iter()
        .filter(|r| r["error"]["code"] == -32700)
        .collect();
    assert_eq!(
        parse_errors.len(),
        4,
        "one -32700 per bad line: {replies:?}"
    );
    for reply in &parse_errors {
        assert_eq!(reply["jsonrpc"], "2.0");
        assert!(reply.get("id").is_some_and(|id| id.is_null()), "{reply}");
    }
    let invalid = replies
        .iter()
        .find(|r| r["id"] == 42)
        .expect("the invalid request with id 42 is answered");
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    let call = replies.last().unwrap();
    assert_eq!(call["id"], 5);
    assert_ne!(call["result"]["isError"], true, "{call}");
    assert_eq!(
        call["result"]["structuredContent"]["models"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{call}"
    );
    drop(stdin);
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("the server exits after stdin closes")
        .unwrap();
    assert!(status.success());
}
