//! The query API end to end: a real server, events in through ingestion,
//! answers out of `POST /api/v1/projects/{p}/query`, scoped by construction.

use crate::bin;
use px_testkit::server::{PxServer, create_project, px};
use reqwest::Client;
use serde_json::{Value, json};

#[tokio::test]
async fn queries_answer_within_their_project_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = PxServer::start(bin(), dir.path(), &[("PX_ADMIN_PASSWORD", "admin-password-1")]);
    let a = create_project(bin(), dir.path(), "a", None);
    px(bin(), dir.path(), &["admin", "tenant", "create", "acme"]);
    let b = create_project(bin(), dir.path(), "b", Some("acme"));
    let c = Client::new();
    let now = chrono::Utc::now().to_rfc3339();
    for (key, n) in [(&a.ingest_key, 3), (&b.ingest_key, 5)] {
        let events: Vec<Value> =
            (0..n).map(|i| json!({"event": "signup", "distinct_id": format!("u{i}"), "timestamp": now})).collect();
        let r = c.post(server.url("/api/v1/events/batch")).bearer_auth(key).json(&json!({"events": events})).send();
        assert_eq!(r.await.unwrap().status(), 200);
    }
    let query = |project: i64, key: &str, body: Value| {
        c.post(server.url(&format!("/api/v1/projects/{project}/query"))).bearer_auth(key.to_string()).json(&body).send()
    };
    let trend =
        json!({"kind":"trend","series":[{"event":"signup","math":"unique_persons"}],"date_range":{"from":"-1d"}});
    let r = query(a.project_id, &a.secret_key, trend.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["series"][0]["total"], 3.0, "only project A's persons: {answer}");
    let r = query(b.project_id, &b.secret_key, trend.clone()).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["series"][0]["total"], 5.0);

    // A's key cannot query B (404 hides B), and ingest keys cannot query at all.
    assert_eq!(query(b.project_id, &a.secret_key, trend.clone()).await.unwrap().status(), 404);
    assert_eq!(query(a.project_id, &a.ingest_key, trend.clone()).await.unwrap().status(), 403);

    // A bad query is a 400 naming the field.
    let bad = json!({"kind":"trend","series":[{"event":"signup","math":"mean"}]});
    let r = query(a.project_id, &a.secret_key, bad).await.unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["field"], "series[0].math", "{err}");
    let r = query(a.project_id, &a.secret_key, json!({"kind":"trend","series":[]})).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "series");
}
