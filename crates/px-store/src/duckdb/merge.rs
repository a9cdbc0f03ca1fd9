//! A commit's person merges, applied with a fixed number of statements
//! however many merges there are. Each DuckDB statement costs about a
//! millisecond even when it touches one row, and a merge took seven, so a
//! commit of 6,000 events with 40 identifies spent longer on merges than
//! on appending the events.
//!
//! The result is the one of applying the merges one by one, in order:
//!
//! - **Persons.** `from`'s row goes into `into`'s: when `into` has no row,
//!   `from`'s row becomes it as it is; when both have one, `into`'s
//!   properties win over `from`'s (an RFC 7396 merge patch, as DuckDB's
//!   `json_merge_patch`), `into` becomes identified, and first and last
//!   seen widen; `from`'s row goes away. The involved rows are read once,
//!   folded in that order in memory, and written back.
//! - **Distinct ids and overrides** only need each source's final person:
//!   within a commit, a person merged into one that is merged in turn ends
//!   at the end of that chain (a merged person never comes back, so chains
//!   have no cycles).

use super::schema;
use crate::Result;
use crate::persons::PersonMerge;
use duckdb::{Connection, params};
use hashbrown::{HashMap, HashSet};
use px_core::ProjectId;
use serde_json::Value;
use uuid::Uuid;

/// A person row as merges change it.
struct Row {
    tenant_id: i64,
    properties: Value,
    identified: bool,
    first_seen: i64,
    last_seen: i64,
}

/// Applies `merges`, in order, inside the caller's transaction;
/// `target_keys` holds the person key of every merge's `into`.
pub fn apply(conn: &Connection, merges: &[PersonMerge], target_keys: &HashMap<(ProjectId, Uuid), i64>) -> Result<()> {
    if merges.is_empty() {
        return Ok(());
    }
    // Each source's final person: follow later merges of its target.
    let mut target: HashMap<(ProjectId, Uuid), Uuid> = HashMap::new();
    for m in merges {
        target.insert((m.scope.project_id, m.from), m.into);
    }
    // A chain is at most as long as the list; a longer walk means a cycle,
    // which the person graph never plans: refuse it rather than spin
    // while holding the writer.
    let last = |p: ProjectId, mut person: Uuid| -> Result<Uuid> {
        for _ in 0..=merges.len() {
            match target.get(&(p, person)) {
                Some(next) => person = *next,
                None => return Ok(person),
            }
        }
        Err(crate::StoreError::Internal(format!("person merges form a cycle through {person}")))
    };
    {
        let mut app = conn.appender_to_catalog_and_db("merge_stage", "temp", "main")?;
        for m in merges {
            let p = m.scope.project_id;
            let target = last(p, m.into)?;
            let key = target_keys
                .get(&(p, target))
                .copied()
                .ok_or_else(|| crate::StoreError::Internal(format!("merge target {target} has no person key")))?;
            app.append_row(params![
                m.scope.tenant_id.0,
                p.0,
                m.from.to_string(),
                target.to_string(),
                m.distinct_id,
                key
            ])?;
        }
        app.flush()?;
    }
    merge_person_rows(conn, merges)?;
    for sql in schema::APPLY_MERGE_STAGE {
        conn.prepare_cached(sql)?.execute([])?;
    }
    Ok(())
}

/// Reads the persons the merges involve, folds the merges over them in
/// order, and writes back what changed.
fn merge_person_rows(conn: &Connection, merges: &[PersonMerge]) -> Result<()> {
    let mut rows: HashMap<(ProjectId, Uuid), Row> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(schema::MERGED_PERSONS)?;
        let mut found = stmt.query([])?;
        while let Some(r) = found.next()? {
            let id: String = r.get(1)?;
            let person = Uuid::parse_str(&id).map_err(|e| crate::StoreError::Internal(format!("person id: {e}")))?;
            let properties: String = r.get(3)?;
            let properties = serde_json::from_str(&properties)
                .map_err(|e| crate::StoreError::Internal(format!("properties of person {id}: {e}")))?;
            rows.insert(
                (ProjectId(r.get(0)?), person),
                Row {
                    tenant_id: r.get(2)?,
                    properties,
                    identified: r.get(4)?,
                    first_seen: r.get(5)?,
                    last_seen: r.get(6)?,
                },
            );
        }
    }
    // Each row read, with its tenant (a deleted row's stage line needs it).
    let before: HashMap<(ProjectId, Uuid), i64> = rows.iter().map(|(k, r)| (*k, r.tenant_id)).collect();
    // Rows the fold changed: only those are written back.
    let mut changed: HashSet<(ProjectId, Uuid)> = HashSet::new();
    for m in merges {
        let p = m.scope.project_id;
        let Some(from) = rows.remove(&(p, m.from)) else { continue };
        changed.insert((p, m.into));
        match rows.get_mut(&(p, m.into)) {
            None => {
                rows.insert((p, m.into), from);
            }
            Some(into) => {
                let mut properties = from.properties;
                merge_patch(&mut properties, &into.properties);
                into.properties = properties;
                into.identified = true;
                into.first_seen = into.first_seen.min(from.first_seen);
                into.last_seen = into.last_seen.max(from.last_seen);
            }
        }
    }
    // 0: the row goes away, 1: it changes, 2: it is new (a renamed row).
    let mut app = conn.appender_to_catalog_and_db("merged_person_stage", "temp", "main")?;
    for (key, tenant) in &before {
        if !rows.contains_key(key) {
            app.append_row(params![tenant, key.0.0, key.1.to_string(), "", false, 0i64, 0i64, 0i8])?;
        }
    }
    for (key, row) in rows.iter().filter(|(key, _)| changed.contains(*key)) {
        let op: i8 = if before.contains_key(key) { 1 } else { 2 };
        app.append_row(params![
            row.tenant_id,
            key.0.0,
            key.1.to_string(),
            row.properties.to_string(),
            row.identified,
            row.first_seen,
            row.last_seen,
            op
        ])?;
    }
    app.flush()?;
    drop(app);
    for sql in schema::APPLY_MERGED_PERSONS {
        conn.prepare_cached(sql)?.execute([])?;
    }
    Ok(())
}

/// RFC 7396: `patch` applied to `target`; a null in `patch` removes the key.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // The RFC's own example.
        let mut target = json!({"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
                                "tags": ["example", "sample"], "content": "This will be unchanged"});
        let patch = json!({"title": "Hello!", "phoneNumber": "+01-123-456-7890",
                           "author": {"familyName": null}, "tags": ["example"]});
        merge_patch(&mut target, &patch);
        assert_eq!(
            target,
            json!({"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
                   "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"})
        );
        let mut scalar = json!({"a": 1});
        merge_patch(&mut scalar, &json!(3));
        assert_eq!(scalar, json!(3));
    }
}
