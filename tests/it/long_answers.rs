//! Answers that are never silently cut: `max_tokens` clamped to what the model can send, and
//! the reasoning tokens reported, against a fake model that reasons before it answers.

use crate::support::fake::ReasoningModel;
use crate::support::{FakeOpenRouter, McpServer};
use serde_json::json;

const SONNET: &str = "anthropic/claude-sonnet-4.5";

fn thinker(reasoning: u64, answer: &str) -> ReasoningModel {
    ReasoningModel {
        reasoning,
        answer: answer.to_string(),
        usd_per_token: 0.000_001,
    }
}

#[tokio::test]
async fn max_tokens_above_the_models_completion_limit_is_clamped_and_said_in_the_attempt() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(5, "Short and complete."))
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": SONNET, "fallback_models": [], "max_tokens": 100000}),
        )
        .await;
    assert_eq!(out["text"], "Short and complete.");
    let sent = fake.chat_requests(Some(SONNET)).await;
    assert_eq!(
        sent[0]["max_tokens"], 64000,
        "the catalog's top_provider.max_completion_tokens for {SONNET} is 64000"
    );
    let note = out["attempts"][0]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("max_tokens clamped from 100000 to 64000"),
        "the attempt says what was sent: {out}"
    );
    server.stop().await;
}

#[tokio::test]
async fn reasoning_tokens_are_reported_in_the_usage() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(300, "Four words of answer."))
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": SONNET, "fallback_models": [], "max_tokens": 1000}),
        )
        .await;
    assert_eq!(out["text"], "Four words of answer.");
    assert_eq!(out["finish_reason"], "stop");
    assert_eq!(out["usage"]["reasoning_tokens"], 300);
    assert_eq!(
        out["usage"]["completion_tokens"], 304,
        "reasoning counts as completion tokens"
    );
    server.stop().await;
}

/// `n` numbered words ending in a full stop: one token each for the fake.
fn words(n: usize) -> String {
    let words: Vec<String> = (1..=n).map(|i| format!("word{i}")).collect();
    format!("{}.", words.join(" "))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[tokio::test]
async fn an_answer_cut_once_is_completed_seamlessly_and_both_requests_are_paid_for() {
    let fake = FakeOpenRouter::start().await;
    let answer = words(30);
    fake.reasoning(SONNET, thinker(10, &answer)).await;
    let server = McpServer::start(&fake).await;
    let ask = json!({"prompt": "count", "model": SONNET, "fallback_models": [], "max_tokens": 30});
    let out = server.call_ok("ask_model", ask.clone()).await;

    assert_eq!(out["text"], answer.as_str(), "joined exactly as sent whole");
    assert_eq!(out["finish_reason"], "stop");
    assert_eq!(out["continuations"], 1);
    assert_eq!(out["truncated"], false);
    let sent = fake.chat_requests(Some(SONNET)).await;
    assert_eq!(sent.len(), 2, "one request and one continuation");
    let partial = sent[1]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(partial["role"], "assistant");
    assert!(answer.starts_with(partial["content"].as_str().unwrap()));
    // 10 prompt + 30 completion tokens, then 20 prompt + 20 completion, at $1 per 1M tokens.
    assert_eq!(out["usage"]["completion_tokens"], 50);
    assert_eq!(out["usage"]["reasoning_tokens"], 20);
    let cost = out["usage"]["cost_usd"].as_f64().unwrap();
    assert!(close(cost, 0.00008), "both requests are counted: {cost}");
    assert_eq!(out["attempts"].as_array().unwrap().len(), 2, "{out}");

    let again = server.call_ok("ask_model", ask).await;
    assert_eq!(again["cached"], true, "a completed answer is cached");
    assert_eq!(again["text"], answer.as_str());
    server.stop().await;
}

#[tokio::test]
async fn an_answer_still_cut_after_the_continuation_limit_is_truncated_and_never_cached() {
    let fake = FakeOpenRouter::start().await;
    let answer = words(100);
    fake.reasoning(SONNET, thinker(0, &answer)).await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_MAX_CONTINUATIONS", "1")]).await;
    let ask = json!({"prompt": "count", "model": SONNET, "fallback_models": [], "max_tokens": 20});
    let out = server.call_ok("ask_model", ask.clone()).await;

    assert_eq!(out["truncated"], true, "{out}");
    assert_eq!(out["continuations"], 1);
    assert_eq!(out["finish_reason"], "length");
    let text = out["text"].as_str().unwrap();
    assert!(
        answer.starts_with(text),
        "the parts join without loss: {text}"
    );
    assert_eq!(
        text,
        format!("{} ", ReasoningModel::tokens(&answer)[..40].concat()).trim_end()
    );
    assert_eq!(fake.chat_requests(Some(SONNET)).await.len(), 2);

    let again = server.call_ok("ask_model", ask).await;
    assert_eq!(again["cached"], false, "a truncated answer is never cached");
    assert_eq!(fake.chat_requests(Some(SONNET)).await.len(), 4);
    server.stop().await;
}

#[tokio::test]
async fn continuations_whose_worst_case_passes_max_cost_usd_are_not_sent() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(0, &words(100))).await;
    let server = McpServer::start(&fake).await;
    // One request: ~8 prompt tokens at $3/1M + 20 at $15/1M = $0.000324; with the default two
    // continuations (each resending the answer so far) the worst case is about $0.0012.
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "count", "model": SONNET, "fallback_models": [], "max_tokens": 20,
                   "max_cost_usd": 0.0005}),
        )
        .await;
    assert_eq!(out["truncated"], true, "{out}");
    assert_eq!(out["continuations"], 0);
    assert_eq!(fake.chat_requests(Some(SONNET)).await.len(), 1);

    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "count", "model": SONNET, "fallback_models": [], "max_tokens": 20,
                   "max_cost_usd": 0.01, "cache": "bypass"}),
        )
        .await;
    assert_eq!(out["continuations"], 2, "{out}");
    assert_eq!(fake.chat_requests(Some(SONNET)).await.len(), 4);
    server.stop().await;
}

#[tokio::test]
async fn a_continuation_that_would_pass_the_budget_is_not_sent() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(0, &words(100))).await;
    // The first request's worst case ($0.000324) fits; with the first continuation's
    // (about $0.0004 more) it does not.
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_BUDGET_USD", "0.0005")]).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "count", "model": SONNET, "fallback_models": [], "max_tokens": 20}),
        )
        .await;
    assert_eq!(out["truncated"], true, "{out}");
    assert_eq!(out["continuations"], 0);
    assert_eq!(fake.chat_requests(Some(SONNET)).await.len(), 1);
    let status = server.call_ok("account_status", json!({})).await;
    let spent = status["budget"]["spent_usd"].as_f64().unwrap();
    assert!(
        close(spent, 0.00003),
        "the one request's cost (30 tokens at $1 per 1M) is in the ledger: {status}"
    );
    assert_eq!(
        status["budget"]["reserved_usd"], 0.0,
        "no reservation is left behind: {status}"
    );
    server.stop().await;
}

#[tokio::test]
async fn reasoning_that_uses_the_whole_max_tokens_is_retried_once_with_more_and_both_are_paid() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(3000, "The answer is 42."))
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hard", "model": SONNET, "fallback_models": [], "max_tokens": 200}),
        )
        .await;
    assert_eq!(out["text"], "The answer is 42.", "{out}");
    assert_eq!(out["finish_reason"], "stop");
    let sent: Vec<_> = fake
        .chat_requests(Some(SONNET))
        .await
        .iter()
        .map(|r| r["max_tokens"].as_u64().unwrap())
        .collect();
    assert_eq!(sent, vec![200, 200 + 4096], "one retry, with more room");
    let attempts = out["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["outcome"], "retried", "{out}");
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap()
            .contains("reasoning used 200 tokens"),
        "{out}"
    );
    assert_eq!(attempts[1]["outcome"], "ok");
    assert!(
        attempts[1]["note"]
            .as_str()
            .unwrap()
            .contains("retried with max_tokens 4296"),
        "{out}"
    );
    // The fake bills $1 per 1M tokens: (10 prompt + 200) for the empty answer, then
    // (10 + 3000 reasoning + 4 words).
    assert!(
        close(
            out["usage"]["cost_usd"].as_f64().unwrap(),
            0.000_210 + 0.003_014
        ),
        "{out}"
    );
    assert_eq!(out["usage"]["completion_tokens"], 200 + 3004);
    assert_eq!(out["usage"]["reasoning_tokens"], 200 + 3000);
    let status = server.call_ok("account_status", json!({})).await;
    assert!(
        close(status["budget"]["spent_usd"].as_f64().unwrap(), 0.003_224),
        "both requests are in the ledger: {status}"
    );
    let again = server
        .call_ok(
            "ask_model",
            json!({"prompt": "hard", "model": SONNET, "fallback_models": [], "max_tokens": 200}),
        )
        .await;
    assert_eq!(
        again["cached"], true,
        "the complete answer is cached: {again}"
    );
    assert_eq!(again["text"], "The answer is 42.");
    server.stop().await;
}

#[tokio::test]
async fn reasoning_that_uses_the_whole_max_tokens_with_no_room_for_the_retry_is_a_clear_error() {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(3000, "Never reached."))
        .await;
    // The first request's worst case (about $0.003) fits in max_cost_usd; the retry's (4296
    // completion tokens at $15/1M, about $0.064) does not.
    let server = McpServer::start(&fake).await;
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hard", "model": SONNET, "fallback_models": [], "max_tokens": 200,
                   "max_cost_usd": 0.01}),
        )
        .await;
    assert!(
        error.contains("reasoning used 200 tokens") && error.contains("raise max_tokens"),
        "{error}"
    );
    assert!(
        error.contains("retry with max_tokens 4296 was not sent") && error.contains("max_cost_usd"),
        "{error}"
    );
    assert_eq!(fake.chat_requests(Some(SONNET)).await.len(), 1);

    // The same with a budget that holds the first request but not the retry: the empty answer
    // was billed, and its cost is in the ledger.
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(3000, "Never reached."))
        .await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_BUDGET_USD", "0.01")]).await;
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hard", "model": SONNET, "fallback_models": [], "max_tokens": 200}),
        )
        .await;
    assert!(
        error.contains("reasoning used 200 tokens") && error.contains("SWITCHBOARD_BUDGET_USD"),
        "{error}"
    );
    let status = server.call_ok("account_status", json!({})).await;
    assert!(
        close(status["budget"]["spent_usd"].as_f64().unwrap(), 0.000_210),
        "the billed empty answer is charged: {status}"
    );
    assert_eq!(status["budget"]["reserved_usd"], 0.0, "{status}");
    server.stop().await;
}

#[tokio::test]
async fn with_the_defaults_a_model_that_reasons_3000_tokens_answers_completely() {
    let fake = FakeOpenRouter::start().await;
    let answer = words(150);
    fake.reasoning("openai/gpt-5-mini", thinker(3000, &answer))
        .await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok("ask_model", json!({"prompt": "a hard question"}))
        .await;
    assert_eq!(out["text"], answer.as_str(), "{out}");
    assert_eq!(out["model"], "openai/gpt-5-mini");
    assert_eq!(out["finish_reason"], "stop");
    assert_eq!(out["truncated"], false);
    assert_eq!(out["usage"]["reasoning_tokens"], 3000);
    let sent = fake.chat_requests(Some("openai/gpt-5-mini")).await;
    assert_eq!(sent.len(), 1, "answered by the first request");
    assert_eq!(sent[0]["max_tokens"], 4096);
    server.stop().await;
}

#[tokio::test]
async fn a_model_that_does_not_reason_keeps_the_1024_default() {
    let fake = FakeOpenRouter::start().await;
    let plain = "mistralai/mistral-small-3.2-24b-instruct";
    fake.answer(plain, "plain", 0.0).await;
    let server = McpServer::start(&fake).await;
    server
        .call_ok(
            "ask_model",
            json!({"prompt": "hi", "model": plain, "fallback_models": []}),
        )
        .await;
    assert_eq!(fake.chat_requests(Some(plain)).await[0]["max_tokens"], 1024);
    server.stop().await;
}

#[tokio::test]
async fn max_tokens_is_clamped_to_the_context_left_after_the_prompt() {
    let fake = FakeOpenRouter::start().await;
    let tiny = "test/tiny-context";
    fake.answer(tiny, "short", 0.0).await;
    let server = McpServer::start(&fake).await;
    // About 3,500 tokens in a 4,096-token window: the default 1024 does not fit, 300 or so do.
    let prompt = "The quick brown fox jumps over the lazy dog. ".repeat(350);
    let counted = server
        .call_ok("estimate_cost", json!({"model": tiny, "prompt": prompt}))
        .await["estimates"][0]["prompt_tokens"]
        .as_u64()
        .unwrap();
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": prompt, "model": tiny, "fallback_models": []}),
        )
        .await;
    let sent = fake.chat_requests(Some(tiny)).await[0]["max_tokens"]
        .as_u64()
        .unwrap();
    assert!(
        (256..1024).contains(&sent) && counted + sent <= 4096,
        "clamped into the window: {sent} after {counted} prompt tokens"
    );
    let note = out["attempts"][0]["note"].as_str().unwrap_or_default();
    assert_eq!(
        note,
        format!("max_tokens clamped from 1024 to {sent}, the context left after the prompt"),
        "{out}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_model_that_reasons_past_the_larger_retry_too_is_asked_twice_at_most_and_both_are_charged()
 {
    let fake = FakeOpenRouter::start().await;
    fake.reasoning(SONNET, thinker(1_000_000, "Never reached."))
        .await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_BUDGET_USD", "1")]).await;
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "endless", "model": SONNET, "fallback_models": [], "max_tokens": 200}),
        )
        .await;
    assert!(
        error.contains("reasoning used 4296 tokens") && error.contains("raise max_tokens"),
        "the second empty answer's error: {error}"
    );
    let sent: Vec<_> = fake
        .chat_requests(Some(SONNET))
        .await
        .iter()
        .map(|r| r["max_tokens"].as_u64().unwrap())
        .collect();
    assert_eq!(sent, vec![200, 4296], "one larger retry, never a loop");
    let status = server.call_ok("account_status", json!({})).await;
    // $1 per 1M tokens: (10 + 200) and (10 + 4296), both billed although neither answered.
    assert!(
        close(
            status["budget"]["spent_usd"].as_f64().unwrap(),
            0.000_210 + 0.004_306
        ),
        "{status}"
    );
    assert_eq!(status["budget"]["reserved_usd"], 0.0, "{status}");
    server.stop().await;
}
