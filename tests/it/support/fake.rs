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

/// A raw-TCP fake for answers too large to hold in memory: `stream_model` streams `text_bytes` of
/// text as SSE, every other model sends it as one JSON body. The text is generated as it is
/// written, and writing stops as soon as the client hangs up.
pub struct BigUpstream {
    pub base_url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl BigUpstream {
    pub async fn start(stream_model: &str, text_bytes: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/api/v1", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (log, streamed) = (requests.clone(), stream_model.to_string());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (log, streamed) = (log.clone(), streamed.clone());
                tokio::spawn(big::serve(socket, streamed, text_bytes, log));
            }
        });
        Self { base_url, requests }
    }

    /// Chat requests received for `model`.
    pub fn requests(&self, model: &str) -> usize {
        let log = self.requests.lock().unwrap();
        log.iter().filter(|m| *m == model).count()
    }
}

mod big {
    use serde_json::{Value, json};
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    const PIECE: usize = 64 * 1024;

    pub async fn serve(
        mut socket: TcpStream,
        streamed: String,
        text_bytes: usize,
        log: Arc<Mutex<Vec<String>>>,
    ) {
        let Some((head, body)) = read_request(&mut socket).await else {
            return;
        };
        if head.starts_with("GET") {
            let catalog = crate::support::catalog_fixture().to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{catalog}",
                catalog.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
            return;
        }
        let model = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|b| b["model"].as_str().map(str::to_string));
        let model = model.unwrap_or_default();
        log.lock().unwrap().push(model.clone());
        let _ = if model == streamed {
            write_stream(&mut socket, &model, text_bytes).await
        } else {
            write_json(&mut socket, &model, text_bytes).await
        };
    }

    async fn write_stream(
        socket: &mut TcpStream,
        model: &str,
        text_bytes: usize,
    ) -> std::io::Result<()> {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
        socket.write_all(head.as_bytes()).await?;
        let piece = "a".repeat(PIECE);
        let mut sent = 0;
        while sent < text_bytes {
            let chunk = json!({"id": "gen-big", "model": model,
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
            socket
                .write_all(format!("data: {chunk}\n\n").as_bytes())
                .await?;
            sent += PIECE;
        }
        let last = json!({"id": "gen-big", "model": model,
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14, "cost": 0.001}});
        socket
            .write_all(format!("data: {last}\n\ndata: [DONE]\n\n").as_bytes())
            .await
    }

    async fn write_json(
        socket: &mut TcpStream,
        model: &str,
        text_bytes: usize,
    ) -> std::io::Result<()> {
        let prefix = format!(
            r#"{{"id":"gen-big","model":"{model}","choices":[{{"index":0,"message":{{"role":"assistant","content":""#
        );
        let suffix = r#""},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14,"cost":0.001}}"#;
        let length = prefix.len() + text_bytes + suffix.len();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{prefix}"
        );
        socket.write_all(head.as_bytes()).await?;
        let piece = vec![b'a'; PIECE];
        let mut left = text_bytes;
        while left > 0 {
            let n = left.min(PIECE);
            socket.write_all(&piece[..n]).await?;
            left -= n;
        }
        socket.write_all(suffix.as_bytes()).await
    }

    async fn read_request(socket: &mut TcpStream) -> Option<(String, Vec<u8>)> {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            let n = socket.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
            buffer.extend_from_slice(&chunk[..n]);
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
        };
        let head = String::from_utf8_lossy(&buffer[..end]).to_string();
        let length = head
            .lines()
            .find_map(|l| {
                let lower = l.to_ascii_lowercase();
                lower
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap_or(0))
            })
            .unwrap_or(0);
        while buffer.len() < end + length {
            let n = socket.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
            buffer.extend_from_slice(&chunk[..n]);
        }
        Some((head, buffer[end..].to_vec()))
    }
}

/// A fake OpenAI-compatible gateway (LiteLLM, vLLM, OpenAI itself), not OpenRouter: its
/// `GET /v1/models` needs the key, a stream carries usage only when asked with
/// `stream_options.include_usage`, and no answer has a `cost`.
pub struct FakeGateway {
    pub server: MockServer,
}

/// The gateway's own model list, OpenAI-shaped: ids and owners, no prices, no context.
pub fn openai_model_list(ids: &[&str]) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(
            |id| json!({"id": id, "object": "model", "created": 1677610602, "owned_by": "gateway"}),
        )
        .collect();
    json!({"object": "list", "data": data})
}

impl FakeGateway {
    pub const CHAT: &'static str = "/v1/chat/completions";

    /// Starts the gateway with `catalog` at `GET /v1/models`, served only with the test key.
    pub async fn start(catalog: Value) -> Self {
        let server = MockServer::start().await;
        let bearer = format!("Bearer {}", super::TEST_KEY);
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .and(wiremock::matchers::header("authorization", bearer.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(catalog))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
            .with_priority(2)
            .mount(&server)
            .await;
        Self { server }
    }

    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    /// Every chat request for `model` gets `text`, with usage (tokens, no cost) only when asked.
    pub async fn answer(&self, model: &str, text: &str) {
        let asked = json!({"model": model, "stream_options": {"include_usage": true}});
        Mock::given(method("POST"))
            .and(path(Self::CHAT))
            .and(body_partial_json(asked))
            .respond_with(stream(openai_stream(model, text, true)))
            .with_priority(3)
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path(Self::CHAT))
            .and(body_partial_json(json!({ "model": model })))
            .respond_with(stream(openai_stream(model, text, false)))
            .with_priority(4)
            .mount(&self.server)
            .await;
    }

    /// Bodies of the chat requests received, in order.
    pub async fn chat_requests(&self) -> Vec<Value> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter(|r| r.url.path() == Self::CHAT)
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .collect()
    }
}

fn stream(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

/// A stream shaped like OpenAI's: no comments, no provider, and with `with_usage` a last chunk
/// with empty `choices` and token counts (12 prompt, 7 completion) but no `cost`.
pub fn openai_stream(model: &str, text: &str, with_usage: bool) -> String {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1786465029, "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![
        chunk(json!({"role": "assistant", "content": text}), Value::Null),
        chunk(json!({}), json!("stop")),
    ];
    if with_usage {
        events.push(
            json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1786465029,
            "model": model, "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}}),
        );
    }
    let mut body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    body.push_str("data: [DONE]\n\n");
    body
}

/// A fake reasoning model (a wiremock responder): each request first spends `reasoning` tokens
/// thinking, counted against its `max_tokens` as the real ones are, then sends `answer` one word
/// (one token) at a time until the answer ends (`stop`) or `max_tokens` runs out (`length`,
/// possibly with no text at all). A request whose last message is the assistant's partial answer
/// continues from where that text ends. Each token costs `usd_per_token`.
#[derive(Clone)]
pub struct ReasoningModel {
    pub reasoning: u64,
    pub answer: String,
    pub usd_per_token: f64,
}

impl ReasoningModel {
    /// The words of `text`, each with the whitespace before it: joined they are `text` exactly.
    pub fn tokens(text: &str) -> Vec<&str> {
        let mut tokens = Vec::new();
        let mut start = 0;
        let mut in_word = false;
        for (i, c) in text.char_indices() {
            if in_word && c.is_whitespace() {
                tokens.push(&text[start..i]);
                start = i;
            }
            in_word = !c.is_whitespace();
        }
        if start < text.len() {
            tokens.push(&text[start..]);
        }
        tokens
    }

    fn remaining<'a>(&'a self, messages: &[Value]) -> Option<&'a str> {
        match messages.last() {
            Some(last) if last["role"] == "assistant" => {
                self.answer.strip_prefix(last["content"].as_str()?)
            }
            _ => Some(&self.answer),
        }
    }
}

impl wiremock::Respond for ReasoningModel {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let max_tokens = body["max_tokens"]
            .as_u64()
            .or_else(|| body["max_completion_tokens"].as_u64())
            .unwrap_or(u64::MAX);
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        let Some(remaining) = self.remaining(&messages) else {
            return error(
                400,
                "the assistant turn is not a prefix of this model's answer",
            );
        };
        let reasoning = self.reasoning.min(max_tokens);
        let left = usize::try_from(max_tokens - reasoning).unwrap_or(usize::MAX);
        let tokens = Self::tokens(remaining);
        let sent = &tokens[..tokens.len().min(left)];
        let finish = if sent.len() == tokens.len() {
            "stop"
        } else {
            "length"
        };
        let completion = reasoning + sent.len() as u64;
        let prompt = 10 * messages.len() as u64;
        let model = body["model"].as_str().unwrap_or_default();
        let chunk = |content: &str, finish: Value| {
            json!({"id": "gen-reasoning", "object": "chat.completion.chunk", "created": 1786465029,
                   "model": model, "provider": "TestProvider",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                                "finish_reason": finish, "native_finish_reason": finish}]})
        };
        let mut sse = String::from(": OPENROUTER PROCESSING\n\n");
        for piece in sent.chunks(3) {
            sse += &format!("data: {}\n\n", chunk(&piece.concat(), Value::Null));
        }
        let mut last = chunk("", json!(finish));
        last["usage"] = json!({"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost": (prompt + completion) as f64 * self.usd_per_token,
            "completion_tokens_details": {"reasoning_tokens": reasoning}});
        sse += &format!("data: {last}\n\ndata: [DONE]\n\n");
        ResponseTemplate::new(200).set_body_raw(sse, "text/event-stream")
    }
}

impl FakeOpenRouter {
    /// `model` behaves as the [`ReasoningModel`] `behaviour`.
    pub async fn reasoning(&self, model: &str, behaviour: ReasoningModel) {
        Self::chat_for(model)
            .respond_with(behaviour)
            .mount(&self.server)
            .await;
    }
}
