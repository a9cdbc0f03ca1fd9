//! Durability: `kill -9` of the server under load loses no acknowledged
//! event, and client retries after the restart store nothing twice.

use crate::bin;
use px_testkit::server::{PxServer, all_events, create_project};
use reqwest::Client;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;
use uuid::Uuid;

const BATCHES: usize = 400;
const PER_BATCH: usize = 50;
const SENDERS: usize = 4;
const KILL_AFTER_ACKS: usize = 120;

async fn all_event_ids(base: &str, project: i64, secret: &str) -> Vec<String> {
    all_events(base, project, secret).await.iter().map(|e| e["event_id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_under_load_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(bin(), dir.path(), "crash", None);
    let server = PxServer::start(bin(), dir.path(), &[]);
    let batches: Arc<Vec<Value>> = Arc::new(
        (0..BATCHES)
            .map(|b| {
                json!({"events": (0..PER_BATCH).map(|i| json!({
                    "event": "load", "distinct_id": format!("u{}", i % 7), "event_id": Uuid::new_v4().to_string(),
                    "properties": {"batch": b, "i": i}
                })).collect::<Vec<_>>()})
            })
            .collect(),
    );
    let acked = Arc::new(std::sync::Mutex::new(Vec::<usize>::new()));
    let ack_count = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let client = Client::new();
    let url = server.url("/api/v1/events/batch");
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (batches, acked, ack_count, enough, client, url, key) = (
            Arc::clone(&batches),
            Arc::clone(&acked),
            Arc::clone(&ack_count),
            Arc::clone(&enough),
            client.clone(),
            url.clone(),
            keys.ingest_key.clone(),
        );
        senders.push(tokio::spawn(async move {
            for b in (s..BATCHES).step_by(SENDERS) {
                match client.post(&url).bearer_auth(&key).json(&batches[b]).send().await {
                    Ok(r) if r.status() == 200 => {
                        acked.lock().unwrap().push(b);
                        if ack_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER_ACKS {
                            enough.notify_one();
                        }
                    }
                    _ => return,
                }
            }
        }));
    }
    enough.notified().await;
    server.kill9();
    for s in senders {
        s.await.unwrap();
    }
    let acked: HashSet<usize> = acked.lock().unwrap().iter().copied().collect();
    assert!(acked.len() >= KILL_AFTER_ACKS && acked.len() < BATCHES, "the kill must land mid-load: {}", acked.len());

    // Restart on the same data dir: every acknowledged event is there, once.
    let server = PxServer::start(bin(), dir.path(), &[]);
    let ids = all_event_ids(&server.base, keys.project_id, &keys.secret_key).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &ids {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    assert!(counts.values().all(|&n| n == 1), "an event was stored twice");
    for b in &acked {
        for e in batches[*b]["events"].as_array().unwrap() {
            assert!(counts.contains_key(e["event_id"].as_str().unwrap()), "acknowledged batch {b} lost an event");
        }
    }

    // Clients retry everything they did not see acknowledged (and, to be
    // hard on dedupe, everything else too): the total is exact.
    let url = server.url("/api/v1/events/batch");
    for b in batches.iter() {
        let r = client.post(&url).bearer_auth(&keys.ingest_key).json(b).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let ids = all_event_ids(&server.base, keys.project_id, &keys.secret_key).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), BATCHES * PER_BATCH);
    assert_eq!(unique.len(), BATCHES * PER_BATCH);
}
