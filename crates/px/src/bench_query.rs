//! `px bench query`: latency of the analytics queries over a generated
//! project (the demo generator, 30 days, sized to `--events`), against
//! hand-written DuckDB SQL for the funnel and the retention query, timed
//! in the same run. Reports medians.
//!
//! The data is generated once into `--data-dir` and reused by later runs
//! of the same size, so iterating on a query does not pay for generation.

use anyhow::Result;
use clap::Args;
use px_core::time::MICROS_PER_DAY;
use px_core::{ProjectId, ProjectScope, TenantId};
use px_query::{Context, Query};
use px_simulate::{SimConfig, Simulator};
use px_store::{DuckDbEventStore, EventStore, SqlParam};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Clone)]
pub struct QueryArgs {
    /// Events to generate (about; the generator works in whole visitors).
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Where the generated store lives (kept for reuse).
    #[arg(long, default_value = "px-bench-data")]
    data_dir: PathBuf,
    /// Timed runs per query (after one warm-up run).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    runs: u16,
    /// Time this SQL instead (it may read `{events}`, `{events_no_person}`,
    /// `{persons}`, `{distinct_ids}`): for working on the generated SQL.
    #[arg(long)]
    sql: Vec<String>,
    /// Only the queries whose name contains this text (baselines included).
    #[arg(long)]
    only: Option<String>,
}

pub const SCOPE: ProjectScope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };
const DAYS: u32 = 30;
/// A fixed start keeps the data (and so the figures) the same on every run.
const START: &str = "2026-01-05";

fn sim(visitors_per_day: u32) -> Result<SimConfig> {
    let start = chrono::NaiveDate::parse_from_str(START, "%Y-%m-%d")?;
    let start_micros = start.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros()).unwrap_or_default();
    Ok(SimConfig::new(11, start_micros, DAYS, visitors_per_day))
}

/// Visitors per day for about `events` events over the 30 days.
fn sizing(events: u64) -> Result<SimConfig> {
    let probe = sim(1000)?;
    let per_thousand = px_simulate::approx_events(&probe).max(1);
    let vpd = (events as f64 / per_thousand as f64 * 1000.0).round().clamp(10.0, 50_000_000.0) as u32;
    sim(vpd)
}

/// The bench store of about `events` events and the end of its data.
pub async fn prepare_store(events: u64, data_dir: &std::path::Path) -> Result<(DuckDbEventStore, i64)> {
    let (store, config) = prepare(events, data_dir).await?;
    Ok((store, config.start_micros + i64::from(DAYS) * MICROS_PER_DAY))
}

/// Opens the bench store, generating its data when it holds another size.
async fn prepare(events: u64, data_dir: &std::path::Path) -> Result<(DuckDbEventStore, SimConfig)> {
    std::fs::create_dir_all(data_dir)?;
    let config = sizing(events)?;
    let path = data_dir.join(format!("bench-{}-{}.duckdb", config.visitors_per_day, config.seed));
    let fresh = !path.exists();
    let store = DuckDbEventStore::open(&path, None)?;
    if !fresh && store.count_events(SCOPE).await? > 0 {
        return Ok((store, config));
    }
    println!("generating about {} events into {} ...", px_simulate::approx_events(&config), path.display());
    let mut simulator = Simulator::new(config.clone());
    let started = Instant::now();
    let end = config.start_micros + i64::from(DAYS) * MICROS_PER_DAY;
    let total = crate::bench_ai::load(&store, SCOPE, &mut simulator, end).await?;
    println!("generated {total} events in {:.0} s", started.elapsed().as_secs_f64());
    Ok((store, config))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints a statement's row count and its first rows, so that a variant
/// timed with `--sql` can be checked to give the same answer.
fn print_head(batches: &[arrow::record_batch::RecordBatch]) -> Result<()> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    println!("  {rows} rows");
    for b in batches.iter().filter(|b| b.num_rows() > 0).take(1) {
        for i in 0..b.num_rows().min(5) {
            let cells = b
                .columns()
                .iter()
                .map(|c| arrow::util::display::array_value_to_string(c, i))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            println!("  {}", cells.join(" | "));
        }
    }
    Ok(())
}

/// The benchmark's queries: (name, PX query).
fn queries() -> Vec<(&'static str, Value)> {
    let mut long = Vec::new();
    for i in 0..20 {
        long.push(json!({"event": if i % 2 == 0 { "page_view" } else { "click" }}));
    }
    vec![
        (
            "trend: 30 days, daily, by browser",
            json!({"kind":"trend","series":[{"event":"page_view"}],"date_range":{"from":"-30d"},"interval":"day",
                   "breakdown":{"key":"browser","type":"column"}}),
        ),
        (
            "funnel: 4 steps, 7-day window",
            json!({"kind":"funnel","window":"7d","date_range":{"from":"-30d"},"steps":[
                {"event":"page_view"},{"event":"signup_started"},{"event":"signup_completed"},{"event":"checkout_completed"}]}),
        ),
        ("funnel: 20 steps", json!({"kind":"funnel","window":"7d","date_range":{"from":"-30d"},"steps":long})),
        (
            "retention: weekly, 8 periods",
            json!({"kind":"retention","start_event":{"event":"page_view"},"return_event":{"event":"page_view"},
                   "period":"week","periods":8}),
        ),
        ("paths: depth 5 from /", json!({"kind":"paths","start":"/","depth":5,"date_range":{"from":"-30d"}})),
    ]
}

/// Hand-written DuckDB SQL for the 4-step funnel (each person's first
/// step 1, then the earliest next step within the window from it) and the
/// weekly retention: what a careful analyst would write.
fn baselines(from: i64, to: i64) -> Vec<(&'static str, String, Vec<SqlParam>)> {
    let funnel = "WITH e AS (SELECT person_id, timestamp AS ts, event FROM {events}
          WHERE timestamp >= make_timestamp(?) AND timestamp < make_timestamp(?)
            AND event IN ('page_view', 'signup_started', 'signup_completed', 'checkout_completed')),
        s1 AS (SELECT person_id, min(ts) AS t1 FROM e WHERE event = 'page_view' GROUP BY 1),
        s2 AS (SELECT s1.person_id, t1, min(e.ts) AS t FROM s1 JOIN e ON e.person_id = s1.person_id
               AND e.event = 'signup_started' AND e.ts >= t1 AND e.ts <= t1 + INTERVAL 7 DAY GROUP BY 1, 2),
        s3 AS (SELECT s2.person_id, t1, min(e.ts) AS t FROM s2 JOIN e ON e.person_id = s2.person_id
               AND e.event = 'signup_completed' AND e.ts >= s2.t AND e.ts <= t1 + INTERVAL 7 DAY GROUP BY 1, 2),
        s4 AS (SELECT s3.person_id, t1, min(e.ts) AS t FROM s3 JOIN e ON e.person_id = s3.person_id
               AND e.event = 'checkout_completed' AND e.ts >= s3.t AND e.ts <= t1 + INTERVAL 7 DAY GROUP BY 1, 2)
        SELECT (SELECT count(*) FROM s1) AS a, (SELECT count(*) FROM s2) AS b,
               (SELECT count(*) FROM s3) AS c, (SELECT count(*) FROM s4) AS d";
    let retention = "WITH a AS (SELECT DISTINCT person_id, date_trunc('week', timestamp) AS w FROM {events}
          WHERE event = 'page_view' AND timestamp >= make_timestamp(?) AND timestamp < make_timestamp(?))
        SELECT s.w AS cohort, r.w AS ret, count(*) AS n FROM a s JOIN a r
          ON r.person_id = s.person_id AND r.w >= s.w GROUP BY ALL";
    vec![
        ("funnel: 4 steps, 7-day window", funnel.to_string(), vec![SqlParam::Int(from), SqlParam::Int(to)]),
        ("retention: weekly, 8 periods", retention.to_string(), vec![SqlParam::Int(from), SqlParam::Int(to)]),
    ]
}

pub async fn run(args: QueryArgs) -> Result<()> {
    let (store, config) = prepare(args.events, &args.data_dir).await?;
    let events = store.count_events(SCOPE).await?;
    let end = config.start_micros + i64::from(DAYS) * MICROS_PER_DAY;
    let ctx = Context { scope: SCOPE, timezone: "UTC".into(), now: end };
    println!("{events} events, {} runs per query (median)\n", args.runs);
    if !args.sql.is_empty() {
        for sql in &args.sql {
            let mut times = Vec::new();
            for run in 0..=args.runs {
                let started = Instant::now();
                let batches = store.query(SCOPE, sql.clone(), Vec::new()).await?;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                if run == 0 {
                    print_head(&batches)?;
                }
            }
            times.remove(0);
            println!("p50 {:>8.1} ms  {sql}", median(times));
        }
        return Ok(());
    }
    let mut results = Vec::new();
    let mut px_ms = std::collections::HashMap::new();
    let picked = |name: &str| args.only.as_deref().is_none_or(|only| name.contains(only));
    for (name, q) in queries().into_iter().filter(|(name, _)| picked(name)) {
        let query: Query = serde_json::from_value(q)?;
        let mut times = Vec::new();
        for run in 0..=args.runs {
            let started = Instant::now();
            let answer = px_query::run(&store, &ctx, &query).await?;
            if run > 0 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            } else if name.starts_with("funnel") {
                let counts: Vec<u64> = answer["steps"]
                    .as_array()
                    .map(|s| s.iter().filter_map(|x| x["count"].as_u64()).collect())
                    .unwrap_or_default();
                println!("  {name}: step counts {counts:?}");
            } else if name.starts_with("paths") {
                let edges = answer["edges"].as_array().map(Vec::as_slice).unwrap_or_default();
                let weight: i64 = edges.iter().filter_map(|e| e["weight"].as_i64()).sum();
                println!("  {name}: {} edges, total weight {weight}", edges.len());
            }
        }
        let p50 = median(times);
        px_ms.insert(name, p50);
        println!("{name:<36} p50 {p50:>8.1} ms");
        results.push(json!({"query": name, "p50_ms": p50}));
    }
    println!();
    let baselines = baselines(end - i64::from(DAYS) * MICROS_PER_DAY, end);
    for (name, sql, params) in baselines.into_iter().filter(|(name, ..)| picked(name)) {
        let mut times = Vec::new();
        for run in 0..=args.runs {
            let started = Instant::now();
            let batches = store.query(SCOPE, sql.clone(), params.clone()).await?;
            if run > 0 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            } else if name.starts_with("funnel") {
                let mut counts = Vec::new();
                for b in batches.iter().take(1) {
                    for col in ["a", "b", "c", "d"] {
                        counts.push(px_query::rows::i64s(b, col)?.value(0));
                    }
                }
                println!("  baseline {name}: step counts {counts:?}");
            }
        }
        let p50 = median(times);
        let ratio = px_ms.get(name).copied().unwrap_or(f64::NAN) / p50;
        println!("{:<36} p50 {p50:>8.1} ms   PX / baseline = {ratio:.2}", format!("baseline {name}"));
        results.push(json!({"query": format!("baseline {name}"), "p50_ms": p50, "px_over_baseline": ratio}));
    }
    println!("\n{}", json!({"events": events, "runs": args.runs, "results": results}));
    Ok(())
}
