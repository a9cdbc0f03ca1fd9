//! The oracle: every query kind answered in plain Rust over in-memory
//! events, written for obviousness, not speed. Property tests require the
//! SQL dialects to give exactly its answers. It shares only input parsing
//! (date ranges, filters' definition of a match) with the engine; time
//! buckets come from chrono's calendar, not the engine's arithmetic.

use crate::filter::{self, PropertySource};
use crate::model::{
    FunnelQuery, Interval, LifecycleQuery, Math, PathItem, PathsQuery, RetentionQuery, RetentionType, StickinessQuery,
    TrendQuery, WeekStart,
};
use crate::time::{Span, utc_to_local};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use chrono_tz::Tz;
use px_core::Enrichment;
use px_core::time::Micros;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// An event as the oracle sees it: person already resolved through merges.
#[derive(Debug, Clone)]
pub struct Row {
    pub event_id: Uuid,
    pub event: String,
    pub distinct_id: String,
    pub person_id: Uuid,
    pub session_id: Option<String>,
    pub timestamp: Micros,
    pub properties: Map<String, Value>,
    pub enrichment: Enrichment,
}

pub struct Data {
    /// Sorted by `(timestamp, event_id)`.
    pub rows: Vec<Row>,
    pub persons: HashMap<Uuid, Map<String, Value>>,
}

struct Source<'a> {
    row: &'a Row,
    person: Option<&'a Map<String, Value>>,
}

impl PropertySource for Source<'_> {
    fn column(&self, name: &str) -> Option<Value> {
        let e = &self.row.enrichment;
        let text = |v: &Option<String>| v.clone().map(Value::String);
        match name {
            "event" => Some(Value::String(self.row.event.clone())),
            "distinct_id" => Some(Value::String(self.row.distinct_id.clone())),
            "session_id" => text(&self.row.session_id),
            "url" => text(&e.url),
            "host" => text(&e.host),
            "path" => text(&e.path),
            "title" => text(&e.title),
            "referrer" => text(&e.referrer),
            "referrer_domain" => text(&e.referrer_domain),
            "utm_source" => text(&e.utm_source),
            "utm_medium" => text(&e.utm_medium),
            "utm_campaign" => text(&e.utm_campaign),
            "utm_term" => text(&e.utm_term),
            "utm_content" => text(&e.utm_content),
            "browser" => text(&e.browser),
            "browser_version" => text(&e.browser_version),
            "os" => text(&e.os),
            "os_version" => text(&e.os_version),
            "device_type" => text(&e.device_type),
            "country" => text(&e.country),
            "city" => text(&e.city),
            "locale" => text(&e.locale),
            "screen_width" => e.screen_width.map(|v| json!(v)),
            "screen_height" => e.screen_height.map(|v| json!(v)),
            "lib" => text(&e.lib),
            "lib_version" => text(&e.lib_version),
            _ => None,
        }
    }

    fn event_properties(&self) -> &Map<String, Value> {
        &self.row.properties
    }

    fn person_properties(&self) -> Option<&Map<String, Value>> {
        self.person
    }
}

impl Data {
    fn source<'a>(&'a self, r: &'a Row) -> Source<'a> {
        Source { row: r, person: self.persons.get(&r.person_id) }
    }

    fn matching<'a>(
        &'a self,
        span: Option<&'a Span>,
        event: Option<&'a str>,
        filters: &'a [crate::model::Filter],
        global: &'a [crate::model::Filter],
    ) -> impl Iterator<Item = &'a Row> + 'a {
        self.rows.iter().filter(move |r| {
            span.is_none_or(|s| r.timestamp >= s.from && r.timestamp < s.to)
                && event.is_none_or(|e| r.event == e)
                && filter::matches(filters, &self.source(r))
                && filter::matches(global, &self.source(r))
        })
    }

    fn property(&self, r: &Row, p: &crate::model::Property) -> Option<Value> {
        self.source(r).property(p)
    }
}

/// The start of the calendar bucket holding a local time.
pub fn bucket(t: NaiveDateTime, iv: Interval, ws: WeekStart) -> NaiveDateTime {
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    match iv {
        Interval::Minute => t.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(t),
        Interval::Hour => t.date().and_hms_opt(t.hour(), 0, 0).unwrap_or(t),
        Interval::Day => midnight(t.date()),
        Interval::Week => {
            let back = match ws {
                WeekStart::Monday => t.weekday().num_days_from_monday(),
                WeekStart::Sunday => t.weekday().num_days_from_sunday(),
            };
            midnight(t.date() - Duration::days(i64::from(back)))
        }
        Interval::Month => midnight(t.date().with_day(1).unwrap_or(t.date())),
    }
}

fn next(b: NaiveDateTime, iv: Interval) -> NaiveDateTime {
    match iv {
        Interval::Minute => b + Duration::minutes(1),
        Interval::Hour => b + Duration::hours(1),
        Interval::Day => b + Duration::days(1),
        Interval::Week => b + Duration::days(7),
        Interval::Month => b.checked_add_months(chrono::Months::new(1)).unwrap_or(b),
    }
}

fn all_buckets(span: &Span, iv: Interval, ws: WeekStart) -> Vec<NaiveDateTime> {
    let first = bucket(utc_to_local(span.tz, span.from), iv, ws);
    let last = bucket(utc_to_local(span.tz, span.to - 1), iv, ws);
    let mut out = vec![first];
    while let Some(&b) = out.last() {
        if b >= last {
            break;
        }
        out.push(next(b, iv));
    }
    out
}

fn label(b: NaiveDateTime, iv: Interval) -> String {
    match iv {
        Interval::Minute | Interval::Hour => b.format("%Y-%m-%dT%H:%M:%S").to_string(),
        _ => b.format("%Y-%m-%d").to_string(),
    }
}

fn local_bucket(tz: Tz, ts: Micros, iv: Interval, ws: WeekStart) -> NaiveDateTime {
    bucket(utc_to_local(tz, ts), iv, ws)
}

/// DuckDB's `quantile_cont`: linear interpolation between closest ranks.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn aggregate(data: &Data, rows: &[&Row], math: Math, prop: Option<&crate::model::Property>) -> f64 {
    let xs = || -> Vec<f64> {
        let mut v: Vec<f64> = rows
            .iter()
            .filter_map(|r| prop.and_then(|p| data.property(r, p)))
            .filter_map(|v| filter::text_of(&v).and_then(|t| t.trim().parse::<f64>().ok()))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let persons = || rows.iter().map(|r| r.person_id).collect::<BTreeSet<_>>().len();
    match math {
        Math::Total => rows.len() as f64,
        Math::UniquePersons => persons() as f64,
        Math::UniqueSessions => rows.iter().filter_map(|r| r.session_id.as_ref()).collect::<BTreeSet<_>>().len() as f64,
        Math::AvgPerPerson => {
            if rows.is_empty() {
                0.0
            } else {
                rows.len() as f64 / persons() as f64
            }
        }
        _ => {
            let v = xs();
            if v.is_empty() {
                return 0.0;
            }
            match math {
                Math::Sum => v.iter().sum(),
                Math::Avg => v.iter().sum::<f64>() / v.len() as f64,
                Math::Min => v[0],
                Math::Max => v[v.len() - 1],
                Math::Median => quantile(&v, 0.5),
                Math::P90 => quantile(&v, 0.9),
                Math::P95 => quantile(&v, 0.95),
                _ => quantile(&v, 0.99),
            }
        }
    }
}

/// Trend series without compare or formula: `[{breakdown_value, is_other, data, total}]` per series.
pub fn trend(data: &Data, q: &TrendQuery, span: &Span) -> Value {
    let ws = q.common.week_start;
    let buckets = all_buckets(span, q.interval, ws);
    let limit = q.breakdown_limit.unwrap_or(crate::trend::DEFAULT_BREAKDOWN_LIMIT);
    let mut out = Vec::new();
    for s in &q.series {
        let rows: Vec<&Row> = data.matching(Some(span), s.event.as_deref(), &s.filters, &q.common.filters).collect();
        // Group by breakdown value, rank by count then value (unset last), top N + other.
        let value_of =
            |r: &Row| q.breakdown.as_ref().and_then(|p| data.property(r, p)).and_then(|v| filter::text_of(&v));
        let mut by_value: BTreeMap<Option<String>, Vec<&Row>> = BTreeMap::new();
        for r in &rows {
            by_value.entry(value_of(r)).or_default().push(r);
        }
        let mut ranked: Vec<(Option<String>, usize)> = by_value.iter().map(|(k, v)| (k.clone(), v.len())).collect();
        ranked.sort_by(|(a, ca), (b, cb)| {
            cb.cmp(ca).then_with(|| match (a, b) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                _ => std::cmp::Ordering::Equal,
            })
        });
        let mut groups: Vec<(Option<String>, bool, Vec<&Row>)> = Vec::new();
        let mut other: Vec<&Row> = Vec::new();
        for (i, (v, _)) in ranked.iter().enumerate() {
            let members = by_value.get(v).cloned().unwrap_or_default();
            if q.breakdown.is_none() || i < limit {
                groups.push((v.clone(), false, members));
            } else {
                other.extend(members);
            }
        }
        if !other.is_empty() {
            groups.push((None, true, other));
        }
        if groups.is_empty() && q.breakdown.is_none() {
            groups.push((None, false, Vec::new()));
        }
        for (value, is_other, members) in groups {
            let series_data: Vec<f64> = buckets
                .iter()
                .map(|b| {
                    let in_bucket: Vec<&Row> = members
                        .iter()
                        .copied()
                        .filter(|r| local_bucket(span.tz, r.timestamp, q.interval, ws) == *b)
                        .collect();
                    aggregate(data, &in_bucket, s.math, s.property.as_ref())
                })
                .collect();
            out.push(json!({
                "breakdown_value": value,
                "is_other": is_other,
                "data": series_data,
                "total": aggregate(data, &members, s.math, s.property.as_ref()),
            }));
        }
    }
    json!({ "buckets": buckets.iter().map(|b| label(*b, q.interval)).collect::<Vec<_>>(), "series": out })
}

/// Retention cohorts: `{"cohorts": [[values]], "average": [...]}` over the
/// whole-period span the engine resolved.
pub fn retention(data: &Data, q: &RetentionQuery, span: &Span) -> Value {
    let iv = crate::retention::interval(q.period);
    let ws = q.common.week_start;
    let buckets = all_buckets(span, iv, ws);
    let start = &q.start_event;
    let ret = &q.return_event;
    let mut cohorts: BTreeMap<NaiveDateTime, BTreeSet<Uuid>> = BTreeMap::new();
    if q.retention_type == RetentionType::FirstTime {
        let mut first: HashMap<Uuid, Micros> = HashMap::new();
        for r in data.matching(None, start.event.as_deref(), &start.filters, &q.common.filters) {
            let e = first.entry(r.person_id).or_insert(r.timestamp);
            *e = (*e).min(r.timestamp);
        }
        for (p, ts) in first {
            if ts >= span.from && ts < span.to {
                cohorts.entry(local_bucket(span.tz, ts, iv, ws)).or_default().insert(p);
            }
        }
    } else {
        for r in data.matching(Some(span), start.event.as_deref(), &start.filters, &q.common.filters) {
            cohorts.entry(local_bucket(span.tz, r.timestamp, iv, ws)).or_default().insert(r.person_id);
        }
    }
    let mut returned: BTreeMap<NaiveDateTime, BTreeSet<Uuid>> = BTreeMap::new();
    for r in data.matching(Some(span), ret.event.as_deref(), &ret.filters, &q.common.filters) {
        returned.entry(local_bucket(span.tz, r.timestamp, iv, ws)).or_default().insert(r.person_id);
    }
    let n = buckets.len();
    let mut table = Vec::new();
    let mut sums = vec![(0usize, 0usize); n];
    for (ci, c) in buckets.iter().enumerate() {
        let members = cohorts.get(c).cloned().unwrap_or_default();
        let mut values = vec![members.len()];
        for r in &buckets[ci + 1..] {
            values.push(returned.get(r).map_or(0, |set| members.intersection(set).count()));
        }
        for (k, v) in values.iter().enumerate() {
            sums[k].0 += v;
            sums[k].1 += members.len();
        }
        table.push(values);
    }
    let average: Vec<f64> =
        sums.iter().map(|(r, s)| if *s == 0 { 0.0 } else { 100.0 * *r as f64 / *s as f64 }).collect();
    json!({ "cohorts": table, "average": average })
}

pub fn stickiness(data: &Data, q: &StickinessQuery, span: &Span) -> Value {
    let n = all_buckets(span, q.interval, q.common.week_start).len();
    let series: Vec<Vec<usize>> = q
        .series
        .iter()
        .map(|s| {
            let mut active: HashMap<Uuid, BTreeSet<NaiveDateTime>> = HashMap::new();
            for r in data.matching(Some(span), s.event.as_deref(), &s.filters, &q.common.filters) {
                active.entry(r.person_id).or_default().insert(local_bucket(
                    span.tz,
                    r.timestamp,
                    q.interval,
                    q.common.week_start,
                ));
            }
            let mut hist = vec![0; n];
            for days in active.values() {
                hist[days.len() - 1] += 1;
            }
            hist
        })
        .collect();
    json!(series)
}

pub fn lifecycle(data: &Data, q: &LifecycleQuery, span: &Span) -> Value {
    let (iv, ws) = (q.interval, q.common.week_start);
    let buckets = all_buckets(span, iv, ws);
    let mut active: HashMap<Uuid, BTreeSet<NaiveDateTime>> = HashMap::new();
    let mut first: HashMap<Uuid, NaiveDateTime> = HashMap::new();
    for r in data.matching(None, q.event.as_deref(), &q.event_filters, &q.common.filters) {
        if r.timestamp >= span.to {
            continue;
        }
        let b = local_bucket(span.tz, r.timestamp, iv, ws);
        active.entry(r.person_id).or_default().insert(b);
        let f = first.entry(r.person_id).or_insert(b);
        *f = (*f).min(b);
    }
    let prev = |b: NaiveDateTime| match iv {
        Interval::Month => b.checked_sub_months(chrono::Months::new(1)).unwrap_or(b),
        Interval::Week => b - Duration::days(7),
        Interval::Day => b - Duration::days(1),
        Interval::Hour => b - Duration::hours(1),
        Interval::Minute => b - Duration::minutes(1),
    };
    let mut out: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for key in ["new", "returning", "resurrecting", "dormant"] {
        out.insert(key, vec![0; buckets.len()]);
    }
    for (p, set) in &active {
        for (i, b) in buckets.iter().enumerate() {
            let now = set.contains(b);
            let before = set.contains(&prev(*b));
            let status = match (now, before) {
                (true, _) if first.get(p) == Some(b) => "new",
                (true, true) => "returning",
                (true, false) => "resurrecting",
                (false, true) => "dormant",
                (false, false) => continue,
            };
            if let Some(v) = out.get_mut(status) {
                v[i] += if status == "dormant" { -1 } else { 1 };
            }
        }
    }
    json!(out)
}

pub fn paths(data: &Data, q: &PathsQuery, span: &Span) -> Value {
    let depth = q.depth.unwrap_or(crate::paths::DEFAULT_DEPTH);
    let mut sessions: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in data.matching(Some(span), None, &[], &q.common.filters) {
        if q.item == PathItem::Pageviews && !px_core::props::PAGE_VIEW_EVENTS.contains(&r.event.as_str()) {
            continue;
        }
        if let Some(s) = &r.session_id {
            sessions.entry(s).or_default().push(r);
        }
    }
    let mut weights: BTreeMap<(i64, String, String), i64> = BTreeMap::new();
    for rows in sessions.values() {
        // Time order; nodes at the same instant by name.
        let mut timed: Vec<(Micros, String)> = rows
            .iter()
            .map(|r| {
                let node = match q.item {
                    PathItem::Pageviews => r.enrichment.path.clone().unwrap_or_else(|| "/".into()),
                    PathItem::Events => r.event.clone(),
                };
                (r.timestamp, node)
            })
            .collect();
        timed.sort();
        let mut seq: Vec<String> = Vec::new();
        for (_, node) in timed {
            if seq.last() != Some(&node) {
                seq.push(node);
            }
        }
        // (first position, nodes) of the kept window.
        let kept: Option<(usize, &[String])> = match (&q.start, &q.end) {
            (Some(s), _) => seq.iter().position(|n| n == s).map(|a| (1, &seq[a..(a + depth).min(seq.len())])),
            (None, Some(e)) => seq.iter().position(|n| n == e).map(|a| {
                let from = (a + 1).saturating_sub(depth);
                (depth - (a - from), &seq[from..=a])
            }),
            (None, None) => Some((1, &seq[..depth.min(seq.len())])),
        };
        if let Some((first_pos, nodes)) = kept {
            for (i, w) in nodes.windows(2).enumerate() {
                *weights.entry(((first_pos + i) as i64, w[0].clone(), w[1].clone())).or_default() += 1;
            }
        }
    }
    let edges = weights
        .into_iter()
        .map(|((step, source, target), weight)| crate::paths::Edge { step, source, target, weight })
        .collect();
    json!(crate::paths::top_edges(edges, q.edge_limit.unwrap_or(crate::paths::DEFAULT_EDGE_LIMIT)))
}
/// Funnel step counts: persons reaching each step, by brute force over
/// every attempt (the funnel module's oracle).
pub fn funnel(data: &Data, q: &FunnelQuery, span: &Span) -> Vec<u64> {
    let Ok(spec) = crate::funnel_query::spec(q) else { return Vec::new() };
    let mut per_person: BTreeMap<Uuid, Vec<crate::funnel::FunnelEvent>> = BTreeMap::new();
    for r in data.matching(Some(span), None, &[], &q.common.filters) {
        let src = data.source(r);
        let mut steps = 0u32;
        for (i, s) in q.steps.iter().enumerate() {
            if r.event == s.event && filter::matches(&s.filters, &src) {
                steps |= 1 << i;
            }
        }
        let mut exclusions = 0u32;
        for (j, x) in q.exclusions.iter().enumerate() {
            if r.event == x.event && filter::matches(&x.filters, &src) {
                exclusions |= 1 << j;
            }
        }
        let relevant = steps != 0 || exclusions != 0 || q.order == crate::model::FunnelOrderMode::Strict;
        if relevant {
            per_person.entry(r.person_id).or_default().push(crate::funnel::FunnelEvent {
                ts: r.timestamp,
                steps,
                exclusions,
            });
        }
    }
    let mut counts = vec![0u64; q.steps.len()];
    for events in per_person.values() {
        let reached = crate::funnel::brute_force(&spec, events).reached;
        for c in counts.iter_mut().take(reached) {
            *c += 1;
        }
    }
    counts
}
