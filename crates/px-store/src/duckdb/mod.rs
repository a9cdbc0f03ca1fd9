//! The embedded event store: one DuckDB file holding events and persons.
//!
//! One writer connection behind a mutex does every append (DuckDB allows
//! one writer at a time anyway); reads clone a connection to the same
//! database, so they run alongside the writer on DuckDB's MVCC snapshots.
//! All DuckDB calls run on Tokio's blocking pool, never on async workers.
//!
//! Durability: an append is one transaction (events, persons, ids); DuckDB
//! writes it to its WAL and syncs before COMMIT returns, so `Ok` from
//! `append` means the batch survives `kill -9`. Spooled appends may share
//! one transaction kept open until it holds [`BULK_EVENTS`]; they are
//! durable in the spool meanwhile, and the position the store answers is
//! always that of its last commit.

pub mod arrow;
mod capi;
mod merge;
mod pending;
mod read;
pub mod schema;

use crate::event_store::{Commit, EventPage, EventQuery, EventStore, PersonRecord, ScopedEvent, SqlParam};
use crate::person_keys::{NewKeys, PersonKeys};
use crate::persons::PersonGraph;
use crate::{Result, StoreError};
use async_trait::async_trait;
use capi::{Conn, Database};
use duckdb::{Connection, params};
use parking_lot::Mutex;
use px_core::time::Micros;
use px_core::{ProjectId, ProjectScope};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

struct Writer {
    conn: Conn,
    graph: PersonGraph,
    keys: PersonKeys,
    /// `person_overrides` may have rows: merges were committed since the
    /// last squash.
    merges_pending: bool,
    last_squash: Instant,
    /// The last squash failed (it is then retried less often).
    squash_failed: bool,
    /// The spooled transaction kept open for more events, if any.
    open: Option<Open>,
    /// The spool position the committed state holds.
    through: u64,
    /// A transaction that failed had already advanced `graph` and `keys`
    /// (they move with each statement, so that the next events of an open
    /// transaction see the persons of the earlier ones): they are reloaded
    /// from the database before the next use.
    stale: bool,
    /// DuckDB's own thread count (all cores by default), for queries.
    threads: i64,
    /// DuckDB runs on one thread: ingestion is under load ([`NARROW_FROM`]).
    narrow: bool,
    /// Person changes of the open transaction, written when it commits.
    pending: pending::PendingPersons,
}

/// A spooled transaction kept open for more events ([`Commit::WhenFull`]).
struct Open {
    events: usize,
    /// The spool position it brings the store to.
    through: Option<u64>,
    merges: bool,
}

/// Events a spooled transaction gathers before it commits: DuckDB's row
/// group. A transaction that appends at least a row group's worth writes
/// its row groups compressed straight into the database file, with only
/// their place in the WAL, so no checkpoint compresses them again; a
/// smaller one goes through the WAL row by row and is compressed at the
/// next checkpoint. `px bench ingest`'s raw phase appends 1M events about
/// 1.3 times as fast in transactions of this size as of 20,000 events.
pub const BULK_EVENTS: usize = 122_880;

/// Chunks of at least this many events are freed on a thread of its own,
/// beside the store's serial work; smaller ones (light load) are not worth
/// a thread.
const OFF_THREAD_FROM: usize = 1_000;

/// Chunks of at least this many events (the drainer is behind: ingestion
/// is under load) narrow DuckDB to one thread until the transaction
/// commits, when it gets all of them back: a commit may checkpoint, which
/// after a squash rewrites columns of every row group (20 s on one thread
/// for 8M events under load, a stall that filled the backlog), and
/// queries then run on every core until the next loaded append.
///
/// Why: every DuckDB statement, an appender flush included, runs as
/// parallel tasks, and the calling thread polls for work without sleeping
/// while a worker finishes the last task (`Executor::IdleState` answers
/// "no tasks", and the loop asks again). Under full load on two cores that
/// polling took about a sixth of the server's CPU. On one thread, the
/// caller runs each task itself: `px bench ingest` went from 110-112k to
/// 123-135k events/s, 15.2 to 12.1-13.1 µs of CPU an event. Queries that
/// run meanwhile get one thread, on cores the ingestion keeps busy anyway.
const NARROW_FROM: usize = OFF_THREAD_FROM;

/// Under steady ingestion, pending person merges are written into the
/// events at most this often ([`DuckDbEventStore::squash_persons`]): each
/// squash scans the person column of every event, about 100 ms per 10M.
/// When ingestion pauses, [`EventStore::maintain`] squashes at once.
const SQUASH_EVERY: Duration = Duration::from_secs(60);

impl Writer {
    /// Starts a transaction. A transaction left open on the connection (its
    /// `ROLLBACK` failed) would fail every later `BEGIN` and so every later
    /// commit until a restart; the writer then starts over on a new
    /// connection to the same database, and dropping the old one discards
    /// whatever it held.
    fn begin(&mut self) -> Result<()> {
        if self.conn.execute_batch("BEGIN TRANSACTION").is_ok() {
            return Ok(());
        }
        let fresh = self.conn.try_clone()?;
        // Its own temporary staging tables.
        fresh.execute_batch(schema::DDL)?;
        fresh.execute_batch("BEGIN TRANSACTION")?;
        tracing::warn!("the store's writer connection had a transaction open; continuing on a new connection");
        self.conn = fresh;
        Ok(())
    }

    /// Writes pending person merges into the events, in one transaction, so
    /// that `{events}` has no override to look up (see `person_overrides`).
    fn squash(&mut self) -> Result<()> {
        self.commit()?;
        self.last_squash = Instant::now();
        self.squash_failed = true;
        self.begin()?;
        let done = schema::SQUASH_PERSONS
            .iter()
            .try_for_each(|sql| self.conn.execute_batch(sql))
            .and_then(|()| self.conn.execute_batch("COMMIT"));
        if let Err(e) = done {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        self.squash_failed = false;
        self.merges_pending = false;
        tracing::debug!(ms = self.last_squash.elapsed().as_secs_f64() * 1e3, "person merges written into the events");
        Ok(())
    }

    /// Runs DuckDB on one thread (`narrow`) or on its own count (see
    /// [`NARROW_FROM`]). A failure only costs speed: it is logged.
    fn narrow(&mut self, narrow: bool) {
        if self.narrow == narrow || self.threads <= 1 {
            return;
        }
        let threads = if narrow { 1 } else { self.threads };
        match self.conn.execute_batch(&format!("SET threads = {threads}")) {
            Ok(()) => self.narrow = narrow,
            Err(e) => tracing::warn!(error = %e, threads, "setting DuckDB's thread count failed"),
        }
    }

    /// Appends events, their person changes and ids in the open
    /// transaction, starting one if none is open; `through` is the spool
    /// position they bring the store to, for spooled events.
    fn stage(&mut self, mut events: Vec<ScopedEvent>, through: Option<u64>) -> Result<()> {
        if events.len() >= NARROW_FROM {
            self.narrow(true);
        }
        if self.stale {
            (self.graph, self.keys) = load_persons(&self.conn)?;
            self.stale = false;
        }
        let mut phases = Phases::new();
        let mut plan = self.graph.plan(&mut events);
        let mut new_keys = NewKeys::default();
        let keys = self.keys.plan_events(&events, &mut new_keys);
        // Every merge target's key, for the overrides (a target is the person
        // of the batch's identify or alias, so it is planned already).
        let merge_targets: Vec<(ProjectScope, Uuid)> = plan.merges.iter().map(|m| (m.scope, m.into)).collect();
        let target_keys = self.keys.plan(merge_targets.iter().copied(), &mut new_keys);
        let target_keys: hashbrown::HashMap<(ProjectId, Uuid), i64> =
            merge_targets.iter().map(|(s, p)| (s.project_id, *p)).zip(target_keys).collect();
        let arrow_err = |e: ::arrow::error::ArrowError| StoreError::Internal(format!("arrow: {e}"));
        let (deltas, merges) = (plan.deltas.len(), plan.merges.len());
        self.pending.absorb(&new_keys.rows, &mut plan);
        phases.mark("prepare");
        if self.open.is_none() {
            self.begin()?;
            self.open = Some(Open { events: 0, through: None, merges: false });
        }
        let (conn, pending) = (&self.conn, &mut self.pending);
        let written = (|| -> Result<()> {
            // Merges read the persons: the pending changes go first.
            if merges > 0 {
                pending.write(conn)?;
            }
            let batch = arrow::to_record_batch(&events, Some(&keys)).map_err(arrow_err)?;
            phases.mark("convert");
            let mut app = conn.appender("events")?;
            app.append_record_batch(batch)?;
            app.flush()?;
            phases.mark("events");
            merge::apply(conn, &plan.merges, &target_keys)?;
            phases.mark("merges");
            Ok(())
        })();
        let count = events.len();
        // Freeing an event's ~50 allocations costs about as much as
        // converting it: done beside the serial stage, not in it (here when
        // the chunk is small, or no thread is to be had: a failed spawn
        // drops the events it was given).
        if count >= OFF_THREAD_FROM {
            let _ = std::thread::Builder::new().spawn(move || drop(events));
        }
        if let Err(e) = written {
            self.abort();
            return Err(e);
        }
        tracing::debug!(events = count, deltas, merges, ms = %phases, "events staged");
        let merges = merges > 0;
        self.graph.commit(plan);
        self.keys.commit(new_keys);
        if let Some(open) = self.open.as_mut() {
            open.events += count;
            open.merges |= merges;
            open.through = through.or(open.through);
        }
        Ok(())
    }

    /// Commits the open transaction, if any.
    fn commit(&mut self) -> Result<()> {
        // A commit may checkpoint (and a squash follows some): on every thread.
        self.narrow(false);
        let Some(open) = self.open.take() else { return Ok(()) };
        let started = Instant::now();
        let conn = &self.conn;
        let committed = (|| -> Result<()> {
            self.pending.write(conn)?;
            if let Some(through) = open.through {
                conn.prepare_cached("UPDATE px_spool SET through = ?")?.execute(params![through])?;
            }
            Ok(conn.execute_batch("COMMIT")?)
        })();
        if let Err(e) = committed {
            self.abort();
            return Err(e);
        }
        tracing::debug!(events = open.events, ms = started.elapsed().as_secs_f64() * 1e3, "store commit");
        self.through = open.through.unwrap_or(self.through);
        self.merges_pending |= open.merges;
        if self.merges_pending && self.last_squash.elapsed() >= SQUASH_EVERY {
            // The events are stored: a failed squash only leaves the merges
            // pending, which queries resolve anyway.
            if let Err(e) = self.squash() {
                tracing::warn!(error = %e, "writing person merges into the events failed; will retry");
            }
        }
        Ok(())
    }

    /// Rolls the open transaction back. Leaves no transaction open behind
    /// a failure, or every later `BEGIN` would fail too (`begin` starts
    /// over on a new connection when the rollback fails).
    fn abort(&mut self) {
        self.open = None;
        self.stale = true;
        self.pending.clear();
        if let Err(e) = self.conn.execute_batch("ROLLBACK") {
            tracing::error!(error = %e, "rollback failed after a failed append");
        }
    }
}

/// The person graph and keys as the database holds them.
fn load_persons(conn: &Connection) -> Result<(PersonGraph, PersonKeys)> {
    let graph = PersonGraph::load(read::merged_distinct_ids(conn)?, read::identified_persons(conn)?);
    Ok((graph, PersonKeys::load(read::person_keys(conn)?)))
}

pub struct DuckDbEventStore {
    writer: Arc<Mutex<Writer>>,
    /// Where read connections come from: duckdb-rs ones for event lists
    /// and persons, raw ones for analytics (see `capi`).
    db: Arc<Database>,
    /// Analytics statements running longer are interrupted: one runaway
    /// query must not hold a core forever.
    query_timeout: Duration,
}

/// How much WAL DuckDB gathers before it checkpoints (see [`DuckDbEventStore::open`]).
pub const CHECKPOINT_THRESHOLD: &str = "256MiB";

/// Default time limit of an analytics statement.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(60);

impl DuckDbEventStore {
    /// Opens (creating if needed) the database file at `path`.
    ///
    /// Extension auto-install and auto-load are off: PX runs offline, and
    /// the extensions it needs (json) are compiled in.
    ///
    /// The checkpoint threshold is [`CHECKPOINT_THRESHOLD`] instead of
    /// DuckDB's 16 MB, because of how DuckDB checkpoints appends: each
    /// checkpoint compresses the table's last row group (122,880 rows)
    /// whole, also when it is only partly new, so with the WAL checkpointed
    /// every ~25,000 events each event was compressed about five times.
    /// Appending 1.5M events in 5,000-event transactions went from 61,000
    /// to 117,000 events/s (final checkpoint included); the price is a WAL
    /// of up to that size, replayed at open after a crash.
    ///
    /// Checkpoints do not vacuum (`max_vacuum_tasks = 0`). A vacuum merges
    /// row groups that are not full with their neighbours, rewriting them
    /// whole; each bulk transaction leaves one such row group (its rows
    /// past the last full one), so with 8M events stored a checkpoint
    /// rewrote most of the table: one commit took 12-25 s, and ingestion
    /// waited on it. Events are never deleted, so all a vacuum would gain
    /// is a few percent fuller row groups.
    pub fn open(path: &Path, memory_limit: Option<&str>) -> Result<Self> {
        let memory = memory_limit.map(|m| ("max_memory", m));
        let settings: Vec<(&str, &str)> = [
            ("autoinstall_known_extensions", "false"),
            ("autoload_known_extensions", "false"),
            ("checkpoint_threshold", CHECKPOINT_THRESHOLD),
            ("max_vacuum_tasks", "0"),
        ]
        .into_iter()
        .chain(memory)
        .collect();
        let db = Database::open(path, &settings).map_err(|e| match e {
            e if e.contains("lock") => {
                StoreError::Unavailable(format!("{} is in use by another process: {e}", path.display()))
            }
            e => StoreError::Internal(format!("duckdb: opening {}: {e}", path.display())),
        })?;
        let conn = db.connect()?;
        conn.execute_batch(schema::DDL)?;
        let version: Option<i64> = conn.query_row("SELECT max(version) FROM px_schema", [], |r| r.get(0))?;
        match version {
            None => {
                conn.execute("INSERT INTO px_schema VALUES (?)", params![schema::SCHEMA_VERSION])?;
            }
            Some(v) if v > schema::SCHEMA_VERSION => {
                return Err(StoreError::Invalid(format!(
                    "{} has schema version {v}, newer than this px ({}); upgrade px",
                    path.display(),
                    schema::SCHEMA_VERSION
                )));
            }
            Some(v) => {
                // One transaction per step, so a failed upgrade can be retried.
                for (to, what, sql) in schema::UPGRADES.iter().filter(|(to, ..)| v < *to) {
                    tracing::info!(path = %path.display(), "{what} (schema {to})");
                    conn.execute_batch(&format!(
                        "BEGIN TRANSACTION; {sql}; UPDATE px_schema SET version = {to}; COMMIT"
                    ))?;
                }
            }
        }
        let (graph, keys) = load_persons(&conn)?;
        let pending: i64 = conn.query_row("SELECT count(*) FROM person_overrides", [], |r| r.get(0))?;
        let through = read::spooled_through(&conn)?;
        let threads: i64 = conn.query_row("SELECT current_setting('threads')", [], |r| r.get(0))?;
        let mut writer = Writer {
            conn,
            graph,
            keys,
            merges_pending: pending > 0,
            last_squash: Instant::now(),
            squash_failed: false,
            open: None,
            through,
            stale: false,
            threads,
            narrow: false,
            pending: pending::PendingPersons::default(),
        };
        if writer.merges_pending
            && let Err(e) = writer.squash()
        {
            // Queries resolve pending merges anyway: a failed squash must
            // not keep the store closed.
            tracing::warn!(error = %e, "writing person merges into the events failed; will retry");
        }
        Ok(Self { writer: Arc::new(Mutex::new(writer)), db, query_timeout: DEFAULT_QUERY_TIMEOUT })
    }

    /// Sets the time limit of analytics statements ([`EventStore::query`]).
    pub fn with_query_timeout(mut self, limit: Duration) -> Self {
        self.query_timeout = limit;
        self
    }

    /// Appends events to the events table only, in one transaction, with no
    /// person graph work: the raw ceiling `px bench ingest` measures the
    /// gateway against. Not for production writes (persons would drift).
    pub fn append_events_only(&self, events: &[ScopedEvent]) -> Result<()> {
        let batch = arrow::to_record_batch(events, None).map_err(|e| StoreError::Internal(format!("arrow: {e}")))?;
        let mut w = self.writer.lock();
        w.commit()?;
        w.begin()?;
        let appended = (|| -> Result<()> {
            let mut app = w.conn.appender("events")?;
            app.append_record_batch(batch)?;
            app.flush()?;
            Ok(())
        })();
        match appended {
            Ok(()) => Ok(w.conn.execute_batch("COMMIT")?),
            Err(e) => {
                let _ = w.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Rolls back the open spooled transaction as a failed commit does:
    /// its events are then only in the spool, for [`crate::spool::recover`].
    /// For tests that make the store fail.
    pub fn discard_spooled(&self) {
        let mut w = self.writer.lock();
        if w.open.is_some() {
            w.abort();
        }
    }

    /// Writes pending person merges into the stored events now (see
    /// `person_overrides`); the store also does so by itself.
    pub fn squash_persons(&self) -> Result<()> {
        self.writer.lock().squash()
    }

    /// A fresh connection for one read: it sees the last committed state
    /// and never waits for the writer.
    fn reader(&self) -> Result<Conn> {
        self.db.connect()
    }

    async fn read<T: Send + 'static>(&self, f: impl FnOnce(&Connection) -> Result<T> + Send + 'static) -> Result<T> {
        let conn = self.reader()?;
        tokio::task::spawn_blocking(move || f(&conn)).await?
    }
}

/// Where a store commit's time went, phase by phase, for the debug log.
struct Phases {
    last: Instant,
    done: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn new() -> Self {
        Phases { last: Instant::now(), done: Vec::new() }
    }

    /// Ends the phase running since the last mark.
    fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.done.push((name, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, took)) in self.done.iter().enumerate() {
            write!(f, "{}{name} {:.1}", if i > 0 { ", " } else { "" }, took.as_secs_f64() * 1e3)?;
        }
        Ok(())
    }
}

#[async_trait]
impl EventStore for DuckDbEventStore {
    async fn append(&self, events: Vec<ScopedEvent>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let writer = Arc::clone(&self.writer);
        tokio::task::spawn_blocking(move || {
            let mut w = writer.lock();
            // Its own transaction, after whatever was open.
            w.commit()?;
            w.stage(events, None)?;
            w.commit()
        })
        .await?
    }

    async fn append_spooled(&self, events: Vec<ScopedEvent>, through: u64, commit: Commit) -> Result<u64> {
        let writer = Arc::clone(&self.writer);
        tokio::task::spawn_blocking(move || {
            // Under steady ingestion the store writes every few
            // milliseconds: its memory is not given back between writes.
            let _busy = px_core::memory::busy();
            let mut w = writer.lock();
            w.stage(events, Some(through))?;
            if commit == Commit::Now || w.open.as_ref().is_some_and(|o| o.events >= BULK_EVENTS) {
                w.commit()?;
            }
            Ok(w.through)
        })
        .await?
    }

    async fn commit_spooled(&self) -> Result<u64> {
        let writer = Arc::clone(&self.writer);
        tokio::task::spawn_blocking(move || {
            let _busy = px_core::memory::busy();
            let mut w = writer.lock();
            w.commit()?;
            Ok(w.through)
        })
        .await?
    }

    async fn maintain(&self) -> Result<()> {
        let writer = Arc::clone(&self.writer);
        tokio::task::spawn_blocking(move || {
            let mut w = writer.lock();
            w.commit()?;
            // A squash that failed is retried at most once per `SQUASH_EVERY`.
            let due = !w.squash_failed || w.last_squash.elapsed() >= SQUASH_EVERY;
            if w.merges_pending && due { w.squash() } else { Ok(()) }
        })
        .await?
    }

    async fn spooled_through(&self) -> Result<u64> {
        self.read(read::spooled_through).await
    }

    async fn query(
        &self,
        scope: ProjectScope,
        sql: String,
        params: Vec<SqlParam>,
    ) -> Result<Vec<::arrow::record_batch::RecordBatch>> {
        // Every analytics statement (the query engine's, the AI engine's)
        // keeps freed memory in the process while it runs.
        let _busy = px_core::memory::busy();
        let mut conn = self.db.connect_raw()?;
        let interrupt = conn.interrupt_handle();
        let mut task = tokio::task::spawn_blocking(move || read::query(&mut conn, scope, &sql, &params));
        match tokio::time::timeout(self.query_timeout, &mut task).await {
            Ok(done) => done?,
            Err(_) => {
                interrupt.interrupt();
                // The interrupted statement fails at once; wait for it so
                // its thread and connection are free before answering.
                let _ = task.await;
                Err(StoreError::Unavailable(format!(
                    "the query ran longer than {} s and was stopped; narrow its date range or filters",
                    self.query_timeout.as_secs_f64()
                )))
            }
        }
    }

    async fn list_events(&self, scope: ProjectScope, query: EventQuery) -> Result<EventPage> {
        self.read(move |c| read::list_events(c, scope, &query)).await
    }

    async fn person(&self, scope: ProjectScope, distinct_id: &str) -> Result<Option<PersonRecord>> {
        let d = distinct_id.to_string();
        self.read(move |c| read::person(c, scope, &d)).await
    }

    async fn recent_event_ids(&self, since: Micros, limit: usize) -> Result<Vec<(ProjectId, Uuid)>> {
        self.read(move |c| read::recent_event_ids(c, since, limit)).await
    }

    async fn count_events(&self, scope: ProjectScope) -> Result<u64> {
        self.read(move |c| read::count_events(c, scope)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_transaction_left_open_does_not_stop_later_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
        let scope = ProjectScope { tenant_id: px_core::TenantId(1), project_id: ProjectId(1) };
        let event = |distinct_id: &str| {
            crate::event_store::test_event(scope, "page_view", distinct_id, None, 1_700_000_000_000_000)
        };
        // What a failed ROLLBACK leaves behind: an open transaction holding a write.
        {
            let w = store.writer.lock();
            w.conn.execute_batch("BEGIN TRANSACTION; UPDATE px_spool SET through = 99").unwrap();
        }
        store.append(vec![event("a")]).await.unwrap();
        store.append(vec![event("b")]).await.unwrap();
        assert_eq!(store.count_events(scope).await.unwrap(), 2);
        // The abandoned write was discarded, not committed.
        assert_eq!(store.spooled_through().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn duckdb_runs_on_one_thread_while_it_appends_under_load_and_commits_on_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
        let vacuum: i64 =
            store.writer.lock().conn.query_row("SELECT current_setting('max_vacuum_tasks')", [], |r| r.get(0)).unwrap();
        assert_eq!(vacuum, 0, "checkpoints vacuum (and stall ingestion for seconds)");
        store.writer.lock().conn.execute_batch("SET threads = 2").unwrap();
        store.writer.lock().threads = 2;
        let threads = |store: &DuckDbEventStore| -> i64 {
            store.writer.lock().conn.query_row("SELECT current_setting('threads')", [], |r| r.get(0)).unwrap()
        };
        let scope = ProjectScope { tenant_id: px_core::TenantId(1), project_id: ProjectId(1) };
        let events = |n: usize| -> Vec<ScopedEvent> {
            (0..n)
                .map(|i| crate::event_store::test_event(scope, "e", &format!("u{i}"), None, 1_700_000_000_000_000))
                .collect()
        };
        store.append_spooled(events(10), 1, Commit::WhenFull).await.unwrap();
        assert_eq!(threads(&store), 2, "a light load narrows DuckDB");
        store.append_spooled(events(NARROW_FROM), 2, Commit::WhenFull).await.unwrap();
        assert_eq!(threads(&store), 1, "a load does not narrow DuckDB");
        store.append_spooled(events(NARROW_FROM), 3, Commit::WhenFull).await.unwrap();
        assert_eq!(threads(&store), 1, "a load does not keep DuckDB narrow");
        store.commit_spooled().await.unwrap();
        assert_eq!(threads(&store), 2, "a commit (which may checkpoint) runs narrow");
        assert_eq!(store.count_events(scope).await.unwrap(), 10 + 2 * NARROW_FROM as u64);
    }
}
