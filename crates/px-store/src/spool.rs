//! The write-ahead spool: where acknowledged events wait for the event store.
//!
//! Why it exists: a store commit costs 10-30 ms whatever its size, and the
//! event store writes rows several times cheaper in transactions of tens of
//! thousands than in the few hundred a request brings. Acknowledging after
//! the store commit would tie every request to that cost. Instead the
//! writer appends each group of requests to the spool and syncs it (well
//! under a millisecond), acknowledges, and a drainer moves spooled events
//! into the store in large transactions.
//!
//! Exactly once: the store records the spool position it holds every
//! event up to in the same transaction as the events
//! ([`EventStore::append_spooled`]). Recovery replays only the records
//! after it, so a crash at any point (mid-append, between the sync and the
//! store commit, after it) neither loses an acknowledged event nor stores
//! one twice.
//!
//! Layout: a directory of segment files named by the position of their
//! first byte (`00000000000000000000.spool`). A position is a byte offset
//! in the concatenation of every segment ever written, so positions only
//! grow, and a record's position is where it ends. A segment is closed
//! after [`SEGMENT_BYTES`] and deleted once the store holds all of it.
//! A record is a little-endian u32 payload length, the payload's CRC-32,
//! and the payload: a JSON array of `[scope, event]` pairs.
//!
//! A torn record at the end of the last segment is an append that never
//! completed, so it was never acknowledged: recovery cuts it off. A bad
//! record anywhere else means acknowledged data was damaged on disk:
//! recovery stops with an error naming the file and offset rather than
//! skip it silently.

use crate::event_store::{EventStore, ScopedEvent};
use crate::{Result, StoreError};
use px_core::{Event, ProjectScope};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Size after which the spool moves on to a new segment file. Recovery
/// reads one segment at a time, so this also bounds its memory.
pub const SEGMENT_BYTES: u64 = 32 << 20;

const HEADER: usize = 8;
const SUFFIX: &str = ".spool";

/// The appending end of the spool. One writer owns it.
pub struct Spool {
    dir: PathBuf,
    file: File,
    /// Position of the current segment's first byte.
    start: u64,
    /// Bytes in the current segment.
    len: u64,
    segment_bytes: u64,
    /// Set when a failed append could not be undone: appending on would
    /// put good records after a torn one, which recovery would cut off.
    broken: Option<String>,
    buf: Vec<u8>,
}

impl Spool {
    /// Opens the spool in `dir` for appending after its last record. Run
    /// [`recover`] first: it cuts off a torn tail, which appending after
    /// would make unreadable. `through` is the store's position: an empty
    /// (or lost) spool starts there, so positions never go backwards.
    pub fn open(dir: &Path, through: u64) -> Result<Self> {
        Self::with_segment_bytes(dir, through, SEGMENT_BYTES)
    }

    /// [`open`](Self::open) with another segment size (tests use small ones).
    pub fn with_segment_bytes(dir: &Path, through: u64, segment_bytes: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, "creating", e))?;
        let segments = segments(dir)?;
        let (start, len) = match segments.last() {
            Some((start, path)) => {
                let len = std::fs::metadata(path).map_err(|e| io(path, "reading", e))?.len();
                (*start, len)
            }
            None => (through, 0),
        };
        let (start, len) = if start + len < through { (through, 0) } else { (start, len) };
        let path = segment_path(dir, start);
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io(&path, "opening", e))?;
        sync_dir(dir).map_err(|e| io(dir, "syncing", e))?;
        Ok(Self { dir: dir.to_path_buf(), file, start, len, segment_bytes, broken: None, buf: Vec::new() })
    }

    /// The position after the last record.
    pub fn position(&self) -> u64 {
        self.start + self.len
    }

    /// Appends the events as one record and syncs it to disk; returns the
    /// record's position. On error nothing was appended (or the spool
    /// refuses every later append, saying why).
    pub fn append(&mut self, events: &[ScopedEvent]) -> Result<u64> {
        if let Some(why) = &self.broken {
            return Err(StoreError::Unavailable(format!("the spool is unusable until a restart: {why}")));
        }
        encode(&mut self.buf, events)?;
        let path = segment_path(&self.dir, self.start);
        let written = self.file.write_all(&self.buf).and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Undo the partial record so that later records follow a good one.
            if let Err(undo) = self.file.set_len(self.len).and_then(|()| self.file.sync_data()) {
                self.broken = Some(format!("{}: {undo}", path.display()));
            }
            return Err(io(&path, "appending to", e));
        }
        self.len += self.buf.len() as u64;
        let position = self.position();
        if self.len >= self.segment_bytes {
            let next = segment_path(&self.dir, position);
            match OpenOptions::new().create(true).append(true).open(&next).and_then(|f| sync_dir(&self.dir).map(|()| f))
            {
                Ok(file) => (self.file, self.start, self.len) = (file, position, 0),
                // The record is durable; the next append retries the roll.
                Err(e) => tracing::warn!(error = %e, path = %next.display(), "could not start a new spool segment"),
            }
        }
        Ok(position)
    }
}

/// Deletes the segments the store holds all of (store position `through`).
/// The last segment is kept: the writer appends to it.
pub fn release(dir: &Path, through: u64) -> Result<usize> {
    let segments = segments(dir)?;
    let mut deleted = 0;
    for pair in segments.windows(2) {
        let ((_, path), (next_start, _)) = (&pair[0], &pair[1]);
        if *next_start <= through {
            std::fs::remove_file(path).map_err(|e| io(path, "deleting", e))?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// How far to read, and what to do with a record that does not read back
/// at the end of the last segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TornTail {
    /// At start, before anything appends: read every record, cut a torn
    /// one off.
    Truncate,
    /// While a writer appends: read only records synced before this
    /// position (one after it may still fail and be undone), stop at a
    /// torn one (it may be half written right now).
    SyncedUntil(u64),
}

/// Moves every spooled record the store does not hold yet into it, in
/// transactions of about `max_events`, and answers the store's position
/// afterwards. Run at start (with [`TornTail::Truncate`], before
/// [`Spool::open`]) and by the drainer after a failed commit.
pub async fn recover(dir: &Path, store: &dyn EventStore, tail: TornTail, max_events: usize) -> Result<u64> {
    let mut through = store.spooled_through().await?;
    let list = {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || if dir.exists() { segments(&dir) } else { Ok(Vec::new()) }).await??
    };
    let mut replayed = 0usize;
    for (i, (start, path)) in list.iter().enumerate() {
        let last = i + 1 == list.len();
        // Segments the store holds all of are waiting for `release`.
        if list.get(i + 1).is_some_and(|(next, _)| *next <= through) {
            continue;
        }
        let (start, path, after) = (*start, path.clone(), through);
        let records = tokio::task::spawn_blocking(move || read_segment(&path, start, after, last, tail)).await??;
        let mut chunk: Vec<ScopedEvent> = Vec::new();
        let mut chunk_through = through;
        for (position, events) in records {
            chunk.extend(events);
            chunk_through = position;
            if chunk.len() >= max_events {
                replayed += chunk.len();
                store.append_spooled(std::mem::take(&mut chunk), chunk_through).await?;
                through = chunk_through;
            }
        }
        if chunk_through > through {
            replayed += chunk.len();
            store.append_spooled(chunk, chunk_through).await?;
            through = chunk_through;
        }
    }
    if replayed > 0 {
        tracing::info!(events = replayed, through, "spooled events moved into the store");
    }
    Ok(through)
}

/// The records of one segment that end after `after`.
fn read_segment(
    path: &Path,
    start: u64,
    after: u64,
    last: bool,
    tail: TornTail,
) -> Result<Vec<(u64, Vec<ScopedEvent>)>> {
    let bytes = std::fs::read(path).map_err(|e| io(path, "reading", e))?;
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(payload) = record_at(&bytes, at) else {
            if !last {
                return Err(StoreError::Internal(format!(
                    "{}: the record at byte {at} is damaged; acknowledged events may be lost. \
                     Move the file away to start without it",
                    path.display()
                )));
            }
            let torn = bytes.len() - at;
            if tail == TornTail::Truncate {
                tracing::warn!(path = %path.display(), at, bytes = torn, "cutting off a torn spool record (never acknowledged)");
                let f = OpenOptions::new().write(true).open(path).map_err(|e| io(path, "opening", e))?;
                f.set_len(at as u64).and_then(|()| f.sync_data()).map_err(|e| io(path, "truncating", e))?;
            }
            break;
        };
        at += HEADER + payload.len();
        let position = start + at as u64;
        if matches!(tail, TornTail::SyncedUntil(synced) if position > synced) {
            break;
        }
        if position > after {
            records.push((
                position,
                decode(payload).map_err(|e| {
                    StoreError::Internal(format!(
                        "{}: the record ending at byte {at} does not decode: {e}",
                        path.display()
                    ))
                })?,
            ));
        }
    }
    Ok(records)
}

/// The payload of the record at `at`, if it is whole and its checksum holds.
fn record_at(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let header = bytes.get(at..at + HEADER)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    let payload = bytes.get(at + HEADER..at + HEADER + len)?;
    (crc32fast::hash(payload) == crc).then_some(payload)
}

fn encode(buf: &mut Vec<u8>, events: &[ScopedEvent]) -> Result<()> {
    buf.clear();
    buf.extend_from_slice(&[0; HEADER]);
    buf.push(b'[');
    for (i, se) in events.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        serde_json::to_writer(&mut *buf, &(se.scope, &se.event))
            .map_err(|e| StoreError::Internal(format!("encoding a spool record: {e}")))?;
    }
    buf.push(b']');
    let len = u32::try_from(buf.len() - HEADER)
        .map_err(|_| StoreError::Invalid(format!("a spool record holds at most {} bytes", u32::MAX)))?;
    let crc = crc32fast::hash(&buf[HEADER..]);
    buf[..4].copy_from_slice(&len.to_le_bytes());
    buf[4..HEADER].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn decode(payload: &[u8]) -> serde_json::Result<Vec<ScopedEvent>> {
    let pairs: Vec<(ProjectScope, Event)> = serde_json::from_slice(payload)?;
    Ok(pairs.into_iter().map(|(scope, event)| ScopedEvent { scope, event }).collect())
}

/// The segments in `dir`, by position.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, "listing", e))? {
        let path = entry.map_err(|e| io(dir, "listing", e))?.path();
        let start = path.file_name().and_then(|n| n.to_str()?.strip_suffix(SUFFIX)?.parse::<u64>().ok());
        if let Some(start) = start {
            out.push((start, path));
        }
    }
    out.sort();
    Ok(out)
}

fn segment_path(dir: &Path, start: u64) -> PathBuf {
    dir.join(format!("{start:020}{SUFFIX}"))
}

/// Makes a new file's name durable (its data is synced separately).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn io(path: &Path, doing: &str, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("spool: {doing} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use px_core::{ProjectId, TenantId};
    use serde_json::json;

    fn event(properties: serde_json::Value) -> ScopedEvent {
        let scope = ProjectScope { tenant_id: TenantId(3), project_id: ProjectId(7) };
        let mut event: Event = serde_json::from_value(json!({
            "event_id": "0190a4a0-0000-7000-8000-000000000001", "event": "é \u{1F600} \"quoted\"",
            "distinct_id": "u1", "person_id": "0190a4a0-0000-7000-8000-000000000002", "session_id": null,
            "timestamp": -5, "received_at": 1, "properties": {}, "person_set": {"plan": "pro"},
            "person_set_once": null, "link": {"kind": "identify", "anonymous_id": "a1"},
            "enrichment": {"screen_width": 390}, "timestamp_clamped": true
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        event.properties = properties.as_object().cloned().unwrap_or_default();
        ScopedEvent { scope, event }
    }

    #[test]
    fn records_read_back_exactly_including_every_float() {
        let floats = [0.1 + 0.2, 1e-300, 5e-324, f64::MAX, -0.0, 123456.789e10, 2.0f64.sqrt()];
        let events: Vec<ScopedEvent> = floats
            .iter()
            .map(|f| event(json!({"f": f, "big": u64::MAX, "neg": i64::MIN, "deep": {"a": [1, {"b": null}]}})))
            .collect();
        let mut buf = Vec::new();
        encode(&mut buf, &events).unwrap_or_else(|e| panic!("{e}"));
        let payload = record_at(&buf, 0).unwrap_or_else(|| panic!("the record does not read back"));
        assert_eq!(payload.len() + HEADER, buf.len());
        let back = decode(payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.len(), events.len());
        for (a, b) in back.iter().zip(&events) {
            assert_eq!(a.scope, b.scope);
            assert_eq!(a.event, b.event);
        }
    }

    #[test]
    fn a_record_with_a_flipped_bit_or_missing_bytes_does_not_read() {
        let mut buf = Vec::new();
        encode(&mut buf, &[event(json!({"n": 1}))]).unwrap_or_else(|e| panic!("{e}"));
        assert!(record_at(&buf[..buf.len() - 1], 0).is_none(), "a short record reads");
        assert!(record_at(&buf[..5], 0).is_none(), "a short header reads");
        let last = buf.len() - 2;
        buf[last] ^= 1;
        assert!(record_at(&buf, 0).is_none(), "a damaged record reads");
    }
}
