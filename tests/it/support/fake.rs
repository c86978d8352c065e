//! A fake OpenRouter on 127.0.0.1 (wiremock): the catalog, streamed answers, and failures.

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const CHAT: &str = "/api/v1/chat/completions";

pub struct FakeOpenRouter {
    pub server: MockServer,
}

impl FakeOpenRouter {
    /// Starts the fake with the fixture catalog mounted at `GET /models`.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(super::catalog_fixture()))
            .mount(&server)
            .await;
        Self { server }
    }

    /// The API root to give the server as `OPENROUTER_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("{}/api/v1", self.server.uri())
    }

    fn chat_for(model: &str) -> wiremock::MockBuilder {
        Mock::given(method("POST"))
            .and(path(CHAT))
            .and(body_partial_json(json!({ "model": model })))
    }

    /// `model` answers `text` as a stream, charging `cost` USD.
    pub async fn answer(&self, model: &str, text: &str, cost: f64) {
        self.stream(model, sse_answer(model, text, cost)).await;
    }

    /// `model` answers with this raw SSE body.
    pub async fn stream(&self, model: &str, body: String) {
        Self::chat_for(model)
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
            .mount(&self.server)
            .await;
    }

    /// `model` fails with `status` and a real-shaped error body, every time.
    pub async fn fail(&self, model: &str, status: u16, message: &str) {
        Self::chat_for(model)
            .respond_with(error(status, message))
            .mount(&self.server)
            .await;
    }

    /// `model` fails `times` times with `status` (and `Retry-After` when given), then falls through
    /// to whatever is mounted after.
    pub async fn fail_times(
        &self,
        model: &str,
        status: u16,
        times: u64,
        retry_after: Option<&str>,
    ) {
        let mut response = error(status, "Provider returned error");
        if let Some(seconds) = retry_after {
            response = response.insert_header("Retry-After", seconds);
        }
        Self::chat_for(model)
            .respond_with(response)
            .up_to_n_times(times)
            .mount(&self.server)
            .await;
    }

    /// Bodies of the chat requests received, optionally for one model only.
    pub async fn chat_requests(&self, model: Option<&str>) -> Vec<Value> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter(|r| r.url.path() == CHAT)
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .filter(|body| model.is_none_or(|m| body["model"] == m))
            .collect()
    }
}

pub fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": { "code": status, "message": message }, "user_id": "user_test"
    }))
}

/// A stream shaped like OpenRouter's: keep-alive comments, content in two chunks, a final chunk with
/// one choice and the usage, then `[DONE]`.
pub fn sse_answer(model: &str, text: &str, cost: f64) -> String {
    let (head, tail) = text.split_at(text.len() / 2);
    let chunk = |content: &str, finish: Value| {
        json!({"id": "gen-test-1", "object": "chat.completion.chunk", "created": 1786465029, "model": model,
               "provider": "TestProvider",
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}]})
    };
    let mut last = chunk("", json!("stop"));
    last["usage"] =
        json!({"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19, "cost": cost});
    format!(
        ": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: {}\n\ndata: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        chunk(head, Value::Null),
        chunk(tail, Value::Null),
        last
    )
}

/// A stream that sends some content and then an error chunk, as OpenRouter does mid-stream.
pub fn sse_midstream_error(model: &str) -> String {
    let content = json!({"id": "gen-test-2", "model": model, "provider": "TestProvider",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "The partial ans"}, "finish_reason": null}]});
    let failure = json!({"id": "gen-test-2", "model": model, "provider": "TestProvider",
        "error": {"code": 502, "message": "Provider disconnected"},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]});
    format!(": OPENROUTER PROCESSING\n\ndata: {content}\n\ndata: {failure}\n\ndata: [DONE]\n\n")
}
