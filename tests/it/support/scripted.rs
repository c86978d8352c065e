//! A hand-scripted fake OpenRouter on 127.0.0.1 for what wiremock cannot do: answers streamed
//! slowly chunk by chunk, connections reset or left hanging, and noticing when the client hangs up.

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
}

#[derive(Default, Debug)]
pub struct Log {
    /// Chat requests received, per model.
    pub requests: HashMap<String, usize>,
    /// Chunks written to the current stream.
    pub chunks_sent: usize,
    /// When the client hung up on a stream that was still going.
    pub dropped_at: Option<Instant>,
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
        let catalog = super::catalog_fixture().to_string();
        let _ = write_response(&mut stream, "application/json", &catalog).await;
        return;
    }
    let model = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["model"].as_str().map(str::to_string));
    let model = model.unwrap_or_default();
    *log.lock()
        .unwrap()
        .requests
        .entry(model.clone())
        .or_default() += 1;
    match script.get(&model).cloned() {
        Some(Behaviour::Stream { chunks, every }) => {
            stream_slowly(stream, &model, chunks, every, log).await
        }
        Some(Behaviour::Reset) => {
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Some(Behaviour::Stall) => tokio::time::sleep(Duration::from_secs(3600)).await,
        None => {
            let error = json!({"error": {"code": 404, "message": format!("No endpoints found for {model}.")}});
            let _ = stream.write_all(format!("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{error}", error.to_string().len()).as_bytes()).await;
        }
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
