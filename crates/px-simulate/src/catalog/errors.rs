//! JavaScript errors the simulated front end throws, worded the way each
//! engine words them (the same bug reads differently in Chrome, Safari and
//! Firefox, and error grouping has to cope with that), plus the background
//! rate of each per page view. The rates of the deliberate bugs (checkout on
//! Safari, stale chunks after a release) live in `model`.

use super::devices::Engine;
use super::pages::{Area, Page};

/// Message and stack as one engine reports them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wording {
    pub message: &'static str,
    pub stack: &'static str,
}

/// One error: the script it comes from and its wording per engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsError {
    pub source: &'static str,
    pub chromium: Wording,
    pub webkit: Wording,
    pub gecko: Wording,
}

impl JsError {
    pub(crate) fn wording(&self, engine: Engine) -> Wording {
        match engine {
            Engine::Chromium => self.chromium,
            Engine::WebKit => self.webkit,
            Engine::Gecko => self.gecko,
        }
    }
}

const fn w(message: &'static str, stack: &'static str) -> Wording {
    Wording { message, stack }
}

/// The payment form reads `plan.id` before the plan has loaded. Shipped in a
/// release; hits Safari far more often (see `model`).
pub(crate) const CHECKOUT_PLAN_ID: JsError = JsError {
    source: "https://relay.example.com/assets/checkout-3f9a1c.js",
    chromium: w(
        "TypeError: Cannot read properties of undefined (reading 'id')",
        "TypeError: Cannot read properties of undefined (reading 'id')\n    at PaymentForm.submit (https://relay.example.com/assets/checkout-3f9a1c.js:1:48213)\n    at HTMLButtonElement.onClick (https://relay.example.com/assets/checkout-3f9a1c.js:1:51007)",
    ),
    webkit: w(
        "TypeError: undefined is not an object (evaluating 'plan.id')",
        "submit@https://relay.example.com/assets/checkout-3f9a1c.js:1:48213\nonClick@https://relay.example.com/assets/checkout-3f9a1c.js:1:51007",
    ),
    gecko: w(
        "TypeError: plan is undefined",
        "submit@https://relay.example.com/assets/checkout-3f9a1c.js:1:48213\nonClick@https://relay.example.com/assets/checkout-3f9a1c.js:1:51007\n",
    ),
};

/// A client still running the previous release asks for a chunk the deploy
/// removed.
pub(crate) const CHUNK_LOAD: JsError = JsError {
    source: "https://relay.example.com/assets/app-runtime-8d02e7.js",
    chromium: w(
        "ChunkLoadError: Loading chunk 7421 failed.",
        "ChunkLoadError: Loading chunk 7421 failed.\n(missing: https://relay.example.com/assets/7421.5b1f0c.js)\n    at __webpack_require__.f.j (https://relay.example.com/assets/app-runtime-8d02e7.js:1:5210)",
    ),
    webkit: w(
        "ChunkLoadError: Loading chunk 7421 failed.",
        "@https://relay.example.com/assets/app-runtime-8d02e7.js:1:5210",
    ),
    gecko: w(
        "ChunkLoadError: Loading chunk 7421 failed.",
        "j@https://relay.example.com/assets/app-runtime-8d02e7.js:1:5210\n",
    ),
};

/// The signup API answering 500: what a scenario's `step_failure` on
/// `signup_completed` shows. Worded by the app's API client, so it reads the
/// same on every engine; only the stack differs.
pub(crate) const SIGNUP_FAILED: JsError = JsError {
    source: "https://relay.example.com/assets/auth-5e21d8.js",
    chromium: w(
        "Error: Signup failed: 500 Internal Server Error",
        "Error: Signup failed: 500 Internal Server Error\n    at SignupForm.submit (https://relay.example.com/assets/auth-5e21d8.js:1:7342)",
    ),
    webkit: w(
        "Error: Signup failed: 500 Internal Server Error",
        "submit@https://relay.example.com/assets/auth-5e21d8.js:1:7342",
    ),
    gecko: w(
        "Error: Signup failed: 500 Internal Server Error",
        "submit@https://relay.example.com/assets/auth-5e21d8.js:1:7342\n",
    ),
};

/// The payment API rejecting a valid card: what a scenario's `step_failure`
/// on `checkout_completed` shows.
pub(crate) const PAYMENT_FAILED: JsError = JsError {
    source: "https://relay.example.com/assets/checkout-3f9a1c.js",
    chromium: w(
        "Error: Payment failed: 502 Bad Gateway",
        "Error: Payment failed: 502 Bad Gateway\n    at PaymentForm.confirm (https://relay.example.com/assets/checkout-3f9a1c.js:1:49120)",
    ),
    webkit: w(
        "Error: Payment failed: 502 Bad Gateway",
        "confirm@https://relay.example.com/assets/checkout-3f9a1c.js:1:49120",
    ),
    gecko: w(
        "Error: Payment failed: 502 Bad Gateway",
        "confirm@https://relay.example.com/assets/checkout-3f9a1c.js:1:49120\n",
    ),
};

const RESIZE_OBSERVER: JsError = JsError {
    source: "https://relay.example.com/assets/dashboard-41c9aa.js",
    chromium: w("ResizeObserver loop completed with undelivered notifications.", ""),
    webkit: w("ResizeObserver loop completed with undelivered notifications.", ""),
    gecko: w("ResizeObserver loop completed with undelivered notifications.", ""),
};

const FETCH_FAILED: JsError = JsError {
    source: "https://relay.example.com/assets/api-client-c27b11.js",
    chromium: w(
        "TypeError: Failed to fetch",
        "TypeError: Failed to fetch\n    at ApiClient.request (https://relay.example.com/assets/api-client-c27b11.js:1:2231)",
    ),
    webkit: w("TypeError: Load failed", "request@https://relay.example.com/assets/api-client-c27b11.js:1:2231"),
    gecko: w(
        "TypeError: NetworkError when attempting to fetch resource.",
        "request@https://relay.example.com/assets/api-client-c27b11.js:1:2231\n",
    ),
};

const RECURSION: JsError = JsError {
    source: "https://relay.example.com/assets/reports-93be40.js",
    chromium: w(
        "RangeError: Maximum call stack size exceeded",
        "RangeError: Maximum call stack size exceeded\n    at flattenTree (https://relay.example.com/assets/reports-93be40.js:1:10877)\n    at flattenTree (https://relay.example.com/assets/reports-93be40.js:1:10921)",
    ),
    webkit: w(
        "RangeError: Maximum call stack size exceeded.",
        "flattenTree@https://relay.example.com/assets/reports-93be40.js:1:10877\nflattenTree@https://relay.example.com/assets/reports-93be40.js:1:10921",
    ),
    gecko: w(
        "InternalError: too much recursion",
        "flattenTree@https://relay.example.com/assets/reports-93be40.js:1:10877\nflattenTree@https://relay.example.com/assets/reports-93be40.js:1:10921\n",
    ),
};

/// A third-party script failing across origins: the browser hides the detail.
const SCRIPT_ERROR: JsError = JsError {
    source: "",
    chromium: w("Script error.", ""),
    webkit: w("Script error.", ""),
    gecko: w("Script error.", ""),
};

/// Background errors per view of `page`, with their probability.
pub(crate) fn background(page: Page) -> &'static [(JsError, f64)] {
    match page.area() {
        _ if page == Page::Reports => &[(RESIZE_OBSERVER, 0.008), (FETCH_FAILED, 0.004), (RECURSION, 0.003)],
        Area::Marketing | Area::Content => &[(SCRIPT_ERROR, 0.003)],
        Area::App => &[(RESIZE_OBSERVER, 0.008), (FETCH_FAILED, 0.004)],
        Area::Auth | Area::Checkout => &[(FETCH_FAILED, 0.003)],
    }
}
