//! The one list of tools. Each entry names a tool and binds its `#[tool]` handler; the list builds
//! the route table, and tests hold `tools.json`, the handler's `#[tool]` methods, the server
//! instructions and the README's tool table to it, in both directions.
//!
//! Adding a tool: its file in `src/tools/`, its `#[tool]` method in [`super::Switchboard`], one
//! line here, then `SWITCHBOARD_UPDATE_TOOLS=1 cargo test --lib tools_json` and a README row (the
//! tests say what is missing).

use super::Switchboard;
use rmcp::handler::server::router::tool::ToolRoute;
use rmcp::model::Tool;

/// One tool: its name (as published) and how its route is built from its published definition.
pub struct ToolSpec {
    pub name: &'static str,
    route: fn(Tool) -> ToolRoute<Switchboard>,
}

impl std::fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSpec")
            .field("name", &self.name)
            .finish()
    }
}

impl ToolSpec {
    /// The route serving `tool` (the definition `tools.json` publishes under [`Self::name`]).
    pub fn route(&self, tool: Tool) -> ToolRoute<Switchboard> {
        (self.route)(tool)
    }
}

/// Every tool the server serves.
pub const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "list_models",
        route: |tool| ToolRoute::new(tool, Switchboard::list_models),
    },
    ToolSpec {
        name: "estimate_cost",
        route: |tool| ToolRoute::new(tool, Switchboard::estimate_cost),
    },
    ToolSpec {
        name: "ask_model",
        route: |tool| ToolRoute::new(tool, Switchboard::ask_model),
    },
    ToolSpec {
        name: "compare_models",
        route: |tool| ToolRoute::new(tool, Switchboard::compare_models),
    },
    ToolSpec {
        name: "account_status",
        route: |tool| ToolRoute::new(tool, Switchboard::account_status),
    },
    ToolSpec {
        name: "read_answer",
        route: |tool| ToolRoute::new(tool, Switchboard::read_answer),
    },
];

/// The entry named `name`.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The names in [`TOOLS`], sorted.
    fn names() -> Vec<&'static str> {
        let mut names: Vec<&str> = TOOLS.iter().map(|spec| spec.name).collect();
        names.sort_unstable();
        names
    }

    const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    const NUMBERS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];

    fn set<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
        names.into_iter().collect()
    }

    /// The first column of the table in README's `## Tools` section.
    fn readme_tools(readme: &str) -> Vec<&str> {
        let section = readme
            .split("\n## ")
            .find(|s| s.starts_with("Tools\n"))
            .expect("README.md has a `## Tools` section");
        section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split('`').next())
            .collect()
    }

    #[test]
    fn names_are_unique() {
        assert_eq!(set(names()).len(), TOOLS.len(), "a name is listed twice");
    }

    #[test]
    fn every_tool_method_is_listed_and_every_listed_tool_has_a_method() {
        let generated = Switchboard::generated_router().list_all();
        let methods = set(generated.iter().map(|t| t.name.as_ref()));
        assert_eq!(
            methods,
            set(names()),
            "the #[tool] methods of Switchboard and src/server/registry.rs TOOLS differ: add or \
             remove the line in TOOLS"
        );
    }

    #[test]
    fn tools_json_publishes_exactly_the_listed_tools() {
        let published = super::super::published::tools();
        let published = set(published.iter().map(|t| t.name.as_ref()));
        assert_eq!(
            published,
            set(names()),
            "src/server/tools.json and TOOLS differ: regenerate it with \
             `SWITCHBOARD_UPDATE_TOOLS=1 cargo test --lib tools_json`"
        );
    }

    #[test]
    fn the_readme_tool_table_lists_exactly_the_listed_tools() {
        let table = readme_tools(README);
        assert_eq!(table.len(), set(table.iter().copied()).len(), "{table:?}");
        assert_eq!(
            set(table),
            set(names()),
            "README.md's tool table (## Tools) and TOOLS differ: add or remove its row"
        );
    }

    #[test]
    fn the_docs_name_the_right_number_of_tools() {
        let right = NUMBERS[TOOLS.len()];
        let docs = [
            ("README.md", README),
            ("src/lib.rs", include_str!("../lib.rs")),
            ("src/server/mod.rs", include_str!("mod.rs")),
        ];
        for (file, text) in docs {
            let text = text.to_lowercase().replace("\n//!", "");
            for (n, word) in NUMBERS
                .iter()
                .enumerate()
                .filter(|(n, _)| *n != TOOLS.len())
            {
                for phrase in [format!("{word} tools"), format!("{word} mcp tools")] {
                    assert!(
                        !text.contains(&format!(" {phrase}")),
                        "{file} says `{phrase}` ({n}); there are {right} tools"
                    );
                }
            }
        }
    }

    #[test]
    fn the_instructions_name_every_tool() {
        for name in names() {
            assert!(
                super::super::INSTRUCTIONS.contains(name),
                "the server instructions do not mention {name}"
            );
        }
    }

    #[test]
    fn the_readme_check_sees_a_missing_and_an_extra_row() {
        let missing = README.replace("| `account_status` |", "| account status |");
        assert!(!set(readme_tools(&missing)).contains("account_status"));
        let extra = README.replace(
            "| `ask_model` |",
            "| `ask_twice` | x | y |\n| `ask_model` |",
        );
        assert!(set(readme_tools(&extra)).contains("ask_twice"));
    }
}
