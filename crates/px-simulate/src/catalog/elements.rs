//! What can be clicked on each page of the simulated site: CSS selector, tag
//! and visible text, as the SDK's autocapture reports them. Selectors follow
//! what a real front end ships (classes, ids, attribute selectors), so
//! element-level breakdowns look like they would on a real product.

/// Something a visitor can click: CSS selector, tag name, visible text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element {
    pub selector: &'static str,
    pub tag: &'static str,
    pub text: &'static str,
}

pub(crate) const fn el(selector: &'static str, tag: &'static str, text: &'static str) -> Element {
    Element { selector, tag, text }
}

/// The export button on the reports page: slow on large reports, hence the
/// rage clicks on it.
pub(crate) const EXPORT_BUTTON: Element = el("button.export-csv", "button", "Export CSV");
/// The pay button on the payment page, hit repeatedly when checkout breaks.
pub(crate) const PAY_BUTTON: Element = el("button#pay-now", "button", "Pay now");
/// Submit buttons of the forms a scenario's `error_loop` can break (see
/// `forms`). The signup and login buttons are not in their pages' click
/// tables: in the baseline, submitting is implied by the funnel events.
pub(crate) const SIGNUP_SUBMIT: Element = el("button.signup-submit", "button", "Create account");
pub(crate) const LOGIN_SUBMIT: Element = el("button.login-submit", "button", "Log in");
pub(crate) const SAVE_SETTINGS: Element = el("button.save-settings", "button", "Save changes");
/// The date-range picker, clicked repeatedly when it is slow to open.
pub(crate) const DATE_RANGE: Element = el("button.date-range", "button", "Last 30 days");

pub(crate) const HOME: &[Element] = &[
    el("button.hero-cta", "button", "Start free trial"),
    el("a.hero-secondary", "a", "Book a demo"),
    el("button.video-play", "button", "Watch the 2-minute tour"),
    el("a.customer-story", "a", "Read the story"),
    el("button.cookie-accept", "button", "Accept all"),
];
pub(crate) const PRICING: &[Element] = &[
    el("button.billing-toggle", "button", "Annual"),
    el("button.plan-cta[data-plan='pro']", "button", "Choose Pro"),
    el("button.plan-cta[data-plan='business']", "button", "Choose Business"),
    el("details.faq-item > summary", "summary", "Can I cancel anytime?"),
    el("a.compare-plans", "a", "Compare all features"),
];
pub(crate) const FEATURES: &[Element] = &[
    el("button.tab[data-tab='funnels']", "button", "Funnels"),
    el("button.tab[data-tab='retention']", "button", "Retention"),
    el("button.tab[data-tab='replay']", "button", "Session replay"),
    el("a.integration-logo", "a", "Integrations"),
];
pub(crate) const BLOG: &[Element] = &[
    el("a.toc-link", "a", "Key takeaways"),
    el("button.share-post", "button", "Share"),
    el("a.related-post", "a", "Read next"),
    el("button.newsletter-subscribe", "button", "Subscribe"),
];
pub(crate) const DOCS: &[Element] = &[
    el("button.copy-code", "button", "Copy"),
    el("input#docs-search", "input", ""),
    el("a.edit-on-github", "a", "Edit this page"),
    el("button.docs-helpful[data-value='yes']", "button", "Yes"),
];
pub(crate) const SIGNUP: &[Element] = &[
    el("input#email", "input", ""),
    el("input#password", "input", ""),
    el("button.google-signup", "button", "Continue with Google"),
    el("a.terms", "a", "Terms of service"),
];
pub(crate) const LOGIN: &[Element] = &[
    el("input#email", "input", ""),
    el("input#password", "input", ""),
    el("a.forgot-password", "a", "Forgot password?"),
];
pub(crate) const DASHBOARD: &[Element] = &[
    DATE_RANGE,
    el("button.add-widget", "button", "Add widget"),
    el("button.refresh", "button", "Refresh"),
    el("a.view-report", "a", "View report"),
];
pub(crate) const REPORTS: &[Element] = &[
    el("button.run-report", "button", "Run report"),
    el("select.breakdown", "select", "Breakdown"),
    el("button.add-filter", "button", "Add filter"),
    el("button.share-report", "button", "Share"),
];
pub(crate) const SETTINGS: &[Element] = &[
    el("button.invite-member", "button", "Invite teammate"),
    el("input#project-name", "input", ""),
    SAVE_SETTINGS,
    el("a.billing-link", "a", "Billing"),
];
pub(crate) const CHECKOUT: &[Element] = &[
    el("button.plan-switch", "button", "Switch plan"),
    el("input#coupon", "input", ""),
    el("input#company-name", "input", ""),
];
pub(crate) const PAYMENT: &[Element] =
    &[el("input#card-number", "input", ""), el("input#card-expiry", "input", ""), el("a.back-to-plans", "a", "Back")];
pub(crate) const SUCCESS: &[Element] =
    &[el("a.go-to-dashboard", "a", "Go to dashboard"), el("button.download-invoice", "button", "Download invoice")];
