//! The [`EventStore`] seam: where events and persons live.
//!
//! Contract for every backend:
//! - `append` is atomic and durable: when it returns `Ok`, every event of
//!   the batch (and the person changes it implies) survives a crash of the
//!   process; when it returns `Err`, none was stored. It does not
//!   deduplicate: the writer in front of it does, before calling.
//! - every read takes a [`ProjectScope`] and sees only that project's rows.
//! - reads list events newest first, by `(timestamp, event_id)`, which is a
//!   total order, so cursor paging never skips or repeats an event.

use crate::Result;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use px_core::time::Micros;
use px_core::{Event, ProjectId, ProjectScope};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// An event and the project it belongs to.
#[derive(Debug, Clone)]
pub struct ScopedEvent {
    pub scope: ProjectScope,
    pub event: Event,
}

/// Filters for listing events. All are optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub event: Option<String>,
    pub distinct_id: Option<String>,
    /// Every distinct id merged into this person.
    pub person_id: Option<Uuid>,
    /// Inclusive lower bound on the event timestamp.
    pub after: Option<Micros>,
    /// Exclusive upper bound on the event timestamp.
    pub before: Option<Micros>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// Position after the last event of a page: the next page starts strictly
/// below it in `(timestamp, event_id)` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub timestamp: Micros,
    pub event_id: Uuid,
}

impl Cursor {
    /// Opaque text form for APIs: `<micros>_<uuid>`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.timestamp, self.event_id.simple())
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (ts, id) = s.split_once('_')?;
        Some(Self { timestamp: ts.parse().ok()?, event_id: Uuid::parse_str(id).ok()? })
    }
}

/// A stored event as read back.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventRecord {
    pub event_id: Uuid,
    pub event: String,
    pub distinct_id: String,
    /// The person now, after every merge (not the one at ingest time).
    pub person_id: Uuid,
    pub session_id: Option<String>,
    pub timestamp: String,
    pub received_at: String,
    pub properties: Map<String, Value>,
    #[serde(flatten)]
    pub enrichment: px_core::Enrichment,
    pub timestamp_clamped: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventPage {
    pub events: Vec<EventRecord>,
    /// Events matching the filters, over all pages.
    pub total: u64,
    pub next_cursor: Option<String>,
}

/// A person as read back.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PersonRecord {
    pub person_id: Uuid,
    pub distinct_ids: Vec<String>,
    pub properties: Map<String, Value>,
    pub is_identified: bool,
    pub first_seen: String,
    pub last_seen: String,
}

/// A value bound to a `?` of [`EventStore::query`].
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
}

impl From<i64> for SqlParam {
    fn from(v: i64) -> Self {
        SqlParam::Int(v)
    }
}

impl From<f64> for SqlParam {
    fn from(v: f64) -> Self {
        SqlParam::Float(v)
    }
}

impl From<String> for SqlParam {
    fn from(v: String) -> Self {
        SqlParam::Text(v)
    }
}

impl From<&str> for SqlParam {
    fn from(v: &str) -> Self {
        SqlParam::Text(v.to_string())
    }
}

impl From<bool> for SqlParam {
    fn from(v: bool) -> Self {
        SqlParam::Bool(v)
    }
}

/// When [`EventStore::append_spooled`] commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Before it returns.
    Now,
    /// Once the open transaction holds a bulk's worth of events.
    WhenFull,
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Stores events atomically and durably; resolves each event's person
    /// through earlier merges and applies the person changes (`$set`,
    /// `$set_once`, identify, alias) the events carry, in order.
    async fn append(&self, events: Vec<ScopedEvent>) -> Result<()>;

    /// [`append`](Self::append) for spooled events, recording in the same
    /// transaction that the store holds every event of the spool up to
    /// position `through` (see [`crate::spool`]). Atomicity is what makes
    /// spool recovery exactly-once: a crash leaves either both or neither.
    ///
    /// With [`Commit::WhenFull`] the events join the store's open spooled
    /// transaction, which commits once it holds a bulk's worth of events
    /// (or at [`commit_spooled`](Self::commit_spooled)): a store writes
    /// large transactions much cheaper than small ones. Answers the spool
    /// position the store durably holds after the call. On error the open
    /// transaction is gone: the events since that position must be
    /// appended again (from the spool).
    async fn append_spooled(&self, events: Vec<ScopedEvent>, through: u64, commit: Commit) -> Result<u64>;

    /// Commits the open spooled transaction, if any; answers the spool
    /// position the store durably holds. On error, as for
    /// [`append_spooled`](Self::append_spooled).
    async fn commit_spooled(&self) -> Result<u64>;

    /// The spool position of the last committed
    /// [`append_spooled`](Self::append_spooled) (0 when there was none).
    async fn spooled_through(&self) -> Result<u64>;

    /// Upkeep the store does best while no events arrive: the embedded
    /// store writes pending person merges into the stored events, so that
    /// person queries stop resolving them row by row. The server calls it
    /// after a few seconds without events; cheap when there is nothing to do.
    async fn maintain(&self) -> Result<()> {
        Ok(())
    }

    /// Lists events newest first with a total count.
    async fn list_events(&self, scope: ProjectScope, query: EventQuery) -> Result<EventPage>;

    /// The person a distinct id belongs to, if it was ever seen.
    async fn person(&self, scope: ProjectScope, distinct_id: &str) -> Result<Option<PersonRecord>>;

    /// Event ids received since `since` (newest first, at most `limit`), to
    /// warm the dedupe window after a restart.
    async fn recent_event_ids(&self, since: Micros, limit: usize) -> Result<Vec<(ProjectId, Uuid)>>;

    /// Number of events stored for a project.
    async fn count_events(&self, scope: ProjectScope) -> Result<u64>;

    /// Runs an analytics statement over one project's rows and answers in
    /// Arrow. The statement names its inputs only through these relations,
    /// which the backend replaces with the project's rows, so a statement
    /// cannot read another project:
    /// - `{events}`: every column of the events table, `person_id` resolved
    ///   through merges (the person now, not the one at ingest), and
    ///   `person_key`, the same person as a dense integer of the project
    ///   (1, 2, 3, ...: see `crate::person_keys`), for grouping by person;
    /// - `{events_no_person}`: every column but `person_id` and `person_key`, for statements
    ///   that need no person: resolving merges costs a lookup per row;
    /// - `{persons}`: `person_id, properties, is_identified, first_seen, last_seen`;
    /// - `{distinct_ids}`: `distinct_id, person_id`.
    ///
    /// User input must reach it only as `params`, one per `?` in order.
    /// The backend binds them, or writes them into the text as strictly
    /// quoted, typed literals (DuckDB: see `duckdb::capi`); either way a
    /// value stays a value. UUID columns arrive as their text.
    async fn query(&self, scope: ProjectScope, sql: String, params: Vec<SqlParam>) -> Result<Vec<RecordBatch>>;
}

/// A bare event for this crate's unit tests (the integration tests use
/// `px_testkit`, which depends on this crate). Its person is left nil: the
/// person graph sets it when the event is planned.
#[cfg(test)]
pub(crate) fn test_event(
    scope: px_core::ProjectScope,
    name: &str,
    distinct_id: &str,
    link: Option<px_core::event::PersonLink>,
    ts: px_core::time::Micros,
) -> ScopedEvent {
    ScopedEvent {
        scope,
        event: px_core::Event {
            event_id: uuid::Uuid::now_v7(),
            event: name.into(),
            distinct_id: distinct_id.into(),
            person_id: uuid::Uuid::nil(),
            session_id: None,
            timestamp: ts,
            received_at: ts,
            properties: serde_json::Map::new(),
            person_set: None,
            person_set_once: None,
            link,
            enrichment: px_core::Enrichment::default(),
            timestamp_clamped: false,
        },
    }
}
