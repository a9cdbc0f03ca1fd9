//! Deduplication by `event_id` before storage, so a retried batch is never
//! counted twice, whatever the store's background merges do later.
//!
//! Memory is bounded: ids live in two generations of hash sets holding at
//! most `max_ids` 16-byte keys in all (about 40 bytes each with the table's
//! overhead, so the default 10 million is ~400 MiB at worst). The current
//! generation becomes the previous one when it is `window` old or holds
//! `max_ids / 2` ids, and the previous one is dropped. So an id is remembered
//! for at least `window` (default one hour) as long as fewer than
//! `max_ids / 2` events arrive within a window; at higher sustained rates the
//! guarantee shrinks to the time it takes to receive `max_ids / 2` events,
//! which [`Deduper::guaranteed_window_micros`] reports (exported as a metric).
//!
//! The caller inserts ids only after the store committed them: an id marked
//! seen before a failed write would make the client's retry look like a
//! duplicate and lose the event.

use hashbrown::HashSet;
use px_core::ProjectId;
use px_core::time::Micros;
use uuid::Uuid;

/// The dedupe key: project and event id hashed to 128 bits. Collisions need
/// ~2^64 ids, so none will happen.
pub fn dedupe_key(project: ProjectId, event_id: Uuid) -> u128 {
    let mut buf = [0u8; 24];
    buf[..8].copy_from_slice(&project.0.to_le_bytes());
    buf[8..].copy_from_slice(event_id.as_bytes());
    xxhash_rust::xxh3::xxh3_128(&buf)
}

pub struct Deduper {
    window: Micros,
    max_ids: usize,
    current: HashSet<u128>,
    previous: HashSet<u128>,
    current_since: Micros,
    /// When the previous generation started: ids younger than this are known.
    previous_since: Micros,
}

impl Deduper {
    pub fn new(window: Micros, max_ids: usize, now: Micros) -> Self {
        Self {
            window,
            max_ids: max_ids.max(2),
            current: HashSet::new(),
            previous: HashSet::new(),
            current_since: now,
            previous_since: now,
        }
    }

    pub fn contains(&self, key: u128) -> bool {
        self.current.contains(&key) || self.previous.contains(&key)
    }

    /// Remembers a stored id.
    pub fn insert(&mut self, key: u128, now: Micros) {
        if now - self.current_since >= self.window || self.current.len() >= self.max_ids / 2 {
            self.previous = std::mem::take(&mut self.current);
            self.previous_since = self.current_since;
            self.current_since = now;
        }
        self.current.insert(key);
    }

    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How far back ids are certainly remembered right now.
    pub fn guaranteed_window_micros(&self, now: Micros) -> Micros {
        (now - self.previous_since).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Micros = 60_000_000;

    #[test]
    fn keys_depend_on_project_and_id() {
        let id = Uuid::from_u128(7);
        assert_ne!(dedupe_key(ProjectId(1), id), dedupe_key(ProjectId(2), id));
        assert_eq!(dedupe_key(ProjectId(1), id), dedupe_key(ProjectId(1), id));
    }

    #[test]
    fn ids_are_remembered_for_the_whole_window() {
        let mut d = Deduper::new(60 * MIN, 1000, 0);
        d.insert(1, 0);
        for t in 1..=59 {
            d.insert(100 + t as u128, t * MIN);
        }
        // Rotation at 60 min keeps id 1 in the previous generation.
        d.insert(999, 60 * MIN);
        assert!(d.contains(1));
        assert!(d.guaranteed_window_micros(60 * MIN) >= 60 * MIN);
        // A second rotation drops it: it is now two windows old.
        d.insert(1000, 120 * MIN);
        assert!(!d.contains(1));
        assert!(d.contains(999));
    }

    #[test]
    fn memory_stays_bounded_under_load() {
        let mut d = Deduper::new(60 * MIN, 100, 0);
        for k in 0..10_000u128 {
            d.insert(k, 0);
            assert!(d.len() <= 100);
        }
        // The most recent max_ids / 2 ids are always remembered.
        assert!((9_950..10_000).all(|k| d.contains(k)));
    }
}
