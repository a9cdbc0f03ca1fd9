//! Visitors and their return visits. A [`Visitor`] is a compact record (24
//! bytes) of who someone is (device, place, first channel) and where they
//! are in the product's life cycle (anonymous, free user, paying user); its
//! ids are derived from the seed rather than stored. The [`ReturnQueue`]
//! holds visitors until the day they come back, which is what produces the
//! retention curve, and caps how many wait so memory stays bounded.

use crate::calendar::{self, Day};
use crate::catalog::Plan;
use crate::catalog::channels::{CHANNELS, DIRECT, NEWSLETTER};
use crate::catalog::devices::{AGENTS, Agent};
use crate::catalog::geo::{self, COUNTRIES, City, Country};
use crate::model::Model;
use crate::sample::{self, SimRng, Stream};
use std::collections::VecDeque;

/// Marks an absent city or a locale outside the country's list.
const NONE: u8 = u8::MAX;

/// One simulated person.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Visitor {
    /// Ordinal of the visitor among all new visitors; keys the anonymous id.
    pub number: u64,
    /// User number once signed up (`user_<n>`), 0 while anonymous.
    pub user: u32,
    pub visits: u32,
    agent: u8,
    screen: u8,
    country: u8,
    city: u8,
    locale: u8,
    /// First-touch channel, index into [`CHANNELS`].
    pub channel: u8,
    pub plan: Plan,
    pub google_signup: bool,
    /// Whether any of the visitor's events were sent: a user who signed up
    /// during the warm-up introduces themselves (plan, signup method) on
    /// their first visit in the run, as an app that identifies on load does.
    pub known: bool,
}

impl Visitor {
    /// A new visitor arriving on `day` with a freshly drawn profile.
    pub(crate) fn arrive(rng: &mut SimRng, number: u64, day: &Day) -> Visitor {
        let agent = sample::pick(rng, AGENTS, |a| a.share);
        let screen = sample::pick_pair(rng, AGENTS[agent].class.screens());
        let country = sample::pick(rng, COUNTRIES, |c| c.share);
        let c = &COUNTRIES[country];
        let city =
            if sample::chance(rng, geo::CITY_SHARE) { sample::pick(rng, c.cities, |c| c.share) as u8 } else { NONE };
        let locale = if sample::chance(rng, geo::FALLBACK_LOCALE_SHARE) {
            NONE
        } else {
            sample::pick_pair(rng, c.locales) as u8
        };
        let newsletter = day.newsletter_factor();
        let channel = sample::pick_index(rng, CHANNELS.len(), |i| {
            if i == NEWSLETTER { CHANNELS[i].share * newsletter } else { CHANNELS[i].share }
        });
        Visitor {
            number,
            user: 0,
            visits: 0,
            agent: agent as u8,
            screen: screen as u8,
            country: country as u8,
            city,
            locale,
            channel: channel as u8,
            plan: Plan::Free,
            google_signup: false,
            known: false,
        }
    }

    pub(crate) fn is_user(&self) -> bool {
        self.user != 0
    }

    pub(crate) fn agent(&self) -> &'static Agent {
        &AGENTS[usize::from(self.agent) % AGENTS.len()]
    }

    pub(crate) fn screen(&self) -> (u16, u16) {
        let screens = self.agent().class.screens();
        screens.get(usize::from(self.screen)).map_or((1920, 1080), |s| s.0)
    }

    pub(crate) fn country(&self) -> &'static Country {
        &COUNTRIES[usize::from(self.country) % COUNTRIES.len()]
    }

    /// The resolved city, if geo-IP found one.
    pub(crate) fn city(&self) -> Option<&'static City> {
        self.country().cities.get(usize::from(self.city))
    }

    /// The visitor's time zone: their city's, else the country's largest.
    pub(crate) fn zone(&self) -> &'static City {
        let cities = self.country().cities;
        // A country's first city is its largest; the tables are never empty.
        cities.get(usize::from(self.city)).unwrap_or(&cities[0])
    }

    pub(crate) fn locale(&self) -> &'static str {
        self.country().locales.get(usize::from(self.locale)).map_or(geo::FALLBACK_LOCALE, |l| l.0)
    }

    /// The anonymous distinct id the SDK generated on the first visit: a
    /// UUID derived from the seed and the visitor's ordinal.
    pub(crate) fn anonymous_id(&self, seed: u64) -> String {
        let hi = sample::key(seed, Stream::AnonymousId, self.number, 0);
        let lo = sample::key(seed, Stream::AnonymousId, self.number, 1);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&hi.to_le_bytes());
        bytes[8..].copy_from_slice(&lo.to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }

    /// `user_<n>` once signed up.
    pub(crate) fn user_id(&self) -> Option<String> {
        self.is_user().then(|| format!("user_{}", self.user))
    }

    /// The channel of a later visit: mostly typed in or bookmarked.
    pub(crate) fn return_channel(&self, rng: &mut SimRng) -> usize {
        if sample::chance(rng, 0.6) { DIRECT } else { usize::from(self.channel) }
    }

    /// Whether and after how many days the visitor comes back after today's
    /// visit. Returns falling on a weekend are partly postponed to Monday,
    /// which is where most of the weekend dip of returning traffic comes from.
    pub(crate) fn next_visit(&self, rng: &mut SimRng, model: &Model, today: &Day, start_micros: i64) -> Option<u32> {
        let (p, mean) = match (self.is_user(), self.plan) {
            (false, _) => (model.anon_return, model.anon_gap_days),
            (true, Plan::Free) => (model.free_return, model.free_gap_days),
            (true, _) => (model.paid_return, model.paid_gap_days),
        };
        if !sample::chance(rng, p) {
            return None;
        }
        let mut gap = 1 + sample::geometric(rng, mean - 1.0, model.max_gap_days);
        let weekday = calendar::weekday_of(start_micros, today.index.saturating_add(i64::from(gap)));
        if weekday >= 5 && sample::chance(rng, model.weekend_postpone) {
            gap += 7 - weekday as u32;
        }
        (gap <= model.max_gap_days).then_some(gap)
    }
}

/// Visitors waiting for the day they come back, one bucket per future day.
pub(crate) struct ReturnQueue {
    /// `buckets[0]` holds tomorrow's returns.
    buckets: VecDeque<Vec<Visitor>>,
    pending: usize,
    cap: usize,
    dropped: u64,
}

impl ReturnQueue {
    /// A queue reaching `horizon` days ahead holding at most `cap` visitors.
    pub(crate) fn new(horizon: u32, cap: usize) -> ReturnQueue {
        let buckets = (0..horizon.max(1) + 7).map(|_| Vec::new()).collect();
        ReturnQueue { buckets, pending: 0, cap, dropped: 0 }
    }

    /// Schedules `visitor` `gap` days (at least one) after today. Returns
    /// false, dropping the visitor, past the horizon or the cap.
    pub(crate) fn schedule(&mut self, gap: u32, visitor: Visitor) -> bool {
        let slot = gap.max(1) as usize - 1;
        if self.pending >= self.cap || slot >= self.buckets.len() {
            self.dropped += 1;
            return false;
        }
        if let Some(bucket) = self.buckets.get_mut(slot) {
            bucket.push(visitor);
            self.pending += 1;
        }
        true
    }

    /// Moves to the next day and hands out the visitors returning on it.
    /// Give the vector back through [`ReturnQueue::recycle`] to reuse it.
    pub(crate) fn advance(&mut self) -> Vec<Visitor> {
        let today = self.buckets.pop_front().unwrap_or_default();
        self.pending -= today.len();
        self.buckets.push_back(Vec::new());
        today
    }

    /// Returns a drained day's storage to the queue.
    pub(crate) fn recycle(&mut self, mut spent: Vec<Visitor>) {
        spent.clear();
        if let Some(last) = self.buckets.back_mut().filter(|b| b.capacity() == 0) {
            *last = spent;
        }
    }

    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY: i64 = 1_746_403_200_000_000;

    #[test]
    fn visitors_are_compact_and_ids_stable() {
        assert!(std::mem::size_of::<Visitor>() <= 40, "{}", std::mem::size_of::<Visitor>());
        let day = Day::new(MONDAY, 7, 0);
        let mut rng = sample::stream(1, Stream::Day, 0, 0);
        let v = Visitor::arrive(&mut rng, 42, &day);
        assert_eq!(v.anonymous_id(1), v.anonymous_id(1));
        assert_ne!(v.anonymous_id(1), v.anonymous_id(2));
        assert_eq!(v.user_id(), None);
    }

    #[test]
    fn the_queue_returns_visitors_on_their_day_and_respects_its_cap() {
        let day = Day::new(MONDAY, 7, 0);
        let mut rng = sample::stream(1, Stream::Day, 0, 0);
        let v = Visitor::arrive(&mut rng, 1, &day);
        let mut q = ReturnQueue::new(10, 2);
        assert!(q.advance().is_empty()); // day 0
        assert!(q.schedule(2, v));
        assert!(q.schedule(1, v));
        assert!(!q.schedule(1, v), "over the cap");
        assert_eq!(q.advance().len(), 1); // day 1
        let day2 = q.advance();
        assert_eq!(day2.len(), 1);
        q.recycle(day2);
        assert_eq!(q.pending(), 0);
        assert!(!q.schedule(100, v), "past the horizon");
    }
}
