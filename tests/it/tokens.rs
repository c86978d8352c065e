//! The tokenizer in the real binary: `estimate_cost` counts exactly o200k_base (tiktoken-rs) and
//! its first count leaves no large table resident.

use crate::support::FakeOpenRouter;
use crate::support::mcp::{BIN, env_for};
use serde_json::{Value, json};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const SAMPLE: &str = include_str!("../fixtures/token_samples/mixed_13k.txt");
/// tiktoken-rs's tables added about 45 MB here; the embedded table and the regex add a few.
const MAX_GROWTH_KB: u64 = 15 * 1024;

/// The binary over stdio, driven with raw JSON-RPC lines so that its pid can be read.
struct Raw {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Raw {
    async fn start(fake: &FakeOpenRouter, data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(BIN)
            .arg("stdio")
            .env_clear()
            .envs(env_for(&fake.base_url(), data_dir))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut raw = Self {
            child,
            stdin,
            lines,
        };
        raw.request(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "it", "version": "1"}}),
        )
        .await;
        raw.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        raw
    }

    async fn send(&mut self, message: Value) {
        let line = format!("{message}\n");
        self.stdin.write_all(line.as_bytes()).await.expect("write");
    }

    async fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        while let Some(line) = self.lines.next_line().await.expect("read stdout") {
            let reply: Value = serde_json::from_str(&line).expect("stdout is JSON-RPC");
            if reply["id"] == id {
                return reply;
            }
        }
        panic!("the server closed stdout before answering {id}");
    }

    async fn estimate(&mut self, id: u64, arguments: Value) -> Value {
        let params = json!({"name": "estimate_cost", "arguments": arguments});
        let reply = self.request(id, "tools/call", params).await;
        assert_ne!(reply["result"]["isError"], true, "{reply}");
        reply["result"]["structuredContent"].clone()
    }

    fn rss_kb(&self) -> u64 {
        let pid = self.child.id().expect("the server is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
        let line = status.lines().find(|l| l.starts_with("VmRSS:"));
        let kb = line.and_then(|l| l.split_whitespace().nth(1)?.parse().ok());
        kb.expect("a VmRSS line")
    }
}

#[tokio::test]
async fn first_count_is_exact_and_leaves_no_large_table_resident() {
    let fake = FakeOpenRouter::start().await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut server = Raw::start(&fake, data_dir.path()).await;
    // Loads the catalog and counts nothing.
    let given = json!({"model": "openai/gpt-5-mini", "prompt_tokens": 1});
    server.estimate(2, given).await;
    let before = server.rss_kb();

    let prompt = json!({"model": "openai/gpt-5-mini", "prompt": SAMPLE});
    let out = server.estimate(3, prompt).await;
    let growth = server.rss_kb().saturating_sub(before);

    let bpe = tiktoken_rs::o200k_base_singleton();
    let o200k = |text: &str| bpe.encode_ordinary(text).len() as u64;
    // Role + text + 3 per message + 3 reply priming.
    let expected = o200k("user") + o200k(SAMPLE) + 3 + 3;
    assert_eq!(out["estimates"][0]["prompt_tokens"], expected);
    assert!(
        out["token_counter"]
            .as_str()
            .unwrap()
            .starts_with("o200k_base"),
        "{out}"
    );
    assert!(
        growth < MAX_GROWTH_KB,
        "the first count grew the server by {growth} kB (at most {MAX_GROWTH_KB} kB)"
    );
}
