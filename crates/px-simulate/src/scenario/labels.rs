//! The ground truth of a scenario run: for each friction, what it was, where
//! and when it applied, and how many sessions and persons it actually
//! changed, counted while generating (a friction drawn but without effect,
//! like a failure probability that did not fire, is not counted).

use super::{Effect, Injector, Segment, Step};
use crate::calendar::VERSIONS;
use crate::catalog::channels::CHANNELS;
use crate::emit::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;

/// Labels of one scenario run, as written by `px simulate --labels`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Labels {
    pub scenario: String,
    pub description: String,
    pub seed: u64,
    pub frictions: Vec<FrictionLabel>,
}

/// One injected friction and its measured reach.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrictionLabel {
    /// Position in the scenario file's `[[friction]]` list.
    pub index: usize,
    pub kind: &'static str,
    /// `"friction"` (visitors are hurt) or `"anomaly"` (a change worth
    /// knowing about that hurts no one: a traffic spike).
    pub insight_type: &'static str,
    /// Dimension -> value, as in the file (empty: everyone); for a traffic
    /// spike from one channel, the `source` analyses see for it.
    pub segment: BTreeMap<&'static str, String>,
    /// RFC 3339; a session is in the window when its first event is (but
    /// for the rare session whose start crosses a boundary when generated
    /// again without the frictions it turned out to be outside of).
    pub start: String,
    /// `None`: until the end of the run.
    pub end: Option<String>,
    pub page: Option<&'static str>,
    pub step: Option<&'static str>,
    /// CSS selector of the element.
    pub element: Option<&'static str>,
    /// Feedback theme.
    pub theme: Option<String>,
    /// The error message an `error_loop` repeats.
    pub message: Option<String>,
    /// The acquisition channel of a `traffic_spike`, when it names one
    /// (`hacker-news`).
    pub channel: Option<&'static str>,
    /// Sessions the friction changed; for a traffic spike, the sessions of
    /// the extra visitors it brought.
    pub affected_sessions: u64,
    pub affected_persons: u64,
}

impl Injector {
    /// The labels so far; complete once the simulator is done.
    pub(crate) fn labels(&self, seed: u64) -> Labels {
        let frictions = self
            .scenario
            .frictions
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (start, end) = self.windows[i];
                let (page, step, element, theme) = match &f.effect {
                    Effect::StepFailure { step, .. } | Effect::ConversionDrop { step, .. } => {
                        (Some(step.page().path()), Some(step.name()), None, None)
                    }
                    Effect::SlowPage { page, .. } => (Some(page.path()), None, None, None),
                    Effect::RageClicks { page, element, .. } => (Some(page.path()), None, Some(element.selector), None),
                    Effect::FeedbackTheme { theme, .. } => (None, None, None, Some(theme.clone())),
                    Effect::ErrorLoop { form, .. } => {
                        let step = Step::on(form.page).map(Step::name);
                        (Some(form.page.path()), step, Some(form.submit.selector), None)
                    }
                    Effect::TrafficSpike { .. } => (None, None, None, None),
                };
                let message = match &f.effect {
                    Effect::ErrorLoop { message, .. } => Some(message.clone()),
                    _ => None,
                };
                let channel = match f.effect {
                    Effect::TrafficSpike { channel, .. } => channel.and_then(|c| CHANNELS.get(c)).map(|c| c.name),
                    _ => None,
                };
                let mut segment = segment(&f.segment);
                if let Some(source) = match f.effect {
                    Effect::TrafficSpike { channel, .. } => {
                        channel.and_then(|c| CHANNELS.get(c)).and_then(|c| c.source())
                    }
                    _ => None,
                } {
                    segment.insert("source", source.to_string());
                }
                FrictionLabel {
                    index: i,
                    kind: f.effect.kind(),
                    insight_type: f.effect.insight_type(),
                    segment,
                    start: rfc3339(start),
                    end: (end != i64::MAX).then(|| rfc3339(end)),
                    page,
                    step,
                    element,
                    theme,
                    message,
                    channel,
                    affected_sessions: self.sessions[i],
                    affected_persons: self.persons[i].len() as u64,
                }
            })
            .collect();
        Labels { scenario: self.scenario.name.clone(), description: self.scenario.description.clone(), seed, frictions }
    }
}

fn segment(s: &Segment) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    let mut put = |k: &'static str, v: Option<&str>| {
        if let Some(v) = v {
            out.insert(k, v.to_string());
        }
    };
    put("browser", s.browser.map(|b| b.name()));
    put("os", s.os.map(|o| o.name()));
    put("device_type", s.device_type.map(|d| d.name()));
    put("country", s.country);
    put("plan", s.plan.map(|p| p.name()));
    put("app_version", s.app_version.and_then(|v| VERSIONS.get(v).copied()));
    out
}
