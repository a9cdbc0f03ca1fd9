//! Reading a scenario file. TOML is first read into loose `Raw*` structs
//! (unknown keys rejected by serde, which names them), then checked field by
//! field into a [`Scenario`]; every check names the field it rejects
//! (`friction[2].segment.country`), so a scenario author never has to read
//! code to fix a file.

use super::{Effect, Friction, RunSettings, Scenario, ScenarioError, Segment, Step, Text, When};
use crate::calendar::{DAY_MICROS, VERSIONS};
use crate::catalog::Plan;
use crate::catalog::channels::{self, CHANNELS};
use crate::catalog::devices::{Browser, DeviceType, Os};
use crate::catalog::elements::{EXPORT_BUTTON, Element, PAY_BUTTON};
use crate::catalog::forms::{self, FORMS};
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
    builtin_frictions: bool,
    run: Option<RawRun>,
    #[serde(default)]
    friction: Vec<RawFriction>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRun {
    days: Option<u32>,
    visitors_per_day: Option<u32>,
    seed: Option<u64>,
    start: Option<String>,
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
    message: Option<String>,
    repeats: Option<u32>,
    channel: Option<String>,
}

#[derive(Deserialize, Default, PartialEq)]
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
        let run = run(raw.run.unwrap_or_default())?;
        let frictions: Result<Vec<Friction>, ScenarioError> =
            raw.friction.into_iter().enumerate().map(|(i, f)| friction(f, &format!("friction[{i}]"), &run)).collect();
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            builtin_frictions: raw.builtin_frictions,
            run,
            frictions: frictions?,
        })
    }

    /// The run the scenario is written for (its `[run]` table, defaults
    /// applied). Callers may override any of it; frictions timed as offsets
    /// ("day 11") then move with the start, and fall outside a shorter run.
    pub fn run(&self) -> RunSettings {
        self.run
    }

    /// Number of frictions (zero for a clean scenario).
    pub fn len(&self) -> usize {
        self.frictions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frictions.is_empty()
    }
}

fn run(raw: RawRun) -> Result<RunSettings, ScenarioError> {
    let d = RunSettings::default();
    let days = raw.days.unwrap_or(d.days);
    if !RunSettings::DAYS.contains(&days) {
        let (lo, hi) = (RunSettings::DAYS.start(), RunSettings::DAYS.end());
        return Err(invalid("run.days", format!("{days} is not between {lo} and {hi}")));
    }
    let visitors_per_day = raw.visitors_per_day.unwrap_or(d.visitors_per_day);
    if !RunSettings::VISITORS_PER_DAY.contains(&visitors_per_day) {
        let (lo, hi) = (RunSettings::VISITORS_PER_DAY.start(), RunSettings::VISITORS_PER_DAY.end());
        return Err(invalid("run.visitors_per_day", format!("{visitors_per_day} is not between {lo} and {hi}")));
    }
    let start = match raw.start.as_deref() {
        None => None,
        Some(text) => {
            let date = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| invalid("run.start", format!("{text:?} is not a date (YYYY-MM-DD)")))?;
            Some(date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_micros())
        }
    };
    Ok(RunSettings { days, visitors_per_day, seed: raw.seed.unwrap_or(d.seed), start })
}

fn friction(raw: RawFriction, at: &str, run: &RunSettings) -> Result<Friction, ScenarioError> {
    let start = when(&raw.start, &format!("{at}.start"))?;
    // An offset past the run's end would inject nothing: a mistake, or a
    // file written for a longer run.
    if let When::Offset(offset) = start
        && offset >= i64::from(run.days) * DAY_MICROS
    {
        let message = format!("{:?} is after the run's last day (run.days = {})", raw.start.trim(), run.days);
        return Err(invalid(format!("{at}.start"), message));
    }
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
            let step = step(required(raw.step.as_deref(), &field("step"))?, &field("step"))?;
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
            parameters(raw, at, &["factor", "step"])?;
            let factor = required(raw.factor, &field("factor"))?;
            if !(0.0..1.0).contains(&factor) {
                return Err(invalid(field("factor"), "must be at least 0 and below 1 (a drop)"));
            }
            let step = raw.step.as_deref().map_or(Ok(Step::CheckoutCompleted), |s| step(s, &field("step")))?;
            Effect::ConversionDrop { step, factor }
        }
        "error_loop" => {
            parameters(raw, at, &["page", "message", "probability", "repeats"])?;
            let page = page(raw, at)?;
            let form = forms::on(page).ok_or_else(|| {
                let known: Vec<&str> = FORMS.iter().map(|f| f.page.path()).collect();
                invalid(field("page"), format!("no form on {:?} (expected one of {known:?})", page.path()))
            })?;
            let message = match raw.message.as_deref().map(str::trim) {
                None => form.default_message.to_string(),
                Some("") => return Err(invalid(field("message"), "must not be empty")),
                Some(m) => m.to_string(),
            };
            let repeats = raw.repeats.unwrap_or(4);
            if !(2..=20).contains(&repeats) {
                return Err(invalid(field("repeats"), "must be between 2 and 20 (a loop)"));
            }
            let probability = probability(raw.probability, &field("probability"))?;
            Effect::ErrorLoop { form, message, probability, repeats }
        }
        "traffic_spike" => {
            parameters(raw, at, &["factor", "channel"])?;
            let factor = required(raw.factor, &field("factor"))?;
            if !(1.5..=20.0).contains(&factor) {
                return Err(invalid(field("factor"), "must be between 1.5 and 20 (times the usual new visitors)"));
            }
            let channel = match raw.channel.as_deref() {
                None => None,
                Some(name) => Some(channels::by_name(name).ok_or_else(|| {
                    let known: Vec<&str> = CHANNELS.iter().map(|c| c.name).collect();
                    invalid(field("channel"), format!("unknown channel {name:?} (expected one of {known:?})"))
                })?),
            };
            if raw.segment != RawSegment::default() {
                return Err(invalid(
                    field("segment"),
                    "a traffic_spike brings new visitors of every kind (no segment)",
                ));
            }
            Effect::TrafficSpike { factor, channel }
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
                    "unknown kind {other:?} (expected step_failure, slow_page, rage_clicks, conversion_drop, \
                     feedback_theme, error_loop or traffic_spike)"
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
        ("message", raw.message.is_some()),
        ("repeats", raw.repeats.is_some()),
        ("channel", raw.channel.is_some()),
    ];
    match set.iter().find(|(name, is_set)| *is_set && !allowed.contains(name)) {
        Some((name, _)) => Err(invalid(format!("{at}.{name}"), format!("not a parameter of {}", raw.kind))),
        None => Ok(()),
    }
}

fn step(name: &str, field: &str) -> Result<Step, ScenarioError> {
    match name {
        "signup_completed" => Ok(Step::SignupCompleted),
        "checkout_completed" => Ok(Step::CheckoutCompleted),
        other => {
            Err(invalid(field, format!("unknown step {other:?} (expected signup_completed or checkout_completed)")))
        }
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
