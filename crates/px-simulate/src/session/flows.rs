//! Where a visit goes: the anonymous browse-pricing-signup path, a user's
//! session in the app, and checkout. The funnel events (`signup_started`,
//! `identify`, `signup_completed`, `login`, `feature_used`,
//! `checkout_started`, `checkout_completed`) are recorded here, each placed
//! strictly after the step before it, so funnel order holds per person.

use super::{Entry, MS, Session, prop};
use crate::catalog::channels::{CHANNELS, Campaign, Landing};
use crate::catalog::devices::Engine;
use crate::catalog::elements::{EXPORT_BUTTON, PAY_BUTTON};
use crate::catalog::errors::{CHECKOUT_PLAN_ID, PAYMENT_FAILED, SIGNUP_FAILED};
use crate::catalog::pages::{BLOG_POSTS, DOCS_TOPICS, Page};
use crate::catalog::texts::Topic;
use crate::catalog::{Plan, feature};
use crate::sample;
use crate::scenario::Step;
use px_core::props;
use serde_json::{Map, Value};

impl Session<'_> {
    /// A visitor who has not signed up: lands from a channel, browses the
    /// marketing site, maybe checks pricing, maybe signs up.
    pub(super) fn anonymous_session(&mut self) {
        let model = self.env.model;
        let first = self.visitor.visits == 0;
        let channel = if first { usize::from(self.visitor.channel) } else { self.visitor.return_channel(self.rng) };
        let channel = &CHANNELS[channel % CHANNELS.len()];
        let landing = match channel.landings[sample::pick_pair(self.rng, channel.landings)].0 {
            Landing::Home => Page::Home,
            Landing::Pricing => Page::Pricing,
            Landing::Features => Page::Features,
            Landing::Blog => self.blog_post(),
            Landing::Docs => self.docs_topic(),
        };
        let query = channel.utm.map(|utm| {
            let campaign = match utm.campaign {
                Campaign::None => None,
                Campaign::Fixed(names) => Some(names[sample::pick_index(self.rng, names.len(), |_| 1.0)]),
                Campaign::WeeklyIssue => Some(self.env.day.newsletter_campaign.as_str()),
            };
            let mut q = format!("utm_source={}&utm_medium={}", utm.source, utm.medium);
            if let Some(c) = campaign {
                q.push_str("&utm_campaign=");
                q.push_str(c);
            }
            q
        });
        self.view(landing, Entry::External { referrer: channel.referrer, query: query.as_deref() });
        if self.bounces_on_slow_page() {
            return;
        }

        let p_pricing = if first { model.pricing_first } else { model.pricing_return };
        let mut saw_pricing = landing == Page::Pricing;
        let wants_pricing = !saw_pricing && sample::chance(self.rng, p_pricing);
        let extra = sample::geometric(self.rng, model.extra_pages, 8);
        let pricing_slot = if wants_pricing { Some(sample::between(self.rng, 0, i64::from(extra))) } else { None };
        for i in 0..=i64::from(extra) {
            if pricing_slot == Some(i) {
                self.go(Page::Pricing);
                saw_pricing = true;
            }
            if i < i64::from(extra) {
                let next = self.browse_next();
                self.go(next);
            }
        }
        let p_signup = if saw_pricing { model.signup_after_pricing } else { model.signup_without_pricing };
        if sample::chance(self.rng, p_signup) {
            self.signup();
        }
    }

    /// The next marketing page, never the current one.
    fn browse_next(&mut self) -> Page {
        let current = self.page;
        let options: [(Page, f64); 4] =
            [(Page::Home, 20.0), (Page::Features, 35.0), (self.blog_post(), 25.0), (self.docs_topic(), 20.0)];
        let i =
            sample::pick_index(self.rng, options.len(), |i| if options[i].0 == current { 0.0 } else { options[i].1 });
        options[i].0
    }

    fn blog_post(&mut self) -> Page {
        Page::Blog(sample::pick_index(self.rng, BLOG_POSTS.len(), |i| 1.0 / (i as f64 + 2.0)) as u8)
    }

    fn docs_topic(&mut self) -> Page {
        Page::Docs(sample::pick_index(self.rng, DOCS_TOPICS.len(), |i| 1.0 / (i as f64 + 2.0)) as u8)
    }

    /// The signup form; on success the visitor becomes a user and goes on
    /// into the app under their user id.
    fn signup(&mut self) {
        let model = self.env.model;
        self.go(Page::Signup);
        let google = sample::chance(self.rng, model.google_signup);
        let method = if google { "google" } else { "email" };
        let started = self.at(0.15);
        self.record(started, "signup_started", prop("signup_method", method));
        if self.error_loop_gives_up(0.9) {
            return;
        }
        if self.step_fails(Step::SignupCompleted) {
            let at = self.at(0.9).max(started + MS);
            self.error(at, &SIGNUP_FAILED);
            if self.gives_up_after_failure() {
                return;
            }
        }
        // One draw against both rates, as for checkout below.
        let u = sample::uniform(self.rng);
        if u >= model.signup_complete * self.conversion_factor(Step::SignupCompleted) {
            if u < model.signup_complete {
                self.lost_to_conversion_drop(Step::SignupCompleted);
            }
            if sample::chance(self.rng, 0.25) {
                self.go(Page::Pricing);
            }
            return;
        }
        *self.next_user += 1;
        self.visitor.user = *self.next_user;
        self.visitor.google_signup = google;
        self.visitor.plan = Plan::Free;
        self.as_user = true;

        let done = self.at(0.97).max(started + MS);
        let initial_referrer =
            CHANNELS.get(usize::from(self.visitor.channel)).and_then(|c| c.referrer).unwrap_or("$direct");
        let mut set = Map::new();
        set.insert("plan".into(), Plan::Free.name().into());
        set.insert("signup_method".into(), method.into());
        let identify = self.record(done, px_core::props::EVENT_IDENTIFY, Map::new());
        identify.person = Some(Box::new(super::PersonUpdate {
            identify: true,
            set: Some(set),
            set_once: Some(prop("initial_referrer", initial_referrer)),
        }));
        self.record(done + MS, "signup_completed", prop("signup_method", method));
        self.go(Page::Dashboard);
        self.use_features();
        let onboarding = sample::geometric(self.rng, 1.0, 4);
        self.app_pages(onboarding);
    }

    /// A signed-up user's visit: straight into the app (or through the login
    /// page), a few app pages, sometimes an upgrade and a survey.
    pub(super) fn user_session(&mut self) {
        let model = self.env.model;
        if sample::chance(self.rng, model.login) {
            let via_home = sample::chance(self.rng, 0.3);
            let landing = if via_home { Page::Home } else { Page::Login };
            self.view(landing, Entry::External { referrer: None, query: None });
            if self.bounces_on_slow_page() {
                return;
            }
            if via_home {
                self.go(Page::Login);
            }
            if self.error_loop_gives_up(0.8) {
                return;
            }
            let method = if self.visitor.google_signup { "google" } else { "email" };
            let at = self.at(0.8);
            self.record(at, "login", prop("method", method));
            self.go(Page::Dashboard);
        } else {
            self.view(Page::Dashboard, Entry::External { referrer: None, query: None });
            if self.bounces_on_slow_page() {
                return;
            }
        }
        self.use_features();
        let pages = sample::geometric(self.rng, model.app_pages, 12);
        self.app_pages(pages);
        if self.abandoned {
            return;
        }
        if self.visitor.plan == Plan::Free && sample::chance(self.rng, model.checkout) {
            self.checkout();
        }
        if !self.checkout_error && sample::chance(self.rng, model.survey) {
            let at = self.at(0.9);
            let topic = if self.slow_export { Topic::SlowExport } else { Topic::General };
            self.feedback(at, topic);
        }
    }

    fn app_pages(&mut self, n: u32) {
        for _ in 0..n {
            let current = self.page;
            let options = [(Page::Dashboard, 35.0), (Page::Reports, 45.0), (Page::Settings, 20.0)];
            let i = sample::pick_index(self.rng, 3, |i| if options[i].0 == current { 0.0 } else { options[i].1 });
            self.go(options[i].0);
            self.use_features();
            if self.error_loop_gives_up(1.0) {
                self.abandoned = true;
                return;
            }
        }
    }

    /// `feature_used` events on the current app page.
    fn use_features(&mut self) {
        let paid = self.visitor.plan != Plan::Free;
        let alerts = if paid { 0.3 } else { 0.06 };
        let uses: &[(&str, f64)] = match self.page {
            Page::Dashboard => &[(feature::DASHBOARDS, 0.55), (feature::SHARE, 0.10), (feature::ALERTS, alerts)],
            Page::Reports => &[(feature::REPORTS, 0.85), (feature::EXPORT, 0.25), (feature::SHARE, 0.15)],
            Page::Settings => &[(feature::ALERTS, alerts * 1.5)],
            _ => &[],
        };
        let mut frac = 0.1;
        for &(name, p) in uses {
            if !sample::chance(self.rng, p) {
                continue;
            }
            frac += 0.15;
            let at = self.at(frac);
            self.record(at, "feature_used", prop("feature", name));
            if name == feature::EXPORT && sample::chance(self.rng, self.env.model.slow_export_rage) {
                let e = EXPORT_BUTTON;
                self.click(at + 4000 * MS, props::EVENT_RAGE_CLICK, e.selector, e.tag, e.text);
                self.slow_export = true;
                if sample::chance(self.rng, self.env.model.feedback_after_slow_export) {
                    self.feedback(at + 20_000 * MS, Topic::SlowExport);
                }
            }
        }
    }

    /// Pricing (sometimes), plan choice, payment. The payment form carries
    /// the release's checkout bug.
    fn checkout(&mut self) {
        let model = self.env.model;
        if sample::chance(self.rng, 0.6) {
            self.go(Page::Pricing);
        }
        let plan = if sample::chance(self.rng, model.business) { Plan::Business } else { Plan::Pro };
        self.go(Page::Checkout);
        let started = self.at(0.3);
        let mut props = plan_props(plan);
        props.insert("price".into(), plan.monthly_price().into());
        self.record(started, "checkout_started", props);

        self.go(Page::Payment);
        if self.error_loop_gives_up(0.6) {
            return;
        }
        let bug_rate = if self.visitor.agent().engine() == Engine::WebKit {
            model.checkout_bug_webkit
        } else {
            model.checkout_bug_other
        };
        let buggy = model.checkout_bug_versions.contains(&self.env.version) && sample::chance(self.rng, bug_rate);
        if buggy {
            let at = self.at(0.6);
            self.error(at, &CHECKOUT_PLAN_ID);
            self.checkout_error = true;
            if sample::chance(self.rng, 0.45) {
                self.click(
                    at + 1500 * MS,
                    props::EVENT_RAGE_CLICK,
                    PAY_BUTTON.selector,
                    PAY_BUTTON.tag,
                    PAY_BUTTON.text,
                );
            }
        }
        if self.step_fails(Step::CheckoutCompleted) {
            let at = self.at(0.7);
            self.error(at, &PAYMENT_FAILED);
            if self.gives_up_after_failure() {
                return;
            }
        }
        let p_complete = if buggy { model.checkout_complete_after_error } else { model.checkout_complete };
        // One draw against both rates: a checkout lost to a conversion drop
        // is exactly one the baseline would have completed.
        let u = sample::uniform(self.rng);
        if u >= p_complete * self.conversion_factor(Step::CheckoutCompleted) {
            if u < p_complete {
                self.lost_to_conversion_drop(Step::CheckoutCompleted);
            }
            if buggy && sample::chance(self.rng, model.feedback_after_error) {
                let at = self.at(0.9);
                self.feedback(at, Topic::CheckoutError);
            }
            return;
        }
        let done = self.at(0.95).max(started + MS);
        let mut props = plan_props(plan);
        props.insert("revenue".into(), plan.monthly_price().into());
        let draft = self.record(done, "checkout_completed", props);
        draft.person = Some(Box::new(super::PersonUpdate {
            identify: false,
            set: Some(prop("plan", plan.name())),
            set_once: None,
        }));
        self.visitor.plan = plan;
        self.go(Page::Success);
        if sample::chance(self.rng, model.feedback_after_upgrade) {
            let at = self.at(0.5);
            self.feedback(at, Topic::Upgraded);
        }
        self.go(Page::Dashboard);
    }
}

fn plan_props(plan: Plan) -> Map<String, Value> {
    let mut props = Map::new();
    props.insert("plan".into(), plan.name().into());
    props.insert("currency".into(), "USD".into());
    props.insert("billing_period".into(), "monthly".into());
    props
}
