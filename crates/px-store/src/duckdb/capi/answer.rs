//! Reading a materialized DuckDB answer into Arrow: chunks fetched by
//! index (`duckdb_result_get_chunk`), their vectors copied into large Arrow
//! buffers, by both cores at once.

use super::error_text;
use crate::{Result, StoreError};
use ::arrow::array::{ArrayData, ArrayRef, BooleanArray, BooleanBufferBuilder, NullArray, StringArray, make_array};
use ::arrow::buffer::{Buffer, MutableBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use ::arrow::datatypes::{ArrowNativeType, DataType, Field, Schema, TimeUnit};
use ::arrow::record_batch::RecordBatch;
use duckdb::ffi;
use std::sync::Arc;

/// A materialized answer, destroyed on drop.
pub struct Answer(pub ffi::duckdb_result);

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
pub(super) fn all_valid(mask: &[u64], n: usize) -> bool {
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
    /// A builder with room for `rows` values, so that the buffers of
    /// fixed-width columns are allocated once instead of grown by copying.
    fn new(kind: Kind, rows: usize) -> Builder {
        let (width, bools) = match kind {
            Kind::Fixed(w) => (w, 0),
            Kind::Decimal(_) => (16, 0),
            Kind::Uuid => (36, 0),
            Kind::Bool => (0, rows),
            Kind::Text | Kind::Null => (0, 0),
        };
        let mut offsets = Vec::new();
        if matches!(kind, Kind::Text | Kind::Uuid) {
            offsets.reserve(rows + 1);
            offsets.push(0);
        }
        let values = MutableBuffer::new(rows * width);
        // Megabytes per column and batch, written once: see `advise_huge_pages`.
        px_core::memory::advise_huge_pages(values.as_ptr(), values.capacity());
        Builder { kind, values, offsets, bools: BooleanBufferBuilder::new(bools), valid: None, len: 0 }
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
        // SAFETY: a plain getter; chunks hold at most this many rows.
        let rows = (last - first) * unsafe { ffi::duckdb_vector_size() };
        let mut builders: Vec<Builder> = columns.iter().map(|c| Builder::new(c.kind, rows as usize)).collect();
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

/// Reads a successful, materialized answer into batches (none when it has
/// no rows).
pub fn read(answer: &mut Answer) -> Result<Vec<RecordBatch>> {
    // SAFETY: a successful answer.
    let ncols = unsafe { ffi::duckdb_column_count(&mut answer.0) };
    // SAFETY: `c` is below the column count.
    let columns = (0..ncols).map(|c| unsafe { column(answer, c) }).collect::<Result<Vec<_>>>()?;
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
    if chunks < 2 * CHUNKS_PER_BATCH {
        return read_range(answer, &columns, &schema, 0..chunks);
    }
    // Two halves, one per thread, each into its own batches.
    let mid = chunks / 2;
    let (a, b) = std::thread::scope(|s| {
        let first = s.spawn(|| read_range(answer, &columns, &schema, 0..mid));
        let second = read_range(answer, &columns, &schema, mid..chunks);
        (first.join(), second)
    });
    let mut batches = a.map_err(|_| StoreError::Internal("reading the answer panicked".into()))??;
    batches.extend(b?);
    Ok(batches)
}
