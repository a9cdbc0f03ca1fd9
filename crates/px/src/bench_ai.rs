//! `px bench ai`: how often the AI engine is right. Every scenario of a
//! directory (default: the shipped ones) is generated into a fresh store
//! with its ground-truth labels; the engine then runs as it would in
//! production, a full pass every `--step-hours` of simulated time, storing
//! and deduplicating its insights; at the end the insights are matched to
//! the labels. Reports precision, recall, F1, top-1 root-cause accuracy,
//! time to detect and false insights per clean simulated week, and, with
//! `--engine-events`, the run time of one full pass over that many events.
//!
//! Matching (also in `docs/ai.md`): an insight finds a label when its kind
//! fits the label's kind (a step failure may show as a failing step, a
//! conversion drop, an error spike or an error loop), it is about the same
//! step, page, element or theme, and its change began between a day before
//! the friction started and a day after it ended. Its root cause is right
//! when its segment is not empty and every condition of it is one of the
//! label's (or both are everyone).

use crate::config::PxConfig;
use anyhow::{Context, Result, anyhow};
use clap::Args;
use px_ai::analyze::Settings;
use px_ai::engine::{self, Pass};
use px_core::time::{MICROS_PER_DAY, MICROS_PER_HOUR, parse_rfc3339};
use px_core::{ProjectScope, ProjectSettings};
use px_ingest::decode::parse_batch;
use px_ingest::enrich::RequestInfo;
use px_simulate::{FrictionLabel, Scenario, SimConfig, Simulator};
use px_store::{
    DuckDbEventStore, EventStore, Insight, InsightFilter, MetaStore, NewProject, ScopedEvent, SqliteMetaStore,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Clone)]
pub struct AiArgs {
    /// Directory of scenario files (default: the shipped scenarios).
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// Simulated hours between engine passes.
    #[arg(long, default_value_t = 12)]
    step_hours: i64,
    /// Also time one full pass over about this many events (0: skip).
    #[arg(long, default_value_t = 0)]
    engine_events: u64,
    /// Where the `--engine-events` data lives (shared with `px bench query`).
    #[arg(long, default_value = "px-bench-data")]
    data_dir: PathBuf,
    /// Write the per-scenario results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The shipped scenarios, found from the source tree.
fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../px-simulate/scenarios")
}

/// Start of scenarios that do not say: a Monday.
const DEFAULT_START: &str = "2025-05-05";

/// The outcome of one scenario.
#[derive(Debug, Default, serde::Serialize)]
struct Outcome {
    scenario: String,
    file: String,
    days: u32,
    events: u64,
    clean: bool,
    labels: usize,
    detected: usize,
    insights: usize,
    true_insights: usize,
    root_cause_right: usize,
    /// Hours from each detected friction's start to its first insight.
    hours_to_detect: Vec<f64>,
    /// Titles of insights that matched no label.
    false_insights: Vec<String>,
    missed: Vec<String>,
    wrong_root_causes: Vec<String>,
    pass_ms: Vec<f64>,
}

pub async fn run(args: AiArgs) -> Result<()> {
    let dir = args.scenarios.clone().unwrap_or_else(default_dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(anyhow!("no scenario files (*.toml) in {}", dir.display()));
    }
    println!(
        "{} scenarios from {}, a full pass every {} simulated hours\n",
        files.len(),
        dir.display(),
        args.step_hours
    );
    let mut outcomes = Vec::new();
    for file in &files {
        let outcome = scenario(file, args.step_hours).await?;
        println!(
            "{:<34} {:>3} d {:>8} events  labels {}/{} found  insights {} ({} false)  root cause {}/{}  {}",
            outcome.scenario,
            outcome.days,
            outcome.events,
            outcome.detected,
            outcome.labels,
            outcome.insights,
            outcome.insights - outcome.true_insights,
            outcome.root_cause_right,
            outcome.detected,
            if outcome.hours_to_detect.is_empty() {
                String::new()
            } else {
                format!("detected after {:?} h", outcome.hours_to_detect.iter().map(|h| h.round()).collect::<Vec<_>>())
            }
        );
        for f in &outcome.false_insights {
            println!("    false: {f}");
        }
        for m in &outcome.missed {
            println!("    missed: {m}");
        }
        for m in &outcome.wrong_root_causes {
            println!("    root cause: {m}");
        }
        outcomes.push(outcome);
    }
    let summary = summarize(&outcomes);
    println!("\n{}", serde_json::to_string_pretty(&summary)?);
    if args.engine_events > 0 {
        let ms = time_full_pass(args.engine_events, &args.data_dir).await?;
        println!("\nfull pass over {} events: {:.1} s", args.engine_events, ms / 1000.0);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&json!({"summary": summary, "scenarios": outcomes}))?)?;
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

fn summarize(outcomes: &[Outcome]) -> Value {
    let insights: usize = outcomes.iter().map(|o| o.insights).sum();
    let true_insights: usize = outcomes.iter().map(|o| o.true_insights).sum();
    let labels: usize = outcomes.iter().map(|o| o.labels).sum();
    let detected: usize = outcomes.iter().map(|o| o.detected).sum();
    let rc: usize = outcomes.iter().map(|o| o.root_cause_right).sum();
    let precision = if insights > 0 { true_insights as f64 / insights as f64 } else { 1.0 };
    let recall = if labels > 0 { detected as f64 / labels as f64 } else { 1.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    let clean: Vec<&Outcome> = outcomes.iter().filter(|o| o.clean).collect();
    let clean_weeks: f64 = clean.iter().map(|o| f64::from(o.days) / 7.0).sum();
    let clean_false: usize = clean.iter().map(|o| o.insights).sum();
    let hours: Vec<f64> = outcomes.iter().flat_map(|o| o.hours_to_detect.iter().copied()).collect();
    let pass_ms: Vec<f64> = outcomes.iter().flat_map(|o| o.pass_ms.iter().copied()).collect();
    json!({
        "scenarios": outcomes.len(),
        "clean_scenarios": clean.len(),
        "labels": labels,
        "detected": detected,
        "insights": insights,
        "true_insights": true_insights,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "root_cause_accuracy": if detected > 0 { rc as f64 / detected as f64 } else { 1.0 },
        "median_hours_to_detect": median(hours.clone()),
        "max_hours_to_detect": hours.iter().copied().fold(None, |m: Option<f64>, h| Some(m.map_or(h, |m| m.max(h)))),
        "false_insights_per_clean_week": if clean_weeks > 0.0 { clean_false as f64 / clean_weeks } else { 0.0 },
        "median_pass_ms": median(pass_ms),
    })
}

async fn scenario(file: &Path, step_hours: i64) -> Result<Outcome> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let scenario = Scenario::from_toml(&text).with_context(|| format!("scenario {}", file.display()))?;
    let run = scenario.run();
    let start = match run.start {
        Some(s) => s,
        None => parse_rfc3339(&format!("{DEFAULT_START}T00:00:00Z")).ok_or_else(|| anyhow!("bad default start"))?,
    };
    let sim = SimConfig::new(run.seed, start, run.days, run.visitors_per_day);
    let end = start + i64::from(run.days) * MICROS_PER_DAY;
    let dir = tempfile::tempdir()?;
    let meta = SqliteMetaStore::open(&dir.path().join("meta.sqlite")).await?;
    let tenant = meta.create_tenant("bench", "self_hosted").await?;
    let project = meta
        .create_project(NewProject { tenant_id: tenant.id, name: "bench".into(), settings: ProjectSettings::default() })
        .await?;
    let scope = project.scope();
    let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None)?;
    let name = scenario.name.clone();
    let mut simulator = Simulator::with_scenario(sim, scenario);
    let events = load(&store, scope, &mut simulator, end).await?;
    let labels = simulator.labels().ok_or_else(|| anyhow!("no labels from a scenario run"))?;

    // The engine as in production: a pass every step, insights stored and
    // deduplicated; the first detection of each is its store time.
    let mut pass_ms = Vec::new();
    let step = step_hours.max(1) * MICROS_PER_HOUR;
    let mut now = start + 4 * MICROS_PER_DAY;
    while now <= end {
        let started = Instant::now();
        engine::run(&store, &meta, scope, now, Pass::FULL, Settings::default(), None).await?;
        pass_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        now += step;
    }
    let (insights, _) = meta.list_insights(scope, &InsightFilter { limit: 10_000, ..Default::default() }).await?;
    let frictions = &labels.frictions;
    let mut out = Outcome {
        scenario: name,
        file: file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        days: run.days,
        events,
        clean: frictions.is_empty(),
        labels: frictions.len(),
        insights: insights.len(),
        pass_ms,
        ..Default::default()
    };
    let mut found: Vec<Option<&Insight>> = vec![None; frictions.len()];
    for insight in &insights {
        let mut matched = false;
        for (i, label) in frictions.iter().enumerate() {
            if matches(insight, label, end) {
                matched = true;
                if found[i].is_none_or(|f| f.first_detected_at > insight.first_detected_at) {
                    found[i] = Some(insight);
                }
            }
        }
        if matched {
            out.true_insights += 1;
        } else {
            out.false_insights.push(format!("[{}] {}", insight.kind, insight.body["title"].as_str().unwrap_or("")));
        }
    }
    for (label, insight) in frictions.iter().zip(&found) {
        match insight {
            Some(insight) => {
                out.detected += 1;
                if root_cause_right(insight, label) {
                    out.root_cause_right += 1;
                } else {
                    // The slices the engine weighed, to see why it chose as it did.
                    let considered: Vec<String> = insight.body["evidence"]["segments_considered"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| {
                            let seg = &c["segment"][0];
                            format!(
                                "{}={} share {:.2} density {:.3} outside {:.3}",
                                seg["dimension"].as_str().unwrap_or("?"),
                                seg["value"].as_str().unwrap_or("?"),
                                c["share_of_damage"].as_f64().unwrap_or(0.0),
                                c["damage_per_unit"].as_f64().unwrap_or(0.0),
                                c["damage_per_unit_outside"].as_f64().unwrap_or(0.0),
                            )
                        })
                        .collect();
                    out.wrong_root_causes.push(format!(
                        "{}: found {} for {:?}; weighed: {}",
                        label.kind,
                        insight.body["segment"],
                        label.segment,
                        considered.join("; ")
                    ));
                }
                let started = parse_rfc3339(&label.start).unwrap_or(start);
                out.hours_to_detect.push((insight.first_detected_at - started) as f64 / MICROS_PER_HOUR as f64);
            }
            None => out.missed.push(format!("{} {:?} {:?}", label.kind, label.segment, label.page.or(label.step))),
        }
    }
    Ok(out)
}

/// Generates a simulation into the store through the ingest pipeline's
/// processing (enrichment, sessions), appended in large chunks; also the
/// loader of `px bench query`.
pub async fn load(store: &DuckDbEventStore, scope: ProjectScope, simulator: &mut Simulator, end: i64) -> Result<u64> {
    let pipeline = crate::serve::pipeline(&PxConfig::default())?;
    let settings = ProjectSettings::default();
    let mut chunk: Vec<ScopedEvent> = Vec::new();
    let mut total = 0u64;
    while let Some(batch) = simulator.next_batch(1000) {
        let body = serde_json::to_vec(&json!({ "events": batch }))?;
        let raw = parse_batch(&body, &pipeline.limits).map_err(|e| anyhow!("{e}"))?;
        let processed = pipeline.process(scope.project_id, &settings, &raw, &RequestInfo::default(), end);
        chunk.extend(processed.events.into_iter().map(|event| ScopedEvent { scope, event }));
        if chunk.len() >= 50_000 {
            total += chunk.len() as u64;
            store.append(std::mem::take(&mut chunk)).await?;
        }
    }
    total += chunk.len() as u64;
    store.append(chunk).await?;
    Ok(total)
}

fn field<'a>(insight: &'a Insight, name: &str) -> Option<&'a str> {
    insight.body["subject"][name].as_str()
}

/// Whether `insight` reports the friction of `label` (see the module doc).
fn matches(insight: &Insight, label: &FrictionLabel, run_end: i64) -> bool {
    let kind = insight.kind.as_str();
    let same = |name: &str, want: Option<&str>| want.is_some() && field(insight, name) == want;
    let fits = match label.kind {
        "step_failure" => {
            ["step_failure", "conversion_drop", "error_spike", "error_loop"].contains(&kind)
                && (same("step", label.step) || same("page", label.page))
        }
        "conversion_drop" => ["conversion_drop", "step_failure"].contains(&kind) && same("step", label.step),
        "slow_page" => ["slow_page", "bounce_spike"].contains(&kind) && same("page", label.page),
        "rage_clicks" => ["rage_clicks", "dead_clicks"].contains(&kind) && same("element", label.element),
        "error_loop" => {
            ["error_loop", "error_spike", "step_failure", "conversion_drop"].contains(&kind)
                && (same("page", label.page) || same("step", label.step))
        }
        // A theme's name in a scenario file is the author's, the engine's
        // label comes from the texts: any complaint theme found in the
        // window is the injected one.
        "feedback_theme" => kind == "feedback_theme",
        other => other == kind,
    };
    if !fits {
        return false;
    }
    let change = insight.body["first_change_at"]
        .as_str()
        .or(insight.body["change_at"].as_str())
        .and_then(parse_rfc3339)
        .unwrap_or(insight.first_detected_at);
    let from = parse_rfc3339(&label.start).unwrap_or(i64::MIN) - MICROS_PER_DAY;
    let to = label.end.as_deref().and_then(parse_rfc3339).unwrap_or(run_end) + MICROS_PER_DAY;
    (from..=to).contains(&change)
}

fn root_cause_right(insight: &Insight, label: &FrictionLabel) -> bool {
    let ours: Vec<(String, String)> = insight.body["segment"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["dimension"].as_str().unwrap_or("").to_string(),
                        c["value"].as_str().unwrap_or("").to_lowercase(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if ours.is_empty() || label.segment.is_empty() {
        return ours.is_empty() && label.segment.is_empty();
    }
    ours.iter().all(|(d, v)| label.segment.get(d.as_str()).is_some_and(|want| want.to_lowercase() == *v))
}

/// One full pass over the `px bench query` data of about `events` events.
async fn time_full_pass(events: u64, data_dir: &Path) -> Result<f64> {
    let (store, end) = crate::bench_query::prepare_store(events, data_dir).await?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let a = engine::analyze(&store, crate::bench_query::SCOPE, end, Pass::FULL, Settings::default(), None).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        println!(
            "  full pass: {ms:.0} ms ({} sessions, {} signals, {} insights; {} ms reading)",
            a.sessions,
            a.signals,
            a.drafts.len(),
            a.extract_ms
        );
        times.push(ms);
    }
    median(times).ok_or_else(|| anyhow!("no passes"))
}
