//! The tool definitions `tools/list` returns, compiled in from `tools.json`: start-up parses 6 KB
//! of JSON instead of generating JSON schemas. A test in [`super::schema`] regenerates the file
//! from the tools' doc comments and argument and output types, and fails if it is out of date.

use rmcp::model::Tool;
use std::sync::LazyLock;

const TOOLS_JSON: &str = include_str!("tools.json");

/// Parsed once per process: a stateless HTTP server builds a handler for every request.
static PARSED: LazyLock<Vec<Tool>> = LazyLock::new(|| {
    serde_json::from_str(TOOLS_JSON).expect("src/server/tools.json is valid: a test checks it")
});

/// The published definitions, taken one by one as the routes are built.
#[derive(Debug)]
pub struct Tools(Vec<Tool>);

impl Tools {
    pub fn load() -> Self {
        Self(PARSED.clone())
    }

    /// Removes and returns the definition of `name`.
    pub fn take(&mut self, name: &str) -> Tool {
        let index = self
            .0
            .iter()
            .position(|tool| tool.name == name)
            .unwrap_or_else(|| {
                panic!("src/server/tools.json has no tool {name}: a test checks it")
            });
        self.0.swap_remove(index)
    }
}
