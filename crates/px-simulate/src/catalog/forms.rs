//! The forms of the site: where a visitor submits something and client-side
//! validation can reject it. A scenario's `error_loop` picks one by its page;
//! the table says which button is clicked again and again, how the
//! validation error reads by default, and which script throws it.

use super::devices::Engine;
use super::elements::{Element, LOGIN_SUBMIT, PAY_BUTTON, SAVE_SETTINGS, SIGNUP_SUBMIT};
use super::pages::Page;

/// A form with its submit button and the code that validates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Form {
    pub page: Page,
    pub submit: Element,
    /// Validation error when a scenario names none.
    pub default_message: &'static str,
    /// Script that validates the form (the error's `source`).
    pub source: &'static str,
    /// Validating method and its position in the minified script, then the
    /// position of the submit handler that calls it.
    pub function: &'static str,
    pub position: &'static str,
    pub handler: &'static str,
}

pub(crate) const FORMS: &[Form] = &[
    Form {
        page: Page::Signup,
        submit: SIGNUP_SUBMIT,
        default_message: "ValidationError: Invalid value for field 'email'",
        source: "https://relay.example.com/assets/auth-5e21d8.js",
        function: "SignupForm.validate",
        position: "1:6120",
        handler: "1:6874",
    },
    Form {
        page: Page::Payment,
        submit: PAY_BUTTON,
        default_message: "ValidationError: Invalid value for field 'postal_code'",
        source: "https://relay.example.com/assets/checkout-3f9a1c.js",
        function: "PaymentForm.validate",
        position: "1:47650",
        handler: "1:51007",
    },
    Form {
        page: Page::Login,
        submit: LOGIN_SUBMIT,
        default_message: "ValidationError: Invalid value for field 'email'",
        source: "https://relay.example.com/assets/auth-5e21d8.js",
        function: "LoginForm.validate",
        position: "1:3904",
        handler: "1:4410",
    },
    Form {
        page: Page::Settings,
        submit: SAVE_SETTINGS,
        default_message: "ValidationError: Invalid value for field 'project_name'",
        source: "https://relay.example.com/assets/settings-7c4d12.js",
        function: "SettingsForm.validate",
        position: "1:2210",
        handler: "1:2967",
    },
];

/// The form on `page`, if it has one.
pub(crate) fn on(page: Page) -> Option<&'static Form> {
    FORMS.iter().find(|f| f.page == page)
}

impl Form {
    /// The stack of `message` thrown by the validator, as `engine` prints it:
    /// the validator, called from the form's submit handler.
    pub(crate) fn stack(&self, engine: Engine, message: &str) -> String {
        let (src, pos, at, function) = (self.source, self.position, self.handler, self.function);
        let method = function.rsplit('.').next().unwrap_or(function);
        match engine {
            Engine::Chromium => {
                format!("{message}\n    at {function} ({src}:{pos})\n    at HTMLFormElement.onSubmit ({src}:{at})")
            }
            Engine::WebKit => format!("{method}@{src}:{pos}\nonSubmit@{src}:{at}"),
            Engine::Gecko => format!("{method}@{src}:{pos}\nonSubmit@{src}:{at}\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_on_its_own_page_and_stacks_follow_the_engine() {
        for f in FORMS {
            assert_eq!(on(f.page), Some(f));
            assert!(f.default_message.starts_with("ValidationError: "));
        }
        let signup = on(Page::Signup).map(|f| f.stack(Engine::Chromium, "ValidationError: x"));
        assert!(signup.is_some_and(|s| s.starts_with("ValidationError: x\n    at SignupForm.validate (")));
        let gecko = on(Page::Login).map(|f| f.stack(Engine::Gecko, "m"));
        assert!(gecko.is_some_and(|s| s.starts_with("validate@https://relay.example.com/assets/auth-")));
        assert_eq!(on(Page::Pricing), None);
    }
}
