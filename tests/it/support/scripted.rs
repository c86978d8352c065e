//! A hand-scripted fake OpenRouter on 127.0.0.1 for what wiremock cannot do: answers streamed
//! slowly chunk by chunk, connections reset or left hanging, raw broken responses, and noticing
//! when the client hangs up. A behaviour is looked up by `[case:NAME]` in the prompt and the model
//! (`"NAME|model"`, then `"NAME"`, then `"model"`); the key `"/models"` scripts the catalog.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the fake answers one model.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// `chunks` content chunks of one word each, one every `every`, then usage and `[DONE]`.
    Stream { chunks: usize, every: Duration },
    /// Reads the request, then resets the connection.
    Reset,
    /// Reads the request and never answers.
    Stall,
    /// A whole HTTP response; `Retry-After` is computed when it is sent.
    Respond {
        status: u16,
        retry_after: Option<RetryAfter>,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Writes these bytes as they are (status line, headers, any body), then ends as `end` says.
    Raw { bytes: Vec<u8>, end: End },
    /// The n-th request for the same key gets the n-th behaviour; the last one repeats.
    Sequence(Vec<Behaviour>),
    /// Writes each piece (the first is usually [`sse_head`]), waiting `every` after each, then
    /// closes the connection.
    Paced {
        pieces: Vec<Vec<u8>>,
        every: Duration,
    },
}

/// A `Retry-After` header value.
#[derive(Clone, Debug)]
pub enum RetryAfter {
    /// Sent as is (`2`, `1e20`, `NaN`, `soon`, …).
    Value(String),
    /// An HTTP date at least this many seconds after the response is sent (whole seconds, rounded
    /// up), or before it when negative.
    DateIn(i64),
}

/// How a [`Behaviour::Raw`] response ends.
#[derive(Clone, Debug)]
pub enum End {
    /// Closes the connection normally.
    Close,
    /// Resets the connection (RST).
    Reset,
    /// Keeps the connection open and silent.
    Hang,
    /// Sends an SSE keep-alive comment this often, forever.
    KeepAlive(Duration),
}

/// The head of a 200 event stream with no length (the body ends when the connection does).
pub fn sse_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n".to_vec()
}

/// A JSON error object shaped like OpenRouter's.
pub fn error_body(status: u16) -> Vec<u8> {
    json!({"error": {"code": status, "message": "Provider returned error"}})
        .to_string()
        .into_bytes()
}

#[derive(Default, Debug)]
pub struct Log {
    /// Chat requests received, per model.
    pub requests: HashMap<String, usize>,
    /// Chunks written to the current stream.
    pub chunks_sent: usize,
    /// When the client hung up on a stream that was still going.
    pub dropped_at: Option<Instant>,
    /// Every chat request: the script key it matched (or the model) and when it arrived.
    pub arrivals: Vec<(String, Instant)>,
}

pub struct ScriptedUpstream {
    pub base_url: String,
    pub log: Arc<Mutex<Log>>,
}

impl ScriptedUpstream {
    pub async fn start(behaviours: &[(&str, Behaviour)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/api/v1", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Log::default()));
        let script: Arc<HashMap<String, Behaviour>> = Arc::new(
            behaviours
                .iter()
                .map(|(m, b)| (m.to_string(), b.clone()))
                .collect(),
        );
        let (shared_log, shared_script) = (log.clone(), script.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared_script.clone(), shared_log.clone()));
            }
        });
        Self { base_url, log }
    }

    pub fn requests(&self, model: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .requests
            .get(model)
            .copied()
            .unwrap_or(0)
    }

    /// When each chat request that matched `key` arrived, in order.
    pub fn arrivals(&self, key: &str) -> Vec<Instant> {
        let log = self.log.lock().unwrap();
        let matching = log.arrivals.iter().filter(|(k, _)| k == key);
        matching.map(|(_, at)| *at).collect()
    }
}

async fn serve(
    mut stream: TcpStream,
    script: Arc<HashMap<String, Behaviour>>,
    log: Arc<Mutex<Log>>,
) {
    stream.set_nodelay(true).unwrap();
    let Some((head, body)) = read_request(&mut stream).await else {
        return;
    };
    if head.starts_with("GET") && head.contains("/models") {
        if let Some(behaviour) = script.get("/models").cloned() {
            let behaviour = pick(behaviour, 0);
            return answer(stream, behaviour, "/models", log).await;
        }
        let catalog = super::catalog_fixture().to_string();
        let _ = write_response(&mut stream, "application/json", &catalog).await;
        return;
    }
    let request = serde_json::from_slice::<Value>(&body).unwrap_or_default();
    let model = request["model"].as_str().unwrap_or_default().to_string();
    let case = case_of(&request);
    let key = [format!("{case}|{model}"), case, model.clone()]
        .into_iter()
        .find(|k| script.contains_key(k))
        .unwrap_or_else(|| model.clone());
    let seen = {
        let mut log = log.lock().unwrap();
        *log.requests.entry(model.clone()).or_default() += 1;
        let seen = log.arrivals.iter().filter(|(k, _)| *k == key).count();
        log.arrivals.push((key.clone(), Instant::now()));
        seen
    };
    match script.get(&key).cloned() {
        Some(behaviour) => answer(stream, pick(behaviour, seen), &model, log).await,
        None => {
            let error = json!({"error": {"code": 404, "message": format!("No endpoints found for {model}.")}});
            let _ = stream.write_all(format!("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{error}", error.to_string().len()).as_bytes()).await;
        }
    }
}

/// The `NAME` of `[case:NAME]` in the request's messages, or "".
fn case_of(request: &Value) -> String {
    let text = request["messages"].to_string();
    let Some(start) = text.find("[case:") else {
        return String::new();
    };
    let rest = &text[start + 6..];
    rest[..rest.find(']').unwrap_or(rest.len())].to_string()
}

/// The behaviour for the request that is number `seen` (0-based) for its key.
fn pick(behaviour: Behaviour, seen: usize) -> Behaviour {
    match behaviour {
        Behaviour::Sequence(steps) => {
            let last = steps.len().saturating_sub(1);
            steps
                .get(seen.min(last))
                .cloned()
                .map_or(Behaviour::Reset, |step| pick(step, 0))
        }
        other => other,
    }
}

async fn answer(mut stream: TcpStream, behaviour: Behaviour, model: &str, log: Arc<Mutex<Log>>) {
    match behaviour {
        Behaviour::Stream { chunks, every } => {
            stream_slowly(stream, model, chunks, every, log).await
        }
        Behaviour::Reset => {
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Behaviour::Stall | Behaviour::Sequence(_) => {
            tokio::time::sleep(Duration::from_secs(3600)).await
        }
        Behaviour::Respond {
            status,
            retry_after,
            content_type,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Scripted\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            if let Some(value) = retry_after {
                head.push_str(&format!("Retry-After: {}\r\n", retry_after_text(&value)));
            }
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&body);
            let _ = stream.write_all(&bytes).await;
        }
        Behaviour::Raw { bytes, end } => {
            if stream.write_all(&bytes).await.is_ok() {
                finish(stream, end).await;
            }
        }
        Behaviour::Paced { pieces, every } => {
            for piece in pieces {
                if stream.write_all(&piece).await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }
    }
}

fn retry_after_text(value: &RetryAfter) -> String {
    match value {
        RetryAfter::Value(text) => text.clone(),
        RetryAfter::DateIn(seconds) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            let whole = i64::try_from(now.as_secs()).unwrap() + i64::from(now.subsec_nanos() > 0);
            let at = u64::try_from(whole + seconds).unwrap();
            httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(at))
        }
    }
}

async fn finish(mut stream: TcpStream, end: End) {
    match end {
        End::Close => {
            let _ = stream.shutdown().await;
        }
        End::Reset => {
            let _ = stream.set_zero_linger();
        }
        End::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
        End::KeepAlive(every) => loop {
            tokio::time::sleep(every).await;
            if stream
                .write_all(b": OPENROUTER PROCESSING\n\n")
                .await
                .is_err()
            {
                return;
            }
        },
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    }
    Some((head, buffer[header_end..].to_vec()))
}

async fn write_response(
    stream: &mut TcpStream,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(format!("{head}{body}").as_bytes()).await
}

/// Streams one chunk every `every`, noticing at once if the client hangs up in between.
async fn stream_slowly(
    mut stream: TcpStream,
    model: &str,
    chunks: usize,
    every: Duration,
    log: Arc<Mutex<Log>>,
) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n: OPENROUTER PROCESSING\n\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    log.lock().unwrap().chunks_sent = 0;
    let mut probe = [0u8; 64];
    for index in 0..chunks {
        tokio::select! {
            read = stream.read(&mut probe) => {
                if matches!(read, Ok(0) | Err(_)) {
                    log.lock().unwrap().dropped_at = Some(Instant::now());
                    return;
                }
            }
            () = tokio::time::sleep(every) => {}
        }
        let chunk = json!({"id": "gen-slow", "model": model, "provider": "Slow",
            "choices": [{"index": 0, "delta": {"content": format!("word{index} ")}, "finish_reason": null}]});
        if stream
            .write_all(format!("data: {chunk}\n\n").as_bytes())
            .await
            .is_err()
        {
            log.lock().unwrap().dropped_at = Some(Instant::now());
            return;
        }
        log.lock().unwrap().chunks_sent = index + 1;
    }
    let last = json!({"id": "gen-slow", "model": model, "provider": "Slow",
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": chunks, "total_tokens": 5 + chunks, "cost": 0.0001}});
    let _ = stream
        .write_all(format!("data: {last}\n\ndata: [DONE]\n\n").as_bytes())
        .await;
}
