//! GeoIP enrichment against small databases built by px-testkit's MaxMind DB
//! writer: lookups inside, at the edges of and outside each network, the
//! record shapes of the different GeoIP2/GeoLite2 editions, and damaged files,
//! which must fail at open with the path in the error and never panic.

// The whole crate is test code; its helpers are not `#[test]` functions, which
// clippy's `allow-unwrap-in-tests` would cover.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use px_ingest::enrich::geo::{GeoError, GeoInfo, GeoIp};
use px_testkit::mmdb::{GeoEntry, MmdbValue, MmdbWriter, write_city_db};

fn entry(network: &str, prefix_len: u8, iso: &str, city: Option<&str>) -> GeoEntry {
    GeoEntry {
        network: network.parse().unwrap(),
        prefix_len,
        country_iso: iso.to_owned(),
        city_en: city.map(str::to_owned),
    }
}

fn info(country: &str, city: Option<&str>) -> GeoInfo {
    GeoInfo { country: Some(country.to_owned()), city: city.map(str::to_owned) }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn city_entries() -> Vec<GeoEntry> {
    vec![
        entry("198.51.0.0", 16, "BR", Some("São Paulo")),
        // Nested in the /16: the more specific network wins.
        entry("198.51.100.0", 24, "BR", Some("Rio de Janeiro")),
        entry("203.0.113.7", 32, "NZ", None),
        entry("192.0.2.0", 24, "JP", Some("東京")),
        entry("2001:db8::", 32, "DE", Some("Berlin")),
        entry("2001:db8:abcd::", 48, "AT", Some("Wien")),
        entry("2001:db8:1::1", 128, "CH", Some("Zürich")),
    ]
}

struct Db {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn city_db(entries: &[GeoEntry]) -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("GeoLite2-City.mmdb");
    write_city_db(&path, entries).unwrap();
    Db { _dir: dir, path }
}

#[test]
fn lookups_inside_at_the_edges_of_and_outside_each_network() {
    let db = city_db(&city_entries());
    let geo = GeoIp::open(&db.path).unwrap();
    assert_eq!(geo.database_type(), "GeoIP2-City");
    let sao_paulo = info("BR", Some("São Paulo"));
    let rio = info("BR", Some("Rio de Janeiro"));
    let none = GeoInfo::default();

    let cases = [
        // 198.51.0.0/16, with 198.51.100.0/24 inside it.
        ("198.50.255.255", &none),
        ("198.51.0.0", &sao_paulo),
        ("198.51.42.42", &sao_paulo),
        ("198.51.99.255", &sao_paulo),
        ("198.51.100.0", &rio),
        ("198.51.100.77", &rio),
        ("198.51.100.255", &rio),
        ("198.51.101.0", &sao_paulo),
        ("198.51.255.255", &sao_paulo),
        ("198.52.0.0", &none),
        // 203.0.113.7/32, country only.
        ("203.0.113.6", &none),
        ("203.0.113.7", &info("NZ", None)),
        ("203.0.113.8", &none),
        // 192.0.2.0/24.
        ("192.0.1.255", &none),
        ("192.0.2.0", &info("JP", Some("東京"))),
        ("192.0.2.255", &info("JP", Some("東京"))),
        ("192.0.3.0", &none),
        // 2001:db8::/32, with a /48 and a /128 inside it.
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", &none),
        ("2001:db8::", &info("DE", Some("Berlin"))),
        ("2001:db8:abcc:ffff:ffff:ffff:ffff:ffff", &info("DE", Some("Berlin"))),
        ("2001:db8:abcd::", &info("AT", Some("Wien"))),
        ("2001:db8:abcd:ffff:ffff:ffff:ffff:ffff", &info("AT", Some("Wien"))),
        ("2001:db8:abce::", &info("DE", Some("Berlin"))),
        ("2001:db8:1::", &info("DE", Some("Berlin"))),
        ("2001:db8:1::1", &info("CH", Some("Zürich"))),
        ("2001:db8:1::2", &info("DE", Some("Berlin"))),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &info("DE", Some("Berlin"))),
        ("2001:db9::", &none),
        // IPv4 as a dual-stack socket reports it.
        ("::ffff:198.51.100.7", &rio),
        ("::ffff:203.0.113.8", &none),
        // Private, loopback, link-local and unspecified addresses.
        ("10.0.0.1", &none),
        ("172.16.5.4", &none),
        ("192.168.1.1", &none),
        ("127.0.0.1", &none),
        ("0.0.0.0", &none),
        ("255.255.255.255", &none),
        ("::1", &none),
        ("::", &none),
        ("fe80::1", &none),
        ("fd00::1", &none),
    ];
    for (addr, expected) in cases {
        assert_eq!(&geo.lookup(ip(addr)), expected, "lookup of {addr}");
    }
    // The non-ASCII name survives byte for byte.
    let city = geo.lookup(ip("198.51.1.1")).city.unwrap();
    assert_eq!(city.as_bytes(), "S\u{e3}o Paulo".as_bytes());
}

#[test]
fn geo_ip_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<GeoIp>();
}

#[test]
fn country_falls_back_to_registered_country_and_extra_keys_are_ignored() {
    let iso = |code: &str| MmdbValue::map([("iso_code", MmdbValue::str(code))]);
    let names = |en: &str| {
        MmdbValue::map([("names", MmdbValue::map([("de", MmdbValue::str("x")), ("en", MmdbValue::str(en))]))])
    };
    let mut w = MmdbWriter::new("GeoLite2-Country");
    // Only a registered country (e.g. an anycast or satellite network).
    w.insert(ip("100.64.0.0"), 24, MmdbValue::map([("registered_country", iso("FR"))])).unwrap();
    // Both: the physical country wins.
    w.insert(ip("100.64.1.0"), 24, MmdbValue::map([("country", iso("PT")), ("registered_country", iso("ES"))]))
        .unwrap();
    // A fuller GeoIP2-City record with keys PX does not read.
    let full = MmdbValue::map([
        ("city", names("Montréal")),
        ("continent", MmdbValue::map([("code", MmdbValue::str("NA")), ("geoname_id", MmdbValue::U32(6_255_149))])),
        (
            "country",
            MmdbValue::map([
                ("geoname_id", MmdbValue::U32(6_251_999)),
                ("is_in_european_union", MmdbValue::Bool(false)),
                ("iso_code", MmdbValue::str("CA")),
                ("names", MmdbValue::map([("en", MmdbValue::str("Canada"))])),
            ]),
        ),
        (
            "location",
            MmdbValue::map([
                ("accuracy_radius", MmdbValue::U16(20)),
                ("latitude", MmdbValue::Double(45.5)),
                ("longitude", MmdbValue::Double(-73.6)),
                ("time_zone", MmdbValue::str("America/Toronto")),
            ]),
        ),
        ("subdivisions", MmdbValue::Array(vec![MmdbValue::map([("iso_code", MmdbValue::str("QC"))])])),
    ]);
    w.insert(ip("100.64.2.0"), 24, full).unwrap();
    // Empty strings count as absent.
    w.insert(ip("100.64.3.0"), 24, MmdbValue::map([("country", iso("")), ("city", names(""))])).unwrap();
    // A record of the wrong shape yields nothing rather than an error.
    w.insert(ip("100.64.4.0"), 24, MmdbValue::map([("country", MmdbValue::str("BR"))])).unwrap();
    w.insert(ip("100.64.5.0"), 24, MmdbValue::U32(7)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("GeoLite2-Country.mmdb");
    w.write(&path).unwrap();
    let geo = GeoIp::open(&path).unwrap();
    assert_eq!(geo.lookup(ip("100.64.0.1")), GeoInfo { country: Some("FR".into()), city: None });
    assert_eq!(geo.lookup(ip("100.64.1.1")), GeoInfo { country: Some("PT".into()), city: None });
    assert_eq!(geo.lookup(ip("100.64.2.1")), info("CA", Some("Montréal")));
    assert_eq!(geo.lookup(ip("100.64.3.1")), GeoInfo::default());
    assert_eq!(geo.lookup(ip("100.64.4.1")), GeoInfo::default());
    assert_eq!(geo.lookup(ip("100.64.5.1")), GeoInfo::default());
}

/// MaxMind's files share sub-records through pointers; the validation at
/// open must accept every pointer form the reader understands.
#[test]
fn records_reached_through_pointers_of_every_size() {
    let country = |iso: &str| MmdbValue::shared(MmdbValue::map([("iso_code", MmdbValue::str(iso))]));
    let city = |en: &str| {
        let names = MmdbValue::shared(MmdbValue::map([("en", MmdbValue::str(en))]));
        MmdbValue::shared(MmdbValue::map([("names", names)]))
    };
    let pad = |n: usize| MmdbValue::str("p".repeat(n));
    let mut w = MmdbWriter::new("GeoIP2-City");
    // Offsets below 2 KiB, below 512 KiB and beyond: 11, 19 and 27-bit pointers.
    w.insert(ip("100.64.0.0"), 24, MmdbValue::map([("country", country("PT")), ("pad", pad(3000))])).unwrap();
    w.insert(ip("100.64.1.0"), 24, MmdbValue::map([("country", country("PT")), ("city", city("Porto"))])).unwrap();
    w.insert(ip("100.64.2.0"), 24, MmdbValue::map([("pad", pad(600_000))])).unwrap();
    w.insert(ip("100.64.3.0"), 24, MmdbValue::map([("country", country("PT")), ("city", city("Faro"))])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pointers.mmdb");
    w.write(&path).unwrap();
    let geo = GeoIp::open(&path).unwrap();
    assert_eq!(geo.lookup(ip("100.64.0.1")), info("PT", None));
    assert_eq!(geo.lookup(ip("100.64.1.1")), info("PT", Some("Porto")));
    assert_eq!(geo.lookup(ip("100.64.2.1")), GeoInfo::default());
    assert_eq!(geo.lookup(ip("100.64.3.1")), info("PT", Some("Faro")));
}

fn assert_names_path(error: &GeoError, path: &Path) {
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "error does not name {}: {message}", path.display());
}

#[test]
fn missing_garbage_and_empty_files_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();

    let missing = dir.path().join("absent.mmdb");
    let error = GeoIp::open(&missing).unwrap_err();
    assert!(matches!(error, GeoError::Read { .. }), "{error:?}");
    assert_names_path(&error, &missing);

    for (name, bytes) in [
        ("empty.mmdb", &b""[..]),
        ("text.mmdb", b"this is not a MaxMind database\n"),
        ("marker-only.mmdb", b"\xab\xcd\xefMaxMind.com"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let error = GeoIp::open(&path).unwrap_err();
        assert!(matches!(error, GeoError::Corrupt { .. }), "{name}: {error:?}");
        assert_names_path(&error, &path);
    }
}

/// Exhaustive truncation and bit flipping run in memory in the unit tests of
/// `enrich::geo`; this checks the same through real files at a few cut points.
#[test]
fn truncated_files_are_errors_naming_the_path() {
    let db = city_db(&city_entries());
    let full = std::fs::read(&db.path).unwrap();
    let marker = full.windows(14).rposition(|w| w == b"\xab\xcd\xefMaxMind.com").unwrap();
    let cut = db.path.with_file_name("truncated.mmdb");
    for len in [1, 6, full.len() / 2, marker, marker + 14, marker + 15, full.len() - 1] {
        std::fs::write(&cut, &full[..len]).unwrap();
        let error = GeoIp::open(&cut).expect_err("a truncated database opened");
        assert!(matches!(error, GeoError::Corrupt { .. }), "cut at {len}: {error:?}");
        assert_names_path(&error, &cut);
    }
}
