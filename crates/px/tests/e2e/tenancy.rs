//! Multi-tenant isolation and user access, end to end: a key or a user of
//! one tenant can never read or write another tenant's data.

use crate::bin;
use px_testkit::server::{PxServer, create_project, px};
use reqwest::Client;
use serde_json::{Value, json};

#[tokio::test]
async fn keys_and_users_stay_inside_their_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let server = PxServer::start(bin(), dir.path(), &[("PX_ADMIN_PASSWORD", "admin-password-1")]);
    // Tenant A (the default one) and tenant B, created while serving.
    let a = create_project(bin(), dir.path(), "a", None);
    px(bin(), dir.path(), &["admin", "tenant", "create", "acme"]);
    let b = create_project(bin(), dir.path(), "b", Some("acme"));
    assert_ne!(a.tenant_id, b.tenant_id);
    px(
        bin(),
        dir.path(),
        &[
            "admin",
            "user",
            "create",
            "bob@acme.io",
            "--password",
            "bob-password",
            "--tenant",
            "acme",
            "--role",
            "viewer",
        ],
    );

    let c = Client::new();
    let send = |key: &str, name: &str| {
        c.post(server.url("/api/v1/events")).bearer_auth(key).json(&json!({"event": name, "distinct_id": "u"})).send()
    };
    assert_eq!(send(&a.ingest_key, "in_a").await.unwrap().status(), 200);
    assert_eq!(send(&b.ingest_key, "in_b").await.unwrap().status(), 200);
    let list = |project: i64, token: String| {
        c.get(server.url(&format!("/api/v1/projects/{project}/events"))).bearer_auth(token).send()
    };

    // A's secret key reads A, not B (404: B's existence is not revealed).
    let own: Value = list(a.project_id, a.secret_key.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(own["total"], 1);
    assert_eq!(own["events"][0]["event"], "in_a");
    assert_eq!(list(b.project_id, a.secret_key.clone()).await.unwrap().status(), 404);
    // Ingest keys are write-only.
    assert_eq!(list(a.project_id, a.ingest_key.clone()).await.unwrap().status(), 403);
    // A key has no say over which project it writes to: A's key always
    // writes to A, so B's count does not move.
    assert_eq!(send(&a.ingest_key, "again_a").await.unwrap().status(), 200);
    let theirs: Value = list(b.project_id, b.secret_key.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["events"][0]["event"], "in_b");
    // A person lookup across tenants is as blind as a listing.
    let r = c
        .get(server.url(&format!("/api/v1/projects/{}/persons/u", b.project_id)))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Users: bob (tenant B) reads B but not A; the admin (tenant A) not B.
    let login = |email: &str, pw: &str| {
        c.post(server.url("/api/v1/auth/login")).json(&json!({"email": email, "password": pw})).send()
    };
    assert_eq!(login("bob@acme.io", "wrong-password").await.unwrap().status(), 401);
    let bob: Value = login("bob@acme.io", "bob-password").await.unwrap().json().await.unwrap();
    let bob = bob["token"].as_str().unwrap().to_string();
    assert_eq!(list(b.project_id, bob.clone()).await.unwrap().status(), 200);
    assert_eq!(list(a.project_id, bob.clone()).await.unwrap().status(), 404);
    let admin: Value = login("admin@px.local", "admin-password-1").await.unwrap().json().await.unwrap();
    let admin = admin["token"].as_str().unwrap().to_string();
    assert_eq!(list(a.project_id, admin.clone()).await.unwrap().status(), 200);
    assert_eq!(list(b.project_id, admin).await.unwrap().status(), 404);
    // The session cookie works as well as the bearer token.
    let r = c
        .get(server.url(&format!("/api/v1/projects/{}/events", b.project_id)))
        .header("cookie", format!("px_session={bob}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(list(b.project_id, "pxu_forged".into()).await.unwrap().status(), 401);
}

#[tokio::test]
async fn revoked_keys_stop_working() {
    let dir = tempfile::tempdir().unwrap();
    let server = PxServer::start(bin(), dir.path(), &[("PX_SERVER__KEY_CACHE_SECS", "0")]);
    let a = create_project(bin(), dir.path(), "a", None);
    let c = Client::new();
    let send = || {
        c.post(server.url("/api/v1/events"))
            .bearer_auth(&a.ingest_key)
            .json(&json!({"event": "e", "distinct_id": "u"}))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    let keys: Value = serde_json::from_str(&px(
        bin(),
        dir.path(),
        &["admin", "key", "list", "--project", &a.project_id.to_string(), "--json"],
    ))
    .unwrap();
    let ingest_id = keys.as_array().unwrap().iter().find(|k| k["kind"] == "ingest").unwrap()["id"].as_i64().unwrap();
    px(bin(), dir.path(), &["admin", "key", "revoke", "--project", &a.project_id.to_string(), &ingest_id.to_string()]);
    assert_eq!(send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn password_guessing_is_throttled() {
    let dir = tempfile::tempdir().unwrap();
    // One attempt a minute after the first ten: ten password checks take
    // far less than a minute even on a loaded machine, so no attempt is
    // earned back while the test runs.
    let server = PxServer::start(
        bin(),
        dir.path(),
        &[("PX_ADMIN_PASSWORD", "admin-password-1"), ("PX_SERVER__LOGIN_ATTEMPTS_PER_MINUTE", "1")],
    );
    let c = Client::new();
    let login = |password: &str| {
        c.post(server.url("/api/v1/auth/login")).json(&json!({"email": "admin@px.local", "password": password})).send()
    };
    // Ten wrong guesses are answered as wrong; the eleventh is refused
    // before the password is even checked, with the time to wait.
    for _ in 0..10 {
        assert_eq!(login("guess").await.unwrap().status(), 401);
    }
    let refused = login("admin-password-1").await.unwrap();
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}
