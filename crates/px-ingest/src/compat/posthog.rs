//! PostHog's capture API (`/e/`, `/i/v0/e/`, `/batch/`, `/capture/`,
//! `/track/`, `/engage/`): the bodies posthog-js, posthog-node and the other
//! PostHog clients send become PX wire events.
//!
//! Bodies come as JSON, gzip (`Content-Encoding: gzip` or
//! `?compression=gzip-js`), base64 (`?compression=base64`) or a form with a
//! base64 `data` field; they hold one event, an array of events or
//! `{"batch": [...]}`. PostHog puts what PX calls context (URL, browser,
//! screen, library) in `$`-properties: those move into the context, so PX's
//! enrichment fills its columns from them, and leave the properties. Event
//! names PX has its own name for are renamed (`$pageview` -> `page_view`,
//! ...); the rest keep PostHog's names. Unknown fields are ignored, not
//! refused: PostHog clients add fields over time.

use super::{Translated, event_id, not_an_object, pixels, put, take_object, text, text_or_number};
use crate::decode::{self, DecodeError, GZIP_MAGIC};
use crate::timestamp::parse_wire_timestamp;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, SecondsFormat};
use px_core::time::Micros;
use px_core::{IngestLimits, Reject, RejectCode, props};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Which endpoint received the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Events: `/e/`, `/i/v0/e/`, `/batch/`, `/capture/`, `/track/`.
    Capture,
    /// Person property updates: `/engage/` (`{"$set", "$distinct_id", "$token"}`).
    Engage,
}

/// What the request says about its body besides the bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Encoding<'a> {
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    /// The `compression` query parameter.
    pub compression: Option<&'a str>,
}

/// posthog-js pads its base64; other clients may not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The JSON inside a body, whatever wrapping the client chose: HTTP gzip,
/// then a form's `data` field, then base64, then gzip again (base64 of
/// gzip). Every decompression is capped by `max_decompressed_bytes`.
pub fn decode_body<'a>(
    body: &'a [u8],
    encoding: Encoding<'_>,
    limits: &IngestLimits,
) -> Result<Cow<'a, [u8]>, DecodeError> {
    let mut data = decode::decompress(body, encoding.content_encoding, limits)?;
    let mut compression = encoding.compression.map(str::to_owned);
    let form = encoding.content_type.is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
        || data.starts_with(b"data=");
    if form {
        let mut field = None;
        for (k, v) in url::form_urlencoded::parse(&data) {
            match &*k {
                "data" => field = Some(v.into_owned()),
                "compression" => compression = Some(v.into_owned()),
                _ => {}
            }
        }
        let field = field.ok_or_else(|| DecodeError::Malformed("a form body needs a data field".into()))?;
        // Form decoding reads an unescaped '+' as a space; base64 has no spaces.
        data = Cow::Owned(field.replace(' ', "+").into_bytes());
    }
    let base64 = match compression.as_deref().map(str::trim) {
        None | Some("" | "gzip-js" | "gzip") => form,
        Some("base64") => true,
        Some(other) => return Err(DecodeError::UnsupportedCompression(other.to_string())),
    };
    let looks_json = data.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| matches!(b, b'{' | b'['));
    if base64 && !looks_json {
        let text: Vec<u8> = data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        data = Cow::Owned(BASE64.decode(text).map_err(|e| DecodeError::Base64(e.to_string()))?);
    }
    if data.starts_with(&GZIP_MAGIC) {
        data = Cow::Owned(decode::gunzip_capped(&data, limits.max_decompressed_bytes)?);
    }
    Ok(data)
}

/// The project key of a flags request (`/decide/`, `/flags/`).
pub fn flags_key(json: &[u8]) -> Option<String> {
    let body: Map<String, Value> = serde_json::from_slice(json).ok()?;
    text(body.get("token")).or_else(|| text(body.get("api_key")))
}

/// Translates decoded JSON received on `call`'s endpoint. `sent_at_ms` is
/// posthog-js's `_` query parameter (its clock when sending); `now` is the
/// receive time, which `offset` (milliseconds before sending) counts back
/// from when the request has no `sent_at`.
pub fn translate(
    json: &[u8],
    call: Call,
    sent_at_ms: Option<&str>,
    limits: &IngestLimits,
    now: Micros,
) -> Result<Translated, DecodeError> {
    let root: Value =
        serde_json::from_slice(json).map_err(|e| DecodeError::Malformed(format!("body is not JSON: {e}")))?;
    let (messages, mut top) = match root {
        Value::Array(messages) => (messages, Map::new()),
        Value::Object(mut o) => match o.remove("batch") {
            Some(Value::Array(messages)) => (messages, o),
            Some(_) => return Err(DecodeError::Malformed("batch must be an array of events".into())),
            None => (vec![Value::Object(o)], Map::new()),
        },
        _ => return Err(DecodeError::Malformed("body must be an event, an array of events or a batch".into())),
    };
    if messages.len() > limits.max_events_per_batch {
        return Err(DecodeError::TooManyEvents { count: messages.len(), limit: limits.max_events_per_batch });
    }
    let mut out = Translated {
        key: request_key(&top, &messages)?,
        sent_at: top.remove("sent_at").or_else(|| sent_at_ms?.parse::<f64>().ok().map(Value::from)),
        ..Translated::default()
    };
    let sent_at = out.sent_at.as_ref().and_then(|v| parse_wire_timestamp(v, "sent_at").ok());
    for (i, m) in messages.into_iter().enumerate() {
        let Value::Object(m) = m else {
            out.reject(i, not_an_object());
            continue;
        };
        match message(m, call, sent_at.unwrap_or(now)) {
            Ok(events) => events.into_iter().for_each(|e| out.push(i, e)),
            Err(r) => out.reject(i, r),
        }
    }
    Ok(out)
}

/// The key named by the request: `api_key` or `token` at the top, or in
/// the events (posthog-js puts `token` in each event's properties). All
/// must agree: one request writes to one project.
fn request_key(top: &Map<String, Value>, messages: &[Value]) -> Result<Option<String>, DecodeError> {
    let mut found: Option<String> = None;
    let named = |m: &Map<String, Value>| {
        ["api_key", "token", "$token"]
            .iter()
            .find_map(|k| text(m.get(*k)))
            .or_else(|| text(m.get("properties")?.get("token")))
    };
    let candidates = std::iter::once(named(top)).chain(messages.iter().map(|m| m.as_object().and_then(named)));
    for key in candidates.flatten() {
        match &found {
            Some(k) if *k != key => {
                return Err(DecodeError::Malformed("the events of one request name different project keys".into()));
            }
            Some(_) => {}
            None => found = Some(key),
        }
    }
    Ok(found)
}

/// One PostHog event (or `/engage/` update) as PX wire events: one, or one
/// per metric for `$web_vitals`.
fn message(mut m: Map<String, Value>, call: Call, sent_at: Micros) -> Result<Vec<Map<String, Value>>, Reject> {
    let mut properties = take_object(&mut m, "properties").unwrap_or_default();
    properties.remove("token");
    let listed_distinct_id = properties.remove("distinct_id");
    let distinct_id = [m.remove("distinct_id"), m.remove("$distinct_id"), listed_distinct_id]
        .into_iter()
        .flatten()
        .find(|v| !v.is_null());
    let name = match call {
        Call::Engage => "$set".to_string(),
        Call::Capture => text(m.get("event"))
            .ok_or_else(|| Reject::new(RejectCode::MissingField, "event", "event name is required"))?,
    };

    let mut ev = Map::new();
    put(&mut ev, "distinct_id", distinct_id);
    let uuid = text(m.get("uuid"));
    put(&mut ev, "event_id", uuid.as_deref().map(event_id));
    put(&mut ev, "session_id", properties.remove("$session_id").filter(|v| !v.is_null()));
    let timestamp = match (m.remove("timestamp").filter(|v| !v.is_null()), m.get("offset").and_then(Value::as_f64)) {
        (Some(t), _) => Some(t),
        (None, Some(offset)) => rfc3339(sent_at - (offset * 1000.0) as Micros).map(Value::from),
        (None, None) => None,
    };
    put(&mut ev, "timestamp", timestamp);
    put(&mut ev, "sent_at", m.remove("sent_at"));
    for key in [props::SET, props::SET_ONCE] {
        put(&mut ev, key, m.remove(key));
    }
    ev.insert("context".into(), Value::Object(context(&mut properties, name == "$pageview")));

    let renamed = match name.as_str() {
        "$pageview" => props::EVENT_PAGE_VIEW,
        "$pageleave" => props::EVENT_PAGE_LEAVE,
        "$autocapture" if properties.get("$event_type").is_none_or(|t| t.as_str() == Some("click")) => {
            click(&mut properties);
            props::EVENT_CLICK
        }
        "$rageclick" => {
            click(&mut properties);
            props::EVENT_RAGE_CLICK
        }
        "$dead_click" => {
            click(&mut properties);
            props::EVENT_DEAD_CLICK
        }
        "$exception" => {
            error(&mut properties);
            props::EVENT_ERROR
        }
        "$groupidentify" => {
            group(&mut properties);
            props::EVENT_GROUP
        }
        "$web_vitals" => return Ok(web_vitals(ev, properties, uuid.as_deref())),
        _ => name.as_str(),
    };
    ev.insert("event".into(), renamed.into());
    ev.insert("properties".into(), Value::Object(properties));
    Ok(vec![ev])
}

fn rfc3339(micros: Micros) -> Option<String> {
    DateTime::from_timestamp_micros(micros).map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Moves PostHog's context properties into a PX context. `title` is the
/// page's title only on a `$pageview` (elsewhere it may be anything).
fn context(p: &mut Map<String, Value>, pageview: bool) -> Map<String, Value> {
    let mut take = |key: &str| p.remove(key);
    let mut page = Map::new();
    put(&mut page, "url", text(take("$current_url").as_ref()));
    put(&mut page, "path", text(take("$pathname").as_ref()));
    put(&mut page, "referrer", text(take("$referrer").as_ref()).filter(|r| r != "$direct"));
    if pageview {
        put(&mut page, "title", text(take("title").as_ref()));
    }
    let mut c = Map::new();
    if !page.is_empty() {
        c.insert("page".into(), Value::Object(page));
    }
    put(&mut c, "user_agent", text(take("$raw_user_agent").as_ref()));
    put(&mut c, "locale", text(take("$browser_language").as_ref()));
    put(&mut c, "timezone", text(take("$timezone").as_ref()));
    put(&mut c, "ip", text(take("$ip").as_ref()));
    let mut screen = Map::new();
    put(&mut screen, "width", pixels(take("$screen_width").as_ref()));
    put(&mut screen, "height", pixels(take("$screen_height").as_ref()));
    if !screen.is_empty() {
        c.insert("screen".into(), Value::Object(screen));
    }
    let mut library = Map::new();
    put(&mut library, "name", text(take("$lib").as_ref()));
    put(&mut library, "version", text_or_number(take("$lib_version").as_ref()));
    if !library.is_empty() {
        c.insert("library".into(), Value::Object(library));
    }
    put(&mut c, "browser", text(take("$browser").as_ref()));
    put(&mut c, "browser_version", text_or_number(take("$browser_version").as_ref()));
    // PX names operating systems as its User-Agent parser does.
    put(&mut c, "os", text(take("$os").as_ref()).map(|os| if os == "Mac OS X" { "macOS".into() } else { os }));
    put(&mut c, "os_version", text_or_number(take("$os_version").as_ref()));
    put(&mut c, "device_type", text(take("$device_type").as_ref()).map(|d| d.to_ascii_lowercase()));
    c
}

/// PX's click properties from PostHog's: `text` from `$el_text`, `tag` from
/// the first element of `$elements` or `$elements_chain` (PostHog sends no
/// CSS selector; its element chain is kept as it is).
fn click(p: &mut Map<String, Value>) {
    let label = text(p.get("$el_text"));
    put(p, "text", label);
    let first = p.get("$elements").and_then(|e| e.get(0)?.get("tag_name")).and_then(|t| t.as_str()).or_else(|| {
        let chain = p.get("$elements_chain")?.as_str()?;
        let end = chain.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(chain.len());
        Some(&chain[..end]).filter(|t| !t.is_empty())
    });
    let tag = first.map(str::to_owned);
    put(p, "tag", tag);
}

/// PX's error properties (`message`, `type`, `stack`) from PostHog's, which
/// are also kept: `$exception_message`/`$exception_type`, or the first entry
/// of `$exception_list`.
fn error(p: &mut Map<String, Value>) {
    let first = p.get("$exception_list").and_then(|l| l.get(0)).cloned().unwrap_or_default();
    let message = text(p.get("$exception_message")).or_else(|| text(first.get("value")));
    let kind = text(p.get("$exception_type")).or_else(|| text(first.get("type")));
    let stack = text(p.get("$exception_stack_trace_raw"));
    put(p, "message", message);
    put(p, "type", kind);
    put(p, "stack", stack);
}

/// `$groupidentify`'s `$group_type`, `$group_key` and `$group_set` as PX's
/// `group` event properties: `group_type`, `group_id` and the traits.
fn group(p: &mut Map<String, Value>) {
    let traits = take_object(p, "$group_set").unwrap_or_default();
    let kind = p.remove("$group_type");
    let key = text_or_number(p.remove("$group_key").as_ref());
    p.extend(traits);
    put(p, "group_type", kind);
    put(p, "group_id", key);
}

/// The metrics posthog-js reports as `$web_vitals_<NAME>_value`.
const WEB_VITALS: [&str; 5] = ["LCP", "FCP", "CLS", "INP", "TTFB"];

/// One `web_vital` event (`name`, `value`, `rating`) per metric of a
/// PostHog `$web_vitals` event, each with an id derived from the event's,
/// so that a retry still dedupes.
fn web_vitals(ev: Map<String, Value>, mut p: Map<String, Value>, uuid: Option<&str>) -> Vec<Map<String, Value>> {
    let mut metrics = Vec::new();
    for name in WEB_VITALS {
        let value = p.remove(&format!("$web_vitals_{name}_value"));
        let detail = p.remove(&format!("$web_vitals_{name}_event"));
        if let Some(value) = value.filter(Value::is_number) {
            metrics.push((name, value, text(detail.as_ref().and_then(|d| d.get("rating")))));
        }
    }
    p.retain(|k, _| !k.starts_with("$web_vitals_"));
    if metrics.is_empty() {
        let mut ev = ev;
        ev.insert("event".into(), props::EVENT_WEB_VITAL.into());
        ev.insert("properties".into(), Value::Object(p));
        return vec![ev];
    }
    metrics
        .into_iter()
        .map(|(name, value, rating)| {
            let mut e = ev.clone();
            let mut props = p.clone();
            props.insert("name".into(), name.into());
            props.insert("value".into(), value);
            put(&mut props, "rating", rating);
            e.insert("event".into(), props::EVENT_WEB_VITAL.into());
            put(&mut e, "event_id", uuid.map(|u| event_id(&format!("{u}/{name}"))));
            e.insert("properties".into(), Value::Object(props));
            e
        })
        .collect()
}

#[cfg(test)]
#[path = "posthog_tests.rs"]
mod tests;
