//! The bounded queue between `capture` and the background task. `capture`
//! runs on any thread, inside or outside the runtime, so pushing takes a
//! short lock and never awaits; the task takes whole batches out.
//!
//! **When full, the oldest event is dropped.** The queue only fills when PX
//! has been unreachable for a while; then the newest events describe what
//! users do now, and keeping them means the outage shows as a gap in the
//! past rather than a blackout from now on. The browser SDK does the same.
//! Drops are counted ([`crate::Stats::dropped`]) and logged once per
//! overflow.
//!
//! **Flushes** count instead of marking: the n-th event pushed has sequence
//! number n, and a flush waits until every event numbered below the count
//! at its call is settled (acknowledged, rejected, dropped or failed). The
//! task resolves flushes only between deliveries, when nothing is in flight,
//! so "taken out of the queue" then means "settled".

use crate::Event;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};

pub(crate) struct Queue {
    state: Mutex<State>,
    wake: Notify,
    max: usize,
    batch_size: usize,
}

struct State {
    events: VecDeque<Event>,
    /// Sequence number of `events[0]`: the queue holds `front..front + len`.
    front: u64,
    /// Since when the oldest waiting event has waited, as far as batching
    /// is concerned (see [`Queue::next`]).
    waiting_since: Option<Instant>,
    /// Flushes in progress: a sequence number to reach, and whom to tell.
    flushes: Vec<(u64, oneshot::Sender<()>)>,
    closing: bool,
    /// The task has ended; nothing will be sent any more.
    stopped: bool,
    /// Dropped since the task last took a batch: one warning per overflow.
    overflowing: bool,
}

/// What became of a pushed event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    Queued,
    /// Queued, and the oldest waiting event was dropped to make room;
    /// `first` on the first drop of an overflow.
    DroppedOldest {
        first: bool,
    },
    /// The client is shutting down: the event was not queued.
    Closed,
}

/// What the task should do next.
#[derive(Debug)]
pub(crate) enum Next {
    /// Nothing waits: sleep until woken.
    Idle,
    /// Events wait, too few to send yet: sleep until then, or until woken.
    Until(Instant),
    /// Send these now.
    Send(Vec<Event>),
    /// Closing, and everything is settled: the task ends.
    Stop,
}

impl Queue {
    pub fn new(max: usize, batch_size: usize) -> Self {
        let state = State {
            events: VecDeque::new(),
            front: 0,
            waiting_since: None,
            flushes: Vec::new(),
            closing: false,
            stopped: false,
            overflowing: false,
        };
        Self { state: Mutex::new(state), wake: Notify::new(), max, batch_size }
    }

    /// Queues `event`, dropping the oldest one if the queue is full.
    pub fn push(&self, event: Event, now: Instant) -> Pushed {
        let mut s = self.state.lock();
        if s.closing {
            return Pushed::Closed;
        }
        let mut pushed = Pushed::Queued;
        if s.events.len() >= self.max {
            s.events.pop_front();
            s.front += 1;
            pushed = Pushed::DroppedOldest { first: !s.overflowing };
            s.overflowing = true;
        }
        s.events.push_back(event);
        let len = s.events.len();
        if len == 1 {
            s.waiting_since = Some(now);
        }
        drop(s);
        // The task needs waking only to start the flush_interval clock or
        // to send a full batch; in between it sleeps undisturbed.
        if len == 1 || len >= self.batch_size {
            self.wake.notify_one();
        }
        pushed
    }

    /// Resolves once every event pushed before this call is settled; `None`
    /// when the task has stopped, so nothing is pending.
    pub fn flush(&self) -> Option<oneshot::Receiver<()>> {
        let mut s = self.state.lock();
        if s.stopped {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        let target = s.front + s.events.len() as u64;
        s.flushes.push((target, tx));
        drop(s);
        self.wake.notify_one();
        Some(rx)
    }

    /// Refuses further events; the task sends what waits, then stops.
    pub fn close(&self) {
        self.state.lock().closing = true;
        self.wake.notify_one();
    }

    /// The task's next step. Call only when no batch is in flight: flushes
    /// whose events have all left the queue are resolved here.
    pub fn next(&self, now: Instant, flush_interval: Duration) -> Next {
        let mut s = self.state.lock();
        let front = s.front;
        for (_, tx) in s.flushes.extract_if(.., |(target, _)| *target <= front) {
            let _ = tx.send(());
        }
        if s.events.is_empty() {
            if s.closing {
                s.stopped = true;
                return Next::Stop;
            }
            return Next::Idle;
        }
        // Any flush left covers waiting events, as does closing.
        let urgent = s.closing || !s.flushes.is_empty();
        let due = s.waiting_since.map_or(now, |t| t + flush_interval);
        if !urgent && s.events.len() < self.batch_size && now < due {
            return Next::Until(due);
        }
        let n = s.events.len().min(self.batch_size);
        let batch: Vec<Event> = s.events.drain(..n).collect();
        s.front += n as u64;
        // Events left behind start a new wait: at most one flush_interval
        // after this batch, unless they fill a batch sooner.
        s.waiting_since = (!s.events.is_empty()).then_some(now);
        s.overflowing = false;
        Next::Send(batch)
    }

    /// Waits for a push, flush or close that may change [`Self::next`]'s
    /// answer. A wake-up sent while the task was busy is kept, not lost.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn ev(i: usize) -> Event {
        Event::new("e", format!("u{i}"))
    }

    fn sent(next: Next) -> Vec<Event> {
        match next {
            Next::Send(batch) => batch,
            other => panic!("expected a batch, got {other:?}"),
        }
    }

    #[test]
    fn a_full_queue_drops_its_oldest_events_and_warns_once_per_overflow() {
        let (q, t) = (Queue::new(3, 10), Instant::now());
        let events: Vec<Event> = (0..5).map(ev).collect();
        let pushed: Vec<Pushed> = events.iter().map(|e| q.push(e.clone(), t)).collect();
        assert_eq!(
            pushed,
            [
                Pushed::Queued,
                Pushed::Queued,
                Pushed::Queued,
                Pushed::DroppedOldest { first: true },
                Pushed::DroppedOldest { first: false }
            ]
        );
        let batch = sent(q.next(t + SEC, SEC));
        assert_eq!(batch, events[2..], "the newest three are kept, in order");
        for e in (5..8).map(ev) {
            assert_eq!(q.push(e, t), Pushed::Queued);
        }
        // After the task took a batch, a new overflow warns again.
        assert_eq!(q.push(ev(9), t), Pushed::DroppedOldest { first: true });
    }

    #[test]
    fn a_batch_leaves_when_full_or_when_its_oldest_event_waited_the_interval() {
        let (q, t) = (Queue::new(100, 3), Instant::now());
        assert!(matches!(q.next(t, SEC), Next::Idle));
        q.push(ev(0), t);
        q.push(ev(1), t + SEC / 2);
        assert!(matches!(q.next(t + SEC / 2, SEC), Next::Until(due) if due == t + SEC));
        assert_eq!(sent(q.next(t + SEC, SEC)).len(), 2);
        for i in 0..7 {
            q.push(ev(i), t + SEC);
        }
        assert_eq!(sent(q.next(t + SEC, SEC)).len(), 3, "full batches leave at once");
        assert_eq!(sent(q.next(t + SEC, SEC)).len(), 3);
        assert!(matches!(q.next(t + SEC, SEC), Next::Until(due) if due == t + 2 * SEC), "the rest waits anew");
    }

    #[test]
    fn a_flush_sends_at_once_and_resolves_when_its_events_left_the_queue() {
        let (q, t) = (Queue::new(100, 2), Instant::now());
        for i in 0..3 {
            q.push(ev(i), t);
        }
        let mut rx = q.flush().unwrap();
        q.push(ev(3), t); // after the flush: not waited for
        assert_eq!(sent(q.next(t, SEC)).len(), 2);
        assert_eq!(sent(q.next(t, SEC)).len(), 2, "the flush makes the partial batch urgent");
        assert!(rx.try_recv().is_err(), "the last batch is still in flight");
        assert!(matches!(q.next(t, SEC), Next::Idle));
        assert!(rx.try_recv().is_ok());
        // A flush with nothing queued resolves at the task's next step.
        let mut rx = q.flush().unwrap();
        assert!(matches!(q.next(t, SEC), Next::Idle));
        assert!(rx.try_recv().is_ok());
    }

    #[test]
    fn closing_refuses_events_sends_the_rest_then_stops() {
        let (q, t) = (Queue::new(100, 10), Instant::now());
        q.push(ev(0), t);
        q.close();
        assert_eq!(q.push(ev(1), t), Pushed::Closed);
        assert_eq!(sent(q.next(t, SEC)).len(), 1, "closing sends a partial batch at once");
        assert!(matches!(q.next(t, SEC), Next::Stop));
        assert!(q.flush().is_none(), "after the stop there is nothing to wait for");
    }
}
