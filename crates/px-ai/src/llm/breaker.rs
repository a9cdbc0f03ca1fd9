//! The circuit breaker in front of the LLM: after [`FAILURES_TO_OPEN`]
//! failures in a row no call is made for [`COOLDOWN`], then one trial call
//! decides whether calls resume. A down or overloaded endpoint then costs a
//! pass nothing: its insights get the rules at once instead of each waiting
//! for a timeout, and the endpoint is not hammered while it recovers.
//!
//! Time is passed in, so the states are tested without waiting.

use super::LlmError;
use std::time::{Duration, Instant};

/// Consecutive failures that stop the calls.
pub const FAILURES_TO_OPEN: u32 = 3;
/// How long calls stay stopped before the trial.
pub const COOLDOWN: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// The cooldown is over and one call is under way to test the endpoint.
    Trial,
}

#[derive(Debug)]
pub struct Breaker {
    state: State,
    failures: u32,
    last_error: String,
}

impl Default for Breaker {
    fn default() -> Self {
        Self { state: State::Closed, failures: 0, last_error: String::new() }
    }
}

impl Breaker {
    /// Why a call would be refused at `now`, without claiming anything:
    /// checked before waiting for a call slot, so a paused LLM costs no wait.
    pub fn paused(&self, now: Instant) -> Option<LlmError> {
        match self.state {
            State::Closed => None,
            State::Open { until } if now >= until => None,
            State::Open { until } => Some(self.refusal(until - now)),
            State::Trial => Some(self.refusal(Duration::ZERO)),
        }
    }

    /// Claims the right to call at `now`: always while closed; once, as
    /// the trial, when the cooldown is over. Every admitted call must end
    /// in [`Breaker::success`], [`Breaker::failure`] or [`Breaker::release`].
    pub fn admit(&mut self, now: Instant) -> Result<(), LlmError> {
        match self.state {
            State::Closed => Ok(()),
            State::Open { until } if now >= until => {
                self.state = State::Trial;
                Ok(())
            }
            _ => Err(self.paused(now).unwrap_or_else(|| self.refusal(Duration::ZERO))),
        }
    }

    pub fn success(&mut self) {
        self.state = State::Closed;
        self.failures = 0;
    }

    /// Ends an admitted call that got no verdict (the pass stopped waiting
    /// for it): a trial is due again at once; the failure count stands.
    pub fn release(&mut self, now: Instant) {
        if self.state == State::Trial {
            self.state = State::Open { until: now };
        }
    }

    /// Counts a failure; true when it stopped the calls (to log it once).
    pub fn failure(&mut self, now: Instant, error: &LlmError) -> bool {
        self.failures += 1;
        self.last_error = error.to_string();
        let open = match self.state {
            State::Trial => true,
            State::Closed => self.failures >= FAILURES_TO_OPEN,
            // A call admitted before the breaker opened: already open.
            State::Open { .. } => false,
        };
        if open {
            self.state = State::Open { until: now + COOLDOWN };
        }
        open
    }

    fn refusal(&self, retry_in: Duration) -> LlmError {
        LlmError::Paused {
            failures: self.failures,
            last: self.last_error.clone(),
            retry_in_secs: retry_in.as_secs_f64().ceil() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(b: &mut Breaker, now: Instant) -> bool {
        b.failure(now, &LlmError::Status(reqwest::StatusCode::BAD_GATEWAY))
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let t = Instant::now();
        let mut b = Breaker::default();
        assert!(!fail(&mut b, t));
        assert!(!fail(&mut b, t));
        b.success();
        assert!(!fail(&mut b, t));
        assert!(!fail(&mut b, t));
        assert!(b.admit(t).is_ok(), "two failures since the last success leave it closed");
        assert!(fail(&mut b, t), "the third in a row opens it");
        let refused = b.admit(t + Duration::from_secs(1)).unwrap_err().to_string();
        assert!(refused.contains("3 failures in a row") && refused.contains("502"), "{refused}");
        assert!(refused.contains("next try in 299 s"), "{refused}");
    }

    #[test]
    fn after_the_cooldown_one_trial_call_decides() {
        let t = Instant::now();
        let mut b = Breaker::default();
        for _ in 0..FAILURES_TO_OPEN {
            fail(&mut b, t);
        }
        let later = t + COOLDOWN;
        assert!(b.paused(later - Duration::from_millis(1)).is_some());
        assert!(b.paused(later).is_none(), "a trial is due");
        assert!(b.admit(later).is_ok(), "the trial is admitted");
        assert!(b.admit(later).is_err(), "only one trial at a time");
        assert!(b.paused(later).is_some());
        b.release(later);
        assert!(b.admit(later).is_ok(), "a trial without a verdict is due again");
        assert!(fail(&mut b, later), "a failed trial opens it again");
        assert!(b.admit(later + COOLDOWN - Duration::from_secs(1)).is_err(), "for a whole cooldown");
        assert!(b.admit(later + COOLDOWN).is_ok());
        b.success();
        assert!(b.admit(later + COOLDOWN).is_ok() && b.admit(later + COOLDOWN).is_ok(), "closed: calls flow");
    }
}
