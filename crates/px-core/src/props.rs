//! Names of the properties and standard events PX itself reads or writes, in
//! one place so that the SDKs, the pipeline and the queries agree.

/// Set on an event whose client timestamp was clamped to the receive time.
pub const TIMESTAMP_CLAMPED: &str = "$timestamp_clamped";
/// The client's IANA time zone (`context.timezone`).
pub const TIMEZONE: &str = "$timezone";
/// Prefix of context keys PX does not model, kept as properties.
pub const CONTEXT_PREFIX: &str = "$context_";
/// Person properties inside an event's properties (PostHog convention).
pub const SET: &str = "$set";
pub const SET_ONCE: &str = "$set_once";

pub const EVENT_IDENTIFY: &str = "identify";
pub const EVENT_ALIAS: &str = "alias";
pub const EVENT_PAGE_VIEW: &str = "page_view";
/// Names a page view goes by: PX's own, and PostHog's for events sent by
/// PostHog clients.
pub const PAGE_VIEW_EVENTS: [&str; 2] = [EVENT_PAGE_VIEW, "$pageview"];
