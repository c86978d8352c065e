//! The install paths stay publishable: the MCP Registry's `server.json` is valid against the
//! registry's published schema (a copy in `packaging/schema/`), and it, the MCPB bundle manifest and
//! `Cargo.toml` name one version and the tools the server really serves.

use serde_json::Value;
use std::path::Path;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn json(path: &str) -> Value {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn registry_validator() -> jsonschema::Validator {
    let schema = json("packaging/schema/server.schema.json");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the registry schema compiles")
}

fn errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn server_json_is_valid_against_the_registry_schema() {
    let validator = registry_validator();
    let server = json("server.json");
    assert_eq!(errors(&validator, &server), Vec::<String>::new());
    let schema = json("packaging/schema/server.schema.json");
    assert_eq!(
        server["$schema"], schema["$id"],
        "server.json names the schema kept in the repo"
    );
}

#[test]
fn the_registry_schema_copy_rejects_what_the_registry_rejects() {
    let validator = registry_validator();
    let mut server = json("server.json");
    server["name"] = Value::from("no-slash-in-this-name");
    assert!(
        !errors(&validator, &server).is_empty(),
        "a name without a namespace must fail"
    );
    let mut server = json("server.json");
    server["description"] = Value::from("x".repeat(101));
    assert!(
        !errors(&validator, &server).is_empty(),
        "a description over 100 characters must fail"
    );
}

#[test]
fn server_json_version_follows_cargo_toml() {
    let server = json("server.json");
    assert_eq!(server["version"], VERSION, "server.json version");
    for package in server["packages"].as_array().expect("packages") {
        let identifier = package["identifier"].as_str().expect("identifier");
        match package["registryType"].as_str() {
            Some("mcpb") => {
                assert_eq!(package["version"], VERSION, "mcpb package version");
                assert!(
                    identifier.contains(&format!("/v{VERSION}/openrouter-switchboard-{VERSION}-")),
                    "the bundle URL names version {VERSION}: {identifier}"
                );
            }
            Some("oci") => assert!(
                identifier.ends_with(&format!(":{VERSION}")),
                "the image tag is {VERSION}: {identifier}"
            ),
            other => panic!("unexpected package type {other:?}"),
        }
    }
}

#[test]
fn bundle_manifest_matches_the_server() {
    let manifest = json("packaging/manifest.json");
    assert_eq!(manifest["version"], VERSION, "manifest.json version");
    assert_eq!(manifest["server"]["type"], "binary");
    let key = &manifest["user_config"]["openrouter_api_key"];
    assert_eq!(key["sensitive"], true, "the API key is marked sensitive");
    let env = manifest["server"]["mcp_config"]["env"]
        .as_object()
        .expect("env");
    assert_eq!(
        env["OPENROUTER_API_KEY"],
        "${user_config.openrouter_api_key}"
    );
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    for variable in env.keys() {
        assert!(
            readme.contains(&format!("`{variable}`")),
            "{variable} is a documented setting"
        );
    }
    let served: Vec<String> = json("src/server/tools.json")
        .as_array()
        .expect("tools.json is a list")
        .iter()
        .map(|tool| tool["name"].as_str().expect("name").to_string())
        .collect();
    let mut declared: Vec<String> = manifest["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|tool| tool["name"].as_str().expect("name").to_string())
        .collect();
    declared.sort();
    let mut served_sorted = served.clone();
    served_sorted.sort();
    assert_eq!(
        declared, served_sorted,
        "manifest.json lists the tools tools/list serves"
    );
}

/// A host fills a bundle's unset optional settings with "" (`${user_config.budget_usd}` left empty):
/// an empty variable must mean the default, not a parse error that stops the server.
#[test]
fn empty_settings_from_a_host_mean_the_defaults() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_openrouter-switchboard"))
        .args([
            "cost",
            "--model",
            "openai/gpt-5-mini",
            "--prompt-tokens",
            "1000",
            "--json",
        ])
        .env_clear()
        .env("SWITCHBOARD_DATA_DIR", data_dir.path())
        .env("OPENROUTER_BASE_URL", "http://127.0.0.1:9/api/v1")
        .env("SWITCHBOARD_CACHE", "memory")
        .env("OPENROUTER_API_KEY", "")
        .env("SWITCHBOARD_BUDGET_USD", "")
        .env("SWITCHBOARD_DEFAULT_MODEL", "")
        .env("SWITCHBOARD_TIMEOUT", "")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}: {stderr}",
        output.status
    );
    let estimate: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(
        estimate["estimates"][0]["prompt_tokens"], 1000,
        "{estimate}"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_openrouter-switchboard"))
        .args(["check"])
        .env_clear()
        .env("SWITCHBOARD_DATA_DIR", data_dir.path())
        .env("SWITCHBOARD_BUDGET_USD", "lots")
        .output()
        .expect("the binary runs");
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad non-empty value still stops the server"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("budget"));
}
