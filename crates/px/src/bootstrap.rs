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
    std::fs::read(credentials_path(data_dir)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

pub fn write_credentials(data_dir: &Path, c: &Credentials) -> Result<()> {
    use std::io::Write;
    let path = credentials_path(data_dir);
    let tmp = path.with_extension("json.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    // Written whole to a private temp file, synced, then renamed: never
    // readable by others, never half written.
    let mut f = opts.open(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(&serde_json::to_vec_pretty(c)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
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
        .create_project(NewProject { tenant_id: tenant, name: name.into(), settings: ProjectSettings::default() })
        .await?;
    let (_, ingest) = meta.create_key(project.scope(), KeyKind::Ingest, "default ingest key").await?;
    let (_, secret) = meta.create_key(project.scope(), KeyKind::Secret, "default secret key").await?;
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

/// Ensures the default tenant, project, admin and keys exist. Idempotent
/// and safe to interrupt: each missing piece is created on the next start,
/// and a project whose keys never reached `credentials.json` (a crash in
/// between) gets fresh keys, since the stored hashes cannot be shown again.
pub async fn ensure(config: &PxConfig, meta: &dyn MetaStore) -> Result<Bootstrapped> {
    let mut creds = read_credentials(&config.data_dir);
    let first_start = !credentials_path(&config.data_dir).exists();
    let mut changed = false;
    let tenant = default_tenant(meta, &config.server.rate_limits.default_plan).await?;
    if !creds.projects.iter().any(|(name, _)| name == DEFAULT_PROJECT) {
        let existing = meta.list_projects(Some(tenant.id)).await?.into_iter().find(|p| p.name == DEFAULT_PROJECT);
        let keys = match existing {
            Some(p) => {
                let (_, ingest) = meta.create_key(p.scope(), KeyKind::Ingest, "default ingest key").await?;
                let (_, secret) = meta.create_key(p.scope(), KeyKind::Secret, "default secret key").await?;
                ProjectKeys { tenant_id: p.tenant_id.0, project_id: p.id.0, ingest_key: ingest, secret_key: secret }
            }
            None => create_project_with_keys(meta, tenant.id, DEFAULT_PROJECT).await?.1,
        };
        creds.projects.insert(0, (DEFAULT_PROJECT.to_string(), keys));
        changed = true;
    }
    if creds.admin_email.is_empty() {
        let password = config
            .bootstrap
            .admin_password
            .clone()
            .unwrap_or_else(|| px_store::sqlite::new_token("").chars().take(20).collect());
        match meta.create_user(&config.bootstrap.admin_email, &password).await {
            Ok(user) => {
                meta.add_member(user.id, tenant.id, Role::Owner).await?;
                // A password the operator chose is theirs; only a generated one is kept.
                creds.admin_password = config.bootstrap.admin_password.is_none().then_some(password);
            }
            Err(e) if e.kind() == px_core::ErrorKind::Conflict => {}
            Err(e) => return Err(e.into()),
        }
        creds.admin_email = config.bootstrap.admin_email.clone();
        changed = true;
    }
    if changed {
        write_credentials(&config.data_dir, &creds)?;
    }
    Ok(Bootstrapped { first_start, credentials: creds })
}
