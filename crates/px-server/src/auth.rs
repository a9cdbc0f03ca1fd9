//! Authentication: project keys (`Authorization: Bearer pxi_...|pxs_...`;
//! the APIs of other tools name them their way, see [`basic_user`]) and
//! logged-in users (`Bearer pxu_...` or the `px_session` cookie).
//! Produces the [`ProjectScope`] a request may act in; handlers never
//! accept a scope from anywhere else.
//!
//! Key lookups are cached for `key_cache_secs` (hits and misses alike, so a
//! flood of wrong keys does not reach the meta store); a revoked key keeps
//! working for at most that long.

use crate::error::ApiError;
use axum::http::{HeaderMap, header};
use hashbrown::HashMap;
use parking_lot::Mutex;
use px_core::{ErrorKind, ProjectId, ProjectScope, ProjectSettings};
use px_store::{KeyKind, MetaStore, Role};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY_CACHE_MAX: usize = 100_000;
pub const SESSION_COOKIE: &str = "px_session";

/// What a project key grants.
#[derive(Debug, Clone)]
pub struct KeyAuth {
    pub scope: ProjectScope,
    pub kind: KeyKind,
    pub settings: Arc<ProjectSettings>,
    pub plan: Arc<str>,
}

pub struct Authenticator {
    meta: Arc<dyn MetaStore>,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Option<KeyAuth>, Instant)>>,
}

/// `pxi_`/`pxs_` and 32 base62 characters, as `new_token` makes them.
fn looks_like_key(token: &str) -> bool {
    (token.starts_with("pxi_") || token.starts_with("pxs_"))
        && token.len() == 36
        && token.bytes().skip(4).all(|b| b.is_ascii_alphanumeric())
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The user of `Authorization: Basic base64(user:password)`: Segment
/// clients send their write key that way, with an empty password.
pub fn basic_user(headers: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
    (!user.is_empty()).then(|| user.to_string())
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == SESSION_COOKIE).then_some(v)
    })
}

impl Authenticator {
    pub fn new(meta: Arc<dyn MetaStore>, ttl: Duration) -> Self {
        Self { meta, ttl, cache: Mutex::new(HashMap::new()) }
    }

    /// Resolves a project key, through the cache.
    pub async fn key(&self, token: &str) -> Result<Option<KeyAuth>, ApiError> {
        // Only well-formed keys reach the cache and the store: a flood of
        // long junk tokens must not fill memory or evict real keys.
        if !looks_like_key(token) {
            return Ok(None);
        }
        if let Some((auth, at)) = self.cache.lock().get(token)
            && at.elapsed() < self.ttl
        {
            return Ok(auth.clone());
        }
        let found = self.meta.authenticate_key(token).await?.map(|(key, project)| KeyAuth {
            scope: key.scope,
            kind: key.kind,
            settings: Arc::new(project.settings),
            plan: Arc::from(project.plan.as_str()),
        });
        let mut cache = self.cache.lock();
        if cache.len() >= KEY_CACHE_MAX {
            cache.clear();
        }
        cache.insert(token.to_string(), (found.clone(), Instant::now()));
        Ok(found)
    }

    /// Authorizes writing events: any live key of the project.
    pub async fn ingest(&self, token: Option<&str>) -> Result<KeyAuth, ApiError> {
        let token =
            token.ok_or_else(|| ApiError::unauthorized("missing project key: send Authorization: Bearer <key>"))?;
        self.key(token).await?.ok_or_else(|| ApiError::unauthorized("unknown or revoked project key"))
    }

    /// Authorizes writing events with a key taken from the URL (`?key=`,
    /// for `navigator.sendBeacon`, which cannot set headers). URLs end up in
    /// proxy and server logs, so only ingestion keys, public anyway, are
    /// taken there; a secret key is refused without being looked up.
    pub async fn ingest_from_url(&self, token: &str) -> Result<KeyAuth, ApiError> {
        let refused = || {
            ApiError::unauthorized(
                "only ingestion keys (pxi_...) may be sent in the URL; send the key as Authorization: Bearer",
            )
        };
        if !token.starts_with("pxi_") {
            return Err(refused());
        }
        let auth = self.ingest(Some(token)).await?;
        if auth.kind != KeyKind::Ingest {
            return Err(refused());
        }
        Ok(auth)
    }

    /// Authorizes reading `project`: its secret key, or a logged-in member
    /// of its tenant. Anything else gets the same 401/404 as a missing
    /// project, so a caller cannot probe which projects exist.
    pub async fn read(&self, headers: &HeaderMap, project: ProjectId) -> Result<ProjectScope, ApiError> {
        self.authorize(headers, project, Role::Viewer).await
    }

    /// Authorizes changing what people decide in `project` (an insight's
    /// status or rating): its secret key, or a member with a role above
    /// viewer.
    pub async fn write(&self, headers: &HeaderMap, project: ProjectId) -> Result<ProjectScope, ApiError> {
        self.authorize(headers, project, Role::Analyst).await
    }

    async fn authorize(&self, headers: &HeaderMap, project: ProjectId, least: Role) -> Result<ProjectScope, ApiError> {
        let not_found = || ApiError::new(ErrorKind::NotFound, format!("project {project} not found"));
        let token = bearer(headers);
        if let Some(t) = token.filter(|t| !t.starts_with("pxu_")) {
            let key = self.key(t).await?.ok_or_else(|| ApiError::unauthorized("unknown or revoked key"))?;
            if key.kind != KeyKind::Secret {
                return Err(ApiError::new(ErrorKind::Forbidden, "ingestion keys cannot read; use a secret key"));
            }
            return if key.scope.project_id == project { Ok(key.scope) } else { Err(not_found()) };
        }
        let session = token
            .or_else(|| session_cookie(headers))
            .ok_or_else(|| ApiError::unauthorized("log in or send a secret key as Authorization: Bearer"))?;
        let user = self
            .meta
            .session_user(session)
            .await?
            .ok_or_else(|| ApiError::unauthorized("session expired; log in again"))?;
        match self.meta.project_role(user.id, project).await? {
            // Roles order from most to least powerful.
            Some((scope, role)) if role <= least => Ok(scope),
            Some((_, role)) => Err(ApiError::new(
                ErrorKind::Forbidden,
                format!("a {} cannot change this; ask an analyst or an admin", role.as_str()),
            )),
            None => Err(not_found()),
        }
    }
}
