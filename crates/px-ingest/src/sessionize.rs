//! Server-side sessions for events that arrive without a `session_id`
//! (server SDKs, imports, PostHog/Segment clients that do not send one).
//!
//! A session ends after `timeout` (default 30 minutes) without events from
//! the same distinct id. Session ids are derived from project, distinct id
//! and the session's first timestamp, so replaying the same events (after a
//! restart, or in a re-import) yields the same ids.
//!
//! State is one small entry per active distinct id. When it holds
//! `max_entries`, the least recently used half is dropped (users among them
//! who are still active get a new session id on their next event, a visible
//! but harmless split; idle ones would have started a new session anyway).

use hashbrown::HashMap;
use px_core::ProjectId;
use px_core::time::Micros;
use uuid::Uuid;

const SESSION_NAMESPACE: Uuid = Uuid::from_u128(0x4a0c_9e2b_77d1_4f3e_8b6a_1d2c_3e4f_5a6b);

#[derive(Debug, Clone, Copy)]
struct Session {
    id: Uuid,
    start: Micros,
    last: Micros,
    /// `clock` when last used: eviction follows arrival order, not client
    /// timestamps, so no client can evict others' sessions by sending a
    /// timestamp from the future.
    seen: u64,
}

pub struct Sessionizer {
    timeout: Micros,
    max_entries: usize,
    active: HashMap<u64, Session>,
    /// Counts assignments: a logical arrival clock.
    clock: u64,
}

impl Sessionizer {
    pub fn new(timeout: Micros, max_entries: usize) -> Self {
        Self { timeout, max_entries: max_entries.max(16), active: HashMap::new(), clock: 0 }
    }

    /// The session of an event at `ts`. Call in timestamp order per distinct
    /// id for best results; an event far older than the open session gets a
    /// session of its own without closing the open one.
    pub fn assign(&mut self, project: ProjectId, distinct_id: &str, ts: Micros) -> String {
        let key = Self::key(project, distinct_id);
        self.clock += 1;
        let clock = self.clock;
        if let Some(s) = self.active.get_mut(&key) {
            if ts <= s.last + self.timeout && ts >= s.start - self.timeout {
                s.last = s.last.max(ts);
                s.start = s.start.min(ts);
                s.seen = clock;
                return s.id.to_string();
            }
            if ts < s.start {
                // A late event (an offline queue flushing): its own session.
                return Self::session_id(project, distinct_id, ts).to_string();
            }
        }
        if self.active.len() >= self.max_entries {
            self.evict();
        }
        let id = Self::session_id(project, distinct_id, ts);
        self.active.insert(key, Session { id, start: ts, last: ts, seen: clock });
        id.to_string()
    }

    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    fn key(project: ProjectId, distinct_id: &str) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(&project.0.to_le_bytes());
        h.update(distinct_id.as_bytes());
        h.digest()
    }

    fn session_id(project: ProjectId, distinct_id: &str, start: Micros) -> Uuid {
        let mut name = Vec::with_capacity(distinct_id.len() + 16);
        name.extend_from_slice(&project.0.to_le_bytes());
        name.extend_from_slice(&start.to_le_bytes());
        name.extend_from_slice(distinct_id.as_bytes());
        Uuid::new_v5(&SESSION_NAMESPACE, &name)
    }

    /// Drops the least recently used half, so the next eviction is
    /// `max_entries / 2` insertions away (amortized O(1) per insertion).
    fn evict(&mut self) {
        let mut seen: Vec<u64> = self.active.values().map(|s| s.seen).collect();
        let mid = seen.len() / 2;
        let (_, cut, _) = seen.select_nth_unstable(mid);
        let cut = *cut;
        self.active.retain(|_, s| s.seen > cut);
        debug_assert!(self.active.len() < self.max_entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Micros = 60_000_000;
    const P: ProjectId = ProjectId(1);

    #[test]
    fn inactivity_of_thirty_minutes_starts_a_new_session() {
        let mut s = Sessionizer::new(30 * MIN, 1000);
        let a = s.assign(P, "u", 0);
        assert_eq!(s.assign(P, "u", 29 * MIN), a);
        assert_eq!(s.assign(P, "u", 59 * MIN), a, "30 minutes after the last event is still the same session");
        let b = s.assign(P, "u", 90 * MIN);
        assert_ne!(a, b);
    }

    #[test]
    fn users_and_projects_do_not_share_sessions() {
        let mut s = Sessionizer::new(30 * MIN, 1000);
        let a = s.assign(P, "u", 0);
        assert_ne!(s.assign(P, "v", 0), a);
        assert_ne!(s.assign(ProjectId(2), "u", 0), a);
    }

    #[test]
    fn ids_are_deterministic_across_restarts() {
        let mut s1 = Sessionizer::new(30 * MIN, 1000);
        let mut s2 = Sessionizer::new(30 * MIN, 1000);
        assert_eq!(s1.assign(P, "u", 5), s2.assign(P, "u", 5));
    }

    #[test]
    fn a_late_event_does_not_split_the_open_session() {
        let mut s = Sessionizer::new(30 * MIN, 1000);
        let open = s.assign(P, "u", 600 * MIN);
        let late = s.assign(P, "u", 60 * MIN);
        assert_ne!(late, open);
        assert_eq!(s.assign(P, "u", 620 * MIN), open);
    }

    #[test]
    fn state_is_bounded() {
        let mut s = Sessionizer::new(30 * MIN, 100);
        for i in 0..10_000 {
            s.assign(P, &format!("u{i}"), i * 1000);
            assert!(s.len() <= 100);
        }
    }
}
