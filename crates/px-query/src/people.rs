//! People and sessions: person search by property, a person's timeline
//! across all their distinct ids, and sessions with their metrics.
//!
//! Session semantics: a session is the events sharing a `session_id`
//! (client-sent or assigned by the server after 30 minutes of inactivity);
//! its duration runs from its first to its last event; entry and exit pages
//! are the paths of its first and last page view (`page_view` or `$pageview`); it bounced when it had
//! at most one page view and lasted under 10 seconds.

use crate::engine::{Context, Runner, TimeFrame};
use crate::error::{Result, invalid};
use crate::filter;
use crate::model::{Filter, PersonsQuery, PropertyType, SessionsQuery, TimelineQuery};
use crate::rows;
use crate::sql::Sql;
use arrow::array::Array;
use px_store::{Cursor, EventQuery};
use serde_json::{Value, json};

/// Bounce threshold: a one-page session shorter than this bounced.
pub const BOUNCE_MICROS: i64 = 10 * px_core::time::MICROS_PER_SECOND;

/// Person queries read person properties: an untyped filter means one.
fn as_person_filters(filters: &[Filter]) -> Result<Vec<Filter>> {
    filters
        .iter()
        .map(|f| {
            Ok(match f {
                Filter::And { and } => Filter::And { and: as_person_filters(and)? },
                Filter::Or { or } => Filter::Or { or: as_person_filters(or)? },
                Filter::Property(p) => {
                    if p.kind == PropertyType::Column {
                        return Err(invalid("properties", format!("{:?}: persons have no columns", p.key)));
                    }
                    let mut p = p.clone();
                    p.kind = PropertyType::Person;
                    Filter::Property(p)
                }
            })
        })
        .collect()
}

pub async fn persons(runner: &Runner<'_>, q: &PersonsQuery) -> Result<Value> {
    let filters = as_person_filters(&q.properties)?;
    let mut where_sql = Sql::new();
    where_sql.append(filter::to_sql(&filters));
    if let Some(text) = &q.search {
        let pattern =
            format!("%{}%", text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        where_sql.push(" AND (lower(pp.properties) LIKE ").bind(pattern.clone()).push(" ESCAPE '\\' OR EXISTS ");
        where_sql
            .push("(SELECT 1 FROM {distinct_ids} s WHERE s.person_id = pp.person_id AND lower(s.distinct_id) LIKE ");
        where_sql.bind(pattern).push(" ESCAPE '\\'))");
    }
    let mut sql = Sql::new();
    sql.push("SELECT pp.person_id::VARCHAR AS person_id, pp.properties, pp.is_identified, ");
    sql.push("epoch_us(pp.first_seen) AS first_seen, epoch_us(pp.last_seen) AS last_seen, ");
    sql.push("(SELECT string_agg(d.distinct_id, chr(31) ORDER BY d.distinct_id) FROM {distinct_ids} d ");
    sql.push("WHERE d.person_id = pp.person_id) AS ids, count(*) OVER () AS total FROM {persons} pp WHERE ");
    sql.append(where_sql).push(" ORDER BY pp.last_seen DESC, pp.person_id LIMIT ").bind(q.limit as i64);
    sql.push(" OFFSET ").bind(q.offset as i64);
    let mut out = Vec::new();
    let mut total = 0;
    for batch in runner.fetch(sql).await? {
        let (id, props, ident, first, last, ids, tot) = (
            rows::strs(&batch, "person_id")?,
            rows::strs(&batch, "properties")?,
            rows::bools(&batch, "is_identified")?,
            rows::i64s(&batch, "first_seen")?,
            rows::i64s(&batch, "last_seen")?,
            rows::strs(&batch, "ids")?,
            rows::i64s(&batch, "total")?,
        );
        for i in 0..batch.num_rows() {
            total = tot.value(i);
            let ids: Vec<&str> = if ids.is_null(i) { Vec::new() } else { ids.value(i).split('\u{1f}').collect() };
            out.push(json!({
                "person_id": id.value(i),
                "distinct_ids": ids,
                "properties": serde_json::from_str::<Value>(props.value(i)).unwrap_or(Value::Null),
                "is_identified": ident.value(i),
                "first_seen": px_core::time::to_rfc3339(first.value(i)),
                "last_seen": px_core::time::to_rfc3339(last.value(i)),
            }));
        }
    }
    Ok(json!({ "kind": "persons", "persons": out, "total": total, "limit": q.limit, "offset": q.offset }))
}

pub async fn timeline(runner: &Runner<'_>, ctx: &Context, q: &TimelineQuery) -> Result<Value> {
    let tf = TimeFrame::new(&q.common, ctx, "all")?;
    let person = runner.store.person(runner.scope, &q.distinct_id).await?;
    let Some(person) = person else {
        return Ok(json!({ "kind": "timeline", "person": null, "events": [], "total": 0, "next_cursor": null }));
    };
    let cursor = match &q.cursor {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| invalid("cursor", "not a cursor from a previous page"))?),
        None => None,
    };
    let page = runner
        .store
        .list_events(
            runner.scope,
            EventQuery {
                person_id: Some(person.person_id),
                after: Some(tf.span.from),
                before: Some(tf.span.to),
                limit: q.limit,
                cursor,
                ..EventQuery::default()
            },
        )
        .await?;
    Ok(json!({
        "kind": "timeline",
        "person": person,
        "events": page.events,
        "total": page.total,
        "next_cursor": page.next_cursor,
    }))
}

pub async fn sessions(runner: &Runner<'_>, ctx: &Context, q: &SessionsQuery) -> Result<Value> {
    let tf = TimeFrame::new(&q.common, ctx, "-7d")?;
    let mut base = Sql::new();
    base.push("SELECT any_value(e.session_id) AS sid, any_value(e.person_id)::VARCHAR AS person_id, ");
    base.push("arg_min(e.distinct_id, e.timestamp) AS distinct_id, ");
    base.push("epoch_us(min(e.timestamp)) AS started, epoch_us(max(e.timestamp)) AS ended, count(*) AS events, ");
    let pv = crate::sql::is_page_view;
    base.push("count(*) FILTER (WHERE ").append(pv()).push(") AS pageviews, ");
    base.push("arg_min(e.path, (e.timestamp, e.event_id)) FILTER (WHERE ").append(pv()).push(") AS entry_path, ");
    base.push("arg_max(e.path, (e.timestamp, e.event_id)) FILTER (WHERE ").append(pv()).push(") AS exit_path ");
    base.append(crate::trend::from_events(q.common.filters.iter(), None));
    base.push(" WHERE ").append(tf.where_sql()).push(" AND e.session_uuid IS NOT NULL AND ");
    base.append(filter::to_sql(&q.common.filters));
    if let Some(d) = &q.distinct_id {
        let person = runner.store.person(runner.scope, d).await?;
        let pid = person.map(|p| p.person_id.to_string()).unwrap_or_default();
        base.push(" AND e.person_id::VARCHAR = ").bind(pid);
    }
    base.push(" GROUP BY e.session_uuid");
    // The summary covers every session of the range, the page only its
    // slice: `m LEFT JOIN page` answers the summary even past the last page.
    let bounced = |sql: &mut Sql, prefix: &str| {
        sql.push(&format!("({prefix}pageviews <= 1 AND {prefix}ended - {prefix}started < ")).bind(BOUNCE_MICROS);
        sql.push(")");
    };
    let mut sql = Sql::new();
    sql.push("WITH s AS (").append(base).push("), ");
    sql.push("m AS (SELECT count(*) AS total_sessions, avg(CASE WHEN ");
    bounced(&mut sql, "");
    sql.push(" THEN 1.0 ELSE 0.0 END) AS bounce_rate, avg(ended - started) AS avg_duration, ");
    sql.push("avg(pageviews) AS pages_per_session FROM s), ");
    sql.push("page AS (SELECT * FROM s ORDER BY started DESC, sid LIMIT ").bind(q.limit as i64);
    sql.push(" OFFSET ").bind(q.offset as i64).push(") ");
    sql.push("SELECT page.*, ");
    bounced(&mut sql, "page.");
    sql.push(" AS bounced, m.* FROM m LEFT JOIN page ON TRUE ORDER BY page.started DESC, page.sid");
    let mut out = Vec::new();
    let mut summary =
        json!({ "sessions": 0, "bounce_rate": 0.0, "avg_duration_seconds": 0.0, "pages_per_session": 0.0 });
    for batch in runner.fetch(sql).await? {
        let (sid, person, did, started, ended, events, pv, entry, exit, bounced) = (
            rows::strs(&batch, "sid")?,
            rows::strs(&batch, "person_id")?,
            rows::strs(&batch, "distinct_id")?,
            rows::i64s(&batch, "started")?,
            rows::i64s(&batch, "ended")?,
            rows::i64s(&batch, "events")?,
            rows::i64s(&batch, "pageviews")?,
            rows::strs(&batch, "entry_path")?,
            rows::strs(&batch, "exit_path")?,
            rows::bools(&batch, "bounced")?,
        );
        let (total, rate, dur, pps) = (
            rows::i64s(&batch, "total_sessions")?,
            rows::f64s(&batch, "bounce_rate")?,
            rows::f64s(&batch, "avg_duration")?,
            rows::f64s(&batch, "pages_per_session")?,
        );
        for i in 0..batch.num_rows() {
            summary = json!({
                "sessions": total.value(i),
                "bounce_rate": rows::opt_f64(&rate, i).unwrap_or(0.0),
                "avg_duration_seconds": rows::opt_f64(&dur, i).unwrap_or(0.0) / 1e6,
                "pages_per_session": rows::opt_f64(&pps, i).unwrap_or(0.0),
            });
            if sid.is_null(i) {
                continue;
            }
            out.push(json!({
                "session_id": sid.value(i),
                "person_id": person.value(i),
                "distinct_id": did.value(i),
                "started_at": px_core::time::to_rfc3339(started.value(i)),
                "ended_at": px_core::time::to_rfc3339(ended.value(i)),
                "duration_seconds": (ended.value(i) - started.value(i)) as f64 / 1e6,
                "events": events.value(i),
                "pageviews": pv.value(i),
                "entry_path": rows::opt_str(&entry, i),
                "exit_path": rows::opt_str(&exit, i),
                "bounced": bounced.value(i),
            }));
        }
    }
    Ok(json!({
        "kind": "sessions",
        "date_range": tf.describe(),
        "summary": summary,
        "sessions": out,
        "limit": q.limit,
        "offset": q.offset,
    }))
}
