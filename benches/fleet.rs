//! Fleet benchmark: three `http --stateless` replicas of the release binary share one store, and
//! 64 concurrent clients (each with its own keep-alive connection, spread over the replicas) call
//! `ask_model` against a fake OpenRouter that answers after 50 ms. Each store runs two phases:
//! misses (every call a new prompt, so paid upstream) and hits (a fixed set of prompts answered
//! before the phase). Stores: one SQLite file (`sqlite:PATH`) shared by the replicas, then one
//! `redis-server` on a free loopback port (started here, no persistence).
//!
//! It reports calls/s, p50/p99, the store round trips per call (Redis: the replicas'
//! `switchboard_store_commands_total`), and the median latency Redis adds over SQLite. Run with
//! `cargo bench --bench fleet`; `BENCH_SECS` (default 10) sets each phase's length. It only
//! reports; it never fails on timings.

#![allow(clippy::print_stdout)]

use futures_util::future::join_all;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_openrouter-switchboard");
const CLIENTS: usize = 64;
const REPLICAS: usize = 3;
const UPSTREAM_LATENCY: Duration = Duration::from_millis(50);
const MODEL: &str = "openai/gpt-5-mini";
/// Prompts the hit phase cycles through, all answered before it starts.
const HOT_PROMPTS: usize = 64;

fn main() {
    let secs = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bench(Duration::from_secs(secs)));
}

async fn bench(length: Duration) {
    let upstream = fake_upstream().await;
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("a temp dir");
    let sqlite = format!("sqlite:{}", dir.path().join("fleet.db").display());
    println!();
    println!(
        "fleet bench: {REPLICAS} stateless replicas, {CLIENTS} clients, ask_model, upstream latency {} ms, {} s per phase, {} cores",
        UPSTREAM_LATENCY.as_millis(),
        length.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rows = Vec::new();
    for (store, cache) in [("sqlite", sqlite), ("redis", redis.url())] {
        let replicas: Vec<Replica> = (0..REPLICAS)
            .map(|_| Replica::start(&upstream, &cache, dir.path()))
            .collect();
        let addrs: Vec<String> = replicas.iter().map(|r| r.addr.clone()).collect();
        warm(&addrs).await;
        for phase in [Phase::Miss, Phase::Hit] {
            let before = store_commands(&addrs).await;
            let report = load(&addrs, phase, length).await;
            let trips = (store_commands(&addrs).await - before) / report.calls.max(1) as f64;
            rows.push((store, phase, report, trips));
        }
    }
    print_table(&rows);
}

fn print_table(rows: &[(&str, Phase, Report, f64)]) {
    println!();
    println!("| store | phase | calls/s | p50 ms | p99 ms | errors | Redis round trips per call |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (store, phase, r, trips) in rows {
        let trips = if *store == "redis" {
            format!("{trips:.2}")
        } else {
            "-".into()
        };
        println!(
            "| {store} | {} | {:.0} | {:.2} | {:.2} | {} | {trips} |",
            phase.name(),
            r.rate,
            r.p(50.0),
            r.p(99.0),
            r.errors
        );
    }
    for phase in [Phase::Miss, Phase::Hit] {
        let median = |store: &str| {
            rows.iter()
                .find(|(s, p, _, _)| *s == store && *p == phase)
                .map_or(0.0, |(_, _, r, _)| r.p(50.0))
        };
        println!(
            "Redis over SQLite, {} median: {:+.3} ms per call (target < 1 ms)",
            phase.name(),
            median("redis") - median("sqlite")
        );
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Miss,
    Hit,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Miss => "miss",
            Phase::Hit => "hit",
        }
    }
}

struct Report {
    calls: usize,
    errors: usize,
    rate: f64,
    /// Sorted latencies, ms.
    latencies: Vec<f64>,
}

impl Report {
    fn p(&self, percentile: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = (percentile / 100.0 * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }
}

/// Answers every hot prompt once, so that the hit phase only hits.
async fn warm(addrs: &[String]) {
    let http = reqwest::Client::new();
    let calls = (0..HOT_PROMPTS).map(|i| {
        let url = format!("http://{}/mcp", addrs[i % addrs.len()]);
        let http = http.clone();
        async move { ask(&http, &url, &hot(i)).await }
    });
    join_all(calls).await;
}

fn hot(i: usize) -> String {
    format!("hot question {i}")
}

async fn load(addrs: &[String], phase: Phase, length: Duration) -> Report {
    let started = Instant::now();
    let end = started + length;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let clients = (0..CLIENTS).map(|client| {
        let url = format!("http://{}/mcp", addrs[client % addrs.len()]);
        async move {
            let http = reqwest::Client::new();
            let (mut latencies, mut errors) = (Vec::new(), 0);
            let mut n = 0;
            while Instant::now() < end {
                let prompt = match phase {
                    Phase::Miss => format!("run {run} client {client} call {n}"),
                    Phase::Hit => hot((client + n) % HOT_PROMPTS),
                };
                n += 1;
                let began = Instant::now();
                if ask(&http, &url, &prompt).await {
                    latencies.push(began.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }
    });
    let results = join_all(clients).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = results.iter().flat_map(|(l, _)| l.clone()).collect();
    latencies.sort_by(f64::total_cmp);
    let errors = results.iter().map(|(_, e)| e).sum();
    Report {
        calls: latencies.len() + errors,
        errors,
        rate: latencies.len() as f64 / elapsed,
        latencies,
    }
}

/// One `ask_model` call; whether it answered.
async fn ask(http: &reqwest::Client, url: &str, prompt: &str) -> bool {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "ask_model", "arguments":
            {"model": MODEL, "fallback_models": [], "max_tokens": 64, "prompt": prompt}}});
    let reply = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&body)
        .send()
        .await;
    let Ok(reply) = reply else {
        return false;
    };
    let Ok(value) = reply.json::<Value>().await else {
        return false;
    };
    value["result"]["isError"] != true && value["result"].is_object()
}

/// The replicas' `switchboard_store_commands_total`, summed.
async fn store_commands(addrs: &[String]) -> f64 {
    let mut total = 0.0;
    for addr in addrs {
        let text = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .and_then(|r| r.error_for_status());
        let Ok(text) = text else { continue };
        let text = text.text().await.unwrap_or_default();
        total += text
            .lines()
            .filter(|l| l.starts_with("switchboard_store_commands_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>();
    }
    total
}

struct Replica {
    addr: String,
    child: Child,
}

impl Replica {
    fn start(upstream: &str, cache: &str, data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["http", "--stateless", "--bind", "127.0.0.1:0"])
            .env_clear()
            .env("OPENROUTER_API_KEY", "sk-or-v1-bench-0000000000000000")
            .env("OPENROUTER_BASE_URL", upstream)
            .env("SWITCHBOARD_DATA_DIR", data_dir)
            .env("SWITCHBOARD_CACHE", cache)
            .env("RUST_LOG", "warn,switchboard::transport::http=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the release binary starts");
        let addr = read_address(&mut child);
        Self { addr, child }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads stderr until the `listening on http://ADDR` line; the rest is drained on a thread.
fn read_address(server: &mut Child) -> String {
    use std::io::BufRead;
    let stderr = server.stderr.take().expect("stderr is piped");
    let mut lines = std::io::BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let line = line.expect("stderr is text");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            let addr = addr.to_string();
            std::thread::spawn(move || lines.for_each(drop));
            return addr;
        }
    }
    panic!("the server exited before listening");
}

/// A fake OpenRouter: the test catalog, and a streamed answer after [`UPSTREAM_LATENCY`].
async fn fake_upstream() -> String {
    let server = MockServer::start().await;
    let catalog = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/models.json"
    ))
    .expect("the test catalog");
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(catalog, "application/json"))
        .mount(&server)
        .await;
    let chunk = |content: &str, finish: Value| {
        json!({"id": "gen-bench", "object": "chat.completion.chunk", "model": MODEL,
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}]})
    };
    let mut last = chunk("", json!("stop"));
    last["usage"] =
        json!({"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19, "cost": 0.00002});
    let body = format!(
        "data: {}\n\ndata: {last}\n\ndata: [DONE]\n\n",
        chunk("a benchmark answer", Value::Null)
    );
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(body, "text/event-stream")
                .set_delay(UPSTREAM_LATENCY),
        )
        .mount(&server)
        .await;
    let uri = server.uri();
    // The mock server lives as long as the process.
    std::mem::forget(server);
    format!("{uri}/api/v1")
}

/// A `redis-server` on a free loopback port, without persistence, killed on drop.
struct RedisServer {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = tempfile::tempdir().expect("a temp dir");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts (apt-get install -y redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            child,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
