//! `SWITCHBOARD_MASK` end to end: secrets in an attached file and PII in the prompt, checked in
//! the request the fake OpenRouter received, in the data dir's bytes (cache and store) and in
//! the `masked` counts; look-alikes pass untouched.

use crate::support::{FakeOpenRouter, McpServer};
use serde_json::{Value, json};
use std::path::Path;

const MODEL: &str = "openai/gpt-5-mini";

const PRIVATE_KEY_BODY: &str = "MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi8M2d6ZqXk3gYn1JxQbq5TnWvE";
const AWS_KEY: &str = "AKIAZ7QXJ4M2N5P6R8ST";
const AWS_SECRET: &str = "Jq9rT2vX5yB8eH1kM4pS7uW0zC3fG6iL9oR2tV5x";
const GITHUB_TOKEN: &str = "ghp_8Kd2LmQ9xRt4VwZ7bNc1FgH5jPs3YeA6uTo0";
const OPENROUTER_KEY: &str =
    "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";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MjQyIiwibmFtZSI6IkphbmUifQ.Xk3vQ9pL2mN8rT5wY1zB4cF7hJ0sD6gK";
const DB_PASSWORD: &str = "Tr0ub4dor-and-3";
const EMAIL: &str = "jane.doe@example.com";
const CARD: &str = "4111 1111 1111 1111";
// Look-alikes: never masked.
const SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const UUID: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
const NUMBER: &str = "order 7734 shipped 250 units";

fn secret_file() -> String {
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{PRIVATE_KEY_BODY}\n{PRIVATE_KEY_BODY}\n-----END RSA PRIVATE KEY-----\n\
         aws_access_key_id = {AWS_KEY}\n\
         aws_secret_access_key = {AWS_SECRET}\n\
         # ci uses {GITHUB_TOKEN}\n\
         # router {OPENROUTER_KEY}\n\
         session: {JWT}\n\
         DB_PASSWORD={DB_PASSWORD}\n\
         checksum {SHA256}\nid {UUID}\n{NUMBER}\n"
    )
}

const SECRETS: [&str; 7] = [
    PRIVATE_KEY_BODY,
    AWS_KEY,
    AWS_SECRET,
    GITHUB_TOKEN,
    OPENROUTER_KEY,
    JWT,
    DB_PASSWORD,
];

/// Asks once with the secret file attached under `mode`; returns the output, the request body
/// as text, and every byte the data dir held after the server stopped.
async fn ask_with_mask(mode: &str) -> (Value, String, Vec<u8>) {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "Rotate them.", 0.001).await;
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prod.env"), secret_file()).unwrap();
    let roots = dir.path().display().to_string();
    let data_dir = data.path().display().to_string();
    let env = [
        ("SWITCHBOARD_FILE_ROOTS", roots.as_str()),
        ("SWITCHBOARD_MASK", mode),
        ("SWITCHBOARD_CACHE", "sqlite"),
        ("SWITCHBOARD_DATA_DIR", data_dir.as_str()),
    ];
    let server = McpServer::start_with(&fake, &env).await;
    let args = json!({"prompt": format!("Mail {EMAIL}, card {CARD}: what leaked?"),
                      "system": "Be brief.", "model": MODEL, "files": ["prod.env"]});
    let out = server.call_ok("ask_model", args.clone()).await;
    let again = server.call_ok("ask_model", args).await;
    assert_eq!(
        again["cached"], true,
        "the same masked request is a cache hit"
    );
    assert_eq!(again.get("masked"), out.get("masked"));
    server.stop().await;
    let requests = fake.chat_requests(Some(MODEL)).await;
    assert_eq!(requests.len(), 1);
    (out, requests[0].to_string(), dir_bytes(data.path()))
}

fn dir_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_file() {
            bytes.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn assert_look_alikes_sent(body: &str) {
    for kept in [SHA256, UUID, NUMBER] {
        assert!(body.contains(kept), "{kept} must be sent as is");
    }
}

#[tokio::test]
async fn by_default_secrets_are_masked_everywhere_and_counted_and_pii_is_sent() {
    let (out, body, stored) = ask_with_mask("secrets").await;
    for secret in SECRETS {
        assert!(!body.contains(secret), "{secret} reached the upstream");
        assert!(!contains(&stored, secret), "{secret} reached the data dir");
    }
    assert!(
        body.contains("[masked:private_key]") && body.contains("DB_PASSWORD=[masked:password]")
    );
    assert!(
        body.contains(EMAIL) && body.contains(CARD),
        "PII is masked only with pii"
    );
    assert_look_alikes_sent(&body);
    assert_eq!(
        out["masked"],
        json!({"private_key": 1, "aws_key": 1, "aws_secret": 1, "github_token": 1,
               "openrouter_key": 1, "jwt": 1, "password": 1})
    );
}

#[tokio::test]
async fn with_pii_the_email_and_card_are_masked_too() {
    let (out, body, stored) = ask_with_mask("secrets,pii").await;
    for hidden in SECRETS.iter().chain(&[EMAIL, CARD]) {
        assert!(!body.contains(hidden), "{hidden} reached the upstream");
        assert!(!contains(&stored, hidden), "{hidden} reached the data dir");
    }
    assert!(body.contains("Mail [masked:email], card [masked:card]"));
    assert_look_alikes_sent(&body);
    assert_eq!(out["masked"]["email"], 1);
    assert_eq!(out["masked"]["card"], 1);
    assert_eq!(out["masked"]["jwt"], 1);
}

#[tokio::test]
async fn with_off_everything_is_sent_as_is() {
    let (out, body, _) = ask_with_mask("off").await;
    for sent in SECRETS.iter().chain(&[EMAIL, CARD]) {
        assert!(
            body.contains(sent),
            "{sent} should be sent with masking off"
        );
    }
    assert!(!body.contains("[masked:"));
    assert!(out.get("masked").is_none(), "{out}");
}
