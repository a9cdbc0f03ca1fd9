//! Time in the simulation: the bounds of each simulated day, weekly and
//! daily seasonality, the newsletter's send day, and the product's release
//! train (`app_version`). Everything that depends only on the date lives here
//! so the visitor and session code never does calendar arithmetic.

use chrono::{DateTime, Datelike};

/// One day in microseconds.
pub(crate) const DAY_MICROS: i64 = 86_400_000_000;

/// Traffic by weekday (Monday first), relative to the average day; the mean
/// is 1 so `visitors_per_day` stays the average. Weekends run at ~62% of a
/// weekday; Tuesday is newsletter day.
const WEEKDAY_FACTOR: [f64; 7] = [1.12, 1.17, 1.15, 1.12, 1.05, 0.70, 0.69];

/// Share of the newsletter channel by weekday relative to its average: it is
/// sent on Tuesday morning and read into Wednesday.
const NEWSLETTER_FACTOR: [f64; 7] = [0.45, 3.0, 1.6, 0.45, 0.45, 0.45, 0.45];

/// Relative visits by local hour of day: trough at 3-4 am, peak at 2-4 pm.
pub(crate) const HOUR_WEIGHTS: [f64; 24] = [
    1.2, 0.8, 0.6, 0.5, 0.5, 0.7, 1.3, 2.4, 3.8, 5.0, 5.6, 5.8, 5.2, 5.8, 6.3, 6.4, 6.0, 5.0, 3.9, 3.3, 3.1, 2.8, 2.2,
    1.6,
];

/// The release train. After the last entry the version stays put.
pub(crate) const VERSIONS: &[&str] = &[
    "1.4.0", "1.4.1", "1.5.0", "1.5.1", "1.6.0", "1.6.1", "1.7.0", "1.7.1", "1.8.0", "1.8.1", "1.9.0", "1.9.1",
    "2.0.0", "2.0.1", "2.1.0", "2.1.1", "2.2.0", "2.2.1", "2.3.0", "2.3.1", "2.4.0", "2.4.1", "2.5.0", "2.5.1",
    "2.6.0", "2.6.1", "2.7.0",
];

/// Facts about one simulated day.
#[derive(Debug, Clone)]
pub(crate) struct Day {
    /// Day of the run, from 0; negative during the warm-up that comes before
    /// it (see `Model::warmup_days`).
    pub index: i64,
    /// First microsecond of the day.
    pub start: i64,
    /// Monday = 0 … Sunday = 6.
    pub weekday: usize,
    /// Index into [`VERSIONS`] of the newest release, and whether it shipped
    /// today (clients that loaded the app before the deploy still run the
    /// previous one).
    pub version: usize,
    pub release_day: bool,
    /// Newsletter campaign name for this day's issue (`weekly-2025-w18`).
    pub newsletter_campaign: String,
}

impl Day {
    pub(crate) fn new(start_micros: i64, total_days: u32, index: i64) -> Day {
        let start = start_micros.saturating_add(index.saturating_mul(DAY_MICROS));
        let date = DateTime::from_timestamp_micros(start).unwrap_or_default().date_naive();
        let weekday = date.weekday().num_days_from_monday() as usize;
        let iso = date.iso_week();
        let cadence = release_cadence(total_days);
        // The warm-up runs the first release: its events are never sent.
        let released = u32::try_from(index).unwrap_or(0);
        let version = ((released / cadence) as usize).min(VERSIONS.len() - 1);
        let release_day =
            released > 0 && released.is_multiple_of(cadence) && ((released / cadence) as usize) < VERSIONS.len();
        Day {
            index,
            start,
            weekday,
            version,
            release_day,
            newsletter_campaign: format!("weekly-{}-w{:02}", iso.year(), iso.week()),
        }
    }

    /// Expected new visitors today relative to the average day.
    pub(crate) fn traffic_factor(&self) -> f64 {
        WEEKDAY_FACTOR[self.weekday]
    }

    /// The newsletter channel's weight today relative to its average.
    pub(crate) fn newsletter_factor(&self) -> f64 {
        NEWSLETTER_FACTOR[self.weekday]
    }

    /// A day of the warm-up before the run: simulated, never sent.
    pub(crate) fn warmup(&self) -> bool {
        self.index < 0
    }

    pub(crate) fn end(&self) -> i64 {
        self.start.saturating_add(DAY_MICROS)
    }
}

/// Days between releases: three releases over a short run so a demo of a
/// week or a month shows 1.4.0, 1.4.1 and 1.5.0; every two weeks on long runs.
pub(crate) fn release_cadence(total_days: u32) -> u32 {
    total_days.div_ceil(3).clamp(1, 14)
}

/// Weekday of day `index` (Monday = 0) without building a [`Day`].
pub(crate) fn weekday_of(start_micros: i64, index: i64) -> usize {
    let start = start_micros.saturating_add(index.saturating_mul(DAY_MICROS));
    DateTime::from_timestamp_micros(start).unwrap_or_default().date_naive().weekday().num_days_from_monday() as usize
}

/// Traffic factor of a weekday (Monday = 0).
pub(crate) fn weekday_factor(weekday: usize) -> f64 {
    WEEKDAY_FACTOR[weekday % 7]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY_2025_05_05: i64 = 1_746_403_200_000_000;

    #[test]
    fn factors_average_to_one() {
        let mean = WEEKDAY_FACTOR.iter().sum::<f64>() / 7.0;
        assert!((mean - 1.0).abs() < 1e-9, "{mean}");
        let weekday = WEEKDAY_FACTOR[..5].iter().sum::<f64>() / 5.0;
        let weekend = WEEKDAY_FACTOR[5..].iter().sum::<f64>() / 2.0;
        assert!((0.55..0.7).contains(&(weekend / weekday)));
        let news = NEWSLETTER_FACTOR.iter().sum::<f64>() / 7.0;
        assert!((news - 1.0).abs() < 0.05, "{news}");
    }

    #[test]
    fn days_know_their_weekday_week_and_release() {
        let d = Day::new(MONDAY_2025_05_05, 30, 1);
        assert_eq!(d.weekday, 1);
        assert_eq!(d.newsletter_campaign, "weekly-2025-w19");
        assert_eq!(weekday_of(MONDAY_2025_05_05, 6), 6);
        let versions: Vec<&str> = (0..30).map(|i| VERSIONS[Day::new(MONDAY_2025_05_05, 30, i).version]).collect();
        assert_eq!(versions.first(), Some(&"1.4.0"));
        assert_eq!(versions.last(), Some(&"1.5.0"));
        assert!(versions.contains(&"1.4.1"));
        assert!(Day::new(MONDAY_2025_05_05, 30, 10).release_day);
        assert!(!Day::new(MONDAY_2025_05_05, 30, 11).release_day);
    }
}
