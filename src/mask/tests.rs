//! Each kind the masker knows, each look-alike it must leave alone, and the three modes.

use super::*;

const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const GITHUB: &str = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
const OPENROUTER: &str =
    "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFc\n-----END RSA PRIVATE KEY-----";

fn secrets() -> Masker {
    Masker::new(MaskMode::Secrets)
}

fn pii() -> Masker {
    Masker::new(MaskMode::SecretsAndPii)
}

/// Masks `text` and asserts exactly one match of `kind`, replaced in full.
fn assert_masked_whole(masker: &Masker, text: &str, kind: &str) {
    let input = format!("value: {text} end");
    let (out, counts) = masker.mask(&input);
    assert_eq!(out, format!("value: [masked:{kind}] end"), "{text}");
    assert_eq!(counts.get(kind), Some(&1), "{counts:?}");
    assert_eq!(counts.values().sum::<u32>(), 1, "{counts:?}");
}

fn assert_untouched(masker: &Masker, text: &str) {
    let (out, counts) = masker.mask(text);
    assert!(
        matches!(out, Cow::Borrowed(_)) && counts.is_empty(),
        "{text:?} -> {out:?} {counts:?}"
    );
}

#[test]
fn mode_parses_the_three_values_and_names_the_variable_otherwise() {
    assert_eq!("off".parse::<MaskMode>().unwrap(), MaskMode::Off);
    assert_eq!("secrets".parse::<MaskMode>().unwrap(), MaskMode::Secrets);
    assert_eq!(
        "secrets,pii".parse::<MaskMode>().unwrap(),
        MaskMode::SecretsAndPii
    );
    assert_eq!(
        " PII , secrets".parse::<MaskMode>().unwrap(),
        MaskMode::SecretsAndPii
    );
    for bad in ["", "pii", "on", "secrets,pii,extra", "secret"] {
        let err = bad.parse::<MaskMode>().unwrap_err().to_string();
        assert!(
            err.contains("SWITCHBOARD_MASK") && err.contains("secrets,pii"),
            "{err}"
        );
    }
    assert_eq!(MaskMode::default(), MaskMode::Secrets);
    assert_eq!(MaskMode::SecretsAndPii.to_string(), "secrets,pii");
}

#[test]
fn each_secret_kind_is_masked_whole() {
    let m = secrets();
    assert_masked_whole(&m, PEM, "private_key");
    assert_masked_whole(&m, AWS_KEY, "aws_key");
    assert_masked_whole(&m, GITHUB, "github_token");
    assert_masked_whole(
        &m,
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "github_token",
    );
    assert_masked_whole(&m, OPENROUTER, "openrouter_key");
    assert_masked_whole(
        &m,
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGH",
        "anthropic_key",
    );
    assert_masked_whole(
        &m,
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
        "openai_key",
    );
    assert_masked_whole(&m, "sk_live_abcdefghijklmnop1234", "stripe_key");
    assert_masked_whole(&m, "xoxb-1234567890-abcdefghijkl", "slack_token");
    assert_masked_whole(
        &m,
        "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
        "google_api_key",
    );
    assert_masked_whole(&m, JWT, "jwt");
}

#[test]
fn other_private_key_blocks_and_a_cut_block_are_masked() {
    let m = secrets();
    for header in [
        "PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "EC PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ] {
        let block = format!(
            "-----BEGIN {header}-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END {header}-----"
        );
        assert_masked_whole(&m, &block, "private_key");
    }
    let cut = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7";
    let (out, _) = m.mask(cut);
    assert_eq!(out, "[masked:private_key]");
}

#[test]
fn a_key_inside_a_json_string_and_a_flattened_key_are_masked() {
    let m = secrets();
    let json = r#"{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQ==\n-----END PRIVATE KEY-----\n", "client_email": "x"}"#;
    let (out, counts) = m.mask(json);
    assert_eq!(
        out,
        r#"{"type": "service_account", "private_key": "[masked:private_key]\n", "client_email": "x"}"#
    );
    assert_eq!(counts.get("private_key"), Some(&1));
    let flat = "KEY=-----BEGIN EC PRIVATE KEY----- MHcCAQEEIIrY Zg== -----END EC PRIVATE KEY-----";
    assert_eq!(m.mask(flat).0, "KEY=[masked:private_key]");
}

#[test]
fn many_begin_lines_without_an_end_are_each_masked() {
    // 4000 headers and no END line: each is one match, found in one pass over the text.
    let text = "-----BEGIN PRIVATE KEY-----\nAAAA\n".repeat(4000);
    let (out, counts) = secrets().mask(&text);
    assert_eq!(counts.get("private_key"), Some(&4000));
    assert!(
        out == "[masked:private_key]\n".repeat(4000),
        "each header and its line are masked"
    );
}

#[test]
fn assignments_mask_only_the_value() {
    let m = secrets();
    let cases = [
        (
            "const DB_PASSWORD: &str = \"hunter2\";",
            "const DB_PASSWORD: &str = \"[masked:password]\";",
            "password",
        ),
        (
            "password: str = 'hunter2'",
            "password: str = '[masked:password]'",
            "password",
        ),
        (
            "token = \"abc(def)\"",
            "token = \"[masked:secret]\"",
            "secret",
        ),
        (
            "DB_PASSWORD=hunter2",
            "DB_PASSWORD=[masked:password]",
            "password",
        ),
        (
            "password: \"s3cr3t pass\"",
            "password: \"[masked:password]\"",
            "password",
        ),
        (
            "{\"db_passwd\": 'p@ss;word'}",
            "{\"db_passwd\": '[masked:password]'}",
            "password",
        ),
        (
            "api_key = abc123def456",
            "api_key = [masked:secret]",
            "secret",
        ),
        (
            "CLIENT_SECRET: x9y8z7w6",
            "CLIENT_SECRET: [masked:secret]",
            "secret",
        ),
        (
            "postgres://app:pa55word@db:5432/app",
            "postgres://app:[masked:password]@db:5432/app",
            "password",
        ),
        (
            "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
            "Authorization: Bearer [masked:bearer_token]",
            "bearer_token",
        ),
    ];
    for (text, expected, kind) in cases {
        let (out, counts) = m.mask(text);
        assert_eq!(out, expected);
        assert_eq!(counts.get(kind), Some(&1), "{text}: {counts:?}");
    }
}

#[test]
fn a_known_token_in_an_assignment_is_counted_once_under_its_own_kind() {
    let m = secrets();
    let text = format!(
        "AWS_ACCESS_KEY_ID={AWS_KEY}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\nGITHUB_TOKEN={GITHUB}\nOPENROUTER_API_KEY={OPENROUTER}\n"
    );
    let (out, counts) = m.mask(&text);
    assert_eq!(
        out,
        "AWS_ACCESS_KEY_ID=[masked:aws_key]\nAWS_SECRET_ACCESS_KEY=[masked:aws_secret]\nGITHUB_TOKEN=[masked:github_token]\nOPENROUTER_API_KEY=[masked:openrouter_key]\n"
    );
    let expected: Counts = [
        ("aws_key", 1),
        ("aws_secret", 1),
        ("github_token", 1),
        ("openrouter_key", 1),
    ]
    .into();
    assert_eq!(counts, expected);
}

#[test]
fn dummy_values_and_variable_reads_are_not_masked() {
    let m = secrets();
    for text in [
        "password: ${DB_PASSWORD}",
        "DB_PASSWORD=$DB_PASSWORD",
        "password = getpass()",
        "api_key=self.api_key",
        "token: {{ secrets.TOKEN }}",
        "password: <your password>",
        "password=None",
        "api_key = os.environ[\"KEY\"]",
        "password: string;",
        "fn login(user: &str, password: &str) -> bool",
        "struct Login { password: SecretString, token: Option<String> }",
        "api_token: request.headers[\"x-token\"]",
        "max_tokens: 1024",
        "let tokens = count(text);",
        "the password is never logged",
    ] {
        assert_untouched(&m, text);
    }
}

#[test]
fn look_alikes_are_not_masked_even_with_pii() {
    let m = pii();
    for text in [
        "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "id 123e4567-e89b-12d3-a456-426614174000",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 on main",
        "short sha 9fceb02",
        "took 1234567890 ns, 3.14159 s, at 1700000000000 ms",
        "order number 4111111111111112 fails its checksum",
        "version 1.2.3 and v10.20.30-beta.1, released 2024-01-15 10:30:00",
        "served from 192.168.100.200:8080",
        "base64 of prose: SGVsbG8gd29ybGQsIHRoaXMgaXMgYSB0ZXN0IG9mIGJhc2U2NA==",
        "GB00 WEST 1234 5698 7654 32 is not a valid IBAN",
        "sk-or-v1-bench and sk-test are too short to be keys",
        "a+b = 12 34 56",
    ] {
        assert_untouched(&m, text);
    }
}

#[test]
fn pii_is_masked_only_in_pii_mode() {
    let text = "mail jane.doe@example.com, card 4111 1111 1111 1111, iban GB82 WEST 1234 5698 7654 32, call +44 20 7946 0958 or (555) 123-4567";
    let (out, counts) = secrets().mask(text);
    assert_eq!(out, text);
    assert!(counts.is_empty());
    let (out, counts) = pii().mask(text);
    assert_eq!(
        out,
        "mail [masked:email], card [masked:card], iban [masked:iban], call [masked:phone] or [masked:phone]"
    );
    let expected: Counts = [("email", 1), ("card", 1), ("iban", 1), ("phone", 2)].into();
    assert_eq!(counts, expected);
}

#[test]
fn card_and_iban_checksums() {
    assert!(checks::card("4242424242424242"));
    assert!(checks::card("3782-822463-10005"));
    assert!(checks::card("5555 5555 5555 4444"));
    assert!(!checks::card("4242424242424241"));
    assert!(
        !checks::card("1234567812345670"),
        "Luhn-valid but no issuer starts with 1"
    );
    assert!(checks::iban("DE89370400440532013000"));
    assert!(checks::iban("GB82 WEST 1234 5698 7654 32"));
    assert!(!checks::iban("DE89370400440532013001"));
}

#[test]
fn off_masks_nothing() {
    let m = Masker::new(MaskMode::Off);
    let text = format!("{PEM}\n{AWS_KEY}\nDB_PASSWORD=hunter2\njane@example.com");
    assert_untouched(&m, &text);
    assert_eq!(m.mode(), MaskMode::Off);
}

#[test]
fn counts_merge_across_texts() {
    let m = secrets();
    let mut total = Counts::new();
    let first = m.mask_counting("PASSWORD=abc123", &mut total).into_owned();
    let (_, more) = m.mask(&format!("{GITHUB} {GITHUB}"));
    merge(&mut total, &more);
    assert_eq!(first, "PASSWORD=[masked:password]");
    let expected: Counts = [("github_token", 2), ("password", 1)].into();
    assert_eq!(total, expected);
}

#[test]
fn masking_is_idempotent() {
    let m = pii();
    let text = format!("{JWT} DB_PASSWORD=hunter2 jane@example.com");
    let (once, _) = m.mask(&text);
    let (twice, counts) = m.mask(&once);
    assert_eq!(once, twice);
    assert!(counts.is_empty(), "{counts:?}");
}
