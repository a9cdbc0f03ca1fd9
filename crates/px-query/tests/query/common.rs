//! Test fixtures: a real DuckDB store in a temp dir and a terse way to fill it.

use px_core::event::{PersonLink, person_id_for};
use px_core::{Enrichment, Event, ProjectId, ProjectScope, TenantId};
use px_query::{Context, Query};
use px_store::{DuckDbEventStore, EventStore, ScopedEvent};
use serde_json::{Map, Value};
use uuid::Uuid;

pub const P: ProjectScope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };
pub const OTHER: ProjectScope = ProjectScope { tenant_id: TenantId(2), project_id: ProjectId(2) };

pub fn us(s: &str) -> i64 {
    px_core::time::parse_rfc3339(s).unwrap_or_else(|| panic!("bad time {s}"))
}

pub struct Fixture {
    pub store: DuckDbEventStore,
    _dir: tempfile::TempDir,
    pending: Vec<ScopedEvent>,
    seq: u128,
}

/// One event to add: name, distinct id, RFC 3339 time.
pub struct Ev {
    pub scope: ProjectScope,
    pub name: String,
    pub distinct_id: String,
    pub ts: i64,
    pub session: Option<String>,
    pub props: Map<String, Value>,
    pub enrichment: Enrichment,
    pub link: Option<PersonLink>,
    pub set: Option<Map<String, Value>>,
}

pub fn ev(name: &str, distinct_id: &str, ts: &str) -> Ev {
    Ev {
        scope: P,
        name: name.into(),
        distinct_id: distinct_id.into(),
        ts: us(ts),
        session: Some(format!("s-{distinct_id}")),
        props: Map::new(),
        enrichment: Enrichment::default(),
        link: None,
        set: None,
    }
}

impl Ev {
    pub fn props(mut self, v: Value) -> Self {
        self.props = v.as_object().cloned().unwrap();
        self
    }
    pub fn browser(mut self, b: &str) -> Self {
        self.enrichment.browser = Some(b.into());
        self
    }
    pub fn path(mut self, p: &str) -> Self {
        self.enrichment.path = Some(p.into());
        self
    }
    pub fn session(mut self, s: &str) -> Self {
        self.session = Some(s.into());
        self
    }
    pub fn scope(mut self, s: ProjectScope) -> Self {
        self.scope = s;
        self
    }
    pub fn identify(mut self, anonymous_id: &str) -> Self {
        self.link = Some(PersonLink::Identify { anonymous_id: anonymous_id.into() });
        self
    }
    pub fn set(mut self, v: Value) -> Self {
        self.set = v.as_object().cloned();
        self
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
        Fixture { store, _dir: dir, pending: Vec::new(), seq: 0 }
    }

    pub fn add(&mut self, e: Ev) -> &mut Self {
        self.seq += 1;
        self.pending.push(ScopedEvent {
            scope: e.scope,
            event: Event {
                // Ids ascend in insertion order, so equal timestamps order as added.
                event_id: Uuid::from_u128(self.seq),
                event: e.name,
                distinct_id: e.distinct_id.clone(),
                person_id: person_id_for(e.scope.project_id, &e.distinct_id),
                session_id: e.session,
                timestamp: e.ts,
                received_at: e.ts,
                properties: e.props,
                person_set: e.set,
                person_set_once: None,
                link: e.link,
                enrichment: e.enrichment,
                timestamp_clamped: false,
            },
        });
        self
    }

    pub async fn commit(&mut self) {
        let batch = std::mem::take(&mut self.pending);
        self.store.append(batch).await.unwrap();
    }

    /// Runs a JSON query in project P at `now`, UTC.
    pub async fn run(&mut self, now: &str, q: Value) -> Value {
        self.try_run(now, q).await.unwrap_or_else(|e| panic!("query failed: {e}"))
    }

    pub async fn try_run(&mut self, now: &str, q: Value) -> Result<Value, px_query::QueryError> {
        if !self.pending.is_empty() {
            self.commit().await;
        }
        let query: Query = serde_json::from_value(q)
            .map_err(|e| px_query::QueryError::Invalid { field: "body".into(), message: e.to_string() })?;
        let ctx = Context { scope: P, timezone: "UTC".into(), now: us(now) };
        px_query::run(&self.store, &ctx, &query).await
    }
}

pub fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

pub fn ints(v: &Value) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect()
}
