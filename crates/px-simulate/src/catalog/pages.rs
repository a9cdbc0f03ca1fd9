//! The pages of the simulated site: paths, titles, links, and how each page
//! behaves (dwell time, weight, scrolling). Paths and titles are `'static` so
//! that building an event never formats a path. What can be clicked on each
//! page is in `elements`.

use super::elements::{self, Element, el};

/// A page of the site. Blog posts and docs topics index [`BLOG_POSTS`] and
/// [`DOCS_TOPICS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Home,
    Pricing,
    Features,
    Blog(u8),
    Docs(u8),
    Signup,
    Login,
    Dashboard,
    Reports,
    Settings,
    Checkout,
    Payment,
    Success,
}

/// Where a page sits in the product, which drives dwell time, scrolling and
/// page weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Area {
    Marketing,
    Content,
    Auth,
    App,
    Checkout,
}

/// Blog posts: path, document title, link text.
pub(crate) const BLOG_POSTS: &[(&str, &str, &str)] = &[
    ("/blog/how-to-measure-activation", "How to measure activation — Relay Blog", "How to measure activation"),
    (
        "/blog/funnel-analysis-guide",
        "A practical guide to funnel analysis — Relay Blog",
        "A practical guide to funnel analysis",
    ),
    ("/blog/retention-cohorts-explained", "Retention cohorts, explained — Relay Blog", "Retention cohorts, explained"),
    (
        "/blog/product-led-growth-metrics",
        "The 7 metrics of product-led growth — Relay Blog",
        "The 7 metrics of product-led growth",
    ),
    ("/blog/choosing-a-north-star-metric", "Choosing a north star metric — Relay Blog", "Choosing a north star metric"),
    (
        "/blog/reduce-churn-with-data",
        "Reduce churn with the data you already have — Relay Blog",
        "Reduce churn with the data you already have",
    ),
    ("/blog/web-vitals-for-product-teams", "Web vitals for product teams — Relay Blog", "Web vitals for product teams"),
    ("/blog/feature-flags-without-fear", "Feature flags without fear — Relay Blog", "Feature flags without fear"),
];

/// Docs topics: path, document title, link text.
pub(crate) const DOCS_TOPICS: &[(&str, &str, &str)] = &[
    ("/docs/getting-started", "Getting started — Relay Docs", "Getting started"),
    ("/docs/install-js-sdk", "Install the JavaScript SDK — Relay Docs", "Install the JavaScript SDK"),
    ("/docs/identify-users", "Identify users — Relay Docs", "Identify users"),
    ("/docs/funnels", "Funnels — Relay Docs", "Funnels"),
    ("/docs/retention", "Retention — Relay Docs", "Retention"),
    ("/docs/feature-flags", "Feature flags — Relay Docs", "Feature flags"),
    ("/docs/api-reference", "API reference — Relay Docs", "API reference"),
    ("/docs/self-hosting", "Self-hosting — Relay Docs", "Self-hosting"),
];

impl Page {
    /// Every page of the site, blog posts and docs topics included.
    pub(crate) fn all() -> impl Iterator<Item = Page> {
        let fixed = [
            Page::Home,
            Page::Pricing,
            Page::Features,
            Page::Signup,
            Page::Login,
            Page::Dashboard,
            Page::Reports,
            Page::Settings,
            Page::Checkout,
            Page::Payment,
            Page::Success,
        ];
        let blog = (0..BLOG_POSTS.len()).map(|i| Page::Blog(i as u8));
        let docs = (0..DOCS_TOPICS.len()).map(|i| Page::Docs(i as u8));
        fixed.into_iter().chain(blog).chain(docs)
    }

    /// The page served at `path`, if any.
    pub(crate) fn from_path(path: &str) -> Option<Page> {
        Page::all().find(|p| p.path() == path)
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Page::Home => "/",
            Page::Pricing => "/pricing",
            Page::Features => "/features",
            Page::Blog(i) => BLOG_POSTS.get(usize::from(i)).map_or("/blog", |p| p.0),
            Page::Docs(i) => DOCS_TOPICS.get(usize::from(i)).map_or("/docs", |p| p.0),
            Page::Signup => "/signup",
            Page::Login => "/login",
            Page::Dashboard => "/app/dashboard",
            Page::Reports => "/app/reports",
            Page::Settings => "/app/settings",
            Page::Checkout => "/checkout",
            Page::Payment => "/checkout/payment",
            Page::Success => "/checkout/success",
        }
    }

    /// The document title (`document.title`).
    pub(crate) fn title(self) -> &'static str {
        match self {
            Page::Home => "Relay — Product analytics for growing teams",
            Page::Pricing => "Pricing — Relay",
            Page::Features => "Features — Relay",
            Page::Blog(i) => BLOG_POSTS.get(usize::from(i)).map_or("Blog — Relay", |p| p.1),
            Page::Docs(i) => DOCS_TOPICS.get(usize::from(i)).map_or("Docs — Relay", |p| p.1),
            Page::Signup => "Create your account — Relay",
            Page::Login => "Log in — Relay",
            Page::Dashboard => "Dashboard — Relay",
            Page::Reports => "Reports — Relay",
            Page::Settings => "Settings — Relay",
            Page::Checkout => "Checkout — Relay",
            Page::Payment => "Payment — Relay",
            Page::Success => "You're all set — Relay",
        }
    }

    /// The text of the link that leads to this page (navigation clicks).
    pub(crate) fn link_text(self) -> &'static str {
        match self {
            Page::Home => "Relay",
            Page::Pricing => "Pricing",
            Page::Features => "Features",
            Page::Blog(i) => BLOG_POSTS.get(usize::from(i)).map_or("Blog", |p| p.2),
            Page::Docs(i) => DOCS_TOPICS.get(usize::from(i)).map_or("Docs", |p| p.2),
            Page::Signup => "Start free trial",
            Page::Login => "Log in",
            Page::Dashboard => "Dashboard",
            Page::Reports => "Reports",
            Page::Settings => "Settings",
            Page::Checkout => "Upgrade",
            Page::Payment => "Continue to payment",
            Page::Success => "Pay now",
        }
    }

    /// The selector of the link or button that leads to this page.
    pub(crate) fn link_selector(self) -> (&'static str, &'static str) {
        match self {
            Page::Home => ("a.nav-logo", "a"),
            Page::Pricing => ("a.nav-link[href='/pricing']", "a"),
            Page::Features => ("a.nav-link[href='/features']", "a"),
            Page::Blog(_) => ("a.post-card", "a"),
            Page::Docs(_) => ("a.sidebar-link", "a"),
            Page::Signup => ("a.cta-signup", "a"),
            Page::Login => ("a.nav-login", "a"),
            Page::Dashboard => ("a.app-nav[href='/app/dashboard']", "a"),
            Page::Reports => ("a.app-nav[href='/app/reports']", "a"),
            Page::Settings => ("a.app-nav[href='/app/settings']", "a"),
            Page::Checkout => ("button.plan-cta", "button"),
            Page::Payment => ("button.continue-payment", "button"),
            Page::Success => ("button#pay-now", "button"),
        }
    }

    pub(crate) fn area(self) -> Area {
        match self {
            Page::Home | Page::Pricing | Page::Features => Area::Marketing,
            Page::Blog(_) | Page::Docs(_) => Area::Content,
            Page::Signup | Page::Login => Area::Auth,
            Page::Dashboard | Page::Reports | Page::Settings => Area::App,
            Page::Checkout | Page::Payment | Page::Success => Area::Checkout,
        }
    }

    /// Median seconds a visitor stays on the page.
    pub(crate) fn dwell_median_secs(self) -> f64 {
        match self {
            Page::Home => 25.0,
            Page::Pricing => 45.0,
            Page::Features => 40.0,
            Page::Blog(_) => 95.0,
            Page::Docs(_) => 70.0,
            Page::Signup => 50.0,
            Page::Login => 15.0,
            Page::Dashboard => 60.0,
            Page::Reports => 120.0,
            Page::Settings => 40.0,
            Page::Checkout => 35.0,
            Page::Payment => 60.0,
            Page::Success => 15.0,
        }
    }

    /// How heavy the page is to render, scaling its load-time web vitals.
    pub(crate) fn weight(self) -> f64 {
        match self {
            Page::Home => 1.1,
            Page::Reports => 1.6,
            Page::Dashboard => 1.3,
            Page::Docs(_) | Page::Login => 0.8,
            Page::Blog(_) => 0.9,
            _ => 1.0,
        }
    }

    /// Probabilities of scrolling past 25%, then 50% given 25%, and so on.
    pub(crate) fn scroll_continue(self) -> [f64; 4] {
        match self.area() {
            Area::Content => [0.85, 0.8, 0.7, 0.6],
            Area::Marketing => [0.7, 0.6, 0.5, 0.4],
            Area::App => [0.35, 0.35, 0.3, 0.3],
            Area::Auth | Area::Checkout => [0.3, 0.3, 0.2, 0.2],
        }
    }

    /// Elements a visitor may click besides the navigation links.
    pub(crate) fn elements(self) -> &'static [Element] {
        match self {
            Page::Home => elements::HOME,
            Page::Pricing => elements::PRICING,
            Page::Features => elements::FEATURES,
            Page::Blog(_) => elements::BLOG,
            Page::Docs(_) => elements::DOCS,
            Page::Signup => elements::SIGNUP,
            Page::Login => elements::LOGIN,
            Page::Dashboard => elements::DASHBOARD,
            Page::Reports => elements::REPORTS,
            Page::Settings => elements::SETTINGS,
            Page::Checkout => elements::CHECKOUT,
            Page::Payment => elements::PAYMENT,
            Page::Success => elements::SUCCESS,
        }
    }

    /// A non-interactive element people click expecting something to happen,
    /// and how often per view (`dead_click`).
    pub(crate) fn dead_click_target(self) -> Option<(Element, f64)> {
        match self {
            Page::Features => Some((el("img.feature-screenshot", "img", ""), 0.05)),
            Page::Pricing => Some((el("span.plan-price", "span", "$29/mo"), 0.03)),
            Page::Dashboard => Some((el("div.chart-card", "div", "Weekly active users"), 0.04)),
            Page::Blog(_) => Some((el("img.post-hero", "img", ""), 0.01)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_a_path_title_and_elements() {
        for p in Page::all() {
            assert_eq!(Page::from_path(p.path()), Some(p));
            assert!(p.path().starts_with('/'), "{p:?}");
            assert!(!p.title().is_empty(), "{p:?}");
            assert!(!p.elements().is_empty(), "{p:?}");
        }
    }
}
