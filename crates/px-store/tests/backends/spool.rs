//! The spool over a real DuckDB store: recovery stores every synced record
//! once, cuts a torn tail, refuses damaged acknowledged data, and never
//! reuses a position; a store transaction kept open across appends is
//! invisible until it commits, and one that fails leaves nothing behind.

use arrow::array::AsArray;
use px_core::event::{PersonLink, person_id_for};
use px_store::spool::{self, Spool, Until};
use px_store::{Commit, DuckDbEventStore, EventStore, ScopedEvent};
use px_testkit::suites::event_store::{A, B, event};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

fn events(n: usize, from: i64) -> Vec<ScopedEvent> {
    (0..n as i64).map(|i| event(if i % 2 == 0 { A } else { B }, "spooled", &format!("u{i}"), from + i)).collect()
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    files(dir, "spool")
}

/// A temp dir with a fresh store in it and the spool's path next to it.
fn fixture() -> (tempfile::TempDir, PathBuf, DuckDbEventStore) {
    let dir = tempfile::tempdir().unwrap();
    let spool_dir = dir.path().join("spool");
    let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
    (dir, spool_dir, store)
}

/// The person the stored `name` event of project A carries.
async fn stored_person(store: &DuckDbEventStore, name: &str) -> String {
    let sql =
        format!("SELECT person_id::VARCHAR FROM events WHERE project_id = {} AND event = '{name}'", A.project_id.0);
    let batches = store.query(A, sql, Vec::new()).await.unwrap();
    batches[0].column(0).as_string::<i32>().value(0).to_string()
}

async fn total(store: &DuckDbEventStore) -> u64 {
    store.count_events(A).await.unwrap() + store.count_events(B).await.unwrap()
}

#[tokio::test]
async fn recovery_stores_every_synced_record_once_and_records_its_position() {
    let (_dir, spool_dir, store) = fixture();
    let mut spool = Spool::open(&spool_dir, 0).unwrap();
    let first = spool.append(&events(5, 0)).unwrap();
    let second = spool.append(&events(7, 100)).unwrap();
    assert!(second > first && first > 0, "positions grow: {first}, {second}");
    assert_eq!(spool.position(), second);
    drop(spool);

    // Transactions of at most 4 events: the two records go in two.
    let through = spool::recover(&spool_dir, &store, Until::End, 4).await.unwrap();
    assert_eq!(through, second);
    assert_eq!(store.spooled_through().await.unwrap(), second);
    assert_eq!(total(&store).await, 12);
    assert_eq!(store.count_events(A).await.unwrap(), 3 + 4);

    // A second recovery (a restart) stores nothing again.
    assert_eq!(spool::recover(&spool_dir, &store, Until::End, 4).await.unwrap(), second);
    assert_eq!(total(&store).await, 12);

    // A store that holds the first record only gets the second.
    let dir2 = tempfile::tempdir().unwrap();
    let store2 = DuckDbEventStore::open(&dir2.path().join("events.duckdb"), None).unwrap();
    store2.append_spooled(events(5, 0), first, Commit::Now).await.unwrap();
    assert_eq!(spool::recover(&spool_dir, &store2, Until::End, 100).await.unwrap(), second);
    assert_eq!(total(&store2).await, 12);
}

#[tokio::test]
async fn a_torn_tail_is_cut_off_and_appending_goes_on_after_the_last_good_record() {
    let (_dir, spool_dir, store) = fixture();
    let mut spool = Spool::open(&spool_dir, 0).unwrap();
    let good = spool.append(&events(3, 0)).unwrap();
    drop(spool);
    // A crash in the middle of the next append: part of a record on disk,
    // its header whole (the segment starts at position 0, so offsets are
    // positions).
    let file = segment_files(&spool_dir).pop().unwrap();
    let mut torn = vec![200, 1, 0, 0, 7, 7, 7, 7];
    torn.extend_from_slice(&good.to_le_bytes());
    torn.extend_from_slice(b"[{\"tenant");
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().write_all_at(&torn, good).unwrap();

    // While a writer may be appending, the torn record is only skipped.
    let live = spool::recover(&spool_dir, &store, Until::Synced(u64::MAX), 100).await.unwrap();
    assert_eq!(live, good);
    // At start too: it was never acknowledged.
    assert_eq!(spool::recover(&spool_dir, &store, Until::End, 100).await.unwrap(), good);
    assert_eq!(total(&store).await, 3);

    // The writer goes on where the good records end, over the torn one.
    let mut spool = Spool::open(&spool_dir, good).unwrap();
    assert_eq!(spool.position(), good);
    let next = spool.append(&events(2, 50)).unwrap();
    drop(spool);
    assert_eq!(spool::recover(&spool_dir, &store, Until::End, 100).await.unwrap(), next);
    assert_eq!(total(&store).await, 5);
}

#[tokio::test]
async fn records_past_the_synced_position_are_left_for_later() {
    let (_dir, spool_dir, store) = fixture();
    let mut spool = Spool::open(&spool_dir, 0).unwrap();
    let first = spool.append(&events(2, 0)).unwrap();
    let second = spool.append(&events(2, 10)).unwrap();
    // The second append's sync has not returned yet as far as the drainer
    // knows: it may still fail and be undone.
    assert_eq!(spool::recover(&spool_dir, &store, Until::Synced(first), 100).await.unwrap(), first);
    assert_eq!(total(&store).await, 2);
    assert_eq!(spool::recover(&spool_dir, &store, Until::Synced(second), 100).await.unwrap(), second);
    assert_eq!(total(&store).await, 4);
}

#[tokio::test]
async fn segments_roll_over_and_are_recycled_once_stored() {
    let (_dir, spool_dir, store) = fixture();
    // Two records fit in a segment; a third moves on.
    let one = {
        let probe = tempfile::tempdir().unwrap();
        Spool::open(probe.path(), 0).unwrap().append(&events(3, 0)).unwrap()
    };
    let mut spool = Spool::with_segment_bytes(&spool_dir, 0, 2 * one + 40).unwrap();
    let mut positions = Vec::new();
    for i in 0..6 {
        positions.push(spool.append(&events(3, i * 10)).unwrap());
    }
    let segments = segment_files(&spool_dir);
    assert_eq!(segments.len(), 3, "{segments:?}");
    // Each file is named by the position of its first byte: the one after
    // the previous file's.
    let mut expected = 0;
    for f in &segments {
        assert_eq!(f.file_stem().unwrap().to_str().unwrap().parse::<u64>().unwrap(), expected, "{segments:?}");
        expected += std::fs::metadata(f).unwrap().len();
    }

    // Nothing is retired before the store holds it.
    assert_eq!(spool::release(&spool_dir, 0).unwrap(), 0);
    let through = spool::recover(&spool_dir, &store, Until::End, 100).await.unwrap();
    assert_eq!(through, *positions.last().unwrap());
    assert_eq!(total(&store).await, 18);
    assert_eq!(spool::release(&spool_dir, through).unwrap(), 2);
    // The last segment stays (the writer appends to it); the others wait
    // to be reused, and their records are not stored again.
    assert_eq!(segment_files(&spool_dir).len(), 1);
    assert_eq!(files(&spool_dir, "spare").len(), 2);
    assert_eq!(spool::recover(&spool_dir, &store, Until::End, 100).await.unwrap(), through);
    assert_eq!(total(&store).await, 18);

    // The next segment is a spare, renamed; its stale records do not read.
    spool.append(&events(3, 100)).unwrap();
    let last = spool.append(&events(3, 110)).unwrap();
    assert_eq!(files(&spool_dir, "spare").len(), 1);
    assert_eq!(segment_files(&spool_dir).len(), 2);
    drop(spool);
    assert_eq!(spool::recover(&spool_dir, &store, Until::End, 100).await.unwrap(), last);
    assert_eq!(total(&store).await, 24);
}

#[tokio::test]
async fn a_damaged_record_before_the_last_segment_stops_recovery_with_its_file() {
    let (_dir, spool_dir, store) = fixture();
    // Every record gets a segment of its own.
    let mut spool = Spool::with_segment_bytes(&spool_dir, 0, 100).unwrap();
    for i in 0..4 {
        spool.append(&events(2, i * 10)).unwrap();
    }
    drop(spool);
    let first = segment_files(&spool_dir).remove(0);
    let mut bytes = std::fs::read(&first).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&first, bytes).unwrap();
    let err = spool::recover(&spool_dir, &store, Until::End, 100).await.unwrap_err().to_string();
    assert!(err.contains(&first.display().to_string()) && err.contains("damaged"), "{err}");
    assert_eq!(total(&store).await, 0, "nothing after the damage is stored out of order");
}

#[tokio::test]
async fn a_lost_spool_restarts_at_the_stores_position() {
    let (_dir, spool_dir, store) = fixture();
    store.append_spooled(events(1, 0), 5_000, Commit::Now).await.unwrap();
    // The spool dir is gone (a restore from a backup of the store only):
    // new records must not reuse positions the store already holds.
    let mut spool = Spool::open(&spool_dir, store.spooled_through().await.unwrap()).unwrap();
    assert_eq!(spool.position(), 5_000);
    let next = spool.append(&events(2, 10)).unwrap();
    assert!(next > 5_000);
    drop(spool);
    assert_eq!(spool::recover(&spool_dir, &store, Until::End, 100).await.unwrap(), next);
    assert_eq!(total(&store).await, 3);
}

#[tokio::test]
async fn an_open_transaction_shows_nothing_until_it_commits_and_a_lost_one_is_stored_again_once() {
    let (_dir, spool_dir, store) = fixture();
    let mut spool = Spool::open(&spool_dir, 0).unwrap();
    let first = spool.append(&events(5, 0)).unwrap();
    // The second record merges anon-1 into user-1.
    let mut merge = event(A, "identify", "user-1", 50);
    merge.event.link = Some(PersonLink::Identify { anonymous_id: "anon-1".into() });
    let second = spool.append(std::slice::from_ref(&merge)).unwrap();
    drop(spool);

    // Held open: not committed, not visible, no position recorded.
    assert_eq!(store.append_spooled(events(5, 0), first, Commit::WhenFull).await.unwrap(), 0);
    assert_eq!(store.append_spooled(vec![merge], second, Commit::WhenFull).await.unwrap(), 0);
    assert_eq!(total(&store).await, 0);
    assert_eq!(store.spooled_through().await.unwrap(), 0);

    // Lost (a failed commit): the merge it planned is forgotten too, so an
    // event of anon-1 stored now is its own person.
    store.discard_spooled();
    store.append(vec![event(A, "page_view", "anon-1", 60)]).await.unwrap();
    assert_eq!(stored_person(&store, "page_view").await, person_id_for(A.project_id, "anon-1").to_string());

    // Recovery stores both records once, and the merge with them.
    assert_eq!(spool::recover(&spool_dir, &store, Until::End, 100).await.unwrap(), second);
    assert_eq!(total(&store).await, 5 + 1 + 1);
    let person = store.person(A, "anon-1").await.unwrap().unwrap();
    assert_eq!(person.person_id, person_id_for(A.project_id, "user-1"));

    // An open transaction commits on request, with its position.
    let third = second + 1_000;
    assert_eq!(store.append_spooled(events(2, 70), third, Commit::WhenFull).await.unwrap(), second);
    assert_eq!(store.commit_spooled().await.unwrap(), third);
    assert_eq!(store.spooled_through().await.unwrap(), third);
    assert_eq!(total(&store).await, 9);
}
