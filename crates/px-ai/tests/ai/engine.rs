//! The engine over simulated traffic in a real DuckDB store: an injected
//! friction is found with its segment, clean traffic gives no friction, and
//! a pass with an LLM stores the LLM's recommendations.

use px_ai::analyze::Settings;
use px_ai::engine::{self, Pass};
use px_core::time::MICROS_PER_DAY;
use px_core::{ProjectId, ProjectScope, ProjectSettings, TenantId};
use px_ingest::Pipeline;
use px_ingest::decode::parse_batch;
use px_ingest::enrich::{Enricher, RequestInfo};
use px_simulate::{Scenario, SimConfig, Simulator};
use px_store::{DuckDbEventStore, EventStore, ScopedEvent};
use serde_json::json;

const SCOPE: ProjectScope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };
/// 2025-05-05, a Monday.
const START: i64 = 1_746_403_200_000_000;

async fn load(dir: &std::path::Path, scenario: &str, days: u32, visitors: u32, seed: u64) -> (DuckDbEventStore, i64) {
    let store = DuckDbEventStore::open(&dir.join("events.duckdb"), None).unwrap();
    let config = SimConfig::new(seed, START, days, visitors);
    let mut sim = Simulator::with_scenario(config, Scenario::from_toml(scenario).unwrap());
    let pipeline = Pipeline::new(Default::default(), Enricher::new(None));
    let end = START + i64::from(days) * MICROS_PER_DAY;
    let mut events = Vec::new();
    while let Some(batch) = sim.next_batch(1000) {
        let body = serde_json::to_vec(&json!({ "events": batch })).unwrap();
        let raw = parse_batch(&body, &pipeline.limits).unwrap();
        let done = pipeline.process(SCOPE.project_id, &ProjectSettings::default(), &raw, &RequestInfo::default(), end);
        events.extend(done.events.into_iter().map(|event| ScopedEvent { scope: SCOPE, event }));
    }
    store.append(events).await.unwrap();
    (store, end)
}

#[tokio::test]
async fn a_signup_failure_on_one_browser_is_found_with_its_browser() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"
name = "chrome-signup-failure"
[[friction]]
kind = "step_failure"
start = "day 5"
step = "signup_completed"
probability = 0.5
segment = { browser = "Chrome" }
"#;
    let (store, end) = load(dir.path(), scenario, 10, 300, 3).await;
    let a = engine::analyze(&store, SCOPE, end, Pass::FULL, Settings::default(), None).await.unwrap();
    let titles: Vec<&str> = a.drafts.iter().map(|d| d.title.as_str()).collect();
    let found = a
        .drafts
        .iter()
        .find(|d| d.subject["page"] == "/signup" || d.subject["step"] == "signup_completed")
        .unwrap_or_else(|| panic!("not found among {titles:#?}"));
    assert_eq!(found.segment, vec![json!({"dimension": "browser", "value": "Chrome"})], "{titles:#?}");
    assert_eq!(found.insight_type, "friction");
    let change = px_core::time::parse_rfc3339(&found.change_at).unwrap();
    assert!((change - (START + 5 * MICROS_PER_DAY)).abs() <= MICROS_PER_DAY, "{}", found.change_at);
    assert!(found.impact.affected_sessions >= 20, "{:?}", found.impact);
    assert!(!found.recommendation["steps"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn clean_traffic_gives_no_friction() {
    let dir = tempfile::tempdir().unwrap();
    let (store, end) = load(dir.path(), "name = \"clean\"", 10, 300, 4).await;
    let a = engine::analyze(&store, SCOPE, end, Pass::FULL, Settings::default(), None).await.unwrap();
    let frictions: Vec<&str> =
        a.drafts.iter().filter(|d| d.insight_type == "friction").map(|d| d.title.as_str()).collect();
    assert!(frictions.is_empty(), "{frictions:#?}");
    assert!(a.sessions > 2000, "{}", a.sessions);
}

/// A stored draft of a step failure on `/signup` for `segment`, changing at `change_at`.
fn draft(segment: Vec<serde_json::Value>, change_at: &str) -> px_ai::insight::Draft {
    px_ai::insight::Draft {
        insight_type: "friction",
        kind: "step_failure",
        title: "Signup fails".into(),
        summary: String::new(),
        subject: json!({"page": "/signup", "step": "signup_completed"}),
        key: format!("friction|page=/signup|{}", serde_json::to_string(&segment).unwrap()),
        segment,
        change_at: change_at.into(),
        metrics: json!({}),
        impact: Default::default(),
        priority: "high",
        recommendation: json!({}),
        evidence: json!({}),
        reach: 1.0,
    }
}

#[tokio::test]
async fn a_later_pass_refines_the_segment_of_the_same_incident() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, project) = project(dir.path()).await;
    let scope = project.scope();
    let now = START + 10 * MICROS_PER_DAY;
    let first = engine::store(&meta, scope, now, &[draft(vec![], "2025-05-10T00:00:00.000Z")]).await.unwrap();
    let (first, created) = &first[0];
    assert!(created);

    // The next pass names the browser, with the change a day later: the
    // same incident, refined.
    let safari = vec![json!({"dimension": "browser", "value": "Safari"})];
    let refined =
        engine::store(&meta, scope, now + MICROS_PER_DAY, &[draft(safari.clone(), "2025-05-11T00:00:00.000Z")])
            .await
            .unwrap();
    let (refined, created) = &refined[0];
    assert!(!created);
    assert_eq!(refined.id, first.id);
    assert_eq!(refined.body["segment"], json!(safari));

    // The same subject changing for other people a week later is a new
    // incident.
    let chrome = vec![json!({"dimension": "browser", "value": "Chrome"})];
    let later = engine::store(&meta, scope, now + 8 * MICROS_PER_DAY, &[draft(chrome, "2025-05-18T00:00:00.000Z")])
        .await
        .unwrap();
    assert!(later[0].1);
    assert_ne!(later[0].0.id, first.id);
}

#[tokio::test]
async fn a_pass_with_an_llm_stores_its_recommendations() {
    use px_ai::llm::{Llm, LlmConfig};
    use px_testkit::llm::{FakeLlm, Reply};
    let dir = tempfile::tempdir().unwrap();
    let scenario = "name = \"signup-failure\"\n[[friction]]\nkind = \"step_failure\"\nstart = \"day 4\"\n\
                    step = \"signup_completed\"\nprobability = 0.8\n";
    let (store, end) = load(dir.path(), scenario, 7, 150, 3).await;
    let (meta, project) = project(dir.path()).await;
    let answer = json!({"headline": "Fix the signup form", "steps": ["Replay the failed signups."],
        "experiment": {"hypothesis": "Fixing it restores signups.", "primary_metric": "signups per visit"}});
    let fake = FakeLlm::start(Reply::Content(answer.to_string())).await;
    let config = LlmConfig { url: Some(fake.url.clone()), model: Some("m".into()), ..Default::default() };
    let llm = Llm::new(&config).unwrap().unwrap();

    let (analysis, stored) =
        engine::run(&store, &meta, project.scope(), end, Pass::FULL, Settings::default(), Some(&llm)).await.unwrap();
    let frictions: Vec<&serde_json::Value> =
        stored.iter().filter(|(i, _)| i.insight_type == "friction").map(|(i, _)| &i.body["recommendation"]).collect();
    let titles: Vec<&str> = analysis.drafts.iter().map(|d| d.title.as_str()).collect();
    assert!(!frictions.is_empty(), "{titles:#?}");
    for r in &frictions {
        assert_eq!((r["source"].as_str(), r["headline"].as_str()), (Some("llm"), Some("Fix the signup form")), "{r}");
        assert!(r["experiment"]["flag_key"].as_str().unwrap().starts_with("fix-"), "{r}");
    }
    assert_eq!(fake.requests().len(), frictions.len());
}

/// A metadata store in `dir` holding one tenant and its project.
async fn project(dir: &std::path::Path) -> (px_store::SqliteMetaStore, px_store::Project) {
    use px_store::{MetaStore, NewProject, SqliteMetaStore};
    let meta = SqliteMetaStore::open(&dir.join("meta.sqlite")).await.unwrap();
    let tenant = meta.create_tenant("t", "self_hosted").await.unwrap();
    let project = meta
        .create_project(NewProject { tenant_id: tenant.id, name: "p".into(), settings: ProjectSettings::default() })
        .await
        .unwrap();
    (meta, project)
}
