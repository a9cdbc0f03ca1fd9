//! The AI engine inside the server: a near-real-time pass over every
//! project every minute (hourly buckets) and a full pass every day (daily
//! buckets), and on demand through `POST .../insights/run`. New insights are
//! announced to the `insights/stream` listeners.

use crate::AppState;
use crate::routes::insights::Announcement;
use px_ai::analyze::Settings;
use px_ai::engine::{self, Analysis, Pass, RunError};
use px_core::ProjectScope;
use std::sync::Arc;
use std::time::Duration;

/// When the engine runs inside `px serve`.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub recent_every: Duration,
    pub full_every: Duration,
}

/// Runs one pass over one project, stores and announces what it found.
pub async fn run_pass(state: &AppState, scope: ProjectScope, pass: Pass, now: i64) -> Result<Analysis, RunError> {
    let (analysis, stored) = engine::run(
        state.store.as_ref(),
        state.meta.as_ref(),
        scope,
        now,
        pass,
        Settings::default(),
        state.llm.as_ref(),
    )
    .await?;
    for (insight, new) in stored {
        if new {
            tracing::info!(project = scope.project_id.0, id = insight.id, kind = %insight.kind, "new insight");
            // Nobody listening is fine.
            let _ = state.insights.send(Announcement { scope, insight });
        }
    }
    Ok(analysis)
}

/// Starts the schedule; it runs until the process ends.
pub fn spawn(state: Arc<AppState>, schedule: Schedule) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(schedule.recent_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_full: Option<tokio::time::Instant> = None;
        loop {
            tick.tick().await;
            let full = last_full.is_none_or(|t| t.elapsed() >= schedule.full_every);
            let passes: &[Pass] = if full { &[Pass::FULL, Pass::RECENT] } else { &[Pass::RECENT] };
            if full {
                last_full = Some(tokio::time::Instant::now());
            }
            let projects = match state.meta.list_projects(None).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "ai schedule: listing projects failed");
                    continue;
                }
            };
            for project in projects {
                for &pass in passes {
                    let now = px_core::time::now_micros();
                    match run_pass(&state, project.scope(), pass, now).await {
                        Ok(a) => {
                            tracing::debug!(project = project.id.0, pass = pass.name, found = a.drafts.len(), "ai pass")
                        }
                        Err(e) => {
                            tracing::warn!(project = project.id.0, pass = pass.name, error = %e, "ai pass failed")
                        }
                    }
                }
            }
        }
    })
}
