//! OpenRouter's event stream as the decoder must take it, end to end through `ask_model`: the
//! `: OPENROUTER PROCESSING` comments are keep-alives (a stream that sends only them for longer
//! than `SWITCHBOARD_STALL_TIMEOUT` is not stalled), and lines may end with a bare CR. Runs in
//! process against the scripted raw-TCP fake.

use crate::support::InProc;
use crate::support::scripted::{self, Behaviour, ScriptedUpstream};
use serde_json::{Value, json};
use std::time::Duration;

const MODEL: &str = "openai/gpt-5-mini";
const EVERY: Duration = Duration::from_millis(100);
const KEEP_ALIVES: usize = 8;

fn chunk(content: &str, finish: Value) -> Value {
    json!({"id": "gen-cr-1", "object": "chat.completion.chunk", "model": MODEL,
           "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                        "finish_reason": finish}]})
}

#[tokio::test]
async fn keep_alives_outlast_the_stall_timeout_and_bare_cr_lines_decode() {
    let mut last = chunk("world", json!("stop"));
    last["usage"] =
        json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7, "cost": 0.0001});
    let mut pieces = vec![scripted::sse_head()];
    // 800 ms of comments only, with a 300 ms stall timeout; then the answer, every line ended
    // by a bare CR.
    pieces.extend(std::iter::repeat_n(
        b": OPENROUTER PROCESSING\r\r".to_vec(),
        KEEP_ALIVES,
    ));
    let events = format!(
        "data: {}\r\rdata: {last}\r\rdata: [DONE]\r\r",
        chunk("Hello ", Value::Null)
    );
    pieces.push(events.into_bytes());
    let upstream = ScriptedUpstream::start(&[(
        MODEL,
        Behaviour::Paced {
            pieces,
            every: EVERY,
        },
    )])
    .await;
    let server = InProc::start_at(
        &upstream.base_url,
        &[
            ("SWITCHBOARD_STALL_TIMEOUT", "300ms"),
            ("SWITCHBOARD_MAX_RETRIES", "0"),
            ("SWITCHBOARD_FALLBACK_MODELS", ""),
        ],
    )
    .await;

    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": MODEL, "cache": "bypass"}),
        )
        .await;
    assert_eq!(out["text"], "Hello world", "{out}");
    let attempts = out["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "one attempt, never stalled: {out}");
    assert_eq!(attempts[0]["outcome"], "ok", "{out}");
    assert!(
        out["latency_ms"].as_u64().unwrap() >= (EVERY.as_millis() as u64) * KEEP_ALIVES as u64,
        "the answer came after the keep-alives: {out}"
    );
    assert_eq!(upstream.requests(MODEL), 1);
    server.stop().await;
}
