//! `px`: the one binary. `serve` runs PX, `admin` manages tenants, projects,
//! keys and users, `simulate` generates product traffic, `bench` measures.

mod admin;
mod ai;
mod bench;
mod bench_ai;
mod bench_query;
mod bench_stages;
mod bootstrap;
mod config;
mod serve;
mod simulate;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "px", version, about = "PX: product experience intelligence")]
struct Cli {
    /// Config file (default: ./px.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (overrides config and PX_DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server with the embedded store.
    Serve(serve::ServeArgs),
    /// Manage tenants, projects, keys and users.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Generate realistic product traffic into a project.
    Simulate(simulate::SimulateArgs),
    /// Run the AI engine: `px ai run`.
    #[command(subcommand)]
    Ai(ai::AiCommand),
    /// Measure PX: `px bench ingest`, `px bench query`, `px bench ai`.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let mut config = config::load(cli.config.as_deref(), &env).map_err(|problems| {
        anyhow::anyhow!("configuration has {} problem(s):\n  {}", problems.len(), problems.join("\n  "))
    })?;
    if let Some(d) = cli.data_dir {
        config.data_dir = d;
    }
    init_logs(&config.log);
    if let Err(e) = px_core::memory::start_trimmer() {
        tracing::warn!(error = %e, "cannot start the memory trimmer: freed memory stays with px");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(config, args).await,
            Command::Admin(cmd) => admin::run(config, cmd).await,
            Command::Simulate(args) => simulate::run(config, args).await,
            Command::Bench(cmd) => bench::run(config, cmd).await,
            Command::Ai(cmd) => ai::run(config, cmd).await,
        }
    })
}

/// glibc's `malloc_trim`, as DuckDB (linked into this binary) calls it:
/// deferred until no query runs, see [`px_core::memory::TRIM_AFTER_IDLE`].
/// The linker binds calls within the binary to this definition before the
/// C library's.
#[unsafe(no_mangle)]
pub extern "C" fn malloc_trim(_pad: usize) -> std::ffi::c_int {
    px_core::memory::defer_trim();
    0
}

fn init_logs(log: &config::LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match log.format {
        config::LogFormat::Json => builder.json().init(),
        config::LogFormat::Text => builder.init(),
    }
}
