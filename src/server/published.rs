//! The tool definitions `tools/list` returns, compiled in from `tools.json`: start-up parses 6 KB
//! of JSON instead of generating JSON schemas. A test in [`super::schema`] regenerates the file
//! from the tools' doc comments and argument and output types, and fails if it is out of date.

use rmcp::model::Tool;

const TOOLS_JSON: &str = include_str!("tools.json");

/// Every published definition.
pub fn tools() -> Vec<Tool> {
    serde_json::from_str(TOOLS_JSON).expect("src/server/tools.json is valid: a test checks it")
}
