//! Segment's HTTP Tracking API (`/v1/batch`, `/v1/track`, `/v1/identify`,
//! `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`): Segment's spec
//! messages become PX wire events.
//!
//! `userId` is the distinct id (else `anonymousId`); an identify carrying
//! both merges the anonymous id into the user, as PX's own identify does.
//! Unknown message fields (`integrations`, `_metadata`, ...) are ignored
//! rather than refused: Segment libraries add fields over time, and a
//! client upgrade must not start losing events.

use super::{Translated, event_id, not_an_object, pixels, put, take_object, text, text_or_number};
use crate::decode::DecodeError;
use px_core::{IngestLimits, Reject, RejectCode, props};
use serde_json::{Map, Value};

/// Which endpoint received the body: a batch, or one message of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Batch,
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
}

impl Call {
    fn of_type(name: &str) -> Option<Self> {
        Some(match name {
            "track" => Self::Track,
            "identify" => Self::Identify,
            "page" => Self::Page,
            "screen" => Self::Screen,
            "group" => Self::Group,
            "alias" => Self::Alias,
            _ => return None,
        })
    }
}

/// Translates a (decompressed) body received on `call`'s endpoint.
pub fn translate(body: &[u8], call: Call, limits: &IngestLimits) -> Result<Translated, DecodeError> {
    let mut root: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| DecodeError::Malformed(format!("body must be a JSON object: {e}")))?;
    let mut out = Translated { key: text(root.get("writeKey")), ..Translated::default() };
    if call != Call::Batch {
        out.sent_at = root.get("sentAt").cloned();
        match message(root, Some(call), None) {
            Ok(event) => out.push(0, event),
            Err(r) => out.reject(0, r),
        }
        return Ok(out);
    }
    let Some(Value::Array(batch)) = root.remove("batch") else {
        return Err(DecodeError::Malformed("batch must be an array of messages".into()));
    };
    if batch.len() > limits.max_events_per_batch {
        return Err(DecodeError::TooManyEvents { count: batch.len(), limit: limits.max_events_per_batch });
    }
    out.sent_at = root.remove("sentAt");
    // Context given once for the whole batch applies to every message.
    let shared = take_object(&mut root, "context");
    for (i, m) in batch.into_iter().enumerate() {
        let translated = match m {
            Value::Object(m) => message(m, None, shared.as_ref()),
            _ => Err(not_an_object()),
        };
        match translated {
            Ok(event) => out.push(i, event),
            Err(r) => out.reject(i, r),
        }
    }
    Ok(out)
}

/// One message as a PX wire event. `call` is the endpoint's type; in a
/// batch each message names its own `type`.
fn message(
    mut m: Map<String, Value>,
    call: Option<Call>,
    shared: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, Reject> {
    let call = match call {
        Some(c) => c,
        None => {
            let name = text(m.get("type")).unwrap_or_default();
            Call::of_type(&name).ok_or_else(|| {
                Reject::new(
                    RejectCode::InvalidField,
                    "type",
                    format!("type {name:?} is not one of track, identify, page, screen, group, alias"),
                )
            })?
        }
    };
    let mut properties = take_object(&mut m, "properties").unwrap_or_default();
    let mut context = take_object(&mut m, "context").unwrap_or_default();
    if let Some(shared) = shared {
        for (k, v) in shared {
            context.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut ev = Map::new();
    let name = match call {
        Call::Track => text(m.get("event"))
            .ok_or_else(|| Reject::new(RejectCode::MissingField, "event", "a track call needs an event name"))?,
        Call::Page | Call::Screen => {
            put(&mut properties, "name", m.remove("name"));
            put(&mut properties, "category", m.remove("category"));
            if call == Call::Page { props::EVENT_PAGE_VIEW } else { props::EVENT_SCREEN_VIEW }.to_string()
        }
        Call::Identify => {
            put(&mut ev, props::SET, take_object(&mut m, "traits").map(Value::Object));
            props::EVENT_IDENTIFY.to_string()
        }
        Call::Group => {
            properties.extend(take_object(&mut m, "traits").unwrap_or_default());
            let group = text_or_number(m.get("groupId"))
                .ok_or_else(|| Reject::new(RejectCode::MissingField, "groupId", "a group call needs a groupId"))?;
            properties.insert("group_id".into(), group.into());
            props::EVENT_GROUP.to_string()
        }
        Call::Alias => {
            let previous = text_or_number(m.get("previousId")).ok_or_else(|| {
                Reject::new(RejectCode::MissingField, "previousId", "an alias call needs a previousId")
            })?;
            properties.insert("alias".into(), previous.into());
            props::EVENT_ALIAS.to_string()
        }
        Call::Batch => return Err(Reject::new(RejectCode::InvalidField, "type", "a batch cannot hold a batch")),
    };
    ev.insert("event".into(), name.into());
    put(&mut ev, "user_id", m.remove("userId").filter(|v| !v.is_null()));
    put(&mut ev, "anonymous_id", m.remove("anonymousId").filter(|v| !v.is_null()));
    put(&mut ev, "event_id", text_or_number(m.get("messageId")).map(|id| event_id(&id)));
    put(&mut ev, "timestamp", m.remove("timestamp").or_else(|| m.remove("originalTimestamp")));
    put(&mut ev, "sent_at", m.remove("sentAt"));
    if call == Call::Page {
        page_from_properties(&mut context, &mut properties);
    }
    ev.insert("context".into(), Value::Object(px_context(context)));
    ev.insert("properties".into(), Value::Object(properties));
    Ok(ev)
}

/// A page call describes its page in `properties` (url, path, referrer,
/// title); those fill what `context.page` lacks and leave the properties,
/// since PX keeps them in its page columns.
fn page_from_properties(context: &mut Map<String, Value>, properties: &mut Map<String, Value>) {
    let page = context.entry("page").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(page) = page {
        for key in ["url", "path", "referrer", "title"] {
            if let Some(v) = properties.remove(key) {
                page.entry(key).or_insert(v);
            }
        }
    }
}

/// Segment's `context` as PX's: the fields PX models are renamed and
/// type-checked (a wrong type would make PX refuse the whole event); the
/// others (`app`, `device`, `campaign`, `traits`, ...) are kept as they
/// are and end up as `$context_<key>` properties.
fn px_context(mut c: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(page) = take_object(&mut c, "page") {
        let mut p = Map::new();
        for key in ["url", "path", "referrer", "title"] {
            put(&mut p, key, text(page.get(key)));
        }
        out.insert("page".into(), Value::Object(p));
    }
    put(&mut out, "user_agent", text(c.remove("userAgent").as_ref()));
    for key in ["locale", "timezone", "ip"] {
        put(&mut out, key, text(c.remove(key).as_ref()));
    }
    if let Some(library) = take_object(&mut c, "library") {
        let mut l = Map::new();
        put(&mut l, "name", text(library.get("name")));
        put(&mut l, "version", text_or_number(library.get("version")));
        out.insert("library".into(), Value::Object(l));
    }
    if let Some(screen) = take_object(&mut c, "screen") {
        let mut s = Map::new();
        put(&mut s, "width", pixels(screen.get("width")));
        put(&mut s, "height", pixels(screen.get("height")));
        out.insert("screen".into(), Value::Object(s));
    }
    if let Some(os) = take_object(&mut c, "os") {
        put(&mut out, "os", text(os.get("name")));
        put(&mut out, "os_version", text_or_number(os.get("version")));
    }
    out.extend(c);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(call: Call, body: Value) -> Value {
        let t = translate(body.to_string().as_bytes(), call, &IngestLimits::default()).unwrap();
        assert!(t.rejected.is_empty(), "{:?}", t.rejected);
        serde_json::from_str(t.events[0].get()).unwrap()
    }

    #[test]
    fn track_maps_ids_time_context_and_properties() {
        let e = one(
            Call::Track,
            json!({
                "event": "Order Completed", "userId": "u1", "anonymousId": "a1", "messageId": "m-1",
                "timestamp": "2026-01-10T12:00:00Z", "properties": {"revenue": 9.5},
                "context": {"userAgent": "UA", "locale": "pt-BR", "ip": "203.0.113.7", "timezone": "Europe/Lisbon",
                            "page": {"url": "https://a.io/x", "search": "?q"}, "screen": {"width": 390, "height": 844, "density": 3},
                            "library": {"name": "analytics-node", "version": "3.1.0"}, "os": {"name": "iOS", "version": "17.2"},
                            "app": {"name": "Shop"}},
                "integrations": {"All": true}, "type": "track"
            }),
        );
        assert_eq!(e["event"], "Order Completed");
        assert_eq!((&e["user_id"], &e["anonymous_id"]), (&json!("u1"), &json!("a1")));
        assert_eq!(e["event_id"], event_id("m-1"));
        assert_eq!(e["timestamp"], "2026-01-10T12:00:00Z");
        assert_eq!(e["properties"], json!({"revenue": 9.5}));
        let c = &e["context"];
        assert_eq!(c["user_agent"], "UA");
        assert_eq!(c["page"], json!({"url": "https://a.io/x"}));
        assert_eq!(c["screen"], json!({"width": 390, "height": 844}));
        assert_eq!(c["library"], json!({"name": "analytics-node", "version": "3.1.0"}));
        assert_eq!((&c["os"], &c["os_version"]), (&json!("iOS"), &json!("17.2")));
        assert_eq!(c["app"], json!({"name": "Shop"}), "unmodelled context is kept");
        assert!(e.get("integrations").is_none());
        // The result is an event PX accepts.
        serde_json::from_value::<px_core::WireEvent>(e).unwrap();
    }

    #[test]
    fn identify_page_screen_group_alias() {
        let e = one(Call::Identify, json!({"userId": "u1", "anonymousId": "a1", "traits": {"plan": "pro"}}));
        assert_eq!((&e["event"], &e["$set"]), (&json!("identify"), &json!({"plan": "pro"})));
        let e = one(
            Call::Page,
            json!({"anonymousId": "a1", "name": "Pricing", "category": "Docs",
                   "properties": {"url": "https://a.io/pricing", "title": "Pricing", "plan": "x"}}),
        );
        assert_eq!(e["event"], "page_view");
        assert_eq!(e["properties"], json!({"name": "Pricing", "category": "Docs", "plan": "x"}));
        assert_eq!(e["context"]["page"], json!({"url": "https://a.io/pricing", "title": "Pricing"}));
        let e = one(Call::Screen, json!({"userId": 7, "name": "Home"}));
        assert_eq!(
            (&e["event"], &e["properties"]["name"], &e["user_id"]),
            (&json!("screen_view"), &json!("Home"), &json!(7))
        );
        let e = one(Call::Group, json!({"userId": "u1", "groupId": 42, "traits": {"name": "Acme", "group_id": "no"}}));
        assert_eq!((&e["event"], &e["properties"]), (&json!("group"), &json!({"name": "Acme", "group_id": "42"})));
        let e = one(Call::Alias, json!({"userId": "u1", "previousId": "old"}));
        assert_eq!((&e["event"], &e["properties"]["alias"]), (&json!("alias"), &json!("old")));
    }

    #[test]
    fn batches_share_context_and_reject_bad_messages_alone() {
        let body = json!({
            "writeKey": "pxi_k", "sentAt": "2026-01-10T12:00:01Z", "context": {"library": {"name": "lib"}, "locale": "en"},
            "batch": [
                {"type": "track", "event": "a", "userId": "u", "context": {"locale": "fr"}},
                {"type": "bogus", "userId": "u"},
                "nope",
                {"type": "track", "userId": "u"},
                {"type": "page", "userId": "u"}
            ]
        });
        let t = translate(body.to_string().as_bytes(), Call::Batch, &IngestLimits::default()).unwrap();
        assert_eq!(t.key.as_deref(), Some("pxi_k"));
        assert_eq!(t.sent_at, Some(json!("2026-01-10T12:00:01Z")));
        assert_eq!(t.origin, vec![0, 4]);
        let first: Value = serde_json::from_str(t.events[0].get()).unwrap();
        assert_eq!(first["context"]["locale"], "fr", "a message's own context wins");
        assert_eq!(first["context"]["library"]["name"], "lib");
        let fields: Vec<_> = t.rejected.iter().map(|(i, r)| (*i, r.field.as_str())).collect();
        assert_eq!(fields, vec![(1, "type"), (2, "event"), (3, "event")]);
    }

    #[test]
    fn envelope_errors_refuse_the_request() {
        let limits = IngestLimits { max_events_per_batch: 1, ..Default::default() };
        assert!(matches!(translate(b"[]", Call::Track, &limits), Err(DecodeError::Malformed(_))));
        assert!(matches!(translate(b"{}", Call::Batch, &limits), Err(DecodeError::Malformed(_))));
        let two = json!({"batch": [{}, {}]}).to_string();
        assert!(matches!(translate(two.as_bytes(), Call::Batch, &limits), Err(DecodeError::TooManyEvents { .. })));
    }
}
