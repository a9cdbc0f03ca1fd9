//! Time helpers. Stored timestamps are microseconds since the Unix epoch, UTC:
//! the unit DuckDB's TIMESTAMP and ClickHouse's DateTime64(6) both use.

use chrono::{DateTime, Utc};

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

/// The current time in microseconds.
pub fn now_micros() -> Micros {
    Utc::now().timestamp_micros()
}

/// Formats microseconds as RFC 3339 with millisecond precision.
pub fn to_rfc3339(us: Micros) -> String {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 string into microseconds.
pub fn parse_rfc3339(s: &str) -> Option<Micros> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc).timestamp_micros())
}

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;
