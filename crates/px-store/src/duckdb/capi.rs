//! DuckDB through its C API, for analytics reads, where duckdb-rs is slow.
//!
//! Two things make these reads faster, both measured on 100M events:
//! - **Statements run unprepared** (`duckdb_query`): DuckDB executed the
//!   20-step funnel statement 30% slower as a prepared statement than as a
//!   plain query (5.5-7.6 s against 3.7-5.0 s, alternating runs), and
//!   duckdb-rs prepares everything. Parameters become typed literals
//!   instead ([`inline_params`]).
//! - **Answers are read in place**: the chunks of the materialized answer
//!   are fetched by index (`duckdb_result_get_chunk`) and their vectors
//!   copied into large Arrow buffers by both cores at once (DuckDB is idle
//!   by then). duckdb-rs converts one 2,048-row chunk at a time through the
//!   Arrow C interface: a 37.7M-row scan took 5.5 s to run and hand over
//!   with its `query_arrow`, 2.4 s here.
//!
//! The database itself is opened here too, because duckdb-rs does not give
//! out its handle: [`Database`] owns it, and every connection, duckdb-rs's
//! ([`Conn`]) or raw ([`RawConnection`]), keeps it open through an `Arc`.

use crate::event_store::SqlParam;
use crate::{Result, StoreError};
use ::arrow::array::{ArrayData, ArrayRef, BooleanArray, BooleanBufferBuilder, NullArray, StringArray, make_array};
use ::arrow::buffer::{Buffer, MutableBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use ::arrow::datatypes::{ArrowNativeType, DataType, Field, Schema, TimeUnit};
use ::arrow::record_batch::RecordBatch;
use duckdb::ffi;
use std::ffi::{CStr, CString, c_char};
use std::path::Path;
use std::ptr;
use std::sync::Arc;

/// DuckDB's error text behind `message` (owned by DuckDB), or `fallback`.
///
/// # Safety
/// `message` is null or a NUL-terminated string that outlives the call.
unsafe fn error_text(message: *const c_char, fallback: &str) -> String {
    if message.is_null() {
        return fallback.to_owned();
    }
    // SAFETY: per the function's contract.
    unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
}

fn c_string(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| StoreError::Invalid(format!("{what} contains a NUL byte")))
}

/// An open database file.
pub struct Database {
    raw: ffi::duckdb_database,
}

// SAFETY: a DuckDB database handle may be used from any thread; DuckDB
// synchronizes connecting and closing itself.
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Database {
    /// Opens (creating if needed) the file at `path` with DuckDB `settings`.
    /// Errors carry DuckDB's text (which names a lock held by another process).
    pub fn open(path: &Path, settings: &[(&str, &str)]) -> std::result::Result<Arc<Database>, String> {
        let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
        let mut config: ffi::duckdb_config = ptr::null_mut();
        // SAFETY: every pointer handed to DuckDB below lives across the call;
        // the config is destroyed on every path once the database has read it.
        unsafe {
            if ffi::duckdb_create_config(&mut config) != ffi::DuckDBSuccess {
                return Err("cannot create a DuckDB configuration".into());
            }
            for (key, value) in settings {
                let (k, v) =
                    (CString::new(*key).map_err(|e| e.to_string())?, CString::new(*value).map_err(|e| e.to_string())?);
                if ffi::duckdb_set_config(config, k.as_ptr(), v.as_ptr()) != ffi::DuckDBSuccess {
                    ffi::duckdb_destroy_config(&mut config);
                    return Err(format!("DuckDB setting {key} = {value} was refused"));
                }
            }
            let mut db: ffi::duckdb_database = ptr::null_mut();
            let mut err: *mut c_char = ptr::null_mut();
            let state = ffi::duckdb_open_ext(c_path.as_ptr(), &mut db, config, &mut err);
            ffi::duckdb_destroy_config(&mut config);
            if state != ffi::DuckDBSuccess {
                let text = error_text(err, "cannot open the database");
                if !err.is_null() {
                    ffi::duckdb_free(err.cast());
                }
                return Err(text);
            }
            Ok(Arc::new(Database { raw: db }))
        }
    }

    /// A duckdb-rs connection, for everything but large answers.
    pub fn connect(self: &Arc<Self>) -> Result<Conn> {
        // SAFETY: `raw` is open, and the returned `Conn` keeps it so: it
        // holds this `Arc` and drops its connection first.
        let conn = unsafe { duckdb::Connection::open_from_raw(self.raw) }?;
        Ok(Conn { conn, _db: Arc::clone(self) })
    }

    /// A connection for reading large answers ([`RawConnection::query_arrow`]).
    pub fn connect_raw(self: &Arc<Self>) -> Result<RawConnection> {
        let mut con: ffi::duckdb_connection = ptr::null_mut();
        // SAFETY: `raw` is open; `con` is written by DuckDB.
        if unsafe { ffi::duckdb_connect(self.raw, &mut con) } != ffi::DuckDBSuccess {
            return Err(StoreError::Internal("duckdb: cannot connect".into()));
        }
        Ok(RawConnection { handle: Arc::new(ConnectionHandle { raw: con, _db: Arc::clone(self) }) })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: no connection is left (each holds an `Arc` to `self`).
        unsafe { ffi::duckdb_close(&mut self.raw) };
    }
}

/// A duckdb-rs connection that keeps its [`Database`] open.
pub struct Conn {
    // Field order matters: the connection is dropped before the database.
    conn: duckdb::Connection,
    _db: Arc<Database>,
}

impl Conn {
    /// Another connection to the same database.
    pub fn try_clone(&self) -> Result<Conn> {
        Ok(Conn { conn: self.conn.try_clone()?, _db: Arc::clone(&self._db) })
    }
}

impl std::ops::Deref for Conn {
    type Target = duckdb::Connection;
    fn deref(&self) -> &duckdb::Connection {
        &self.conn
    }
}

struct ConnectionHandle {
    raw: ffi::duckdb_connection,
    _db: Arc<Database>,
}

// SAFETY: the handle is used by one thread at a time ([`RawConnection`] is
// not `Clone` and queries take `&mut self`), except `duckdb_interrupt`,
// which DuckDB documents as callable from another thread while a query runs.
unsafe impl Send for ConnectionHandle {}
unsafe impl Sync for ConnectionHandle {}

impl Drop for ConnectionHandle {
    fn drop(&mut self) {
        // SAFETY: the last owner; nothing runs on the connection any more.
        unsafe { ffi::duckdb_disconnect(&mut self.raw) };
    }
}

/// A connection through the C API, for [`RawConnection::query_arrow`].
pub struct RawConnection {
    handle: Arc<ConnectionHandle>,
}

/// Stops the statement running on a [`RawConnection`], from another thread.
#[derive(Clone)]
pub struct InterruptHandle(Arc<ConnectionHandle>);

impl InterruptHandle {
    pub fn interrupt(&self) {
        // SAFETY: the connection is open while this handle holds it.
        unsafe { ffi::duckdb_interrupt(self.0.raw) };
    }
}

/// A materialized answer, destroyed on drop.
struct Answer(ffi::duckdb_result);

// SAFETY: reading chunks of a materialized answer by index
// (`duckdb_result_get_chunk`) is safe from several threads: DuckDB's
// collection takes its allocator's lock where reads touch shared state.
// The one write the call makes (marking the result materialized) happens
// on the first call, which `query_arrow` makes before sharing the answer.
unsafe impl Sync for Answer {}

impl Drop for Answer {
    fn drop(&mut self) {
        // SAFETY: filled by `duckdb_query`, destroyed once.
        unsafe { ffi::duckdb_destroy_result(&mut self.0) };
    }
}

/// One chunk of an answer, destroyed on drop.
struct Chunk(ffi::duckdb_data_chunk);

impl Drop for Chunk {
    fn drop(&mut self) {
        // SAFETY: returned by `duckdb_result_get_chunk`, destroyed once.
        unsafe { ffi::duckdb_destroy_data_chunk(&mut self.0) };
    }
}

impl Chunk {
    fn len(&self) -> usize {
        // SAFETY: a live chunk.
        unsafe { ffi::duckdb_data_chunk_get_size(self.0) as usize }
    }

    /// Column `c`'s values (as `T`, which the caller matched to the column's
    /// type) and validity mask (`None`: all valid), alive as long as the chunk.
    ///
    /// # Safety
    /// `T` has the size and layout of column `c`'s physical type.
    unsafe fn column<T>(&self, c: usize) -> (&[T], Option<&[u64]>) {
        let n = self.len();
        // SAFETY: DuckDB vectors hold `n` values of the column's physical
        // type and a validity mask of one bit per value (or none).
        unsafe {
            let v = ffi::duckdb_data_chunk_get_vector(self.0, c as u64);
            let data = ffi::duckdb_vector_get_data(v) as *const T;
            let validity = ffi::duckdb_vector_get_validity(v);
            let values = if n == 0 { &[][..] } else { std::slice::from_raw_parts(data, n) };
            let mask =
                (!validity.is_null()).then(|| std::slice::from_raw_parts(validity as *const u64, n.div_ceil(64)));
            (values, mask)
        }
    }
}

fn is_valid(mask: Option<&[u64]>, i: usize) -> bool {
    mask.is_none_or(|m| m[i / 64] >> (i % 64) & 1 == 1)
}

/// Whether the first `n` bits of `mask` are all set (DuckDB may hand over
/// a mask for a vector with no NULL).
fn all_valid(mask: &[u64], n: usize) -> bool {
    let (full, rest) = (n / 64, n % 64);
    mask[..full].iter().all(|&w| w == u64::MAX) && (rest == 0 || mask[full] | (u64::MAX << rest) == u64::MAX)
}

/// How a column's values are copied into Arrow.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Values of this many bytes, copied as they are.
    Fixed(usize),
    /// DECIMAL stored in a narrower integer (bytes), widened to i128.
    Decimal(usize),
    Bool,
    Text,
    /// UUIDs, handed over as their text (as duckdb-rs does).
    Uuid,
    /// The type of a bare `NULL`.
    Null,
}

/// A column of the answer: its name, Arrow type and how to copy it.
struct Column {
    name: String,
    data_type: DataType,
    kind: Kind,
}

/// Maps DuckDB's type of answer column `c` to Arrow's.
///
/// # Safety
/// `answer` is a live, successful answer with more than `c` columns.
unsafe fn column(answer: &mut Answer, c: u64) -> Result<Column> {
    // SAFETY: per the function's contract; the logical type is destroyed below.
    let (name, type_id, width, scale, internal) = unsafe {
        let name = error_text(ffi::duckdb_column_name(&mut answer.0, c), "");
        let mut logical = ffi::duckdb_column_logical_type(&mut answer.0, c);
        let id = ffi::duckdb_get_type_id(logical);
        let decimal = id == ffi::DUCKDB_TYPE_DUCKDB_TYPE_DECIMAL;
        let width = if decimal { ffi::duckdb_decimal_width(logical) } else { 0 };
        let scale = if decimal { ffi::duckdb_decimal_scale(logical) } else { 0 };
        let internal = if decimal { ffi::duckdb_decimal_internal_type(logical) } else { 0 };
        ffi::duckdb_destroy_logical_type(&mut logical);
        (name, id, width, scale, internal)
    };
    use DataType as A;
    let (data_type, kind) = match type_id {
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN => (A::Boolean, Kind::Bool),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TINYINT => (A::Int8, Kind::Fixed(1)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => (A::Int16, Kind::Fixed(2)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => (A::Int32, Kind::Fixed(4)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => (A::Int64, Kind::Fixed(8)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UTINYINT => (A::UInt8, Kind::Fixed(1)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_USMALLINT => (A::UInt16, Kind::Fixed(2)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UINTEGER => (A::UInt32, Kind::Fixed(4)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UBIGINT => (A::UInt64, Kind::Fixed(8)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_FLOAT => (A::Float32, Kind::Fixed(4)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE => (A::Float64, Kind::Fixed(8)),
        // `sum` of integers: i128 in both, the same layout on little-endian machines.
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_HUGEINT => (A::Decimal128(38, 0), Kind::Fixed(16)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_DECIMAL => {
            let bytes = match internal {
                ffi::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => 2,
                ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => 4,
                ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => 8,
                _ => 16,
            };
            let kind = if bytes == 16 { Kind::Fixed(16) } else { Kind::Decimal(bytes) };
            (A::Decimal128(width, scale as i8), kind)
        }
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP => (A::Timestamp(TimeUnit::Microsecond, None), Kind::Fixed(8)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ => {
            (A::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), Kind::Fixed(8))
        }
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_DATE => (A::Date32, Kind::Fixed(4)),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR => (A::Utf8, Kind::Text),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UUID => (A::Utf8, Kind::Uuid),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_SQLNULL => (A::Null, Kind::Null),
        other => {
            return Err(StoreError::Internal(format!(
                "duckdb: column {name} has DuckDB type {other}, which PX does not read; cast it in the query"
            )));
        }
    };
    Ok(Column { name, data_type, kind })
}

/// One column of one batch being built.
struct Builder {
    kind: Kind,
    /// Fixed-width values, or the bytes of all text values.
    values: MutableBuffer,
    /// Text only: where each value ends in `values`.
    offsets: Vec<i32>,
    bools: BooleanBufferBuilder,
    /// Validity so far; `None` while every value was valid.
    valid: Option<BooleanBufferBuilder>,
    len: usize,
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        let offsets = if matches!(kind, Kind::Text | Kind::Uuid) { vec![0] } else { Vec::new() };
        Builder {
            kind,
            values: MutableBuffer::new(0),
            offsets,
            bools: BooleanBufferBuilder::new(0),
            valid: None,
            len: 0,
        }
    }

    /// Appends `n` values' validity: DuckDB's mask has Arrow's bit order
    /// (bit `i % 64` of word `i / 64`, little-endian words).
    fn push_validity(&mut self, mask: Option<&[u64]>, n: usize) {
        let mask = mask.filter(|m| !all_valid(m, n));
        match (mask, &mut self.valid) {
            (None, None) => {}
            (None, Some(v)) => v.append_n(n, true),
            (Some(m), valid) => {
                let v = valid.get_or_insert_with(|| {
                    let mut b = BooleanBufferBuilder::new(self.len + n);
                    b.append_n(self.len, true);
                    b
                });
                let bytes: Vec<u8> = m.iter().flat_map(|w| w.to_le_bytes()).collect();
                v.append_packed_range(0..n, &bytes);
            }
        }
    }

    /// Appends column `c` of `chunk`.
    fn append(&mut self, chunk: &Chunk, c: usize) -> Result<()> {
        let n = chunk.len();
        // SAFETY (each `column` call): `kind` was chosen from the column's
        // type in `column`, and matches its physical layout.
        let mask = match self.kind {
            Kind::Fixed(1) => self.copy(unsafe { chunk.column::<u8>(c) }),
            Kind::Fixed(2) => self.copy(unsafe { chunk.column::<u16>(c) }),
            Kind::Fixed(4) => self.copy(unsafe { chunk.column::<u32>(c) }),
            Kind::Fixed(8) => self.copy(unsafe { chunk.column::<u64>(c) }),
            Kind::Fixed(_) => self.copy(unsafe { chunk.column::<i128>(c) }),
            Kind::Decimal(2) => self.widen(unsafe { chunk.column::<i16>(c) }),
            Kind::Decimal(4) => self.widen(unsafe { chunk.column::<i32>(c) }),
            Kind::Decimal(_) => self.widen(unsafe { chunk.column::<i64>(c) }),
            Kind::Bool => {
                // DuckDB stores a BOOLEAN as one byte, 0 or 1.
                let (values, mask) = unsafe { chunk.column::<u8>(c) };
                for &b in values {
                    self.bools.append(b != 0);
                }
                mask
            }
            Kind::Text => {
                let (values, mask) = unsafe { chunk.column::<ffi::duckdb_string_t>(c) };
                for (i, s) in values.iter().enumerate() {
                    if is_valid(mask, i) {
                        // SAFETY: a valid entry's string lives as long as the chunk.
                        self.values.extend_from_slice(unsafe { string_bytes(s) });
                    }
                    self.end_value()?;
                }
                mask
            }
            Kind::Uuid => {
                let (values, mask) = unsafe { chunk.column::<u128>(c) };
                let mut text = uuid::Uuid::encode_buffer();
                for (i, v) in values.iter().enumerate() {
                    if is_valid(mask, i) {
                        // DuckDB flips the top bit so that UUIDs sort as signed integers.
                        let id = uuid::Uuid::from_u128(v ^ (1u128 << 127));
                        self.values.extend_from_slice(id.hyphenated().encode_lower(&mut text).as_bytes());
                    }
                    self.end_value()?;
                }
                mask
            }
            Kind::Null => None,
        };
        self.push_validity(mask, n);
        self.len += n;
        Ok(())
    }

    fn copy<'a, T: ArrowNativeType>(&mut self, (values, mask): (&[T], Option<&'a [u64]>)) -> Option<&'a [u64]> {
        self.values.extend_from_slice(values);
        mask
    }

    fn widen<'a, T: Copy + Into<i128>>(&mut self, (values, mask): (&[T], Option<&'a [u64]>)) -> Option<&'a [u64]> {
        for v in values {
            self.values.push::<i128>((*v).into());
        }
        mask
    }

    fn end_value(&mut self) -> Result<()> {
        let end = i32::try_from(self.values.len())
            .map_err(|_| StoreError::Internal("an answer's text column exceeds 2 GiB in one batch".into()))?;
        self.offsets.push(end);
        Ok(())
    }

    fn finish(mut self, data_type: &DataType) -> Result<ArrayRef> {
        let nulls = self.valid.take().map(|mut v| NullBuffer::new(v.finish()));
        let arrow_err = |e: ::arrow::error::ArrowError| StoreError::Internal(format!("arrow: {e}"));
        Ok(match self.kind {
            Kind::Null => Arc::new(NullArray::new(self.len)),
            Kind::Bool => Arc::new(BooleanArray::new(self.bools.finish(), nulls)),
            Kind::Text | Kind::Uuid => Arc::new(
                StringArray::try_new(
                    OffsetBuffer::new(ScalarBuffer::from(self.offsets)),
                    Buffer::from(self.values),
                    nulls,
                )
                .map_err(arrow_err)?,
            ),
            Kind::Fixed(_) | Kind::Decimal(_) => {
                let data = ArrayData::try_new(
                    data_type.clone(),
                    self.len,
                    nulls.map(|n| n.into_inner().into_inner()),
                    0,
                    vec![Buffer::from(self.values)],
                    Vec::new(),
                )
                .map_err(arrow_err)?;
                make_array(data)
            }
        })
    }
}

/// The bytes of a DuckDB string.
///
/// # Safety
/// `s` is a valid entry of a live string vector.
unsafe fn string_bytes(s: &ffi::duckdb_string_t) -> &[u8] {
    // SAFETY: strings of at most 12 bytes are stored inline, longer ones
    // behind `ptr`; both variants start with the length.
    unsafe {
        let len = s.value.inlined.length as usize;
        if len <= 12 {
            std::slice::from_raw_parts(s.value.inlined.inlined.as_ptr().cast::<u8>(), len)
        } else {
            std::slice::from_raw_parts(s.value.pointer.ptr.cast::<u8>(), len)
        }
    }
}

/// Chunks (2,048 rows each) per Arrow batch: large batches keep the
/// per-batch work of readers small.
const CHUNKS_PER_BATCH: u64 = 256;

/// Reads chunks `range` of `answer` into batches of `schema`.
fn read_range(
    answer: &Answer,
    columns: &[Column],
    schema: &Arc<Schema>,
    range: std::ops::Range<u64>,
) -> Result<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    let mut first = range.start;
    while first < range.end {
        let last = (first + CHUNKS_PER_BATCH).min(range.end);
        let mut builders: Vec<Builder> = columns.iter().map(|c| Builder::new(c.kind)).collect();
        for index in first..last {
            // SAFETY: `index` is below the answer's chunk count.
            let chunk = Chunk(unsafe { ffi::duckdb_result_get_chunk(answer.0, index) });
            if chunk.0.is_null() {
                return Err(StoreError::Internal(format!("duckdb: chunk {index} of the answer is missing")));
            }
            for (c, b) in builders.iter_mut().enumerate() {
                b.append(&chunk, c)?;
            }
        }
        let arrays =
            builders.into_iter().zip(columns).map(|(b, c)| b.finish(&c.data_type)).collect::<Result<Vec<_>>>()?;
        batches.push(
            RecordBatch::try_new(Arc::clone(schema), arrays)
                .map_err(|e| StoreError::Internal(format!("arrow: {e}")))?,
        );
        first = last;
    }
    Ok(batches)
}

/// `sql` with each `?` outside quotes and comments replaced by its
/// parameter as a typed literal: `CAST(.. AS BIGINT)`, `CAST('..' AS
/// DOUBLE)`, `TRUE`/`FALSE`, `CAST('..' AS VARCHAR)`. Text is quoted
/// strictly: DuckDB's `'..'` strings know no escape but `''`, so doubling
/// every `'` leaves no way out of the literal, and the values are never
/// scanned for `?`. The casts give each value the type it had as a bound
/// parameter.
fn inline_params(sql: &str, params: &[SqlParam]) -> Result<String> {
    #[derive(PartialEq)]
    enum In {
        Code,
        Text,
        Name,
        LineComment,
        BlockComment,
    }
    let mut out = String::with_capacity(sql.len() + 32 * params.len());
    let mut next = params.iter();
    let mut state = In::Code;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (&state, c) {
            (In::Code, '?') => {
                let p = next.next().ok_or_else(|| {
                    StoreError::Internal(format!("duckdb: the statement takes more than {} parameters", params.len()))
                })?;
                match p {
                    SqlParam::Int(v) => out.push_str(&format!("CAST({v} AS BIGINT)")),
                    SqlParam::Float(v) => out.push_str(&format!("CAST('{v}' AS DOUBLE)")),
                    SqlParam::Bool(v) => out.push_str(if *v { "TRUE" } else { "FALSE" }),
                    SqlParam::Text(v) => {
                        if v.contains('\0') {
                            return Err(StoreError::Invalid("a text value contains a NUL character".into()));
                        }
                        out.push_str("CAST('");
                        out.push_str(&v.replace('\'', "''"));
                        out.push_str("' AS VARCHAR)");
                    }
                }
                continue;
            }
            (In::Code, '\'') => state = In::Text,
            (In::Code, '"') => state = In::Name,
            (In::Code, '-') if chars.peek() == Some(&'-') => state = In::LineComment,
            (In::Code, '/') if chars.peek() == Some(&'*') => {
                out.push(c);
                out.extend(chars.next());
                state = In::BlockComment;
                continue;
            }
            // A doubled quote closes and reopens: the state comes back.
            (In::Text, '\'') | (In::Name, '"') => state = In::Code,
            (In::LineComment, '\n') => state = In::Code,
            (In::BlockComment, '*') if chars.peek() == Some(&'/') => {
                out.push(c);
                if let Some(slash) = chars.next() {
                    out.push(slash);
                }
                state = In::Code;
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    if next.next().is_some() {
        let used = params.len() - next.count() - 1;
        return Err(StoreError::Internal(format!(
            "duckdb: the statement takes {used} parameters, {} were given",
            params.len()
        )));
    }
    Ok(out)
}

impl RawConnection {
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(Arc::clone(&self.handle))
    }

    /// `duckdb_query` runs every statement of its text: make sure there is one.
    fn check_single_statement(&self, text: &CStr) -> Result<()> {
        let mut extracted: ffi::duckdb_extracted_statements = ptr::null_mut();
        // SAFETY: the connection is open; `extracted` is destroyed below.
        unsafe {
            let count = ffi::duckdb_extract_statements(self.handle.raw, text.as_ptr(), &mut extracted);
            let error =
                (count == 0).then(|| error_text(ffi::duckdb_extract_statements_error(extracted), "no statement"));
            ffi::duckdb_destroy_extracted(&mut extracted);
            match (count, error) {
                (_, Some(msg)) => Err(StoreError::Internal(format!("duckdb: {msg}"))),
                (1, None) => Ok(()),
                (n, None) => Err(StoreError::Internal(format!("duckdb: one statement expected, not {n}"))),
            }
        }
    }

    /// Runs one statement with `params` in place of its `?`s and returns
    /// its answer as Arrow batches (none when it has no rows).
    ///
    /// The parameters are written into the text as typed literals (see
    /// [`inline_params`]) and the statement runs unprepared: DuckDB ran
    /// the same funnel statement 30% slower prepared than as one query
    /// (5.5-7.6 s against 3.7-5.0 s on 100M events, alternating runs).
    pub fn query_arrow(&mut self, sql: &str, params: &[SqlParam]) -> Result<Vec<RecordBatch>> {
        let text = c_string("the statement", &inline_params(sql, params)?)?;
        self.check_single_statement(&text)?;
        let started = std::time::Instant::now();
        // SAFETY: a zeroed `duckdb_result` is what DuckDB expects to fill.
        let mut answer = Answer(unsafe { std::mem::zeroed() });
        // SAFETY: the connection is open; `text` outlives the call.
        if unsafe { ffi::duckdb_query(self.handle.raw, text.as_ptr(), &mut answer.0) } != ffi::DuckDBSuccess {
            // SAFETY: the message belongs to the answer, alive here.
            let msg = unsafe { error_text(ffi::duckdb_result_error(&mut answer.0), "the statement failed") };
            return Err(StoreError::Internal(format!("duckdb: {msg}")));
        }
        let executed = started.elapsed();
        // SAFETY: a successful answer.
        let ncols = unsafe { ffi::duckdb_column_count(&mut answer.0) };
        // SAFETY: `c` is below the column count.
        let columns = (0..ncols).map(|c| unsafe { column(&mut answer, c) }).collect::<Result<Vec<_>>>()?;
        let schema = Arc::new(Schema::new(
            columns.iter().map(|c| Field::new(&c.name, c.data_type.clone(), true)).collect::<Vec<_>>(),
        ));
        // SAFETY: a successful, materialized answer.
        let chunks = unsafe { ffi::duckdb_result_chunk_count(answer.0) };
        if chunks == 0 {
            return Ok(Vec::new());
        }
        // The first call marks the answer as read by chunk index: make it
        // before two threads read at once (see `Answer`).
        // SAFETY: chunk 0 exists.
        drop(Chunk(unsafe { ffi::duckdb_result_get_chunk(answer.0, 0) }));
        let batches = if chunks < 2 * CHUNKS_PER_BATCH {
            read_range(&answer, &columns, &schema, 0..chunks)?
        } else {
            read_halves(&answer, &columns, &schema, chunks)?
        };
        tracing::debug!(
            execute_ms = executed.as_secs_f64() * 1e3,
            read_ms = (started.elapsed() - executed).as_secs_f64() * 1e3,
            rows = batches.iter().map(|b| b.num_rows()).sum::<usize>(),
            "answer read"
        );
        Ok(batches)
    }
}

/// Reads the answer's chunks on two threads, each half into its batches.
fn read_halves(answer: &Answer, columns: &[Column], schema: &Arc<Schema>, chunks: u64) -> Result<Vec<RecordBatch>> {
    {
        let mid = chunks / 2;
        let (a, b) = std::thread::scope(|s| {
            let first = s.spawn(|| read_range(answer, columns, schema, 0..mid));
            let second = read_range(answer, columns, schema, mid..chunks);
            (first.join(), second)
        });
        let mut batches = a.map_err(|_| StoreError::Internal("reading the answer panicked".into()))??;
        batches.extend(b?);
        Ok(batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::arrow::array::{Array, AsArray};
    use ::arrow::compute::concat_batches;
    use ::arrow::datatypes::{Decimal128Type, Float64Type, Int32Type, Int64Type};

    fn open() -> (tempfile::TempDir, Arc<Database>) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Database::open(&dir.path().join("t.duckdb"), &[("autoload_known_extensions", "false")])
            .unwrap_or_else(|e| panic!("{e}"));
        (dir, db)
    }

    fn run(db: &Arc<Database>, sql: &str, params: &[SqlParam]) -> Result<Vec<RecordBatch>> {
        db.connect_raw()?.query_arrow(sql, params)
    }

    /// duckdb-rs's own answer, the reference.
    fn reference(db: &Arc<Database>, sql: &str) -> RecordBatch {
        let conn = db.connect().unwrap_or_else(|e| panic!("{e}"));
        let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}"));
        let batches: Vec<RecordBatch> = stmt.query_arrow([]).unwrap_or_else(|e| panic!("{e}")).collect();
        let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| panic!("no rows"));
        concat_batches(&schema, &batches).unwrap_or_else(|e| panic!("{e}"))
    }

    fn one(batches: &[RecordBatch]) -> RecordBatch {
        let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| panic!("no batches"));
        concat_batches(&schema, batches).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_supported_type_reads_as_duckdb_rs_reads_it() {
        let (_dir, db) = open();
        let sql = "SELECT i::TINYINT AS a, i::SMALLINT AS b, i::INTEGER AS c, i::BIGINT AS d, i::UTINYINT AS e,
                i::USMALLINT AS f, i::UINTEGER AS g, i::UBIGINT AS h, (i / 3)::FLOAT AS fl, i / 7 AS db,
                i % 3 = 0 AS bo, CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS n,
                repeat('x', i % 20) || i AS s, CASE WHEN i % 4 = 0 THEN NULL ELSE 'ok' END AS sn,
                (i * 1.25)::DECIMAL(9, 2) AS d9, (i * 1.25)::DECIMAL(18, 3) AS d18,
                (i * 1.25)::DECIMAL(30, 4) AS d30, (i * 1.5)::DECIMAL(4, 1) AS d4,
                make_timestamp(i * 1000000) AS ts, make_timestamp(i * 1000000)::DATE AS dt
            FROM range(100) t(i)";
        let mine = one(&run(&db, sql, &[]).unwrap_or_else(|e| panic!("{e}")));
        let theirs = reference(&db, sql);
        assert_eq!(mine.num_rows(), 100);
        for (f, col) in theirs.schema().fields().iter().zip(theirs.columns()) {
            let got = mine.column_by_name(f.name()).unwrap_or_else(|| panic!("no column {}", f.name()));
            let want = ::arrow::compute::cast(col, got.data_type()).unwrap_or_else(|e| panic!("{}: {e}", f.name()));
            assert_eq!(got.as_ref(), want.as_ref(), "column {}", f.name());
        }
        assert_eq!(mine.column_by_name("n").map(|c| c.null_count()), Some(20));
        assert_eq!(mine.column_by_name("sn").map(|c| c.null_count()), Some(25));
    }

    #[test]
    fn uuids_hugeints_and_null_columns() {
        let (_dir, db) = open();
        let ids = [
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "7f3e1c2a-9b4d-4e8f-a1b2-c3d4e5f60718",
        ];
        let sql = format!(
            "SELECT u::UUID AS u, sum('1000000000000000000000000000000'::HUGEINT) OVER () AS big, NULL AS nothing FROM (VALUES ('{}'), ('{}'), ('{}'), (NULL)) t(u)",
            ids[0], ids[1], ids[2]
        );
        let b = one(&run(&db, &sql, &[]).unwrap_or_else(|e| panic!("{e}")));
        let u = b.column(0).as_string::<i32>();
        assert_eq!((0..3).map(|i| u.value(i)).collect::<Vec<_>>(), ids);
        assert!(u.is_null(3));
        let big = b.column(1).as_primitive::<Decimal128Type>();
        assert_eq!(big.value(0), 4 * 10i128.pow(30));
        assert_eq!(b.column(2).data_type(), &DataType::Null);
        assert_eq!(b.column(2).len(), 4);
    }

    #[test]
    fn validity_masks_are_read_to_their_length() {
        assert!(all_valid(&[], 0));
        assert!(all_valid(&[u64::MAX], 64));
        assert!(!all_valid(&[u64::MAX - 1], 64));
        // Bits past the vector's length do not count.
        assert!(all_valid(&[u64::MAX, 0b11_1111], 70));
        assert!(!all_valid(&[u64::MAX, 0b01_1111], 70));
        assert!(all_valid(&[0b111], 3));
        assert!(!all_valid(&[u64::MAX >> 1], 64));
    }

    #[test]
    fn large_answers_keep_their_order_across_batches_and_threads() {
        let (_dir, db) = open();
        let n = 3_000_000i64;
        let batches = run(&db, "SELECT i, i::VARCHAR AS s FROM range(?) t(i) ORDER BY i", &[SqlParam::Int(n)])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(batches.len() > 2, "{} batches", batches.len());
        let mut next = 0i64;
        for b in &batches {
            let (i, s) = (b.column(0).as_primitive::<Int64Type>(), b.column(1).as_string::<i32>());
            for r in 0..b.num_rows() {
                assert_eq!(i.value(r), next);
                assert_eq!(s.value(r), next.to_string());
                next += 1;
            }
        }
        assert_eq!(next, n);
    }

    #[test]
    fn parameters_bind_by_type_and_text_is_never_sql() {
        let (_dir, db) = open();
        let evil = "x'); DROP TABLE t; --";
        let b = one(&run(
            &db,
            "SELECT ? + 1 AS i, ? * 2 AS f, ? AS t, NOT ? AS b",
            &[SqlParam::Int(41), SqlParam::Float(1.25), SqlParam::Text(evil.into()), SqlParam::Bool(false)],
        )
        .unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(b.column(0).as_primitive::<Int64Type>().value(0), 42);
        assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), 2.5);
        assert_eq!(b.column(2).as_string::<i32>().value(0), evil);
        assert!(b.column(3).as_boolean().value(0));
    }

    #[test]
    fn text_values_stay_values_whatever_they_hold() {
        let (_dir, db) = open();
        let nasty = [
            "it's",
            "'; DROP TABLE t; --",
            "?",
            "a ? b '?' \"?\"",
            "back\\slash\\'",
            "/* not a comment */ -- nor this",
            "ünïcødé ✓ 🚀",
            "'' ''' ''''",
            "",
        ];
        // `?`s in quotes and comments are not parameters.
        let sql = "SELECT ? AS v, '?' AS q, \"?\".x AS n /* ? */ FROM (SELECT 1 AS x) \"?\" -- ?\n WHERE ? = ?";
        for s in nasty {
            let params = [SqlParam::Text(s.into()), SqlParam::Int(-7), SqlParam::Int(-7)];
            let b = one(&run(&db, sql, &params).unwrap_or_else(|e| panic!("{s}: {e}")));
            assert_eq!(b.column(0).as_string::<i32>().value(0), s);
            assert_eq!(b.column(1).as_string::<i32>().value(0), "?");
        }
        let b = one(&run(
            &db,
            "SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e, 5-? AS f",
            &[
                SqlParam::Int(i64::MIN),
                SqlParam::Float(f64::INFINITY),
                SqlParam::Float(f64::NAN),
                SqlParam::Float(-0.1),
                SqlParam::Float(1e300),
                SqlParam::Int(-1),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(b.column(0).as_primitive::<Int64Type>().value(0), i64::MIN);
        assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), f64::INFINITY);
        assert!(b.column(2).as_primitive::<Float64Type>().value(0).is_nan());
        assert_eq!(b.column(3).as_primitive::<Float64Type>().value(0), -0.1);
        assert_eq!(b.column(4).as_primitive::<Float64Type>().value(0), 1e300);
        assert_eq!(b.column(5).as_primitive::<Int64Type>().value(0), 6);
        // Every string of three characters from those that mean something to SQL.
        let specials = ['\'', '"', '?', '-', '/', '*', '\\', '\n', ';'];
        let mut conn = db.connect_raw().unwrap_or_else(|e| panic!("{e}"));
        for a in specials {
            for b in specials {
                for c in specials {
                    let s: String = [a, b, c].iter().collect();
                    let got = conn
                        .query_arrow("SELECT ? AS v, ? AS w", &[SqlParam::Text(s.clone()), SqlParam::Int(1)])
                        .unwrap_or_else(|e| panic!("{s:?}: {e}"));
                    assert_eq!(one(&got).column(0).as_string::<i32>().value(0), s);
                }
            }
        }
        match run(&db, "SELECT ?", &[SqlParam::Text("nul\0byte".into())]) {
            Err(StoreError::Invalid(m)) => assert!(m.contains("NUL"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_what_went_wrong() {
        let (_dir, db) = open();
        let err = |sql: &str, params: &[SqlParam]| match run(&db, sql, params) {
            Ok(_) => panic!("{sql} ran"),
            Err(e) => e.to_string(),
        };
        assert!(err("SELEC 1", &[]).contains("syntax error"), "{}", err("SELEC 1", &[]));
        assert!(err("SELECT ?", &[]).contains("takes more than 0 parameters"));
        assert!(err("SELECT ?", &[SqlParam::Int(1), SqlParam::Int(2)]).contains("takes 1 parameters, 2 were given"));
        assert!(err("SELECT 1; SELECT 2", &[]).contains("one statement expected, not 2"));
        assert!(err("SELECT * FROM nowhere", &[]).contains("nowhere"));
        let regex = err("SELECT regexp_matches('a', '(')", &[]);
        assert!(regex.contains("missing )"), "{regex}");
        assert!(err("SELECT INTERVAL 1 DAY AS gap", &[]).contains("column gap has DuckDB type"));
        assert!(run(&db, "SELECT 1 WHERE false", &[]).unwrap_or_else(|e| panic!("{e}")).is_empty());
        let b = one(&run(&db, "SELECT 7::INTEGER AS x", &[]).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(b.column(0).as_primitive::<Int32Type>().value(0), 7);
    }

    #[test]
    fn an_interrupted_statement_fails_at_once() {
        let (_dir, db) = open();
        let mut conn = db.connect_raw().unwrap_or_else(|e| panic!("{e}"));
        let handle = conn.interrupt_handle();
        let (tx, rx) = std::sync::mpsc::channel();
        let runner = std::thread::spawn(move || {
            let _ = tx.send(());
            conn.query_arrow("SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3", &[])
        });
        rx.recv().unwrap_or_else(|e| panic!("{e}"));
        // Interrupting before the statement starts would be lost: keep
        // interrupting until it has failed.
        while !runner.is_finished() {
            handle.interrupt();
            std::thread::yield_now();
        }
        let res = runner.join().unwrap_or_else(|_| panic!("panicked"));
        assert!(res.as_ref().is_err_and(|e| e.to_string().contains("nterrupt")), "{res:?}");
    }

    #[test]
    fn the_database_stays_open_while_a_connection_lives() {
        let (dir, db) = open();
        let conn = db.connect().unwrap_or_else(|e| panic!("{e}"));
        let mut raw = db.connect_raw().unwrap_or_else(|e| panic!("{e}"));
        drop(db);
        conn.execute_batch("CREATE TABLE t AS SELECT 1 AS x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(raw.query_arrow("SELECT x FROM t", &[]).map(|b| b.len()).ok(), Some(1));
        drop((conn, raw));
        // Closed with the last connection: it opens again, with the table.
        let again = Database::open(&dir.path().join("t.duckdb"), &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run(&again, "SELECT x FROM t", &[]).map(|b| b.len()).ok(), Some(1));
    }
}
