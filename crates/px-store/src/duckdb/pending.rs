//! Person changes of the open transaction, written once when it commits
//! (or before a merge reads the persons) instead of once per append.
//!
//! Why: each write is three appender flushes and five statements, and
//! DuckDB parses, binds and plans every one of them; for the few dozen
//! person changes of a 10,000-event append, that planning cost about as
//! much as appending the events. Nothing reads these tables inside the
//! open transaction except the merges, which write the pending changes
//! first; a failed transaction drops them with everything else.

use super::schema;
use crate::Result;
use crate::persons::{PersonDelta, PersonPlan};
use duckdb::{Connection, params};
use hashbrown::HashMap;
use px_core::{ProjectId, ProjectScope};
use uuid::Uuid;

#[derive(Default)]
pub struct PendingPersons {
    /// New person keys: `(scope, person, key)`.
    keys: Vec<(ProjectScope, Uuid, i64)>,
    /// One accumulated change per person.
    deltas: HashMap<(ProjectId, Uuid), PersonDelta>,
    /// Each distinct id's person after the latest append.
    distinct_ids: HashMap<(ProjectId, String), (ProjectScope, Uuid)>,
}

impl PendingPersons {
    /// Adds an append's new keys and person changes, combined with the
    /// earlier ones as one append of both would have planned them.
    pub fn absorb(&mut self, keys: &[(ProjectScope, Uuid, i64)], plan: &mut PersonPlan) {
        self.keys.extend_from_slice(keys);
        for d in plan.deltas.drain(..) {
            match self.deltas.entry((d.scope.project_id, d.person_id)) {
                hashbrown::hash_map::Entry::Vacant(v) => {
                    v.insert(d);
                }
                hashbrown::hash_map::Entry::Occupied(mut o) => {
                    let e = o.get_mut();
                    e.first_seen = e.first_seen.min(d.first_seen);
                    e.last_seen = e.last_seen.max(d.last_seen);
                    e.identified |= d.identified;
                    // `$set`: later events win; `$set_once`: earlier ones.
                    e.set.extend(d.set);
                    for (k, v) in d.set_once {
                        e.set_once.entry(k).or_insert(v);
                    }
                }
            }
        }
        for (scope, d, person) in plan.distinct_ids.drain(..) {
            self.distinct_ids.insert((scope.project_id, d), (scope, person));
        }
    }

    /// Forgets everything (the transaction they belonged to is gone).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Writes the pending changes in the open transaction and forgets them.
    pub fn write(&mut self, conn: &Connection) -> Result<()> {
        let Self { keys, deltas, distinct_ids } = std::mem::take(self);
        if !keys.is_empty() {
            let batch = super::arrow::person_keys_batch(&keys)
                .map_err(|e| crate::StoreError::Internal(format!("arrow: {e}")))?;
            let mut app = conn.appender("person_keys")?;
            app.append_record_batch(batch)?;
            app.flush()?;
        }
        if deltas.is_empty() && distinct_ids.is_empty() {
            return Ok(());
        }
        {
            let mut app = conn.appender_to_catalog_and_db("person_stage", "temp", "main")?;
            for d in deltas.into_values() {
                let clear: serde_json::Map<_, _> = d.set.keys().map(|k| (k.clone(), serde_json::Value::Null)).collect();
                app.append_row(params![
                    d.scope.tenant_id.0,
                    d.scope.project_id.0,
                    d.person_id.to_string(),
                    serde_json::Value::Object(d.set).to_string(),
                    serde_json::Value::Object(d.set_once).to_string(),
                    serde_json::Value::Object(clear).to_string(),
                    d.identified,
                    d.first_seen,
                    d.last_seen,
                ])?;
            }
            app.flush()?;
        }
        {
            let mut app = conn.appender_to_catalog_and_db("distinct_id_stage", "temp", "main")?;
            for ((p, d), (scope, person)) in &distinct_ids {
                let merged = *person != px_core::event::person_id_for(*p, d);
                app.append_row(params![scope.tenant_id.0, scope.project_id.0, d, person.to_string(), merged])?;
            }
            app.flush()?;
        }
        for sql in schema::APPLY_PERSON_STAGE {
            conn.prepare_cached(sql)?.execute([])?;
        }
        Ok(())
    }
}
