//! Reading the store's Arrow answers by column name, with errors instead of
//! panics when a column is missing or of another type.

use crate::error::{QueryError, Result};
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

fn column(batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
    batch.column_by_name(name).cloned().ok_or_else(|| QueryError::Shape(format!("no column {name}")))
}

/// Casts numeric columns to the wanted type: DuckDB answers `count(*)` as
/// BIGINT, `sum` of integers as HUGEINT (arrives as Decimal128), and so on.
fn cast(a: &ArrayRef, to: &DataType, name: &str) -> Result<ArrayRef> {
    if a.data_type() == to {
        return Ok(Arc::clone(a));
    }
    arrow::compute::cast(a, to).map_err(|e| QueryError::Shape(format!("column {name}: {e}")))
}

pub fn i64s(batch: &RecordBatch, name: &str) -> Result<Int64Array> {
    let a = cast(&column(batch, name)?, &DataType::Int64, name)?;
    Ok(a.as_primitive::<arrow::datatypes::Int64Type>().clone())
}

pub fn i32s(batch: &RecordBatch, name: &str) -> Result<Int32Array> {
    let a = cast(&column(batch, name)?, &DataType::Int32, name)?;
    Ok(a.as_primitive::<arrow::datatypes::Int32Type>().clone())
}

pub fn f64s(batch: &RecordBatch, name: &str) -> Result<Float64Array> {
    let a = cast(&column(batch, name)?, &DataType::Float64, name)?;
    Ok(a.as_primitive::<arrow::datatypes::Float64Type>().clone())
}

pub fn strs(batch: &RecordBatch, name: &str) -> Result<StringArray> {
    let a = cast(&column(batch, name)?, &DataType::Utf8, name)?;
    Ok(a.as_string::<i32>().clone())
}

pub fn bools(batch: &RecordBatch, name: &str) -> Result<BooleanArray> {
    let a = cast(&column(batch, name)?, &DataType::Boolean, name)?;
    Ok(a.as_boolean().clone())
}

pub fn opt_str(a: &StringArray, i: usize) -> Option<String> {
    (!a.is_null(i)).then(|| a.value(i).to_string())
}

pub fn opt_i64(a: &Int64Array, i: usize) -> Option<i64> {
    (!a.is_null(i)).then(|| a.value(i))
}

pub fn opt_f64(a: &Float64Array, i: usize) -> Option<f64> {
    (!a.is_null(i)).then(|| a.value(i))
}
