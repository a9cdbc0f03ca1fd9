//! `px-simulate` generates realistic product traffic for a fictional SaaS web
//! product ("Relay"), deterministically from a seed: the demo data of
//! `px serve --demo`, the data set of the query benchmark, and the baseline
//! that labelled AI scenarios inject frictions into.
//!
//! It owns the traffic model (who arrives when, what they do, what breaks)
//! and the wire JSON it produces; it leaves sending, storing and querying to
//! the caller. Output is generated day by day and session by session, so
//! memory stays bounded whatever the size of the run: only visitors waiting
//! to come back are kept (capped, see `Model::max_pending`).
//!
//! Layout: `calendar` (days, seasonality, releases), `catalog` (static
//! tables), `visitor` (people and their returns), `session` (one visit),
//! `emit` (wire JSON), `estimate` (expected volume), `model` (the rates),
//! `scenario` (injected frictions and their labels).
//! What the data contains is documented for users in `docs/simulate.md`.

mod calendar;
mod catalog;
mod emit;
mod estimate;
mod model;
mod sample;
mod scenario;
mod session;
mod visitor;

use calendar::{DAY_MICROS, Day, HOUR_WEIGHTS};
use model::Model;
use sample::{SimRng, Stream};
use scenario::Injector;
use serde_json::Value;
use session::{Env, Recorder, Session};
use std::collections::VecDeque;
use visitor::{ReturnQueue, Visitor};

pub use estimate::approx_events;
pub use scenario::{FrictionLabel, Labels, RunSettings, Scenario, ScenarioError};

/// Visitors a traffic spike brings are numbered from here, and their
/// sessions keyed from [`SPIKE_SLOTS`], so that the baseline's visitors keep
/// their ids and random streams whatever the spike adds.
const SPIKE_VISITORS: u64 = 1 << 48;
const SPIKE_SLOTS: u64 = 1 << 40;

/// What to simulate.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SimConfig {
    pub seed: u64,
    /// First simulated day, UTC midnight, in microseconds since the epoch.
    pub start_micros: i64,
    pub days: u32,
    /// Average new visitors per day (weekday/weekend and daily seasonality apply).
    pub visitors_per_day: u32,
    /// Days simulated before the run whose events are never sent, so that
    /// the run begins with the returning visitors, users and customers of a
    /// product that has been live for a while. Without it a run starts with
    /// nobody coming back, and per-session rates (reports viewed, exports,
    /// upgrades) drift up for weeks as users accumulate: a trend no live
    /// product shows just because tracking began.
    #[serde(default = "SimConfig::default_warmup")]
    pub warmup_days: u32,
}

impl SimConfig {
    /// Six weeks: the users and customers of the run's first day are then
    /// within a few percent of their steady numbers.
    pub const DEFAULT_WARMUP_DAYS: u32 = 42;

    /// A run of `days` from `start_micros` (UTC midnight) after the default
    /// warm-up.
    pub fn new(seed: u64, start_micros: i64, days: u32, visitors_per_day: u32) -> SimConfig {
        SimConfig { seed, start_micros, days, visitors_per_day, warmup_days: Self::DEFAULT_WARMUP_DAYS }
    }

    fn default_warmup() -> u32 {
        Self::DEFAULT_WARMUP_DAYS
    }
}

/// A generator of wire events. Equal configs produce byte-identical output,
/// whatever batch sizes the caller asks for.
pub struct Simulator {
    config: SimConfig,
    model: Model,
    /// The day being generated, if any.
    today: Option<Today>,
    /// Negative while warming up (`Model::warmup_days`).
    next_day: i64,
    queue: ReturnQueue,
    /// Visitors brought by traffic spikes wait apart, and come back after
    /// everyone else, so they never shift a baseline visitor's slot.
    spike_queue: ReturnQueue,
    /// Visitors and users created so far (their ordinals key their ids).
    visitors: u64,
    spike_visitors: u64,
    users: u32,
    recorder: Recorder,
    buffer: VecDeque<Value>,
    emitted: u64,
    /// The scenario being injected, if any.
    injector: Option<Injector>,
}

/// Progress through one day: new visitors first, then returning ones, then
/// the new and returning visitors of traffic spikes.
struct Today {
    day: Day,
    new_visitors: u32,
    next_new: u32,
    returning: Vec<Visitor>,
    next_returning: usize,
    /// Extra new visitors per traffic spike: (friction index, count).
    spikes: Vec<(usize, u32)>,
    next_spike: u32,
    spike_returning: Vec<Visitor>,
    next_spike_returning: usize,
}

impl Today {
    /// The spike that brings the `n`th extra new visitor of the day.
    fn spike_of(&self, mut n: u32) -> Option<usize> {
        for &(i, count) in &self.spikes {
            if n < count {
                return Some(i);
            }
            n -= count;
        }
        None
    }

    fn spike_total(&self) -> u64 {
        self.spikes.iter().map(|&(_, n)| u64::from(n)).sum()
    }
}

impl Simulator {
    /// A simulator at the start of `config`'s run. Cheap: nothing is
    /// generated before the first [`Simulator::next_batch`].
    pub fn new(config: SimConfig) -> Self {
        let model = Model::default();
        let next_day = -i64::from(config.warmup_days);
        let queue = ReturnQueue::new(model.max_gap_days, model.max_pending);
        let spike_queue = ReturnQueue::new(model.max_gap_days, model.max_pending);
        Simulator {
            config,
            model,
            today: None,
            next_day,
            queue,
            spike_queue,
            visitors: 0,
            spike_visitors: 0,
            users: 0,
            recorder: Recorder::default(),
            buffer: VecDeque::new(),
            emitted: 0,
            injector: None,
        }
    }

    /// The baseline without its release-bound frictions (the checkout bug
    /// of releases 1.4.1-1.5.1 and the chunk errors of stale clients on
    /// release days), which begin mid-run: the steady traffic that scenarios
    /// inject into. Constant background frictions stay.
    pub fn steady(config: SimConfig) -> Self {
        Simulator { model: Model::steady(), ..Simulator::new(config) }
    }

    /// A simulator that injects `scenario`'s frictions into the steady
    /// baseline of `config` ([`Simulator::steady`]), or into the full
    /// baseline ([`Simulator::new`]) when the scenario sets
    /// `builtin_frictions`. A scenario without frictions gives exactly that
    /// baseline.
    pub fn with_scenario(config: SimConfig, scenario: Scenario) -> Self {
        let builtin = scenario.builtin_frictions;
        let injector = Injector::new(scenario, config.start_micros);
        let sim = if builtin { Simulator::new(config) } else { Simulator::steady(config) };
        Simulator { injector: Some(injector), ..sim }
    }

    /// The scenario's ground truth: what each friction was and how many
    /// sessions and persons it changed so far. Complete once
    /// [`Simulator::next_batch`] has returned `None`; `None` without a
    /// scenario.
    pub fn labels(&self) -> Option<Labels> {
        self.injector.as_ref().map(|i| i.labels(self.config.seed))
    }

    /// Next batch of up to `max` events as native wire JSON objects, in
    /// nondecreasing-by-day order (within a day any order is fine), each with a
    /// UUID `event_id` (deterministic from the seed), RFC 3339 `timestamp`,
    /// `distinct_id`, `session_id`, `properties`, `context`. None when done.
    ///
    /// Within a day events come session by session, each session in time
    /// order. A `max` of 0 is treated as 1. Memory held between calls is the
    /// returning-visitor queue plus less than one session beyond `max`.
    pub fn next_batch(&mut self, max: usize) -> Option<Vec<Value>> {
        let max = max.max(1);
        // Preallocated before the events it will hold: allocating the batch
        // after them measured ~5% slower with glibc's allocator.
        let mut out = Vec::with_capacity(max.min(1 << 16));
        while out.len() < max {
            if self.buffer.is_empty() && !self.step() {
                break;
            }
            let take = (max - out.len()).min(self.buffer.len());
            out.extend(self.buffer.drain(..take));
        }
        if out.is_empty() {
            return None;
        }
        self.emitted += out.len() as u64;
        Some(out)
    }

    /// Events this simulator will produce in total. An estimate from the
    /// model's expected rates (see [`approx_events`]), not a count: use it
    /// for progress bars and sizing, not for assertions.
    pub fn approx_events(&self) -> u64 {
        approx_events(&self.config)
    }

    /// Events handed out so far by [`Simulator::next_batch`].
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// Generates one session into the buffer. False when the run is over.
    fn step(&mut self) -> bool {
        loop {
            let Some(mut today) = self.today.take() else {
                if self.next_day >= i64::from(self.config.days) {
                    return false;
                }
                self.today = Some(self.start_day(self.next_day));
                self.next_day += 1;
                continue;
            };
            let (slot, visitor, spike);
            if today.next_new < today.new_visitors {
                (slot, visitor, spike) = (u64::from(today.next_new), None, None);
                today.next_new += 1;
            } else if let Some(v) = today.returning.get(today.next_returning) {
                slot = u64::from(today.new_visitors) + today.next_returning as u64;
                (visitor, spike) = (Some(*v), None);
                today.next_returning += 1;
            } else if let Some(i) = today.spike_of(today.next_spike) {
                (slot, visitor, spike) = (SPIKE_SLOTS + u64::from(today.next_spike), None, Some(i));
                today.next_spike += 1;
            } else if let Some(v) = today.spike_returning.get(today.next_spike_returning) {
                slot = SPIKE_SLOTS + today.spike_total() + today.next_spike_returning as u64;
                (visitor, spike) = (Some(*v), None);
                today.next_spike_returning += 1;
            } else {
                self.queue.recycle(today.returning);
                self.spike_queue.recycle(today.spike_returning);
                continue;
            }
            self.session(&today.day, visitor, slot, spike);
            self.today = Some(today);
            return true;
        }
    }

    fn start_day(&mut self, index: i64) -> Today {
        let day = Day::new(self.config.start_micros, self.config.days, index);
        let mut rng = sample::stream(self.config.seed, Stream::Day, index as u64, 0);
        let noise = (1.0 + 0.06 * sample::normal(&mut rng)).clamp(0.7, 1.3);
        let expected = f64::from(self.config.visitors_per_day) * day.traffic_factor() * noise;
        let new_visitors = expected.round() as u32;
        let spikes = match &self.injector {
            Some(inj) if !day.warmup() => inj.spikes(day.start, day.end(), new_visitors),
            _ => Vec::new(),
        };
        Today {
            new_visitors,
            next_new: 0,
            returning: self.queue.advance(),
            next_returning: 0,
            spikes,
            next_spike: 0,
            spike_returning: self.spike_queue.advance(),
            next_spike_returning: 0,
            day,
        }
    }

    /// One visit of `visitor` (a new visitor when `None`) on `day`; `spike`
    /// is the traffic spike that brought a new visitor, if one did. A visit
    /// during the warm-up changes the visitor (signup, plan, visits) but
    /// sends nothing and meets no friction.
    fn session(&mut self, day: &Day, visitor: Option<Visitor>, slot: u64, spike: Option<usize>) {
        let seed = self.config.seed;
        let mut rng = sample::stream(seed, Stream::Session, day.index as u64, slot);
        let mut visitor = match (visitor, spike) {
            (Some(v), _) => v,
            (None, None) => {
                self.visitors += 1;
                Visitor::arrive(&mut rng, self.visitors, day)
            }
            (None, Some(i)) => {
                self.spike_visitors += 1;
                let mut v = Visitor::arrive(&mut rng, SPIKE_VISITORS + self.spike_visitors, day);
                if let Some(channel) = self.injector.as_ref().and_then(|inj| inj.spike_channel(i)) {
                    v.channel = channel as u8;
                }
                v
            }
        };
        // A spike's visitors arrive while it lasts.
        let within = match (spike, &self.injector) {
            (Some(i), Some(inj)) => {
                let (from, to) = inj.window(i);
                Some(((from - day.start).max(0), (to.min(day.end()) - day.start).max(1)))
            }
            _ => None,
        };
        let stale = day.release_day && sample::chance(&mut rng, self.model.stale_clients);
        let version = if stale { day.version.saturating_sub(1) } else { day.version };
        let injector = self.injector.as_ref().filter(|_| !day.warmup());
        let candidates = match injector {
            Some(inj) => inj.candidates(&visitor, version, day.start, day.end()),
            None => Vec::new(),
        };
        let attempt = Attempt {
            model: &self.model,
            day,
            version,
            stale,
            vitals: sample::chance(&mut rng, self.model.vitals_sample),
            fx_key: sample::key(seed, Stream::Friction, day.index as u64, slot),
            within,
        };
        // Whether a friction applies depends on when the session starts,
        // which is only drawn once the session is generated (its length
        // decides how far it must stay from midnight). So a session that may
        // meet a friction is generated with the frictions of its day, then,
        // if its start falls outside some of their windows, once more from
        // the same random state with only those it is inside. Sessions no
        // friction can touch take the first path only, unchanged. (A session
        // whose start then moves across a boundary keeps the frictions of
        // its second attempt; the labels count what was applied.)
        let before = (!candidates.is_empty()).then(|| (visitor, self.users, rng.clone()));
        let (mut hits, mut start) =
            attempt.play(&mut rng, &mut self.recorder, &mut visitor, &mut self.users, injector, &candidates);
        if let (Some(inj), Some(before)) = (injector, before) {
            let actual = inj.active_at(&candidates, day.start + start);
            if actual != candidates {
                (visitor, self.users, rng) = before;
                (hits, start) =
                    attempt.play(&mut rng, &mut self.recorder, &mut visitor, &mut self.users, Some(inj), &actual);
            }
        }
        if !day.warmup() {
            if let Some(inj) = &mut self.injector {
                inj.record(&hits, visitor.number);
                if let Some(i) = spike {
                    inj.record(&[i], visitor.number);
                }
            }
            let start = day.start + start;
            let anonymous_id = visitor.anonymous_id(seed);
            let user_id = visitor.user_id();
            let meta = emit::Meta {
                anonymous_id: &anonymous_id,
                user_id: user_id.as_deref(),
                version,
                start,
                day_end: day.end(),
            };
            emit::session(&mut self.recorder, &visitor, &meta, &mut rng, &mut self.buffer);
            visitor.known = true;
        }

        if let Some(gap) = visitor.next_visit(&mut rng, &self.model, day, self.config.start_micros)
            && day.index.saturating_add(i64::from(gap)) < i64::from(self.config.days)
        {
            let queue = if visitor.number > SPIKE_VISITORS { &mut self.spike_queue } else { &mut self.queue };
            queue.schedule(gap, visitor);
        }
    }
}

/// What one generation of a session needs besides the mutable state.
struct Attempt<'a> {
    model: &'a Model,
    day: &'a Day,
    version: usize,
    stale: bool,
    vitals: bool,
    /// Seed of the session's friction stream.
    fx_key: u64,
    /// Offsets within the day the session must start in (a spike's window).
    within: Option<(i64, i64)>,
}

impl Attempt<'_> {
    /// Generates the session into `recorder` with the frictions `active`,
    /// and draws its start: the frictions that changed it and the start's
    /// offset within the day.
    fn play(
        &self,
        rng: &mut SimRng,
        recorder: &mut Recorder,
        visitor: &mut Visitor,
        users: &mut u32,
        injector: Option<&Injector>,
        active: &[usize],
    ) -> (Vec<usize>, i64) {
        let effects = injector.map(|i| i.effects(active)).unwrap_or_default();
        let env = Env {
            model: self.model,
            day: self.day,
            version: self.version,
            stale: self.stale,
            vitals: self.vitals,
            frictions: &effects,
        };
        recorder.clear();
        let fx = <SimRng as rand::SeedableRng>::seed_from_u64(self.fx_key);
        let hits = Session::new(rng, recorder, visitor, &env, users, fx).run();
        visitor.visits = visitor.visits.saturating_add(1);
        let mut start = session_start(rng, visitor, recorder.duration());
        if let Some((from, to)) = self.within {
            // Redrawn rather than moved, so the time of day keeps its curve.
            for _ in 0..64 {
                if (from..to).contains(&start) {
                    break;
                }
                start = session_start(rng, visitor, recorder.duration());
            }
            if !(from..to).contains(&start) {
                start = from.min((DAY_MICROS - 1 - recorder.duration()).max(0));
            }
        }
        (hits, start)
    }
}

/// Offset of a session's start within its UTC day: a local hour drawn from
/// the daily curve, shifted by the visitor's time zone, and pulled back if
/// the session would otherwise run past midnight.
fn session_start(rng: &mut SimRng, visitor: &Visitor, duration: i64) -> i64 {
    let hour = sample::pick(rng, &HOUR_WEIGHTS, |w| *w) as i64;
    let local = hour * 3_600_000_000 + sample::between(rng, 0, 3_600_000_000 - 1);
    let offset = i64::from(visitor.zone().utc_offset_min) * 60_000_000;
    let start = (local - offset).rem_euclid(DAY_MICROS);
    let latest = (DAY_MICROS - 1 - duration).max(0);
    start.min(latest)
}
