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
        MmdbValue::shared(MmdbValue::map([(
            "iso_code",
            MmdbValue::str(&entry.country_iso),
        )])),
    )];
    if let Some(city) = &entry.city_en {
        record.push((
            "city".to_owned(),
            MmdbValue::map([("names", MmdbValue::map([("en", MmdbValue::str(city))]))]),
        ));
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
            return Err(invalid(format!(
                "{network}/{prefix_len}: host bits are set"
            )));
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
                return Err(invalid(format!(
                    "database too large for {bits}-bit records"
                )));
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
        let node_count =
            u32::try_from(node_count).map_err(|_| invalid("too many tree nodes".into()))?;
        let build_epoch = self.build_epoch.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
        Ok(MmdbValue::map([
            ("binary_format_major_version", MmdbValue::U16(2)),
            ("binary_format_minor_version", MmdbValue::U16(0)),
            ("build_epoch", MmdbValue::U64(build_epoch)),
            ("database_type", MmdbValue::str(&self.database_type)),
            (
                "description",
                MmdbValue::map([("en", MmdbValue::str(&self.description))]),
            ),
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
    if bits == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(bits))
    }
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
        Self {
            nodes: vec![[Slot::Empty; 2]],
        }
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
            return Err(io::Error::other(
                "mmdb writer: network set after a more specific one",
            ));
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
fn encode(
    value: &MmdbValue,
    out: &mut Vec<u8>,
    mut data: Option<&mut DataSection>,
) -> io::Result<()> {
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
mod tests {
    use super::*;
    use maxminddb::{Reader, geoip2};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn city_db(entries: &[GeoEntry]) -> Reader<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.mmdb");
        write_city_db(&path, entries).unwrap();
        Reader::open_readfile(&path).unwrap()
    }

    fn entry(net: &str, prefix_len: u8, iso: &str, city: Option<&str>) -> GeoEntry {
        GeoEntry {
            network: net.parse().unwrap(),
            prefix_len,
            country_iso: iso.to_owned(),
            city_en: city.map(str::to_owned),
        }
    }

    /// (country, city) as the maxminddb crate's own GeoIP2 model sees them.
    fn lookup(reader: &Reader<Vec<u8>>, ip: &str) -> Option<(String, Option<String>)> {
        let city: geoip2::City = reader.lookup(ip.parse().unwrap()).unwrap()?;
        let country = city.country.unwrap().iso_code.unwrap().to_owned();
        let name = city
            .city
            .and_then(|c| c.names)
            .and_then(|names| names.get("en").map(|s| (*s).to_owned()));
        Some((country, name))
    }

    fn found(country: &str, city: Option<&str>) -> Option<(String, Option<String>)> {
        Some((country.to_owned(), city.map(str::to_owned)))
    }

    #[test]
    fn maxminddb_reads_back_records_and_metadata() {
        let reader = city_db(&[
            entry("198.51.0.0", 16, "BR", Some("São Paulo")),
            entry("203.0.113.7", 32, "NZ", None),
            entry("2001:db8::", 32, "DE", Some("Berlin")),
        ]);
        let meta = &reader.metadata;
        assert_eq!(meta.database_type, "GeoIP2-City");
        assert_eq!(meta.ip_version, 6);
        assert_eq!(meta.record_size, 24);
        assert_eq!(meta.binary_format_major_version, 2);
        assert_eq!(meta.binary_format_minor_version, 0);
        assert_eq!(meta.languages, vec!["en".to_owned()]);
        assert!(meta.description.contains_key("en"));
        assert!(meta.build_epoch > 1_600_000_000);

        assert_eq!(
            lookup(&reader, "198.51.0.0"),
            found("BR", Some("São Paulo"))
        );
        assert_eq!(
            lookup(&reader, "198.51.255.255"),
            found("BR", Some("São Paulo"))
        );
        assert_eq!(lookup(&reader, "198.50.255.255"), None);
        assert_eq!(lookup(&reader, "198.52.0.0"), None);
        assert_eq!(lookup(&reader, "203.0.113.7"), found("NZ", None));
        assert_eq!(lookup(&reader, "203.0.113.6"), None);
        assert_eq!(lookup(&reader, "203.0.113.8"), None);
        assert_eq!(lookup(&reader, "2001:db8::"), found("DE", Some("Berlin")));
        assert_eq!(
            lookup(&reader, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
            found("DE", Some("Berlin"))
        );
        assert_eq!(lookup(&reader, "2001:db9::"), None);
        // The IPv4-mapped alias and the IPv4-compatible form of an address.
        assert_eq!(
            lookup(&reader, "::ffff:198.51.3.4"),
            found("BR", Some("São Paulo"))
        );
        assert_eq!(
            lookup(&reader, "::198.51.3.4"),
            found("BR", Some("São Paulo"))
        );
        assert_eq!(lookup(&reader, "::ffff:10.0.0.1"), None);

        // The prefix the reader reports is the stored network's.
        let ip: IpAddr = "198.51.3.4".parse().unwrap();
        let (_, prefix) = reader.lookup_prefix::<geoip2::City>(ip).unwrap();
        assert_eq!(prefix, 16);
    }

    #[test]
    fn more_specific_network_wins_in_any_insertion_order() {
        let outer = entry("10.0.0.0", 8, "US", None);
        let inner = entry("10.1.0.0", 16, "CA", Some("Toronto"));
        let innermost = entry("10.1.2.3", 32, "MX", None);
        for entries in [
            vec![outer.clone(), inner.clone(), innermost.clone()],
            vec![innermost.clone(), inner.clone(), outer.clone()],
            vec![inner.clone(), outer.clone(), innermost.clone()],
        ] {
            let reader = city_db(&entries);
            assert_eq!(lookup(&reader, "10.0.255.255"), found("US", None));
            assert_eq!(lookup(&reader, "10.1.0.0"), found("CA", Some("Toronto")));
            assert_eq!(lookup(&reader, "10.1.2.2"), found("CA", Some("Toronto")));
            assert_eq!(lookup(&reader, "10.1.2.3"), found("MX", None));
            assert_eq!(lookup(&reader, "10.1.2.4"), found("CA", Some("Toronto")));
            assert_eq!(lookup(&reader, "10.2.0.0"), found("US", None));
            assert_eq!(lookup(&reader, "10.255.255.255"), found("US", None));
            assert_eq!(lookup(&reader, "11.0.0.0"), None);
        }
    }

    #[test]
    fn whole_ipv4_space_and_ipv6_only_databases() {
        let reader = city_db(&[entry("0.0.0.0", 0, "AQ", None)]);
        assert_eq!(lookup(&reader, "0.0.0.0"), found("AQ", None));
        assert_eq!(lookup(&reader, "255.255.255.255"), found("AQ", None));
        assert_eq!(lookup(&reader, "::ffff:1.2.3.4"), found("AQ", None));
        assert_eq!(lookup(&reader, "2001:db8::1"), None);

        let reader = city_db(&[entry("2001:db8::", 32, "DE", None)]);
        assert_eq!(lookup(&reader, "1.2.3.4"), None);
        assert_eq!(lookup(&reader, "2001:db8::1"), found("DE", None));

        let reader = city_db(&[]);
        assert_eq!(lookup(&reader, "1.2.3.4"), None);
        assert_eq!(lookup(&reader, "2001:db8::1"), None);
    }

    #[test]
    fn rejects_malformed_networks() {
        let mut w = MmdbWriter::new("Test");
        let v = || MmdbValue::Bool(true);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(w.insert(ip("1.2.3.0"), 33, v()).is_err());
        assert!(w.insert(ip("1.2.3.4"), 24, v()).is_err(), "host bits");
        assert!(w.insert(ip("2001:db8::"), 129, v()).is_err());
        assert!(
            w.insert(ip("::"), 0, v()).is_err(),
            "contains the IPv4 space"
        );
        assert!(
            w.insert(ip("::"), 64, v()).is_err(),
            "contains the IPv4 space"
        );
        assert!(
            w.insert(ip("::ffff:1.2.3.0"), 120, v()).is_err(),
            "IPv4-mapped"
        );
        assert!(w.insert(ip("::1"), 128, v()).is_err(), "inside ::/96");
        w.insert(ip("1.2.3.0"), 24, v()).unwrap();
        let twice = w.insert(ip("1.2.3.0"), 24, v()).unwrap_err();
        assert_eq!(twice.kind(), io::ErrorKind::InvalidInput);
        w.insert(ip("::1:0:0:0"), 128, v()).unwrap();
        assert!(MmdbWriter::new("T").record_size(20).to_bytes().is_err());
    }

    #[test]
    fn identical_records_are_stored_once() {
        let count = |haystack: &[u8], needle: &[u8]| {
            haystack
                .windows(needle.len())
                .filter(|w| *w == needle)
                .count()
        };
        let mut w = MmdbWriter::new("T");
        for n in 1..=3 {
            let record = city_record(&entry("0.0.0.0", 0, "BR", Some("Recife")));
            w.insert(IpAddr::V4(Ipv4Addr::new(192, 0, n, 0)), 24, record)
                .unwrap();
        }
        let other = city_record(&entry("0.0.0.0", 0, "BR", Some("Olinda")));
        w.insert(IpAddr::V4(Ipv4Addr::new(192, 0, 9, 0)), 24, other)
            .unwrap();
        let bytes = w.to_bytes().unwrap();
        assert_eq!(count(&bytes, b"Recife"), 1);
        assert_eq!(count(&bytes, b"Olinda"), 1);
        let reader = Reader::from_source(bytes).unwrap();
        assert_eq!(lookup(&reader, "192.0.3.1"), found("BR", Some("Recife")));
        assert_eq!(lookup(&reader, "192.0.9.1"), found("BR", Some("Olinda")));
    }

    #[test]
    fn large_values_and_all_types_round_trip() {
        let long = |n: usize| "é".repeat(n / 2);
        let record = MmdbValue::map([
            ("short", MmdbValue::str(long(28))),
            ("s29", MmdbValue::str("x".repeat(29))),
            ("s284", MmdbValue::str("x".repeat(284))),
            ("s285", MmdbValue::str(long(286))),
            ("s70000", MmdbValue::str("y".repeat(70_000))),
            ("u16", MmdbValue::U16(65_535)),
            ("u32", MmdbValue::U32(0)),
            ("u64", MmdbValue::U64(u64::MAX)),
            ("double", MmdbValue::Double(-23.5)),
            ("yes", MmdbValue::Bool(true)),
            ("no", MmdbValue::Bool(false)),
            (
                "array",
                MmdbValue::Array((0..40).map(|i| MmdbValue::U32(i * 1000)).collect()),
            ),
        ]);
        let mut w = MmdbWriter::new("Types");
        w.insert(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)),
            48,
            record,
        )
        .unwrap();
        let reader = Reader::from_source(w.to_bytes().unwrap()).unwrap();
        let got: serde_json::Value = reader
            .lookup("2001:db8::42".parse().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(got["short"], long(28));
        assert_eq!(got["s29"].as_str().unwrap().len(), 29);
        assert_eq!(got["s284"].as_str().unwrap().len(), 284);
        assert_eq!(got["s285"], long(286));
        assert_eq!(got["s70000"].as_str().unwrap().len(), 70_000);
        assert_eq!(got["u16"], 65_535);
        assert_eq!(got["u32"], 0);
        assert_eq!(got["u64"], u64::MAX);
        assert_eq!(got["double"], -23.5);
        assert_eq!(got["yes"], true);
        assert_eq!(got["no"], false);
        assert_eq!(got["array"][39], 39_000);
        assert_eq!(got["array"].as_array().unwrap().len(), 40);
    }

    #[test]
    fn shared_values_become_pointers_of_every_short_form() {
        let shared = |v: &str| MmdbValue::shared(MmdbValue::map([("v", MmdbValue::str(v))]));
        let net = |n: u8| IpAddr::V4(Ipv4Addr::new(192, 0, n, 0));
        let mut w = MmdbWriter::new("Pointers");
        // "one" lands at offset 0 (11-bit pointer), "two" after 3000 bytes
        // (19-bit), "three" after 600 000 more (27-bit).
        let pad = |n: usize| MmdbValue::str("p".repeat(n));
        w.insert(
            net(1),
            24,
            MmdbValue::map([("s", shared("one")), ("pad", pad(3000))]),
        )
        .unwrap();
        w.insert(
            net(2),
            24,
            MmdbValue::map([("s", shared("two")), ("t", shared("one"))]),
        )
        .unwrap();
        w.insert(net(3), 24, MmdbValue::map([("pad", pad(600_000))]))
            .unwrap();
        w.insert(
            net(4),
            24,
            MmdbValue::map([("s", shared("three")), ("t", shared("one"))]),
        )
        .unwrap();
        let bytes = w.to_bytes().unwrap();
        let count = |needle: &[u8]| bytes.windows(needle.len()).filter(|w| *w == needle).count();
        assert_eq!(count(b"one"), 1);
        assert_eq!(count(b"\x41vCtwo"), 1);

        let mut forms = Vec::new();
        for (offset, expected_form) in [(0, 0), (2047, 0), (2048, 1), (526_335, 1), (526_336, 2)] {
            let mut out = Vec::new();
            encode_pointer(offset, &mut out).unwrap();
            assert_eq!(out[0] >> 5, TYPE_POINTER);
            assert_eq!((out[0] >> 3) & 3, expected_form, "offset {offset}");
            forms.push(out.len());
        }
        assert_eq!(forms, [2, 2, 3, 3, 4]);

        let reader = Reader::from_source(bytes).unwrap();
        let get = |n: u8| -> serde_json::Value {
            reader
                .lookup(IpAddr::V4(Ipv4Addr::new(192, 0, n, 1)))
                .unwrap()
                .unwrap()
        };
        assert_eq!(get(1)["s"]["v"], "one");
        assert_eq!(get(2)["s"]["v"], "two");
        assert_eq!(get(2)["t"]["v"], "one");
        assert_eq!(get(3)["pad"].as_str().unwrap().len(), 600_000);
        assert_eq!(get(4)["s"]["v"], "three");
        assert_eq!(get(4)["t"]["v"], "one");
    }

    /// A tiny deterministic generator, so the test needs no `rand`.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 11
        }
    }

    /// Random overlapping networks against a longest-prefix-match oracle, for
    /// every record size.
    #[test]
    fn random_networks_match_longest_prefix_oracle() {
        let mut rng = Lcg(7);
        let mut nets: Vec<(u32, u8, u32)> = Vec::new();
        let mut seen = HashSet::new();
        while nets.len() < 300 {
            // Few distinct top bytes, so networks nest and overlap.
            let addr = (((rng.next() % 4) as u32) << 30) | (rng.next() as u32 & 0x3fff_ffff);
            let prefix = (rng.next() % 33) as u8;
            let net = if prefix == 0 {
                0
            } else {
                addr & (u32::MAX << (32 - prefix))
            };
            if seen.insert((net, prefix)) {
                nets.push((net, prefix, nets.len() as u32));
            }
        }
        let oracle = |ip: u32| {
            nets.iter()
                .filter(|(net, prefix, _)| {
                    *prefix == 0 || (ip ^ net) & (u32::MAX << (32 - prefix)) == 0
                })
                .max_by_key(|(_, prefix, _)| *prefix)
                .map(|(_, _, id)| *id)
        };
        let mut probes: Vec<u32> = (0..2000).map(|_| rng.next() as u32).collect();
        for (net, prefix, _) in &nets {
            let size = if *prefix == 0 {
                u32::MAX
            } else {
                (1u32 << (32 - prefix)) - 1
            };
            probes.extend([
                *net,
                net.wrapping_sub(1),
                net + size,
                (net + size).wrapping_add(1),
            ]);
        }
        for record_size in [24, 28, 32] {
            let mut w = MmdbWriter::new("Random").record_size(record_size);
            for (net, prefix, id) in &nets {
                let value = MmdbValue::map([("id", MmdbValue::U32(*id))]);
                w.insert(IpAddr::V4(Ipv4Addr::from(*net)), *prefix, value)
                    .unwrap();
            }
            let reader = Reader::from_source(w.to_bytes().unwrap()).unwrap();
            assert_eq!(reader.metadata.record_size, record_size);
            for &ip in &probes {
                let got: Option<serde_json::Value> =
                    reader.lookup(IpAddr::V4(Ipv4Addr::from(ip))).unwrap();
                let got = got.map(|v| v["id"].as_u64().unwrap() as u32);
                assert_eq!(
                    got,
                    oracle(ip),
                    "{} with {record_size}-bit records",
                    Ipv4Addr::from(ip)
                );
            }
        }
    }
}
