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

/// PX's standard event names: what the simulator and the browser SDK send,
/// and what events of PostHog and Segment clients are renamed to.
pub const EVENT_IDENTIFY: &str = "identify";
pub const EVENT_ALIAS: &str = "alias";
pub const EVENT_PAGE_VIEW: &str = "page_view";
pub const EVENT_PAGE_LEAVE: &str = "page_leave";
/// A screen of a mobile app (Segment's `screen` call).
pub const EVENT_SCREEN_VIEW: &str = "screen_view";
pub const EVENT_CLICK: &str = "click";
pub const EVENT_RAGE_CLICK: &str = "rage_click";
pub const EVENT_DEAD_CLICK: &str = "dead_click";
pub const EVENT_ERROR: &str = "error";
/// The page was scrolled past `depth` percent (25, 50, 75, 100).
pub const EVENT_SCROLL: &str = "scroll";
/// A survey answer: `rating` (1-5) and `comment`.
pub const EVENT_FEEDBACK: &str = "feedback";
/// One Core Web Vital: properties `name` (`LCP`, `FCP`, `CLS`, `INP`,
/// `TTFB`), `value` and `rating`.
pub const EVENT_WEB_VITAL: &str = "web_vital";
/// The person joined a group (a company, a team): properties `group_id`,
/// `group_type` when the client names one, and the group's traits.
pub const EVENT_GROUP: &str = "group";
/// Names a page view goes by: PX's own, and PostHog's, which events stored
/// before PostHog clients' events were renamed on ingestion carry (and
/// events sent under that name through PX's own API).
pub const PAGE_VIEW_EVENTS: [&str; 2] = [EVENT_PAGE_VIEW, "$pageview"];
