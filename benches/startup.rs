//! Start-up and overhead benchmark for the `openrouter-switchboard` stdio server.
//!
//! Measures, against the release binary and an in-process fake OpenRouter on loopback:
//!
//! 1. cold start: spawn → `initialize` + `notifications/initialized` + `tools/list` written at
//!    once → the `tools/list` reply line (median and p90 over `BENCH_RUNS` runs, default 50);
//! 2. resident memory (VmRSS) when idle after `tools/list`, and after 200 `ask_model` calls;
//! 3. the size of the `tools/list` reply line in bytes;
//! 4. `ask_model` latency: the fake upstream's own round trip over one kept-alive connection,
//!    the same call through the server (`cache: bypass`), the difference (the server's added
//!    latency), and a cache-hit `ask_model`;
//! 5. `compare_models` over 8 models whose fake upstream answers after 10, 20, … 80 ms: the
//!    server's own `wall_ms`, the client-side time, and the overhead over the slowest model;
//! 6. `estimate_cost`'s first call that counts a prompt (the 13 KB mixed sample in
//!    `tests/fixtures/token_samples/`) and the RSS after it, each on a fresh server, median of
//!    `ESTIMATE_RUNS`.
//!
//! Run with `cargo bench --bench startup`. It only reports; it never fails on timings.

#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_openrouter-switchboard");
const DEFAULT_RUNS: usize = 50;
const WARMUPS: usize = 20;
const ASKS: usize = 200;
const COMPARE_WARMUPS: usize = 5;
const COMPARES: usize = 30;
/// `bench/slow-N` (N in 1..=SLOW_MODELS) answers after N × SLOW_STEP.
const SLOW_MODELS: u64 = 8;
const SLOW_STEP: Duration = Duration::from_millis(10);
const SLOW_PREFIX: &str = "bench/slow-";
/// Cold starts whose idle RSS is read (the median is reported).
const RSS_RUNS: usize = 11;
/// How long the server is left idle after `tools/list` before its RSS is read.
const SETTLE: Duration = Duration::from_millis(50);
/// Fresh servers whose first `estimate_cost` is timed (the median is reported).
const ESTIMATE_RUNS: usize = 11;
/// The prompt `estimate_cost` counts: English, code, JSON, CJK, emoji, whitespace and digit runs.
const ESTIMATE_PROMPT: &str = include_str!("../tests/fixtures/token_samples/mixed_13k.txt");
const SERVER_ENV: [(&str, &str); 2] = [
    ("OPENROUTER_API_KEY", "sk-or-v1-bench"),
    ("SWITCHBOARD_DEFAULT_MODEL", "bench/model"),
];

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;

/// One catalog entry; `{id}` is replaced by the model id.
const MODEL_ENTRY: &str = r#"{"id":"{id}","name":"Bench","created":1,"context_length":100000,"pricing":{"prompt":"0.000001","completion":"0.000002"},"architecture":{"input_modalities":["text"],"output_modalities":["text"]},"supported_parameters":["max_tokens"]}"#;
const CHAT_BODY: &str = concat!(
    r#"data: {"id":"gen-1","model":"bench/model","provider":"Bench","choices":[{"index":0,"delta":{"role":"assistant","content":"pong"},"finish_reason":null}]}"#,
    "\n\n",
    r#"data: {"id":"gen-1","model":"bench/model","provider":"Bench","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6,"cost":0.000007}}"#,
    "\n\n",
    "data: [DONE]\n\n",
);
const DIRECT_REQUEST_BODY: &str =
    r#"{"model":"bench/model","messages":[{"role":"user","content":"ping"}],"stream":true}"#;

/// Set in the environment of the floor child: a process that only answers the batch (see `floor`).
const FLOOR_CHILD: &str = "SWITCHBOARD_BENCH_FLOOR_CHILD";

fn main() {
    if std::env::var_os(FLOOR_CHILD).is_some() {
        return floor_child();
    }
    let runs = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(DEFAULT_RUNS)
        .max(1);
    let upstream = FakeUpstream::start();
    let data_dir = tempfile::Builder::new()
        .prefix("switchboard-bench-")
        .tempdir()
        .expect("create the bench temp dir");

    let floor = floor(runs);
    let cold = cold_start(&upstream, data_dir.path(), runs);
    let direct = direct_upstream(upstream.addr);
    let ask = ask_model(&upstream, data_dir.path());
    let compare = compare_models(&upstream, data_dir.path());
    let estimate = estimate_cost(&upstream, data_dir.path());

    let cold_median = percentile(&cold.times, 50.0);
    let cold_p90 = percentile(&cold.times, 90.0);
    let direct_median = percentile(&direct, 50.0);
    let ask_median = percentile(&ask.bypass, 50.0);
    let cached_median = percentile(&ask.cached, 50.0);
    let slowest = SLOW_STEP * SLOW_MODELS as u32;
    let compare_wall_median = percentile(&compare.wall, 50.0);
    let compare_client_median = percentile(&compare.client, 50.0);

    println!();
    println!(
        "openrouter-switchboard start-up bench ({runs} cold starts, {ASKS} asks after {WARMUPS} warm-ups)"
    );
    println!();
    println!("| metric | value | target |");
    println!("|---|---:|---|");
    row("cold start median (ms)", ms(cold_median), "< 3 ms");
    row("cold start p90 (ms)", ms(cold_p90), "");
    row(
        "floor: a Rust process that only answers the batch, median (ms)",
        ms(percentile(&floor, 50.0)),
        "",
    );
    row("RSS idle, median (MB)", mb(cold.rss_kb), "< 8 MB");
    row("RSS after 200 asks (MB)", mb(ask.rss_kb), "");
    row(
        "tools/list reply (bytes)",
        cold.tools_list_bytes.to_string(),
        "< 8192 bytes",
    );
    row("upstream direct median (ms)", ms(direct_median), "");
    row("ask_model median (ms)", ms(ask_median), "");
    let added = ask_median.as_secs_f64() - direct_median.as_secs_f64();
    row(
        "added latency median (ms)",
        format!("{:.3}", added * 1e3),
        "< 0.5 ms",
    );
    row(
        "cache-hit ask_model median (ms)",
        ms(cached_median),
        "< 1 ms",
    );
    row("slowest model delay (ms)", ms(slowest), "");
    row(
        "compare_models 8 models median wall_ms (server, ms)",
        ms(compare_wall_median),
        "",
    );
    row(
        "compare_models 8 models median (client, ms)",
        ms(compare_client_median),
        "",
    );
    let overhead = compare_client_median.as_secs_f64() - slowest.as_secs_f64();
    row(
        "compare_models overhead over slowest model (ms)",
        format!("{:.3}", overhead * 1e3),
        "within a few ms of the slowest model",
    );
    row(
        "estimate_cost first call (ms)",
        ms(percentile(&estimate.first_call, 50.0)),
        "< 30 ms",
    );
    row(
        "RSS after first estimate_cost (MB)",
        mb(estimate.rss_kb),
        "< 20 MB",
    );
    if ask.bypass_upstream_calls != WARMUPS + ASKS {
        println!();
        println!(
            "note: {} bypass calls made {} upstream requests",
            WARMUPS + ASKS,
            ask.bypass_upstream_calls
        );
    }
    if ask.cached_upstream_calls > 0 {
        println!();
        println!(
            "note: {} of {ASKS} cache-hit calls reached the upstream",
            ask.cached_upstream_calls
        );
    }
    let expected = (COMPARE_WARMUPS + COMPARES) * SLOW_MODELS as usize;
    if compare.upstream_calls != expected {
        println!();
        println!(
            "note: {} compare_models calls made {} upstream requests (expected {expected})",
            COMPARE_WARMUPS + COMPARES,
            compare.upstream_calls
        );
    }
}

fn row(metric: &str, value: String, target: &str) {
    println!("| {metric} | {value} | {target} |");
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or_else(|| "n/a".into(), |kb| format!("{:.2}", kb as f64 / 1024.0))
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples.
fn percentile(samples: &[Duration], p: f64) -> Duration {
    assert!(!samples.is_empty(), "percentile of no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The machine's floor for the cold-start figure: spawn a minimal Rust process (this bench binary
/// in floor mode), write the same batch, read one reply line. No server can start faster.
fn floor(runs: usize) -> Vec<Duration> {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let batch = format!("{INITIALIZE}\n{INITIALIZED}\n{TOOLS_LIST}\n");
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            let mut child = Command::new(&exe)
                .env(FLOOR_CHILD, "1")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn the floor child");
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin.write_all(batch.as_bytes()).expect("write the batch");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("piped stdout"))
                .read_line(&mut line)
                .expect("read the reply");
            let elapsed = started.elapsed();
            drop(stdin);
            child.wait().expect("the floor child exits");
            elapsed
        })
        .collect()
}

/// Floor mode: read the three lines of the batch, answer the third, exit on EOF.
fn floor_child() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for (n, line) in stdin.lock().lines().enumerate() {
        if line.is_err() {
            break;
        }
        if n == 2 {
            out.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n")
                .and_then(|()| out.flush())
                .expect("write the reply");
        }
    }
}

struct ColdStart {
    times: Vec<Duration>,
    rss_kb: Option<u64>,
    tools_list_bytes: usize,
}

/// Spawn → `tools/list` reply, `runs` times; the reply size comes from the first run. Then the
/// median idle RSS over `RSS_RUNS` more starts, each read `SETTLE` after the reply.
fn cold_start(upstream: &FakeUpstream, data_dir: &Path, runs: usize) -> ColdStart {
    let batch = format!("{INITIALIZE}\n{INITIALIZED}\n{TOOLS_LIST}");
    let mut result = ColdStart {
        times: Vec::with_capacity(runs),
        rss_kb: None,
        tools_list_bytes: 0,
    };
    let mut rss = Vec::with_capacity(RSS_RUNS);
    for run in 0..runs {
        let started = Instant::now();
        let mut server = Server::spawn(upstream, data_dir, &[]);
        server.send(&batch);
        let reply = server.wait_for_id(2);
        result.times.push(started.elapsed());
        if run == 0 {
            assert!(
                reply.contains(r#""tools":["#),
                "tools/list reply has no tools: {reply}"
            );
            result.tools_list_bytes = reply.len();
        }
    }
    // RSS in runs of their own, so the idle wait does not change the timed runs.
    for _ in 0..RSS_RUNS {
        let mut server = Server::spawn(upstream, data_dir, &[]);
        server.send(&batch);
        server.wait_for_id(2);
        thread::sleep(SETTLE);
        rss.extend(rss_kb(server.pid()));
    }
    rss.sort_unstable();
    result.rss_kb = rss.get(rss.len() / 2).copied();
    result
}

/// The fake upstream's own latency: POST /chat/completions over one kept-alive connection.
fn direct_upstream(addr: SocketAddr) -> Vec<Duration> {
    let stream = TcpStream::connect(addr).expect("connect to the fake upstream");
    stream.set_nodelay(true).expect("set TCP_NODELAY");
    let mut writer = stream.try_clone().expect("clone the upstream stream");
    let mut reader = BufReader::new(stream);
    let request = format!(
        "POST /chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer sk-or-v1-bench\r\nContent-Length: {}\r\n\r\n{DIRECT_REQUEST_BODY}",
        DIRECT_REQUEST_BODY.len()
    );
    let mut times = Vec::with_capacity(ASKS);
    for i in 0..WARMUPS + ASKS {
        let started = Instant::now();
        writer
            .write_all(request.as_bytes())
            .expect("write to the fake upstream");
        let (status, body) = read_http_response(&mut reader);
        let elapsed = started.elapsed();
        if i == 0 {
            assert!(
                status.contains(" 200 ") && body.contains("pong"),
                "fake upstream answered {status}: {body}"
            );
        }
        if i >= WARMUPS {
            times.push(elapsed);
        }
    }
    times
}

/// Reads one HTTP/1.1 response whose body length is given by Content-Length.
fn read_http_response(reader: &mut BufReader<TcpStream>) -> (String, String) {
    let mut status = String::new();
    reader.read_line(&mut status).expect("read the status line");
    let length = read_headers(reader).expect("read the response headers");
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .expect("read the response body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Reads header lines up to the blank line; returns Content-Length (0 if absent), or None at EOF.
fn read_headers(reader: &mut impl BufRead) -> Option<usize> {
    let mut length = 0;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            return Some(length);
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
}

struct AskResults {
    bypass: Vec<Duration>,
    cached: Vec<Duration>,
    rss_kb: Option<u64>,
    /// Upstream chat requests made by the warm-up + measured bypass calls (expected: one each).
    bypass_upstream_calls: usize,
    /// Upstream chat requests made by the measured cache-hit calls (expected: none).
    cached_upstream_calls: usize,
}

/// `ask_model` through one long-lived server: uncached (bypass) calls, then cache hits.
fn ask_model(upstream: &FakeUpstream, data_dir: &Path) -> AskResults {
    let mut server = Server::spawn(upstream, data_dir, &SERVER_ENV);
    server.handshake();
    let mut next_id = 10;
    let mut call = |server: &mut Server, arguments: &str| {
        next_id += 1;
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":{next_id},"method":"tools/call","params":{{"name":"ask_model","arguments":{arguments}}}}}"#
        );
        let started = Instant::now();
        server.send(&line);
        let reply = server.wait_for_id(next_id);
        (started.elapsed(), reply)
    };

    let bypass = r#"{"prompt":"ping","model":"bench/model","fallback_models":[],"cache":"bypass"}"#;
    let calls_before = upstream.chat_calls();
    let mut bypass_times = Vec::with_capacity(ASKS);
    for i in 0..WARMUPS + ASKS {
        let (elapsed, reply) = call(&mut server, bypass);
        if i == 0 {
            check_answer(&reply);
        }
        if i >= WARMUPS {
            bypass_times.push(elapsed);
        }
    }
    let rss_kb = rss_kb(server.pid());
    let bypass_upstream_calls = upstream.chat_calls() - calls_before;

    let cached = r#"{"prompt":"cache-hit ping","model":"bench/model","fallback_models":[]}"#;
    check_answer(&call(&mut server, cached).1);
    let calls_before = upstream.chat_calls();
    let cached_times = (0..ASKS).map(|_| call(&mut server, cached).0).collect();
    let cached_upstream_calls = upstream.chat_calls() - calls_before;

    AskResults {
        bypass: bypass_times,
        cached: cached_times,
        rss_kb,
        bypass_upstream_calls,
        cached_upstream_calls,
    }
}

struct CompareResults {
    /// The server's own `structuredContent.wall_ms` (whole ms).
    wall: Vec<Duration>,
    /// Client-side: request line written → reply line read.
    client: Vec<Duration>,
    /// Upstream chat requests made by the warm-up + measured calls (expected: 8 each).
    upstream_calls: usize,
}

/// `compare_models` over `bench/slow-1` … `bench/slow-8`, sequentially, through one server with
/// the same environment as the `ask_model` one.
fn compare_models(upstream: &FakeUpstream, data_dir: &Path) -> CompareResults {
    let mut server = Server::spawn(upstream, data_dir, &SERVER_ENV);
    server.handshake();
    let models = (1..=SLOW_MODELS)
        .map(|n| format!("\"{SLOW_PREFIX}{n}\""))
        .collect::<Vec<_>>()
        .join(",");
    let arguments = format!(r#"{{"prompt":"ping","models":[{models}],"cache":"bypass"}}"#);
    let calls_before = upstream.chat_calls();
    let mut result = CompareResults {
        wall: Vec::with_capacity(COMPARES),
        client: Vec::with_capacity(COMPARES),
        upstream_calls: 0,
    };
    for i in 0..COMPARE_WARMUPS + COMPARES {
        let id = 10 + i as u64;
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"compare_models","arguments":{arguments}}}}}"#
        );
        let started = Instant::now();
        server.send(&line);
        let reply = server.wait_for_id(id);
        let elapsed = started.elapsed();
        let wall_ms = check_comparison(&reply);
        if i >= COMPARE_WARMUPS {
            result.wall.push(Duration::from_millis(wall_ms));
            result.client.push(elapsed);
        }
    }
    result.upstream_calls = upstream.chat_calls() - calls_before;
    result
}

struct EstimateResults {
    /// Client-side: request line written → reply line read, one per fresh server.
    first_call: Vec<Duration>,
    /// Median VmRSS right after that call.
    rss_kb: Option<u64>,
}

/// On `ESTIMATE_RUNS` fresh servers: a first `estimate_cost` with `prompt_tokens` (it loads the
/// catalog and counts nothing), then the timed one that counts `ESTIMATE_PROMPT`, then VmRSS.
fn estimate_cost(upstream: &FakeUpstream, data_dir: &Path) -> EstimateResults {
    let call = |id: u64, arguments: serde_json::Value| {
        let request = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "estimate_cost", "arguments": arguments}});
        request.to_string()
    };
    let warm_up = call(
        10,
        serde_json::json!({"model": "bench/model", "prompt_tokens": 1}),
    );
    let counted = call(
        11,
        serde_json::json!({"model": "bench/model", "prompt": ESTIMATE_PROMPT}),
    );
    let mut first_call = Vec::with_capacity(ESTIMATE_RUNS);
    let mut rss = Vec::with_capacity(ESTIMATE_RUNS);
    for _ in 0..ESTIMATE_RUNS {
        let mut server = Server::spawn(upstream, data_dir, &SERVER_ENV);
        server.handshake();
        server.send(&warm_up);
        tool_result(&server.wait_for_id(10), "estimate_cost");
        let started = Instant::now();
        server.send(&counted);
        let reply = server.wait_for_id(11);
        first_call.push(started.elapsed());
        rss.extend(rss_kb(server.pid()));
        let result = tool_result(&reply, "estimate_cost");
        let tokens = result["structuredContent"]["estimates"][0]["prompt_tokens"].as_u64();
        assert!(
            tokens.is_some_and(|t| t > 1000),
            "estimate_cost did not count the prompt: {reply}"
        );
    }
    rss.sort_unstable();
    EstimateResults {
        first_call,
        rss_kb: rss.get(rss.len() / 2).copied(),
    }
}

/// Panics unless `reply` is a JSON-RPC reply carrying a successful `tool` result; returns it.
fn tool_result(reply: &str, tool: &str) -> serde_json::Value {
    let mut value: serde_json::Value =
        serde_json::from_str(reply).unwrap_or_else(|e| panic!("bad JSON ({e}): {reply}"));
    let result = value
        .get_mut("result")
        .map(serde_json::Value::take)
        .unwrap_or_else(|| panic!("{tool} returned no result: {reply}"));
    let is_error = result
        .get("isError")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    assert!(!is_error, "{tool} failed: {reply}");
    result
}

/// Panics unless a `compare_models` reply has 8 results, all `"ok":true`; returns its `wall_ms`.
fn check_comparison(reply: &str) -> u64 {
    let result = tool_result(reply, "compare_models");
    let content = result
        .get("structuredContent")
        .unwrap_or_else(|| panic!("compare_models returned no structuredContent: {reply}"));
    let results = content
        .get("results")
        .and_then(serde_json::Value::as_array)
        .unwrap_or_else(|| panic!("compare_models returned no results: {reply}"));
    assert!(
        results.len() == SLOW_MODELS as usize
            && results
                .iter()
                .all(|r| r.get("ok").and_then(serde_json::Value::as_bool) == Some(true)),
        "compare_models did not answer ok for every model: {reply}"
    );
    content
        .get("wall_ms")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("compare_models returned no integer wall_ms: {reply}"))
}

/// Panics unless an `ask_model` reply is a successful answer carrying the fake's text.
fn check_answer(reply: &str) {
    tool_result(reply, "ask_model");
    assert!(
        reply.contains("pong"),
        "ask_model did not answer `pong` through the fake upstream: {reply}"
    );
}

/// VmRSS of a process in kB, from /proc (Linux only).
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The server under test, talking newline-delimited JSON-RPC on its stdin/stdout.
/// Killed and reaped on drop.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn spawn(upstream: &FakeUpstream, data_dir: &Path, extra_env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BIN);
        // Settings from the caller's environment (a real key, a config file) must not leak in.
        for (name, _) in std::env::vars_os() {
            let text = name.to_string_lossy();
            if text.starts_with("SWITCHBOARD_") || text.starts_with("OPENROUTER_") {
                command.env_remove(&name);
            }
        }
        command
            .arg("stdio")
            .env("SWITCHBOARD_DATA_DIR", data_dir)
            .env("OPENROUTER_BASE_URL", format!("http://{}", upstream.addr))
            .env("RUST_LOG", "warn")
            .envs(extra_env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {BIN}: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Self {
            child,
            stdin,
            stdout,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes `lines` plus a final newline in one write.
    fn send(&mut self, lines: &str) {
        let mut bytes = Vec::with_capacity(lines.len() + 1);
        bytes.extend_from_slice(lines.as_bytes());
        bytes.push(b'\n');
        self.stdin
            .write_all(&bytes)
            .expect("write to the server's stdin");
    }

    /// `initialize` + `notifications/initialized`, waiting for the initialize reply.
    fn handshake(&mut self) {
        self.send(&format!("{INITIALIZE}\n{INITIALIZED}"));
        self.wait_for_id(1);
    }

    /// Reads stdout lines until the response with this numeric id; returns it without the newline.
    fn wait_for_id(&mut self, id: u64) -> String {
        // Matches `"id":N,` or `"id":N}` but not `"id":N0` nor an escaped `\"id\":N` inside text.
        let (comma, brace) = (format!("\"id\":{id},"), format!("\"id\":{id}}}"));
        let mut line = String::new();
        loop {
            line.clear();
            let read = self
                .stdout
                .read_line(&mut line)
                .expect("read the server's stdout");
            if read == 0 {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                panic!("the server closed stdout before answering id {id} ({status})");
            }
            if line.contains(&comma) || line.contains(&brace) {
                let trimmed = line.trim_end_matches(['\r', '\n']).len();
                line.truncate(trimmed);
                return line;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal OpenRouter stand-in: `GET …/models` and `POST …/chat/completions` (SSE), HTTP/1.1
/// keep-alive, one thread per connection, each response written in one `write_all` with
/// TCP_NODELAY so that neither Nagle nor delayed ACKs add latency. A chat request for
/// `bench/slow-N` is answered after N × 10 ms (a sleep in that connection's thread, so concurrent
/// requests on separate connections wait in parallel). Lives until the bench exits.
struct FakeUpstream {
    addr: SocketAddr,
    chat_calls: Arc<AtomicUsize>,
}

impl FakeUpstream {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake upstream");
        let addr = listener.local_addr().expect("fake upstream address");
        let chat_calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&chat_calls);
        let models_body: Arc<str> = models_body().into();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = Arc::clone(&counter);
                let models_body = Arc::clone(&models_body);
                thread::spawn(move || serve_connection(stream, &counter, &models_body));
            }
        });
        Self { addr, chat_calls }
    }

    fn chat_calls(&self) -> usize {
        self.chat_calls.load(Ordering::Relaxed)
    }
}

/// The catalog: `bench/model` plus `bench/slow-1` … `bench/slow-8`, all the same shape.
fn models_body() -> String {
    let entries = std::iter::once("bench/model".to_string())
        .chain((1..=SLOW_MODELS).map(|n| format!("{SLOW_PREFIX}{n}")))
        .map(|id| MODEL_ENTRY.replace("{id}", &id))
        .collect::<Vec<_>>()
        .join(",");
    format!(r#"{{"data":[{entries}]}}"#)
}

/// How long to wait before answering a chat request: N × 10 ms for `bench/slow-N`, else none.
fn chat_delay(body: &[u8]) -> Duration {
    let model = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("model")?.as_str().map(str::to_owned));
    model
        .as_deref()
        .and_then(|m| m.strip_prefix(SLOW_PREFIX))
        .and_then(|n| n.parse::<u32>().ok())
        .map_or(Duration::ZERO, |n| SLOW_STEP * n)
}

fn serve_connection(stream: TcpStream, chat_calls: &AtomicUsize, models_body: &str) {
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    loop {
        request_line.clear();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let Some(length) = read_headers(&mut reader) else {
            return;
        };
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = target.split('?').next().unwrap_or("");
        let response = match (method, path) {
            ("GET", p) if p.ends_with("/models") => {
                http_response("200 OK", "application/json", models_body)
            }
            ("POST", p) if p.ends_with("/chat/completions") => {
                chat_calls.fetch_add(1, Ordering::Relaxed);
                let delay = chat_delay(&body);
                if !delay.is_zero() {
                    thread::sleep(delay);
                }
                http_response("200 OK", "text/event-stream", CHAT_BODY)
            }
            _ => http_response(
                "404 Not Found",
                "application/json",
                r#"{"error":{"code":404,"message":"not found"}}"#,
            ),
        };
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn http_response(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}",
        body.len()
    )
}
