//! The oracle: the funnel definition of the module doc, taken literally by
//! enumerating every attempt. Exponential in the number of events; for tests
//! and small inputs only.

use std::cmp::Reverse;

use super::{FunnelEvent, FunnelOrder, FunnelSpec, PersonOutcome};

/// A valid attempt, as the outcome sees it.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// Steps filled.
    reached: usize,
    /// Timestamp of its first step.
    first: i64,
    /// Timestamp of its last-filled step.
    last: i64,
}

/// The outcome of one person, by enumerating every attempt.
///
/// The enumeration extends an attempt only while it is valid: every condition
/// on an attempt is also one on each of its extensions (a longer attempt has
/// more steps to match, more gaps to keep clean, a wider span), so an invalid
/// attempt has no valid extension.
///
/// # Panics
/// On a spec that [`FunnelSpec::validate`] rejects.
pub fn brute_force(spec: &FunnelSpec, events: &[FunnelEvent]) -> PersonOutcome {
    if let Err(why) = spec.validate() {
        panic!("brute_force on an invalid funnel spec: {why}");
    }
    let mut valid = Vec::new();
    let mut chosen = Vec::with_capacity(spec.steps);
    match spec.order {
        FunnelOrder::Ordered | FunnelOrder::Strict => extend_in_order(spec, events, &mut chosen, &mut valid),
        FunnelOrder::Unordered => extend_unordered(spec, events, 0, 0, &mut chosen, &mut valid),
    }
    let reached = valid.iter().map(|a| a.reached).max().unwrap_or(0);
    let conversion_micros = (1..=reached)
        .map(|k| {
            valid
                .iter()
                .filter(|a| a.reached == k)
                .min_by_key(|a| (a.last, Reverse(a.first)))
                // Every prefix (subset, when unordered) of a valid attempt is
                // valid, so each k up to `reached` has one; the sentinel would
                // make any gap loud.
                .map_or(i64::MIN, |a| a.last - a.first)
        })
        .collect();
    PersonOutcome { reached, conversion_micros }
}

/// Tries every event as the next step of the ordered or strict attempt
/// `chosen` (positions in `events`, step `i` at `[i]`).
fn extend_in_order(spec: &FunnelSpec, events: &[FunnelEvent], chosen: &mut Vec<usize>, valid: &mut Vec<Attempt>) {
    for position in 0..events.len() {
        chosen.push(position);
        if is_valid_in_order(spec, events, chosen) {
            valid.push(Attempt { reached: chosen.len(), first: events[chosen[0]].ts, last: events[position].ts });
            if chosen.len() < spec.steps {
                extend_in_order(spec, events, chosen, valid);
            }
        }
        chosen.pop();
    }
}

/// Every condition of an ordered or strict attempt, checked from scratch.
fn is_valid_in_order(spec: &FunnelSpec, events: &[FunnelEvent], chosen: &[usize]) -> bool {
    let t = |step: usize| events[chosen[step]].ts;
    let k = chosen.len();
    for (step, &position) in chosen.iter().enumerate() {
        if chosen[..step].contains(&position) || events[position].steps & (1 << step) == 0 {
            return false;
        }
        if step > 0 {
            if t(step) < t(step - 1) || (spec.strictly_after_previous[step] && t(step) == t(step - 1)) {
                return false;
            }
            if spec.order == FunnelOrder::Strict && position != chosen[step - 1] + 1 {
                return false;
            }
        }
    }
    if t(k - 1) - t(0) > spec.window_micros {
        return false;
    }
    // Exclusion `(from, to)` covers the gaps between 0-based steps `g` and
    // `g + 1` for `from <= g < to`; the attempt has gaps up to `k - 2`.
    spec.exclusions.iter().enumerate().all(|(j, &(from, to))| {
        (from..to.min(k - 1))
            .all(|gap| !events.iter().any(|e| e.exclusions & (1 << j) != 0 && t(gap) < e.ts && e.ts <= t(gap + 1)))
    })
}

/// Tries every event after `next` with every free step it matches as the
/// next member of the unordered attempt `chosen` (positions in `events`,
/// increasing so that each set of events comes once per assignment of steps).
fn extend_unordered(
    spec: &FunnelSpec,
    events: &[FunnelEvent],
    next: usize,
    used_steps: u32,
    chosen: &mut Vec<usize>,
    valid: &mut Vec<Attempt>,
) {
    for position in next..events.len() {
        for step in 0..spec.steps {
            let bit = 1 << step;
            if events[position].steps & bit == 0 || used_steps & bit != 0 {
                continue;
            }
            chosen.push(position);
            let (first, last) =
                chosen.iter().map(|&p| events[p].ts).fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
            if last - first <= spec.window_micros {
                valid.push(Attempt { reached: chosen.len(), first, last });
                if chosen.len() < spec.steps {
                    extend_unordered(spec, events, position + 1, used_steps | bit, chosen, valid);
                }
            }
            chosen.pop();
        }
    }
}
