//! Trends: one or more series counted per time bucket, optionally broken
//! down by a property (top N plus "other"), compared with the previous
//! period, and combined by a formula.
//!
//! Semantics: empty buckets are 0; a series' `total` is its math over the
//! whole range (unique persons are unique over the range, not a sum of
//! buckets); breakdown values are ranked by event count, then by value,
//! and the rest fold into one "other" series.

use crate::engine::{Context, Runner, TimeFrame};
use crate::error::Result;
use crate::filter;
use crate::formula::Formula;
use crate::model::{Filter, Interval, Math, Property, Series, TrendQuery, WeekStart};
use crate::rows;
use crate::sql::{Sql, bucket_expr, local_micros};
use crate::time;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const DEFAULT_BREAKDOWN_LIMIT: usize = 25;

/// One series' numbers: per bucket and over the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesData {
    pub data: Vec<f64>,
    pub total: f64,
}

/// A breakdown group's key: its value (None when unset) or "other".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GroupKey {
    pub is_other: bool,
    pub value: Option<String>,
}

/// What the store answers for one series: rows per (bucket or total, group).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesRows {
    /// Groups in rank order (the "other" group last).
    pub groups: Vec<GroupKey>,
    pub per_bucket: BTreeMap<(GroupKey, i64), f64>,
    pub totals: BTreeMap<GroupKey, f64>,
}

/// The SQL aggregate of a math over `x` (the numeric property).
pub(crate) fn math_sql(math: Math) -> &'static str {
    match math {
        Math::Total => "count(*)::DOUBLE",
        Math::UniquePersons => "count(DISTINCT person_id)::DOUBLE",
        Math::UniqueSessions => "count(DISTINCT session_uuid)::DOUBLE",
        Math::AvgPerPerson => "(count(*) / count(DISTINCT person_id))::DOUBLE",
        Math::Sum => "sum(x)",
        Math::Avg => "avg(x)",
        Math::Min => "min(x)",
        Math::Max => "max(x)",
        Math::Median => "quantile_cont(x, 0.5)",
        Math::P90 => "quantile_cont(x, 0.9)",
        Math::P95 => "quantile_cont(x, 0.95)",
        Math::P99 => "quantile_cont(x, 0.99)",
    }
}

/// `FROM {events} e` plus the persons join when a filter needs it.
pub(crate) fn from_events<'a>(filters: impl IntoIterator<Item = &'a Filter> + Clone, also: Option<&Property>) -> Sql {
    let mut s = Sql::new();
    s.push("FROM {events} e");
    let person_prop = also.is_some_and(|p| p.kind == crate::model::PropertyType::Person);
    if person_prop || filter::needs_persons(filters) {
        s.push(" LEFT JOIN {persons} pp ON pp.person_id = e.person_id");
    }
    s
}

/// The breakdown value of an event as text, in a column named `bd`
/// (null when the query has no breakdown).
pub(crate) fn breakdown_sql(breakdown: Option<&Property>) -> Sql {
    let mut s = Sql::new();
    match breakdown {
        Some(p) => {
            let (expr, _) = filter::property_sql(p);
            s.push("CAST(").append(expr).push(" AS VARCHAR) AS bd ");
        }
        None => {
            s.push("NULL::VARCHAR AS bd ");
        }
    }
    s
}

/// The WHERE clause of a series: time span, event name, its filters and
/// the query's.
pub(crate) fn series_where(tf: &TimeFrame, event: Option<&str>, filters: &[Filter], global: &[Filter]) -> Sql {
    let mut s = Sql::new();
    s.push(" WHERE ").append(tf.where_sql());
    if let Some(ev) = event {
        s.push(" AND e.event = ").bind(ev);
    }
    s.push(" AND ").append(filter::to_sql(filters));
    s.push(" AND ").append(filter::to_sql(global));
    s
}

fn series_sql(
    s: &Series,
    global: &[Filter],
    tf: &TimeFrame,
    interval: Interval,
    week_start: WeekStart,
    breakdown: Option<&Property>,
    limit: usize,
) -> Sql {
    let bucket = bucket_expr(&local_micros(&tf.offsets, "e.timestamp"), interval, week_start);
    let mut base = Sql::new();
    base.push("SELECT ").push(&bucket).push(" AS b, e.person_id, e.session_uuid, ");
    match &s.property {
        Some(p) => {
            let (expr, _) = filter::property_sql(p);
            base.push("TRY_CAST(").append(expr).push(" AS DOUBLE) AS x, ");
        }
        None => {
            base.push("NULL::DOUBLE AS x, ");
        }
    }
    base.append(breakdown_sql(breakdown));
    let all_filters = s.filters.iter().chain(global.iter());
    base.append(from_events(all_filters, breakdown));
    base.append(series_where(tf, s.event.as_deref(), &s.filters, global));

    let mut sql = Sql::new();
    sql.push("WITH base AS (").append(base).push("), ");
    sql.push("top AS (SELECT bd, count(*) AS c FROM base GROUP BY bd ORDER BY c DESC, bd ASC NULLS LAST LIMIT ");
    sql.bind(limit as i64).push(") ");
    sql.push("SELECT base.b, GROUPING(base.b) = 1 AS is_total, ");
    sql.push("CASE WHEN t.c IS NULL THEN NULL ELSE base.bd END AS bdv, t.c IS NULL AS is_other, ");
    sql.push(math_sql(s.math)).push(" AS v, count(*) AS n ");
    sql.push("FROM base LEFT JOIN top t ON base.bd IS NOT DISTINCT FROM t.bd ");
    sql.push("GROUP BY GROUPING SETS ((base.b, bdv, is_other), (bdv, is_other))");
    sql
}

/// Reads a series' answer into [`SeriesRows`]; groups are ranked by their
/// event count, then value (unset last), "other" last, as `top` ranks them.
fn read_series(batches: &[arrow::record_batch::RecordBatch]) -> Result<SeriesRows> {
    let mut out = SeriesRows::default();
    let mut counts = BTreeMap::new();
    for batch in batches {
        let (b, is_total, bdv, other, v, n) = (
            rows::i64s(batch, "b")?,
            rows::bools(batch, "is_total")?,
            rows::strs(batch, "bdv")?,
            rows::bools(batch, "is_other")?,
            rows::f64s(batch, "v")?,
            rows::i64s(batch, "n")?,
        );
        for i in 0..batch.num_rows() {
            let key = GroupKey { is_other: other.value(i), value: rows::opt_str(&bdv, i) };
            let value = rows::opt_f64(&v, i).unwrap_or(0.0);
            if is_total.value(i) {
                counts.insert(key.clone(), n.value(i));
                out.totals.insert(key, value);
            } else if let Some(bucket) = rows::opt_i64(&b, i) {
                out.per_bucket.insert((key, bucket), value);
            }
        }
    }
    out.groups = rank_groups(counts);
    Ok(out)
}

/// Groups by event count (descending), then value (unset last); "other" last.
pub fn rank_groups(counts: BTreeMap<GroupKey, i64>) -> Vec<GroupKey> {
    let mut groups: Vec<(GroupKey, i64)> = counts.into_iter().collect();
    groups.sort_by(|(a, ca), (b, cb)| {
        a.is_other.cmp(&b.is_other).then_with(|| cb.cmp(ca)).then_with(|| match (&a.value, &b.value) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
    });
    groups.into_iter().map(|(g, _)| g).collect()
}

/// Fills every bucket of the range (0 where the store had no row).
pub fn shape(rows: &SeriesRows, group: &GroupKey, buckets: &[i64]) -> SeriesData {
    SeriesData {
        data: buckets.iter().map(|b| rows.per_bucket.get(&(group.clone(), *b)).copied().unwrap_or(0.0)).collect(),
        total: rows.totals.get(group).copied().unwrap_or(0.0),
    }
}

pub async fn run(runner: &Runner<'_>, ctx: &Context, q: &TrendQuery) -> Result<Value> {
    let tf = TimeFrame::new(&q.common, ctx, "-7d")?;
    let buckets = time::buckets(&tf.span, &tf.offsets, q.interval, q.common.week_start);
    if buckets.len() > time::MAX_BUCKETS {
        return Err(crate::error::invalid(
            "interval",
            format!("{} buckets, more than {}: pick a longer interval", buckets.len(), time::MAX_BUCKETS),
        ));
    }
    let prev = q.compare.then(|| tf.with_span(tf.span.previous()));
    let limit = q.breakdown_limit.unwrap_or(DEFAULT_BREAKDOWN_LIMIT);
    let mut all_rows = Vec::new();
    let mut answer_series = Vec::new();
    for (i, s) in q.series.iter().enumerate() {
        let sql = series_sql(s, &q.common.filters, &tf, q.interval, q.common.week_start, q.breakdown.as_ref(), limit);
        let rows = read_series(&runner.fetch(sql).await?)?;
        let prev_rows = match &prev {
            Some(p) => {
                let sql =
                    series_sql(s, &q.common.filters, p, q.interval, q.common.week_start, q.breakdown.as_ref(), limit);
                let buckets = time::buckets(&p.span, &p.offsets, q.interval, q.common.week_start);
                Some((read_series(&runner.fetch(sql).await?)?, buckets))
            }
            None => None,
        };
        let groups = if rows.groups.is_empty() && q.breakdown.is_none() {
            vec![GroupKey { is_other: false, value: None }]
        } else {
            rows.groups.clone()
        };
        for g in &groups {
            let data = shape(&rows, g, &buckets);
            let mut entry = json!({
                "index": i,
                "name": s.name.clone().or_else(|| s.event.clone()).unwrap_or_else(|| "all events".into()),
                "event": s.event,
                "math": s.math,
                "data": data.data,
                "total": data.total,
            });
            if q.breakdown.is_some() {
                entry["breakdown_value"] = json!(g.value);
                entry["is_other"] = json!(g.is_other);
            }
            if let Some((prows, pbuckets)) = &prev_rows {
                let p = shape(prows, g, pbuckets);
                entry["compare"] = json!({
                    "buckets": pbuckets.iter().map(|b| time::label(*b, q.interval)).collect::<Vec<_>>(),
                    "data": p.data,
                    "total": p.total,
                });
            }
            answer_series.push(entry);
        }
        all_rows.push(rows);
    }
    let mut answer = json!({
        "kind": "trend",
        "interval": q.interval,
        "date_range": tf.describe(),
        "buckets": buckets.iter().map(|b| time::label(*b, q.interval)).collect::<Vec<_>>(),
        "series": answer_series,
    });
    if let Some(text) = &q.formula {
        let formula = Formula::parse(text, q.series.len()).map_err(|m| crate::error::invalid("formula", m))?;
        answer["formula"] = json!({ "expression": text, "series": apply_formula(&formula, &all_rows, &buckets) });
    }
    Ok(answer)
}

/// The formula per breakdown group (groups present in any series), per
/// bucket and over the totals.
pub fn apply_formula(f: &Formula, series: &[SeriesRows], buckets: &[i64]) -> Vec<Value> {
    let mut groups: Vec<GroupKey> = Vec::new();
    for s in series {
        for g in &s.groups {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
    }
    if groups.is_empty() {
        groups.push(GroupKey { is_other: false, value: None });
    }
    groups
        .iter()
        .map(|g| {
            let shaped: Vec<SeriesData> = series.iter().map(|s| shape(s, g, buckets)).collect();
            let data: Vec<f64> =
                (0..buckets.len()).map(|i| f.eval(&shaped.iter().map(|s| s.data[i]).collect::<Vec<_>>())).collect();
            let total = f.eval(&shaped.iter().map(|s| s.total).collect::<Vec<_>>());
            json!({ "breakdown_value": g.value, "is_other": g.is_other, "data": data, "total": total })
        })
        .collect()
}
