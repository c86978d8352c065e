//! Load benchmark for `openrouter-switchboard http`: 64 concurrent clients, each on its own
//! keep-alive connection, call `list_models` (default arguments: 20 models, price order) over
//! Streamable HTTP as fast as they can, against the release binary and a fake OpenRouter on
//! loopback serving the real 371-model catalog (`../shared/fixtures/…`, else the test fixture).
//!
//! For each mode (`sessions`: the default, one MCP session per client; `stateless`: `--stateless`,
//! no initialize, JSON replies) it reports calls/s, latency percentiles after a 2 s warm-up, the
//! server's CPU time per call, and its resident memory sampled every second.
//!
//! Run with `cargo bench --bench http_load`; `BENCH_SECS` (default 60) sets the length of each
//! run, `BENCH_MODES` (default `sessions,stateless`) the modes, and `BENCH_BIN` another build of
//! the server (one with symbols, for a profiler). It only reports; it never fails on timings.

#![allow(clippy::print_stdout)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_openrouter-switchboard");
const CLIENTS: usize = 64;
const WARMUP: Duration = Duration::from_secs(2);

fn main() {
    let secs = env_or("BENCH_SECS", 60);
    let modes = std::env::var("BENCH_MODES").unwrap_or_else(|_| "sessions,stateless".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let catalog = catalog_path();
    let upstream = runtime.block_on(fake_upstream(&catalog));
    let models =
        serde_json::from_slice::<Value>(&std::fs::read(&catalog).unwrap()).unwrap()["data"]
            .as_array()
            .map_or(0, Vec::len);
    println!();
    println!(
        "openrouter-switchboard HTTP load bench: {CLIENTS} clients calling list_models for {secs} s per mode \
         ({models}-model catalog, {} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut reports = Vec::new();
    for mode in modes.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let stateless = match mode {
            "sessions" => false,
            "stateless" => true,
            other => panic!("unknown BENCH_MODES entry {other}; use sessions or stateless"),
        };
        reports.push((
            mode.to_string(),
            runtime.block_on(run(&upstream, stateless, secs)),
        ));
    }
    println!();
    println!(
        "| mode | calls/s | p50 ms | p90 ms | p99 ms | max ms | errors | CPU µs/call server + load gen | RSS MB at 5 s / end / max |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (mode, r) in &reports {
        println!(
            "| {mode} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.0} + {:.0} | {:.1} / {:.1} / {:.1} |",
            r.rate,
            r.p(50.0),
            r.p(90.0),
            r.p(99.0),
            r.p(100.0),
            r.errors,
            r.cpu_us_per_call,
            r.client_cpu_us_per_call,
            mb(r.rss_at(5)),
            mb(r.rss.last().map_or(0, |s| s.1)),
            mb(r.rss.iter().map(|s| s.1).max().unwrap_or(0)),
        );
    }
    println!();
    println!("targets: >= 5000 calls/s, p99 < 20 ms, flat memory");
    for (mode, r) in &reports {
        let timeline: Vec<String> = r
            .rss
            .iter()
            .filter(|(t, _)| t % 10 == 0)
            .map(|(t, kb)| format!("{t}s {:.1}", mb(*kb)))
            .collect();
        println!("RSS MB over time ({mode}): {}", timeline.join(", "));
    }
}

struct Report {
    rate: f64,
    latencies_us: Vec<u32>,
    errors: u64,
    cpu_us_per_call: f64,
    client_cpu_us_per_call: f64,
    /// (seconds since start, VmRSS kB)
    rss: Vec<(u64, u64)>,
}

impl Report {
    fn p(&self, pct: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((pct / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        f64::from(self.latencies_us[rank]) / 1000.0
    }

    fn rss_at(&self, second: u64) -> u64 {
        self.rss
            .iter()
            .find(|(t, _)| *t >= second)
            .map_or(0, |s| s.1)
    }
}

async fn run(upstream: &str, stateless: bool, secs: u64) -> Report {
    let data_dir = tempdir();
    let mut server = spawn_server(upstream, data_dir.path(), stateless);
    let addr = read_address(&mut server);
    let url = format!("http://{addr}/mcp");
    let pid = server.id();
    // The first call fetches the catalog; keep it out of the numbers.
    let mut probe = Client::connect(&url, stateless).await;
    probe.list_models().await.expect("the first call works");

    let started = Instant::now();
    let measure_from = started + WARMUP;
    let deadline = measure_from + Duration::from_secs(secs);
    let cpu_before = cpu_ticks(pid);
    let own_before = cpu_ticks(std::process::id());
    let sampler = tokio::spawn(sample_rss(pid, started, deadline));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(client_loop(url.clone(), stateless, measure_from, deadline)))
        .collect();
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for client in clients {
        let (mut lat, err) = client.await.expect("a client task");
        latencies_us.append(&mut lat);
        errors += err;
    }
    let cpu_after = cpu_ticks(pid);
    let own_after = cpu_ticks(std::process::id());
    let rss = sampler.await.expect("the sampler");
    let _ = server.kill();
    let _ = server.wait();
    drop(data_dir);
    latencies_us.sort_unstable();
    let calls = latencies_us.len() as f64;
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let per_call = |ticks: u64| {
        if calls > 0.0 {
            ticks as f64 / ticks_per_s * 1e6 / calls
        } else {
            0.0
        }
    };
    Report {
        rate: calls / secs as f64,
        cpu_us_per_call: per_call(cpu_after.saturating_sub(cpu_before)),
        client_cpu_us_per_call: per_call(own_after.saturating_sub(own_before)),
        latencies_us,
        errors,
        rss,
    }
}

async fn client_loop(
    url: String,
    stateless: bool,
    measure_from: Instant,
    deadline: Instant,
) -> (Vec<u32>, u64) {
    let mut client = Client::connect(&url, stateless).await;
    let mut latencies = Vec::with_capacity(1 << 14);
    let mut errors = 0;
    loop {
        let start = Instant::now();
        if start >= deadline {
            break;
        }
        let ok = client.list_models().await.is_ok();
        let elapsed = start.elapsed();
        if start >= measure_from {
            if ok {
                latencies.push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
            } else {
                errors += 1;
            }
        }
    }
    (latencies, errors)
}

/// One MCP client on its own keep-alive connection. A minimal HTTP/1.1 client with the request
/// bytes built once, so the load generator, which shares the 2 cores with the server, stays cheap.
struct Client {
    stream: tokio::net::TcpStream,
    request: Vec<u8>,
    buffer: Vec<u8>,
}

impl Client {
    async fn connect(url: &str, stateless: bool) -> Client {
        let addr = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .expect("an http:// URL");
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut client = Client {
            stream,
            request: Vec::new(),
            buffer: Vec::with_capacity(64 * 1024),
        };
        let mut session = None;
        if !stateless {
            let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "http-load", "version": "1"}}});
            client.request = http_request(addr, &init, None);
            let head = client.exchange().await.expect("initialize");
            session = header(&head, "mcp-session-id");
            let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            client.request = http_request(addr, &note, session.as_deref());
            client.exchange().await.expect("initialized");
        }
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "list_models", "arguments": {}}});
        client.request = http_request(addr, &call, session.as_deref());
        client
    }

    async fn list_models(&mut self) -> Result<(), String> {
        let head = self.exchange().await?;
        if !head.starts_with("HTTP/1.1 200") {
            return Err(head.lines().next().unwrap_or_default().to_string());
        }
        let body = String::from_utf8_lossy(&self.buffer);
        if body.contains("\"structuredContent\"") && body.contains("\"models\"") {
            Ok(())
        } else {
            Err(format!(
                "unexpected reply: {}",
                &body[..body.len().min(200)]
            ))
        }
    }

    /// Sends the prepared request; leaves the body in `buffer` and returns the response head.
    async fn exchange(&mut self) -> Result<String, String> {
        self.stream
            .write_all(&self.request)
            .await
            .map_err(|e| e.to_string())?;
        self.buffer.clear();
        let mut raw = Vec::with_capacity(16 * 1024);
        let head_end = loop {
            if let Some(end) = find(&raw, b"\r\n\r\n") {
                break end + 4;
            }
            self.read_more(&mut raw).await?;
        };
        let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
        let mut rest = raw.split_off(head_end);
        if let Some(length) = header(&head, "content-length") {
            let length: usize = length.parse().map_err(|_| "bad content-length")?;
            while rest.len() < length {
                self.read_more(&mut rest).await?;
            }
            self.buffer = rest;
        } else if header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            self.read_chunked(rest).await?;
        }
        Ok(head)
    }

    async fn read_chunked(&mut self, mut raw: Vec<u8>) -> Result<(), String> {
        let mut at = 0;
        loop {
            let line_end = loop {
                if let Some(end) = find(&raw[at..], b"\r\n") {
                    break at + end;
                }
                self.read_more(&mut raw).await?;
            };
            let size_text = String::from_utf8_lossy(&raw[at..line_end]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size_text:?}"))?;
            while raw.len() < line_end + 2 + size + 2 {
                self.read_more(&mut raw).await?;
            }
            if size == 0 {
                return Ok(());
            }
            self.buffer
                .extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
            at = line_end + 2 + size + 2;
        }
    }

    async fn read_more(&mut self, into: &mut Vec<u8>) -> Result<(), String> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk).await {
            Ok(0) => Err("connection closed".into()),
            Ok(n) => {
                into.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

fn http_request(host: &str, body: &Value, session: Option<&str>) -> Vec<u8> {
    let body = body.to_string();
    let session = session.map_or(String::new(), |s| format!("Mcp-Session-Id: {s}\r\n"));
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nAccept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nMcp-Protocol-Version: 2025-06-18\r\n{session}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn spawn_server(upstream: &str, data_dir: &Path, stateless: bool) -> Child {
    // BENCH_BIN runs another build of the server (one with symbols, for a profiler).
    let bin = std::env::var("BENCH_BIN").unwrap_or_else(|_| BIN.to_string());
    let mut command = Command::new(bin);
    command.args(["http", "--bind", "127.0.0.1:0"]);
    if stateless {
        command.arg("--stateless");
    }
    command
        .env_clear()
        .env("OPENROUTER_BASE_URL", upstream)
        .env("SWITCHBOARD_DATA_DIR", data_dir)
        .env("SWITCHBOARD_CACHE", "memory")
        .env("RUST_LOG", "warn,switchboard::transport::http=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the release binary starts")
}

/// Reads stderr until the `listening on http://ADDR` line; the rest of stderr is drained on a thread.
fn read_address(server: &mut Child) -> String {
    use std::io::BufRead;
    let stderr = server.stderr.take().expect("stderr is piped");
    let mut lines = std::io::BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let line = line.expect("stderr is text");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            std::thread::spawn(move || lines.for_each(drop));
            return addr;
        }
    }
    panic!("the server exited before listening");
}

async fn sample_rss(pid: u32, started: Instant, deadline: Instant) -> Vec<(u64, u64)> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while Instant::now() < deadline {
        tick.tick().await;
        if let Some(kb) = rss_kb(pid) {
            samples.push((started.elapsed().as_secs(), kb));
        }
    }
    samples
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields after the name start at 3 (state); utime is 14 and stime 15.
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn catalog_path() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real = root.join("../shared/fixtures/openrouter/openrouter-models.json");
    if real.exists() {
        real
    } else {
        root.join("tests/fixtures/models.json")
    }
}

/// Removed when the run ends.
fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("switchboard-http-load-")
        .tempdir()
        .expect("a temp dir")
}

/// A fake OpenRouter on loopback that serves the catalog at `GET /api/v1/models`.
async fn fake_upstream(catalog: &Path) -> String {
    let body = std::fs::read(catalog).expect("the catalog file");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut byte).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&byte[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}/api/v1")
}
