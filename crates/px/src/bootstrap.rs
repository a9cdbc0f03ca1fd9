//! First start: a default tenant, project, admin user and keys, so a
//! newcomer can send events at once. Plaintext secrets exist only at
//! creation; they are printed and written to `credentials.json` in the data
//! dir (mode 0600) so that a newcomer who missed the banner can find them.

use crate::config::PxConfig;
use anyhow::{Context, Result};
use px_core::ProjectSettings;
use px_store::{KeyKind, MetaStore, NewProject, Project, Role};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const DEFAULT_TENANT: &str = "default";
pub const DEFAULT_PROJECT: &str = "Default project";
pub const DEMO_PROJECT: &str = "Demo";

/// A project with its freshly created keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectKeys {
    pub tenant_id: i64,
    pub project_id: i64,
    pub ingest_key: String,
    pub secret_key: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Credentials {
    pub admin_email: String,
    pub admin_password: Option<String>,
    pub projects: Vec<(String, ProjectKeys)>,
}

pub fn credentials_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("credentials.json")
}

pub fn read_credentials(data_dir: &Path) -> Credentials {
    std::fs::read(credentials_path(data_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub fn write_credentials(data_dir: &Path, c: &Credentials) -> Result<()> {
    let path = credentials_path(data_dir);
    std::fs::write(&path, serde_json::to_vec_pretty(c)?)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The default tenant, created when missing.
pub async fn default_tenant(meta: &dyn MetaStore, plan: &str) -> Result<px_store::Tenant> {
    if let Some(t) = meta.tenant_by_name(DEFAULT_TENANT).await? {
        return Ok(t);
    }
    Ok(meta.create_tenant(DEFAULT_TENANT, plan).await?)
}

/// Creates a project with one ingest and one secret key.
pub async fn create_project_with_keys(
    meta: &dyn MetaStore,
    tenant: px_core::TenantId,
    name: &str,
) -> Result<(Project, ProjectKeys)> {
    let project = meta
        .create_project(NewProject {
            tenant_id: tenant,
            name: name.into(),
            settings: ProjectSettings::default(),
        })
        .await?;
    let (_, ingest) = meta
        .create_key(project.scope(), KeyKind::Ingest, "default ingest key")
        .await?;
    let (_, secret) = meta
        .create_key(project.scope(), KeyKind::Secret, "default secret key")
        .await?;
    let keys = ProjectKeys {
        tenant_id: project.tenant_id.0,
        project_id: project.id.0,
        ingest_key: ingest,
        secret_key: secret,
    };
    Ok((project, keys))
}

/// What first start created (or found); `None` fields were made earlier.
pub struct Bootstrapped {
    pub first_start: bool,
    pub credentials: Credentials,
}

/// Ensures the default tenant, project, admin and keys exist.
pub async fn ensure(config: &PxConfig, meta: &dyn MetaStore) -> Result<Bootstrapped> {
    let first_start = meta.list_tenants().await?.is_empty();
    let mut creds = read_credentials(&config.data_dir);
    if !first_start {
        return Ok(Bootstrapped {
            first_start,
            credentials: creds,
        });
    }
    let tenant = default_tenant(meta, &config.server.rate_limits.default_plan).await?;
    let (_, keys) = create_project_with_keys(meta, tenant.id, DEFAULT_PROJECT).await?;
    let password = config
        .bootstrap
        .admin_password
        .clone()
        .unwrap_or_else(|| px_store::sqlite::new_token("")[..20].to_string());
    let user = meta
        .create_user(&config.bootstrap.admin_email, &password)
        .await?;
    meta.add_member(user.id, tenant.id, Role::Owner).await?;
    creds.admin_email = config.bootstrap.admin_email.clone();
    // A password the operator chose is theirs; only a generated one is kept.
    creds.admin_password = config
        .bootstrap
        .admin_password
        .is_none()
        .then_some(password);
    creds.projects.push((DEFAULT_PROJECT.to_string(), keys));
    write_credentials(&config.data_dir, &creds)?;
    Ok(Bootstrapped {
        first_start,
        credentials: creds,
    })
}
