//! End-to-end ingestion tests against a real `px serve` process with the
//! embedded DuckDB and SQLite stores in a temp dir.

use crate::bin;
use px_testkit::server::{ProjectKeys, PxServer, create_project, gzip};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

struct Env {
    server: PxServer,
    a: ProjectKeys,
    client: Client,
    _dir: tempfile::TempDir,
}

fn start(env: &[(&str, &str)]) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let a = create_project(bin(), dir.path(), "a", None);
    let server = PxServer::start(bin(), dir.path(), env);
    Env { server, a, client: Client::new(), _dir: dir }
}

impl Env {
    async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let r = self.client.post(self.server.url(path)).bearer_auth(key).json(&body).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn events(&self, keys: &ProjectKeys, query: &str) -> (StatusCode, Value) {
        let url = self.server.url(&format!("/api/v1/projects/{}/events?{query}", keys.project_id));
        let r = self.client.get(url).bearer_auth(&keys.secret_key).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn ev(name: &str, distinct: &str) -> Value {
    json!({"event": name, "distinct_id": distinct, "event_id": Uuid::new_v4().to_string()})
}

#[tokio::test]
async fn batch_is_stored_enriched_and_read_back() {
    let env = start(&[]);
    let batch = json!({"events": [{
        "event": "page_view", "distinct_id": "u1", "event_id": Uuid::new_v4().to_string(),
        "timestamp": "2026-01-10T12:00:00Z", "properties": {"plan": "pro", "email": "ana@example.com"},
        "context": {"page": {"url": "https://shop.io/pricing?utm_source=news", "referrer": "https://www.google.com/"},
                    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                    "library": {"name": "px-js", "version": "0.1.0"}, "screen": {"width": 1920, "height": 1080}}
    }]});
    let (s, body) = env.post("/api/v1/events/batch", &env.a.ingest_key, batch).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["accepted"], 1);
    let (s, page) = env.events(&env.a, "").await;
    assert_eq!(s, 200);
    assert_eq!(page["total"], 1);
    let e = &page["events"][0];
    assert_eq!(e["event"], "page_view");
    assert_eq!(e["timestamp"], "2026-01-10T12:00:00.000Z");
    assert_eq!(e["properties"]["email"], "[email]", "PII is masked by default");
    assert_eq!(e["host"], "shop.io");
    assert_eq!(e["path"], "/pricing");
    assert_eq!(e["utm_source"], "news");
    assert_eq!(e["referrer_domain"], "google.com");
    assert_eq!(e["browser"], "Chrome");
    assert_eq!(e["os"], "Windows");
    assert_eq!(e["device_type"], "desktop");
    assert_eq!(e["ip"], "127.0.0.0", "IPs are truncated by default");
    assert_eq!(e["lib"], "px-js");
    assert_eq!(e["screen_width"], 1920);
    assert!(e["session_id"].as_str().is_some_and(|s| !s.is_empty()), "server-side session assigned");
}

#[tokio::test]
async fn single_event_endpoint_and_gzip() {
    let env = start(&[]);
    let (s, _) = env.post("/api/v1/events", &env.a.ingest_key, ev("signup", "u1")).await;
    assert_eq!(s, 200);
    let body = serde_json::to_vec(&json!({"events": [ev("a", "u1"), ev("b", "u1")]})).unwrap();
    let r = env
        .client
        .post(env.server.url("/api/v1/events/batch"))
        .bearer_auth(&env.a.ingest_key)
        .header("content-encoding", "gzip")
        .body(gzip(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(env.events(&env.a, "").await.1["total"], 3);
}

#[tokio::test]
async fn every_error_path_answers_with_its_reason() {
    let env = start(&[
        ("PX_INGEST__LIMITS__MAX_BODY_BYTES", "20000"),
        ("PX_INGEST__LIMITS__MAX_DECOMPRESSED_BYTES", "50000"),
        ("PX_INGEST__LIMITS__MAX_EVENTS_PER_BATCH", "10"),
        ("PX_INGEST__LIMITS__MAX_EVENT_BYTES", "2000"),
    ]);
    let url = env.server.url("/api/v1/events/batch");
    let key = &env.a.ingest_key;
    let post = |body: Vec<u8>, enc: Option<&'static str>| {
        let mut r = env.client.post(&url).bearer_auth(key).body(body);
        if let Some(e) = enc {
            r = r.header("content-encoding", e);
        }
        r.send()
    };
    // Wrong or missing key: 401.
    let r = env.client.post(&url).bearer_auth("pxi_wrong").json(&json!({"events": []})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = env.client.post(&url).json(&json!({"events": []})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Malformed body: 400 naming the body.
    let r = post(b"{not json".to_vec(), None).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "body");
    // Oversized body: 413.
    let r = post(vec![b' '; 30_000], None).await.unwrap();
    assert_eq!(r.status(), 413);
    // Gzip bomb: 413 after decompression.
    let r = post(gzip(&vec![b' '; 200_000]), Some("gzip")).await.unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("decompressed"));
    // Broken gzip and unknown encodings: 400.
    assert_eq!(post(b"\x1f\x8b\x08garbage".to_vec(), Some("gzip")).await.unwrap().status(), 400);
    assert_eq!(post(b"{}".to_vec(), Some("br")).await.unwrap().status(), 400);
    // Too many events: 413 naming the limit.
    let many: Vec<Value> = (0..11).map(|i| ev("x", &format!("u{i}"))).collect();
    let r = post(serde_json::to_vec(&json!({"events": many})).unwrap(), None).await.unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("limit of 10"));
    // Mixed batch: good events kept, bad ones listed by index and reason.
    let big = json!({"event": "big", "distinct_id": "u", "properties": {"blob": "x".repeat(3000)}});
    let batch = json!({"events": [ev("ok1", "u"), {"event": "no_id"}, big, ev("ok2", "u"),
        {"event": "t", "distinct_id": "u", "timestamp": "never"}, {"event": "", "distinct_id": "u"}]});
    let (s, body) = env.post("/api/v1/events/batch", key, batch).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["accepted"], 2);
    let rejected: Vec<(u64, String)> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["field"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        rejected,
        vec![(1, "distinct_id".into()), (2, "event".into()), (4, "timestamp".into()), (5, "event".into())]
    );
    assert!(body["rejected"][1]["message"].as_str().unwrap().contains("limit of 2000"));
    // A batch with no valid event at all: 400 with the list.
    let (s, body) = env.post("/api/v1/events/batch", key, json!({"events": [{"event": "x"}]})).await;
    assert_eq!(s, 400);
    assert_eq!(body["rejected"][0]["index"], 0);
    assert_eq!(env.events(&env.a, "").await.1["total"], 2);
    // Rejections are counted by reason.
    let metrics = env.client.get(env.server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("px_events_rejected_total{reason=\"missing_field\"} 3"), "{metrics}");
    assert!(metrics.contains("px_events_accepted_total 2"));
}

#[tokio::test]
async fn retried_batch_is_counted_once() {
    let env = start(&[]);
    let batch = json!({"events": (0..50).map(|i| ev("retry", &format!("u{i}"))).collect::<Vec<_>>()});
    let (_, first) = env.post("/api/v1/events/batch", &env.a.ingest_key, batch.clone()).await;
    assert_eq!((first["accepted"].as_u64(), first["duplicates"].as_u64()), (Some(50), Some(0)));
    let (s, second) = env.post("/api/v1/events/batch", &env.a.ingest_key, batch.clone()).await;
    assert_eq!(s, 200);
    assert_eq!((second["accepted"].as_u64(), second["duplicates"].as_u64()), (Some(0), Some(50)));
    // The same id twice inside one batch counts once too.
    let e = ev("twice", "u");
    let (_, third) = env.post("/api/v1/events/batch", &env.a.ingest_key, json!({"events": [e, e]})).await;
    assert_eq!((third["accepted"].as_u64(), third["duplicates"].as_u64()), (Some(1), Some(1)));
    assert_eq!(env.events(&env.a, "").await.1["total"], 51);
}

#[tokio::test]
async fn identify_and_alias_merge_persons() {
    let env = start(&[]);
    let key = &env.a.ingest_key;
    // Anonymous browsing with a $set_once, then signup.
    let anon = json!({"event": "page_view", "distinct_id": "anon-1", "$set_once": {"first_page": "/"}, "$set": {"plan": "free"}});
    assert_eq!(env.post("/api/v1/events", key, anon).await.0, 200);
    let (s, body) = env
        .post(
            "/api/v1/identify",
            key,
            json!({"user_id": "user-1", "anonymous_id": "anon-1", "traits": {"plan": "pro"}}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(env.post("/api/v1/events", key, json!({"event": "purchase", "distinct_id": "anon-1"})).await.0, 200);
    assert_eq!(env.post("/api/v1/alias", key, json!({"distinct_id": "user-1", "alias": "crm-77"})).await.0, 200);
    assert_eq!(env.post("/api/v1/alias", key, json!({"distinct_id": "user-1"})).await.0, 400);

    let url = env.server.url(&format!("/api/v1/projects/{}/persons/crm-77", env.a.project_id));
    let person: Value = env.client.get(url).bearer_auth(&env.a.secret_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(person["distinct_ids"], json!(["anon-1", "crm-77", "user-1"]), "{person}");
    assert_eq!(person["properties"]["plan"], "pro", "$set from identify wins");
    assert_eq!(person["properties"]["first_page"], "/", "$set_once from the anonymous past is kept");
    assert_eq!(person["is_identified"], true);
    // Every event of the person, whichever id it came with, lists under the person.
    let pid = person["person_id"].as_str().unwrap();
    let (_, page) = env.events(&env.a, &format!("person_id={pid}")).await;
    assert_eq!(page["total"], 4, "{page}");
    assert!(page["events"].as_array().unwrap().iter().all(|e| e["person_id"] == pid));
}

#[tokio::test]
async fn listing_filters_and_pages_without_gaps() {
    let env = start(&[]);
    let mut events = Vec::new();
    for i in 0..25 {
        // Five events share each timestamp, so paging must break ties by id.
        let ts = format!("2026-02-01T10:00:0{}Z", i / 5);
        events.push(json!({"event": if i % 2 == 0 { "even" } else { "odd" }, "distinct_id": format!("u{}", i % 3),
            "event_id": Uuid::new_v4().to_string(), "timestamp": ts}));
    }
    assert_eq!(env.post("/api/v1/events/batch", &env.a.ingest_key, json!({"events": events})).await.0, 200);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=7&cursor={c}"),
            None => "limit=7".into(),
        };
        let (s, page) = env.events(&env.a, &q).await;
        assert_eq!(s, 200);
        assert_eq!(page["total"], 25);
        for e in page["events"].as_array().unwrap() {
            seen.push((e["timestamp"].as_str().unwrap().to_string(), e["event_id"].as_str().unwrap().to_string()));
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no repeats");
    assert_eq!(env.events(&env.a, "event=even").await.1["total"], 13);
    assert_eq!(env.events(&env.a, "distinct_id=u1").await.1["total"], 8);
    assert_eq!(env.events(&env.a, "after=2026-02-01T10:00:03Z").await.1["total"], 10);
    assert_eq!(env.events(&env.a, "before=2026-02-01T10:00:01Z&event=odd").await.1["total"], 2);
    let (s, err) = env.events(&env.a, "after=yesterday").await;
    assert_eq!((s.as_u16(), err["error"]["field"].as_str()), (400, Some("after")));
    assert_eq!(env.events(&env.a, "cursor=zzz").await.0, 400);
    let (s, err) = env.events(&env.a, "bogus=1").await;
    assert_eq!((s.as_u16(), err["error"]["field"].as_str()), (400, Some("query")), "{err}");
    assert_eq!(env.events(&env.a, "limit=5000").await.0, 400);
}

#[tokio::test]
async fn timestamps_are_skew_corrected_and_future_ones_clamped() {
    let env = start(&[]);
    let now = chrono::Utc::now();
    // The client clock runs two hours ahead.
    let client_now = now + chrono::Duration::hours(2);
    let batch = json!({"sent_at": client_now.to_rfc3339(), "events": [
        {"event": "skewed", "distinct_id": "u", "timestamp": (client_now - chrono::Duration::minutes(5)).to_rfc3339()},
        {"event": "future", "distinct_id": "u", "timestamp": "2099-01-01T00:00:00Z"}
    ]});
    let (s, body) = env.post("/api/v1/events/batch", &env.a.ingest_key, batch).await;
    assert_eq!((s.as_u16(), body["accepted"].as_u64()), (200, Some(2)), "{body}");
    // An import of history, years back, without sent_at: kept as sent.
    let history = json!({"event": "history", "distinct_id": "u", "timestamp": "2019-05-05T05:05:05Z"});
    assert_eq!(env.post("/api/v1/events", &env.a.ingest_key, history).await.0, 200);
    let (_, page) = env.events(&env.a, "").await;
    let by_name = |n: &str| page["events"].as_array().unwrap().iter().find(|e| e["event"] == n).unwrap().clone();
    let skewed = chrono::DateTime::parse_from_rfc3339(by_name("skewed")["timestamp"].as_str().unwrap()).unwrap();
    let expected = now - chrono::Duration::minutes(5);
    assert!((skewed.timestamp() - expected.timestamp()).abs() < 30, "{skewed} vs {expected}");
    let future = by_name("future");
    assert_eq!(future["timestamp_clamped"], true);
    assert_eq!(future["properties"]["$timestamp_clamped"], true);
    assert_eq!(by_name("history")["timestamp"], "2019-05-05T05:05:05.000Z");
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let env = start(&[
        ("PX_SERVER__RATE_LIMITS__PLANS__FREE__EVENTS_PER_SECOND", "10"),
        ("PX_SERVER__RATE_LIMITS__PLANS__FREE__BURST", "5000"),
    ]);
    // A tenant on the free plan, created while the server runs.
    px_testkit::server::px(bin(), &env.server.data_dir, &["admin", "tenant", "create", "small", "--plan", "free"]);
    let free = create_project(bin(), &env.server.data_dir, "limited", Some("small"));
    let batch = json!({"events": (0..1000).map(|i| ev("x", &format!("u{i}"))).collect::<Vec<_>>()});
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..7 {
        let r = env
            .client
            .post(env.server.url("/api/v1/events/batch"))
            .bearer_auth(&free.ingest_key)
            .json(&batch)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            retry_after = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        }
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    let wait: u64 = retry_after.unwrap().parse().unwrap();
    assert!((90..=101).contains(&wait), "1000 events at 10/s need ~100 s: {wait}");
    // Other projects (on the unlimited plan) are not affected.
    assert_eq!(env.post("/api/v1/events/batch", &env.a.ingest_key, batch).await.0, 200);
}

#[tokio::test]
async fn health_ready_and_metrics() {
    let env = start(&[]);
    let get = |p: &str| env.client.get(env.server.url(p)).send();
    assert_eq!(get("/health").await.unwrap().status(), 200);
    assert_eq!(get("/ready").await.unwrap().status(), 200);
    env.post("/api/v1/events", &env.a.ingest_key, ev("m", "u")).await;
    let m = get("/metrics").await.unwrap().text().await.unwrap();
    for name in [
        "px_events_accepted_total 1",
        "px_batch_latency_seconds_count 1",
        "px_store_write_seconds_bucket",
        "px_write_queue_events",
    ] {
        assert!(m.contains(name), "missing {name} in\n{m}");
    }
}

#[tokio::test]
async fn geoip_database_fills_country_and_city() {
    use px_testkit::mmdb::{GeoEntry, write_city_db};
    let geo_dir = tempfile::tempdir().unwrap();
    let db = geo_dir.path().join("city.mmdb");
    let entry = |net: &str, len, iso: &str, city: &str| GeoEntry {
        network: net.parse().unwrap(),
        prefix_len: len,
        country_iso: iso.into(),
        city_en: Some(city.into()),
    };
    write_city_db(&db, &[entry("200.160.0.0", 16, "BR", "São Paulo"), entry("81.2.69.0", 24, "GB", "London")]).unwrap();
    let env = start(&[("PX_GEOIP_DB", db.to_str().unwrap())]);
    let batch = json!({"events": [
        {"event": "br", "distinct_id": "u", "context": {"ip": "200.160.7.9"}},
        {"event": "gb", "distinct_id": "u", "context": {"ip": "81.2.69.160"}},
        {"event": "loopback", "distinct_id": "u"},
        {"event": "cdn", "distinct_id": "u", "context": {"ip": "200.160.7.9", "country": "pt", "city": "Lisboa"}}
    ]});
    assert_eq!(env.post("/api/v1/events/batch", &env.a.ingest_key, batch).await.0, 200);
    let (_, page) = env.events(&env.a, "").await;
    let get = |n: &str| page["events"].as_array().unwrap().iter().find(|e| e["event"] == n).unwrap().clone();
    assert_eq!((get("br")["country"].as_str(), get("br")["city"].as_str()), (Some("BR"), Some("São Paulo")));
    assert_eq!(get("br")["ip"], "200.160.7.0", "geo lookup runs before the IP is truncated");
    assert_eq!(get("gb")["country"], "GB");
    assert_eq!(get("loopback")["country"], Value::Null);
    assert_eq!((get("cdn")["country"].as_str(), get("cdn")["city"].as_str()), (Some("PT"), Some("Lisboa")));
}

#[tokio::test]
async fn demo_project_is_loaded_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let server = PxServer::start_with_args(bin(), dir.path(), &[], &["--demo", "--demo-visitors-per-day", "40"]);
    assert!(
        server.wait_for_output("demo project ready", std::time::Duration::from_secs(240)).await,
        "demo never finished loading"
    );
    let creds: Value = serde_json::from_slice(&std::fs::read(dir.path().join("credentials.json")).unwrap()).unwrap();
    let demo = creds["projects"].as_array().unwrap().iter().find(|p| p[0] == "Demo").unwrap()[1].clone();
    let url = server.url(&format!("/api/v1/projects/{}/events?limit=1000", demo["project_id"]));
    let page: Value = Client::new()
        .get(url)
        .bearer_auth(demo["secret_key"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page["total"].as_u64().unwrap() > 1000, "{}", page["total"]);
    let names: std::collections::HashSet<&str> =
        page["events"].as_array().unwrap().iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(names.contains("page_view"), "{names:?}");
    assert!(page["events"].as_array().unwrap().iter().any(|e| e["browser"].is_string() && e["country"].is_string()));
}

#[tokio::test]
async fn sigterm_finishes_requests_and_exits_cleanly() {
    let env = start(&[]);
    assert_eq!(env.post("/api/v1/events", &env.a.ingest_key, ev("before_stop", "u")).await.0, 200);
    let Env { server, a, client, _dir: dir } = env;
    let status = server.terminate(std::time::Duration::from_secs(20)).expect("px serve did not exit after SIGTERM");
    assert!(status.success(), "{status:?}");
    // The data dir opens again and holds the event.
    let server = PxServer::start(bin(), dir.path(), &[]);
    let url = server.url(&format!("/api/v1/projects/{}/events", a.project_id));
    let page: Value = client.get(url).bearer_auth(&a.secret_key).send().await.unwrap().json().await.unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["events"][0]["event"], "before_stop");
}

#[tokio::test]
async fn browsers_may_send_events_from_any_origin() {
    let env = start(&[]);
    let r = env
        .client
        .request(reqwest::Method::OPTIONS, env.server.url("/api/v1/events/batch"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type,content-encoding")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let allowed = r.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-encoding"), "{allowed}");
    // Reading stays same-origin: no CORS grant on the read API.
    let r = env
        .client
        .get(env.server.url(&format!("/api/v1/projects/{}/events", env.a.project_id)))
        .header("origin", "https://evil.example")
        .bearer_auth(&env.a.secret_key)
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn beacons_send_the_ingestion_key_in_the_url() {
    let env = start(&[]);
    let url = |key: &str| env.server.url(&format!("/api/v1/events/batch?key={key}"));
    // What navigator.sendBeacon sends: no Authorization, a text/plain body.
    let beacon = |key: &str, name: &str| {
        let body = json!({"events": [ev(name, "u1")], "sent_at": "2026-01-10T12:00:00Z"}).to_string();
        env.client.post(url(key)).header("content-type", "text/plain;charset=UTF-8").body(body).send()
    };
    let r = beacon(&env.a.ingest_key, "left_page").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["accepted"], 1);
    // A secret key in a URL would end up in logs: refused, even though it is valid.
    let r = beacon(&env.a.secret_key, "with_secret").await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("only ingestion keys"));
    assert_eq!(beacon("pxi_00000000000000000000000000000000", "unknown").await.unwrap().status(), 401);
    let (_, page) = env.events(&env.a, "").await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["events"][0]["event"], "left_page");
}

#[tokio::test]
async fn the_browser_sdk_is_served() {
    let env = start(&[]);
    let r = env.client.get(env.server.url("/sdk/px.js")).header("origin", "https://shop.example").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let header = |name: &str| r.headers()[name].to_str().unwrap().to_string();
    assert!(header("content-type").starts_with("text/javascript"), "{}", header("content-type"));
    assert_eq!(header("cache-control"), "public, max-age=300");
    assert_eq!(header("access-control-allow-origin"), "*");
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/js/dist/px.js")).unwrap();
    assert_eq!(r.text().await.unwrap(), committed, "the binary serves the committed bundle");
}
