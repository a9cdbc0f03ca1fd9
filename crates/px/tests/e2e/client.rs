//! The Rust server SDK (`px-client`) against a real `px serve`: delivery,
//! identity, a crash mid-stream, rate limits and size limits. These live in
//! the `px` crate because only its tests get the binary (`CARGO_BIN_EXE_px`).

use crate::bin;
use px_client::{Config, Event, PxClient, Stats};
use px_testkit::server::{ProjectKeys, PxServer, all_events, create_project, px};
use reqwest::Client;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Short waits, so retries happen within a test's time.
fn config(server: &PxServer, key: &str) -> Config {
    Config {
        backoff_base: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        ..Config::new(&server.base, key)
    }
}

/// Every stored event of the project, by event id.
async fn stored_events(server: &PxServer, keys: &ProjectKeys) -> HashMap<String, Value> {
    let mut events = HashMap::new();
    for e in all_events(&server.url(""), keys.project_id, &keys.secret_key).await {
        let id = e["event_id"].as_str().unwrap().to_string();
        assert!(events.insert(id, e.clone()).is_none(), "event stored twice: {e}");
    }
    events
}

#[tokio::test]
async fn captured_events_arrive_once_with_their_properties() {
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(bin(), dir.path(), "sdk", None);
    let server = PxServer::start(bin(), dir.path(), &[]);
    let client = PxClient::new(config(&server, &keys.ingest_key)).unwrap();
    let mut sent = HashMap::new();
    for i in 0..250 {
        let e = Event::new("order_paid", format!("u{}", i % 7)).property("i", i).property("amount", 9.5);
        sent.insert(e.id().to_string(), i);
        client.capture(e);
    }
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-10T12:00:00Z").unwrap().to_utc();
    let dated = Event::new("imported", "u1").timestamp(at).context("ip", "203.0.113.7");
    let dated_id = dated.id().to_string();
    client.capture(dated);
    client.capture(Event::new("x".repeat(300), "u1")); // over the 200-byte name limit
    client.flush().await;

    let stats = client.stats();
    assert_eq!(stats, Stats { captured: 252, sent: 252, acknowledged: 251, rejected: 1, ..Stats::default() });
    let stored = stored_events(&server, &keys).await;
    assert_eq!(stored.len(), 251);
    for (id, i) in &sent {
        let e = &stored[id];
        assert_eq!((e["event"].as_str(), e["properties"]["i"].as_i64()), (Some("order_paid"), Some(*i)), "{e}");
        assert_eq!(e["properties"]["amount"], 9.5);
        assert_eq!(e["lib"], "px-rust");
    }
    // The given time, shifted only by the request's transit (sent_at vs. receipt).
    let ts = chrono::DateTime::parse_from_rfc3339(stored[&dated_id]["timestamp"].as_str().unwrap()).unwrap();
    assert!((ts.to_utc() - at).num_milliseconds().abs() < 1000, "{ts}");
    assert_eq!(stored[&dated_id]["ip"], "203.0.113.0", "the forwarded user's IP, anonymised");
    client.shutdown().await;
}

#[tokio::test]
async fn identify_and_alias_merge_the_anonymous_history() {
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(bin(), dir.path(), "sdk", None);
    let server = PxServer::start(bin(), dir.path(), &[]);
    let client = PxClient::new(config(&server, &keys.ingest_key)).unwrap();
    client.capture(Event::new("page_view", "anon-1").set_once("first_page", "/pricing").set("plan", "free"));
    client.identify("user-1", Some("anon-1"), [("plan", "pro")]);
    client.capture(Event::new("purchase", "user-1"));
    client.alias("user-1", "crm-77");
    client.shutdown().await;
    assert_eq!(client.stats().acknowledged, 4);

    let url = server.url(&format!("/api/v1/projects/{}/persons/crm-77", keys.project_id));
    let person: Value =
        Client::new().get(url).bearer_auth(&keys.secret_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(person["distinct_ids"], json!(["anon-1", "crm-77", "user-1"]), "{person}");
    assert_eq!(person["properties"]["plan"], "pro", "identify's $set came after the page view's");
    assert_eq!(person["properties"]["first_page"], "/pricing");
    assert_eq!(person["is_identified"], true);
    let stored = stored_events(&server, &keys).await;
    assert!(stored.values().all(|e| e["person_id"] == person["person_id"]), "every event joined the person");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_stream_loses_nothing_and_stores_nothing_twice() {
    const EVENTS: usize = 3000;
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(bin(), dir.path(), "crash", None);
    let server = PxServer::start(bin(), dir.path(), &[]);
    let port = server.port();
    let client = PxClient::new(Config {
        batch_size: 50,
        flush_interval: Duration::from_millis(20),
        max_retries: 100,
        ..config(&server, &keys.ingest_key)
    })
    .unwrap();
    // A steady stream, about 2,000 events a second, across the crash.
    let producer = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut ids = Vec::with_capacity(EVENTS);
            for i in 0..EVENTS {
                let e = Event::new("load", format!("u{}", i % 13)).property("i", i);
                ids.push(e.id().to_string());
                client.capture(e);
                if i % 20 == 19 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            ids
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.stats().acknowledged < 500 {
        assert!(Instant::now() < deadline, "no progress: {:?}", client.stats());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!producer.is_finished(), "the crash must land mid-stream");
    server.kill9();
    // Down for a while: the client meets refused connections and backs off.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = PxServer::start_on_port(bin(), dir.path(), &[], port);
    let ids = producer.await.unwrap();
    client.flush().await;

    let stats = client.stats();
    assert!(stats.retries > 0, "{stats:?}");
    assert_eq!((stats.failed, stats.dropped, stats.rejected), (0, 0, 0), "{stats:?}");
    assert_eq!(stats.acknowledged + stats.duplicates, EVENTS as u64, "{stats:?}");
    let stored = stored_events(&server, &keys).await;
    assert_eq!(stored.len(), EVENTS);
    assert!(ids.iter().all(|id| stored.contains_key(id)), "a captured event is missing");
    client.shutdown().await;
}

#[tokio::test]
async fn rate_limited_batches_wait_for_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    create_project(bin(), dir.path(), "unused", None);
    let server = PxServer::start(
        bin(),
        dir.path(),
        &[
            ("PX_INGEST__LIMITS__MAX_EVENTS_PER_BATCH", "50"),
            ("PX_SERVER__RATE_LIMITS__PLANS__FREE__EVENTS_PER_SECOND", "50"),
            ("PX_SERVER__RATE_LIMITS__PLANS__FREE__BURST", "50"),
        ],
    );
    px(bin(), dir.path(), &["admin", "tenant", "create", "small", "--plan", "free"]);
    let keys = create_project(bin(), dir.path(), "limited", Some("small"));
    // Backoff waits of a millisecond or two: if the client ignored
    // Retry-After, its retries would run out long before the rate allows.
    let client = PxClient::new(Config {
        batch_size: 50,
        max_retries: 5,
        backoff_base: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        ..Config::new(&server.base, &keys.ingest_key)
    })
    .unwrap();
    for i in 0..150 {
        client.capture(Event::new("x", format!("u{i}")));
    }
    let start = Instant::now();
    client.flush().await;
    let elapsed = start.elapsed();

    let stats = client.stats();
    assert_eq!((stats.acknowledged, stats.failed), (150, 0), "{stats:?}");
    // The burst takes the first batch; each later one waits a second.
    assert!((2..=4).contains(&stats.retries), "{stats:?}");
    assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
    assert_eq!(stored_events(&server, &keys).await.len(), 150);
}

#[tokio::test]
async fn batches_over_the_limits_are_split_and_a_lone_oversized_event_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(bin(), dir.path(), "sdk", None);
    let server = PxServer::start(
        bin(),
        dir.path(),
        &[
            ("PX_INGEST__LIMITS__MAX_EVENTS_PER_BATCH", "10"),
            ("PX_INGEST__LIMITS__MAX_BODY_BYTES", "8000"),
            ("PX_INGEST__LIMITS__MAX_DECOMPRESSED_BYTES", "20000"),
            ("PX_INGEST__LIMITS__MAX_EVENT_BYTES", "15000"),
        ],
    );
    let client = PxClient::new(Config { batch_size: 40, ..config(&server, &keys.ingest_key) }).unwrap();
    let mut kept = Vec::new();
    for i in 0..40 {
        let mut e = Event::new("e", "u").property("i", i);
        if i == 17 {
            // Over the decompressed-body limit even alone: PX answers 413.
            e = e.property("blob", "x".repeat(30_000));
        } else {
            kept.push(e.id().to_string());
        }
        client.capture(e);
    }
    client.flush().await;

    let stats = client.stats();
    assert_eq!(stats, Stats { captured: 40, sent: 40, acknowledged: 39, dropped: 1, ..Stats::default() });
    let stored = stored_events(&server, &keys).await;
    assert_eq!(stored.len(), 39);
    assert!(kept.iter().all(|id| stored.contains_key(id)));
}

#[tokio::test]
async fn a_refused_key_fails_the_batch_without_retries() {
    let dir = tempfile::tempdir().unwrap();
    create_project(bin(), dir.path(), "sdk", None);
    let server = PxServer::start(bin(), dir.path(), &[]);
    let client = PxClient::new(config(&server, "pxi_00000000000000000000000000000000")).unwrap();
    for _ in 0..3 {
        client.capture(Event::new("e", "u"));
    }
    client.flush().await;
    assert_eq!(client.stats(), Stats { captured: 3, sent: 3, failed: 3, ..Stats::default() });
}

/// `px simulate --http` sends through px-client: every simulated event
/// arrives once.
#[tokio::test]
async fn simulate_over_http_goes_through_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = PxServer::start(bin(), dir.path(), &[("PX_ADMIN_PASSWORD", "admin-password-1")]);
    let keys = create_project(bin(), dir.path(), "sim", None);
    let out = px(
        bin(),
        dir.path(),
        &["simulate", "--http", &server.url(""), "--key", &keys.ingest_key, "--days", "1", "--visitors-per-day", "30"],
    );
    let sent: u64 = out.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out}"));
    assert!(sent > 30, "{out}");
    let page: serde_json::Value = reqwest::Client::new()
        .get(server.url(&format!("/api/v1/projects/{}/events?limit=1", keys.project_id)))
        .bearer_auth(&keys.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"].as_u64(), Some(sent), "{out}");
}

/// `px simulate --scenario` injects the file's frictions into the store and
/// writes their ground truth.
#[tokio::test]
async fn simulate_with_a_scenario_writes_labels() {
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(bin(), dir.path(), "sim", None);
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../px-simulate/scenarios/feedback_theme.toml");
    let labels = dir.path().join("labels.json");
    let out = px(
        bin(),
        dir.path(),
        &[
            "simulate",
            "--project",
            &keys.project_id.to_string(),
            "--days",
            "10",
            "--visitors-per-day",
            "200",
            "--scenario",
            scenario.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
        ],
    );
    assert!(out.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 1000), "{out}");
    let truth: Value = serde_json::from_slice(&std::fs::read(&labels).unwrap()).unwrap();
    let friction = &truth["frictions"][0];
    assert_eq!(friction["kind"], "feedback_theme", "{truth}");
    // The run really touched sessions, counted while generating.
    assert!(friction["affected_sessions"].as_u64().is_some_and(|n| n > 0), "{truth}");
    // The run's identifies merged persons, and the merges are written into
    // the events before the command ends (the file as left, not reopened
    // through the store, which would write them in itself).
    let db = duckdb::Connection::open(dir.path().join("events.duckdb")).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert!(count("SELECT count(*) FROM person_distinct_ids WHERE merged") > 0);
    assert_eq!(count("SELECT count(*) FROM person_overrides"), 0, "merges left pending");
}
