//! Generated malformed arguments: every tool gets at least 200 argument sets, built from a table of
//! fields x bad values (wrong types, extremes, huge strings, deep nesting, hostile unicode, unknown
//! fields), run in a seeded order. Each gets a tool error that names a field, nothing goes upstream,
//! no call costs the server 100 ms of CPU, and the server keeps serving.

use crate::errors_hostile::{Spawned, text};
use crate::support::FakeOpenRouter;
use serde_json::{Map, Value, json};

const SEED: u64 = 0x5eed_2026_1202;
const MIN_CASES: usize = 200;
/// The promise: no malformed call may cost the server this much CPU.
const MAX_CPU_MS_PER_CALL: u64 = 100;
/// Linux reports process CPU time in USER_HZ ticks, 100 a second on every architecture.
const MS_PER_TICK: u64 = 10;
/// Over the 1 MiB prompt limit, and the 2 MB top of the range.
const HUGE: usize = 1_200_000;
const HUGER: usize = 2_000_000;
/// Deep, but within serde_json's recursion limit for the whole JSON-RPC message.
const DEPTH: usize = 100;
const MINI: &str = "openai/gpt-5-mini";

#[derive(Clone, Copy)]
enum Kind {
    Prompt,
    System,
    Text,
    ModelId,
    Models { min: usize, max: usize },
    Fallbacks,
    Messages,
    PositiveInt,
    Count,
    Temperature,
    Usd,
    Price,
    Choice,
    Capabilities,
    Bool,
}

struct Tool {
    name: &'static str,
    base: Value,
    fields: &'static [(&'static str, Kind)],
}

fn tools() -> Vec<Tool> {
    use Kind::*;
    vec![
        Tool {
            name: "ask_model",
            base: json!({"prompt": "hi"}),
            fields: &[
                ("prompt", Prompt),
                ("messages", Messages),
                ("system", System),
                ("model", ModelId),
                ("fallback_models", Fallbacks),
                ("max_tokens", PositiveInt),
                ("temperature", Temperature),
                ("cache", Choice),
                ("max_cost_usd", Usd),
            ],
        },
        Tool {
            name: "compare_models",
            base: json!({"prompt": "hi", "models": [MINI, "x-ai/grok-4"]}),
            fields: &[
                ("prompt", Prompt),
                ("messages", Messages),
                ("system", System),
                ("models", Models { min: 2, max: 8 }),
                ("max_tokens", PositiveInt),
                ("temperature", Temperature),
                ("cache", Choice),
            ],
        },
        Tool {
            name: "list_models",
            base: json!({}),
            fields: &[
                ("query", Text),
                ("provider", Text),
                ("min_context", Count),
                ("max_prompt_price", Price),
                ("max_completion_price", Price),
                ("supports", Capabilities),
                ("input_modality", Choice),
                ("free_only", Bool),
                ("sort", Choice),
                ("limit", PositiveInt),
                ("offset", Count),
            ],
        },
        Tool {
            name: "estimate_cost",
            base: json!({"model": MINI, "prompt": "hi"}),
            fields: &[
                ("models", Models { min: 1, max: 20 }),
                ("model", ModelId),
                ("prompt", Prompt),
                ("messages", Messages),
                ("prompt_tokens", Count),
                ("completion_tokens", PositiveInt),
                ("calls", PositiveInt),
            ],
        },
        Tool {
            name: "account_status",
            base: json!({}),
            fields: &[],
        },
    ]
}

fn deep_array(depth: usize) -> Value {
    (0..depth).fold(json!("x"), |inner, _| json!([inner]))
}

fn deep_object(depth: usize) -> Value {
    (0..depth).fold(json!("x"), |inner, _| json!({ "a": inner }))
}

/// Strings no id or choice accepts: direction overrides, zero-width and invisible characters,
/// the characters around the surrogate range, scripts, control characters, injection-looking text.
fn hostile_strings() -> Vec<Value> {
    [
        "\u{202E}inim-5-tpg/ianepo",
        "openai/gpt\u{200B}-5-mini",
        "openai/gpt-5-mini\u{FEFF}",
        "\u{2066}openai/gpt-5-mini\u{2069}",
        "\u{0000}",
        "x\ny\r\n",
        "\u{D7FF}\u{E000}\u{FFFD}",
        "\u{10FFFF}",
        "模型/名字",
        "نموذج/مرحبا",
        "🙂/🙃",
        "a\u{0301}\u{0301}\u{0301}\u{0301}",
        "NaN",
        "Infinity",
        "null",
        "-1",
        "' OR 1=1 --",
        "../../etc/passwd",
        "%s%s%n",
        "`backtick`",
    ]
    .into_iter()
    .map(Value::from)
    .collect()
}

fn long(n: usize) -> Value {
    Value::from("q".repeat(n))
}

/// A list of values written as JSON.
fn parsed(list: &str) -> Vec<Value> {
    serde_json::from_str(list).expect("the table is JSON")
}

fn not_a_string() -> Vec<Value> {
    let mut list = parsed(r#"[42, -1, 1e308, 0.5, true, false, [], ["x"], {}, {"text": "x"}]"#);
    list.extend([deep_array(DEPTH), deep_object(DEPTH)]);
    list
}

fn not_a_number() -> Vec<Value> {
    let mut list = parsed(r#"["x", "", "NaN", "12", true, [], [1], {}, {"value": 1}]"#);
    list.push(deep_array(DEPTH));
    list
}

fn not_an_array() -> Vec<Value> {
    let mut list = parsed(
        r#"["openai/gpt-5-mini", 42, true, {}, {"0": "openai/gpt-5-mini"}, [1, "openai/gpt-5-mini"],
            [null, "openai/gpt-5-mini"], [["openai/gpt-5-mini"], "openai/gpt-5-mini"],
            [{"id": "openai/gpt-5-mini"}, "openai/gpt-5-mini"]]"#,
    );
    list.push(deep_object(DEPTH));
    list
}

fn bad_ids() -> Vec<Value> {
    let mut ids = vec![json!(""), json!("   "), long(300), long(HUGE), long(HUGER)];
    ids.extend(hostile_strings());
    ids
}

fn bad_values(kind: Kind) -> Vec<Value> {
    let mut values = Vec::new();
    match kind {
        Kind::Prompt => {
            values.extend(not_a_string());
            values.extend(parsed(r#"["", "   ", "\n\t"]"#));
            values.extend([long(HUGE), long(HUGER)]);
        }
        Kind::System => {
            values.extend(not_a_string());
            values.extend([long(HUGE), long(HUGER)]);
        }
        Kind::Text => {
            values.extend(not_a_string());
            values.extend([long(201), long(HUGE), long(HUGER)]);
        }
        Kind::ModelId => {
            values.extend(not_a_string());
            values.extend(bad_ids());
        }
        Kind::Models { min, max } => {
            values.extend(not_an_array());
            values.extend([json!([]), json!(vec![MINI; max + 1])]);
            let known = vec![MINI; min - 1];
            for id in bad_ids() {
                let mut list: Vec<Value> = known.iter().map(|&m| json!(m)).collect();
                list.push(id);
                values.push(Value::Array(list));
            }
            values.push(Value::Null);
        }
        Kind::Fallbacks => {
            values.extend(not_an_array());
            values.push(json!(vec![MINI; 20]));
            values.extend(bad_ids().into_iter().map(|id| json!([id])));
        }
        Kind::Messages => values.extend(bad_messages()),
        Kind::PositiveInt => {
            values.extend(not_a_number());
            values.extend(parsed(
                "[0, -1, -9223372036854775808, 1.5, 1e308, -1e308, 9223372036854775807, 18446744073709551615, 1e20]",
            ));
        }
        Kind::Count => {
            values.extend(not_a_number());
            values.extend(parsed(
                "[-1, -9223372036854775808, 0.5, 1e308, 9223372036854775807, 18446744073709551615, -1e-300]",
            ));
        }
        Kind::Temperature => {
            values.extend(not_a_number());
            values.extend(parsed("[-0.1, 2.1, 1e308, -1e308, -1]"));
        }
        Kind::Usd => {
            values.extend(not_a_number());
            values.extend(parsed("[0, -1, -0.0, 1e308, -1e308, 1e7]"));
        }
        Kind::Price => {
            values.extend(not_a_number());
            values.extend(parsed("[-1, -1e-9, 1e308, -1e308, 1e7]"));
        }
        Kind::Choice => {
            values.extend(not_a_string());
            values.extend([json!(""), json!(" "), json!("UPPER"), long(HUGE)]);
            values.extend(hostile_strings());
        }
        Kind::Capabilities => {
            values.extend(not_an_array());
            values.extend([json!(["telepathy"]), json!([""]), json!([long(HUGE)])]);
            values.push(json!(vec!["tools"; 6]));
            values.extend(hostile_strings().into_iter().map(|s| json!([s])));
        }
        Kind::Bool => {
            values.extend(parsed(
                r#"["true", "false", 1, 0, -1, [], {}, "yes", 1e308]"#,
            ));
            values.push(deep_array(DEPTH));
        }
    }
    values
}

fn bad_messages() -> Vec<Value> {
    let msg = |role: Value, content: Value| json!({"role": role, "content": content});
    let mut values = not_a_string();
    values.extend(parsed(
        r#"[[], [{"role": "wizard", "content": "x"}], [{"role": "USER", "content": "x"}],
            [{"role": "user"}], [{"content": "x"}], [{"role": "user", "content": 5}],
            [{"role": "user", "content": ["x"]}], [{"role": "user", "content": null}],
            [{"role": null, "content": "x"}], ["hi"], [["user"]], [null],
            [{"role": "user", "content": "   "}],
            [{"role": "user", "content": "x"}, {"role": "\u202euser", "content": "y"}]]"#,
    ));
    values.push(Value::Array(vec![msg(json!("user"), json!("x")); 501]));
    values.push(json!([msg(json!("user"), long(HUGE))]));
    values
}

/// Keys no tool takes.
fn unknown_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "promt",
        "Prompt",
        "MODEL",
        "model_id",
        "",
        " ",
        "\u{202E}prompt",
        "prompt\u{200B}",
        "🙂",
        "__proto__",
        "$ref",
        "constructor",
        "a.b",
        "messages[0]",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    keys.push("k".repeat(HUGE));
    keys
}

struct Case {
    tool: &'static str,
    field: Option<&'static str>,
    arguments: Value,
}

/// The table of fields x bad values for one tool, padded with unknown fields to [`MIN_CASES`].
fn cases_for(tool: &Tool) -> Vec<Case> {
    let mut cases = Vec::new();
    for &(field, kind) in tool.fields {
        for value in bad_values(kind) {
            let mut arguments = tool.base.as_object().cloned().unwrap_or_default();
            // Judge the value itself, not a conflict with its alternative in the base.
            match field {
                "messages" | "prompt_tokens" => {
                    arguments.remove("prompt");
                }
                "models" => {
                    arguments.remove("model");
                }
                _ => {}
            }
            arguments.insert(field.to_string(), value);
            cases.push(Case {
                tool: tool.name,
                field: Some(field),
                arguments: Value::Object(arguments),
            });
        }
    }
    let values = [
        json!(1),
        json!(null),
        json!("x"),
        json!([]),
        json!({}),
        json!(1e308),
        deep_array(DEPTH),
    ];
    let keys = unknown_keys();
    let mut n = 0;
    while n < keys.len() || cases.len() < MIN_CASES {
        let key = match keys.get(n) {
            Some(key) => key.clone(),
            None => format!("{}{n}", keys[n % 4]),
        };
        let mut arguments: Map<String, Value> = tool.base.as_object().cloned().unwrap_or_default();
        arguments.insert(key, values[n % values.len()].clone());
        cases.push(Case {
            tool: tool.name,
            field: None,
            arguments: Value::Object(arguments),
        });
        n += 1;
    }
    cases
}

/// utime + stime of `pid`, in ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let after_name = &stat[stat.rfind(')').expect("comm field") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // Fields 14 and 15 of the line; the slice starts at field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn summary(case: &Case) -> String {
    let mut shown = case.arguments.to_string();
    if shown.len() > 200 {
        let head: String = shown.chars().take(200).collect();
        shown = format!("{head}… ({} bytes)", shown.len());
    }
    format!("{} {shown}", case.tool)
}

/// The error names the mutated field (or, for an unknown one, says so and lists the real ones).
fn names_a_field(case: &Case, error: &str) -> bool {
    match case.field {
        Some(field) => error.contains(&format!("`{field}")),
        None => error.contains("unknown field; "),
    }
}

#[tokio::test]
async fn every_tool_refuses_hundreds_of_malformed_argument_sets_cheaply() {
    let fake = FakeOpenRouter::start().await;
    fake.answer(MINI, "still serving", 0.0001).await;
    let server = Spawned::start(&fake).await;
    // Warm up: the catalog fetch and the tokenizer load are not part of any malformed call.
    for (tool, args) in [
        ("list_models", json!({"limit": 1})),
        ("estimate_cost", json!({"model": MINI, "prompt": "hi"})),
    ] {
        assert_ne!(server.call(tool, args).await.is_error, Some(true));
    }
    let mut cases: Vec<Case> = tools().iter().flat_map(cases_for).collect();
    for tool in tools() {
        let count = cases.iter().filter(|c| c.tool == tool.name).count();
        assert!(count >= MIN_CASES, "{}: only {count} cases", tool.name);
    }
    fastrand::Rng::with_seed(SEED).shuffle(&mut cases);

    let batch_start = cpu_ticks(server.pid);
    let mut worst = (0, String::new());
    for case in &cases {
        let before = cpu_ticks(server.pid);
        let result = server.call(case.tool, case.arguments.clone()).await;
        let spent = cpu_ticks(server.pid) - before;
        if spent > worst.0 {
            worst = (spent, summary(case));
        }
        let error = text(&result);
        assert_eq!(
            result.is_error,
            Some(true),
            "{} was accepted: {error}",
            summary(case)
        );
        assert!(
            names_a_field(case, &error),
            "{}: `{error}` names no field",
            summary(case)
        );
        assert!(
            error.len() < 1000,
            "{}: the error echoes {} bytes",
            summary(case),
            error.len()
        );
    }
    let batch_ms = (cpu_ticks(server.pid) - batch_start) * MS_PER_TICK;
    let worst_ms = worst.0 * MS_PER_TICK;
    assert!(
        worst_ms < MAX_CPU_MS_PER_CALL,
        "{worst_ms} ms of server CPU for {}",
        worst.1
    );
    assert!(
        batch_ms / cases.len() as u64 <= MAX_CPU_MS_PER_CALL,
        "{batch_ms} ms for {} calls",
        cases.len()
    );
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "nothing went upstream"
    );

    let after = server
        .call("ask_model", json!({"prompt": "are you there?"}))
        .await;
    assert_eq!(
        after.structured_content.as_ref().map(|s| s["text"].clone()),
        Some(json!("still serving"))
    );
    let _ = server.client.cancel().await;
}
