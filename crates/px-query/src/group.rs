//! Grouping rows by a dense key (a person's or a session's index) on every
//! core, for the evaluations that walk one group at a time: funnels walk a
//! person's events, paths a session's pages.
//!
//! Why in two passes: a plain counting sort places each row at a random
//! spot of an array far larger than the caches (the 20-step funnel hands
//! over 37M rows of 16 bytes on 100M events), and it spent nearly all its
//! time waiting on memory for the counts and the writes. Here the rows are
//! first scattered into a few hundred partitions by key range, a few
//! hundred write streams that the caches absorb; then each partition, a
//! few hundred kilobytes, is counting-sorted by key in cache and its
//! groups are visited at once. Neither pass takes a lock: the first splits
//! the input batches between the threads, each writing its own segment of
//! every partition; the second hands out whole partitions from a counter.
//!
//! Rows keep their input order within a group (both passes are stable), so
//! a group whose rows came in time order needs no sort.

use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A row to group.
pub trait Keyed: Copy + Send + Sync {
    /// The row's group, dense from 0.
    fn key(&self) -> u32;
}

/// The rows to group, in batches.
pub trait Source: Sync {
    type Row: Keyed;
    fn batches(&self) -> usize;
    /// How many rows batch `b` holds (at least as many as it yields), to
    /// share the batches out evenly.
    fn batch_rows(&self, b: usize) -> usize;
    /// Calls `each` with every row of batch `b` that belongs to a group,
    /// in order; the same rows every time.
    fn rows(&self, b: usize, each: impl FnMut(Self::Row));
}

/// Most partitions: each thread writes to all of them at once in the
/// first pass, and a few hundred streams is what the caches hold well.
const MAX_PARTITIONS: usize = 512;

/// Fewest keys per partition: the second pass's counts, one per key, must
/// stay small next to the partition's rows.
const MIN_SHIFT: u32 = 10;

/// Calls `each` with every group of `source` (keys below `keys`): its key
/// and its rows in input order, which `each` may reorder. Groups are
/// visited on every core, each thread with its own state from `init`; the
/// states come back to be merged. A row whose key is `keys` or more panics.
pub fn for_each_group<S: Source, T: Send>(
    source: &S,
    keys: usize,
    init: impl Fn() -> T + Sync,
    each: impl Fn(&mut T, u32, &mut [S::Row]) + Sync,
) -> Vec<T> {
    let shift = (usize::BITS - keys.div_ceil(MAX_PARTITIONS).saturating_sub(1).leading_zeros()).max(MIN_SHIFT);
    let partitions = (keys >> shift) + 1;
    let runs = share_batches(source, threads());

    // Pass 1: each thread counts its batches' rows per partition.
    let counts: Vec<Vec<usize>> = on_threads(runs.clone(), |run| {
        let mut count = vec![0usize; partitions];
        for b in run {
            source.rows(b, |r| count[(r.key() >> shift) as usize] += 1);
        }
        count
    });

    // Partition-major layout, each partition split into one segment per
    // thread, in thread order, so that rows keep their input order.
    let total = counts.iter().flatten().sum();
    let mut rows: Vec<S::Row> = Vec::with_capacity(total);
    // Hundreds of megabytes, written once: see `advise_huge_pages`.
    px_core::memory::advise_huge_pages(rows.as_ptr().cast(), total * std::mem::size_of::<S::Row>());
    let mut bounds = Vec::with_capacity(partitions + 1);
    let mut segments: Vec<Vec<&mut [MaybeUninit<S::Row>]>> =
        counts.iter().map(|_| Vec::with_capacity(partitions)).collect();
    let mut rest = &mut rows.spare_capacity_mut()[..total];
    let mut at = 0;
    for p in 0..partitions {
        bounds.push(at);
        for (t, count) in counts.iter().enumerate() {
            let (segment, tail) = std::mem::take(&mut rest).split_at_mut(count[p]);
            segments[t].push(segment);
            rest = tail;
            at += count[p];
        }
    }
    bounds.push(at);

    // Pass 2: each thread writes its batches' rows into its segments.
    on_threads(runs.into_iter().zip(segments).collect(), |(run, mut segments)| {
        let mut fill = vec![0usize; partitions];
        for b in run {
            source.rows(b, |r| {
                let p = (r.key() >> shift) as usize;
                segments[p][fill[p]].write(r);
                fill[p] += 1;
            });
        }
        let complete = segments.iter().zip(&fill).all(|(s, &n)| s.len() == n);
        assert!(complete, "a source yielded other rows the second time");
    });
    // SAFETY: the segments cover `rows[..total]` exactly, and pass 2 wrote
    // every slot of every segment: it checked that each one was filled to
    // its length (writing past it panics on the bounds check).
    unsafe { rows.set_len(total) };

    // Pass 3: partitions are handed out in turn; each is counting-sorted
    // by key into the thread's scratch space and its groups visited.
    let next = AtomicUsize::new(0);
    let (rows, bounds) = (&rows, &bounds);
    on_threads((0..threads()).collect(), |_| {
        let mut state = init();
        let (mut start, mut fill, mut sorted) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            let p = next.fetch_add(1, Ordering::Relaxed);
            if p >= partitions {
                return state;
            }
            let part = &rows[bounds[p]..bounds[p + 1]];
            let Some(&first) = part.first() else { continue };
            let base = p << shift;
            let width = (1usize << shift).min(keys - base);
            start.clear();
            start.resize(width + 1, 0usize);
            for r in part {
                start[r.key() as usize - base + 1] += 1;
            }
            for k in 0..width {
                start[k + 1] += start[k];
            }
            fill.clear();
            fill.extend_from_slice(&start[..width]);
            sorted.clear();
            sorted.resize(part.len(), first);
            for r in part {
                let k = r.key() as usize - base;
                sorted[fill[k]] = *r;
                fill[k] += 1;
            }
            for k in 0..width {
                let group = &mut sorted[start[k]..start[k + 1]];
                if !group.is_empty() {
                    each(&mut state, (base + k) as u32, group);
                }
            }
        }
    })
}

/// The threads to use: one per core (the evaluation runs after the store
/// has answered, so the cores are free).
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(16)
}

/// `threads` runs of consecutive batches holding about as many rows each.
fn share_batches<S: Source>(source: &S, threads: usize) -> Vec<Range<usize>> {
    let total: usize = (0..source.batches()).map(|b| source.batch_rows(b)).sum();
    let mut runs = Vec::with_capacity(threads);
    let (mut from, mut seen) = (0, 0);
    for b in 0..source.batches() {
        seen += source.batch_rows(b);
        // Run `runs.len()` ends once it holds its share of the rows.
        if seen * threads >= total * (runs.len() + 1) && runs.len() + 1 < threads {
            runs.push(from..b + 1);
            from = b + 1;
        }
    }
    runs.push(from..source.batches());
    runs
}

/// `work` on each input, each on its own thread (the first on this one),
/// the outputs in input order. A panic on any thread goes on here.
pub(crate) fn on_threads<I: Send, O: Send>(inputs: Vec<I>, work: impl Fn(I) -> O + Sync) -> Vec<O> {
    let work = &work;
    std::thread::scope(|s| {
        let mut inputs = inputs.into_iter();
        let first = inputs.next();
        let spawned: Vec<_> = inputs.map(|input| s.spawn(move || work(input))).collect();
        let mut out: Vec<O> = first.map(work).into_iter().collect();
        for handle in spawned {
            out.push(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Row {
        key: u32,
        seq: u32,
    }

    impl Keyed for Row {
        fn key(&self) -> u32 {
            self.key
        }
    }

    /// Batches of rows; `None` rows belong to no group.
    struct Batches(Vec<Vec<Option<Row>>>);

    impl Source for Batches {
        type Row = Row;
        fn batches(&self) -> usize {
            self.0.len()
        }
        fn batch_rows(&self, b: usize) -> usize {
            self.0[b].len()
        }
        fn rows(&self, b: usize, mut each: impl FnMut(Row)) {
            self.0[b].iter().flatten().for_each(|&r| each(r));
        }
    }

    /// Every group as `(key, rows)`, sorted by key.
    fn groups(batches: &Batches, keys: usize) -> Vec<(u32, Vec<Row>)> {
        let states = for_each_group(batches, keys, Vec::new, |seen: &mut Vec<(u32, Vec<Row>)>, key, rows| {
            seen.push((key, rows.to_vec()))
        });
        let mut all: Vec<_> = states.into_iter().flatten().collect();
        all.sort_by_key(|g| g.0);
        all
    }

    proptest! {
        /// Each group holds exactly its key's rows, in input order, across
        /// batches, partitions and threads.
        #[test]
        fn groups_hold_their_rows_in_input_order(
            keys in 1usize..5000,
            picks in prop::collection::vec(prop::collection::vec(prop::option::of(any::<u32>()), 0..300), 0..8),
        ) {
            let mut seq = 0;
            let batches = Batches(picks.iter().map(|b| b.iter().map(|k| k.map(|k| {
                seq += 1;
                Row { key: k % keys as u32, seq }
            })).collect()).collect());
            let mut want: Vec<(u32, Vec<Row>)> = Vec::new();
            let mut all: Vec<Row> = batches.0.iter().flatten().flatten().copied().collect();
            all.sort_by_key(|r| (r.key, r.seq));
            for r in all {
                match want.last_mut() {
                    Some((k, rows)) if *k == r.key => rows.push(r),
                    _ => want.push((r.key, vec![r])),
                }
            }
            prop_assert_eq!(groups(&batches, keys), want);
        }
    }

    #[test]
    fn many_keys_spread_over_many_partitions() {
        // 3M keys: 367 partitions of 8192 keys; rows in reverse key order.
        let keys = 3_000_000usize;
        let rows: Vec<Option<Row>> = (0..keys as u32).rev().step_by(7).map(|k| Some(Row { key: k, seq: k })).collect();
        let n = rows.len();
        let batches = Batches(rows.chunks(10_000).map(<[_]>::to_vec).collect());
        let got = groups(&batches, keys);
        assert_eq!(got.len(), n);
        assert!(got.iter().all(|(k, rows)| rows.len() == 1 && rows[0].key == *k));
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn batches_are_shared_by_rows() {
        let batches = Batches(vec![vec![None; 10], vec![None; 1], vec![None; 9], vec![None; 20]]);
        assert_eq!(share_batches(&batches, 2), vec![0..3, 3..4]);
        assert_eq!(share_batches(&batches, 1), vec![0..4]);
        assert_eq!(share_batches(&Batches(Vec::new()), 2), vec![0..0]);
    }

    #[test]
    #[should_panic]
    fn a_key_out_of_range_panics() {
        let batches = Batches(vec![vec![Some(Row { key: 5000, seq: 0 })]]);
        groups(&batches, 10);
    }
}
