//! Integration tests, one binary (zero2prod style). Each file covers one capability a user relies
//! on; `support` starts a fake OpenRouter on 127.0.0.1 and the real server binary.

mod ask_model;
mod audit;
mod bad_input;
mod budget;
mod cache;
mod cli;
mod compare_models;
mod compare_parallel;
mod errors_hostile;
mod estimate_cost;
mod fault_matrix;
mod faults;
mod hostile_answers;
mod hostile_money;
mod hostile_secrets;
mod http;
mod http_hostile;
mod http_inproc;
mod list_models;
mod long_answers;
mod malformed_args;
mod metrics;
mod native;
mod openai_compat;
mod progress;
mod prompts;
mod resources;
mod routing;
mod secrets;
mod sse_framing;
mod stdio;
mod support;
mod tokens;
mod tools_schema;
