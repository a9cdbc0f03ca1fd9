//! Feature extraction: what the detectors read, pulled from the event store
//! in a handful of project-scoped statements over one time window.
//!
//! The unit is the session: every observation (a started step, a page view,
//! an LCP, an error, a rage click, a feedback) points at the session it
//! happened in, and the session carries its time bucket and its segment
//! (browser, OS, device, country, plan, release, traffic source). That lets
//! every detector slice any signal by any segment in memory, which is what
//! root-cause search needs, without one SQL statement per slice.

use arrow::array::Array;
use px_core::ProjectScope;
use px_core::props;
use px_query::error::Result;
use px_query::rows;
use px_query::sql::Sql;
use px_store::EventStore;
use std::collections::HashMap;

/// The segment dimensions root-cause search tries, in this order.
pub const DIMS: [&str; 7] = ["browser", "os", "device_type", "country", "plan", "app_version", "source"];

/// Funnel steps are discovered by name: `<stem>_started` followed by
/// `<stem>_completed` (signup, checkout, onboarding, ...).
const STARTED: &str = "_started";
const COMPLETED: &str = "_completed";

/// The analysed span, cut into equal buckets ending at `from + bucket * buckets`
/// (the run's "now"), so the newest bucket is always complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    /// Bucket length in microseconds.
    pub bucket: i64,
    pub buckets: usize,
}

impl Window {
    /// `buckets` buckets of `bucket` microseconds ending at `now`.
    pub fn ending_at(now: i64, bucket: i64, buckets: usize) -> Window {
        Window { from: now - bucket * buckets as i64, bucket, buckets }
    }

    pub fn to(&self) -> i64 {
        self.from + self.bucket * self.buckets as i64
    }

    pub fn bucket_of(&self, t: i64) -> Option<u16> {
        let i = (t - self.from).div_euclid(self.bucket);
        (0..self.buckets as i64).contains(&i).then_some(i as u16)
    }

    pub fn bucket_start(&self, i: usize) -> i64 {
        self.from + self.bucket * i as i64
    }
}

/// Strings seen in one column, numbered from 1; 0 is "unset".
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s.filter(|s| !s.is_empty()) else { return 0 };
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        self.names.push(s.to_string());
        let id = self.names.len() as u32;
        self.ids.insert(s.to_string(), id);
        id
    }

    /// The string of `id`; `None` for 0 (unset).
    pub fn name(&self, id: u32) -> Option<&str> {
        id.checked_sub(1).and_then(|i| self.names.get(i as usize)).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub person: String,
    pub bucket: u16,
    pub start: i64,
    /// Interned value per [`DIMS`] entry; 0 when unknown.
    pub dims: [u32; DIMS.len()],
    /// Path id of the first page view.
    pub entry: u32,
    pub views: u32,
    /// One page view and under 10 seconds.
    pub bounced: bool,
    /// Bit i: the session did `Dataset::key_events[i]`.
    pub steps: u64,
    pub revenue: f64,
}

/// Errors of one message on one page in one session.
#[derive(Debug, Clone)]
pub struct ErrorRow {
    pub session: u32,
    pub path: u32,
    pub message: u32,
    pub count: u32,
    /// Microseconds between the first and the last of them.
    pub span: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClickKind {
    Rage,
    Dead,
}

#[derive(Debug, Clone)]
pub struct ClickRow {
    pub session: u32,
    pub path: u32,
    pub kind: ClickKind,
    pub selector: u32,
}

#[derive(Debug, Clone)]
pub struct FeedbackRow {
    pub session: u32,
    pub rating: Option<f64>,
    pub comment: String,
}

/// Everything one engine pass reads, for one project and window.
#[derive(Debug, Default)]
pub struct Dataset {
    pub window: Option<Window>,
    pub sessions: Vec<Session>,
    /// Per dimension, its values.
    pub values: Vec<Interner>,
    pub paths: Interner,
    pub messages: Interner,
    pub selectors: Interner,
    /// Events that make funnel steps, in bit order of `Session::steps`.
    pub key_events: Vec<String>,
    /// (started, completed) indexes into `key_events`.
    pub pairs: Vec<(usize, usize)>,
    /// (session, path) of every page viewed, once per session.
    pub page_views: Vec<(u32, u32)>,
    /// (session, path, LCP in ms).
    pub lcp: Vec<(u32, u32, f64)>,
    pub errors: Vec<ErrorRow>,
    pub clicks: Vec<ClickRow>,
    pub feedback: Vec<FeedbackRow>,
}

impl Dataset {
    pub fn window(&self) -> Window {
        self.window.unwrap_or(Window { from: 0, bucket: 1, buckets: 0 })
    }

    pub fn dim_value(&self, dim: usize, id: u32) -> Option<&str> {
        self.values.get(dim).and_then(|v| v.name(id))
    }
}

fn window_sql(w: &Window) -> Sql {
    let mut s = Sql::new();
    s.push("e.timestamp >= make_timestamp(").bind(w.from);
    s.push(") AND e.timestamp < make_timestamp(").bind(w.to()).push(")");
    s
}

fn bind_list(s: &mut Sql, items: &[&str]) {
    s.push("(");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.bind(item.to_string());
    }
    s.push(")");
}

async fn fetch(store: &dyn EventStore, scope: ProjectScope, sql: Sql) -> Result<Vec<arrow::record_batch::RecordBatch>> {
    tracing::debug!(sql = %sql.text, "ai features");
    Ok(store.query(scope, sql.text, sql.params).await?)
}

/// Reads the window's features for one project.
pub async fn extract(store: &dyn EventStore, scope: ProjectScope, window: Window) -> Result<Dataset> {
    let mut data =
        Dataset { window: Some(window), values: vec![Interner::default(); DIMS.len()], ..Default::default() };
    discover_steps(store, scope, &mut data).await?;
    let index = sessions(store, scope, &mut data).await?;
    page_views(store, scope, &mut data, &index).await?;
    vitals(store, scope, &mut data, &index).await?;
    errors(store, scope, &mut data, &index).await?;
    clicks(store, scope, &mut data, &index).await?;
    feedback(store, scope, &mut data, &index).await?;
    Ok(data)
}

async fn discover_steps(store: &dyn EventStore, scope: ProjectScope, data: &mut Dataset) -> Result<()> {
    let w = data.window();
    let mut sql = Sql::new();
    sql.push("SELECT DISTINCT e.event FROM {events} e WHERE ").append(window_sql(&w));
    sql.push(" AND (e.event LIKE '%\\_started' ESCAPE '\\' OR e.event LIKE '%\\_completed' ESCAPE '\\')");
    let mut names = Vec::new();
    for batch in fetch(store, scope, sql).await? {
        let ev = rows::strs(&batch, "event")?;
        names.extend((0..batch.num_rows()).map(|i| ev.value(i).to_string()));
    }
    names.sort();
    for started in names.iter().filter(|n| n.ends_with(STARTED)) {
        let completed = format!("{}{COMPLETED}", &started[..started.len() - STARTED.len()]);
        if names.contains(&completed) && data.key_events.len() + 2 <= 64 {
            data.key_events.push(started.clone());
            data.key_events.push(completed);
            data.pairs.push((data.key_events.len() - 2, data.key_events.len() - 1));
        }
    }
    Ok(())
}

async fn sessions(store: &dyn EventStore, scope: ProjectScope, data: &mut Dataset) -> Result<HashMap<String, u32>> {
    let w = data.window();
    let key_events: Vec<&str> = data.key_events.iter().map(String::as_str).collect();
    let completed: Vec<&str> = data.pairs.iter().map(|&(_, c)| key_events[c]).collect();
    let mut sql = Sql::new();
    sql.push("WITH s AS (SELECT any_value(e.session_id) AS sid, any_value(e.person_id) AS pid, any_value(e.distinct_id) AS did, ");
    sql.push("epoch_us(min(e.timestamp)) AS start, epoch_us(max(e.timestamp)) AS finish, ");
    for d in ["browser", "os", "device_type", "country"] {
        sql.push(&format!("arg_min(e.{d}, e.timestamp) AS {d}, "));
    }
    sql.push("arg_min(json_extract_string(e.properties, '$.app_version'), e.timestamp) AS app_version, ");
    sql.push("arg_min(coalesce(e.utm_source, e.referrer_domain, '$direct'), e.timestamp) AS source, ");
    sql.push("arg_min(e.path, e.timestamp) FILTER (WHERE e.event IN ");
    bind_list(&mut sql, &props::PAGE_VIEW_EVENTS);
    sql.push(") AS entry, count(*) FILTER (WHERE e.event IN ");
    bind_list(&mut sql, &props::PAGE_VIEW_EVENTS);
    sql.push(") AS views, ");
    if key_events.is_empty() {
        sql.push("NULL::VARCHAR AS steps, 0.0 AS revenue ");
    } else {
        sql.push("string_agg(DISTINCT e.event, chr(31)) FILTER (WHERE e.event IN ");
        bind_list(&mut sql, &key_events);
        sql.push(") AS steps, coalesce(sum(TRY_CAST(json_extract_string(e.properties, '$.revenue') AS DOUBLE)) ");
        sql.push("FILTER (WHERE e.event IN ");
        bind_list(&mut sql, &completed);
        sql.push("), 0) AS revenue ");
    }
    sql.push("FROM {events} e WHERE e.session_uuid IS NOT NULL AND ").append(window_sql(&w));
    sql.push(" GROUP BY e.session_uuid) ");
    sql.push("SELECT s.sid, s.pid::VARCHAR AS pid, s.start, s.finish, s.browser, s.os, s.device_type, s.country, ");
    // A person's properties are today's: they describe the sessions under
    // the person's own id, not the anonymous ones merged into it (a
    // visitor was not on the free plan before signing up).
    sql.push(
        "CASE WHEN coalesce(d.merged, false) THEN NULL ELSE json_extract_string(p.properties, '$.plan') END AS plan, ",
    );
    sql.push("s.app_version, s.source, s.entry, s.views, s.steps, s.revenue FROM s ");
    sql.push("LEFT JOIN {persons} p ON p.person_id = s.pid LEFT JOIN {distinct_ids} d ON d.distinct_id = s.did");
    let mut index = HashMap::new();
    for batch in fetch(store, scope, sql).await? {
        let (sid, pid, start, finish) = (
            rows::strs(&batch, "sid")?,
            rows::strs(&batch, "pid")?,
            rows::i64s(&batch, "start")?,
            rows::i64s(&batch, "finish")?,
        );
        let dim_cols = DIMS.iter().map(|d| rows::strs(&batch, d)).collect::<Result<Vec<_>>>()?;
        let (entry, views, steps, revenue) = (
            rows::strs(&batch, "entry")?,
            rows::i64s(&batch, "views")?,
            rows::strs(&batch, "steps")?,
            rows::f64s(&batch, "revenue")?,
        );
        for i in 0..batch.num_rows() {
            let Some(bucket) = w.bucket_of(start.value(i)) else { continue };
            let mut dims = [0; DIMS.len()];
            for (d, col) in dim_cols.iter().enumerate() {
                dims[d] = data.values[d].intern(rows::opt_str(col, i).as_deref());
            }
            let mut bits = 0u64;
            if !steps.is_null(i) {
                for name in steps.value(i).split('\u{1f}') {
                    if let Some(b) = data.key_events.iter().position(|k| k == name) {
                        bits |= 1 << b;
                    }
                }
            }
            let views = views.value(i).max(0) as u32;
            let duration = finish.value(i) - start.value(i);
            index.insert(sid.value(i).to_string(), data.sessions.len() as u32);
            data.sessions.push(Session {
                id: sid.value(i).to_string(),
                person: if pid.is_null(i) { String::new() } else { pid.value(i).to_string() },
                bucket,
                start: start.value(i),
                dims,
                entry: data.paths.intern(rows::opt_str(&entry, i).as_deref()),
                views,
                bounced: views == 1 && duration < px_query::people::BOUNCE_MICROS,
                steps: bits,
                revenue: if revenue.is_null(i) { 0.0 } else { revenue.value(i) },
            });
        }
    }
    Ok(index)
}

/// Rows of `sql` whose `sid` column is a session of the window, with the
/// session's index.
fn session_rows<'a>(
    batch: &'a arrow::record_batch::RecordBatch,
    index: &'a HashMap<String, u32>,
) -> Result<impl Iterator<Item = (usize, u32)> + 'a> {
    let sid = rows::strs(batch, "sid")?;
    Ok((0..batch.num_rows()).filter_map(move |i| {
        if sid.is_null(i) {
            return None;
        }
        index.get(sid.value(i)).map(|&s| (i, s))
    }))
}

async fn page_views(
    store: &dyn EventStore,
    scope: ProjectScope,
    data: &mut Dataset,
    index: &HashMap<String, u32>,
) -> Result<()> {
    let mut sql = Sql::new();
    sql.push("SELECT DISTINCT e.session_id AS sid, e.path FROM {events} e WHERE e.path IS NOT NULL AND e.event IN ");
    bind_list(&mut sql, &props::PAGE_VIEW_EVENTS);
    sql.push(" AND ").append(window_sql(&data.window()));
    for batch in fetch(store, scope, sql).await? {
        let path = rows::strs(&batch, "path")?;
        for (i, s) in session_rows(&batch, index)? {
            let p = data.paths.intern(Some(path.value(i)));
            data.page_views.push((s, p));
        }
    }
    Ok(())
}

async fn vitals(
    store: &dyn EventStore,
    scope: ProjectScope,
    data: &mut Dataset,
    index: &HashMap<String, u32>,
) -> Result<()> {
    let mut sql = Sql::new();
    sql.push(
        "SELECT e.session_id AS sid, e.path, TRY_CAST(json_extract_string(e.properties, '$.value') AS DOUBLE) AS v ",
    );
    sql.push("FROM {events} e WHERE e.event = ").bind(props::EVENT_WEB_VITAL.to_string());
    sql.push(" AND json_extract_string(e.properties, '$.name') = 'LCP' AND e.path IS NOT NULL AND ");
    sql.append(window_sql(&data.window()));
    for batch in fetch(store, scope, sql).await? {
        let (path, v) = (rows::strs(&batch, "path")?, rows::f64s(&batch, "v")?);
        for (i, s) in session_rows(&batch, index)? {
            if !v.is_null(i) && v.value(i) > 0.0 {
                let p = data.paths.intern(Some(path.value(i)));
                data.lcp.push((s, p, v.value(i)));
            }
        }
    }
    Ok(())
}

/// Longest error message kept: the first line, which names the error.
const MESSAGE_CHARS: i64 = 200;

async fn errors(
    store: &dyn EventStore,
    scope: ProjectScope,
    data: &mut Dataset,
    index: &HashMap<String, u32>,
) -> Result<()> {
    let mut sql = Sql::new();
    sql.push("SELECT e.session_id AS sid, coalesce(e.path, '') AS path, ");
    sql.push("left(split_part(coalesce(json_extract_string(e.properties, '$.message'), ");
    sql.push("json_extract_string(e.properties, '$.$exception_message'), 'unknown error'), chr(10), 1), ");
    sql.bind(MESSAGE_CHARS).push(") AS message, count(*) AS n, ");
    sql.push("epoch_us(max(e.timestamp)) - epoch_us(min(e.timestamp)) AS span FROM {events} e WHERE e.event IN ");
    bind_list(&mut sql, &[props::EVENT_ERROR, "$exception"]);
    sql.push(" AND ").append(window_sql(&data.window())).push(" GROUP BY ALL");
    for batch in fetch(store, scope, sql).await? {
        let (path, message, n, span) = (
            rows::strs(&batch, "path")?,
            rows::strs(&batch, "message")?,
            rows::i64s(&batch, "n")?,
            rows::i64s(&batch, "span")?,
        );
        for (i, s) in session_rows(&batch, index)? {
            data.errors.push(ErrorRow {
                session: s,
                path: data.paths.intern(Some(path.value(i))),
                message: data.messages.intern(Some(message.value(i))),
                count: n.value(i).clamp(0, u32::MAX as i64) as u32,
                span: span.value(i),
            });
        }
    }
    Ok(())
}

async fn clicks(
    store: &dyn EventStore,
    scope: ProjectScope,
    data: &mut Dataset,
    index: &HashMap<String, u32>,
) -> Result<()> {
    let mut sql = Sql::new();
    sql.push("SELECT DISTINCT e.session_id AS sid, coalesce(e.path, '') AS path, e.event, ");
    sql.push(
        "coalesce(json_extract_string(e.properties, '$.selector'), '') AS selector FROM {events} e WHERE e.event IN ",
    );
    bind_list(&mut sql, &[props::EVENT_RAGE_CLICK, props::EVENT_DEAD_CLICK]);
    sql.push(" AND ").append(window_sql(&data.window()));
    for batch in fetch(store, scope, sql).await? {
        let (path, event, selector) =
            (rows::strs(&batch, "path")?, rows::strs(&batch, "event")?, rows::strs(&batch, "selector")?);
        for (i, s) in session_rows(&batch, index)? {
            data.clicks.push(ClickRow {
                session: s,
                path: data.paths.intern(Some(path.value(i))),
                kind: if event.value(i) == props::EVENT_RAGE_CLICK { ClickKind::Rage } else { ClickKind::Dead },
                selector: data.selectors.intern(Some(selector.value(i))),
            });
        }
    }
    Ok(())
}

/// Longest feedback text read; longer ones are cut (themes need the gist).
const COMMENT_CHARS: i64 = 1000;

async fn feedback(
    store: &dyn EventStore,
    scope: ProjectScope,
    data: &mut Dataset,
    index: &HashMap<String, u32>,
) -> Result<()> {
    let mut sql = Sql::new();
    sql.push(
        "SELECT e.session_id AS sid, TRY_CAST(json_extract_string(e.properties, '$.rating') AS DOUBLE) AS rating, ",
    );
    sql.push("left(json_extract_string(e.properties, '$.comment'), ").bind(COMMENT_CHARS).push(") AS comment ");
    sql.push("FROM {events} e WHERE e.event = ").bind(props::EVENT_FEEDBACK.to_string());
    sql.push(" AND ").append(window_sql(&data.window()));
    for batch in fetch(store, scope, sql).await? {
        let (rating, comment) = (rows::f64s(&batch, "rating")?, rows::strs(&batch, "comment")?);
        for (i, s) in session_rows(&batch, index)? {
            data.feedback.push(FeedbackRow {
                session: s,
                rating: rows::opt_f64(&rating, i),
                comment: rows::opt_str(&comment, i).unwrap_or_default(),
            });
        }
    }
    Ok(())
}
