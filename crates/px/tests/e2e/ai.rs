//! The AI engine end to end: a labelled friction simulated through the
//! ingestion API of a real server, found by an engine pass with the right
//! segment, announced on the insights stream, listed, read with its
//! evidence, rated and dismissed, and kept from other tenants.

use crate::bin;
use px_testkit::server::{PxServer, create_project, px};
use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;

const SCENARIO: &str = r#"
name = "chrome-signup-failure"
description = "From day 5 signups fail for Chrome half of the time."

[[friction]]
kind = "step_failure"
start = "day 5"
step = "signup_completed"
probability = 0.5
segment = { browser = "Chrome" }
"#;

/// Reads server-sent events until one named `insight` arrives.
async fn next_insight(mut stream: reqwest::Response) -> Value {
    let mut buffer = String::new();
    loop {
        let chunk = stream.chunk().await.unwrap().expect("the stream ended");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            if message.lines().any(|l| l == "event: insight") {
                let data: String =
                    message.lines().filter_map(|l| l.strip_prefix("data: ")).collect::<Vec<_>>().join("\n");
                return serde_json::from_str(&data).unwrap();
            }
        }
    }
}

#[tokio::test]
async fn an_injected_step_failure_is_found_for_its_segment_and_kept_from_other_tenants() {
    let dir = tempfile::tempdir().unwrap();
    // The schedule is off: the test runs the pass itself, so what it
    // asserts does not depend on timing.
    let server =
        PxServer::start(bin(), dir.path(), &[("PX_ADMIN_PASSWORD", "admin-password-1"), ("PX_AI__ENABLED", "false")]);
    let a = create_project(bin(), dir.path(), "a", None);
    px(bin(), dir.path(), &["admin", "tenant", "create", "acme"]);
    let b = create_project(bin(), dir.path(), "b", Some("acme"));
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let labels = dir.path().join("labels.json");
    let start = (chrono::Utc::now() - chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
    let base = server.url("");
    px(
        bin(),
        dir.path(),
        &[
            "simulate",
            "--http",
            base.trim_end_matches('/'),
            "--key",
            &a.ingest_key,
            "--days",
            "10",
            "--start",
            &start,
            "--visitors-per-day",
            "300",
            "--seed",
            "5",
            "--scenario",
            scenario.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
        ],
    );
    let truth: Value = serde_json::from_slice(&std::fs::read(&labels).unwrap()).unwrap();
    assert!(truth["frictions"][0]["affected_sessions"].as_u64().unwrap() >= 30, "{truth}");

    let c = Client::new();
    let insights = |project: i64| server.url(&format!("/api/v1/projects/{project}/insights"));
    let stream = c.get(format!("{}/stream", insights(a.project_id))).bearer_auth(&a.secret_key).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let run = c.post(format!("{}/run", insights(a.project_id))).bearer_auth(&a.secret_key).send().await.unwrap();
    assert_eq!(run.status(), 200);
    let analysis: Value = run.json().await.unwrap();
    assert!(analysis["sessions"].as_u64().unwrap() > 1000, "{analysis}");
    let announced =
        tokio::time::timeout(Duration::from_secs(30), next_insight(stream)).await.expect("no insight announced");

    let r = c.get(insights(a.project_id)).bearer_auth(&a.secret_key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    let all = list["insights"].as_array().unwrap();
    let found = all
        .iter()
        .find(|i| i["body"]["subject"]["step"] == "signup_completed" || i["body"]["subject"]["page"] == "/signup")
        .unwrap_or_else(|| panic!("the signup failure was not found: {list:#}"));
    assert!(["step_failure", "conversion_drop", "error_spike"].contains(&found["kind"].as_str().unwrap()), "{found}");
    assert_eq!(found["body"]["segment"], json!([{"dimension": "browser", "value": "Chrome"}]), "{found:#}");
    assert_eq!(found["insight_type"], "friction");
    assert!(all.iter().any(|i| i["id"] == announced["id"]), "the announced insight is listed");
    // The change began around day 5 of 10.
    let change = chrono::DateTime::parse_from_rfc3339(found["body"]["change_at"].as_str().unwrap()).unwrap();
    let began = chrono::Utc::now() - chrono::Duration::days(5);
    assert!((change.timestamp() - began.timestamp()).abs() < 2 * 86_400, "change at {change}");

    // One insight with its evidence; its query runs.
    let id = found["id"].as_i64().unwrap();
    let one: Value = c
        .get(format!("{}/{id}", insights(a.project_id)))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let evidence = &one["body"]["evidence"];
    assert!(!evidence["sample_persons"].as_array().unwrap().is_empty(), "{evidence}");
    assert!(!one["body"]["recommendation"]["steps"].as_array().unwrap().is_empty());
    let q = c
        .post(server.url(&format!("/api/v1/projects/{}/query", a.project_id)))
        .bearer_auth(&a.secret_key)
        .json(&evidence["query"])
        .send()
        .await
        .unwrap();
    assert_eq!(q.status(), 200, "{}", q.text().await.unwrap());

    // People decide; a later pass keeps their decision and the same id.
    let patch = |project: i64, key: &str, body: Value| {
        c.patch(format!("{}/{id}", insights(project))).bearer_auth(key.to_string()).json(&body).send()
    };
    let r = patch(a.project_id, &a.secret_key, json!({"status": "dismissed", "rating": 4})).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = patch(a.project_id, &a.secret_key, json!({"rating": 9})).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "rating");
    let r = patch(a.project_id, &a.secret_key, json!({"status": "gone"})).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "status");
    let again = c.post(format!("{}/run", insights(a.project_id))).bearer_auth(&a.secret_key).send().await.unwrap();
    assert_eq!(again.status(), 200);
    let one: Value = c
        .get(format!("{}/{id}", insights(a.project_id)))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["status"], "dismissed");
    assert_eq!(one["rating"], 4);
    let dismissed: Value = c
        .get(format!("{}?status=dismissed", insights(a.project_id)))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(dismissed["insights"].as_array().unwrap().iter().all(|i| i["status"] == "dismissed"));
    assert!(dismissed["total"].as_i64().unwrap() >= 1);

    // Another tenant sees nothing of it and can change nothing.
    let r = c.get(insights(a.project_id)).bearer_auth(&b.secret_key).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = c.get(format!("{}/{id}", insights(b.project_id))).bearer_auth(&b.secret_key).send().await.unwrap();
    assert_eq!(r.status(), 404, "B's project has no insight {id}");
    let r = patch(b.project_id, &b.secret_key, json!({"status": "active"})).await.unwrap();
    assert_eq!(r.status(), 404);
    let r = patch(a.project_id, &b.secret_key, json!({"status": "active"})).await.unwrap();
    assert_eq!(r.status(), 404);
    let r = c.get(insights(b.project_id)).bearer_auth(&b.secret_key).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);
    // Ingestion keys cannot read insights.
    let r = c.get(insights(a.project_id)).bearer_auth(&a.ingest_key).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = c.get(format!("{}?type=bogus", insights(a.project_id))).bearer_auth(&a.secret_key).send().await.unwrap();
    assert_eq!(r.status(), 400);
}
