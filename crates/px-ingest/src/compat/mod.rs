//! Drop-in compatibility: turns the bodies that PostHog and Segment clients
//! send into PX wire events (`px_core::WireEvent` JSON), which then take
//! exactly the path of PX's own events (validation, enrichment, privacy,
//! dedupe, the writer). Translation is pure: the HTTP routes in `px-server`
//! read and authenticate; nothing here does I/O.
//!
//! The mapping is documented in `docs/compatibility.md`.

pub mod posthog;
pub mod segment;

use crate::decode::RawBatch;
use px_core::{Reject, RejectCode};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Events of one foreign request, rewritten as PX wire events.
#[derive(Debug, Default)]
pub struct Translated {
    /// The project key the body names (PostHog's `api_key`/`token`,
    /// Segment's `writeKey`), if it names one.
    pub key: Option<String>,
    pub events: Vec<Box<RawValue>>,
    /// For each of `events`, the index of the message it came from (one
    /// PostHog `$web_vitals` message becomes one event per metric).
    pub origin: Vec<usize>,
    /// Messages that could not be translated, by index in the request.
    pub rejected: Vec<(usize, Reject)>,
    /// The client's clock when it sent the request, for skew correction.
    pub sent_at: Option<Value>,
}

impl Translated {
    /// The events as a batch for [`crate::Pipeline::process`].
    pub fn batch(&self) -> RawBatch<'_> {
        RawBatch { events: self.events.iter().map(|e| &**e).collect(), sent_at: self.sent_at.clone() }
    }

    fn push(&mut self, origin: usize, event: Map<String, Value>) {
        match serde_json::value::to_raw_value(&event) {
            Ok(raw) => {
                self.events.push(raw);
                self.origin.push(origin);
            }
            // Unreachable for a map of JSON values; rejected rather than assumed.
            Err(e) => self.reject(origin, Reject::new(RejectCode::Malformed, "event", e.to_string())),
        }
    }

    fn reject(&mut self, origin: usize, reject: Reject) {
        self.rejected.push((origin, reject));
    }
}

/// Namespace of event ids derived from a client's message id that is not a
/// UUID (Segment's default ids look like `node-next-1700000000000-<uuid>`).
const MESSAGE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6a0e_2f4c_91d3_4b8e_a7c5_1f0b_3d92_e841);

/// PX's `event_id` for a client's message id: the id itself when it is a
/// UUID, else a UUIDv5 of it, so that a retry of the message (same id) is
/// recognised and dropped by the writer's dedupe.
pub fn event_id(message_id: &str) -> String {
    match Uuid::parse_str(message_id) {
        Ok(id) => id.hyphenated().to_string(),
        Err(_) => Uuid::new_v5(&MESSAGE_ID_NAMESPACE, message_id.as_bytes()).hyphenated().to_string(),
    }
}

/// A string field, or `None` when absent, empty or not a string.
fn text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A string or number field as a string (versions and ids come as both).
fn text_or_number(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Number(n)) => Some(n.to_string()),
        other => text(other),
    }
}

/// A screen dimension, when it is a whole number of pixels that fits.
fn pixels(v: Option<&Value>) -> Option<Value> {
    v.and_then(Value::as_f64)
        .filter(|f| f.is_finite() && (0.0..=f64::from(u32::MAX)).contains(f))
        .map(|f| Value::from(f.round() as u32))
}

/// Inserts `value` under `key` when there is one.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v.into());
    }
}

/// An object field, taken out of `map` (anything else under `key` is dropped).
fn take_object(map: &mut Map<String, Value>, key: &str) -> Option<Map<String, Value>> {
    match map.remove(key) {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// A message that is not a JSON object cannot be an event.
fn not_an_object() -> Reject {
    Reject::new(RejectCode::Malformed, "event", "a message must be a JSON object")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_become_stable_uuids() {
        let uuid = "0190d7a4-1c2b-7cde-8f00-123456789abc";
        assert_eq!(event_id(uuid), uuid);
        assert_eq!(event_id("0190D7A4-1C2B-7CDE-8F00-123456789ABC"), uuid);
        let derived = event_id("node-next-1700000000000-abc");
        assert_eq!(derived, event_id("node-next-1700000000000-abc"), "a retry gets the same id");
        assert_ne!(derived, event_id("node-next-1700000000000-abd"));
        assert_eq!(Uuid::parse_str(&derived).unwrap().get_version_num(), 5);
    }

    #[test]
    fn screen_sizes_must_be_pixels() {
        assert_eq!(pixels(Some(&Value::from(1440))), Some(Value::from(1440)));
        assert_eq!(pixels(Some(&Value::from(390.4))), Some(Value::from(390)));
        assert_eq!(pixels(Some(&Value::from(-1))), None);
        assert_eq!(pixels(Some(&Value::from("1440"))), None);
    }
}
