//! Keeping authors out of what the judge reads: every compared model's id, name and provider is
//! replaced in the answers (whole words, any case).

use super::Entry;
use crate::catalog::Snapshot;

/// What stands in for a model's or provider's name in the answers the judge reads.
const WITHHELD: &str = "[name withheld]";

/// Withholds every compared model's id, name and provider from the answers the judge reads
/// (whole words, any case), so no answer names its author.
pub struct Blind(Option<regex::Regex>);

impl Blind {
    pub fn new(snapshot: &Snapshot, entries: &[Entry<'_>]) -> Self {
        let mut names: Vec<String> = entries.iter().flat_map(|e| names(snapshot, e)).collect();
        names.retain(|n| n.chars().count() >= 3);
        names.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        names.dedup();
        if names.is_empty() {
            return Self(None);
        }
        let alternatives: Vec<String> = names.iter().map(|n| whole_word(n)).collect();
        let pattern = alternatives.join("|");
        let regex = regex::RegexBuilder::new(&pattern)
            .case_insensitive(true)
            .build();
        Self(regex.ok())
    }

    pub fn apply(&self, text: &str) -> String {
        match &self.0 {
            Some(regex) => regex.replace_all(text, WITHHELD).into_owned(),
            None => text.to_string(),
        }
    }
}

/// `name` as a pattern that matches it as a whole word: no letter or digit joined on either end
/// (where the name itself ends in one).
fn whole_word(name: &str) -> String {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let (start, end) = (edge(name.chars().next()), edge(name.chars().last()));
    format!(
        "{}{}{}",
        if start { r"\b" } else { "" },
        regex::escape(name),
        if end { r"\b" } else { "" }
    )
}

/// What names one answer's author: the id (with and without its `:variant`), its provider and
/// model parts, the catalog name and its parts (`OpenAI: GPT-5 Mini`), and the serving provider.
fn names(snapshot: &Snapshot, entry: &Entry<'_>) -> Vec<String> {
    let id = entry.model;
    let base = id.split(':').next().unwrap_or(id);
    let mut names = vec![id.to_string(), base.to_string()];
    if let Some((provider, model)) = base.split_once('/') {
        names.extend([provider.to_string(), model.to_string()]);
    }
    if let Some(info) = snapshot.find(id) {
        names.push(info.name.clone());
        if let Some((provider, model)) = info.name.split_once(": ") {
            names.extend([provider.to_string(), model.to_string()]);
        }
        let plain = info.name.split(" (").next().unwrap_or(&info.name);
        names.extend(plain.split_once(": ").map(|(_, model)| model.to_string()));
        names.extend(info.canonical_slug.clone());
    }
    names.extend(entry.provider.map(str::to_string));
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Source;
    use std::time::SystemTime;

    fn snapshot() -> Snapshot {
        let models = serde_json::from_value(serde_json::json!([
            {"id": "openai/gpt-5-mini", "name": "OpenAI: GPT-5 Mini"},
            {"id": "meta-llama/llama-3.3-70b-instruct:free", "name": "Meta: Llama 3.3 70B Instruct (free)"}
        ]))
        .unwrap();
        Snapshot::new(models, Source::Live, SystemTime::now())
    }

    #[test]
    fn ids_names_and_providers_are_withheld_as_whole_words_in_any_case() {
        let entries = [
            Entry {
                model: "openai/gpt-5-mini",
                provider: Some("Azure"),
                text: "",
            },
            Entry {
                model: "meta-llama/llama-3.3-70b-instruct:free",
                provider: None,
                text: "",
            },
        ];
        let blind = Blind::new(&snapshot(), &entries);
        let seen = blind.apply(
            "I am gpt-5-mini (OPENAI: GPT-5 Mini, openai/gpt-5-mini) on azure; META says metadata.",
        );
        assert_eq!(
            seen,
            "I am [name withheld] ([name withheld], [name withheld]) on [name withheld]; [name withheld] says metadata."
        );
        let llama =
            blind.apply("Llama 3.3 70B Instruct (free), meta-llama/llama-3.3-70b-instruct:free");
        assert!(!llama.to_lowercase().contains("llama"), "{llama}");
    }
}
