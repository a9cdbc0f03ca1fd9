//! Timestamp normalization: parse the client's timestamp, correct the
//! client's clock skew using `sent_at`, and clamp timestamps from the future.
//!
//! Skew correction follows PostHog: if the client says it sent the batch at
//! `sent_at` and the server received it at `received_at`, the client clock is
//! off by `received_at - sent_at`, and every event timestamp is shifted by
//! that amount. Events from the past are accepted however old (teams import
//! history); only timestamps before 2000 are refused as certainly wrong.

use px_core::time::{MICROS_PER_SECOND, Micros, parse_rfc3339};
use px_core::{Reject, RejectCode};
use serde_json::Value;

/// 2000-01-01T00:00:00Z: anything earlier is a bug in the client, not data.
pub const MIN_TIMESTAMP: Micros = 946_684_800 * MICROS_PER_SECOND;

/// The event time to store and whether it was clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    pub timestamp: Micros,
    pub clamped: bool,
}

/// Parses a wire timestamp: RFC 3339 (a missing offset means UTC) or a
/// number of milliseconds since the epoch (numbers below 10^11 are taken as
/// seconds, which SDKs in some languages send).
pub fn parse_wire_timestamp(v: &Value, field: &str) -> Result<Micros, Reject> {
    let bad = || {
        Reject::new(
            RejectCode::InvalidField,
            field,
            format!("{field} must be an RFC 3339 string or epoch milliseconds"),
        )
    };
    match v {
        Value::String(s) => parse_rfc3339(s).or_else(|| parse_naive(s)).ok_or_else(bad),
        Value::Number(n) => {
            let f = n.as_f64().ok_or_else(bad)?;
            if !f.is_finite() || !(0.0..=1e15).contains(&f) {
                return Err(bad());
            }
            let micros = if f < 1e11 { f * 1e6 } else { f * 1e3 };
            Ok(micros as Micros)
        }
        _ => Err(bad()),
    }
}

fn parse_naive(s: &str) -> Option<Micros> {
    let s = s.trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc().timestamp_micros())
}

/// Computes the stored timestamp of one event.
///
/// `sent_at` is the event's own `sent_at` or else the batch's. Without a
/// timestamp the event happened when it was sent (or received).
pub fn normalize(
    timestamp: Option<&Value>,
    sent_at: Option<&Value>,
    received_at: Micros,
    max_future_skew_secs: i64,
) -> Result<Normalized, Reject> {
    let sent = match sent_at {
        Some(v) if !v.is_null() => Some(parse_wire_timestamp(v, "sent_at")?),
        _ => None,
    };
    let client_ts = match timestamp {
        Some(v) if !v.is_null() => Some(parse_wire_timestamp(v, "timestamp")?),
        _ => None,
    };
    let max_skew = max_future_skew_secs.saturating_mul(MICROS_PER_SECOND);
    // A clock off by more than the allowed skew is broken, not skewed
    // (`sent_at: 0`, a mistyped year): correcting by it would move every
    // event by decades, so such a `sent_at` is ignored.
    let sent = sent.filter(|s| received_at.saturating_sub(*s).saturating_abs() <= max_skew);
    let ts = match (client_ts, sent) {
        (Some(ts), Some(sent)) => ts.saturating_add(received_at.saturating_sub(sent)),
        (Some(ts), None) => ts,
        (None, _) => received_at,
    };
    if ts < MIN_TIMESTAMP {
        return Err(Reject::new(RejectCode::InvalidField, "timestamp", "timestamp is before 2000-01-01"));
    }
    if ts > received_at.saturating_add(max_skew) {
        return Ok(Normalized { timestamp: received_at, clamped: true });
    }
    Ok(Normalized { timestamp: ts, clamped: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Micros = 1_700_000_000 * MICROS_PER_SECOND;
    const DAY: i64 = 86_400;

    #[test]
    fn formats_are_parsed() {
        let t = |v: Value| parse_wire_timestamp(&v, "timestamp").unwrap();
        assert_eq!(t(json!("2023-11-14T22:13:20Z")), NOW);
        assert_eq!(t(json!("2023-11-15T00:13:20+02:00")), NOW);
        assert_eq!(t(json!("2023-11-14T22:13:20")), NOW);
        assert_eq!(t(json!("2023-11-14 22:13:20.000")), NOW);
        assert_eq!(t(json!(1_700_000_000_000u64)), NOW);
        assert_eq!(t(json!(1_700_000_000)), NOW);
        assert!(parse_wire_timestamp(&json!("yesterday"), "timestamp").is_err());
        assert!(parse_wire_timestamp(&json!(true), "timestamp").is_err());
        assert!(parse_wire_timestamp(&json!(-5), "timestamp").is_err());
    }

    #[test]
    fn skew_is_corrected_from_sent_at() {
        // The client clock runs 1 hour ahead: it stamped the event 10 s before
        // sending; the server sees the send at NOW.
        let client_now = NOW + 3600 * MICROS_PER_SECOND;
        let ts = json!(px_core::time::to_rfc3339(client_now - 10 * MICROS_PER_SECOND));
        let sent = json!(px_core::time::to_rfc3339(client_now));
        let n = normalize(Some(&ts), Some(&sent), NOW, DAY).unwrap();
        assert_eq!(n, Normalized { timestamp: NOW - 10 * MICROS_PER_SECOND, clamped: false });
    }

    #[test]
    fn a_broken_client_clock_is_not_applied() {
        let ts = json!("2023-11-14T22:00:00Z");
        let n = normalize(Some(&ts), Some(&json!(0)), NOW, DAY).unwrap();
        assert_eq!(n.timestamp, parse_wire_timestamp(&ts, "timestamp").unwrap());
    }

    #[test]
    fn missing_timestamp_means_receive_time() {
        assert_eq!(normalize(None, None, NOW, DAY).unwrap().timestamp, NOW);
        assert_eq!(normalize(Some(&Value::Null), None, NOW, DAY).unwrap().timestamp, NOW);
    }

    #[test]
    fn far_future_is_clamped_and_marked() {
        let ts = json!(px_core::time::to_rfc3339(NOW + (DAY + 60) * MICROS_PER_SECOND));
        assert_eq!(normalize(Some(&ts), None, NOW, DAY).unwrap(), Normalized { timestamp: NOW, clamped: true });
        let near = json!(px_core::time::to_rfc3339(NOW + (DAY - 60) * MICROS_PER_SECOND));
        assert!(!normalize(Some(&near), None, NOW, DAY).unwrap().clamped);
    }

    #[test]
    fn old_history_is_accepted_but_not_before_2000() {
        let old = json!("2009-03-01T12:00:00Z");
        assert!(normalize(Some(&old), None, NOW, DAY).is_ok());
        let err = normalize(Some(&json!("1999-12-31T23:59:59Z")), None, NOW, DAY).unwrap_err();
        assert_eq!(err.field, "timestamp");
    }

    #[test]
    fn bad_sent_at_is_named() {
        let err = normalize(None, Some(&json!("soon")), NOW, DAY).unwrap_err();
        assert_eq!(err.field, "sent_at");
    }
}
