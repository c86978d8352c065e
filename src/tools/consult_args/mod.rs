//! The consultation arguments `reasoning`, `response_format` and `provider`: their argument
//! types and the checks that turn them into what a call sends ([`provider`] holds the provider
//! checker, which also validates `SWITCHBOARD_PROVIDER` at start-up).

mod provider;

pub use provider::{PROVIDER_KEYS, ProviderProblem, check_provider, provider};

use super::error::ToolError;
use super::input::{MAX_TOKENS_LIMIT, shown};
use crate::router::shape::{self, Structured};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The `reasoning` efforts a call may ask for.
pub const EFFORTS: [&str; 4] = ["minimal", "low", "medium", "high"];
/// Largest `response_format` schema accepted, in bytes of JSON.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;

/// The `reasoning` argument as a tool takes it: a plain object in the published schema (which
/// every host pays for), read into [`ReasoningArgs`] here.
pub type ReasoningMap = Map<String, Value>;

/// `reasoning`'s fields.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasoningArgs {
    /// minimal, low, medium or high.
    pub effort: Option<String>,
    /// Reasoning budget in tokens (instead of effort); 0 turns reasoning off where allowed.
    pub max_tokens: Option<i64>,
    /// Reason, but leave the reasoning out of the reply.
    pub exclude: Option<bool>,
}

impl ReasoningArgs {
    /// Reads the tool argument.
    ///
    /// # Errors
    /// An unknown key or a value of the wrong type, naming `reasoning`.
    pub fn from_map(map: ReasoningMap) -> Result<Self, ToolError> {
        serde_json::from_value(Value::Object(map)).map_err(|e| {
            ToolError::invalid(
                "reasoning",
                format!(
                    "{e}; give {{\"effort\": \"minimal\"|\"low\"|\"medium\"|\"high\"}} or {{\"max_tokens\": N}}, optionally with \"exclude\": true"
                ),
            )
        })
    }
}

/// How much the model should reason, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Effort(&'static str),
    Budget(u32),
    /// `max_tokens: 0`: no reasoning (never sent to a model whose reasoning is mandatory).
    Off,
    /// Only `exclude` was given.
    Default,
}

/// A checked `reasoning` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reasoning {
    pub level: Level,
    pub exclude: Option<bool>,
}

impl Reasoning {
    /// The `reasoning` object for a model; `mandatory`: its reasoning cannot be turned off.
    pub fn wire(&self, mandatory: bool) -> Option<Value> {
        let mut object = Map::new();
        match self.level {
            Level::Effort(effort) => {
                object.insert("effort".into(), effort.into());
            }
            Level::Budget(tokens) => {
                object.insert("max_tokens".into(), tokens.into());
            }
            Level::Off if !mandatory => {
                object.insert("enabled".into(), false.into());
            }
            Level::Off | Level::Default => {}
        }
        if let Some(exclude) = self.exclude {
            object.insert("exclude".into(), exclude.into());
        }
        (!object.is_empty()).then_some(Value::Object(object))
    }
}

/// Everything the consultation arguments add to a call, checked.
#[derive(Debug, Clone, Default)]
pub struct Consultation {
    pub reasoning: Option<Reasoning>,
    pub structured: Option<Structured>,
    /// The caller's preferences over `SWITCHBOARD_PROVIDER`, with `require_parameters` for a
    /// structured answer.
    pub provider: Option<Map<String, Value>>,
}

/// Checks the three arguments; `max_tokens` is the call's answer cap.
///
/// # Errors
/// The first argument at fault, named with the fix.
pub fn consultation(
    configured: Option<&Map<String, Value>>,
    reasoning_args: Option<ReasoningMap>,
    response_format: Option<Map<String, Value>>,
    provider_args: Option<Map<String, Value>>,
    max_tokens: u32,
) -> Result<Consultation, ToolError> {
    let reasoning_args = reasoning_args.map(ReasoningArgs::from_map).transpose()?;
    let reasoning = reasoning(reasoning_args, max_tokens)?;
    let structured = structured(response_format)?;
    let provider_args = provider(provider_args)?;
    let mut provider = shape::merged(configured, provider_args);
    if structured.is_some() {
        provider
            .get_or_insert_with(Map::new)
            .insert("require_parameters".into(), true.into());
    }
    Ok(Consultation {
        reasoning,
        structured,
        provider,
    })
}

/// `reasoning`: one of `effort` or `max_tokens` (below the call's `max_tokens`), or `exclude`.
///
/// # Errors
/// An effort that is not one of [`EFFORTS`], both levels at once, a budget out of range.
pub fn reasoning(
    args: Option<ReasoningArgs>,
    max_tokens: u32,
) -> Result<Option<Reasoning>, ToolError> {
    let Some(args) = args else { return Ok(None) };
    let level = match (args.effort.as_deref(), args.max_tokens) {
        (Some(_), Some(_)) => {
            return Err(ToolError::invalid(
                "reasoning",
                "give `effort` or `max_tokens`, not both",
            ));
        }
        (Some(effort), None) => Level::Effort(effort_named(effort)?),
        (None, Some(0)) => Level::Off,
        (None, Some(budget)) => Level::Budget(budget_of(budget, max_tokens)?),
        (None, None) if args.exclude.is_some() => Level::Default,
        (None, None) => {
            return Err(ToolError::invalid(
                "reasoning",
                "is empty: give `effort` (minimal, low, medium, high), `max_tokens` or `exclude`, or leave it out",
            ));
        }
    };
    Ok(Some(Reasoning {
        level,
        exclude: args.exclude,
    }))
}

fn effort_named(effort: &str) -> Result<&'static str, ToolError> {
    EFFORTS.into_iter().find(|e| *e == effort).ok_or_else(|| {
        ToolError::argument(
            "reasoning.effort",
            format!("`{}` is not one of {}", shown(effort), EFFORTS.join(", ")),
        )
    })
}

fn budget_of(budget: i64, max_tokens: u32) -> Result<u32, ToolError> {
    if !(1..=MAX_TOKENS_LIMIT).contains(&budget) {
        return Err(ToolError::argument(
            "reasoning.max_tokens",
            format!("must be between 0 (off) and {MAX_TOKENS_LIMIT}, got {budget}"),
        ));
    }
    let budget = budget as u32;
    if budget >= max_tokens {
        return Err(ToolError::argument(
            "reasoning.max_tokens",
            format!(
                "is {budget}, not below max_tokens ({max_tokens}): reasoning tokens count against max_tokens, so raise max_tokens or lower this"
            ),
        ));
    }
    Ok(budget)
}

/// `response_format`: a JSON Schema object (or OpenAI's `{type: "json_schema", json_schema}`
/// wrapper around one), compiled now so a bad schema fails before anything is sent.
///
/// # Errors
/// An empty, oversized or invalid schema.
pub fn structured(value: Option<Map<String, Value>>) -> Result<Option<Structured>, ToolError> {
    let Some(map) = value else { return Ok(None) };
    let bytes = Value::Object(map.clone()).to_string().len();
    if bytes > MAX_SCHEMA_BYTES {
        return Err(ToolError::invalid(
            "response_format",
            format!("is {bytes} bytes of JSON; the limit is {MAX_SCHEMA_BYTES}"),
        ));
    }
    let (name, schema) = unwrapped(map);
    if schema.as_object().is_none_or(Map::is_empty) {
        return Err(ToolError::invalid(
            "response_format",
            "is empty: give a JSON Schema object such as {\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}},\"required\":[\"answer\"]}",
        ));
    }
    Structured::new(&name, schema).map(Some).map_err(|problem| {
        ToolError::invalid(
            "response_format",
            format!("is not a usable JSON Schema ({problem}); fix the schema (remote $ref is not fetched)"),
        )
    })
}

/// The schema and the name sent with it (`json_schema.name`, else the schema's `title` when it
/// is a valid name, else `answer`).
fn unwrapped(mut map: Map<String, Value>) -> (String, Value) {
    let wrapped = map.get("type").and_then(Value::as_str) == Some("json_schema");
    let (name, schema) = match map.remove("json_schema") {
        Some(Value::Object(mut inner)) if wrapped => {
            let name = inner.get("name").and_then(Value::as_str).map(String::from);
            (name, inner.remove("schema").unwrap_or(Value::Null))
        }
        Some(other) => {
            map.insert("json_schema".into(), other);
            (None, Value::Object(map))
        }
        None => (None, Value::Object(map)),
    };
    let title = schema
        .get("title")
        .and_then(Value::as_str)
        .map(String::from);
    let name = name
        .or(title)
        .filter(|n| valid_name(n))
        .unwrap_or_else(|| "answer".into());
    (name, schema)
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn reasoning_levels_and_their_wire_form() {
        let args = |v: Value| serde_json::from_value::<ReasoningArgs>(v).unwrap();
        let high = reasoning(Some(args(json!({"effort": "high"}))), 1024)
            .unwrap()
            .unwrap();
        assert_eq!(high.wire(false), Some(json!({"effort": "high"})));
        let off = reasoning(Some(args(json!({"max_tokens": 0, "exclude": true}))), 1024)
            .unwrap()
            .unwrap();
        assert_eq!(
            off.wire(false),
            Some(json!({"enabled": false, "exclude": true}))
        );
        assert_eq!(
            off.wire(true),
            Some(json!({"exclude": true})),
            "no disable for mandatory"
        );
        let bad = reasoning(Some(args(json!({"effort": "max"}))), 1024).unwrap_err();
        assert!(bad.to_string().contains("`reasoning.effort`"), "{bad}");
        let over = reasoning(Some(args(json!({"max_tokens": 2000}))), 1024).unwrap_err();
        assert!(over.to_string().contains("raise max_tokens"), "{over}");
        assert!(reasoning(Some(args(json!({}))), 1024).is_err());
    }

    #[test]
    fn a_schema_is_compiled_and_a_wrapper_unwrapped() {
        let schema = json!({"type": "object", "title": "Person"});
        let plain = structured(Some(map(schema.clone()))).unwrap().unwrap();
        assert_eq!(plain.wire["json_schema"]["name"], "Person");
        assert_eq!(plain.wire["json_schema"]["schema"], schema);
        let wrapped =
            json!({"type": "json_schema", "json_schema": {"name": "p", "schema": schema}});
        let wrapped = structured(Some(map(wrapped))).unwrap().unwrap();
        assert_eq!(wrapped.wire["json_schema"]["name"], "p");
        let bad = structured(Some(map(json!({"type": 12}))))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("`response_format`"), "{bad}");
        assert!(structured(Some(Map::new())).is_err());
    }

    #[test]
    fn a_structured_call_requires_the_parameters_and_merges_the_default() {
        let configured = map(json!({"sort": "price", "zdr": true}));
        let c = consultation(
            Some(&configured),
            None,
            Some(map(json!({"type": "object"}))),
            Some(map(json!({"sort": "latency"}))),
            1024,
        )
        .unwrap();
        assert_eq!(
            Value::Object(c.provider.unwrap()),
            json!({"sort": "latency", "zdr": true, "require_parameters": true})
        );
    }
}
