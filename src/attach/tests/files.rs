//! Files that are read: text and PDFs by path and by glob, and the parts they become.

use super::*;
use serde_json::json;

#[test]
fn a_relative_path_is_read_against_the_first_root_and_fenced_under_its_path() {
    let (dir, roots) = root();
    write(dir.path(), "src/main.rs", "fn main() {}\n");
    let got = read(&["src/main.rs"], &roots).unwrap();
    assert_eq!(
        got,
        vec![Attachment::Text {
            path: "src/main.rs".into(),
            text: "fn main() {}\n".into()
        }]
    );
    assert_eq!(
        got[0].model_text().unwrap(),
        "src/main.rs\n```rs\nfn main() {}\n```\n"
    );
}

#[test]
fn an_absolute_path_and_a_harmless_dotdot_inside_the_root_are_read() {
    let (dir, roots) = root();
    let file = write(dir.path(), "notes.txt", "hello");
    write(dir.path(), "sub/other.txt", "x");
    let absolute = file.to_string_lossy().into_owned();
    let got = read(&[&absolute, "sub/../notes.txt"], &roots).unwrap();
    assert_eq!(got.len(), 1, "the same file twice is attached once");
    assert_eq!(text_paths(&got), ["notes.txt"]);
}

#[test]
fn a_symlink_that_stays_inside_the_root_is_followed() {
    let (dir, roots) = root();
    write(dir.path(), "real/config.toml", "a = 1\n");
    std::os::unix::fs::symlink(
        dir.path().join("real/config.toml"),
        dir.path().join("link.toml"),
    )
    .unwrap();
    let got = read(&["link.toml"], &roots).unwrap();
    assert_eq!(text_paths(&got), ["real/config.toml"]);
}

#[test]
fn the_fence_is_longer_than_any_backtick_run_in_the_file() {
    let text = "doc\n````\ninner ``` fence\n````\n";
    let block = fenced("README.md", text);
    assert_eq!(block, format!("README.md\n`````md\n{text}`````\n"));
    assert_eq!(fenced("Makefile", "all:"), "Makefile\n```\nall:\n```\n");
}

#[test]
fn a_pdf_becomes_a_file_part_with_a_base64_data_url() {
    let (dir, roots) = root();
    write(
        dir.path(),
        "docs/spec.pdf",
        b"%PDF-1.7\n\x00\xff binary body",
    );
    let got = read(&["docs/spec.pdf"], &roots).unwrap();
    let part = got[0].part();
    assert_eq!(
        part,
        json!({"type": "file", "file": {
            "filename": "spec.pdf",
            "file_data": "data:application/pdf;base64,JVBERi0xLjcKAP8gYmluYXJ5IGJvZHk="
        }})
    );
}

#[test]
fn content_parts_put_the_prompt_first_then_each_attachment() {
    let attachments = vec![
        Attachment::Text {
            path: "a.txt".into(),
            text: "A".into(),
        },
        Attachment::Image {
            source: "https://example.com/x.png".into(),
            url: "https://example.com/x.png".into(),
            mime: None,
        },
    ];
    let parts = content_parts("review this", &attachments);
    assert_eq!(
        serde_json::Value::Array(parts),
        json!([
            {"type": "text", "text": "review this"},
            {"type": "text", "text": "a.txt\n```txt\nA\n```\n"},
            {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}
        ])
    );
}

#[test]
fn a_glob_expands_sorted_without_crossing_directories_or_entering_hidden_ones() {
    let (dir, roots) = root();
    for f in [
        "src/b.rs",
        "src/a.rs",
        "src/deep/c.rs",
        "src/notes.md",
        ".git/x.rs",
        "src/.hidden.rs",
    ] {
        write(dir.path(), f, "x");
    }
    let flat = read(&["src/*.rs"], &roots).unwrap();
    assert_eq!(text_paths(&flat), ["src/a.rs", "src/b.rs"]);
    let deep = read(&["**/*.rs", "src/a.rs"], &roots).unwrap();
    assert_eq!(text_paths(&deep), ["src/a.rs", "src/b.rs", "src/deep/c.rs"]);
    let named = read(&[".git/*.rs"], &roots).unwrap();
    assert_eq!(text_paths(&named), [".git/x.rs"]);
}

#[test]
fn files_in_a_second_root_are_read_by_absolute_path() {
    let (first, _) = root();
    let second = tempfile::tempdir().unwrap();
    let file = write(second.path(), "lib.py", "print(1)\n");
    let roots = Roots::new(vec![first.path().into(), second.path().into()]).unwrap();
    let got = read(&[&file.to_string_lossy()], &roots).unwrap();
    assert_eq!(got.len(), 1);
    assert!(matches!(&got[0], Attachment::Text { text, .. } if text == "print(1)\n"));
}
