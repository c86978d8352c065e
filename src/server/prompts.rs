//! The MCP prompts (slash commands in hosts): `second_opinion` and `cross_check`. Each expands to
//! one user message that tells the host's model which tool to call (`ask_model`,
//! `compare_models`) with which arguments, and what to report back.

use crate::tools::input::shown;
use rmcp::ErrorData;
use rmcp::model::{GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role};

pub const SECOND_OPINION: &str = "second_opinion";
pub const CROSS_CHECK: &str = "cross_check";
pub const NAMES: [&str; 2] = [SECOND_OPINION, CROSS_CHECK];
/// Longest model id accepted, as in the tools.
const MAX_ID_CHARS: usize = 256;
/// `compare_models` takes 2 to 8 models.
const MODELS: std::ops::RangeInclusive<usize> = 2..=8;

/// What `prompts/list` returns.
pub fn list() -> Vec<Prompt> {
    let arg = |name: &str, description: &str, required: bool| {
        PromptArgument::new(name)
            .with_description(description)
            .with_required(required)
    };
    vec![
        Prompt::new(
            SECOND_OPINION,
            Some("Ask another model on OpenRouter the same question (ask_model) and weigh its answer against yours."),
            Some(vec![
                arg("question", "The question to get a second opinion on.", true),
                arg("context", "Background the other model needs: code, an excerpt, constraints.", false),
                arg("model", "Catalog id of the model to ask, e.g. anthropic/claude-sonnet-4.5 (default: the server's default model).", false),
            ]),
        )
        .with_title("Second opinion"),
        Prompt::new(
            CROSS_CHECK,
            Some("Have several models judge whether a claim is true (compare_models) and report where they agree."),
            Some(vec![
                arg("claim", "The statement to check.", true),
                arg("models", "2 to 8 catalog ids, comma-separated (default: pick 3 from different providers with list_models).", false),
            ]),
        )
        .with_title("Cross-check a claim"),
    ]
}

/// `prompts/get`.
pub fn get(name: &str, arguments: Option<&JsonObject>) -> Result<GetPromptResult, ErrorData> {
    let args = Args {
        prompt: name,
        given: arguments,
    };
    let (description, text) = match name {
        SECOND_OPINION => {
            args.only(&["question", "context", "model"])?;
            (
                "A second opinion from another model",
                second_opinion(&args)?,
            )
        }
        CROSS_CHECK => {
            args.only(&["claim", "models"])?;
            ("A claim checked by several models", cross_check(&args)?)
        }
        other => {
            return Err(ErrorData::invalid_params(
                format!(
                    "no prompt `{}`; the prompts are {SECOND_OPINION} and {CROSS_CHECK}",
                    shown(other)
                ),
                None,
            ));
        }
    };
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(description),
    )
}

fn second_opinion(args: &Args<'_>) -> Result<String, ErrorData> {
    let question = args.required("question", "the question to get a second opinion on")?;
    let context = args.optional("context")?;
    let model = args
        .optional("model")?
        .map(|m| model_id(args, "model", m))
        .transpose()?;
    let mut prompt = question.to_string();
    if let Some(context) = context {
        prompt = format!("{question}\n\nContext:\n{context}");
    }
    let who = match model {
        Some(model) => format!("with `model` set to \"{model}\""),
        None => "without a `model` (the server's default model answers), or with a model from a different provider than yours found with `list_models`".to_string(),
    };
    Ok(format!(
        "I want a second opinion from another model on the question below.\n\n\
         Call the `ask_model` tool {who}, passing the question (and its context) as `prompt`, and a `system` of \"Answer independently and concisely; say how confident you are and why.\" \
         Leave `fallback_models` as configured.\n\n\
         Then answer me: the other model's answer in brief, where it agrees with yours and where it differs, which you trust more and why. \
         Name the model that answered (the result's `model`) and what it cost (`usage.cost_usd`).\n\n\
         ---\n{prompt}\n---"
    ))
}

fn cross_check(args: &Args<'_>) -> Result<String, ErrorData> {
    let claim = args.required("claim", "the statement to check")?;
    let models = args
        .optional("models")?
        .map(|list| models(args, list))
        .transpose()?;
    let which = match models {
        Some(models) => {
            let quoted: Vec<String> = models.iter().map(|m| format!("\"{m}\"")).collect();
            format!("with `models` set to [{}]", quoted.join(", "))
        }
        None => {
            "with `models` set to 3 models from different providers (find them with `list_models`)"
                .to_string()
        }
    };
    Ok(format!(
        "Check the claim below with several models.\n\n\
         Call the `compare_models` tool {which} and this `prompt`:\n\n\
         \"Is the following claim true? Answer TRUE, FALSE or UNCERTAIN on the first line, then give your reasons and any correction in at most five sentences.\n\nClaim: {claim}\"\n\n\
         Then report: each model's verdict in one line, where they agree and where they disagree, and your own conclusion. \
         A model whose entry has an `error` did not answer: say so rather than counting it. Give the `total_cost_usd`."
    ))
}

/// Validates `models`: comma-separated catalog ids, 2 to 8 of them.
fn models<'a>(args: &Args<'_>, list: &'a str) -> Result<Vec<&'a str>, ErrorData> {
    let ids: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    if !MODELS.contains(&ids.len()) {
        return Err(args.invalid(
            "models",
            &format!(
                "names {} models; give {} to {} catalog ids separated by commas, e.g. openai/gpt-5-mini,google/gemini-2.5-flash",
                ids.len(),
                MODELS.start(),
                MODELS.end()
            ),
        ));
    }
    ids.into_iter()
        .map(|id| model_id(args, "models", id))
        .collect()
}

fn model_id<'a>(args: &Args<'_>, field: &str, id: &'a str) -> Result<&'a str, ErrorData> {
    let id = id.trim();
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.contains(char::is_whitespace) {
        return Err(args.invalid(
            field,
            &format!(
                "`{}` is not a catalog id; use one such as openai/gpt-5-mini (at most {MAX_ID_CHARS} characters, no spaces)",
                shown(id)
            ),
        ));
    }
    Ok(id)
}

/// A prompt's arguments: strings by name.
struct Args<'a> {
    prompt: &'a str,
    given: Option<&'a JsonObject>,
}

impl Args<'_> {
    fn invalid(&self, field: &str, problem: &str) -> ErrorData {
        ErrorData::invalid_params(
            format!("{} argument `{field}`: {problem}", self.prompt),
            None,
        )
    }

    /// Refuses arguments the prompt does not take, naming them and the ones it does.
    fn only(&self, known: &[&str]) -> Result<(), ErrorData> {
        let unknown = self
            .given
            .into_iter()
            .flat_map(|g| g.keys())
            .find(|k| !known.contains(&k.as_str()));
        match unknown {
            Some(name) => Err(self.invalid(
                &shown(name),
                &format!(
                    "is not an argument of this prompt; it takes {}",
                    known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// A string argument; an empty one counts as not given (hosts send "" for a field left blank).
    fn optional(&self, field: &str) -> Result<Option<&str>, ErrorData> {
        match self.given.and_then(|g| g.get(field)) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(self.invalid(field, "must be a string")),
        }
    }

    fn required(&self, field: &str, what: &str) -> Result<&str, ErrorData> {
        self.optional(field)?
            .ok_or_else(|| self.invalid(field, &format!("is required: give {what}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: serde_json::Value) -> JsonObject {
        value.as_object().cloned().unwrap()
    }

    fn text(result: &GetPromptResult) -> String {
        serde_json::to_value(&result.messages[0].content).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn second_opinion_names_the_tool_the_model_and_the_context() {
        let args = object(
            json!({"question": "Is Rust memory safe?", "context": "no unsafe", "model": "x/y"}),
        );
        let got = text(&get(SECOND_OPINION, Some(&args)).unwrap());
        assert!(
            got.contains("`ask_model`") && got.contains("\"x/y\""),
            "{got}"
        );
        assert!(
            got.contains("Is Rust memory safe?\n\nContext:\nno unsafe"),
            "{got}"
        );
    }

    #[test]
    fn bad_arguments_name_the_field_and_the_fix() {
        let cases = [
            (SECOND_OPINION, json!({}), "`question`: is required"),
            (
                SECOND_OPINION,
                json!({"question": "q", "modle": "x/y"}),
                "`modle`",
            ),
            (
                SECOND_OPINION,
                json!({"question": 3}),
                "`question`: must be a string",
            ),
            (
                CROSS_CHECK,
                json!({"claim": "c", "models": "a/b"}),
                "names 1 models",
            ),
            (
                CROSS_CHECK,
                json!({"claim": "c", "models": "a/b, c d"}),
                "`c d` is not a catalog id",
            ),
        ];
        for (prompt, args, wanted) in cases {
            let error = get(prompt, Some(&object(args))).unwrap_err();
            assert!(
                error.message.contains(wanted),
                "{prompt}: {}",
                error.message
            );
        }
        assert!(
            get("nope", None)
                .unwrap_err()
                .message
                .contains(SECOND_OPINION)
        );
    }
}
