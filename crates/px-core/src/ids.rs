//! Tenancy identifiers. Every stored row carries a tenant and a project, and
//! every store call takes a [`ProjectScope`], so no query path exists that
//! could read across tenants: isolation is a property of the types.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A tenant (an organisation): owns projects and users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub i64);

/// A project: the unit events, keys and settings belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProjectId(pub i64);

/// The tenant and project a request acts on. Only authentication produces
/// one (from a key or a logged-in user's membership), so holding a scope means
/// the caller may act on that project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProjectScope {
    pub tenant_id: TenantId,
    pub project_id: ProjectId,
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
