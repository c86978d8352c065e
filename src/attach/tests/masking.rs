//! Done-means 4b: a realistic `.env` read through `read_files` and a prompt, masked in each mode.

use super::*;
use crate::mask::{MaskMode, Masker};

const SECRETS: [&str; 8] = [
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    "hunter2-Prod!",
    "s3cr3t",
];

const ENV_FILE: &str = r#"# production settings
APP_NAME=switchboard
LOG_LEVEL=info
DATABASE_URL=postgres://app:s3cr3t@db.internal:5432/app
DB_PASSWORD=hunter2-Prod!
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789
OPENROUTER_API_KEY=sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
SESSION_JWT=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c
BUILD_SHA=9fceb02d0ae598e95dc970b74767f19372d61af8
CACHE_DIGEST=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
REQUEST_ID=123e4567-e89b-12d3-a456-426614174000
MAX_CONNECTIONS=1234567890
TLS_KEY="-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw
-----END RSA PRIVATE KEY-----"
"#;

const PROMPT: &str =
    "Why does login fail for jane.doe@example.com? She paid with 4111 1111 1111 1111.";

fn env_attachment() -> Attachment {
    let (dir, roots) = root();
    write(dir.path(), ".env", ENV_FILE);
    let mut got = read(&[".env"], &roots).unwrap();
    assert_eq!(got.len(), 1);
    got.remove(0)
}

/// Masks the `.env` attachment and the prompt with `mode`; returns what would be sent and the counts.
fn send(mode: MaskMode) -> (String, Counts) {
    let masker = Masker::new(mode);
    let mut counts = Counts::new();
    let mut attachment = env_attachment();
    attachment.mask(&masker, &mut counts);
    let prompt = masker.mask_counting(PROMPT, &mut counts);
    let sent = serde_json::Value::Array(content_parts(&prompt, &[attachment])).to_string();
    (sent, counts)
}

fn expected_secret_counts() -> Counts {
    [
        ("aws_key", 1),
        ("aws_secret", 1),
        ("github_token", 1),
        ("jwt", 1),
        ("openrouter_key", 1),
        ("password", 2),
        ("private_key", 1),
    ]
    .into()
}

#[test]
fn secrets_mode_masks_every_secret_in_the_file_and_reports_the_counts() {
    let (sent, counts) = send(MaskMode::Secrets);
    for secret in SECRETS {
        assert!(!sent.contains(secret), "{secret} survived: {sent}");
    }
    assert_eq!(counts, expected_secret_counts());
    assert!(sent.contains("DB_PASSWORD=[masked:password]"), "{sent}");
    assert!(sent.contains("jane.doe@example.com") && sent.contains("4111 1111 1111 1111"));
    for kept in [
        "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "123e4567-e89b-12d3-a456-426614174000",
        "MAX_CONNECTIONS=1234567890",
        "APP_NAME=switchboard",
    ] {
        assert!(sent.contains(kept), "{kept} was masked: {sent}");
    }
}

#[test]
fn secrets_and_pii_mode_masks_the_email_and_card_too() {
    let (sent, counts) = send(MaskMode::SecretsAndPii);
    for gone in SECRETS
        .iter()
        .chain(&["jane.doe@example.com", "4111 1111 1111 1111"])
    {
        assert!(!sent.contains(gone), "{gone} survived: {sent}");
    }
    let mut expected = expected_secret_counts();
    expected.insert("email", 1);
    expected.insert("card", 1);
    assert_eq!(counts, expected);
    assert!(
        sent.contains("login fail for [masked:email]? She paid with [masked:card]."),
        "{sent}"
    );
    assert!(sent.contains("MAX_CONNECTIONS=1234567890"), "{sent}");
}

#[test]
fn off_sends_everything_as_is() {
    let (sent, counts) = send(MaskMode::Off);
    assert!(counts.is_empty());
    let expected = serde_json::Value::Array(content_parts(PROMPT, &[env_attachment()])).to_string();
    assert_eq!(sent, expected);
}
