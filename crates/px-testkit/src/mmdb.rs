//! A small writer for the MaxMind DB (`.mmdb`) format, so that tests can build
//! GeoIP databases on the fly: no binary fixtures in the repository and no
//! downloads (the build machines have no network).
//!
//! It implements the parts of MaxMind DB format 2.0 that GeoIP2-style
//! databases use: an IPv6 binary search tree with 24, 28 or 32-bit records,
//! the 16-byte data section separator, a data section of maps, arrays, UTF-8
//! strings, unsigned integers, doubles, booleans and pointers, then the
//! metadata marker and the metadata map. Identical records are stored once,
//! and [`MmdbValue::Shared`] values once per distinct value, referenced by
//! pointers as in MaxMind's own files.
//!
//! Layout choices, made to match what MaxMind ships and what readers expect:
//! * IPv4 networks live in the IPv4-compatible range `::/96` (`1.2.3.0/24` is
//!   stored as `::1.2.3.0/120`); readers start IPv4 lookups at the node 96
//!   zero bits below the root.
//! * `::ffff:0:0/96` (IPv4-mapped) is an alias of that IPv4 subtree, so a
//!   lookup of `::ffff:1.2.3.4` finds what `1.2.3.4` finds.
//! * Overlapping networks are allowed and the most specific one wins, whatever
//!   the insertion order. IPv6 networks that overlap either of the two ranges
//!   above are rejected, since those addresses belong to the IPv4 space.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// One network of a GeoIP2-City-shaped test database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoEntry {
    /// First address of the network; host bits must be zero.
    pub network: IpAddr,
    pub prefix_len: u8,
    /// ISO 3166-1 alpha-2 code, stored as `country.iso_code`.
    pub country_iso: String,
    /// English city name, stored as `city.names.en`; no `city` key when None.
    pub city_en: Option<String>,
}

/// Writes a GeoIP2-City-shaped database holding `entries`. Each record is
/// `{"country": {"iso_code": ..}, "city": {"names": {"en": ..}}}`, without
/// `city` when `city_en` is None; as in MaxMind's files, `country` is stored
/// once per country and reached through a pointer. The entries carry no
/// country name, so the records have no `country.names`.
///
/// Fails with `InvalidInput` for a malformed network (prefix too long, host
/// bits set, the same network twice, an IPv6 network inside the IPv4 ranges).
pub fn write_city_db(path: &Path, entries: &[GeoEntry]) -> io::Result<()> {
    let mut writer = MmdbWriter::new("GeoIP2-City");
    for entry in entries {
        writer.insert(entry.network, entry.prefix_len, city_record(entry))?;
    }
    writer.write(path)
}

fn city_record(entry: &GeoEntry) -> MmdbValue {
    let mut record = vec![(
        "country".to_owned(),
        MmdbValue::shared(MmdbValue::map([("iso_code", MmdbValue::str(&entry.country_iso))])),
    )];
    if let Some(city) = &entry.city_en {
        record.push(("city".to_owned(), MmdbValue::map([("names", MmdbValue::map([("en", MmdbValue::str(city))]))])));
    }
    MmdbValue::Map(record)
}

/// A value of the MaxMind DB data section.
#[derive(Debug, Clone, PartialEq)]
pub enum MmdbValue {
    Str(String),
    U16(u16),
    U32(u32),
    U64(u64),
    Double(f64),
    Bool(bool),
    Array(Vec<MmdbValue>),
    /// Keys are written in the given order.
    Map(Vec<(String, MmdbValue)>),
    /// Stored once in the data section and written as a pointer to it
    /// wherever it appears. In metadata it is written inline.
    Shared(Box<MmdbValue>),
}

impl MmdbValue {
    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, MmdbValue)>) -> Self {
        Self::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn shared(value: MmdbValue) -> Self {
        Self::Shared(Box::new(value))
    }
}

/// Builds a database in memory: `insert` networks, then `write` or `to_bytes`.
#[derive(Debug, Clone)]
pub struct MmdbWriter {
    database_type: String,
    description: String,
    record_size: Option<u16>,
    build_epoch: Option<u64>,
    /// (128-bit key, prefix length in the 128-bit tree, record).
    networks: Vec<(u128, u8, MmdbValue)>,
    seen: HashSet<(u128, u8)>,
}

/// Type numbers of the data section (spec, "Output Data Types").
const TYPE_POINTER: u8 = 1;
const TYPE_UTF8: u8 = 2;
const TYPE_DOUBLE: u8 = 3;
const TYPE_UINT16: u8 = 5;
const TYPE_UINT32: u8 = 6;
const TYPE_MAP: u8 = 7;
const TYPE_UINT64: u8 = 9;
const TYPE_ARRAY: u8 = 11;
const TYPE_BOOL: u8 = 14;

const DATA_SEPARATOR: [u8; 16] = [0; 16];
const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

/// `::/96`, where IPv4 lives, and `::ffff:0:0/96`, its IPv4-mapped alias.
const IPV4_SUBTREE: u128 = 0;
const IPV4_MAPPED_SUBTREE: u128 = 0xffff_u128 << 32;

impl MmdbWriter {
    pub fn new(database_type: impl Into<String>) -> Self {
        let database_type = database_type.into();
        Self {
            description: format!("PX test database ({database_type})"),
            database_type,
            record_size: None,
            build_epoch: None,
            networks: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// Forces 24, 28 or 32-bit records; by default the smallest that fits.
    pub fn record_size(mut self, bits: u16) -> Self {
        self.record_size = Some(bits);
        self
    }

    /// Metadata `build_epoch`; by default the time of writing.
    pub fn build_epoch(mut self, epoch: u64) -> Self {
        self.build_epoch = Some(epoch);
        self
    }

    /// Metadata `description.en`.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Adds a network. More specific networks win over the ones they sit in.
    pub fn insert(&mut self, network: IpAddr, prefix_len: u8, value: MmdbValue) -> io::Result<()> {
        let (key, bits) = match network {
            IpAddr::V4(v4) => {
                if prefix_len > 32 {
                    return Err(invalid(format!("{network}/{prefix_len}: prefix over 32")));
                }
                (IPV4_SUBTREE | u128::from(u32::from(v4)), prefix_len + 96)
            }
            IpAddr::V6(v6) => {
                if prefix_len > 128 {
                    return Err(invalid(format!("{network}/{prefix_len}: prefix over 128")));
                }
                let key = u128::from(v6);
                for reserved in [IPV4_SUBTREE, IPV4_MAPPED_SUBTREE] {
                    if same_prefix(key, reserved, prefix_len.min(96)) {
                        return Err(invalid(format!(
                            "{network}/{prefix_len} overlaps the IPv4 space (::/96 or \
                             ::ffff:0:0/96); insert IPv4 networks as IPv4 addresses"
                        )));
                    }
                }
                (key, prefix_len)
            }
        };
        if key & !mask(bits) != 0 {
            return Err(invalid(format!("{network}/{prefix_len}: host bits are set")));
        }
        if !self.seen.insert((key, bits)) {
            return Err(invalid(format!("{network}/{prefix_len} inserted twice")));
        }
        self.networks.push((key, bits, value));
        Ok(())
    }

    /// Writes the database to `path`.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.to_bytes()?)
    }

    /// The whole database file.
    pub fn to_bytes(&self) -> io::Result<Vec<u8>> {
        // Data section: each distinct record once.
        let mut data = DataSection::default();
        let mut leaves = Vec::with_capacity(self.networks.len());
        for (key, bits, value) in &self.networks {
            let mut encoded = Vec::new();
            encode(value, &mut encoded, Some(&mut data))?;
            leaves.push((*key, *bits, data.place(encoded)));
        }
        let data = data.bytes;

        // Less specific first, so that a later, more specific network splits
        // the leaves of the ones containing it and never the other way round.
        leaves.sort_by_key(|&(_, bits, _)| bits);
        let mut tree = Tree::new();
        for (key, bits, offset) in leaves {
            tree.set(key, bits, Slot::Data(offset))?;
        }
        let ipv4 = tree.get(IPV4_SUBTREE, 96);
        if ipv4 != Slot::Empty {
            tree.set(IPV4_MAPPED_SUBTREE, 96, ipv4)?;
        }

        let node_count = tree.nodes.len();
        let max_record = node_count + DATA_SEPARATOR.len() + data.len();
        let record_size = match self.record_size {
            Some(bits @ (24 | 28 | 32)) if max_record <= 1 << bits => bits,
            Some(bits @ (24 | 28 | 32)) => {
                return Err(invalid(format!("database too large for {bits}-bit records")));
            }
            Some(bits) => return Err(invalid(format!("record size {bits} is not 24, 28 or 32"))),
            None if max_record <= 1 << 24 => 24,
            None if max_record <= 1 << 28 => 28,
            None if max_record <= 1 << 32 => 32,
            None => return Err(invalid("database too large for 32-bit records".into())),
        };
        let record = |slot: Slot| -> u32 {
            let value = match slot {
                Slot::Empty => node_count,
                Slot::Node(n) => n,
                Slot::Data(offset) => node_count + DATA_SEPARATOR.len() + offset,
            };
            // Every value is below `max_record`, which fits the record size.
            u32::try_from(value).unwrap_or(u32::MAX)
        };

        let tree_len = node_count * usize::from(record_size) / 4;
        let mut out = Vec::with_capacity(tree_len + 16 + data.len() + 256);
        for [left, right] in &tree.nodes {
            let (l, r) = (record(*left), record(*right));
            match record_size {
                24 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                28 => {
                    // The middle byte holds the top nibble of each record.
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    let high = |v: u32| ((v >> 24) & 0x0f) as u8;
                    out.push((high(l) << 4) | high(r));
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                _ => {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
        }
        out.extend_from_slice(&DATA_SEPARATOR);
        out.extend_from_slice(&data);
        out.extend_from_slice(METADATA_MARKER);
        encode(&self.metadata(node_count, record_size)?, &mut out, None)?;
        Ok(out)
    }

    fn metadata(&self, node_count: usize, record_size: u16) -> io::Result<MmdbValue> {
        let node_count = u32::try_from(node_count).map_err(|_| invalid("too many tree nodes".into()))?;
        let build_epoch =
            self.build_epoch.unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()));
        Ok(MmdbValue::map([
            ("binary_format_major_version", MmdbValue::U16(2)),
            ("binary_format_minor_version", MmdbValue::U16(0)),
            ("build_epoch", MmdbValue::U64(build_epoch)),
            ("database_type", MmdbValue::str(&self.database_type)),
            ("description", MmdbValue::map([("en", MmdbValue::str(&self.description))])),
            ("ip_version", MmdbValue::U16(6)),
            ("languages", MmdbValue::Array(vec![MmdbValue::str("en")])),
            ("node_count", MmdbValue::U32(node_count)),
            ("record_size", MmdbValue::U16(record_size)),
        ]))
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// The netmask of a prefix of `bits` bits in the 128-bit space.
fn mask(bits: u8) -> u128 {
    if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) }
}

fn same_prefix(a: u128, b: u128, bits: u8) -> bool {
    (a ^ b) & mask(bits) == 0
}

/// What a record of the search tree points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Empty,
    Node(usize),
    /// Offset of the record in the data section.
    Data(usize),
}

/// The search tree. Node 0 is the root; a slot may be shared by two parents
/// (the IPv4-mapped alias), which the format allows.
struct Tree {
    nodes: Vec<[Slot; 2]>,
}

fn bit(key: u128, depth: u8) -> usize {
    usize::from((key >> (127 - u32::from(depth))) & 1 == 1)
}

impl Tree {
    fn new() -> Self {
        Self { nodes: vec![[Slot::Empty; 2]] }
    }

    /// The slot reached by following the first `bits` bits of `key`.
    fn get(&self, key: u128, bits: u8) -> Slot {
        let mut slot = Slot::Node(0);
        for depth in 0..bits {
            match slot {
                Slot::Node(n) => slot = self.nodes[n][bit(key, depth)],
                Slot::Empty | Slot::Data(_) => return slot,
            }
        }
        slot
    }

    /// Points the slot reached after `bits` bits of `key` at `target`. A leaf
    /// met on the way is pushed down, so the network it held keeps every
    /// address outside the new one.
    fn set(&mut self, key: u128, bits: u8, target: Slot) -> io::Result<()> {
        if bits == 0 {
            // Only an IPv6 ::/0 could get here, and `insert` rejects it.
            return Err(invalid("cannot store a network at the tree root".into()));
        }
        let mut node = 0;
        for depth in 0..bits - 1 {
            let side = bit(key, depth);
            node = match self.nodes[node][side] {
                Slot::Node(next) => next,
                leaf @ (Slot::Empty | Slot::Data(_)) => {
                    let next = self.nodes.len();
                    self.nodes.push([leaf; 2]);
                    self.nodes[node][side] = Slot::Node(next);
                    next
                }
            };
        }
        let side = bit(key, bits - 1);
        if let Slot::Node(_) = self.nodes[node][side] {
            // Networks are set from least to most specific, so a subtree can
            // only already be here if the caller broke that order.
            return Err(io::Error::other("mmdb writer: network set after a more specific one"));
        }
        self.nodes[node][side] = target;
        Ok(())
    }
}

/// The data section being built; each distinct encoded value is placed once.
#[derive(Default)]
struct DataSection {
    bytes: Vec<u8>,
    offsets: HashMap<Vec<u8>, usize>,
}

impl DataSection {
    /// Offset of `encoded` in the section, appending it if it is new.
    fn place(&mut self, encoded: Vec<u8>) -> usize {
        let bytes = &mut self.bytes;
        *self.offsets.entry(encoded).or_insert_with_key(|encoded| {
            let at = bytes.len();
            bytes.extend_from_slice(encoded);
            at
        })
    }
}

/// Appends the encoding of `value` to `out`. `Shared` values are placed in
/// `data` and replaced by a pointer, or written inline without a section.
fn encode(value: &MmdbValue, out: &mut Vec<u8>, mut data: Option<&mut DataSection>) -> io::Result<()> {
    match value {
        MmdbValue::Str(s) => encode_str(s, out)?,
        MmdbValue::U16(v) => encode_uint(TYPE_UINT16, u64::from(*v), out)?,
        MmdbValue::U32(v) => encode_uint(TYPE_UINT32, u64::from(*v), out)?,
        MmdbValue::U64(v) => encode_uint(TYPE_UINT64, *v, out)?,
        MmdbValue::Double(v) => {
            control(TYPE_DOUBLE, 8, out)?;
            out.extend_from_slice(&v.to_be_bytes());
        }
        // A boolean's value is its size; it has no payload.
        MmdbValue::Bool(v) => control(TYPE_BOOL, usize::from(*v), out)?,
        MmdbValue::Array(items) => {
            control(TYPE_ARRAY, items.len(), out)?;
            for item in items {
                encode(item, out, data.as_deref_mut())?;
            }
        }
        MmdbValue::Map(pairs) => {
            control(TYPE_MAP, pairs.len(), out)?;
            for (key, value) in pairs {
                encode_str(key, out)?;
                encode(value, out, data.as_deref_mut())?;
            }
        }
        MmdbValue::Shared(inner) => match data {
            Some(data) => {
                let mut encoded = Vec::new();
                encode(inner, &mut encoded, Some(&mut *data))?;
                encode_pointer(data.place(encoded), out)?;
            }
            None => encode(inner, out, None)?,
        },
    }
    Ok(())
}

/// A pointer to `offset` in the data section, in the shortest of the four
/// forms: 11, 19 or 27 bits (the top 3 in the control byte, each form biased
/// by the reach of the shorter ones), or 32 bits.
fn encode_pointer(offset: usize, out: &mut Vec<u8>) -> io::Result<()> {
    const BIAS_19: usize = 2048;
    const BIAS_27: usize = 2048 + (1 << 19);
    let (form, value, len): (u8, usize, usize) = if offset < BIAS_19 {
        (0, offset, 1)
    } else if offset < BIAS_27 {
        (1, offset - BIAS_19, 2)
    } else if offset < BIAS_27 + (1 << 27) {
        (2, offset - BIAS_27, 3)
    } else {
        let value = u32::try_from(offset).map_err(|_| invalid("pointer over 32 bits".into()))?;
        out.push((TYPE_POINTER << 5) | (3 << 3));
        out.extend_from_slice(&value.to_be_bytes());
        return Ok(());
    };
    let bytes = (value as u32).to_be_bytes();
    let high = ((value >> (8 * len)) & 0x7) as u8;
    out.push((TYPE_POINTER << 5) | (form << 3) | high);
    out.extend_from_slice(&bytes[4 - len..]);
    Ok(())
}

fn encode_str(s: &str, out: &mut Vec<u8>) -> io::Result<()> {
    control(TYPE_UTF8, s.len(), out)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Unsigned integers are big-endian without leading zero bytes (0 has none).
fn encode_uint(type_num: u8, value: u64, out: &mut Vec<u8>) -> io::Result<()> {
    let bytes = value.to_be_bytes();
    let skip = (value.leading_zeros() / 8) as usize;
    control(type_num, bytes.len() - skip, out)?;
    out.extend_from_slice(&bytes[skip..]);
    Ok(())
}

/// Control byte (type in the top 3 bits, or 0 and an extended type byte for
/// types above 7), then the size: below 29 it fits the low 5 bits, otherwise
/// those bits say how many size bytes follow.
fn control(type_num: u8, size: usize, out: &mut Vec<u8>) -> io::Result<()> {
    let (size_bits, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, Vec::new())
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65_536 {
        (30, ((size - 285) as u16).to_be_bytes().to_vec())
    } else if size < 65_821 + (1 << 24) {
        (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec())
    } else {
        return Err(invalid(format!("value of size {size} is too large")));
    };
    if type_num <= 7 {
        out.push((type_num << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(type_num - 7);
    }
    out.extend_from_slice(&extra);
    Ok(())
}

#[cfg(test)]
#[path = "mmdb_tests.rs"]
mod tests;
