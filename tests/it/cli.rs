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

async fn mount_key(fake: &FakeOpenRouter) {
    Mock::given(method("GET"))
        .and(path("/api/v1/key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": {"label": "sk-or-v1-abc...xyz", "limit": 10.0, "limit_remaining": 7.5, "usage": 2.5, "is_free_tier": false}
        })))
        .mount(&fake.server)
        .await;
}

#[tokio::test]
async fn check_fails_on_a_mistyped_default_or_fallback_model_and_names_the_setting() {
    let fake = FakeOpenRouter::start().await;
    mount_key(&fake).await;
    let (code, stdout, _) = run(
        &fake,
        &["check"],
        &[("SWITCHBOARD_DEFAULT_MODEL", "openai/gpt-5-mnii")],
    )
    .await;
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL models: SWITCHBOARD_DEFAULT_MODEL names `openai/gpt-5-mnii`")
            && stdout.contains("closest ids: openai/gpt-5-mini"),
        "{stdout}"
    );
    let (code, stdout, _) = run(
        &fake,
        &["check"],
        &[(
            "SWITCHBOARD_FALLBACK_MODELS",
            "google/gemini-2.5-flash,anthropic/claude-sonet-4.5",
        )],
    )
    .await;
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "FAIL models: SWITCHBOARD_FALLBACK_MODELS names `anthropic/claude-sonet-4.5`"
        ) && stdout.contains("anthropic/claude-sonnet-4.5"),
        "{stdout}"
    );
}

#[tokio::test]
async fn check_opens_the_store_and_fails_on_a_corrupt_file_with_its_path() {
    let fake = FakeOpenRouter::start().await;
    mount_key(&fake).await;
    let data_dir = tempfile::tempdir().unwrap();
    let db = data_dir.path().join("switchboard.db");
    std::fs::write(&db, vec![0x5a_u8; 8192]).unwrap();
    let dir = data_dir.path().to_str().unwrap();
    let (code, stdout, _) = run(&fake, &["check"], &[("SWITCHBOARD_DATA_DIR", dir)]).await;
    assert_eq!(code, 1, "{stdout}");
    let store = stdout
        .lines()
        .find(|l| l.get(5..).is_some_and(|rest| rest.starts_with("store:")))
        .unwrap_or_default();
    assert!(
        store.starts_with("FAIL")
            && store.contains(db.to_str().unwrap())
            && store.contains("move the file aside"),
        "{stdout}"
    );
}
