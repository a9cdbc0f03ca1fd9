//! Funnel queries: SQL gathers each person's relevant events (timestamps
//! and step/exclusion bit masks, in `(timestamp, event_id)` order), and the
//! dialect-independent [`crate::funnel::Evaluator`] walks each person's list.
//! This is the split PostHog also settled on: exact funnel semantics
//! (ties, repeated steps, exclusions, windows) are a state machine, which
//! SQL window functions only approximate.
//!
//! A person counts once, at the furthest step of their best attempt. The
//! breakdown value of a person is the property on their first step-1 event
//! in the range (first touch; in unordered funnels, their first event
//! matching any step). Times to convert are measured from step 1.

use crate::engine::{Context, Runner, TimeFrame};
use crate::error::{QueryError, Result};
use crate::filter;
use crate::funnel::{Evaluator, FunnelEvent, FunnelOrder, FunnelSpec, PersonOutcome};
use crate::model::{Filter, FunnelOrderMode, FunnelQuery};
use crate::rows;
use crate::sql::Sql;
use crate::trend::{DEFAULT_BREAKDOWN_LIMIT, GroupKey, breakdown_sql, from_events, rank_groups};
use arrow::array::{Array, Int64Array};
use serde_json::{Value, json};
use std::collections::HashMap;

pub const DEFAULT_WINDOW: &str = "14d";

/// The evaluator's spec for a query.
pub fn spec(q: &FunnelQuery) -> Result<FunnelSpec> {
    let window = crate::time::parse_duration(q.window.as_deref().unwrap_or(DEFAULT_WINDOW))
        .map_err(|m| crate::error::invalid("window", m))?;
    let n = q.steps.len();
    Ok(FunnelSpec {
        steps: n,
        window_micros: window,
        order: match q.order {
            FunnelOrderMode::Ordered => FunnelOrder::Ordered,
            FunnelOrderMode::Strict => FunnelOrder::Strict,
            FunnelOrderMode::Unordered => FunnelOrder::Unordered,
        },
        strictly_after_previous: (0..n).map(|i| i > 0 && q.steps[i].event == q.steps[i - 1].event).collect(),
        exclusions: q.exclusions.iter().map(|x| (x.from_step.unwrap_or(0), x.to_step.unwrap_or(n - 1))).collect(),
    })
}

/// One matcher of a funnel: a step or an exclusion, as event and filters.
type Matcher<'a> = (&'a str, &'a [Filter]);

/// Filtered matchers sharing one test: event, filters as JSON (to compare
/// them), filters, and the bits of the matchers.
type FilteredTest<'a> = (&'a str, String, &'a [Filter], i64);

/// The step and exclusion bit masks of each event (bit `i` for the `i`-th
/// step or exclusion), as a join and two SQL expressions.
///
/// Every event name the funnel names is a row of a `VALUES` list joined on
/// the event name, carrying the masks of the unfiltered matchers of that
/// name; a filtered matcher adds its bit with a `CASE` on the joined rows.
/// On 100M events the join keeps the rows of four event names in 0.6 s
/// where `e.event IN (...)` took 1.5 s: DuckDB pushes the join's keys
/// into the scan, while an `IN` list is tested row by row. Strict funnels
/// need every event (any event between two steps breaks them): there the
/// join is a left join and unnamed events have no bits.
fn masks_sql(steps: &[Matcher<'_>], exclusions: &[Matcher<'_>], strict: bool) -> (Sql, Sql, Sql) {
    // (event, plain step mask, plain exclusion mask) in first-seen order.
    let mut names: Vec<(&str, i64, i64)> = Vec::new();
    // Per kind: steps, exclusions.
    let mut filtered: [Vec<FilteredTest<'_>>; 2] = [Vec::new(), Vec::new()];
    for (kind, matchers) in [steps, exclusions].into_iter().enumerate() {
        for (i, &(event, filters)) in matchers.iter().enumerate() {
            let at = match names.iter().position(|n| n.0 == event) {
                Some(at) => at,
                None => {
                    names.push((event, 0, 0));
                    names.len() - 1
                }
            };
            if filters.is_empty() {
                if kind == 0 {
                    names[at].1 |= 1 << i
                } else {
                    names[at].2 |= 1 << i
                }
                continue;
            }
            // Matchers with the same event and filters share one test;
            // filters that cannot be compared never do.
            let key = serde_json::to_string(filters).unwrap_or_else(|_| format!("#{kind}.{i}"));
            match filtered[kind].iter_mut().find(|g| g.0 == event && g.1 == key) {
                Some(g) => g.3 |= 1 << i,
                None => filtered[kind].push((event, key, filters, 1 << i)),
            }
        }
    }
    let mut join = Sql::new();
    join.push(if strict { " LEFT JOIN (VALUES " } else { " JOIN (VALUES " });
    for (i, (event, steps, excl)) in names.iter().enumerate() {
        join.push(if i > 0 { ", (" } else { "(" }).bind(*event);
        join.push(&format!("::VARCHAR, {steps}::BIGINT, {excl}::BIGINT)"));
    }
    join.push(") AS m(event, steps, excl) ON m.event = e.event");
    let [step_tests, excl_tests] = filtered;
    let expr = |column: &str, tests: Vec<FilteredTest<'_>>| {
        let mut s = Sql::new();
        s.push(&format!("(coalesce(m.{column}, 0)"));
        for (event, _, filters, mask) in tests {
            s.push(" + (CASE WHEN e.event = ").bind(event).push(" AND ").append(filter::to_sql(filters));
            s.push(&format!(" THEN {mask} ELSE 0 END)"));
        }
        s.push(")");
        s
    };
    (join, expr("steps", step_tests), expr("excl", excl_tests))
}

/// The statement gathering the funnel's rows; with `with_persons`, also
/// each person's id and breakdown value.
fn gather_sql(q: &FunnelQuery, tf: &TimeFrame, with_persons: bool) -> Sql {
    let steps: Vec<Matcher<'_>> = q.steps.iter().map(|s| (s.event.as_str(), s.filters.as_slice())).collect();
    let exclusions: Vec<Matcher<'_>> = q.exclusions.iter().map(|x| (x.event.as_str(), x.filters.as_slice())).collect();
    let (join, step_mask, excl_mask) = masks_sql(&steps, &exclusions, q.order == FunnelOrderMode::Strict);
    let all_filters = q
        .steps
        .iter()
        .flat_map(|s| s.filters.iter())
        .chain(q.exclusions.iter().flat_map(|x| x.filters.iter()))
        .chain(q.common.filters.iter());
    let mut ev = Sql::new();
    // The event id only breaks ties: for first-touch breakdown values and in
    // strict funnels. Leaving it out elsewhere keeps the gathered rows narrow.
    let needs_id = q.breakdown.is_some() || q.order == FunnelOrderMode::Strict;
    ev.push("SELECT e.person_key AS pk, epoch_us(e.timestamp) AS ts, ");
    ev.push(if with_persons { "e.person_id, " } else { "" });
    ev.push(if needs_id { "e.event_id, " } else { "" }).append(step_mask).push(" AS steps, ");
    if !q.exclusions.is_empty() {
        ev.append(excl_mask).push(" AS excl, ");
    }
    ev.append(breakdown_sql(q.breakdown.as_ref()));
    ev.append(from_events(all_filters, q.breakdown.as_ref())).append(join);
    ev.push(" WHERE ").append(tf.where_sql()).push(" AND ").append(filter::to_sql(&q.common.filters));
    // A person enters with step 1, or with any step when the order is free.
    let entry = if q.order == FunnelOrderMode::Unordered { (1i64 << q.steps.len()) - 1 } else { 1 };
    // Rows come back unsorted and ungrouped, each with its person's dense
    // key (`person_key`): Rust places them by key with a counting sort.
    // Grouping them in SQL first cost more than the whole query does now
    // (on 100M events the 20-step funnel's 37M rows took 3 s to group by
    // person id and number, against under a second to hand over as they
    // are), and a sort or an ordered `list()` cost ten times more still.
    let strict = q.order == FunnelOrderMode::Strict;
    let mut rows = String::from("SELECT 0 AS part, pk AS idx, ts, steps");
    // The optional columns, and what the persons part puts in them.
    let mut blank = String::new();
    if !q.exclusions.is_empty() {
        rows.push_str(", excl");
        blank.push_str(", 0");
    }
    if strict {
        rows.push_str(", event_id::VARCHAR AS eid");
        blank.push_str(", NULL");
    }
    let mut sql = Sql::new();
    sql.push("WITH ev AS (").append(ev).push(") ").push(&rows);
    if with_persons {
        // Listed persons: id and breakdown value (first touch) per key. Both
        // parts are one statement, so they read one snapshot.
        let bd = if q.breakdown.is_some() {
            format!("arg_min(bd, (ts, event_id)) FILTER (WHERE steps & {entry} <> 0)")
        } else {
            "NULL::VARCHAR".to_string()
        };
        sql.push(", NULL::VARCHAR AS pid, NULL::VARCHAR AS bd FROM ev UNION ALL ");
        sql.push(&format!("SELECT 1, pk, 0, 0{blank}, any_value(person_id)::VARCHAR, {bd} FROM ev "));
        sql.push(&format!("GROUP BY pk HAVING bool_or(steps & {entry} <> 0)"));
    } else {
        sql.push(" FROM ev");
    }
    sql
}

/// The gathered batches, read: the rows' columns, and the persons part.
struct Gathered {
    columns: Vec<Columns>,
    /// The lowest person key of the rows: person index `i` is key `base + i`.
    base: i64,
    /// Person indexes run `0..persons`.
    persons: usize,
    /// Listed persons (breakdown or drill-down), by index: id and breakdown
    /// value. Empty when only counted.
    listed: HashMap<usize, (String, Option<String>)>,
}

/// The columns of one gathered batch.
struct Columns {
    part: Int64Array,
    /// The person key.
    idx: Int64Array,
    ts: Int64Array,
    steps: Int64Array,
    excl: Option<Int64Array>,
    /// Strict funnels: the event id, for ties.
    eid: Option<arrow::array::StringArray>,
}

impl Gathered {
    fn new(batches: &[arrow::record_batch::RecordBatch]) -> Result<Gathered> {
        let mut g = Gathered { columns: Vec::new(), base: 0, persons: 0, listed: HashMap::new() };
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let mut listed = Vec::new();
        for batch in batches {
            let optional = |name: &str| batch.column_by_name(name).map(|_| rows::i64s(batch, name)).transpose();
            let c = Columns {
                part: rows::i64s(batch, "part")?,
                idx: rows::i64s(batch, "idx")?,
                ts: rows::i64s(batch, "ts")?,
                steps: rows::i64s(batch, "steps")?,
                excl: optional("excl")?,
                eid: batch.column_by_name("eid").map(|_| rows::strs(batch, "eid")).transpose()?,
            };
            // Rows without a key (never written by the store's writer) have no person.
            if let (Some(min), Some(max)) = (arrow::compute::min(&c.idx), arrow::compute::max(&c.idx)) {
                (lo, hi) = (lo.min(min), hi.max(max));
            }
            if batch.column_by_name("pid").is_some() {
                let (pid, bd) = (rows::strs(batch, "pid")?, rows::strs(batch, "bd")?);
                for i in (0..batch.num_rows()).filter(|&i| c.part.value(i) == 1 && c.idx.is_valid(i)) {
                    listed.push((c.idx.value(i), rows::opt_str(&pid, i).unwrap_or_default(), rows::opt_str(&bd, i)));
                }
            }
            g.columns.push(c);
        }
        if lo <= hi {
            g.base = lo;
            g.persons = usize::try_from(hi - lo + 1).map_err(|_| QueryError::Shape("person keys".into()))?;
        }
        for (key, pid, bd) in listed {
            g.listed.insert((key - g.base) as usize, (pid, bd));
        }
        if g.columns.iter().any(|c| c.eid.is_some()) && !g.columns.iter().all(|c| c.eid.is_some()) {
            return Err(QueryError::Shape("event ids missing from some batches".into()));
        }
        Ok(g)
    }

    /// The person index of row `i` of `c`, for event rows with a key.
    fn person(&self, c: &Columns, i: usize) -> Option<usize> {
        (c.part.value(i) == 0 && c.idx.is_valid(i)).then(|| (c.idx.value(i) - self.base) as usize)
    }
}

/// One thread's persons and their rows, grouped by person: a counting sort
/// on the dense person index places each row's event straight into its
/// person's run. Each thread reads every row and keeps its own persons', so
/// the grouping runs on both cores too.
///
/// In ordered and strict funnels, a person with no event matching step 2
/// reaches step 1 (if they did step 1) and no further, whatever the order
/// of their events; funnels drop steeply, so that is most persons (88% in
/// the benchmark's 4-step funnel). Their rows are counted but neither
/// placed nor evaluated: they are marked `shallow`.
struct Share {
    persons: std::ops::Range<usize>,
    /// By person (`persons.start + p`): they did step 1 and not step 2, and
    /// their rows were skipped.
    shallow: Vec<bool>,
    /// Person `persons.start + p`'s events: `events[start[p]..start[p + 1]]`, unsorted.
    events: Vec<FunnelEvent>,
    start: Vec<usize>,
    /// Strict funnels only, parallel to `events`: where each row's event
    /// id is (batch, row).
    eid_ref: Vec<(u32, u32)>,
}

impl Share {
    /// `skip_shallow`: the funnel is ordered or strict (see [`Share`]).
    fn new(g: &Gathered, persons: std::ops::Range<usize>, skip_shallow: bool) -> Share {
        let mine = |c: &Columns, i: usize| -> Option<usize> {
            g.person(c, i).filter(|p| persons.contains(p)).map(|p| p - persons.start)
        };
        let mut start = vec![0usize; persons.len() + 1];
        // Steps matched by any of the person's rows.
        let mut seen = vec![0u32; persons.len()];
        for c in &g.columns {
            for i in 0..c.part.len() {
                if let Some(p) = mine(c, i) {
                    start[p + 1] += 1;
                    seen[p] |= c.steps.value(i) as u32;
                }
            }
        }
        let mut shallow = vec![false; persons.len()];
        if skip_shallow {
            for (p, &bits) in seen.iter().enumerate() {
                if bits & 2 == 0 {
                    shallow[p] = bits & 1 != 0;
                    start[p + 1] = 0;
                }
            }
        }
        let kept = |p: usize| !skip_shallow || seen[p] & 2 != 0;
        for p in 0..persons.len() {
            start[p + 1] += start[p];
        }
        let total = start[persons.len()];
        let strict = g.columns.first().is_some_and(|c| c.eid.is_some());
        let mut events = vec![FunnelEvent { ts: 0, steps: 0, exclusions: 0 }; total];
        let mut eid_ref = if strict { vec![(0u32, 0u32); total] } else { Vec::new() };
        let mut fill = start.clone();
        for (b, c) in g.columns.iter().enumerate() {
            for i in 0..c.part.len() {
                let Some(p) = mine(c, i).filter(|&p| kept(p)) else { continue };
                let at = fill[p];
                fill[p] += 1;
                events[at] = FunnelEvent {
                    ts: c.ts.value(i),
                    steps: c.steps.value(i) as u32,
                    exclusions: c.excl.as_ref().map_or(0, |x| x.value(i) as u32),
                };
                if strict {
                    eid_ref[at] = (b as u32, i as u32);
                }
            }
        }
        Share { persons, shallow, events, start, eid_ref }
    }

    /// Calls `each` with each person's index and events in time order (ties
    /// by event id, which only strict funnels look at), or `None` for a
    /// shallow person.
    fn visit(&self, g: &Gathered, mut each: impl FnMut(usize, Option<&[FunnelEvent]>)) {
        let (mut order, mut events) = (Vec::new(), Vec::new());
        for p in 0..self.persons.len() {
            if self.shallow[p] {
                each(self.persons.start + p, None);
                continue;
            }
            let rows = self.start[p]..self.start[p + 1];
            if rows.is_empty() {
                // A key with no rows here (keys are dense over the project, not the range).
                continue;
            }
            events.clear();
            if self.eid_ref.is_empty() {
                // Rows mostly arrive in time order already.
                events.extend_from_slice(&self.events[rows]);
                if !events.is_sorted_by_key(|e| e.ts) {
                    events.sort_unstable_by_key(|e| e.ts);
                }
            } else {
                order.clear();
                order.extend(rows);
                let eid = |r: usize| {
                    let (b, i) = self.eid_ref[r];
                    g.columns[b as usize].eid.as_ref().map_or("", |a| a.value(i as usize))
                };
                order.sort_unstable_by(|&a, &b| {
                    self.events[a].ts.cmp(&self.events[b].ts).then_with(|| eid(a).cmp(eid(b)))
                });
                events.extend(order.iter().map(|&r| self.events[r]));
            }
            each(self.persons.start + p, Some(&events));
        }
    }
}

/// What one thread's share of the persons adds up to.
#[derive(Default)]
struct Partial {
    overall: Tally,
    by_value: HashMap<Option<String>, Tally>,
    /// Persons for the drill-down: id and breakdown value.
    listed: Vec<(String, Option<String>)>,
}

impl Partial {
    fn merge(&mut self, other: Partial) {
        self.overall.merge(&other.overall);
        for (v, t) in other.by_value {
            match self.by_value.get_mut(&v) {
                Some(mine) => mine.merge(&t),
                None => {
                    self.by_value.insert(v, t);
                }
            }
        }
        self.listed.extend(other.listed);
    }
}

/// Groups and evaluates persons `range` of `g`.
fn evaluate(q: &FunnelQuery, spec: FunnelSpec, g: &Gathered, range: std::ops::Range<usize>) -> Result<Partial> {
    let share = Share::new(g, range, spec.order != FunnelOrder::Unordered);
    let n = q.steps.len();
    let mut evaluator = Evaluator::new(spec).map_err(|m| crate::error::invalid("steps", m))?;
    let mut out = Partial { overall: Tally::new(n), ..Partial::default() };
    let want = q.persons.as_ref();
    let shallow = PersonOutcome { reached: 1, conversion_micros: vec![0] };
    share.visit(g, |p, events| {
        let outcome = match events {
            Some(events) => evaluator.evaluate(events),
            None => &shallow,
        };
        if outcome.reached == 0 {
            return;
        }
        out.overall.add(outcome.reached, &outcome.conversion_micros);
        let breakdown = || g.listed.get(&p).and_then(|x| x.1.clone());
        if q.breakdown.is_some() {
            out.by_value
                .entry(breakdown())
                .or_insert_with(|| Tally::new(n))
                .add(outcome.reached, &outcome.conversion_micros);
        }
        if let Some(w) = want {
            let hit = if w.dropped { outcome.reached == w.step } else { outcome.reached > w.step };
            if hit {
                let id = g.listed.get(&p).map(|x| x.0.clone()).unwrap_or_default();
                out.listed.push((id, breakdown()));
            }
        }
    });
    Ok(out)
}

/// Evaluates every person, split over two threads (the machine's cores;
/// DuckDB is idle by now).
fn evaluate_all(q: &FunnelQuery, spec: &FunnelSpec, g: &Gathered) -> Result<Partial> {
    let n = g.persons;
    let mid = n / 2;
    let (a, b) = std::thread::scope(|s| {
        let first = s.spawn(|| evaluate(q, spec.clone(), g, 0..mid));
        let second = evaluate(q, spec.clone(), g, mid..n);
        (first.join(), second)
    });
    let mut total = a.map_err(|_| QueryError::Shape("funnel evaluation panicked".into()))??;
    total.merge(b?);
    Ok(total)
}

/// Per-group tallies while walking persons.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// `counts[k]`: persons who reached step k (0-based).
    pub counts: Vec<u64>,
    /// `times[k]`: each converting person's micros from step 0 to step k.
    pub times: Vec<Vec<i64>>,
}

impl Tally {
    fn new(steps: usize) -> Self {
        Tally { counts: vec![0; steps], times: vec![Vec::new(); steps] }
    }

    fn merge(&mut self, other: &Tally) {
        for (k, c) in other.counts.iter().enumerate() {
            self.counts[k] += c;
            self.times[k].extend_from_slice(&other.times[k]);
        }
    }

    pub fn add(&mut self, reached: usize, conversion: &[i64]) {
        for (k, micros) in conversion.iter().enumerate().take(reached) {
            self.counts[k] += 1;
            if k > 0 {
                self.times[k].push(*micros);
            }
        }
    }
}

fn median(v: &mut [i64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] as f64 } else { (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0 })
}

/// The per-step answer of one tally.
pub fn steps_json(q: &FunnelQuery, t: &mut Tally) -> Vec<Value> {
    let first = t.counts.first().copied().unwrap_or(0);
    (0..q.steps.len())
        .map(|k| {
            let c = t.counts[k];
            let prev = if k == 0 { c } else { t.counts[k - 1] };
            let pct = |num: u64, den: u64| if den == 0 { 0.0 } else { 100.0 * num as f64 / den as f64 };
            let times = &mut t.times[k];
            let avg = (!times.is_empty()).then(|| times.iter().sum::<i64>() as f64 / times.len() as f64 / 1e6);
            let med = median(times).map(|m| m / 1e6);
            json!({
                "index": k,
                "name": q.steps[k].name.clone().unwrap_or_else(|| q.steps[k].event.clone()),
                "event": q.steps[k].event,
                "count": c,
                "conversion_rate": pct(c, first),
                "step_conversion_rate": pct(c, prev),
                "dropped": prev - c,
                "avg_time_to_convert_seconds": avg,
                "median_time_to_convert_seconds": med,
            })
        })
        .collect()
}

pub async fn run(runner: &Runner<'_>, ctx: &Context, q: &FunnelQuery) -> Result<Value> {
    let tf = TimeFrame::new(&q.common, ctx, "-7d")?;
    let spec = spec(q)?;
    let window_micros = spec.window_micros;
    let started = std::time::Instant::now();
    let batches = runner.fetch(gather_sql(q, &tf, q.breakdown.is_some() || q.persons.is_some())).await?;
    let fetched = started.elapsed();
    let n = q.steps.len();
    // CPU-bound: off the async workers.
    let query = q.clone();
    let Partial { mut overall, mut by_value, mut listed } = tokio::task::spawn_blocking(move || {
        let g = Gathered::new(&batches)?;
        evaluate_all(&query, &spec, &g)
    })
    .await
    .map_err(|e| QueryError::Shape(format!("funnel evaluation: {e}")))??;
    let want = q.persons.as_ref();
    tracing::debug!(
        fetch_ms = fetched.as_millis() as u64,
        evaluate_ms = (started.elapsed() - fetched).as_millis() as u64,
        "funnel"
    );
    let mut answer = json!({
        "kind": "funnel",
        "order": q.order,
        "window_seconds": window_micros as f64 / 1e6,
        "date_range": tf.describe(),
        "steps": steps_json(q, &mut overall),
    });
    let mut groups_of_value: HashMap<Option<String>, GroupKey> = HashMap::new();
    if q.breakdown.is_some() {
        let limit = q.breakdown_limit.unwrap_or(DEFAULT_BREAKDOWN_LIMIT);
        let ranked = rank_groups(
            by_value
                .iter()
                .map(|(v, t)| (GroupKey { is_other: false, value: v.clone() }, t.counts[0] as i64))
                .collect(),
        );
        let mut other = Tally::new(n);
        let mut has_other = false;
        let mut out = Vec::new();
        for (i, g) in ranked.iter().enumerate() {
            let Some(t) = by_value.get_mut(&g.value) else { continue };
            if i < limit {
                groups_of_value.insert(g.value.clone(), g.clone());
                out.push(json!({ "breakdown_value": g.value, "is_other": false, "steps": steps_json(q, t) }));
            } else {
                has_other = true;
                groups_of_value.insert(g.value.clone(), GroupKey { is_other: true, value: None });
                for k in 0..n {
                    other.counts[k] += t.counts[k];
                    other.times[k].extend_from_slice(&t.times[k]);
                }
            }
        }
        if has_other {
            out.push(json!({ "breakdown_value": null, "is_other": true, "steps": steps_json(q, &mut other) }));
        }
        answer["breakdown"] = json!(out);
    }
    if let Some(w) = want {
        if let Some(v) = &w.breakdown_value {
            let v = filter::text_of(v);
            listed.retain(|(_, b)| groups_of_value.get(b).is_some_and(|g| !g.is_other) && *b == v);
        }
        listed.sort();
        let total = listed.len();
        let page: Vec<&str> = listed.iter().skip(w.offset).take(w.limit).map(|(p, _)| p.as_str()).collect();
        answer["persons"] = json!({
            "step": w.step,
            "dropped": w.dropped,
            "person_ids": page,
            "total": total,
            "limit": w.limit,
            "offset": w.offset,
        });
    }
    Ok(answer)
}
