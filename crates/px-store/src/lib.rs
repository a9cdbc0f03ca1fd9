//! Storage seams and their backends. Callers see the [`EventStore`] and
//! [`MetaStore`] traits only; a backend is chosen once at boot from config
//! and passed around as `Arc<dyn ...>`. Embedded backends: DuckDB for events
//! and persons, SQLite for metadata. Scale-out backends (ClickHouse,
//! PostgreSQL) are siblings of these modules.

pub mod duckdb;
pub mod error;
pub mod event_store;
pub mod meta_store;
pub mod person_keys;
pub mod persons;
pub mod spool;
pub mod sqlite;

pub use self::duckdb::DuckDbEventStore;
pub use error::{Result, StoreError};
pub use event_store::{
    Commit, Cursor, EventPage, EventQuery, EventRecord, EventStore, PersonRecord, ScopedEvent, SqlParam,
};
pub use meta_store::{
    ApiKey, Insight, InsightFilter, InsightStatus, InsightUpdate, KeyKind, MetaStore, NewInsight, NewProject, Project,
    Role, Tenant, User,
};
pub use sqlite::SqliteMetaStore;
