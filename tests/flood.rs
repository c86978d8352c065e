//! Floods against `openrouter-switchboard http` (its own test binary, so it has the machine to
//! itself): never-read legacy SSE streams with POST floods, `initialize` floods, and half-sent
//! requests, ~10 s each, on 127.0.0.1, with the server's open-file limit at 1024. Throughout, the
//! server's resident memory stays under [`RSS_BOUND_MB`] (the bound the README states) and a
//! legitimate client calling `/healthz` and `list_models` gets every answer, p99 under 100 ms.

#[allow(dead_code, unused_imports)]
#[path = "it/support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "it/support/http_server.rs"]
mod http_server;

use http_server::{HttpServer, McpHttp, initialize_params, start_with_fd_limit};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::FakeOpenRouter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The README's promise: resident memory with the default limits, under any of these floods.
const RSS_BOUND_MB: u64 = 256;
/// The latency promise for a legitimate client while a flood runs.
const P99_BOUND: Duration = Duration::from_millis(100);
const PHASE: Duration = Duration::from_secs(10);
/// Attack workers per phase; each is one connection at a time, sending every [`PACE`].
const WORKERS: usize = 8;
const LIMIT: u64 = 100;
/// How many of the never-read streams get the POST flood (so their kernel buffers fill and the
/// server's own bound on unread replies is what holds).
const FLOODED_STREAMS: usize = 8;
const PACE: Duration = Duration::from_millis(4);
/// Requests per phase at most (about the size of the reported attacks: 20,000 `initialize`s).
const MAX_ATTACKS: u64 = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_keep_memory_bounded_and_a_legitimate_client_served() {
    let fake = FakeOpenRouter::start().await;
    let server = start_with_fd_limit(&fake.base_url(), &[], &[("RUST_LOG", "info")], 1024).await;
    let mut legit = McpHttp::new(server.url("/mcp"), None);
    legit.initialize().await;
    let legit = Arc::new(tokio::sync::Mutex::new(legit));

    // The same client with no attack, for comparison: how noisy the machine is right now.
    let quiet = phase(&server, &legit, "no attack", |_, _, attacks| async move {
        attacks.store(1, Ordering::Relaxed);
    })
    .await;
    quiet.print();
    let sse = phase(
        &server,
        &legit,
        "never-read SSE streams + POST floods",
        sse_flood,
    )
    .await;
    let sessions = phase(&server, &legit, "initialize flood", initialize_flood).await;
    let slow = phase(&server, &legit, "half-sent requests", slow_headers).await;
    for report in [sse, sessions, slow] {
        report.check();
    }
    assert!(
        server.stderr().lines().all(|l| !l.contains("panicked")),
        "{}",
        server.stderr()
    );
}

/// What one phase measured.
struct Report {
    name: &'static str,
    attacks: u64,
    /// CPU the server used in the phase (clock ticks, usually 1/100 s).
    server_cpu_ticks: u64,
    peak_rss_mb: u64,
    legit_requests: usize,
    legit_failures: Vec<String>,
    p50: Duration,
    p99: Duration,
    slowest: Vec<Duration>,
}

impl Report {
    fn print(&self) {
        eprintln!(
            "{}: {} attack requests, server CPU {} ticks, peak RSS {} MB, {} legitimate requests, p50 {:?}, p99 {:?}, slowest {:?}",
            self.name,
            self.attacks,
            self.server_cpu_ticks,
            self.peak_rss_mb,
            self.legit_requests,
            self.p50,
            self.p99,
            self.slowest
        );
    }

    fn check(&self) {
        self.print();
        assert!(self.attacks > 0, "{}: the attack ran", self.name);
        assert!(
            self.peak_rss_mb < RSS_BOUND_MB,
            "{}: peak RSS {} MB is over the bound {RSS_BOUND_MB} MB",
            self.name,
            self.peak_rss_mb
        );
        assert!(
            self.legit_failures.is_empty(),
            "{}: legitimate requests failed: {:?}",
            self.name,
            self.legit_failures
        );
        assert!(
            self.legit_requests > 50,
            "{}: the legit client ran",
            self.name
        );
        assert!(
            self.p99 < P99_BOUND,
            "{}: legitimate p99 {:?} is over {P99_BOUND:?}",
            self.name,
            self.p99
        );
    }
}

/// Runs `attack` for [`PHASE`] while sampling RSS and serving the legitimate client, which runs
/// on its own thread and runtime so that the attack's tasks do not delay it on our side.
async fn phase<F, Fut>(
    server: &HttpServer,
    legit: &Arc<tokio::sync::Mutex<McpHttp>>,
    name: &'static str,
    attack: F,
) -> Report
where
    F: FnOnce(String, Arc<AtomicBool>, Arc<AtomicU64>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let attacks = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_ticks(server.pid());
    let attacker = tokio::spawn(attack(server.addr.clone(), stop.clone(), attacks.clone()));
    let sampler = tokio::spawn(sample_rss(server.pid(), stop.clone()));
    // Let the attack build up before measuring the legitimate client.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (health, legit_for_thread) = (server.url("/healthz"), legit.clone());
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(legit_client(health, legit_for_thread))
    });
    let (latencies, failures) = tokio::task::spawn_blocking(move || client.join().unwrap())
        .await
        .unwrap();
    stop.store(true, Ordering::Release);
    let peak_rss_mb = sampler.await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), attacker).await;
    Report {
        name,
        attacks: attacks.load(Ordering::Acquire),
        server_cpu_ticks: cpu_ticks(server.pid()) - cpu_before,
        peak_rss_mb,
        legit_requests: latencies.len(),
        legit_failures: failures,
        p50: percentile(latencies.clone(), 0.5),
        p99: percentile(latencies.clone(), 0.99),
        slowest: slowest(latencies),
    }
}

fn percentile(mut samples: Vec<Duration>, q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::MAX;
    }
    samples.sort();
    let index = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
    samples[index]
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

fn slowest(mut samples: Vec<Duration>) -> Vec<Duration> {
    samples.sort_by(|a, b| b.cmp(a));
    samples.truncate(5);
    samples
}

/// Peak VmRSS of `pid` in MB, sampled every 50 ms until `stop`.
async fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> u64 {
    let mut peak_kb = 0;
    while !stop.load(Ordering::Acquire) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        peak_kb = peak_kb.max(kb);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    peak_kb / 1024
}

/// Alternates `GET /healthz` and `list_models` for the rest of the phase, every 20 ms; returns
/// each latency and what went wrong with any request.
async fn legit_client(
    health: String,
    legit: Arc<tokio::sync::Mutex<McpHttp>>,
) -> (Vec<Duration>, Vec<String>) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + PHASE - Duration::from_millis(500);
    let (mut latencies, mut failures) = (Vec::new(), Vec::new());
    let mut client = legit.lock().await;
    let mut turn = 0u64;
    while Instant::now() < deadline {
        turn += 1;
        let started = Instant::now();
        let outcome = if turn.is_multiple_of(2) {
            match http
                .get(&health)
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                Ok(r) if r.status() == 200 => Ok(()),
                Ok(r) => Err(format!("healthz {}", r.status())),
                Err(e) => Err(format!("healthz {e}")),
            }
        } else {
            let listed = tokio::time::timeout(
                Duration::from_secs(5),
                client.call("list_models", json!({"limit": 2})),
            )
            .await;
            match listed {
                Ok(result) if result["structuredContent"]["models"].is_array() => Ok(()),
                Ok(result) => Err(format!("list_models {result}")),
                Err(_) => Err("list_models timed out".to_string()),
            }
        };
        latencies.push(started.elapsed());
        if let Err(failure) = outcome {
            failures.push(failure);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (latencies, failures)
}

/// Opens up to 150 `GET /sse` streams it never reads (past the cap they get 503), and floods
/// the first [`FLOODED_STREAMS`] streams' `/message` with `list_models` calls whose replies nobody reads, up to
/// [`MAX_ATTACKS`].
async fn sse_flood(addr: String, stop: Arc<AtomicBool>, attacks: Arc<AtomicU64>) {
    let mut streams = Vec::new();
    let mut paths = Vec::new();
    for _ in 0..150 {
        if stop.load(Ordering::Acquire) {
            break;
        }
        attacks.fetch_add(1, Ordering::Relaxed);
        if let Some((tcp, path)) = open_unread_sse(&addr).await {
            streams.push(tcp);
            paths.push(path);
        }
    }
    assert!(!paths.is_empty(), "no SSE stream opened");
    let paths = Arc::new(paths);
    let refused = Arc::new(AtomicU64::new(0));
    let workers = (0..WORKERS).map(|worker| {
        let (addr, stop, attacks, paths) =
            (addr.clone(), stop.clone(), attacks.clone(), paths.clone());
        let refused = refused.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut id = 10u64;
            let mut pace = tokio::time::interval(PACE);
            while !stop.load(Ordering::Acquire) && attacks.load(Ordering::Relaxed) < MAX_ATTACKS {
                pace.tick().await;
                let path = &paths[(id as usize + worker) % paths.len().min(FLOODED_STREAMS)];
                id += 1;
                let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": {"name": "list_models", "arguments": {"limit": LIMIT}}});
                let sent = http
                    .post(format!("http://{addr}{path}"))
                    .json(&call)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                attacks.fetch_add(1, Ordering::Relaxed);
                match sent {
                    Ok(r) if r.status() == 503 => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        })
    });
    futures_util::future::join_all(workers).await;
    eprintln!(
        "SSE flood: {} streams open, {} POSTs refused with 503",
        streams.len(),
        refused.load(Ordering::Relaxed)
    );
    drop(streams);
}

/// `GET /sse` on a raw socket, initialized, whose replies are never read after the endpoint.
async fn open_unread_sse(addr: &str) -> Option<(TcpStream, String)> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    let head = format!("GET /sse HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    tcp.write_all(head.as_bytes()).await.ok()?;
    let mut seen = Vec::new();
    let path = loop {
        let mut buf = [0u8; 2048];
        let n = tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_string();
        if !text.starts_with("HTTP/1.1 200") {
            return None; // 503 past the stream cap
        }
        if let Some(rest) = text.split("data: ").nth(1)
            && let Some((path, _)) = rest.split_once('\n')
        {
            break path.trim().to_string();
        }
    };
    let http = reqwest::Client::new();
    let url = format!("http://{addr}{path}");
    let init =
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params()});
    http.post(&url).json(&init).send().await.ok()?;
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    http.post(&url).json(&note).send().await.ok()?;
    Some((tcp, path))
}

/// Streamable HTTP `initialize`s from [`WORKERS`] connections, up to [`MAX_ATTACKS`]; past the
/// session cap they get 503.
async fn initialize_flood(addr: String, stop: Arc<AtomicBool>, attacks: Arc<AtomicU64>) {
    let body: Value =
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params()});
    let workers = (0..WORKERS).map(|_| {
        let (addr, stop, attacks, body) =
            (addr.clone(), stop.clone(), attacks.clone(), body.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut pace = tokio::time::interval(PACE);
            while !stop.load(Ordering::Acquire) && attacks.load(Ordering::Relaxed) < MAX_ATTACKS {
                pace.tick().await;
                let sent = http
                    .post(format!("http://{addr}/mcp"))
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2025-06-18")
                    .json(&body)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                if let Ok(response) = sent {
                    let _ = response.bytes().await;
                }
                attacks.fetch_add(1, Ordering::Relaxed);
            }
        })
    });
    futures_util::future::join_all(workers).await;
}

/// Keeps up to 1100 connections open that each sent half a request, opening about 1000 a
/// second (the server holds at most its connection cap and closes the idle ones).
async fn slow_headers(addr: String, stop: Arc<AtomicBool>, attacks: Arc<AtomicU64>) {
    let mut open = std::collections::VecDeque::new();
    let head = format!("POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n");
    while !stop.load(Ordering::Acquire) {
        for _ in 0..10 {
            if let Ok(Ok(mut tcp)) =
                tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(&addr)).await
            {
                let _ = tcp.write_all(head.as_bytes()).await;
                open.push_back(tcp);
                attacks.fetch_add(1, Ordering::Relaxed);
            }
            if open.len() > 1100 {
                open.pop_front();
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
