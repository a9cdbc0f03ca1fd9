//! How a scenario's frictions change a visit. The flow and signal code calls
//! these hooks at the points a real problem would bite (submitting a step,
//! loading a page, clicking, leaving); each hook draws from the friction
//! stream only, and notes the friction as a hit when it changed something,
//! which is what the labels count.

use super::{MS, Session, prop};
use crate::catalog::pages::Page;
use crate::sample;
use crate::scenario::{Effect, Step, Text};
use px_core::props;
use serde_json::Value;

/// Ratings of a complaint left through a scenario's `feedback_theme`.
const THEMED_RATINGS: [f64; 5] = [55.0, 35.0, 10.0, 0.0, 0.0];

impl Session<'_> {
    /// Notes that friction `i` changed this visit.
    fn hit(&mut self, i: usize) {
        if !self.hits.contains(&i) {
            self.hits.push(i);
        }
    }

    /// Whether submitting `step` fails; the first `step_failure` on it that
    /// fires is the one hit.
    pub(super) fn step_fails(&mut self, step: Step) -> bool {
        for &(i, effect) in self.env.frictions {
            if let Effect::StepFailure { step: s, probability } = effect
                && *s == step
                && sample::chance(&mut self.fx, *probability)
            {
                self.hit(i);
                return true;
            }
        }
        false
    }

    /// Whether the visitor gives up after a failed step rather than retrying.
    pub(super) fn gives_up_after_failure(&mut self) -> bool {
        sample::chance(&mut self.fx, self.env.model.give_up_after_failure)
    }

    /// The factor all active `conversion_drop`s on `step` put on completing
    /// it.
    pub(super) fn conversion_factor(&self, step: Step) -> f64 {
        self.env
            .frictions
            .iter()
            .map(|(_, e)| match e {
                Effect::ConversionDrop { step: s, factor } if *s == step => *factor,
                _ => 1.0,
            })
            .product()
    }

    /// A `step` the baseline would have completed was lost to the drops.
    pub(super) fn lost_to_conversion_drop(&mut self, step: Step) {
        for &(i, effect) in self.env.frictions {
            if matches!(effect, Effect::ConversionDrop { step: s, .. } if *s == step) {
                self.hit(i);
            }
        }
    }

    /// Per view of a form page, the `error_loop`s on it: the visitor submits,
    /// the validator throws, they submit again, a few seconds apart, until
    /// they stop. The first loop that fires is the one hit. Returns whether
    /// the visitor then gives up on what the page was for.
    ///
    /// The loop starts 30% into the page view; the view is stretched so that
    /// flow events the caller places from `next_frac` of it on (submitting
    /// the step, say) come after the loop.
    pub(super) fn error_loop_gives_up(&mut self, next_frac: f64) -> bool {
        let page = self.page;
        for &(i, effect) in self.env.frictions {
            let Effect::ErrorLoop { form, message, probability, repeats } = effect else { continue };
            if form.page != page || !sample::chance(&mut self.fx, *probability) {
                continue;
            }
            let mut times = Vec::with_capacity(*repeats as usize);
            let mut t = self.at(0.3);
            for _ in 0..*repeats {
                let thrown = t + sample::between(&mut self.fx, 150, 900) * MS;
                times.push((t, thrown));
                t = thrown + sample::between(&mut self.fx, 1500, 6000) * MS;
            }
            let last = times.last().map_or(t, |&(_, thrown)| thrown);
            self.stretch_view(last, next_frac);
            let stack = form.stack(self.visitor.agent().engine(), message);
            let submit = form.submit;
            for (click, thrown) in times {
                self.click(click, props::EVENT_CLICK, submit.selector, submit.tag, submit.text);
                self.error_event(thrown, message.as_str(), stack.as_str(), form.source);
            }
            self.hit(i);
            return sample::chance(&mut self.fx, self.env.model.give_up_after_error_loop);
        }
        false
    }

    /// Lengthens the current page view so that `frac` of it lies past
    /// `until` (plus a moment).
    fn stretch_view(&mut self, until: i64, frac: f64) {
        let needed = (until + 500 * MS - self.start) as f64 / frac.clamp(0.05, 1.0);
        self.end = self.end.max(self.start + needed.ceil() as i64);
    }

    /// How much slower `page` renders (LCP), 1 when no `slow_page` is on it.
    pub(super) fn lcp_factor(&self, page: Page) -> f64 {
        self.env
            .frictions
            .iter()
            .map(|(_, e)| match e {
                Effect::SlowPage { page: p, factor, .. } if *p == page => *factor,
                _ => 1.0,
            })
            .product()
    }

    /// Per page view: counts the view of a slow page (it is slow whether or
    /// not the SDK samples its vitals) and adds the rage clicks of
    /// `rage_clicks` frictions on it.
    pub(super) fn friction_signals(&mut self) {
        let page = self.page;
        for &(i, effect) in self.env.frictions {
            match effect {
                Effect::SlowPage { page: p, .. } if *p == page => self.hit(i),
                Effect::RageClicks { page: p, element, probability }
                    if *p == page && sample::chance(&mut self.fx, *probability) =>
                {
                    // The click that did nothing, then the burst.
                    let at = self.any_time();
                    self.click(at, props::EVENT_CLICK, element.selector, element.tag, element.text);
                    let burst = at + sample::between(&mut self.fx, 600, 2500) * MS;
                    self.click(burst, props::EVENT_RAGE_CLICK, element.selector, element.tag, element.text);
                    self.hit(i);
                }
                _ => {}
            }
        }
    }

    /// Whether the visitor leaves the landing page just opened because it is
    /// slow: the extra bounce of `slow_page` frictions.
    pub(super) fn bounces_on_slow_page(&mut self) -> bool {
        let page = self.page;
        for &(i, effect) in self.env.frictions {
            if let Effect::SlowPage { page: p, bounce, .. } = effect
                && *p == page
                && sample::chance(&mut self.fx, *bounce)
            {
                self.hit(i);
                return true;
            }
        }
        false
    }

    /// At the end of the visit, the feedback of `feedback_theme` frictions:
    /// a low rating and one of the theme's texts in the visitor's language.
    pub(super) fn themed_feedback(&mut self) {
        for &(i, effect) in self.env.frictions {
            let Effect::FeedbackTheme { texts, rate, .. } = effect else { continue };
            if !sample::chance(&mut self.fx, *rate) {
                continue;
            }
            let rating = sample::pick(&mut self.fx, &THEMED_RATINGS, |w| *w) as u8 + 1;
            let text: &Text = &texts[sample::pick_index(&mut self.fx, texts.len(), |_| 1.0)];
            let comment = if self.visitor.locale().starts_with("pt") { &text.pt_br } else { &text.en };
            let mut props = prop("rating", rating);
            props.insert("comment".into(), Value::from(comment.as_str()));
            let at = self.at(0.9);
            self.record(at, props::EVENT_FEEDBACK, props);
            self.hit(i);
        }
    }
}
