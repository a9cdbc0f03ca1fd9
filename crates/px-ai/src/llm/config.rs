//! `[ai.llm]`: where the LLM is and how much of a pass it may take. The
//! binary embeds it in its config and reports [`LlmConfig::problems`] with
//! the rest; [`super::Llm::new`] trusts a config that has none.

use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};

/// An OpenAI-compatible chat completions endpoint that refines the rules'
/// recommendations. Off while `url` is unset, which is the default: PX
/// needs no LLM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// Base URL of the API up to its version (`http://127.0.0.1:11434/v1`,
    /// `https://api.openai.com/v1`); requests go to `{url}/chat/completions`.
    pub url: Option<String>,
    /// The model asked; required with `url`.
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer`; local servers need none.
    pub api_key: Option<ApiKey>,
    /// Longest wait for one answer.
    pub timeout_secs: u64,
    /// Most calls one pass makes; cached answers are free. The insights
    /// that reach the most sessions are asked first.
    pub max_calls_per_pass: usize,
    /// Longest one pass waits on the LLM in all: a pass runs every minute
    /// inside `px serve` and must not stall on a slow model.
    pub pass_budget_secs: u64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self { url: None, model: None, api_key: None, timeout_secs: 20, max_calls_per_pass: 5, pass_budget_secs: 40 }
    }
}

/// A secret that never shows in `Debug` output, so logging a config cannot
/// leak it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the one header that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `Authorization` header value, marked sensitive so HTTP layers
    /// do not print it either.
    pub(crate) fn header(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl LlmConfig {
    /// Every problem at once, each naming its key under `ai.llm`.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if let Some(url) = &self.url {
            p.extend(url_problem(url));
            if self.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
                p.push("ai.llm.model must be set when ai.llm.url is".into());
            }
        }
        if let Some(key) = &self.api_key
            && (key.0.trim().is_empty() || key.header().is_none())
        {
            p.push("ai.llm.api_key must be non-empty visible ASCII (it is sent in an HTTP header)".into());
        }
        if !(1..=300).contains(&self.timeout_secs) {
            p.push("ai.llm.timeout_secs must be 1 to 300".into());
        }
        if !(1..=100).contains(&self.max_calls_per_pass) {
            p.push("ai.llm.max_calls_per_pass must be 1 to 100".into());
        }
        if !(self.timeout_secs..=600).contains(&self.pass_budget_secs) {
            p.push("ai.llm.pass_budget_secs must be at least ai.llm.timeout_secs and at most 600".into());
        }
        p
    }

    /// `{url}/chat/completions`, when the LLM is on and its URL is valid.
    pub(crate) fn endpoint(&self) -> Option<reqwest::Url> {
        let base = self.url.as_deref()?;
        reqwest::Url::parse(&format!("{}/chat/completions", base.trim_end_matches('/'))).ok()
    }
}

fn url_problem(url: &str) -> Option<String> {
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return Some(format!("ai.llm.url {url:?} is not a URL: {e}")),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some(format!("ai.llm.url {url:?} must be http or https"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("ai.llm.url must not carry credentials: set ai.llm.api_key".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Some(format!("ai.llm.url {url:?} must have no query or fragment"));
    }
    if parsed.path().trim_end_matches('/').ends_with("/chat/completions") {
        return Some(format!("ai.llm.url {url:?} is the base URL (ending in /v1), without /chat/completions"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(url: &str) -> LlmConfig {
        LlmConfig { url: Some(url.into()), model: Some("m".into()), ..Default::default() }
    }

    #[test]
    fn off_by_default_and_valid() {
        let c = LlmConfig::default();
        assert_eq!(c.endpoint(), None);
        assert_eq!(c.problems(), Vec::<String>::new());
    }

    #[test]
    fn the_endpoint_is_the_base_url_and_chat_completions() {
        let url = on("http://127.0.0.1:11434/v1/").endpoint().map(|u| u.to_string());
        assert_eq!(url.as_deref(), Some("http://127.0.0.1:11434/v1/chat/completions"));
    }

    #[test]
    fn bad_urls_are_named() {
        for (url, expected) in [
            ("localhost:11434", "must be http or https"),
            ("not a url", "is not a URL"),
            ("https://user:pw@api.example.com/v1", "must not carry credentials"),
            ("https://api.example.com/v1/chat/completions", "without /chat/completions"),
            ("https://api.example.com/v1?key=1", "no query"),
        ] {
            let problems = on(url).problems();
            assert!(
                problems.iter().any(|p| p.starts_with("ai.llm.url") && p.contains(expected)),
                "{url}: {problems:?}"
            );
        }
        assert_eq!(on("https://api.openai.com/v1").problems(), Vec::<String>::new());
    }

    #[test]
    fn a_url_needs_a_model_and_limits_are_checked() {
        let c = LlmConfig {
            model: None,
            timeout_secs: 0,
            max_calls_per_pass: 0,
            pass_budget_secs: 900,
            api_key: Some(ApiKey::new("two\nlines")),
            ..on("http://127.0.0.1:8080/v1")
        };
        let problems = c.problems().join("\n");
        for key in ["ai.llm.model", "ai.llm.timeout_secs", "ai.llm.max_calls_per_pass", "ai.llm.pass_budget_secs"] {
            assert!(problems.contains(key), "{key} missing from {problems}");
        }
        assert!(problems.contains("ai.llm.api_key"), "{problems}");
        assert!(!problems.contains("two"), "the key is never echoed: {problems}");
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let c = LlmConfig { api_key: Some(ApiKey::new("sk-very-secret")), ..on("https://api.openai.com/v1") };
        let shown = format!("{c:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
