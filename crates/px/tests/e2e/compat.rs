//! Drop-in compatibility, end to end. The real `@segment/analytics-node` and
//! `posthog-node` packages (pinned in `compat/package.json`) send to a real
//! `px serve` through a proxy that loses the answer to their first batch, and
//! what PX stored is read back through its API. Then the HTTP shapes other
//! clients of both APIs use (gzip, base64, forms, keys in the body or the
//! header) are sent by hand.
//!
//! The node scripts need Node.js 20+ and `compat/node_modules`
//! (`scripts/install-deps.sh` installs both); without them the tests fail
//! saying so.

use crate::bin;
use base64::Engine;
use px_testkit::server::{ProjectKeys, PxServer, create_project, gzip};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use uuid::Uuid;

struct Env {
    server: PxServer,
    keys: ProjectKeys,
    client: Client,
    _dir: tempfile::TempDir,
}

fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(bin(), dir.path(), "compat", None);
    let server = PxServer::start(bin(), dir.path(), &[]);
    Env { server, keys, client: Client::new(), _dir: dir }
}

impl Env {
    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.server.url(path))
    }

    /// Sends `req`, returning the status and the JSON answer.
    async fn send(req: RequestBuilder) -> (StatusCode, Value) {
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Every stored event, read back with the secret key.
    async fn events(&self) -> Vec<Value> {
        let url = self.server.url(&format!("/api/v1/projects/{}/events?limit=1000", self.keys.project_id));
        let page: Value =
            self.client.get(url).bearer_auth(&self.keys.secret_key).send().await.unwrap().json().await.unwrap();
        page["events"].as_array().unwrap().clone()
    }

    async fn person(&self, distinct_id: &str) -> Value {
        let url = self.server.url(&format!("/api/v1/projects/{}/persons/{distinct_id}", self.keys.project_id));
        self.client.get(url).bearer_auth(&self.keys.secret_key).send().await.unwrap().json().await.unwrap()
    }
}

fn named<'a>(events: &'a [Value], name: &str) -> &'a Value {
    events.iter().find(|e| e["event"] == name).unwrap_or_else(|| panic!("no {name} event in {events:#?}"))
}

fn sorted_names(events: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

fn sorted_ids(person: &Value) -> Vec<&str> {
    let mut ids: Vec<&str> = person["distinct_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    ids.sort();
    ids
}

/// Runs `compat/<script>` against the server; returns its summary line.
fn run_node(script: &str, env: &Env) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../compat");
    for package in ["posthog-node", "@segment/analytics-node"] {
        assert!(
            dir.join("node_modules").join(package).is_dir(),
            "compat/node_modules/{package} is missing: run scripts/install-deps.sh (or: cd compat && npm ci)"
        );
    }
    let out = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .env("PX_URL", &env.server.base)
        .env("PX_KEY", &env.keys.ingest_key)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): Node.js 20+ is needed; run scripts/install-deps.sh"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node compat/{script} failed ({}):\n{stderr}\n{stdout}", out.status);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("compat/{script} printed no summary ({e}):\n{stdout}"))
}

/// The proxy lost PX's answer to the first batch; the library sent it
/// again and PX recognised every event of it.
fn assert_retried_once(summary: &Value, path: &str, events: u64) {
    let requests: Vec<&Value> = summary["requests"].as_array().unwrap().iter().filter(|r| r["path"] == path).collect();
    assert!(requests.iter().all(|r| r["status"] == 200), "{summary:#}");
    assert_eq!(requests.iter().filter(|r| r["failedOnPurpose"] == true).count(), 1, "{summary:#}");
    let sum = |field: &str| requests.iter().map(|r| r["answer"][field].as_u64().unwrap()).sum::<u64>();
    assert_eq!((sum("accepted"), sum("duplicates")), (events, events), "{summary:#}");
}

#[tokio::test]
async fn segment_node_library_sends_every_call() {
    let env = start();
    let summary = run_node("segment.mjs", &env);
    assert_retried_once(&summary, "/v1/batch", 8);

    let events = env.events().await;
    assert_eq!(
        sorted_names(&events),
        ["Legacy Login", "Order Completed", "Signup Started", "alias", "group", "identify", "page_view", "screen_view"]
    );
    let page = named(&events, "page_view");
    assert_eq!(
        (&page["path"], &page["utm_source"], &page["title"]),
        (&json!("/pricing"), &json!("news"), &json!("Pricing"))
    );
    assert_eq!(
        (&page["referrer_domain"], &page["browser"], &page["os"]),
        (&json!("google.com"), &json!("Chrome"), &json!("Windows"))
    );
    assert_eq!((&page["locale"], &page["ip"]), (&json!("pt-BR"), &json!("203.0.113.0")), "context.ip, anonymised");
    assert_eq!(page["lib"], "@segment/analytics-node");
    assert_eq!(
        page["properties"],
        json!({"name": "Pricing", "category": "Marketing", "$timezone": "America/Sao_Paulo"})
    );
    let order = named(&events, "Order Completed");
    assert_eq!(order["properties"], json!({"revenue": 99.5, "currency": "BRL"}));
    assert!(order["timestamp"].as_str().unwrap().starts_with("2026-01-10T12:00:00"), "{order}");
    assert_eq!(named(&events, "screen_view")["properties"], json!({"name": "Home", "tab": "feed"}));
    assert_eq!(named(&events, "group")["properties"], json!({"group_id": "acme-1", "name": "Acme", "employees": 40}));

    // identify merged the anonymous id, alias the legacy one: one person.
    let person = env.person("seg-user").await;
    assert_eq!(sorted_ids(&person), ["seg-anon", "seg-legacy", "seg-user"]);
    assert_eq!(person["properties"], json!({"plan": "pro", "company": "Acme"}));
    assert!(events.iter().all(|e| e["person_id"] == person["person_id"]), "{events:#?}");
}

#[tokio::test]
async fn posthog_node_library_sends_events_identity_and_reads_flags() {
    let env = start();
    let summary = run_node("posthog.mjs", &env);
    assert_retried_once(&summary, "/batch/", 8);
    assert_eq!(summary["flagEnabled"], false);
    let flags = summary["requests"].as_array().unwrap().iter().find(|r| r["path"] == "/flags/").unwrap();
    assert_eq!((&flags["status"], &flags["answer"]["flags"]), (&json!(200), &json!({})));

    let events = env.events().await;
    assert_eq!(
        sorted_names(&events),
        ["$create_alias", "$identify", "checkout", "click", "error", "group", "page_view", "searched"]
    );
    let page = named(&events, "page_view");
    assert_eq!(
        (&page["path"], &page["utm_campaign"], &page["title"]),
        (&json!("/docs"), &json!("launch"), &json!("Docs"))
    );
    assert_eq!((&page["browser"], &page["browser_version"]), (&json!("Firefox"), &json!("121")));
    assert_eq!((&page["os"], &page["device_type"]), (&json!("macOS"), &json!("desktop")));
    assert_eq!((&page["screen_width"], &page["session_id"]), (&json!(1280), &json!("ph-session-1")));
    assert_eq!((&page["referrer_domain"], &page["lib"]), (&json!("news.example"), &json!("posthog-node")));
    assert!(page["properties"].get("$current_url").is_none(), "context properties moved to columns");
    let click = &named(&events, "click")["properties"];
    assert_eq!((&click["text"], &click["tag"]), (&json!("Buy now"), &json!("button")));
    let error = &named(&events, "error")["properties"];
    assert_eq!((&error["message"], &error["type"]), (&json!("plan is undefined"), &json!("TypeError")));
    let group = &named(&events, "group")["properties"];
    assert_eq!(
        (&group["group_type"], &group["group_id"], &group["name"]),
        (&json!("company"), &json!("acme"), &json!("Acme"))
    );
    let checkout = named(&events, "checkout");
    assert_eq!((&checkout["distinct_id"], &checkout["properties"]["amount"]), (&json!("ph-legacy"), &json!(42)));
    assert!(checkout["timestamp"].as_str().unwrap().starts_with("2026-01-10T12:00:00"), "{checkout}");

    let person = env.person("ph-user").await;
    assert_eq!(sorted_ids(&person), ["ph-anon", "ph-legacy", "ph-user"]);
    assert_eq!(person["properties"], json!({"plan": "team", "first_plan": "free", "tier": "gold"}));
    assert!(events.iter().all(|e| e["person_id"] == person["person_id"]), "{events:#?}");
}

#[tokio::test]
async fn posthog_bodies_in_every_wrapping() {
    let env = start();
    let key = env.keys.ingest_key.as_str();
    let event = |name: &str| json!({"event": name, "distinct_id": "shape-user", "uuid": Uuid::new_v4()});
    let b64 = |v: &Value| base64::engine::general_purpose::STANDARD.encode(v.to_string());
    let accepted = |(status, body): (StatusCode, Value), n: u64| {
        assert_eq!(status, 200, "{body}");
        assert_eq!((&body["status"], &body["accepted"]), (&json!(1), &json!(n)), "{body}");
    };

    let mut single = event("json");
    single["api_key"] = json!(key);
    accepted(Env::send(env.post("/e/").json(&single)).await, 1);
    // posthog-js: an array, the key in each event's properties, gzip announced in the URL.
    let mut js = event("gzip_js");
    js["properties"] = json!({"token": key, "$current_url": "https://shop.example/a"});
    let body = gzip(json!([js]).to_string().as_bytes());
    let req = env.post("/e/?compression=gzip-js&_=1768046400000").header("content-type", "text/plain").body(body);
    accepted(Env::send(req).await, 1);
    let batch = json!({"api_key": key, "batch": [event("base64")]});
    accepted(Env::send(env.post("/i/v0/e/?compression=base64").body(b64(&batch))).await, 1);
    let form = format!("data={}", url_escape(&b64(&json!({"api_key": key, "batch": [event("form")]}))));
    let req = env.post("/capture/").header("content-type", "application/x-www-form-urlencoded").body(form);
    accepted(Env::send(req).await, 1);
    let body =
        gzip(json!({"api_key": key, "batch": [event("batch_gzip"), event("batch_gzip")]}).to_string().as_bytes());
    accepted(Env::send(env.post("/batch/").header("content-encoding", "gzip").body(body)).await, 2);
    let mut track = event("no_slash");
    track["token"] = json!(key);
    accepted(Env::send(env.post("/track").json(&track)).await, 1);
    let engage = json!({"$token": key, "$distinct_id": "shape-user", "$set": {"plan": "pro"}});
    accepted(Env::send(env.post("/engage/").json(&engage)).await, 1);

    let events = env.events().await;
    assert_eq!(
        sorted_names(&events),
        ["$set", "base64", "batch_gzip", "batch_gzip", "form", "gzip_js", "json", "no_slash"]
    );
    assert_eq!(named(&events, "gzip_js")["path"], "/a");
    assert!(named(&events, "gzip_js")["properties"].get("token").is_none());
    assert_eq!(env.person("shape-user").await["properties"]["plan"], "pro");

    // Refusals: the key is missing or unknown (401), the body is broken (400).
    let (s, _) = Env::send(env.post("/e/").json(&event("keyless"))).await;
    assert_eq!(s, 401);
    let mut unknown = event("unknown_key");
    unknown["api_key"] = json!("pxi_00000000000000000000000000000000");
    assert_eq!(Env::send(env.post("/e/").json(&unknown)).await.0, 401);
    let (s, body) = Env::send(env.post("/batch/").body("{not json")).await;
    assert_eq!((s, &body["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("body")));
    let (s, body) = Env::send(env.post("/e/?compression=lz64").body("xyz")).await;
    assert_eq!((s, &body["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("compression")));
    assert_eq!(env.events().await.len(), 8, "nothing refused was stored");

    // Flags: no flag is set; the token must be a live key.
    let (s, body) = Env::send(env.post("/decide/?v=3").json(&json!({"token": key, "distinct_id": "u"}))).await;
    assert_eq!(
        (s, &body["featureFlags"], &body["errorsWhileComputingFlags"]),
        (StatusCode::OK, &json!({}), &json!(false))
    );
    let (s, body) = Env::send(env.post("/flags/?v=2").json(&json!({"token": key, "distinct_id": "u"}))).await;
    assert_eq!((s, &body["flags"]), (StatusCode::OK, &json!({})));
    let (s, _) =
        Env::send(env.post("/flags/?v=2").json(&json!({"token": "pxi_00000000000000000000000000000000"}))).await;
    assert_eq!(s, 401);
    let bomb = gzip(&vec![b' '; 4 << 20]);
    let (s, body) = Env::send(env.post("/flags/?compression=gzip-js").body(bomb)).await;
    assert_eq!(s, 413, "flag calls decompress to 1 MiB at most: {body}");

    // Browsers may call every capture route from any page.
    let preflight = env
        .client
        .request(reqwest::Method::OPTIONS, env.server.url("/e/"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-posthog-session")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let allowed = |h: &str| preflight.headers().get(h).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(allowed("access-control-allow-origin"), "*");
    assert!(allowed("access-control-allow-headers").contains("x-posthog-session"));
}

/// Percent-encodes a form value (base64's `+`, `/` and `=` included).
fn url_escape(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn segment_http_api_keys_retries_and_refusals() {
    let env = start();
    let key = env.keys.ingest_key.as_str();
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")));
    let track = json!({"event": "Clicked", "userId": "u1", "messageId": "ajs-next-1700000000000-retry"});
    let (s, body) = Env::send(env.post("/v1/track").header("authorization", &basic).json(&track)).await;
    assert_eq!((s, &body["success"], &body["accepted"]), (StatusCode::OK, &json!(true), &json!(1)), "{body}");
    // The same message again (a retry): same id, not stored twice.
    let (s, body) = Env::send(env.post("/v1/track").header("authorization", &basic).json(&track)).await;
    assert_eq!((s, &body["duplicates"]), (StatusCode::OK, &json!(1)), "{body}");
    // writeKey in the body, gzip, a batch of several types.
    let batch = json!({"writeKey": key, "batch": [
        {"type": "identify", "userId": "u1", "anonymousId": "a1", "traits": {"plan": "pro"}},
        {"type": "page", "anonymousId": "a1", "properties": {"url": "https://shop.example/p"}}
    ]});
    let req = env.post("/v1/batch").header("content-encoding", "gzip").body(gzip(batch.to_string().as_bytes()));
    let (s, body) = Env::send(req).await;
    assert_eq!((s, &body["accepted"]), (StatusCode::OK, &json!(2)), "{body}");
    let alias = json!({"writeKey": key, "userId": "u1", "previousId": "old-1"});
    assert_eq!(Env::send(env.post("/v1/alias").json(&alias)).await.0, 200);
    // analytics.js: the short path, a text/plain body, the key in it.
    let screen = json!({"writeKey": key, "type": "screen", "userId": "u1", "name": "Home"}).to_string();
    let (s, body) = Env::send(env.post("/v1/s").header("content-type", "text/plain").body(screen)).await;
    assert_eq!((s, &body["accepted"]), (StatusCode::OK, &json!(1)), "{body}");

    let events = env.events().await;
    assert_eq!(sorted_names(&events), ["Clicked", "alias", "identify", "page_view", "screen_view"]);
    assert_eq!(named(&events, "page_view")["path"], "/p");
    let person = env.person("u1").await;
    assert_eq!((sorted_ids(&person), &person["properties"]), (vec!["a1", "old-1", "u1"], &json!({"plan": "pro"})));

    // Refusals: no key or an unknown one (401), a broken body (400), a
    // batch of which nothing is valid (400, naming each message).
    assert_eq!(Env::send(env.post("/v1/track").json(&track)).await.0, 401);
    let wrong =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("pxi_00000000000000000000000000000000:"));
    assert_eq!(Env::send(env.post("/v1/track").header("authorization", wrong).json(&track)).await.0, 401);
    let (s, body) = Env::send(env.post("/v1/batch").header("authorization", &basic).body("[1,2")).await;
    assert_eq!((s, &body["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("body")));
    let invalid = json!({"batch": [{"type": "track", "userId": "u1"}, {"type": "fly", "userId": "u1"}]});
    let (s, body) = Env::send(env.post("/v1/batch").header("authorization", &basic).json(&invalid)).await;
    assert_eq!(s, 400, "{body}");
    let fields: Vec<&Value> = body["rejected"].as_array().unwrap().iter().map(|r| &r["field"]).collect();
    assert_eq!(fields, [&json!("event"), &json!("type")]);
    assert_eq!(env.events().await.len(), 5, "nothing refused was stored");
}
