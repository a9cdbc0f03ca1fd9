//! Tests of the MaxMind DB writer: read back with the maxminddb crate.
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
    let name = city.city.and_then(|c| c.names).and_then(|names| names.get("en").map(|s| (*s).to_owned()));
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

    assert_eq!(lookup(&reader, "198.51.0.0"), found("BR", Some("São Paulo")));
    assert_eq!(lookup(&reader, "198.51.255.255"), found("BR", Some("São Paulo")));
    assert_eq!(lookup(&reader, "198.50.255.255"), None);
    assert_eq!(lookup(&reader, "198.52.0.0"), None);
    assert_eq!(lookup(&reader, "203.0.113.7"), found("NZ", None));
    assert_eq!(lookup(&reader, "203.0.113.6"), None);
    assert_eq!(lookup(&reader, "203.0.113.8"), None);
    assert_eq!(lookup(&reader, "2001:db8::"), found("DE", Some("Berlin")));
    assert_eq!(lookup(&reader, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), found("DE", Some("Berlin")));
    assert_eq!(lookup(&reader, "2001:db9::"), None);
    // The IPv4-mapped alias and the IPv4-compatible form of an address.
    assert_eq!(lookup(&reader, "::ffff:198.51.3.4"), found("BR", Some("São Paulo")));
    assert_eq!(lookup(&reader, "::198.51.3.4"), found("BR", Some("São Paulo")));
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
    assert!(w.insert(ip("::"), 0, v()).is_err(), "contains the IPv4 space");
    assert!(w.insert(ip("::"), 64, v()).is_err(), "contains the IPv4 space");
    assert!(w.insert(ip("::ffff:1.2.3.0"), 120, v()).is_err(), "IPv4-mapped");
    assert!(w.insert(ip("::1"), 128, v()).is_err(), "inside ::/96");
    w.insert(ip("1.2.3.0"), 24, v()).unwrap();
    let twice = w.insert(ip("1.2.3.0"), 24, v()).unwrap_err();
    assert_eq!(twice.kind(), io::ErrorKind::InvalidInput);
    w.insert(ip("::1:0:0:0"), 128, v()).unwrap();
    assert!(MmdbWriter::new("T").record_size(20).to_bytes().is_err());
}

#[test]
fn identical_records_are_stored_once() {
    let count = |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).filter(|w| *w == needle).count();
    let mut w = MmdbWriter::new("T");
    for n in 1..=3 {
        let record = city_record(&entry("0.0.0.0", 0, "BR", Some("Recife")));
        w.insert(IpAddr::V4(Ipv4Addr::new(192, 0, n, 0)), 24, record).unwrap();
    }
    let other = city_record(&entry("0.0.0.0", 0, "BR", Some("Olinda")));
    w.insert(IpAddr::V4(Ipv4Addr::new(192, 0, 9, 0)), 24, other).unwrap();
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
        ("array", MmdbValue::Array((0..40).map(|i| MmdbValue::U32(i * 1000)).collect())),
    ]);
    let mut w = MmdbWriter::new("Types");
    w.insert(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)), 48, record).unwrap();
    let reader = Reader::from_source(w.to_bytes().unwrap()).unwrap();
    let got: serde_json::Value = reader.lookup("2001:db8::42".parse().unwrap()).unwrap().unwrap();
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
    w.insert(net(1), 24, MmdbValue::map([("s", shared("one")), ("pad", pad(3000))])).unwrap();
    w.insert(net(2), 24, MmdbValue::map([("s", shared("two")), ("t", shared("one"))])).unwrap();
    w.insert(net(3), 24, MmdbValue::map([("pad", pad(600_000))])).unwrap();
    w.insert(net(4), 24, MmdbValue::map([("s", shared("three")), ("t", shared("one"))])).unwrap();
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
    let get = |n: u8| -> serde_json::Value { reader.lookup(IpAddr::V4(Ipv4Addr::new(192, 0, n, 1))).unwrap().unwrap() };
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
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
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
        let net = if prefix == 0 { 0 } else { addr & (u32::MAX << (32 - prefix)) };
        if seen.insert((net, prefix)) {
            nets.push((net, prefix, nets.len() as u32));
        }
    }
    let oracle = |ip: u32| {
        nets.iter()
            .filter(|(net, prefix, _)| *prefix == 0 || (ip ^ net) & (u32::MAX << (32 - prefix)) == 0)
            .max_by_key(|(_, prefix, _)| *prefix)
            .map(|(_, _, id)| *id)
    };
    let mut probes: Vec<u32> = (0..2000).map(|_| rng.next() as u32).collect();
    for (net, prefix, _) in &nets {
        let size = if *prefix == 0 { u32::MAX } else { (1u32 << (32 - prefix)) - 1 };
        probes.extend([*net, net.wrapping_sub(1), net + size, (net + size).wrapping_add(1)]);
    }
    for record_size in [24, 28, 32] {
        let mut w = MmdbWriter::new("Random").record_size(record_size);
        for (net, prefix, id) in &nets {
            let value = MmdbValue::map([("id", MmdbValue::U32(*id))]);
            w.insert(IpAddr::V4(Ipv4Addr::from(*net)), *prefix, value).unwrap();
        }
        let reader = Reader::from_source(w.to_bytes().unwrap()).unwrap();
        assert_eq!(reader.metadata.record_size, record_size);
        for &ip in &probes {
            let got: Option<serde_json::Value> = reader.lookup(IpAddr::V4(Ipv4Addr::from(ip))).unwrap();
            let got = got.map(|v| v["id"].as_u64().unwrap() as u32);
            assert_eq!(got, oracle(ip), "{} with {record_size}-bit records", Ipv4Addr::from(ip));
        }
    }
}
