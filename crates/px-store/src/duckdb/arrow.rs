//! Events to Arrow record batches for DuckDB's appender: the fastest way
//! into DuckDB (whole columns per call instead of a value at a time).
//! Column order matches `schema::DDL`'s `events` table exactly.

use crate::event_store::ScopedEvent;
use arrow::array::{
    ArrayRef, BooleanBuilder, FixedSizeBinaryBuilder, Int32Builder, Int64Array, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use px_core::ProjectScope;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use uuid::Uuid;

fn uuid_field(name: &str) -> Field {
    Field::new(name, DataType::FixedSizeBinary(16), false)
        .with_metadata(HashMap::from([("ARROW:extension:name".to_string(), "arrow.uuid".to_string())]))
}

static SCHEMA: LazyLock<Arc<Schema>> = LazyLock::new(|| {
    let ts = || DataType::Timestamp(TimeUnit::Microsecond, None);
    let mut f = vec![
        Field::new("tenant_id", DataType::Int64, false),
        Field::new("project_id", DataType::Int64, false),
        uuid_field("event_id"),
        Field::new("event", DataType::Utf8, false),
        Field::new("distinct_id", DataType::Utf8, false),
        uuid_field("person_id"),
        Field::new("session_id", DataType::Utf8, true),
        Field::new("timestamp", ts(), false),
        Field::new("received_at", ts(), false),
        Field::new("properties", DataType::Utf8, false),
    ];
    // Table order: url..locale, screen_width, screen_height, lib, lib_version.
    let names = px_core::Enrichment::TEXT_COLUMNS;
    for name in &names[..20] {
        f.push(Field::new(*name, DataType::Utf8, true));
    }
    f.push(Field::new("screen_width", DataType::Int32, true));
    f.push(Field::new("screen_height", DataType::Int32, true));
    for name in &names[20..] {
        f.push(Field::new(*name, DataType::Utf8, true));
    }
    f.push(Field::new("timestamp_clamped", DataType::Boolean, false));
    f.push(Field::new("person_key", DataType::Int64, true));
    f.push(uuid_field("session_uuid").with_nullable(true));
    Arc::new(Schema::new(f))
});

static KEY_SCHEMA: LazyLock<Arc<Schema>> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("tenant_id", DataType::Int64, false),
        Field::new("project_id", DataType::Int64, false),
        uuid_field("person_id"),
        Field::new("person_key", DataType::Int64, false),
    ]))
});

/// Rows of `person_keys`.
pub fn person_keys_batch(rows: &[(ProjectScope, Uuid, i64)]) -> Result<RecordBatch, ArrowError> {
    let mut person = FixedSizeBinaryBuilder::with_capacity(rows.len(), 16);
    for (_, p, _) in rows {
        person.append_value(p.as_bytes())?;
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.0.tenant_id.0).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| r.0.project_id.0).collect::<Int64Array>()),
        Arc::new(person.finish()),
        Arc::new(rows.iter().map(|r| r.2).collect::<Int64Array>()),
    ];
    RecordBatch::try_new(Arc::clone(&KEY_SCHEMA), cols)
}

/// Builds one record batch holding `events`, with their persons' keys
/// (none for the raw appends of `px bench ingest`).
pub fn to_record_batch(events: &[ScopedEvent], person_keys: Option<&[i64]>) -> Result<RecordBatch, ArrowError> {
    let n = events.len();
    let mut tenant = Int64Builder::with_capacity(n);
    let mut project = Int64Builder::with_capacity(n);
    let mut event_id = FixedSizeBinaryBuilder::with_capacity(n, 16);
    let mut name = StringBuilder::with_capacity(n, n * 12);
    let mut distinct = StringBuilder::with_capacity(n, n * 24);
    let mut person = FixedSizeBinaryBuilder::with_capacity(n, 16);
    let mut session = StringBuilder::with_capacity(n, n * 36);
    let mut session_uuid = FixedSizeBinaryBuilder::with_capacity(n, 16);
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n);
    let mut received = TimestampMicrosecondBuilder::with_capacity(n);
    let mut props = StringBuilder::with_capacity(n, n * 200);
    let mut text: Vec<StringBuilder> =
        (0..px_core::Enrichment::TEXT_COLUMNS.len()).map(|_| StringBuilder::with_capacity(n, n * 8)).collect();
    let mut sw = Int32Builder::with_capacity(n);
    let mut sh = Int32Builder::with_capacity(n);
    let mut clamped = BooleanBuilder::with_capacity(n);
    let mut json = String::with_capacity(512);

    for se in events {
        let e = &se.event;
        tenant.append_value(se.scope.tenant_id.0);
        project.append_value(se.scope.project_id.0);
        event_id.append_value(e.event_id.as_bytes())?;
        name.append_value(&e.event);
        distinct.append_value(&e.distinct_id);
        person.append_value(e.person_id.as_bytes())?;
        session.append_option(e.session_id.as_deref());
        match &e.session_id {
            Some(id) => session_uuid.append_value(px_core::event::session_uuid(id).as_bytes())?,
            None => session_uuid.append_null(),
        }
        ts.append_value(e.timestamp);
        received.append_value(e.received_at);
        json.clear();
        // Serializing a Map<String, Value> into a String cannot fail.
        if let Ok(s) = serde_json::to_string(&e.properties) {
            json.push_str(&s);
        }
        props.append_value(&json);
        for (value, b) in e.enrichment.texts().into_iter().zip(text.iter_mut()) {
            b.append_option(value.as_deref());
        }
        sw.append_option(e.enrichment.screen_width.and_then(|v| i32::try_from(v).ok()));
        sh.append_option(e.enrichment.screen_height.and_then(|v| i32::try_from(v).ok()));
        clamped.append_value(e.timestamp_clamped);
    }

    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(tenant.finish()),
        Arc::new(project.finish()),
        Arc::new(event_id.finish()),
        Arc::new(name.finish()),
        Arc::new(distinct.finish()),
        Arc::new(person.finish()),
        Arc::new(session.finish()),
        Arc::new(ts.finish()),
        Arc::new(received.finish()),
        Arc::new(props.finish()),
    ];
    let mut text: Vec<ArrayRef> = text.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
    let tail = text.split_off(20);
    cols.extend(text);
    cols.push(Arc::new(sw.finish()));
    cols.push(Arc::new(sh.finish()));
    cols.extend(tail);
    cols.push(Arc::new(clamped.finish()));
    cols.push(Arc::new(match person_keys {
        Some(keys) => Int64Array::from(keys.to_vec()),
        None => Int64Array::new_null(n),
    }));
    cols.push(Arc::new(session_uuid.finish()));
    RecordBatch::try_new(Arc::clone(&SCHEMA), cols)
}
