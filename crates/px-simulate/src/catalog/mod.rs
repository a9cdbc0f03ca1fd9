//! The simulated world as static tables: the product's site (pages, clickable
//! elements), its visitors' devices and geography, where they come from, and
//! the texts they leave behind (errors, feedback). Tables hold data only;
//! the behaviour that draws from them lives in `session` and `visitor`, so a
//! new page, browser or country is a one-line change here.
//!
//! The product is "Relay", a fictional product-analytics SaaS served from
//! `relay.example.com` (a reserved domain, so demo data never points at a
//! real site).

pub(crate) mod channels;
pub(crate) mod devices;
pub(crate) mod elements;
pub(crate) mod errors;
pub(crate) mod forms;
pub(crate) mod geo;
pub(crate) mod pages;
pub(crate) mod texts;

/// Scheme and host of every page URL.
pub(crate) const ORIGIN: &str = "https://relay.example.com";

/// The SDK that "captured" the events (`context.library`).
pub(crate) const LIBRARY_NAME: &str = "px-js";
pub(crate) const LIBRARY_VERSION: &str = "0.1.0";

/// Paid plans and their monthly prices in USD.
pub(crate) const PRO_PRICE: f64 = 29.0;
pub(crate) const BUSINESS_PRICE: f64 = 99.0;

/// The plan a person is on (the `plan` person property).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Plan {
    #[default]
    Free,
    Pro,
    Business,
}

impl Plan {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Business => "business",
        }
    }

    pub(crate) fn monthly_price(self) -> f64 {
        match self {
            Plan::Free => 0.0,
            Plan::Pro => PRO_PRICE,
            Plan::Business => BUSINESS_PRICE,
        }
    }
}

/// Product features reported by `feature_used`.
pub(crate) mod feature {
    pub(crate) const REPORTS: &str = "reports";
    pub(crate) const EXPORT: &str = "export";
    pub(crate) const SHARE: &str = "share";
    pub(crate) const DASHBOARDS: &str = "dashboards";
    pub(crate) const ALERTS: &str = "alerts";
}
