//! The paths definition (see the parent module) applied to the rows the
//! SQL gathered: each session's rows sorted by time and node, repeats
//! collapsed, the anchored path cut out and its edges counted.
//!
//! Sessions hold a handful of rows each: they are grouped by their dense
//! session index ([`crate::group`]), and each group is sorted in place. Node ids
//! are renumbered in name order first, so that sorting `(timestamp, id)`
//! puts the nodes of one instant in name order, and the anchor and every
//! comparison are on integers.

use super::Edge;
use crate::error::{QueryError, Result};
use crate::group::{self, Keyed, Source};
use crate::rows;
use arrow::array::Int64Array;
use arrow::record_batch::RecordBatch;
use hashbrown::HashMap;

/// Where each session's path is cut out of its sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// From the first time the session reaches this node.
    Start(String),
    /// Up to the first time the session reaches this node, which is then
    /// the last step.
    End(String),
    /// From the session's first node.
    None,
}

/// The anchor node as a node id, once the names are known.
#[derive(Debug, Clone, Copy)]
enum AnchorId {
    Start(u32),
    End(u32),
    None,
}

/// `(step, source, target)` -> sessions taking that edge.
type Counts = HashMap<(u32, u32, u32), i64>;

/// One gathered row: a node a session visited, at an instant.
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    ts: i64,
    /// The node's id in name order.
    node: u32,
    session: u32,
}

impl Keyed for Visit {
    fn key(&self) -> u32 {
        self.session
    }
}

/// The gathered rows, with what it takes to read them as visits.
#[derive(Debug)]
pub struct Sessions {
    /// Node names by id; ids are ordered like the names, so that sorting
    /// `(timestamp, id)` orders the nodes of one instant by name.
    names: Vec<String>,
    /// `[nid - 1]`: the id in name order of the node the SQL numbered `nid`.
    rank: Vec<u32>,
    /// `(idx, ts, nid)` of each batch.
    columns: Vec<(Int64Array, Int64Array, Int64Array)>,
    /// Session indexes run `1..=sessions`.
    sessions: usize,
}

impl Sessions {
    /// The rows of the gathering statement (see `gather_sql`), checked:
    /// every node has a name, and indexes are in range.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Sessions> {
        let shape = |what: &str, v: i64| QueryError::Shape(format!("{what} {v}"));
        let mut names: Vec<Option<String>> = Vec::new();
        let (mut columns, mut sessions) = (Vec::with_capacity(batches.len()), 0i64);
        for b in batches {
            let (idx, ts, nid, name) =
                (rows::i64s(b, "idx")?, rows::i64s(b, "ts")?, rows::i64s(b, "nid")?, rows::strs(b, "name")?);
            for i in 0..idx.len() {
                let node = usize::try_from(nid.value(i) - 1).map_err(|_| shape("node id", nid.value(i)))?;
                if names.len() <= node {
                    names.resize(node + 1, None);
                }
                match idx.value(i) {
                    0 => names[node] = Some(name.value(i).to_owned()),
                    s if s > 0 => sessions = sessions.max(s),
                    s => return Err(shape("session index", s)),
                }
            }
            columns.push((idx, ts, nid));
        }
        // Session indexes are `u32` while grouped.
        let sessions = u32::try_from(sessions).map_err(|_| shape("session index", sessions))? as usize;
        let mut names = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| n.ok_or_else(|| QueryError::Shape(format!("no name for node id {}", i + 1))))
            .collect::<Result<Vec<_>>>()?;
        // Ids as the SQL numbered them become ids in name order.
        let mut by_name: Vec<usize> = (0..names.len()).collect();
        by_name.sort_unstable_by(|&a, &b| names[a].cmp(&names[b]));
        let mut rank = vec![0u32; names.len()];
        for (r, &id) in by_name.iter().enumerate() {
            rank[id] = r as u32;
        }
        names.sort_unstable();
        Ok(Sessions { names, rank, columns, sessions })
    }

    /// Counts the edges of every session's path of `depth` nodes, on every
    /// core (DuckDB is idle by now).
    pub fn edges(self, anchor: &Anchor, depth: usize) -> Result<Vec<Edge>> {
        let id = |name: &str| self.names.binary_search_by(|n| n.as_str().cmp(name)).ok().map(|i| i as u32);
        let anchor = match anchor {
            Anchor::Start(name) => id(name).map(AnchorId::Start),
            Anchor::End(name) => id(name).map(AnchorId::End),
            Anchor::None => Some(AnchorId::None),
        };
        // A node no session reaches anchors no path.
        let Some(anchor) = anchor else { return Ok(Vec::new()) };
        let per_thread = group::for_each_group(
            &self,
            self.sessions,
            || (Counts::new(), Vec::new()),
            |(counts, seq), _, visits| count(counts, seq, visits, anchor, depth),
        );
        let mut counts = Counts::new();
        for (mine, _) in per_thread {
            for (key, n) in mine {
                *counts.entry(key).or_default() += n;
            }
        }
        let names = &self.names;
        Ok(counts
            .drain()
            .map(|((step, source, target), weight)| Edge {
                step: i64::from(step),
                source: names[source as usize].clone(),
                target: names[target as usize].clone(),
                weight,
            })
            .collect())
    }
}

impl Source for Sessions {
    type Row = Visit;
    fn batches(&self) -> usize {
        self.columns.len()
    }
    fn batch_rows(&self, b: usize) -> usize {
        self.columns[b].0.len()
    }
    fn rows(&self, b: usize, mut each: impl FnMut(Visit)) {
        let (idx, ts, nid) = &self.columns[b];
        for i in 0..idx.len() {
            // Both checked by `from_batches`: sessions from 1, node ids named.
            let session = idx.value(i);
            if session > 0 {
                let node = self.rank[(nid.value(i) - 1) as usize];
                each(Visit { ts: ts.value(i), node, session: (session - 1) as u32 });
            }
        }
    }
}

/// Adds the edges of one session's path, from its visits in any order
/// (`seq` is scratch space).
fn count(counts: &mut Counts, seq: &mut Vec<u32>, visits: &mut [Visit], anchor: AnchorId, depth: usize) {
    visits.sort_unstable_by_key(|v| (v.ts, v.node));
    seq.clear();
    for v in visits.iter() {
        if seq.last() != Some(&v.node) {
            seq.push(v.node);
        }
    }
    let Some((first_step, path)) = cut(seq, anchor, depth) else { return };
    for (i, pair) in path.windows(2).enumerate() {
        *counts.entry((first_step + i as u32, pair[0], pair[1])).or_default() += 1;
    }
}

/// The anchored path of a collapsed sequence and the (1-based) step of its
/// first node, or `None` when the sequence never reaches the anchor.
fn cut(seq: &[u32], anchor: AnchorId, depth: usize) -> Option<(u32, &[u32])> {
    match anchor {
        AnchorId::Start(node) => {
            let a = seq.iter().position(|&n| n == node)?;
            Some((1, &seq[a..(a + depth).min(seq.len())]))
        }
        AnchorId::End(node) => {
            let a = seq.iter().position(|&n| n == node)?;
            let from = (a + 1).saturating_sub(depth);
            // `depth <= 20`, checked by the query's validation.
            Some(((depth - (a - from)) as u32, &seq[from..=a]))
        }
        AnchorId::None => Some((1, &seq[..depth.min(seq.len())])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row of the statement's answer: `(idx, ts, nid, name)`.
    type Row<'a> = (i64, i64, i64, Option<&'a str>);

    /// The statement's answer for sessions given as `(session, ts, node)`
    /// rows: node ids in order of first appearance, as the SQL might number
    /// them, the names first, all split over two batches.
    fn batches(rows: &[(u32, i64, &str)]) -> Vec<RecordBatch> {
        let mut ids: Vec<&str> = Vec::new();
        let mut out: Vec<Row> = Vec::new();
        for &(s, ts, node) in rows {
            let id = ids.iter().position(|&n| n == node).unwrap_or_else(|| {
                ids.push(node);
                ids.len() - 1
            });
            out.push((i64::from(s) + 1, ts, id as i64 + 1, None));
        }
        let names = ids.iter().enumerate().map(|(id, &name)| (0, 0, id as i64 + 1, Some(name)));
        let all: Vec<_> = names.chain(out).collect();
        let half = all.len() / 2;
        [&all[..half], &all[half..]].iter().map(|part| batch(part)).collect()
    }

    fn batch(rows: &[Row]) -> RecordBatch {
        use arrow::array::{ArrayRef, Int64Array, StringArray};
        use std::sync::Arc;
        let ints =
            |f: fn(&Row) -> i64| -> ArrayRef { Arc::new(Int64Array::from(rows.iter().map(f).collect::<Vec<_>>())) };
        let names: ArrayRef = Arc::new(StringArray::from(rows.iter().map(|r| r.3).collect::<Vec<_>>()));
        RecordBatch::try_from_iter([
            ("idx", ints(|r| r.0)),
            ("ts", ints(|r| r.1)),
            ("nid", ints(|r| r.2)),
            ("name", names),
        ])
        .unwrap()
    }

    /// Edges of sessions given as `(session, ts, node)` rows, sorted by step, source, target.
    fn edges(rows: &[(u32, i64, &str)], anchor: Anchor, depth: usize) -> Vec<(i64, String, String, i64)> {
        let sessions = Sessions::from_batches(&batches(rows)).unwrap();
        let mut out: Vec<_> = sessions
            .edges(&anchor, depth)
            .unwrap()
            .into_iter()
            .map(|e| (e.step, e.source, e.target, e.weight))
            .collect();
        out.sort();
        out
    }

    fn e(step: i64, source: &str, target: &str, weight: i64) -> (i64, String, String, i64) {
        (step, source.into(), target.into(), weight)
    }

    #[test]
    fn reloads_collapse_and_instants_order_by_name() {
        // Session 0: "/b" and "/a" at the same instant go "/a" then "/b"; the reload of "/b" collapses.
        let rows = [(0, 20, "/c"), (0, 10, "/b"), (0, 10, "/a"), (0, 15, "/b"), (1, 5, "/a"), (1, 6, "/c")];
        assert_eq!(edges(&rows, Anchor::None, 5), vec![e(1, "/a", "/b", 1), e(1, "/a", "/c", 1), e(2, "/b", "/c", 1)]);
    }

    #[test]
    fn start_and_end_anchor_on_the_first_visit() {
        let rows = [(0, 1, "/x"), (0, 2, "/a"), (0, 3, "/b"), (0, 4, "/a"), (0, 5, "/c")];
        assert_eq!(edges(&rows, Anchor::Start("/a".into()), 2), vec![e(1, "/a", "/b", 1)]);
        assert_eq!(
            edges(&rows, Anchor::Start("/a".into()), 9),
            vec![e(1, "/a", "/b", 1), e(2, "/b", "/a", 1), e(3, "/a", "/c", 1)]
        );
        // Up to the first "/a": the path ends at the last step.
        assert_eq!(edges(&rows, Anchor::End("/a".into()), 3), vec![e(2, "/x", "/a", 1)]);
        assert_eq!(edges(&rows, Anchor::End("/b".into()), 2), vec![e(1, "/a", "/b", 1)]);
        // Nobody reaches "/z".
        assert_eq!(edges(&rows, Anchor::Start("/z".into()), 3), vec![]);
    }

    #[test]
    fn sessions_on_both_threads_add_up() {
        let mut rows = Vec::new();
        for s in 0..7 {
            rows.extend([(s, 1, "/"), (s, 2, "/p")]);
        }
        assert_eq!(edges(&rows, Anchor::Start("/".into()), 5), vec![e(1, "/", "/p", 7)]);
        assert_eq!(edges(&[], Anchor::None, 5), vec![]);
    }

    #[test]
    fn a_node_without_a_name_is_an_error() {
        let rows = [(1, 10, 1, None), (0, 0, 2, Some("/"))];
        let err = Sessions::from_batches(&[batch(&rows)]).unwrap_err();
        assert!(err.to_string().contains("no name for node id 1"), "{err}");
    }
}
