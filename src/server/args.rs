//! Tool arguments as the tools see them: `tools/call` arguments deserialized with the path of the
//! field at fault, so a wrong type, an unknown role or an unknown field becomes a tool error that
//! names `messages[2].role` and says what is accepted. User input is never echoed whole.

use crate::tools::ToolError;
use crate::tools::input::shown;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::schemars::{self, JsonSchema};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::{Path, Segment};

/// Like rmcp's `Parameters`, but a bad argument is kept as a [`ToolError`] for the tool to return
/// (`isError: true`), instead of serde's message, which names no field and echoes the value.
#[derive(Debug)]
pub struct Parameters<P>(pub Result<P, ToolError>);

impl<P: JsonSchema> JsonSchema for Parameters<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        P::json_schema(generator)
    }
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, rmcp::ErrorData> {
        let arguments = Value::Object(context.arguments.take().unwrap_or_default());
        Ok(Parameters(parse(&arguments)))
    }
}

/// Deserializes `arguments`, naming the field at fault when it cannot.
pub fn parse<P: DeserializeOwned>(arguments: &Value) -> Result<P, ToolError> {
    serde_path_to_error::deserialize(arguments).map_err(|error| {
        let path = error.path().clone();
        explain(arguments, &path, &error.into_inner().to_string())
    })
}

/// Why `tools/call` params did not parse, naming the field and the fix.
pub fn call_params_problem(params: Option<&Value>) -> String {
    let Some(Value::Object(params)) = params else {
        return "invalid tools/call params: give an object {\"name\": \"<tool>\", \"arguments\": {...}}"
            .to_string();
    };
    match (params.get("name"), params.get("arguments")) {
        (Some(Value::String(_)), Some(arguments)) if !arguments.is_object() => format!(
            "invalid tools/call params: `arguments` must be an object of the tool's arguments, got {}",
            describe(Some(arguments))
        ),
        (Some(Value::String(_)), _) => {
            "invalid tools/call params: give `name` (a string) and `arguments` (an object)"
                .to_string()
        }
        (None, _) => {
            "invalid tools/call params: `name` is missing; give the tool's name as a string"
                .to_string()
        }
        (name, _) => format!(
            "invalid tools/call params: `name` must be the tool's name as a string, got {}",
            describe(name)
        ),
    }
}

/// Turns serde's message into one that names the field and the fix.
fn explain(arguments: &Value, path: &Path, message: &str) -> ToolError {
    let at = field_path(path);
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, expected) = split_quoted(rest);
        // Depending on the type, serde already has the unknown key in the path.
        let in_path = matches!(path.iter().next_back(), Some(Segment::Map { key }) if key == name);
        let field = if in_path { at } else { join(&at, &shown(name)) };
        return ToolError::argument(field, format!("unknown field; {}", accepted(expected)));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let (name, _) = split_quoted(rest);
        return ToolError::argument(join(&at, name), "is required; add it");
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = split_quoted(rest);
        return ToolError::argument(
            at,
            format!("`{}` is not accepted; {}", shown(value), accepted(expected)),
        );
    }
    let expected = message
        .rsplit_once(", expected ")
        .map_or("a different value", |(_, e)| e);
    let got = describe(value_at(arguments, path));
    let field = if at.is_empty() {
        "arguments".to_string()
    } else {
        at
    };
    ToolError::argument(field, format!("must be {}, got {got}", plain(expected)))
}

/// `messages[2].role`; empty at the top level.
fn field_path(path: &Path) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&shown(key));
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// Splits "name`, expected …" into the name (which may hold backticks) and what is expected.
fn split_quoted(rest: &str) -> (&str, &str) {
    ["`, expected ", "`, there are no"]
        .iter()
        .find_map(|marker| {
            rest.rfind(marker)
                .map(|at| (&rest[..at], rest[at + 3..].trim_start()))
        })
        .or_else(|| rest.split_once('`'))
        .unwrap_or((rest, ""))
}

/// "expected one of `a`, `b`" -> "use one of a, b".
fn accepted(expected: &str) -> String {
    let list = expected
        .trim_start_matches("expected ")
        .trim_start_matches("one of ")
        .replace('`', "");
    if list.is_empty() || list.starts_with("there are no") {
        "this tool takes no arguments".to_string()
    } else {
        format!("use one of {list}")
    }
}

/// serde's type names in the words a caller uses.
fn plain(expected: &str) -> String {
    match expected {
        "i64" | "u64" | "i32" | "u32" | "usize" => "an integer".to_string(),
        "f64" | "f32" => "a number".to_string(),
        "a sequence" => "an array".to_string(),
        "a boolean" => "true or false".to_string(),
        other if other.starts_with("struct ") => "an object".to_string(),
        other if other.starts_with("variant identifier") => "a string".to_string(),
        other => other.replace('`', ""),
    }
}

fn value_at<'a>(arguments: &'a Value, path: &Path) -> Option<&'a Value> {
    path.iter()
        .try_fold(arguments, |value, segment| match segment {
            Segment::Seq { index } => value.get(index),
            Segment::Map { key } => value.get(key.as_str()),
            _ => None,
        })
}

/// What the caller sent, without echoing a long string.
fn describe(value: Option<&Value>) -> String {
    match value {
        None => "something else".to_string(),
        Some(Value::Null) => "null".to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => format!("the number {}", shown(&n.to_string())),
        Some(Value::String(s)) if s.chars().count() <= 40 => format!("the string \"{}\"", shown(s)),
        Some(Value::String(s)) => format!("a string of {} characters", s.chars().count()),
        Some(Value::Array(items)) => format!("an array of {} items", items.len()),
        Some(Value::Object(_)) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::ask_model::AskModelArgs;
    use crate::tools::estimate_cost::EstimateCostArgs;
    use serde_json::json;

    fn error<P: DeserializeOwned + std::fmt::Debug>(arguments: Value) -> String {
        parse::<P>(&arguments).unwrap_err().to_string()
    }

    #[test]
    fn a_wrong_type_names_the_field_and_the_type() {
        let err = error::<EstimateCostArgs>(json!({"prompt_tokens": "lots"}));
        assert_eq!(
            err,
            "invalid argument `prompt_tokens`: must be an integer, got the string \"lots\""
        );
        let err = error::<AskModelArgs>(json!({"max_tokens": 1.5}));
        assert!(
            err.contains("`max_tokens`: must be an integer, got the number 1.5"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_role_names_its_path_and_the_roles() {
        let messages = json!([{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
            {"role": "wizard", "content": "c"}]);
        let err = error::<AskModelArgs>(json!({ "messages": messages }));
        assert!(err.contains("`messages[2].role`"), "{err}");
        assert!(err.contains("system, user, assistant"), "{err}");
    }

    #[test]
    fn long_values_and_unknown_fields_are_not_echoed() {
        let huge = "z".repeat(100_000);
        let err = error::<AskModelArgs>(json!({ "model": [huge.clone()] }));
        assert!(err.contains("`model`") && err.len() < 300, "{err}");
        let err = error::<AskModelArgs>(json!({ huge.clone(): 1 }));
        assert!(err.len() < 400 && err.contains("prompt, messages"), "{err}");
        let err = error::<AskModelArgs>(json!({"promt": "hi"}));
        assert!(
            err.starts_with("invalid argument `promt`: unknown field; use one of"),
            "{err}"
        );
        let err = error::<AskModelArgs>(json!({"messages": [{"role": huge, "content": "x"}]}));
        assert!(
            err.contains("`messages[0].role`") && err.len() < 400,
            "{err}"
        );
    }
}
