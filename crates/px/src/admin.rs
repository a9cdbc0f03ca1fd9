//! `px admin ...`: manage tenants, projects, keys and users. Touches only
//! the metadata store (SQLite in WAL mode), so it works while `px serve`
//! runs on the same data dir.

use crate::bootstrap;
use crate::config::PxConfig;
use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use px_core::{ProjectId, ProjectScope, TenantId};
use px_store::{KeyKind, MetaStore, Role};
use serde_json::json;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Tenants (organisations).
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Projects.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Project keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Users.
    #[command(subcommand)]
    User(UserCmd),
}

#[derive(Subcommand)]
pub enum TenantCmd {
    Create {
        name: String,
        /// Rate-limit plan (see server.rate_limits.plans).
        #[arg(long)]
        plan: Option<String>,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ProjectCmd {
    /// Creates a project with an ingest key and a secret key.
    Create {
        name: String,
        /// Tenant name or id (default: the default tenant, created if missing).
        #[arg(long)]
        tenant: Option<String>,
        /// Print {"tenant_id","project_id","ingest_key","secret_key"}.
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum KeyCmd {
    Create {
        #[arg(long)]
        project: i64,
        #[arg(long, value_parser = ["ingest", "secret"])]
        kind: String,
        #[arg(long, default_value = "")]
        label: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        project: i64,
        #[arg(long)]
        json: bool,
    },
    Revoke {
        #[arg(long)]
        project: i64,
        key_id: i64,
    },
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Creates a user and makes them a member of a tenant.
    Create {
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value = "analyst", value_parser = ["owner", "admin", "analyst", "viewer"])]
        role: String,
    },
    SetPassword {
        email: String,
        #[arg(long)]
        password: String,
    },
}

async fn tenant(meta: &dyn MetaStore, config: &PxConfig, name: Option<&str>) -> Result<px_store::Tenant> {
    let Some(name) = name else {
        return bootstrap::default_tenant(meta, &config.server.rate_limits.default_plan).await;
    };
    let all = meta.list_tenants().await?;
    all.into_iter()
        .find(|t| t.name == name || t.id.0.to_string() == name)
        .ok_or_else(|| anyhow!("no tenant named or numbered {name:?}"))
}

async fn project_scope(meta: &dyn MetaStore, project: i64) -> Result<ProjectScope> {
    meta.list_projects(None)
        .await?
        .into_iter()
        .find(|p| p.id == ProjectId(project))
        .map(|p| p.scope())
        .ok_or_else(|| anyhow!("no project {project}"))
}

fn print<T: serde::Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(value)?);
    } else {
        println!("{}", text());
    }
    Ok(())
}

pub async fn run(config: PxConfig, cmd: AdminCommand) -> Result<()> {
    let meta = crate::serve::open_meta(&config).await.context("opening the metadata store")?;
    let meta = meta.as_ref();
    match cmd {
        AdminCommand::Tenant(TenantCmd::Create { name, plan, json }) => {
            let plan = plan.unwrap_or_else(|| config.server.rate_limits.default_plan.clone());
            if !config.server.rate_limits.plans.contains_key(&plan) {
                bail!("plan {plan:?} is not defined in server.rate_limits.plans");
            }
            let t = meta.create_tenant(&name, &plan).await?;
            print(json, &t, || format!("tenant {} created (id {}, plan {})", t.name, t.id, t.plan))
        }
        AdminCommand::Tenant(TenantCmd::List { json }) => {
            let all = meta.list_tenants().await?;
            print(json, &all, || {
                all.iter().map(|t| format!("{}\t{}\t{}", t.id, t.name, t.plan)).collect::<Vec<_>>().join("\n")
            })
        }
        AdminCommand::Project(ProjectCmd::Create { name, tenant: t, json }) => {
            let t = tenant(meta, &config, t.as_deref()).await?;
            let (_, keys) = bootstrap::create_project_with_keys(meta, t.id, &name).await?;
            print(json, &keys, || {
                format!(
                    "project {name} created (id {}) in tenant {}\n  ingest key: {}\n  secret key: {}",
                    keys.project_id, t.name, keys.ingest_key, keys.secret_key
                )
            })
        }
        AdminCommand::Project(ProjectCmd::List { json }) => {
            let all = meta.list_projects(None).await?;
            print(json, &all, || {
                all.iter()
                    .map(|p| format!("{}\t{}\ttenant {}", p.id, p.name, p.tenant_id))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        AdminCommand::Key(KeyCmd::Create { project, kind, label, json }) => {
            let scope = project_scope(meta, project).await?;
            let kind = if kind == "secret" { KeyKind::Secret } else { KeyKind::Ingest };
            let (key, token) = meta.create_key(scope, kind, &label).await?;
            print(json, &json!({"id": key.id, "kind": key.kind, "key": token}), || {
                format!("{} key {} created: {token}", kind.as_str(), key.id)
            })
        }
        AdminCommand::Key(KeyCmd::List { project, json }) => {
            let scope = project_scope(meta, project).await?;
            let keys = meta.list_keys(scope).await?;
            print(json, &keys, || {
                keys.iter()
                    .map(|k| format!("{}\t{}\t{}…\t{}", k.id, k.kind.as_str(), k.hint, k.label))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        AdminCommand::Key(KeyCmd::Revoke { project, key_id }) => {
            let scope = project_scope(meta, project).await?;
            meta.revoke_key(scope, key_id).await?;
            println!("key {key_id} revoked (servers stop accepting it within server.key_cache_secs)");
            Ok(())
        }
        AdminCommand::User(UserCmd::Create { email, password, tenant: t, role }) => {
            let t = tenant(meta, &config, t.as_deref()).await?;
            let role = Role::parse(&role).ok_or_else(|| anyhow!("unknown role {role}"))?;
            let user = meta.create_user(&email, &password).await?;
            meta.add_member(user.id, TenantId(t.id.0), role).await?;
            println!("user {email} created as {} of tenant {}", role.as_str(), t.name);
            Ok(())
        }
        AdminCommand::User(UserCmd::SetPassword { email, password }) => {
            meta.set_password(&email, &password).await?;
            println!("password of {email} changed");
            Ok(())
        }
    }
}
