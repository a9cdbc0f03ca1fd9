//! Prometheus metrics, hand-rolled: a few atomic counters and fixed-bucket
//! histograms cost nothing on the hot path and need no registry crate.
//! Names are constants here, in one place.

use px_core::RejectCode;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds in seconds, shared by every latency histogram.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, secs: f64) {
        let i = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_micros.fetch_add((secs * 1e6) as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cum = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cum += self.counts[i].load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cum}");
        }
        cum += self.counts[BUCKETS.len()].load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cum}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {cum}");
    }
}

#[derive(Default)]
pub struct Metrics {
    pub events_accepted: AtomicU64,
    pub events_duplicate: AtomicU64,
    rejected: [AtomicU64; RejectCode::ALL.len()],
    pub requests_rate_limited: AtomicU64,
    pub requests_unauthorized: AtomicU64,
    /// Whole requests refused (bad body, too large).
    pub requests_refused: AtomicU64,
    pub batch_latency: Histogram,
    pub spool_write_latency: Histogram,
    /// Acknowledged events not yet in the store.
    pub spool_backlog_events: AtomicU64,
    pub store_write_latency: Histogram,
    pub store_write_events: AtomicU64,
    pub store_write_failures: AtomicU64,
    /// 1 while the last store commit failed and the drainer retries it
    /// (acknowledged events wait in the spool); `/ready` answers 503 then.
    pub store_failing: AtomicU64,
    pub queue_events: AtomicU64,
    pub dedupe_ids: AtomicU64,
    pub dedupe_window_secs: AtomicU64,
    pub sessions_active: AtomicU64,
}

impl Metrics {
    pub fn rejected(&self, code: RejectCode) {
        if let Some(i) = RejectCode::ALL.iter().position(|c| *c == code) {
            self.rejected[i].fetch_add(1, Relaxed);
        }
    }

    pub fn render(&self) -> String {
        let mut o = String::with_capacity(4096);
        let counter = |o: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", v.load(Relaxed));
        };
        let gauge = |o: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}", v.load(Relaxed));
        };
        counter(&mut o, "px_events_accepted_total", "Events stored.", &self.events_accepted);
        counter(
            &mut o,
            "px_events_duplicate_total",
            "Events dropped as retries of stored ones.",
            &self.events_duplicate,
        );
        let _ = writeln!(
            o,
            "# HELP px_events_rejected_total Events rejected, by reason.\n# TYPE px_events_rejected_total counter"
        );
        for (code, v) in RejectCode::ALL.iter().zip(&self.rejected) {
            let _ = writeln!(o, "px_events_rejected_total{{reason=\"{}\"}} {}", code.as_str(), v.load(Relaxed));
        }
        counter(&mut o, "px_requests_rate_limited_total", "Requests answered 429.", &self.requests_rate_limited);
        counter(&mut o, "px_requests_unauthorized_total", "Requests answered 401.", &self.requests_unauthorized);
        counter(
            &mut o,
            "px_requests_refused_total",
            "Ingest requests refused whole (400/413).",
            &self.requests_refused,
        );
        self.batch_latency.render(
            &mut o,
            "px_batch_latency_seconds",
            "Ingest request latency, receipt to durable ack.",
        );
        self.spool_write_latency.render(
            &mut o,
            "px_spool_write_seconds",
            "Spool append latency, write and sync: what an ack waits for.",
        );
        gauge(
            &mut o,
            "px_spool_backlog_events",
            "Acknowledged events not yet in the event store.",
            &self.spool_backlog_events,
        );
        self.store_write_latency.render(
            &mut o,
            "px_store_write_seconds",
            "Event store write latency (appends and commits).",
        );
        counter(&mut o, "px_store_write_events_total", "Events written to the event store.", &self.store_write_events);
        counter(&mut o, "px_store_write_failures_total", "Failed event store commits.", &self.store_write_failures);
        gauge(
            &mut o,
            "px_store_failing",
            "1 while event store commits fail and acknowledged events wait in the spool.",
            &self.store_failing,
        );
        gauge(&mut o, "px_write_queue_events", "Events waiting for the writer.", &self.queue_events);
        gauge(&mut o, "px_dedupe_ids", "Event ids remembered for deduplication.", &self.dedupe_ids);
        gauge(
            &mut o,
            "px_dedupe_window_seconds",
            "How far back retries are certainly caught.",
            &self.dedupe_window_secs,
        );
        gauge(&mut o, "px_sessions_active", "Server-side sessions held in memory.", &self.sessions_active);
        o
    }
}
