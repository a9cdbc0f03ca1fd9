//! One visit of one visitor, as the list of events the SDK would capture.
//! A [`Session`] walks the site page by page (`flows` decides where to go,
//! `signals` adds what happens on each page) and records [`Draft`]s with
//! times relative to the session's start; `emit` later pins them to the
//! clock and turns them into wire JSON. Keeping times relative lets the
//! caller move a whole session so it never crosses midnight.

mod flows;
mod frictions;
mod signals;

use crate::calendar::Day;
use crate::catalog::ORIGIN;
use crate::catalog::pages::Page;
use crate::model::Model;
use crate::sample::{self, SimRng};
use crate::scenario::Effect;
use crate::visitor::Visitor;
use px_core::props;
use serde_json::{Map, Value};

const SEC: i64 = 1_000_000;
const MS: i64 = 1_000;
/// Longest stay on one page; longer ones are tabs left open, which the SDK
/// would have cut into a new session.
const MAX_DWELL: i64 = 20 * 60 * SEC;

/// Person updates an event carries.
#[derive(Debug, Default)]
pub(crate) struct PersonUpdate {
    /// The event is an `identify` linking the anonymous id to the user id.
    pub identify: bool,
    pub set: Option<Map<String, Value>>,
    pub set_once: Option<Map<String, Value>>,
}

/// An event before it has a clock time and ids.
#[derive(Debug)]
pub(crate) struct Draft {
    /// Microseconds after the session's first event.
    pub at: i64,
    pub name: &'static str,
    /// Recording order, which breaks ties between equal times.
    pub seq: u32,
    /// Index of the page view it belongs to in [`Recorder::visits`].
    pub visit: u16,
    /// Sent under the user id (after signup or login) rather than the
    /// anonymous id.
    pub as_user: bool,
    pub props: Map<String, Value>,
    pub person: Option<Box<PersonUpdate>>,
}

/// One page view: the page and what the browser reports for it.
#[derive(Debug)]
pub(crate) struct Visit {
    pub page: Page,
    pub url: String,
    pub referrer: Option<String>,
}

/// Buffers reused from session to session.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub drafts: Vec<Draft>,
    pub visits: Vec<Visit>,
}

impl Recorder {
    pub(crate) fn clear(&mut self) {
        self.drafts.clear();
        self.visits.clear();
    }

    /// Offset of the last event, i.e. the session's length.
    pub(crate) fn duration(&self) -> i64 {
        self.drafts.iter().map(|d| d.at).max().unwrap_or(0)
    }
}

/// Facts fixed before the session starts.
#[derive(Debug)]
pub(crate) struct Env<'a> {
    pub model: &'a Model,
    pub day: &'a Day,
    /// Release this client runs (index into `calendar::VERSIONS`).
    pub version: usize,
    /// The client loaded the app before today's deploy.
    pub stale: bool,
    /// The SDK reports web vitals for this session.
    pub vitals: bool,
    /// A scenario's frictions active for this session, by friction index.
    pub frictions: &'a [(usize, &'a Effect)],
}

/// How a page was reached.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Entry<'s> {
    /// From outside the site: the external referrer and the landing URL's
    /// query string (UTM tags), if any.
    External { referrer: Option<&'static str>, query: Option<&'s str> },
    /// By following a link from the previous page.
    Internal,
}

/// A session being generated.
pub(crate) struct Session<'a> {
    rng: &'a mut SimRng,
    rec: &'a mut Recorder,
    visitor: &'a mut Visitor,
    env: &'a Env<'a>,
    next_user: &'a mut u32,
    page: Page,
    visit: u16,
    /// Window of the current page view (offsets from the session start).
    start: i64,
    end: i64,
    as_user: bool,
    /// The visitor clicked or typed on the current page (INP exists).
    interacted: bool,
    checkout_error: bool,
    slow_export: bool,
    /// The visitor gave up after an `error_loop` and leaves.
    abandoned: bool,
    /// The frictions' own draws (see `Stream::Friction`).
    fx: SimRng,
    /// Frictions that changed this session, in the order they first did.
    hits: Vec<usize>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(
        rng: &'a mut SimRng,
        rec: &'a mut Recorder,
        visitor: &'a mut Visitor,
        env: &'a Env<'a>,
        next_user: &'a mut u32,
        fx: SimRng,
    ) -> Self {
        let as_user = visitor.is_user();
        Session {
            rng,
            rec,
            visitor,
            env,
            next_user,
            page: Page::Home,
            visit: 0,
            start: 0,
            end: 0,
            as_user,
            interacted: false,
            checkout_error: false,
            slow_export: false,
            abandoned: false,
            fx,
            hits: Vec::new(),
        }
    }

    /// Generates the whole visit into the recorder. Drafts come out sorted
    /// by time; the first is at offset 0. Returns the frictions that changed
    /// the visit.
    pub(crate) fn run(mut self) -> Vec<usize> {
        let introduce = self.visitor.is_user() && !self.visitor.known;
        if self.visitor.is_user() {
            self.user_session();
        } else {
            self.anonymous_session();
        }
        self.themed_feedback();
        self.leave();
        // Unstable sort on a unique key: same order as a stable sort by time,
        // without the stable sort's scratch allocation.
        self.rec.drafts.sort_unstable_by_key(|d| (d.at, d.seq));
        // Once identified, the SDK sends everything under the user id, even
        // events of the signup page recorded before the identify was.
        let mut identified = false;
        for d in &mut self.rec.drafts {
            identified |= d.person.as_ref().is_some_and(|p| p.identify);
            d.as_user |= identified;
        }
        if introduce {
            self.introduce();
        }
        debug_assert!(self.rec.drafts.first().is_none_or(|d| d.at == 0));
        self.hits
    }

    /// Puts a user who signed up before the run (during the warm-up, whose
    /// events were never sent) on record: their traits ride on the first
    /// event of their first visit in the run, as with an app that calls
    /// `identify(user, traits)` on load.
    fn introduce(&mut self) {
        let Some(first) = self.rec.drafts.first_mut() else { return };
        let method = if self.visitor.google_signup { "google" } else { "email" };
        let mut set = prop("plan", self.visitor.plan.name());
        set.insert("signup_method".into(), method.into());
        first.person.get_or_insert_with(Default::default).set.get_or_insert_with(Map::new).extend(set);
    }

    /// Records an event at `at` on the current page.
    fn record(&mut self, at: i64, name: &'static str, props: Map<String, Value>) -> &mut Draft {
        let at = at.clamp(self.start, self.end);
        let seq = self.rec.drafts.len() as u32;
        self.rec.drafts.push(Draft { at, name, seq, visit: self.visit, as_user: self.as_user, props, person: None });
        let last = self.rec.drafts.len() - 1;
        &mut self.rec.drafts[last]
    }

    /// A time `frac` of the way through the current page view.
    fn at(&self, frac: f64) -> i64 {
        self.start + ((self.end - self.start) as f64 * frac.clamp(0.0, 1.0)) as i64
    }

    /// A uniformly random time within the current page view, after load.
    fn any_time(&mut self) -> i64 {
        let lo = (self.start + 500 * MS).min(self.end);
        sample::between(self.rng, lo, self.end)
    }

    /// Opens `page`: records the page view and the page's own signals, and
    /// sets the window that flow events are placed in.
    fn view(&mut self, page: Page, entry: Entry<'_>) {
        let (referrer, query) = match entry {
            Entry::External { referrer, query } => (referrer.map(str::to_owned), query),
            Entry::Internal => (self.rec.visits.last().map(|v| v.url.clone()), None),
        };
        let path = page.path();
        let mut url = String::with_capacity(ORIGIN.len() + path.len() + query.map_or(0, |q| q.len() + 1));
        url.push_str(ORIGIN);
        url.push_str(path);
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        self.rec.visits.push(Visit { page, url, referrer });
        self.visit = (self.rec.visits.len() - 1) as u16;
        self.page = page;
        self.interacted = false;
        let dwell = sample::log_normal(self.rng, page.dwell_median_secs() * SEC as f64, 0.8) as i64;
        self.end = self.start + dwell.clamp(2 * SEC, MAX_DWELL);
        let start = self.start;
        self.record(start, px_core::props::EVENT_PAGE_VIEW, Map::new());
        self.page_signals();
    }

    /// Leaves the current page by a link to `next` and opens it.
    fn go(&mut self, next: Page) {
        if sample::chance(self.rng, self.env.model.nav_click) {
            let (selector, tag) = next.link_selector();
            let at = self.end - sample::between(self.rng, 100 * MS, 1500 * MS);
            self.click(at, props::EVENT_CLICK, selector, tag, next.link_text());
        }
        self.leave();
        self.start = self.end + sample::between(self.rng, 150 * MS, 2500 * MS);
        self.view(next, Entry::Internal);
    }

    /// Records a click-like event (`click`, `rage_click`, `dead_click`).
    fn click(&mut self, at: i64, name: &'static str, selector: &str, tag: &str, text: &str) {
        let mut props = Map::new();
        props.insert("selector".into(), selector.into());
        props.insert("tag".into(), tag.into());
        props.insert("text".into(), text.into());
        self.record(at, name, props);
        self.interacted = true;
    }
}

/// A one-entry property map.
fn prop(key: &str, value: impl Into<Value>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(key.into(), value.into());
    m
}
