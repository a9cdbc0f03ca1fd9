//! The `EventStore` behaviour suite. Call [`run_all`] with a fresh store.

use px_core::event::{PersonLink, person_id_for};
use px_core::time::MICROS_PER_SECOND;
use px_core::{Event, ProjectId, ProjectScope, TenantId};
use px_store::{EventQuery, EventStore, ScopedEvent};
use serde_json::{Map, Value, json};
use uuid::Uuid;

pub const A: ProjectScope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };
pub const B: ProjectScope = ProjectScope { tenant_id: TenantId(2), project_id: ProjectId(2) };
const T0: i64 = 1_767_225_600 * MICROS_PER_SECOND; // 2026-01-01

/// A stored-ready event at `T0 + secs`.
pub fn event(scope: ProjectScope, name: &str, distinct: &str, secs: i64) -> ScopedEvent {
    ScopedEvent {
        scope,
        event: Event {
            event_id: Uuid::new_v4(),
            event: name.into(),
            distinct_id: distinct.into(),
            person_id: person_id_for(scope.project_id, distinct),
            session_id: Some("s1".into()),
            timestamp: T0 + secs * MICROS_PER_SECOND,
            received_at: T0 + secs * MICROS_PER_SECOND,
            properties: json!({"n": secs}).as_object().cloned().unwrap_or_default(),
            person_set: None,
            person_set_once: None,
            link: None,
            enrichment: px_core::Enrichment {
                browser: Some("Firefox".into()),
                screen_width: Some(390),
                ..Default::default()
            },
            timestamp_clamped: false,
        },
    }
}

fn obj(v: Value) -> Option<Map<String, Value>> {
    v.as_object().cloned()
}

pub async fn run_all(store: &dyn EventStore) {
    append_and_list(store).await;
    projects_are_isolated(store).await;
    persons_merge_and_keep_properties(store).await;
    recent_ids_cover_the_window(store).await;
}

async fn append_and_list(store: &dyn EventStore) {
    let mut batch: Vec<ScopedEvent> =
        (0..30).map(|i| event(A, if i % 3 == 0 { "signup" } else { "view" }, "u1", i / 2)).collect();
    batch.push(event(A, "view", "u2", 100));
    store.append(batch.clone()).await.unwrap_or_else(|e| panic!("append: {e}"));
    assert_eq!(store.count_events(A).await.ok(), Some(31));

    let page =
        store.list_events(A, EventQuery { limit: 10, ..Default::default() }).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.total, 31);
    assert_eq!(page.events.len(), 10);
    assert_eq!(page.events[0].distinct_id, "u2", "newest first");
    assert_eq!(page.events[0].enrichment.browser.as_deref(), Some("Firefox"));
    assert_eq!(page.events[0].enrichment.screen_width, Some(390));
    assert_eq!(page.events[0].properties["n"], 100);

    // Paging by cursor visits every event once, ties on timestamp included.
    let mut seen = std::collections::HashSet::new();
    let mut cursor = None;
    loop {
        let q = EventQuery { limit: 7, cursor, ..Default::default() };
        let p = store.list_events(A, q).await.unwrap_or_else(|e| panic!("{e}"));
        for e in &p.events {
            assert!(seen.insert(e.event_id), "event listed twice");
        }
        match p.next_cursor.as_deref().and_then(px_store::Cursor::decode) {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 31);

    let only =
        |q: EventQuery| async move { store.list_events(A, EventQuery { limit: 100, ..q }).await.map(|p| p.total).ok() };
    assert_eq!(only(EventQuery { event: Some("signup".into()), ..Default::default() }).await, Some(10));
    assert_eq!(only(EventQuery { distinct_id: Some("u2".into()), ..Default::default() }).await, Some(1));
    let after = T0 + 10 * MICROS_PER_SECOND;
    assert_eq!(only(EventQuery { after: Some(after), ..Default::default() }).await, Some(11));
    assert_eq!(only(EventQuery { before: Some(T0 + MICROS_PER_SECOND), ..Default::default() }).await, Some(2));
    // Hostile values are data, never SQL.
    let nasty = EventQuery { event: Some("x' OR '1'='1".into()), ..Default::default() };
    assert_eq!(only(nasty).await, Some(0));
}

async fn projects_are_isolated(store: &dyn EventStore) {
    store.append(vec![event(B, "secret", "u1", 5)]).await.unwrap_or_else(|e| panic!("{e}"));
    let b =
        store.list_events(B, EventQuery { limit: 100, ..Default::default() }).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.total, 1);
    let a = store.list_events(A, EventQuery { event: Some("secret".into()), limit: 100, ..Default::default() }).await;
    assert_eq!(a.map(|p| p.total).ok(), Some(0));
    // A scope mixing one tenant with another tenant's project sees nothing.
    let forged = ProjectScope { tenant_id: A.tenant_id, project_id: B.project_id };
    assert_eq!(store.count_events(forged).await.ok(), Some(0));
    assert!(store.person(forged, "u1").await.ok().flatten().is_none());
    // So do the analytics statements' relations.
    for relation in ["{events}", "{events_no_person}"] {
        let sql = format!("SELECT event FROM {relation} WHERE event = 'secret'");
        for (scope, expected) in [(B, 1), (A, 0), (forged, 0)] {
            let batches = store.query(scope, sql.clone(), Vec::new()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), expected, "{sql} in {scope:?}");
        }
    }
    // The relation without persons has no person to read by mistake.
    assert!(store.query(B, "SELECT person_id FROM {events_no_person}".into(), Vec::new()).await.is_err());
}

async fn persons_merge_and_keep_properties(store: &dyn EventStore) {
    let mut anon = event(A, "page_view", "anon-9", 200);
    anon.event.person_set_once = obj(json!({"first_page": "/pricing"}));
    anon.event.person_set = obj(json!({"plan": "free", "theme": "dark"}));
    store.append(vec![anon]).await.unwrap_or_else(|e| panic!("{e}"));

    let mut ident = event(A, "identify", "user-9", 210);
    ident.event.link = Some(PersonLink::Identify { anonymous_id: "anon-9".into() });
    ident.event.person_set = obj(json!({"plan": "pro"}));
    let later_anon = event(A, "click", "anon-9", 220);
    store.append(vec![ident, later_anon]).await.unwrap_or_else(|e| panic!("{e}"));

    let p = store.person(A, "anon-9").await.ok().flatten().unwrap_or_else(|| panic!("person missing"));
    assert_eq!(p.person_id, person_id_for(A.project_id, "user-9"));
    assert_eq!(p.distinct_ids, vec!["anon-9".to_string(), "user-9".to_string()]);
    assert_eq!(p.properties["plan"], "pro");
    assert_eq!(p.properties["theme"], "dark");
    assert_eq!(p.properties["first_page"], "/pricing");
    assert!(p.is_identified);
    assert!(p.first_seen < p.last_seen);
    // All three events list under the merged person, with its id.
    let q = EventQuery { person_id: Some(p.person_id), limit: 100, ..Default::default() };
    let page = store.list_events(A, q).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.total, 3);
    assert!(page.events.iter().all(|e| e.person_id == p.person_id));

    // `$set` of an object replaces the old object whole.
    let mut nested = event(A, "profile", "user-9", 225);
    nested.event.person_set = obj(json!({"address": {"city": "Recife", "zip": "50000"}}));
    store.append(vec![nested]).await.unwrap_or_else(|e| panic!("{e}"));
    let mut moved = event(A, "profile", "user-9", 226);
    moved.event.person_set = obj(json!({"address": {"city": "Natal"}}));
    store.append(vec![moved]).await.unwrap_or_else(|e| panic!("{e}"));
    let p = store.person(A, "user-9").await.ok().flatten().unwrap_or_else(|| panic!("person missing"));
    assert_eq!(p.properties["address"], json!({"city": "Natal"}));
    assert_eq!(p.properties["plan"], "pro", "other keys stay");

    // A second user cannot take over the already merged anonymous id.
    let mut steal = event(A, "identify", "user-10", 230);
    steal.event.link = Some(PersonLink::Identify { anonymous_id: "anon-9".into() });
    store.append(vec![steal]).await.unwrap_or_else(|e| panic!("{e}"));
    let p2 = store.person(A, "anon-9").await.ok().flatten().map(|p| p.person_id);
    assert_eq!(p2, Some(p.person_id));

    // Alias adds a name to the person.
    let mut alias = event(A, "alias", "user-9", 240);
    alias.event.link = Some(PersonLink::Alias { alias: "crm-9".into() });
    store.append(vec![alias]).await.unwrap_or_else(|e| panic!("{e}"));
    let p3 = store.person(A, "crm-9").await.ok().flatten().unwrap_or_else(|| panic!("alias missing"));
    assert_eq!(p3.person_id, p.person_id);
    assert!(store.person(A, "nobody").await.ok().flatten().is_none());
}

async fn recent_ids_cover_the_window(store: &dyn EventStore) {
    let e = event(A, "fresh", "u", 1_000_000);
    let id = e.event.event_id;
    store.append(vec![e]).await.unwrap_or_else(|err| panic!("{err}"));
    let recent =
        store.recent_event_ids(T0 + 999_999 * MICROS_PER_SECOND, 10).await.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(recent, vec![(A.project_id, id)]);
}
