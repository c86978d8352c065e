//! `compare_models` with `judge_model`: the judge reads the answers labelled and shuffled with no
//! model or provider named, its ranking comes back as model ids, its worst case is in the budget
//! check before anything is sent, and a judge that fails never sinks the answers.

use crate::support::fake::{CHAT, sse_answer};
use crate::support::{FakeOpenRouter, McpServer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, Request, ResponseTemplate};

const GROK: &str = "x-ai/grok-4";
const MINI: &str = "openai/gpt-5-mini";
const R1: &str = "deepseek/deepseek-r1-0528";
const JUDGE: &str = "anthropic/claude-sonnet-4.5";

/// Each model's answer names itself, its maker and its provider, and carries a marker word the
/// fake judge ranks by.
fn answers() -> [(&'static str, &'static str); 3] {
    [
        (
            GROK,
            "As Grok 4 from xAI (x-ai/grok-4, served by TestProvider): BETA, the sky is blue.",
        ),
        (
            MINI,
            "I am GPT-5 Mini by OpenAI, openai/gpt-5-mini: GAMMA, Rayleigh scattering.",
        ),
        (
            R1,
            "DeepSeek R1 0528 here (deepseek/deepseek-r1-0528). ALPHA: it scatters light.",
        ),
    ]
}

/// What the judge must never read: every id, maker and provider of the compared models.
const NAMES: [&str; 11] = [
    "x-ai",
    "grok",
    "xai",
    "openai",
    "gpt-5",
    "deepseek",
    "r1 0528",
    "testprovider",
    "mini",
    "gpt",
    "provider",
];

/// A judge that ranks GAMMA, ALPHA, BETA (whatever labels they got), says agreement 0.75, and
/// costs $0.004.
struct Judge;

impl wiremock::Respond for Judge {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let prompt = body["messages"][1]["content"].as_str().unwrap().to_string();
        let labels = labels_by_marker(&prompt);
        let ranking: Vec<&String> = ["GAMMA", "ALPHA", "BETA"]
            .iter()
            .filter_map(|m| labels.get(*m))
            .collect();
        let reply = json!({"agreement": 0.75, "ranking": ranking,
            "text": format!("Answer {} is the most precise.", ranking[0])});
        let sse = sse_answer(JUDGE, &reply.to_string(), 0.004);
        ResponseTemplate::new(200).set_body_raw(sse, "text/event-stream")
    }
}

/// Which label (`A`, `B`, …) each marker word's answer got in the judge's prompt.
fn labels_by_marker(prompt: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for section in prompt.split("\nAnswer ").skip(1) {
        let label = section[..1].to_string();
        for marker in ["ALPHA", "BETA", "GAMMA"] {
            if section.contains(marker) {
                labels.insert(marker.to_string(), label.clone());
            }
        }
    }
    labels
}

async fn start() -> (FakeOpenRouter, McpServer) {
    let fake = FakeOpenRouter::start().await;
    for (model, text) in answers() {
        fake.answer(model, text, 0.001).await;
    }
    let server = McpServer::start(&fake).await;
    (fake, server)
}

fn compare(judge: &str) -> Value {
    json!({"prompt": "Why is the sky blue?", "models": [GROK, MINI, R1], "judge_model": judge,
           "max_tokens": 100, "cache": "bypass"})
}

#[tokio::test]
async fn the_judge_reads_no_names_and_its_ranking_maps_back_to_the_models() {
    let (fake, server) = start().await;
    Mock::given(method("POST"))
        .and(path(CHAT))
        .and(body_partial_json(json!({"model": JUDGE})))
        .respond_with(Judge)
        .mount(&fake.server)
        .await;
    let mut orders = std::collections::HashSet::new();
    for _ in 0..8 {
        let out = server.call_ok("compare_models", compare(JUDGE)).await;
        let judgement = &out["judgement"];
        assert_eq!(judgement["model"], JUDGE);
        assert_eq!(judgement["ranking"], json!([MINI, R1, GROK]), "{judgement}");
        assert_eq!(judgement["agreement"], 0.75);
        assert_eq!(judgement["cost_usd"], 0.004);
        let best = judgement["ranking"][0].as_str().unwrap();
        let label = judgement["labels"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, model)| *model == best)
            .map(|(label, _)| label.clone())
            .unwrap();
        assert_eq!(
            judgement["text"],
            format!("Answer {label} is the most precise."),
            "`labels` says which model the text means"
        );
        assert!(
            (out["total_cost_usd"].as_f64().unwrap() - 0.007).abs() < 1e-12,
            "{out}"
        );
        let results = out["results"].as_array().unwrap();
        for (result, (model, text)) in results.iter().zip(answers()) {
            assert_eq!(
                (result["model"].as_str(), result["text"].as_str()),
                (Some(model), Some(text))
            );
        }
    }
    for request in fake.chat_requests(Some(JUDGE)).await {
        let read = serde_json::to_string(&request["messages"]).unwrap();
        let lowered = read.to_lowercase();
        for name in NAMES {
            assert!(!lowered.contains(name), "the judge read `{name}`: {read}");
        }
        assert!(
            read.contains("Why is the sky blue?") && read.contains("Answer C"),
            "{read}"
        );
        let prompt = request["messages"][1]["content"].as_str().unwrap();
        let labels = labels_by_marker(prompt);
        orders.insert(format!("{labels:?}"));
    }
    assert_eq!(fake.chat_requests(Some(JUDGE)).await.len(), 8);
    assert!(orders.len() > 1, "the order is shuffled: always {orders:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_failing_or_garbled_judge_leaves_the_answers_intact() {
    let (fake, server) = start().await;
    fake.fail(JUDGE, 502, "Provider returned error").await;
    let garbled = "google/gemini-2.5-flash";
    Mock::given(method("POST"))
        .and(path(CHAT))
        .and(body_partial_json(json!({"model": garbled})))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>oops", "text/html"))
        .mount(&fake.server)
        .await;
    let prose = "mistralai/mistral-small-3.2-24b-instruct";
    fake.answer(prose, "All three agree on scattering.", 0.0005)
        .await;

    for (judge, why) in [(JUDGE, "HTTP 502"), (garbled, "unreadable response")] {
        let out = server.call_ok("compare_models", compare(judge)).await;
        let results = out["results"].as_array().unwrap();
        assert!(results.iter().all(|r| r["ok"] == true), "{out}");
        for (result, (_, text)) in results.iter().zip(answers()) {
            assert_eq!(result["text"], text);
        }
        let judgement = &out["judgement"];
        assert_eq!(judgement["model"], judge);
        let error = judgement["error"].as_str().unwrap();
        assert!(error.contains(why) && error.contains(judge), "{error}");
        assert!(judgement.get("text").is_none() && judgement["ranking"] == json!([]));
        assert!(
            (out["total_cost_usd"].as_f64().unwrap() - 0.003).abs() < 1e-12,
            "{out}"
        );
    }
    let out = server.call_ok("compare_models", compare(prose)).await;
    let judgement = &out["judgement"];
    assert_eq!(judgement["text"], "All three agree on scattering.");
    assert_eq!(judgement["ranking"], json!([]));
    assert!(
        judgement.get("agreement").is_none() && judgement["warnings"].is_array(),
        "{judgement}"
    );
    assert!(
        (out["total_cost_usd"].as_f64().unwrap() - 0.0035).abs() < 1e-12,
        "{out}"
    );
    server.stop().await;
}

#[tokio::test]
async fn with_fewer_than_two_answers_the_judge_is_not_asked() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(GROK, "only me", 0.001).await;
    fake.fail(MINI, 500, "Internal Server Error").await;
    fake.answer(JUDGE, "{}", 0.001).await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "compare_models",
            json!({"prompt": "go", "models": [GROK, MINI], "judge_model": JUDGE}),
        )
        .await;
    assert!(out.get("judgement").is_none(), "{out}");
    let warning = out["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("judge_model") && warning.contains('1'),
        "{warning}"
    );
    assert!(fake.chat_requests(Some(JUDGE)).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn the_judges_worst_case_is_checked_before_any_model_is_asked() {
    let (fake, _) = (FakeOpenRouter::start().await, ());
    fake.answer(MINI, "mini", 0.0001).await;
    fake.answer("google/gemini-2.5-flash", "flash", 0.0001)
        .await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_BUDGET_USD", "0.01")]).await;
    let ask = |judge: Option<&str>| {
        let mut args =
            json!({"prompt": "go", "models": [MINI, "google/gemini-2.5-flash"], "max_tokens": 100});
        if let Some(judge) = judge {
            args["judge_model"] = json!(judge);
        }
        args
    };
    let refused = server.call_err("compare_models", ask(Some(JUDGE))).await;
    assert!(
        refused.contains("worst case")
            && refused.contains(JUDGE)
            && refused.contains("nothing was sent"),
        "{refused}"
    );
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "no model was asked"
    );
    let out = server.call_ok("compare_models", ask(None)).await;
    assert_eq!(
        out["results"][0]["ok"], true,
        "without the judge it fits: {out}"
    );
    let unknown = server
        .call_err("compare_models", ask(Some("anthropic/claude-sonet-4.5")))
        .await;
    assert!(
        unknown.contains("`judge_model`") && unknown.contains(JUDGE),
        "{unknown}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_judge_that_outlasts_the_call_deadline_leaves_the_answers_intact() {
    let fake = FakeOpenRouter::start().await;
    for (model, text) in answers() {
        fake.answer(model, text, 0.001).await;
    }
    let slow = ResponseTemplate::new(200)
        .set_body_raw(sse_answer(JUDGE, "{}", 0.001), "text/event-stream")
        .set_delay(std::time::Duration::from_secs(30));
    Mock::given(method("POST"))
        .and(path(CHAT))
        .and(body_partial_json(json!({"model": JUDGE})))
        .respond_with(slow)
        .mount(&fake.server)
        .await;
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_TIMEOUT", "2s")]).await;
    let out = server.call_ok("compare_models", compare(JUDGE)).await;
    for (result, (_, text)) in out["results"].as_array().unwrap().iter().zip(answers()) {
        assert_eq!(result["text"], text, "{out}");
    }
    let error = out["judgement"]["error"].as_str().unwrap();
    assert!(error.contains("SWITCHBOARD_TIMEOUT"), "{error}");
    server.stop().await;
}
