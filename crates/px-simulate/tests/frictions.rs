//! The friction kinds added for the AI benchmark, on small inline scenarios
//! sized so their effects are clear in a debug build: error loops on forms,
//! traffic spikes (an anomaly, not a friction) and a signup conversion drop.
//! Each changes what it should, only inside its window and segment, and the
//! labels count the sessions it changed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers, not only #[test] fns

mod common;

use common::{DAY, MONDAY, config, count, micros, named, run_steady, run_with, sessions, str_at};
use px_simulate::{Scenario, SimConfig};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

fn path(e: &Value) -> &str {
    str_at(e, "/context/page/path")
}

fn message(e: &Value) -> &str {
    str_at(e, "/properties/message")
}

fn day_of(e: &Value) -> i64 {
    (micros(e) - MONDAY).div_euclid(DAY)
}

const LOOPS: &str = r#"
name = "form-loops"

[[friction]]
kind = "error_loop"
start = "day 2"
page = "/signup"
probability = 0.5

[[friction]]
kind = "error_loop"
start = "day 2"
page = "/app/settings"
message = "ValidationError: Project name must be unique"
probability = 0.4
repeats = 3
"#;

const SIGNUP_ERROR: &str = "ValidationError: Invalid value for field 'email'";
const SETTINGS_ERROR: &str = "ValidationError: Project name must be unique";

#[test]
fn error_loops_repeat_the_error_and_make_visitors_give_up() {
    let (events, labels) = run_with(&config(5, 8, 400), Scenario::from_toml(LOOPS).unwrap());
    let signup_loop = |e: &Value| named(e, "error") && message(e) == SIGNUP_ERROR;
    let settings_loop = |e: &Value| named(e, "error") && message(e) == SETTINGS_ERROR;
    let all = sessions(&events);
    let (mut looped, mut looped_done, mut plain, mut plain_done, mut views) = (0, 0, 0, 0, 0);
    for s in &all {
        let loops = count(s, signup_loop);
        if day_of(&s[0]) < 2 {
            assert_eq!(loops + count(s, settings_loop), 0, "loop before its window");
            continue;
        }
        views += count(s, |e| named(e, "page_view") && path(e) == "/signup");
        let done = count(s, |e| named(e, "signup_completed")) > 0;
        if loops > 0 {
            assert_eq!(loops, 4, "default repeats");
            looped += 1;
            looped_done += usize::from(done);
            // Submit, error, submit, error...: each error on /signup right
            // after a click on the submit button, a few seconds apart.
            let loop_events: Vec<&Value> = s
                .iter()
                .filter(|e| signup_loop(e) || str_at(e, "/properties/selector") == "button.signup-submit")
                .collect();
            assert_eq!(loop_events.len(), 8);
            for pair in loop_events.chunks(2) {
                assert!(named(pair[0], "click") && named(pair[1], "error"));
                assert_eq!(path(pair[1]), "/signup");
                assert!(!str_at(pair[1], "/properties/stack").is_empty());
                assert!(str_at(pair[1], "/properties/source").contains("/assets/auth-"));
            }
            let gaps: Vec<i64> = loop_events.windows(2).map(|w| micros(w[1]) - micros(w[0])).collect();
            assert!(gaps.iter().all(|g| (100_000..8_000_000).contains(g)), "{gaps:?}");
            let started = s.iter().find(|e| named(e, "signup_started")).map(micros).unwrap();
            assert!(micros(loop_events[0]) > started, "the loop follows signup_started");
        } else if count(s, |e| named(e, "signup_started")) > 0 {
            plain += 1;
            plain_done += usize::from(done);
        }
    }
    let rate = looped as f64 / views as f64;
    assert!(looped >= 40 && (0.4..0.6).contains(&rate), "{looped} loops in {views} views");
    let (done_after_loop, done_plain) = (looped_done as f64 / looped as f64, plain_done as f64 / plain as f64);
    // 40% keep going, then the usual 70% complete: about 28% against 70%.
    assert!(done_after_loop < 0.42 && done_plain > 0.6, "{done_after_loop} vs {done_plain}");

    // On a page that is no funnel step, giving up ends the session there.
    let ends_on_settings =
        |s: &&&[Value]| s.iter().rev().find(|e| named(e, "page_view")).map(path) == Some("/app/settings");
    let with_settings: Vec<&[Value]> = all
        .iter()
        .copied()
        .filter(|s| day_of(&s[0]) >= 2 && s.iter().any(|e| named(e, "page_view") && path(e) == "/app/settings"))
        .collect();
    let (hit, missed): (Vec<&[Value]>, Vec<&[Value]>) = with_settings.iter().partition(|s| count(s, settings_loop) > 0);
    assert!(hit.iter().all(|s| count(s, settings_loop) % 3 == 0), "three errors per looping view");
    let ended = |v: &[&[Value]]| v.iter().filter(ends_on_settings).count() as f64 / v.len() as f64;
    assert!(hit.len() >= 30, "{}", hit.len());
    assert!(ended(&hit) > ended(&missed) + 0.3, "{} vs {}", ended(&hit), ended(&missed));

    let signup_label = &labels.frictions[0];
    assert_eq!(signup_label.affected_sessions, looped as u64);
    assert_eq!(
        (signup_label.kind, signup_label.insight_type, signup_label.page, signup_label.step, signup_label.element),
        ("error_loop", "friction", Some("/signup"), Some("signup_completed"), Some("button.signup-submit"))
    );
    assert_eq!(signup_label.message.as_deref(), Some(SIGNUP_ERROR));
    let settings_label = &labels.frictions[1];
    assert_eq!(settings_label.affected_sessions, hit.len() as u64);
    assert_eq!((settings_label.page, settings_label.step), (Some("/app/settings"), None));
    assert_eq!(settings_label.message.as_deref(), Some(SETTINGS_ERROR));

    // The label JSON keeps every earlier field and adds the new ones.
    let json = serde_json::to_value(&labels).unwrap();
    let keys: HashSet<&str> = json["frictions"][0].as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "index",
        "kind",
        "segment",
        "start",
        "end",
        "page",
        "step",
        "element",
        "theme",
        "affected_sessions",
        "affected_persons",
        "insight_type",
        "message",
        "channel",
    ] {
        assert!(keys.contains(key), "{key} missing from {keys:?}");
    }
}

/// New visitors per day: sessions of an anonymous id not seen before
/// (users come back under their user id).
fn new_visitors_by_day(events: &[Value], pred: impl Fn(&Value) -> bool) -> BTreeMap<i64, usize> {
    let mut seen = HashSet::new();
    let mut out = BTreeMap::new();
    for s in sessions(events) {
        let first = &s[0];
        let id = str_at(first, "/distinct_id");
        if !id.starts_with("user_") && seen.insert(id.to_string()) && pred(first) {
            *out.entry(day_of(first)).or_default() += 1;
        }
    }
    out
}

const SPIKES: &str = r#"
name = "spikes"

[[friction]]
kind = "traffic_spike"
start = "day 3"
end = "day 5"
factor = 4
channel = "hacker-news"

[[friction]]
kind = "traffic_spike"
start = "6d 12h"
end = "day 7"
factor = 3
"#;

#[test]
fn traffic_spikes_add_new_visitors_in_their_window_only() {
    // Without a warm-up every visitor first seen on a day is new that day,
    // so the spike's share can be counted from the events.
    let cfg = SimConfig { warmup_days: 0, ..config(8, 8, 300) };
    let base = run_steady(&cfg);
    let (events, labels) = run_with(&cfg, Scenario::from_toml(SPIKES).unwrap());
    // Before the first spike the run is the steady baseline, byte for byte.
    let cut = |v: &[Value]| v.iter().position(|e| day_of(e) >= 3).unwrap();
    assert_eq!(events[..cut(&events)], base[..cut(&base)]);
    // Every baseline session is still there: the spike only adds.
    let ids = |v: &[Value]| -> HashSet<String> { v.iter().map(|e| str_at(e, "/session_id").to_string()).collect() };
    assert!(ids(&base).is_subset(&ids(&events)));

    let everyone = |_: &Value| true;
    let (with, without) = (new_visitors_by_day(&events, everyone), new_visitors_by_day(&base, everyone));
    for day in 0..8 {
        let ratio = with[&day] as f64 / without[&day] as f64;
        let expected = match day {
            3 | 4 => 4.0,
            6 => 2.0, // half a day at 3x
            _ => 1.0,
        };
        assert!((ratio - expected).abs() < 0.1, "day {day}: {ratio}");
    }
    let from_hn = |e: &Value| str_at(e, "/context/page/referrer") == "https://news.ycombinator.com/";
    let hn = new_visitors_by_day(&events, from_hn);
    assert!(hn[&3] as f64 > 0.7 * with[&3] as f64, "{hn:?}");
    // The second spike's visitors arrive after noon only.
    let morning = |e: &Value| micros(e) < MONDAY + 6 * DAY + DAY / 2;
    assert_eq!(new_visitors_by_day(&events, morning).get(&6), new_visitors_by_day(&base, morning).get(&6));

    let extra: usize = [3, 4].iter().map(|d| with[d] - without[d]).sum();
    let hn_label = &labels.frictions[0];
    assert_eq!(
        (hn_label.kind, hn_label.insight_type, hn_label.channel),
        ("traffic_spike", "anomaly", Some("hacker-news"))
    );
    assert_eq!(hn_label.affected_sessions, extra as u64);
    assert_eq!(hn_label.affected_persons, extra as u64);
    assert_eq!((hn_label.page, hn_label.message.as_deref()), (None, None));
    assert_eq!(labels.frictions[1].affected_sessions, (with[&6] - without[&6]) as u64);
    assert_eq!(labels.frictions[1].channel, None);
    // The spike's segment is the source an analysis sees for its channel;
    // an every-channel spike has none.
    assert_eq!(hn_label.segment.get("source").map(String::as_str), Some("news.ycombinator.com"));
    assert!(labels.frictions[1].segment.is_empty());
}

const SIGNUP_DROP: &str = r#"
name = "desktop-signup-drop"

[[friction]]
kind = "conversion_drop"
start = "day 0"
step = "signup_completed"
factor = 0.3
segment = { device_type = "desktop" }
"#;

#[test]
fn a_signup_conversion_drop_lowers_completed_signups_in_its_segment() {
    let (events, labels) = run_with(&config(12, 6, 400), Scenario::from_toml(SIGNUP_DROP).unwrap());
    let desktop = |e: &Value| {
        let ua = str_at(e, "/context/user_agent");
        !ua.contains("Mobile") && !ua.contains("iPad") && !ua.contains("Android")
    };
    let (mut started, mut done) = ([0usize; 2], [0usize; 2]);
    for s in sessions(&events) {
        let i = usize::from(desktop(&s[0]));
        started[i] += count(s, |e| named(e, "signup_started"));
        done[i] += count(s, |e| named(e, "signup_completed"));
    }
    let rate = |i: usize| done[i] as f64 / started[i] as f64;
    assert!(started[0] >= 50 && started[1] >= 100, "{started:?}");
    assert!((0.6..0.8).contains(&rate(0)), "others as usual: {}", rate(0));
    assert!((0.12..0.3).contains(&rate(1)), "desktop: {}", rate(1));
    let label = &labels.frictions[0];
    assert_eq!((label.page, label.step, label.insight_type), (Some("/signup"), Some("signup_completed"), "friction"));
    // Lost signups: those the baseline would have completed, ~70% x 70%.
    let lost = label.affected_sessions as f64 / started[1] as f64;
    assert!((0.4..0.6).contains(&lost), "{lost}");
    // No checkout drop: checkouts are not part of this friction's step.
    assert!(count(&events, |e| named(e, "checkout_completed")) > 0);
}
