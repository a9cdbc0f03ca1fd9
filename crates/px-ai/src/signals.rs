//! Signals: the per-subject measures the detectors watch, built from a
//! [`Dataset`]. A signal is either a rate (of a population of sessions, the
//! share that hit something: completed a step, met an error, rage-clicked an
//! element, bounced, complained about a theme) or a distribution (LCP of a
//! page), so one change test and one root-cause search serve them all.

use crate::features::{ClickKind, Dataset};
use crate::text::{self, Feedback, ThemeOptions};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What kind of measure a signal is; it also names the friction when the
/// signal changes for the worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Sessions that started a step and completed it.
    Conversion,
    /// Sessions that met an error loop: the same error three or more times
    /// on one page within two minutes.
    ErrorLoop,
    /// Sessions that met an error.
    Error,
    /// LCP of page views of a page.
    Lcp,
    RageClicks,
    DeadClicks,
    /// Sessions landing on a page that left at once.
    Bounce,
    /// Sessions that left feedback of a negative theme.
    Feedback,
}

impl Measure {
    /// Whether a higher value is worse (everything but conversion).
    pub fn higher_is_worse(self) -> bool {
        self != Measure::Conversion
    }
}

/// What the signal is about. Fields not relevant to it are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Subject {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
}

/// Which sessions a rate is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Population {
    All,
    /// Sessions that viewed the page (path id).
    Viewed(u32),
    /// Sessions whose first page view was the page.
    Entered(u32),
    /// Sessions that did key event `i`.
    Did(usize),
}

#[derive(Debug, Clone)]
pub enum Values {
    /// The sessions of `population` that hit (sorted, distinct).
    Rate { population: Population, hits: Vec<u32> },
    /// (session, value) observations; the tests run on their logarithm.
    Distribution(Vec<(u32, f64)>),
}

#[derive(Debug, Clone)]
pub struct Signal {
    pub measure: Measure,
    pub subject: Subject,
    pub values: Values,
    /// Representative feedback texts (feedback signals).
    pub quotes: Vec<String>,
}

/// Least sessions (rates) or observations (distributions) a signal needs
/// over the window to be watched at all: below it nothing is significant.
pub const MIN_UNITS: usize = 60;
/// An error loop: the same message this many times on one page...
pub const LOOP_REPEATS: u32 = 3;
/// ...within this span.
pub const LOOP_SPAN_MICROS: i64 = 120 * px_core::time::MICROS_PER_SECOND;
/// Feedback themes below this mean sentiment are complaints.
const COMPLAINT_SENTIMENT: f64 = -0.1;

/// The sessions of each population, built once and shared by its signals.
pub fn population_members(data: &Dataset, population: Population) -> Vec<u32> {
    match population {
        Population::All => (0..data.sessions.len() as u32).collect(),
        Population::Viewed(p) => {
            let mut v: Vec<u32> = data.page_views.iter().filter(|(_, path)| *path == p).map(|(s, _)| *s).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        Population::Entered(p) => {
            (0..data.sessions.len() as u32).filter(|&s| data.sessions[s as usize].entry == p).collect()
        }
        Population::Did(i) => {
            (0..data.sessions.len() as u32).filter(|&s| data.sessions[s as usize].steps & (1 << i) != 0).collect()
        }
    }
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

fn path(data: &Dataset, id: u32) -> Option<String> {
    data.paths.name(id).map(str::to_string)
}

/// Every signal of the dataset worth watching.
pub fn build(data: &Dataset, seed: u64) -> Vec<Signal> {
    let mut out = Vec::new();
    conversions(data, &mut out);
    errors(data, &mut out);
    clicks(data, &mut out);
    pages(data, &mut out);
    feedback(data, seed, &mut out);
    out.retain(|s| match &s.values {
        Values::Rate { hits, .. } => !hits.is_empty(),
        Values::Distribution(v) => v.len() >= MIN_UNITS,
    });
    out
}

fn conversions(data: &Dataset, out: &mut Vec<Signal>) {
    for &(started, completed) in &data.pairs {
        let hits = (0..data.sessions.len() as u32)
            .filter(|&s| {
                let bits = data.sessions[s as usize].steps;
                bits & (1 << started) != 0 && bits & (1 << completed) != 0
            })
            .collect();
        out.push(Signal {
            measure: Measure::Conversion,
            subject: Subject {
                step: Some(data.key_events[completed].clone()),
                from_step: Some(data.key_events[started].clone()),
                ..Default::default()
            },
            values: Values::Rate { population: Population::Did(started), hits },
            quotes: Vec::new(),
        });
    }
}

fn errors(data: &Dataset, out: &mut Vec<Signal>) {
    // A message is reported on the page it happens on most, over the
    // sessions that viewed that page and as met there: a shift of traffic
    // between pages, or sessions that browse more pages and so meet a
    // background error elsewhere, is not read as more errors.
    let mut by_message: HashMap<u32, HashMap<u32, Vec<u32>>> = HashMap::new();
    let mut loops: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for e in &data.errors {
        by_message.entry(e.message).or_default().entry(e.path).or_default().push(e.session);
        if e.count >= LOOP_REPEATS && e.span <= LOOP_SPAN_MICROS {
            loops.entry((e.message, e.path)).or_default().push(e.session);
        }
    }
    for (message, pages) in by_message {
        let Some((&page, _)) = pages.iter().max_by_key(|(p, s)| (s.len(), std::cmp::Reverse(**p))) else { continue };
        let viewed = page != 0 && data.page_views.iter().any(|&(_, v)| v == page);
        let (population, hits) = if viewed {
            (Population::Viewed(page), pages.get(&page).cloned().unwrap_or_default())
        } else {
            (Population::All, pages.into_values().flatten().collect())
        };
        out.push(Signal {
            measure: Measure::Error,
            subject: Subject {
                message: data.messages.name(message).map(str::to_string),
                page: path(data, page),
                ..Default::default()
            },
            values: Values::Rate { population, hits: sorted(hits) },
            quotes: Vec::new(),
        });
    }
    for ((message, page), sessions) in loops {
        out.push(Signal {
            measure: Measure::ErrorLoop,
            subject: Subject {
                message: data.messages.name(message).map(str::to_string),
                page: path(data, page),
                ..Default::default()
            },
            values: Values::Rate { population: Population::Viewed(page), hits: sorted(sessions) },
            quotes: Vec::new(),
        });
    }
}

fn clicks(data: &Dataset, out: &mut Vec<Signal>) {
    let mut by_element: HashMap<(u32, u32, ClickKind), Vec<u32>> = HashMap::new();
    for c in &data.clicks {
        by_element.entry((c.path, c.selector, c.kind)).or_default().push(c.session);
    }
    for ((page, selector, kind), sessions) in by_element {
        out.push(Signal {
            measure: if kind == ClickKind::Rage { Measure::RageClicks } else { Measure::DeadClicks },
            subject: Subject {
                page: path(data, page),
                element: data.selectors.name(selector).map(str::to_string),
                ..Default::default()
            },
            values: Values::Rate { population: Population::Viewed(page), hits: sorted(sessions) },
            quotes: Vec::new(),
        });
    }
}

fn pages(data: &Dataset, out: &mut Vec<Signal>) {
    let mut lcp: HashMap<u32, Vec<(u32, f64)>> = HashMap::new();
    for &(s, p, v) in &data.lcp {
        lcp.entry(p).or_default().push((s, v));
    }
    for (page, values) in lcp {
        out.push(Signal {
            measure: Measure::Lcp,
            subject: Subject { page: path(data, page), ..Default::default() },
            values: Values::Distribution(values),
            quotes: Vec::new(),
        });
    }
    let entries: HashSet<u32> = data.sessions.iter().map(|s| s.entry).filter(|&e| e != 0).collect();
    for page in entries {
        let hits = (0..data.sessions.len() as u32)
            .filter(|&s| {
                let s = &data.sessions[s as usize];
                s.entry == page && s.bounced
            })
            .collect();
        out.push(Signal {
            measure: Measure::Bounce,
            subject: Subject { page: path(data, page), ..Default::default() },
            values: Values::Rate { population: Population::Entered(page), hits },
            quotes: Vec::new(),
        });
    }
}

fn feedback(data: &Dataset, seed: u64, out: &mut Vec<Signal>) {
    let rows: Vec<&crate::features::FeedbackRow> =
        data.feedback.iter().filter(|f| !f.comment.trim().is_empty()).collect();
    if rows.len() < 3 {
        return;
    }
    let texts: Vec<Feedback<'_>> = rows.iter().map(|f| Feedback { text: &f.comment, rating: f.rating }).collect();
    let options = ThemeOptions { seed, ..ThemeOptions::default() };
    for theme in text::themes(&texts, &text::TfIdf, &options) {
        if theme.sentiment >= COMPLAINT_SENTIMENT {
            continue;
        }
        let hits = sorted(theme.members.iter().map(|&i| rows[i].session).collect());
        out.push(Signal {
            measure: Measure::Feedback,
            subject: Subject { theme: Some(theme.label.clone()), ..Default::default() },
            values: Values::Rate { population: Population::All, hits },
            quotes: theme.quotes.iter().map(|&i| rows[i].comment.clone()).collect(),
        });
    }
}
