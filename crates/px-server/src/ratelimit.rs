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

/// GCRA by text key (a client address, an e-mail), for endpoints worth
/// guessing at, like login. Keys whose budget is full again are forgotten
/// once the table grows, so memory stays bounded by recent activity.
pub struct Throttle {
    interval: f64,
    tolerance: f64,
    tat: Mutex<HashMap<String, f64>>,
    epoch: Instant,
}

/// Keys kept before the idle ones are swept.
const THROTTLE_SWEEP_AT: usize = 10_000;

impl Throttle {
    /// `per_minute` attempts a minute on average, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let interval = 60.0 / f64::from(per_minute.max(1));
        Self {
            interval,
            tolerance: f64::from(burst.max(1)) * interval,
            tat: Mutex::new(HashMap::new()),
            epoch: Instant::now(),
        }
    }

    /// Admits one attempt for `key`, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, self.epoch.elapsed().as_secs_f64())
    }

    fn check_at(&self, key: &str, now: f64) -> Result<(), Duration> {
        let mut tat = self.tat.lock();
        if tat.len() >= THROTTLE_SWEEP_AT {
            tat.retain(|_, t| *t > now);
        }
        let current = tat.get(key).copied().unwrap_or(now).max(now);
        let next = current + self.interval;
        if next - now > self.tolerance {
            return Err(Duration::from_secs_f64((next - self.tolerance - now).max(0.001)));
        }
        tat.insert(key.to_string(), next);
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

    #[test]
    fn throttle_allows_a_burst_then_the_rate_per_key() {
        let t = Throttle::new(6, 3); // one every 10 s, 3 at once
        for _ in 0..3 {
            assert!(t.check_at("1.2.3.4", 0.0).is_ok());
        }
        let wait = t.check_at("1.2.3.4", 0.0).unwrap_err();
        assert!((wait.as_secs_f64() - 10.0).abs() < 1e-6, "{wait:?}");
        assert!(t.check_at("5.6.7.8", 0.0).is_ok(), "keys are independent");
        assert!(t.check_at("1.2.3.4", 10.0).is_ok());
    }
}
