//! The closed set of error kinds. Each library crate has its own error type
//! with a `kind()`; the HTTP layer turns a kind into a status in one place, so
//! no handler picks a status code by hand.

use serde::Serialize;

/// What went wrong, independent of the layer that noticed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The thing asked for does not exist in the caller's scope.
    NotFound,
    /// The input breaks a rule; the message names the field and the rule.
    Invalid,
    /// The input is larger than a configured limit.
    TooLarge,
    /// No valid credentials were presented.
    Unauthorized,
    /// Valid credentials that may not do this.
    Forbidden,
    /// The thing already exists or changed underneath the caller.
    Conflict,
    /// The caller sent more than its plan allows; retry later.
    RateLimited,
    /// A dependency is down or overloaded; retry later.
    Unavailable,
    /// A bug or an unexpected failure; details are logged, not returned.
    Internal,
}

/// An error with its causes, `outer: inner: ...`: an HTTP client's own
/// message ("error sending request") hides whether the connection was
/// refused or timed out.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
