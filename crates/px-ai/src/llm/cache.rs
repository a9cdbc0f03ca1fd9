//! Answers already given, so the same insight with the same facts never
//! costs a second call: `px serve` runs a pass every minute and most
//! insights come back unchanged. Bounded by entry count (an answer is a
//! few KiB at most, see `answer`); the oldest entry goes first, and an
//! evicted answer costs one call to get back.

use super::answer::Advice;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

/// Entries kept: about 4 MiB of answers at most.
pub const CAPACITY: usize = 1024;

/// The insight's key and a hash of the facts sent about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    insight: String,
    facts: u64,
}

impl Key {
    pub fn new(insight: &str, facts: &str) -> Self {
        let mut h = DefaultHasher::new();
        facts.hash(&mut h);
        Self { insight: insight.to_string(), facts: h.finish() }
    }
}

#[derive(Debug)]
pub struct Cache {
    answers: HashMap<Key, Advice>,
    order: VecDeque<Key>,
    capacity: usize,
}

impl Cache {
    pub fn new(capacity: usize) -> Self {
        debug_assert!(capacity > 0);
        Self { answers: HashMap::new(), order: VecDeque::new(), capacity }
    }

    pub fn get(&self, key: &Key) -> Option<Advice> {
        self.answers.get(key).cloned()
    }

    pub fn insert(&mut self, key: Key, advice: Advice) {
        if self.answers.insert(key.clone(), advice).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.answers.remove(&old);
            }
        }
        debug_assert_eq!(self.order.len(), self.answers.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advice(h: &str) -> Advice {
        Advice { headline: h.into(), steps: vec!["s".into()], hypothesis: "h".into(), primary_metric: "m".into() }
    }

    #[test]
    fn keys_differ_by_insight_and_by_facts() {
        let mut c = Cache::new(8);
        c.insert(Key::new("a", "{\"x\":1}"), advice("one"));
        assert_eq!(c.get(&Key::new("a", "{\"x\":1}")).map(|a| a.headline), Some("one".into()));
        assert_eq!(c.get(&Key::new("a", "{\"x\":2}")), None);
        assert_eq!(c.get(&Key::new("b", "{\"x\":1}")), None);
    }

    #[test]
    fn the_oldest_entry_goes_past_the_capacity() {
        let mut c = Cache::new(2);
        for i in 0..3 {
            c.insert(Key::new(&i.to_string(), ""), advice(&i.to_string()));
        }
        c.insert(Key::new("2", ""), advice("again"));
        assert_eq!(c.get(&Key::new("0", "")), None);
        assert!(c.get(&Key::new("1", "")).is_some());
        assert_eq!(c.get(&Key::new("2", "")).map(|a| a.headline), Some("again".into()));
        assert_eq!(c.answers.len(), 2);
    }
}
