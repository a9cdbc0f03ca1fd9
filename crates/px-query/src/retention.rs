//! Retention: of the persons who did the start event in a period (the
//! cohort), how many did the return event in each later period.
//!
//! Semantics (PostHog's): recurring by default (a person joins the cohort
//! of every period in which they did the start event); `first_time` puts a
//! person only in the cohort of the first time ever they did it. Offset 0
//! is the cohort size; offset k counts cohort members who did the return
//! event in the k-th period after. Cohorts run from the period holding
//! `date_range.from` (default: `periods` periods back) to the period
//! holding `to`, and that last period counts whole. The average curve
//! weighs cohorts by size: retained persons over cohort members, summed
//! over the cohorts old enough to have that offset.

use crate::engine::{Context, Runner, TimeFrame};
use crate::error::{QueryError, Result, invalid};
use crate::group;
use crate::model::{Common, EventRef, Interval, RetentionPeriod, RetentionQuery, RetentionType};
use crate::rows;
use crate::sql::{Sql, bucket_expr, local_micros};
use crate::time::{self, Span};
use crate::trend::{from_events, series_where};
use arrow::array::{Array, Int32Array, Int64Array};
use arrow::record_batch::RecordBatch;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const DEFAULT_PERIODS: usize = 8;

pub fn interval(p: RetentionPeriod) -> Interval {
    match p {
        RetentionPeriod::Day => Interval::Day,
        RetentionPeriod::Week => Interval::Week,
        RetentionPeriod::Month => Interval::Month,
    }
}

/// The cohort buckets and the span they cover (whole periods).
pub fn cohort_frame(q: &RetentionQuery, ctx: &Context) -> Result<(TimeFrame, Vec<i64>)> {
    let iv = interval(q.period);
    let n = q.periods.unwrap_or(DEFAULT_PERIODS);
    let default_from = match q.period {
        RetentionPeriod::Day => format!("-{}d", n - 1),
        RetentionPeriod::Week => format!("-{}w", n - 1),
        RetentionPeriod::Month => format!("-{}m", n - 1),
    };
    let tf = TimeFrame::new(&q.common, ctx, &default_from)?;
    let week_start = q.common.week_start;
    let first = time::bucket_start(tf.offsets.local(tf.span.from), iv, week_start);
    let last = time::bucket_start(tf.offsets.local(tf.span.to - 1), iv, week_start);
    let mut buckets = vec![first];
    while let Some(&b) = buckets.last() {
        if b >= last || buckets.len() > 1000 {
            break;
        }
        buckets.push(time::next_bucket(b, iv));
    }
    if buckets.len() > 120 {
        return Err(invalid("date_range", format!("{} periods, more than 120", buckets.len())));
    }
    // Whole periods: from the first period's start to the last one's end.
    let from = time::local_micros_to_utc(tf.tz, first);
    let to = time::local_micros_to_utc(tf.tz, time::next_bucket(last, iv));
    let tf = tf.with_span(Span { from, to, tz: tf.tz });
    Ok((tf, buckets))
}

/// Which side of the query an activity row is: bit 0 a start (cohort
/// entry), bit 1 a return.
const START: i32 = 1;
const RETURN: i32 = 2;

/// Rows `(pk, p, kind)`: a person (dense key) was active in the period
/// starting at `p` (local micros), as `kind` says. Recurring rows come one
/// per matching event, not made distinct: a person's periods are folded
/// into bits in Rust, which is cheaper than DuckDB's `DISTINCT` on 100M
/// events (0.65 s to scan and hand over the page views' rows, against
/// 1.8-2.2 s for the whole statement with `DISTINCT` and a self-join).
fn activity_sql(r: &EventRef, common: &Common, tf: &TimeFrame, iv: Interval, first_time: bool, kind: i32) -> Sql {
    let bucket = bucket_expr(&local_micros(&tf.offsets, "e.timestamp"), iv, common.week_start);
    let mut s = Sql::new();
    if first_time {
        // First time ever: the earliest matching event of all history.
        let all = TimeFrame { span: Span { from: 0, to: i64::MAX / 2, tz: tf.tz }, ..tf.clone() };
        s.push("SELECT e.person_key AS pk, min(").push(&bucket).push(&format!(") AS p, {kind}::INTEGER AS kind "));
        s.append(from_events(r.filters.iter().chain(common.filters.iter()), None));
        s.append(series_where(&all, r.event.as_deref(), &r.filters, &common.filters));
        s.push(" GROUP BY e.person_key");
    } else {
        s.push("SELECT e.person_key AS pk, ").push(&bucket).push(&format!(" AS p, {kind}::INTEGER AS kind "));
        s.append(from_events(r.filters.iter().chain(common.filters.iter()), None));
        s.append(series_where(tf, r.event.as_deref(), &r.filters, &common.filters));
    }
    s
}

pub async fn run(runner: &Runner<'_>, ctx: &Context, q: &RetentionQuery) -> Result<Value> {
    let (tf, buckets) = cohort_frame(q, ctx)?;
    let iv = interval(q.period);
    let first_time = q.retention_type == RetentionType::FirstTime;
    // Returning by the start event itself is the common case ("came back
    // and did it again"): then one scan serves both.
    let same = !first_time
        && q.start_event.event == q.return_event.event
        && serde_json::to_value(&q.start_event.filters).ok() == serde_json::to_value(&q.return_event.filters).ok();
    let sql = if same {
        activity_sql(&q.start_event, &q.common, &tf, iv, false, START | RETURN)
    } else {
        let mut sql = activity_sql(&q.start_event, &q.common, &tf, iv, first_time, START);
        sql.push(" UNION ALL ").append(activity_sql(&q.return_event, &q.common, &tf, iv, false, RETURN));
        sql
    };
    let started = std::time::Instant::now();
    let batches = runner.fetch(sql).await?;
    let fetched = started.elapsed();
    // CPU-bound on large projects: off the async workers.
    let periods = buckets.clone();
    let counts = tokio::task::spawn_blocking(move || cohort_counts(&batches, &periods))
        .await
        .map_err(|e| QueryError::Shape(format!("retention evaluation: {e}")))??;
    tracing::debug!(
        fetch_ms = fetched.as_millis() as u64,
        evaluate_ms = (started.elapsed() - fetched).as_millis() as u64,
        "retention"
    );
    Ok(shape(&buckets, iv, &counts, tf.describe()))
}

/// The indexes of the bits set in `bits`, lowest first.
fn ones(mut bits: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (bits != 0).then(|| {
            let b = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            b
        })
    })
}

/// A person's periods of activity as bits: bit `b` of the starts and of
/// the returns for period `b`. Packed into as few bytes as the periods
/// allow, because every row sets a bit of a random person: at two bytes a
/// person (up to 8 periods) the bits of 3.4M persons stay in the caches,
/// at 32 they did not and the fold took three times as long.
trait Periods: Copy + Default + Send {
    /// With period `b` set on the sides `kind` says, of `n` periods.
    fn with(self, b: usize, kind: i32, n: usize) -> Self;
    /// The starts and the returns, of `n` periods.
    fn split(self, n: usize) -> (u128, u128);
}

/// Starts in the low `n` bits, returns in the next `n`.
macro_rules! packed_periods {
    ($t:ty) => {
        impl Periods for $t {
            fn with(self, b: usize, kind: i32, n: usize) -> Self {
                let mut x = self;
                if kind & START != 0 {
                    x |= 1 << b;
                }
                if kind & RETURN != 0 {
                    x |= 1 << (b + n);
                }
                x
            }
            fn split(self, n: usize) -> (u128, u128) {
                let x = u128::from(self);
                (x & ((1 << n) - 1), x >> n)
            }
        }
    };
}
packed_periods!(u16);
packed_periods!(u64);

/// Up to 128 periods (queries have at most 120).
impl Periods for [u128; 2] {
    fn with(self, b: usize, kind: i32, _: usize) -> Self {
        let [mut starts, mut returns] = self;
        if kind & START != 0 {
            starts |= 1 << b;
        }
        if kind & RETURN != 0 {
            returns |= 1 << b;
        }
        [starts, returns]
    }
    fn split(self, _: usize) -> (u128, u128) {
        (self[0], self[1])
    }
}

/// The activity rows' columns: person key, period start, kind.
type Rows = (Int64Array, Int64Array, Int32Array);

/// `(cohort, return period) -> persons` from the activity rows, a
/// cohort's own period holding its size (what [`shape`] takes).
///
/// Each person's periods become bits ([`Periods`]), then each person adds
/// one to the cell of every pair (start period, later return period) and
/// to every start period's size.
fn cohort_counts(batches: &[RecordBatch], periods: &[i64]) -> Result<BTreeMap<(i64, i64), i64>> {
    let columns = batches
        .iter()
        .map(|b| Ok((rows::i64s(b, "pk")?, rows::i64s(b, "p")?, rows::i32s(b, "kind")?)))
        .collect::<Result<Vec<Rows>>>()?;
    let n = periods.len();
    let table = match n {
        0..=8 => fold::<u16>(&columns, periods)?,
        9..=32 => fold::<u64>(&columns, periods)?,
        33..=128 => fold::<[u128; 2]>(&columns, periods)?,
        _ => return Err(invalid("periods", format!("{n} periods, more than 128"))),
    };
    let mut counts = BTreeMap::new();
    for (i, &c) in table.iter().enumerate().filter(|&(_, &c)| c > 0) {
        counts.insert((periods[i / n], periods[i % n]), c);
    }
    Ok(counts)
}

/// Each person's bits, for the persons of one thread's range of keys.
trait Slots<P> {
    /// The bits of the range's `person`-th key, if it is in the range.
    fn slot(&mut self, person: usize) -> Option<&mut P>;
    /// Calls `f` with every slot's bits.
    fn for_each(self, f: impl FnMut(P));
}

/// One slot per key of the range: the usual case, where most of a
/// project's persons did the events (a page view).
impl<P> Slots<P> for Vec<P> {
    fn slot(&mut self, person: usize) -> Option<&mut P> {
        self.get_mut(person)
    }
    fn for_each(self, f: impl FnMut(P)) {
        self.into_iter().for_each(f)
    }
}

/// Only the keys seen, when the rows are few next to the range of keys (a
/// rare event in a large project): a slot per key would be mostly empty,
/// and up to 32 bytes each for 100M persons.
struct Seen<P> {
    len: usize,
    seen: hashbrown::HashMap<usize, P>,
}

impl<P: Default> Slots<P> for Seen<P> {
    fn slot(&mut self, person: usize) -> Option<&mut P> {
        (person < self.len).then(|| self.seen.entry(person).or_default())
    }
    fn for_each(self, f: impl FnMut(P)) {
        self.seen.into_values().for_each(f)
    }
}

/// The cohort table `[s * n + r]`: cohort `s`'s members active in period
/// `r` (`r > s`), or its size (`r == s`). On every core: each thread takes
/// a range of persons, reads every row and keeps its own bits and table,
/// so that no two threads write the same memory.
fn fold<P: Periods>(columns: &[Rows], periods: &[i64]) -> Result<Vec<i64>> {
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for (pk, ..) in columns {
        if let (Some(min), Some(max)) = (arrow::compute::min(pk), arrow::compute::max(pk)) {
            (lo, hi) = (lo.min(min), hi.max(max));
        }
    }
    let persons = if lo <= hi {
        usize::try_from(hi - lo).map_err(|_| QueryError::Shape(format!("person keys {lo}..={hi}")))? + 1
    } else {
        0
    };
    let rows: usize = columns.iter().map(|(pk, ..)| pk.len()).sum();
    let dense = persons <= rows.saturating_mul(4);
    let threads = group::threads();
    let per_thread = persons.div_ceil(threads).max(1);
    let tables = group::on_threads((0..threads).collect(), |t| {
        let range = PersonRange { lo, first: t * per_thread };
        let len = per_thread.min(persons.saturating_sub(range.first));
        if dense {
            fold_range(vec![P::default(); len], range, columns, periods)
        } else {
            fold_range(Seen::<P> { len, seen: hashbrown::HashMap::new() }, range, columns, periods)
        }
    });
    let n = periods.len();
    Ok((0..n * n).map(|i| tables.iter().map(|t| t[i]).sum()).collect())
}

/// A thread's persons: keys from `lo + first` on.
#[derive(Clone, Copy)]
struct PersonRange {
    lo: i64,
    first: usize,
}

/// One thread's cohort table, over the persons of `range` that `slots` holds.
fn fold_range<P: Periods>(mut slots: impl Slots<P>, range: PersonRange, columns: &[Rows], periods: &[i64]) -> Vec<i64> {
    let n = periods.len();
    // Rows come in time order: the last period found is usually the next
    // row's too.
    let mut last = (i64::MIN, None);
    for (pk, p, kind) in columns {
        for i in 0..pk.len() {
            // A row without a key was never written by the store's writer.
            if pk.is_null(i) {
                continue;
            }
            let person = ((pk.value(i) - range.lo) as usize).wrapping_sub(range.first);
            let Some(slot) = slots.slot(person) else { continue };
            let period = p.value(i);
            if last.0 != period {
                last = (period, periods.binary_search(&period).ok());
            }
            // Periods outside the cohorts' (a first time before them) put
            // the person in no cohort.
            if let Some(b) = last.1 {
                *slot = slot.with(b, kind.value(i), n);
            }
        }
    }
    let mut table = vec![0i64; n * n];
    slots.for_each(|person| {
        let (starts, returns) = person.split(n);
        for s in ones(starts) {
            table[s * n + s] += 1;
            for r in ones(returns.checked_shr(s as u32 + 1).unwrap_or(0)) {
                table[s * n + s + 1 + r] += 1;
            }
        }
    });
    table
}

/// The cohort table and average curve from `(cohort, return period) -> persons`
/// (a cohort's own period holds its size).
pub fn shape(buckets: &[i64], iv: Interval, counts: &BTreeMap<(i64, i64), i64>, range: Value) -> Value {
    let n = buckets.len();
    let mut cohorts = Vec::new();
    let mut sums = vec![(0i64, 0i64); n];
    for (ci, &c) in buckets.iter().enumerate() {
        let size = counts.get(&(c, c)).copied().unwrap_or(0);
        let values: Vec<i64> = buckets[ci..].iter().map(|&r| counts.get(&(c, r)).copied().unwrap_or(0)).collect();
        for (k, v) in values.iter().enumerate() {
            sums[k].0 += v;
            sums[k].1 += size;
        }
        cohorts.push(json!({ "cohort": time::label(c, iv), "size": size, "values": values }));
    }
    let average: Vec<f64> =
        sums.iter().map(|(r, s)| if *s == 0 { 0.0 } else { 100.0 * *r as f64 / *s as f64 }).collect();
    json!({ "kind": "retention", "period": iv, "date_range": range, "cohorts": cohorts, "average": average })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(rows: &[(Option<i64>, i64, i32)]) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("pk", DataType::Int64, true),
            Field::new("p", DataType::Int64, false),
            Field::new("kind", DataType::Int32, false),
        ]);
        let columns: Vec<arrow::array::ArrayRef> = vec![
            Arc::new(rows.iter().map(|r| r.0).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| r.1).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| r.2).collect::<Int32Array>()),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).unwrap()
    }

    #[test]
    fn folds_rows_into_cohorts_across_more_than_64_periods() {
        // 100 periods: two words of bits per side.
        let periods: Vec<i64> = (0..100).map(|i| 1_000 + i * 10).collect();
        let p = |i: i64| 1_000 + i * 10;
        let batches = [
            batch(&[
                (Some(5), p(1), START),
                (Some(5), p(70), START),
                (Some(5), p(70), RETURN),
                (Some(7), p(0), START | RETURN),
                // Repeats count once; a period before the cohorts and a row
                // without a person count for nothing.
                (Some(5), p(1), START),
                (Some(6), 990, START),
                (None, p(3), START),
            ]),
            batch(&[(Some(5), p(99), RETURN), (Some(6), p(99), START), (Some(5), p(99), RETURN)]),
        ];
        let counts = cohort_counts(&batches, &periods).unwrap();
        let want: BTreeMap<(i64, i64), i64> = [
            ((p(0), p(0)), 1),
            ((p(1), p(1)), 1),
            ((p(1), p(70)), 1),
            ((p(1), p(99)), 1),
            ((p(70), p(70)), 1),
            ((p(70), p(99)), 1),
            ((p(99), p(99)), 1),
        ]
        .into_iter()
        .collect();
        assert_eq!(counts, want);
    }

    #[test]
    fn counts_the_same_with_keys_far_apart() {
        // Two persons a billion keys apart: slots for the keys seen only.
        let periods = [0, 10, 20];
        let rows = [(Some(1), 0, START), (Some(1), 20, RETURN), (Some(1_000_000_001), 10, START | RETURN)];
        let counts = cohort_counts(&[batch(&rows)], &periods).unwrap();
        let want: BTreeMap<(i64, i64), i64> = [((0, 0), 1), ((0, 20), 1), ((10, 10), 1)].into_iter().collect();
        assert_eq!(counts, want);
    }

    #[test]
    fn no_rows_no_counts() {
        let counts = cohort_counts(&[], &[0, 10]).unwrap();
        assert!(counts.is_empty());
    }
}
