//! The shell commands reuse the tools: `models`, `cost`, `ask`, `check`.

use crate::support::FakeOpenRouter;
use crate::support::mcp::{BIN, base_env};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

async fn run(
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

#[tokio::test]
async fn models_prints_a_table_or_the_tool_json() {
    let fake = FakeOpenRouter::start().await;
    let (code, stdout, _) = run(&fake, &["models", "--provider", "anthropic"], &[]).await;
    assert_eq!(code, 0);
    assert!(
        stdout.contains("anthropic/claude-sonnet-4.5")
            && stdout.contains("$3")
            && stdout.contains("$15"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&fake, &["models", "--json", "--free-only"], &[]).await;
    assert_eq!(code, 0);
    let out: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["total"], 1);
    assert_eq!(
        out["models"][0]["id"],
        "meta-llama/llama-3.3-70b-instruct:free"
    );
}

#[tokio::test]
async fn cost_prices_a_prompt_file_or_a_token_count() {
    let fake = FakeOpenRouter::start().await;
    let (code, stdout, _) = run(
        &fake,
        &[
            "cost",
            "--model",
            "anthropic/claude-sonnet-4.5",
            "--prompt-tokens",
            "1000",
            "--completion-tokens",
            "500",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0);
    let out: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["estimates"][0]["total_cost_usd"], 0.0105);
    let prompt = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(prompt.path(), "Hello, world!").unwrap();
    let file = prompt.path().to_str().unwrap();
    let (code, stdout, _) = run(
        &fake,
        &[
            "cost",
            "--model",
            "openai/gpt-5-mini",
            "--prompt-file",
            file,
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0);
    assert!(
        stdout.contains("openai/gpt-5-mini") && stdout.contains("o200k_base"),
        "{stdout}"
    );
}

#[tokio::test]
async fn ask_prints_the_answer() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("openai/gpt-5-mini", "forty-two", 0.0001).await;
    let (code, stdout, _) = run(&fake, &["ask", "what is the answer?"], &[]).await;
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "forty-two");
}

#[tokio::test]
async fn check_passes_with_a_valid_key_and_fails_without_one() {
    let fake = FakeOpenRouter::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": {"label": "sk-or-v1-abc...xyz", "limit": 10.0, "limit_remaining": 7.5, "usage": 2.5, "is_free_tier": false}
        })))
        .mount(&fake.server)
        .await;
    let (code, stdout, _) = run(&fake, &["check"], &[]).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("key: valid, limit $10, used $2.5"),
        "{stdout}"
    );
    assert!(stdout.contains("catalog: 9 models, live"), "{stdout}");

    let (code, stdout, _) = run(&fake, &["check"], &[("OPENROUTER_API_KEY", "")]).await;
    assert_eq!(code, 1);
    assert!(
        stdout.contains("FAIL key: OPENROUTER_API_KEY is not set"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_bad_setting_fails_fast_and_names_it() {
    let fake = FakeOpenRouter::start().await;
    let (code, _, stderr) = run(&fake, &["check"], &[("SWITCHBOARD_TIMEOUT", "forever")]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("SWITCHBOARD_TIMEOUT is not valid"),
        "{stderr}"
    );
}
