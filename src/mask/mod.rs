//! Masking of secrets and personal data in everything sent upstream (`SWITCHBOARD_MASK`): the
//! mode, the compiled `Masker`, and the counts by kind that a result reports.
//!
//! Every match is replaced with `[masked:<kind>]`; for assignments such as `DB_PASSWORD=...` only
//! the value is replaced. The patterns are compiled once; a text with no match costs one scan.

mod checks;
mod rules;
#[cfg(test)]
mod tests;

use regex::{Regex, RegexSet};
use rules::{Check, Class, RULES};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How many matches of each kind were masked (`private_key`, `aws_key`, `email`, ...).
pub type Counts = BTreeMap<&'static str, u32>;

/// Adds `more` into `total`, so one result can report the counts of every text it masked.
pub fn merge(total: &mut Counts, more: &Counts) {
    for (kind, n) in more {
        *total.entry(kind).or_default() += n;
    }
}

/// What is masked: nothing, secrets, or secrets and personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaskMode {
    Off,
    #[default]
    Secrets,
    SecretsAndPii,
}

/// A `SWITCHBOARD_MASK` value that is not one of the three modes.
#[derive(Debug, thiserror::Error)]
#[error("SWITCHBOARD_MASK: unknown value {value:?}; use off, secrets (the default) or secrets,pii")]
pub struct MaskModeError {
    value: String,
}

impl FromStr for MaskMode {
    type Err = MaskModeError;

    /// Accepts `off`, `secrets` and `secrets,pii` (either order, any case, spaces around commas).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut words: Vec<String> = value
            .split(',')
            .map(|w| w.trim().to_ascii_lowercase())
            .collect();
        words.sort();
        words.dedup();
        match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["off"] => Ok(Self::Off),
            ["secrets"] => Ok(Self::Secrets),
            ["pii", "secrets"] => Ok(Self::SecretsAndPii),
            _ => Err(MaskModeError {
                value: value.to_owned(),
            }),
        }
    }
}

impl fmt::Display for MaskMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Off => "off",
            Self::Secrets => "secrets",
            Self::SecretsAndPii => "secrets,pii",
        })
    }
}

/// The compiled patterns of one mode. Build it once and share it; `mask` takes `&self`.
#[derive(Debug)]
pub struct Masker {
    mode: MaskMode,
    set: RegexSet,
    /// The rules of this mode, in priority order, each beside its own compiled regex.
    rules: Vec<(&'static rules::Rule, Regex)>,
}

/// One span to replace: its byte range, its kind and its rule's priority.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    priority: usize,
    kind: &'static str,
}

impl Masker {
    /// Compiles the patterns of `mode`.
    ///
    /// # Panics
    /// Never in practice: the patterns are constants, and a unit test compiles every mode.
    pub fn new(mode: MaskMode) -> Self {
        let rules: Vec<_> = RULES
            .iter()
            .filter(|r| match mode {
                MaskMode::Off => false,
                MaskMode::Secrets => r.class == Class::Secret,
                MaskMode::SecretsAndPii => true,
            })
            .map(|r| (r, Regex::new(r.pattern).expect("mask patterns are valid")))
            .collect();
        let set =
            RegexSet::new(rules.iter().map(|(r, _)| r.pattern)).expect("mask patterns are valid");
        Self { mode, set, rules }
    }

    /// The mode this masker was built for.
    pub fn mode(&self) -> MaskMode {
        self.mode
    }

    /// Returns `text` with every match replaced by `[masked:<kind>]`, and the counts by kind.
    /// Text with nothing to mask comes back borrowed.
    pub fn mask<'a>(&self, text: &'a str) -> (Cow<'a, str>, Counts) {
        let mut counts = Counts::new();
        let masked = self.mask_counting(text, &mut counts);
        (masked, counts)
    }

    /// As [`Masker::mask`], adding to `counts`, for callers that mask many texts into one report.
    pub fn mask_counting<'a>(&self, text: &'a str, counts: &mut Counts) -> Cow<'a, str> {
        if self.rules.is_empty() {
            return Cow::Borrowed(text);
        }
        let matched = self.set.matches(text);
        if !matched.matched_any() {
            return Cow::Borrowed(text);
        }
        let mut hits: Vec<Hit> = matched.iter().flat_map(|i| self.hits(i, text)).collect();
        hits.sort_by_key(|h| (h.start, h.priority, usize::MAX - h.end));
        replace(text, &hits, counts)
    }

    /// The spans rule `index` replaces in `text`, after its check.
    fn hits<'s>(&'s self, index: usize, text: &'s str) -> impl Iterator<Item = Hit> + 's {
        let (rule, regex) = &self.rules[index];
        regex.captures_iter(text).filter_map(move |caps| {
            let whole = caps.get(0)?;
            let group = caps.iter().skip(1).position(|g| g.is_some());
            let span = group.and_then(|g| caps.get(g + 1)).unwrap_or(whole);
            passes(rule.check, span.as_str(), group == Some(2)).then_some(Hit {
                start: span.start(),
                end: span.end(),
                priority: index,
                kind: rule.kind,
            })
        })
    }
}

/// Whether a match counts; `unquoted` says an assignment's value had no quotes around it.
fn passes(check: Check, text: &str, unquoted: bool) -> bool {
    match check {
        Check::None => true,
        Check::Assigned => checks::assigned(text, unquoted),
        Check::Luhn => checks::card(text),
        Check::Iban => checks::iban(text),
        Check::Phone => checks::phone(text),
    }
}

/// Builds the masked text from sorted hits, skipping any hit that overlaps one already taken.
fn replace<'a>(text: &'a str, hits: &[Hit], counts: &mut Counts) -> Cow<'a, str> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for hit in hits {
        if hit.start < last || hit.start == hit.end {
            continue;
        }
        out.push_str(&text[last..hit.start]);
        out.push_str("[masked:");
        out.push_str(hit.kind);
        out.push(']');
        last = hit.end;
        *counts.entry(hit.kind).or_default() += 1;
    }
    if last == 0 && out.is_empty() {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}
