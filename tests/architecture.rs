//! The paid-call boundary: nothing under `src/tools/` reaches the budget, the cache, the store or
//! the metrics. Tools validate, call `consult::answer` and shape the output; the paid call itself
//! (cache, budget, routing, settlement, events) has one owner, `src/consult/`.

use std::path::{Path, PathBuf};

/// Top-level modules that only the paid-call owner may use.
const FORBIDDEN: [&str; 4] = ["budget", "cache", "store", "metrics"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Other,
}

/// Identifiers and the punctuation of paths, with comments, strings and chars left out.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && raw_string_end(&chars, i).is_some()
        {
            i = raw_string_end(&chars, i).unwrap_or(chars.len());
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{..}'), else a lifetime.
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c == ':' && next == Some(':') {
            out.push(Token::PathSep);
            i += 2;
        } else {
            out.push(match c {
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                c if c.is_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Token::Other,
            });
            i += 1;
        }
    }
    out
}

/// Where a raw string starting at `i` (`r"…"`, `r#"…"#`) ends.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

/// The crate-level modules a path names, for every path in `source` that reaches the crate root:
/// `crate::x`, `crate::{x, y::z}`, and `super::…` chains that climb from `module` (the file's
/// module path below the crate root, e.g. `["tools", "ask_model"]`) up to the root.
fn crate_modules(source: &str, module: &[String]) -> Vec<String> {
    let tokens = tokens(source);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let at_path_start = i == 0 || tokens[i - 1] != Token::PathSep;
        let (segments, after) = match &tokens[i] {
            Token::Ident(root) if root == "crate" && at_path_start => (Vec::new(), i + 1),
            Token::Ident(root) if root == "super" && at_path_start => {
                let mut depth = module.len();
                let mut j = i;
                while matches!(tokens.get(j), Some(Token::Ident(s)) if s == "super") {
                    depth = depth.saturating_sub(1);
                    j += 1;
                    if tokens.get(j) == Some(&Token::PathSep)
                        && matches!(tokens.get(j + 1), Some(Token::Ident(s)) if s == "super")
                    {
                        j += 1;
                    }
                }
                (module[..depth].to_vec(), j)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        if tokens.get(after) == Some(&Token::PathSep) {
            let mut tree = Vec::new();
            first_segments(&tokens, after + 1, &mut tree);
            for name in tree {
                match segments.first() {
                    Some(top) => found.push(top.clone()),
                    None => found.push(name),
                }
            }
        }
        i = after;
    }
    found
}

/// The first segment of each path in the use tree starting at `i`: `x`, or each item of `{…}`.
fn first_segments(tokens: &[Token], i: usize, out: &mut Vec<String>) {
    match tokens.get(i) {
        Some(Token::Ident(name)) => out.push(name.clone()),
        Some(Token::Open) => {
            let mut depth = 0;
            let mut item_start = true;
            for (j, token) in tokens.iter().enumerate().skip(i) {
                match token {
                    Token::Open => {
                        depth += 1;
                        if depth == 1 {
                            item_start = true;
                            continue;
                        }
                    }
                    Token::Close => {
                        depth -= 1;
                        if depth == 0 {
                            return;
                        }
                    }
                    Token::Comma if depth == 1 => {
                        item_start = true;
                        continue;
                    }
                    Token::Ident(_) if depth == 1 && item_start => first_segments(tokens, j, out),
                    _ => {}
                }
                item_start = false;
            }
        }
        _ => {}
    }
}

fn violations(source: &str, module: &[String]) -> Vec<String> {
    crate_modules(source, module)
        .into_iter()
        .filter(|m| FORBIDDEN.contains(&m.as_str()))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/tools/ask_model.rs` -> `["tools", "ask_model"]`; `src/tools/mod.rs` -> `["tools"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

#[test]
fn no_tool_reaches_budget_cache_store_or_metrics() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("tools"), &mut files);
    assert!(files.len() >= 5, "found only {files:?} under src/tools");
    let mut problems = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for module in violations(&source, &module_of(&src, &file)) {
            problems.push(format!("{} uses crate::{module}", file.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "tools must go through crate::consult (the paid-call owner):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_sees_every_form_of_path() {
    let tool = ["tools".to_string(), "ask_model".to_string()];
    let caught = |source: &str| violations(source, &tool);
    assert_eq!(caught("use crate::budget::Charge;"), ["budget"]);
    assert_eq!(
        caught("use crate::{App, budget::{Admission, Charge}, cache};"),
        ["budget", "cache"]
    );
    assert_eq!(
        caught("use crate::{\n    catalog::Snapshot,\n    metrics,\n};"),
        ["metrics"]
    );
    assert_eq!(caught("use super::super::store::Store;"), ["store"]);
    assert_eq!(
        caught("use super::super::{pricing, cache::Tier};"),
        ["cache"]
    );
    assert_eq!(
        caught("fn f() { crate::metrics::global().render(); }"),
        ["metrics"]
    );
    assert_eq!(
        caught("fn f() -> crate :: store :: Spend { todo() }"),
        ["store"]
    );
    // Siblings under tools/, comments, strings and other crates are fine.
    assert!(caught("use super::models; use super::cache_mode;").is_empty());
    assert!(
        caught("// use crate::budget;\n/* crate::cache */ let s = \"crate::store\";").is_empty()
    );
    assert!(caught("use crate::consult::{self, Ask}; use prometheus::metrics;").is_empty());
    let tools_mod = ["tools".to_string()];
    assert_eq!(
        violations("use super::budget::Charge;", &tools_mod),
        ["budget"]
    );
}
