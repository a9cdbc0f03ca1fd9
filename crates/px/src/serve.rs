//! `px serve`: open the embedded stores, bootstrap on first start, optionally
//! load the demo project, and serve until SIGINT/SIGTERM.

use crate::bootstrap;
use crate::config::PxConfig;
use anyhow::{Context, Result};
use clap::Args;
use px_ai::llm::Llm;
use px_ingest::Pipeline;
use px_ingest::enrich::Enricher;
use px_ingest::enrich::geo::GeoIp;
use px_store::{DuckDbEventStore, EventStore, MetaStore, SqliteMetaStore};
use std::sync::Arc;

#[derive(Args)]
pub struct ServeArgs {
    /// Port to listen on (overrides config and PX_PORT; 0 picks a free one).
    #[arg(long)]
    port: Option<u16>,
    /// Address to bind (overrides config and PX_BIND).
    #[arg(long)]
    bind: Option<std::net::IpAddr>,
    /// Also create a "Demo" project filled with 14 days of generated traffic.
    #[arg(long)]
    demo: bool,
    /// Visitors per day in the demo project.
    #[arg(long, default_value_t = 1500)]
    demo_visitors_per_day: u32,
}

/// The stores of a data dir, opened.
pub struct Stores {
    pub events: Arc<dyn EventStore>,
    pub meta: Arc<dyn MetaStore>,
}

pub async fn open_meta(config: &PxConfig) -> Result<Arc<dyn MetaStore>> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    Ok(Arc::new(SqliteMetaStore::open(&config.meta_db()).await?))
}

pub async fn open_stores(config: &PxConfig) -> Result<Stores> {
    let meta = open_meta(config).await?;
    let path = config.events_db();
    let limit = config.store.memory_limit().map(str::to_string);
    let events = tokio::task::spawn_blocking(move || DuckDbEventStore::open(&path, limit.as_deref())).await??;
    let events = events.with_query_timeout(std::time::Duration::from_secs(config.store.query_timeout_secs));
    // Events a crashed server acknowledged but had not stored yet: every
    // command that reads the store must see them.
    let dir = config.spool_dir();
    px_store::spool::recover(&dir, &events, px_store::spool::Until::End, config.server.max_commit_events)
        .await
        .with_context(|| format!("storing the events spooled in {}", dir.display()))?;
    Ok(Stores { events: Arc::new(events), meta })
}

pub fn pipeline(config: &PxConfig) -> Result<Pipeline> {
    let geo = match &config.ingest.geoip_db {
        Some(p) => Some(GeoIp::open(p).with_context(|| format!("ingest.geoip_db {}", p.display()))?),
        None => None,
    };
    Ok(Pipeline::new(config.ingest.limits.clone(), Enricher::new(geo)))
}

/// The LLM that refines the engine's recommendations, when `[ai.llm]` is set.
pub fn llm(config: &PxConfig) -> Result<Option<Llm>> {
    let llm = Llm::new(&config.ai.llm).context("ai.llm")?;
    if let Some(l) = &llm {
        tracing::info!(endpoint = l.endpoint(), model = l.model(), "recommendations are refined by an llm");
    }
    Ok(llm)
}

pub async fn run(mut config: PxConfig, args: ServeArgs) -> Result<()> {
    if let Some(p) = args.port {
        config.server.port = p;
    }
    if let Some(b) = args.bind {
        config.server.bind = b;
    }
    let stores = open_stores(&config).await?;
    let boot = bootstrap::ensure(&config, stores.meta.as_ref()).await?;
    let running = px_server::start(
        &config.server,
        pipeline(&config)?,
        Arc::clone(&stores.events),
        Arc::clone(&stores.meta),
        llm(&config)?,
        config.spool_dir(),
        shutdown_signal(),
    )
    .await?;
    let base = format!("http://{}", running.addr);
    // Tests and scripts read this line to find the port.
    println!("listening on {base}");
    print_banner(&config, &base, &boot);

    if config.ai.enabled {
        px_server::ai::spawn(
            Arc::clone(&running.state),
            px_server::ai::Schedule {
                recent_every: std::time::Duration::from_secs(config.ai.recent_interval_secs),
                full_every: std::time::Duration::from_secs(config.ai.full_interval_secs),
            },
        );
    }

    if args.demo {
        let state = Arc::clone(&running.state);
        let visitors = args.demo_visitors_per_day;
        let data_dir = config.data_dir.clone();
        let base = base.clone();
        tokio::spawn(async move {
            match crate::simulate::load_demo(&state, &data_dir, visitors).await {
                Ok(Some((keys, n))) => {
                    println!("demo project ready: {n} events; read them with");
                    println!(
                        "  curl -H 'Authorization: Bearer {}' {base}/api/v1/projects/{}/events",
                        keys.secret_key, keys.project_id
                    );
                }
                Ok(None) => println!("demo project already loaded"),
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "loading the demo project failed")
                }
            }
        });
    }

    running.server.await??;
    // What stays spooled is stored at the next start; storing it now
    // leaves the store complete for other tools (`px ai run`, backups).
    if running.state.writer.visible(std::time::Duration::from_secs(60)).await {
        tracing::info!("stopped: in-flight requests finished, every acknowledged event is in the store");
    } else {
        tracing::warn!("stopped with events still spooled; the next start stores them");
    }
    Ok(())
}

fn print_banner(config: &PxConfig, base: &str, boot: &bootstrap::Bootstrapped) {
    let c = &boot.credentials;
    println!();
    println!("PX is running at {base}  (data in {})", config.data_dir.display());
    if let Some((name, keys)) = c.projects.first() {
        println!("  project:             {name} (id {})", keys.project_id);
        println!("  ingest key (public): {}", keys.ingest_key);
        println!("  secret key:          {}", keys.secret_key);
        println!("  send an event:");
        println!(
            "    curl -X POST {base}/api/v1/events -H 'Authorization: Bearer {}' -d '{{\"event\":\"hello\",\"distinct_id\":\"me\"}}'",
            keys.ingest_key
        );
        println!("  read events:");
        println!(
            "    curl -H 'Authorization: Bearer {}' {base}/api/v1/projects/{}/events",
            keys.secret_key, keys.project_id
        );
    }
    match (&c.admin_password, boot.first_start) {
        (Some(pw), true) => {
            println!("  admin login:         {} / {pw}  (shown once; also in credentials.json)", c.admin_email)
        }
        (None, true) => println!("  admin login:         {} / the password in PX_ADMIN_PASSWORD", c.admin_email),
        _ => println!(
            "  keys and the generated admin password were printed at first start and saved in {}",
            bootstrap::credentials_path(&config.data_dir).display()
        ),
    }
    println!("  health: {base}/health  ready: {base}/ready  metrics: {base}/metrics");
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
}
