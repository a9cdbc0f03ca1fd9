//! What happens on a page besides navigation: web vitals, scroll depth,
//! clicks, dead and rage clicks, JavaScript errors and feedback. These are
//! the signals the AI engine reads friction from, so their rates follow the
//! page, the device and the network rather than being uniform noise.

use super::{MS, Session, prop};
use crate::catalog::elements::DATE_RANGE;
use crate::catalog::errors::{self, CHUNK_LOAD, JsError};
use crate::catalog::pages::{Area, Page};
use crate::catalog::texts::{self, Topic};
use crate::sample;
use px_core::props;
use serde_json::{Map, Value};

/// A Core Web Vital with its "good" and "poor" thresholds (web.dev).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vital {
    Ttfb,
    Fcp,
    Lcp,
    Cls,
    Inp,
}

impl Vital {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Vital::Ttfb => "TTFB",
            Vital::Fcp => "FCP",
            Vital::Lcp => "LCP",
            Vital::Cls => "CLS",
            Vital::Inp => "INP",
        }
    }

    /// Upper bounds of "good" and of "needs-improvement".
    pub(crate) fn thresholds(self) -> (f64, f64) {
        match self {
            Vital::Ttfb => (800.0, 1800.0),
            Vital::Fcp => (1800.0, 3000.0),
            Vital::Lcp => (2500.0, 4000.0),
            Vital::Cls => (0.1, 0.25),
            Vital::Inp => (200.0, 500.0),
        }
    }

    pub(crate) fn rating(self, value: f64) -> &'static str {
        let (good, poor) = self.thresholds();
        if value <= good {
            "good"
        } else if value <= poor {
            "needs-improvement"
        } else {
            "poor"
        }
    }
}

impl Session<'_> {
    /// Signals of the page just opened, placed within its window.
    pub(super) fn page_signals(&mut self) {
        let page = self.page;
        if self.env.vitals {
            self.load_vitals(page);
        }
        self.scrolls(page);
        let clicks = sample::geometric(self.rng, self.env.model.clicks, 6);
        let elements = page.elements();
        for _ in 0..clicks {
            let e = elements[sample::pick_index(self.rng, elements.len(), |_| 1.0)];
            let at = self.any_time();
            self.click(at, props::EVENT_CLICK, e.selector, e.tag, e.text);
        }
        if let Some((e, p)) = page.dead_click_target()
            && sample::chance(self.rng, p)
        {
            let at = self.any_time();
            self.click(at, props::EVENT_DEAD_CLICK, e.selector, e.tag, e.text);
        }
        if page == Page::Dashboard && sample::chance(self.rng, 0.006) {
            let at = self.any_time();
            self.click(at, props::EVENT_RAGE_CLICK, DATE_RANGE.selector, DATE_RANGE.tag, DATE_RANGE.text);
        }
        for (error, p) in errors::background(page) {
            if sample::chance(self.rng, *p) {
                let at = self.any_time();
                self.error(at, error);
            }
        }
        if self.env.stale && page.area() == Area::App && sample::chance(self.rng, self.env.model.chunk_error) {
            let at = self.at(0.05);
            self.error(at, &CHUNK_LOAD);
        }
        self.friction_signals();
    }

    /// Ends the current page view: the SDK flushes CLS and INP on page hide.
    pub(super) fn leave(&mut self) {
        if !self.env.vitals {
            return;
        }
        let end = self.end;
        let page = self.page;
        let cls = self.vital_value(Vital::Cls, page);
        self.vital(end, Vital::Cls, cls);
        if self.interacted {
            let inp = self.vital_value(Vital::Inp, page);
            self.vital(end, Vital::Inp, inp);
        }
    }

    fn load_vitals(&mut self, page: Page) {
        let ttfb = self.vital_value(Vital::Ttfb, page);
        let fcp = self.vital_value(Vital::Fcp, page).max(ttfb + 30.0);
        // Rounded again: a scenario's factor must not add decimals.
        let lcp = self.vital_value(Vital::Lcp, page).max(fcp) * self.lcp_factor(page);
        let lcp = (lcp * 10.0).round() / 10.0;
        let start = self.start;
        for (vital, value) in [(Vital::Ttfb, ttfb), (Vital::Fcp, fcp), (Vital::Lcp, lcp)] {
            self.vital(start + (value * MS as f64) as i64, vital, value);
        }
    }

    /// A log-normal draw around a median set by the metric, the page's
    /// weight, the device and the visitor's network.
    fn vital_value(&mut self, vital: Vital, page: Page) -> f64 {
        let mobile = self.visitor.agent().class.is_mobile();
        let net = self.visitor.country().network;
        let weight = page.weight();
        let m = |desktop: f64, phone: f64| if mobile { phone } else { desktop };
        let (median, sigma) = match vital {
            Vital::Ttfb => (380.0 * net * m(1.0, 1.3), 0.55),
            Vital::Fcp => (1100.0 * net * weight.sqrt() * m(1.0, 1.45), 0.45),
            Vital::Lcp => (1500.0 * net * weight * m(1.0, 1.5), 0.5),
            Vital::Cls => (0.035 * if page == Page::Home { 2.0 } else { 1.0 } * m(1.0, 1.4), 1.1),
            Vital::Inp => (95.0 * weight * m(1.0, 1.8), 0.65),
        };
        let value = sample::log_normal(self.rng, median, sigma);
        if vital == Vital::Cls { (value * 10_000.0).round() / 10_000.0 } else { (value * 10.0).round() / 10.0 }
    }

    fn vital(&mut self, at: i64, vital: Vital, value: f64) {
        let mut props = Map::new();
        props.insert("name".into(), vital.name().into());
        props.insert("value".into(), value.into());
        props.insert("rating".into(), vital.rating(value).into());
        self.record(at, props::EVENT_WEB_VITAL, props);
    }

    /// Scroll events at each 25% depth reached.
    fn scrolls(&mut self, page: Page) {
        let boost = if self.visitor.agent().class.is_mobile() { 1.1 } else { 1.0 };
        let mut frac = 0.1;
        for (i, p) in page.scroll_continue().into_iter().enumerate() {
            if !sample::chance(self.rng, p * boost) {
                break;
            }
            frac += self.rng_frac(0.05, 0.2);
            let at = self.at(frac);
            self.record(at, props::EVENT_SCROLL, prop("depth", 25 * (i as u64 + 1)));
        }
    }

    fn rng_frac(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (sample::between(self.rng, 0, 1000) as f64 / 1000.0)
    }

    /// An uncaught error, worded for the visitor's engine.
    pub(super) fn error(&mut self, at: i64, error: &JsError) {
        let wording = error.wording(self.visitor.agent().engine());
        self.error_event(at, wording.message, wording.stack, error.source);
    }

    /// An `error` event with the given message, stack and script.
    pub(super) fn error_event(
        &mut self,
        at: i64,
        message: impl Into<Value>,
        stack: impl Into<Value>,
        source: &'static str,
    ) {
        let mut props = Map::new();
        props.insert("message".into(), message.into());
        props.insert("stack".into(), stack.into());
        props.insert("source".into(), source.into());
        self.record(at, props::EVENT_ERROR, props);
    }

    /// A survey answer about `topic`, in the visitor's language.
    pub(super) fn feedback(&mut self, at: i64, topic: Topic) {
        let weights: [f64; 5] = match topic {
            Topic::General => [6.0, 8.0, 16.0, 35.0, 35.0],
            Topic::CheckoutError => [60.0, 30.0, 10.0, 0.0, 0.0],
            Topic::SlowExport => [30.0, 45.0, 25.0, 0.0, 0.0],
            Topic::Upgraded => [0.0, 0.0, 5.0, 30.0, 65.0],
        };
        let rating = sample::pick(self.rng, &weights, |w| *w) as u8 + 1;
        let mut props = Map::new();
        props.insert("rating".into(), rating.into());
        let pool = texts::comments(topic);
        let fitting = |i: usize| {
            let c = &pool[i];
            if (c.min_rating..=c.max_rating).contains(&rating) { 1.0 } else { 0.0 }
        };
        let has_fit = (0..pool.len()).any(|i| fitting(i) > 0.0);
        if has_fit && sample::chance(self.rng, 0.8) {
            let c = &pool[sample::pick_index(self.rng, pool.len(), fitting)];
            let text = if self.visitor.locale().starts_with("pt") { c.pt_br } else { c.en };
            props.insert("comment".into(), Value::from(text));
        }
        self.record(at, props::EVENT_FEEDBACK, props);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_follow_the_web_vitals_thresholds() {
        assert_eq!(Vital::Lcp.rating(2500.0), "good");
        assert_eq!(Vital::Lcp.rating(2500.1), "needs-improvement");
        assert_eq!(Vital::Lcp.rating(4000.1), "poor");
        assert_eq!(Vital::Cls.rating(0.05), "good");
        assert_eq!(Vital::Cls.rating(0.3), "poor");
        assert_eq!(Vital::Inp.rating(350.0), "needs-improvement");
    }
}
