//! Helpers shared by the integration tests: small configs and a collector
//! that runs a simulator to the end.

#![allow(dead_code)]

use px_simulate::{Labels, Scenario, SimConfig, Simulator};
use serde_json::Value;

/// Monday 2025-05-05 00:00:00 UTC.
pub const MONDAY: i64 = 1_746_403_200_000_000;
pub const DAY: i64 = 86_400_000_000;

pub fn config(seed: u64, days: u32, visitors_per_day: u32) -> SimConfig {
    SimConfig::new(seed, MONDAY, days, visitors_per_day)
}

/// Every event of a run, in output order.
pub fn run(config: &SimConfig) -> Vec<Value> {
    collect(Simulator::new(config.clone()))
}

/// Every event of a run of the steady baseline (what scenarios inject
/// into), in output order.
pub fn run_steady(config: &SimConfig) -> Vec<Value> {
    collect(Simulator::steady(config.clone()))
}

fn collect(mut sim: Simulator) -> Vec<Value> {
    let mut all = Vec::new();
    while let Some(batch) = sim.next_batch(1000) {
        all.extend(batch);
    }
    all
}

pub fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Microseconds since the epoch of an event's RFC 3339 timestamp.
pub fn micros(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(str_at(v, "/timestamp")).map(|t| t.timestamp_micros()).unwrap_or(i64::MIN)
}

/// Browser family as a UA parser would report it.
pub fn browser(ua: &str) -> &'static str {
    if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("SamsungBrowser") {
        "Samsung Internet"
    } else if ua.contains("OPR/") {
        "Opera"
    } else if ua.contains("Firefox/") || ua.contains("FxiOS") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("CriOS") {
        "Chrome"
    } else {
        "Safari"
    }
}

/// Every event of a run of `scenario`, and its labels.
pub fn run_with(config: &SimConfig, scenario: Scenario) -> (Vec<Value>, Labels) {
    let mut sim = Simulator::with_scenario(config.clone(), scenario);
    let mut all = Vec::new();
    while let Some(batch) = sim.next_batch(1000) {
        all.extend(batch);
    }
    (all, sim.labels().expect("a scenario run has labels"))
}

/// Sessions in output order (a session's events are contiguous).
pub fn sessions(events: &[Value]) -> Vec<&[Value]> {
    events.chunk_by(|a, b| str_at(a, "/session_id") == str_at(b, "/session_id")).collect()
}

pub fn count(session: &[Value], pred: impl Fn(&Value) -> bool) -> usize {
    session.iter().filter(|e| pred(e)).count()
}

pub fn named(e: &Value, name: &str) -> bool {
    str_at(e, "/event") == name
}
