//! The event as it arrives on the wire ([`WireEvent`]) and as it is stored
//! ([`Event`]). Pipeline stages in `px-ingest` turn the first into the second;
//! the event stores in `px-store` only ever see the second.

use crate::time::Micros;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// One event as a client sends it to `POST /api/v1/events[/batch]`.
///
/// Timestamps and the event id stay loosely typed here so that the validation
/// stage can reject a bad one with a reason naming the field, instead of the
/// JSON decoder rejecting the whole event with a generic message.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WireEvent {
    pub event: Option<String>,
    pub distinct_id: Option<Value>,
    pub user_id: Option<Value>,
    pub anonymous_id: Option<Value>,
    pub event_id: Option<String>,
    pub session_id: Option<Value>,
    /// RFC 3339 string or milliseconds since the epoch, client clock.
    pub timestamp: Option<Value>,
    /// When the client sent this event (overrides the batch's `sent_at`).
    pub sent_at: Option<Value>,
    pub properties: Option<Map<String, Value>>,
    pub context: Option<EventContext>,
    /// Person properties to set (PostHog's `$set`), also read from properties.
    #[serde(rename = "$set")]
    pub set: Option<Map<String, Value>>,
    /// Person properties set only when absent (`$set_once`).
    #[serde(rename = "$set_once")]
    pub set_once: Option<Map<String, Value>>,
}

/// Where and how the event was captured. Deserialized by hand (below):
/// serde's `flatten` would buffer every key of every context and search
/// the buffer once per field, a tenth of the gateway's parse.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventContext {
    pub page: Option<PageContext>,
    pub user_agent: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub screen: Option<ScreenContext>,
    pub library: Option<LibraryContext>,
    /// The client's IP when a server SDK forwards events on a user's behalf.
    pub ip: Option<String>,
    /// Geography already resolved upstream (a CDN header, a server SDK that
    /// knows it); takes precedence over the IP lookup. ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub city: Option<String>,
    /// The device as the client already knows it (mobile SDKs have no
    /// User-Agent worth parsing; PostHog clients send `$browser`, `$os`, ...).
    /// Each one given takes precedence over the User-Agent parse.
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    /// `desktop`, `mobile`, `tablet` or `bot`.
    pub device_type: Option<String>,
    /// Any other context keys are kept as `$context_<key>` properties.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl<'de> Deserialize<'de> for EventContext {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ContextVisitor)
    }
}

struct ContextVisitor;

impl<'de> serde::de::Visitor<'de> for ContextVisitor {
    type Value = EventContext;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a context object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<EventContext, A::Error> {
        let mut c = EventContext::default();
        while let Some(key) = map.next_key::<ContextKey>()? {
            match key {
                ContextKey::Page => c.page = map.next_value()?,
                ContextKey::UserAgent => c.user_agent = map.next_value()?,
                ContextKey::Locale => c.locale = map.next_value()?,
                ContextKey::Timezone => c.timezone = map.next_value()?,
                ContextKey::Screen => c.screen = map.next_value()?,
                ContextKey::Library => c.library = map.next_value()?,
                ContextKey::Ip => c.ip = map.next_value()?,
                ContextKey::Country => c.country = map.next_value()?,
                ContextKey::City => c.city = map.next_value()?,
                ContextKey::Browser => c.browser = map.next_value()?,
                ContextKey::BrowserVersion => c.browser_version = map.next_value()?,
                ContextKey::Os => c.os = map.next_value()?,
                ContextKey::OsVersion => c.os_version = map.next_value()?,
                ContextKey::DeviceType => c.device_type = map.next_value()?,
                ContextKey::Other(k) => {
                    c.other.insert(k, map.next_value()?);
                }
            }
        }
        Ok(c)
    }
}

/// A context key: one of [`EventContext`]'s fields, or any other.
enum ContextKey {
    Page,
    UserAgent,
    Locale,
    Timezone,
    Screen,
    Library,
    Ip,
    Country,
    City,
    Browser,
    BrowserVersion,
    Os,
    OsVersion,
    DeviceType,
    Other(String),
}

impl<'de> Deserialize<'de> for ContextKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = ContextKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a context key")
            }
            fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<ContextKey, E> {
                Ok(match k {
                    "page" => ContextKey::Page,
                    "user_agent" => ContextKey::UserAgent,
                    "locale" => ContextKey::Locale,
                    "timezone" => ContextKey::Timezone,
                    "screen" => ContextKey::Screen,
                    "library" => ContextKey::Library,
                    "ip" => ContextKey::Ip,
                    "country" => ContextKey::Country,
                    "city" => ContextKey::City,
                    "browser" => ContextKey::Browser,
                    "browser_version" => ContextKey::BrowserVersion,
                    "os" => ContextKey::Os,
                    "os_version" => ContextKey::OsVersion,
                    "device_type" => ContextKey::DeviceType,
                    other => ContextKey::Other(other.to_string()),
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PageContext {
    pub url: Option<String>,
    pub referrer: Option<String>,
    pub title: Option<String>,
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ScreenContext {
    pub width: Option<u32>,
    pub height: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LibraryContext {
    pub name: Option<String>,
    pub version: Option<String>,
}

/// Columns derived from the context by the enrichment stage. Each is stored in
/// its own column so that breakdowns and filters on them scan one column
/// instead of parsing JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    pub url: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
    pub title: Option<String>,
    pub referrer: Option<String>,
    pub referrer_domain: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub device_type: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    /// The client IP after anonymisation (or none when the project drops it).
    pub ip: Option<String>,
    pub locale: Option<String>,
    pub screen_width: Option<u32>,
    pub screen_height: Option<u32>,
    pub lib: Option<String>,
    pub lib_version: Option<String>,
}

/// Lists [`Enrichment`]'s text columns once, in table order (url ..
/// locale, lib, lib_version; the screen sizes sit between locale and lib
/// in the table), for everything that walks them: the Arrow conversion and
/// the spool's encoding. Each accessor destructures without `..`, so a new
/// field fails to compile until it is listed here or named as a size.
macro_rules! text_columns {
    ($($field:ident),* $(,)?) => {
        impl Enrichment {
            /// The text columns' names, in the order of [`Self::texts`].
            pub const TEXT_COLUMNS: [&'static str; 22] = [$(stringify!($field)),*];

            pub fn texts(&self) -> [&Option<String>; 22] {
                let Self { $($field,)* screen_width: _, screen_height: _ } = self;
                [$($field),*]
            }

            pub fn texts_mut(&mut self) -> [&mut Option<String>; 22] {
                let Self { $($field,)* screen_width: _, screen_height: _ } = self;
                [$($field),*]
            }
        }
    };
}

text_columns!(
    url,
    host,
    path,
    title,
    referrer,
    referrer_domain,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_term,
    utm_content,
    browser,
    browser_version,
    os,
    os_version,
    device_type,
    country,
    city,
    ip,
    locale,
    lib,
    lib_version,
);

/// What an event does to the person graph besides being counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PersonLink {
    /// `anonymous_id`'s history now belongs to the event's distinct id.
    Identify { anonymous_id: String },
    /// `alias` is another name of the event's distinct id's person.
    Alias { alias: String },
}

/// A validated, normalized and enriched event, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub event_id: Uuid,
    pub event: String,
    pub distinct_id: String,
    /// The person at ingest time: a UUIDv5 of project and distinct id, or
    /// the person an earlier identify/alias merged that id into. Merges made
    /// later are resolved at query time (`person_overrides`) until the
    /// store writes them into the events.
    pub person_id: Uuid,
    /// Client session, or the server-side session when the client sent none
    /// (filled by the sessionize stage; `None` only before that stage).
    pub session_id: Option<String>,
    pub timestamp: Micros,
    pub received_at: Micros,
    /// Event properties as a JSON object, after PII masking.
    pub properties: Map<String, Value>,
    pub person_set: Option<Map<String, Value>>,
    pub person_set_once: Option<Map<String, Value>>,
    pub link: Option<PersonLink>,
    pub enrichment: Enrichment,
    /// The client timestamp was more than the allowed skew in the future and
    /// was replaced by the receive time.
    pub timestamp_clamped: bool,
}

/// The namespace for deterministic person ids.
const PERSON_NAMESPACE: Uuid = Uuid::from_u128(0x8d3f_52a1_6c0e_4b7a_9f21_3e55_0c7d_a1b4);

/// The person id a distinct id has until a merge says otherwise: the
/// UUIDv5 of `project:distinct_id`. Hashed with the `sha1` crate, which
/// uses the CPU's SHA instructions where it has them: a third of the
/// time of `Uuid::new_v5`'s portable SHA-1, on every event ingested.
pub fn person_id_for(project: crate::ProjectId, distinct_id: &str) -> Uuid {
    use sha1::Digest;
    let mut hash = sha1::Sha1::new();
    hash.update(PERSON_NAMESPACE.as_bytes());
    hash.update(project.0.to_le_bytes());
    hash.update(b":");
    hash.update(distinct_id.as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// The session id as 16 bytes, stored beside it (`session_uuid`) so that
/// queries group and join by session on a fixed-width value instead of
/// text, which they must otherwise hash, compare and decompress row by row.
///
/// A session id that is a UUID in canonical form (lowercase, hyphenated:
/// what PX's SDKs, its server-side sessions, PostHog's SDKs and the demo
/// generator send) is that UUID, so distinct ids stay distinct exactly;
/// any other text is its MD5, the same as DuckDB's `md5(id)::UUID`, which
/// the schema upgrade uses. Two such ids collide with odds of about 2^-128
/// a pair, as do the person ids derived from distinct ids.
pub fn session_uuid(session_id: &str) -> Uuid {
    if let Ok(u) = Uuid::try_parse(session_id)
        && session_id.len() == 36
        && u.hyphenated().encode_lower(&mut Uuid::encode_buffer()) == session_id
    {
        return u;
    }
    use md5::Digest;
    Uuid::from_bytes(md5::Md5::digest(session_id.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProjectId;

    #[test]
    fn person_ids_are_stable_and_scoped_by_project() {
        let a = person_id_for(ProjectId(1), "u1");
        assert_eq!(a, person_id_for(ProjectId(1), "u1"));
        assert_ne!(a, person_id_for(ProjectId(2), "u1"));
        assert_ne!(a, person_id_for(ProjectId(1), "u2"));
        // Stored events hold these ids: they must stay the UUIDv5 they were.
        let name = [&1i64.to_le_bytes()[..], b":u1"].concat();
        assert_eq!(a, Uuid::new_v5(&PERSON_NAMESPACE, &name));
    }

    #[test]
    fn session_uuids_keep_canonical_uuids_and_hash_other_ids() {
        let id = "0190abcd-1234-7abc-8def-0123456789ab";
        assert_eq!(session_uuid(id).to_string(), id);
        // DuckDB: SELECT md5('abc')::UUID
        assert_eq!(session_uuid("abc").to_string(), "90015098-3cd2-4fb0-d696-3f7d28e17f72");
        // Another spelling of the same UUID is another session id.
        let upper = id.to_uppercase();
        assert_ne!(session_uuid(&upper), session_uuid(id));
        assert_ne!(session_uuid(&id.replace('-', "")), session_uuid(id));
    }

    #[test]
    fn context_fields_are_read_and_other_keys_kept() {
        let w: WireEvent = serde_json::from_str(
            r#"{"event":"a","context":{"page":{"url":"https://x.io/"},"os":null,"campaign":{"name":"c"},"ip":"1.2.3.4"}}"#,
        )
        .unwrap();
        let c = w.context.unwrap();
        assert_eq!(c.page.and_then(|p| p.url).as_deref(), Some("https://x.io/"));
        assert_eq!((c.os, c.ip.as_deref()), (None, Some("1.2.3.4")));
        assert_eq!(c.other.len(), 1);
        assert_eq!(c.other["campaign"]["name"], "c");
        let err = serde_json::from_str::<WireEvent>(r#"{"event":"a","context":{"screen":"big"}}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        assert!(serde_json::from_str::<WireEvent>(r#"{"event":"a","context":[1]}"#).is_err());
    }

    #[test]
    fn unknown_top_level_fields_are_named() {
        let err = serde_json::from_str::<WireEvent>(r#"{"event":"a","evnt":"b"}"#).unwrap_err();
        assert!(err.to_string().contains("evnt"), "{err}");
    }
}
