//! `max_tokens` per model: the default (larger for models that reason), clamped to what each
//! model can send (`top_provider.max_completion_tokens`), and the larger value a model whose
//! reasoning used the whole budget is retried with.

use crate::catalog::Snapshot;
use std::collections::BTreeMap;

/// `max_tokens` when a call names none, for a model that does not reason.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;
/// `max_tokens` when a call names none, for a model that reasons: its reasoning tokens count
/// against `max_tokens`, and 1024 is often spent before any text.
pub const REASONING_MAX_TOKENS: u32 = 4096;
/// Context tokens kept free beside the prompt when a retry's `max_tokens` is sized to what is left.
const CONTEXT_MARGIN: u64 = 16;

/// The default `max_tokens` of `model`: [`REASONING_MAX_TOKENS`] when its catalog entry says it
/// reasons (`reasoning` or `include_reasoning` in `supported_parameters`), else
/// [`DEFAULT_MAX_TOKENS`].
pub fn default_for(snapshot: &Snapshot, model: &str) -> u32 {
    match snapshot.find(model) {
        Some(m) if m.supports("reasoning") => REASONING_MAX_TOKENS,
        _ => DEFAULT_MAX_TOKENS,
    }
}

/// The call's `max_tokens`: the one asked for, else the largest default over `chain` (what the
/// context check and the worst case must allow for).
pub fn resolve(snapshot: &Snapshot, chain: &[String], asked: Option<u32>) -> u32 {
    asked.unwrap_or_else(|| {
        chain
            .iter()
            .map(|m| default_for(snapshot, m))
            .max()
            .unwrap_or(DEFAULT_MAX_TOKENS)
    })
}

/// What one model is sent when it differs from the call's `max_tokens`: its own default (no
/// `max_tokens` asked), or its completion limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tokens {
    /// What this model would be sent before its limit: the asked value or its default.
    pub asked: u32,
    pub sent: u32,
    /// What bounded `sent` when it is below `asked`.
    pub limit: Limit,
}

/// What a clamped `max_tokens` was clamped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `top_provider.max_completion_tokens`.
    Completion,
    /// The context window less the prompt.
    Context,
}

impl Limit {
    fn said(self) -> &'static str {
        match self {
            Limit::Completion => "the model's max_completion_tokens",
            Limit::Context => "the context left after the prompt",
        }
    }
}

/// The models in `chain` not sent `max_tokens`: those with a smaller default (when `asked` is
/// `None`) and those whose completion limit is below it.
pub fn limits(
    snapshot: &Snapshot,
    chain: &[String],
    max_tokens: u32,
    asked: Option<u32>,
) -> BTreeMap<String, Tokens> {
    chain
        .iter()
        .filter_map(|id| {
            let wanted = asked
                .unwrap_or_else(|| default_for(snapshot, id))
                .min(max_tokens);
            let sent = completion_limit(snapshot, id).map_or(wanted, |limit| wanted.min(limit));
            (sent != max_tokens).then(|| {
                let tokens = Tokens {
                    asked: wanted,
                    sent,
                    limit: Limit::Completion,
                };
                (id.clone(), tokens)
            })
        })
        .collect()
}

/// Lowers what each model in `room` is sent to the context its window leaves after the prompt
/// (see `tools::models::PromptSize::room`), where that is below what it would be sent.
pub fn within_context(
    limits: &mut BTreeMap<String, Tokens>,
    room: &BTreeMap<String, u32>,
    max_tokens: u32,
) {
    for (model, left) in room {
        let current = limits.get(model).copied().unwrap_or(Tokens {
            asked: max_tokens,
            sent: max_tokens,
            limit: Limit::Completion,
        });
        if *left < current.sent {
            let clamped = Tokens {
                sent: *left,
                limit: Limit::Context,
                ..current
            };
            limits.insert(model.clone(), clamped);
        }
    }
}

/// The attempt note for a request whose `max_tokens` was clamped from `asked` to `sent` by
/// `limit`.
pub fn note(asked: u32, sent: u32, limit: Limit) -> Option<String> {
    (sent < asked).then(|| {
        format!(
            "max_tokens clamped from {asked} to {sent}, {}",
            limit.said()
        )
    })
}

/// The most each model of `chain` can be sent: its completion limit and its context window.
pub fn ceilings(snapshot: &Snapshot, chain: &[String]) -> BTreeMap<String, Ceiling> {
    chain
        .iter()
        .map(|id| {
            let ceiling = Ceiling {
                completion: completion_limit(snapshot, id),
                context: snapshot.find(id).and_then(|m| m.context_length),
            };
            (id.clone(), ceiling)
        })
        .collect()
}

/// What one model can be sent at most, when the catalog says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ceiling {
    pub completion: Option<u32>,
    pub context: Option<u64>,
}

/// The `max_tokens` to retry with after reasoning used all of `sent`: twice as much, and at
/// least [`REASONING_MAX_TOKENS`] more, within the model's completion limit and the context left
/// after the prompt (`prompt_tokens`, as upstream counted it). `None` when that is no larger.
pub fn larger(sent: u32, ceiling: Ceiling, prompt_tokens: u64) -> Option<u32> {
    let mut next = sent
        .saturating_mul(2)
        .max(sent.saturating_add(REASONING_MAX_TOKENS));
    if let Some(limit) = ceiling.completion {
        next = next.min(limit);
    }
    if let Some(context) = ceiling.context {
        let left = context.saturating_sub(prompt_tokens + CONTEXT_MARGIN);
        next = next.min(u32::try_from(left).unwrap_or(u32::MAX));
    }
    (next > sent).then_some(next)
}

fn completion_limit(snapshot: &Snapshot, id: &str) -> Option<u32> {
    let limit = snapshot.find(id)?.max_completion_tokens?;
    u32::try_from(limit).ok().filter(|l| *l > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_asks_for_more_within_the_model_and_its_context() {
        let open = Ceiling::default();
        assert_eq!(larger(1024, open, 100), Some(1024 + REASONING_MAX_TOKENS));
        assert_eq!(larger(8192, open, 100), Some(16_384));
        let capped = Ceiling {
            completion: Some(3000),
            context: None,
        };
        assert_eq!(larger(1024, capped, 100), Some(3000));
        assert_eq!(larger(3000, capped, 100), None, "nothing larger to ask for");
        let small = Ceiling {
            completion: None,
            context: Some(4000),
        };
        assert_eq!(
            larger(1024, small, 1000),
            Some(4000 - 1000 - CONTEXT_MARGIN as u32)
        );
        assert_eq!(larger(3000, small, 1000), None);
    }
}
