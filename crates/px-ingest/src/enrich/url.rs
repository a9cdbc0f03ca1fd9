//! URL enrichment: host, path and UTM parameters of the page, and the
//! referrer's domain. Unparseable URLs are kept as sent, without derived
//! columns, rather than rejected: a bad URL is still a real page view.

use url::Url;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub host: Option<String>,
    pub path: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
}

/// Splits a page URL into the columns queries break down by.
pub fn parse_page_url(raw: &str) -> PageInfo {
    let Ok(url) = Url::parse(raw.trim()) else {
        return PageInfo::default();
    };
    let mut info = PageInfo {
        host: url.host_str().map(str::to_ascii_lowercase),
        path: Some(url.path().to_string()).filter(|p| !p.is_empty()),
        ..Default::default()
    };
    for (k, v) in url.query_pairs() {
        let slot = match k.as_ref() {
            "utm_source" => &mut info.utm_source,
            "utm_medium" => &mut info.utm_medium,
            "utm_campaign" => &mut info.utm_campaign,
            "utm_term" => &mut info.utm_term,
            "utm_content" => &mut info.utm_content,
            _ => continue,
        };
        if slot.is_none() && !v.is_empty() {
            *slot = Some(v.into_owned());
        }
    }
    info
}

/// The referrer's host, lowercase, without a leading `www.`, so that
/// `www.google.com` and `google.com` count as one source.
pub fn referrer_domain(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some(host.strip_prefix("www.").map(str::to_string).unwrap_or(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_url_is_split() {
        let p = parse_page_url(
            "https://Shop.Example.com/checkout/pay?utm_source=google&utm_medium=cpc&utm_campaign=bf%202024&x=1",
        );
        assert_eq!(p.host.as_deref(), Some("shop.example.com"));
        assert_eq!(p.path.as_deref(), Some("/checkout/pay"));
        assert_eq!(p.utm_source.as_deref(), Some("google"));
        assert_eq!(p.utm_medium.as_deref(), Some("cpc"));
        assert_eq!(p.utm_campaign.as_deref(), Some("bf 2024"));
        assert_eq!(p.utm_term, None);
    }

    #[test]
    fn bad_urls_yield_nothing() {
        assert_eq!(parse_page_url("not a url"), PageInfo::default());
        assert_eq!(referrer_domain(""), None);
    }

    #[test]
    fn referrer_domain_drops_www() {
        assert_eq!(referrer_domain("https://www.Google.com/search?q=x").as_deref(), Some("google.com"));
        assert_eq!(referrer_domain("android-app://com.slack").as_deref(), Some("com.slack"));
    }
}
