//! Runs a typed query against a store: validates it, resolves its time
//! span, dispatches to the kind's planner and shapes the answer.

use crate::error::{Result, invalid};
use crate::model::{Common, Query};
use crate::sql::Sql;
use crate::time::{OffsetMap, Span, parse_tz};
use arrow::record_batch::RecordBatch;
use chrono_tz::Tz;
use px_core::ProjectScope;
use px_core::time::Micros;
use px_store::EventStore;
use serde_json::Value;

/// What a query runs within: the project (every statement is scoped to
/// it by the store) and the clock relative ranges are read against.
#[derive(Debug, Clone)]
pub struct Context {
    pub scope: ProjectScope,
    /// The project's time zone, used unless the query names another.
    pub timezone: String,
    pub now: Micros,
}

/// The resolved time settings of one query.
#[derive(Debug, Clone)]
pub struct TimeFrame {
    pub span: Span,
    pub offsets: OffsetMap,
    pub tz: Tz,
}

impl TimeFrame {
    pub fn new(common: &Common, ctx: &Context, default_from: &str) -> Result<TimeFrame> {
        let tz_name = common.timezone.as_deref().unwrap_or(&ctx.timezone);
        let tz = parse_tz(tz_name).map_err(|m| invalid("timezone", m))?;
        let span = Span::resolve(&common.date_range, tz, ctx.now, default_from).map_err(|(f, m)| invalid(&f, m))?;
        Ok(TimeFrame { offsets: OffsetMap::new(tz, span.from, span.to), span, tz })
    }

    /// The same settings over another span (a comparison period).
    pub fn with_span(&self, span: Span) -> TimeFrame {
        TimeFrame { offsets: OffsetMap::new(self.tz, span.from, span.to), span, tz: self.tz }
    }

    /// `e.timestamp` within the span, as SQL.
    pub fn where_sql(&self) -> Sql {
        let mut s = Sql::new();
        s.push("e.timestamp >= make_timestamp(").bind(self.span.from);
        s.push(") AND e.timestamp < make_timestamp(").bind(self.span.to).push(")");
        s
    }

    pub fn describe(&self) -> Value {
        serde_json::json!({
            "from": px_core::time::to_rfc3339(self.span.from),
            "to": px_core::time::to_rfc3339(self.span.to),
            "timezone": self.tz.name(),
        })
    }
}

/// Runs statements for the planners.
pub struct Runner<'a> {
    pub store: &'a dyn EventStore,
    pub scope: ProjectScope,
}

impl Runner<'_> {
    pub async fn fetch(&self, sql: Sql) -> Result<Vec<RecordBatch>> {
        tracing::debug!(sql = %sql.text, "query");
        Ok(self.store.query(self.scope, sql.text, sql.params).await?)
    }
}

/// Validates and answers `query` as JSON.
pub async fn run(store: &dyn EventStore, ctx: &Context, query: &Query) -> Result<Value> {
    query.validate()?;
    // The store marks each statement; this also covers the evaluation in
    // Rust between and after them (a funnel's is most of a second on 100M).
    let _busy = px_core::memory::busy();
    let runner = Runner { store, scope: ctx.scope };
    match query {
        Query::Trend(q) => crate::trend::run(&runner, ctx, q).await,
        Query::Funnel(q) => crate::funnel_query::run(&runner, ctx, q).await,
        Query::Retention(q) => crate::retention::run(&runner, ctx, q).await,
        Query::Paths(q) => crate::paths::run(&runner, ctx, q).await,
        Query::Stickiness(q) => crate::stickiness::run(&runner, ctx, q).await,
        Query::Lifecycle(q) => crate::lifecycle::run(&runner, ctx, q).await,
        Query::Persons(q) => crate::people::persons(&runner, q).await,
        Query::Timeline(q) => crate::people::timeline(&runner, ctx, q).await,
        Query::Sessions(q) => crate::people::sessions(&runner, ctx, q).await,
    }
}
