//! The tool surface hosts see: exactly the tools of the one list (`switchboard::server::TOOLS`),
//! structured output declared, read-only annotations, and a `tools/list` reply small enough to pay
//! for in every conversation. (That the README lists the same tools, both ways, is a library test:
//! `server::registry::tests`.)

use crate::support::{FakeOpenRouter, McpServer};

/// The SPEC names, which the one list must hold.
const SPEC_TOOLS: [&str; 6] = [
    "account_status",
    "ask_model",
    "compare_models",
    "estimate_cost",
    "list_models",
    "read_answer",
];
/// What every host pays for in every conversation.
const MAX_TOOLS_LIST_BYTES: usize = 8 * 1024;

#[tokio::test]
async fn tools_list_is_the_spec_surface_and_small() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let listed = server.client.list_tools(None).await.unwrap();
    let names: Vec<&str> = listed.tools.iter().map(|t| t.name.as_ref()).collect();
    let mut registry: Vec<&str> = switchboard::server::TOOLS.iter().map(|t| t.name).collect();
    registry.sort_unstable();
    assert_eq!(names, registry, "tools/list serves exactly the one list");
    assert_eq!(names, SPEC_TOOLS);
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
