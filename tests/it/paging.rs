//! Long answers never flood the host and are never silently cut: a text over
//! SWITCHBOARD_MAX_RESULT_CHARS comes back as its first page with `answer_id` and `total_chars`,
//! and `read_answer` returns the rest, free, from the store (the fake counts every request).

use crate::support::fake::{ReasoningModel, sse_answer};
use crate::support::mcp::{BIN, base_env};
use crate::support::{FakeOpenRouter, McpServer};
use rmcp::model::ReadResourceRequestParams;
use serde_json::{Value, json};

const MINI: &str = "openai/gpt-5-mini";
const FLASH: &str = "google/gemini-2.5-flash";

/// `count` lines of 99 characters and a line break: line `i` starts with its number.
fn lines(count: usize) -> String {
    (0..count)
        .map(|i| format!("{i:06} {}\n", "x".repeat(92)))
        .collect()
}

/// A stream carrying `text` in chunks split at character boundaries (the shared helper splits at
/// a byte midpoint, which is not one for every text).
fn sse_chars(model: &str, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut body = String::new();
    for piece in chars.chunks(700) {
        let content: String = piece.iter().collect();
        let chunk = json!({"id": "gen-mb", "model": model, "provider": "TestProvider",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]});
        body += &format!("data: {chunk}\n\n");
    }
    let last = json!({"id": "gen-mb", "model": model, "provider": "TestProvider",
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14, "cost": 0.001}});
    body + &format!("data: {last}\n\ndata: [DONE]\n\n")
}

/// Follows `next_offset` from `first` (a tool result with `answer_id`) to the end, with
/// `max_chars` per read; returns the text joined and every page read.
async fn read_all(
    server: &McpServer,
    first: &Value,
    max_chars: Option<u64>,
) -> (String, Vec<Value>) {
    let id = first["answer_id"].as_str().expect("answer_id");
    let mut text = first["text"].as_str().unwrap().to_string();
    let mut offset = text.chars().count();
    let mut pages = Vec::new();
    loop {
        let mut args = json!({"answer_id": id, "offset": offset});
        if let Some(max) = max_chars {
            args["max_chars"] = json!(max);
        }
        let page = server.call_ok("read_answer", args).await;
        assert_eq!(page["offset"].as_u64(), Some(offset as u64), "{page}");
        text += page["text"].as_str().unwrap();
        let next = page["next_offset"].as_u64();
        pages.push(page);
        match next {
            Some(next) => offset = usize::try_from(next).unwrap(),
            None => return (text, pages),
        }
    }
}

#[tokio::test]
async fn a_60000_character_answer_is_paged_and_read_back_exactly_without_calling_upstream() {
    let fake = FakeOpenRouter::start().await;
    let answer = lines(600);
    assert_eq!(answer.chars().count(), 60_000);
    fake.stream(MINI, sse_answer(MINI, &answer, 0.002)).await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok("ask_model", json!({"prompt": "write a lot", "model": MINI}))
        .await;
    let first = out["text"].as_str().unwrap();
    let shown = first.chars().count();
    assert!(shown <= 20_000 && shown > 10_000, "{shown}");
    assert!(first.ends_with('\n'), "a page ends at a line break");
    assert!(answer.starts_with(first));
    assert_eq!(out["total_chars"], 60_000);
    assert_eq!(out["model"], MINI);

    let (joined, pages) = read_all(&server, &out, None).await;
    assert_eq!(joined, answer, "the pages join into the answer exactly");
    assert!(
        pages
            .iter()
            .all(|p| p["total_chars"] == 60_000 && p["model"] == MINI)
    );
    assert!(
        pages
            .iter()
            .all(|p| p["text"].as_str().unwrap().chars().count() <= 20_000)
    );
    assert!(pages.last().unwrap().get("next_offset").is_none());
    let id = out["answer_id"].as_str().unwrap();
    let capped = server
        .call_ok(
            "read_answer",
            json!({"answer_id": id, "max_chars": 1_000_000}),
        )
        .await;
    assert_eq!(capped["text"], first, "max_chars is capped at the limit");
    let resource = server
        .client
        .read_resource(ReadResourceRequestParams::new(format!(
            "switchboard://answers/{id}"
        )))
        .await
        .unwrap();
    let body = match &resource.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    };
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["text"],
        answer.as_str(),
        "the resource holds the whole answer"
    );
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "reading the rest never calls upstream"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_page_boundary_never_splits_a_multi_byte_character() {
    let fake = FakeOpenRouter::start().await;
    let answer: String = "é€😀a".repeat(800);
    fake.stream(MINI, sse_chars(MINI, &answer)).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_MAX_RESULT_CHARS", "1000")]).await;
    let out = server
        .call_ok("ask_model", json!({"prompt": "emoji", "model": MINI}))
        .await;
    let expected: String = answer.chars().take(1000).collect();
    assert_eq!(
        out["text"],
        expected.as_str(),
        "no line break: cut at 1000 characters"
    );
    assert_eq!(out["total_chars"], 3200);
    let id = out["answer_id"].as_str().unwrap();
    let seven = server
        .call_ok(
            "read_answer",
            json!({"answer_id": id, "offset": 1001, "max_chars": 7}),
        )
        .await;
    let expected: String = answer.chars().skip(1001).take(7).collect();
    assert_eq!(
        seven["text"],
        expected.as_str(),
        "offsets count characters, not bytes"
    );
    assert_eq!(seven["next_offset"], 1008);
    let (joined, _) = read_all(&server, &out, Some(333)).await;
    assert_eq!(joined, answer);
    server.stop().await;
}

#[tokio::test]
async fn read_answer_errors_name_the_field() {
    let fake = FakeOpenRouter::start().await;
    fake.stream(MINI, sse_answer(MINI, &lines(30), 0.001)).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_MAX_RESULT_CHARS", "1000")]).await;
    let out = server
        .call_ok("ask_model", json!({"prompt": "some", "model": MINI}))
        .await;
    let id = out["answer_id"].as_str().unwrap();
    let past = server
        .call_err("read_answer", json!({"answer_id": id, "offset": 3001}))
        .await;
    assert!(
        past.contains("`offset`") && past.contains("3000 characters"),
        "{past}"
    );
    let unknown = server
        .call_err(
            "read_answer",
            json!({"answer_id": "ans_0123456789abcdef01234567"}),
        )
        .await;
    assert!(
        unknown.contains("`answer_id`") && unknown.contains("expired"),
        "{unknown}"
    );
    let malformed = server
        .call_err("read_answer", json!({"answer_id": "../../etc/passwd"}))
        .await;
    assert!(
        malformed.contains("`answer_id`") && malformed.contains("ans_"),
        "{malformed}"
    );
    let zero = server
        .call_err("read_answer", json!({"answer_id": id, "max_chars": 0}))
        .await;
    assert!(zero.contains("`max_chars`"), "{zero}");
    server.stop().await;
}

#[tokio::test]
async fn compare_models_pages_each_answer_within_its_share_of_the_limit() {
    let fake = FakeOpenRouter::start().await;
    let (long_a, long_b) = (lines(20), "b".repeat(1500));
    fake.stream(MINI, sse_answer(MINI, &long_a, 0.001)).await;
    fake.stream(FLASH, sse_answer(FLASH, &long_b, 0.001)).await;
    fake.answer("x-ai/grok-4", "short", 0.001).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_MAX_RESULT_CHARS", "1200")]).await;
    let models = [MINI, FLASH, "x-ai/grok-4"];
    let out = server
        .call_ok("compare_models", json!({"prompt": "go", "models": models}))
        .await;
    let results = out["results"].as_array().unwrap();
    let shown: Vec<usize> = results
        .iter()
        .map(|r| r["text"].as_str().unwrap().chars().count())
        .collect();
    assert!(
        shown.iter().all(|n| *n <= 400),
        "each gets 1200 / 3: {shown:?}"
    );
    assert_eq!(shown[1], 400, "no line break: cut at the share");
    assert_eq!(results[2]["text"], "short");
    assert!(results[2].get("answer_id").is_none());
    assert_ne!(results[0]["answer_id"], results[1]["answer_id"]);
    for (result, whole) in [(&results[0], &long_a), (&results[1], &long_b)] {
        assert_eq!(result["total_chars"], whole.chars().count());
        let (joined, _) = read_all(&server, result, None).await;
        assert_eq!(&joined, whole);
    }
    assert_eq!(fake.chat_requests(None).await.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn the_tools_that_page_declare_their_result_size_in_tools_list() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_MAX_RESULT_CHARS", "5000")]).await;
    let listed = server.client.list_tools(None).await.unwrap().tools;
    for tool in &listed {
        let declared = tool
            .meta
            .as_ref()
            .and_then(|m| m.0.get("anthropic/maxResultSizeChars"))
            .and_then(Value::as_u64);
        match tool.name.as_ref() {
            "ask_model" | "compare_models" | "read_answer" => {
                let size = declared.unwrap_or_else(|| panic!("{} declares no size", tool.name));
                assert!(size >= 10_000, "room for 5000 characters escaped: {size}");
            }
            _ => assert_eq!(declared, None, "{}", tool.name),
        }
    }
    server.stop().await;
}

/// Runs the shell command with the base env plus `extra`; (exit code, stdout, stderr).
async fn shell(
    fake: &FakeOpenRouter,
    args: &[&str],
    extra: &[(&str, &str)],
) -> (i32, String, String) {
    let data_dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(base_env(fake, data_dir.path()))
        .envs(extra.iter().copied())
        .output()
        .await
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (
        output.status.code().unwrap_or(-1),
        text(output.stdout),
        text(output.stderr),
    )
}

/// `n` numbered words ending in a full stop: one token each for the fake.
fn words(n: usize) -> String {
    let words: Vec<String> = (1..=n).map(|i| format!("word{i}")).collect();
    format!("{}.", words.join(" "))
}

#[tokio::test]
async fn the_shell_prints_a_long_answer_whole_and_says_how_it_was_completed() {
    const SONNET: &str = "anthropic/claude-sonnet-4.5";
    let fake = FakeOpenRouter::start().await;
    let answer = words(300);
    assert!(answer.chars().count() > 2000);
    let model = ReasoningModel {
        reasoning: 0,
        answer: answer.clone(),
        usd_per_token: 0.000_001,
    };
    fake.reasoning(SONNET, model).await;
    let limit = [("SWITCHBOARD_MAX_RESULT_CHARS", "1000")];
    let ask = ["ask", "--model", SONNET, "--max-tokens", "100", "count"];
    let (code, stdout, stderr) = shell(&fake, &ask, &limit).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim_end(), answer, "paging is for MCP hosts");
    assert!(stderr.contains("continuations: 2"), "{stderr}");
    assert!(!stderr.contains("truncated: the answer"), "{stderr}");

    let ask = ["ask", "--model", SONNET, "--max-tokens", "50", "count"];
    let (code, stdout, stderr) = shell(&fake, &ask, &limit).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(answer.starts_with(stdout.trim_end()), "{stdout}");
    assert!(
        stderr.contains("truncated: the answer is still cut"),
        "{stderr}"
    );
}
