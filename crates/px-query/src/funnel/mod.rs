//! Funnel evaluation: one person's events in, how far they got out.
//!
//! SQL (generated elsewhere) gathers, for each person, the events of the
//! query's date range that matter to the funnel, sorted by
//! `(timestamp, event_id)`, each as a [`FunnelEvent`]: a timestamp in
//! microseconds and bit masks of the steps and exclusions it matches. The
//! [`Evaluator`] turns one such list into a [`PersonOutcome`]; it runs once per
//! person (about a million per query), so it reuses its scratch buffers and
//! never allocates once warmed up. [`brute_force`] is the oracle: it
//! enumerates every attempt, exactly as defined below, and the property tests
//! hold the evaluator to it.
//!
//! # Definition
//!
//! Steps are 1-based here (step `i` is bit `i - 1` of [`FunnelEvent::steps`]);
//! `K` is [`FunnelSpec::steps`], `W` is [`FunnelSpec::window_micros`] and
//! `t(e)` is the timestamp of event `e`. The position of an event in the slice
//! is its tie order among equal timestamps.
//!
//! An *attempt reaching step k* is a choice of `k` distinct events (one event
//! never fills two steps of an attempt) `e_1 .. e_k`, such that:
//!
//! - **Ordered**: `e_i` matches step `i`; `t_1 <= t_2 <= .. <= t_k`, where
//!   steps matching different events may share a timestamp whatever their
//!   positions in the slice; `t_i > t_(i-1)` when step `i` repeats the event
//!   of step `i - 1` ([`FunnelSpec::strictly_after_previous`]); and
//!   `t_k - t_1 <= W` (the window is inclusive).
//! - **Strict**: as Ordered, and the chosen events are consecutive positions
//!   `p, p + 1, .., p + k - 1` of the slice: nothing in between.
//! - **Exclusions** (Ordered and Strict): an exclusion `(a, b)` (1-based steps,
//!   `a < b`) spoils the attempt if, for some `i` with `a <= i < b` and
//!   `i + 1 <= k`, an event of that exclusion has `t_i < t(E) <= t_(i+1)`. An
//!   exclusion at the same instant as the step it precedes spoils; at the same
//!   instant as the step it follows it does not. A spoiled attempt is invalid,
//!   but its shorter prefixes may still be valid: a prefix is held only to the
//!   conditions over its own steps.
//! - **Unordered**: the `k` events are matched to `k` distinct steps (any `k`
//!   of the `K`, each event matching its step), and all their timestamps lie
//!   in `[t_first, t_first + W]`, `t_first` being the smallest of them.
//!
//! `reached` is the largest `k` of any valid attempt (0 if there is none, `K`
//! when the person converted). `conversion_micros[k - 1]` is
//! `t_last - t_first` of the valid attempt reaching `k` that completes
//! earliest (`t_last` is the timestamp of its last-filled step: `t_k` when
//! ordered or strict, the largest timestamp when unordered); among attempts
//! completing at that same time, the one that started latest.
//!
//! # Corners this definition settles
//!
//! - Timestamps, not positions, decide order and exclusions. In ordered
//!   funnels, events of one instant may fill consecutive steps in any order
//!   of position, except a step repeating the previous step's event, which
//!   needs a later instant even for an event later in the slice. In strict
//!   funnels, consecutive positions at one instant may fill consecutive
//!   steps, with the same exception.
//! - An exclusion event at the instant of the step it precedes spoils the
//!   move whatever its position, even placed after that step in the slice.
//! - An event may both match a step and carry an exclusion. Like any
//!   exclusion event of its instant, it then spoils the moves onto itself
//!   across a gap that exclusion covers when the attempt's last step is
//!   strictly earlier; at the instant of that last step it spoils nothing.
//! - An exclusion only forbids moving on: an attempt that stops at a step and
//!   is followed by an exclusion event still counts for the steps it filled.
//! - Strict funnels count every event of the slice as a position, including
//!   events that match no step and no exclusion: the SQL must send all of the
//!   person's events for a strict funnel, as any event breaks a chain.
//! - Unordered funnels ignore `strictly_after_previous` (their events are
//!   distinct anyway) and reject exclusions, which need an order of steps.
//! - Step bits at or above `K` and exclusion bits with no entry in
//!   [`FunnelSpec::exclusions`] are ignored.
//! - Every `k <= reached` is reached by some valid attempt (a prefix, or a
//!   subset for unordered funnels), so `conversion_micros` has no gaps; its
//!   `k`-th entry may come from a different attempt than the `k + 1`-th.

mod eval;
mod oracle;

#[cfg(test)]
mod tests;

pub use eval::Evaluator;
pub use oracle::brute_force;

/// Most steps a funnel may have: step masks are `u32`, and the unordered
/// matching search stays cheap.
pub const MAX_STEPS: usize = 20;

/// Most exclusions a funnel may have: one bit each in [`FunnelEvent::exclusions`].
pub const MAX_EXCLUSIONS: usize = 32;

/// How the steps of a funnel must follow each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelOrder {
    /// Steps in order, other events allowed in between.
    Ordered,
    /// Steps in order on consecutive events.
    Strict,
    /// Steps in any order.
    Unordered,
}

/// What a funnel asks, as the evaluator needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelSpec {
    /// `K`, the number of steps, `1..=20`.
    pub steps: usize,
    /// Conversion window, inclusive: the last step may come this many
    /// microseconds after the first, not one more.
    pub window_micros: i64,
    pub order: FunnelOrder,
    /// `[i]` is true when step `i` (0-based, `i >= 1`) matches the same event
    /// name as step `i - 1`: it then needs an event strictly later than step
    /// `i - 1`'s. `[0]` is always false. One entry per step.
    pub strictly_after_previous: Vec<bool>,
    /// Exclusion `j` spoils attempts between steps `(from, to)`, 0-based,
    /// `from < to < K`. Bit `j` of [`FunnelEvent::exclusions`].
    pub exclusions: Vec<(usize, usize)>,
}

/// One event of a person, as the SQL hands it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunnelEvent {
    /// Microseconds.
    pub ts: i64,
    /// Bit `i`: the event matches step `i` (0-based).
    pub steps: u32,
    /// Bit `j`: the event is one of exclusion `j`'s.
    pub exclusions: u32,
}

/// How far one person got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonOutcome {
    /// Furthest step reached (1-based count): 0 = never entered (no valid
    /// attempt), `K` = converted.
    pub reached: usize,
    /// `len == reached`; `[k]` = microseconds from the first step to step
    /// `k + 1` in the attempt that reached step `k + 1` earliest (smallest
    /// completion time); among attempts completing at that same time, the one
    /// with the latest start. `[0] == 0`.
    pub conversion_micros: Vec<i64>,
}

impl FunnelSpec {
    /// Checks what the evaluator and the oracle rely on.
    pub fn validate(&self) -> Result<(), String> {
        let k = self.steps;
        if !(1..=MAX_STEPS).contains(&k) {
            return Err(format!("a funnel has 1 to {MAX_STEPS} steps, not {k}"));
        }
        if self.window_micros < 0 {
            return Err(format!("negative conversion window: {} µs", self.window_micros));
        }
        if self.strictly_after_previous.len() != k {
            return Err(format!(
                "strictly_after_previous has {} entries for {k} steps",
                self.strictly_after_previous.len()
            ));
        }
        if self.strictly_after_previous[0] {
            return Err("the first step has no previous step to be strictly after".to_owned());
        }
        if self.exclusions.len() > MAX_EXCLUSIONS {
            return Err(format!("at most {MAX_EXCLUSIONS} exclusions, not {}", self.exclusions.len()));
        }
        if !self.exclusions.is_empty() && self.order == FunnelOrder::Unordered {
            return Err("an unordered funnel has no steps between which to exclude".to_owned());
        }
        for &(from, to) in &self.exclusions {
            if !(from < to && to < k) {
                return Err(format!("exclusion between steps {from} and {to} of {k} (0-based)"));
            }
        }
        Ok(())
    }

    /// Mask of the steps that exist: higher bits of [`FunnelEvent::steps`] are ignored.
    fn step_mask(&self) -> u32 {
        // `steps <= 20`, checked by `validate`.
        (1u32 << self.steps) - 1
    }
}
