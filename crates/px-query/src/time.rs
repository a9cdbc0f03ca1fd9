//! Time in queries: date ranges (absolute or relative, read in the query's
//! time zone), durations, and buckets in local wall-clock time.
//!
//! Bucketing is integer arithmetic on "local microseconds" (UTC
//! microseconds plus the zone's offset at that instant), so every dialect
//! computes it the same way with no time-zone database in the engine: the
//! offsets in force over the queried span are looked up here and handed to
//! the SQL as a piecewise-constant [`OffsetMap`].

use crate::model::{DateRange, Interval, WeekStart};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use px_core::time::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND, Micros};

pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| format!("unknown time zone {name:?} (use an IANA name such as America/Sao_Paulo)"))
}

/// `"90s"`, `"30m"`, `"12h"`, `"7d"`, `"2w"` -> microseconds.
pub fn parse_duration(s: &str) -> Result<Micros, String> {
    let bad = || format!("{s:?} is not a duration like 30m, 12h, 7d or 2w");
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let unit = match unit {
        "s" => MICROS_PER_SECOND,
        "m" => MICROS_PER_MINUTE,
        "h" => MICROS_PER_HOUR,
        "d" => MICROS_PER_DAY,
        "w" => 7 * MICROS_PER_DAY,
        _ => return Err(bad()),
    };
    if !(1..=3650 * MICROS_PER_DAY / unit).contains(&n) {
        return Err(format!("{s:?} is outside 1 second to 10 years"));
    }
    Ok(n * unit)
}

/// A resolved range: `[from, to)` in UTC microseconds, and the zone it
/// was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Micros,
    pub to: Micros,
    pub tz: Tz,
}

fn local_midnight(tz: Tz, date: NaiveDate) -> Micros {
    local_to_utc(tz, date.and_time(NaiveTime::MIN))
}

/// The UTC instant of a local wall-clock time; in a gap (spring forward)
/// the first instant after it, in an overlap the earlier one.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Micros {
    let mut probe = local;
    for _ in 0..48 {
        if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
            return dt.with_timezone(&Utc).timestamp_micros();
        }
        probe += Duration::minutes(30);
    }
    // No zone has a gap this long; read the time as UTC rather than fail.
    local.and_utc().timestamp_micros()
}

fn today(tz: Tz, now: Micros) -> NaiveDate {
    utc_to_local(tz, now).date()
}

/// The UTC instant of local microseconds (a bucket start), as
/// [`local_to_utc`] reads wall-clock times.
pub fn local_micros_to_utc(tz: Tz, local: Micros) -> Micros {
    local_to_utc(tz, DateTime::<Utc>::from_timestamp_micros(local).unwrap_or_default().naive_utc())
}

pub fn utc_to_local(tz: Tz, us: Micros) -> NaiveDateTime {
    let utc = DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default();
    utc.with_timezone(&tz).naive_local()
}

/// One end of a range. `end` makes a date mean the end of that day.
fn resolve_point(s: &str, tz: Tz, now: Micros, end: bool, field: &str) -> Result<Micros, (String, String)> {
    let err = |m: String| (field.to_string(), m);
    let day_edge = |d: NaiveDate| local_midnight(tz, if end { d + Duration::days(1) } else { d });
    let today = today(tz, now);
    match s {
        "now" => return Ok(now),
        "today" => return Ok(day_edge(today)),
        "yesterday" => return Ok(day_edge(today - Duration::days(1))),
        "mtd" => return Ok(local_midnight(tz, today.with_day(1).unwrap_or(today))),
        "ytd" => return Ok(local_midnight(tz, NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today))),
        "all" => return Ok(local_midnight(tz, NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(today))),
        _ => {}
    }
    if let Some(rel) = s.strip_prefix('-') {
        let split = rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len());
        let (n, unit) = rel.split_at(split);
        let n: i64 = n.parse().map_err(|_| err(format!("{s:?} is not a relative date like -7d")))?;
        if n > 100 * 366 {
            return Err(err(format!("{s:?} reaches back more than a century")));
        }
        return match unit {
            "h" => Ok(now - n * MICROS_PER_HOUR),
            "d" => Ok(day_edge(today - Duration::days(n))),
            "w" => Ok(day_edge(today - Duration::days(7 * n))),
            "m" => Ok(day_edge(today.checked_sub_months(chrono::Months::new(n as u32)).unwrap_or(today))),
            "y" => Ok(day_edge(today.checked_sub_months(chrono::Months::new(12 * n as u32)).unwrap_or(today))),
            _ => Err(err(format!("{s:?}: the unit must be h, d, w, m or y"))),
        };
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(day_edge(d));
    }
    if let Some(us) = px_core::time::parse_rfc3339(s) {
        return Ok(us);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(local_to_utc(tz, t));
        }
    }
    Err(err(format!(
        "{s:?} is not a date: use 2026-01-31, an RFC 3339 time, -7d, -24h, -4w, -3m, -1y, mtd, ytd, today, yesterday, all"
    )))
}

impl Span {
    /// Resolves a range; `default_from` applies when `from` is absent.
    pub fn resolve(r: &DateRange, tz: Tz, now: Micros, default_from: &str) -> Result<Span, (String, String)> {
        let from = resolve_point(r.from.as_deref().unwrap_or(default_from), tz, now, false, "date_range.from")?;
        let to = match &r.to {
            Some(t) => resolve_point(t, tz, now, true, "date_range.to")?,
            None => now,
        };
        if from >= to {
            return Err(("date_range".into(), "from must be before to".into()));
        }
        Ok(Span { from, to, tz })
    }

    /// The span of the same length just before this one.
    pub fn previous(&self) -> Span {
        Span { from: self.from - (self.to - self.from), to: self.from, tz: self.tz }
    }
}

/// The zone's UTC offsets over a span: `(start, offset)` pieces sorted by
/// start, the first piece reaching back indefinitely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetMap {
    pub pieces: Vec<(Micros, Micros)>,
}

fn offset_at(tz: Tz, secs: i64) -> i64 {
    let utc = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
    i64::from(tz.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc())
}

impl OffsetMap {
    /// Offsets in force between `from` and `to` (with a day's margin).
    pub fn new(tz: Tz, from: Micros, to: Micros) -> OffsetMap {
        let (start, end) = (from.div_euclid(MICROS_PER_SECOND) - 86_400, to.div_euclid(MICROS_PER_SECOND) + 86_400);
        let mut pieces = vec![(i64::MIN, offset_at(tz, start) * MICROS_PER_SECOND)];
        let mut t = start;
        // Zones change offset at most a few times a year; sampling every 6 hours
        // and bisecting each change finds every transition to the second.
        while t < end {
            let next = (t + 6 * 3600).min(end);
            let (a, b) = (offset_at(tz, t), offset_at(tz, next));
            if a != b {
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset_at(tz, mid) == a { lo = mid } else { hi = mid }
                }
                pieces.push((hi * MICROS_PER_SECOND, b * MICROS_PER_SECOND));
            }
            t = next;
        }
        OffsetMap { pieces }
    }

    /// Local microseconds of a UTC instant.
    pub fn local(&self, us: Micros) -> Micros {
        let i = self.pieces.partition_point(|(start, _)| *start <= us);
        us + self.pieces[i.saturating_sub(1)].1
    }
}

/// Days since 1970-01-01 of local microseconds.
fn day_number(local: Micros) -> i64 {
    local.div_euclid(MICROS_PER_DAY)
}

/// The start (local microseconds) of the bucket holding `local`. This is
/// the definition the SQL dialects reproduce.
pub fn bucket_start(local: Micros, interval: Interval, week_start: WeekStart) -> Micros {
    match interval {
        Interval::Minute => local - local.rem_euclid(MICROS_PER_MINUTE),
        Interval::Hour => local - local.rem_euclid(MICROS_PER_HOUR),
        Interval::Day => day_number(local) * MICROS_PER_DAY,
        Interval::Week => {
            let d = day_number(local);
            // 1970-01-01 was a Thursday: +3 makes Monday 0, +4 makes Sunday 0.
            let shift = if week_start == WeekStart::Monday { 3 } else { 4 };
            (d - (d + shift).rem_euclid(7)) * MICROS_PER_DAY
        }
        Interval::Month => {
            let date = DateTime::<Utc>::from_timestamp_micros(local).unwrap_or_default().date_naive();
            let first = date.with_day(1).unwrap_or(date);
            first.and_time(NaiveTime::MIN).and_utc().timestamp_micros()
        }
    }
}

/// The bucket after the one starting at `start`.
pub fn next_bucket(start: Micros, interval: Interval) -> Micros {
    match interval {
        Interval::Minute => start + MICROS_PER_MINUTE,
        Interval::Hour => start + MICROS_PER_HOUR,
        Interval::Day => start + MICROS_PER_DAY,
        Interval::Week => start + 7 * MICROS_PER_DAY,
        Interval::Month => {
            let date = DateTime::<Utc>::from_timestamp_micros(start).unwrap_or_default().date_naive();
            let next = date.checked_add_months(chrono::Months::new(1)).unwrap_or(date);
            next.and_time(NaiveTime::MIN).and_utc().timestamp_micros()
        }
    }
}

/// Every bucket start (local) from the one holding `span.from` to the one
/// holding the last instant before `span.to`.
pub fn buckets(span: &Span, offsets: &OffsetMap, interval: Interval, week_start: WeekStart) -> Vec<Micros> {
    let first = bucket_start(offsets.local(span.from), interval, week_start);
    let last = bucket_start(offsets.local(span.to - 1), interval, week_start);
    let mut out = Vec::new();
    let mut b = first;
    while b <= last && out.len() <= 100_000 {
        out.push(b);
        b = next_bucket(b, interval);
    }
    out
}

/// Most buckets a query may produce.
pub const MAX_BUCKETS: usize = 10_000;

/// Label of a bucket: a date for day and longer, a local time otherwise.
pub fn label(local: Micros, interval: Interval) -> String {
    let t = DateTime::<Utc>::from_timestamp_micros(local).unwrap_or_default().naive_utc();
    match interval {
        Interval::Minute | Interval::Hour => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        _ => t.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn us(s: &str) -> Micros {
        px_core::time::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn relative_days_start_at_local_midnight_and_include_today() {
        let tz = parse_tz("America/Sao_Paulo").unwrap();
        let now = us("2026-11-23T15:00:00Z"); // 12:00 in São Paulo (UTC-3)
        let span = Span::resolve(&DateRange { from: Some("-7d".into()), to: None }, tz, now, "-7d").unwrap();
        assert_eq!(span.from, us("2026-11-16T03:00:00Z"));
        assert_eq!(span.to, now);
        let offsets = OffsetMap::new(tz, span.from, span.to);
        assert_eq!(buckets(&span, &offsets, Interval::Day, WeekStart::Monday).len(), 8);
        let end = Span::resolve(
            &DateRange { from: Some("2026-11-01".into()), to: Some("2026-11-02".into()) },
            tz,
            now,
            "-7d",
        )
        .unwrap();
        assert_eq!(end.to - end.from, 2 * MICROS_PER_DAY, "a date as `to` includes that whole day");
    }

    #[test]
    fn offsets_follow_daylight_saving_changes() {
        let tz = parse_tz("Europe/Berlin").unwrap();
        let (from, to) = (us("2026-03-20T00:00:00Z"), us("2026-04-05T00:00:00Z"));
        let m = OffsetMap::new(tz, from, to);
        assert_eq!(m.pieces.len(), 2);
        assert_eq!(m.pieces[1].0, us("2026-03-29T01:00:00Z"));
        assert_eq!(m.local(us("2026-03-29T00:59:59Z")), us("2026-03-29T01:59:59Z"));
        assert_eq!(m.local(us("2026-03-29T01:00:00Z")), us("2026-03-29T03:00:00Z"));
        for probe in [from, us("2026-03-29T00:30:00Z"), us("2026-03-29T01:00:00.000001Z"), to] {
            assert_eq!(m.local(probe), utc_to_local(tz, probe).and_utc().timestamp_micros());
        }
    }

    #[test]
    fn weeks_start_on_the_chosen_day_and_months_on_the_first() {
        let wed = us("2026-11-25T10:00:00Z");
        assert_eq!(label(bucket_start(wed, Interval::Week, WeekStart::Monday), Interval::Week), "2026-11-23");
        assert_eq!(label(bucket_start(wed, Interval::Week, WeekStart::Sunday), Interval::Week), "2026-11-22");
        assert_eq!(label(bucket_start(wed, Interval::Month, WeekStart::Monday), Interval::Month), "2026-11-01");
        assert_eq!(label(next_bucket(us("2026-12-01T00:00:00Z"), Interval::Month), Interval::Month), "2027-01-01");
    }

    #[test]
    fn bad_input_is_named() {
        let tz = Tz::UTC;
        assert!(parse_duration("7x").is_err());
        assert!(parse_duration("0d").is_err());
        assert_eq!(parse_duration("2w").unwrap(), 14 * MICROS_PER_DAY);
        let err = Span::resolve(&DateRange { from: Some("last week".into()), to: None }, tz, 0, "-7d").unwrap_err();
        assert_eq!(err.0, "date_range.from");
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
