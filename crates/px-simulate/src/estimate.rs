//! The expected size of a run without generating it, for progress bars and
//! sizing. It replays the model's visit dynamics in expectation (new
//! visitors by weekday, return probabilities and gaps per life-cycle stage,
//! signups and upgrades) day by day, and multiplies sessions by the mean
//! events per session of each stage. Time is O(days) and memory constant.
//!
//! The per-session means are measured from the generator; when the session
//! model changes, re-measure them (the `the_estimate_tracks_the_actual_count`
//! test in `tests/wire.rs` fails once they drift). Across run sizes the
//! estimate lands within about 10% of the actual count.

use crate::SimConfig;
use crate::calendar;
use crate::model::Model;

/// Mean events of a first visit, of a later anonymous visit and of a user's
/// visit, and the extra events a signup adds to the session it happens in.
const EVENTS_FIRST_VISIT: f64 = 16.4;
const EVENTS_RETURN_VISIT: f64 = 16.2;
const EVENTS_USER_VISIT: f64 = 24.2;
const EVENTS_PER_SIGNUP: f64 = 24.0;
/// Share of first visits that land on /pricing (from the channel tables).
const LANDS_ON_PRICING: f64 = 0.1;

/// Estimate of the total events a simulator with `config` produces.
pub fn approx_events(config: &SimConfig) -> u64 {
    let m = Model::default();
    let signup = |p_pricing: f64| {
        (p_pricing * m.signup_after_pricing + (1.0 - p_pricing) * m.signup_without_pricing) * m.signup_complete
    };
    let signup_first = signup(LANDS_ON_PRICING + (1.0 - LANDS_ON_PRICING) * m.pricing_first);
    let signup_return = signup(m.pricing_return);
    let upgrade = m.checkout * m.checkout_complete;
    let first_weekday = calendar::weekday_of(config.start_micros, 0);

    // Expected visitors coming back on each of the next days, per stage, in
    // rings indexed by day modulo their length.
    let mut anon = Ring::new(&m);
    let mut free = Ring::new(&m);
    let mut paid = Ring::new(&m);
    let mut total = 0.0;
    // The warm-up's visits fill the rings but send nothing.
    for day in -i64::from(config.warmup_days)..i64::from(config.days) {
        let weekday = (first_weekday as i64 + day).rem_euclid(7) as usize;
        let new = f64::from(config.visitors_per_day) * calendar::weekday_factor(weekday);
        let (a, f, p) = (anon.take(day), free.take(day), paid.take(day));
        let signups = new * signup_first + a * signup_return;
        let upgrades = f * upgrade;
        if day >= 0 {
            total += new * EVENTS_FIRST_VISIT
                + a * EVENTS_RETURN_VISIT
                + (f + p) * EVENTS_USER_VISIT
                + signups * EVENTS_PER_SIGNUP;
        }
        let today = Today { day, weekday, days: config.days };
        anon.spread(&today, &m, (new + a - signups) * m.anon_return, m.anon_gap_days);
        free.spread(&today, &m, (f - upgrades + signups) * m.free_return, m.free_gap_days);
        paid.spread(&today, &m, (p + upgrades) * m.paid_return, m.paid_gap_days);
    }
    total.round() as u64
}

struct Today {
    /// Negative during the warm-up.
    day: i64,
    weekday: usize,
    days: u32,
}

/// Expected returns for the days ahead.
struct Ring(Vec<f64>);

impl Ring {
    fn new(m: &Model) -> Ring {
        Ring(vec![0.0; m.max_gap_days as usize + 8])
    }

    /// The returns due on `day`, clearing the slot for reuse.
    fn take(&mut self, day: i64) -> f64 {
        let len = self.0.len();
        std::mem::take(&mut self.0[day.rem_euclid(len as i64) as usize])
    }

    /// Adds `mass` expected returns to the days after `today`, by the gap
    /// distribution of `Visitor::next_visit` (1 + geometric, returns falling
    /// on a weekend partly postponed to Monday, none past the run).
    fn spread(&mut self, today: &Today, m: &Model, mass: f64, mean_gap: f64) {
        if mass <= 0.0 {
            return;
        }
        let len = self.0.len();
        let q = (mean_gap - 1.0) / mean_gap;
        let mut p = 1.0 - q;
        for gap in 1..=m.max_gap_days {
            let weekday = (today.weekday + gap as usize) % 7;
            let (stay, moved) = if weekday >= 5 { (1.0 - m.weekend_postpone, m.weekend_postpone) } else { (1.0, 0.0) };
            let monday = gap + 7 - weekday as u32;
            for (g, share) in [(gap, stay), (monday, moved)] {
                let due = today.day + i64::from(g);
                if share > 0.0 && g <= m.max_gap_days && due < i64::from(today.days) {
                    self.0[due.rem_euclid(len as i64) as usize] += mass * p * share;
                }
            }
            p *= q;
        }
    }
}
