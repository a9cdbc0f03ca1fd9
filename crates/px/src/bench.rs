//! `px bench ingest`: gateway throughput and latency over loopback HTTP,
//! against the raw ceiling measured in the same run (the same events
//! appended straight into DuckDB as Arrow record batches, no HTTP, no
//! pipeline). Prints a table and a JSON line.
//!
//! The server runs as a child process (`px serve` on a temp data dir) so its
//! RSS can be read and the load generator's allocations do not count. Batch
//! bodies are generated once; before each send the event ids are patched in
//! place (fixed-width hex counters), so every event is new to the dedupe
//! window and the generator costs almost nothing per request.

use crate::config::PxConfig;
use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use px_core::time::now_micros;
use px_core::{ProjectId, ProjectScope, ProjectSettings, TenantId};
use px_ingest::decode::parse_batch;
use px_ingest::enrich::RequestInfo;
use px_simulate::{SimConfig, Simulator};
use px_store::{DuckDbEventStore, ScopedEvent};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Ingestion throughput and latency against the raw DuckDB ceiling.
    Ingest(IngestArgs),
    /// Analytics query latency against hand-written DuckDB SQL.
    Query(crate::bench_query::QueryArgs),
    /// AI engine accuracy on labelled scenarios, and its run time.
    Ai(crate::bench_ai::AiArgs),
    /// CPU per event of each ingest stage, on one thread.
    Stages(crate::bench_stages::StagesArgs),
}

#[derive(Args, Clone)]
pub struct IngestArgs {
    /// Seconds of sustained load in the throughput phase.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Events appended in the raw-ceiling phase.
    #[arg(long, default_value_t = 2_000_000)]
    raw_events: usize,
    /// Rows per transaction in the raw-ceiling phase: by default the
    /// store's bulk transaction, its fastest path (`BULK_EVENTS`).
    #[arg(long, default_value_t = px_store::duckdb::BULK_EVENTS)]
    raw_chunk: usize,
    /// Seconds of the half-load latency phase.
    #[arg(long, default_value_t = 20)]
    latency_duration: u64,
    #[arg(long, value_enum, default_value_t = Shape::Compact)]
    shape: Shape,
}

/// What each generated event carries.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The ingestion target's workload (~400-460 bytes an event): name,
    /// ids, timestamp, the simulator's varied properties, and the page URL,
    /// referrer and library, as a server SDK or a relay sends them.
    Compact,
    /// Everything a browser SDK sends (~770 bytes): also the User-Agent,
    /// title, path, locale, time zone, screen and geography of each event.
    Web,
}

impl Shape {
    /// Trims a simulated (web) event to this shape.
    fn apply(self, e: &mut Value) {
        if self == Shape::Web {
            return;
        }
        let Some(ctx) = e.get_mut("context").and_then(Value::as_object_mut) else { return };
        ctx.retain(|k, _| k == "page" || k == "library");
        if let Some(page) = ctx.get_mut("page").and_then(Value::as_object_mut) {
            page.retain(|k, _| k == "url" || k == "referrer");
        }
    }
}

pub async fn run(_config: PxConfig, cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Ingest(args) => ingest(args).await,
        BenchCommand::Query(args) => crate::bench_query::run(args).await,
        BenchCommand::Ai(args) => crate::bench_ai::run(args).await,
        BenchCommand::Stages(args) => crate::bench_stages::run(args).await,
    }
}

/// A batch body with the byte offsets of its event ids' last 12 hex digits.
pub(crate) struct Template {
    body: Vec<u8>,
    id_offsets: Vec<usize>,
}

const ID_PREFIX: &str = "00000000-0000-4000-8000-";

pub(crate) fn templates(n_batches: usize, batch: usize, shape: Shape) -> Result<Vec<Template>> {
    // Only the events' shape matters here, not who comes back: no warm-up.
    let sim = |seed| SimConfig { warmup_days: 0, ..SimConfig::new(seed, crate::simulate::default_start(1), 1, 20_000) };
    let mut seed = 1;
    let mut simulator = Simulator::new(sim(seed));
    let mut out = Vec::with_capacity(n_batches);
    while out.len() < n_batches {
        let Some(mut events) = simulator.next_batch(batch) else {
            seed += 1;
            simulator = Simulator::new(sim(seed));
            continue;
        };
        if events.len() < batch {
            continue;
        }
        for e in &mut events {
            shape.apply(e);
            e["event_id"] = Value::String(format!("{ID_PREFIX}{:012x}", 0));
        }
        let body = serde_json::to_vec(&json!({ "events": events }))?;
        let needle = ID_PREFIX.as_bytes();
        let id_offsets = body
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| i + needle.len())
            .collect();
        out.push(Template { body, id_offsets });
    }
    Ok(out)
}

pub(crate) fn patch_ids(t: &Template, counter: &AtomicU64) -> Vec<u8> {
    let mut body = t.body.clone();
    for off in &t.id_offsets {
        let id = counter.fetch_add(1, Relaxed);
        let hex = format!("{id:012x}");
        body[*off..*off + 12].copy_from_slice(hex.as_bytes());
    }
    body
}

/// The server's `/metrics` text.
async fn scrape(server: &Child) -> Result<String> {
    Ok(reqwest::get(format!("{}/metrics", server.base)).await?.text().await?)
}

/// The value of the unlabelled metric `name` in `/metrics` text.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// The server's cumulative ack latency histogram: `(le, count)` in order.
fn latency_buckets(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("px_batch_latency_seconds_bucket{le=\"")?;
            let (le, count) = rest.split_once("\"} ")?;
            Some((le.to_string(), count.trim().parse().ok()?))
        })
        .collect()
}

/// Waits until the server holds no acknowledged event outside the store
/// (`px_spool_backlog_events` is 0), at most a minute; answers the seconds waited.
async fn drain(server: &Child) -> Result<f64> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if metric(&scrape(server).await?, "px_spool_backlog_events") == Some(0.0) {
            return Ok(started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(anyhow!("the server still had acknowledged events outside the store after 60 s"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Appends the template events straight into a fresh DuckDB store.
async fn raw_ceiling(templates: &[Template], total: usize, chunk_rows: usize) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let store = DuckDbEventStore::open(&dir.path().join("raw.duckdb"), None)?;
    let pipeline = crate::serve::pipeline(&PxConfig::default())?;
    let scope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };
    let counter = AtomicU64::new(0);
    let mut chunks: Vec<Vec<ScopedEvent>> = Vec::new();
    let mut chunk = Vec::new();
    let mut made = 0;
    'outer: loop {
        for t in templates {
            let body = patch_ids(t, &counter);
            let raw = parse_batch(&body, &pipeline.limits).map_err(|e| anyhow!("{e}"))?;
            let p = pipeline.process(
                scope.project_id,
                &ProjectSettings::default(),
                &raw,
                &RequestInfo::default(),
                now_micros(),
            );
            for mut event in p.events {
                event.session_id.get_or_insert_with(|| "s".into());
                chunk.push(ScopedEvent { scope, event });
            }
            if chunk.len() >= chunk_rows {
                made += chunk.len();
                chunks.push(std::mem::take(&mut chunk));
                if made >= total {
                    break 'outer;
                }
            }
        }
    }
    let started = Instant::now();
    for c in &chunks {
        store.append_events_only(c)?;
    }
    Ok(made as f64 / started.elapsed().as_secs_f64())
}

struct Child {
    child: std::process::Child,
    base: String,
    ingest_key: String,
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data_dir: &std::path::Path) -> Result<Child> {
    let exe = std::env::current_exe()?;
    let out = Command::new(&exe)
        .args(["admin", "project", "create", "bench", "--json", "--data-dir"])
        .arg(data_dir)
        .output()?;
    let keys: Value = serde_json::from_slice(&out.stdout).context("px admin project create --json")?;
    let ingest_key = keys["ingest_key"].as_str().ok_or_else(|| anyhow!("no ingest key"))?.to_string();
    let mut child = Command::new(&exe)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(data_dir)
        // The server's own log level, for looking inside a run.
        .env("PX_LOG", std::env::var("PX_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().ok_or_else(|| anyhow!("px serve exited before listening"))??;
        if let Some(b) = line.strip_prefix("listening on ") {
            break b.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok(Child { child, base, ingest_key })
}

fn rss_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU seconds the process has used (user and system), from `/proc`.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).max(1) as f64
}

struct Phase {
    events: u64,
    secs: f64,
    latencies_ms: Vec<f64>,
    errors: u64,
}

/// Sends batches for `duration`; with `rate`, each connection paces itself
/// to its share of `rate` events/s (open loop), else sends back to back.
async fn load(
    server: &Child,
    templates: Arc<Vec<Template>>,
    connections: usize,
    duration: Duration,
    rate: Option<f64>,
    counter: Arc<AtomicU64>,
) -> Phase {
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap_or_default();
    let url = format!("{}/api/v1/events/batch", server.base);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (client, url, key, templates, counter, stop) = (
            client.clone(),
            url.clone(),
            server.ingest_key.clone(),
            Arc::clone(&templates),
            Arc::clone(&counter),
            Arc::clone(&stop),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let (mut events, mut errors) = (0u64, 0u64);
            let mut i = c;
            let per_conn_interval =
                rate.map(|r| Duration::from_secs_f64(templates[0].id_offsets.len() as f64 * connections as f64 / r));
            let mut next = Instant::now();
            while !stop.load(Relaxed) {
                if let Some(iv) = per_conn_interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += iv;
                }
                let t = &templates[i % templates.len()];
                i += connections;
                let body = patch_ids(t, &counter);
                let sent = Instant::now();
                let resp = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(sent.elapsed().as_secs_f64() * 1000.0);
                        events += t.id_offsets.len() as u64;
                    }
                    _ => errors += 1,
                }
            }
            (lat, events, errors)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Relaxed);
    let mut phase = Phase { events: 0, secs: 0.0, latencies_ms: Vec::new(), errors: 0 };
    for t in tasks {
        if let Ok((lat, ev, err)) = t.await {
            phase.latencies_ms.extend(lat);
            phase.events += ev;
            phase.errors += err;
        }
    }
    phase.secs = started.elapsed().as_secs_f64();
    phase.latencies_ms.sort_by(f64::total_cmp);
    phase
}

async fn ingest(args: IngestArgs) -> Result<()> {
    println!("generating batches ...");
    let templates = Arc::new(templates(2_000, args.batch, args.shape)?);
    let avg_bytes =
        templates.iter().map(|t| t.body.len()).sum::<usize>() as f64 / (templates.len() * args.batch) as f64;
    println!("measuring the raw ceiling ({} events appended straight into DuckDB) ...", args.raw_events);
    let raw = raw_ceiling(&templates, args.raw_events, args.raw_chunk).await?;

    let dir = tempfile::tempdir()?;
    let server = start_server(dir.path())?;
    let pid = server.child.id();
    let counter = Arc::new(AtomicU64::new(1 << 40));
    let cpu_before = cpu_secs(pid);
    println!("sustained load: {} connections for {} s ...", args.connections, args.duration);
    let full = load(
        &server,
        Arc::clone(&templates),
        args.connections,
        Duration::from_secs(args.duration),
        None,
        Arc::clone(&counter),
    )
    .await;
    let throughput = full.events as f64 / full.secs;
    // Half load measures the steady state at that rate, not the recovery
    // from overload: first the server stores what full load left waiting.
    let drained = drain(&server).await?;
    // The server's CPU per event of the full load, its backlog stored:
    // what an event costs, whatever else the host is doing (throughput
    // alone varies with it).
    let cpu_us_per_event = (cpu_secs(pid) - cpu_before) * 1e6 / full.events.max(1) as f64;
    println!("backlog of the full load stored in {drained:.1} s");
    println!("half load ({:.0} events/s) for {} s ...", throughput / 2.0, args.latency_duration);
    let before = latency_buckets(&scrape(&server).await?);
    let half = load(
        &server,
        Arc::clone(&templates),
        args.connections,
        Duration::from_secs(args.latency_duration),
        Some(throughput / 2.0),
        counter,
    )
    .await;
    // The server's own receipt-to-ack latency over the half-load phase,
    // as the share of requests within each histogram bound: what the
    // server adds, against what the client measured.
    let after = latency_buckets(&scrape(&server).await?);
    let total = after.last().map_or(0.0, |l| l.1) - before.last().map_or(0.0, |l| l.1);
    let server_half: serde_json::Map<String, Value> = after
        .iter()
        .zip(&before)
        .filter(|((le, _), _)| ["0.005", "0.01", "0.025", "0.05", "0.1"].contains(&le.as_str()))
        .map(|((le, a), (_, b))| (format!("le_{le}s"), json!(((a - b) / total.max(1.0) * 1000.0).round() / 1000.0)))
        .collect();
    let peak_rss = rss_mib(pid, "VmHWM:");
    let metrics = scrape(&server).await?;
    let value = |name: &str| metric(&metrics, name).unwrap_or(0.0);
    // Store writes: the drainer's appends and its commits.
    let writes = value("px_store_write_seconds_count");
    let write_ms = value("px_store_write_seconds_sum") / writes.max(1.0) * 1000.0;
    let spool_writes = value("px_spool_write_seconds_count");
    let spool_write_ms = value("px_spool_write_seconds_sum") / spool_writes.max(1.0) * 1000.0;

    let report = json!({
        "bench": "ingest",
        "event_shape": format!("{:?}", args.shape).to_lowercase(),
        "event_bytes_avg": avg_bytes.round(),
        "batch_events": args.batch,
        "connections": args.connections,
        "raw_ceiling_events_per_s": raw.round(),
        "gateway_events_per_s": throughput.round(),
        "gateway_vs_raw": (throughput / raw * 1000.0).round() / 1000.0,
        "server_cpu_us_per_event": (cpu_us_per_event * 100.0).round() / 100.0,
        "full_load_p50_ms": percentile(&full.latencies_ms, 0.5),
        "full_load_p99_ms": percentile(&full.latencies_ms, 0.99),
        "half_load_events_per_s": (half.events as f64 / half.secs).round(),
        "half_load_p50_ms": percentile(&half.latencies_ms, 0.5),
        "half_load_p99_ms": percentile(&half.latencies_ms, 0.99),
        "half_load_max_ms": half.latencies_ms.last().copied().unwrap_or(0.0),
        "half_load_secs": (half.secs * 10.0).round() / 10.0,
        "errors": full.errors + half.errors,
        "server_peak_rss_mib": peak_rss.round(),
        "store_writes": writes,
        "store_write_avg_ms": (write_ms * 100.0).round() / 100.0,
        "spool_writes": spool_writes,
        "spool_write_avg_ms": (spool_write_ms * 100.0).round() / 100.0,
        "spool_events_per_write_avg": (value("px_store_write_events_total") / spool_writes.max(1.0)).round(),
        "duration_s": args.duration,
        "backlog_drain_s": (drained * 10.0).round() / 10.0,
        "server_half_load_share_within": server_half,
    });
    println!();
    println!("| measure | value |\n|---|---|");
    for (k, v) in report.as_object().into_iter().flatten() {
        println!("| {k} | {v} |");
    }
    println!();
    println!("{report}");
    Ok(())
}
