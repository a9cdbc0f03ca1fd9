//! First stage: turn a request body into raw per-event JSON slices.
//!
//! Decompression is capped (a gzip bomb stops at the limit instead of filling
//! memory) and the batch envelope is parsed without parsing the events, so
//! one malformed event is rejected on its own while its neighbours are kept.

use flate2::read::MultiGzDecoder;
use px_core::IngestLimits;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::Read;

/// Why a whole request was refused (as opposed to one event of it).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("{field} is larger than the limit of {limit} bytes")]
    TooLarge { field: &'static str, limit: usize },
    #[error("body is not valid gzip: {0}")]
    Gzip(String),
    #[error("unsupported content-encoding {0:?} (use gzip or none)")]
    UnsupportedEncoding(String),
    #[error("unsupported compression {0:?} (use gzip-js, base64 or none)")]
    UnsupportedCompression(String),
    #[error("body is not valid base64: {0}")]
    Base64(String),
    #[error("body is not a valid batch: {0}")]
    Malformed(String),
    #[error("batch holds {count} events, more than the limit of {limit}")]
    TooManyEvents { count: usize, limit: usize },
}

impl DecodeError {
    /// The request field the error is about, for the error body.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TooLarge { field, .. } => field,
            Self::Gzip(_) | Self::Base64(_) | Self::Malformed(_) => "body",
            Self::UnsupportedEncoding(_) => "content-encoding",
            Self::UnsupportedCompression(_) => "compression",
            Self::TooManyEvents { .. } => "events",
        }
    }
}

/// The first bytes of every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Returns the body decompressed according to `Content-Encoding`, enforcing
/// `max_decompressed_bytes`. Bodies starting with the gzip magic are
/// decompressed even without the header, as some SDKs forget to send it.
pub fn decompress<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
    limits: &IngestLimits,
) -> Result<Cow<'a, [u8]>, DecodeError> {
    if body.len() > limits.max_body_bytes {
        return Err(DecodeError::TooLarge { field: "body", limit: limits.max_body_bytes });
    }
    let gzip = match content_encoding.map(str::trim) {
        None | Some("") | Some("identity") => body.starts_with(&GZIP_MAGIC),
        Some(e) if e.eq_ignore_ascii_case("gzip") || e.eq_ignore_ascii_case("x-gzip") => true,
        Some(other) => return Err(DecodeError::UnsupportedEncoding(other.to_string())),
    };
    if !gzip {
        return Ok(Cow::Borrowed(body));
    }
    gunzip_capped(body, limits.max_decompressed_bytes).map(Cow::Owned)
}

/// Decompresses gzip, failing once the output would pass `limit` bytes.
#[allow(clippy::disallowed_methods)] // read_to_end on a `take`-capped reader
pub fn gunzip_capped(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let mut reader = MultiGzDecoder::new(body).take(limit as u64 + 1);
    reader.read_to_end(&mut out).map_err(|e| DecodeError::Gzip(e.to_string()))?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge { field: "decompressed body", limit });
    }
    Ok(out)
}

/// A batch whose events are still unparsed JSON.
#[derive(Debug)]
pub struct RawBatch<'a> {
    pub events: Vec<&'a RawValue>,
    /// The client's clock when it sent the batch, for skew correction.
    pub sent_at: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
    #[serde(default)]
    sent_at: Option<serde_json::Value>,
}

/// Parses `{"events": [...], "sent_at": ...}` or a bare array of events.
pub fn parse_batch<'a>(body: &'a [u8], limits: &IngestLimits) -> Result<RawBatch<'a>, DecodeError> {
    let text = std::str::from_utf8(body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let trimmed = text.trim_start();
    let batch = if trimmed.starts_with('[') {
        let events: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        RawBatch { events, sent_at: None }
    } else {
        let env: Envelope = serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        RawBatch { events: env.events, sent_at: env.sent_at }
    };
    if batch.events.len() > limits.max_events_per_batch {
        return Err(DecodeError::TooManyEvents { count: batch.events.len(), limit: limits.max_events_per_batch });
    }
    Ok(batch)
}

/// Parses a single event body (`POST /api/v1/events`) as a batch of one.
pub fn parse_single(body: &[u8]) -> Result<RawBatch<'_>, DecodeError> {
    let text = std::str::from_utf8(body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let event: &RawValue = serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if !event.get().trim_start().starts_with('{') {
        return Err(DecodeError::Malformed("an event must be a JSON object".into()));
    }
    Ok(RawBatch { events: vec![event], sent_at: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_is_decompressed_with_or_without_header() {
        let limits = IngestLimits::default();
        let body = gzip(br#"{"events":[]}"#);
        assert_eq!(&*decompress(&body, Some("gzip"), &limits).unwrap(), br#"{"events":[]}"#);
        assert_eq!(&*decompress(&body, None, &limits).unwrap(), br#"{"events":[]}"#);
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        let limits = IngestLimits { max_decompressed_bytes: 1000, ..Default::default() };
        let body = gzip(&vec![b'a'; 100_000]);
        let err = decompress(&body, Some("gzip"), &limits).unwrap_err();
        assert_eq!(err, DecodeError::TooLarge { field: "decompressed body", limit: 1000 });
    }

    #[test]
    fn broken_gzip_and_unknown_encodings_are_refused() {
        let limits = IngestLimits::default();
        assert!(matches!(decompress(b"\x1f\x8bxx", Some("gzip"), &limits), Err(DecodeError::Gzip(_))));
        assert!(matches!(decompress(b"{}", Some("br"), &limits), Err(DecodeError::UnsupportedEncoding(_))));
    }

    #[test]
    fn oversized_body_is_refused_before_decoding() {
        let limits = IngestLimits { max_body_bytes: 10, ..Default::default() };
        let err = decompress(&[b' '; 11], None, &limits).unwrap_err();
        assert_eq!(err.field(), "body");
    }

    #[test]
    fn batch_keeps_events_raw_so_bad_ones_fail_alone() {
        let limits = IngestLimits::default();
        let b = parse_batch(br#"{"events":[{"event":"a"},{"event":1},"x"],"sent_at":"2024-01-01T00:00:00Z"}"#, &limits)
            .unwrap();
        assert_eq!(b.events.len(), 3);
        assert!(b.sent_at.is_some());
        assert_eq!(parse_batch(br#"[{"event":"a"}]"#, &limits).unwrap().events.len(), 1);
    }

    #[test]
    fn envelope_errors_are_reported() {
        let limits = IngestLimits { max_events_per_batch: 1, ..Default::default() };
        assert!(matches!(parse_batch(b"{", &limits), Err(DecodeError::Malformed(_))));
        assert!(matches!(parse_batch(br#"{"evnts":[]}"#, &limits), Err(DecodeError::Malformed(_))));
        assert_eq!(parse_batch(br#"[{},{}]"#, &limits).unwrap_err(), DecodeError::TooManyEvents { count: 2, limit: 1 });
        assert!(parse_single(b"[1]").is_err());
    }
}
