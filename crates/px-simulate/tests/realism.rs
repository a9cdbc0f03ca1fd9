//! What a product manager expects of the demo data, checked on one shared
//! four-week run: funnel order and rates, seasonality, returning visitors,
//! browser shares, and the deliberate frictions. The bounds are loose enough
//! for sampling noise and tight enough to catch a broken model; the rates
//! they pin are the ones `docs/simulate.md` documents.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers, not only #[test] fns

mod common;

use common::{DAY, MONDAY, browser, config, micros, run, str_at};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const DAYS: u32 = 28;
const VISITORS_PER_DAY: u32 = 200;

/// The shared run and a map from anonymous id to user id.
struct Run {
    events: Vec<Value>,
    users: HashMap<String, String>,
}

impl Run {
    /// The person an event belongs to: the user id once known.
    fn person<'a>(&'a self, e: &'a Value) -> &'a str {
        let d = str_at(e, "/distinct_id");
        self.users.get(d).map_or(d, String::as_str)
    }

    fn named(&self, name: &'static str) -> impl Iterator<Item = &Value> {
        self.events.iter().filter(move |e| str_at(e, "/event") == name)
    }

    /// First event of every session.
    fn session_starts(&self) -> Vec<&Value> {
        let mut seen = HashSet::new();
        self.events.iter().filter(|e| seen.insert(str_at(e, "/session_id"))).collect()
    }
}

fn shared() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let events = run(&config(2025, DAYS, VISITORS_PER_DAY));
        let users = events
            .iter()
            .filter(|e| str_at(e, "/event") == "identify")
            .map(|e| (str_at(e, "/anonymous_id").to_string(), str_at(e, "/distinct_id").to_string()))
            .collect();
        Run { events, users }
    })
}

fn ratio(a: usize, b: usize) -> f64 {
    a as f64 / b.max(1) as f64
}

#[test]
fn funnel_steps_happen_in_order_for_each_person() {
    let run = shared();
    let mut first: HashMap<(&str, &str), i64> = HashMap::new();
    for e in &run.events {
        let t = micros(e);
        let slot = first.entry((run.person(e), str_at(e, "/event"))).or_insert(t);
        *slot = (*slot).min(t);
    }
    for ((person, name), t) in &first {
        let before = match *name {
            "signup_completed" | "identify" => "signup_started",
            "checkout_completed" => "checkout_started",
            _ => continue,
        };
        let earlier = first.get(&(*person, before)).copied();
        assert!(earlier.is_some_and(|b| b <= *t), "{person}: {name} at {t} without an earlier {before}");
    }
}

#[test]
fn funnel_rates_match_the_documented_model() {
    let run = shared();
    let persons: HashSet<&str> = run.events.iter().map(|e| run.person(e)).collect();
    let reached = |name: &'static str, path: Option<&'static str>| -> HashSet<&str> {
        run.named(name)
            .filter(|e| path.is_none_or(|p| str_at(e, "/context/page/path") == p))
            .map(|e| run.person(e))
            .collect()
    };
    let pricing = reached("page_view", Some("/pricing"));
    let started = reached("signup_started", None);
    let signed = reached("signup_completed", None);
    let checkout = reached("checkout_started", None);
    let paid = reached("checkout_completed", None);
    let rates = [
        ("pricing / visitors", ratio(pricing.len(), persons.len()), 0.28..0.45),
        ("signup_started / visitors", ratio(started.len(), persons.len()), 0.08..0.16),
        ("signup_completed / started", ratio(signed.len(), started.len()), 0.6..0.8),
        ("checkout_started / users", ratio(checkout.len(), signed.len()), 0.06..0.35),
        ("checkout_completed / started", ratio(paid.len(), checkout.len()), 0.4..0.8),
    ];
    for (what, rate, bounds) in rates {
        assert!(bounds.contains(&rate), "{what} = {rate:.3}, expected {bounds:?}");
    }
    for e in run.named("checkout_completed") {
        let plan = str_at(e, "/properties/plan");
        let revenue = e.pointer("/properties/revenue").and_then(Value::as_f64);
        assert_eq!(revenue, Some(if plan == "pro" { 29.0 } else { 99.0 }), "{plan}");
        assert_eq!(str_at(e, "/properties/currency"), "USD");
        assert_eq!(str_at(e, "/$set/plan"), plan);
        assert!(str_at(e, "/distinct_id").starts_with("user_"));
    }
}

#[test]
fn daily_volume_follows_the_configured_visitors() {
    let run = shared();
    let mut new_visitors = vec![HashSet::new(); DAYS as usize];
    let mut events = vec![0usize; DAYS as usize];
    let mut seen = HashSet::new();
    for e in &run.events {
        let day = ((micros(e) - MONDAY) / DAY) as usize;
        events[day] += 1;
        let person = run.person(e);
        if seen.insert(person) {
            new_visitors[day].insert(person);
        }
    }
    let per_day = px_simulate::approx_events(&config(2025, DAYS, VISITORS_PER_DAY)) as f64 / f64::from(DAYS);
    for day in 0..DAYS as usize {
        // The first days' first-seen persons include visitors and users of
        // the warm-up coming back; after two weeks nearly all have.
        let new = new_visitors[day].len() as f64 / f64::from(VISITORS_PER_DAY);
        assert!(day < 14 || (0.45..1.6).contains(&new), "day {day}: {new:.2} of the configured new visitors");
        let volume = events[day] as f64 / per_day;
        assert!((0.3..2.0).contains(&volume), "day {day}: {volume:.2} of the average volume");
    }
    // Monday 2025-05-05 starts the run: days 5, 6, 12, 13, ... are weekends.
    let weekend: usize = (0..DAYS as usize).filter(|d| d % 7 >= 5).map(|d| events[d]).sum();
    let weekday: usize = (0..DAYS as usize).filter(|d| d % 7 < 5).map(|d| events[d]).sum();
    let ratio = (weekend as f64 / 8.0) / (weekday as f64 / 20.0);
    assert!((0.4..0.8).contains(&ratio), "weekend/weekday = {ratio:.2}");
}

#[test]
fn traffic_peaks_in_the_afternoon_and_visitors_come_back() {
    let run = shared();
    let starts = run.session_starts();
    let mut hours = [0usize; 24];
    for s in &starts {
        hours[((micros(s) - MONDAY).rem_euclid(DAY) / 3_600_000_000) as usize] += 1;
    }
    // Most visitors are in the Americas and Europe: their afternoon is
    // 13:00-20:00 UTC and their night 04:00-08:00 UTC.
    let (peak, trough): (usize, usize) = (hours[13..20].iter().sum(), hours[4..11].iter().sum());
    assert!(peak as f64 > 1.5 * trough as f64, "{hours:?}");

    let mut days_seen: HashMap<&str, HashSet<i64>> = HashMap::new();
    for s in &starts {
        days_seen.entry(run.person(s)).or_default().insert((micros(s) - MONDAY) / DAY);
    }
    let returning = days_seen.values().filter(|d| d.len() > 1).count();
    let share = ratio(returning, days_seen.len());
    assert!((0.1..0.5).contains(&share), "{share:.2} of visitors came back");
}

#[test]
fn browser_shares_match_the_catalog() {
    let run = shared();
    let starts = run.session_starts();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for s in &starts {
        *counts.entry(browser(str_at(s, "/context/user_agent"))).or_default() += 1;
    }
    let share = |b: &str| ratio(counts.get(b).copied().unwrap_or(0), starts.len());
    for (name, expected) in
        [("Chrome", 0.60), ("Safari", 0.20), ("Edge", 0.08), ("Firefox", 0.07), ("Samsung Internet", 0.04)]
    {
        let got = share(name);
        assert!((got - expected).abs() < 0.035, "{name}: {got:.3} instead of ~{expected}");
    }
}

#[test]
fn every_standard_event_appears_with_its_properties() {
    let run = shared();
    let names: HashSet<&str> = run.events.iter().map(|e| str_at(e, "/event")).collect();
    for name in [
        "page_view",
        "click",
        "scroll",
        "signup_started",
        "signup_completed",
        "identify",
        "login",
        "feature_used",
        "checkout_started",
        "checkout_completed",
        "error",
        "web_vital",
        "rage_click",
        "dead_click",
        "feedback",
    ] {
        assert!(names.contains(name), "no {name}");
    }
    for e in run.named("scroll") {
        assert!([25, 50, 75, 100].contains(&e.pointer("/properties/depth").and_then(Value::as_u64).unwrap_or(0)));
    }
    for e in run.named("web_vital") {
        let value = e.pointer("/properties/value").and_then(Value::as_f64).unwrap_or(-1.0);
        let (good, poor) = match str_at(e, "/properties/name") {
            "LCP" => (2500.0, 4000.0),
            "INP" => (200.0, 500.0),
            "CLS" => (0.1, 0.25),
            "FCP" => (1800.0, 3000.0),
            "TTFB" => (800.0, 1800.0),
            other => panic!("unknown vital {other}"),
        };
        let rating = if value <= good {
            "good"
        } else if value <= poor {
            "needs-improvement"
        } else {
            "poor"
        };
        assert!(value >= 0.0);
        assert_eq!(str_at(e, "/properties/rating"), rating, "{e}");
    }
    for e in run.named("click").chain(run.named("rage_click")).chain(run.named("dead_click")) {
        assert!(!str_at(e, "/properties/selector").is_empty() && !str_at(e, "/properties/tag").is_empty());
    }
    let features: HashSet<&str> = run.named("feature_used").map(|e| str_at(e, "/properties/feature")).collect();
    assert_eq!(features, ["reports", "export", "share", "dashboards", "alerts"].into());
}

#[test]
fn the_checkout_bug_hits_safari_hardest_and_releases_roll_out() {
    let run = shared();
    let payment_views: Vec<&Value> =
        run.named("page_view").filter(|e| str_at(e, "/context/page/path") == "/checkout/payment").collect();
    let is_webkit = |e: &Value| {
        let ua = str_at(e, "/context/user_agent");
        ua.contains("iPhone") || ua.contains("iPad") || browser(ua) == "Safari"
    };
    let errors: Vec<&Value> = run
        .named("error")
        .filter(|e| str_at(e, "/context/page/path") == "/checkout/payment")
        .filter(|e| str_at(e, "/properties/source").contains("checkout"))
        .collect();
    let rate = |webkit: bool| {
        ratio(
            errors.iter().filter(|e| is_webkit(e) == webkit).count(),
            payment_views.iter().filter(|e| is_webkit(e) == webkit).count(),
        )
    };
    assert!(!errors.is_empty());
    assert!(rate(true) > 3.0 * rate(false), "webkit {:.3} vs others {:.3}", rate(true), rate(false));

    let versions = |day: i64| -> HashSet<&str> {
        run.events
            .iter()
            .filter(|e| (micros(e) - MONDAY) / DAY == day)
            .map(|e| str_at(e, "/properties/app_version"))
            .collect()
    };
    assert_eq!(versions(0), ["1.4.0"].into());
    assert_eq!(versions(10), ["1.4.0", "1.4.1"].into(), "release day mixes old and new clients");
    assert_eq!(versions(27), ["1.5.0"].into());
}

#[test]
fn feedback_speaks_english_and_portuguese() {
    let run = shared();
    let feedback: Vec<&Value> = run.named("feedback").collect();
    assert!(feedback.len() > 20, "{}", feedback.len());
    let ratings: HashSet<u64> =
        feedback.iter().filter_map(|e| e.pointer("/properties/rating").and_then(Value::as_u64)).collect();
    assert!(ratings.iter().all(|r| (1..=5).contains(r)) && ratings.len() >= 4, "{ratings:?}");
    let comment_in = |locale: &str| {
        feedback.iter().any(|e| str_at(e, "/context/locale") == locale && !str_at(e, "/properties/comment").is_empty())
    };
    assert!(comment_in("pt-BR"), "no Portuguese comment");
    assert!(comment_in("en-US"), "no English comment");
}

#[test]
fn the_run_starts_with_the_users_of_a_live_product() {
    // Thanks to the warm-up, signed-up users come back from the first day
    // on and their share of the sessions is flat, where a cold start would
    // climb for weeks as users accumulate.
    let run = shared();
    let mut week_sessions = [0usize; 4];
    let mut week_users = [0usize; 4];
    for s in run.session_starts() {
        let week = ((micros(s) - MONDAY) / (7 * DAY)) as usize;
        week_sessions[week] += 1;
        week_users[week] += usize::from(str_at(s, "/distinct_id").starts_with("user_"));
    }
    let share: Vec<f64> = (0..4).map(|w| ratio(week_users[w], week_sessions[w])).collect();
    assert!(share[0] > 0.15, "users' share of week 1's sessions: {share:?}");
    assert!((share[0] / share[3] - 1.0).abs() < 0.15, "users' share by week: {share:?}");
    // A user who signed up before the run is put on record with their plan.
    let first_user_event = run.events.iter().find(|e| str_at(e, "/distinct_id").starts_with("user_")).unwrap();
    assert!(first_user_event.pointer("/$set/plan").is_some(), "{first_user_event}");
}
