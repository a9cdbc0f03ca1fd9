//! `px ai run`: one engine pass over a project, straight on the data dir
//! (while `px serve` runs, use `POST /api/v1/projects/{p}/insights/run`
//! instead: the event store is open there).

use crate::config::PxConfig;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use px_ai::analyze::Settings;
use px_ai::engine::{self, Pass};
use px_core::{ProjectId, ProjectScope};

#[derive(Subcommand)]
pub enum AiCommand {
    /// Run a pass now and print its insights.
    Run(RunArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PassArg {
    /// Daily buckets over the last 28 days.
    Full,
    /// Hourly buckets over the last 3 days.
    Recent,
}

#[derive(Args)]
pub struct RunArgs {
    /// Project id (default: every project).
    #[arg(long)]
    project: Option<i64>,
    #[arg(long, value_enum, default_value = "full")]
    pass: PassArg,
    /// Analyse as of this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// Print what would be stored without storing it.
    #[arg(long)]
    dry_run: bool,
    /// Print the whole analysis as JSON.
    #[arg(long)]
    json: bool,
    /// Instead of running the pass, show for every signal whose measure or
    /// subject contains this text (`rage`, `/checkout`, `signup`) each
    /// slice's best split: why it was reported or not.
    #[arg(long, value_name = "TEXT")]
    explain: Option<String>,
}

pub async fn run(config: PxConfig, cmd: AiCommand) -> Result<()> {
    let AiCommand::Run(args) = cmd;
    let stores = crate::serve::open_stores(&config)
        .await
        .context("opening the data dir (if `px serve` runs on it, POST /api/v1/projects/{p}/insights/run instead)")?;
    let now = match &args.at {
        Some(t) => px_core::time::parse_rfc3339(t).with_context(|| format!("--at {t:?} is not RFC 3339"))?,
        None => px_core::time::now_micros(),
    };
    let pass = match args.pass {
        PassArg::Full => Pass::FULL,
        PassArg::Recent => Pass::RECENT,
    };
    let llm = crate::serve::llm(&config)?;
    let projects = stores.meta.list_projects(None).await?;
    let chosen: Vec<ProjectScope> = match args.project {
        Some(id) => match projects.iter().find(|p| p.id == ProjectId(id)) {
            Some(p) => vec![p.scope()],
            None => bail!("--project {id}: no such project"),
        },
        None => projects.iter().map(|p| p.scope()).collect(),
    };
    for scope in chosen {
        if let Some(filter) = &args.explain {
            let explained =
                engine::explain(stores.events.as_ref(), scope, now, pass, Settings::default(), filter).await?;
            print_explained(scope, &explained, args.json)?;
            continue;
        }
        let analysis =
            engine::analyze(stores.events.as_ref(), scope, now, pass, Settings::default(), llm.as_ref()).await?;
        if !args.dry_run {
            engine::store(stores.meta.as_ref(), scope, now, &analysis.drafts).await?;
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&analysis)?);
            continue;
        }
        let asking = if llm.is_some() { format!(", {} ms asking the llm", analysis.llm_ms) } else { String::new() };
        println!(
            "project {}: {} sessions, {} signals, {} findings, {} insights ({} ms reading, {} ms analysing{asking})",
            scope.project_id.0,
            analysis.sessions,
            analysis.signals,
            analysis.findings,
            analysis.drafts.len(),
            analysis.extract_ms,
            analysis.analyze_ms
        );
        for d in &analysis.drafts {
            let money = d.impact.money_per_month.map(|m| format!(", ${m:.0}/month")).unwrap_or_default();
            println!("  [{}] {} {}: {}{money}", d.priority, d.insight_type, d.kind, d.title);
            if llm.is_some() {
                print_recommendation(&d.recommendation);
            }
        }
    }
    Ok(())
}

/// The recommendation's headline and where it came from, under its insight.
fn print_recommendation(r: &serde_json::Value) {
    let headline = r["headline"].as_str().unwrap_or_default();
    match (r["source"].as_str(), r["llm_error"].as_str()) {
        (Some("llm"), _) => println!("      llm: {headline}"),
        (_, Some(error)) => println!("      rules: {headline} (llm: {error})"),
        _ => println!("      rules: {headline}"),
    }
}

/// Prints `px ai run --explain`: per signal, the strongest slices.
fn print_explained(scope: ProjectScope, explained: &[engine::Explained], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(explained)?);
        return Ok(());
    }
    println!("project {}: {} signals match", scope.project_id.0, explained.len());
    for e in explained {
        println!("{:?} {} ({} slices tested)", e.measure, serde_json::to_string(&e.subject)?, e.slices_tested);
        for (slice, c) in e.slices.iter().take(8) {
            println!(
                "  {slice:<28} from bucket {:>2}: {:.4} -> {:.4} ({:.0} -> {:.0} units), ratio {:.2}, z {:.2}, p x splits {:.1e}, x slices {:.1e}",
                c.split,
                c.before.value,
                c.after.value,
                c.before.units,
                c.after.units,
                c.ratio,
                c.z,
                c.p,
                (c.p * e.slices_tested as f64).min(1.0)
            );
        }
    }
    Ok(())
}
