//! `compare_models` asks its models at the same time: three models each held back 1 s by the
//! fake answer in well under the 3 s a one-at-a-time walk would take. The 2.5 s bound is a bound
//! on concurrency (sequential is at least 3 s), not a speed claim. Runs in process.

use crate::support::{FakeOpenRouter, InProc, fake};
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const MODELS: [&str; 3] = [
    "x-ai/grok-4",
    "openai/gpt-5-mini",
    "anthropic/claude-sonnet-4.5",
];
const DELAY: Duration = Duration::from_secs(1);

#[tokio::test]
async fn three_models_delayed_one_second_each_answer_in_well_under_three_seconds() {
    let upstream = FakeOpenRouter::start().await;
    for model in MODELS {
        Mock::given(method("POST"))
            .and(path(fake::CHAT))
            .and(body_partial_json(json!({ "model": model })))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(
                        fake::sse_answer(model, &format!("{model} answers"), 0.001),
                        "text/event-stream",
                    )
                    .set_delay(DELAY),
            )
            .mount(&upstream.server)
            .await;
    }
    let server = InProc::start(&upstream).await;
    // The catalog is fetched first, so the clock times only the three asks.
    server.call_ok("list_models", json!({"limit": 1})).await;

    let started = Instant::now();
    let out = server
        .call_ok(
            "compare_models",
            json!({"prompt": "go", "models": MODELS, "cache": "bypass"}),
        )
        .await;
    let wall = started.elapsed();

    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for (result, model) in results.iter().zip(MODELS) {
        assert_eq!(result["ok"], true, "{result}");
        assert_eq!(result["text"], format!("{model} answers"));
        assert!(
            result["latency_ms"].as_u64().unwrap() >= 1000,
            "each model really waited: {result}"
        );
    }
    assert_eq!(upstream.chat_requests(None).await.len(), 3);
    assert!(
        wall < Duration::from_millis(2500),
        "three 1 s models took {wall:?}: they were not asked at the same time"
    );
    server.stop().await;
}
