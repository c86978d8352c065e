//! Completing an answer cut by `max_tokens`: the follow-up request (the partial answer sent back
//! as an assistant turn to continue from) and the join of the parts, whose usage counts every
//! request.

use crate::openrouter::Completion;
use crate::openrouter::types::{ChatMessage, ChatRequest, CompletionTokensDetails, Role, Usage};

/// Asked before each continuation is sent: whether follow-up `number` (1 for the first) still
/// fits the call's caps. The caller reserves what it may cost.
pub trait Gate: Send + Sync {
    fn allow(&self, model: &str, number: u32) -> futures_util::future::BoxFuture<'_, bool>;

    /// Asked before `model` is asked again with `max_tokens` after its reasoning used the whole
    /// budget: whether that request still fits the call's caps (the caller reserves it).
    fn retry(&self, model: &str, max_tokens: u32) -> futures_util::future::BoxFuture<'_, bool>;
}

/// A gate that lets every continuation through (no cost cap applies).
#[derive(Debug, Clone, Copy, Default)]
pub struct Open;

impl Gate for Open {
    fn allow(&self, _: &str, _: u32) -> futures_util::future::BoxFuture<'_, bool> {
        Box::pin(std::future::ready(true))
    }

    fn retry(&self, _: &str, _: u32) -> futures_util::future::BoxFuture<'_, bool> {
        Box::pin(std::future::ready(true))
    }
}

/// An answer from one model, completed as far as the continuation limit allows.
#[derive(Debug, Clone)]
pub struct Finished {
    pub completion: Completion,
    /// Follow-up requests joined into the answer.
    pub continuations: u32,
    /// Still cut by `max_tokens` after the last continuation.
    pub truncated: bool,
}

/// Whether `completion` stopped because `max_tokens` ran out.
pub fn is_cut(completion: &Completion) -> bool {
    completion.finish_reason == "length"
}

/// The request that continues `partial`. The partial answer is sent without trailing whitespace
/// (some providers refuse an assistant turn ending in it); the model sends that back itself.
pub fn follow_up(request: &ChatRequest, partial: &str) -> ChatRequest {
    let mut next = request.clone();
    next.messages
        .push(ChatMessage::new(Role::Assistant, partial.trim_end()));
    next
}

/// Appends `part` to `whole`, the answer it continues: the text from where [`follow_up`] sent
/// it, the last finish reason, and the usage of both requests.
pub fn join(whole: &mut Completion, part: Completion) {
    let kept = whole.text.trim_end().len();
    whole.text.truncate(kept);
    whole.text.push_str(&part.text);
    whole.finish_reason = part.finish_reason;
    whole.usage = add(&whole.usage, &part.usage);
}

/// The usage of two requests together; the cost is unknown when either's is.
pub fn add(a: &Usage, b: &Usage) -> Usage {
    let reasoning = match (a.reasoning_tokens(), b.reasoning_tokens()) {
        (None, None) => None,
        (x, y) => Some(x.unwrap_or(0) + y.unwrap_or(0)),
    };
    Usage {
        prompt_tokens: a.prompt_tokens + b.prompt_tokens,
        completion_tokens: a.completion_tokens + b.completion_tokens,
        total_tokens: a.total_tokens + b.total_tokens,
        cost: a.cost.zip(b.cost).map(|(x, y)| x + y),
        completion_tokens_details: reasoning.map(|r| CompletionTokensDetails {
            reasoning_tokens: Some(r),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(text: &str, finish: &str, cost: Option<f64>) -> Completion {
        Completion {
            text: text.into(),
            model: None,
            provider: None,
            generation_id: None,
            finish_reason: finish.into(),
            usage: Usage {
                prompt_tokens: 10,
                completion_tokens: 5,
                total_tokens: 15,
                cost,
                completion_tokens_details: None,
            },
        }
    }

    #[test]
    fn joins_at_the_seam_without_doubling_the_whitespace_and_adds_the_usage() {
        let mut whole = part("The answer is ", "length", Some(0.5));
        join(&mut whole, part(" forty-two.", "stop", Some(0.25)));
        assert_eq!(whole.text, "The answer is forty-two.");
        assert_eq!(whole.finish_reason, "stop");
        assert_eq!(whole.usage.completion_tokens, 10);
        assert_eq!(whole.usage.cost, Some(0.75));
        join(&mut whole, part("!", "stop", None));
        assert_eq!(
            whole.usage.cost, None,
            "one unknown cost makes the sum unknown"
        );
    }
}
