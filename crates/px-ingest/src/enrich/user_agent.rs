//! User-agent parsing for event enrichment.
//!
//! This module owns the mapping from a raw `User-Agent` header to the coarse
//! client facts stored on every event: browser family and version, operating
//! system and version, and device class. It runs on the ingest hot path (for
//! every event whose UA misses the caller's cache), so it is a hand-written
//! byte scanner rather than a regex table: no regex, no allocation besides the
//! returned strings, time linear in the input, and no panic on any input.
//!
//! A UA is read in three independent scans:
//!
//! 1. Product tokens (`Name/1.2.3`) are collected in one pass and matched
//!    against [`CLIENTS`], a table in priority order. Order matters because
//!    browsers carry the tokens of the engines they imitate: Edge and Opera
//!    also say `Chrome/`, Chrome also says `Safari/`. The same pass notes the
//!    markers that are not such tokens (`Instagram 309.1`, `MSIE 10.0`,
//!    `Mobile`).
//! 2. Automated clients win over browsers: HTTP libraries and headless
//!    browsers from the table first, then any word ending in `bot` or
//!    containing `crawler` or `spider` (Googlebot, bingbot, Baiduspider...).
//! 3. The first parenthesised comment that names a platform gives the OS.
//!
//! Known blind spots, because the UA itself does not carry the answer:
//! iPadOS 13+ Safari in desktop mode sends a macOS UA and is reported as
//! macOS desktop; Windows 11 sends `Windows NT 10.0` and is reported as
//! Windows 10; Brave sends a plain Chrome UA.

/// What a User-Agent string says about the client.
///
/// Every field is `None` for an empty (or all-whitespace) UA. For any other
/// input `device_type` is `Some`; the other fields are `None` when the UA does
/// not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAgentInfo {
    /// Browser or client family, never qualified by platform: `"Chrome"` on
    /// Android too (see `device_type`). For bots, the bot or library name
    /// (`"Googlebot"`, `"curl"`, `"HeadlessChrome"`).
    pub browser: Option<String>,
    /// At most `major.minor`, e.g. `"120.0"`.
    pub browser_version: Option<String>,
    /// `"Windows"`, `"macOS"`, `"iOS"` (iPhone, iPod), `"iPadOS"`,
    /// `"Android"`, `"Linux"`, `"Chrome OS"` or `"Windows Phone"`.
    pub os: Option<String>,
    /// Dotted release as the user knows it: `"10"` and `"7"` for Windows NT
    /// 10.0 and 6.1, `"10.15.7"` for macOS `10_15_7`, `"17.1"` for iOS.
    pub os_version: Option<String>,
    /// `"desktop"`, `"mobile"`, `"tablet"` or `"bot"`.
    pub device_type: Option<String>,
}

/// Parses a User-Agent header value.
///
/// Never panics and runs in time linear in `ua.len()`, whatever the input.
/// Unrecognised input yields `device_type: Some("desktop")` and `None`
/// elsewhere; only an empty or all-whitespace string yields all `None`.
pub fn parse_user_agent(ua: &str) -> UserAgentInfo {
    let ua = ua.trim();
    if ua.is_empty() {
        return UserAgentInfo::default();
    }
    let tokens = Tokens::scan(ua);
    let platform = Platform::scan(ua);
    let client = classify(ua, &tokens, platform.os);
    let device = if client.is_bot { "bot" } else { device_type(tokens.mobile, platform.os) };
    UserAgentInfo {
        browser: client.family,
        browser_version: client.version,
        os: platform.os.map(|os| os.name().to_owned()),
        os_version: platform.version(),
        device_type: Some(device.to_owned()),
    }
}

/// Product names longer than this are not looked up (no known one is).
const MAX_TOKEN_LEN: usize = 32;
/// A numeric run longer than this is garbage, not a version.
const MAX_VERSION_LEN: usize = 32;
/// Words longer than this are not considered as bot names.
const MAX_BOT_WORD_LEN: usize = 64;
/// Parenthesised comments examined for a platform before giving up.
const MAX_COMMENTS: usize = 4;

/// Where a client's version comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum VersionFrom {
    /// Its own token: `Chrome/120.0` -> `120.0`.
    Own,
    /// The `Version/` token, else its own (Presto-era Opera).
    VersionTokenOrOwn,
    /// Only the `Version/` token: `Safari/605.1.15` is the WebKit build.
    VersionToken,
}

/// One recognised product token.
struct Client {
    /// Token name before the `/`, matched ASCII-case-insensitively.
    token: &'static str,
    /// Reported `browser`.
    family: &'static str,
    /// An automated client: reported with `device_type` `"bot"`.
    bot: bool,
    version_from: VersionFrom,
}

const fn browser(token: &'static str, family: &'static str) -> Client {
    Client { token, family, bot: false, version_from: VersionFrom::Own }
}

const fn bot(token: &'static str, family: &'static str) -> Client {
    Client { bot: true, ..browser(token, family) }
}

/// Known product tokens, highest priority first: when a UA carries several,
/// the first entry present here names the client. All bots come before all
/// browsers. More specific browsers come before the engines they build on.
const CLIENTS: &[Client] = &[
    bot("HeadlessChrome", "HeadlessChrome"),
    bot("PhantomJS", "PhantomJS"),
    bot("facebookexternalhit", "facebookexternalhit"),
    bot("curl", "curl"),
    bot("Wget", "Wget"),
    bot("python-requests", "python-requests"),
    bot("Python-urllib", "Python-urllib"),
    bot("Go-http-client", "Go-http-client"),
    bot("axios", "axios"),
    bot("node-fetch", "node-fetch"),
    bot("okhttp", "okhttp"),
    // In-app webviews: FBAV carries the version, FBAN/FB_IAB only the app.
    browser("FBAV", "Facebook"),
    browser("FBAN", "Facebook"),
    browser("FB_IAB", "Facebook"),
    browser("Electron", "Electron"),
    browser("Edg", "Edge"),
    browser("EdgA", "Edge"),
    browser("EdgiOS", "Edge"),
    browser("Edge", "Edge"),
    browser("OPR", "Opera"),
    browser("OPT", "Opera"),
    browser("OPiOS", "Opera"),
    Client { version_from: VersionFrom::VersionTokenOrOwn, ..browser("Opera", "Opera") },
    browser("SamsungBrowser", "Samsung Internet"),
    browser("YaBrowser", "Yandex"),
    browser("UCBrowser", "UC Browser"),
    browser("Vivaldi", "Vivaldi"),
    browser("Firefox", "Firefox"),
    browser("FxiOS", "Firefox"),
    browser("Chromium", "Chromium"),
    browser("CriOS", "Chrome"),
    browser("Chrome", "Chrome"),
    Client { version_from: VersionFrom::VersionToken, ..browser("Safari", "Safari") },
];

/// Everything the client classification needs from one pass over the UA:
/// which [`CLIENTS`] entries occur (with the numeric run after their `/`,
/// possibly empty) and a few markers that are not `Name/version` tokens.
/// The first occurrence of each wins.
struct Tokens<'a> {
    hits: [Option<&'a str>; CLIENTS.len()],
    /// `Version/17.1`: Safari's and Presto Opera's real version.
    version: Option<&'a str>,
    /// `Instagram 309.1.1.28.108`.
    instagram: Option<&'a str>,
    /// `MSIE 10.0`, and IE 11's `Trident/7.0` plus `rv:11.0`.
    msie: Option<&'a str>,
    trident: bool,
    rv: Option<&'a str>,
    /// A `Mobile` word: Android phones have it, Android tablets do not.
    mobile: bool,
}

impl<'a> Tokens<'a> {
    /// Splits `ua` into runs of name bytes and records each run together with
    /// the byte that ends it, so every byte is looked at once.
    fn scan(ua: &'a str) -> Self {
        let mut tokens = Tokens {
            hits: [None; CLIENTS.len()],
            version: None,
            instagram: None,
            msie: None,
            trident: false,
            rv: None,
            mobile: false,
        };
        let mut start = 0;
        for (i, &b) in ua.as_bytes().iter().enumerate() {
            if is_name_byte(b) {
                continue;
            }
            if i > start
                && i - start <= MAX_TOKEN_LEN
                && let Some(name) = ua.get(start..i)
            {
                tokens.record(name, b, ua, i + 1);
            }
            start = i + 1;
        }
        if ua.get(start..) == Some("Mobile") {
            tokens.mobile = true;
        }
        tokens
    }

    /// Records the run `name`, ended by byte `end`; what follows the end
    /// starts at byte `after` of `ua`.
    fn record(&mut self, name: &str, end: u8, ua: &'a str, after: usize) {
        let slot = match (end, name) {
            (_, "Mobile") => {
                self.mobile = true;
                return;
            }
            (b'/', "Trident") => {
                self.trident = true;
                return;
            }
            (b'/', "Version") => &mut self.version,
            (b' ', "Instagram") => &mut self.instagram,
            (b' ', "MSIE") => &mut self.msie,
            (b':', "rv") => &mut self.rv,
            (b'/', _) => {
                let known = CLIENTS.iter().position(|c| c.token.eq_ignore_ascii_case(name));
                match known.and_then(|i| self.hits.get_mut(i)) {
                    Some(slot) => slot,
                    None => return,
                }
            }
            _ => return,
        };
        slot.get_or_insert_with(|| numeric_run(ua, after));
    }

    /// The highest-priority client present, with its raw version.
    fn top(&self) -> Option<(&'static Client, &'a str)> {
        CLIENTS.iter().zip(self.hits.iter()).find_map(|(client, hit)| hit.map(|v| (client, v)))
    }
}

/// Byte classes, looked up in [`BYTE_CLASS`]: one load per byte instead of
/// a chain of comparisons in the two per-byte loops.
const ALNUM: u8 = 1;
/// May appear in a product name (`Go-http-client`, `FB_IAB`, `Version`).
const NAME: u8 = 2;
/// First byte of `bot`, `crawler` or `spider`, any case.
const BOT_START: u8 = 4;

const BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if byte.is_ascii_alphanumeric() {
            table[b] |= ALNUM | NAME;
        }
        if matches!(byte, b'-' | b'_' | b'.') {
            table[b] |= NAME;
        }
        if matches!(byte.to_ascii_lowercase(), b'b' | b'c' | b's') {
            table[b] |= BOT_START;
        }
        b += 1;
    }
    table
};

fn has_class(b: u8, class: u8) -> bool {
    BYTE_CLASS[usize::from(b)] & class != 0
}

fn is_name_byte(b: u8) -> bool {
    has_class(b, NAME)
}

/// The run of digits, `.` and `_` starting at byte `pos` of `s`; empty if
/// there is none or it is longer than [`MAX_VERSION_LEN`].
fn numeric_run(s: &str, pos: usize) -> &str {
    let Some(rest) = s.get(pos..) else {
        return "";
    };
    let len =
        rest.bytes().take(MAX_VERSION_LEN + 1).take_while(|b| b.is_ascii_digit() || *b == b'.' || *b == b'_').count();
    if len > MAX_VERSION_LEN {
        return "";
    }
    rest.get(..len).unwrap_or("")
}

/// `"120.0.6099.119"` -> `"120.0"`; `None` unless it starts with a digit.
fn major_minor(v: &str) -> Option<String> {
    let mut dots = 0;
    let end = v
        .bytes()
        .position(|b| {
            dots += usize::from(b == b'.');
            !(b.is_ascii_digit() || b == b'.') || dots == 2
        })
        .unwrap_or(v.len());
    let v = v.get(..end)?.trim_end_matches('.');
    v.starts_with(|c: char| c.is_ascii_digit()).then(|| v.to_owned())
}

/// Who the client is, before the device is known.
struct ClientFacts {
    family: Option<String>,
    version: Option<String>,
    is_bot: bool,
}

impl ClientFacts {
    fn new(family: &str, version: Option<String>, is_bot: bool) -> Self {
        ClientFacts { family: Some(family.to_owned()), version, is_bot }
    }
}

/// Names the client: table bots, then bot words, then Instagram (whose
/// marker is not a `Name/version` token), then table browsers, then IE.
fn classify(ua: &str, tokens: &Tokens<'_>, os: Option<OsFamily>) -> ClientFacts {
    let top = tokens.top();
    if let Some((client, v)) = top
        && client.bot
    {
        return ClientFacts::new(client.family, major_minor(v), true);
    }
    if let Some((name, v)) = find_bot_word(ua) {
        return ClientFacts::new(name, major_minor(v), true);
    }
    if let Some(v) = tokens.instagram {
        return ClientFacts::new("Instagram", major_minor(v), false);
    }
    if let Some((client, own)) = top {
        let v = match client.version_from {
            VersionFrom::Own => own,
            VersionFrom::VersionTokenOrOwn => tokens.version.unwrap_or(own),
            VersionFrom::VersionToken => tokens.version.unwrap_or(""),
        };
        // AOSP's pre-Chrome browser says `Version/4.0 ... Safari/534.30`.
        let family =
            if client.family == "Safari" && os == Some(OsFamily::Android) { "Android Browser" } else { client.family };
        return ClientFacts::new(family, major_minor(v), false);
    }
    if tokens.msie.is_some() || tokens.trident {
        // IE 11 dropped `MSIE` and gives its version as `rv:11.0`.
        let v = tokens.msie.or(tokens.rv).and_then(major_minor);
        return ClientFacts::new("Internet Explorer", v, false);
    }
    ClientFacts { family: None, version: None, is_bot: false }
}

/// The first alphanumeric word that names a crawler (ends in `bot` or
/// contains `crawler`/`spider`, any case), with the numeric run after its
/// `/` if it has one (`Googlebot-Image/1.0` gives `Googlebot`, `1.0`).
///
/// Only bytes that can start a needle are examined; a rejected word is
/// skipped whole, so the scan stays linear.
fn find_bot_word(ua: &str) -> Option<(&str, &str)> {
    let bytes = ua.as_bytes();
    let is_alnum = |at: usize| bytes.get(at).is_some_and(|&b| has_class(b, ALNUM));
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if !has_class(b, BOT_START) {
            i += 1;
            continue;
        }
        let rest = bytes.get(i..).unwrap_or_default();
        let hit = match b.to_ascii_lowercase() {
            b'b' => starts_with_ignore_case(rest, b"bot") && !is_alnum(i + 3),
            b'c' => starts_with_ignore_case(rest, b"crawler"),
            _ => starts_with_ignore_case(rest, b"spider"),
        };
        if !hit {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0 && is_alnum(start - 1) {
            start -= 1;
        }
        let mut end = i;
        while is_alnum(end) {
            end += 1;
        }
        let word = bytes.get(start..end).unwrap_or_default();
        // CUBOT is a phone brand, not a crawler.
        if word.len() <= MAX_BOT_WORD_LEN && !word.eq_ignore_ascii_case(b"cubot") {
            let name = ua.get(start..end)?;
            let tail = bytes.get(end..).unwrap_or_default();
            let skip = tail.iter().take_while(|&&b| is_name_byte(b) && b != b'.').count();
            let version = if tail.get(skip) == Some(&b'/') { numeric_run(ua, end + skip + 1) } else { "" };
            return Some((name, version));
        }
        i = end.max(i + 1);
    }
    None
}

fn starts_with_ignore_case(hay: &[u8], prefix: &[u8]) -> bool {
    hay.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Device class of a non-bot client. Android phones say `Mobile`, Android
/// tablets do not; Apple devices name themselves in the platform comment.
fn device_type(mobile_word: bool, os: Option<OsFamily>) -> &'static str {
    match os {
        Some(OsFamily::Ios | OsFamily::WindowsPhone) => "mobile",
        Some(OsFamily::IpadOs) => "tablet",
        Some(OsFamily::Android) if mobile_word => "mobile",
        Some(OsFamily::Android) => "tablet",
        // Windows, macOS, Linux, Chrome OS.
        Some(_) => "desktop",
        // KaiOS, Opera Mini and other platforms we do not name.
        None if mobile_word => "mobile",
        None => "desktop",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OsFamily {
    Linux,
    Windows,
    MacOs,
    ChromeOs,
    Android,
    Ios,
    IpadOs,
    WindowsPhone,
}

impl OsFamily {
    fn name(self) -> &'static str {
        match self {
            OsFamily::Linux => "Linux",
            OsFamily::Windows => "Windows",
            OsFamily::MacOs => "macOS",
            OsFamily::ChromeOs => "Chrome OS",
            OsFamily::Android => "Android",
            OsFamily::Ios => "iOS",
            OsFamily::IpadOs => "iPadOS",
            OsFamily::WindowsPhone => "Windows Phone",
        }
    }

    /// When one comment names several platforms, the more specific wins:
    /// `Linux; Android 14`, `X11; CrOS`, `Windows Phone 10.0; Android 6.0.1`.
    fn rank(self) -> u8 {
        match self {
            OsFamily::Linux => 1,
            OsFamily::Windows | OsFamily::MacOs => 2,
            OsFamily::ChromeOs | OsFamily::Android => 3,
            OsFamily::Ios | OsFamily::IpadOs => 4,
            OsFamily::WindowsPhone => 5,
        }
    }
}

/// Platform facts read from the UA's parenthesised comments. Versions are
/// kept per source because the OS and its version may come from different
/// parts (`iPhone; CPU iPhone OS 17_1 like Mac OS X`).
#[derive(Default)]
struct Platform<'a> {
    os: Option<OsFamily>,
    windows_nt: &'a str,
    windows_phone: &'a str,
    apple_mobile: &'a str,
    mac: &'a str,
    android: &'a str,
    chrome_os: &'a str,
}

impl<'a> Platform<'a> {
    /// Reads `;`-separated parts of up to [`MAX_COMMENTS`] comments, stopping
    /// after the first one that names an OS.
    fn scan(ua: &'a str) -> Self {
        let mut platform = Platform::default();
        let mut rest = ua;
        for _ in 0..MAX_COMMENTS {
            let Some(open) = rest.find('(') else { break };
            let inner = rest.get(open + 1..).unwrap_or("");
            let (comment, next) = match inner.find(')') {
                Some(close) => (inner.get(..close).unwrap_or(""), inner.get(close + 1..).unwrap_or("")),
                None => (inner, ""),
            };
            for part in comment.split(';') {
                platform.read_part(part.trim());
            }
            if platform.os.is_some() {
                break;
            }
            rest = next;
        }
        platform
    }

    /// Reads one trimmed comment part. Only prefixes are tested, which keeps
    /// this cheap for the many parts that name no platform (`Win64`, `en-US`).
    fn read_part(&mut self, part: &'a str) {
        if let Some(v) = part.strip_prefix("Windows Phone") {
            self.offer(OsFamily::WindowsPhone);
            self.windows_phone = numeric_run(v.trim_start(), 0);
        } else if let Some(v) = part.strip_prefix("Windows NT") {
            self.offer(OsFamily::Windows);
            self.windows_nt = numeric_run(v.trim_start(), 0);
        } else if part.starts_with("Windows") {
            self.offer(OsFamily::Windows);
        } else if part.starts_with("iPhone") || part.starts_with("iPod") {
            self.offer(OsFamily::Ios);
        } else if part.starts_with("iPad") {
            self.offer(OsFamily::IpadOs);
        } else if let Some(cpu) = part.strip_prefix("CPU ") {
            // `CPU iPhone OS 17_1 like Mac OS X` (iPhone), `CPU OS 16_6 ...` (iPad).
            if let Some(at) = cpu.find("OS ") {
                self.apple_mobile = numeric_run(cpu, at + 3);
            }
        } else if let Some(v) = part.strip_prefix("iOS ") {
            // Instagram's app comment: `(iPhone14,5; iOS 17_1_2; ...)`.
            self.apple_mobile = numeric_run(v, 0);
        } else if part == "Macintosh" {
            self.offer(OsFamily::MacOs);
        } else if let Some(v) =
            ["Intel Mac OS X", "PPC Mac OS X", "Mac OS X"].iter().find_map(|prefix| part.strip_prefix(prefix))
        {
            self.offer(OsFamily::MacOs);
            self.mac = numeric_run(v.trim_start(), 0);
        } else if let Some(v) = part.strip_prefix("Android") {
            self.offer(OsFamily::Android);
            self.android = numeric_run(v.trim_start(), 0);
        } else if let Some(v) = part.strip_prefix("CrOS") {
            // `CrOS x86_64 14541.0.0`: the platform version is the last word.
            self.offer(OsFamily::ChromeOs);
            self.chrome_os = numeric_run(v.rsplit(' ').next().unwrap_or(""), 0);
        } else if part.starts_with("Linux") || part == "Ubuntu" || part == "Fedora" {
            self.offer(OsFamily::Linux);
        }
    }

    fn offer(&mut self, os: OsFamily) {
        if self.os.is_none_or(|current| os.rank() > current.rank()) {
            self.os = Some(os);
        }
    }

    /// The OS version as users know it; see [`UserAgentInfo::os_version`].
    fn version(&self) -> Option<String> {
        let raw = match self.os? {
            OsFamily::Windows => return windows_release(self.windows_nt),
            OsFamily::WindowsPhone => self.windows_phone,
            OsFamily::MacOs => self.mac,
            OsFamily::Ios | OsFamily::IpadOs => self.apple_mobile,
            OsFamily::Android => self.android,
            OsFamily::ChromeOs => self.chrome_os,
            OsFamily::Linux => return None,
        };
        dotted(raw)
    }
}

/// Marketing name of a Windows NT kernel version (`6.1` -> `7`).
fn windows_release(nt: &str) -> Option<String> {
    let name = match nt {
        "10.0" => "10",
        "6.3" => "8.1",
        "6.2" => "8",
        "6.1" => "7",
        "6.0" => "Vista",
        "5.1" | "5.2" => "XP",
        "5.0" => "2000",
        other => return dotted(other),
    };
    Some(name.to_owned())
}

/// `"10_15_7"` -> `"10.15.7"`; `None` unless it starts with a digit.
fn dotted(raw: &str) -> Option<String> {
    let v = raw.trim_end_matches(['.', '_']);
    v.starts_with(|c: char| c.is_ascii_digit()).then(|| v.replace('_', "."))
}

#[cfg(test)]
#[path = "user_agent_tests.rs"]
mod tests;
