//! Long answers never look like a hung tool: progress while streaming, and cancellation that
//! drops the upstream request at once.

use crate::support::McpServer;
use crate::support::mcp::params;
use crate::support::scripted::{Behaviour, ScriptedUpstream};
use rmcp::model::{
    CallToolRequest, ClientRequest, NumberOrString, ProgressToken, RequestMetaObject,
};
use rmcp::service::PeerRequestOptions;
use serde_json::json;
use std::time::{Duration, Instant};

const SLOW: &str = "openai/gpt-5-mini";

fn with_progress_token(tool: &str, arguments: serde_json::Value) -> ClientRequest {
    let mut call = params(tool, arguments);
    call.meta = Some(RequestMetaObject::with_progress_token(ProgressToken(
        NumberOrString::Number(7),
    )));
    ClientRequest::CallToolRequest(CallToolRequest::new(call))
}

#[tokio::test]
async fn a_slow_answer_reports_increasing_progress_from_early_on() {
    let every = Duration::from_millis(250);
    let upstream =
        ScriptedUpstream::start(&[(SLOW, Behaviour::Stream { chunks: 12, every })]).await;
    let server = McpServer::start_at(&upstream.base_url, &[]).await;
    let request = with_progress_token(
        "ask_model",
        json!({"prompt": "tell me slowly", "fallback_models": []}),
    );
    let handle = server
        .client
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .unwrap();
    let response = handle.await_response().await.unwrap();
    let answered = Instant::now();
    assert!(format!("{response:?}").contains("word11"), "{response:?}");

    let seen = server.progress.progress.lock().unwrap().clone();
    assert!(seen.len() >= 3, "progress notifications: {seen:?}");
    assert!(
        seen.windows(2).all(|w| w[1].0 > w[0].0),
        "progress increases: {seen:?}"
    );
    assert!(
        answered - seen[0].2 > Duration::from_secs(1),
        "the first came well before the answer"
    );
    assert!(
        seen.iter().any(|(_, m, _)| m
            .as_deref()
            .is_some_and(|m| m.contains("characters received"))),
        "{seen:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn cancelling_drops_the_upstream_request_and_the_server_keeps_serving() {
    let every = Duration::from_millis(100);
    let upstream =
        ScriptedUpstream::start(&[(SLOW, Behaviour::Stream { chunks: 600, every })]).await;
    let server = McpServer::start_at(&upstream.base_url, &[]).await;
    let request = with_progress_token(
        "ask_model",
        json!({"prompt": "a very long answer", "fallback_models": []}),
    );
    let handle = server
        .client
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .unwrap();
    while upstream.log.lock().unwrap().chunks_sent < 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled = Instant::now();
    handle.cancel(Some("changed my mind".into())).await.unwrap();
    let dropped = loop {
        if let Some(at) = upstream.log.lock().unwrap().dropped_at {
            break at;
        }
        assert!(
            cancelled.elapsed() < Duration::from_secs(5),
            "upstream never saw the connection close"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        dropped.duration_since(cancelled) < Duration::from_secs(1),
        "dropped {:?} after cancel",
        dropped - cancelled
    );
    assert!(upstream.log.lock().unwrap().chunks_sent < 600);

    let out = server.call_ok("list_models", json!({"limit": 1})).await;
    assert_eq!(out["total"], 9, "still serving");
    server.stop().await;
}
