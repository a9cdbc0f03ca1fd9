//! Runs the behaviour suites against the embedded backends, on real DuckDB
//! and SQLite files in temp dirs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers, not only #[test] fns

mod persons;
mod spool;

use px_store::{DuckDbEventStore, EventStore, SqliteMetaStore};
use px_testkit::suites;

#[tokio::test]
async fn duckdb_event_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
    suites::event_store::run_all(&store).await;
}

#[tokio::test]
async fn duckdb_keeps_events_and_merges_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.duckdb");
    let merged;
    {
        let store = DuckDbEventStore::open(&path, None).unwrap();
        let mut ident = suites::event_store::event(suites::event_store::A, "identify", "user", 1);
        ident.event.link = Some(px_core::event::PersonLink::Identify { anonymous_id: "anon".into() });
        store.append(vec![ident]).await.unwrap();
        merged = store.person(suites::event_store::A, "anon").await.unwrap().unwrap().person_id;
    }
    let store = DuckDbEventStore::open(&path, None).unwrap();
    assert_eq!(store.count_events(suites::event_store::A).await.unwrap(), 1);
    // The merge survives the restart: new events of the anonymous id
    // resolve to the merged person at ingest.
    store.append(vec![suites::event_store::event(suites::event_store::A, "click", "anon", 2)]).await.unwrap();
    let page = store
        .list_events(
            suites::event_store::A,
            px_store::EventQuery { limit: 10, event: Some("click".into()), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(page.events[0].person_id, merged);
}

#[tokio::test]
async fn sqlite_meta_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMetaStore::open(&dir.path().join("meta.sqlite")).await.unwrap();
    suites::meta_store::run_all(&meta).await;
}

#[tokio::test]
async fn a_runaway_analytics_query_is_interrupted_and_the_store_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None)
        .unwrap()
        .with_query_timeout(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    // Hours of work for a 2-core machine.
    let err = store
        .query(suites::event_store::A, "SELECT count(*) FROM range(1000000000000) a".into(), Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, px_store::StoreError::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("0.2 s"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "the interrupt did not stop the query");
    // Later statements run as usual.
    let ok = store.query(suites::event_store::A, "SELECT 42 AS answer".into(), Vec::new()).await.unwrap();
    assert_eq!(ok[0].num_rows(), 1);
}

#[tokio::test]
async fn duckdb_gathers_a_large_wal_before_checkpointing() {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
    let sql = "SELECT current_setting('checkpoint_threshold') AS v".to_string();
    let batches = store.query(suites::event_store::A, sql, Vec::new()).await.unwrap();
    let v = batches[0].column(0).as_any().downcast_ref::<arrow::array::StringArray>().unwrap().value(0).to_string();
    // DuckDB's default is 16 MiB: see `DuckDbEventStore::open` for why not.
    assert_eq!(v, "256.0 MiB");
}
