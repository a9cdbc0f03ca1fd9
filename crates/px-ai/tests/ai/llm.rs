//! The LLM recommendations against a fake OpenAI-compatible server on
//! 127.0.0.1: what is sent, what is accepted, and that every failure (bad
//! JSON, schema violation, refusal, HTTP error, no answer) leaves the
//! rules' recommendation with the reason, fast, and without hammering the
//! endpoint.

use px_ai::insight::{Draft, Impact};
use px_ai::llm::{ApiKey, Llm, LlmConfig};
use px_testkit::llm::{FakeLlm, Reply};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn config(url: &str) -> LlmConfig {
    LlmConfig {
        url: Some(url.into()),
        model: Some("test-model".into()),
        api_key: Some(ApiKey::new("sk-test")),
        timeout_secs: 1,
        max_calls_per_pass: 10,
        pass_budget_secs: 5,
    }
}

async fn llm(fake: &FakeLlm) -> Llm {
    Llm::new(&config(&fake.url)).unwrap().expect("on with a url")
}

/// A friction draft on `page` whose conversion fell to `after`, with the
/// rules' recommendation the engine gives it.
fn draft(page: &str, after: f64) -> Draft {
    Draft {
        insight_type: "friction",
        kind: "step_failure",
        title: format!("payment_completed is failing on {page}"),
        summary: String::new(),
        subject: json!({"step": "payment_completed", "page": page}),
        segment: vec![json!({"dimension": "browser", "value": "Chrome"})],
        change_at: "2025-05-10T00:00:00Z".into(),
        metrics: json!({"measure": "conversion", "before": {"units": 900.0, "value": 0.62},
                        "after": {"units": 300.0, "value": after}, "ratio": after / 0.62}),
        impact: Impact { affected_sessions_per_month: 1200.0, ..Default::default() },
        priority: "high",
        recommendation: json!({"source": "rules", "headline": "Fix the failing payment_completed for browser Chrome",
            "steps": ["Reproduce it."], "experiment": {"hypothesis": "rules' hypothesis",
            "flag_key": "fix-step-failure-payment-completed", "audience": "browser Chrome",
            "primary_metric": "conversion to payment_completed", "sessions_per_arm": 3839, "days_needed": 7.0}}),
        evidence: json!({}),
        key: format!("friction|page={page}|browser=Chrome"),
        reach: 0.0,
    }
}

fn answer() -> String {
    json!({
        "headline": "Fix card validation in the Chrome checkout",
        "steps": ["Replay the failed Chrome sessions on /checkout.", "Check the card form's validation script."],
        "experiment": {"hypothesis": "Fixing validation brings payment conversion for Chrome from 40% back to 62%.",
                       "primary_metric": "payment_completed per checkout start"},
    })
    .to_string()
}

async fn refine(llm: &Llm, drafts: Vec<Draft>) -> Vec<Value> {
    let mut drafts = drafts;
    llm.refine(&mut drafts).await;
    drafts.into_iter().map(|d| d.recommendation).collect()
}

#[tokio::test]
async fn a_valid_answer_becomes_the_recommendation_with_the_rules_sizing() {
    let fake = FakeLlm::start(Reply::Content(answer())).await;
    let r = refine(&llm(&fake).await, vec![draft("/checkout", 0.4)]).await.remove(0);
    assert_eq!(r["source"], "llm", "{r}");
    assert_eq!(r["model"], "test-model");
    assert_eq!(r["headline"], "Fix card validation in the Chrome checkout");
    assert_eq!(r["steps"][1], "Check the card form's validation script.");
    assert_eq!(r["experiment"]["primary_metric"], "payment_completed per checkout start");
    assert_eq!(r["experiment"]["sessions_per_arm"], 3839, "sizing is computed, not the llm's");
    assert_eq!(r["experiment"]["sized_for"], "conversion to payment_completed");
    assert_eq!(r["experiment"]["flag_key"], "fix-step-failure-payment-completed");
    assert!(r.get("llm_error").is_none(), "{r}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn the_request_carries_the_key_the_model_and_the_strict_schema() {
    let fake = FakeLlm::start(Reply::Content(answer())).await;
    refine(&llm(&fake).await, vec![draft("/checkout", 0.4)]).await;
    let requests = fake.requests();
    let request = &requests[0];
    assert_eq!(request.authorization.as_deref(), Some("Bearer sk-test"));
    let body = &request.body;
    assert_eq!(body["model"], "test-model");
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(format["json_schema"]["name"], "px_recommendation");
    assert_eq!(format["json_schema"]["schema"]["properties"]["experiment"]["required"][0], "hypothesis");
    assert_eq!(body["messages"][0]["role"], "system");
    let facts = body["messages"][1]["content"].as_str().unwrap();
    for fact in ["/checkout", "Chrome", "step_failure", "Fix the failing payment_completed", "0.62"] {
        assert!(facts.contains(fact), "{fact} not in {facts}");
    }
}

#[tokio::test]
async fn prose_instead_of_json_falls_back_with_the_reason() {
    let fake = FakeLlm::start(Reply::Content("Sure! First, fix the form.".into())).await;
    let r = refine(&llm(&fake).await, vec![draft("/checkout", 0.4)]).await.remove(0);
    assert_eq!(r["source"], "rules");
    assert_eq!(r["headline"], "Fix the failing payment_completed for browser Chrome");
    assert!(r["llm_error"].as_str().unwrap().starts_with("the answer is not JSON"), "{r}");
}

#[tokio::test]
async fn a_schema_violation_falls_back_with_the_reason() {
    let mut bad: Value = serde_json::from_str(&answer()).unwrap();
    bad["steps"] = json!(vec!["Do it."; 9]);
    let fake = FakeLlm::start(Reply::Content(bad.to_string())).await;
    let llm = llm(&fake).await;
    let r = refine(&llm, vec![draft("/checkout", 0.4)]).await.remove(0);
    assert_eq!(r["source"], "rules");
    assert_eq!(r["llm_error"], "the answer does not match the schema: steps has 9 items, not 1 to 8");
    bad["steps"] = json!(["Do it."]);
    bad["headline"] = json!("h".repeat(201));
    fake.set_reply(Reply::Content(bad.to_string()));
    let r = refine(&llm, vec![draft("/signup", 0.4)]).await.remove(0);
    assert_eq!(r["llm_error"], "the answer does not match the schema: headline has 201 characters, more than 200");
}

#[tokio::test]
async fn a_refusal_and_an_http_error_fall_back_with_the_reason() {
    let fake = FakeLlm::start(Reply::Refusal("I cannot help with that.".into())).await;
    let llm = llm(&fake).await;
    let r = refine(&llm, vec![draft("/checkout", 0.4)]).await.remove(0);
    assert_eq!(
        (r["source"].as_str(), r["llm_error"].as_str()),
        (Some("rules"), Some("the llm refused: I cannot help with that."))
    );
    fake.set_reply(Reply::Status(429));
    let r = refine(&llm, vec![draft("/signup", 0.4)]).await.remove(0);
    assert_eq!(r["llm_error"], "the llm answered http 429 Too Many Requests");
}

#[tokio::test]
async fn a_server_that_never_answers_falls_back_within_the_timeout() {
    let fake = FakeLlm::start(Reply::Hang).await;
    let llm = llm(&fake).await;
    let started = Instant::now();
    let r = refine(&llm, vec![draft("/checkout", 0.4)]).await.remove(0);
    let took = started.elapsed();
    assert_eq!(r["source"], "rules");
    assert_eq!(r["llm_error"], "no answer within 1 s");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3), "{took:?}");
    assert_eq!(fake.requests().len(), 1, "the request reached the server");
}

#[tokio::test]
async fn the_pass_budget_bounds_the_wait_of_a_whole_pass() {
    let fake = FakeLlm::start(Reply::Hang).await;
    let llm = Llm::new(&LlmConfig { pass_budget_secs: 1, ..config(&fake.url) }).unwrap().unwrap();
    let started = Instant::now();
    // Two calls at a time, each allowed 1 s: four would take 2 s unbounded.
    let drafts = ["/a", "/b", "/c", "/d"].map(|p| draft(p, 0.4)).to_vec();
    let rs = refine(&llm, drafts).await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1800), "{took:?}");
    assert!(rs.iter().all(|r| r["source"] == "rules" && r["llm_error"].is_string()), "{rs:#?}");
    assert!(rs.iter().any(|r| r["llm_error"] == "not asked: this pass spent its ai.llm.pass_budget_secs"), "{rs:#?}");
}

#[tokio::test]
async fn failures_in_a_row_pause_the_calls() {
    let fake = FakeLlm::start(Reply::Status(503)).await;
    let llm = llm(&fake).await;
    let first = refine(&llm, ["/a", "/b", "/c"].map(|p| draft(p, 0.4)).to_vec()).await;
    assert!(first.iter().all(|r| r["llm_error"] == "the llm answered http 503 Service Unavailable"), "{first:#?}");
    assert_eq!(fake.requests().len(), 3);
    // The endpoint recovers, but the breaker waits out its cooldown.
    fake.set_reply(Reply::Content(answer()));
    let started = Instant::now();
    let second = refine(&llm, ["/d", "/e"].map(|p| draft(p, 0.4)).to_vec()).await;
    assert!(started.elapsed() < Duration::from_millis(500), "rules at once while paused");
    assert_eq!(fake.requests().len(), 3, "no call while paused");
    let error = second[0]["llm_error"].as_str().unwrap();
    assert!(error.starts_with("llm paused after 3 failures in a row (last: the llm answered http 503"), "{error}");
    assert_eq!(second[1]["source"], "rules");
}

#[tokio::test]
async fn the_same_facts_are_asked_once() {
    let fake = FakeLlm::start(Reply::Content(answer())).await;
    let llm = llm(&fake).await;
    let first = refine(&llm, vec![draft("/checkout", 0.4)]).await.remove(0);
    // The next pass: figures drifted within rounding, the facts are the same.
    let again = refine(&llm, vec![draft("/checkout", 0.401)]).await.remove(0);
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(again, first);
    // A real change is asked about.
    refine(&llm, vec![draft("/checkout", 0.2)]).await;
    assert_eq!(fake.requests().len(), 2);
    // Failures are not cached: the next pass tries again.
    fake.set_reply(Reply::Status(500));
    refine(&llm, vec![draft("/signup", 0.4)]).await;
    fake.set_reply(Reply::Content(answer()));
    let r = refine(&llm, vec![draft("/signup", 0.4)]).await.remove(0);
    assert_eq!((r["source"].as_str(), fake.requests().len()), (Some("llm"), 4));
}

#[tokio::test]
async fn a_pass_asks_at_most_max_calls_per_pass_most_reach_first() {
    let fake = FakeLlm::start(Reply::Content(answer())).await;
    let llm = Llm::new(&LlmConfig { max_calls_per_pass: 2, ..config(&fake.url) }).unwrap().unwrap();
    let mut anomaly = draft("/", 0.4);
    anomaly.kind = "traffic_drop";
    anomaly.recommendation = json!({"source": "rules", "headline": "Check what changed", "steps": ["Open it."]});
    let rs = refine(&llm, vec![draft("/a", 0.4), anomaly, draft("/b", 0.4), draft("/c", 0.4)]).await;
    assert_eq!(fake.requests().len(), 2);
    assert_eq!((rs[0]["source"].as_str(), rs[2]["source"].as_str()), (Some("llm"), Some("llm")));
    assert_eq!(rs[1], json!({"source": "rules", "headline": "Check what changed", "steps": ["Open it."]}));
    assert_eq!(rs[3]["llm_error"], "not asked: this pass made ai.llm.max_calls_per_pass calls already");
    // Cached answers are free: the next pass gets to the third.
    let rs = refine(&llm, vec![draft("/a", 0.4), draft("/b", 0.4), draft("/c", 0.4)]).await;
    assert!(rs.iter().all(|r| r["source"] == "llm"), "{rs:#?}");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn no_key_no_authorization_header() {
    let fake = FakeLlm::start(Reply::Content(answer())).await;
    let llm = Llm::new(&LlmConfig { api_key: None, ..config(&fake.url) }).unwrap().unwrap();
    refine(&llm, vec![draft("/checkout", 0.4)]).await;
    assert_eq!(fake.requests()[0].authorization, None);
}
