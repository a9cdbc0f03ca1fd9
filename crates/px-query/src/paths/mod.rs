//! Paths: the most common sequences of pages (or events) within sessions,
//! as weighted edges between steps, ready for a Sankey chart.
//!
//! Semantics: a session's sequence is its page views' paths (`page_view`,
//! or PostHog's `$pageview`), or its event names, in time order (nodes at
//! the same instant ordered by name), with immediate repeats (reloads)
//! collapsed. With `start`, each session contributes the `depth` nodes
//! from the first time it reaches `start`; with `end`, the `depth` nodes up
//! to the first time it reaches `end` (aligned so `end` is the last step);
//! otherwise the first `depth` nodes. Edges are ranked by weight, then
//! source, target.
//!
//! As for funnels, SQL gathers and Rust evaluates: the statement only
//! narrows the rows to those that can be on a path and numbers sessions
//! and nodes (`gather_sql`), and `walk` builds each session's sequence
//! and counts the edges. Building sequences in SQL takes two window passes
//! partitioned by session (one to collapse repeats, one to number the
//! steps), and their sorts were most of the query's time.

mod walk;

use crate::engine::{Context, Runner, TimeFrame};
use crate::error::{QueryError, Result};
use crate::filter;
use crate::model::{PathItem, PathsQuery};
use crate::sql::Sql;
use crate::trend::from_events;
use serde::Serialize;
use serde_json::{Value, json};
use walk::{Anchor, Sessions};

pub const DEFAULT_DEPTH: usize = 5;
pub const DEFAULT_EDGE_LIMIT: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    /// 1-based step of the source node.
    pub step: i64,
    pub source: String,
    pub target: String,
    pub weight: i64,
}

pub async fn run(runner: &Runner<'_>, ctx: &Context, q: &PathsQuery) -> Result<Value> {
    let tf = TimeFrame::new(&q.common, ctx, "-7d")?;
    let depth = q.depth.unwrap_or(DEFAULT_DEPTH);
    let anchor = match (&q.start, &q.end) {
        (Some(start), _) => Anchor::Start(start.clone()),
        (None, Some(end)) => Anchor::End(end.clone()),
        (None, None) => Anchor::None,
    };
    let started = std::time::Instant::now();
    let batches = runner.fetch(gather_sql(q, &tf)).await?;
    let fetched = started.elapsed();
    // CPU-bound: off the async workers.
    let edges = tokio::task::spawn_blocking(move || Sessions::from_batches(&batches)?.edges(&anchor, depth))
        .await
        .map_err(|e| QueryError::Shape(format!("paths evaluation: {e}")))??;
    tracing::debug!(
        fetch_ms = fetched.as_millis() as u64,
        evaluate_ms = (started.elapsed() - fetched).as_millis() as u64,
        "paths"
    );
    let edges = top_edges(edges, q.edge_limit.unwrap_or(DEFAULT_EDGE_LIMIT));
    Ok(json!({ "kind": "paths", "item": q.item, "date_range": tf.describe(), "depth": depth, "edges": edges }))
}

/// The statement gathering the rows the evaluation needs, as `(idx, ts,
/// nid, name)`: each node a session visited, with its timestamp in
/// microseconds, the session as a dense index `idx` from 1 and the node as
/// a dense id `nid` from 1; and one row per node id with `idx` 0 and the
/// node's `name`. Integers are several times cheaper than text to hand
/// over and to group in Rust.
///
/// With an anchor, only the sessions that reach it, and only their rows
/// from (`start`) or up to (`end`) the first instant they do: nothing else
/// can be on their path. That instant is kept whole, since the order of
/// its nodes is decided in Rust. The sessions are numbered in the same
/// grouping that finds them.
fn gather_sql(q: &PathsQuery, tf: &TimeFrame) -> Sql {
    let mut ev = Sql::new();
    let node = match q.item {
        PathItem::Pageviews => "coalesce(e.path, '/')",
        PathItem::Events => "e.event",
    };
    ev.push("SELECT e.session_uuid AS sid, epoch_us(e.timestamp) AS ts, ").push(node).push(" AS node ");
    // Paths follow sessions, not persons: unless a filter reads person
    // properties, the events' persons need not be resolved through merges.
    if filter::needs_persons(&q.common.filters) {
        ev.append(from_events(q.common.filters.iter(), None));
    } else {
        ev.push("FROM {events_no_person} e");
    }
    ev.push(" WHERE ").append(tf.where_sql()).push(" AND e.session_uuid IS NOT NULL");
    if q.item == PathItem::Pageviews {
        ev.push(" AND ").append(crate::sql::is_page_view());
    }
    ev.push(" AND ").append(filter::to_sql(&q.common.filters));
    let mut sql = Sql::new();
    sql.push("WITH ev AS (").append(ev).push("), ");
    match (&q.start, &q.end) {
        (Some(node), _) | (None, Some(node)) => {
            let keep = if q.start.is_some() { ">=" } else { "<=" };
            sql.push("s AS (SELECT sid, min(ts) AS t, row_number() OVER () AS idx FROM ev WHERE node = ");
            sql.bind(node.as_str()).push(" GROUP BY sid), ");
            sql.push(&format!(
                "k AS (SELECT s.idx, ev.ts, ev.node FROM ev JOIN s ON s.sid = ev.sid AND ev.ts {keep} s.t), "
            ));
        }
        (None, None) => {
            sql.push("s AS (SELECT sid, row_number() OVER () AS idx FROM ev GROUP BY sid), ");
            sql.push("k AS (SELECT s.idx, ev.ts, ev.node FROM ev JOIN s ON s.sid = ev.sid), ");
        }
    }
    sql.push("n AS (SELECT node, row_number() OVER () AS nid FROM (SELECT DISTINCT node FROM k)) ");
    sql.push("SELECT k.idx, k.ts, n.nid, NULL::VARCHAR AS name FROM k JOIN n ON n.node = k.node ");
    sql.push("UNION ALL SELECT 0, 0, nid, node FROM n");
    sql
}

/// The heaviest `limit` edges of each step, by weight then source, target.
pub fn top_edges(mut edges: Vec<Edge>, limit: usize) -> Vec<Edge> {
    edges.sort_by(|a, b| {
        a.step
            .cmp(&b.step)
            .then_with(|| b.weight.cmp(&a.weight))
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.target.cmp(&b.target))
    });
    let mut out: Vec<Edge> = Vec::new();
    let mut in_step = 0;
    for e in edges {
        if out.last().is_some_and(|l| l.step == e.step) {
            in_step += 1;
        } else {
            in_step = 1;
        }
        if in_step <= limit {
            out.push(e);
        }
    }
    out
}
