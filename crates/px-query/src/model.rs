//! The typed query model: what `POST /api/v1/projects/{p}/query` accepts.
//!
//! Every query is plain serde JSON with a `kind` tag. Unknown fields are
//! errors (a typo must not silently change an answer), and [`Query::validate`]
//! checks every limit, naming the field, before any SQL is generated.
//! `docs/queries.md` documents each kind with examples.

use crate::error::{QueryError, invalid};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most steps a funnel may have.
pub const MAX_FUNNEL_STEPS: usize = 20;
/// Most series a trend may have.
pub const MAX_SERIES: usize = 20;
/// Most breakdown values shown before the rest fold into "other".
pub const MAX_BREAKDOWN_LIMIT: usize = 1000;
/// Longest property key, event name or filter value accepted.
pub const MAX_TEXT: usize = 1000;
/// Deepest nesting of AND/OR filter groups.
pub const MAX_FILTER_DEPTH: usize = 5;
/// Most filters in one query, all groups together.
pub const MAX_FILTERS: usize = 100;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Query {
    Trend(TrendQuery),
    Funnel(FunnelQuery),
    Retention(RetentionQuery),
    Paths(PathsQuery),
    Stickiness(StickinessQuery),
    Lifecycle(LifecycleQuery),
    Persons(PersonsQuery),
    Timeline(TimelineQuery),
    Sessions(SessionsQuery),
}

/// Where a property lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    /// The event's `properties` JSON; PostHog's `$browser`, `$pathname`, ...
    /// name the enriched columns.
    #[default]
    Event,
    /// The person's properties (their current values).
    Person,
    /// A stored column: `event`, `distinct_id`, `session_id`, `url`, `host`,
    /// `path`, `title`, `referrer`, `referrer_domain`, `utm_*`, `browser`,
    /// `browser_version`, `os`, `os_version`, `device_type`, `country`,
    /// `city`, `locale`, `screen_width`, `screen_height`, `lib`, `lib_version`.
    Column,
}

/// A property reference: `{"key": "plan"}` or `{"key": "browser", "type": "column"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    pub key: String,
    #[serde(default, rename = "type")]
    pub kind: PropertyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Neq,
    In,
    NotIn,
    Contains,
    NotContains,
    Regex,
    Gt,
    Gte,
    Lt,
    Lte,
    IsSet,
    IsNotSet,
}

/// A filter: one property test, or an AND/OR group of filters.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Filter {
    And { and: Vec<Filter> },
    Or { or: Vec<Filter> },
    Property(PropertyFilter),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyFilter {
    pub key: String,
    #[serde(default, rename = "type")]
    pub kind: PropertyType,
    pub operator: Operator,
    #[serde(default)]
    pub value: Value,
}

impl PropertyFilter {
    pub fn property(&self) -> Property {
        Property { key: self.key.clone(), kind: self.kind }
    }
}

/// `{"from": "-7d"}`, `{"from": "2026-01-01", "to": "2026-01-31"}`, `{"from": "mtd"}`.
/// `to` defaults to now; both are read in the query's time zone.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Minute,
    Hour,
    #[default]
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeekStart {
    #[default]
    Monday,
    Sunday,
}

/// Settings every kind shares.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Common {
    #[serde(default)]
    pub date_range: DateRange,
    /// Filters applied to every event the query reads.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// IANA zone; defaults to the project's.
    pub timezone: Option<String>,
    #[serde(default)]
    pub week_start: WeekStart,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Math {
    #[default]
    Total,
    UniquePersons,
    UniqueSessions,
    /// Events per person within the bucket, averaged over persons.
    AvgPerPerson,
    Sum,
    Avg,
    Min,
    Max,
    Median,
    P90,
    P95,
    P99,
}

impl Math {
    /// Whether the math aggregates a numeric property.
    pub fn needs_property(self) -> bool {
        matches!(self, Math::Sum | Math::Avg | Math::Min | Math::Max | Math::Median | Math::P90 | Math::P95 | Math::P99)
    }
}

/// One series: an event (or every event when absent) with its own filters.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub event: Option<String>,
    #[serde(default)]
    pub math: Math,
    /// The numeric property for sum/avg/min/max/median/pNN.
    pub property: Option<Property>,
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Label in answers and the letter's alias in formulas; defaults to the event.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrendQuery {
    pub series: Vec<Series>,
    #[serde(default)]
    pub interval: Interval,
    pub breakdown: Option<Property>,
    pub breakdown_limit: Option<usize>,
    /// Also answer the same span just before the range.
    #[serde(default)]
    pub compare: bool,
    /// Arithmetic over series letters (A is the first series): `"A / B * 100"`.
    pub formula: Option<String>,
    #[serde(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FunnelOrderMode {
    /// Steps in order; other events may come between.
    #[default]
    Ordered,
    /// Steps in order with nothing between.
    Strict,
    /// Steps in any order within the window.
    Unordered,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelStep {
    pub event: String,
    #[serde(default)]
    pub filters: Vec<Filter>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelExclusion {
    pub event: String,
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// The exclusion counts between these steps (0-based); default: the
    /// whole funnel.
    pub from_step: Option<usize>,
    pub to_step: Option<usize>,
}

/// Which persons a funnel answer lists.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelPersons {
    /// 0-based step.
    pub step: usize,
    /// `true`: the persons who dropped off right before `step` (reached the
    /// one before it, not it); `false`: those who reached `step`.
    #[serde(default)]
    pub dropped: bool,
    /// Only persons with this breakdown value (when the funnel has a breakdown).
    #[serde(default)]
    pub breakdown_value: Option<Value>,
    #[serde(default = "default_page")]
    pub limit: usize,
    #[serde(default)]
    pub offset: usize,
}

fn default_page() -> usize {
    100
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelQuery {
    pub steps: Vec<FunnelStep>,
    /// Conversion window: `"30m"`, `"7d"`, `"2w"`; default 14 days.
    pub window: Option<String>,
    #[serde(default)]
    pub order: FunnelOrderMode,
    #[serde(default)]
    pub exclusions: Vec<FunnelExclusion>,
    pub breakdown: Option<Property>,
    pub breakdown_limit: Option<usize>,
    pub persons: Option<FunnelPersons>,
    #[serde(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionType {
    /// Cohort by every period in which the person did the start event.
    #[default]
    Recurring,
    /// Cohort by the first time ever the person did the start event.
    FirstTime,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionPeriod {
    Day,
    #[default]
    Week,
    Month,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventRef {
    /// The event; absent means any event.
    pub event: Option<String>,
    #[serde(default)]
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionQuery {
    pub start_event: EventRef,
    pub return_event: EventRef,
    #[serde(default)]
    pub retention_type: RetentionType,
    #[serde(default)]
    pub period: RetentionPeriod,
    /// Cohorts and offsets; default 8.
    pub periods: Option<usize>,
    #[serde(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathItem {
    /// Page views (`page_view` or PostHog's `$pageview`), named by their path.
    #[default]
    Pageviews,
    /// Every event, named by its event name.
    Events,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PathsQuery {
    #[serde(default)]
    pub item: PathItem,
    /// Paths start at this node (a path or an event name, per `item`).
    pub start: Option<String>,
    /// Paths end at this node; exclusive with `start`.
    pub end: Option<String>,
    /// Nodes per path; default 5.
    pub depth: Option<usize>,
    /// Most edges answered per step; default 50.
    pub edge_limit: Option<usize>,
    #[serde(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StickinessQuery {
    pub series: Vec<Series>,
    /// Buckets whose active persons are counted: day (default) or week.
    #[serde(default)]
    pub interval: Interval,
    #[serde(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleQuery {
    pub event: Option<String>,
    #[serde(default)]
    pub interval: Interval,
    #[serde(default)]
    pub event_filters: Vec<Filter>,
    #[serde(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PersonsQuery {
    /// Person-property filters (`type` defaults to person here).
    #[serde(default)]
    pub properties: Vec<Filter>,
    /// Matches any distinct id or a property value containing this text.
    pub search: Option<String>,
    #[serde(default = "default_page")]
    pub limit: usize,
    #[serde(default)]
    pub offset: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// Any distinct id of the person.
    pub distinct_id: String,
    #[serde(default = "default_page")]
    pub limit: usize,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[serde(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    /// Only this person's sessions (any of their distinct ids).
    pub distinct_id: Option<String>,
    #[serde(default = "default_page")]
    pub limit: usize,
    #[serde(default)]
    pub offset: usize,
    #[serde(flatten)]
    pub common: Common,
}

impl Query {
    pub fn common(&self) -> Option<&Common> {
        match self {
            Query::Trend(q) => Some(&q.common),
            Query::Funnel(q) => Some(&q.common),
            Query::Retention(q) => Some(&q.common),
            Query::Paths(q) => Some(&q.common),
            Query::Stickiness(q) => Some(&q.common),
            Query::Lifecycle(q) => Some(&q.common),
            Query::Timeline(q) => Some(&q.common),
            Query::Sessions(q) => Some(&q.common),
            Query::Persons(_) => None,
        }
    }

    /// Checks every limit and reference, naming the offending field.
    pub fn validate(&self) -> Result<(), QueryError> {
        let mut budget = MAX_FILTERS;
        if let Some(c) = self.common() {
            validate_filters(&c.filters, "filters", 0, &mut budget)?;
            if let Some(tz) = &c.timezone {
                crate::time::parse_tz(tz).map_err(|m| invalid("timezone", m))?;
            }
        }
        match self {
            Query::Trend(q) => {
                validate_series(&q.series, &mut budget)?;
                if let Some(b) = &q.breakdown {
                    validate_property(b, "breakdown")?;
                }
                validate_breakdown_limit(q.breakdown_limit)?;
                if let Some(f) = &q.formula {
                    crate::formula::Formula::parse(f, q.series.len()).map_err(|m| invalid("formula", m))?;
                }
            }
            Query::Funnel(q) => {
                let n = q.steps.len();
                if !(2..=MAX_FUNNEL_STEPS).contains(&n) {
                    return Err(invalid("steps", format!("a funnel has 2 to {MAX_FUNNEL_STEPS} steps, not {n}")));
                }
                for (i, s) in q.steps.iter().enumerate() {
                    validate_text(&s.event, &format!("steps[{i}].event"))?;
                    validate_filters(&s.filters, &format!("steps[{i}].filters"), 0, &mut budget)?;
                }
                if let Some(w) = &q.window {
                    crate::time::parse_duration(w).map_err(|m| invalid("window", m))?;
                }
                if q.order == FunnelOrderMode::Unordered && !q.exclusions.is_empty() {
                    return Err(invalid("exclusions", "exclusions need an ordered or strict funnel"));
                }
                for (i, x) in q.exclusions.iter().enumerate() {
                    validate_text(&x.event, &format!("exclusions[{i}].event"))?;
                    validate_filters(&x.filters, &format!("exclusions[{i}].filters"), 0, &mut budget)?;
                    let (from, to) = (x.from_step.unwrap_or(0), x.to_step.unwrap_or(n - 1));
                    if from >= to || to >= n {
                        return Err(invalid(
                            &format!("exclusions[{i}]"),
                            format!("from_step ({from}) must be below to_step ({to}), and to_step below {n}"),
                        ));
                    }
                }
                if q.exclusions.len() > 20 {
                    return Err(invalid("exclusions", "at most 20 exclusions"));
                }
                if let Some(b) = &q.breakdown {
                    validate_property(b, "breakdown")?;
                }
                validate_breakdown_limit(q.breakdown_limit)?;
                if let Some(p) = &q.persons {
                    if p.step >= n {
                        return Err(invalid(
                            "persons.step",
                            format!("step {} is past the last step ({})", p.step, n - 1),
                        ));
                    }
                    if p.dropped && p.step == 0 {
                        return Err(invalid("persons.step", "nobody drops off before step 0"));
                    }
                    validate_page(p.limit, "persons.limit")?;
                }
            }
            Query::Retention(q) => {
                validate_event_ref(&q.start_event, "start_event", &mut budget)?;
                validate_event_ref(&q.return_event, "return_event", &mut budget)?;
                if let Some(p) = q.periods
                    && !(1..=120).contains(&p)
                {
                    return Err(invalid("periods", format!("1 to 120 periods, not {p}")));
                }
            }
            Query::Paths(q) => {
                if q.start.is_some() && q.end.is_some() {
                    return Err(invalid("end", "give start or end, not both"));
                }
                for (v, f) in [(&q.start, "start"), (&q.end, "end")] {
                    if let Some(v) = v {
                        validate_text(v, f)?;
                    }
                }
                if let Some(d) = q.depth
                    && !(2..=20).contains(&d)
                {
                    return Err(invalid("depth", format!("depth is 2 to 20, not {d}")));
                }
                if let Some(l) = q.edge_limit
                    && !(1..=1000).contains(&l)
                {
                    return Err(invalid("edge_limit", format!("edge_limit is 1 to 1000, not {l}")));
                }
            }
            Query::Stickiness(q) => {
                validate_series(&q.series, &mut budget)?;
                if !matches!(q.interval, Interval::Day | Interval::Week) {
                    return Err(invalid("interval", "stickiness counts days or weeks"));
                }
            }
            Query::Lifecycle(q) => {
                if let Some(e) = &q.event {
                    validate_text(e, "event")?;
                }
                validate_filters(&q.event_filters, "event_filters", 0, &mut budget)?;
                if matches!(q.interval, Interval::Minute) {
                    return Err(invalid("interval", "lifecycle needs hour, day, week or month"));
                }
            }
            Query::Persons(q) => {
                validate_filters(&q.properties, "properties", 0, &mut budget)?;
                if let Some(s) = &q.search {
                    validate_text(s, "search")?;
                }
                validate_page(q.limit, "limit")?;
            }
            Query::Timeline(q) => {
                validate_text(&q.distinct_id, "distinct_id")?;
                validate_page(q.limit, "limit")?;
            }
            Query::Sessions(q) => {
                if let Some(d) = &q.distinct_id {
                    validate_text(d, "distinct_id")?;
                }
                validate_page(q.limit, "limit")?;
            }
        }
        Ok(())
    }
}

fn validate_page(limit: usize, field: &str) -> Result<(), QueryError> {
    if !(1..=1000).contains(&limit) {
        return Err(invalid(field, format!("1 to 1000 rows per page, not {limit}")));
    }
    Ok(())
}

fn validate_breakdown_limit(limit: Option<usize>) -> Result<(), QueryError> {
    match limit {
        Some(l) if !(1..=MAX_BREAKDOWN_LIMIT).contains(&l) => {
            Err(invalid("breakdown_limit", format!("1 to {MAX_BREAKDOWN_LIMIT}, not {l}")))
        }
        _ => Ok(()),
    }
}

fn validate_series(series: &[Series], budget: &mut usize) -> Result<(), QueryError> {
    if series.is_empty() || series.len() > MAX_SERIES {
        return Err(invalid("series", format!("1 to {MAX_SERIES} series, not {}", series.len())));
    }
    for (i, s) in series.iter().enumerate() {
        if let Some(e) = &s.event {
            validate_text(e, &format!("series[{i}].event"))?;
        }
        match (&s.property, s.math.needs_property()) {
            (None, true) => {
                return Err(invalid(&format!("series[{i}].property"), "this math needs a numeric property"));
            }
            (Some(_), false) => {
                return Err(invalid(
                    &format!("series[{i}].property"),
                    "only sum/avg/min/max/median/pNN take a property",
                ));
            }
            (Some(p), true) => validate_property(p, &format!("series[{i}].property"))?,
            (None, false) => {}
        }
        validate_filters(&s.filters, &format!("series[{i}].filters"), 0, budget)?;
    }
    Ok(())
}

fn validate_event_ref(r: &EventRef, field: &str, budget: &mut usize) -> Result<(), QueryError> {
    if let Some(e) = &r.event {
        validate_text(e, &format!("{field}.event"))?;
    }
    validate_filters(&r.filters, &format!("{field}.filters"), 0, budget)
}

fn validate_text(s: &str, field: &str) -> Result<(), QueryError> {
    if s.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if s.len() > MAX_TEXT {
        return Err(invalid(field, format!("{} bytes, more than the limit of {MAX_TEXT}", s.len())));
    }
    Ok(())
}

pub(crate) fn validate_property(p: &Property, field: &str) -> Result<(), QueryError> {
    validate_text(&p.key, &format!("{field}.key"))?;
    if p.kind == PropertyType::Column && crate::columns::column(&p.key).is_none() {
        return Err(invalid(&format!("{field}.key"), format!("no column named {:?}", p.key)));
    }
    Ok(())
}

fn validate_filters(filters: &[Filter], field: &str, depth: usize, budget: &mut usize) -> Result<(), QueryError> {
    if depth > MAX_FILTER_DEPTH {
        return Err(invalid(field, format!("filter groups nest deeper than {MAX_FILTER_DEPTH}")));
    }
    for (i, f) in filters.iter().enumerate() {
        let field = format!("{field}[{i}]");
        if *budget == 0 {
            return Err(invalid(&field, format!("more than {MAX_FILTERS} filters")));
        }
        *budget -= 1;
        match f {
            Filter::And { and } => validate_filters(and, &format!("{field}.and"), depth + 1, budget)?,
            Filter::Or { or } => validate_filters(or, &format!("{field}.or"), depth + 1, budget)?,
            Filter::Property(p) => validate_property_filter(p, &field)?,
        }
    }
    Ok(())
}

fn validate_property_filter(p: &PropertyFilter, field: &str) -> Result<(), QueryError> {
    validate_property(&p.property(), field)?;
    let value = &p.value;
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let field = format!("{field}.value");
    match p.operator {
        Operator::Eq | Operator::Neq | Operator::Contains | Operator::NotContains => {
            if !scalar(value) {
                return Err(invalid(&field, "needs a string, number or boolean"));
            }
        }
        Operator::In | Operator::NotIn => match value {
            Value::Array(items) if !items.is_empty() && items.len() <= 1000 && items.iter().all(scalar) => {}
            _ => return Err(invalid(&field, "needs a list of 1 to 1000 strings, numbers or booleans")),
        },
        Operator::Regex => match value {
            Value::String(re) => {
                regex::RegexBuilder::new(re)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| invalid(&field, format!("not a valid regular expression: {e}")))?;
            }
            _ => return Err(invalid(&field, "needs a regular expression string")),
        },
        Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => {
            if crate::filter::as_number(value).is_none() {
                return Err(invalid(&field, "needs a number"));
            }
        }
        Operator::IsSet | Operator::IsNotSet => {
            if !value.is_null() {
                return Err(invalid(&field, "is_set and is_not_set take no value"));
            }
        }
    }
    if let Value::String(s) = value
        && s.len() > MAX_TEXT
    {
        return Err(invalid(&field, format!("{} bytes, more than the limit of {MAX_TEXT}", s.len())));
    }
    Ok(())
}
