//! Lifecycle: each bucket's active persons split into new (their first
//! matching event ever falls in the bucket), returning (also active the
//! bucket before), resurrecting (inactive the bucket before, active some
//! time earlier), and dormant (active the bucket before, not in this one;
//! answered as negative numbers, as PostHog charts them).

use crate::engine::{Context, Runner, TimeFrame};
use crate::error::{Result, invalid};
use crate::model::{Interval, LifecycleQuery};
use crate::rows;
use crate::sql::{Sql, bucket_expr, local_micros};
use crate::time::{self, Span};
use crate::trend::{from_events, series_where};
use serde_json::{Value, json};
use std::collections::HashMap;

/// SQL for the bucket `step` buckets after the one starting at `b` (local
/// micros); `step` is 1 or -1.
fn shift_bucket(b: &str, iv: Interval, step: i64) -> String {
    use px_core::time::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE};
    match iv {
        Interval::Minute => format!("({b} + {})", step * MICROS_PER_MINUTE),
        Interval::Hour => format!("({b} + {})", step * MICROS_PER_HOUR),
        Interval::Day => format!("({b} + {})", step * MICROS_PER_DAY),
        Interval::Week => format!("({b} + {})", step * 7 * MICROS_PER_DAY),
        Interval::Month => format!("epoch_us(make_timestamp({b}) + INTERVAL ({step}) MONTH)"),
    }
}

fn previous_bucket(b: &str, iv: Interval) -> String {
    shift_bucket(b, iv, -1)
}

fn next_bucket(b: &str, iv: Interval) -> String {
    shift_bucket(b, iv, 1)
}

pub async fn run(runner: &Runner<'_>, ctx: &Context, q: &LifecycleQuery) -> Result<Value> {
    let tf = TimeFrame::new(&q.common, ctx, "-7d")?;
    let iv = q.interval;
    let buckets = time::buckets(&tf.span, &tf.offsets, iv, q.common.week_start);
    if buckets.len() > 1000 {
        return Err(invalid("date_range", format!("{} buckets, more than 1000", buckets.len())));
    }
    let filters = || q.event_filters.iter().chain(q.common.filters.iter());
    // Activity from the bucket before the range, to tell returning from resurrecting.
    let first = buckets[0];
    // A bucket start less a microsecond lies in the bucket before.
    let before_first = time::bucket_start(first - 1, iv, q.common.week_start);
    let wide = tf.with_span(Span { from: time::local_micros_to_utc(tf.tz, before_first), to: tf.span.to, tz: tf.tz });
    let all_time = TimeFrame { span: Span { from: 0, to: tf.span.to, tz: tf.tz }, ..tf.clone() };
    let wide_bucket = bucket_expr(&local_micros(&wide.offsets, "e.timestamp"), iv, q.common.week_start);
    let mut sql = Sql::new();
    sql.push("WITH act AS (SELECT DISTINCT e.person_id, ").push(&wide_bucket).push(" AS b ");
    sql.append(from_events(filters(), None));
    sql.append(series_where(&wide, q.event.as_deref(), &q.event_filters, &q.common.filters)).push("), ");
    sql.push("firsts AS (SELECT e.person_id, min(").push(&wide_bucket).push(") AS fb ");
    sql.append(from_events(filters(), None));
    sql.append(series_where(&all_time, q.event.as_deref(), &q.event_filters, &q.common.filters));
    sql.push(" GROUP BY e.person_id) ");
    let prev = previous_bucket("a.b", iv);
    sql.push("SELECT a.b AS b, CASE WHEN f.fb = a.b THEN 'new' WHEN p.person_id IS NOT NULL THEN 'returning' ");
    sql.push("ELSE 'resurrecting' END AS status, count(*) AS n FROM act a JOIN firsts f ON f.person_id = a.person_id ");
    sql.push("LEFT JOIN act p ON p.person_id = a.person_id AND p.b = ").push(&prev);
    sql.push(" WHERE a.b >= ").bind(first).push(" GROUP BY ALL UNION ALL ");
    // Dormant in bucket n: active in the bucket before n, not in n.
    let next = next_bucket("a.b", iv);
    sql.push("SELECT ").push(&next).push(" AS b, 'dormant' AS status, count(*) AS n FROM act a ");
    sql.push("LEFT JOIN act x ON x.person_id = a.person_id AND x.b = ").push(&next);
    sql.push(" WHERE x.person_id IS NULL AND ").push(&next).push(" BETWEEN ").bind(first);
    sql.push(" AND ").bind(buckets[buckets.len() - 1]).push(" GROUP BY ALL");
    let mut counts: HashMap<(i64, String), i64> = HashMap::new();
    for batch in runner.fetch(sql).await? {
        let (b, status, n) = (rows::i64s(&batch, "b")?, rows::strs(&batch, "status")?, rows::i64s(&batch, "n")?);
        for i in 0..batch.num_rows() {
            counts.insert((b.value(i), status.value(i).to_string()), n.value(i));
        }
    }
    Ok(shape(&buckets, iv, &counts, tf.describe()))
}

/// The answer from `(bucket, status) -> persons`.
pub fn shape(buckets: &[i64], iv: Interval, counts: &HashMap<(i64, String), i64>, range: Value) -> Value {
    let get = |b: i64, s: &str| counts.get(&(b, s.to_string())).copied().unwrap_or(0);
    let mut out = serde_json::Map::new();
    for (status, sign) in [("new", 1), ("returning", 1), ("resurrecting", 1), ("dormant", -1)] {
        out.insert(status.into(), json!(buckets.iter().map(|&b| sign * get(b, status)).collect::<Vec<_>>()));
    }
    json!({
        "kind": "lifecycle",
        "interval": iv,
        "date_range": range,
        "buckets": buckets.iter().map(|b| time::label(*b, iv)).collect::<Vec<_>>(),
        "series": out,
    })
}
