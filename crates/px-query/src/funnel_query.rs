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
use crate::funnel::{Evaluator, FunnelEvent, FunnelOrder, FunnelSpec};
use crate::group::{self, Keyed, Source};
use crate::model::{Filter, FunnelOrderMode, FunnelQuery};
use crate::rows;
use crate::sql::Sql;
use crate::trend::{DEFAULT_BREAKDOWN_LIMIT, GroupKey, breakdown_sql, from_events, rank_groups};
use arrow::array::{Array, Int32Array, Int64Array};
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
        // Step masks fit `INTEGER` (20 steps), which halves what DuckDB
        // materializes and hands over for them; exclusion masks may not.
        join.push(&format!("::VARCHAR, {steps}::INTEGER, {excl}::BIGINT)"));
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
    // key (`person_key`): Rust groups them by key (`crate::group`).
    // Grouping them in SQL first cost more than the whole query does now
    // (on 100M events the 20-step funnel's 37M rows took 3 s to group by
    // person id and number, against under a second to hand over as they
    // are), and a sort or an ordered `list()` cost ten times more still.
    let strict = q.order == FunnelOrderMode::Strict;
    // Without a persons part, `part` would be a column of zeros.
    let mut rows = String::from(if with_persons { "SELECT 0 AS part, " } else { "SELECT " });
    rows.push_str("pk AS idx, ts, steps");
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
    /// 0 for event rows, 1 for the persons part; absent when there is none.
    part: Option<Int64Array>,
    /// The person key.
    idx: Int64Array,
    ts: Int64Array,
    steps: Int32Array,
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
                part: optional("part")?,
                idx: rows::i64s(batch, "idx")?,
                ts: rows::i64s(batch, "ts")?,
                steps: rows::i32s(batch, "steps")?,
                excl: optional("excl")?,
                eid: batch.column_by_name("eid").map(|_| rows::strs(batch, "eid")).transpose()?,
            };
            // Rows without a key (never written by the store's writer) have no person.
            if let (Some(min), Some(max)) = (arrow::compute::min(&c.idx), arrow::compute::max(&c.idx)) {
                (lo, hi) = (lo.min(min), hi.max(max));
            }
            if batch.column_by_name("pid").is_some() {
                let (pid, bd) = (rows::strs(batch, "pid")?, rows::strs(batch, "bd")?);
                let persons_part = |i: usize| c.part.as_ref().is_some_and(|p| p.value(i) == 1);
                for i in (0..batch.num_rows()).filter(|&i| persons_part(i) && c.idx.is_valid(i)) {
                    listed.push((c.idx.value(i), rows::opt_str(&pid, i).unwrap_or_default(), rows::opt_str(&bd, i)));
                }
            }
            g.columns.push(c);
        }
        if lo <= hi {
            g.base = lo;
            // Person indexes are `u32` while grouped.
            let last = u32::try_from(hi - lo).map_err(|_| QueryError::Shape(format!("person keys {lo}..={hi}")))?;
            g.persons = last as usize + 1;
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
        let event_row = c.part.as_ref().is_none_or(|p| p.value(i) == 0);
        (event_row && c.idx.is_valid(i)).then(|| (c.idx.value(i) - self.base) as usize)
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

/// A gathered row, as grouped by person and handed to the evaluator.
trait FunnelRow: Keyed {
    /// Row `i` of batch `b`, whose columns are `c`, of person `person`.
    fn read(c: &Columns, b: usize, i: usize, person: u32) -> Self;
    fn steps(&self) -> u32;
    fn event(&self) -> FunnelEvent;
    /// Puts one person's rows in the evaluator's order: by time, and in
    /// strict funnels ties by event id.
    fn order(rows: &mut [Self], g: &Gathered);
}

/// The row of a funnel without exclusions or strict order: 16 bytes, as
/// the grouping moves every row twice.
#[derive(Clone, Copy)]
struct Plain {
    ts: i64,
    person: u32,
    steps: u32,
}

impl Keyed for Plain {
    fn key(&self) -> u32 {
        self.person
    }
}

impl FunnelRow for Plain {
    fn read(c: &Columns, _: usize, i: usize, person: u32) -> Self {
        Plain { ts: c.ts.value(i), person, steps: c.steps.value(i) as u32 }
    }
    fn steps(&self) -> u32 {
        self.steps
    }
    fn event(&self) -> FunnelEvent {
        FunnelEvent { ts: self.ts, steps: self.steps, exclusions: 0 }
    }
    fn order(rows: &mut [Self], _: &Gathered) {
        // Rows mostly arrive in time order already.
        if !rows.is_sorted_by_key(|r| r.ts) {
            rows.sort_unstable_by_key(|r| r.ts);
        }
    }
}

/// The row of a funnel with exclusions or strict order: also where the
/// row's event id is (batch, row).
#[derive(Clone, Copy)]
struct Full {
    event: FunnelEvent,
    person: u32,
    batch: u32,
    row: u32,
}

impl Keyed for Full {
    fn key(&self) -> u32 {
        self.person
    }
}

impl FunnelRow for Full {
    fn read(c: &Columns, b: usize, i: usize, person: u32) -> Self {
        let event = FunnelEvent {
            ts: c.ts.value(i),
            steps: c.steps.value(i) as u32,
            exclusions: c.excl.as_ref().map_or(0, |x| x.value(i) as u32),
        };
        Full { event, person, batch: b as u32, row: i as u32 }
    }
    fn steps(&self) -> u32 {
        self.event.steps
    }
    fn event(&self) -> FunnelEvent {
        self.event
    }
    fn order(rows: &mut [Self], g: &Gathered) {
        let eid = |r: &Full| g.columns[r.batch as usize].eid.as_ref().map_or("", |a| a.value(r.row as usize));
        let cmp = |a: &Full, b: &Full| a.event.ts.cmp(&b.event.ts).then_with(|| eid(a).cmp(eid(b)));
        if !rows.is_sorted_by(|a, b| cmp(a, b).is_le()) {
            rows.sort_unstable_by(cmp);
        }
    }
}

/// The gathered rows of every person, as the grouping reads them.
struct ByPerson<'g, R> {
    g: &'g Gathered,
    row: std::marker::PhantomData<R>,
}

impl<R: FunnelRow> Source for ByPerson<'_, R> {
    type Row = R;
    fn batches(&self) -> usize {
        self.g.columns.len()
    }
    fn batch_rows(&self, b: usize) -> usize {
        self.g.columns[b].idx.len()
    }
    fn rows(&self, b: usize, mut each: impl FnMut(R)) {
        let c = &self.g.columns[b];
        for i in 0..c.idx.len() {
            if let Some(p) = self.g.person(c, i) {
                // Person indexes fit: checked by `Gathered::new`.
                each(R::read(c, b, i, p as u32));
            }
        }
    }
}

/// One thread's walk over its persons: its evaluator, what they add up
/// to, and scratch space for one person's events.
struct Walk {
    evaluator: Evaluator,
    out: Partial,
    events: Vec<FunnelEvent>,
}

impl Walk {
    /// Evaluates person `p` from their rows and adds them up.
    ///
    /// In ordered and strict funnels (`skip_shallow`), a person with no
    /// event matching step 2 reaches step 1 (if they did step 1) and no
    /// further, whatever the order of their events; funnels drop steeply,
    /// so that is most persons (88% in the benchmark's 4-step funnel), and
    /// they are neither sorted nor evaluated.
    fn person<R: FunnelRow>(&mut self, q: &FunnelQuery, g: &Gathered, skip_shallow: bool, p: usize, rows: &mut [R]) {
        let seen = rows.iter().fold(0, |m, r| m | r.steps());
        let (reached, conversion) = if skip_shallow && seen & 2 == 0 {
            (usize::from(seen & 1 != 0), &[0][..])
        } else {
            R::order(rows, g);
            self.events.clear();
            self.events.extend(rows.iter().map(R::event));
            let outcome = self.evaluator.evaluate(&self.events);
            (outcome.reached, &outcome.conversion_micros[..])
        };
        if reached == 0 {
            return;
        }
        let out = &mut self.out;
        out.overall.add(reached, conversion);
        let breakdown = || g.listed.get(&p).and_then(|x| x.1.clone());
        if q.breakdown.is_some() {
            let n = q.steps.len();
            out.by_value.entry(breakdown()).or_insert_with(|| Tally::new(n)).add(reached, conversion);
        }
        if let Some(w) = q.persons.as_ref() {
            let hit = if w.dropped { reached == w.step } else { reached > w.step };
            if hit {
                let id = g.listed.get(&p).map(|x| x.0.clone()).unwrap_or_default();
                out.listed.push((id, breakdown()));
            }
        }
    }
}

/// Groups the rows by person and evaluates every person, on every core
/// (DuckDB is idle by now).
fn evaluate_all(q: &FunnelQuery, spec: &FunnelSpec, g: &Gathered) -> Result<Partial> {
    let evaluator = Evaluator::new(spec.clone()).map_err(|m| crate::error::invalid("steps", m))?;
    let skip_shallow = spec.order != FunnelOrder::Unordered;
    let narrow = g.columns.iter().all(|c| c.excl.is_none() && c.eid.is_none());
    let walks = if narrow {
        walk::<Plain>(q, &evaluator, g, skip_shallow)
    } else {
        walk::<Full>(q, &evaluator, g, skip_shallow)
    };
    let mut total = Partial { overall: Tally::new(q.steps.len()), ..Partial::default() };
    for w in walks {
        total.merge(w.out);
    }
    Ok(total)
}

fn walk<R: FunnelRow>(q: &FunnelQuery, evaluator: &Evaluator, g: &Gathered, skip_shallow: bool) -> Vec<Walk> {
    let init = || Walk {
        evaluator: evaluator.clone(),
        out: Partial { overall: Tally::new(q.steps.len()), ..Partial::default() },
        events: Vec::new(),
    };
    let rows = ByPerson::<R> { g, row: std::marker::PhantomData };
    group::for_each_group(&rows, g.persons, init, |w: &mut Walk, p, rows| {
        w.person(q, g, skip_shallow, p as usize, rows)
    })
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

/// The median, found by selection rather than by sorting: a 20-step funnel
/// on 100M events has 18M times to convert.
fn median(v: &mut [i64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let (below, &mut mid, _) = v.select_nth_unstable(n / 2);
    Some(if n % 2 == 1 {
        mid as f64
    } else {
        // The largest value below the middle one is the other middle value.
        let lower = below.iter().copied().max().unwrap_or(mid);
        (lower as f64 + mid as f64) / 2.0
    })
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

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7.0));
        assert_eq!(median(&mut [9, 1, 5]), Some(5.0));
        assert_eq!(median(&mut [9, 1, 4, 6]), Some(5.0));
        assert_eq!(median(&mut [3, 3, 1, 3]), Some(3.0));
    }
}
