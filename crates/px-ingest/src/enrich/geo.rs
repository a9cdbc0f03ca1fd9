//! IP → country/city enrichment from a MaxMind DB: GeoLite2-City, GeoIP2-City
//! or GeoLite2-Country (a Country database just yields no city).
//!
//! This module owns loading the database and answering lookups; reading
//! records is left to the `maxminddb` crate. That reader indexes its buffer
//! without bounds checks, so a corrupt or truncated file could panic a
//! request thread, or overflow the stack through a pointer cycle, in the
//! middle of a lookup. [`GeoIp::open`] therefore first walks the whole file
//! with bounds-checked code that follows the same decoding rules: metadata,
//! every search-tree record, every data record reachable from the tree.
//! Only a file that passes is handed to the reader, so lookups cannot panic,
//! and a bad file is reported once, at start-up, as a [`GeoError`] naming
//! its path. The walk is linear in the file size and visits each shared
//! record once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where an IP address is, as far as the database knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoInfo {
    /// ISO 3166-1 alpha-2 code, e.g. "BR".
    pub country: Option<String>,
    /// English city name.
    pub city: Option<String>,
}

/// Why a GeoIP database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("cannot read GeoIP database {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt GeoIP database {}: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("unreadable GeoIP database {}: {source}", .path.display())]
    Reader {
        path: PathBuf,
        #[source]
        source: maxminddb::MaxMindDbError,
    },
}

/// An opened, validated GeoIP database, held in memory.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let meta = &self.reader.metadata;
        f.debug_struct("GeoIp")
            .field("database_type", &meta.database_type)
            .field("build_epoch", &meta.build_epoch)
            .field("node_count", &meta.node_count)
            .finish()
    }
}

impl GeoIp {
    /// Reads the database at `path` into memory and validates it.
    pub fn open(path: &Path) -> Result<Self, GeoError> {
        let buf = std::fs::read(path).map_err(|source| GeoError::Read { path: path.to_path_buf(), source })?;
        Self::from_buf(buf, path)
    }

    /// Validates and loads the database `buf` read from `path`.
    fn from_buf(buf: Vec<u8>, path: &Path) -> Result<Self, GeoError> {
        let corrupt = |reason: String| GeoError::Corrupt { path: path.to_path_buf(), reason };
        let shape = validate(&buf).map_err(corrupt)?;
        let reader = maxminddb::Reader::from_source(buf)
            .map_err(|source| GeoError::Reader { path: path.to_path_buf(), source })?;
        let meta = &reader.metadata;
        if (meta.node_count, meta.record_size, meta.ip_version)
            != (shape.node_count, shape.record_size, shape.ip_version)
        {
            return Err(corrupt("metadata read two different ways".to_owned()));
        }
        Ok(Self { reader })
    }

    /// Country and city of `ip`; empty for an address the database does not
    /// know, such as a private or reserved one. Never panics.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        if ip.is_ipv6() && self.reader.metadata.ip_version != 6 {
            return GeoInfo::default();
        }
        match self.reader.lookup::<Record<'_>>(ip) {
            Ok(Some(record)) => record.into_info(),
            Ok(None) => GeoInfo::default(),
            Err(error) => {
                tracing::debug!(%ip, %error, "GeoIP record not decodable");
                GeoInfo::default()
            }
        }
    }

    /// The metadata's `database_type`, e.g. "GeoLite2-City".
    pub fn database_type(&self) -> &str {
        &self.reader.metadata.database_type
    }
}

/// The part of a GeoIP2 City/Country record PX uses; other keys are skipped.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country: Option<Place<'a>>,
    #[serde(borrow)]
    registered_country: Option<Place<'a>>,
    #[serde(borrow)]
    city: Option<Place<'a>>,
}

#[derive(Deserialize)]
struct Place<'a> {
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct Names<'a> {
    en: Option<&'a str>,
}

impl<'a> Record<'a> {
    fn into_info(self) -> GeoInfo {
        let present = |s: &&str| !s.is_empty();
        let iso = |place: Option<Place<'a>>| place.and_then(|p| p.iso_code).filter(present);
        let country = iso(self.country).or_else(|| iso(self.registered_country));
        let city = self.city.and_then(|c| c.names).and_then(|n| n.en).filter(present);
        GeoInfo { country: country.map(str::to_owned), city: city.map(str::to_owned) }
    }
}

// ---------------------------------------------------------------------------
// Structural validation. The rules below mirror maxminddb 0.26's decoder
// (`decoder.rs`, `Reader::from_source`, `read_node`, `resolve_data_pointer`),
// including its quirks, so that whatever passes here it reads without
// indexing out of bounds or recursing without end.

const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";
const DATA_SEPARATOR_LEN: usize = 16;
/// Deepest nesting of maps, arrays and pointer hops accepted. Real GeoIP2
/// records need about ten.
const MAX_DEPTH: usize = 32;

/// The metadata fields that shape the file.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    node_count: u32,
    record_size: u16,
    ip_version: u16,
}

fn validate(buf: &[u8]) -> Result<Shape, String> {
    // The reader takes the last marker in the file, so must we.
    let marker =
        memchr::memmem::rfind(buf, METADATA_MARKER).ok_or("no metadata marker (not a MaxMind DB, or truncated)")?;
    let metadata = buf.get(marker + METADATA_MARKER.len()..).unwrap_or_default();
    let shape = read_shape(metadata).map_err(|e| format!("metadata: {e}"))?;

    let node_count = shape.node_count as usize;
    let record_size = usize::from(shape.record_size);
    let tree_len = node_count * record_size / 4;
    let data_start = tree_len + DATA_SEPARATOR_LEN;
    if data_start > marker {
        return Err(format!(
            "search tree of {node_count} nodes ({tree_len} bytes) does not fit before the \
             metadata at byte {marker}"
        ));
    }
    // The reader's data section runs to the end of the file.
    let mut data = Values::new(buf.get(data_start..).unwrap_or_default());
    for node in 0..node_count {
        for side in 0..2 {
            let record = read_record(buf, node, record_size, side)
                .ok_or_else(|| format!("search tree node {node} is out of bounds"))?;
            if record <= node_count {
                continue; // another node, or "no data"
            }
            let offset = record - node_count;
            let offset = offset
                .checked_sub(DATA_SEPARATOR_LEN)
                .filter(|offset| *offset < data.bytes.len())
                .ok_or_else(|| format!("node {node} points outside the data section"))?;
            data.target(offset, 0).map_err(|e| format!("data record at offset {offset}: {e}"))?;
        }
    }
    Ok(shape)
}

fn read_record(buf: &[u8], node: usize, record_size: usize, side: usize) -> Option<usize> {
    let base = node * record_size / 4;
    let be = |bytes: &[u8], init: usize| bytes.iter().fold(init, |acc, b| acc << 8 | usize::from(*b));
    match record_size {
        24 => buf.get(base + side * 3..base + side * 3 + 3).map(|b| be(b, 0)),
        28 => {
            let middle = *buf.get(base + 3)?;
            let high = if side == 0 { middle >> 4 } else { middle & 0x0f };
            let at = base + side * 4;
            buf.get(at..at + 3).map(|b| be(b, usize::from(high)))
        }
        32 => buf.get(base + side * 4..base + side * 4 + 4).map(|b| be(b, 0)),
        _ => None,
    }
}

/// Reads the three fields that shape the file from the metadata map, after
/// checking the whole map decodes safely.
fn read_shape(metadata: &[u8]) -> Result<Shape, String> {
    let mut values = Values::new(metadata);
    values.target(0, 0)?;
    let map = values.resolve(0)?;
    if map.type_num != TYPE_MAP {
        return Err("not a map".to_owned());
    }
    let (mut node_count, mut record_size, mut ip_version) = (None, None, None);
    let mut pos = map.payload;
    for _ in 0..map.size {
        let key = values.resolve(pos)?;
        let key_text = match key.type_num {
            TYPE_UTF8 => metadata.get(key.payload..key.payload + key.size),
            _ => None,
        };
        let value_pos = values.value(pos, 0)?.end;
        let next = values.value(value_pos, 0)?.end;
        let slot = match key_text {
            Some(b"node_count") => &mut node_count,
            Some(b"record_size") => &mut record_size,
            Some(b"ip_version") => &mut ip_version,
            _ => {
                pos = next;
                continue;
            }
        };
        let value = values.resolve(value_pos)?;
        if !matches!(value.type_num, 5 | 6 | 9 | 10) || value.size > 8 {
            return Err("a shape field is not an unsigned integer".to_owned());
        }
        let bytes = metadata.get(value.payload..value.payload + value.size).ok_or("integer out of bounds")?;
        *slot = Some(bytes.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)));
        pos = next;
    }
    let node_count = node_count.ok_or("no node_count")?;
    let node_count = u32::try_from(node_count).map_err(|_| "node_count over 32 bits")?;
    let record_size = match record_size.ok_or("no record_size")? {
        bits @ (24 | 28 | 32) => bits as u16,
        bits => return Err(format!("record_size {bits} is not 24, 28 or 32")),
    };
    let ip_version = match ip_version.ok_or("no ip_version")? {
        version @ (4 | 6) => version as u16,
        version => return Err(format!("ip_version {version} is not 4 or 6")),
    };
    Ok(Shape { node_count, record_size, ip_version })
}

const TYPE_POINTER: u8 = 1;
const TYPE_UTF8: u8 = 2;
const TYPE_MAP: u8 = 7;
const TYPE_ARRAY: u8 = 11;
const TYPE_BOOL: u8 = 14;

/// A decoded control byte (plus extended type and size bytes).
struct Header {
    type_num: u8,
    size: usize,
    /// Where the payload starts.
    payload: usize,
}

struct Checked {
    end: usize,
    /// Levels of nesting, counting pointer hops; a scalar is 1.
    height: usize,
}

enum Visit {
    InProgress,
    Done { height: usize },
}

/// Bounds-checked walker over one section (data or metadata); pointers are
/// offsets into the section.
struct Values<'a> {
    bytes: &'a [u8],
    /// Pointer targets and tree records, each checked once.
    visits: HashMap<usize, Visit>,
}

impl<'a> Values<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, visits: HashMap::new() }
    }

    fn slice(&self, from: usize, len: usize) -> Result<&'a [u8], String> {
        from.checked_add(len)
            .and_then(|to| self.bytes.get(from..to))
            .ok_or_else(|| format!("{len} bytes at offset {from} run past the end"))
    }

    fn header(&self, pos: usize) -> Result<Header, String> {
        let ctrl = self.slice(pos, 1)?[0];
        let mut next = pos + 1;
        let mut type_num = ctrl >> 5;
        if type_num == 0 {
            let extended = self.slice(next, 1)?[0];
            next += 1;
            type_num = extended.checked_add(7).ok_or_else(|| format!("bad extended type at offset {pos}"))?;
        }
        let low = usize::from(ctrl & 0x1f);
        // The reader decodes size bytes for every type, pointers included.
        let extra = self.slice(next, low.saturating_sub(28))?;
        next += extra.len();
        let extra = extra.iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        let size = match low {
            0..=28 => low,
            29 => 29 + extra,
            30 => 285 + extra,
            _ => 65_821 + extra,
        };
        Ok(Header { type_num, size, payload: next })
    }

    /// Target and end of the pointer whose header is `h`.
    fn pointer(&self, h: &Header) -> Result<(usize, usize), String> {
        let len = ((h.size >> 3) & 0x3) + 1;
        let bytes = self.slice(h.payload, len)?;
        let base = if len == 4 { 0 } else { h.size & 0x7 };
        let bias = [0, 0, 2048, 526_336, 0][len];
        let target = bytes.iter().fold(base, |acc, b| acc << 8 | usize::from(*b)) + bias;
        Ok((target, h.payload + len))
    }

    /// Header of the value at `pos`, following pointers. Only for values
    /// already checked.
    fn resolve(&self, mut pos: usize) -> Result<Header, String> {
        for _ in 0..=MAX_DEPTH {
            let h = self.header(pos)?;
            if h.type_num != TYPE_POINTER {
                return Ok(h);
            }
            pos = self.pointer(&h)?.0;
        }
        Err("pointer chain too long".to_owned())
    }

    /// Checks the value a pointer or tree record targets, once per target.
    fn target(&mut self, pos: usize, depth: usize) -> Result<usize, String> {
        match self.visits.get(&pos) {
            Some(Visit::Done { height }) if depth + height <= MAX_DEPTH + 1 => return Ok(*height),
            Some(Visit::Done { .. }) => return Err("values nested too deeply".to_owned()),
            Some(Visit::InProgress) => return Err(format!("pointer cycle through offset {pos}")),
            None => {}
        }
        self.visits.insert(pos, Visit::InProgress);
        let height = self.value(pos, depth)?.height;
        self.visits.insert(pos, Visit::Done { height });
        Ok(height)
    }

    /// Checks the value at `pos`, `depth` levels below a tree record.
    fn value(&mut self, pos: usize, depth: usize) -> Result<Checked, String> {
        if depth > MAX_DEPTH {
            return Err("values nested too deeply".to_owned());
        }
        let h = self.header(pos)?;
        match h.type_num {
            TYPE_POINTER => {
                let (target, end) = self.pointer(&h)?;
                let height = self.target(target, depth + 1)? + 1;
                Ok(Checked { end, height })
            }
            TYPE_MAP | TYPE_ARRAY => {
                let count = if h.type_num == TYPE_MAP { h.size * 2 } else { h.size };
                let (mut end, mut height) = (h.payload, 0);
                for _ in 0..count {
                    let item = self.value(end, depth + 1)?;
                    end = item.end;
                    height = height.max(item.height);
                }
                Ok(Checked { end, height: height + 1 })
            }
            // A boolean's value is its size; it has no payload.
            TYPE_BOOL => Ok(Checked { end: h.payload, height: 1 }),
            // utf8 string, double, bytes, uint16/32, int32, uint64/128, float
            2..=6 | 8..=10 | 15 => {
                let end = h.payload + self.slice(h.payload, h.size)?.len();
                Ok(Checked { end, height: 1 })
            }
            other => Err(format!("unsupported data type {other} at offset {pos}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_pointer_cycles_and_deep_nesting() {
        // A pointer (size bits 0 → 2-byte form with 3 high bits) to itself.
        let mut values = Values::new(&[0x20, 0x00]);
        assert!(values.target(0, 0).unwrap_err().contains("cycle"));

        // 40 nested one-element arrays: extended type 11 is byte 4.
        let mut deep = Vec::new();
        for _ in 0..40 {
            deep.extend_from_slice(&[0x01, 0x04]);
        }
        deep.push(0x40); // empty string
        let mut values = Values::new(&deep);
        assert!(values.target(0, 0).unwrap_err().contains("deeply"));
        let mut values = Values::new(&deep[2 * 35..]);
        assert_eq!(values.target(0, 0).unwrap(), 6);
    }

    #[test]
    fn rejects_out_of_bounds_values() {
        // A 5-byte string with 2 bytes present.
        assert!(Values::new(&[0x45, b'a', b'b']).target(0, 0).is_err());
        // A 2-entry map with one entry.
        assert!(Values::new(&[0xe2, 0x41, b'k', 0x41, b'v']).target(0, 0).is_err());
        // Extended type byte that would overflow the reader's `+ 7`.
        assert!(Values::new(&[0x00, 0xff]).target(0, 0).is_err());
        // Size needing 3 more bytes that are not there.
        assert!(Values::new(&[0x5f, 0x00]).target(0, 0).is_err());
        // A fine map {"k": "v"}.
        let ok = Values::new(&[0xe1, 0x41, b'k', 0x41, b'v']).target(0, 0);
        assert_eq!(ok.unwrap(), 2);
    }

    /// The database of the integration tests, in memory.
    fn city_db(record_size: u16) -> Vec<u8> {
        use px_testkit::mmdb::{GeoEntry, MmdbValue, MmdbWriter};
        let entries = [
            ("198.51.0.0", 16, "BR", Some("São Paulo")),
            ("198.51.100.0", 24, "BR", Some("Rio de Janeiro")),
            ("203.0.113.7", 32, "NZ", None),
            ("2001:db8::", 32, "DE", Some("Berlin")),
            ("2001:db8:1::1", 128, "CH", Some("Zürich")),
        ];
        let mut writer = MmdbWriter::new("GeoIP2-City").record_size(record_size);
        for (network, prefix_len, iso, city) in entries {
            let entry = GeoEntry {
                network: network.parse().unwrap(),
                prefix_len,
                country_iso: iso.to_owned(),
                city_en: city.map(str::to_owned),
            };
            // Shared, so the damage also hits pointers and their targets.
            let country = MmdbValue::map([("iso_code", MmdbValue::str(entry.country_iso))]);
            let mut record = vec![("country".to_owned(), MmdbValue::shared(country))];
            if let Some(city) = entry.city_en {
                let names = MmdbValue::map([("en", MmdbValue::str(city))]);
                record.push(("city".to_owned(), MmdbValue::map([("names", names)])));
            }
            writer.insert(entry.network, entry.prefix_len, MmdbValue::Map(record)).unwrap();
        }
        writer.to_bytes().unwrap()
    }

    fn probes() -> Vec<IpAddr> {
        [
            "198.51.0.0",
            "198.51.100.1",
            "198.51.255.255",
            "203.0.113.7",
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "2001:db8::",
            "2001:db8:1::1",
            "::1",
            "::ffff:198.51.100.7",
            "ffff::",
        ]
        .into_iter()
        .map(|s| s.parse().unwrap())
        .collect()
    }

    /// Every truncation fails to open; every bit pattern flipped into every
    /// byte, with each record size, either fails to open or opens and then
    /// answers lookups, and nothing panics. (Without `validate`, maxminddb
    /// panics on some of these.)
    #[test]
    fn damaged_databases_never_panic() {
        let path = Path::new("/data/GeoLite2-City.mmdb");
        let (mut opened, mut rejected) = (0, 0);
        for record_size in [24, 28, 32] {
            let clean = city_db(record_size);
            let geo = GeoIp::from_buf(clean.clone(), path).unwrap();
            let expected: Vec<GeoInfo> = probes().into_iter().map(|ip| geo.lookup(ip)).collect();
            assert_eq!(expected[1].city.as_deref(), Some("Rio de Janeiro"));

            for len in 0..clean.len() {
                let error = GeoIp::from_buf(clean[..len].to_vec(), path).unwrap_err();
                assert!(error.to_string().contains("/data/GeoLite2-City.mmdb"));
            }
            for at in 0..clean.len() {
                for flip in [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
                    let mut bytes = clean.clone();
                    bytes[at] ^= flip;
                    match GeoIp::from_buf(bytes, path) {
                        Ok(geo) => {
                            opened += 1;
                            for probe in probes() {
                                let _ = geo.lookup(probe);
                            }
                        }
                        Err(error) => {
                            rejected += 1;
                            assert!(error.to_string().contains("/data/GeoLite2-City.mmdb"));
                        }
                    }
                }
            }
        }
        assert!(opened > 0 && rejected > 0, "opened {opened}, rejected {rejected}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let path = Path::new("/nonexistent/px/GeoLite2-City.mmdb");
        let error = GeoIp::open(path).unwrap_err();
        assert!(matches!(error, GeoError::Read { .. }));
        assert!(error.to_string().contains("/nonexistent/px/GeoLite2-City.mmdb"));
    }
}
