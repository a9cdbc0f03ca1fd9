//! Acquisition channels: where a new visitor comes from, what the browser
//! reports as `document.referrer`, which UTM tags the landing URL carries,
//! and which kind of page people from that channel land on (search sends
//! people to docs and blog posts, ads to the home and pricing pages).

/// The kind of page a visit starts on; blog and docs pick a post or topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Landing {
    Home,
    Pricing,
    Features,
    Blog,
    Docs,
}

/// UTM tags on the landing URL. A campaign of `None` means the channel tags
/// only source and medium.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Utm {
    pub source: &'static str,
    pub medium: &'static str,
    pub campaign: Campaign,
}

/// How a channel names its campaigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Campaign {
    None,
    /// One of a fixed set of names.
    Fixed(&'static [&'static str]),
    /// The weekly newsletter issue: `weekly-<ISO year>-w<ISO week>`.
    WeeklyIssue,
}

/// One acquisition channel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channel {
    /// Short name, as scenario files write it (`hacker-news`).
    pub name: &'static str,
    /// Percent of new visitors on an average day.
    pub share: f64,
    pub referrer: Option<&'static str>,
    pub utm: Option<Utm>,
    pub landings: &'static [(Landing, f64)],
}

impl Channel {
    /// The traffic source an analysis sees for this channel: its UTM source,
    /// else its referrer's host without `www.` (what ingestion derives),
    /// `None` for direct traffic.
    pub(crate) fn source(&self) -> Option<&'static str> {
        if let Some(utm) = self.utm {
            return Some(utm.source);
        }
        let host = self.referrer?.split("://").nth(1)?.split('/').next()?;
        Some(host.strip_prefix("www.").unwrap_or(host))
    }
}

/// The index of the channel called `name`, if any.
pub(crate) fn by_name(name: &str) -> Option<usize> {
    CHANNELS.iter().position(|c| c.name.eq_ignore_ascii_case(name))
}

/// Index of the newsletter in [`CHANNELS`]: its share peaks on send days.
pub(crate) const NEWSLETTER: usize = 6;
/// Index of direct traffic in [`CHANNELS`] (no referrer, no tags).
pub(crate) const DIRECT: usize = 2;

use Landing::*;

pub(crate) const CHANNELS: &[Channel] = &[
    Channel {
        name: "google",
        share: 30.0,
        referrer: Some("https://www.google.com/"),
        utm: None,
        landings: &[(Home, 30.0), (Blog, 30.0), (Docs, 25.0), (Pricing, 10.0), (Features, 5.0)],
    },
    Channel {
        name: "google-ads",
        share: 7.0,
        referrer: Some("https://www.google.com/"),
        utm: Some(Utm {
            source: "google",
            medium: "cpc",
            campaign: Campaign::Fixed(&["brand-search", "competitor-keywords", "product-analytics-generic"]),
        }),
        landings: &[(Home, 50.0), (Pricing, 30.0), (Features, 20.0)],
    },
    Channel {
        name: "direct",
        share: 27.0,
        referrer: None,
        utm: None,
        landings: &[(Home, 80.0), (Pricing, 10.0), (Docs, 10.0)],
    },
    Channel {
        name: "twitter",
        share: 5.0,
        referrer: Some("https://t.co/"),
        utm: None,
        landings: &[(Blog, 60.0), (Home, 30.0), (Features, 10.0)],
    },
    Channel {
        name: "linkedin",
        share: 5.0,
        referrer: Some("https://www.linkedin.com/"),
        utm: None,
        landings: &[(Blog, 55.0), (Home, 35.0), (Features, 10.0)],
    },
    Channel {
        name: "linkedin-ads",
        share: 2.0,
        referrer: Some("https://www.linkedin.com/"),
        utm: Some(Utm {
            source: "linkedin",
            medium: "paid_social",
            campaign: Campaign::Fixed(&["analytics-for-pms", "webinar-activation"]),
        }),
        landings: &[(Features, 60.0), (Home, 40.0)],
    },
    Channel {
        name: "newsletter",
        share: 7.0,
        referrer: None,
        utm: Some(Utm { source: "newsletter", medium: "email", campaign: Campaign::WeeklyIssue }),
        landings: &[(Blog, 70.0), (Features, 20.0), (Pricing, 10.0)],
    },
    Channel {
        name: "bing",
        share: 4.0,
        referrer: Some("https://www.bing.com/"),
        utm: None,
        landings: &[(Home, 45.0), (Blog, 25.0), (Docs, 20.0), (Pricing, 10.0)],
    },
    Channel {
        name: "duckduckgo",
        share: 2.0,
        referrer: Some("https://duckduckgo.com/"),
        utm: None,
        landings: &[(Docs, 50.0), (Home, 30.0), (Blog, 20.0)],
    },
    Channel {
        name: "chatgpt",
        share: 4.0,
        referrer: Some("https://chatgpt.com/"),
        utm: Some(Utm { source: "chatgpt.com", medium: "referral", campaign: Campaign::None }),
        landings: &[(Docs, 45.0), (Home, 35.0), (Pricing, 20.0)],
    },
    Channel {
        name: "github",
        share: 4.0,
        referrer: Some("https://github.com/"),
        utm: None,
        landings: &[(Docs, 80.0), (Home, 20.0)],
    },
    Channel {
        name: "hacker-news",
        share: 3.0,
        referrer: Some("https://news.ycombinator.com/"),
        utm: None,
        landings: &[(Blog, 85.0), (Home, 15.0)],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_indexes_point_at_their_channels() {
        assert_eq!(CHANNELS[NEWSLETTER].utm.map(|u| u.medium), Some("email"));
        assert!(CHANNELS[DIRECT].referrer.is_none() && CHANNELS[DIRECT].utm.is_none());
        let total: f64 = CHANNELS.iter().map(|c| c.share).sum();
        assert_eq!(total, 100.0);
        assert!(CHANNELS.len() < 256);
        let names: std::collections::HashSet<&str> = CHANNELS.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), CHANNELS.len(), "names are unique");
        assert_eq!(CHANNELS[DIRECT].name, "direct");
    }
}
