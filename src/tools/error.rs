//! The tools' error type. Every message names the argument at fault and says how to fix it; the
//! server turns it into a tool result with `isError: true`.

use super::input::shown;
use crate::router::RouteError;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("invalid argument `{field}`: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    /// A field found while deserializing, named by its path (`messages[2].role`).
    #[error("invalid argument `{field}`: {problem}")]
    Argument { field: String, problem: String },
    #[error("invalid argument `{field}`: unknown model id `{}`{}; use list_models to search the catalog", shown(.id), suggestions(.closest))]
    UnknownModel {
        field: &'static str,
        id: String,
        closest: Vec<String>,
    },
    /// A model id from the server's configuration, not from the call.
    #[error("setting {setting}: model id `{}` is not in the catalog{}; fix the setting (list_models finds ids) or pass `{argument}`", shown(.id), suggestions(.closest))]
    Setting {
        setting: &'static str,
        argument: &'static str,
        id: String,
        closest: Vec<String>,
    },
    #[error("invalid argument `{field}`: model `{}` is refused: {reason}", shown(.id))]
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

    pub fn argument(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ToolError::Argument {
            field: field.into(),
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
