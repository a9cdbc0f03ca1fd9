//! Privacy stage: IP anonymisation and masking of personal data (e-mail
//! addresses and phone numbers) in property values, URLs and titles.
//!
//! Masking runs on every string of every event, so each pattern has a cheap
//! pre-check (an `@`, or enough digits) before its regex runs; most values
//! never reach a regex. Bare digit strings are never treated as phone
//! numbers: ids, prices and timestamps look the same, and masking them would
//! destroy good data. A phone number needs a leading `+` or separators.

use regex::Regex;
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::sync::LazyLock;

pub const EMAIL_MASK: &str = "[email]";
pub const PHONE_MASK: &str = "[phone]";

#[allow(clippy::expect_used)] // constant patterns, checked by the tests below
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").expect("email pattern")
});

/// A `+` and 8-15 digits with optional separators, or a local number written
/// with separators: `(11) 91234-5678`, `555-123-4567`, `11 91234 5678`.
#[allow(clippy::expect_used)]
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?:\+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{1,5}(?:[\s.\-]?\d{2,5}){1,4})
        | (?:\(\d{2,4}\)\s?\d{3,5}[\s.\-]\d{4})
        | (?:\b\d{2,4}[\s.\-]\d{3,5}[\s.\-]\d{4}\b)",
    )
    .expect("phone pattern")
});

/// Truncates an IP: IPv4 to its /24, IPv6 to its /48.
pub fn anonymize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::from([a, b, c, 0])
        }
        IpAddr::V6(v6) => {
            let mut seg = v6.segments();
            seg[3..].fill(0);
            IpAddr::from(seg)
        }
    }
}

/// Returns the string with e-mail addresses and phone numbers masked, or
/// `None` when it holds neither (the common case, without allocating).
pub fn mask_str(s: &str) -> Option<String> {
    let mut out: Option<String> = None;
    if memchr::memchr(b'@', s.as_bytes()).is_some() && EMAIL.is_match(s) {
        out = Some(EMAIL.replace_all(s, EMAIL_MASK).into_owned());
    }
    let cur = out.as_deref().unwrap_or(s);
    if cur.bytes().filter(u8::is_ascii_digit).count() >= 8 && PHONE.is_match(cur) {
        out = Some(PHONE.replace_all(cur, PHONE_MASK).into_owned());
    }
    out
}

/// Masks a string in place; true when something changed.
pub fn mask_string(s: &mut String) -> bool {
    match mask_str(s) {
        Some(m) => {
            *s = m;
            true
        }
        None => false,
    }
}

/// Masks a URL or text, also when the personal data is percent-encoded
/// (`ana%40x.com` in a query string): such a string is decoded, masked,
/// and kept decoded, since a masked URL is for reading, not for requests.
pub fn mask_url_or_text(s: &mut String) -> bool {
    if s.contains('%') {
        let decoded = percent_encoding::percent_decode_str(s).decode_utf8_lossy();
        if let Some(masked) = mask_str(&decoded) {
            *s = masked;
            return true;
        }
    }
    mask_string(s)
}

/// Masks every string value, at any depth. Keys are left alone: they name
/// data, they are not data.
pub fn mask_properties(map: &mut Map<String, Value>) {
    for v in map.values_mut() {
        mask_value(v);
    }
}

fn mask_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            mask_string(s);
        }
        Value::Array(a) => a.iter_mut().for_each(mask_value),
        Value::Object(m) => mask_properties(m),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ips_are_truncated() {
        assert_eq!(anonymize_ip("203.0.113.77".parse().unwrap()).to_string(), "203.0.113.0");
        assert_eq!(
            anonymize_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348".parse().unwrap()).to_string(),
            "2001:db8:85a3::"
        );
    }

    #[test]
    fn emails_are_masked_inside_text_and_urls() {
        assert_eq!(mask_str("contact ana.silva+x@empresa.com.br now").unwrap(), "contact [email] now");
        assert_eq!(
            mask_str("https://a.io/reset?email=bob@example.org&x=1").unwrap(),
            "https://a.io/reset?email=[email]&x=1"
        );
        assert_eq!(mask_str("@handle and a@b"), None);
    }

    #[test]
    fn phones_are_masked_but_plain_numbers_are_not() {
        for phone in ["+55 11 91234-5678", "+14155552671", "(11) 91234-5678", "555-123-4567", "+44 20 7946 0958"] {
            assert_eq!(mask_str(&format!("call {phone}")).as_deref(), Some("call [phone]"), "{phone}");
        }
        for keep in
            ["1700000000000", "order 123456789", "v1.2.3", "2024-01-15", "price 1299.90", "id 550e8400-e29b-41d4"]
        {
            assert_eq!(mask_str(keep), None, "{keep}");
        }
    }

    #[test]
    fn percent_encoded_emails_in_urls_are_masked() {
        let mut u = "https://a.io/p?email=ana%40x.com&n=1".to_string();
        assert!(mask_url_or_text(&mut u));
        assert_eq!(u, "https://a.io/p?email=[email]&n=1");
        let mut plain = "https://a.io/p?q=100%25".to_string();
        assert!(!mask_url_or_text(&mut plain));
        assert_eq!(plain, "https://a.io/p?q=100%25");
    }

    #[test]
    fn nested_values_are_masked() {
        let mut m = json!({"a": "x@y.com", "b": [{"c": "+55 11 91234-5678"}], "n": 5}).as_object().unwrap().clone();
        mask_properties(&mut m);
        assert_eq!(Value::Object(m), json!({"a": "[email]", "b": [{"c": "[phone]"}], "n": 5}));
    }
}
