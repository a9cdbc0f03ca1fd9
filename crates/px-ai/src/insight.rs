//! From findings to insights: findings of one incident are grouped (a
//! failing payment shows as a new error, a conversion drop and complaints,
//! all for the same segment from the same time), then each group gets its
//! impact, priority, recommendation and evidence.

use crate::analyze::{Analyzer, Condition, Finding};
use crate::features::{DIMS, Dataset};
use crate::recommend;
use crate::signals::{Measure, Signal, Values};
use crate::stats;
use px_core::time::{MICROS_PER_DAY, to_rfc3339};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Least sessions on each side of an impact comparison.
pub const MIN_IMPACT_SESSIONS: f64 = 30.0;
/// Significance of the impact comparison.
const IMPACT_ALPHA: f64 = 0.05;
/// Persons and sessions listed as evidence.
const SAMPLE: usize = 10;

/// The insight kinds, and what type of insight each is.
pub fn insight_type(kind: &str) -> &'static str {
    match kind {
        "traffic_spike" | "traffic_drop" | "metric_anomaly" => "anomaly",
        "conversion_gain" => "opportunity",
        _ => "friction",
    }
}

/// Share of the measured loss a fix recovers, per kind: a bug fix recovers
/// most of it, a speed-up or a redesign part of it.
pub fn resolution_probability(kind: &str) -> f64 {
    match kind {
        "step_failure" => 0.8,
        "error_loop" | "error_spike" => 0.7,
        "rage_clicks" | "dead_clicks" => 0.6,
        "slow_page" | "feedback_theme" => 0.5,
        "conversion_drop" | "bounce_spike" => 0.4,
        _ => 0.3,
    }
}

/// What an incident costs.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Impact {
    /// Sessions of the segment the friction touched since it began.
    pub affected_sessions: u64,
    pub affected_persons: u64,
    /// The same, per 30 days at the current pace.
    pub affected_sessions_per_month: f64,
    /// Which step's conversion the loss is measured on.
    pub outcome: Option<String>,
    pub conversion_affected: Option<f64>,
    pub conversion_unaffected: Option<f64>,
    /// Whether the two conversions differ significantly with enough
    /// sessions on each side; the loss figures below are only set then.
    pub significant: bool,
    pub p_value: Option<f64>,
    pub lost_conversions_per_month: Option<f64>,
    pub value_per_conversion: Option<f64>,
    pub resolution_probability: f64,
    /// Recoverable revenue per month.
    pub money_per_month: Option<f64>,
}

/// One insight of a run, ready to be stored.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    #[serde(rename = "type")]
    pub insight_type: &'static str,
    pub kind: &'static str,
    pub title: String,
    pub summary: String,
    pub subject: Value,
    pub segment: Vec<Value>,
    pub change_at: String,
    pub metrics: Value,
    pub impact: Impact,
    pub priority: &'static str,
    pub recommendation: Value,
    pub evidence: Value,
    #[serde(skip)]
    pub key: String,
    /// Sort key: money, else reach.
    #[serde(skip)]
    pub reach: f64,
}

/// Group findings of one incident: same segment, changes within a bucket
/// of each other, and either a real segment or the same page.
pub fn group(findings: &[Finding], signals: &[Signal]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (signals[findings[i].signal].measure, findings[i].change.split));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in order {
        let f = &findings[i];
        let page = signals[f.signal].subject.page.as_deref();
        let home = groups.iter_mut().find(|g| {
            let first = &findings[g[0]];
            let first_page = g.iter().find_map(|&j| signals[findings[j].signal].subject.page.as_deref());
            first.segment == f.segment
                && first.change.split.abs_diff(f.change.split) <= 1
                && (!f.segment.is_empty() || (page.is_some() && page == first_page))
        });
        match home {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

fn kind_of(measures: &[Measure]) -> &'static str {
    let has = |m| measures.contains(&m);
    match measures.first() {
        Some(Measure::Conversion) if has(Measure::Error) || has(Measure::ErrorLoop) => "step_failure",
        Some(Measure::Conversion) => "conversion_drop",
        Some(Measure::ErrorLoop) => "error_loop",
        Some(Measure::Error) => "error_spike",
        Some(Measure::Lcp) => "slow_page",
        Some(Measure::RageClicks) => "rage_clicks",
        Some(Measure::DeadClicks) => "dead_clicks",
        Some(Measure::Bounce) => "bounce_spike",
        Some(Measure::Feedback) | None => "feedback_theme",
    }
}

pub fn segment_json(data: &Dataset, segment: &[Condition]) -> Vec<Value> {
    segment.iter().map(|&(d, v)| json!({"dimension": DIMS[d], "value": data.dim_value(d, v)})).collect()
}

fn segment_text(data: &Dataset, segment: &[Condition]) -> String {
    if segment.is_empty() {
        return "everyone".into();
    }
    segment
        .iter()
        .map(|&(d, v)| format!("{} {}", DIMS[d].replace('_', " "), data.dim_value(d, v).unwrap_or("?")))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Builds the insight of one group of findings.
pub fn draft(
    analyzer: &mut Analyzer<'_>,
    data: &Dataset,
    signals: &[Signal],
    findings: &[Finding],
    group: &[usize],
) -> Draft {
    let lead = &findings[group[0]];
    let signal = &signals[lead.signal];
    let measures: Vec<Measure> = group.iter().map(|&i| signals[findings[i].signal].measure).collect();
    let kind = kind_of(&measures);
    let mut subject = signal.subject.clone();
    for &i in &group[1..] {
        let s = &signals[findings[i].signal].subject;
        subject.page = subject.page.or_else(|| s.page.clone());
        subject.message = subject.message.or_else(|| s.message.clone());
        subject.element = subject.element.or_else(|| s.element.clone());
        subject.theme = subject.theme.or_else(|| s.theme.clone());
    }
    let window = data.window();
    let change_at = window.bucket_start(lead.change.split);
    let who = segment_text(data, &lead.segment);
    let (title, summary) = describe(kind, signal, &subject, lead, &who);
    let (impact, affected) = impact(analyzer, data, signals, lead, kind);
    let priority = priority(&impact, data, lead.change.split);
    let quotes: Vec<&String> = group.iter().flat_map(|&i| signals[findings[i].signal].quotes.iter()).take(3).collect();
    let related: Vec<Value> = group[1..]
        .iter()
        .map(|&i| {
            let f = &findings[i];
            let s = &signals[f.signal];
            json!({"measure": s.measure, "subject": s.subject, "before": f.change.before.value,
                   "after": f.change.after.value, "ratio": finite(f.change.ratio), "p_corrected": f.p_corrected})
        })
        .collect();
    let mut persons: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    for &s in &affected {
        let p = data.sessions[s as usize].person.as_str();
        if persons.len() < SAMPLE && seen.insert(p) {
            persons.push(p);
        }
    }
    let sessions: Vec<&str> = affected.iter().take(SAMPLE).map(|&s| data.sessions[s as usize].id.as_str()).collect();
    let evidence = json!({
        "query": evidence_query(data, signal, &subject, &lead.segment),
        "detector": lead.detector,
        "slices_tested": lead.slices_tested,
        "complement": lead.complement,
        "segments_considered": lead.candidates.iter().map(|c| json!({
            "segment": segment_json(data, &c.segment), "share_of_damage": c.share,
            "damage_per_unit": c.density, "damage_per_unit_outside": c.outside_density, "score": c.score,
        })).collect::<Vec<_>>(),
        "sample_persons": persons,
        "sample_sessions": sessions,
        "related": related,
        "quotes": quotes,
        "window": {"from": to_rfc3339(window.from), "to": to_rfc3339(window.to()),
                   "bucket_hours": window.bucket / px_core::time::MICROS_PER_HOUR},
    });
    let metrics = json!({
        "measure": signal.measure,
        "before": lead.change.before,
        "after": lead.change.after,
        "ratio": finite(lead.change.ratio),
        "z": lead.change.z,
        "p_corrected": lead.p_corrected,
    });
    let recommendation = recommend::recommend(kind, &subject, &who, lead, &impact);
    let reach = impact.money_per_month.unwrap_or(0.0) * 1e6 + impact.affected_sessions_per_month;
    Draft {
        insight_type: insight_type(kind),
        kind,
        title,
        summary,
        subject: serde_json::to_value(&subject).unwrap_or(Value::Null),
        segment: segment_json(data, &lead.segment),
        change_at: to_rfc3339(change_at),
        metrics,
        impact,
        priority,
        recommendation,
        evidence,
        key: key(insight_type(kind), &subject, data, &lead.segment),
        reach,
    }
}

/// A ratio for JSON, which has no infinity: `None` when nothing was there before.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Identity across runs: type, where, and for whom. The kind is left out
/// on purpose: an incident first seen as an error and later as a failing
/// step is the same insight.
pub fn key(insight_type: &str, subject: &crate::signals::Subject, data: &Dataset, segment: &[Condition]) -> String {
    let anchor = subject
        .page
        .as_deref()
        .map(|p| format!("page={p}"))
        .or_else(|| subject.step.as_deref().map(|s| format!("step={s}")))
        .or_else(|| subject.theme.as_deref().map(|t| format!("theme={t}")))
        .unwrap_or_default();
    let element = subject.element.as_deref().map(|e| format!("|element={e}")).unwrap_or_default();
    let mut seg: Vec<String> =
        segment.iter().map(|&(d, v)| format!("{}={}", DIMS[d], data.dim_value(d, v).unwrap_or(""))).collect();
    seg.sort();
    format!("{insight_type}|{anchor}{element}|{}", seg.join(","))
}

fn describe(
    kind: &str,
    signal: &Signal,
    subject: &crate::signals::Subject,
    f: &Finding,
    who: &str,
) -> (String, String) {
    let (b, a) = (f.change.before.value, f.change.after.value);
    let page = subject.page.as_deref().unwrap_or("?");
    let title = match kind {
        "step_failure" => format!(
            "{} is failing for {who}: {} fell from {} to {}",
            subject.step.as_deref().unwrap_or("a step"),
            subject.step.as_deref().unwrap_or("conversion"),
            pct(b),
            pct(a)
        ),
        "conversion_drop" => format!(
            "Conversion to {} fell from {} to {} for {who}",
            subject.step.as_deref().unwrap_or("?"),
            pct(b),
            pct(a)
        ),
        "error_loop" => format!("Error loop on {page} for {who}: {}", subject.message.as_deref().unwrap_or("?")),
        "error_spike" => format!(
            "Error on {page} for {who} in {} of sessions (was {}): {}",
            pct(a),
            pct(b),
            subject.message.as_deref().unwrap_or("?")
        ),
        "slow_page" => {
            format!("{page} loads {:.1}× slower for {who}: LCP {:.0} ms (was {:.0} ms)", a / b.max(1e-9), a, b)
        }
        "rage_clicks" | "dead_clicks" => format!(
            "{} on {} ({page}) for {who}: {} of visits (was {})",
            if kind == "rage_clicks" { "Rage clicks" } else { "Dead clicks" },
            subject.element.as_deref().unwrap_or("?"),
            pct(a),
            pct(b)
        ),
        "bounce_spike" => {
            format!("Visitors landing on {page} leave at once: {} bounce (was {}) for {who}", pct(a), pct(b))
        }
        _ => format!("New complaint theme \"{}\" from {who}", subject.theme.as_deref().unwrap_or("?")),
    };
    let summary = format!(
        "{} changed from {:.4} to {:.4} ({}) from the bucket starting at split {} on, z = {:.1}; {} slices tried.",
        serde_json::to_value(signal.measure).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        b,
        a,
        if f.change.ratio.is_finite() { format!("×{:.2}", f.change.ratio) } else { "new".into() },
        f.change.split,
        f.change.z,
        f.slices_tested
    );
    (title, summary)
}

/// Sessions of `sessions` from bucket `split` on.
fn after(data: &Dataset, sessions: &[u32], split: usize) -> Vec<u32> {
    sessions.iter().copied().filter(|&s| data.sessions[s as usize].bucket as usize >= split).collect()
}

/// Revenue per completion of `completed` (key event index) over the window.
fn value_per_conversion(data: &Dataset, completed: usize) -> Option<f64> {
    let (mut n, mut revenue) = (0.0, 0.0);
    for s in &data.sessions {
        if s.steps & (1 << completed) != 0 {
            n += 1.0;
            revenue += s.revenue;
        }
    }
    (n > 0.0 && revenue > 0.0).then(|| revenue / n)
}

fn rate(data: &Dataset, sessions: &[u32], started: usize, completed: usize) -> (f64, f64) {
    let mut n = 0.0;
    let mut k = 0.0;
    for &s in sessions {
        let bits = data.sessions[s as usize].steps;
        if bits & (1 << started) != 0 {
            n += 1.0;
            if bits & (1 << completed) != 0 {
                k += 1.0;
            }
        }
    }
    (k, n)
}

/// Affected sessions and the conversion they lost against comparable
/// unaffected sessions (see `docs/ai.md`), and the affected sessions.
fn impact(
    analyzer: &mut Analyzer<'_>,
    data: &Dataset,
    signals: &[Signal],
    f: &Finding,
    kind: &str,
) -> (Impact, Vec<u32>) {
    let signal = &signals[f.signal];
    let window = data.window();
    let split = f.change.split;
    let (affected, comparable): (Vec<u32>, Vec<u32>) = match &signal.values {
        Values::Rate { population, hits } => {
            let members = analyzer.members(*population).to_vec();
            let in_seg = crate::analyze::segment_members(data, &after(data, &members, split), &f.segment);
            if signal.measure == Measure::Conversion {
                // The friction is in the step itself: every session of the
                // segment that started it is affected.
                let rest: HashSet<u32> = in_seg.iter().copied().collect();
                let comparable = if f.segment.is_empty() {
                    members.iter().copied().filter(|&s| (data.sessions[s as usize].bucket as usize) < split).collect()
                } else {
                    after(data, &members, split).into_iter().filter(|s| !rest.contains(s)).collect()
                };
                (in_seg, comparable)
            } else {
                let hit: HashSet<u32> = hits.iter().copied().collect();
                let affected: Vec<u32> = in_seg.into_iter().filter(|s| hit.contains(s)).collect();
                let a: HashSet<u32> = affected.iter().copied().collect();
                let comparable =
                    after(data, &members, split).into_iter().filter(|s| !a.contains(s) && !hit.contains(s)).collect();
                (affected, comparable)
            }
        }
        Values::Distribution(obs) => {
            let mut sessions: Vec<u32> = obs.iter().map(|(s, _)| *s).collect();
            sessions.sort_unstable();
            sessions.dedup();
            let affected = crate::analyze::segment_members(data, &after(data, &sessions, split), &f.segment);
            let a: HashSet<u32> = affected.iter().copied().collect();
            let mut comparable: Vec<u32> =
                after(data, &sessions, split).into_iter().filter(|s| !a.contains(s)).collect();
            if comparable.len() < MIN_IMPACT_SESSIONS as usize {
                comparable =
                    sessions.iter().copied().filter(|&s| (data.sessions[s as usize].bucket as usize) < split).collect();
            }
            (affected, comparable)
        }
    };
    let days = ((window.buckets - split) as f64 * window.bucket as f64 / MICROS_PER_DAY as f64).max(1e-9);
    let per_month = 30.0 / days;
    let persons: HashSet<&str> = affected.iter().map(|&s| data.sessions[s as usize].person.as_str()).collect();
    let mut out = Impact {
        affected_sessions: affected.len() as u64,
        affected_persons: persons.len() as u64,
        affected_sessions_per_month: affected.len() as f64 * per_month,
        resolution_probability: resolution_probability(kind),
        ..Default::default()
    };
    // The outcome: the step the signal is about, else the step whose
    // conversion the friction hurt most.
    let pairs: Vec<(usize, usize)> = match signal.subject.step.as_deref() {
        Some(step) => data.pairs.iter().copied().filter(|&(_, c)| data.key_events[c] == step).collect(),
        None => data.pairs.clone(),
    };
    let mut best: Option<(f64, Impact)> = None;
    for (started, completed) in pairs {
        let (ka, na) = rate(data, &affected, started, completed);
        let (ku, nu) = rate(data, &comparable, started, completed);
        if na == 0.0 || nu == 0.0 {
            continue;
        }
        let (ra, ru) = (ka / na, ku / nu);
        let test = stats::two_proportion_test(
            stats::Proportion { successes: ku, trials: nu },
            stats::Proportion { successes: ka, trials: na },
        );
        let p = test.map(|t| t.p_value);
        let significant =
            na >= MIN_IMPACT_SESSIONS && nu >= MIN_IMPACT_SESSIONS && ru > ra && p.is_some_and(|p| p < IMPACT_ALPHA);
        let mut candidate = Impact {
            outcome: Some(data.key_events[completed].clone()),
            conversion_affected: Some(ra),
            conversion_unaffected: Some(ru),
            significant,
            p_value: p,
            ..out.clone()
        };
        let mut score = if significant { (ru - ra) * na } else { -1.0 };
        if significant {
            let lost = (ru - ra) * na * per_month;
            candidate.lost_conversions_per_month = Some(lost);
            candidate.value_per_conversion = value_per_conversion(data, completed);
            candidate.money_per_month =
                candidate.value_per_conversion.map(|v| lost * v * candidate.resolution_probability);
            score = candidate.money_per_month.unwrap_or(0.0) * 1e6 + lost;
        }
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, candidate));
        }
    }
    if let Some((_, chosen)) = best {
        out = chosen;
    }
    (out, affected)
}

/// Priority from money when it is known, else from the share of recent
/// sessions affected.
fn priority(impact: &Impact, data: &Dataset, split: usize) -> &'static str {
    if let Some(m) = impact.money_per_month {
        return match m {
            m if m >= 5000.0 => "critical",
            m if m >= 1000.0 => "high",
            m if m >= 100.0 => "medium",
            _ => "low",
        };
    }
    let recent = data.sessions.iter().filter(|s| s.bucket as usize >= split).count().max(1) as f64;
    let share = impact.affected_sessions as f64 / recent;
    match share {
        s if s >= 0.05 => "high",
        s if s >= 0.01 => "medium",
        _ => "low",
    }
}

/// The px-query query that shows the problem, broken down by the segment's
/// first dimension.
fn evidence_query(data: &Dataset, signal: &Signal, subject: &crate::signals::Subject, segment: &[Condition]) -> Value {
    let window = data.window();
    let range = json!({"from": to_rfc3339(window.from), "to": to_rfc3339(window.to())});
    let breakdown = segment.first().map(|&(d, _)| match DIMS[d] {
        "plan" => json!({"key": "plan", "type": "person"}),
        "app_version" => json!({"key": "app_version", "type": "event"}),
        "source" => json!({"key": "referrer_domain", "type": "column"}),
        other => json!({"key": other, "type": "column"}),
    });
    let eq = |key: &str, kind: &str, value: &Option<String>| json!({"key": key, "type": kind, "operator": "eq", "value": value});
    let mut q = match signal.measure {
        Measure::Conversion => json!({"kind": "funnel", "window": "1d",
            "steps": [{"event": subject.from_step}, {"event": subject.step}]}),
        Measure::Error | Measure::ErrorLoop => json!({"kind": "trend", "interval": "day",
            "series": [{"event": "error", "math": "unique_sessions",
                        "filters": [eq("message", "event", &subject.message)]}]}),
        Measure::Lcp => json!({"kind": "trend", "interval": "day",
            "series": [{"event": "web_vital", "math": "median", "property": {"key": "value"},
                        "filters": [eq("name", "event", &Some("LCP".into())), eq("path", "column", &subject.page)]}]}),
        Measure::RageClicks | Measure::DeadClicks => json!({"kind": "trend", "interval": "day",
            "series": [{"event": if signal.measure == Measure::RageClicks { "rage_click" } else { "dead_click" },
                        "math": "unique_sessions",
                        "filters": [eq("selector", "event", &subject.element), eq("path", "column", &subject.page)]}]}),
        Measure::Bounce => json!({"kind": "sessions", "limit": 100}),
        Measure::Feedback => json!({"kind": "trend", "interval": "day",
            "series": [{"event": "feedback", "math": "unique_sessions"}]}),
    };
    if let Some(obj) = q.as_object_mut() {
        obj.insert("date_range".into(), range);
        if let Some(b) = breakdown
            && signal.measure != Measure::Bounce
        {
            obj.insert("breakdown".into(), b);
        }
    }
    q
}
