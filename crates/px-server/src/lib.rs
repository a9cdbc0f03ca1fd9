//! The HTTP server: routes, authentication, rate limits, metrics and the
//! writer that feeds the event store. The binary builds the stores, the
//! pipeline and the optional LLM from config and hands them to [`start`].

pub mod ai;
pub mod auth;
pub mod config;
pub mod error;
pub mod intake;
pub mod metrics;
pub mod ratelimit;
pub mod routes;
pub mod writer;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use config::ServerConfig;
use metrics::Metrics;
use px_ingest::Pipeline;
use px_ingest::compat::{posthog, segment};
use px_store::{EventStore, MetaStore, StoreError};
use routes::ingest::Shape;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use writer::{WriterConfig, WriterHandle};

/// Everything a handler may use. Built once at start.
pub struct AppState {
    pub pipeline: Arc<Pipeline>,
    pub auth: auth::Authenticator,
    pub limiter: ratelimit::RateLimiter,
    pub writer: WriterHandle,
    pub store: Arc<dyn EventStore>,
    pub meta: Arc<dyn MetaStore>,
    pub metrics: Arc<Metrics>,
    pub ready: AtomicBool,
    pub trust_forwarded_for: bool,
    pub login_session_hours: i64,
    /// Login attempts per client address and per account.
    pub login_throttle: ratelimit::Throttle,
    /// Memory budget of in-flight ingest requests, in KiB permits.
    pub ingest_budget: tokio::sync::Semaphore,
    pub ingest_budget_kib: u32,
    /// New insights, announced to `GET .../insights/stream` listeners.
    pub insights: tokio::sync::broadcast::Sender<routes::insights::Announcement>,
    /// Refines the engine's recommendations when `[ai.llm]` is set; one
    /// for every pass, scheduled or on demand, so they share its cache and
    /// circuit breaker.
    pub llm: Option<px_ai::llm::Llm>,
}

impl AppState {
    /// Waits until every event acknowledged before the call is in the
    /// store, so the read that follows sees it: a client reading back what
    /// it just sent finds it. Acknowledged events reach the store within a
    /// drain (one commit under light load). If the store is failing, the
    /// read goes ahead after 10 s on what it holds: a broken write path
    /// must not also stop reads.
    pub async fn read_your_writes(&self) {
        if !self.writer.visible(Duration::from_secs(10)).await {
            tracing::warn!("a read waited 10 s for acknowledged events to reach the store and went ahead without them");
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    // Ingestion is called from any web page (the public key is meant to be
    // embedded), so it answers CORS preflights from any origin, whatever
    // headers the client library adds; without cookies, so a page cannot
    // act as a logged-in user.
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST, axum::http::Method::OPTIONS])
        .allow_headers(tower_http::cors::AllowHeaders::mirror_request())
        .max_age(std::time::Duration::from_secs(24 * 3600));
    let mut ingest = Router::new()
        .route("/api/v1/events/batch", routes::ingest::route(Shape::Batch))
        .route("/api/v1/events", routes::ingest::route(Shape::Single))
        .route("/api/v1/identify", routes::ingest::route(Shape::Identify))
        .route("/api/v1/alias", routes::ingest::route(Shape::Alias))
        .route("/sdk/px.js", get(routes::sdk::bundle));
    // analytics.js posts to the first letter of each path (`/v1/t`, `/v1/b`).
    for (path, call) in [
        ("/v1/batch", segment::Call::Batch),
        ("/v1/track", segment::Call::Track),
        ("/v1/identify", segment::Call::Identify),
        ("/v1/page", segment::Call::Page),
        ("/v1/screen", segment::Call::Screen),
        ("/v1/group", segment::Call::Group),
        ("/v1/alias", segment::Call::Alias),
    ] {
        ingest = ingest.route(path, routes::segment::route(call)).route(&path[..5], routes::segment::route(call));
    }
    // PostHog clients call these with a trailing slash; some proxies strip it.
    for (path, call) in [
        ("/e", posthog::Call::Capture),
        ("/i/v0/e", posthog::Call::Capture),
        ("/batch", posthog::Call::Capture),
        ("/capture", posthog::Call::Capture),
        ("/track", posthog::Call::Capture),
        ("/engage", posthog::Call::Engage),
    ] {
        ingest =
            ingest.route(path, routes::posthog::route(call)).route(&format!("{path}/"), routes::posthog::route(call));
    }
    for path in ["/decide", "/decide/", "/flags", "/flags/"] {
        ingest = ingest.route(path, post(routes::posthog::flags));
    }
    let ingest = ingest.layer(cors);
    Router::new()
        .route("/health", get(routes::health::health))
        .route("/ready", get(routes::health::ready))
        .route("/metrics", get(routes::health::metrics))
        .route("/api/v1/auth/login", post(routes::auth::login))
        .route("/api/v1/projects/{project}/events", get(routes::events::list))
        .route("/api/v1/projects/{project}/persons/{distinct_id}", get(routes::events::person))
        .route("/api/v1/projects/{project}/query", post(routes::query::run))
        .route("/api/v1/projects/{project}/insights", get(routes::insights::list))
        .route("/api/v1/projects/{project}/insights/stream", get(routes::insights::stream))
        .route("/api/v1/projects/{project}/insights/run", post(routes::insights::run))
        .route("/api/v1/projects/{project}/insights/{id}", get(routes::insights::get).patch(routes::insights::patch))
        .merge(ingest)
        // Ingest bodies are capped by our own reader (JSON 413s); this limit
        // only guards the small JSON bodies of other routes.
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts the writer (recovering what its spool in `spool_dir` holds),
/// binds the listener and serves until `shutdown` resolves; then stops
/// accepting connections and lets in-flight requests finish (their events
/// are spooled and acknowledged) before the server task ends.
pub async fn start(
    config: &ServerConfig,
    pipeline: Pipeline,
    store: Arc<dyn EventStore>,
    meta: Arc<dyn MetaStore>,
    llm: Option<px_ai::llm::Llm>,
    spool_dir: std::path::PathBuf,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    if let problems @ [_, ..] = config.problems(pipeline.limits.max_events_per_batch).as_slice() {
        return Err(StartError::Config(problems.join("; ")));
    }
    let metrics = Arc::new(Metrics::default());
    let budget_kib = u32::try_from(config.ingest_memory_mib.saturating_mul(1024)).unwrap_or(u32::MAX);
    let (writer, writer_task) = writer::start(
        Arc::clone(&store),
        WriterConfig {
            spool_dir,
            max_commit_events: config.max_commit_events,
            max_backlog_events: config.max_backlog_events,
            queue_requests: config.write_queue_requests,
            dedupe_window_secs: config.dedupe_window_secs,
            dedupe_max_ids: config.dedupe_max_ids,
            session_timeout_secs: config.session_timeout_secs,
            session_max_entries: config.session_max_entries,
        },
        Arc::clone(&metrics),
    )
    .await?;
    let state = Arc::new(AppState {
        pipeline: Arc::new(pipeline),
        auth: auth::Authenticator::new(Arc::clone(&meta), Duration::from_secs(config.key_cache_secs)),
        limiter: ratelimit::RateLimiter::new(config.rate_limits.clone()),
        writer,
        store,
        meta,
        metrics,
        ready: AtomicBool::new(false),
        trust_forwarded_for: config.trust_forwarded_for,
        login_session_hours: config.login_session_hours,
        // 10 attempts at once, then one every 6 s: a person mistyping never
        // notices; a guesser gets 10 tries a minute.
        login_throttle: ratelimit::Throttle::new(config.login_attempts_per_minute, 10),
        ingest_budget: tokio::sync::Semaphore::new(budget_kib as usize),
        ingest_budget_kib: budget_kib,
        insights: tokio::sync::broadcast::channel(256).0,
        llm,
    });
    let listener = tokio::net::TcpListener::bind((config.bind, config.port))
        .await
        .map_err(|e| StartError::Bind(format!("{}:{}: {e}", config.bind, config.port)))?;
    let addr = listener.local_addr().map_err(|e| StartError::Bind(e.to_string()))?;
    let app = router(Arc::clone(&state)).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(shutdown).await });
    state.ready.store(true, std::sync::atomic::Ordering::Relaxed);
    // If the writer ever stops (a panic), stop claiming readiness: load
    // balancers then route around this instance instead of feeding it
    // requests that can only fail.
    let watched = Arc::clone(&state);
    tokio::spawn(async move {
        let outcome = writer_task.await;
        watched.ready.store(false, std::sync::atomic::Ordering::Relaxed);
        tracing::error!(?outcome, "the writer stopped; /ready now answers 503");
    });
    tracing::info!(%addr, "accepting events");
    Ok(Running { addr, state, server })
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen on {0}")]
    Bind(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
