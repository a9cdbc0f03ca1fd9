//! The LLM's answer: read from the chat completion, checked field by field
//! against the schema we asked for (servers that claim OpenAI
//! compatibility do not all enforce it, and the limits are not in the
//! schema, see `prompt`), then merged into the rules' recommendation.
//! Nothing unchecked reaches an insight.

use super::LlmError;
use serde_json::{Map, Value, json};

pub const MAX_HEADLINE: usize = 200;
pub const MAX_STEPS: usize = 8;
pub const MAX_STEP: usize = 400;
pub const MAX_HYPOTHESIS: usize = 400;
pub const MAX_METRIC: usize = 200;
/// Longest text quoted from a refusal or a bad answer in an error.
const QUOTE: usize = 200;

/// What the LLM may change in a recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    pub headline: String,
    pub steps: Vec<String>,
    pub hypothesis: String,
    pub primary_metric: String,
}

/// The advice in a chat completion's body.
pub fn parse(body: &[u8]) -> Result<Advice, LlmError> {
    let completion: Value =
        serde_json::from_slice(body).map_err(|e| LlmError::Protocol(format!("the response is not JSON: {e}")))?;
    let choice = &completion["choices"][0];
    let message = &choice["message"];
    if let Some(refusal) = message["refusal"].as_str().filter(|r| !r.is_empty()) {
        return Err(LlmError::Refused(quote(refusal)));
    }
    if choice["finish_reason"] == "length" {
        return Err(LlmError::Invalid("the answer was cut at the model's token limit".into()));
    }
    let content = message["content"]
        .as_str()
        .ok_or_else(|| LlmError::Protocol("no choices[0].message.content in the response".into()))?;
    let answer: Value =
        serde_json::from_str(content).map_err(|e| LlmError::NotJson(format!("{e}, in {:?}", quote(content))))?;
    validate(&answer).map_err(LlmError::Invalid)
}

/// The advice in `answer`, or the first way it breaks the schema.
pub fn validate(answer: &Value) -> Result<Advice, String> {
    let top = object(answer, "the answer", &["headline", "steps", "experiment"])?;
    let headline = text(top, "headline", MAX_HEADLINE)?;
    let steps = top["steps"].as_array().ok_or("steps is not an array")?;
    if !(1..=MAX_STEPS).contains(&steps.len()) {
        return Err(format!("steps has {} items, not 1 to {MAX_STEPS}", steps.len()));
    }
    let steps = steps
        .iter()
        .enumerate()
        .map(|(i, s)| checked(s, &format!("steps[{i}]"), MAX_STEP))
        .collect::<Result<Vec<_>, _>>()?;
    let experiment = object(&top["experiment"], "experiment", &["hypothesis", "primary_metric"])?;
    Ok(Advice {
        headline,
        steps,
        hypothesis: text(experiment, "hypothesis", MAX_HYPOTHESIS).map_err(|e| format!("experiment.{e}"))?,
        primary_metric: text(experiment, "primary_metric", MAX_METRIC).map_err(|e| format!("experiment.{e}"))?,
    })
}

/// `value` as an object with exactly `fields` (the schema forbids others).
fn object<'a>(value: &'a Value, name: &str, fields: &[&str]) -> Result<&'a Map<String, Value>, String> {
    let map = value.as_object().ok_or_else(|| format!("{name} is not an object"))?;
    if let Some(missing) = fields.iter().find(|f| !map.contains_key(**f)) {
        return Err(format!("{name} has no {missing}"));
    }
    if let Some(extra) = map.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(format!("{name} has an unexpected field {extra:?}"));
    }
    Ok(map)
}

fn text(map: &Map<String, Value>, field: &str, max: usize) -> Result<String, String> {
    checked(&map[field], field, max)
}

/// A non-blank string of at most `max` characters, trimmed.
fn checked(value: &Value, name: &str, max: usize) -> Result<String, String> {
    let s = value.as_str().ok_or_else(|| format!("{name} is not a string"))?.trim();
    if s.is_empty() {
        return Err(format!("{name} is empty"));
    }
    let n = s.chars().count();
    if n > max {
        return Err(format!("{name} has {n} characters, more than {max}"));
    }
    Ok(s.to_string())
}

fn quote(s: &str) -> String {
    let mut q: String = s.chars().take(QUOTE).collect();
    if q.len() < s.len() {
        q.push('…');
    }
    q
}

/// The recommendation from `advice`: the LLM's headline, steps and
/// hypothesis; everything PX computed (flag, audience, variants, sessions
/// per arm, days) stays the rules', with `sized_for` naming the metric the
/// sessions were computed for, since the LLM may word the metric its own way.
pub fn merge(rules: &Value, advice: &Advice, model: &str) -> Value {
    let mut experiment = rules["experiment"].clone();
    if let Some(e) = experiment.as_object_mut() {
        let sized_for = e.get("primary_metric").cloned().unwrap_or(Value::Null);
        e.insert("sized_for".into(), sized_for);
        e.insert("hypothesis".into(), json!(advice.hypothesis));
        e.insert("primary_metric".into(), json!(advice.primary_metric));
    }
    json!({
        "source": "llm",
        "model": model,
        "headline": advice.headline,
        "steps": advice.steps,
        "experiment": experiment,
    })
}

/// The rules' recommendation, saying why the LLM's is not there.
pub fn fallback(rules: &Value, error: &LlmError) -> Value {
    let mut out = rules.clone();
    if let Some(o) = out.as_object_mut() {
        o.insert("llm_error".into(), json!(error.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Value {
        json!({"headline": "Fix the card form", "steps": ["Reproduce it", "Fix it"],
               "experiment": {"hypothesis": "Fixing it restores conversion", "primary_metric": "payment success"}})
    }

    fn invalid(answer: Value) -> String {
        validate(&answer).err().unwrap_or_else(|| panic!("accepted {answer}"))
    }

    #[test]
    fn a_valid_answer_is_read_trimmed() {
        let mut a = good();
        a["headline"] = json!("  Fix the card form \n");
        let advice = validate(&a).unwrap();
        assert_eq!(advice.headline, "Fix the card form");
        assert_eq!(advice.steps, vec!["Reproduce it", "Fix it"]);
        assert_eq!(advice.primary_metric, "payment success");
    }

    #[test]
    fn every_schema_violation_is_named() {
        let mut a = good();
        a["headline"] = json!("x".repeat(MAX_HEADLINE + 1));
        assert!(invalid(a).contains("headline has 201 characters"));
        let mut a = good();
        a["steps"] = json!(vec!["s"; MAX_STEPS + 1]);
        assert!(invalid(a).contains("steps has 9 items"));
        let mut a = good();
        a["steps"] = json!([]);
        assert!(invalid(a).contains("steps has 0 items"));
        let mut a = good();
        a["steps"][1] = json!("y".repeat(MAX_STEP + 1));
        assert!(invalid(a).contains("steps[1] has 401 characters"));
        let mut a = good();
        a["steps"][0] = json!(3);
        assert!(invalid(a).contains("steps[0] is not a string"));
        let mut a = good();
        a["experiment"] = json!({"hypothesis": "h"});
        assert!(invalid(a).contains("experiment has no primary_metric"));
        let mut a = good();
        a["experiment"]["primary_metric"] = json!(" ");
        assert!(invalid(a).contains("experiment.primary_metric is empty"));
        let mut a = good();
        a["sessions_per_arm"] = json!(10);
        assert!(invalid(a).contains("unexpected field \"sessions_per_arm\""));
        assert!(invalid(json!([1])).contains("not an object"));
    }

    #[test]
    fn refusals_cut_answers_and_prose_are_errors() {
        let body = |message: Value, finish: &str| {
            serde_json::to_vec(&json!({"choices": [{"message": message, "finish_reason": finish}]})).unwrap()
        };
        let e = parse(&body(json!({"content": null, "refusal": "I can't help with that"}), "stop")).unwrap_err();
        assert!(matches!(e, LlmError::Refused(ref r) if r == "I can't help with that"), "{e}");
        let e = parse(&body(json!({"content": "{\"headline\": \"Fix"}), "length")).unwrap_err();
        assert!(e.to_string().contains("token limit"), "{e}");
        let e = parse(&body(json!({"content": "Sure! Here is the plan"}), "stop")).unwrap_err();
        assert!(matches!(e, LlmError::NotJson(_)), "{e}");
        assert!(matches!(parse(b"<html>"), Err(LlmError::Protocol(_))));
        let ok = parse(&body(json!({"content": good().to_string()}), "stop")).unwrap();
        assert_eq!(ok.headline, "Fix the card form");
    }

    #[test]
    fn merging_keeps_what_px_computed() {
        let rules = json!({"source": "rules", "headline": "h", "steps": ["s"], "experiment": {
            "hypothesis": "rules", "primary_metric": "conversion to paid", "flag_key": "fix-x",
            "sessions_per_arm": 3839, "days_needed": 12.0}});
        let merged = merge(&rules, &validate(&good()).unwrap(), "llama3.1");
        assert_eq!(merged["source"], "llm");
        assert_eq!(merged["model"], "llama3.1");
        assert_eq!(merged["headline"], "Fix the card form");
        let e = &merged["experiment"];
        assert_eq!((e["sessions_per_arm"].clone(), e["days_needed"].clone()), (json!(3839), json!(12.0)));
        assert_eq!(e["flag_key"], "fix-x");
        assert_eq!(e["primary_metric"], "payment success");
        assert_eq!(e["sized_for"], "conversion to paid");
        assert_eq!(e["hypothesis"], "Fixing it restores conversion");
        let fell_back = fallback(&rules, &LlmError::Invalid("steps is not an array".into()));
        assert_eq!(fell_back["source"], "rules");
        assert_eq!(fell_back["headline"], "h");
        assert!(fell_back["llm_error"].as_str().unwrap().contains("steps is not an array"));
    }
}
