//! The run a scenario is meant for: how long, how busy, which seed and
//! (optionally) which dates. A scenario's frictions are written against it
//! ("day 11" of a 14-day run), so the file carries it and the benchmark and
//! `px simulate` use it unless told otherwise.

use crate::SimConfig;

/// A scenario's `[run]` table with the defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSettings {
    /// 7 to 90; default 14.
    pub days: u32,
    /// Average new visitors per day; default 500.
    pub visitors_per_day: u32,
    /// Default 42.
    pub seed: u64,
    /// First day, UTC midnight in microseconds since the epoch; `None` when
    /// the file does not say (the caller picks, e.g. `days` before today).
    pub start: Option<i64>,
}

impl RunSettings {
    pub const DEFAULT_DAYS: u32 = 14;
    pub const DEFAULT_VISITORS_PER_DAY: u32 = 500;
    pub const DEFAULT_SEED: u64 = 42;
    /// Shortest and longest run a scenario may ask for: a week holds one
    /// weekly cycle, 90 days is what a scoring run can afford.
    pub const DAYS: std::ops::RangeInclusive<u32> = 7..=90;
    /// Bounds on `visitors_per_day`, to catch a typo rather than to limit.
    pub const VISITORS_PER_DAY: std::ops::RangeInclusive<u32> = 10..=200_000;

    /// The simulator config of this run, starting at `default_start` (UTC
    /// midnight, microseconds) when the file names no start.
    pub fn config(&self, default_start: i64) -> SimConfig {
        SimConfig::new(self.seed, self.start.unwrap_or(default_start), self.days, self.visitors_per_day)
    }
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            days: Self::DEFAULT_DAYS,
            visitors_per_day: Self::DEFAULT_VISITORS_PER_DAY,
            seed: Self::DEFAULT_SEED,
            start: None,
        }
    }
}
