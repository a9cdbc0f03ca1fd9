//! The evaluator: the funnel definition of the module doc, computed in one
//! pass over a person's events for ordered and strict funnels, and with a
//! sliding window and bipartite matchings for unordered ones.
//!
//! Ordered and strict funnels keep, for each level `l` (steps filled so far,
//! `1 <= l < K`), only the latest start among the live partial attempts at
//! that level. That is enough because between two instants those attempts
//! differ in nothing else the future can see: their last steps all lie
//! strictly in the past (so `strictly_after_previous` and exclusions treat
//! them alike), their events are all earlier than any event to come (so
//! distinctness holds), and a later start leaves more of the window. Events
//! are processed an instant (a group of equal timestamps) at a time: first
//! the instant's exclusion events drop the levels they spoil, then the
//! instant's step events move attempts on.

use super::{FunnelEvent, FunnelOrder, FunnelSpec, MAX_STEPS, PersonOutcome};

/// Marks a step or an event that the current matching leaves free.
const UNMATCHED: usize = usize::MAX;

/// Evaluates one funnel over person after person, reusing its buffers: once
/// they have grown to the largest instant seen, evaluating allocates nothing.
#[derive(Debug, Clone)]
pub struct Evaluator {
    spec: FunnelSpec,
    /// The steps that exist; higher bits of event masks are ignored.
    step_mask: u32,
    /// Bit `i`: step `i` (0-based) needs an event strictly later than step `i - 1`'s.
    strictly_after: u32,
    /// `[j]`: the levels exclusion `j` spoils, bit `l` for attempts that have
    /// filled `l` steps. Exclusion `(from, to)` forbids the moves from step
    /// `g` to step `g + 1` for `from <= g < to`, i.e. from levels `from + 1 ..= to`.
    exclusion_levels: Vec<u32>,
    /// Bit `l`, `1 <= l < K`: some live partial attempt has filled `l` steps
    /// (for strict funnels: with its last step on the previous event). Bit 0
    /// stays clear: a new attempt starts at the current event. A mask, so
    /// that each event only visits the levels it can move.
    live: u32,
    /// `[l]` for each live level `l`: the latest start among its attempts.
    level_start: [i64; MAX_STEPS],
    /// Best attempt per level for the person being evaluated.
    best: Best,
    /// `[s]`: the event matched with step `s`, or UNMATCHED (index in the
    /// instant for ordered funnels, in the person's slice for unordered ones).
    step_match: [usize; MAX_STEPS],
    /// Ordered funnels, instants of several events: `[i]` is the step the
    /// instant's event `i` is matched with.
    event_match: Vec<usize>,
    /// Ordered funnels: `[i]` is the last augmenting search that visited the
    /// instant's event `i`; comparing with `search` spares a clear per search.
    event_seen: Vec<u32>,
    search: u32,
    /// Ordered funnels: `[l]` is how many steps from step `l` (0-based) on
    /// the current instant can fill by itself.
    chain_len: [usize; MAX_STEPS],
    outcome: PersonOutcome,
}

impl Evaluator {
    /// An evaluator for `spec`, or why the spec is not one (see [`FunnelSpec::validate`]).
    pub fn new(spec: FunnelSpec) -> Result<Self, String> {
        spec.validate()?;
        let strictly_after =
            spec.strictly_after_previous.iter().enumerate().filter(|&(_, &f)| f).fold(0, |m, (i, _)| m | 1 << i);
        let exclusion_levels =
            spec.exclusions.iter().map(|&(from, to)| (from + 1..=to).fold(0, |m, l| m | 1 << l)).collect();
        Ok(Evaluator {
            step_mask: spec.step_mask(),
            strictly_after,
            exclusion_levels,
            spec,
            live: 0,
            level_start: [0; MAX_STEPS],
            best: Best::NONE,
            step_match: [UNMATCHED; MAX_STEPS],
            event_match: Vec::new(),
            event_seen: Vec::new(),
            search: 0,
            chain_len: [0; MAX_STEPS],
            outcome: PersonOutcome::default(),
        })
    }

    /// The outcome of one person whose events are sorted by `(ts, event_id)`;
    /// valid until the next call.
    pub fn evaluate(&mut self, events: &[FunnelEvent]) -> &PersonOutcome {
        self.best = Best::NONE;
        match self.spec.order {
            FunnelOrder::Ordered => self.ordered(events),
            FunnelOrder::Strict => self.strict(events),
            FunnelOrder::Unordered => self.unordered(events),
        }
        self.best.write_to(self.spec.steps, &mut self.outcome);
        &self.outcome
    }

    fn ordered(&mut self, events: &[FunnelEvent]) {
        self.live = 0;
        for instant in events.chunk_by(|a, b| a.ts == b.ts) {
            let t = instant[0].ts;
            self.drop_spoiled_and_expired(instant, t);
            // Events matching no step (exclusions) have done their part.
            let mut stepping = instant.iter().filter(|e| e.steps & self.step_mask != 0);
            match (stepping.next(), stepping.next()) {
                (None, _) => {}
                (Some(event), None) => self.ordered_single(event, t),
                (Some(_), Some(_)) => self.ordered_instant(instant, t),
            }
            // Levels are first reached in time order, so once the last one is
            // no later instant can complete any level as early.
            if self.best.is_reached(self.spec.steps) {
                break;
            }
        }
    }

    /// The common case, an instant of one step event: it fills at most one step
    /// of each attempt, so levels are visited high to low and a level moved
    /// up is never read again for this event.
    fn ordered_single(&mut self, event: &FunnelEvent, t: i64) {
        let mut steps = event.steps & self.step_mask & (self.live | 1);
        while steps != 0 {
            let step = (u32::BITS - 1 - steps.leading_zeros()) as usize;
            steps &= !(1 << step);
            let start = if step == 0 { t } else { self.level_start[step] };
            self.advance(step + 1, t, start);
        }
    }

    /// An instant of several events: distinct events of the instant may fill
    /// a chain of consecutive steps between them, in any order of position,
    /// but not across a step that must be strictly after its predecessor.
    /// Every attempt alive before the instant may take such a chain from its
    /// next step on, and new attempts may take one from step 1; all moves are
    /// computed from the levels as they were before the instant, so no event
    /// serves twice in one attempt.
    fn ordered_instant(&mut self, instant: &[FunnelEvent], t: i64) {
        self.compute_chain_lens(instant);
        let mut moved: [Option<i64>; MAX_STEPS + 1] = [None; MAX_STEPS + 1];
        let mut sources = (self.live | 1) & self.step_mask;
        while sources != 0 {
            let from = sources.trailing_zeros() as usize;
            sources &= sources - 1;
            let start = if from == 0 { t } else { self.level_start[from] };
            for slot in &mut moved[from + 1..=from + self.chain_len[from]] {
                *slot = (*slot).max(Some(start));
            }
        }
        for (level, start) in moved.iter().enumerate() {
            if let Some(start) = *start {
                self.advance(level, t, start);
            }
        }
    }

    /// Fills `chain_len`: the longest run of steps from each step on that the
    /// instant's distinct events can fill. A run of steps can be filled
    /// exactly when the bipartite graph steps–events has a matching covering
    /// the run, so a window of steps slides over a maximum matching: the
    /// window grows by one augmenting path per step and shrinks by unmatching
    /// its first step (what remains is still a matching of the rest). Exact
    /// for any number of events, with at most `2K` augmenting searches.
    fn compute_chain_lens(&mut self, instant: &[FunnelEvent]) {
        let k = self.spec.steps;
        // Steps no event of the instant matches end every run at once,
        // without a search.
        let matchable = instant.iter().fold(0, |m, e| m | e.steps);
        self.event_match.clear();
        self.event_match.resize(instant.len(), UNMATCHED);
        self.event_seen.clear();
        self.event_seen.resize(instant.len(), 0);
        self.search = 0;
        let mut end = 0;
        for first in 0..k {
            end = end.max(first);
            while end < k && matchable & (1 << end) != 0 && (end == first || self.strictly_after & (1 << end) == 0) {
                self.search += 1;
                if !self.match_step(instant, end) {
                    break;
                }
                end += 1;
            }
            self.chain_len[first] = end - first;
            if end > first {
                self.event_match[self.step_match[first]] = UNMATCHED;
            }
        }
    }

    /// One augmenting search (Kuhn) from `step` over the instant's events;
    /// leaves the matching as it was when it fails.
    fn match_step(&mut self, instant: &[FunnelEvent], step: usize) -> bool {
        for (i, event) in instant.iter().enumerate() {
            if event.steps & (1 << step) == 0 || self.event_seen[i] == self.search {
                continue;
            }
            self.event_seen[i] = self.search;
            let holder = self.event_match[i];
            if holder == UNMATCHED || self.match_step(instant, holder) {
                self.event_match[i] = step;
                self.step_match[step] = i;
                return true;
            }
        }
        false
    }

    fn strict(&mut self, events: &[FunnelEvent]) {
        self.live = 0;
        for instant in events.chunk_by(|a, b| a.ts == b.ts) {
            let t = instant[0].ts;
            // The live attempts end on the previous instant's last event, and
            // only the move onto this instant's first event crosses time:
            // that is the one move this instant's exclusions can spoil.
            self.drop_spoiled_and_expired(instant, t);
            for (i, event) in instant.iter().enumerate() {
                self.strict_step(event, t, i > 0);
            }
            // As for ordered funnels, the first instant to convert is final.
            if self.best.is_reached(self.spec.steps) {
                break;
            }
        }
    }

    /// Moves every attempt ending on the previous event onto `event`, or ends
    /// it. Levels high to low, so each level is read before it is replaced.
    fn strict_step(&mut self, event: &FunnelEvent, t: i64, same_instant_as_previous: bool) {
        let blocked = if same_instant_as_previous { self.strictly_after } else { 0 };
        let mut steps = event.steps & self.step_mask & (self.live | 1) & !blocked;
        let mut live = 0;
        while steps != 0 {
            let step = (u32::BITS - 1 - steps.leading_zeros()) as usize;
            steps &= !(1 << step);
            let start = if step == 0 { t } else { self.level_start[step] };
            self.best.offer(step + 1, t, start);
            if step + 1 < self.spec.steps {
                self.level_start[step + 1] = start;
                live |= 1 << (step + 1);
            }
        }
        self.live = live;
    }

    /// Records attempts reaching `level` at `t`, and keeps them if they can go on.
    fn advance(&mut self, level: usize, t: i64, start: i64) {
        self.best.offer(level, t, start);
        if level < self.spec.steps {
            let bit = 1 << level;
            if self.live & bit == 0 || self.level_start[level] < start {
                self.level_start[level] = start;
            }
            self.live |= bit;
        }
    }

    /// Before the instant `t` moves anything: drops the levels its exclusion
    /// events spoil (every attempt there last moved strictly before `t`) and
    /// those whose latest start is already out of the window.
    fn drop_spoiled_and_expired(&mut self, instant: &[FunnelEvent], t: i64) {
        let excluded = instant.iter().fold(0, |m, e| m | e.exclusions);
        if excluded != 0 {
            for (j, levels) in self.exclusion_levels.iter().enumerate() {
                if excluded & (1 << j) != 0 {
                    self.live &= !levels;
                }
            }
        }
        let mut live = self.live;
        while live != 0 {
            let level = live.trailing_zeros() as usize;
            live &= live - 1;
            if t - self.level_start[level] > self.spec.window_micros {
                self.live &= !(1 << level);
            }
        }
    }

    /// Unordered. An attempt of `k` events completing at `E` lies within
    /// `[E - W, E]`, so the earliest completion for `k` is the first instant
    /// `E` whose window holds `k` events matched to distinct steps, and the
    /// latest start completing then is the latest `T` for which `[T, E]` still
    /// holds `k`. Both come from one matching steps–events kept over the
    /// sliding window: the one a greedy pass from the newest event to the
    /// oldest would build, taking each event the matching can grow by. Its
    /// size is the most steps the window can fill, and its `k`-th newest
    /// event is that latest `T` for `k`. The sets of events that can be
    /// matched to distinct steps are the independent sets of a matroid (a
    /// transversal one), which makes that greedy pass exact and cheap to keep
    /// up as the window slides:
    /// - the oldest event leaves: it was the greedy pass's last choice, so
    ///   the matching just lets it go;
    /// - a new event arrives: it is the greedy pass's first choice, and it
    ///   takes a free step along an augmenting path if there is one, or else
    ///   displaces the oldest matched event it reaches by an alternating path.
    fn unordered(&mut self, events: &[FunnelEvent]) {
        let reachable = (events.iter().fold(0, |m, e| m | e.steps) & self.step_mask).count_ones() as usize;
        let k = self.spec.steps;
        self.step_match = [UNMATCHED; MAX_STEPS];
        let (mut oldest, mut newest, mut matched, mut reached) = (0, 0, 0, 0);
        for instant in events.chunk_by(|a, b| a.ts == b.ts) {
            if reached == reachable {
                break;
            }
            let completion = instant[0].ts;
            while completion - events[oldest].ts > self.spec.window_micros {
                if let Some(step) = self.step_match[..k].iter().position(|&e| e == oldest) {
                    self.step_match[step] = UNMATCHED;
                    matched -= 1;
                }
                oldest += 1;
            }
            for _ in instant {
                if self.match_newest(events, newest) {
                    matched += 1;
                }
                newest += 1;
            }
            // The levels just reached start at the oldest matched events
            // (positions in the slice are in time order): level `matched` at
            // the oldest, the level below at the next oldest, and so on.
            let mut from = 0;
            for level in (reached + 1..=matched).rev() {
                let next = self.step_match[..k].iter().copied().filter(|&e| e >= from && e != UNMATCHED).min();
                if let Some(event) = next {
                    self.best.offer(level, completion, events[event].ts);
                    from = event + 1;
                }
            }
            reached = reached.max(matched);
        }
    }

    /// Adds the event at `index`, newer than every matched one, to the
    /// greedy matching: along an augmenting path to a free step if there is
    /// one (returns true, the matching grew), else along an alternating path
    /// to the oldest matched event it can displace. A breadth-first search
    /// over steps, each visited once.
    fn match_newest(&mut self, events: &[FunnelEvent], index: usize) -> bool {
        // `via[s]`: the step whose matched event led the search to step `s`,
        // UNMATCHED when the new event itself did.
        let mut via = [UNMATCHED; MAX_STEPS];
        let mut queue = [0; MAX_STEPS];
        let (mut head, mut tail) = (0, 0);
        let mut seen = 0u32;
        let mut from = UNMATCHED;
        let mut event = index;
        loop {
            let mut steps = events[event].steps & self.step_mask & !seen;
            seen |= steps;
            while steps != 0 {
                let step = steps.trailing_zeros() as usize;
                steps &= steps - 1;
                via[step] = from;
                queue[tail] = step;
                tail += 1;
            }
            if head == tail {
                break;
            }
            let step = queue[head];
            head += 1;
            let holder = self.step_match[step];
            if holder == UNMATCHED {
                self.shift_along(index, step, &via);
                return true;
            }
            (from, event) = (step, holder);
        }
        // Every matched event reached can give way to the new one; the oldest does.
        if let Some(&step) = queue[..tail].iter().min_by_key(|&&step| self.step_match[step]) {
            self.shift_along(index, step, &via);
        }
        false
    }

    /// Moves each event on the search path to step `last` one step along,
    /// and the new event onto the path's first step; whatever held `last`
    /// is dropped.
    fn shift_along(&mut self, new: usize, last: usize, via: &[usize; MAX_STEPS]) {
        let mut step = last;
        while via[step] != UNMATCHED {
            self.step_match[step] = self.step_match[via[step]];
            step = via[step];
        }
        self.step_match[step] = new;
    }
}

/// Best attempt per number of steps reached, and the outcome built from it.
#[derive(Debug, Clone, Copy)]
struct Best {
    /// `[k - 1]`: `(completion, start)` of the best attempt reaching `k`.
    by_level: [Option<(i64, i64)>; MAX_STEPS],
}

impl Best {
    const NONE: Best = Best { by_level: [None; MAX_STEPS] };

    /// Offers an attempt reaching `level` (1-based) that started at `start`
    /// and filled its last step at `completion`: earlier completion wins,
    /// then later start.
    fn offer(&mut self, level: usize, completion: i64, start: i64) {
        let slot = &mut self.by_level[level - 1];
        match *slot {
            Some((c, s)) if c < completion || (c == completion && s >= start) => {}
            _ => *slot = Some((completion, start)),
        }
    }

    fn is_reached(&self, level: usize) -> bool {
        self.by_level[level - 1].is_some()
    }

    /// Writes the outcome, reusing its buffer.
    fn write_to(&self, steps: usize, out: &mut PersonOutcome) {
        let reached = self.by_level[..steps].iter().take_while(|b| b.is_some()).count();
        out.reached = reached;
        out.conversion_micros.clear();
        out.conversion_micros.extend(self.by_level[..reached].iter().flatten().map(|&(c, s)| c - s));
    }
}
