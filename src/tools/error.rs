//! The tools' error type. Every message names the argument at fault and says how to fix it; the
//! server turns it into a tool result with `isError: true`.

use crate::router::RouteError;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("invalid argument `{field}`: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error("invalid argument `{field}`: unknown model id `{id}`{}; use list_models to search the catalog", suggestions(.closest))]
    UnknownModel {
        field: &'static str,
        id: String,
        closest: Vec<String>,
    },
    #[error("invalid argument `{field}`: model `{id}` is refused: {reason}")]
    Refused {
        field: &'static str,
        id: String,
        reason: String,
    },
    #[error("budget: {0}")]
    Budget(String),
    #[error(transparent)]
    Route(#[from] RouteError),
}

impl ToolError {
    pub fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        ToolError::Invalid {
            field,
            problem: problem.into(),
        }
    }
}

fn suggestions(closest: &[String]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; closest ids: {}", closest.join(", "))
    }
}
