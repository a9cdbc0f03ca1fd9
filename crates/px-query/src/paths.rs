//! Paths: the most common sequences of pages (or events) within sessions,
//! as weighted edges between steps, ready for a Sankey chart.
//!
//! Semantics: a session's sequence is its page views' paths (`page_view`,
//! or PostHog's `$pageview`), or its event names, in time order (nodes at
//! the same instant ordered by name), with immediate repeats (reloads)
//! collapsed. With `start`, each session contributes the `depth` nodes from the first time
//! it reaches `start`; with `end`, the `depth` nodes up to the first time
//! it reaches `end` (aligned so `end` is the last step); otherwise the
//! first `depth` nodes. Edges are ranked by weight, then source, target.

use crate::engine::{Context, Runner, TimeFrame};
use crate::error::Result;
use crate::filter;
use crate::model::{PathItem, PathsQuery};
use crate::rows;
use crate::sql::Sql;
use crate::trend::from_events;
use serde::Serialize;
use serde_json::{Value, json};

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
    let depth = q.depth.unwrap_or(DEFAULT_DEPTH) as i64;
    let mut ev = Sql::new();
    let node = match q.item {
        PathItem::Pageviews => "coalesce(e.path, '/')",
        PathItem::Events => "e.event",
    };
    ev.push("SELECT e.session_id AS sid, epoch_us(e.timestamp) AS ts, ").push(node).push(" AS node ");
    ev.append(from_events(q.common.filters.iter(), None));
    ev.push(" WHERE ").append(tf.where_sql()).push(" AND e.session_id IS NOT NULL");
    if q.item == PathItem::Pageviews {
        ev.push(" AND ").append(crate::sql::is_page_view());
    }
    ev.push(" AND ").append(filter::to_sql(&q.common.filters));

    // Nodes become integers ordered like their names, and sessions
    // integers, before the window passes: sorting and partitioning on
    // integers is several times cheaper than on text or event ids, and the
    // sort is most of the query.
    let mut sql = Sql::new();
    sql.push("WITH ev AS (").append(ev).push("), ");
    sql.push("n AS (SELECT node, row_number() OVER (ORDER BY node) AS nid FROM (SELECT DISTINCT node FROM ev)), ");
    // Sessions too: partitioning by an integer is cheaper than by text.
    sql.push("s AS (SELECT sid AS session, row_number() OVER () AS sid FROM (SELECT DISTINCT sid FROM ev)), ");
    sql.push("x AS (SELECT s.sid, ev.ts, n.nid FROM ev JOIN n ON n.node = ev.node JOIN s ON s.session = ev.sid), ");
    sql.push("d AS (SELECT sid, ts, nid, lag(nid) OVER (PARTITION BY sid ORDER BY ts, nid) AS prev FROM x), ");
    sql.push("seq AS (SELECT sid, nid, row_number() OVER (PARTITION BY sid ORDER BY ts, nid) AS i ");
    sql.push("FROM d WHERE prev IS DISTINCT FROM nid), ");
    // `a` is the index of the anchor node per session; positions count from it.
    match (&q.start, &q.end) {
        (Some(start), _) => {
            sql.push("anchor AS (SELECT sid, min(i) AS a FROM seq WHERE nid = (SELECT nid FROM n WHERE node = ");
            sql.bind(start.as_str()).push(") GROUP BY sid), ");
            sql.push("kept AS (SELECT s.sid, s.nid, s.i - x.a + 1 AS pos FROM seq s ");
            sql.push("JOIN anchor x ON x.sid = s.sid WHERE s.i >= x.a AND s.i < x.a + ").bind(depth).push("), ");
        }
        (None, Some(end)) => {
            sql.push("anchor AS (SELECT sid, min(i) AS a FROM seq WHERE nid = (SELECT nid FROM n WHERE node = ");
            sql.bind(end.as_str()).push(") GROUP BY sid), ");
            sql.push("kept AS (SELECT s.sid, s.nid, ").bind(depth);
            sql.push(" - (x.a - s.i) AS pos FROM seq s JOIN anchor x ON x.sid = s.sid ");
            sql.push("WHERE s.i <= x.a AND s.i > x.a - ").bind(depth).push("), ");
        }
        (None, None) => {
            sql.push("kept AS (SELECT sid, nid, i AS pos FROM seq WHERE i <= ").bind(depth).push("), ");
        }
    }
    sql.push(
        "edges AS (SELECT pos, nid AS source, lead(nid) OVER (PARTITION BY sid ORDER BY pos) AS target FROM kept), ",
    );
    sql.push("w AS (SELECT pos, source, target, count(*) AS weight FROM edges WHERE target IS NOT NULL GROUP BY ALL) ");
    sql.push("SELECT w.pos, a.node AS source, b.node AS target, w.weight FROM w ");
    sql.push("JOIN n a ON a.nid = w.source JOIN n b ON b.nid = w.target");
    let mut edges = Vec::new();
    for batch in runner.fetch(sql).await? {
        let (pos, source, target, weight) = (
            rows::i64s(&batch, "pos")?,
            rows::strs(&batch, "source")?,
            rows::strs(&batch, "target")?,
            rows::i64s(&batch, "weight")?,
        );
        for i in 0..batch.num_rows() {
            edges.push(Edge {
                step: pos.value(i),
                source: source.value(i).to_string(),
                target: target.value(i).to_string(),
                weight: weight.value(i),
            });
        }
    }
    let edges = top_edges(edges, q.edge_limit.unwrap_or(DEFAULT_EDGE_LIMIT));
    Ok(json!({ "kind": "paths", "item": q.item, "date_range": tf.describe(), "depth": depth, "edges": edges }))
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
