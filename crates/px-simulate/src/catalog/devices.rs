//! Browsers, operating systems and screens. Each [`Agent`] is one full
//! User-Agent string with its share of visitors; the shares add up to the
//! browser mix of a B2B SaaS site (Chrome ~60%, Safari ~20%, Edge ~8%,
//! Firefox ~7%, Samsung Internet ~4%, Opera ~1%; desktop ~64%). Screens are
//! drawn per device class so an iPhone never reports a 1920-wide screen.

/// Browser as a product (what a "browser" breakdown shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Browser {
    Chrome,
    Safari,
    Edge,
    Firefox,
    SamsungInternet,
    Opera,
}

impl Browser {
    pub(crate) const ALL: [Browser; 6] =
        [Browser::Chrome, Browser::Safari, Browser::Edge, Browser::Firefox, Browser::SamsungInternet, Browser::Opera];

    /// The name a browser breakdown shows (and scenario files use).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Browser::Chrome => "Chrome",
            Browser::Safari => "Safari",
            Browser::Edge => "Edge",
            Browser::Firefox => "Firefox",
            Browser::SamsungInternet => "Samsung Internet",
            Browser::Opera => "Opera",
        }
    }
}

/// Operating system as a product, as an "OS" breakdown shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Os {
    Windows,
    Mac,
    Linux,
    Chrome,
    Android,
    Ios,
}

impl Os {
    pub(crate) const ALL: [Os; 6] = [Os::Windows, Os::Mac, Os::Linux, Os::Chrome, Os::Android, Os::Ios];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Os::Windows => "Windows",
            Os::Mac => "macOS",
            Os::Linux => "Linux",
            Os::Chrome => "ChromeOS",
            Os::Android => "Android",
            Os::Ios => "iOS",
        }
    }
}

/// Form factor, as a "device type" breakdown shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceType {
    Desktop,
    Mobile,
    Tablet,
}

impl DeviceType {
    pub(crate) const ALL: [DeviceType; 3] = [DeviceType::Desktop, DeviceType::Mobile, DeviceType::Tablet];

    pub(crate) fn name(self) -> &'static str {
        match self {
            DeviceType::Desktop => "desktop",
            DeviceType::Mobile => "mobile",
            DeviceType::Tablet => "tablet",
        }
    }
}

/// The JavaScript engine family, which decides how an error message and its
/// stack are worded. Every browser on iOS is WebKit underneath.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Chromium,
    WebKit,
    Gecko,
}

/// Hardware class: decides the screen sizes, mobile network speed and
/// whether the device is a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceClass {
    WindowsPc,
    Mac,
    LinuxPc,
    Chromebook,
    IPhone,
    AndroidPhone,
    IPad,
}

impl DeviceClass {
    pub(crate) fn is_mobile(self) -> bool {
        matches!(self, DeviceClass::IPhone | DeviceClass::AndroidPhone | DeviceClass::IPad)
    }

    /// iPads report iOS: their User-Agents are the iPhone's, not macOS's.
    pub(crate) fn os(self) -> Os {
        match self {
            DeviceClass::WindowsPc => Os::Windows,
            DeviceClass::Mac => Os::Mac,
            DeviceClass::LinuxPc => Os::Linux,
            DeviceClass::Chromebook => Os::Chrome,
            DeviceClass::AndroidPhone => Os::Android,
            DeviceClass::IPhone | DeviceClass::IPad => Os::Ios,
        }
    }

    pub(crate) fn device_type(self) -> DeviceType {
        match self {
            DeviceClass::IPhone | DeviceClass::AndroidPhone => DeviceType::Mobile,
            DeviceClass::IPad => DeviceType::Tablet,
            _ => DeviceType::Desktop,
        }
    }

    /// Screen sizes (CSS pixels) with their relative shares.
    pub(crate) fn screens(self) -> &'static [((u16, u16), f64)] {
        match self {
            DeviceClass::WindowsPc => &[
                ((1920, 1080), 40.0),
                ((1536, 864), 18.0),
                ((1366, 768), 14.0),
                ((2560, 1440), 10.0),
                ((1280, 720), 6.0),
                ((1440, 900), 6.0),
                ((1600, 900), 6.0),
            ],
            DeviceClass::Mac => &[
                ((1440, 900), 25.0),
                ((1512, 982), 25.0),
                ((1728, 1117), 15.0),
                ((1470, 956), 15.0),
                ((1920, 1080), 10.0),
                ((2560, 1440), 10.0),
            ],
            DeviceClass::LinuxPc => &[((1920, 1080), 60.0), ((2560, 1440), 25.0), ((1366, 768), 15.0)],
            DeviceClass::Chromebook => &[((1366, 768), 60.0), ((1536, 864), 40.0)],
            DeviceClass::IPhone => {
                &[((390, 844), 30.0), ((393, 852), 25.0), ((430, 932), 20.0), ((414, 896), 15.0), ((375, 667), 10.0)]
            }
            DeviceClass::AndroidPhone => {
                &[((412, 915), 35.0), ((360, 800), 25.0), ((384, 854), 15.0), ((412, 892), 15.0), ((360, 780), 10.0)]
            }
            DeviceClass::IPad => &[((820, 1180), 45.0), ((768, 1024), 30.0), ((1024, 1366), 25.0)],
        }
    }
}

/// One User-Agent string and the share of visitors sending it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Agent {
    pub browser: Browser,
    pub class: DeviceClass,
    pub share: f64,
    pub user_agent: &'static str,
}

impl Agent {
    pub(crate) fn engine(&self) -> Engine {
        match (self.browser, self.class) {
            (_, DeviceClass::IPhone | DeviceClass::IPad) | (Browser::Safari, _) => Engine::WebKit,
            (Browser::Firefox, _) => Engine::Gecko,
            _ => Engine::Chromium,
        }
    }
}

const fn agent(browser: Browser, class: DeviceClass, share: f64, user_agent: &'static str) -> Agent {
    Agent { browser, class, share, user_agent }
}

use Browser::*;
use DeviceClass::*;

/// Every User-Agent a visitor may have. Shares are percentages of visitors.
pub(crate) const AGENTS: &[Agent] = &[
    // Chrome: 60
    agent(
        Chrome,
        WindowsPc,
        18.0,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
    ),
    agent(
        Chrome,
        WindowsPc,
        8.0,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/135.0.0.0 Safari/537.36",
    ),
    agent(
        Chrome,
        Mac,
        12.0,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
    ),
    agent(
        Chrome,
        LinuxPc,
        3.0,
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
    ),
    agent(
        Chrome,
        Chromebook,
        1.0,
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
    ),
    agent(
        Chrome,
        AndroidPhone,
        12.0,
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Mobile Safari/537.36",
    ),
    agent(
        Chrome,
        AndroidPhone,
        4.0,
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/135.0.0.0 Mobile Safari/537.36",
    ),
    agent(
        Chrome,
        IPhone,
        2.0,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/136.0.7103.56 Mobile/15E148 Safari/604.1",
    ),
    // Safari: 20
    agent(
        Safari,
        Mac,
        7.5,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Safari/605.1.15",
    ),
    agent(
        Safari,
        IPhone,
        8.0,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Mobile/15E148 Safari/604.1",
    ),
    agent(
        Safari,
        IPhone,
        3.0,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    ),
    agent(
        Safari,
        IPad,
        1.5,
        "Mozilla/5.0 (iPad; CPU OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Mobile/15E148 Safari/604.1",
    ),
    // Edge: 8
    agent(
        Edge,
        WindowsPc,
        7.5,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36 Edg/136.0.0.0",
    ),
    agent(
        Edge,
        Mac,
        0.5,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36 Edg/136.0.0.0",
    ),
    // Firefox: 7
    agent(Firefox, WindowsPc, 3.5, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:138.0) Gecko/20100101 Firefox/138.0"),
    agent(Firefox, Mac, 1.0, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:138.0) Gecko/20100101 Firefox/138.0"),
    agent(Firefox, LinuxPc, 1.5, "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:138.0) Gecko/20100101 Firefox/138.0"),
    agent(Firefox, AndroidPhone, 1.0, "Mozilla/5.0 (Android 14; Mobile; rv:138.0) Gecko/138.0 Firefox/138.0"),
    // Samsung Internet: 4
    agent(
        SamsungInternet,
        AndroidPhone,
        2.5,
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
    ),
    agent(
        SamsungInternet,
        AndroidPhone,
        1.5,
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    ),
    // Opera: 1
    agent(
        Opera,
        WindowsPc,
        1.0,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36 OPR/119.0.0.0",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_documented_mix() {
        let share = |b: Browser| AGENTS.iter().filter(|a| a.browser == b).map(|a| a.share).sum::<f64>();
        assert_eq!(share(Chrome), 60.0);
        assert_eq!(share(Safari), 20.0);
        assert_eq!(share(Edge), 8.0);
        assert_eq!(share(Firefox), 7.0);
        assert_eq!(share(SamsungInternet), 4.0);
        assert_eq!(share(Opera), 1.0);
        let desktop: f64 = AGENTS.iter().filter(|a| !a.class.is_mobile()).map(|a| a.share).sum();
        assert!((60.0..70.0).contains(&desktop), "{desktop}");
        assert!(AGENTS.len() < 256, "agent indexes are stored as u8");
    }
}
