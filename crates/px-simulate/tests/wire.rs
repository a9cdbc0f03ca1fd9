//! The output contract: determinism, batch bounds, and events the native
//! endpoint accepts as they are (every field `WireEvent` knows, no other).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers, not only #[test] fns

mod common;

use common::{DAY, MONDAY, config, micros, run, str_at};
use px_core::WireEvent;
use px_simulate::{SimConfig, Simulator, approx_events};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

fn serialized(config: &SimConfig, batch: usize) -> Vec<String> {
    let mut sim = Simulator::new(config.clone());
    let mut out = Vec::new();
    while let Some(events) = sim.next_batch(batch) {
        out.extend(events.iter().map(Value::to_string));
    }
    out
}

#[test]
fn the_same_config_gives_the_same_bytes_whatever_the_batch_size() {
    let cfg = config(7, 3, 120);
    let a = serialized(&cfg, 1000);
    let b = serialized(&cfg, 7);
    assert!(a.len() > 1000, "{}", a.len());
    assert_eq!(a, b);
    let other = serialized(&config(8, 3, 120), 1000);
    assert_ne!(a, other, "another seed gives other traffic");
}

#[test]
fn batches_never_exceed_max_and_end_with_none() {
    for max in [1, 13, 500] {
        let mut sim = Simulator::new(config(3, 2, 40));
        let mut total = 0u64;
        while let Some(batch) = sim.next_batch(max) {
            assert!(!batch.is_empty() && batch.len() <= max, "{} > {max}", batch.len());
            total += batch.len() as u64;
        }
        assert!(total > 0);
        assert_eq!(sim.emitted(), total);
        assert!(sim.next_batch(max).is_none(), "stays done");
    }
    let mut sim = Simulator::new(config(3, 1, 10));
    assert_eq!(sim.next_batch(0).map(|b| b.len()), Some(1), "max 0 acts as 1");
}

#[test]
fn empty_runs_produce_nothing() {
    assert!(Simulator::new(config(1, 0, 100)).next_batch(10).is_none());
    assert!(Simulator::new(config(1, 5, 0)).next_batch(10).is_none());
    assert_eq!(approx_events(&config(1, 0, 100)), 0);
}

#[test]
fn every_event_is_a_complete_wire_event_inside_the_run() {
    let cfg = config(11, 4, 150);
    let events = run(&cfg);
    let allowed: HashSet<&str> = [
        "event",
        "distinct_id",
        "anonymous_id",
        "event_id",
        "session_id",
        "timestamp",
        "properties",
        "context",
        "$set",
        "$set_once",
    ]
    .into();
    let mut ids = HashSet::new();
    let end = cfg.start_micros + i64::from(cfg.days) * DAY;
    for e in &events {
        let obj = e.as_object().expect("an object");
        for key in obj.keys() {
            assert!(allowed.contains(key.as_str()), "unexpected top-level field {key}");
        }
        let wire: WireEvent = serde_json::from_value(e.clone()).expect("accepted by the native endpoint");
        assert!(!wire.event.unwrap_or_default().is_empty());
        let id = uuid::Uuid::parse_str(str_at(e, "/event_id")).expect("event_id is a UUID");
        assert!(ids.insert(id), "duplicate event_id {id}");
        assert!(!str_at(e, "/distinct_id").is_empty());
        uuid::Uuid::parse_str(str_at(e, "/session_id")).expect("session_id is a UUID");
        let t = micros(e);
        assert!((cfg.start_micros..end).contains(&t), "{} outside the run", str_at(e, "/timestamp"));
        assert!(str_at(e, "/timestamp").ends_with('Z'));
        assert!(!str_at(e, "/properties/app_version").is_empty());
        for field in ["/context/page/url", "/context/page/path", "/context/page/title", "/context/user_agent"] {
            assert!(!str_at(e, field).is_empty(), "{field} missing in {e}");
        }
        assert!(str_at(e, "/context/page/url").starts_with("https://relay.example.com/"));
        assert!(str_at(e, "/context/locale").contains('-'));
        assert!(str_at(e, "/context/timezone").contains('/'));
        assert!(e.pointer("/context/screen/width").and_then(Value::as_u64).is_some());
        assert_eq!(str_at(e, "/context/library/name"), "px-js");
        assert_eq!(str_at(e, "/context/library/version"), "0.1.0");
        let country = str_at(e, "/context/country");
        assert!(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()), "{country}");
    }
}

#[test]
fn days_never_go_backwards() {
    let events = run(&config(5, 6, 80));
    let mut last_day = 0;
    for e in &events {
        let day = (micros(e) - MONDAY) / DAY;
        assert!(day >= last_day, "day {day} after day {last_day}");
        last_day = day;
    }
    assert_eq!(last_day, 5);
}

#[test]
fn identify_links_the_anonymous_id_to_a_user_id() {
    let events = run(&config(2, 5, 200));
    let identifies: Vec<&Value> = events.iter().filter(|e| str_at(e, "/event") == "identify").collect();
    assert!(!identifies.is_empty());
    let mut users = HashSet::new();
    for &e in &identifies {
        let (user, anon) = (str_at(e, "/distinct_id"), str_at(e, "/anonymous_id"));
        assert!(user.starts_with("user_"), "{user}");
        assert!(!anon.is_empty() && anon != user);
        assert!(users.insert(user.to_string()), "{user} identified twice");
        assert_eq!(str_at(e, "/$set/plan"), "free");
        assert!(["email", "google"].contains(&str_at(e, "/$set/signup_method")));
        assert!(!str_at(e, "/$set_once/initial_referrer").is_empty());
    }
    // From the identify on, the session speaks with the user id only.
    let identified_at: HashMap<&str, (i64, &str)> =
        identifies.iter().map(|e| (str_at(e, "/session_id"), (micros(e), str_at(e, "/anonymous_id")))).collect();
    for e in &events {
        if let Some((at, anon)) = identified_at.get(str_at(e, "/session_id")) {
            let late = micros(e) > *at;
            assert!(!(late && str_at(e, "/distinct_id") == *anon), "anonymous event after identify: {e}");
        }
    }
}

#[test]
fn the_estimate_tracks_the_actual_count() {
    for cfg in [config(1, 7, 300), config(2, 30, 60)] {
        let actual = run(&cfg).len() as f64;
        let estimate = approx_events(&cfg) as f64;
        let ratio = estimate / actual;
        assert!((0.8..1.25).contains(&ratio), "estimate {estimate} vs actual {actual}");
        assert_eq!(Simulator::new(cfg.clone()).approx_events(), approx_events(&cfg));
    }
}
