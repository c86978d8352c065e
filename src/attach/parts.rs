//! The OpenAI/OpenRouter content parts an attachment becomes, and the fenced block of a text file.

use super::Attachment;
use serde_json::{Value, json};

/// `text` in a fenced block headed by its path. The fence is one backtick longer than the
/// longest backtick run in `text` (at least three), so no line of the file can close it.
pub fn fenced(path: &str, text: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    let language = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("");
    let newline = if text.ends_with('\n') || text.is_empty() {
        ""
    } else {
        "\n"
    };
    format!("{path}\n{fence}{language}\n{text}{newline}{fence}\n")
}

fn longest_backtick_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for b in text.bytes() {
        run = if b == b'`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

impl Attachment {
    /// The content part this attachment is sent as: `text` (fenced), `file` (PDF) or `image_url`.
    pub fn part(&self) -> Value {
        match self {
            Self::Text { path, text } => json!({"type": "text", "text": fenced(path, text)}),
            Self::Pdf {
                filename, data_url, ..
            } => json!({"type": "file", "file": {"filename": filename, "file_data": data_url}}),
            Self::Image { url, .. } => json!({"type": "image_url", "image_url": {"url": url}}),
        }
    }
}

/// The content of a user message: the prompt first (as OpenRouter advises for images), then
/// each attachment in order.
pub fn content_parts(prompt: &str, attachments: &[Attachment]) -> Vec<Value> {
    let prompt = json!({"type": "text", "text": prompt});
    std::iter::once(prompt)
        .chain(attachments.iter().map(Attachment::part))
        .collect()
}
