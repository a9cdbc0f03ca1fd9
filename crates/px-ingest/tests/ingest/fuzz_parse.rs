//! Property-based fuzzing of the ingest parsers: arbitrary bytes, arbitrary
//! JSON and mutated real batches go through decode -> validate -> the whole
//! stateless pipeline. Nothing may panic, and every event of a parsed batch
//! ends up accepted or rejected with its index, exactly once.
//!
//! `corpus/` keeps inputs that once broke (or nearly broke) a stage; each
//! is replayed on every run. Proptest also records shrunk failures in
//! `ingest/fuzz_parse.proptest-regressions`, which is committed.

use proptest::prelude::*;
use px_core::{IngestLimits, ProjectId, ProjectSettings};
use px_ingest::Pipeline;
use px_ingest::decode::{decompress, parse_batch, parse_single};
use px_ingest::enrich::{Enricher, RequestInfo};

fn pipeline() -> Pipeline {
    let limits =
        IngestLimits { max_event_bytes: 4096, max_properties: 20, max_property_depth: 4, ..Default::default() };
    Pipeline::new(limits, Enricher::new(None))
}

/// Runs a body through every stage; checks the accounting invariant.
fn run(p: &Pipeline, body: &[u8], encoding: Option<&str>) {
    let Ok(raw) = decompress(body, encoding, &p.limits) else {
        return;
    };
    for batch in [parse_batch(&raw, &p.limits), parse_single(&raw)].into_iter().flatten() {
        let req = RequestInfo { ip: Some("198.51.100.7".parse().unwrap()), user_agent: Some("Mozilla/5.0".into()) };
        let out = p.process(ProjectId(1), &ProjectSettings::default(), &batch, &req, 1_700_000_000_000_000);
        assert_eq!(out.events.len() + out.rejected.len(), batch.events.len());
        let mut idx: Vec<usize> = out.rejected.iter().map(|(i, _)| *i).collect();
        idx.dedup();
        assert_eq!(idx.len(), out.rejected.len(), "an event was rejected twice");
        for (_, r) in &out.rejected {
            assert!(!r.field.is_empty() && !r.message.is_empty());
        }
    }
}

#[test]
fn corpus_replays_cleanly() {
    let p = pipeline();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let body = std::fs::read(entry.unwrap().path()).unwrap();
        run(&p, &body, None);
        run(&p, &px_testkit::server::gzip(&body), Some("gzip"));
        n += 1;
    }
    assert!(n >= 10, "corpus went missing: {n} files");
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::json!(f)),
        ".{0,40}".prop_map(serde_json::Value::String),
        "[a-z0-9@+. ()-]{0,30}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z$_]{0,12}", inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Event-shaped objects: the known keys with values of any type.
fn event_like() -> impl Strategy<Value = serde_json::Value> {
    let keys = prop::sample::select(vec![
        "event",
        "distinct_id",
        "user_id",
        "anonymous_id",
        "event_id",
        "session_id",
        "timestamp",
        "sent_at",
        "properties",
        "context",
        "$set",
        "$set_once",
        "unknown",
    ]);
    prop::collection::btree_map(keys, json_value(), 0..10)
        .prop_map(|m| serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        let p = pipeline();
        run(&p, &body, None);
        run(&p, &body, Some("gzip"));
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let p = pipeline();
        run(&p, v.to_string().as_bytes(), None);
    }

    #[test]
    fn event_shaped_batches_are_fully_accounted(events in prop::collection::vec(event_like(), 0..20), sent_at in json_value()) {
        let p = pipeline();
        let body = serde_json::json!({"events": events, "sent_at": sent_at}).to_string();
        run(&p, body.as_bytes(), None);
    }

    #[test]
    fn valid_events_with_odd_values_are_kept(name in ".{1,50}", distinct in "[^\u{0}]{1,40}", props in prop::collection::btree_map("[a-z]{1,8}", json_value(), 0..10)) {
        prop_assume!(!name.trim().is_empty() && !distinct.trim().is_empty());
        let p = pipeline();
        let body = serde_json::json!({"events": [{"event": name, "distinct_id": distinct, "properties": props}]}).to_string();
        let raw = parse_batch(body.as_bytes(), &p.limits).unwrap();
        let out = p.process(ProjectId(1), &ProjectSettings::default(), &raw, &RequestInfo::default(), 1_700_000_000_000_000);
        // Only limits may reject a well-formed event, and they name themselves.
        for (_, r) in &out.rejected {
            prop_assert!(r.message.contains("limit"), "{:?}", r);
        }
    }
}
