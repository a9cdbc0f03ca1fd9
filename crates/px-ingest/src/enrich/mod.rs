//! Enrichment stage: derives columns from what the client sent and from the
//! request (IP, User-Agent header). Each source has its own module; this one
//! combines them and owns the caches that keep the stage cheap.

pub mod geo;
pub mod url;
pub mod user_agent;

use self::geo::{GeoInfo, GeoIp};
use self::user_agent::{UserAgentInfo, parse_user_agent};
use hashbrown::HashMap;
use parking_lot::Mutex;
use px_core::event::EventContext;
use px_core::{Enrichment, ProjectSettings};
use std::net::IpAddr;
use std::sync::Arc;

/// Distinct User-Agent strings are few (a few thousand per day on a busy
/// site), so parsed results are cached; past this size the cache restarts.
const UA_CACHE_MAX: usize = 20_000;
const UA_MAX_BYTES: usize = 512;

/// What the server knows about a request, beside its body.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

pub struct Enricher {
    geo: Option<GeoIp>,
    ua_cache: Mutex<HashMap<String, Arc<UserAgentInfo>>>,
}

impl Enricher {
    pub fn new(geo: Option<GeoIp>) -> Self {
        Self { geo, ua_cache: Mutex::new(HashMap::new()) }
    }

    /// Fills an [`Enrichment`] from the event's context and the request.
    /// Takes the context by value: its strings move into the columns.
    pub fn enrich(&self, ctx: Option<EventContext>, req: &RequestInfo, settings: &ProjectSettings) -> Enrichment {
        let mut e = Enrichment::default();
        let Some(c) = ctx else {
            self.enrich_request(&mut e, None, None, req, settings);
            return e;
        };
        if let Some(page) = c.page {
            if let Some(u) = page.url.filter(|u| !u.is_empty()) {
                let info = url::parse_page_url(&u);
                e.url = Some(u);
                e.host = info.host;
                e.path = info.path;
                e.utm_source = info.utm_source;
                e.utm_medium = info.utm_medium;
                e.utm_campaign = info.utm_campaign;
                e.utm_term = info.utm_term;
                e.utm_content = info.utm_content;
            }
            if e.path.is_none() {
                e.path = page.path;
            }
            if let Some(r) = page.referrer.filter(|r| !r.is_empty()) {
                e.referrer_domain = url::referrer_domain(&r);
                e.referrer = Some(r);
            }
            e.title = page.title;
        }
        // Geography resolved upstream wins over the IP lookup.
        if let Some(mut country) = c.country.filter(|c| !c.is_empty()) {
            country.make_ascii_uppercase();
            e.country = Some(country);
            e.city = c.city;
        }
        let ip = c.ip.as_deref().and_then(|s| s.trim().parse::<IpAddr>().ok());
        self.enrich_request(&mut e, c.user_agent.as_deref(), ip, req, settings);
        // Device fields the client knows win over the User-Agent parse.
        let known = |v: Option<String>| v.filter(|s| !s.is_empty());
        e.browser = known(c.browser).or(e.browser.take());
        e.browser_version = known(c.browser_version).or(e.browser_version.take());
        e.os = known(c.os).or(e.os.take());
        e.os_version = known(c.os_version).or(e.os_version.take());
        e.device_type = known(c.device_type).or(e.device_type.take());
        e.locale = c.locale;
        e.screen_width = c.screen.as_ref().and_then(|s| s.width);
        e.screen_height = c.screen.as_ref().and_then(|s| s.height);
        if let Some(l) = c.library {
            e.lib = l.name;
            e.lib_version = l.version;
        }
        e
    }

    /// What the request adds: the User-Agent parse (the event's own, else
    /// the header's), the IP (the event's own, else the peer's) and its
    /// geography, unless the event already brought its country.
    fn enrich_request(
        &self,
        e: &mut Enrichment,
        user_agent: Option<&str>,
        ip: Option<IpAddr>,
        req: &RequestInfo,
        settings: &ProjectSettings,
    ) {
        if let Some(ua) = user_agent.or(req.user_agent.as_deref()).filter(|u| !u.is_empty()) {
            let info = self.user_agent(ua);
            e.browser = info.browser.clone();
            e.browser_version = info.browser_version.clone();
            e.os = info.os.clone();
            e.os_version = info.os_version.clone();
            e.device_type = info.device_type.clone();
        }
        let ip = ip.or(req.ip);
        if let (Some(geo), Some(ip), None) = (&self.geo, ip, &e.country) {
            let GeoInfo { country, city } = geo.lookup(ip);
            e.country = country;
            e.city = city;
        }
        if !settings.drop_ip {
            e.ip = ip.map(|ip| if settings.anonymize_ip { crate::privacy::anonymize_ip(ip) } else { ip }.to_string());
        }
    }

    fn user_agent(&self, ua: &str) -> Arc<UserAgentInfo> {
        // Real user agents are under 512 bytes; longer ones are cut so that
        // the cache's memory stays bounded (20,000 x 512 bytes).
        let mut end = ua.len().min(UA_MAX_BYTES);
        while !ua.is_char_boundary(end) {
            end -= 1;
        }
        let ua = &ua[..end];
        if let Some(hit) = self.ua_cache.lock().get(ua) {
            return Arc::clone(hit);
        }
        // Parse outside the lock: parsing is the slow part.
        let info = Arc::new(parse_user_agent(ua));
        let mut cache = self.ua_cache.lock();
        if cache.len() >= UA_CACHE_MAX {
            cache.clear();
        }
        cache.insert(ua.to_string(), Arc::clone(&info));
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_fields_the_client_knows_win_over_the_user_agent() {
        let ctx = EventContext {
            user_agent: Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36".into()),
            os: Some("iOS".into()),
            device_type: Some("mobile".into()),
            browser: Some(String::new()),
            ..Default::default()
        };
        let e = Enricher::new(None).enrich(Some(ctx), &RequestInfo::default(), &ProjectSettings::default());
        assert_eq!((e.os.as_deref(), e.device_type.as_deref()), (Some("iOS"), Some("mobile")));
        assert_eq!(e.browser.as_deref(), Some("Chrome"), "an empty field does not hide the parse");
        assert_eq!(e.os_version.as_deref(), Some("10"), "fields the client left out still come from the parse");
    }
}
