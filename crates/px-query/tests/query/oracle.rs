//! Property tests: random events (equal timestamps, a daylight-saving
//! change, identify merges, person properties) go into a real DuckDB store;
//! random queries of every kind must get exactly the oracle's answer.

use crate::common::*;
use proptest::prelude::*;
use px_query::model::Query;
use px_query::oracle::{self, Data, Row};
use px_query::time::Span;
use px_store::{EventQuery, EventStore};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Europe/Berlin falls back on 2026-10-25 at 01:00 UTC: the range spans it.
const NOW: &str = "2026-10-28T12:00:00Z";
const BASE: &str = "2026-10-22T00:00:00Z";

#[derive(Debug, Clone)]
struct Spec {
    name: usize,
    person: usize,
    /// Minutes after BASE, coarse so that timestamps collide.
    minute: i64,
    plan: Option<&'static str>,
    amount: Option<i64>,
    browser: Option<&'static str>,
    path: usize,
    session: usize,
    /// Identify this person's anonymous id as user `u{person}` with a plan.
    identify: bool,
}

const NAMES: [&str; 5] = ["view", "signup", "buy", "$pageview", "page_view"];
const PATHS: [&str; 3] = ["/", "/a", "/b"];

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..5usize,
        0..6usize,
        prop_oneof![0..(6 * 24 * 60i64), (0..(6 * 24i64)).prop_map(|h| h * 60)],
        prop_oneof![Just(None), Just(Some("free")), Just(Some("pro"))],
        prop_oneof![Just(None), (0..12i64).prop_map(Some)],
        prop_oneof![Just(None), Just(Some("Chrome")), Just(Some("Firefox"))],
        0..3usize,
        0..3usize,
        prop::bool::weighted(0.08),
    )
        .prop_map(|(name, person, minute, plan, amount, browser, path, session, identify)| Spec {
            name,
            person,
            minute,
            plan,
            amount,
            browser,
            path,
            session,
            identify,
        })
}

/// Loads the events into a store and the oracle; returns both.
async fn load(specs: &[Spec]) -> (Fixture, Data) {
    let mut f = Fixture::new();
    let base = us(BASE);
    for s in specs {
        // Before identifying, a person is anonymous `a{n}`; identify moves
        // them to `u{n}`, merging the anonymous history.
        let distinct = if s.identify { format!("u{}", s.person) } else { format!("a{}", s.person) };
        let ts = chrono::DateTime::from_timestamp_micros(base + s.minute * 60_000_000).unwrap().to_rfc3339();
        let mut props = serde_json::Map::new();
        if let Some(p) = s.plan {
            props.insert("plan".into(), json!(p));
        }
        if let Some(a) = s.amount {
            props.insert("amount".into(), json!(a));
        }
        let mut e = ev(if s.identify { "$identify" } else { NAMES[s.name] }, &distinct, &ts)
            .props(Value::Object(props))
            .path(PATHS[s.path])
            .session(&format!("s{}-{}", s.person, s.session));
        if let Some(b) = s.browser {
            e = e.browser(b);
        }
        if s.identify {
            e = e
                .identify(&format!("a{}", s.person))
                .set(json!({"tier": if s.person % 2 == 0 { "gold" } else { "basic" }}));
        }
        f.add(e);
    }
    f.commit().await;
    // The oracle takes each event's person as the store resolves it now.
    let mut resolved = HashMap::new();
    let mut cursor = None;
    loop {
        let page = f.store.list_events(P, EventQuery { limit: 1000, cursor, ..Default::default() }).await.unwrap();
        for e in &page.events {
            resolved.insert(e.event_id, (e.person_id, e.clone()));
        }
        match page.next_cursor {
            Some(c) => cursor = px_store::Cursor::decode(&c),
            None => break,
        }
    }
    let mut rows: Vec<Row> = resolved
        .values()
        .map(|(person_id, e)| Row {
            event_id: e.event_id,
            event: e.event.clone(),
            distinct_id: e.distinct_id.clone(),
            person_id: *person_id,
            session_id: e.session_id.clone(),
            timestamp: us(&e.timestamp),
            properties: e.properties.clone(),
            enrichment: e.enrichment.clone(),
        })
        .collect();
    rows.sort_by_key(|r| (r.timestamp, r.event_id));
    let mut persons = HashMap::new();
    let ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.distinct_id.as_str()).collect();
    for id in ids {
        if let Some(p) = f.store.person(P, id).await.unwrap() {
            persons.insert(p.person_id, p.properties);
        }
    }
    (f, Data { rows, persons })
}

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

fn span_of(q: &Value, default_from: &str) -> Span {
    let common: px_query::model::Common = serde_json::from_value(json!({
        "date_range": q.get("date_range").cloned().unwrap_or(json!({})),
        "timezone": q.get("timezone").cloned(),
    }))
    .unwrap();
    let ctx = px_query::Context { scope: P, timezone: "UTC".into(), now: us(NOW) };
    px_query::engine::TimeFrame::new(&common, &ctx, default_from).unwrap().span
}

fn filter_choice() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!([])),
        Just(json!([{"key":"plan","operator":"eq","value":"pro"}])),
        Just(json!([{"key":"plan","operator":"neq","value":"pro"}])),
        Just(json!([{"key":"amount","operator":"gt","value":4}])),
        Just(json!([{"key":"browser","type":"column","operator":"in","value":["Chrome"]}])),
        Just(json!([{"key":"tier","type":"person","operator":"eq","value":"gold"}])),
        Just(json!([{"or":[{"key":"plan","operator":"is_not_set"},{"key":"amount","operator":"lte","value":3}]}])),
        Just(json!([{"key":"$pathname","operator":"regex","value":"^/[ab]$"}])),
    ]
}

fn trend_query() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "total",
            "unique_persons",
            "unique_sessions",
            "avg_per_person",
            "sum",
            "avg",
            "min",
            "max",
            "median",
            "p90",
            "p99",
        ]),
        prop::sample::select(vec![None, Some("view"), Some("buy"), Some("$pageview")]),
        prop::sample::select(vec!["hour", "day", "week", "month"]),
        prop::sample::select(vec![
            None,
            Some(json!({"key":"browser","type":"column"})),
            Some(json!({"key":"plan"})),
            Some(json!({"key":"tier","type":"person"})),
        ]),
        1..4usize,
        filter_choice(),
        prop::sample::select(vec!["UTC", "Europe/Berlin", "America/Sao_Paulo"]),
        prop::sample::select(vec!["monday", "sunday"]),
    )
        .prop_map(|(math, event, interval, breakdown, limit, filters, tz, ws)| {
            let mut series = json!({"event": event, "math": math});
            if ["sum", "avg", "min", "max", "median", "p90", "p99"].contains(&math) {
                series["property"] = json!({"key": "amount"});
            }
            let mut q = json!({"kind":"trend","series":[series],"interval":interval,"filters":filters,
                               "date_range":{"from":"2026-10-22","to":"2026-10-27"},"timezone":tz,"week_start":ws});
            if let Some(b) = breakdown {
                q["breakdown"] = b;
                q["breakdown_limit"] = json!(limit);
            }
            q
        })
}

fn funnel_query() -> impl Strategy<Value = Value> {
    let step = (prop::sample::select(vec!["view", "signup", "buy", "page_view"]), filter_choice())
        .prop_map(|(e, filters)| json!({"event": e, "filters": filters}));
    (
        prop::collection::vec(step, 2..6),
        prop::sample::select(vec!["ordered", "strict", "unordered"]),
        prop::sample::select(vec!["1h", "6h", "1d", "3d"]),
        prop::sample::select(vec![None, Some("view"), Some("buy")]),
        filter_choice(),
    )
        .prop_map(|(steps, order, window, exclusion, filters)| {
            let mut q = json!({"kind":"funnel","steps":steps,"order":order,"window":window,"filters":filters,
                               "date_range":{"from":"2026-10-22","to":"2026-10-27"}});
            if let (Some(x), false) = (exclusion, order == "unordered") {
                q["exclusions"] = json!([{"event": x, "from_step": 0, "to_step": 1}]);
            }
            q
        })
}

fn other_query() -> impl Strategy<Value = Value> {
    let tz = prop::sample::select(vec!["UTC", "Europe/Berlin"]);
    prop_oneof![
        funnel_query(),
        (
            prop::sample::select(vec!["recurring", "first_time"]),
            prop::sample::select(vec!["day", "week"]),
            filter_choice(),
            tz.clone(),
            prop::sample::select(vec!["buy", "view"]),
            // 6, 18 and 48 daily periods: each width of the evaluator's bits.
            prop::sample::select(vec!["2026-10-22", "2026-10-10", "2026-09-10"])
        )
            .prop_map(
                |(t, period, filters, tz, ret, from)| json!({"kind":"retention","start_event":{"event":"view"},
                "return_event":{"event":ret},"retention_type":t,"period":period,"filters":filters,"timezone":tz,
                "date_range":{"from":from,"to":"2026-10-27"}})
            ),
        (filter_choice(), tz.clone()).prop_map(|(filters, tz)| json!({"kind":"stickiness","series":[{"event":"view"}],
            "filters":filters,"timezone":tz,"date_range":{"from":"2026-10-22","to":"2026-10-27"}})),
        (prop::sample::select(vec!["day", "week", "hour"]), tz.clone())
            .prop_map(|(iv, tz)| json!({"kind":"lifecycle","event":"view",
            "interval":iv,"timezone":tz,"date_range":{"from":"2026-10-23","to":"2026-10-27"}})),
        (
            prop::sample::select(vec![None, Some("/"), Some("/a")]),
            prop::sample::select(vec![None, Some("/b")]),
            prop::sample::select(vec!["pageviews", "events"]),
            2..5usize,
            filter_choice()
        )
            .prop_map(|(start, end, item, depth, filters)| {
                let mut q = json!({"kind":"paths","item":item,"depth":depth,"filters":filters,
                                   "date_range":{"from":"2026-10-22","to":"2026-10-27"}});
                match (start, end) {
                    (Some(s), _) => q["start"] = json!(s),
                    (None, Some(e)) => q["end"] = json!(e),
                    _ => {}
                }
                q
            }),
    ]
}

/// Answers `q` with the engine and the oracle, in comparable form.
async fn both(f: &mut Fixture, data: &Data, q: Value) -> (Value, Value) {
    let engine = f.run(NOW, q.clone()).await;
    let query: Query = serde_json::from_value(q.clone()).unwrap();
    match query {
        Query::Trend(t) => {
            let span = span_of(&q, "-7d");
            let got = json!({
                "buckets": engine["buckets"],
                "series": engine["series"].as_array().unwrap().iter().map(|s| json!({
                    "breakdown_value": s.get("breakdown_value").cloned().unwrap_or(Value::Null),
                    "is_other": s.get("is_other").cloned().unwrap_or(json!(false)),
                    "data": s["data"], "total": s["total"],
                })).collect::<Vec<_>>(),
            });
            (got, oracle::trend(data, &t, &span))
        }
        Query::Retention(r) => {
            let ctx = px_query::Context { scope: P, timezone: "UTC".into(), now: us(NOW) };
            let (tf, _) = px_query::retention::cohort_frame(&r, &ctx).unwrap();
            let got = json!({
                "cohorts": engine["cohorts"].as_array().unwrap().iter().map(|c| c["values"].clone()).collect::<Vec<_>>(),
                "average": engine["average"],
            });
            (got, oracle::retention(data, &r, &tf.span))
        }
        Query::Stickiness(s) => {
            let got = json!(engine["series"].as_array().unwrap().iter().map(|x| x["data"].clone()).collect::<Vec<_>>());
            (got, oracle::stickiness(data, &s, &span_of(&q, "-7d")))
        }
        Query::Lifecycle(l) => (engine["series"].clone(), oracle::lifecycle(data, &l, &span_of(&q, "-7d"))),
        Query::Paths(p) => (engine["edges"].clone(), oracle::paths(data, &p, &span_of(&q, "-7d"))),
        Query::Funnel(fq) => {
            let counts = |a: &Value| -> Vec<u64> {
                a["steps"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).collect()
            };
            let got = counts(&engine);
            // Asking for the persons of a step takes the path that lists
            // every person instead of counting those who stop at step 1:
            // both must agree, and the listed persons must add up.
            let mut listing = q.clone();
            listing["persons"] = json!({"step": 1, "limit": 1000});
            let listed = f.run(NOW, listing).await;
            assert_eq!(got, counts(&listed), "counting and listing persons disagree: {q}");
            assert_eq!(listed["persons"]["total"].as_u64(), got.get(1).copied(), "{q}");
            (json!(got), json!(oracle::funnel(data, &fq, &span_of(&q, "-7d"))))
        }
        other => panic!("not generated: {other:?}"),
    }
}

fn check(specs: Vec<Spec>, queries: Vec<Value>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (mut f, data) = load(&specs).await;
        for q in queries {
            let (got, want) = both(&mut f, &data, q.clone()).await;
            prop_assert!(close(&got, &want), "query {q}\n engine: {got}\n oracle: {want}");
        }
        Ok(())
    })
}

proptest! {
    // Each case builds a DuckDB store: 16 cases keep `cargo test` quick;
    // `PROPTEST_CASES=500` runs a deep check.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16)
    ))]

    #[test]
    fn trends_match_the_oracle(specs in prop::collection::vec(spec(), 0..60), queries in prop::collection::vec(trend_query(), 4)) {
        check(specs, queries)?;
    }

    #[test]
    fn other_kinds_match_the_oracle(specs in prop::collection::vec(spec(), 0..60), queries in prop::collection::vec(other_query(), 4)) {
        check(specs, queries)?;
    }
}
