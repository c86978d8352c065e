//! `read_answer`: any range of a long answer that `ask_model` or `compare_models` cut at
//! `SWITCHBOARD_MAX_RESULT_CHARS`, read from the store. Free: it never calls upstream.

use super::ToolError;
use crate::App;
use crate::answers::{self, AnswerError};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadAnswerArgs {
    /// From a result whose text was cut.
    pub answer_id: String,
    /// Characters to skip (the previous next_offset). Default 0.
    pub offset: Option<i64>,
    /// Default and cap: the server's page size.
    pub max_chars: Option<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReadAnswerOutput {
    pub text: String,
    pub offset: usize,
    /// Where the next range starts; absent at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    pub total_chars: usize,
    pub model: String,
}

pub async fn run(app: &App, args: ReadAnswerArgs) -> Result<ReadAnswerOutput, ToolError> {
    let limit = app.config.max_result_chars;
    let offset = offset(args.offset)?;
    let max_chars = max_chars(args.max_chars, limit)?;
    let stored = answers::load(app, args.answer_id.trim())
        .await
        .map_err(|error: AnswerError| ToolError::invalid("answer_id", error.to_string()))?;
    let Some(page) = answers::page(&stored.text, offset, max_chars) else {
        let total = stored.text.chars().count();
        return Err(ToolError::invalid(
            "offset",
            format!(
                "{offset} is past the end: the answer has {total} characters; give an offset from 0 to {total} (the previous result's next_offset)"
            ),
        ));
    };
    Ok(ReadAnswerOutput {
        text: page.text.to_string(),
        offset: page.offset,
        next_offset: page.next_offset,
        total_chars: page.total_chars,
        model: stored.model,
    })
}

fn offset(value: Option<i64>) -> Result<usize, ToolError> {
    match value {
        None => Ok(0),
        Some(n) => usize::try_from(n).map_err(|_| {
            ToolError::invalid(
                "offset",
                format!("must be 0 or more (characters from the start), got {n}"),
            )
        }),
    }
}

/// At least 1; above `limit` it is `limit`.
fn max_chars(value: Option<i64>, limit: usize) -> Result<usize, ToolError> {
    match value {
        None => Ok(limit),
        Some(n) if n >= 1 => Ok(usize::try_from(n).map_or(limit, |n| n.min(limit))),
        Some(n) => Err(ToolError::invalid(
            "max_chars",
            format!("must be at least 1, got {n}; omit it for the default {limit}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_chars_defaults_to_and_is_capped_at_the_limit() {
        assert_eq!(max_chars(None, 20_000).unwrap(), 20_000);
        assert_eq!(max_chars(Some(500), 20_000).unwrap(), 500);
        assert_eq!(max_chars(Some(90_000), 20_000).unwrap(), 20_000);
        let error = max_chars(Some(0), 20_000).unwrap_err().to_string();
        assert!(
            error.contains("`max_chars`") && error.contains("20000"),
            "{error}"
        );
        let error = offset(Some(-1)).unwrap_err().to_string();
        assert!(error.contains("`offset`"), "{error}");
    }
}
