//! Validation stage: one raw event in, a checked [`Validated`] event or a
//! [`Reject`] naming the field and the limit out. Nothing here allocates
//! per property beyond what serde already did, and nothing can panic: the
//! fuzz corpus in `tests/fuzz_parse.rs` drives this stage with arbitrary bytes.

use px_core::event::PersonLink;
use px_core::props;
use px_core::{IngestLimits, Reject, RejectCode, WireEvent};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

/// An event that passed every check, with its identity resolved.
#[derive(Debug, Clone)]
pub struct Validated {
    pub wire: WireEvent,
    pub event: String,
    pub distinct_id: String,
    pub event_id: Uuid,
    pub session_id: Option<String>,
    pub link: Option<PersonLink>,
}

/// Checks one raw event against `limits`.
pub fn validate(raw: &RawValue, limits: &IngestLimits) -> Result<Validated, Reject> {
    let text = raw.get();
    if text.len() > limits.max_event_bytes {
        return Err(Reject::new(
            RejectCode::TooLarge,
            "event",
            format!("event is {} bytes, more than the limit of {}", text.len(), limits.max_event_bytes),
        ));
    }
    let mut wire: WireEvent = serde_json::from_str(text)
        .map_err(|e| Reject::new(RejectCode::Malformed, "event", format!("event is not valid: {e}")))?;

    let event = match wire.event.take() {
        Some(e) if !e.trim().is_empty() => e,
        _ => {
            return Err(Reject::new(RejectCode::MissingField, "event", "event name is required"));
        }
    };
    check_len("event", &event, limits.max_event_name_len)?;

    let distinct_id = resolve_distinct_id(&mut wire, limits)?;
    let event_id = match wire.event_id.as_deref() {
        None | Some("") => Uuid::now_v7(),
        Some(s) => Uuid::parse_str(s)
            .map_err(|_| Reject::new(RejectCode::InvalidField, "event_id", "event_id must be a UUID"))?,
    };
    let session_id = match wire.session_id.take() {
        None | Some(Value::Null) => None,
        Some(v) => {
            let s = id_string(v, "session_id")?;
            check_len("session_id", &s, limits.max_distinct_id_len)?;
            (!s.is_empty()).then_some(s)
        }
    };

    // Person properties may come at the top level or inside properties.
    if let Some(p) = wire.properties.as_mut() {
        lift_person_props(p, props::SET, &mut wire.set)?;
        lift_person_props(p, props::SET_ONCE, &mut wire.set_once)?;
    }
    for (field, map) in [("properties", &wire.properties), ("$set", &wire.set), ("$set_once", &wire.set_once)] {
        if let Some(m) = map {
            check_properties(field, m, limits)?;
        }
    }

    let link = person_link(&event, &wire, &distinct_id, limits)?;
    Ok(Validated { wire, event, distinct_id, event_id, session_id, link })
}

fn check_len(field: &str, value: &str, limit: usize) -> Result<(), Reject> {
    if value.len() > limit {
        return Err(Reject::new(
            RejectCode::TooLong,
            field,
            format!("{field} is {} bytes, more than the limit of {limit}", value.len()),
        ));
    }
    Ok(())
}

/// Ids may be strings or numbers (some backends use integer user ids).
/// A string without surrounding spaces is moved, not copied.
fn id_string(v: Value, field: &str) -> Result<String, Reject> {
    match v {
        Value::String(s) if s.trim().len() == s.len() => Ok(s),
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(Reject::new(RejectCode::InvalidField, field, format!("{field} must be a string or a number"))),
    }
}

/// `distinct_id`, else `user_id`, else `anonymous_id`. The chosen id is
/// taken out of the wire event, except `anonymous_id`, which an identify
/// event still reads (`person_link`).
fn resolve_distinct_id(wire: &mut WireEvent, limits: &IngestLimits) -> Result<String, Reject> {
    let WireEvent { distinct_id, user_id, anonymous_id, .. } = wire;
    for (field, slot) in [("distinct_id", distinct_id), ("user_id", user_id), ("anonymous_id", anonymous_id)] {
        if slot.as_ref().is_some_and(|v| !v.is_null()) {
            let v = if field == "anonymous_id" { slot.clone() } else { slot.take() };
            let id = id_string(v.unwrap_or_default(), field)?;
            if id.is_empty() {
                continue;
            }
            check_len(field, &id, limits.max_distinct_id_len)?;
            return Ok(id);
        }
    }
    Err(Reject::new(RejectCode::MissingField, "distinct_id", "one of distinct_id, user_id or anonymous_id is required"))
}

fn lift_person_props(
    properties: &mut Map<String, Value>,
    key: &str,
    target: &mut Option<Map<String, Value>>,
) -> Result<(), Reject> {
    match properties.remove(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(m)) => {
            target.get_or_insert_with(Map::new).extend(m);
            Ok(())
        }
        Some(_) => Err(Reject::new(RejectCode::InvalidField, key, format!("{key} must be an object"))),
    }
}

fn check_properties(field: &str, map: &Map<String, Value>, limits: &IngestLimits) -> Result<(), Reject> {
    if map.len() > limits.max_properties {
        return Err(Reject::new(
            RejectCode::TooMany,
            field,
            format!("{field} has {} keys, more than the limit of {}", map.len(), limits.max_properties),
        ));
    }
    for (k, v) in map {
        if k.len() > limits.max_property_key_len {
            return Err(Reject::new(
                RejectCode::TooLong,
                format!("{field}.{}", truncate(k, 40)),
                format!("property key is {} bytes, more than the limit of {}", k.len(), limits.max_property_key_len),
            ));
        }
        if depth(v) > limits.max_property_depth {
            return Err(Reject::new(
                RejectCode::TooDeep,
                format!("{field}.{}", truncate(k, 40)),
                format!("property nests deeper than the limit of {}", limits.max_property_depth),
            ));
        }
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Nesting depth: a scalar is 0, `{}` or `[]` is 1. Bounded by serde_json's
/// own recursion limit (128), so this recursion cannot overflow the stack.
fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// `identify` events with an `anonymous_id` (or PostHog's `$anon_distinct_id`)
/// merge that id into the person; `alias` events name another id of it.
fn person_link(
    event: &str,
    wire: &WireEvent,
    distinct_id: &str,
    limits: &IngestLimits,
) -> Result<Option<PersonLink>, Reject> {
    let prop = |k: &str| wire.properties.as_ref().and_then(|p| p.get(k));
    let other = match event {
        props::EVENT_IDENTIFY | "$identify" => {
            wire.anonymous_id.as_ref().or_else(|| prop("$anon_distinct_id")).or_else(|| prop("anonymous_id"))
        }
        props::EVENT_ALIAS | "$create_alias" => prop("alias"),
        _ => None,
    };
    let Some(other) = other.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let other = id_string(other.clone(), if event.contains("alias") { "alias" } else { "anonymous_id" })?;
    check_len("anonymous_id", &other, limits.max_distinct_id_len)?;
    if other.is_empty() || other == distinct_id {
        return Ok(None);
    }
    Ok(Some(if event.contains("alias") {
        PersonLink::Alias { alias: other }
    } else {
        PersonLink::Identify { anonymous_id: other }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    fn check(s: &str) -> Result<Validated, Reject> {
        validate(&raw(s), &IngestLimits::default())
    }

    #[test]
    fn minimal_event_gets_an_id() {
        let v = check(r#"{"event":"signup","distinct_id":"u1"}"#).unwrap();
        assert_eq!((v.event.as_str(), v.distinct_id.as_str()), ("signup", "u1"));
        assert_eq!(v.event_id.get_version_num(), 7);
    }

    #[test]
    fn distinct_id_falls_back_to_user_then_anonymous() {
        assert_eq!(check(r#"{"event":"a","user_id":42}"#).unwrap().distinct_id, "42");
        assert_eq!(check(r#"{"event":"a","anonymous_id":"anon"}"#).unwrap().distinct_id, "anon");
        assert_eq!(check(r#"{"event":"a","user_id":"u","anonymous_id":"anon"}"#).unwrap().distinct_id, "u");
        assert_eq!(check(r#"{"event":"a"}"#).unwrap_err().field, "distinct_id");
        assert_eq!(check(r#"{"event":"a","distinct_id":[1]}"#).unwrap_err().field, "distinct_id");
    }

    #[test]
    fn every_limit_names_its_field() {
        let limits = IngestLimits {
            max_event_bytes: 300,
            max_event_name_len: 5,
            max_properties: 2,
            max_property_key_len: 4,
            max_property_depth: 2,
            ..Default::default()
        };
        let v = |s: &str| validate(&raw(s), &limits).unwrap_err();
        assert_eq!(v(r#"{"event":"toolong","distinct_id":"u"}"#).code, RejectCode::TooLong);
        assert_eq!(v(r#"{"event":"a","distinct_id":"u","properties":{"a":1,"b":2,"c":3}}"#).field, "properties");
        assert_eq!(v(r#"{"event":"a","distinct_id":"u","properties":{"abcde":1}}"#).field, "properties.abcde");
        let deep = v(r#"{"event":"a","distinct_id":"u","properties":{"a":{"b":[{"c":1}]}}}"#);
        assert_eq!((deep.code, deep.field.as_str()), (RejectCode::TooDeep, "properties.a"));
        let big = format!(r#"{{"event":"a","distinct_id":"u","properties":{{"a":"{}"}}}}"#, "x".repeat(400));
        assert_eq!(v(&big).code, RejectCode::TooLarge);
        assert!(v(r#"{"event":"a","distinct_id":"u","event_id":"nope"}"#).message.contains("UUID"));
        assert_eq!(v(r#"{"distinct_id":"u"}"#).field, "event");
        assert_eq!(v(r#"{"event":"  ","distinct_id":"u"}"#).code, RejectCode::MissingField);
        assert_eq!(v(r#"{"event":"a","distinct_id":"u","bogus":1}"#).code, RejectCode::Malformed);
    }

    #[test]
    fn person_props_are_lifted_from_properties() {
        let v =
            check(r#"{"event":"a","distinct_id":"u","properties":{"$set":{"plan":"pro"},"x":1},"$set_once":{"f":1}}"#)
                .unwrap();
        assert_eq!(v.wire.set.unwrap()["plan"], "pro");
        assert_eq!(v.wire.set_once.unwrap()["f"], 1);
        assert!(!v.wire.properties.unwrap().contains_key("$set"));
        assert_eq!(check(r#"{"event":"a","distinct_id":"u","properties":{"$set":3}}"#).unwrap_err().field, "$set");
    }

    #[test]
    fn identify_and_alias_produce_links() {
        let v = check(r#"{"event":"identify","distinct_id":"u","anonymous_id":"anon"}"#).unwrap();
        assert_eq!(v.link, Some(PersonLink::Identify { anonymous_id: "anon".into() }));
        let v = check(r#"{"event":"$identify","distinct_id":"u","properties":{"$anon_distinct_id":"a2"}}"#).unwrap();
        assert_eq!(v.link, Some(PersonLink::Identify { anonymous_id: "a2".into() }));
        let v = check(r#"{"event":"alias","distinct_id":"u","properties":{"alias":"u-old"}}"#).unwrap();
        assert_eq!(v.link, Some(PersonLink::Alias { alias: "u-old".into() }));
        let v = check(r#"{"event":"identify","distinct_id":"u","anonymous_id":"u"}"#).unwrap();
        assert_eq!(v.link, None);
    }
}
