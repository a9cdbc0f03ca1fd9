//! The `MetaStore` behaviour suite. Call [`run_all`] with a fresh store.

use px_core::{ErrorKind, ProjectId, ProjectScope, ProjectSettings};
use px_store::{KeyKind, MetaStore, NewProject, Role};

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

pub async fn run_all(meta: &dyn MetaStore) {
    let acme = ok(meta.create_tenant("acme", "free").await);
    let other = ok(meta.create_tenant("other", "pro").await);
    assert_eq!(meta.create_tenant("acme", "free").await.err().map(|e| e.kind()), Some(ErrorKind::Conflict));
    assert_eq!(ok(meta.tenant_by_name("acme").await).map(|t| t.id), Some(acme.id));

    let new = |t, name: &str| NewProject { tenant_id: t, name: name.into(), settings: ProjectSettings::default() };
    let web = ok(meta.create_project(new(acme.id, "web")).await);
    let app = ok(meta.create_project(new(other.id, "app")).await);
    assert_eq!(web.plan, "free");
    assert_eq!(meta.create_project(new(acme.id, "web")).await.err().map(|e| e.kind()), Some(ErrorKind::Conflict));
    assert_eq!(ok(meta.list_projects(Some(acme.id)).await).len(), 1);
    assert_eq!(ok(meta.list_projects(None).await).len(), 2);
    // A project is found only in its own tenant.
    let forged = ProjectScope { tenant_id: acme.id, project_id: app.id };
    assert_eq!(meta.project(forged).await.err().map(|e| e.kind()), Some(ErrorKind::NotFound));

    let settings = ProjectSettings { mask_pii: false, timezone: "America/Sao_Paulo".into(), ..Default::default() };
    let updated = ok(meta.update_project_settings(web.scope(), &settings).await);
    assert_eq!(updated.settings, settings);
    assert!(meta.update_project_settings(forged, &settings).await.is_err());

    // Keys: plaintext once, hashed at rest, scoped, revocable.
    let (key, token) = ok(meta.create_key(web.scope(), KeyKind::Ingest, "site").await);
    assert!(token.starts_with("pxi_") && token.len() > 30);
    let (found, project) = ok(meta.authenticate_key(&token).await).unwrap_or_else(|| panic!("key not found"));
    assert_eq!((found.id, found.scope, project.id), (key.id, web.scope(), web.id));
    assert!(ok(meta.authenticate_key("pxi_not-a-key").await).is_none());
    assert!(meta.create_key(forged, KeyKind::Secret, "x").await.is_err());
    assert_eq!(meta.revoke_key(app.scope(), key.id).await.err().map(|e| e.kind()), Some(ErrorKind::NotFound));
    ok(meta.revoke_key(web.scope(), key.id).await);
    assert!(ok(meta.authenticate_key(&token).await).is_none());
    assert!(ok(meta.list_keys(web.scope()).await).is_empty());

    // Users, roles and login sessions.
    assert!(meta.create_user("short@x.io", "123").await.is_err(), "passwords under 8 characters are refused");
    let ana = ok(meta.create_user("ana@acme.io", "correct horse").await);
    ok(meta.add_member(ana.id, acme.id, Role::Analyst).await);
    assert_eq!(ok(meta.verify_password("ana@acme.io", "correct horse").await).map(|u| u.id), Some(ana.id));
    assert!(ok(meta.verify_password("ana@acme.io", "wrong horse").await).is_none());
    assert!(ok(meta.verify_password("nobody@acme.io", "correct horse").await).is_none());
    let session = ok(meta.create_session(ana.id, 3600).await);
    assert_eq!(ok(meta.session_user(&session).await).map(|u| u.id), Some(ana.id));
    let expired = ok(meta.create_session(ana.id, -1).await);
    assert!(ok(meta.session_user(&expired).await).is_none());
    // Creating a session purges expired ones; live ones stay.
    ok(meta.create_session(ana.id, 3600).await);
    assert_eq!(ok(meta.session_user(&session).await).map(|u| u.id), Some(ana.id));
    assert_eq!(ok(meta.project_role(ana.id, web.id).await), Some((web.scope(), Role::Analyst)));
    assert_eq!(ok(meta.project_role(ana.id, app.id).await), None, "no access to another tenant's project");
    assert_eq!(ok(meta.project_role(ana.id, ProjectId(999)).await), None);
    ok(meta.set_password("ana@acme.io", "new password").await);
    assert!(ok(meta.verify_password("ana@acme.io", "new password").await).is_some());
}
