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
use crate::error::{Result, invalid};
use crate::model::{Common, EventRef, Interval, RetentionPeriod, RetentionQuery, RetentionType};
use crate::rows;
use crate::sql::{Sql, bucket_expr, local_micros};
use crate::time::{self, Span};
use crate::trend::{from_events, series_where};
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

fn activity_sql(r: &EventRef, common: &Common, tf: &TimeFrame, iv: Interval, all_time: bool) -> Sql {
    let bucket = bucket_expr(&local_micros(&tf.offsets, "e.timestamp"), iv, common.week_start);
    let mut s = Sql::new();
    if all_time {
        // First time ever: the earliest matching event of all history.
        let all = TimeFrame { span: Span { from: 0, to: i64::MAX / 2, tz: tf.tz }, ..tf.clone() };
        s.push("SELECT e.person_id, min(").push(&bucket).push(") AS p ");
        s.append(from_events(r.filters.iter().chain(common.filters.iter()), None));
        s.append(series_where(&all, r.event.as_deref(), &r.filters, &common.filters));
        s.push(" GROUP BY e.person_id");
    } else {
        s.push("SELECT DISTINCT e.person_id, ").push(&bucket).push(" AS p ");
        s.append(from_events(r.filters.iter().chain(common.filters.iter()), None));
        s.append(series_where(tf, r.event.as_deref(), &r.filters, &common.filters));
    }
    s
}

pub async fn run(runner: &Runner<'_>, ctx: &Context, q: &RetentionQuery) -> Result<Value> {
    let (tf, buckets) = cohort_frame(q, ctx)?;
    let iv = interval(q.period);
    let first_time = q.retention_type == RetentionType::FirstTime;
    let mut sql = Sql::new();
    sql.push("WITH starts AS (").append(activity_sql(&q.start_event, &q.common, &tf, iv, first_time)).push("), ");
    // Returning by the start event itself is the common case ("came back
    // and did it again"): then one scan serves both.
    let same = !first_time
        && q.start_event.event == q.return_event.event
        && serde_json::to_value(&q.start_event.filters).ok() == serde_json::to_value(&q.return_event.filters).ok();
    if same {
        sql.push("returns AS (SELECT * FROM starts) ");
    } else {
        sql.push("returns AS (").append(activity_sql(&q.return_event, &q.common, &tf, iv, false)).push(") ");
    }
    let (first, last) = (buckets[0], buckets[buckets.len() - 1]);
    sql.push("SELECT s.p AS cohort, s.p AS ret, count(*) AS n FROM starts s WHERE s.p BETWEEN ").bind(first);
    sql.push(" AND ").bind(last).push(" GROUP BY s.p UNION ALL ");
    sql.push("SELECT s.p AS cohort, r.p AS ret, count(*) AS n FROM starts s JOIN returns r ");
    sql.push("ON r.person_id = s.person_id AND r.p > s.p WHERE s.p BETWEEN ").bind(first);
    sql.push(" AND ").bind(last).push(" GROUP BY s.p, r.p");
    let mut counts: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for batch in runner.fetch(sql).await? {
        let (c, r, n) = (rows::i64s(&batch, "cohort")?, rows::i64s(&batch, "ret")?, rows::i64s(&batch, "n")?);
        for i in 0..batch.num_rows() {
            counts.insert((c.value(i), r.value(i)), n.value(i));
        }
    }
    Ok(shape(&buckets, iv, &counts, tf.describe()))
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
