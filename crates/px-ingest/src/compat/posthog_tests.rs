use super::*;
use flate2::{Compression, write::GzEncoder};
use serde_json::json;
use std::io::Write;

const NOW: Micros = 1_768_046_400_000_000; // 2026-01-10T12:00:00Z

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn decode(body: &[u8], encoding: Encoding<'_>) -> Result<Vec<u8>, DecodeError> {
    decode_body(body, encoding, &IngestLimits::default()).map(|c| c.into_owned())
}

fn events(body: Value) -> (Translated, Vec<Value>) {
    let t = translate(body.to_string().as_bytes(), Call::Capture, None, &IngestLimits::default(), NOW).unwrap();
    let events = t.events.iter().map(|e| serde_json::from_str(e.get()).unwrap()).collect();
    (t, events)
}

fn one(body: Value) -> Value {
    let (t, mut events) = events(body);
    assert!(t.rejected.is_empty(), "{:?}", t.rejected);
    assert_eq!(events.len(), 1);
    events.remove(0)
}

#[test]
fn every_wrapping_decodes_to_the_same_json() {
    let json = br#"{"api_key":"k","batch":[]}"#;
    let b64 = BASE64.encode(json);
    let plain = Encoding::default();
    assert_eq!(decode(json, plain).unwrap(), json);
    assert_eq!(decode(&gzip(json), Encoding { compression: Some("gzip-js"), ..plain }).unwrap(), json);
    assert_eq!(decode(&gzip(json), Encoding { content_encoding: Some("gzip"), ..plain }).unwrap(), json);
    assert_eq!(decode(b64.as_bytes(), Encoding { compression: Some("base64"), ..plain }).unwrap(), json);
    // A form's data field, percent-encoded or with '+' left bare (read as a space).
    let escaped: String = url::form_urlencoded::byte_serialize(b64.as_bytes()).collect();
    let form = Encoding { content_type: Some("application/x-www-form-urlencoded"), ..plain };
    assert_eq!(decode(format!("data={escaped}&compression=base64").as_bytes(), form).unwrap(), json);
    let bare = format!("data={}", BASE64.encode(b"{\"a\":\"\xfb\xff\"}"));
    assert!(bare.contains('+'), "the sample must exercise '+'");
    assert_eq!(decode(bare.as_bytes(), plain).unwrap(), b"{\"a\":\"\xfb\xff\"}");
    // Base64 of gzip, and a form field holding plain JSON.
    let b64_gzip = BASE64.encode(gzip(json));
    assert_eq!(decode(b64_gzip.as_bytes(), Encoding { compression: Some("base64"), ..plain }).unwrap(), json);
    assert_eq!(decode(b"data=%7B%22a%22%3A1%7D", form).unwrap(), br#"{"a":1}"#);
}

#[test]
fn bad_wrappings_are_refused_with_their_reason() {
    let plain = Encoding::default();
    assert!(matches!(
        decode(b"{}", Encoding { compression: Some("lz64"), ..plain }),
        Err(DecodeError::UnsupportedCompression(_))
    ));
    assert!(matches!(decode(b"!!!", Encoding { compression: Some("base64"), ..plain }), Err(DecodeError::Base64(_))));
    let form = Encoding { content_type: Some("application/x-www-form-urlencoded"), ..plain };
    assert!(matches!(decode(b"other=1", form), Err(DecodeError::Malformed(_))));
    let limits = IngestLimits { max_decompressed_bytes: 100, ..Default::default() };
    let bomb = BASE64.encode(gzip(&[b' '; 10_000]));
    let r = decode_body(bomb.as_bytes(), Encoding { compression: Some("base64"), ..plain }, &limits);
    assert!(matches!(r, Err(DecodeError::TooLarge { .. })));
}

#[test]
fn single_events_arrays_and_batches() {
    let (t, e) = events(json!({"event": "a", "distinct_id": "u", "api_key": "k1"}));
    assert_eq!((t.key.as_deref(), e[0]["event"].as_str()), (Some("k1"), Some("a")));
    let (t, e) = events(json!([{"event": "a", "properties": {"distinct_id": "u", "token": "k2"}}, {"event": "b"}]));
    assert_eq!(t.key.as_deref(), Some("k2"));
    assert_eq!(e.len(), 2);
    assert_eq!(e[0]["distinct_id"], "u");
    assert!(e[0]["properties"].get("token").is_none(), "the key is not stored as a property");
    let (t, e) = events(json!({"api_key": "k3", "sent_at": "2026-01-10T12:00:00Z", "batch": [{"event": "a"}, 5]}));
    assert_eq!((t.key.as_deref(), e.len()), (Some("k3"), 1));
    assert_eq!(t.sent_at, Some(json!("2026-01-10T12:00:00Z")));
    assert_eq!(t.rejected[0].0, 1);
    let mixed = json!({"api_key": "k1", "batch": [{"event": "a", "api_key": "k2"}]}).to_string();
    let r = translate(mixed.as_bytes(), Call::Capture, None, &IngestLimits::default(), NOW);
    assert!(matches!(r, Err(DecodeError::Malformed(m)) if m.contains("different project keys")));
}

#[test]
fn ids_times_and_person_properties() {
    let e = one(json!({
        "event": "signed_up", "distinct_id": "u", "uuid": "0190d7a4-1c2b-7cde-8f00-123456789abc",
        "timestamp": "2026-01-10T11:00:00Z", "$set": {"plan": "pro"},
        "properties": {"$session_id": "s1", "$set_once": {"first": 1}, "plan": "pro"}
    }));
    assert_eq!(e["event_id"], "0190d7a4-1c2b-7cde-8f00-123456789abc");
    assert_eq!((&e["session_id"], &e["timestamp"]), (&json!("s1"), &json!("2026-01-10T11:00:00Z")));
    assert_eq!(e["$set"], json!({"plan": "pro"}));
    assert_eq!(e["properties"], json!({"$set_once": {"first": 1}, "plan": "pro"}), "validation lifts $set_once");
    // offset: milliseconds before the request was sent (or received).
    let e = one(json!({"event": "a", "distinct_id": "u", "offset": 1500}));
    assert_eq!(e["timestamp"], "2026-01-10T11:59:58.500Z");
    let body = json!([{"event": "a", "distinct_id": "u", "offset": 1000}]).to_string();
    let t = translate(body.as_bytes(), Call::Capture, Some("1768046300000"), &IngestLimits::default(), NOW).unwrap();
    assert_eq!(t.sent_at, Some(json!(1_768_046_300_000.0)));
    assert_eq!(serde_json::from_str::<Value>(t.events[0].get()).unwrap()["timestamp"], "2026-01-10T11:58:19.000Z");
}

#[test]
fn context_properties_move_into_the_context() {
    let e = one(json!({"event": "$pageview", "distinct_id": "u", "properties": {
        "$current_url": "https://a.io/p?utm_source=x", "$pathname": "/p", "$referrer": "$direct", "title": "P",
        "$raw_user_agent": "UA", "$browser_language": "pt-BR", "$timezone": "America/Sao_Paulo", "$ip": "203.0.113.9",
        "$screen_width": 1440, "$screen_height": 900, "$lib": "web", "$lib_version": "1.2.3",
        "$browser": "Chrome", "$browser_version": 120, "$os": "Mac OS X", "$os_version": "14.1", "$device_type": "Desktop",
        "$referring_domain": "$direct", "custom": 1
    }}));
    assert_eq!(e["event"], "page_view");
    assert_eq!(
        e["context"],
        json!({
            "page": {"url": "https://a.io/p?utm_source=x", "path": "/p", "title": "P"},
            "user_agent": "UA", "locale": "pt-BR", "timezone": "America/Sao_Paulo", "ip": "203.0.113.9",
            "screen": {"width": 1440, "height": 900}, "library": {"name": "web", "version": "1.2.3"},
            "browser": "Chrome", "browser_version": "120", "os": "macOS", "os_version": "14.1", "device_type": "desktop"
        })
    );
    assert_eq!(e["properties"], json!({"$referring_domain": "$direct", "custom": 1}));
    serde_json::from_value::<px_core::WireEvent>(e).unwrap();
    let e = one(json!({"event": "note", "distinct_id": "u", "properties": {"title": "kept"}}));
    assert_eq!(e["properties"]["title"], "kept", "title is the page's only on a page view");
}

#[test]
fn posthog_names_become_px_names() {
    let name = |event: &str, props: Value| one(json!({"event": event, "distinct_id": "u", "properties": props}));
    assert_eq!(name("$pageleave", json!({}))["event"], "page_leave");
    let click = name(
        "$autocapture",
        json!({"$event_type": "click", "$el_text": "Buy", "$elements_chain": "button.cta:text=\"Buy\""}),
    );
    assert_eq!((&click["event"], &click["properties"]["text"]), (&json!("click"), &json!("Buy")));
    assert_eq!(click["properties"]["tag"], "button");
    let submit = name("$autocapture", json!({"$event_type": "submit"}));
    assert_eq!(submit["event"], "$autocapture", "only clicks are clicks");
    let rage = name("$rageclick", json!({"$elements": [{"tag_name": "a"}]}));
    assert_eq!((&rage["event"], &rage["properties"]["tag"]), (&json!("rage_click"), &json!("a")));
    assert_eq!(name("$dead_click", json!({}))["event"], "dead_click");
    let err = name("$exception", json!({"$exception_list": [{"type": "TypeError", "value": "x is undefined"}]}));
    assert_eq!(err["event"], "error");
    assert_eq!(
        (&err["properties"]["message"], &err["properties"]["type"]),
        (&json!("x is undefined"), &json!("TypeError"))
    );
    let group =
        name("$groupidentify", json!({"$group_type": "company", "$group_key": 7, "$group_set": {"name": "Acme"}}));
    assert_eq!(group["event"], "group");
    assert_eq!(group["properties"], json!({"group_type": "company", "group_id": "7", "name": "Acme"}));
    for kept in ["$identify", "$create_alias", "$set", "custom event"] {
        assert_eq!(name(kept, json!({}))["event"], kept);
    }
}

#[test]
fn web_vitals_become_one_event_per_metric() {
    let (_, e) = events(
        json!({"event": "$web_vitals", "distinct_id": "u", "uuid": "0190d7a4-1c2b-7cde-8f00-123456789abc",
        "properties": {"$web_vitals_LCP_value": 2400.5, "$web_vitals_LCP_event": {"rating": "good", "value": 2400.5},
                       "$web_vitals_CLS_value": 0.3, "$web_vitals_enabled_server_side": true, "$current_url": "https://a.io/"}}),
    );
    assert_eq!(e.len(), 2);
    assert_eq!(e[0]["properties"], json!({"name": "LCP", "value": 2400.5, "rating": "good"}));
    assert_eq!(e[1]["properties"], json!({"name": "CLS", "value": 0.3}));
    assert!(e.iter().all(|v| v["event"] == "web_vital" && v["context"]["page"]["url"] == "https://a.io/"));
    assert_ne!(e[0]["event_id"], e[1]["event_id"]);
    let (_, again) =
        events(json!({"event": "$web_vitals", "distinct_id": "u", "uuid": "0190d7a4-1c2b-7cde-8f00-123456789abc",
        "properties": {"$web_vitals_LCP_value": 2400.5}}));
    assert_eq!(again[0]["event_id"], e[0]["event_id"], "a retry gets the same ids");
}

#[test]
fn engage_sets_person_properties_and_flags_name_their_key() {
    let body = json!({"$set": {"plan": "pro"}, "$distinct_id": "u", "$token": "k"}).to_string();
    let t = translate(body.as_bytes(), Call::Engage, None, &IngestLimits::default(), NOW).unwrap();
    let e: Value = serde_json::from_str(t.events[0].get()).unwrap();
    assert_eq!(t.key.as_deref(), Some("k"));
    assert_eq!((&e["event"], &e["distinct_id"], &e["$set"]), (&json!("$set"), &json!("u"), &json!({"plan": "pro"})));
    assert_eq!(flags_key(br#"{"token":"k","distinct_id":"u"}"#).as_deref(), Some("k"));
    assert_eq!(flags_key(br#"{"api_key":"k2"}"#).as_deref(), Some("k2"));
    assert_eq!(flags_key(b"[]"), None);
}
