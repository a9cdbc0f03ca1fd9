//! Read paths of the DuckDB event store. Every query filters on tenant and
//! project first and takes user input only as parameters.

use super::capi::RawConnection;
use crate::event_store::{Cursor, EventPage, EventQuery, EventRecord, PersonRecord, SqlParam};
use crate::{Result, StoreError};
use duckdb::types::Value as DbValue;
use duckdb::{Connection, Row, params, params_from_iter};
use px_core::time::{Micros, to_rfc3339};
use px_core::{Enrichment, ProjectId, ProjectScope};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Hard cap on one page, whatever the caller asks.
pub const MAX_PAGE: usize = 1000;

const COLUMNS: &str = "e.event_id::VARCHAR, e.event, e.distinct_id, coalesce(o.person_id, e.person_id)::VARCHAR,
    e.session_id, epoch_us(e.timestamp), epoch_us(e.received_at), e.properties,
    e.url, e.host, e.path, e.title, e.referrer, e.referrer_domain, e.utm_source, e.utm_medium,
    e.utm_campaign, e.utm_term, e.utm_content, e.browser, e.browser_version, e.os, e.os_version,
    e.device_type, e.country, e.city, e.ip, e.locale, e.screen_width, e.screen_height, e.lib,
    e.lib_version, e.timestamp_clamped";

/// Events with their current person: merges not yet written into the
/// events are resolved as in `{events}` (see `scoped_relations`).
const FROM: &str = "FROM events e LEFT JOIN person_overrides o
    ON o.project_id = e.project_id AND o.old_person_id = e.person_id";

/// Builds the WHERE clause and its parameters for `q` in `scope`.
fn filters(scope: ProjectScope, q: &EventQuery, with_cursor: bool) -> (String, Vec<DbValue>) {
    let mut sql = String::from("WHERE e.tenant_id = ? AND e.project_id = ?");
    let mut args = vec![DbValue::BigInt(scope.tenant_id.0), DbValue::BigInt(scope.project_id.0)];
    if let Some(ev) = &q.event {
        sql.push_str(" AND e.event = ?");
        args.push(DbValue::Text(ev.clone()));
    }
    if let Some(d) = &q.distinct_id {
        sql.push_str(" AND e.distinct_id = ?");
        args.push(DbValue::Text(d.clone()));
    }
    if let Some(p) = q.person_id {
        sql.push_str(" AND coalesce(o.person_id, e.person_id) = ?::UUID");
        args.push(DbValue::Text(p.to_string()));
    }
    if let Some(a) = q.after {
        sql.push_str(" AND e.timestamp >= make_timestamp(?)");
        args.push(DbValue::BigInt(a));
    }
    if let Some(b) = q.before {
        sql.push_str(" AND e.timestamp < make_timestamp(?)");
        args.push(DbValue::BigInt(b));
    }
    if let (true, Some(c)) = (with_cursor, q.cursor) {
        sql.push_str(
            " AND (e.timestamp < make_timestamp(?) OR (e.timestamp = make_timestamp(?) AND e.event_id < ?::UUID))",
        );
        args.extend([
            DbValue::BigInt(c.timestamp),
            DbValue::BigInt(c.timestamp),
            DbValue::Text(c.event_id.to_string()),
        ]);
    }
    (sql, args)
}

fn parse_uuid(s: &str) -> duckdb::Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| duckdb::Error::FromSqlConversionFailure(0, duckdb::types::Type::Text, Box::new(e)))
}

fn parse_props(s: &str) -> Map<String, Value> {
    serde_json::from_str(s).unwrap_or_default()
}

fn record(r: &Row<'_>) -> duckdb::Result<(EventRecord, Micros)> {
    let ts: i64 = r.get(5)?;
    let s = |i: usize| r.get::<_, Option<String>>(i);
    let dim = |i: usize| -> duckdb::Result<Option<u32>> {
        Ok(r.get::<_, Option<i32>>(i)?.and_then(|v| u32::try_from(v).ok()))
    };
    Ok((
        EventRecord {
            event_id: parse_uuid(&r.get::<_, String>(0)?)?,
            event: r.get(1)?,
            distinct_id: r.get(2)?,
            person_id: parse_uuid(&r.get::<_, String>(3)?)?,
            session_id: s(4)?,
            timestamp: to_rfc3339(ts),
            received_at: to_rfc3339(r.get(6)?),
            properties: parse_props(&r.get::<_, String>(7)?),
            enrichment: Enrichment {
                url: s(8)?,
                host: s(9)?,
                path: s(10)?,
                title: s(11)?,
                referrer: s(12)?,
                referrer_domain: s(13)?,
                utm_source: s(14)?,
                utm_medium: s(15)?,
                utm_campaign: s(16)?,
                utm_term: s(17)?,
                utm_content: s(18)?,
                browser: s(19)?,
                browser_version: s(20)?,
                os: s(21)?,
                os_version: s(22)?,
                device_type: s(23)?,
                country: s(24)?,
                city: s(25)?,
                ip: s(26)?,
                locale: s(27)?,
                screen_width: dim(28)?,
                screen_height: dim(29)?,
                lib: s(30)?,
                lib_version: s(31)?,
            },
            timestamp_clamped: r.get(32)?,
        },
        ts,
    ))
}

pub fn list_events(conn: &Connection, scope: ProjectScope, q: &EventQuery) -> Result<EventPage> {
    let limit = q.limit.clamp(1, MAX_PAGE);
    let (where_sql, mut args) = filters(scope, q, true);
    let sql = format!("SELECT {COLUMNS} {FROM} {where_sql} ORDER BY e.timestamp DESC, e.event_id DESC LIMIT ?");
    args.push(DbValue::BigInt(limit as i64 + 1));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows: Vec<(EventRecord, Micros)> =
        stmt.query_map(params_from_iter(args), record)?.collect::<duckdb::Result<_>>()?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(r, ts)| Cursor { timestamp: *ts, event_id: r.event_id }.encode())
    } else {
        None
    };
    let (count_where, count_args) = filters(scope, q, false);
    let total: i64 =
        conn.query_row(&format!("SELECT count(*) {FROM} {count_where}"), params_from_iter(count_args), |r| r.get(0))?;
    Ok(EventPage { events: rows.into_iter().map(|(r, _)| r).collect(), total: total as u64, next_cursor })
}

pub fn count_events(conn: &Connection, scope: ProjectScope) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM events WHERE tenant_id = ? AND project_id = ?",
        params![scope.tenant_id.0, scope.project_id.0],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// A person: the one `distinct_id` was merged into, else the id's own.
/// Properties come from the persons table (only persons with properties or
/// an identify have a row); activity comes from the events of all its ids.
pub fn person(conn: &Connection, scope: ProjectScope, distinct_id: &str) -> Result<Option<PersonRecord>> {
    let (t, p) = (scope.tenant_id.0, scope.project_id.0);
    let mapped: Option<String> = conn
        .query_row(
            "SELECT person_id::VARCHAR FROM person_distinct_ids WHERE tenant_id = ? AND project_id = ? AND distinct_id = ?",
            params![t, p, distinct_id],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| if matches!(e, duckdb::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })?;
    let person_id = match mapped {
        Some(s) => Uuid::parse_str(&s).map_err(|e| StoreError::Internal(e.to_string()))?,
        None => px_core::event::person_id_for(scope.project_id, distinct_id),
    };
    let pid = person_id.to_string();
    let mut stmt = conn.prepare(
        "SELECT distinct_id FROM person_distinct_ids WHERE tenant_id = ? AND project_id = ? AND person_id = ?::UUID",
    )?;
    let mut ids = stmt.query_map(params![t, p, pid], |r| r.get::<_, String>(0))?.collect::<duckdb::Result<Vec<_>>>()?;
    if !ids.iter().any(|d| d == distinct_id) {
        ids.push(distinct_id.to_string());
    }
    ids.sort();

    let row = conn.query_row(
        "SELECT properties, is_identified, epoch_us(first_seen), epoch_us(last_seen) FROM persons
         WHERE tenant_id = ? AND project_id = ? AND person_id = ?::UUID",
        params![t, p, pid],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)),
    );
    let stored = match row {
        Ok(v) => Some(v),
        Err(duckdb::Error::QueryReturnedNoRows) => None,
        Err(e) => return Err(e.into()),
    };
    let placeholders = vec!["?"; ids.len()].join(", ");
    let mut args = vec![DbValue::BigInt(t), DbValue::BigInt(p)];
    args.extend(ids.iter().map(|d| DbValue::Text(d.clone())));
    let (events, first, last): (i64, Option<i64>, Option<i64>) = conn.query_row(
        &format!(
            "SELECT count(*), epoch_us(min(timestamp)), epoch_us(max(timestamp)) FROM events
             WHERE tenant_id = ? AND project_id = ? AND distinct_id IN ({placeholders})"
        ),
        params_from_iter(args),
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (props, identified, first, last) = match (stored, first, last) {
        (None, _, _) if events == 0 => return Ok(None),
        (Some((props, identified, f, l)), first, last) => {
            (parse_props(&props), identified, first.unwrap_or(f).min(f), last.unwrap_or(l).max(l))
        }
        (None, first, last) => (Map::new(), false, first.unwrap_or_default(), last.unwrap_or_default()),
    };
    Ok(Some(PersonRecord {
        person_id,
        distinct_ids: ids,
        properties: props,
        is_identified: identified,
        first_seen: to_rfc3339(first),
        last_seen: to_rfc3339(last),
    }))
}

pub fn recent_event_ids(conn: &Connection, since: Micros, limit: usize) -> Result<Vec<(ProjectId, Uuid)>> {
    let mut stmt = conn.prepare(
        "SELECT project_id, event_id::VARCHAR FROM events WHERE received_at >= make_timestamp(?)
         ORDER BY received_at DESC LIMIT ?",
    )?;
    let rows = stmt
        .query_map(params![since, limit as i64], |r| Ok((ProjectId(r.get(0)?), parse_uuid(&r.get::<_, String>(1)?)?)))?
        .collect::<duckdb::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The spool position the store holds every event up to (0 when none).
pub fn spooled_through(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row("SELECT max(through) FROM px_spool", [], |r| r.get::<_, Option<u64>>(0))?.unwrap_or(0))
}

/// Stored `(project, distinct id, person)` rows, for loading the graph.
pub fn merged_distinct_ids(conn: &Connection) -> Result<Vec<(ProjectId, String, Uuid)>> {
    let mut stmt =
        conn.prepare("SELECT project_id, distinct_id, person_id::VARCHAR FROM person_distinct_ids WHERE merged")?;
    let rows = stmt
        .query_map([], |r| Ok((ProjectId(r.get(0)?), r.get::<_, String>(1)?, parse_uuid(&r.get::<_, String>(2)?)?)))?
        .collect::<duckdb::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Every person's key, for the writer's map. Through Arrow: a store of
/// millions of persons loads in a second instead of ten.
pub fn person_keys(conn: &Connection) -> Result<Vec<(ProjectId, Uuid, i64)>> {
    let mut stmt = conn.prepare("SELECT project_id, person_id::VARCHAR AS person_id, person_key FROM person_keys")?;
    let mut rows = Vec::new();
    for batch in stmt.query_arrow([])? {
        let col = |i: usize| batch.column(i).as_any();
        let (Some(project), Some(person), Some(key)) = (
            col(0).downcast_ref::<::arrow::array::Int64Array>(),
            col(1).downcast_ref::<::arrow::array::StringArray>(),
            col(2).downcast_ref::<::arrow::array::Int64Array>(),
        ) else {
            return Err(StoreError::Internal("person_keys: unexpected column types".into()));
        };
        for i in 0..batch.num_rows() {
            let id = Uuid::parse_str(person.value(i))
                .map_err(|e| StoreError::Internal(format!("person_keys: person id: {e}")))?;
            rows.push((ProjectId(project.value(i)), id, key.value(i)));
        }
    }
    Ok(rows)
}

/// Identified persons, for loading the graph.
pub fn identified_persons(conn: &Connection) -> Result<Vec<(ProjectId, Uuid)>> {
    let mut stmt = conn.prepare("SELECT project_id, person_id::VARCHAR FROM persons WHERE is_identified")?;
    let rows = stmt
        .query_map([], |r| Ok((ProjectId(r.get(0)?), parse_uuid(&r.get::<_, String>(1)?)?)))?
        .collect::<duckdb::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Replaces the relation placeholders of an analytics statement with the
/// project's rows. Tenant and project are typed integers, so writing them
/// into the text is safe; everything else stays a parameter.
fn scoped_relations(scope: ProjectScope, sql: &str) -> String {
    let (t, p) = (scope.tenant_id.0, scope.project_id.0);
    // Events carry the person they were stored with; a merge since then is
    // a row of `person_overrides` until the writer writes it into the
    // events. The table is small and usually empty, so this join costs
    // nothing most of the time (a join on every event's distinct id, as
    // before, cost 100 ms per query on 10M events).
    let events = format!(
        "(SELECT e.* REPLACE (coalesce(o.person_id, e.person_id) AS person_id, \
                               coalesce(o.person_key, e.person_key) AS person_key) FROM events e \
         LEFT JOIN (SELECT old_person_id, person_id, person_key FROM person_overrides \
                    WHERE tenant_id = {t} AND project_id = {p}) o ON o.old_person_id = e.person_id \
         WHERE e.tenant_id = {t} AND e.project_id = {p})"
    );
    // No merges to resolve: the table's rows as they are.
    let events_no_person =
        format!("(SELECT * EXCLUDE (person_id, person_key) FROM events WHERE tenant_id = {t} AND project_id = {p})");
    let persons = format!(
        "(SELECT person_id, properties, is_identified, first_seen, last_seen FROM persons \
         WHERE tenant_id = {t} AND project_id = {p})"
    );
    let ids = format!(
        "(SELECT distinct_id, person_id, merged FROM person_distinct_ids WHERE tenant_id = {t} AND project_id = {p})"
    );
    sql.replace("{events}", &events)
        .replace("{events_no_person}", &events_no_person)
        .replace("{persons}", &persons)
        .replace("{distinct_ids}", &ids)
}

/// Runs an analytics statement of `scope` through the C API, unprepared,
/// reading its answer in place (see `capi`).
pub fn query(
    conn: &mut RawConnection,
    scope: ProjectScope,
    sql: &str,
    params: &[SqlParam],
) -> Result<Vec<::arrow::record_batch::RecordBatch>> {
    conn.query_arrow(&scoped_relations(scope, sql), params)
}
