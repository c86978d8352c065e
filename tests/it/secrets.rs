//! The API key never appears in tool output, errors, stdout or stderr, even when upstream echoes
//! it back and logging is at its most verbose.

use crate::support::mcp::{BIN, base_env};
use crate::support::{FakeOpenRouter, McpServer, TEST_KEY};
use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{method, path};

async fn echoing_fake() -> FakeOpenRouter {
    let fake = FakeOpenRouter::start().await;
    let echo = format!("Invalid API key: {TEST_KEY}");
    fake.fail("openai/gpt-5-mini", 400, &echo).await;
    fake.fail("google/gemini-2.5-flash", 401, &echo).await;
    fake.fail("x-ai/grok-4", 503, &echo).await;
    let answer = format!("Sure! Your key is {TEST_KEY}.");
    fake.answer("anthropic/claude-sonnet-4.5", &answer, 0.001)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/key"))
        .respond_with(crate::support::fake::error(401, &echo))
        .mount(&fake.server)
        .await;
    fake
}

#[tokio::test]
async fn the_key_never_leaves_the_process() {
    let fake = echoing_fake().await;
    let server = McpServer::start_with(&fake, &[("RUST_LOG", "trace")]).await;
    let mut seen = String::new();
    for (tool, args) in [
        ("ask_model", json!({"prompt": "hi"})),
        (
            "ask_model",
            json!({"prompt": "what is my key?", "model": "anthropic/claude-sonnet-4.5"}),
        ),
        (
            "compare_models",
            json!({"prompt": "hi", "models": ["x-ai/grok-4", "openai/gpt-5-mini"]}),
        ),
        ("list_models", json!({})),
        (
            "estimate_cost",
            json!({"model": "openai/gpt-5-mini", "prompt": "hi"}),
        ),
    ] {
        let result = server.call(tool, args).await;
        seen.push_str(&serde_json::to_string(&result).unwrap());
    }
    assert!(
        seen.contains("[redacted]"),
        "the echoed key was redacted, not dropped: {seen}"
    );
    let stderr = server.stop().await;
    assert!(
        stderr.contains("DEBUG") || stderr.contains("TRACE"),
        "verbose logs were on"
    );
    assert!(!seen.contains(TEST_KEY), "tool output leaked the key");
    assert!(!stderr.contains(TEST_KEY), "stderr leaked the key");
}

#[tokio::test]
async fn the_shell_commands_never_print_the_key() {
    let fake = echoing_fake().await;
    let data_dir = tempfile::tempdir().unwrap();
    for args in [vec!["ask", "hi"], vec!["check"], vec!["models", "--json"]] {
        let output = tokio::process::Command::new(BIN)
            .args(&args)
            .env_clear()
            .envs(base_env(&fake, data_dir.path()))
            .env("RUST_LOG", "trace")
            .output()
            .await
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !all.contains(TEST_KEY),
            "`{}` leaked the key",
            args.join(" ")
        );
    }
}
