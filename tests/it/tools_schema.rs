//! The tool surface hosts see: exactly the SPEC names (the four, plus account_status), structured output declared, read-only
//! annotations, a `tools/list` reply small enough to pay for in every conversation, and a README
//! that lists the same tools.

use crate::support::{FakeOpenRouter, McpServer};

const TOOLS: [&str; 5] = [
    "account_status",
    "ask_model",
    "compare_models",
    "estimate_cost",
    "list_models",
];
/// What every host pays for in every conversation.
const MAX_TOOLS_LIST_BYTES: usize = 6 * 1024;

#[tokio::test]
async fn tools_list_is_the_spec_surface_and_small() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let listed = server.client.list_tools(None).await.unwrap();
    let names: Vec<&str> = listed.tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, TOOLS);
    for tool in &listed.tools {
        let annotations = tool.annotations.as_ref().expect("annotations");
        assert_eq!(annotations.read_only_hint, Some(true), "{}", tool.name);
        assert!(annotations.open_world_hint.is_some(), "{}", tool.name);
        assert!(
            tool.output_schema.is_some(),
            "{} declares its output",
            tool.name
        );
        assert!(
            tool.description.as_ref().is_some_and(|d| d.len() > 40),
            "{}",
            tool.name
        );
        assert_eq!(
            tool.input_schema.get("type").and_then(|t| t.as_str()),
            Some("object")
        );
    }
    let wire = serde_json::to_string(&listed).unwrap();
    assert!(
        wire.len() < MAX_TOOLS_LIST_BYTES,
        "tools/list reply is {} bytes",
        wire.len()
    );
    server.stop().await;
}

#[test]
fn the_readme_tool_table_lists_exactly_these_tools() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut listed: Vec<&str> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter(|name| TOOLS.contains(name))
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, TOOLS);
}
