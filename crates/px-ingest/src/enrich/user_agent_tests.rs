use super::*;
use proptest::prelude::*;

/// One real-world UA and everything `parse_user_agent` must say about it:
/// browser, browser version, OS, OS version and device type, with `""` for
/// `None`.
struct Case {
    ua: &'static str,
    want: [&'static str; 5],
}

const fn case(ua: &'static str, want: [&'static str; 5]) -> Case {
    Case { ua, want }
}

/// Checks every case and reports all mismatches at once.
fn check_all(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let got = parse_user_agent(c.ua);
        let [browser, browser_version, os, os_version, device] = c.want.map(|s| (!s.is_empty()).then(|| s.to_owned()));
        let want = UserAgentInfo { browser, browser_version, os, os_version, device_type: device };
        if got != want {
            failures.push(format!("{}\n   got: {got:?}\n  want: {want:?}", c.ua));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

const CHROME: &[Case] = &[
    case(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        ["Chrome", "120.0", "Windows", "10", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
        ["Chrome", "109.0", "Windows", "7", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.199 Safari/537.36",
        ["Chrome", "119.0", "macOS", "10.15.7", "desktop"],
    ),
    case(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.85 Safari/537.36",
        ["Chrome", "121.0", "Linux", "", "desktop"],
    ),
    case(
        "Mozilla/5.0 (X11; CrOS x86_64 15633.69.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.212 Safari/537.36",
        ["Chrome", "119.0", "Chrome OS", "15633.69.0", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        ["Chrome", "120.0", "Android", "14", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.5993.111 Safari/537.36",
        ["Chrome", "118.0", "Android", "13", "tablet"],
    ),
    // Android System WebView (`; wv`) reports the Chrome it is built from.
    case(
        "Mozilla/5.0 (Linux; Android 12; moto g(60) Build/S2RIS32.32-20-7; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/117.0.5938.153 Mobile Safari/537.36",
        ["Chrome", "117.0", "Android", "12", "mobile"],
    ),
    case(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
        ["Chrome", "120.0", "iOS", "17.2", "mobile"],
    ),
    // A phone brand whose name ends in "bot" is not a crawler.
    case(
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
        ["Chrome", "120.0", "Android", "10", "mobile"],
    ),
];

const FIREFOX: &[Case] = &[
    case(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
        ["Firefox", "121.0", "Windows", "10", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Windows NT 5.1; rv:52.0) Gecko/20100101 Firefox/52.0",
        ["Firefox", "52.0", "Windows", "XP", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) Gecko/20100101 Firefox/120.0",
        ["Firefox", "120.0", "macOS", "10.15", "desktop"],
    ),
    case(
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
        ["Firefox", "115.0", "Linux", "", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
        ["Firefox", "121.0", "Android", "14", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Android 12; Tablet; rv:109.0) Gecko/115.0 Firefox/115.0",
        ["Firefox", "115.0", "Android", "12", "tablet"],
    ),
    case(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/120.1 Mobile/15E148 Safari/605.1.15",
        ["Firefox", "120.1", "iOS", "16.7.2", "mobile"],
    ),
];

const SAFARI: &[Case] = &[
    // Also what iPadOS 13+ sends in desktop mode: reported as macOS desktop.
    case(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        ["Safari", "17.1", "macOS", "10.15.7", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.1.2 Safari/605.1.15",
        ["Safari", "14.1", "macOS", "10.14.6", "desktop"],
    ),
    case(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
        ["Safari", "17.1", "iOS", "17.1.2", "mobile"],
    ),
    case(
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        ["Safari", "16.6", "iPadOS", "16.6", "tablet"],
    ),
    case(
        "Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
        ["Safari", "12.1", "iOS", "12.5.7", "mobile"],
    ),
    // An unknown iOS app's webview names no browser.
    case(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        ["", "", "iOS", "15.8", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; GT-I9505 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
        ["Android Browser", "4.0", "Android", "4.4.2", "mobile"],
    ),
];

const EDGE_OPERA_IE: &[Case] = &[
    case(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        ["Edge", "120.0", "Windows", "10", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36 Edg/118.0.2088.76",
        ["Edge", "118.0", "macOS", "10.15.7", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
        ["Edge", "120.0", "Android", "10", "mobile"],
    ),
    case(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.0.2210.126 Mobile/15E148 Safari/605.1.15",
        ["Edge", "120.0", "iOS", "17.2", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045",
        ["Edge", "18.19045", "Windows", "10", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0",
        ["Opera", "105.0", "Windows", "10", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 OPR/79.1.4195.76412",
        ["Opera", "79.1", "Android", "10", "mobile"],
    ),
    case(
        "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.16",
        ["Opera", "12.16", "Windows", "7", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko",
        ["Internet Explorer", "11.0", "Windows", "8.1", "desktop"],
    ),
    case(
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)",
        ["Internet Explorer", "10.0", "Windows", "8", "desktop"],
    ),
];

const OTHER_BROWSERS: &[Case] = &[
    case(
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        ["Samsung Internet", "23.0", "Android", "13", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/22.0 Chrome/111.0.5563.116 Safari/537.36",
        ["Samsung Internet", "22.0", "Android", "13", "tablet"],
    ),
    case(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 YaBrowser/23.11.0.0 Safari/537.36",
        ["Yandex", "23.11", "Windows", "10", "desktop"],
    ),
    case(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 YaBrowser/23.11.3.345.10 Mobile/15E148 Safari/604.1",
        ["Yandex", "23.11", "iOS", "17.1", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2185 Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
        ["UC Browser", "13.4", "Android", "10", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.35.131 Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36",
        ["Electron", "27.1", "macOS", "10.15.7", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) discord/1.0.9028 Chrome/108.0.5359.215 Electron/22.3.26 Safari/537.36",
        ["Electron", "22.3", "Windows", "10", "desktop"],
    ),
    case(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/441.0.0.38.106;FBBV/537316227;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.1.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/539046633]",
        ["Facebook", "441.0", "iOS", "17.1.1", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/443.0.0.23.229;]",
        ["Facebook", "443.0", "Android", "13", "mobile"],
    ),
    case(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 309.1.1.28.108 (iPhone14,5; iOS 17_1_2; en_US; en; scale=3.00; 1170x2532; 537288532)",
        ["Instagram", "309.1", "iOS", "17.1.2", "mobile"],
    ),
    case(
        "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.231205.015; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Instagram 312.1.0.34.111 Android (34/14; 420dpi; 1080x2400; Google/google; Pixel 7; panther; panther; en_US; 548323757)",
        ["Instagram", "312.1", "Android", "14", "mobile"],
    ),
    case(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/83.0.4103.61 Chrome/83.0.4103.61 Safari/537.36",
        ["Chromium", "83.0", "Linux", "", "desktop"],
    ),
    case(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Vivaldi/6.5.3206.48",
        ["Vivaldi", "6.5", "Windows", "10", "desktop"],
    ),
    // Windows Phone also claims Android; the more specific platform wins.
    case(
        "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
        ["Edge", "15.15063", "Windows Phone", "10.0", "mobile"],
    ),
    // KaiOS names no platform we know; the `Mobile` word still counts.
    case("Mozilla/5.0 (Mobile; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", ["Firefox", "48.0", "", "", "mobile"]),
];

const BOTS: &[Case] = &[
    case("curl/8.4.0", ["curl", "8.4", "", "", "bot"]),
    case("curl/7.68.0", ["curl", "7.68", "", "", "bot"]),
    case("Wget/1.21.4", ["Wget", "1.21", "", "", "bot"]),
    case("python-requests/2.31.0", ["python-requests", "2.31", "", "", "bot"]),
    case("Go-http-client/1.1", ["Go-http-client", "1.1", "", "", "bot"]),
    case("Go-http-client/2.0", ["Go-http-client", "2.0", "", "", "bot"]),
    case("axios/1.6.2", ["axios", "1.6", "", "", "bot"]),
    case("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", ["node-fetch", "1.0", "", "", "bot"]),
    case(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ["Googlebot", "2.1", "", "", "bot"],
    ),
    // The smartphone crawler still describes the device it pretends to be.
    case(
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.129 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ["Googlebot", "2.1", "Android", "6.0.1", "bot"],
    ),
    case("Googlebot-Image/1.0", ["Googlebot", "1.0", "", "", "bot"]),
    case(
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
        ["bingbot", "2.0", "", "", "bot"],
    ),
    case(
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        ["Baiduspider", "2.0", "", "", "bot"],
    ),
    case("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", ["YandexBot", "3.0", "", "", "bot"]),
    case("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", ["AhrefsBot", "7.0", "", "", "bot"]),
    case("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", ["Slackbot", "", "", "", "bot"]),
    case("Mozilla/5.0 (compatible; SiteAuditCrawler/1.2)", ["SiteAuditCrawler", "1.2", "", "", "bot"]),
    case(
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        ["facebookexternalhit", "1.1", "", "", "bot"],
    ),
    case(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36",
        ["HeadlessChrome", "120.0", "Linux", "", "bot"],
    ),
];

#[test]
fn chrome() {
    check_all(CHROME);
}

#[test]
fn firefox() {
    check_all(FIREFOX);
}

#[test]
fn safari_and_apple_platforms() {
    check_all(SAFARI);
}

#[test]
fn edge_opera_and_internet_explorer() {
    check_all(EDGE_OPERA_IE);
}

#[test]
fn other_browsers_and_in_app_webviews() {
    check_all(OTHER_BROWSERS);
}

#[test]
fn bots_crawlers_and_http_libraries() {
    check_all(BOTS);
}

#[test]
fn empty_and_whitespace_say_nothing() {
    assert_eq!(parse_user_agent(""), UserAgentInfo::default());
    assert_eq!(parse_user_agent("  \t\n"), UserAgentInfo::default());
}

#[test]
fn garbage_is_an_unknown_desktop() {
    for ua in ["asdf", "!!!@@@###", "/", "((((", ")))(", "Mozilla/", "a/b/c/d", "Chrome/"] {
        let info = parse_user_agent(ua);
        assert_eq!(info.device_type.as_deref(), Some("desktop"), "{ua}");
        assert_eq!(info.os, None, "{ua}");
        assert_eq!(info.browser_version, None, "{ua}");
    }
    // A bare token with no version is still recognised.
    let info = parse_user_agent("Chrome/");
    assert_eq!(info.browser.as_deref(), Some("Chrome"));
}

#[test]
fn non_ascii_bytes_are_skipped_not_sliced() {
    let info =
        parse_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36 ünïcødé 日本語/1.0");
    assert_eq!(info.browser.as_deref(), Some("Chrome"));
    assert_eq!(info.os_version.as_deref(), Some("10"));
    for ua in [
        "日本語",
        "Chrome/日本",
        "é/é(é;é)é",
        "(Android é; Mobile)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 1ï_2 like Mac OS X)",
        "Gøøglebot/2.1",
        "\u{feff}curl/8.0",
    ] {
        let _ = parse_user_agent(ua);
    }
    assert_eq!(parse_user_agent("(Android é; Mobile)").os.as_deref(), Some("Android"));
}

#[test]
fn ten_kilobyte_inputs_are_handled() {
    let long_inputs = [
        "a".repeat(10_240),
        "/".repeat(10_240),
        "(".repeat(10_240),
        "Chrome/".to_owned() + &"9".repeat(10_240),
        format!("Mozilla/5.0 ({}) Chrome/1.0", "Windows NT 10.0; ".repeat(610)),
        "a/1 ".repeat(2_560),
        "spider".repeat(1_710),
        "é".repeat(5_120),
    ];
    for ua in &long_inputs {
        assert!(ua.len() >= 10_240, "{}", ua.len());
        let info = parse_user_agent(ua);
        assert!(info.device_type.is_some());
    }
    // An absurd version is dropped rather than copied.
    assert_eq!(parse_user_agent(&long_inputs[3]).browser_version, None);
}

#[test]
fn version_helpers() {
    assert_eq!(major_minor("120.0.6099.119").as_deref(), Some("120.0"));
    assert_eq!(major_minor("120").as_deref(), Some("120"));
    assert_eq!(major_minor("120.").as_deref(), Some("120"));
    assert_eq!(major_minor(".5"), None);
    assert_eq!(major_minor(""), None);
    assert_eq!(dotted("10_15_7").as_deref(), Some("10.15.7"));
    assert_eq!(dotted("_"), None);
    assert_eq!(windows_release("6.0").as_deref(), Some("Vista"));
    assert_eq!(windows_release("11.0").as_deref(), Some("11.0"));
}

fn ua_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Mozilla/5.0 ".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("; ".to_owned()),
        Just("Windows NT ".to_owned()),
        Just("CPU iPhone OS ".to_owned()),
        Just("Mac OS X ".to_owned()),
        Just("Android ".to_owned()),
        Just("CrOS ".to_owned()),
        Just("Chrome/".to_owned()),
        Just("Version/".to_owned()),
        Just("Instagram ".to_owned()),
        Just("MSIE ".to_owned()),
        Just("rv:".to_owned()),
        Just("bot".to_owned()),
        "[0-9._]{0,12}",
        "\\PC{0,8}",
    ]
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_strings(ua in any::<String>()) {
        let info = parse_user_agent(&ua);
        prop_assert_eq!(info.device_type.is_some(), !ua.trim().is_empty());
    }

    #[test]
    fn never_panics_on_ua_shaped_strings(
        parts in prop::collection::vec(ua_fragment(), 0..24)
    ) {
        let ua = parts.concat();
        let info = parse_user_agent(&ua);
        prop_assert_eq!(info.device_type.is_some(), !ua.trim().is_empty());
    }
}
