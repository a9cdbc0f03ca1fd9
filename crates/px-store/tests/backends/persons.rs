//! Person merges as queries see them: pending in `person_overrides` and
//! resolved by `{events}`, then written into the events by a squash; and a
//! schema-1 store, whose merges lived only in its distinct ids, gets them
//! back when it is opened.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use px_core::event::{PersonLink, person_id_for};
use px_core::{ProjectId, ProjectScope};
use px_store::duckdb::schema::SCHEMA_VERSION;
use px_store::{DuckDbEventStore, EventStore};
use px_testkit::suites::event_store::{A, B, event};
use serde_json::json;

/// `(text, count)` rows of a two-column statement, in its order.
async fn pairs(store: &DuckDbEventStore, scope: ProjectScope, sql: &str) -> Vec<(String, i64)> {
    let batches: Vec<RecordBatch> = store.query(scope, sql.into(), Vec::new()).await.unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let (keys, counts) = (b.column(0).as_string::<i32>(), b.column(1).as_primitive::<Int64Type>());
        for i in 0..b.num_rows() {
            out.push((keys.value(i).to_string(), counts.value(i)));
        }
    }
    out
}

/// Events per person as queries see them.
async fn resolved(store: &DuckDbEventStore, scope: ProjectScope) -> Vec<(String, i64)> {
    pairs(store, scope, "SELECT person_id::VARCHAR, count(*) FROM {events} e GROUP BY 1 ORDER BY 1").await
}

/// Events per person as stored, in project `p`.
async fn stored(store: &DuckDbEventStore, p: ProjectId) -> Vec<(String, i64)> {
    let sql =
        format!("SELECT person_id::VARCHAR, count(*) FROM events WHERE project_id = {} GROUP BY 1 ORDER BY 1", p.0);
    pairs(store, A, &sql).await
}

async fn pending(store: &DuckDbEventStore) -> i64 {
    pairs(store, A, "SELECT 'pending', count(*) FROM person_overrides").await[0].1
}

/// `user`'s identify event in project A, merging `anonymous` into them.
fn identify(user: &str, anonymous: &str, t: i64) -> px_store::ScopedEvent {
    let mut e = event(A, "identify", user, t);
    e.event.link = Some(PersonLink::Identify { anonymous_id: anonymous.into() });
    e
}

fn person(scope: ProjectScope, distinct_id: &str) -> String {
    person_id_for(scope.project_id, distinct_id).to_string()
}

#[tokio::test]
async fn chained_merges_resolve_before_and_after_they_are_written_into_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
    // The same distinct ids in project B, which no merge of A may touch.
    let b_events = vec![event(B, "page_view", "anon-a", 1), event(B, "page_view", "user-b", 2)];
    store.append(b_events).await.unwrap();
    store.append(vec![event(A, "page_view", "anon-a", 1), event(A, "click", "anon-a", 2)]).await.unwrap();
    // anon-a's person goes into user-b's, and then user-b's into user-c's.
    let identify = identify("user-b", "anon-a", 3);
    store.append(vec![identify]).await.unwrap();
    let mut alias = event(A, "alias", "user-c", 4);
    alias.event.link = Some(PersonLink::Alias { alias: "user-b".into() });
    store.append(vec![alias]).await.unwrap();

    let c = person(A, "user-c");
    let b_before = stored(&store, B.project_id).await;
    assert_eq!(resolved(&store, A).await, vec![(c.clone(), 4)]);
    // Stored as they came, the second merge re-pointing the first.
    let mut as_stored = vec![(person(A, "anon-a"), 2), (person(A, "user-b"), 1), (c.clone(), 1)];
    as_stored.sort();
    assert_eq!(stored(&store, A.project_id).await, as_stored);
    assert_eq!(pending(&store).await, 2);

    store.squash_persons().unwrap();
    assert_eq!(pending(&store).await, 0);
    assert_eq!(stored(&store, A.project_id).await, vec![(c.clone(), 4)]);
    assert_eq!(resolved(&store, A).await, vec![(c.clone(), 4)]);
    assert_eq!(stored(&store, B.project_id).await, b_before, "project B's events moved");
    assert_eq!(b_before.len(), 2);

    // A merge after the squash resolves again, over squashed events too.
    let mut again = event(A, "alias", "user-d", 5);
    again.event.link = Some(PersonLink::Alias { alias: "user-c".into() });
    store.append(vec![again]).await.unwrap();
    assert_eq!(resolved(&store, A).await, vec![(person(A, "user-d"), 5)]);
    assert_eq!(pending(&store).await, 1);
    // Idle upkeep writes it in.
    store.maintain().await.unwrap();
    assert_eq!(pending(&store).await, 0);
    assert_eq!(stored(&store, A.project_id).await, vec![(person(A, "user-d"), 5)]);
}

#[tokio::test]
async fn a_schema_1_store_gets_its_merges_back_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.duckdb");
    {
        let store = DuckDbEventStore::open(&path, None).unwrap();
        store.append(vec![event(A, "page_view", "anon", 1), event(A, "page_view", "anon", 2)]).await.unwrap();
        let identify = identify("user", "anon", 3);
        store.append(vec![identify]).await.unwrap();
        // What schema 1 had: the merge in the distinct ids only.
        store.query(A, "DELETE FROM person_overrides".into(), Vec::new()).await.unwrap();
        store.query(A, "UPDATE px_schema SET version = 1".into(), Vec::new()).await.unwrap();
        let split = resolved(&store, A).await;
        assert_eq!(split.len(), 2, "without overrides the anonymous events keep their own person: {split:?}");
    }
    let store = DuckDbEventStore::open(&path, None).unwrap();
    let user = person(A, "user");
    assert_eq!(resolved(&store, A).await, vec![(user.clone(), 3)]);
    // Opening also wrote the merge into the events.
    assert_eq!(stored(&store, A.project_id).await, vec![(user, 3)]);
    assert_eq!(pairs(&store, A, "SELECT 'version', max(version) FROM px_schema").await[0].1, SCHEMA_VERSION);
}

/// Each person's key as queries see it: `(person_id, person_key)` rows.
async fn keys(store: &DuckDbEventStore, scope: ProjectScope) -> Vec<(String, i64)> {
    pairs(store, scope, "SELECT DISTINCT person_id::VARCHAR, person_key FROM {events} ORDER BY 2, 1").await
}

#[tokio::test]
async fn persons_get_dense_keys_per_project_that_follow_merges_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.duckdb");
    {
        let store = DuckDbEventStore::open(&path, None).unwrap();
        store.append(vec![event(A, "page_view", "anon", 1), event(A, "page_view", "user", 2)]).await.unwrap();
        store.append(vec![event(B, "page_view", "other", 1), event(A, "page_view", "anon", 3)]).await.unwrap();
        assert_eq!(keys(&store, A).await, vec![(person(A, "anon"), 1), (person(A, "user"), 2)]);
        // Project B numbers its own persons.
        assert_eq!(keys(&store, B).await, vec![(person(B, "other"), 1)]);
        let identify = identify("user", "anon", 4);
        store.append(vec![identify]).await.unwrap();
        // Pending, the merge already gives anon's events user's key.
        assert_eq!(pending(&store).await, 1);
        assert_eq!(keys(&store, A).await, vec![(person(A, "user"), 2)]);
        store.squash_persons().unwrap();
        assert_eq!(keys(&store, A).await, vec![(person(A, "user"), 2)]);
    }
    // After a restart the writer knows every key: a new person gets the next.
    let store = DuckDbEventStore::open(&path, None).unwrap();
    store.append(vec![event(A, "page_view", "anon", 5), event(A, "page_view", "new", 6)]).await.unwrap();
    assert_eq!(keys(&store, A).await, vec![(person(A, "user"), 2), (person(A, "new"), 3)]);
}

#[tokio::test]
async fn a_schema_2_store_numbers_its_persons_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.duckdb");
    {
        let store = DuckDbEventStore::open(&path, None).unwrap();
        store.append(vec![event(A, "page_view", "late", 9), event(A, "page_view", "anon", 1)]).await.unwrap();
        store.append(vec![event(A, "page_view", "user", 5), event(B, "page_view", "anon", 2)]).await.unwrap();
        let identify = identify("user", "anon", 6);
        store.append(vec![identify]).await.unwrap();
        assert_eq!(pending(&store).await, 1);
        // What schema 2 had: no keys, and no session UUIDs (schema 4).
        for sql in [
            "ALTER TABLE events DROP COLUMN person_key",
            "ALTER TABLE events DROP COLUMN session_uuid",
            "ALTER TABLE person_overrides DROP COLUMN person_key",
            "DELETE FROM person_keys",
            "UPDATE px_schema SET version = 2",
        ] {
            store.query(A, sql.into(), Vec::new()).await.unwrap();
        }
    }
    let store = DuckDbEventStore::open(&path, None).unwrap();
    // Numbered by first event: anon (1 s), user (5 s), late (9 s); anon's
    // events now belong to user.
    assert_eq!(keys(&store, A).await, vec![(person(A, "user"), 2), (person(A, "late"), 3)]);
    assert_eq!(keys(&store, B).await, vec![(person(B, "anon"), 1)]);
    assert_eq!(pairs(&store, A, "SELECT 'version', max(version) FROM px_schema").await[0].1, SCHEMA_VERSION);
    store.append(vec![event(A, "page_view", "fresh", 10)]).await.unwrap();
    assert_eq!(keys(&store, A).await.last(), Some(&(person(A, "fresh"), 4)));
}

/// `(session_id, session_uuid)` of every event of `scope`, by session id.
async fn session_uuids(store: &DuckDbEventStore, scope: ProjectScope) -> Vec<(String, String)> {
    let sql = "SELECT DISTINCT session_id, session_uuid::VARCHAR FROM {events} ORDER BY 1".to_string();
    let batches: Vec<RecordBatch> = store.query(scope, sql, Vec::new()).await.unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let (ids, uuids) = (b.column(0).as_string::<i32>(), b.column(1).as_string::<i32>());
        for i in 0..b.num_rows() {
            out.push((ids.value(i).to_string(), uuids.value(i).to_string()));
        }
    }
    out
}

#[tokio::test]
async fn sessions_get_the_same_uuid_when_stored_and_when_a_schema_3_store_is_upgraded() {
    let ids = ["0190abcd-1234-7abc-8def-0123456789ab", "0190ABCD-1234-7ABC-8DEF-0123456789AB", "s-1", "é ✓"];
    let expected: Vec<(String, String)> = {
        let mut v: Vec<_> =
            ids.iter().map(|id| (id.to_string(), px_core::event::session_uuid(id).to_string())).collect();
        v.sort();
        v
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.duckdb");
    {
        let store = DuckDbEventStore::open(&path, None).unwrap();
        let events = ids.iter().enumerate().map(|(i, id)| {
            let mut e = event(A, "page_view", "anon", i as i64);
            e.event.session_id = Some(id.to_string());
            e
        });
        store.append(events.collect()).await.unwrap();
        assert_eq!(session_uuids(&store, A).await, expected);
        // What schema 3 had: no session UUIDs.
        for sql in ["ALTER TABLE events DROP COLUMN session_uuid", "UPDATE px_schema SET version = 3"] {
            store.query(A, sql.into(), Vec::new()).await.unwrap();
        }
    }
    let store = DuckDbEventStore::open(&path, None).unwrap();
    assert_eq!(session_uuids(&store, A).await, expected, "the upgrade computes what the writer does");
    assert_eq!(pairs(&store, A, "SELECT 'version', max(version) FROM px_schema").await[0].1, SCHEMA_VERSION);
}

#[tokio::test]
async fn merges_chained_within_one_commit_end_as_if_applied_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
    let with_set = |distinct: &str, secs: i64, set: serde_json::Value| {
        let mut e = event(A, "profile", distinct, secs);
        e.event.person_set = set.as_object().cloned();
        e
    };
    store
        .append(vec![
            with_set("user-b", 10, serde_json::json!({"y": 2, "z": 2})),
            with_set("user-c", 20, serde_json::json!({"z": 3, "w": 3})),
        ])
        .await
        .unwrap();
    // One commit: anon-a's person goes into user-b's, which goes into user-c's.
    let identify = identify("user-b", "anon-a", 40);
    let mut alias = event(A, "alias", "user-c", 50);
    alias.event.link = Some(PersonLink::Alias { alias: "user-b".into() });
    let batch = vec![with_set("anon-a", 5, serde_json::json!({"x": 1, "y": 1})), identify, alias];
    store.append(batch).await.unwrap();

    let c = store.person(A, "anon-a").await.unwrap().unwrap();
    assert_eq!(c.person_id, person_id_for(A.project_id, "user-c"));
    assert_eq!(c.distinct_ids, ["anon-a", "user-b", "user-c"]);
    // Each target's properties win over its source's: b over a, then c over both.
    assert_eq!(serde_json::Value::Object(c.properties.clone()), serde_json::json!({"x": 1, "y": 2, "z": 3, "w": 3}));
    assert!(c.is_identified);
    assert!(c.first_seen.contains("00:00:05"), "first seen is anon-a's first event: {}", c.first_seen);
    for gone in ["anon-a", "user-b"] {
        let id = person(A, gone);
        let left = pairs(&store, A, &format!("SELECT 'rows', count(*) FROM persons WHERE person_id = '{id}'")).await;
        assert_eq!(left[0].1, 0, "{gone}'s person row is still there");
    }
    assert_eq!(resolved(&store, A).await, vec![(c.person_id.to_string(), 5)]);
    assert_eq!(pending(&store).await, 2);
}

/// The person changes of an open transaction are written once, when it
/// commits (or before a merge reads them): across appends, `$set` still
/// keeps the latest value and `$set_once` the first, and a merge in a later
/// append still folds in what the earlier ones set.
#[tokio::test]
async fn person_changes_across_the_appends_of_one_transaction_combine_as_in_one_append() {
    use px_store::event_store::Commit;
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap();
    let with = |distinct: &str, t: i64, set: serde_json::Value, once: serde_json::Value| {
        let mut e = event(A, "page_view", distinct, t);
        e.event.person_set = set.as_object().cloned();
        e.event.person_set_once = once.as_object().cloned();
        e
    };
    let first = vec![with("anon", 10, json!({"plan": "free"}), json!({"source": "ads"}))];
    store.append_spooled(first, 1, Commit::WhenFull).await.unwrap();
    let second = vec![with("anon", 20, json!({"plan": "pro"}), json!({"source": "mail", "first": 1}))];
    store.append_spooled(second, 2, Commit::WhenFull).await.unwrap();
    assert!(store.person(A, "anon").await.unwrap().is_none(), "an open transaction's person is visible");
    let mut merge = identify("user", "anon", 30);
    merge.event.person_set = json!({"email_verified": true}).as_object().cloned();
    store.append_spooled(vec![merge], 3, Commit::WhenFull).await.unwrap();
    store
        .append_spooled(vec![with("user", 40, json!({"plan": "team"}), json!({}))], 4, Commit::WhenFull)
        .await
        .unwrap();
    assert_eq!(store.commit_spooled().await.unwrap(), 4);

    let p = store.person(A, "anon").await.unwrap().expect("the merged id has a person");
    assert_eq!(p.person_id.to_string(), person(A, "user"));
    let mut ids = p.distinct_ids.clone();
    ids.sort();
    assert_eq!(ids, ["anon", "user"]);
    assert_eq!(p.properties["plan"], "team", "the latest $set does not win");
    assert_eq!(p.properties["source"], "ads", "the first $set_once does not win");
    assert_eq!((&p.properties["first"], &p.properties["email_verified"]), (&json!(1), &json!(true)));
    assert!(p.is_identified);
}
