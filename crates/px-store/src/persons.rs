//! The person graph: which person each distinct id belongs to, and what a
//! batch of events changes about persons. Backend-agnostic: it plans the
//! changes; each event store applies the plan inside its append transaction
//! and calls [`PersonGraph::commit`] only once that transaction committed,
//! so a failed write leaves the graph as it was.
//!
//! A distinct id's person is `person_id_for(project, distinct_id)` until an
//! identify or alias merges it elsewhere; only those merged ids are kept in
//! memory (one entry per merged id), so resolving costs one hash lookup and
//! never a store round trip.
//!
//! Merge rules follow PostHog: `identify(user, anon)` and `alias(user,
//! other)` move `anon`/`other` (and every id already merged into its person)
//! to `user`'s person, unless `anon` was already merged into some person
//! (an id joins one person once, so a shared device cannot chain-merge
//! users) or, for identify, `anon`'s person is itself an identified user.

use crate::event_store::ScopedEvent;
use hashbrown::{HashMap, HashSet};
use px_core::event::{PersonLink, person_id_for};
use px_core::time::Micros;
use px_core::{ProjectId, ProjectScope};
use serde_json::{Map, Value};
use uuid::Uuid;

type Key = (ProjectId, String);

/// A borrowed [`Key`] for lookups, so resolving a distinct id on the ingest
/// path allocates nothing. Hashes exactly as the owned tuple does (field by
/// field, and `&str` hashes as `String`).
#[derive(Hash)]
struct KeyRef<'a>(ProjectId, &'a str);

impl hashbrown::Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// Accumulated changes to one person in a batch: only persons whose
/// properties or identity the batch changes have one.
#[derive(Debug, Clone)]
pub struct PersonDelta {
    pub scope: ProjectScope,
    pub person_id: Uuid,
    pub first_seen: Micros,
    pub last_seen: Micros,
    /// `$set` values, later events winning.
    pub set: Map<String, Value>,
    /// `$set_once` values, earlier events winning.
    pub set_once: Map<String, Value>,
    pub identified: bool,
}

/// `from`'s ids and properties move into `into`; `from` disappears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonMerge {
    pub scope: ProjectScope,
    pub from: Uuid,
    pub into: Uuid,
    /// The id the identify or alias named, which may have no row yet.
    pub distinct_id: String,
}

/// Everything a batch changes about persons, in application order: deltas
/// first, then merges.
#[derive(Debug, Default)]
pub struct PersonPlan {
    pub deltas: Vec<PersonDelta>,
    pub merges: Vec<PersonMerge>,
    /// Every distinct id of the batch with its person after the batch.
    pub distinct_ids: Vec<(ProjectScope, String, Uuid)>,
    new_overrides: Vec<(Key, Uuid)>,
    new_identified: Vec<(ProjectId, Uuid)>,
}

#[derive(Debug, Default)]
pub struct PersonGraph {
    overrides: HashMap<Key, Uuid>,
    /// Persons some identify named as the known user: an identify never
    /// merges such a person away (an anonymous id can be claimed, a user
    /// cannot), as PostHog does. One entry per identified person.
    identified: HashSet<(ProjectId, Uuid)>,
    /// Reverse of `overrides`: the merged ids pointing at each person.
    members: HashMap<(ProjectId, Uuid), Vec<String>>,
}

impl PersonGraph {
    /// Builds the graph from stored `(project, distinct_id, person_id)` rows;
    /// rows where the person is the id's own are skipped.
    pub fn load(
        rows: impl IntoIterator<Item = (ProjectId, String, Uuid)>,
        identified: impl IntoIterator<Item = (ProjectId, Uuid)>,
    ) -> Self {
        let mut g = Self { identified: identified.into_iter().collect(), ..Self::default() };
        for (p, d, person) in rows {
            if person != person_id_for(p, &d) {
                g.members.entry((p, person)).or_default().push(d.clone());
                g.overrides.insert((p, d), person);
            }
        }
        g
    }

    /// Number of merged distinct ids held in memory.
    pub fn len(&self) -> usize {
        self.overrides.len()
    }

    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }

    /// The current person of a distinct id.
    pub fn resolve(&self, project: ProjectId, distinct_id: &str) -> Uuid {
        self.overrides
            .get(&KeyRef(project, distinct_id))
            .copied()
            .unwrap_or_else(|| person_id_for(project, distinct_id))
    }

    /// Sets each event's `person_id` to its resolved person and plans the
    /// person changes. Does not change the graph: see [`Self::commit`].
    pub fn plan(&self, events: &mut [ScopedEvent]) -> PersonPlan {
        let mut overlay: HashMap<Key, Uuid> = HashMap::new();
        let mut overlay_members: HashMap<(ProjectId, Uuid), Vec<String>> = HashMap::new();
        let mut deltas: HashMap<(ProjectId, Uuid), PersonDelta> = HashMap::new();
        let mut plan = PersonPlan::default();
        let mut seen: HashMap<Key, ProjectScope> = HashMap::new();

        let resolve = |overlay: &HashMap<Key, Uuid>, p: ProjectId, d: &str| -> (Uuid, bool) {
            let key = KeyRef(p, d);
            match overlay.get(&key).or_else(|| self.overrides.get(&key)) {
                Some(person) => (*person, true),
                None => (person_id_for(p, d), false),
            }
        };

        for se in events.iter_mut() {
            let p = se.scope.project_id;
            let e = &mut se.event;
            let (person, _) = resolve(&overlay, p, &e.distinct_id);

            if let Some(link) = &e.link {
                let other = match link {
                    PersonLink::Identify { anonymous_id } => anonymous_id,
                    PersonLink::Alias { alias } => alias,
                };
                let (from, other_merged) = resolve(&overlay, p, other);
                let is_identify = matches!(link, PersonLink::Identify { .. });
                let from_identified = self.identified.contains(&(p, from)) || plan.new_identified.contains(&(p, from));
                if from != person && !other_merged && !(is_identify && from_identified) {
                    // Every id that pointed at `from` now points at `person`.
                    let mut moved: Vec<String> = self.members.get(&(p, from)).cloned().unwrap_or_default();
                    moved.extend(overlay_members.remove(&(p, from)).unwrap_or_default());
                    moved.push(other.clone());
                    seen.entry((p, other.clone())).or_insert(se.scope);
                    for d in moved {
                        overlay.insert((p, d.clone()), person);
                        plan.new_overrides.push(((p, d.clone()), person));
                        overlay_members.entry((p, person)).or_default().push(d);
                    }
                    plan.merges.push(PersonMerge { scope: se.scope, from, into: person, distinct_id: other.clone() });
                }
            }

            if matches!(e.link, Some(PersonLink::Identify { .. })) && !self.identified.contains(&(p, person)) {
                plan.new_identified.push((p, person));
            }
            e.person_id = person;
            // Most events change nothing about their person: they get no
            // delta, and the store does no person work for them. Activity
            // (first and last seen) is read from the events themselves.
            if e.person_set.is_none() && e.person_set_once.is_none() && e.link.is_none() {
                continue;
            }
            let d = deltas.entry((p, person)).or_insert_with(|| PersonDelta {
                scope: se.scope,
                person_id: person,
                first_seen: e.timestamp,
                last_seen: e.timestamp,
                set: Map::new(),
                set_once: Map::new(),
                identified: false,
            });
            d.first_seen = d.first_seen.min(e.timestamp);
            d.last_seen = d.last_seen.max(e.timestamp);
            d.identified |= matches!(e.link, Some(PersonLink::Identify { .. }))
                || e.event == px_core::props::EVENT_IDENTIFY
                || e.event == "$identify";
            if let Some(set) = &e.person_set {
                d.set.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            if let Some(once) = &e.person_set_once {
                for (k, v) in once {
                    d.set_once.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            seen.entry((p, e.distinct_id.clone())).or_insert(se.scope);
        }
        plan.distinct_ids = seen
            .into_iter()
            .map(|((p, d), scope)| {
                let (person, _) = resolve(&overlay, p, &d);
                (scope, d, person)
            })
            .collect();
        plan.deltas = deltas.into_values().collect();
        plan
    }

    /// Applies a plan whose changes the store has committed.
    pub fn commit(&mut self, plan: PersonPlan) {
        self.identified.extend(plan.new_identified);
        for ((p, d), person) in plan.new_overrides {
            if let Some(old) = self.overrides.insert((p, d.clone()), person)
                && let Some(list) = self.members.get_mut(&(p, old))
            {
                list.retain(|x| x != &d);
            }
            self.members.entry((p, person)).or_default().push(d);
        }
        self.members.retain(|_, v| !v.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use px_core::TenantId;

    const S: ProjectScope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };

    fn ev(distinct: &str, link: Option<PersonLink>, ts: Micros) -> ScopedEvent {
        let name = if link.is_some() { "identify" } else { "x" };
        crate::event_store::test_event(S, name, distinct, link, ts)
    }

    fn identify(user: &str, anon: &str) -> ScopedEvent {
        ev(user, Some(PersonLink::Identify { anonymous_id: anon.into() }), 10)
    }

    #[test]
    fn identify_moves_the_anonymous_id_and_later_events_follow() {
        let mut g = PersonGraph::default();
        let mut batch = vec![ev("anon", None, 1), identify("user", "anon"), ev("anon", None, 20)];
        let plan = g.plan(&mut batch);
        let user = person_id_for(S.project_id, "user");
        assert_eq!(batch[0].event.person_id, person_id_for(S.project_id, "anon"));
        assert_eq!(batch[2].event.person_id, user, "events after the merge resolve in the same batch");
        assert_eq!(
            plan.merges,
            vec![PersonMerge {
                scope: S,
                from: person_id_for(S.project_id, "anon"),
                into: user,
                distinct_id: "anon".into()
            }]
        );
        g.commit(plan);
        assert_eq!(g.resolve(S.project_id, "anon"), user);
    }

    #[test]
    fn an_id_merges_once() {
        let mut g = PersonGraph::default();
        let plan = g.plan(&mut [identify("alice", "device")]);
        g.commit(plan);
        let plan = g.plan(&mut [identify("bob", "device")]);
        assert!(plan.merges.is_empty());
        g.commit(plan);
        assert_eq!(g.resolve(S.project_id, "device"), person_id_for(S.project_id, "alice"));
    }

    #[test]
    fn identify_never_merges_an_identified_user_away() {
        let mut g = PersonGraph::default();
        let plan = g.plan(&mut [identify("alice", "anon-a")]);
        g.commit(plan);
        // "bob" claims alice's own id as if it were anonymous: refused.
        let plan = g.plan(&mut [identify("bob", "alice")]);
        assert!(plan.merges.is_empty());
        g.commit(plan);
        assert_eq!(g.resolve(S.project_id, "alice"), person_id_for(S.project_id, "alice"));
        assert_eq!(g.resolve(S.project_id, "anon-a"), person_id_for(S.project_id, "alice"));
    }

    #[test]
    fn merging_a_person_brings_its_merged_ids() {
        let mut g = PersonGraph::default();
        let plan = g.plan(&mut [ev("a2", Some(PersonLink::Alias { alias: "a1".into() }), 1)]);
        g.commit(plan);
        let plan = g.plan(&mut [identify("user", "a2")]);
        g.commit(plan);
        let user = person_id_for(S.project_id, "user");
        assert_eq!(g.resolve(S.project_id, "a1"), user);
        assert_eq!(g.resolve(S.project_id, "a2"), user);
        let reloaded =
            PersonGraph::load([(S.project_id, "a1".to_string(), user), (S.project_id, "user".into(), user)], []);
        assert_eq!(reloaded.len(), 1);
        assert_eq!(reloaded.resolve(S.project_id, "a1"), user);
    }

    #[test]
    fn set_later_wins_and_set_once_earlier_wins() {
        let g = PersonGraph::default();
        let mut a = ev("u", None, 1);
        a.event.person_set = Some(serde_json::json!({"plan": "free"}).as_object().unwrap().clone());
        a.event.person_set_once = Some(serde_json::json!({"src": "ads"}).as_object().unwrap().clone());
        let mut b = ev("u", None, 2);
        b.event.person_set = Some(serde_json::json!({"plan": "pro"}).as_object().unwrap().clone());
        b.event.person_set_once = Some(serde_json::json!({"src": "seo"}).as_object().unwrap().clone());
        let plan = g.plan(&mut [a, b]);
        assert_eq!(plan.deltas.len(), 1);
        assert_eq!(plan.deltas[0].set["plan"], "pro");
        assert_eq!(plan.deltas[0].set_once["src"], "ads");
        assert_eq!((plan.deltas[0].first_seen, plan.deltas[0].last_seen), (1, 2));
    }
}
