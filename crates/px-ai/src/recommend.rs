//! Recommendations by rule: for each friction kind, the concrete next steps
//! a team takes, and an experiment that proves the fix (a flag rolled out to
//! half of the affected segment, its primary metric, and the sessions it
//! needs to show the measured difference).

use crate::analyze::Finding;
use crate::insight::Impact;
use crate::signals::Subject;
use serde_json::{Value, json};

/// Sessions per arm to detect a change from `p1` to `p2` with a two-sided
/// test at 5% and 80% power (normal approximation).
pub fn sample_size(p1: f64, p2: f64) -> Option<u64> {
    const Z_ALPHA: f64 = 1.959964;
    const Z_BETA: f64 = 0.841621;
    let d = (p1 - p2).abs();
    if d < 1e-9 || !(0.0..=1.0).contains(&p1) || !(0.0..=1.0).contains(&p2) {
        return None;
    }
    let n = (Z_ALPHA + Z_BETA).powi(2) * (p1 * (1.0 - p1) + p2 * (1.0 - p2)) / (d * d);
    Some(n.ceil() as u64)
}

fn slug(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').chars().take(40).collect()
}

pub fn recommend(kind: &str, subject: &Subject, who: &str, f: &Finding, impact: &Impact) -> Value {
    let page = subject.page.as_deref().unwrap_or("the page");
    let step = subject.step.as_deref().unwrap_or("the step");
    let message = subject.message.as_deref().unwrap_or("the error");
    let element = subject.element.as_deref().unwrap_or("the element");
    let theme = subject.theme.as_deref().unwrap_or("the theme");
    let (headline, steps): (String, Vec<String>) = match kind {
        "step_failure" => (
            format!("Fix the failing {step} for {who}"),
            vec![
                format!("Reproduce \"{message}\" on {page} with {who}; the sample sessions in the evidence show the sequence."),
                "Check the release and the backend calls behind the step for the segment (logs, status codes, third-party API).".into(),
                "Ship the fix behind a flag to half of the segment and watch the step's conversion.".into(),
                "Tell affected users who gave up that they can try again.".into(),
            ],
        ),
        "conversion_drop" => (
            format!("Find out why {who} stopped completing {step}"),
            vec![
                format!("Watch the sample sessions of {who} that started and did not complete {step}."),
                "Compare what changed for the segment when the drop began: release, payment or signup provider, pricing, copy.".into(),
                "Add an exit survey on the step for the segment to hear why.".into(),
            ],
        ),
        "error_loop" | "error_spike" => (
            format!("Fix \"{message}\" on {page}"),
            vec![
                format!("Reproduce \"{message}\" on {page} for {who} and fix the cause."),
                "Show a clear, actionable message instead of failing silently, and keep what the user typed.".into(),
                "Add an alert on this error's rate so a regression is seen the same day.".into(),
            ],
        ),
        "slow_page" => (
            format!("Make {page} fast again for {who}"),
            vec![
                format!("Profile {page} on the segment's devices and network: largest element, blocking scripts, image sizes."),
                "Check what shipped when it slowed down (bundles, third-party tags, API latency).".into(),
                "Set a performance budget for LCP under 2.5 s and check it in CI.".into(),
            ],
        ),
        "rage_clicks" | "dead_clicks" => (
            format!("Make {element} on {page} respond"),
            vec![
                format!("Check that {element} on {page} works for {who} (handler bound, not covered, not disabled)."),
                "Give immediate feedback on click (loading state) when the action takes time.".into(),
                "If it is not meant to be clickable, stop it from looking clickable.".into(),
            ],
        ),
        "bounce_spike" => (
            format!("Find out why visitors leave {page} at once"),
            vec![
                format!("Load {page} as {who} would: speed, broken layout, mismatch with the ad or link that brought them."),
                "Check the traffic sources that land there for a change in intent.".into(),
            ],
        ),
        "feedback_theme" => (
            format!("Answer the \"{theme}\" complaints"),
            vec![
                format!("Read the quotes in the evidence and reproduce the \"{theme}\" problem for {who}."),
                "Link the complaint to the sessions of the people who sent it to see where they struggled.".into(),
                "Reply to the people who complained once it is fixed.".into(),
            ],
        ),
        _ => (format!("Look into the change for {who}"), vec!["Open the evidence query and the sample sessions.".into()]),
    };
    let experiment = experiment(kind, subject, who, f, impact);
    json!({"source": "rules", "headline": headline, "steps": steps, "experiment": experiment})
}

fn experiment(kind: &str, subject: &Subject, who: &str, f: &Finding, impact: &Impact) -> Value {
    let what = subject
        .step
        .as_deref()
        .or(subject.element.as_deref())
        .or(subject.page.as_deref())
        .or(subject.theme.as_deref())
        .unwrap_or(kind);
    let (metric, baseline, target) = match (&impact.outcome, impact.conversion_affected, impact.conversion_unaffected) {
        (Some(o), Some(a), Some(u)) if impact.significant => (format!("conversion to {o}"), a, u),
        _ if kind == "conversion_drop" || kind == "step_failure" => (
            format!("conversion to {}", subject.step.as_deref().unwrap_or("the step")),
            f.change.after.value,
            f.change.before.value,
        ),
        _ => (
            "sessions without the friction".to_string(),
            1.0 - f.change.after.value.min(1.0),
            1.0 - f.change.before.value.min(1.0),
        ),
    };
    let per_arm = sample_size(baseline, target);
    json!({
        "hypothesis": format!("Fixing the {} on {what} for {who} brings {metric} from {:.1}% back to {:.1}%.", kind.replace('_', " "), baseline * 100.0, target * 100.0),
        "flag_key": format!("fix-{}", slug(&format!("{kind}-{what}"))),
        "audience": who,
        "variants": [{"key": "control", "rollout": 50}, {"key": "fix", "rollout": 50}],
        "primary_metric": metric,
        "sessions_per_arm": per_arm,
        "days_needed": per_arm.map(|n| {
            let per_day = impact.affected_sessions_per_month / 30.0;
            if per_day > 0.0 { ((2.0 * n as f64) / per_day).ceil() } else { f64::NAN }
        }).filter(|d| d.is_finite()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_size_matches_the_textbook_figure() {
        // 10% -> 12%: (1.96 + 0.84)^2 * (0.09 + 0.1056) / 0.0004 = 3839.
        let n = sample_size(0.10, 0.12).unwrap_or(0);
        assert!((3830..=3845).contains(&n), "{n}");
        assert_eq!(sample_size(0.5, 0.5), None);
    }

    #[test]
    fn slugs_are_flag_keys() {
        assert_eq!(slug("step_failure-/checkout/payment"), "step-failure-checkout-payment");
    }
}
