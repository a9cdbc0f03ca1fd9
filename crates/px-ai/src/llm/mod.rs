//! An optional LLM behind an OpenAI-compatible endpoint (OpenAI, Ollama,
//! vLLM, llama.cpp's server, LiteLLM, ...) that rewrites the rules'
//! recommendation of an insight for its facts.
//!
//! The rules stay the ground truth: the LLM gets their recommendation as a
//! starting point, its answer must pass the schema (`answer`) or the rules
//! are kept with the reason, and the experiment's sizing stays computed.
//! A pass never fails and never stalls because of the LLM: calls are
//! cached (`cache`), stopped after repeated failures (`breaker`), two at a
//! time, capped per pass in number and in time. What is sent is described
//! in `prompt`.

mod answer;
mod breaker;
mod cache;
mod config;
mod prompt;

pub use config::{ApiKey, LlmConfig};

use crate::insight::Draft;
use breaker::Breaker;
use cache::Cache;
use parking_lot::Mutex;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Calls in flight at once, across passes: enough to hide one slow answer,
/// few enough not to queue up on a local model.
const CONCURRENT_CALLS: usize = 2;
/// Largest response body read.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why an insight kept the rules' recommendation; its text is the
/// insight's `llm_error`. Never an error of the pass: it ends as a field.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("not asked: this pass made ai.llm.max_calls_per_pass calls already")]
    CallsSpent,
    #[error("not asked: this pass spent its ai.llm.pass_budget_secs")]
    BudgetSpent,
    #[error("cut: this pass's ai.llm.pass_budget_secs ran out before the answer")]
    BudgetCut,
    #[error("llm paused after {failures} failures in a row (last: {last}); next try in {retry_in_secs} s")]
    Paused { failures: u32, last: String, retry_in_secs: u64 },
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("cannot reach the llm: {0}")]
    Transport(String),
    #[error("the llm answered http {0}")]
    Status(reqwest::StatusCode),
    #[error("the llm refused: {0}")]
    Refused(String),
    #[error("the llm's response is not a chat completion: {0}")]
    Protocol(String),
    #[error("the answer is not JSON: {0}")]
    NotJson(String),
    #[error("the answer does not match the schema: {0}")]
    Invalid(String),
    #[error("the llm client cannot start: {0}")]
    Client(String),
}

/// The LLM client of a process, built once from config and shared by its
/// passes (its cache and breaker only help when shared).
pub struct Llm {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    model: String,
    authorization: Option<HeaderValue>,
    timeout: Duration,
    max_calls_per_pass: usize,
    pass_budget: Duration,
    calls: Semaphore,
    cache: Mutex<Cache>,
    breaker: Mutex<Breaker>,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm").field("endpoint", &self.endpoint.as_str()).field("model", &self.model).finish()
    }
}

impl Llm {
    /// The client for `config`, or `None` when no URL is set (rules only).
    /// `config` should have no [`LlmConfig::problems`].
    pub fn new(config: &LlmConfig) -> Result<Option<Llm>, LlmError> {
        if config.url.is_none() {
            return Ok(None);
        }
        if let problems @ [_, ..] = config.problems().as_slice() {
            return Err(LlmError::Client(problems.join("; ")));
        }
        let endpoint = config.endpoint().ok_or_else(|| LlmError::Client("ai.llm.url is not a URL".into()))?;
        let timeout = Duration::from_secs(config.timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("px/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Client(px_core::error::chain(&e)))?;
        Ok(Some(Llm {
            http,
            endpoint,
            model: config.model.clone().unwrap_or_default(),
            authorization: config.api_key.as_ref().and_then(ApiKey::header),
            timeout,
            max_calls_per_pass: config.max_calls_per_pass,
            pass_budget: Duration::from_secs(config.pass_budget_secs),
            calls: Semaphore::new(CONCURRENT_CALLS),
            cache: Mutex::new(Cache::new(cache::CAPACITY)),
            breaker: Mutex::new(Breaker::default()),
        }))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Replaces the rules' recommendation of each draft that has an
    /// experiment with the LLM's (`"source": "llm"`), or leaves it with an
    /// `llm_error` saying why not. Drafts come most important first (as
    /// a pass sorts them), and are asked in that order. Anomalies, whose
    /// recommendation is a checklist with no fix to test, keep the rules.
    pub async fn refine(&self, drafts: &mut [Draft]) {
        let deadline = Instant::now() + self.pass_budget;
        let mut asks: Vec<(usize, cache::Key, String)> = Vec::new();
        for (i, draft) in drafts.iter_mut().enumerate() {
            if !draft.recommendation["experiment"].is_object() {
                continue;
            }
            let facts = prompt::facts(draft).to_string();
            let key = cache::Key::new(&draft.key, &facts);
            if let Some(advice) = self.cache.lock().get(&key) {
                draft.recommendation = answer::merge(&draft.recommendation, &advice, &self.model);
            } else if asks.len() < self.max_calls_per_pass {
                asks.push((i, key, facts));
            } else {
                draft.recommendation = answer::fallback(&draft.recommendation, &LlmError::CallsSpent);
            }
        }
        let answers = futures_util::future::join_all(asks.iter().map(|(_, _, facts)| self.ask(facts, deadline))).await;
        for ((i, key, _), outcome) in asks.into_iter().zip(answers) {
            let Some(draft) = drafts.get_mut(i) else { continue };
            draft.recommendation = match outcome {
                Ok(advice) => {
                    let merged = answer::merge(&draft.recommendation, &advice, &self.model);
                    self.cache.lock().insert(key, advice);
                    merged
                }
                Err(e) => answer::fallback(&draft.recommendation, &e),
            };
        }
    }

    /// One call, if the breaker, a call slot and the pass's deadline allow.
    async fn ask(&self, facts: &str, deadline: Instant) -> Result<answer::Advice, LlmError> {
        if let Some(paused) = self.breaker.lock().paused(std::time::Instant::now()) {
            return Err(paused);
        }
        let _slot = match tokio::time::timeout_at(deadline, self.calls.acquire()).await {
            Ok(Ok(slot)) if Instant::now() < deadline => slot,
            // The semaphore is never closed.
            Ok(_) | Err(_) => return Err(LlmError::BudgetSpent),
        };
        self.breaker.lock().admit(std::time::Instant::now())?;
        let outcome = match tokio::time::timeout_at(deadline, self.call(facts)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(LlmError::BudgetCut),
        };
        match &outcome {
            Ok(_) => self.breaker.lock().success(),
            // Cut short by the pass, not failed: no verdict on the endpoint.
            Err(LlmError::BudgetCut) => self.breaker.lock().release(std::time::Instant::now()),
            Err(e) => {
                tracing::warn!(error = %e, model = %self.model, "llm recommendation failed; the rules' stands");
                if self.breaker.lock().failure(std::time::Instant::now(), e) {
                    tracing::warn!(
                        failures = breaker::FAILURES_TO_OPEN,
                        pause_secs = breaker::COOLDOWN.as_secs(),
                        "llm paused after failures in a row; insights get the rules' recommendations meanwhile"
                    );
                }
            }
        }
        outcome
    }

    async fn call(&self, facts: &str) -> Result<answer::Advice, LlmError> {
        let mut request = self.http.post(self.endpoint.clone()).json(&prompt::request(&self.model, facts));
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let response = request.send().await.map_err(|e| self.failed(e))?;
        let status = response.status();
        if !status.is_success() {
            // The body is not quoted: some APIs echo part of the key in it.
            return Err(LlmError::Status(status));
        }
        let body = self.read_capped(response).await?;
        answer::parse(&body)
    }

    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>, LlmError> {
        let mut out = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(e))? {
            if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(LlmError::Protocol(format!("response longer than {MAX_RESPONSE_BYTES} bytes")));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    fn failed(&self, e: reqwest::Error) -> LlmError {
        if e.is_timeout() {
            LlmError::Timeout(self.timeout.as_secs())
        } else {
            LlmError::Transport(px_core::error::chain(&e.without_url()))
        }
    }
}
