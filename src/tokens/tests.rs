//! The embedded counter against tiktoken-rs's o200k_base: the table itself, the sample texts in
//! `tests/fixtures/token_samples/`, a few thousand random strings, and hostile whitespace runs.

use super::vocab::{self, Rank};
use super::*;
use crate::openrouter::types::Role;
use std::path::{Path, PathBuf};

fn reference(text: &str) -> u64 {
    tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len() as u64
}

fn manifest_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn counts_with_o200k_base() {
    // "Hello" "," " world" "!" are single tokens in o200k_base.
    assert_eq!(count_text("Hello, world!"), 4);
    assert_eq!(count_text(""), 0);
}

#[test]
fn message_overhead_is_added() {
    let messages = vec![ChatMessage::new(Role::User, "Hello, world!")];
    assert_eq!(count_messages(&messages), 1 + 4 + 3 + 3);
}

#[test]
fn table_is_current() {
    let bpe = tiktoken_rs::o200k_base_singleton();
    let tokens: Vec<(Vec<u8>, Rank)> = (0..)
        .map_while(|rank| bpe.decode_bytes(&[rank]).ok().map(|bytes| (bytes, rank)))
        .collect();
    assert_eq!(tokens.len(), 199_998, "o200k_base has ranks 0..=199997");
    let expected = vocab::encode(tokens);
    let path = manifest_path("src/tokens/o200k_base.bin");
    if std::env::var_os("SWITCHBOARD_UPDATE_TOKENS").is_some() {
        std::fs::write(&path, &expected).expect("write src/tokens/o200k_base.bin");
    }
    assert!(
        TABLE == expected.as_slice(),
        "src/tokens/o200k_base.bin is not tiktoken-rs's o200k_base; regenerate it with \
         `SWITCHBOARD_UPDATE_TOKENS=1 cargo test --lib tokens::tests::table_is_current`"
    );
    assert!(TOKENIZER.is_some(), "the embedded table and pattern load");
}

#[test]
fn pattern_is_tiktoken_rs_pattern() {
    assert_eq!(O200K_BASE_PATTERN, tiktoken_rs::O200K_BASE_PAT_STR);
}

#[test]
fn sample_texts_count_as_tiktoken() {
    let dir = manifest_path("tests/fixtures/token_samples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("read tests/fixtures/token_samples") {
        let path = entry.expect("a directory entry").path();
        let text = std::fs::read_to_string(&path).expect("a UTF-8 sample");
        assert_eq!(count_text(&text), reference(&text), "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 8, "expected the 8 sample texts, found {checked}");
}

/// Pieces of text from every class the pre-tokenizer tells apart.
const ATOMS: &[&str] = &[
    "a", "z", "Q", "the", "The", "THE", " ", "  ", "\t", "\n", "\r", "\r\n", "\n\n", "0", "7",
    "123", "!", "?", ".", ",", "/", "\"", "(", ")", "{", "}", "_", "-", "=", "#", "'", "'s", "'T",
    "'re", "'VE", "'m", "'ll", "'d", "'ſ", "é", "É", "ß", "ǅ", "ʰ", "中", "日本", "한", "ا", "ก",
    "\u{301}", "\u{93f}", "\u{20dd}", "٣", "½", "Ⅻ", "\u{a0}", "\u{2003}", "\u{3000}", "\u{85}",
    "\u{b}", "\u{c}", "\u{2028}", "👍", "🏽", "\u{200d}", "❤", "\u{fe0f}", "🇫🇷", "∑", "→",
];

fn random_string(rng: &mut fastrand::Rng) -> String {
    let mut text = String::new();
    let long = rng.u8(..20) == 0;
    let atoms = if long {
        rng.usize(60..400)
    } else {
        rng.usize(1..40)
    };
    let letters_only = long && rng.bool();
    for _ in 0..atoms {
        if letters_only {
            text.push(
                rng.choice(['a', 'b', 'e', 'r', 'é', 'Z', '\u{301}'])
                    .unwrap_or('a'),
            );
        } else if rng.u8(..10) == 0 {
            text.push(rng.char(..));
        } else {
            text.push_str(rng.choice(ATOMS).unwrap_or(&"a"));
        }
    }
    text
}

#[test]
fn random_strings_count_as_tiktoken() {
    let mut rng = fastrand::Rng::with_seed(0x0200_0b45e);
    for _ in 0..3000 {
        let text = random_string(&mut rng);
        assert_eq!(count_text(&text), reference(&text), "{text:?}");
    }
}

#[test]
fn long_pieces_and_runs_count_as_tiktoken() {
    let texts = [
        "ab".repeat(300),
        "Supercalifragilistic".repeat(40),
        "=-".repeat(500),
        format!("{}x", " ".repeat(5000)),
        format!("{} \n\t {}", " ".repeat(3000), "\u{3000}".repeat(700)),
        "9".repeat(1000),
        "😀".repeat(200),
    ];
    for text in &texts {
        assert_eq!(count_text(text), reference(text), "{:?}", &text[..40]);
    }
}

#[test]
fn a_whitespace_run_too_long_for_the_regex_is_still_counted_exactly() {
    // tiktoken-rs's regex gives up on this (its backtracking stack fills) and tiktoken-rs panics.
    // "\n" is one piece; `\s+(?!\S)` takes the run but its last space, which goes with the word.
    let tokenizer = TOKENIZER.as_ref().expect("the tokenizer loads");
    let vocab = tokenizer.vocab;
    let run = " ".repeat(1_100_000);
    let text = format!("\n{run}x");
    let backtracking = fancy_regex::Regex::new(O200K_BASE_PATTERN).unwrap();
    assert!(
        backtracking.find_from_pos(&text, 1).is_err(),
        "tiktoken's regex gives up here"
    );
    let expected = 1 + bpe::count_piece(&vocab, &run.as_bytes()[1..]) as u64 + reference(" x");
    assert_eq!(count_text(&text), expected);
    // At the end of the text the run is one piece.
    let whole = bpe::count_piece(&vocab, run.as_bytes()) as u64;
    assert_eq!(count_text(&run), whole);
    assert!(whole < byte_estimate(&run) / 4, "not the byte estimate");
}
