//! Stickiness: how many persons were active on exactly 1, 2, ... N of the
//! range's days (or weeks), per series. A sticky feature has mass on the
//! right.

use crate::engine::{Context, Runner, TimeFrame};
use crate::error::{Result, invalid};
use crate::model::StickinessQuery;
use crate::rows;
use crate::sql::{Sql, bucket_expr, local_micros};
use crate::time;
use crate::trend::{from_events, series_where};
use serde_json::{Value, json};

pub async fn run(runner: &Runner<'_>, ctx: &Context, q: &StickinessQuery) -> Result<Value> {
    let tf = TimeFrame::new(&q.common, ctx, "-7d")?;
    let buckets = time::buckets(&tf.span, &tf.offsets, q.interval, q.common.week_start);
    if buckets.len() > 1000 {
        return Err(invalid("date_range", format!("{} periods, more than 1000", buckets.len())));
    }
    let bucket = bucket_expr(&local_micros(&tf.offsets, "e.timestamp"), q.interval, q.common.week_start);
    let mut series = Vec::new();
    for (i, s) in q.series.iter().enumerate() {
        let mut sql = Sql::new();
        sql.push("SELECT k, count(*) AS persons FROM (SELECT e.person_id, count(DISTINCT ").push(&bucket);
        sql.push(") AS k ").append(from_events(s.filters.iter().chain(q.common.filters.iter()), None));
        sql.append(series_where(&tf, s.event.as_deref(), &s.filters, &q.common.filters));
        sql.push(" GROUP BY e.person_id) GROUP BY k");
        let mut data = vec![0i64; buckets.len()];
        for batch in runner.fetch(sql).await? {
            let (k, n) = (rows::i64s(&batch, "k")?, rows::i64s(&batch, "persons")?);
            for r in 0..batch.num_rows() {
                if let Some(slot) = usize::try_from(k.value(r) - 1).ok().and_then(|j| data.get_mut(j)) {
                    *slot = n.value(r);
                }
            }
        }
        series.push(json!({
            "index": i,
            "name": s.name.clone().or_else(|| s.event.clone()).unwrap_or_else(|| "all events".into()),
            "data": data,
            "total": data.iter().sum::<i64>(),
        }));
    }
    Ok(json!({
        "kind": "stickiness",
        "interval": q.interval,
        "date_range": tf.describe(),
        "days": (1..=buckets.len()).collect::<Vec<_>>(),
        "series": series,
    }))
}
