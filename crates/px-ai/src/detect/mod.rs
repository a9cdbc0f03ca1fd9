//! Detectors: decide which points, stretches or entities of a metric are
//! unusual, and by how much.
//!
//! Three complementary views, because no single one catches every problem:
//! - [`robust_z`](mod@robust_z): one point against its (seasonal) baseline;
//!   catches spikes and drops on the day they happen.
//! - [`cusum`] and [`change_point`]: a lasting shift of level, including slow
//!   drifts where no single point stands out.
//! - [`iforest`]: entities (sessions, users, pages) whose combination of
//!   features is rare, even when each feature alone looks normal.
//!
//! Detectors are pure functions of numbers: building the series and feature
//! vectors from events, and explaining or ranking findings, belong to the
//! stages around them. Statistics they share live in [`crate::stats`].

pub mod change_point;
pub mod cusum;
pub mod iforest;
pub mod robust_z;

#[cfg(test)]
pub(crate) mod gauss;

pub use change_point::{RateChange, mean_change_point, rate_change_point};
pub use cusum::{ChangePoint, Cusum, Direction};
pub use iforest::IsolationForest;
pub use robust_z::{Baseline, robust_baseline, robust_z, seasonal_baseline, seasonal_robust_z};
