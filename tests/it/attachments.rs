//! `files` and `images` end to end: the real binary over stdio, the fake OpenRouter, and the chat
//! request body inspected part by part; routing by modality; every refusal names the path or field
//! and sends nothing upstream; `estimate_cost` counts attachments.

use crate::support::{FakeOpenRouter, McpServer};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::path::Path;

const MODEL: &str = "openai/gpt-5-mini";

fn write(dir: &Path, relative: &str, contents: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, contents).unwrap();
    path
}

/// The header of a `w` x `h` PNG: enough for the type check and the size the estimate reads.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend(w.to_be_bytes());
    bytes.extend(h.to_be_bytes());
    bytes.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj <</Type /Pages /Count 1>> endobj\n2 0 obj <</Type /Page>> endobj\n%%EOF\n";

/// A server whose only file root is `root`.
async fn server_in(fake: &FakeOpenRouter, root: &Path) -> McpServer {
    let roots = root.display().to_string();
    McpServer::start_with(fake, &[("SWITCHBOARD_FILE_ROOTS", roots.as_str())]).await
}

/// The content parts of the one user message of the only chat request `model` received.
async fn sent_parts(fake: &FakeOpenRouter, model: &str) -> Vec<Value> {
    let requests = fake.chat_requests(Some(model)).await;
    assert_eq!(requests.len(), 1, "one request to {model}");
    let messages = requests[0]["messages"].as_array().unwrap().clone();
    let user = messages.iter().rfind(|m| m["role"] == "user").unwrap();
    user["content"]
        .as_array()
        .unwrap_or_else(|| panic!("content parts, got {user}"))
        .clone()
}

#[tokio::test]
async fn a_text_file_goes_in_as_a_fenced_block_headed_by_its_path() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "Looks fine.", 0.001).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/lib.rs",
        "pub fn answer() -> u32 {\n    42\n}\n",
    );
    let server = server_in(&fake, dir.path()).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "Review this.", "model": MODEL, "files": ["src/lib.rs"]}),
        )
        .await;
    assert_eq!(out["text"], "Looks fine.");
    let parts = sent_parts(&fake, MODEL).await;
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0], json!({"type": "text", "text": "Review this."}));
    assert_eq!(parts[1]["type"], "text");
    assert_eq!(
        parts[1]["text"],
        "src/lib.rs\n```rs\npub fn answer() -> u32 {\n    42\n}\n```\n"
    );
    assert!(out.get("masked").is_none(), "nothing to mask: {out}");
    let log = server.stop().await;
    assert!(
        !log.contains("pub fn answer"),
        "file contents never reach the log"
    );
}

#[tokio::test]
async fn a_pdf_goes_as_a_file_part_and_an_image_as_an_image_url_part() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "Seen.", 0.001).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "docs/spec.pdf", PDF);
    // The name says JPEG; the bytes are a PNG, and the bytes decide.
    write(dir.path(), "shot.jpg", png(640, 480));
    let server = server_in(&fake, dir.path()).await;
    let args = json!({"prompt": "Compare.", "model": MODEL, "files": ["docs/spec.pdf"],
                      "images": ["shot.jpg", "https://example.com/chart.webp"]});
    server.call_ok("ask_model", args).await;
    let parts = sent_parts(&fake, MODEL).await;
    assert_eq!(parts.len(), 4, "{parts:?}");
    let pdf = format!("data:application/pdf;base64,{}", STANDARD.encode(PDF));
    assert_eq!(
        parts[1],
        json!({"type": "file", "file": {"filename": "spec.pdf", "file_data": pdf}})
    );
    let image = format!("data:image/png;base64,{}", STANDARD.encode(png(640, 480)));
    assert_eq!(
        parts[2],
        json!({"type": "image_url", "image_url": {"url": image}})
    );
    assert_eq!(
        parts[3],
        json!({"type": "image_url", "image_url": {"url": "https://example.com/chart.webp"}})
    );
    server.stop().await;
}

#[tokio::test]
async fn a_text_only_model_is_skipped_for_an_image_and_the_vision_fallback_answers() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("deepseek/deepseek-r1-0528", "never asked", 0.001)
        .await;
    fake.answer(MODEL, "A bar chart.", 0.001).await;
    let server = McpServer::start(&fake).await;
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "What is this?", "model": "deepseek/deepseek-r1-0528",
                   "fallback_models": [MODEL], "images": ["https://example.com/chart.png"]}),
        )
        .await;
    assert_eq!(out["model"], MODEL);
    assert_eq!(out["text"], "A bar chart.");
    let attempts = out["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["model"], "deepseek/deepseek-r1-0528");
    assert_eq!(attempts[0]["outcome"], "skipped");
    let reason = attempts[0]["error"].as_str().unwrap();
    assert!(
        reason.contains("image") && reason.contains("input_modalities"),
        "{reason}"
    );
    assert_eq!(attempts[1]["outcome"], "ok");
    assert!(
        fake.chat_requests(Some("deepseek/deepseek-r1-0528"))
            .await
            .is_empty()
    );
    server.stop().await;
}

#[tokio::test]
async fn compare_models_reads_the_attachments_once_and_sends_them_to_every_model() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "one", 0.001).await;
    fake.answer("google/gemini-2.5-flash", "two", 0.001).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.md", "# Plan\nShip it.\n");
    let server = server_in(&fake, dir.path()).await;
    let out = server
        .call_ok(
            "compare_models",
            json!({"prompt": "Critique.", "files": ["notes.md"], "images": ["https://example.com/a.png"],
                   "models": [MODEL, "google/gemini-2.5-flash", "deepseek/deepseek-r1-0528"]}),
        )
        .await;
    let results = out["results"].as_array().unwrap();
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[1]["ok"], true);
    assert_eq!(results[2]["ok"], false);
    let error = results[2]["error"].as_str().unwrap();
    assert!(
        error.starts_with("skipped:") && error.contains("image"),
        "{error}"
    );
    for model in [MODEL, "google/gemini-2.5-flash"] {
        let parts = sent_parts(&fake, model).await;
        assert_eq!(parts[1]["text"], "notes.md\n```md\n# Plan\nShip it.\n```\n");
        assert_eq!(parts[2]["image_url"]["url"], "https://example.com/a.png");
    }
    assert!(
        fake.chat_requests(Some("deepseek/deepseek-r1-0528"))
            .await
            .is_empty()
    );
    server.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn every_refusal_names_the_path_or_field_and_sends_nothing() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "should not be asked", 0.001).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let outside = tempfile::tempdir().unwrap();
    let secret = write(outside.path(), "secret.txt", "outside the roots");
    write(dir.path(), "beside.txt", "next to the root, not in it");
    write(&root, "src/main.rs", "fn main() {}\n");
    std::os::unix::fs::symlink(&secret, root.join("link.txt")).unwrap();
    write(&root, "blob.bin", [0u8, 159, 146, 150, 0, 1, 2, 255]);
    write(&root, "big.txt", vec![b'a'; 2 * 1024 * 1024 + 1]);
    write(&root, "fake.png", "not an image at all");
    for i in 0..501 {
        write(&root, &format!("many/f{i:03}.txt"), "x");
    }
    for i in 0..1500 {
        write(&root, &format!("huge/f{i:04}.txt"), "x");
    }
    // /dev is a second root, so the device is refused for being a device, not for its place.
    let roots = format!("{},/dev", root.display());
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_FILE_ROOTS", roots.as_str())]).await;
    let big_png = STANDARD.encode(vec![0u8; 5 * 1024 * 1024 + 16]);
    let cases: Vec<(Value, Vec<String>)> = vec![
        (
            json!({"files": [secret.display().to_string()]}),
            vec![
                secret.display().to_string(),
                "outside the file roots".into(),
            ],
        ),
        (
            json!({"files": ["link.txt"]}),
            vec!["link.txt".into(), "outside the file roots".into()],
        ),
        (
            json!({"files": ["../beside.txt"]}),
            vec!["../beside.txt".into(), "outside the file roots".into()],
        ),
        (
            json!({"files": ["src"]}),
            vec!["src".into(), "is a directory".into()],
        ),
        (
            json!({"files": ["/dev/zero"]}),
            vec!["/dev/zero".into(), "not a regular file".into()],
        ),
        (
            json!({"files": ["blob.bin"]}),
            vec!["blob.bin".into(), "binary".into()],
        ),
        (
            json!({"files": ["big.txt"]}),
            vec!["big.txt".into(), "2097152 bytes per file".into()],
        ),
        (
            json!({"files": ["many/*.txt"]}),
            vec!["501 files".into(), "limit of 500".into()],
        ),
        (
            json!({"files": ["huge/*.txt"]}),
            vec!["huge/*.txt".into(), "more than 1000 files".into()],
        ),
        (
            json!({"images": ["fake.png"]}),
            vec!["`images`".into(), "fake.png".into(), "not a PNG".into()],
        ),
        (
            json!({"images": [format!("data:image/png;base64,{big_png}")]}),
            vec![
                "`images`".into(),
                "data: URI".into(),
                "5242880 bytes per image".into(),
            ],
        ),
    ];
    for (extra, expected) in cases {
        let mut args = json!({"prompt": "Read it.", "model": MODEL});
        args.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let field = if extra.get("files").is_some() {
            "`files`"
        } else {
            "`images`"
        };
        let error = server.call_err("ask_model", args).await;
        assert!(error.contains(field), "{error}");
        for needle in &expected {
            assert!(error.contains(needle.as_str()), "{needle:?} not in {error}");
        }
        assert!(
            !error.contains("outside the roots"),
            "the file contents are never shown"
        );
    }
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "nothing was sent upstream"
    );
    let log = server.stop().await;
    assert!(
        !log.contains("outside the roots"),
        "file contents never reach the log"
    );
}

#[tokio::test]
async fn estimate_cost_counts_a_text_file_as_o200k_base_and_images_by_their_size() {
    let fake = FakeOpenRouter::start().await;
    let dir = tempfile::tempdir().unwrap();
    let source = "use std::collections::HashMap;\n\nfn main() {\n    let mut m = HashMap::new();\n    m.insert(\"k\", 1);\n    println!(\"{m:?}\");\n}\n";
    write(dir.path(), "src/main.rs", source);
    write(dir.path(), "chart.png", png(1024, 1024));
    let server = server_in(&fake, dir.path()).await;
    let count = |args: Value| {
        let server = &server;
        async move {
            let out = server.call_ok("estimate_cost", args).await;
            out["estimates"][0]["prompt_tokens"].as_u64().unwrap()
        }
    };
    let base = json!({"model": MODEL, "prompt": "Explain."});
    let alone = count(base.clone()).await;
    let mut with_file = base.clone();
    with_file["files"] = json!(["src/main.rs"]);
    let with_file = count(with_file).await;
    let bpe = tiktoken_rs::o200k_base_singleton();
    let fenced = format!("src/main.rs\n```rs\n{source}```\n");
    assert_eq!(
        with_file - alone,
        bpe.encode_ordinary(&fenced).len() as u64,
        "the file counts exactly as o200k_base counts its fenced block"
    );
    let mut with_image = base.clone();
    with_image["images"] = json!(["chart.png"]);
    // 1024x1024: Anthropic's w*h/750 (1399) is above OpenAI's 4 tiles (765).
    assert_eq!(count(with_image).await - alone, 1399);
    let mut with_url = base;
    with_url["images"] = json!(["https://example.com/x.png"]);
    assert_eq!(
        count(with_url).await - alone,
        1600,
        "a URL's size is unknown"
    );
    assert!(fake.chat_requests(None).await.is_empty(), "nothing is sent");
    server.stop().await;
}

#[tokio::test]
async fn the_shell_ask_attaches_files_and_images_from_the_current_directory() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "Fine.", 0.001).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.rs", "fn main() {}\n");
    write(dir.path(), "pic.png", png(8, 8));
    let data = tempfile::tempdir().unwrap();
    let args = [
        "ask", "--model", MODEL, "--file", "main.rs", "--image", "pic.png", "Check.",
    ];
    let output = tokio::process::Command::new(crate::support::mcp::BIN)
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .envs(crate::support::mcp::base_env(&fake, data.path()))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim(), "Fine.");
    let parts = sent_parts(&fake, MODEL).await;
    assert_eq!(parts[0], json!({"type": "text", "text": "Check."}));
    assert_eq!(parts[1]["text"], "main.rs\n```rs\nfn main() {}\n```\n");
    let image = format!("data:image/png;base64,{}", STANDARD.encode(png(8, 8)));
    assert_eq!(parts[2]["image_url"]["url"], image);
}

#[tokio::test]
async fn attachments_count_in_the_context_pre_check_and_the_cost_cap() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MODEL, "Done.", 0.001).await;
    fake.answer("test/tiny-context", "never asked", 0.001).await;
    let dir = tempfile::tempdir().unwrap();
    let words: String = (0..3000).map(|i| format!("word{i} ")).collect();
    write(dir.path(), "long.txt", &words);
    let server = server_in(&fake, dir.path()).await;
    // The prompt alone fits test/tiny-context's 4096 tokens; with the file it does not.
    let out = server
        .call_ok(
            "ask_model",
            json!({"prompt": "Summarise.", "model": "test/tiny-context", "fallback_models": [MODEL],
                   "max_tokens": 16, "files": ["long.txt"]}),
        )
        .await;
    assert_eq!(out["model"], MODEL);
    let skipped = out["attempts"][0]["error"].as_str().unwrap();
    assert!(
        skipped.contains("context window of 4096 tokens"),
        "{skipped}"
    );
    assert!(
        fake.chat_requests(Some("test/tiny-context"))
            .await
            .is_empty()
    );
    // 20 images of unknown size are 32,000 prompt tokens: over a cap the bare prompt is far under.
    let capped = json!({"prompt": "Describe.", "model": MODEL, "fallback_models": [],
                        "max_tokens": 16, "max_cost_usd": 0.001, "cache": "bypass"});
    server.call_ok("ask_model", capped.clone()).await;
    let mut with_images = capped;
    with_images["images"] = json!(vec!["https://example.com/a.png"; 20]);
    let error = server.call_err("ask_model", with_images).await;
    assert!(error.contains("max_cost_usd"), "{error}");
    assert_eq!(
        fake.chat_requests(Some(MODEL)).await.len(),
        2,
        "the capped call sent nothing"
    );
    server.stop().await;
}
