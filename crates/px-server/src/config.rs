//! The server's config section: listening, the writer, dedupe, sessions and
//! rate-limit plans. Loaded by the `px` binary as part of `PxConfig`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: IpAddr,
    /// 0 picks a free port (the chosen one is printed and logged).
    pub port: u16,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Most events one spool record and one store append take (larger
    /// groups wait for the next); the store commits in bulk, across appends.
    pub max_commit_events: usize,
    /// Acknowledged events waiting in memory for the store, at most; past
    /// it the writer waits (backpressure). At least `max_commit_events`.
    pub max_backlog_events: usize,
    /// Requests waiting for the writer before callers block (backpressure).
    pub write_queue_requests: usize,
    /// Memory that in-flight ingest requests may hold (bodies, decompressed
    /// JSON, parsed events); further requests wait for room.
    pub ingest_memory_mib: u64,
    pub dedupe_window_secs: u64,
    /// Bound on remembered event ids (~40 bytes each).
    pub dedupe_max_ids: usize,
    pub session_timeout_secs: u64,
    pub session_max_entries: usize,
    /// How long a key lookup is cached (a revoked key stops working after).
    pub key_cache_secs: u64,
    pub login_session_hours: i64,
    /// Login attempts per client address and per account: this many a
    /// minute on average, 10 at once.
    pub login_attempts_per_minute: u32,
    pub rate_limits: RateLimitConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 8000,
            trust_forwarded_for: false,
            max_commit_events: 10_000,
            max_backlog_events: 30_000,
            write_queue_requests: 1024,
            ingest_memory_mib: 512,
            dedupe_window_secs: 3600,
            dedupe_max_ids: 10_000_000,
            session_timeout_secs: 30 * 60,
            session_max_entries: 1_000_000,
            key_cache_secs: 10,
            login_session_hours: 24 * 14,
            login_attempts_per_minute: 10,
            rate_limits: RateLimitConfig::default(),
        }
    }
}

/// Events per second and burst per plan. A tenant's plan names one of
/// these; an unknown plan name falls back to `default_plan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub default_plan: String,
    /// Plans given in config are merged over the built-in ones, key by key,
    /// so setting one value of one plan keeps the rest.
    #[serde(deserialize_with = "merge_plans")]
    pub plans: BTreeMap<String, PlanLimit>,
}

/// A plan as written in config: any field may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanOverride {
    #[serde(default)]
    events_per_second: Option<Option<u64>>,
    burst: Option<u64>,
}

fn merge_plans<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, PlanLimit>, D::Error> {
    let overrides = BTreeMap::<String, PlanOverride>::deserialize(d)?;
    let mut plans = RateLimitConfig::default().plans;
    for (name, o) in overrides {
        let base = plans.get(&name).copied().unwrap_or(PlanLimit { events_per_second: None, burst: 0 });
        plans.insert(
            name,
            PlanLimit {
                // 0 written in config means unlimited (TOML has no null).
                events_per_second: o.events_per_second.map(|v| v.filter(|&n| n > 0)).unwrap_or(base.events_per_second),
                burst: o.burst.unwrap_or(base.burst),
            },
        );
    }
    Ok(plans)
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLimit {
    /// Sustained events per second per project; `None` (0 in config files)
    /// means unlimited.
    pub events_per_second: Option<u64>,
    /// Events a project may send at once above the sustained rate.
    pub burst: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let plan = |eps: Option<u64>, burst| PlanLimit { events_per_second: eps, burst };
        Self {
            default_plan: "self_hosted".into(),
            plans: BTreeMap::from([
                ("free".to_string(), plan(Some(1_000), 20_000)),
                ("pro".to_string(), plan(Some(20_000), 200_000)),
                ("self_hosted".to_string(), plan(None, 0)),
            ]),
        }
    }
}

impl ServerConfig {
    /// Every problem at once, each naming its key.
    pub fn problems(&self, max_events_per_batch: usize) -> Vec<String> {
        let mut p = Vec::new();
        if self.max_commit_events == 0 {
            p.push("server.max_commit_events must be at least 1".into());
        }
        if self.max_backlog_events < self.max_commit_events {
            p.push("server.max_backlog_events must be at least server.max_commit_events".into());
        }
        if self.write_queue_requests == 0 {
            p.push("server.write_queue_requests must be at least 1".into());
        }
        if self.ingest_memory_mib < 128 {
            p.push("server.ingest_memory_mib must be at least 128".into());
        }
        if self.dedupe_window_secs == 0 || self.dedupe_window_secs > 30 * 86_400 {
            p.push("server.dedupe_window_secs must be between 1 and 2592000 (30 days)".into());
        }
        if self.session_timeout_secs == 0 || self.session_timeout_secs > 86_400 {
            p.push("server.session_timeout_secs must be between 1 and 86400".into());
        }
        if self.dedupe_max_ids < 1000 {
            p.push("server.dedupe_max_ids must be at least 1000".into());
        }
        if !self.rate_limits.plans.contains_key(&self.rate_limits.default_plan) {
            p.push(format!(
                "server.rate_limits.default_plan {:?} is not a defined plan",
                self.rate_limits.default_plan
            ));
        }
        for (name, plan) in &self.rate_limits.plans {
            if plan.events_per_second.is_some() && (plan.burst as usize) < max_events_per_batch {
                p.push(format!(
                    "server.rate_limits.plans.{name}.burst ({}) must be at least ingest.max_events_per_batch ({max_events_per_batch})",
                    plan.burst
                ));
            }
        }
        p
    }
}
