//! The fault matrix: every upstream status class, `Retry-After` form, body shape and stream
//! failure, and a `/models` that never answers. Whatever upstream does, every call gets its reply
//! (an answer or a clear tool error) within `SWITCHBOARD_TIMEOUT` + 1 s. The cases run at once
//! through one server process per catalog behaviour, against the raw-TCP scripted fake.

use crate::support::McpServer;
use crate::support::mcp::text;
use crate::support::scripted::{self, Behaviour, End, RetryAfter, ScriptedUpstream};
use futures_util::future::join_all;
use serde_json::json;
use std::time::{Duration, Instant};

const FIRST: &str = "openai/gpt-5-mini";
/// Answers every case that reaches it.
const GOOD: &str = "google/gemini-2.5-flash";
/// Fails like the first model, in the cases where no model can answer.
const BAD: &str = "anthropic/claude-sonnet-4.5";
const TIMEOUT: Duration = Duration::from_secs(3);
/// The promise: a reply within the call deadline plus one second.
const BOUND: Duration = Duration::from_secs(4);

/// What a case must come to, besides arriving in time.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// The good fallback answers.
    Answer,
    /// A tool error (the chain holds no model that can answer).
    Error,
    /// Either, depending on timing (waits close to the deadline).
    Either,
}

struct Case {
    name: String,
    first: Behaviour,
    /// With `Expect::Error`, the fallback fails the same way.
    expect: Expect,
}

fn case(name: impl Into<String>, first: Behaviour, expect: Expect) -> Case {
    Case {
        name: name.into(),
        first,
        expect,
    }
}

fn respond(status: u16, retry_after: Option<RetryAfter>, body: Vec<u8>) -> Behaviour {
    Behaviour::Respond {
        status,
        retry_after,
        content_type: "application/json",
        body,
    }
}

fn stream_then(body: &str, end: End) -> Behaviour {
    let mut bytes = scripted::sse_head();
    bytes.extend_from_slice(body.as_bytes());
    Behaviour::Raw { bytes, end }
}

fn status_cases() -> Vec<Case> {
    let statuses = [
        400, 401, 402, 403, 404, 408, 413, 429, 500, 502, 503, 504, 529,
    ];
    let mut cases: Vec<Case> = statuses
        .iter()
        .map(|&status| {
            let expect = if matches!(status, 401 | 402) {
                Expect::Error
            } else {
                Expect::Answer
            };
            let first = respond(status, None, scripted::error_body(status));
            case(format!("status-{status}"), first, expect)
        })
        .collect();
    cases.push(case(
        "both-502",
        respond(502, None, scripted::error_body(502)),
        Expect::Error,
    ));
    cases
}

fn retry_after_cases() -> Vec<Case> {
    let value = |text: &str| Some(RetryAfter::Value(text.to_string()));
    let forms = [
        ("absent", None, Expect::Answer),
        ("zero", value("0"), Expect::Answer),
        ("two", value("2"), Expect::Either),
        ("negative", value("-1"), Expect::Answer),
        ("1e19", value("1e19"), Expect::Answer),
        ("1e20", value("1e20"), Expect::Answer),
        ("nan", value("NaN"), Expect::Answer),
        ("date-ahead", Some(RetryAfter::DateIn(1)), Expect::Either),
        ("date-past", Some(RetryAfter::DateIn(-30)), Expect::Answer),
        ("garbage", value("soon-ish"), Expect::Answer),
    ];
    let mut cases = Vec::new();
    for status in [429, 503] {
        for (form, retry_after, expect) in &forms {
            let first = respond(status, retry_after.clone(), scripted::error_body(status));
            cases.push(case(format!("ra-{status}-{form}"), first, *expect));
        }
    }
    for form in ["1e19", "1e20"] {
        let first = respond(429, value(form), scripted::error_body(429));
        cases.push(case(format!("both-429-{form}"), first, Expect::Error));
    }
    cases
}

fn body_cases() -> Vec<Case> {
    let huge = json!({"error": {"code": 500, "message": "x".repeat(4 * 1024 * 1024)}});
    let bodies: [(&str, Vec<u8>); 6] = [
        ("empty", Vec::new()),
        ("not-json", b"this is not json".to_vec()),
        (
            "html",
            b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
        ),
        ("truncated", br#"{"error":{"code":500,"mess"#.to_vec()),
        ("error-object", scripted::error_body(500)),
        ("huge", huge.to_string().into_bytes()),
    ];
    let mut cases = Vec::new();
    for status in [200, 204, 400, 500] {
        for (shape, body) in &bodies {
            if status == 204 && !body.is_empty() {
                continue;
            }
            let first = respond(status, None, body.clone());
            cases.push(case(
                format!("body-{status}-{shape}"),
                first,
                Expect::Answer,
            ));
        }
    }
    let html = Behaviour::Respond {
        status: 502,
        retry_after: None,
        content_type: "text/html",
        body: b"<html>bad gateway</html>".to_vec(),
    };
    cases.push(case("both-html-502", html, Expect::Error));
    cases
}

fn stream_cases() -> Vec<Case> {
    let content = r#"data: {"id":"g","model":"m","choices":[{"index":0,"delta":{"content":"partial "},"finish_reason":null}]}"#;
    let failure = r#"data: {"id":"g","model":"m","error":{"code":502,"message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#;
    let keep_alive = End::KeepAlive(Duration::from_millis(100));
    vec![
        case("reset-before-headers", Behaviour::Reset, Expect::Answer),
        case(
            "reset-after-headers",
            stream_then(": OPENROUTER PROCESSING\n\n", End::Reset),
            Expect::Answer,
        ),
        case(
            "cut-mid-chunk",
            stream_then(
                &format!("{content}\n\ndata: {{\"id\":\"g\",\"cho"),
                End::Close,
            ),
            Expect::Answer,
        ),
        case(
            "invalid-json-data",
            stream_then("data: {not json}\n\ndata: [DONE]\n\n", End::Close),
            Expect::Answer,
        ),
        case(
            "midstream-error",
            stream_then(
                &format!("{content}\n\n{failure}\n\ndata: [DONE]\n\n"),
                End::Close,
            ),
            Expect::Answer,
        ),
        case("sse-empty", stream_then("", End::Close), Expect::Answer),
        case(
            "never-ends",
            stream_then(&format!("{content}\n\n"), End::Hang),
            Expect::Error,
        ),
        case(
            "keep-alive-forever",
            stream_then(": OPENROUTER PROCESSING\n\n", keep_alive),
            Expect::Error,
        ),
        case("no-headers-ever", Behaviour::Stall, Expect::Error),
    ]
}

fn all_cases() -> Vec<Case> {
    [
        status_cases(),
        retry_after_cases(),
        body_cases(),
        stream_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The script: each case's behaviour on the first model (and on the failing fallback when no
/// model should answer), and a good fallback for everyone else.
fn script(cases: &[Case]) -> Vec<(String, Behaviour)> {
    let mut script = vec![(
        GOOD.to_string(),
        Behaviour::Stream {
            chunks: 2,
            every: Duration::from_millis(1),
        },
    )];
    for case in cases {
        script.push((format!("{}|{FIRST}", case.name), case.first.clone()));
        if case.expect == Expect::Error {
            script.push((format!("{}|{BAD}", case.name), case.first.clone()));
        }
    }
    script
}

/// Runs one case; returns what went wrong, if anything.
async fn run(server: &McpServer, case: &Case) -> Option<String> {
    let fallback = if case.expect == Expect::Error {
        BAD
    } else {
        GOOD
    };
    let arguments = json!({
        "prompt": format!("[case:{}] say hi", case.name),
        "model": FIRST,
        "fallback_models": [fallback],
        "cache": "bypass",
        "max_tokens": 16,
    });
    let started = Instant::now();
    let Ok(result) = tokio::time::timeout(BOUND, server.call("ask_model", arguments)).await else {
        return Some(format!("{}: no reply within {BOUND:?}", case.name));
    };
    let elapsed = started.elapsed();
    let failed = result.is_error == Some(true);
    let body = text(&result);
    let wrong = match case.expect {
        Expect::Answer => failed || result.structured_content.as_ref().unwrap()["model"] != GOOD,
        Expect::Error => !failed || !body.contains("attempts:"),
        Expect::Either => failed && !body.contains("attempts:"),
    };
    (wrong || elapsed >= BOUND || body.is_empty())
        .then(|| format!("{} ({elapsed:?}, {:?}): {body}", case.name, case.expect))
}

/// Starts a server on `upstream` and runs `cases` at once; returns the failures.
async fn run_all(upstream: &ScriptedUpstream, cases: &[Case]) -> Vec<String> {
    let timeout = format!("{}s", TIMEOUT.as_secs());
    let env = [
        ("SWITCHBOARD_TIMEOUT", timeout.as_str()),
        ("SWITCHBOARD_COOLDOWN", "1ms"),
        ("RUST_LOG", "warn"),
    ];
    let server = McpServer::start_at(&upstream.base_url, &env).await;
    let failures = join_all(cases.iter().map(|case| run(&server, case))).await;
    server.stop().await;
    failures.into_iter().flatten().collect()
}

#[tokio::test]
async fn every_fault_gets_a_reply_within_the_deadline() {
    let cases = all_cases();
    let owned = script(&cases);
    let behaviours: Vec<(&str, Behaviour)> =
        owned.iter().map(|(k, b)| (k.as_str(), b.clone())).collect();
    let upstream = ScriptedUpstream::start(&behaviours).await;

    // The same faults again with a catalog that never answers, on a sample of the cases.
    let sample: Vec<Case> = cases
        .iter()
        .step_by(4)
        .map(|c| case(c.name.clone(), c.first.clone(), c.expect))
        .collect();
    let mut stalled = behaviours.clone();
    stalled.push(("/models", Behaviour::Stall));
    let no_catalog = ScriptedUpstream::start(&stalled).await;

    let (mut failures, more) =
        tokio::join!(run_all(&upstream, &cases), run_all(&no_catalog, &sample));
    failures.extend(more.into_iter().map(|f| format!("/models stalled: {f}")));
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len() + sample.len(),
        failures.join("\n")
    );
    assert!(
        upstream.requests(FIRST) >= cases.len(),
        "every case reached upstream"
    );
}
