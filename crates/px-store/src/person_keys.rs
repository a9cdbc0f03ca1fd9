//! Dense person keys: each person of a project gets a small integer, 1, 2,
//! 3, ... in the order the store first sees them, stored with every event
//! next to the person's UUID (as Amplitude's `amplitude_id`).
//!
//! Why: analytics group events by person, and a person UUID is 16 random
//! bytes that compress to nothing. A dense key compresses to a few bits, is
//! handed to Rust as a plain integer (a UUID crosses DuckDB's Arrow export
//! as a 36-character string), and lets a query place each row straight into
//! its person's slot of an array instead of hashing. On 100M events the
//! 20-step funnel's rows reach Rust in under a second this way where the
//! SQL grouping alone took three.
//!
//! The writer is the only one assigning keys, so it holds every person's
//! key in memory (about 40 bytes a person) and a new person costs a map
//! insert, never a store round trip. A merged person's events take the
//! key of the person they merge into, through `person_overrides` exactly
//! as their `person_id` does.

use crate::event_store::ScopedEvent;
use hashbrown::HashMap;
use px_core::{ProjectId, ProjectScope};
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct PersonKeys {
    keys: HashMap<(ProjectId, Uuid), i64>,
    /// Each project's highest key.
    last: HashMap<ProjectId, i64>,
}

/// The keys a batch needs that are not assigned yet. Applied with
/// [`PersonKeys::commit`] once the batch is stored, like the person plan.
#[derive(Debug, Default)]
pub struct NewKeys {
    pub rows: Vec<(ProjectScope, Uuid, i64)>,
    last: HashMap<ProjectId, i64>,
}

impl PersonKeys {
    /// Builds the map from the stored `(project, person, key)` rows.
    pub fn load(rows: impl IntoIterator<Item = (ProjectId, Uuid, i64)>) -> Self {
        let mut k = Self::default();
        for (p, person, key) in rows {
            k.keys.insert((p, person), key);
            let last = k.last.entry(p).or_insert(0);
            *last = (*last).max(key);
        }
        k
    }

    /// Number of persons with a key.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of each of `persons` (in order), assigning new ones in
    /// `new`. Persons already in `new` keep the key planned there.
    pub fn plan(&self, persons: impl IntoIterator<Item = (ProjectScope, Uuid)>, new: &mut NewKeys) -> Vec<i64> {
        let mut planned: HashMap<(ProjectId, Uuid), i64> =
            new.rows.iter().map(|(s, person, key)| ((s.project_id, *person), *key)).collect();
        persons
            .into_iter()
            .map(|(scope, person)| {
                let id = (scope.project_id, person);
                if let Some(key) = self.keys.get(&id).or_else(|| planned.get(&id)) {
                    return *key;
                }
                let last = new
                    .last
                    .entry(scope.project_id)
                    .or_insert_with(|| self.last.get(&scope.project_id).copied().unwrap_or(0));
                *last += 1;
                planned.insert(id, *last);
                new.rows.push((scope, person, *last));
                *last
            })
            .collect()
    }

    /// The key of each event's person (set by the person graph's plan).
    pub fn plan_events(&self, events: &[ScopedEvent], new: &mut NewKeys) -> Vec<i64> {
        self.plan(events.iter().map(|e| (e.scope, e.event.person_id)), new)
    }

    /// Records keys planned for a batch that is now stored.
    pub fn commit(&mut self, new: NewKeys) {
        for (scope, person, key) in new.rows {
            self.keys.insert((scope.project_id, person), key);
        }
        self.last.extend(new.last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use px_core::TenantId;

    const A: ProjectScope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };
    const B: ProjectScope = ProjectScope { tenant_id: TenantId(2), project_id: ProjectId(2) };

    #[test]
    fn keys_are_dense_per_project_and_stable() {
        let (x, y, z) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let mut keys = PersonKeys::load([(A.project_id, x, 1)]);
        let mut new = NewKeys::default();
        assert_eq!(keys.plan([(A, x), (A, y), (B, z), (A, y), (B, x)], &mut new), [1, 2, 1, 2, 2]);
        // A second plan before the commit keeps the keys planned so far.
        assert_eq!(keys.plan([(A, y), (A, z)], &mut new), [2, 3]);
        // Nothing is assigned until the batch is stored.
        assert_eq!(keys.plan([(A, z)], &mut NewKeys::default()), [2]);
        keys.commit(new);
        assert_eq!(keys.len(), 5);
        assert_eq!(keys.plan([(A, z), (B, y), (A, Uuid::from_u128(9))], &mut NewKeys::default()), [3, 3, 4]);
    }
}
