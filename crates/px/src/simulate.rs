//! `px simulate` and the demo project: generated product traffic (see
//! `px-simulate`) sent through the whole pipeline, either over HTTP to a
//! running server or straight into a data dir's store through the same
//! pipeline and writer the server uses (no HTTP, same result).

use crate::bootstrap::{self, ProjectKeys};
use crate::config::PxConfig;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use px_core::time::{MICROS_PER_DAY, now_micros};
use px_core::{ProjectScope, ProjectSettings};
use px_ingest::Pipeline;
use px_ingest::decode::parse_batch;
use px_ingest::enrich::RequestInfo;
use px_server::AppState;
use px_server::writer::{Batch, WriterHandle};
use px_simulate::{Scenario, SimConfig, Simulator};
use px_store::ScopedEvent;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args)]
pub struct SimulateArgs {
    /// Project to fill (id). With --http, the key decides the project.
    #[arg(long)]
    project: Option<i64>,
    /// Days to simulate [default: 14, or the scenario's run.days]
    #[arg(long)]
    days: Option<u32>,
    /// Average new visitors per day [default: 1500, or the scenario's
    /// run.visitors_per_day]
    #[arg(long)]
    visitors_per_day: Option<u32>,
    /// [default: 42, or the scenario's run.seed]
    #[arg(long)]
    seed: Option<u64>,
    /// First day (YYYY-MM-DD, UTC) [default: the scenario's run.start, else
    /// `days` days before today]
    #[arg(long)]
    start: Option<String>,
    /// Send through a running server's API at this base URL.
    #[arg(long)]
    http: Option<String>,
    /// Project key for --http.
    #[arg(long)]
    key: Option<String>,
    #[arg(long, default_value_t = 500)]
    batch_size: usize,
    /// Inject the frictions of this scenario file (TOML, see
    /// docs/simulate.md).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Write the scenario's ground truth (JSON) here after the run.
    #[arg(long, requires = "scenario")]
    labels: Option<PathBuf>,
}

/// Midnight UTC `days` days before today: the simulated range ends at
/// today's midnight, so no generated event lies in the future.
pub fn default_start(days: u32) -> i64 {
    let today = now_micros().div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY;
    today - i64::from(days) * MICROS_PER_DAY
}

fn parse_start(s: &str) -> Result<i64> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("--start {s:?} must be YYYY-MM-DD"))?;
    Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros()).unwrap_or_default())
}

/// Feeds a simulation through `pipeline` and `writer` into `scope`.
pub async fn feed_direct(
    pipeline: &Pipeline,
    writer: &WriterHandle,
    scope: ProjectScope,
    simulator: &mut Simulator,
    batch_size: usize,
) -> Result<u64> {
    let settings = ProjectSettings::default();
    let mut total = 0u64;
    let req = RequestInfo::default();
    while let Some(batch) = simulator.next_batch(batch_size) {
        let body = serde_json::to_vec(&serde_json::json!({ "events": batch }))?;
        let raw = parse_batch(&body, &pipeline.limits).map_err(|e| anyhow!("simulated batch: {e}"))?;
        let processed = pipeline.process(scope.project_id, &settings, &raw, &req, now_micros());
        if let Some((i, r)) = processed.rejected.first() {
            bail!("simulated event {i} was rejected: {} ({})", r.message, r.field);
        }
        let events = processed.events.into_iter().map(|event| ScopedEvent { scope, event }).collect();
        let batch = Batch::new(events).map_err(|e| anyhow!("spool: {}", e.message))?;
        let out = writer.write(batch).await.map_err(|e| anyhow!("store: {}", e.message))?;
        total += out.stored as u64;
    }
    // Acknowledged means spooled; the caller reads the store next.
    if !writer.visible(std::time::Duration::from_secs(600)).await {
        bail!("the spooled events did not reach the store within 10 minutes");
    }
    Ok(total)
}

/// Creates the demo project (when missing) and fills it with the 14 days of
/// traffic before today. Returns `None` when it already has events.
pub async fn load_demo(state: &AppState, data_dir: &Path, visitors_per_day: u32) -> Result<Option<(ProjectKeys, u64)>> {
    let meta = state.meta.as_ref();
    let tenant = bootstrap::default_tenant(meta, "self_hosted").await?;
    let existing = meta.list_projects(Some(tenant.id)).await?.into_iter().find(|p| p.name == bootstrap::DEMO_PROJECT);
    let (scope, keys) = match existing {
        Some(p) => {
            if state.store.count_events(p.scope()).await? > 0 {
                return Ok(None);
            }
            let creds = bootstrap::read_credentials(data_dir);
            let keys = creds.projects.into_iter().find(|(n, _)| n == bootstrap::DEMO_PROJECT).map(|(_, k)| k);
            (p.scope(), keys.ok_or_else(|| anyhow!("demo project exists but its keys are not in credentials.json"))?)
        }
        None => {
            let (p, keys) = bootstrap::create_project_with_keys(meta, tenant.id, bootstrap::DEMO_PROJECT).await?;
            let mut creds = bootstrap::read_credentials(data_dir);
            creds.projects.push((bootstrap::DEMO_PROJECT.to_string(), keys.clone()));
            bootstrap::write_credentials(data_dir, &creds)?;
            (p.scope(), keys)
        }
    };
    let days = 14;
    let sim = SimConfig::new(7, default_start(days), days, visitors_per_day);
    tracing::info!(approx_events = px_simulate::approx_events(&sim), "loading the demo project");
    let n = feed_direct(&state.pipeline, &state.writer, scope, &mut Simulator::new(sim), 1000).await?;
    Ok(Some((keys, n)))
}

/// The run's settings: each flag given wins, then the scenario's `[run]`
/// table, then the defaults of a run without a scenario.
fn sim_config(args: &SimulateArgs, scenario: Option<&Scenario>) -> Result<SimConfig> {
    let run = scenario.map(Scenario::run);
    let days = args.days.or(run.map(|r| r.days)).unwrap_or(14);
    let start = match (&args.start, run.and_then(|r| r.start)) {
        (Some(s), _) => parse_start(s)?,
        (None, Some(start)) => start,
        (None, None) => default_start(days),
    };
    Ok(SimConfig::new(
        args.seed.or(run.map(|r| r.seed)).unwrap_or(42),
        start,
        days,
        args.visitors_per_day.or(run.map(|r| r.visitors_per_day)).unwrap_or(1500),
    ))
}

pub async fn run(config: PxConfig, args: SimulateArgs) -> Result<()> {
    let scenario = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Some(Scenario::from_toml(&text).with_context(|| format!("scenario {}", path.display()))?)
        }
        None => None,
    };
    let sim = sim_config(&args, scenario.as_ref())?;
    let mut simulator = match scenario {
        Some(scenario) => Simulator::with_scenario(sim, scenario),
        None => Simulator::new(sim),
    };
    let started = std::time::Instant::now();
    let n = match (&args.http, &args.key) {
        (Some(url), Some(key)) => feed_http(url, key, &mut simulator, args.batch_size).await?,
        (Some(_), None) => bail!("--http needs --key (a project's ingest key)"),
        (None, _) => {
            let project = args.project.ok_or_else(|| anyhow!("--project is required without --http"))?;
            let stores = crate::serve::open_stores(&config)
                .await
                .context("opening the store (is px serve running on this data dir? then use --http)")?;
            let scope = stores
                .meta
                .list_projects(None)
                .await?
                .into_iter()
                .find(|p| p.id.0 == project)
                .map(|p| p.scope())
                .ok_or_else(|| anyhow!("no project {project}"))?;
            let metrics = Arc::new(px_server::metrics::Metrics::default());
            let (writer, _task) =
                px_server::writer::start(Arc::clone(&stores.events), writer_config(&config), metrics).await?;
            let n =
                feed_direct(&crate::serve::pipeline(&config)?, &writer, scope, &mut simulator, args.batch_size).await?;
            // Write the run's person merges into the events now rather than
            // at the next start: queries resolve them either way, but
            // without pending merges they skip the lookup.
            stores.events.maintain().await?;
            n
        }
    };
    if let Some(labels) = simulator.labels() {
        // A friction that changed nothing is most likely outside a run
        // shortened by the flags, or a segment too small for it.
        for f in labels.frictions.iter().filter(|f| f.affected_sessions == 0) {
            tracing::warn!(friction = f.index, kind = f.kind, "scenario friction changed no session in this run");
        }
        if let Some(path) = &args.labels {
            let json = serde_json::to_vec_pretty(&labels)?;
            std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{n} events in {secs:.1} s ({:.0} events/s)", n as f64 / secs);
    Ok(())
}

pub fn writer_config(config: &PxConfig) -> px_server::writer::WriterConfig {
    let s = &config.server;
    px_server::writer::WriterConfig {
        spool_dir: config.spool_dir(),
        max_commit_events: s.max_commit_events,
        max_backlog_events: s.max_backlog_events,
        queue_requests: s.write_queue_requests,
        dedupe_window_secs: s.dedupe_window_secs,
        dedupe_max_ids: s.dedupe_max_ids,
        session_timeout_secs: s.session_timeout_secs,
        session_max_entries: s.session_max_entries,
    }
}

/// Sends a simulation through a running server with the Rust server SDK
/// (`px-client`): batched, gzipped, retried with the same event ids.
async fn feed_http(url: &str, key: &str, simulator: &mut Simulator, batch_size: usize) -> Result<u64> {
    let mut config = px_client::Config::new(url.trim_end_matches('/'), key);
    config.batch_size = batch_size;
    let client = px_client::PxClient::new(config)?;
    while let Some(batch) = simulator.next_batch(batch_size) {
        for event in batch {
            let wire: px_core::WireEvent = serde_json::from_value(event)?;
            client.capture(px_client::Event::from_wire(wire).map_err(|e| anyhow!("simulated event: {e}"))?);
        }
        // Keep the queue short: the simulator is far faster than any server.
        client.flush().await;
    }
    client.shutdown().await;
    let stats = client.stats();
    if stats.failed + stats.dropped + stats.rejected > 0 {
        bail!(
            "{} events failed, {} were dropped, {} were refused (see the log)",
            stats.failed,
            stats.dropped,
            stats.rejected
        );
    }
    Ok(stats.acknowledged + stats.duplicates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }

    fn args(flags: &[&str]) -> SimulateArgs {
        Cli::parse_from(std::iter::once("simulate").chain(flags.iter().copied())).args
    }

    const MARCH_3: i64 = 1_740_960_000_000_000;
    const MAY_5: i64 = 1_746_403_200_000_000;

    #[test]
    fn flags_win_over_the_scenario_run_which_wins_over_defaults() {
        let scenario = Scenario::from_toml(
            "name = \"s\"\n[run]\ndays = 21\nvisitors_per_day = 800\nseed = 7\nstart = \"2025-03-03\"",
        )
        .unwrap();
        let c = sim_config(&args(&[]), Some(&scenario)).unwrap();
        assert_eq!((c.days, c.visitors_per_day, c.seed, c.start_micros), (21, 800, 7, MARCH_3));
        let c = sim_config(&args(&["--days", "10", "--seed", "3", "--start", "2025-05-05"]), Some(&scenario)).unwrap();
        assert_eq!((c.days, c.visitors_per_day, c.seed, c.start_micros), (10, 800, 3, MAY_5));
        // A scenario without [run]: its defaults, and a start the caller picks.
        let bare = Scenario::from_toml("name = \"s\"").unwrap();
        let c = sim_config(&args(&["--visitors-per-day", "50"]), Some(&bare)).unwrap();
        assert_eq!((c.days, c.visitors_per_day, c.seed), (14, 50, 42));
        assert_eq!(c.start_micros % MICROS_PER_DAY, 0);
        let c = sim_config(&args(&[]), None).unwrap();
        assert_eq!((c.days, c.visitors_per_day, c.seed), (14, 1500, 42));
    }
}
