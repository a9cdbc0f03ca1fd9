//! The [`MetaStore`] seam: tenants, projects, keys, users and login
//! sessions. Contract for every backend:
//! - ids are assigned by the store and never reused;
//! - secrets (API keys, passwords, session tokens) are stored only as
//!   hashes; plaintext is returned once, at creation;
//! - every project-level call takes the [`ProjectScope`] it acts in, and a
//!   key or session resolves to exactly one scope.

use crate::Result;
use async_trait::async_trait;
use px_core::{ProjectId, ProjectScope, ProjectSettings, TenantId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// Rate-limit plan name (see the `rate_limits` config section).
    pub plan: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Project {
    pub id: ProjectId,
    pub tenant_id: TenantId,
    pub name: String,
    pub settings: ProjectSettings,
    /// The tenant's plan, denormalized for the ingest path.
    pub plan: String,
}

impl Project {
    pub fn scope(&self) -> ProjectScope {
        ProjectScope { tenant_id: self.tenant_id, project_id: self.id }
    }
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub tenant_id: TenantId,
    pub name: String,
    pub settings: ProjectSettings,
}

/// Public ingestion keys may only write events; secret keys read and manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Ingest,
    Secret,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::Secret => "secret",
        }
    }

    /// The visible prefix of keys of this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Ingest => "pxi_",
            Self::Secret => "pxs_",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiKey {
    pub id: i64,
    pub scope: ProjectScope,
    pub kind: KeyKind,
    pub label: String,
    /// The first characters of the key, to recognise it in lists.
    pub hint: String,
    pub created_at: String,
}

/// A user's role in a tenant, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Analyst,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Analyst => "analyst",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "owner" => Self::Owner,
            "admin" => Self::Admin,
            "analyst" => Self::Analyst,
            "viewer" => Self::Viewer,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: i64,
    pub email: String,
}

/// Where a user put an insight: the engine raises it `active`; people
/// dismiss it or mark it implemented. A later run updates its figures but
/// never changes what a person decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsightStatus {
    Active,
    Dismissed,
    Implemented,
}

impl InsightStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Dismissed => "dismissed",
            Self::Implemented => "implemented",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "dismissed" => Self::Dismissed,
            "implemented" => Self::Implemented,
            _ => return None,
        })
    }
}

/// What one engine run found, to be stored or merged into the insight
/// with the same `key`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInsight {
    /// Identity across runs: type, subject and segment.
    pub key: String,
    /// `friction`, `anomaly` or `opportunity`.
    pub insight_type: String,
    /// The friction kind, e.g. `step_failure`, `slow_page`.
    pub kind: String,
    /// `low`, `medium`, `high` or `critical`.
    pub priority: String,
    /// First sort key: recoverable money per month (0 when unknown).
    pub impact: f64,
    /// Second sort key: affected sessions per month.
    pub reach: f64,
    pub body: serde_json::Value,
    /// Microseconds since the epoch of the run that found it.
    pub detected_at: i64,
}

/// A stored insight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    pub id: i64,
    pub key: String,
    pub insight_type: String,
    pub kind: String,
    pub priority: String,
    pub impact: f64,
    pub reach: f64,
    pub status: InsightStatus,
    /// A person's rating of the insight, 1 (useless) to 5 (spot on).
    pub rating: Option<i64>,
    pub body: serde_json::Value,
    pub first_detected_at: i64,
    pub last_detected_at: i64,
}

/// Which insights to list, most impact first.
#[derive(Debug, Clone, Default)]
pub struct InsightFilter {
    pub status: Option<InsightStatus>,
    pub insight_type: Option<String>,
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A person's change to an insight; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct InsightUpdate {
    pub status: Option<InsightStatus>,
    pub rating: Option<i64>,
}

#[async_trait]
pub trait MetaStore: Send + Sync {
    async fn create_tenant(&self, name: &str, plan: &str) -> Result<Tenant>;
    async fn list_tenants(&self) -> Result<Vec<Tenant>>;
    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>>;

    async fn create_project(&self, new: NewProject) -> Result<Project>;
    /// Projects of one tenant, or of all tenants (operator tooling only).
    async fn list_projects(&self, tenant: Option<TenantId>) -> Result<Vec<Project>>;
    async fn project(&self, scope: ProjectScope) -> Result<Project>;
    async fn update_project_settings(&self, scope: ProjectScope, settings: &ProjectSettings) -> Result<Project>;

    /// Creates a key; the plaintext is in the second field, and only there.
    async fn create_key(&self, scope: ProjectScope, kind: KeyKind, label: &str) -> Result<(ApiKey, String)>;
    async fn list_keys(&self, scope: ProjectScope) -> Result<Vec<ApiKey>>;
    async fn revoke_key(&self, scope: ProjectScope, key_id: i64) -> Result<()>;
    /// The key and its project, if `token` is a live key.
    async fn authenticate_key(&self, token: &str) -> Result<Option<(ApiKey, Project)>>;

    async fn create_user(&self, email: &str, password: &str) -> Result<User>;
    async fn set_password(&self, email: &str, password: &str) -> Result<()>;
    async fn add_member(&self, user_id: i64, tenant: TenantId, role: Role) -> Result<()>;
    /// The user, if the password is right.
    async fn verify_password(&self, email: &str, password: &str) -> Result<Option<User>>;
    /// A login session; the plaintext token is returned once.
    async fn create_session(&self, user_id: i64, ttl_secs: i64) -> Result<String>;
    async fn session_user(&self, token: &str) -> Result<Option<User>>;
    /// The user's role in the project's tenant, if a member.
    async fn project_role(&self, user_id: i64, project: ProjectId) -> Result<Option<(ProjectScope, Role)>>;

    /// Stores a finding, or merges it into the insight with the same key
    /// (new figures, same status and rating); `true` when it is new.
    async fn upsert_insight(&self, scope: ProjectScope, new: NewInsight) -> Result<(Insight, bool)>;
    /// Insights matching `filter`, most impact first, and how many match.
    async fn list_insights(&self, scope: ProjectScope, filter: &InsightFilter) -> Result<(Vec<Insight>, i64)>;
    async fn insight(&self, scope: ProjectScope, id: i64) -> Result<Option<Insight>>;
    async fn update_insight(&self, scope: ProjectScope, id: i64, update: InsightUpdate) -> Result<Insight>;
}
