//! What PX sends the LLM: a system prompt stating the task, and the
//! insight's facts as JSON with the rules' recommendation as a starting
//! point, asking for a strict JSON schema.
//!
//! The facts are the cache key, so they hold only what is stable from one
//! pass to the next: figures rounded to two significant digits, and no
//! text that prints figures (the title, the summary, the rules'
//! hypothesis) since those change with every new session. Nothing about a
//! person leaves PX: no ids, sessions or feedback quotes, only the
//! subject (page, step, error message, element, theme), the segment and
//! aggregates.
//!
//! The schema keeps to what every strict implementation accepts (all
//! fields required, no other fields, no length or count keywords); the
//! limits are stated in the descriptions and checked in `answer`.

use super::answer::{MAX_HEADLINE, MAX_HYPOTHESIS, MAX_METRIC, MAX_STEP, MAX_STEPS};
use crate::insight::Draft;
use serde_json::{Value, json};

/// The `json_schema` name the answer is asked under.
pub const SCHEMA_NAME: &str = "px_recommendation";

const SYSTEM: &str = "You are the product analyst of PX, a product analytics platform. \
PX found a problem in a product from its users' sessions and measured whom it affects and what it costs. \
Tell the product team what to do next.

You get the insight's facts as JSON: its kind; its subject (the page, funnel step, error message, \
element or feedback theme it is about); the segment of users affected; the measured change (rates are \
fractions from 0 to 1); the impact per month; and PX's rule-based recommendation as a starting point.

Answer with JSON only, in the given schema:
- headline: the one thing to do, at most 200 characters.
- steps: 1 to 8 concrete steps in the order to take them, each at most 400 characters, specific to this \
subject and segment; improve on the starting point rather than repeat it.
- experiment.hypothesis: what the fix changes, for whom, and from what to what, using only figures in \
the facts; at most 400 characters.
- experiment.primary_metric: the one metric that shows the fix worked; at most 200 characters.

Do not invent figures, causes or product details that the facts do not give: when the cause is unknown, \
say what to check. Do not size the experiment: PX computes the sessions it needs. Plain text, no markdown.";

/// The facts about `draft` the LLM reads; see the module doc for what is
/// left out and why.
pub fn facts(draft: &Draft) -> Value {
    let m = &draft.metrics;
    let i = &draft.impact;
    let rules = &draft.recommendation;
    json!({
        "kind": draft.kind,
        "type": draft.insight_type,
        "priority": draft.priority,
        "subject": draft.subject,
        "segment": draft.segment,
        "audience": rules["experiment"]["audience"],
        "metrics": {
            "measure": m["measure"],
            "before": round(m["before"]["value"].as_f64()),
            "after": round(m["after"]["value"].as_f64()),
            "ratio": round(m["ratio"].as_f64()),
        },
        "impact": {
            "affected_sessions_per_month": round(Some(i.affected_sessions_per_month)),
            "outcome": i.outcome,
            "conversion_affected": round(i.conversion_affected),
            "conversion_unaffected": round(i.conversion_unaffected),
            "difference_significant": i.significant,
            "lost_conversions_per_month": round(i.lost_conversions_per_month),
            "revenue_at_stake_per_month": round(i.money_per_month),
        },
        "starting_point": {
            "headline": rules["headline"],
            "steps": rules["steps"],
            "primary_metric": rules["experiment"]["primary_metric"],
        },
    })
}

/// Two significant digits: close enough to reason on, and stable across
/// passes so the cache answers.
fn round(x: Option<f64>) -> Value {
    match x {
        Some(x) if x.is_finite() => format!("{x:.1e}").parse::<f64>().map_or(Value::Null, |r| json!(r)),
        _ => Value::Null,
    }
}

/// The schema of the answer (see `answer::validate`).
pub fn schema() -> Value {
    let text = |description: String| json!({"type": "string", "description": description});
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["headline", "steps", "experiment"],
        "properties": {
            "headline": text(format!("The one thing to do, at most {MAX_HEADLINE} characters.")),
            "steps": {
                "type": "array",
                "description": format!("1 to {MAX_STEPS} concrete steps, in order."),
                "items": text(format!("One step, at most {MAX_STEP} characters.")),
            },
            "experiment": {
                "type": "object",
                "additionalProperties": false,
                "required": ["hypothesis", "primary_metric"],
                "properties": {
                    "hypothesis": text(format!("What the fix changes, for whom, from what to what; at most {MAX_HYPOTHESIS} characters.")),
                    "primary_metric": text(format!("The metric that shows the fix worked; at most {MAX_METRIC} characters.")),
                },
            },
        },
    })
}

/// The chat completion request for `facts` (the JSON text of [`facts`]).
pub fn request(model: &str, facts: &str) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": format!("The insight's facts:\n{facts}")},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": true, "schema": schema()},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::Impact;

    fn draft(after: f64, per_month: f64) -> Draft {
        Draft {
            insight_type: "friction",
            kind: "step_failure",
            title: format!("payment_completed is failing for browser Chrome: fell from 62.0% to {:.1}%", after * 100.0),
            summary: "z = 9.1; 48 slices tried".into(),
            subject: json!({"step": "payment_completed", "page": "/checkout"}),
            segment: vec![json!({"dimension": "browser", "value": "Chrome"})],
            change_at: "2025-05-10T00:00:00Z".into(),
            metrics: json!({"measure": "conversion", "before": {"units": 900.0, "value": 0.62},
                            "after": {"units": 300.0, "value": after}, "ratio": after / 0.62}),
            impact: Impact {
                affected_sessions_per_month: per_month,
                money_per_month: Some(4321.0),
                ..Default::default()
            },
            priority: "high",
            recommendation: json!({"source": "rules", "headline": "Fix the failing payment_completed",
                "steps": ["Reproduce it"], "experiment": {"audience": "browser Chrome",
                "primary_metric": "conversion to payment_completed", "hypothesis": format!("... {after}")}}),
            evidence: json!({"sample_persons": ["p-123"], "quotes": ["my card was refused"]}),
            key: "friction|step=payment_completed|browser=Chrome".into(),
            reach: 0.0,
        }
    }

    #[test]
    fn figures_are_rounded_so_small_drifts_keep_the_facts() {
        assert_eq!(facts(&draft(0.4012, 12_340.0)), facts(&draft(0.4049, 12_410.0)));
        assert_ne!(facts(&draft(0.40, 12_340.0)), facts(&draft(0.30, 12_340.0)));
        let f = facts(&draft(0.4012, 12_340.0));
        assert_eq!(f["metrics"]["after"], json!(0.4));
        assert_eq!(f["impact"]["affected_sessions_per_month"], json!(12000.0));
        assert_eq!(f["impact"]["revenue_at_stake_per_month"], json!(4300.0));
    }

    #[test]
    fn nothing_about_a_person_is_sent() {
        let text = facts(&draft(0.4, 100.0)).to_string();
        assert!(!text.contains("p-123") && !text.contains("card was refused"), "{text}");
        assert!(text.contains("/checkout") && text.contains("Chrome"), "{text}");
    }

    #[test]
    fn the_request_asks_for_the_strict_schema() {
        let r = request("m", "{}");
        let format = &r["response_format"];
        assert_eq!(format["type"], "json_schema");
        assert_eq!(format["json_schema"]["strict"], true);
        assert_eq!(format["json_schema"]["schema"]["required"], json!(["headline", "steps", "experiment"]));
        assert_eq!(r["messages"][0]["role"], "system");
    }
}
