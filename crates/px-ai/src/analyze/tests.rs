//! Root cause on hand-built sessions with known answers.

use super::*;
use crate::features::{Interner, Session, Window};
use crate::signals::{Subject, Values};
use px_core::time::MICROS_PER_DAY;

const BUCKETS: usize = 14;
const PER_BUCKET: usize = 600;
const BROWSER: usize = 0;
const APP_VERSION: usize = 5;

/// A deterministic stream in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Sessions over 14 daily buckets: Chrome 70%, Safari 20%, Firefox 10%;
/// `version(bucket, draw)` picks the release and `fails(bucket, browser,
/// version)` the failure probability. Returns the data and the failing
/// sessions as an error signal over everyone.
fn build(version: impl Fn(usize, f64) -> &'static str, fails: impl Fn(usize, &str, &str) -> f64) -> (Dataset, Signal) {
    let mut data = Dataset {
        window: Some(Window { from: 0, bucket: MICROS_PER_DAY, buckets: BUCKETS }),
        values: vec![Interner::default(); DIMS.len()],
        ..Default::default()
    };
    let mut rng = Lcg(7);
    let mut hits = Vec::new();
    for bucket in 0..BUCKETS {
        for i in 0..PER_BUCKET {
            let r = rng.next();
            let browser = if r < 0.7 {
                "Chrome"
            } else if r < 0.9 {
                "Safari"
            } else {
                "Firefox"
            };
            let v = version(bucket, rng.next());
            let mut dims = [0; DIMS.len()];
            dims[BROWSER] = data.values[BROWSER].intern(Some(browser));
            dims[APP_VERSION] = data.values[APP_VERSION].intern(Some(v));
            if rng.next() < fails(bucket, browser, v) {
                hits.push(data.sessions.len() as u32);
            }
            data.sessions.push(Session {
                id: format!("s{bucket}-{i}"),
                person: format!("p{bucket}-{i}"),
                bucket: bucket as u16,
                start: bucket as i64 * MICROS_PER_DAY,
                dims,
                entry: 0,
                views: 1,
                bounced: false,
                steps: 0,
                revenue: 0.0,
            });
        }
    }
    let signal = Signal {
        measure: Measure::Error,
        subject: Subject::default(),
        values: Values::Rate { population: Population::All, hits },
        quotes: Vec::new(),
    };
    (data, signal)
}

fn named(data: &Dataset, f: &Finding) -> Vec<(&'static str, String)> {
    f.segment.iter().map(|&(d, v)| (DIMS[d], data.dim_value(d, v).unwrap_or("?").to_string())).collect()
}

#[test]
fn a_release_most_sessions_run_is_named_when_the_old_one_is_fine() {
    // From bucket 7, nine sessions in ten run 1.4.1, which fails a fifth of
    // them; 1.4.0 stays at 2%. Everyone's rate rises almost as much as
    // 1.4.1's, so only the sessions still on 1.4.0 tell the two apart.
    let (data, signal) = build(
        |b, r| if b >= 7 && r < 0.9 { "1.4.1" } else { "1.4.0" },
        |_, _, v| if v == "1.4.1" { 0.2 } else { 0.02 },
    );
    let f = Analyzer::new(&data, Settings::default()).analyze(0, &signal).expect("a finding");
    assert_eq!(named(&data, &f), vec![("app_version", "1.4.1".to_string())], "{:?}", f.candidates);
    assert_eq!(f.change.split, 7);
}

#[test]
fn a_change_everyone_shares_is_everyones_however_large_a_slice() {
    // Every browser fails ten times as often from bucket 7; Chrome holds
    // 70% of the damage, but the damage is as dense outside it.
    let (data, signal) = build(|_, _| "1.4.0", |b, _, _| if b >= 7 { 0.2 } else { 0.02 });
    let f = Analyzer::new(&data, Settings::default()).analyze(0, &signal).expect("a finding");
    assert!(f.segment.is_empty(), "named {:?}", named(&data, &f));
    let chrome = f.candidates.iter().find(|c| c.segment == [(BROWSER, 1)]).expect("Chrome was weighed");
    assert!(chrome.share > 0.6 && chrome.density < 2.0 * chrome.outside_density, "{chrome:?}");
}

#[test]
fn the_affected_browser_wins_over_wider_and_narrower_slices() {
    // Safari on 1.4.1 fails from bucket 7; Safari on 1.4.0 too. The
    // slice holding all the damage where it is densest is Safari, not the
    // release (wider: it holds Chrome too) nor Safari on one release.
    let (data, signal) = build(
        |_, r| if r < 0.5 { "1.4.1" } else { "1.4.0" },
        |b, browser, _| if b >= 7 && browser == "Safari" { 0.3 } else { 0.02 },
    );
    let f = Analyzer::new(&data, Settings::default()).analyze(0, &signal).expect("a finding");
    assert_eq!(named(&data, &f), vec![("browser", "Safari".to_string())], "{:?}", f.candidates);
    assert_eq!(f.candidates.first().map(|c| c.segment.clone()), Some(f.segment.clone()));
}

#[test]
fn an_interaction_adds_the_second_dimension() {
    // Only Safari on 1.4.1 fails: a quarter of Safari's sessions holding
    // all of its damage.
    let (data, signal) = build(
        |_, r| if r < 0.25 { "1.4.1" } else { "1.4.0" },
        |b, browser, v| if b >= 7 && browser == "Safari" && v == "1.4.1" { 0.5 } else { 0.02 },
    );
    let f = Analyzer::new(&data, Settings::default()).analyze(0, &signal).expect("a finding");
    let mut got = named(&data, &f);
    got.sort();
    assert_eq!(got, vec![("app_version", "1.4.1".to_string()), ("browser", "Safari".to_string())]);
}
