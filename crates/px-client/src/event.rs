//! [`Event`]: one event as the caller builds it, and its JSON in PX's wire
//! format (docs/ingestion.md). The id and the timestamp are fixed when the
//! event is built, not when it is sent: a batch retried after a timeout
//! carries the same ids, which is how PX recognises the repeat, and an event
//! that waited out a server restart keeps the time it happened.

use chrono::{DateTime, SecondsFormat, Utc};
use px_core::props;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Sent as `context.library`, so PX shows which SDK an event came from.
const LIBRARY_NAME: &str = "px-rust";

/// An event, built with chained calls:
///
/// ```
/// use px_client::Event;
/// let e = Event::new("signup", "user-1").property("plan", "pro").context("ip", "203.0.113.7");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    name: String,
    distinct_id: String,
    event_id: Uuid,
    timestamp: DateTime<Utc>,
    session_id: Option<String>,
    /// Only on identify events: the id whose person is merged into this one.
    anonymous_id: Option<String>,
    properties: Map<String, Value>,
    context: Map<String, Value>,
    set: Map<String, Value>,
    set_once: Map<String, Value>,
}

impl Event {
    /// `name` done by `distinct_id`, now, with a new time-ordered id (UUID v7).
    pub fn new(name: impl Into<String>, distinct_id: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            distinct_id: distinct_id.into(),
            event_id: Uuid::now_v7(),
            timestamp: Utc::now(),
            session_id: None,
            anonymous_id: None,
            properties: Map::new(),
            context: Map::new(),
            set: Map::new(),
            set_once: Map::new(),
        }
    }

    /// PX's `identify`: `anonymous_id`'s person (its past and future events)
    /// joins `distinct_id`'s.
    pub(crate) fn identify(distinct_id: String, anonymous_id: Option<String>) -> Self {
        Self { anonymous_id, ..Self::new(props::EVENT_IDENTIFY, distinct_id) }
    }

    /// PX's `alias`: `alias` becomes another id of `distinct_id`'s person.
    pub(crate) fn alias(distinct_id: String, alias: String) -> Self {
        Self::new(props::EVENT_ALIAS, distinct_id).property("alias", alias)
    }

    pub fn property(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Adds every pair: a `serde_json::Map`, a `HashMap`, an array of pairs.
    pub fn properties<K: Into<String>, V: Into<Value>>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        self.properties.extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// When the event happened, if not when it was built (imports, replays).
    pub fn timestamp(mut self, at: DateTime<Utc>) -> Self {
        self.timestamp = at;
        self
    }

    /// Replaces the generated id. An id derived from the caller's own key
    /// (`Uuid::new_v5(&ns, order_id.as_bytes())`) makes PX drop the event
    /// when a restarted process sends it again, which a random id cannot.
    pub fn event_id(mut self, id: Uuid) -> Self {
        self.event_id = id;
        self
    }

    /// Without one, PX assigns server-side sessions per distinct id.
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }

    /// A `context` key: `ip`, `user_agent`, `page` (`{url, referrer,
    /// title}`), `locale`, `country`, ... (docs/ingestion.md). A server
    /// forwarding a user's action passes the user's `ip` and `user_agent`
    /// here; otherwise PX sees the server's own address.
    pub fn context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.insert(key.into(), value.into());
        self
    }

    /// A person property, overwriting the current value (`$set`).
    pub fn set(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set.insert(key.into(), value.into());
        self
    }

    /// A person property kept only if the person has none yet (`$set_once`).
    pub fn set_once(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set_once.insert(key.into(), value.into());
        self
    }

    /// Adds `set`'s pairs as person properties (`$set`).
    pub(crate) fn set_all<K: Into<String>, V: Into<Value>>(mut self, set: impl IntoIterator<Item = (K, V)>) -> Self {
        self.set.extend(set.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// An event already in PX's wire format (from a file, a replay, the
    /// traffic simulator). Fields the client sets itself (the library in
    /// the context) are filled as for any event; an event without an id or
    /// a time gets them now.
    pub fn from_wire(wire: px_core::WireEvent) -> Result<Self, String> {
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let name = wire.event.ok_or("event: missing")?;
        let user = wire.distinct_id.as_ref().or(wire.user_id.as_ref()).and_then(text);
        let anonymous = wire.anonymous_id.as_ref().and_then(text);
        let (distinct_id, anonymous_id) = match (user, anonymous) {
            (Some(u), a) => (u, a),
            (None, Some(a)) => (a, None),
            (None, None) => return Err("distinct_id: missing (or user_id / anonymous_id)".into()),
        };
        let mut event = Self::new(name, distinct_id);
        event.anonymous_id = anonymous_id;
        if let Some(id) = wire.event_id {
            event.event_id = Uuid::parse_str(&id).map_err(|e| format!("event_id: {e}"))?;
        }
        match &wire.timestamp {
            Some(Value::String(t)) => {
                event.timestamp = DateTime::parse_from_rfc3339(t).map_err(|e| format!("timestamp: {e}"))?.to_utc();
            }
            Some(Value::Number(ms)) => {
                let ms = ms.as_i64().ok_or("timestamp: not whole milliseconds")?;
                event.timestamp = DateTime::from_timestamp_millis(ms).ok_or("timestamp: out of range")?;
            }
            Some(_) => return Err("timestamp: neither RFC 3339 nor milliseconds".into()),
            None => {}
        }
        event.session_id = wire.session_id.as_ref().and_then(text);
        event.properties = wire.properties.unwrap_or_default();
        if let Some(ctx) = wire.context
            && let Ok(Value::Object(m)) = serde_json::to_value(ctx)
        {
            event.context = m.into_iter().filter(|(_, v)| !v.is_null()).collect();
        }
        event.set = wire.set.unwrap_or_default();
        event.set_once = wire.set_once.unwrap_or_default();
        Ok(event)
    }

    /// The id PX stores the event under.
    pub fn id(&self) -> Uuid {
        self.event_id
    }

    /// The event as PX's batch endpoint takes it; empty maps are left out.
    pub(crate) fn into_json(self) -> String {
        let mut m = Map::new();
        m.insert("event".into(), Value::String(self.name));
        m.insert("distinct_id".into(), Value::String(self.distinct_id));
        m.insert("event_id".into(), Value::String(self.event_id.to_string()));
        m.insert("timestamp".into(), Value::String(self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true)));
        if let Some(s) = self.session_id {
            m.insert("session_id".into(), Value::String(s));
        }
        if let Some(a) = self.anonymous_id {
            m.insert("anonymous_id".into(), Value::String(a));
        }
        if !self.properties.is_empty() {
            m.insert("properties".into(), Value::Object(self.properties));
        }
        let mut context = self.context;
        context.entry("library").or_insert_with(|| json!({"name": LIBRARY_NAME, "version": env!("CARGO_PKG_VERSION")}));
        m.insert("context".into(), Value::Object(context));
        for (key, map) in [(props::SET, self.set), (props::SET_ONCE, self.set_once)] {
            if !map.is_empty() {
                m.insert(key.into(), Value::Object(map));
            }
        }
        Value::Object(m).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use px_core::WireEvent;

    fn wire(e: Event) -> (Value, WireEvent) {
        let text = e.into_json();
        // The server's own type, which refuses unknown fields.
        let parsed: WireEvent = serde_json::from_str(&text).unwrap();
        (serde_json::from_str(&text).unwrap(), parsed)
    }

    #[test]
    fn wire_events_round_trip() {
        let original = json!({"event": "identify", "distinct_id": "user-1", "anonymous_id": "anon-1",
            "event_id": "0190d7a4-0000-7000-8000-000000000001", "session_id": "s-9",
            "timestamp": "2026-03-01T10:00:00.250Z", "properties": {"plan": "pro"},
            "context": {"locale": "pt-BR", "page": {"url": "https://x.io/a"}}, "$set": {"plan": "pro"}});
        let e = Event::from_wire(serde_json::from_value(original).unwrap()).unwrap();
        let (v, _) = wire(e);
        assert_eq!(v["anonymous_id"], "anon-1");
        assert_eq!(v["event_id"], "0190d7a4-0000-7000-8000-000000000001");
        assert_eq!(v["timestamp"], "2026-03-01T10:00:00.250Z");
        assert_eq!(v["context"]["page"]["url"], "https://x.io/a");
        assert_eq!(v["$set"]["plan"], "pro");
        assert!(
            Event::from_wire(serde_json::from_value(json!({"event": "x"})).unwrap())
                .unwrap_err()
                .contains("distinct_id")
        );
    }

    #[test]
    fn the_wire_form_is_what_px_accepts() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:00:00.250Z").unwrap().to_utc();
        let e = Event::new("signup", "user-1")
            .property("plan", "pro")
            .properties([("seats", 3)])
            .timestamp(at)
            .session_id("s-1")
            .context("ip", "203.0.113.7")
            .set("plan", "pro")
            .set_once("first_plan", "free");
        let id = e.id();
        let (v, w) = wire(e);
        assert_eq!(w.event_id.as_deref(), Some(id.to_string().as_str()));
        assert_eq!(v["timestamp"], "2026-03-01T10:00:00.250Z");
        assert_eq!(v["properties"], json!({"plan": "pro", "seats": 3}));
        assert_eq!(v["context"]["ip"], "203.0.113.7");
        assert_eq!(v["context"]["library"]["name"], "px-rust");
        assert_eq!((v["$set"]["plan"].as_str(), v["$set_once"]["first_plan"].as_str()), (Some("pro"), Some("free")));
        assert_eq!(v["session_id"], "s-1");
    }

    #[test]
    fn empty_parts_are_left_out_and_the_id_is_fixed_at_build_time() {
        let e = Event::new("a", "u");
        let (first, _) = wire(e.clone());
        let (again, _) = wire(e);
        assert_eq!(first, again, "a retry sends the same event");
        let mut keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["context", "distinct_id", "event", "event_id", "timestamp"]);
        assert_eq!(Uuid::parse_str(first["event_id"].as_str().unwrap()).unwrap().get_version_num(), 7);
        assert_ne!(Event::new("a", "u").id(), Event::new("a", "u").id());
    }

    #[test]
    fn identify_and_alias_are_the_events_px_links_persons_with() {
        let (v, _) = wire(Event::identify("user-1".into(), Some("anon-1".into())).set_all([("plan", "pro")]));
        assert_eq!((v["event"].as_str(), v["anonymous_id"].as_str()), (Some("identify"), Some("anon-1")));
        assert_eq!(v["$set"], json!({"plan": "pro"}));
        let (v, _) = wire(Event::alias("user-1".into(), "crm-7".into()));
        assert_eq!((v["event"].as_str(), v["properties"]["alias"].as_str()), (Some("alias"), Some("crm-7")));
    }

    #[test]
    fn a_library_given_by_the_caller_is_kept() {
        let (v, _) = wire(Event::new("a", "u").context("library", json!({"name": "my-wrapper"})));
        assert_eq!(v["context"]["library"], json!({"name": "my-wrapper"}));
    }
}
