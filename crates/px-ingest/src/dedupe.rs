//! Deduplication by `event_id` before storage, so a retried batch is never
//! counted twice, whatever the store's background merges do later.
//!
//! Memory is bounded: ids live in two generations of hash sets holding at
//! most `max_ids` 16-byte keys in all. The current generation becomes the
//! previous one when it is `window` old or full, and the previous one is
//! dropped. So an id is remembered for at least `window` (default one
//! hour) as long as fewer ids than a generation holds arrive within a
//! window; at higher sustained rates the guarantee shrinks to the time it
//! takes to receive that many, which [`Deduper::guaranteed_window_micros`]
//! reports (exported as a metric).
//!
//! A generation holds `max_ids / 2` ids rounded down to what its table
//! holds without doubling ([`generation_ids`]): a hash table's buckets are
//! a power of two, 7/8 of them usable, so 5M ids would take 2^23 buckets
//! (142 MiB) where 3.67M fit in 2^22 (71 MiB), and while a table doubles
//! the old and the new one are both alive. The default 10 million thus
//! keeps 2 x 3.67M ids in 142 MiB, 178 MiB at worst while the current
//! generation doubles; a full 5M a generation took 284 MiB, 355 at worst.
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

/// The ids one generation holds for a bound of `max_ids` in all: the most
/// a hash table of at most `max_ids / 2` ids holds before it doubles
/// (7/8 of a power of two buckets), and at least 3.
pub fn generation_ids(max_ids: usize) -> usize {
    let wanted_buckets = (max_ids / 2).saturating_mul(8) / 7;
    if wanted_buckets < 8 {
        return 3;
    }
    let buckets = 1usize << (usize::BITS - 1 - wanted_buckets.leading_zeros());
    buckets / 8 * 7
}

pub struct Deduper {
    window: Micros,
    /// Ids a generation holds: [`generation_ids`].
    generation: usize,
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
            generation: generation_ids(max_ids),
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
        if now - self.current_since >= self.window || self.current.len() >= self.generation {
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
        // 50 ids a generation round down to 7/8 of 32 buckets.
        assert_eq!(d.generation, 28);
        for k in 0..10_000u128 {
            d.insert(k, 0);
            assert!(d.len() <= 100);
            assert!(d.current.capacity() <= 28, "a generation outgrew its table: {}", d.current.capacity());
        }
        // The most recent generation's worth of ids is always remembered.
        assert!((10_000 - 28..10_000).all(|k| d.contains(k)));
    }

    #[test]
    fn generations_fill_their_table_without_doubling_it() {
        assert_eq!(generation_ids(10_000_000), 3_670_016);
        assert_eq!(generation_ids(2 * 3_670_016), 3_670_016);
        assert_eq!(generation_ids(2 * 3_670_016 - 2), 1_835_008);
        assert_eq!(generation_ids(1), 3);
        assert_eq!(generation_ids(usize::MAX), (1usize << (usize::BITS - 3)) / 8 * 7);
        let mut set = HashSet::new();
        for k in 0..generation_ids(10_000) as u128 {
            set.insert(k);
        }
        assert_eq!(set.capacity(), generation_ids(10_000), "the generation fills its table exactly");
    }
}
