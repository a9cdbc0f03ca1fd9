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
//! grow; a record's position is where it ends. A record is a header
//! (little-endian u32 payload length, u32 CRC-32 of the rest, u64 position
//! of the record's first byte) and the payload: the record's events, each
//! with the session the writer assigned it (see [`codec`]). A record whose header does not check out ends the data:
//! a stale record in a recycled file carries an older position.
//!
//! Segments are written in place into files whose bytes already exist
//! (zero-filled when new, recycled once the store holds them): syncing an
//! overwrite changes no file size or block map, so ext4 and XFS sync the
//! data alone, without a journal commit that would wait for the event
//! store's own (much larger) writes. That keeps an acknowledgement at a
//! fraction of a millisecond while the store checkpoints. A segment that
//! is full ends with a seal (a header with length `u32::MAX`) before the
//! writer moves on.
//!
//! A bad record at the end of the last segment is an append that never
//! completed, so it was never acknowledged: recovery ends the data there
//! and the writer overwrites it. A bad record anywhere else (before a
//! segment's seal) means acknowledged data was damaged on disk: recovery
//! stops with an error naming the file and offset rather than skip it.

mod codec;

use crate::event_store::{Commit, EventStore, ScopedEvent};
use crate::{Result, StoreError};
use px_core::{Event, ProjectScope};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Size of a segment file (a larger record gets a segment of its own
/// size). Recovery reads one segment at a time, so this also bounds its
/// memory.
pub const SEGMENT_BYTES: u64 = 32 << 20;

/// Stored segments kept for reuse instead of deleted: new segments then
/// cost a rename, not a zero-fill. Under full load the store commits
/// about every 140,000 events (`BULK_EVENTS` and a drain), some 4 segments
/// of spool; with only 2 spares, zero-filling took 2% of the server's CPU.
const SPARES: usize = 6;

const HEADER: usize = 16;
const SEAL: u32 = u32::MAX;
const SUFFIX: &str = ".spool";
const SPARE_SUFFIX: &str = ".spare";

/// The appending end of the spool. One writer owns it.
pub struct Spool {
    dir: PathBuf,
    file: File,
    /// Position of the current segment's first byte.
    start: u64,
    /// Bytes of records in the current segment (where the next one goes).
    len: u64,
    /// Size of the current segment's file.
    size: u64,
    segment_bytes: u64,
    buf: Vec<u8>,
}

impl Spool {
    /// Opens the spool in `dir` for appending after its last good record.
    /// Run [`recover`] first, so that the store holds everything before
    /// the writer goes on. `through` is the store's position: an empty (or
    /// lost) spool starts there, so positions never go backwards.
    pub fn open(dir: &Path, through: u64) -> Result<Self> {
        Self::with_segment_bytes(dir, through, SEGMENT_BYTES)
    }

    /// [`open`](Self::open) with another segment size (tests use small ones).
    pub fn with_segment_bytes(dir: &Path, through: u64, segment_bytes: u64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, "creating", e))?;
        let last = segments(dir)?.pop();
        if let Some((start, path)) = last {
            let bytes = std::fs::read(&path).map_err(|e| io(&path, "reading", e))?;
            let len = scan(&bytes, start).end as u64;
            if start + len >= through {
                let file = OpenOptions::new().write(true).open(&path).map_err(|e| io(&path, "opening", e))?;
                let size = bytes.len() as u64;
                return Ok(Self { dir: dir.to_path_buf(), file, start, len, size, segment_bytes, buf: Vec::new() });
            }
        }
        let (file, size) = new_segment(dir, through, segment_bytes)?;
        Ok(Self { dir: dir.to_path_buf(), file, start: through, len: 0, size, segment_bytes, buf: Vec::new() })
    }

    /// The position after the last record.
    pub fn position(&self) -> u64 {
        self.start + self.len
    }

    /// Appends the events as one record and syncs it to disk; returns the
    /// record's position. On error the record does not count: the next
    /// append overwrites it.
    pub fn append(&mut self, events: &[ScopedEvent]) -> Result<u64> {
        let encoded = Encoded::new(events)?;
        let mut record = RecordBuilder::default();
        for i in 0..encoded.len() {
            record.push(&encoded, i, None);
        }
        self.append_record(record)
    }

    /// Appends a built record (see [`append`](Self::append)).
    pub fn append_record(&mut self, record: RecordBuilder) -> Result<u64> {
        self.buf = record.finish(std::mem::take(&mut self.buf))?;
        let record = self.buf.len() as u64;
        // Room for the record and, after it, the seal.
        if self.len + record + HEADER as u64 > self.size {
            self.roll(record)?;
        }
        let position = self.position();
        stamp(&mut self.buf, position);
        let path = segment_path(&self.dir, self.start);
        self.file
            .write_all_at(&self.buf, self.len)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| io(&path, "appending to", e))?;
        self.len += record;
        Ok(self.position())
    }

    /// Seals the current segment and moves on to a new one with room for
    /// a record of `record` bytes.
    fn roll(&mut self, record: u64) -> Result<()> {
        let path = segment_path(&self.dir, self.start);
        let size = self.segment_bytes.max(record + HEADER as u64);
        if self.len == 0 {
            // Nothing to seal: the segment grows instead.
            fill(&self.file, self.size, size)
                .and_then(|()| self.file.sync_all())
                .map_err(|e| io(&path, "growing", e))?;
            self.size = size;
            return Ok(());
        }
        let mut seal = [0u8; HEADER];
        seal[..4].copy_from_slice(&SEAL.to_le_bytes());
        stamp(&mut seal, self.position());
        self.file
            .write_all_at(&seal, self.len)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| io(&path, "sealing", e))?;
        let start = self.start + self.size;
        let (file, size) = new_segment(&self.dir, start, size)?;
        (self.file, self.start, self.len, self.size) = (file, start, 0, size);
        Ok(())
    }
}

/// A segment file for records from `start` on, of at least `size` bytes
/// that exist on disk: a spare renamed, or a new file zero-filled. Answers
/// the file and its size.
fn new_segment(dir: &Path, start: u64, size: u64) -> Result<(File, u64)> {
    let path = segment_path(dir, start);
    let spare = spares(dir)?.into_iter().next();
    let file = match spare {
        Some(spare) => {
            std::fs::rename(&spare, &path).map_err(|e| io(&spare, "reusing", e))?;
            OpenOptions::new().write(true).open(&path).map_err(|e| io(&path, "opening", e))?
        }
        None => OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io(&path, "creating", e))?,
    };
    let have = file.metadata().map_err(|e| io(&path, "reading", e))?.len();
    fill(&file, have, size).map_err(|e| io(&path, "zero-filling", e))?;
    // Whatever a recycled file held is stale: a record there has an older
    // position. Only the first header must not look like a current record,
    // and no stale record can, so nothing needs clearing.
    file.sync_all().map_err(|e| io(&path, "syncing", e))?;
    sync_dir(dir).map_err(|e| io(dir, "syncing", e))?;
    Ok((file, have.max(size)))
}

/// Writes zeros from `from` to `to`, so those bytes exist on disk.
fn fill(file: &File, from: u64, to: u64) -> std::io::Result<()> {
    let zeros = vec![0u8; 1 << 20];
    let mut at = from;
    while at < to {
        let n = (to - at).min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// Retires the segments the store holds all of (store position
/// `through`): up to [`SPARES`] are kept for reuse, the rest deleted. The
/// last segment stays: the writer appends to it. Answers how many went.
pub fn release(dir: &Path, through: u64) -> Result<usize> {
    let segments = segments(dir)?;
    let mut spare_count = spares(dir)?.len();
    let mut retired = 0;
    for pair in segments.windows(2) {
        let ((start, path), (next_start, _)) = (&pair[0], &pair[1]);
        if *next_start > through {
            break;
        }
        if spare_count < SPARES {
            let spare = dir.join(format!("{start:020}{SPARE_SUFFIX}"));
            std::fs::rename(path, &spare).map_err(|e| io(path, "retiring", e))?;
            spare_count += 1;
        } else {
            std::fs::remove_file(path).map_err(|e| io(path, "deleting", e))?;
        }
        retired += 1;
    }
    Ok(retired)
}

/// How far [`recover`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// At start, before anything appends: every good record. A bad one at
    /// the end of the last segment was never acknowledged; the writer
    /// overwrites it.
    End,
    /// While a writer appends: only records synced before this position
    /// (one after it may still fail and be overwritten).
    Synced(u64),
}

/// Moves every spooled record the store does not hold yet into it, in
/// appends of about `max_events` (the store commits in bulk, and once per
/// segment), and answers the store's position
/// afterwards. Run at start, before [`Spool::open`], and by the drainer
/// after a failed commit.
pub async fn recover(dir: &Path, store: &dyn EventStore, until: Until, max_events: usize) -> Result<u64> {
    let mut through = store.spooled_through().await?;
    let list = {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || if dir.exists() { segments(&dir) } else { Ok(Vec::new()) }).await??
    };
    let mut replayed = 0usize;
    for (i, (start, path)) in list.iter().enumerate() {
        // Segments the store holds all of are waiting for `release`.
        if list.get(i + 1).is_some_and(|(next, _)| *next <= through) {
            continue;
        }
        let last = i + 1 == list.len();
        let (start, path, after) = (*start, path.clone(), through);
        let records = tokio::task::spawn_blocking(move || read_segment(&path, start, after, last, until)).await??;
        let mut chunk: Vec<ScopedEvent> = Vec::new();
        let mut chunk_through = through;
        let mut appended = through;
        for (position, events) in records {
            chunk.extend(events);
            chunk_through = position;
            if chunk.len() >= max_events {
                replayed += chunk.len();
                store.append_spooled(std::mem::take(&mut chunk), chunk_through, Commit::WhenFull).await?;
                appended = chunk_through;
            }
        }
        if chunk_through > appended {
            replayed += chunk.len();
            store.append_spooled(chunk, chunk_through, Commit::WhenFull).await?;
        }
        through = store.commit_spooled().await?;
    }
    if replayed > 0 {
        tracing::info!(events = replayed, through, "spooled events moved into the store");
    }
    Ok(through)
}

/// The records of one segment that end after `after`.
fn read_segment(path: &Path, start: u64, after: u64, last: bool, until: Until) -> Result<Vec<(u64, Vec<ScopedEvent>)>> {
    let bytes = std::fs::read(path).map_err(|e| io(path, "reading", e))?;
    let scanned = scan(&bytes, start);
    if !scanned.sealed && !last {
        return Err(StoreError::Internal(format!(
            "{}: the record at byte {} is damaged; acknowledged events may be lost. \
             Move the file away to start without it",
            path.display(),
            scanned.end
        )));
    }
    let mut records = Vec::new();
    for (at, payload) in scanned.records {
        let position = start + (at + HEADER + payload.len()) as u64;
        if matches!(until, Until::Synced(synced) if position > synced) {
            break;
        }
        if position > after {
            let events = decode(payload).map_err(|e| {
                StoreError::Internal(format!("{}: the record at byte {at} does not decode: {e}", path.display()))
            })?;
            records.push((position, events));
        }
    }
    Ok(records)
}

/// A segment's good records, in order.
struct Scanned<'a> {
    /// Offset and payload of each record.
    records: Vec<(usize, &'a [u8])>,
    /// Where the records end (the seal, or the first bad header).
    end: usize,
    /// The records end with a seal: the segment was full.
    sealed: bool,
}

fn scan(bytes: &[u8], start: u64) -> Scanned<'_> {
    let mut records = Vec::new();
    let mut at = 0usize;
    loop {
        match record_at(bytes, at, start + at as u64) {
            Some(Record::Data(payload)) => {
                records.push((at, payload));
                at += HEADER + payload.len();
            }
            Some(Record::Seal) => return Scanned { records, end: at, sealed: true },
            None => return Scanned { records, end: at, sealed: false },
        }
    }
}

enum Record<'a> {
    Data(&'a [u8]),
    Seal,
}

/// The record at offset `at`, if its header checks out for `position`.
fn record_at(bytes: &[u8], at: usize, position: u64) -> Option<Record<'_>> {
    let header = bytes.get(at..at + HEADER)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?);
    let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
    if header[8..] != position.to_le_bytes() {
        return None;
    }
    let (body, record) = if len == SEAL {
        (&[][..], Record::Seal)
    } else {
        let payload = bytes.get(at + HEADER..at + HEADER + len as usize)?;
        (payload, Record::Data(payload))
    };
    let mut h = crc32fast::Hasher::new();
    h.update(&header[8..]);
    h.update(body);
    (len > 0 && h.finalize() == crc).then_some(record)
}

/// Events encoded for the spool ahead of the writer: request tasks encode
/// their own events in parallel, and the writer's serial path only copies
/// bytes. Each event is the start of its record item; the writer ends it
/// with the session it assigned, if any.
pub struct Encoded {
    bytes: Vec<u8>,
    /// Where each event's fragment ends in `bytes`.
    ends: Vec<usize>,
}

impl Encoded {
    pub fn new(events: &[ScopedEvent]) -> Result<Self> {
        let mut bytes = Vec::with_capacity(events.len() * 640);
        let mut ends = Vec::with_capacity(events.len());
        for se in events {
            codec::encode_event(&mut bytes, se)
                .map_err(|e| StoreError::Internal(format!("encoding a spool record: {e}")))?;
            ends.push(bytes.len());
        }
        Ok(Self { bytes, ends })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn fragment(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

/// One record's payload, assembled from encoded events.
#[derive(Default)]
pub struct RecordBuilder {
    payload: Vec<u8>,
}

impl RecordBuilder {
    /// Adds event `i` of `encoded`, with the session the writer assigned.
    pub fn push(&mut self, encoded: &Encoded, i: usize, session: Option<&str>) {
        if self.payload.is_empty() {
            self.payload.push(codec::BINARY);
        }
        self.payload.extend_from_slice(encoded.fragment(i));
        codec::encode_session(&mut self.payload, session);
    }

    /// The record: header (length now; position and checksum at
    /// [`stamp`]) and payload, in `buf`'s allocation.
    fn finish(self, mut buf: Vec<u8>) -> Result<Vec<u8>> {
        buf.clear();
        buf.extend_from_slice(&[0; HEADER]);
        if self.payload.is_empty() {
            buf.push(codec::BINARY);
        } else {
            buf.extend_from_slice(&self.payload);
        }
        let len = u32::try_from(buf.len() - HEADER)
            .ok()
            .filter(|l| *l != SEAL)
            .ok_or_else(|| StoreError::Invalid(format!("a spool record holds less than {} bytes", u32::MAX)))?;
        buf[..4].copy_from_slice(&len.to_le_bytes());
        Ok(buf)
    }
}

/// Writes the record's position and checksum into its header.
fn stamp(record: &mut [u8], position: u64) {
    record[8..HEADER].copy_from_slice(&position.to_le_bytes());
    let crc = crc32fast::hash(&record[8..]);
    record[4..8].copy_from_slice(&crc.to_le_bytes());
}

/// A record's events: binary ([`codec`]), or the JSON array of `[scope,
/// event, session]` items that spools held before it.
fn decode(payload: &[u8]) -> std::result::Result<Vec<ScopedEvent>, String> {
    match payload.first() {
        Some(&codec::BINARY) => codec::decode(&payload[1..]),
        Some(b'[') => decode_json(payload).map_err(|e| e.to_string()),
        _ => Err("the payload is neither binary nor JSON".into()),
    }
}

fn decode_json(payload: &[u8]) -> serde_json::Result<Vec<ScopedEvent>> {
    let items: Vec<(ProjectScope, Event, Option<String>)> = serde_json::from_slice(payload)?;
    Ok(items
        .into_iter()
        .map(|(scope, mut event, session)| {
            if session.is_some() {
                event.session_id = session;
            }
            ScopedEvent { scope, event }
        })
        .collect())
}

/// The segments in `dir`, by position.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    files(dir, SUFFIX)
}

/// Retired segments, ready for reuse.
fn spares(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(files(dir, SPARE_SUFFIX)?.into_iter().map(|(_, path)| path).collect())
}

/// The files in `dir` named `<position><suffix>`, by position.
fn files(dir: &Path, suffix: &str) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, "listing", e))? {
        let path = entry.map_err(|e| io(dir, "listing", e))?.path();
        let start = path.file_name().and_then(|n| n.to_str()?.strip_suffix(suffix)?.parse::<u64>().ok());
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

    fn record(events: &[ScopedEvent], session: Option<&str>) -> Vec<u8> {
        let encoded = Encoded::new(events).unwrap_or_else(|e| panic!("{e}"));
        let mut record = RecordBuilder::default();
        for i in 0..encoded.len() {
            record.push(&encoded, i, session);
        }
        record.finish(Vec::new()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_session_the_writer_assigned_is_read_back_with_its_event() {
        let mut buf = record(&[event(json!({})), event(json!({}))], Some("s-\"7\""));
        stamp(&mut buf, 0);
        let Some(Record::Data(payload)) = record_at(&buf, 0, 0) else { panic!("the record does not read back") };
        let back = decode(payload).unwrap_or_else(|e| panic!("{e}"));
        assert!(back.iter().all(|e| e.event.session_id.as_deref() == Some("s-\"7\"")), "{:?}", back[0].event);
        let mut empty = RecordBuilder::default().finish(Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        stamp(&mut empty, 3);
        let Some(Record::Data(payload)) = record_at(&empty, 0, 3) else { panic!("an empty record does not read back") };
        assert!(decode(payload).unwrap_or_else(|e| panic!("{e}")).is_empty());
    }

    #[test]
    fn records_read_back_exactly_including_every_float() {
        let floats = [0.1 + 0.2, 1e-300, 5e-324, f64::MAX, -0.0, 123456.789e10, 2.0f64.sqrt()];
        let events: Vec<ScopedEvent> = floats
            .iter()
            .map(|f| event(json!({"f": f, "big": u64::MAX, "neg": i64::MIN, "deep": {"a": [1, {"b": null}]}})))
            .collect();
        let mut buf = record(&events, None);
        stamp(&mut buf, 77);
        let Some(Record::Data(payload)) = record_at(&buf, 0, 77) else { panic!("the record does not read back") };
        assert_eq!(payload.len() + HEADER, buf.len());
        let back = decode(payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.len(), events.len());
        for (a, b) in back.iter().zip(&events) {
            assert_eq!(a.scope, b.scope);
            assert_eq!(a.event, b.event);
        }
    }

    #[test]
    fn records_spooled_as_json_before_the_binary_encoding_still_read() {
        let events = [event(json!({"n": 1.5})), event(json!({}))];
        let items: Vec<_> = events.iter().map(|e| (e.scope, &e.event, Some("s9"))).collect();
        let back =
            decode(&serde_json::to_vec(&items).unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].event.properties, events[0].event.properties);
        assert_eq!(back[1].event.session_id.as_deref(), Some("s9"));
        assert!(decode(b"{}").is_err() && decode(b"").is_err());
    }

    #[test]
    fn a_cut_or_damaged_binary_payload_is_an_error_not_a_panic() {
        let mut buf = record(&[event(json!({"a": "b"})), event(json!({"c": [1, 2]}))], Some("s"));
        let payload = buf.split_off(HEADER);
        let whole = decode(&payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(whole.len(), 2);
        // Cut anywhere: an error, or (at the item boundary) the first event.
        for end in 1..payload.len() {
            if let Ok(events) = decode(&payload[..end]) {
                assert!(events.len() < 2, "a payload cut at {end} decodes whole");
            }
        }
        // Any byte changed: an error or some events, never a panic.
        for at in 1..payload.len() {
            let mut damaged = payload.clone();
            damaged[at] ^= 0xA5;
            let _ = decode(&damaged);
        }
    }

    #[test]
    fn a_record_reads_only_whole_undamaged_and_at_its_own_position() {
        let mut buf = record(&[event(json!({"n": 1}))], None);
        stamp(&mut buf, 5);
        assert!(record_at(&buf, 0, 5).is_some(), "a good record does not read");
        assert!(record_at(&buf, 0, 6).is_none(), "a record reads at another position (stale)");
        assert!(record_at(&buf[..buf.len() - 1], 0, 5).is_none(), "a short record reads");
        assert!(record_at(&buf[..5], 0, 5).is_none(), "a short header reads");
        assert!(record_at(&[0; 64], 0, 0).is_none(), "zeros read as a record");
        let last = buf.len() - 2;
        buf[last] ^= 1;
        assert!(record_at(&buf, 0, 5).is_none(), "a damaged record reads");
    }
}
