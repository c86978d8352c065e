//! Attachment benchmark: a 1 MB source tree of 200 files in a temp dir, attached with one glob.
//!
//! Each run reads the tree (`attach::read_files`), masks every file (`mask::Masker`, default
//! `secrets` mode), counts the tokens of what the model reads (`tokens::count_text`) and builds the
//! content parts (`attach::content_parts`). Prints the median and p90 of the whole and of each
//! step over `BENCH_RUNS` runs (default 30), and the first run of the process on its own (cold
//! caches). Run with `cargo bench --bench attach`; it only reports.

#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::{Duration, Instant};
use switchboard::attach::{self, Limits, Roots};
use switchboard::mask::{Counts, MaskMode, Masker};
use switchboard::tokens;

const FILES: usize = 200;
const FILE_BYTES: usize = 5 * 1024;
const DEFAULT_RUNS: usize = 30;
const WARMUPS: usize = 3;

/// A few lines of ordinary Rust; every 20th file also carries an assignment that gets masked.
const LINES: &[&str] = &[
    "use std::collections::HashMap;\n",
    "/// Looks up a model by id and returns its price per million tokens.\n",
    "pub fn price_of(models: &HashMap<String, f64>, id: &str) -> Option<f64> {\n",
    "    models.get(id).copied().map(|p| p * 1_000_000.0)\n",
    "}\n",
    "#[derive(Debug, Clone, PartialEq)]\n",
    "struct Attempt { model: String, status: u16, latency_ms: u64 }\n",
    "    let digest = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\";\n",
    "    for (i, attempt) in attempts.iter().enumerate() { tracing::debug!(i, ?attempt); }\n",
    "    // Retry after 1.5 s, then 3 s, then give up (see RetryPolicy::delay_for).\n",
];

fn build_tree(dir: &Path) {
    for i in 0..FILES {
        let mut text = String::with_capacity(FILE_BYTES + 128);
        if i % 20 == 0 {
            text.push_str("const DB_PASSWORD: &str = \"hunter2-not-real\";\n");
        }
        let mut line = i;
        while text.len() < FILE_BYTES {
            text.push_str(LINES[line % LINES.len()]);
            line += 7;
        }
        let sub = dir.join(format!("src/mod{:02}", i / 10));
        std::fs::create_dir_all(&sub).expect("create the tree");
        std::fs::write(sub.join(format!("file{i:03}.rs")), text).expect("write a file");
    }
}

#[derive(Default)]
struct Times {
    read: Vec<Duration>,
    mask: Vec<Duration>,
    count: Vec<Duration>,
    parts: Vec<Duration>,
    total: Vec<Duration>,
}

/// One attach: returns the bytes read, the tokens counted and the masked counts.
fn attach_once(roots: &Roots, masker: &Masker, times: &mut Times) -> (usize, u64, Counts) {
    let start = Instant::now();
    let mut files = attach::read_files(&["**/*.rs".to_owned()], roots, &Limits::default())
        .expect("read the tree");
    let read = Instant::now();
    let mut counts = Counts::new();
    for file in &mut files {
        file.mask(masker, &mut counts);
    }
    let masked = Instant::now();
    let tokens: u64 = files
        .iter()
        .filter_map(|f| f.model_text())
        .map(|t| tokens::count_text(&t))
        .sum();
    let counted = Instant::now();
    let parts = attach::content_parts("Review these files for bugs.", &files);
    let built = Instant::now();
    let bytes = parts.iter().map(|p| p.to_string().len()).sum();
    times.read.push(read - start);
    times.mask.push(masked - read);
    times.count.push(counted - masked);
    times.parts.push(built - counted);
    times.total.push(built - start);
    (bytes, tokens, counts)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() - 1) as f64 * p).round() as usize;
    samples[index]
}

fn report(name: &str, samples: &mut [Duration]) {
    let median = percentile(samples, 0.5);
    let p90 = percentile(samples, 0.9);
    println!(
        "{name:<28} median {:>8.2} ms   p90 {:>8.2} ms",
        ms(median),
        ms(p90)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let runs = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    let dir = tempfile::tempdir().expect("a temp dir");
    build_tree(dir.path());
    let roots = Roots::new(vec![dir.path().to_path_buf()]).expect("the temp dir is a root");
    let masker = Masker::new(MaskMode::Secrets);
    let mut warm = Times::default();
    for _ in 0..WARMUPS {
        attach_once(&roots, &masker, &mut warm);
    }
    let mut times = Times::default();
    let mut last = (0, 0, Counts::new());
    for _ in 0..runs.max(1) {
        last = attach_once(&roots, &masker, &mut times);
    }
    let (bytes, tokens, counts) = last;
    println!(
        "attach: {FILES} files, {} bytes on disk, {runs} runs",
        FILES * FILE_BYTES
    );
    // The first run also builds the tokenizer's regex and fills its cache of counted pieces.
    println!(
        "first run in the process: count tokens {:.2} ms, total {:.2} ms",
        ms(warm.count[0]),
        ms(warm.total[0])
    );
    println!(
        "content parts: {bytes} bytes of JSON, {tokens} tokens (o200k_base), masked {counts:?}"
    );
    report("read_files", &mut times.read);
    report("mask", &mut times.mask);
    report("count tokens", &mut times.count);
    report("content_parts", &mut times.parts);
    report("total (read+mask+count+build)", &mut times.total);
}
