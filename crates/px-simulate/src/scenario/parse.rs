//! Reading a scenario file. TOML is first read into loose `Raw*` structs
//! (unknown keys rejected by serde, which names them), then checked field by
//! field into a [`Scenario`]; every check names the field it rejects
//! (`friction[2].segment.country`), so a scenario author never has to read
//! code to fix a file.

use super::{Effect, Friction, Scenario, ScenarioError, Segment, Step, Text, When};
use crate::calendar::{DAY_MICROS, VERSIONS};
use crate::catalog::Plan;
use crate::catalog::devices::{Browser, DeviceType, Os};
use crate::catalog::elements::{EXPORT_BUTTON, Element, PAY_BUTTON};
use crate::catalog::geo::COUNTRIES;
use crate::catalog::pages::Page;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    friction: Vec<RawFriction>,
}

/// Every kind's parameters side by side; [`parameters`] checks that a
/// friction sets only its own kind's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFriction {
    kind: String,
    start: String,
    end: Option<String>,
    #[serde(default)]
    segment: RawSegment,
    step: Option<String>,
    page: Option<String>,
    element: Option<String>,
    probability: Option<f64>,
    factor: Option<f64>,
    bounce: Option<f64>,
    theme: Option<String>,
    rate: Option<f64>,
    texts: Option<Vec<RawText>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    browser: Option<String>,
    os: Option<String>,
    device_type: Option<String>,
    country: Option<String>,
    plan: Option<String>,
    app_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawText {
    en: String,
    pt_br: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid { field: field.into(), message: message.into() }
}

impl Scenario {
    /// Parses and checks a scenario file's text.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(text)?;
        if raw.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        let frictions: Result<Vec<Friction>, ScenarioError> =
            raw.friction.into_iter().enumerate().map(|(i, f)| friction(f, &format!("friction[{i}]"))).collect();
        Ok(Scenario { name: raw.name, description: raw.description, frictions: frictions? })
    }

    /// Number of frictions (zero for a clean scenario).
    pub fn len(&self) -> usize {
        self.frictions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frictions.is_empty()
    }
}

fn friction(raw: RawFriction, at: &str) -> Result<Friction, ScenarioError> {
    let start = when(&raw.start, &format!("{at}.start"))?;
    let end = raw.end.as_deref().map(|e| when(e, &format!("{at}.end"))).transpose()?;
    // Mixed kinds (offset and RFC 3339) can only be compared against a run;
    // such a window may turn out empty, which injects nothing.
    let ends_first = match (start, end) {
        (When::Offset(s), Some(When::Offset(e))) | (When::At(s), Some(When::At(e))) => e <= s,
        _ => false,
    };
    if ends_first {
        return Err(invalid(format!("{at}.end"), "must be after start"));
    }
    let segment = segment(&raw.segment, &format!("{at}.segment"))?;
    let effect = effect(&raw, at)?;
    Ok(Friction { effect, start, end, segment })
}

fn effect(raw: &RawFriction, at: &str) -> Result<Effect, ScenarioError> {
    let field = |name: &str| format!("{at}.{name}");
    let kind = raw.kind.as_str();
    let effect = match kind {
        "step_failure" => {
            parameters(raw, at, &["step", "probability"])?;
            let step = match required(raw.step.as_deref(), &field("step"))? {
                "signup_completed" => Step::SignupCompleted,
                "checkout_completed" => Step::CheckoutCompleted,
                other => {
                    return Err(invalid(
                        field("step"),
                        format!("unknown step {other:?} (expected signup_completed or checkout_completed)"),
                    ));
                }
            };
            Effect::StepFailure { step, probability: probability(raw.probability, &field("probability"))? }
        }
        "slow_page" => {
            parameters(raw, at, &["page", "factor", "bounce"])?;
            let factor = required(raw.factor, &field("factor"))?;
            if !(1.0..=100.0).contains(&factor) {
                return Err(invalid(field("factor"), "must be between 1 and 100 (a slower page)"));
            }
            let bounce = raw.bounce.map_or(Ok(0.0), |b| probability(Some(b), &field("bounce")))?;
            Effect::SlowPage { page: page(raw, at)?, factor, bounce }
        }
        "rage_clicks" => {
            parameters(raw, at, &["page", "element", "probability"])?;
            let page = page(raw, at)?;
            let selector = required(raw.element.as_deref(), &field("element"))?;
            let element = page_elements(page).find(|e| e.selector == selector).ok_or_else(|| {
                let known: Vec<&str> = page_elements(page).map(|e| e.selector).collect();
                invalid(field("element"), format!("no {selector:?} on {} (expected one of {known:?})", page.path()))
            })?;
            Effect::RageClicks { page, element, probability: probability(raw.probability, &field("probability"))? }
        }
        "conversion_drop" => {
            parameters(raw, at, &["factor"])?;
            let factor = required(raw.factor, &field("factor"))?;
            if !(0.0..1.0).contains(&factor) {
                return Err(invalid(field("factor"), "must be at least 0 and below 1 (a drop)"));
            }
            Effect::ConversionDrop { factor }
        }
        "feedback_theme" => {
            parameters(raw, at, &["theme", "texts", "rate"])?;
            let theme = required(raw.theme.as_deref(), &field("theme"))?.to_string();
            let texts: Vec<Text> = required(raw.texts.as_ref(), &field("texts"))?
                .iter()
                .map(|t| Text { en: t.en.clone(), pt_br: t.pt_br.clone() })
                .collect();
            if let Some(i) = texts.iter().position(|t| t.en.trim().is_empty() || t.pt_br.trim().is_empty()) {
                return Err(invalid(format!("{at}.texts[{i}]"), "en and pt_br must not be empty"));
            }
            if texts.is_empty() {
                return Err(invalid(field("texts"), "needs at least one text"));
            }
            Effect::FeedbackTheme { theme, texts, rate: probability(raw.rate, &field("rate"))? }
        }
        other => {
            return Err(invalid(
                field("kind"),
                format!(
                    "unknown kind {other:?} (expected step_failure, slow_page, rage_clicks, conversion_drop or \
                     feedback_theme)"
                ),
            ));
        }
    };
    Ok(effect)
}

/// Rejects parameters set on a friction whose kind does not take them: a
/// `factor` on a `rage_clicks` is a mistake the author wants to hear about.
fn parameters(raw: &RawFriction, at: &str, allowed: &[&str]) -> Result<(), ScenarioError> {
    let set = [
        ("step", raw.step.is_some()),
        ("page", raw.page.is_some()),
        ("element", raw.element.is_some()),
        ("probability", raw.probability.is_some()),
        ("factor", raw.factor.is_some()),
        ("bounce", raw.bounce.is_some()),
        ("theme", raw.theme.is_some()),
        ("rate", raw.rate.is_some()),
        ("texts", raw.texts.is_some()),
    ];
    match set.iter().find(|(name, is_set)| *is_set && !allowed.contains(name)) {
        Some((name, _)) => Err(invalid(format!("{at}.{name}"), format!("not a parameter of {}", raw.kind))),
        None => Ok(()),
    }
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ScenarioError> {
    value.ok_or_else(|| invalid(field, "is required"))
}

fn probability(value: Option<f64>, field: &str) -> Result<f64, ScenarioError> {
    let p = required(value, field)?;
    if (0.0..=1.0).contains(&p) { Ok(p) } else { Err(invalid(field, "must be between 0 and 1")) }
}

fn page(raw: &RawFriction, at: &str) -> Result<Page, ScenarioError> {
    let field = format!("{at}.page");
    let path = required(raw.page.as_deref(), &field)?;
    Page::from_path(path).ok_or_else(|| invalid(field, format!("no page at {path:?} (e.g. \"/app/reports\")")))
}

/// What a visitor can click on `page`, including the buttons the built-in
/// frictions use.
fn page_elements(page: Page) -> impl Iterator<Item = Element> {
    let special = match page {
        Page::Reports => Some(EXPORT_BUTTON),
        Page::Payment => Some(PAY_BUTTON),
        _ => None,
    };
    page.elements().iter().copied().chain(special)
}

/// `"day 5"`, `"5d 12h"`, `"90m"` (offsets from the run's start) or an RFC
/// 3339 time.
fn when(text: &str, field: &str) -> Result<When, ScenarioError> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(When::At(t.timestamp_micros()));
    }
    let bad = || invalid(field, format!("{text:?} is not \"day N\", an offset like \"5d 12h\" or an RFC 3339 time"));
    if let Some(days) = text.strip_prefix("day ") {
        let days: i64 = days.trim().parse().map_err(|_| bad())?;
        return if days >= 0 { Ok(When::Offset(days * DAY_MICROS)) } else { Err(bad()) };
    }
    let mut total = 0i64;
    for part in text.split_whitespace() {
        let unit = match part.chars().last() {
            Some('d') => DAY_MICROS,
            Some('h') => 3_600_000_000,
            Some('m') => 60_000_000,
            _ => return Err(bad()),
        };
        let n: i64 = part[..part.len() - 1].parse().map_err(|_| bad())?;
        if n < 0 {
            return Err(bad());
        }
        total = total.saturating_add(n.saturating_mul(unit));
    }
    if text.is_empty() { Err(bad()) } else { Ok(When::Offset(total)) }
}

fn segment(raw: &RawSegment, at: &str) -> Result<Segment, ScenarioError> {
    fn one_of<T: Copy>(
        value: Option<&str>,
        field: String,
        all: &[T],
        name: impl Fn(T) -> &'static str,
    ) -> Result<Option<T>, ScenarioError> {
        let Some(value) = value else { return Ok(None) };
        all.iter().copied().find(|&t| name(t).eq_ignore_ascii_case(value)).map(Some).ok_or_else(|| {
            let known: Vec<&str> = all.iter().map(|&t| name(t)).collect();
            invalid(field, format!("unknown value {value:?} (expected one of {known:?})"))
        })
    }
    let field = |name: &str| format!("{at}.{name}");
    let countries: Vec<&'static str> = COUNTRIES.iter().map(|c| c.code).collect();
    let plans = [Plan::Free, Plan::Pro, Plan::Business];
    let versions: Vec<usize> = (0..VERSIONS.len()).collect();
    Ok(Segment {
        browser: one_of(raw.browser.as_deref(), field("browser"), &Browser::ALL, Browser::name)?,
        os: one_of(raw.os.as_deref(), field("os"), &Os::ALL, Os::name)?,
        device_type: one_of(raw.device_type.as_deref(), field("device_type"), &DeviceType::ALL, DeviceType::name)?,
        country: one_of(raw.country.as_deref(), field("country"), &countries, |c| c)?,
        plan: one_of(raw.plan.as_deref(), field("plan"), &plans, Plan::name)?,
        app_version: one_of(raw.app_version.as_deref(), field("app_version"), &versions, |i| VERSIONS[i])?,
    })
}
