//! The embedded metadata store: one SQLite file in WAL mode, so `px admin`
//! can create projects and keys while `px serve` runs on the same data dir.

mod insights;

use crate::meta_store::{
    ApiKey, Insight, InsightFilter, InsightUpdate, KeyKind, MetaStore, NewInsight, NewProject, Project, Role, Tenant,
    User,
};
use crate::{Result, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use async_trait::async_trait;
use px_core::{ProjectId, ProjectScope, ProjectSettings, TenantId};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::Duration;

const SCHEMA: &str = include_str!("schema.sql");

pub struct SqliteMetaStore {
    pool: SqlitePool,
    /// Password hashing takes ~20 MiB and tens of ms each: at most this many
    /// run at once, so a login flood queues instead of exhausting memory.
    hashing: tokio::sync::Semaphore,
}

const CONCURRENT_HASHES: usize = 2;

/// SHA-256 of a token, hex. Keys are random 192-bit strings, so a fast hash
/// is enough (no salt or stretching needed, unlike passwords).
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random token: `prefix` then 32 base62 characters (~190 bits).
pub fn new_token(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let body: String = (0..32).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("{prefix}{body}")
}

fn project_from_row(r: &SqliteRow) -> Result<Project> {
    let settings: String = r.try_get("settings")?;
    Ok(Project {
        id: ProjectId(r.try_get("id")?),
        tenant_id: TenantId(r.try_get("tenant_id")?),
        name: r.try_get("name")?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Internal(format!("project settings are not valid: {e}")))?,
        plan: r.try_get("plan")?,
    })
}

fn key_from_row(r: &SqliteRow) -> Result<ApiKey> {
    let kind: String = r.try_get("kind")?;
    Ok(ApiKey {
        id: r.try_get("id")?,
        scope: ProjectScope {
            tenant_id: TenantId(r.try_get("tenant_id")?),
            project_id: ProjectId(r.try_get("project_id")?),
        },
        kind: if kind == "secret" { KeyKind::Secret } else { KeyKind::Ingest },
        label: r.try_get("label")?,
        hint: r.try_get("hint")?,
        created_at: r.try_get("created_at")?,
    })
}

/// An Argon2 hash of a random password nobody knows, for timing parity.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2T1ySAWeXwvFmvq6lkZk6cwLeZ9D0eqMxK7n8+6VDAU";

const PROJECT_COLUMNS: &str =
    "p.id, p.tenant_id, p.name, p.settings, t.plan FROM projects p JOIN tenants t ON t.id = p.tenant_id";

impl SqliteMetaStore {
    pub async fn open(path: &Path) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Self { pool, hashing: tokio::sync::Semaphore::new(CONCURRENT_HASHES) })
    }

    async fn hash_password(&self, password: &str) -> Result<String> {
        let _permit = self.hashing.acquire().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
                .map_err(|e| StoreError::Internal(format!("salt: {e}")))?;
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| StoreError::Internal(format!("password hash: {e}")))
        })
        .await?
    }
}

fn check_password(password: &str) -> Result<()> {
    if password.len() < 8 {
        return Err(StoreError::Invalid("password must be at least 8 characters".into()));
    }
    Ok(())
}

#[async_trait]
impl MetaStore for SqliteMetaStore {
    async fn create_tenant(&self, name: &str, plan: &str) -> Result<Tenant> {
        let id: i64 = sqlx::query_scalar("INSERT INTO tenants (name, plan) VALUES (?, ?) RETURNING id")
            .bind(name)
            .bind(plan)
            .fetch_one(&self.pool)
            .await?;
        Ok(Tenant { id: TenantId(id), name: name.into(), plan: plan.into() })
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query("SELECT id, name, plan FROM tenants ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(Tenant { id: TenantId(r.try_get("id")?), name: r.try_get("name")?, plan: r.try_get("plan")? }))
            .collect()
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
        let row = sqlx::query("SELECT id, name, plan FROM tenants WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(Tenant { id: TenantId(r.try_get("id")?), name: r.try_get("name")?, plan: r.try_get("plan")? }))
            .transpose()
    }

    async fn create_project(&self, new: NewProject) -> Result<Project> {
        let settings = serde_json::to_string(&new.settings).map_err(|e| StoreError::Internal(e.to_string()))?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO projects (tenant_id, name, settings) VALUES (?, ?, ?) RETURNING id")
                .bind(new.tenant_id.0)
                .bind(&new.name)
                .bind(settings)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => {
                        StoreError::Conflict(format!("project {:?} already exists in this tenant", new.name))
                    }
                    other => other,
                })?;
        self.project(ProjectScope { tenant_id: new.tenant_id, project_id: ProjectId(id) }).await
    }

    async fn list_projects(&self, tenant: Option<TenantId>) -> Result<Vec<Project>> {
        let rows = match tenant {
            Some(t) => {
                sqlx::query(&format!("SELECT {PROJECT_COLUMNS} WHERE p.tenant_id = ? ORDER BY p.id"))
                    .bind(t.0)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query(&format!("SELECT {PROJECT_COLUMNS} ORDER BY p.id")).fetch_all(&self.pool).await?,
        };
        rows.iter().map(project_from_row).collect()
    }

    async fn project(&self, scope: ProjectScope) -> Result<Project> {
        let row = sqlx::query(&format!("SELECT {PROJECT_COLUMNS} WHERE p.id = ? AND p.tenant_id = ?"))
            .bind(scope.project_id.0)
            .bind(scope.tenant_id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {}", scope.project_id)))?;
        project_from_row(&row)
    }

    async fn update_project_settings(&self, scope: ProjectScope, settings: &ProjectSettings) -> Result<Project> {
        let json = serde_json::to_string(settings).map_err(|e| StoreError::Internal(e.to_string()))?;
        let done = sqlx::query("UPDATE projects SET settings = ? WHERE id = ? AND tenant_id = ?")
            .bind(json)
            .bind(scope.project_id.0)
            .bind(scope.tenant_id.0)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("project {}", scope.project_id)));
        }
        self.project(scope).await
    }

    async fn create_key(&self, scope: ProjectScope, kind: KeyKind, label: &str) -> Result<(ApiKey, String)> {
        self.project(scope).await?;
        let token = new_token(kind.prefix());
        let hint: String = token.chars().take(10).collect();
        let row = sqlx::query(
            "INSERT INTO api_keys (tenant_id, project_id, kind, label, hint, token_hash) VALUES (?, ?, ?, ?, ?, ?)
             RETURNING id, tenant_id, project_id, kind, label, hint, created_at",
        )
        .bind(scope.tenant_id.0)
        .bind(scope.project_id.0)
        .bind(kind.as_str())
        .bind(label)
        .bind(&hint)
        .bind(token_hash(&token))
        .fetch_one(&self.pool)
        .await?;
        Ok((key_from_row(&row)?, token))
    }

    async fn list_keys(&self, scope: ProjectScope) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, project_id, kind, label, hint, created_at FROM api_keys
             WHERE tenant_id = ? AND project_id = ? AND revoked_at IS NULL ORDER BY id",
        )
        .bind(scope.tenant_id.0)
        .bind(scope.project_id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_key(&self, scope: ProjectScope, key_id: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ? AND tenant_id = ? AND project_id = ? AND revoked_at IS NULL",
        )
        .bind(key_id)
        .bind(scope.tenant_id.0)
        .bind(scope.project_id.0)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("key {key_id}")));
        }
        Ok(())
    }

    async fn authenticate_key(&self, token: &str) -> Result<Option<(ApiKey, Project)>> {
        let row = sqlx::query(
            "SELECT id, tenant_id, project_id, kind, label, hint, created_at FROM api_keys
             WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key = key_from_row(&row)?;
        let project = self.project(key.scope).await?;
        Ok(Some((key, project)))
    }

    async fn create_user(&self, email: &str, password: &str) -> Result<User> {
        check_password(password)?;
        let hash = self.hash_password(password).await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO users (email, password_hash) VALUES (?, ?) RETURNING id")
            .bind(email)
            .bind(hash)
            .fetch_one(&self.pool)
            .await?;
        Ok(User { id, email: email.into() })
    }

    async fn set_password(&self, email: &str, password: &str) -> Result<()> {
        check_password(password)?;
        let hash = self.hash_password(password).await?;
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE email = ?")
            .bind(hash)
            .bind(email)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {email}")));
        }
        Ok(())
    }

    async fn add_member(&self, user_id: i64, tenant: TenantId, role: Role) -> Result<()> {
        sqlx::query(
            "INSERT INTO memberships (user_id, tenant_id, role) VALUES (?, ?, ?)
                     ON CONFLICT (user_id, tenant_id) DO UPDATE SET role = excluded.role",
        )
        .bind(user_id)
        .bind(tenant.0)
        .bind(role.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn verify_password(&self, email: &str, password: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, email, password_hash FROM users WHERE email = ?")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        // Unknown e-mails are checked against a fixed hash, so that the
        // answer takes as long as for known ones (no account enumeration).
        let hash: String = match &row {
            Some(r) => r.try_get("password_hash")?,
            None => DUMMY_HASH.to_string(),
        };
        let password = password.to_string();
        let _permit = self.hashing.acquire().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
                .unwrap_or(false)
        })
        .await?;
        match (ok, row) {
            (true, Some(r)) => Ok(Some(User { id: r.try_get("id")?, email: r.try_get("email")? })),
            _ => Ok(None),
        }
    }

    async fn create_session(&self, user_id: i64, ttl_secs: i64) -> Result<String> {
        let token = new_token("pxu_");
        let now = chrono::Utc::now().timestamp();
        let expires = now + ttl_secs;
        // Expired sessions go as new ones come, so the table stays small.
        sqlx::query("DELETE FROM login_sessions WHERE expires_at <= ?").bind(now).execute(&self.pool).await?;
        sqlx::query("INSERT INTO login_sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)")
            .bind(token_hash(&token))
            .bind(user_id)
            .bind(expires)
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    async fn session_user(&self, token: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.email FROM login_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ? AND s.expires_at > ?",
        )
        .bind(token_hash(token))
        .bind(chrono::Utc::now().timestamp())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok(User { id: r.try_get("id")?, email: r.try_get("email")? })).transpose()
    }

    async fn project_role(&self, user_id: i64, project: ProjectId) -> Result<Option<(ProjectScope, Role)>> {
        let row = sqlx::query(
            "SELECT p.tenant_id, m.role FROM projects p JOIN memberships m ON m.tenant_id = p.tenant_id
             WHERE p.id = ? AND m.user_id = ?",
        )
        .bind(project.0)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        let role = Role::parse(&role).ok_or_else(|| StoreError::Internal(format!("unknown role {role}")))?;
        Ok(Some((ProjectScope { tenant_id: TenantId(row.try_get("tenant_id")?), project_id: project }, role)))
    }

    async fn upsert_insight(&self, scope: ProjectScope, new: NewInsight) -> Result<(Insight, bool)> {
        insights::upsert(&self.pool, scope, new).await
    }

    async fn list_insights(&self, scope: ProjectScope, filter: &InsightFilter) -> Result<(Vec<Insight>, i64)> {
        insights::list(&self.pool, scope, filter).await
    }

    async fn insight(&self, scope: ProjectScope, id: i64) -> Result<Option<Insight>> {
        insights::get(&self.pool, scope, id).await
    }

    async fn update_insight(&self, scope: ProjectScope, id: i64, update: InsightUpdate) -> Result<Insight> {
        insights::update(&self.pool, scope, id, update).await
    }
}
