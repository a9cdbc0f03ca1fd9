use proptest::prelude::*;

use super::{Evaluator, FunnelEvent, FunnelOrder, FunnelSpec, PersonOutcome, brute_force};

/// Masks of the events matching steps 0, 1 and 2 (named by their step, not their event).
const A: u32 = 1 << 0;
const B: u32 = 1 << 1;
const C: u32 = 1 << 2;

fn spec(steps: usize, window_micros: i64, order: FunnelOrder) -> FunnelSpec {
    FunnelSpec { steps, window_micros, order, strictly_after_previous: vec![false; steps], exclusions: Vec::new() }
}

fn ev(ts: i64, steps: u32) -> FunnelEvent {
    FunnelEvent { ts, steps, exclusions: 0 }
}

/// An event of exclusion 0 only.
fn excluded(ts: i64) -> FunnelEvent {
    FunnelEvent { ts, steps: 0, exclusions: 1 }
}

fn outcome(reached: usize, conversion_micros: &[i64]) -> PersonOutcome {
    PersonOutcome { reached, conversion_micros: conversion_micros.to_vec() }
}

/// Evaluates one person, and checks the oracle agrees on the hand-worked answer too.
fn run(spec: &FunnelSpec, events: &[FunnelEvent]) -> PersonOutcome {
    let got = Evaluator::new(spec.clone()).unwrap().evaluate(events).clone();
    assert_eq!(brute_force(spec, events), got, "oracle vs evaluator on {events:?}");
    got
}

#[test]
fn basic_conversion() {
    let s = spec(3, 100, FunnelOrder::Ordered);
    // A@10, B@20, C@50: first step at 10, so 0, 10, 40.
    assert_eq!(run(&s, &[ev(10, A), ev(20, B), ev(50, C)]), outcome(3, &[0, 10, 40]));
    // C before B counts for nothing: stuck after A.
    assert_eq!(run(&s, &[ev(10, A), ev(15, C), ev(20, B)]), outcome(2, &[0, 10]));
    assert_eq!(run(&s, &[ev(10, B), ev(20, C)]), outcome(0, &[]));
    assert_eq!(run(&s, &[]), outcome(0, &[]));
}

#[test]
fn window_is_inclusive() {
    let s = spec(2, 100, FunnelOrder::Ordered);
    // B exactly 100 after A converts; 101 after does not.
    assert_eq!(run(&s, &[ev(0, A), ev(100, B)]), outcome(2, &[0, 100]));
    assert_eq!(run(&s, &[ev(0, A), ev(101, B)]), outcome(1, &[0]));
    // A second A at 50 restarts the window: B@140 is 90 after it.
    assert_eq!(run(&s, &[ev(0, A), ev(50, A), ev(140, B)]), outcome(2, &[0, 90]));
    // A zero window converts only within one instant.
    let zero = spec(2, 0, FunnelOrder::Ordered);
    assert_eq!(run(&zero, &[ev(0, A), ev(1, B)]), outcome(1, &[0]));
    assert_eq!(run(&zero, &[ev(1, B), ev(1, A)]), outcome(2, &[0, 0]));
}

#[test]
fn equal_timestamps_across_steps() {
    // B then A in the slice, both at 5: ordered steps may share an instant
    // whatever their positions, so A -> B converts in 0.
    let events = [ev(5, B), ev(5, A), ev(5, C)];
    assert_eq!(run(&spec(3, 10, FunnelOrder::Ordered), &events), outcome(3, &[0, 0, 0]));
    // Strict needs A, B, C at consecutive positions in that order: only A.
    assert_eq!(run(&spec(3, 10, FunnelOrder::Strict), &events), outcome(1, &[0]));
    // Strict in slice order within an instant is fine.
    assert_eq!(run(&spec(3, 10, FunnelOrder::Strict), &[ev(5, A), ev(5, B), ev(5, C)]), outcome(3, &[0, 0, 0]));
}

#[test]
fn repeated_step_needs_a_strictly_later_event() {
    // Steps "a", "a", "b": an "a" event matches steps 0 and 1, a "b" event step 2.
    let (a, b) = (A | B, C);
    let mut s = spec(3, 100, FunnelOrder::Ordered);
    s.strictly_after_previous = vec![false, true, false];
    // One "a" fills one step only.
    assert_eq!(run(&s, &[ev(1, a), ev(3, b)]), outcome(1, &[0]));
    // Two at the same instant do not make "a, then a later".
    assert_eq!(run(&s, &[ev(1, a), ev(1, a), ev(3, b)]), outcome(1, &[0]));
    // a@1, a@2, b@2: "b" may share the second "a"'s instant: 0, 1, 1.
    assert_eq!(run(&s, &[ev(1, a), ev(2, a), ev(2, b)]), outcome(3, &[0, 1, 1]));
    // The same rule holds for strict funnels.
    s.order = FunnelOrder::Strict;
    assert_eq!(run(&s, &[ev(1, a), ev(1, a), ev(1, b)]), outcome(1, &[0]));
    assert_eq!(run(&s, &[ev(1, a), ev(2, a), ev(2, b)]), outcome(3, &[0, 1, 1]));
}

#[test]
fn one_event_never_fills_two_steps() {
    // Steps "any event" and "any event" under different names: an event
    // matching both still fills only one step of an attempt.
    let s = spec(2, 10, FunnelOrder::Ordered);
    assert_eq!(run(&s, &[ev(3, A | B)]), outcome(1, &[0]));
    // Two such events at one instant fill one step each.
    assert_eq!(run(&s, &[ev(3, A | B), ev(3, A | B)]), outcome(2, &[0, 0]));
    // An instant of A|B and B|C cannot cover A, B, C, but A|B, B|C, A covers
    // them with A, A|B as B, B|C as C.
    let three = spec(3, 10, FunnelOrder::Ordered);
    assert_eq!(run(&three, &[ev(3, A | B), ev(3, B | C)]), outcome(2, &[0, 0]));
    assert_eq!(run(&three, &[ev(3, A | B), ev(3, B | C), ev(3, A)]), outcome(3, &[0, 0, 0]));
    let unordered = spec(2, 10, FunnelOrder::Unordered);
    assert_eq!(run(&unordered, &[ev(3, A | B)]), outcome(1, &[0]));
}

#[test]
fn exclusion_spoils_one_attempt_while_a_later_one_converts() {
    // Steps A, B, C; exclusion X between A and B (0-based steps 0 and 1).
    let mut s = spec(3, 100, FunnelOrder::Ordered);
    s.exclusions = vec![(0, 1)];
    // A@10 -> B@20 and A@10 -> B@40 both have X@15 between A and B. The
    // attempt A@30, B@40, C@50 is clean. Step 1 first at 10 (0), step 2 first
    // at 40 from 30 (10), step 3 at 50 from 30 (20).
    let events = [ev(10, A), excluded(15), ev(20, B), ev(30, A), ev(40, B), ev(50, C)];
    assert_eq!(run(&s, &events), outcome(3, &[0, 10, 20]));
    // An exclusion at the instant of the step it precedes spoils...
    assert_eq!(run(&s, &[ev(10, A), excluded(20), ev(20, B)]), outcome(1, &[0]));
    assert_eq!(run(&s, &[ev(10, A), ev(20, B), excluded(20)]), outcome(1, &[0]));
    // ...at the instant of the step it follows, it does not.
    assert_eq!(run(&s, &[ev(10, A), excluded(10), ev(20, B)]), outcome(2, &[0, 10]));
    // Outside its steps it spoils nothing: X between B and C.
    assert_eq!(run(&s, &[ev(10, A), ev(20, B), excluded(25), ev(30, C)]), outcome(3, &[0, 10, 20]));
    // It never takes away steps already filled.
    assert_eq!(run(&s, &[ev(10, A), excluded(15)]), outcome(1, &[0]));
    // A B event that is also an X spoils the move onto itself, unless it
    // shares A's instant.
    let b_and_x = |ts| FunnelEvent { ts, steps: B, exclusions: 1 };
    assert_eq!(run(&s, &[ev(10, A), b_and_x(20)]), outcome(1, &[0]));
    assert_eq!(run(&s, &[ev(10, A), b_and_x(10)]), outcome(2, &[0, 0]));
    // Strict: X at B's instant spoils even placed after B in the slice.
    s.order = FunnelOrder::Strict;
    assert_eq!(run(&s, &[ev(1, A), ev(2, B), excluded(2)]), outcome(1, &[0]));
    assert_eq!(run(&s, &[ev(1, A), ev(2, B), excluded(3)]), outcome(2, &[0, 1]));
}

#[test]
fn strict_is_broken_by_an_event_in_between() {
    let s = spec(2, 100, FunnelOrder::Strict);
    // Z matches no step but sits between A and B.
    let z = |ts| ev(ts, 0);
    assert_eq!(run(&s, &[ev(1, A), z(2), ev(3, B)]), outcome(1, &[0]));
    assert_eq!(run(&s, &[ev(1, A), ev(3, B)]), outcome(2, &[0, 2]));
    // A later unbroken pair converts: A@4, B@5.
    assert_eq!(run(&s, &[ev(1, A), z(2), ev(4, A), ev(5, B)]), outcome(2, &[0, 1]));
    // Ordered does not mind Z.
    assert_eq!(run(&spec(2, 100, FunnelOrder::Ordered), &[ev(1, A), z(2), ev(3, B)]), outcome(2, &[0, 2]));
}

#[test]
fn unordered_steps_in_any_order() {
    let s = spec(3, 10, FunnelOrder::Unordered);
    // C@0, A@3, B@5: two steps first at 3 (from 0), three at 5 (from 0).
    assert_eq!(run(&s, &[ev(0, C), ev(3, A), ev(5, B)]), outcome(3, &[0, 3, 5]));
    // A window of 4 cannot hold all three (span 5); the best pair is C, A.
    let narrow = spec(3, 4, FunnelOrder::Unordered);
    assert_eq!(run(&narrow, &[ev(0, C), ev(3, A), ev(5, B)]), outcome(2, &[0, 3]));
    // Two events of the same step fill one step only.
    assert_eq!(run(&s, &[ev(0, A), ev(1, A)]), outcome(1, &[0]));
    // A|B and A: matched as B and A.
    assert_eq!(run(&s, &[ev(0, A | B), ev(1, A)]), outcome(2, &[0, 1]));
}

#[test]
fn conversion_time_of_the_earliest_completion_then_latest_start() {
    let s = spec(2, 100, FunnelOrder::Ordered);
    // A@0 and A@5 both complete with B@10: the later start counts, 5.
    assert_eq!(run(&s, &[ev(0, A), ev(5, A), ev(10, B)]), outcome(2, &[0, 5]));
    // The earliest completion wins over a faster later one: 10, not 1.
    assert_eq!(run(&s, &[ev(0, A), ev(10, B), ev(20, A), ev(21, B)]), outcome(2, &[0, 10]));
    let u = spec(2, 100, FunnelOrder::Unordered);
    assert_eq!(run(&u, &[ev(0, B), ev(5, B), ev(10, A), ev(21, B)]), outcome(2, &[0, 5]));
}

#[test]
fn twenty_steps() {
    // Step i at i microseconds: converts in 19, each step i after the first.
    let in_order: Vec<_> = (0..20).map(|i| ev(i, 1 << i)).collect();
    let expected = outcome(20, &(0..20).collect::<Vec<_>>());
    assert_eq!(run(&spec(20, 19, FunnelOrder::Ordered), &in_order), expected);
    assert_eq!(run(&spec(20, 19, FunnelOrder::Strict), &in_order), expected);
    assert_eq!(run(&spec(20, 18, FunnelOrder::Ordered), &in_order).reached, 19);
    // Unordered, steps in reverse: the same times. (Not against the oracle:
    // every one of the 2^20 subsets is an attempt.)
    let reversed: Vec<_> = (0..20).map(|i| ev(i, 1 << (19 - i))).collect();
    let mut unordered = Evaluator::new(spec(20, 19, FunnelOrder::Unordered)).unwrap();
    assert_eq!(unordered.evaluate(&reversed), &expected);
}

#[test]
fn evaluator_is_reused_across_persons() {
    let mut evaluator = Evaluator::new(spec(2, 10, FunnelOrder::Ordered)).unwrap();
    assert_eq!(evaluator.evaluate(&[ev(0, A), ev(1, B)]), &outcome(2, &[0, 1]));
    assert_eq!(evaluator.evaluate(&[ev(0, B)]), &outcome(0, &[]));
    assert_eq!(evaluator.evaluate(&[ev(7, A)]), &outcome(1, &[0]));
}

#[test]
fn invalid_specs_are_rejected() {
    let bad = |edit: fn(&mut FunnelSpec)| {
        let mut s = spec(3, 10, FunnelOrder::Ordered);
        edit(&mut s);
        Evaluator::new(s).is_err()
    };
    assert!(!bad(|_| {}));
    assert!(bad(|s| *s = spec(0, 10, FunnelOrder::Ordered)));
    assert!(bad(|s| *s = spec(21, 10, FunnelOrder::Ordered)));
    assert!(bad(|s| s.window_micros = -1));
    assert!(bad(|s| s.strictly_after_previous = vec![false; 2]));
    assert!(bad(|s| s.strictly_after_previous[0] = true));
    assert!(bad(|s| s.exclusions = vec![(1, 1)]));
    assert!(bad(|s| s.exclusions = vec![(1, 3)]));
    assert!(bad(|s| s.exclusions = vec![(0, 1); 33]));
    assert!(bad(|s| {
        s.order = FunnelOrder::Unordered;
        s.exclusions = vec![(0, 1)];
    }));
    assert!(Evaluator::new(spec(20, 10, FunnelOrder::Unordered)).is_ok());
}

/// Proptest cases per order; `PROPTEST_CASES` overrides it for a deeper run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// A small random funnel of the given order, with up to three persons of
/// up to 12 events on few distinct timestamps, so that instants of several
/// events, window boundaries and exclusions at step instants are common.
fn funnel(order: FunnelOrder) -> impl Strategy<Value = (FunnelSpec, Vec<Vec<FunnelEvent>>)> {
    (1usize..=6).prop_flat_map(move |k| {
        let all_steps = (1u32 << k) - 1;
        let step_mask = prop_oneof![
            1 => Just(0),
            4 => (0..k).prop_map(|i| 1u32 << i),
            2 => 0..=all_steps,
            // Bits above the funnel's steps must be ignored.
            1 => any::<u32>(),
        ];
        let exclusion_mask = prop_oneof![4 => Just(0u32), 1 => 0u32..8];
        let event = (0i64..8, step_mask, exclusion_mask).prop_map(move |(ts, steps, exclusions)| FunnelEvent {
            ts,
            steps,
            exclusions: if order == FunnelOrder::Unordered { 0 } else { exclusions },
        });
        let person = prop::collection::vec(event, 0..=12).prop_map(|mut events| {
            // Stable: the generated order is the tie order within an instant.
            events.sort_by_key(|e| e.ts);
            events
        });
        let exclusions = if order == FunnelOrder::Unordered { 0..=0usize } else { 0..=3usize };
        (
            prop_oneof![Just(0i64), Just(1), Just(2), Just(3), Just(5), Just(100)],
            prop::collection::vec(any::<bool>(), k),
            prop::collection::vec((0..k, 0..k), exclusions),
            prop::collection::vec(person, 1..=3),
        )
            .prop_map(move |(window_micros, mut strictly_after_previous, pairs, persons)| {
                strictly_after_previous[0] = false;
                let exclusions = pairs.into_iter().filter(|&(from, to)| from < to).collect();
                (FunnelSpec { steps: k, window_micros, order, strictly_after_previous, exclusions }, persons)
            })
    })
}

/// The evaluator, reused across the persons, agrees exactly with the oracle.
fn agrees_with_oracle(spec: &FunnelSpec, persons: &[Vec<FunnelEvent>]) -> Result<(), TestCaseError> {
    let mut evaluator = Evaluator::new(spec.clone()).unwrap();
    for events in persons {
        prop_assert_eq!(evaluator.evaluate(events), &brute_force(spec, events), "{:?}", events);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn ordered_agrees_with_oracle((spec, persons) in funnel(FunnelOrder::Ordered)) {
        agrees_with_oracle(&spec, &persons)?;
    }

    #[test]
    fn strict_agrees_with_oracle((spec, persons) in funnel(FunnelOrder::Strict)) {
        agrees_with_oracle(&spec, &persons)?;
    }

    #[test]
    fn unordered_agrees_with_oracle((spec, persons) in funnel(FunnelOrder::Unordered)) {
        agrees_with_oracle(&spec, &persons)?;
    }
}
