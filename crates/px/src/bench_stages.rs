//! `px bench stages`: the CPU each stage of the ingest path costs per
//! event, on one thread, for the same batches `px bench ingest` sends. The
//! gateway's throughput on two cores is bounded by the sum of these, so this
//! says where a change pays before a 60 s load run confirms it.
//!
//! Each stage runs over every batch `rounds` times; the figure is the median
//! round's nanoseconds per event, and each stage's share of their sum.

use crate::bench::{Shape, Template, patch_ids, templates};
use anyhow::{Result, anyhow};
use clap::Args;
use px_core::time::now_micros;
use px_core::{ProjectId, ProjectScope, ProjectSettings, TenantId};
use px_ingest::decode::parse_batch;
use px_ingest::enrich::RequestInfo;
use px_ingest::validate::validate;
use px_store::ScopedEvent;
use px_store::spool::Encoded;
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

#[derive(Args, Clone)]
pub struct StagesArgs {
    /// Batches of 100 events per round.
    #[arg(long, default_value_t = 300)]
    batches: usize,
    /// Rounds per stage; the median round is reported.
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    #[arg(long, value_enum, default_value_t = Shape::Compact)]
    shape: Shape,
}

pub async fn run(args: StagesArgs) -> Result<()> {
    let templates = templates(args.batches, 100, args.shape)?;
    let counter = AtomicU64::new(0);
    let bodies: Vec<Vec<u8>> = templates.iter().map(|t: &Template| patch_ids(t, &counter)).collect();
    let pipeline = crate::serve::pipeline(&crate::config::PxConfig::default())?;
    let scope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };
    let settings = ProjectSettings::default();
    let req = RequestInfo { ip: Some([203, 0, 113, 7].into()), user_agent: None };
    let events_per_round: usize = bodies.len() * 100;
    let batches = || -> Result<Vec<Vec<ScopedEvent>>> {
        bodies
            .iter()
            .map(|b| {
                let raw = parse_batch(b, &pipeline.limits).map_err(|e| anyhow!("{e}"))?;
                let p = pipeline.process(scope.project_id, &settings, &raw, &req, now_micros());
                Ok(p.events.into_iter().map(|event| ScopedEvent { scope, event }).collect())
            })
            .collect()
    };

    let mut stages: Vec<(&str, f64)> = Vec::new();
    stages.push((
        "parse_batch",
        median_ns(args.rounds, events_per_round, || {
            for b in &bodies {
                black_box(parse_batch(b, &pipeline.limits).map(|r| r.events.len()).ok());
            }
        }),
    ));
    let raws: Vec<_> = bodies.iter().map(|b| parse_batch(b, &pipeline.limits)).collect::<Result<_, _>>()?;
    stages.push((
        "validate",
        median_ns(args.rounds, events_per_round, || {
            for r in &raws {
                for e in &r.events {
                    black_box(validate(e, &pipeline.limits).ok());
                }
            }
        }),
    ));
    stages.push((
        "pipeline (validate, enrich, mask)",
        median_ns(args.rounds, events_per_round, || {
            for r in &raws {
                black_box(pipeline.process(scope.project_id, &settings, r, &req, now_micros()));
            }
        }),
    ));
    let events = batches()?;
    stages.push((
        "spool encode",
        median_ns(args.rounds, events_per_round, || {
            for b in &events {
                black_box(Encoded::new(b).map(|e| e.len()).ok());
            }
        }),
    ));
    let all: Vec<ScopedEvent> = events.iter().flatten().cloned().collect();
    stages.push((
        "arrow conversion",
        median_ns(args.rounds, events_per_round, || {
            black_box(px_store::duckdb::arrow::to_record_batch(&all, None).map(|b| b.num_rows()).ok());
        }),
    ));
    let mut drops = Vec::new();
    for _ in 0..args.rounds {
        let owned = batches()?;
        let started = Instant::now();
        drop(black_box(owned));
        drops.push(started.elapsed().as_nanos() as f64 / events_per_round as f64);
    }
    stages.push(("free events", median(drops)));

    // `pipeline` contains `validate`: the sum counts it once.
    let total: f64 = stages.iter().filter(|(name, _)| *name != "validate").map(|(_, ns)| ns).sum();
    println!("| stage | ns/event (median of {}) | share |\n|---|---|---|", args.rounds);
    let mut report = serde_json::Map::new();
    for (name, ns) in &stages {
        println!("| {name} | {ns:.0} | {:.0}% |", ns / total * 100.0);
        report.insert((*name).into(), json!(ns.round()));
    }
    println!("| total (pipeline includes validate) | {total:.0} | |");
    report.insert("total".into(), json!(total.round()));
    println!("{}", Value::Object(report));
    Ok(())
}

fn median_ns(rounds: usize, events: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..rounds)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed().as_nanos() as f64 / events as f64
            })
            .collect(),
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
