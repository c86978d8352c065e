//! `conversation_id`: a second turn sends the first turn's prompt and answer (to whichever model
//! answers now), the transcript is kept in the data dir's SQLite file (shared by processes, read
//! back as `switchboard://conversations/{id}`), and an unknown or expired id is refused before
//! anything is sent.

use crate::support::mcp::{BIN, base_env};
use crate::support::{FakeOpenRouter, McpServer};
use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

const FIRST: &str = "openai/gpt-5-mini";
const SECOND: &str = "google/gemini-2.5-flash";

fn turn(role: &str, content: &str) -> Value {
    json!({"role": role, "content": content})
}

async fn transcript(server: &McpServer, id: &str) -> Value {
    let uri = format!("switchboard://conversations/{id}");
    let read = server
        .client
        .read_resource(ReadResourceRequestParams::new(uri.as_str()))
        .await
        .unwrap_or_else(|e| panic!("{uri}: {e}"));
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("{uri} is not text");
    };
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn a_second_turn_sends_the_first_turn_to_whichever_model_answers_now() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, "Paris is the capital.", 0.001).await;
    fake.answer(SECOND, "About two million people.", 0.001)
        .await;
    let server = McpServer::start(&fake).await;
    let first = server
        .call_ok(
            "ask_model",
            json!({"prompt": "What is the capital of France?", "system": "Be brief.",
                   "model": FIRST, "fallback_models": []}),
        )
        .await;
    let id = first["conversation_id"]
        .as_str()
        .expect("every result has one");
    assert!(id.starts_with("conv_"), "{first}");
    let second = server
        .call_ok(
            "ask_model",
            json!({"prompt": "How many people live there?", "conversation_id": id,
                   "model": SECOND, "fallback_models": []}),
        )
        .await;
    assert_eq!(second["model"], SECOND);
    assert_eq!(second["conversation_id"], id, "the same exchange continues");
    let sent = fake.chat_requests(Some(SECOND)).await;
    assert_eq!(
        sent[0]["messages"],
        json!([
            turn("system", "Be brief."),
            turn("user", "What is the capital of France?"),
            turn("assistant", "Paris is the capital."),
            turn("user", "How many people live there?"),
        ]),
        "the second model sees the whole exchange"
    );
    let stored = transcript(&server, id).await;
    assert_eq!(stored["models"], json!([FIRST, SECOND]));
    assert_eq!(
        stored["messages"][4],
        turn("assistant", "About two million people.")
    );
    let third = server
        .call_ok(
            "ask_model",
            json!({"prompt": "And Lyon?", "system": "Answer in French.",
                   "conversation_id": id, "model": FIRST, "fallback_models": []}),
        )
        .await;
    assert_eq!(third["conversation_id"], id);
    let sent = fake.chat_requests(Some(FIRST)).await;
    let messages = sent[1]["messages"].as_array().unwrap();
    assert_eq!(
        messages[0],
        turn("system", "Answer in French."),
        "a new system replaces the old"
    );
    assert_eq!(
        messages.len(),
        6,
        "one system, two turns, the new prompt: {messages:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_new_exchange_gets_a_new_id_and_a_cached_answer_still_extends_it() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, "Forty-two.", 0.001).await;
    let server = McpServer::start(&fake).await;
    let ask = json!({"prompt": "The answer?", "model": FIRST, "fallback_models": []});
    let fresh = server.call_ok("ask_model", ask.clone()).await;
    let cached = server.call_ok("ask_model", ask).await;
    assert_eq!(cached["cached"], true, "{cached}");
    assert_ne!(fresh["conversation_id"], cached["conversation_id"]);
    let id = cached["conversation_id"].as_str().unwrap();
    server
        .call_ok(
            "ask_model",
            json!({"prompt": "Why?", "conversation_id": id, "model": FIRST, "fallback_models": []}),
        )
        .await;
    let sent = fake.chat_requests(Some(FIRST)).await;
    assert_eq!(sent.len(), 2, "the cached turn sent nothing");
    assert_eq!(
        sent[1]["messages"],
        json!([
            turn("user", "The answer?"),
            turn("assistant", "Forty-two."),
            turn("user", "Why?")
        ])
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_malformed_or_expired_conversation_is_refused_before_anything_is_sent() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, "Hello.", 0.001).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_CONVERSATION_TTL", "1s")]).await;
    let first = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": FIRST, "fallback_models": []}),
        )
        .await;
    let id = first["conversation_id"].as_str().unwrap().to_string();
    let unknown = format!("conv_{}", "0".repeat(32));
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "again", "conversation_id": unknown}),
        )
        .await;
    assert!(
        error.contains("`conversation_id`") && error.contains("unknown or has expired"),
        "{error}"
    );
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "again", "conversation_id": "../etc/passwd"}),
        )
        .await;
    assert!(
        error.contains("`conversation_id`") && error.contains("conv_"),
        "{error}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "again", "conversation_id": id}),
        )
        .await;
    assert!(
        error.contains("unknown or has expired"),
        "expired after the TTL: {error}"
    );
    assert_eq!(
        fake.chat_requests(None).await.len(),
        1,
        "only the first call was sent"
    );
    let uri = format!("switchboard://conversations/{unknown}");
    let read = server
        .client
        .read_resource(ReadResourceRequestParams::new(uri.as_str()))
        .await;
    assert!(read.is_err(), "an unknown transcript is not found");
    server.stop().await;
}

#[tokio::test]
async fn the_ask_command_continues_a_conversation_from_another_process() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(FIRST, "Blue.", 0.001).await;
    let data_dir = tempfile::tempdir().unwrap();
    let ask = |args: Vec<String>| {
        let env = base_env(&fake, data_dir.path());
        async move {
            tokio::process::Command::new(BIN)
                .arg("ask")
                .args(args)
                .env_clear()
                .envs(env)
                .output()
                .await
                .unwrap()
        }
    };
    let first = ask(vec![
        "--json".into(),
        "--model".into(),
        FIRST.into(),
        "Sky colour?".into(),
    ])
    .await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let out: Value = serde_json::from_slice(&first.stdout).unwrap();
    let id = out["conversation_id"].as_str().unwrap().to_string();
    let second = ask(vec![
        "--conversation".into(),
        id.clone(),
        "--model".into(),
        FIRST.into(),
        "Why?".into(),
    ])
    .await;
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        String::from_utf8_lossy(&second.stderr).contains(&id),
        "says how to continue"
    );
    let sent = fake.chat_requests(Some(FIRST)).await;
    assert_eq!(
        sent[1]["messages"],
        json!([
            turn("user", "Sky colour?"),
            turn("assistant", "Blue."),
            turn("user", "Why?")
        ])
    );
}
