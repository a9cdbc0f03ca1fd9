//! Turns a recorded session into native wire events (the JSON that
//! `POST /api/v1/events/batch` accepts, see `px_core::WireEvent`): pins the
//! drafts to the clock, assigns event and session ids from the session's RNG,
//! and builds the `context` once per page view. Only fields `WireEvent`
//! knows are emitted, because the server rejects unknown top-level fields.

use crate::calendar::VERSIONS;
use crate::catalog::{LIBRARY_NAME, LIBRARY_VERSION};
use crate::sample::SimRng;
use crate::session::{Recorder, Visit};
use crate::visitor::Visitor;
use chrono::{DateTime, SecondsFormat};
use rand::Rng;
use serde_json::{Map, Value};
use std::collections::VecDeque;

/// Who sent a session's events, and when.
#[derive(Clone, Copy)]
pub(crate) struct Meta<'a> {
    pub anonymous_id: &'a str,
    /// Set once the visitor has signed up (drafts marked `as_user` use it).
    pub user_id: Option<&'a str>,
    /// Release the client runs (index into `VERSIONS`).
    pub version: usize,
    /// Absolute time of the first event, in microseconds. It must leave room
    /// for the session before `day_end`; timestamps are also clamped below it.
    pub start: i64,
    pub day_end: i64,
}

/// Appends the session's events to `out`, draining the recorder's drafts.
pub(crate) fn session(
    rec: &mut Recorder,
    visitor: &Visitor,
    meta: &Meta<'_>,
    rng: &mut SimRng,
    out: &mut VecDeque<Value>,
) {
    let Meta { anonymous_id, user_id, version, start, day_end } = *meta;
    let start_ms = u64::try_from(start / 1000).unwrap_or(0);
    let session_id = uuid_string(uuid::Builder::from_unix_timestamp_millis(start_ms, &rng.random()).into_uuid());
    let contexts: Vec<Value> = rec.visits.iter().map(|v| context(v, visitor)).collect();
    let app_version = VERSIONS.get(version).copied().unwrap_or("1.4.0");
    for draft in rec.drafts.drain(..) {
        let ts = (start + draft.at).min(day_end - 1);
        let distinct = match (draft.as_user, user_id) {
            (true, Some(user)) => user,
            _ => anonymous_id,
        };
        let mut props = draft.props;
        props.insert("app_version".into(), app_version.into());
        let mut event = Map::new();
        event.insert("event".into(), draft.name.into());
        let event_id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
        event.insert("event_id".into(), uuid_string(event_id).into());
        event.insert("distinct_id".into(), distinct.into());
        event.insert("session_id".into(), session_id.as_str().into());
        event.insert("timestamp".into(), rfc3339(ts).into());
        event.insert("properties".into(), Value::Object(props));
        let context = contexts.get(usize::from(draft.visit)).cloned().unwrap_or(Value::Null);
        event.insert("context".into(), context);
        if let Some(person) = draft.person {
            if person.identify {
                event.insert("anonymous_id".into(), anonymous_id.into());
            }
            if let Some(set) = person.set {
                event.insert("$set".into(), Value::Object(set));
            }
            if let Some(set_once) = person.set_once {
                event.insert("$set_once".into(), Value::Object(set_once));
            }
        }
        out.push_back(Value::Object(event));
    }
}

/// The `context` of every event of one page view.
fn context(visit: &Visit, visitor: &Visitor) -> Value {
    let mut page = Map::new();
    page.insert("url".into(), visit.url.as_str().into());
    if let Some(r) = &visit.referrer {
        page.insert("referrer".into(), r.as_str().into());
    }
    page.insert("title".into(), visit.page.title().into());
    page.insert("path".into(), visit.page.path().into());
    let (width, height) = visitor.screen();
    let mut screen = Map::new();
    screen.insert("width".into(), width.into());
    screen.insert("height".into(), height.into());
    let mut library = Map::new();
    library.insert("name".into(), LIBRARY_NAME.into());
    library.insert("version".into(), LIBRARY_VERSION.into());
    let mut ctx = Map::new();
    ctx.insert("page".into(), Value::Object(page));
    ctx.insert("user_agent".into(), visitor.agent().user_agent.into());
    ctx.insert("locale".into(), visitor.locale().into());
    ctx.insert("timezone".into(), visitor.zone().timezone.into());
    ctx.insert("screen".into(), Value::Object(screen));
    ctx.insert("library".into(), Value::Object(library));
    ctx.insert("country".into(), visitor.country().code.into());
    if let Some(city) = visitor.city() {
        ctx.insert("city".into(), city.name.into());
    }
    Value::Object(ctx)
}

/// A UUID in its hyphenated lowercase form, allocated once at its final size.
fn uuid_string(id: uuid::Uuid) -> String {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut buf).to_owned()
}

/// RFC 3339 in UTC with milliseconds, as browsers' `toISOString()` prints
/// (`2025-05-05T14:03:22.123Z`). Written by hand because it runs once per
/// event and the generic formatter costs more than the rest of the event's
/// scalar fields together. Years outside 0..=9999 fall back to chrono.
pub(crate) fn rfc3339(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let millis = micros.rem_euclid(1_000_000) / 1000;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&y) {
        return DateTime::from_timestamp_micros(micros)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let sod = secs.rem_euclid(86_400);
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, mo);
    put(8, 2, d);
    put(11, 2, sod / 3600);
    put(14, 2, sod % 3600 / 60);
    put(17, 2, sod % 60);
    put(20, 3, millis);
    String::from_utf8_lossy(&b).into_owned()
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_to_iso_string() {
        assert_eq!(rfc3339(1_746_403_200_123_456), "2025-05-05T00:00:00.123Z");
        // Agrees with chrono across leap days, year ends and the epoch.
        for micros in
            [0, 951_782_400_000_000, 1_709_251_199_999_999, 1_735_689_599_999_000, -1_000, 4_102_444_800_000_000]
        {
            let chrono = DateTime::from_timestamp_micros(micros).unwrap().to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(rfc3339(micros), chrono, "{micros}");
        }
        let mut t = -86_400_000_000i64 * 400;
        while t < 86_400_000_000 * 365 * 80 {
            let chrono = DateTime::from_timestamp_micros(t).unwrap().to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(rfc3339(t), chrono, "{t}");
            t += 86_400_000_000 * 7 + 3_723_456_789;
        }
    }
}
