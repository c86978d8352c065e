//! Reading the judge's reply: the JSON object asked for (found inside a code fence or a sentence
//! too), its labels mapped back to model ids; a reply in prose is kept as the text.

use super::Judgement;
use serde_json::Value;

/// Fills `judgement` from the judge's reply: the JSON asked for, or else the prose as it is.
pub fn read(judgement: &mut Judgement, reply: &str, labelled: &[(String, &str)]) {
    let Some(object) = json_object(reply) else {
        judgement.text = Some(reply.trim().to_string());
        judgement
            .warnings
            .push("the judge did not reply with the JSON asked for, so there is no ranking or agreement; its text is kept".into());
        return;
    };
    let text = object.get("text").and_then(Value::as_str).map(str::trim);
    judgement.text = Some(
        text.filter(|t| !t.is_empty())
            .unwrap_or(reply.trim())
            .to_string(),
    );
    judgement.agreement = object
        .get("agreement")
        .and_then(Value::as_f64)
        .filter(|a| (0.0..=1.0).contains(a));
    if judgement.agreement.is_none() {
        judgement
            .warnings
            .push("the judge gave no agreement between 0 and 1".into());
    }
    let ranked = object.get("ranking").and_then(Value::as_array);
    judgement.ranking = ranking(ranked.map_or(&[][..], Vec::as_slice), labelled);
    if judgement.ranking.len() < labelled.len() {
        judgement.warnings.push(format!(
            "the judge ranked {} of {} answers",
            judgement.ranking.len(),
            labelled.len()
        ));
    }
}

/// The reply's JSON object: the whole reply, or from its first `{` to its last `}` (a code fence
/// or a sentence around it).
fn json_object(reply: &str) -> Option<serde_json::Map<String, Value>> {
    let start = reply.find('{')?;
    let end = reply.rfind('}')?;
    match serde_json::from_str(reply.get(start..=end)?) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// Labels (`"B"`, `"Answer B"`, `"b"`) mapped to model ids, each once, unknown ones left out.
fn ranking(ranked: &[Value], labelled: &[(String, &str)]) -> Vec<String> {
    let mut models: Vec<String> = Vec::new();
    for item in ranked.iter().filter_map(Value::as_str) {
        let item = item.trim();
        let bare = item
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("answer "))
            .map_or(item, |_| &item[7..]);
        let found = labelled
            .iter()
            .find(|(label, _)| label.eq_ignore_ascii_case(bare.trim()));
        if let Some((_, model)) = found
            && !models.iter().any(|m| m == model)
        {
            models.push((*model).to_string());
        }
    }
    models
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn labelled() -> Vec<(String, &'static str)> {
        vec![
            ("A".into(), "x-ai/grok-4"),
            ("B".into(), "openai/gpt-5-mini"),
        ]
    }

    fn verdict(reply: &str) -> Judgement {
        let mut judgement = Judgement {
            model: "judge".into(),
            text: None,
            ranking: Vec::new(),
            agreement: None,
            labels: BTreeMap::new(),
            cost_usd: 0.0,
            error: None,
            answer_id: None,
            total_chars: None,
            warnings: Vec::new(),
        };
        read(&mut judgement, reply, &labelled());
        judgement
    }

    #[test]
    fn a_json_verdict_in_a_fence_maps_labels_back_to_models() {
        let j = verdict(
            "Here:\n```json\n{\"agreement\": 0.25, \"ranking\": [\"Answer B\", \"a\", \"B\", \"Z\"], \"text\": \"B is right\"}\n```",
        );
        assert_eq!(j.ranking, ["openai/gpt-5-mini", "x-ai/grok-4"]);
        assert_eq!(j.agreement, Some(0.25));
        assert_eq!(j.text.as_deref(), Some("B is right"));
        assert!(j.warnings.is_empty(), "{:?}", j.warnings);
    }

    #[test]
    fn a_prose_verdict_keeps_its_text_with_no_ranking() {
        let j = verdict("Both answers agree; B is clearer.");
        assert!(j.ranking.is_empty() && j.agreement.is_none());
        assert_eq!(j.text.as_deref(), Some("Both answers agree; B is clearer."));
        assert_eq!(j.warnings.len(), 1);
        let out_of_range = verdict("{\"agreement\": 7, \"ranking\": [\"A\"], \"text\": \"t\"}");
        assert_eq!(out_of_range.agreement, None);
        assert_eq!(out_of_range.ranking, ["x-ai/grok-4"]);
    }
}
