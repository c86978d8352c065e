//! How `tools.json` is made (test-only): every host pays for the `tools/list` reply in every
//! conversation, so the schemas `#[tool]` generates are compacted. Input schemas keep their field
//! descriptions (a model reads them) but drop what carries no meaning for a caller; output schemas
//! keep only names, types and required fields. The test below writes the result to `tools.json`
//! (with `SWITCHBOARD_UPDATE_TOOLS=1`) and fails when the file or the served tools differ from it.

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::{Map, Value};
use std::sync::Arc;

pub fn compact<S>(router: &mut ToolRouter<S>) {
    for route in router.map.values_mut() {
        let tool = &mut route.attr;
        tool.input_schema = Arc::new(compacted(&tool.input_schema, Kind::Input));
        if let Some(output) = &tool.output_schema {
            tool.output_schema = Some(Arc::new(compacted(output, Kind::Output)));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Input,
    Output,
}

fn compacted(schema: &Map<String, Value>, kind: Kind) -> Map<String, Value> {
    let mut map = schema.clone();
    let defs = map.remove("$defs");
    if let Some(Value::Object(defs)) = &defs {
        map.values_mut().for_each(|child| inline_refs(child, defs));
    }
    if kind == Kind::Output
        && let Some(Value::Object(properties)) = map.get_mut("properties")
    {
        properties.values_mut().for_each(shallow);
        // An output field that may be absent is left out of the result (every optional output
        // field skips serializing `None`), never sent as null.
        properties
            .values_mut()
            .filter_map(Value::as_object_mut)
            .for_each(drop_null_type);
    }
    let mut value = Value::Object(map);
    strip(&mut value, kind, true);
    match value {
        Value::Object(map) => map,
        _ => schema.clone(),
    }
}

/// Replaces every `{"$ref": "#/$defs/X"}` with the definition of X.
fn inline_refs(value: &mut Value, defs: &Map<String, Value>) {
    match value {
        Value::Object(map) => {
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"));
            if let Some(definition) = target.and_then(|name| defs.get(name)) {
                let mut definition = definition.clone();
                inline_refs(&mut definition, defs);
                *value = definition;
                return;
            }
            map.values_mut().for_each(|child| inline_refs(child, defs));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| inline_refs(item, defs)),
        _ => {}
    }
}

/// An output field keeps its type; a nested object or an array of objects keeps only that it is
/// one (and whether it may be null).
fn shallow(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if let Some(Value::Array(choices)) = map.get("anyOf") {
        let nullable = choices
            .iter()
            .any(|c| c.get("type").and_then(Value::as_str) == Some("null"));
        let object = choices
            .iter()
            .any(|c| c.get("type").and_then(Value::as_str) == Some("object"));
        if object {
            let kind = if nullable {
                serde_json::json!(["object", "null"])
            } else {
                serde_json::json!("object")
            };
            map.clear();
            map.insert("type".into(), kind);
            return;
        }
    }
    map.remove("properties");
    map.remove("required");
    map.remove("additionalProperties");
    let object_items = map
        .get("items")
        .and_then(|i| i.get("type"))
        .and_then(Value::as_str)
        == Some("object");
    if object_items {
        map.remove("items");
    }
}

/// `is_property_map`: this object maps property names to schemas, so its keys are not keywords.
fn strip(value: &mut Value, kind: Kind, top: bool) {
    match value {
        Value::Object(map) => {
            map.remove("$schema");
            map.remove("format");
            map.remove("maximum");
            map.remove("minimum");
            if kind == Kind::Output || !top {
                map.remove("description");
            }
            if kind == Kind::Input {
                drop_null_type(map);
                // Unknown arguments are still refused, with an error that names them.
                map.remove("additionalProperties");
            }
            for (key, child) in map.iter_mut() {
                strip_child(key, child, kind);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| strip(item, kind, false)),
        _ => {}
    }
}

fn strip_child(key: &str, child: &mut Value, kind: Kind) {
    match (key, child) {
        ("properties" | "$defs", Value::Object(entries)) => {
            for schema in entries.values_mut() {
                if kind == Kind::Input {
                    shallow_items(schema);
                }
                // A property's own description is what tells the model how to fill it in.
                strip(schema, kind, key == "properties" && kind == Kind::Input);
            }
        }
        (_, child @ (Value::Object(_) | Value::Array(_))) => strip(child, kind, false),
        _ => {}
    }
}

/// An input array of objects (`messages`) keeps only that its items are objects: their shape is
/// in the property's description, and the tool checks every item and names what is wrong.
fn shallow_items(schema: &mut Value) {
    if let Some(Value::Object(items)) = schema.get_mut("items")
        && items.get("type").and_then(Value::as_str) == Some("object")
    {
        items.retain(|key, _| key == "type");
    }
}

/// An optional input is simply not required; `["string", "null"]` says nothing more than `"string"`.
fn drop_null_type(map: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = map.get("type") {
        let kept: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if kept.len() == 1 {
            map.insert("type".into(), kept[0].clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::Switchboard;
    use rmcp::model::Tool;

    const TOOLS_JSON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/tools.json");
    const REGENERATE: &str =
        "regenerate it with `SWITCHBOARD_UPDATE_TOOLS=1 cargo test --lib tools_json`";

    fn sorted(mut tools: Vec<Tool>) -> Vec<Tool> {
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        tools
    }

    /// What the doc comments and types generate, compacted.
    fn generated() -> Vec<Tool> {
        let mut router = Switchboard::generated_router();
        compact(&mut router);
        sorted(router.list_all())
    }

    #[test]
    fn tools_json_is_what_the_tool_types_generate() {
        let generated = serde_json::to_string_pretty(&generated()).unwrap() + "\n";
        if std::env::var_os("SWITCHBOARD_UPDATE_TOOLS").is_some() {
            std::fs::write(TOOLS_JSON, &generated).unwrap();
        }
        let published = std::fs::read_to_string(TOOLS_JSON).unwrap();
        assert!(
            published == generated,
            "src/server/tools.json is out of date with the tools' doc comments and types: {REGENERATE}"
        );
    }

    #[test]
    fn the_server_publishes_tools_json_for_every_tool() {
        let served = serde_json::to_value(sorted(Switchboard::routes().list_all())).unwrap();
        let generated = serde_json::to_value(generated()).unwrap();
        assert_eq!(
            served, generated,
            "the compiled-in tools.json is stale: {REGENERATE}, then rebuild"
        );
    }

    #[test]
    fn compaction_inlines_definitions_and_keeps_input_descriptions() {
        let tools = generated();
        let ask = tools.iter().find(|t| t.name == "ask_model").unwrap();
        let input = serde_json::to_string(&ask.input_schema).unwrap();
        assert!(
            !input.contains("$ref") && !input.contains("$defs"),
            "{input}"
        );
        let prompt = &ask.input_schema["properties"]["prompt"];
        assert!(prompt["description"].is_string(), "{prompt}");
        let output = ask.output_schema.as_ref().unwrap();
        assert!(
            output["properties"]["attempts"].get("items").is_none(),
            "{output:?}"
        );
    }
}
