//! The spool's event encoding: length-prefixed binary fields, the
//! properties as JSON text. Request tasks encode every event they accept
//! and recovery decodes them, so this is on the hot path of every
//! acknowledgement: JSON with field names cost the gateway a sixth of its
//! own CPU (escaping, number formatting, ~1,000 bytes an event), this a
//! few memory copies and about half the bytes to sync.
//!
//! A payload is [`BINARY`] then items, each an event ([`encode_event`])
//! and the session the writer assigned (an optional string). Payloads of
//! spools written before this encoding are JSON arrays (they start with
//! `[`); [`super::decode`] reads both, so an upgrade with events still
//! spooled loses none.
//!
//! Integers are little-endian; a string is its u32 byte length then its
//! UTF-8 bytes; an optional value is a 0 or 1 byte, then the value when 1.
//! The record's CRC guards the bytes, and decoding still checks every
//! length and every string, so a damaged payload is an error, not a panic.

use crate::event_store::ScopedEvent;
use px_core::event::PersonLink;
use px_core::{Enrichment, Event, ProjectId, ProjectScope, TenantId};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The first byte of a binary payload (a JSON one starts with `[`).
pub const BINARY: u8 = 1;

/// Appends one event's fragment (everything but the assigned session).
pub fn encode_event(out: &mut Vec<u8>, se: &ScopedEvent) -> serde_json::Result<()> {
    let (scope, e) = (&se.scope, &se.event);
    out.extend_from_slice(&scope.tenant_id.0.to_le_bytes());
    out.extend_from_slice(&scope.project_id.0.to_le_bytes());
    out.extend_from_slice(e.event_id.as_bytes());
    out.extend_from_slice(e.person_id.as_bytes());
    put_str(out, &e.event);
    put_str(out, &e.distinct_id);
    put_opt_str(out, e.session_id.as_deref());
    out.extend_from_slice(&e.timestamp.to_le_bytes());
    out.extend_from_slice(&e.received_at.to_le_bytes());
    put_json(out, &e.properties)?;
    for set in [&e.person_set, &e.person_set_once] {
        match set {
            Some(m) => {
                out.push(1);
                put_json(out, m)?;
            }
            None => out.push(0),
        }
    }
    match &e.link {
        None => out.push(0),
        Some(PersonLink::Identify { anonymous_id }) => {
            out.push(1);
            put_str(out, anonymous_id);
        }
        Some(PersonLink::Alias { alias }) => {
            out.push(2);
            put_str(out, alias);
        }
    }
    put_enrichment(out, &e.enrichment);
    out.push(u8::from(e.timestamp_clamped));
    Ok(())
}

/// Appends the session the writer assigned to the event before it.
pub fn encode_session(out: &mut Vec<u8>, session: Option<&str>) {
    put_opt_str(out, session);
}

/// Decodes a binary payload (after its [`BINARY`] byte).
pub fn decode(mut bytes: &[u8]) -> Result<Vec<ScopedEvent>, String> {
    let r = &mut bytes;
    let mut out = Vec::new();
    while !r.is_empty() {
        let mut se = event(r)?;
        if let Some(session) = opt(r, string)? {
            se.event.session_id = Some(session);
        }
        out.push(se);
    }
    Ok(out)
}

fn event(r: &mut &[u8]) -> Result<ScopedEvent, String> {
    let scope = ProjectScope { tenant_id: TenantId(i64_le(r)?), project_id: ProjectId(i64_le(r)?) };
    let event_id = uuid(r)?;
    let person_id = uuid(r)?;
    let name = string(r)?;
    let distinct_id = string(r)?;
    let session_id = opt(r, string)?;
    let timestamp = i64_le(r)?;
    let received_at = i64_le(r)?;
    let properties = json(r)?;
    let person_set = opt(r, json)?;
    let person_set_once = opt(r, json)?;
    let link = match byte(r)? {
        0 => None,
        1 => Some(PersonLink::Identify { anonymous_id: string(r)? }),
        2 => Some(PersonLink::Alias { alias: string(r)? }),
        other => return Err(format!("unknown person link kind {other}")),
    };
    let enrichment = enrichment(r)?;
    let timestamp_clamped = byte(r)? != 0;
    let event = Event {
        event_id,
        event: name,
        distinct_id,
        person_id,
        session_id,
        timestamp,
        received_at,
        properties,
        person_set,
        person_set_once,
        link,
        enrichment,
        timestamp_clamped,
    };
    Ok(ScopedEvent { scope, event })
}

/// A bit per column present (texts first, in `Enrichment::texts`' order,
/// then the two screen sizes), then each present value.
fn put_enrichment(out: &mut Vec<u8>, e: &Enrichment) {
    let (texts, sizes) = (e.texts(), [&e.screen_width, &e.screen_height]);
    let mut present = 0u32;
    for (i, t) in texts.iter().enumerate() {
        present |= u32::from(t.is_some()) << i;
    }
    for (i, s) in sizes.iter().enumerate() {
        present |= u32::from(s.is_some()) << (texts.len() + i);
    }
    out.extend_from_slice(&present.to_le_bytes());
    for t in texts.into_iter().flatten() {
        put_str(out, t);
    }
    for s in sizes.into_iter().flatten() {
        out.extend_from_slice(&s.to_le_bytes());
    }
}

fn enrichment(r: &mut &[u8]) -> Result<Enrichment, String> {
    let present = u32::from_le_bytes(take(r, 4)?.try_into().map_err(|_| "short enrichment")?);
    let mut e = Enrichment::default();
    let n = Enrichment::TEXT_COLUMNS.len();
    for (i, t) in e.texts_mut().into_iter().enumerate() {
        if present & (1 << i) != 0 {
            *t = Some(string(r)?);
        }
    }
    for (i, s) in [&mut e.screen_width, &mut e.screen_height].into_iter().enumerate() {
        if present & (1 << (n + i)) != 0 {
            *s = Some(u32::from_le_bytes(take(r, 4)?.try_into().map_err(|_| "short screen size")?));
        }
    }
    Ok(e)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Events are far below 4 GiB (the body limit), so the length fits.
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

/// JSON text behind a length written once the text is.
fn put_json(out: &mut Vec<u8>, map: &Map<String, Value>) -> serde_json::Result<()> {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    serde_json::to_writer(&mut *out, map)?;
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if r.len() < n {
        return Err(format!("the payload ends {} bytes short", n - r.len()));
    }
    let (head, rest) = r.split_at(n);
    *r = rest;
    Ok(head)
}

fn byte(r: &mut &[u8]) -> Result<u8, String> {
    Ok(take(r, 1)?[0])
}

fn i64_le(r: &mut &[u8]) -> Result<i64, String> {
    Ok(i64::from_le_bytes(take(r, 8)?.try_into().map_err(|_| "short integer")?))
}

fn uuid(r: &mut &[u8]) -> Result<Uuid, String> {
    Ok(Uuid::from_bytes(take(r, 16)?.try_into().map_err(|_| "short UUID")?))
}

fn bytes_with_len<'a>(r: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let len = u32::from_le_bytes(take(r, 4)?.try_into().map_err(|_| "short length")?);
    take(r, len as usize)
}

fn string(r: &mut &[u8]) -> Result<String, String> {
    let b = bytes_with_len(r)?;
    std::str::from_utf8(b).map(str::to_string).map_err(|e| format!("a string is not UTF-8: {e}"))
}

fn json(r: &mut &[u8]) -> Result<Map<String, Value>, String> {
    serde_json::from_slice(bytes_with_len(r)?).map_err(|e| format!("properties do not decode: {e}"))
}

fn opt<T>(r: &mut &[u8], read: fn(&mut &[u8]) -> Result<T, String>) -> Result<Option<T>, String> {
    match byte(r)? {
        0 => Ok(None),
        1 => read(r).map(Some),
        other => Err(format!("an optional value is marked {other}")),
    }
}
