//! Per-project rate limiting with GCRA (the generic cell rate algorithm):
//! one timestamp per project, no background refill, exact for batches of
//! any size. A batch of n events costs n cells.

use crate::config::{PlanLimit, RateLimitConfig};
use hashbrown::HashMap;
use parking_lot::Mutex;
use px_core::ProjectId;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    config: RateLimitConfig,
    /// Theoretical arrival time per project, as seconds since `epoch`.
    tat: Mutex<HashMap<ProjectId, f64>>,
    epoch: Instant,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self { config, tat: Mutex::new(HashMap::new()), epoch: Instant::now() }
    }

    fn plan(&self, name: &str) -> Option<&PlanLimit> {
        self.config.plans.get(name).or_else(|| self.config.plans.get(&self.config.default_plan))
    }

    /// Admits `n` events for `project` on `plan`, or says how long to wait.
    pub fn check(&self, project: ProjectId, plan: &str, n: usize) -> Result<(), Duration> {
        self.check_at(project, plan, n, self.epoch.elapsed().as_secs_f64())
    }

    fn check_at(&self, project: ProjectId, plan: &str, n: usize, now: f64) -> Result<(), Duration> {
        let Some(limit) = self.plan(plan) else {
            return Ok(());
        };
        let Some(rate) = limit.events_per_second else {
            return Ok(());
        };
        let interval = 1.0 / rate as f64;
        let tolerance = limit.burst as f64 * interval;
        let mut tat = self.tat.lock();
        let current = tat.get(&project).copied().unwrap_or(now).max(now);
        let next = current + n as f64 * interval;
        if next - now > tolerance {
            let wait = (next - tolerance - now).max(0.001);
            return Err(Duration::from_secs_f64(wait));
        }
        tat.insert(project, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn limiter() -> RateLimiter {
        RateLimiter::new(RateLimitConfig {
            default_plan: "free".into(),
            plans: BTreeMap::from([
                ("free".into(), PlanLimit { events_per_second: Some(100), burst: 200 }),
                ("big".into(), PlanLimit { events_per_second: None, burst: 0 }),
            ]),
        })
    }

    #[test]
    fn burst_passes_then_the_rate_applies() {
        let l = limiter();
        let p = ProjectId(1);
        assert!(l.check_at(p, "free", 200, 0.0).is_ok());
        let wait = l.check_at(p, "free", 10, 0.0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        // After 0.1 s, 10 events have drained.
        assert!(l.check_at(p, "free", 10, 0.1).is_ok());
        assert!(l.check_at(p, "free", 1, 0.1).is_err());
    }

    #[test]
    fn projects_are_limited_separately_and_unknown_plans_use_the_default() {
        let l = limiter();
        assert!(l.check_at(ProjectId(1), "nope", 200, 0.0).is_ok());
        assert!(l.check_at(ProjectId(1), "nope", 1, 0.0).is_err());
        assert!(l.check_at(ProjectId(2), "free", 200, 0.0).is_ok());
        assert!(l.check_at(ProjectId(3), "big", 1_000_000, 0.0).is_ok());
    }
}
