//! The stored columns a filter or breakdown can name, and the PostHog
//! property names that mean the same thing (so filters written for PostHog
//! keep working: `$browser` is the `browser` column).

/// The type of a column, for comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
}

/// Columns open to filters and breakdowns: (name, type).
pub const COLUMNS: &[(&str, ColumnType)] = &[
    ("event", ColumnType::Text),
    ("distinct_id", ColumnType::Text),
    ("session_id", ColumnType::Text),
    ("url", ColumnType::Text),
    ("host", ColumnType::Text),
    ("path", ColumnType::Text),
    ("title", ColumnType::Text),
    ("referrer", ColumnType::Text),
    ("referrer_domain", ColumnType::Text),
    ("utm_source", ColumnType::Text),
    ("utm_medium", ColumnType::Text),
    ("utm_campaign", ColumnType::Text),
    ("utm_term", ColumnType::Text),
    ("utm_content", ColumnType::Text),
    ("browser", ColumnType::Text),
    ("browser_version", ColumnType::Text),
    ("os", ColumnType::Text),
    ("os_version", ColumnType::Text),
    ("device_type", ColumnType::Text),
    ("country", ColumnType::Text),
    ("city", ColumnType::Text),
    ("locale", ColumnType::Text),
    ("screen_width", ColumnType::Integer),
    ("screen_height", ColumnType::Integer),
    ("lib", ColumnType::Text),
    ("lib_version", ColumnType::Text),
];

/// PostHog's names for event properties PX stores as columns.
const POSTHOG_ALIASES: &[(&str, &str)] = &[
    ("$current_url", "url"),
    ("$host", "host"),
    ("$pathname", "path"),
    ("$title", "title"),
    ("$referrer", "referrer"),
    ("$referring_domain", "referrer_domain"),
    ("$browser", "browser"),
    ("$browser_version", "browser_version"),
    ("$os", "os"),
    ("$os_version", "os_version"),
    ("$device_type", "device_type"),
    ("$geoip_country_code", "country"),
    ("$geoip_city_name", "city"),
    ("$locale", "locale"),
    ("$screen_width", "screen_width"),
    ("$screen_height", "screen_height"),
    ("$lib", "lib"),
    ("$lib_version", "lib_version"),
    ("$session_id", "session_id"),
    ("utm_source", "utm_source"),
    ("utm_medium", "utm_medium"),
    ("utm_campaign", "utm_campaign"),
    ("utm_term", "utm_term"),
    ("utm_content", "utm_content"),
];

/// The column named `name`, if there is one. The name returned is a
/// `'static` from the list above: generated SQL only ever contains column
/// names from this list, never the caller's text.
pub fn column(name: &str) -> Option<(&'static str, ColumnType)> {
    COLUMNS.iter().find(|(c, _)| *c == name).copied()
}

/// The column an event-property key stands for (`$browser` -> `browser`).
pub fn event_alias(key: &str) -> Option<(&'static str, ColumnType)> {
    POSTHOG_ALIASES.iter().find(|(alias, _)| *alias == key).and_then(|(_, c)| column(c))
}
