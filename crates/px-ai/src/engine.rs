//! One pass of the engine over one project: extract features, build
//! signals, find what changed and for whom, group findings into insights,
//! and store them (deduplicated across runs).

use crate::analyze::{Analyzer, Settings};
use crate::anomaly;
use crate::features::{self, Dataset, Window};
use crate::insight::{self, Draft, Impact};
use crate::llm::Llm;
use crate::signals;
use px_core::ProjectScope;
use px_core::time::{MICROS_PER_DAY, MICROS_PER_HOUR, parse_rfc3339, to_rfc3339};
use px_query::error::{QueryError, Result};
use px_query::rows;
use px_query::sql::Sql;
use px_store::{EventStore, Insight, InsightFilter, InsightStatus, MetaStore, NewInsight};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Instant;

/// The span and granularity of a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub name: &'static str,
    /// Bucket length in microseconds.
    pub bucket: i64,
    /// Most buckets looked back; fewer when the project is younger.
    pub buckets: usize,
}

impl Pass {
    /// The daily pass: 28 daily buckets, enough for weekly seasonality and
    /// for drifts that no single day shows.
    pub const FULL: Pass = Pass { name: "full", bucket: MICROS_PER_DAY, buckets: 28 };
    /// The near-real-time pass: 72 hourly buckets, for what broke today.
    pub const RECENT: Pass = Pass { name: "recent", bucket: MICROS_PER_HOUR, buckets: 72 };
}

/// Least buckets with data for a pass to say anything: a baseline needs
/// history.
const MIN_BUCKETS: usize = 4;

/// What a pass found, before storage.
#[derive(Debug, Serialize)]
pub struct Analysis {
    pub pass: &'static str,
    pub from: String,
    pub to: String,
    pub sessions: usize,
    pub signals: usize,
    pub findings: usize,
    pub anomaly_score: Option<f64>,
    pub drafts: Vec<Draft>,
    pub extract_ms: u128,
    pub analyze_ms: u128,
    /// Time spent waiting on the LLM (0 without one).
    pub llm_ms: u128,
}

/// The window of a pass ending at `now`, starting no earlier than the
/// project's first event in it (on the bucket grid).
async fn window(store: &dyn EventStore, scope: ProjectScope, now: i64, pass: Pass) -> Result<Option<Window>> {
    let full = Window::ending_at(now, pass.bucket, pass.buckets);
    let mut sql = Sql::new();
    sql.push("SELECT epoch_us(min(e.timestamp)) AS first FROM {events} e WHERE e.timestamp >= make_timestamp(");
    sql.bind(full.from).push(") AND e.timestamp < make_timestamp(").bind(now).push(")");
    let batches = store.query(scope, sql.text, sql.params).await?;
    let first = match batches.first() {
        Some(b) if b.num_rows() > 0 => rows::opt_i64(&rows::i64s(b, "first")?, 0),
        _ => None,
    };
    let Some(first) = first else { return Ok(None) };
    let skip = full.bucket_of(first).map_or(0, usize::from);
    let buckets = pass.buckets - skip;
    Ok((buckets >= MIN_BUCKETS).then(|| Window::ending_at(now, pass.bucket, buckets)))
}

/// Why each signal whose description contains `filter` was or was not
/// reported: every slice tested, with its best split, strongest first. For
/// `px ai run --explain`, when an expected friction is missing.
#[derive(Debug, Serialize)]
pub struct Explained {
    pub measure: signals::Measure,
    pub subject: signals::Subject,
    /// (slice, its best split), strongest first.
    pub slices: Vec<(String, crate::analyze::Change)>,
    /// Slices tested: the p-values above are multiplied by it.
    pub slices_tested: usize,
}

/// The explanation of a pass ending at `now` (see [`Explained`]).
pub async fn explain(
    store: &dyn EventStore,
    scope: ProjectScope,
    now: i64,
    pass: Pass,
    settings: Settings,
    filter: &str,
) -> Result<Vec<Explained>> {
    let Some(window) = window(store, scope, now, pass).await? else { return Ok(Vec::new()) };
    let data = features::extract(store, scope, window).await?;
    let seed = scope.project_id.0 as u64;
    let filter = filter.to_lowercase();
    tokio::task::spawn_blocking(move || {
        let signals = signals::build(&data, seed);
        let mut analyzer = Analyzer::new(&data, settings);
        signals
            .iter()
            .filter(|s| {
                let text = format!("{:?} {}", s.measure, serde_json::to_string(&s.subject).unwrap_or_default());
                text.to_lowercase().contains(&filter)
            })
            .map(|s| {
                let slices = analyzer.explain(s);
                Explained { measure: s.measure, subject: s.subject.clone(), slices_tested: slices.len(), slices }
            })
            .collect()
    })
    .await
    .map_err(|e| QueryError::Shape(format!("explain task: {e}")))
}

/// Runs a pass and returns its insights without storing them; with an
/// `llm`, their recommendations are refined by it (see [`Llm::refine`]).
pub async fn analyze(
    store: &dyn EventStore,
    scope: ProjectScope,
    now: i64,
    pass: Pass,
    settings: Settings,
    llm: Option<&Llm>,
) -> Result<Analysis> {
    let started = Instant::now();
    let Some(window) = window(store, scope, now, pass).await? else {
        return Ok(Analysis {
            pass: pass.name,
            from: to_rfc3339(now),
            to: to_rfc3339(now),
            sessions: 0,
            signals: 0,
            findings: 0,
            anomaly_score: None,
            drafts: Vec::new(),
            extract_ms: started.elapsed().as_millis(),
            analyze_ms: 0,
            llm_ms: 0,
        });
    };
    let data = features::extract(store, scope, window).await?;
    let extract_ms = started.elapsed().as_millis();
    let seed = scope.project_id.0 as u64;
    let mut analysis = tokio::task::spawn_blocking(move || analyze_dataset(&data, settings, seed))
        .await
        .map_err(|e| QueryError::Shape(format!("analysis task: {e}")))?;
    analysis.pass = pass.name;
    analysis.extract_ms = extract_ms;
    analysis.analyze_ms = started.elapsed().as_millis() - extract_ms;
    if let Some(llm) = llm {
        let asked = Instant::now();
        llm.refine(&mut analysis.drafts).await;
        analysis.llm_ms = asked.elapsed().as_millis();
    }
    Ok(analysis)
}

/// The CPU part of a pass, over data already in memory.
pub fn analyze_dataset(data: &Dataset, settings: Settings, seed: u64) -> Analysis {
    let window = data.window();
    let signals = signals::build(data, seed);
    let mut analyzer = Analyzer::new(data, settings);
    let findings: Vec<_> = signals.iter().enumerate().filter_map(|(i, s)| analyzer.analyze(i, s)).collect();
    let groups = insight::group(&findings, &signals);
    let mut drafts: Vec<Draft> =
        groups.iter().map(|g| insight::draft(&mut analyzer, data, &signals, &findings, g)).collect();
    if let Some(t) = anomaly::traffic(data) {
        drafts.push(traffic_draft(data, &t));
    }
    let bucket = anomaly::newest_bucket(data, seed);
    if let Some(b) = &bucket {
        let newest = window.buckets.saturating_sub(1);
        let explained = findings.iter().any(|f| f.change.split >= newest.saturating_sub(1))
            || drafts.iter().any(|d| d.kind.starts_with("traffic"));
        if b.is_anomalous() && !explained {
            drafts.push(bucket_draft(data, b));
        }
    }
    drafts.sort_by(|a, b| b.reach.total_cmp(&a.reach));
    Analysis {
        pass: "",
        from: to_rfc3339(window.from),
        to: to_rfc3339(window.to()),
        sessions: data.sessions.len(),
        signals: signals.len(),
        findings: findings.len(),
        anomaly_score: bucket.map(|b| b.score),
        drafts,
        extract_ms: 0,
        analyze_ms: 0,
        llm_ms: 0,
    }
}

fn anomaly_draft(
    data: &Dataset,
    kind: &'static str,
    title: String,
    summary: String,
    segment: &[crate::analyze::Condition],
    metrics: Value,
    evidence: Value,
) -> Draft {
    let window = data.window();
    let newest = anomaly::newest_sessions(data, segment);
    let persons: Vec<&str> = newest.iter().take(10).map(|&s| data.sessions[s as usize].person.as_str()).collect();
    let sessions: Vec<&str> = newest.iter().take(10).map(|&s| data.sessions[s as usize].id.as_str()).collect();
    let subject = crate::signals::Subject::default();
    let mut evidence = evidence;
    if let Some(e) = evidence.as_object_mut() {
        e.insert("sample_persons".into(), json!(persons));
        e.insert("sample_sessions".into(), json!(sessions));
        e.insert(
            "query".into(),
            json!({"kind": "trend", "interval": if window.bucket >= MICROS_PER_DAY { "day" } else { "hour" },
            "series": [{"event": "page_view", "math": "unique_sessions"}],
            "date_range": {"from": to_rfc3339(window.from), "to": to_rfc3339(window.to())}}),
        );
    }
    Draft {
        insight_type: insight::insight_type(kind),
        kind,
        title,
        summary,
        subject: json!({}),
        segment: insight::segment_json(data, segment),
        change_at: to_rfc3339(window.bucket_start(window.buckets.saturating_sub(1))),
        metrics,
        impact: Impact { affected_sessions: newest.len() as u64, ..Default::default() },
        priority: "medium",
        recommendation: json!({"source": "rules", "headline": "Check what changed in where visitors come from",
            "steps": ["Open the evidence query broken down by source, country and device.",
                      "If it is a campaign, check that its landing pages convert; if it is a drop, check tracking and availability first."]}),
        evidence,
        key: insight::key(insight::insight_type(kind), &subject, data, segment) + "|" + kind,
        reach: 0.0,
    }
}

fn traffic_draft(data: &Dataset, t: &anomaly::TrafficChange) -> Draft {
    let who = if t.segment.is_empty() {
        "all sources".to_string()
    } else {
        t.segment
            .iter()
            .map(|&(d, v)| format!("{} {}", features::DIMS[d], data.dim_value(d, v).unwrap_or("?")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let title = format!(
        "Traffic {} from {who}: {:.0} sessions against a usual {:.0}",
        if t.kind == "traffic_spike" { "spike" } else { "drop" },
        t.sessions,
        t.baseline
    );
    let summary =
        format!("Robust z-score {:.1} against the seasonal baseline; conversion per step is in the evidence.", t.z);
    anomaly_draft(
        data,
        t.kind,
        title,
        summary,
        &t.segment,
        json!({"sessions": t.sessions, "baseline": t.baseline, "z": t.z}),
        json!({"detector": "seasonal_robust_z", "conversions": t.conversions}),
    )
}

fn bucket_draft(data: &Dataset, b: &anomaly::BucketAnomaly) -> Draft {
    let top: Vec<String> = b.features.iter().take(3).map(|(n, z)| format!("{n} (z {z:.1})")).collect();
    let title = format!("Unusual activity across several measures: {}", top.join(", "));
    let summary = format!("Isolation forest score {:.2} for the newest bucket.", b.score);
    anomaly_draft(
        data,
        "metric_anomaly",
        title,
        summary,
        &[],
        json!({"score": b.score, "features": b.features}),
        json!({"detector": "isolation_forest"}),
    )
}

/// How far apart two changes of the same subject may start and still be
/// one incident.
const SAME_INCIDENT: i64 = 2 * MICROS_PER_DAY;

/// Stores a pass's insights: each merges into the insight it continues
/// (same key, or same type, segment and page or step), or is new.
pub async fn store(
    meta: &dyn MetaStore,
    scope: ProjectScope,
    now: i64,
    drafts: &[Draft],
) -> px_store::Result<Vec<(Insight, bool)>> {
    let (existing, _) = meta.list_insights(scope, &InsightFilter { limit: 1000, ..Default::default() }).await?;
    let mut out = Vec::new();
    // An insight continues at most one draft of a pass.
    let mut claimed: HashSet<&str> = HashSet::new();
    for d in drafts {
        let open = |i: &&Insight| !claimed.contains(i.key.as_str());
        let continues = existing.iter().filter(open).find(|i| i.key == d.key).or_else(|| {
            existing.iter().filter(open).find(|i| {
                let same = |field: &str| {
                    let (a, b) = (i.body["subject"].get(field), d.subject.get(field));
                    a.is_some() && a == b
                };
                // The same incident seen again: for the same people at the
                // same place, or at the same subject from about the same
                // time, when a later pass, with more data, names the
                // segment better.
                let change = |body: &Value| body.get("change_at").and_then(Value::as_str).and_then(parse_rfc3339);
                let close = match (change(&i.body), parse_rfc3339(&d.change_at)) {
                    (Some(a), Some(b)) => (a - b).abs() <= SAME_INCIDENT,
                    _ => false,
                };
                i.insight_type == d.insight_type
                    && ((i.body["segment"] == json!(d.segment) && (same("page") || same("step")))
                        || (i.body["subject"] == d.subject && close && i.status == InsightStatus::Active))
            })
        });
        if let Some(i) = continues {
            claimed.insert(i.key.as_str());
        }
        let key = continues.map_or_else(|| d.key.clone(), |i| i.key.clone());
        let mut body = serde_json::to_value(d).unwrap_or(Value::Null);
        if let (Some(obj), Some(prev)) = (body.as_object_mut(), continues) {
            obj.insert(
                "first_change_at".into(),
                prev.body.get("first_change_at").or(prev.body.get("change_at")).cloned().unwrap_or(Value::Null),
            );
        }
        let impact = d.impact.money_per_month.unwrap_or(0.0);
        let new = NewInsight {
            key,
            insight_type: d.insight_type.to_string(),
            kind: d.kind.to_string(),
            priority: d.priority.to_string(),
            impact,
            reach: d.impact.affected_sessions_per_month,
            body,
            detected_at: now,
        };
        out.push(meta.upsert_insight(scope, new).await?);
    }
    Ok(out)
}

/// Errors of a stored pass.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Store(#[from] px_store::StoreError),
}

/// Runs a pass (see [`analyze`]) and stores its insights; the stored ones
/// come back with whether each is new.
pub async fn run(
    events: &dyn EventStore,
    meta: &dyn MetaStore,
    scope: ProjectScope,
    now: i64,
    pass: Pass,
    settings: Settings,
    llm: Option<&Llm>,
) -> std::result::Result<(Analysis, Vec<(Insight, bool)>), RunError> {
    let analysis = analyze(events, scope, now, pass, settings, llm).await?;
    let stored = store(meta, scope, now, &analysis.drafts).await?;
    Ok((analysis, stored))
}
