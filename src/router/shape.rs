//! The consultation arguments that shape each request (`reasoning`, `response_format`,
//! `provider`): how they join the cache key, and the check of a structured answer once a model's
//! answer is finished. An answer that does not parse or match the schema is retried once, then
//! counts as that model's failure; it is never returned as a success and never cached.

use super::{Attempt, Call, ModelResult, ModelRouter, Outcome, Progress, Walk};
use crate::openrouter::types::ChatRequest;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Longest validation problem an attempt repeats, in characters.
const MAX_PROBLEM_CHARS: usize = 300;

/// The schema an answer must match, and the `response_format` object sent for it.
#[derive(Clone)]
pub struct Structured {
    /// `{type: "json_schema", json_schema: {name, strict: true, schema}}`.
    pub wire: Value,
    validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for Structured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Structured")
            .field("wire", &self.wire)
            .finish_non_exhaustive()
    }
}

impl Structured {
    /// Compiles `schema` (no remote or file `$ref` is ever fetched).
    ///
    /// # Errors
    /// What is wrong with the schema.
    pub fn new(name: &str, schema: Value) -> Result<Self, String> {
        let validator = jsonschema::validator_for(&schema).map_err(|e| e.to_string())?;
        let wire = json!({"type": "json_schema",
            "json_schema": {"name": name, "strict": true, "schema": schema}});
        Ok(Self {
            wire,
            validator: Arc::new(validator),
        })
    }

    /// The answer parsed as JSON, if it matches the schema.
    ///
    /// # Errors
    /// Why it does not (not JSON, or the first schema violation), without echoing the answer.
    pub fn check(&self, text: &str) -> Result<Value, String> {
        let value = parse(text)?;
        if let Some(error) = self.validator.iter_errors(&value).next() {
            let place = error.instance_path().to_string();
            let place = if place.is_empty() { "/".into() } else { place };
            let problem = error.masked().to_string();
            return Err(format!(
                "the answer does not match response_format at {place}: {}",
                short(&problem)
            ));
        }
        Ok(value)
    }
}

/// The answer's JSON: the text itself, or inside one ```json fence.
///
/// # Errors
/// When it is not JSON.
pub fn parse(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(inner.trim()).map_err(|e| {
        format!(
            "the answer is not JSON as response_format requires ({})",
            short(&e.to_string())
        )
    })
}

fn short(text: &str) -> String {
    match text.char_indices().nth(MAX_PROBLEM_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The cache key `base` made from the chain, messages and sampling, extended by the consultation
/// arguments when the call has any (so a call without them keeps its old key).
pub fn key(call: &Call, base: String) -> String {
    let format = call.structured.as_ref().map(|s| &s.wire);
    if call.reasoning.is_empty() && format.is_none() && call.provider.is_none() {
        return base;
    }
    let material = json!({"base": base, "reasoning": call.reasoning,
        "response_format": format, "provider": call.provider});
    hex::encode(Sha256::digest(material.to_string()))
}

/// Sets the consultation arguments on the request for `model`.
pub fn apply(call: &Call, model: &str, request: &mut ChatRequest) {
    request.reasoning = call.reasoning.get(model).cloned();
    request.response_format = call.structured.as_ref().map(|s| s.wire.clone());
    request.provider = call.provider.clone();
}

/// The attempt note for `model`: the clamp's, then the call's own for it.
pub fn note(clamp: Option<String>, call: &Call, model: &str) -> Option<String> {
    match (clamp, call.notes.get(model)) {
        (Some(clamp), Some(own)) => Some(format!("{clamp}; {own}")),
        (clamp, own) => clamp.or_else(|| own.cloned()),
    }
}

/// Merges provider preferences: each key of `over` replaces the same key of `base`.
pub fn merged(
    base: Option<&Map<String, Value>>,
    over: Option<Map<String, Value>>,
) -> Option<Map<String, Value>> {
    match (base, over) {
        (None, over) => over,
        (Some(base), None) => Some(base.clone()),
        (Some(base), Some(over)) => {
            let mut all = base.clone();
            all.extend(over);
            Some(all)
        }
    }
}

impl ModelRouter {
    /// `outcome` after the answer is checked against the call's `response_format` (when it has
    /// one): an answer that fails is asked once more, then the model has failed.
    pub(super) async fn checked(
        &self,
        call: &Call,
        request: &ChatRequest,
        walk: &Walk<'_>,
        attempts: &mut Vec<Attempt>,
        progress: Progress<'_>,
        first: ModelResult,
    ) -> ModelResult {
        let Some(structured) = &call.structured else {
            return first;
        };
        let mut outcome = first;
        for retry in [false, true] {
            let ModelResult::Answered(finished) = &outcome else {
                return outcome;
            };
            let Err(problem) = structured.check(&finished.completion.text) else {
                return outcome;
            };
            let verdict = match (retry, walk.is_last) {
                (false, _) => Outcome::Retried,
                (true, false) => Outcome::FellBack,
                (true, true) => Outcome::Failed,
            };
            let usage = finished.completion.usage.clone();
            refuse_answer(attempts, &request.model, verdict, &problem, usage);
            if retry {
                return ModelResult::Next;
            }
            outcome = self.try_model(request, walk, attempts, progress).await;
        }
        outcome
    }
}

/// Turns the attempts that delivered `model`'s answer (the request and its continuations) into
/// failures with `problem`. The answer was billed: the last of them carries its usage, so the
/// ledger and the budget count it.
fn refuse_answer(
    attempts: &mut [Attempt],
    model: &str,
    verdict: Outcome,
    problem: &str,
    usage: crate::openrouter::types::Usage,
) {
    let answered = attempts
        .iter_mut()
        .rev()
        .take_while(|a| a.model == model && a.outcome == Outcome::Ok);
    for (i, attempt) in answered.enumerate() {
        attempt.outcome = verdict;
        attempt.error = Some(problem.to_string());
        if i == 0 {
            attempt.paid = Some(usage.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Structured {
        Structured::new(
            "answer",
            json!({"type": "object", "properties": {"name": {"type": "string"}},
                   "required": ["name"], "additionalProperties": false}),
        )
        .unwrap()
    }

    #[test]
    fn an_answer_must_parse_and_match() {
        let s = person();
        assert_eq!(s.wire["json_schema"]["strict"], true);
        assert_eq!(s.check(r#"{"name":"Ada"}"#).unwrap()["name"], "Ada");
        assert_eq!(
            s.check("```json\n{\"name\":\"Ada\"}\n```").unwrap()["name"],
            "Ada"
        );
        let not_json = s.check("Sure! Here it is").unwrap_err();
        assert!(not_json.contains("not JSON"), "{not_json}");
        let wrong = s.check(r#"{"name": 7}"#).unwrap_err();
        assert!(wrong.contains("/name"), "{wrong}");
        let secret = s
            .check(r#"{"name":"Ada","token":"s3cr3t-value"}"#)
            .unwrap_err();
        assert!(
            !secret.contains("s3cr3t-value"),
            "never echoes the answer: {secret}"
        );
    }

    #[test]
    fn a_bad_schema_or_a_remote_ref_does_not_compile() {
        assert!(Structured::new("a", json!({"type": "nonsense"})).is_err());
        assert!(Structured::new("a", json!({"$ref": "https://example.com/s.json"})).is_err());
    }

    #[test]
    fn provider_preferences_merge_key_by_key() {
        let base = json!({"sort": "price", "zdr": true});
        let over = json!({"sort": "latency"});
        let merged = merged(base.as_object(), over.as_object().cloned()).unwrap();
        assert_eq!(
            Value::Object(merged),
            json!({"sort": "latency", "zdr": true})
        );
    }
}
