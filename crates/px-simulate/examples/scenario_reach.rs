//! Runs scenario files with their own `[run]` settings and prints, per
//! friction, how many sessions and persons it changed: the check that every
//! friction of a shipped scenario is big enough to be found.
//!
//! `cargo run -p px-simulate --example scenario_reach [FILE...]` (default:
//! every file in `crates/px-simulate/scenarios/`).

use px_simulate::{Scenario, Simulator};
use std::path::PathBuf;

/// Monday 2025-05-05, for files that name no start.
const DEFAULT_START: i64 = 1_746_403_200_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        files = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        files.sort();
    }
    println!("| scenario | days × visitors | events | friction | affected sessions | persons |");
    println!("|---|---|---|---|---|---|");
    for path in files {
        let scenario = Scenario::from_toml(&std::fs::read_to_string(&path)?)?;
        let run = scenario.run();
        let mut sim = Simulator::with_scenario(run.config(DEFAULT_START), scenario);
        let mut events = 0usize;
        while let Some(batch) = sim.next_batch(5000) {
            events += batch.len();
        }
        let labels = sim.labels().ok_or("no labels")?;
        let head = format!("| {} | {} × {} | {events} |", labels.scenario, run.days, run.visitors_per_day);
        if labels.frictions.is_empty() {
            println!("{head} — | — | — |");
        }
        for f in &labels.frictions {
            let segment: Vec<String> = f.segment.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let what = format!("{} {}", f.kind, segment.join(","));
            println!("{head} {} | {} | {} |", what.trim(), f.affected_sessions, f.affected_persons);
        }
    }
    Ok(())
}
