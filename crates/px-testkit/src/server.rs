//! A real `px serve` process on a loopback port (a free one, or a given one
//! to restart on) in a temp data dir, for end-to-end tests. The caller
//! passes the binary path (Cargo gives integration tests `CARGO_BIN_EXE_px`).
//! The process is killed on drop.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// Keys of a project created with `px admin project create --json`.
#[derive(Debug, Clone)]
pub struct ProjectKeys {
    pub tenant_id: i64,
    pub project_id: i64,
    pub ingest_key: String,
    pub secret_key: String,
}

/// Runs `px admin project create NAME --json` on `data_dir`.
pub fn create_project(bin: &Path, data_dir: &Path, name: &str, tenant: Option<&str>) -> ProjectKeys {
    let mut cmd = Command::new(bin);
    cmd.args(["admin", "project", "create", name, "--json", "--data-dir"]).arg(data_dir);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    assert!(out.status.success(), "px admin project create failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad --json output: {e}"));
    ProjectKeys {
        tenant_id: v["tenant_id"].as_i64().unwrap_or_default(),
        project_id: v["project_id"].as_i64().unwrap_or_default(),
        ingest_key: v["ingest_key"].as_str().unwrap_or_default().to_string(),
        secret_key: v["secret_key"].as_str().unwrap_or_default().to_string(),
    }
}

/// Runs any `px` command on `data_dir`, returning stdout; panics on failure.
pub fn px(bin: &Path, data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).arg("--data-dir").arg(data_dir).output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "px {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub struct PxServer {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    /// Everything the server printed on stdout.
    pub stdout: Arc<Mutex<Vec<String>>>,
}

impl PxServer {
    /// Starts `px serve --port 0` and waits for its "listening on" line.
    pub fn start(bin: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with_args(bin, data_dir, env, &[])
    }

    pub fn start_with_args(bin: &Path, data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        Self::spawn(bin, data_dir, env, args, 0)
    }

    /// Starts `px serve` on `port`: a restart after [`Self::kill9`] on the
    /// port the clients already know, as after a real crash.
    pub fn start_on_port(bin: &Path, data_dir: &Path, env: &[(&str, &str)], port: u16) -> Self {
        Self::spawn(bin, data_dir, env, &[], port)
    }

    fn spawn(bin: &Path, data_dir: &Path, env: &[(&str, &str)], args: &[&str], port: u16) -> Self {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--port", &port.to_string(), "--data-dir"]).arg(data_dir).args(args).stdout(Stdio::piped());
        cmd.env("PX_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut lines = BufReader::new(stdout).lines();
        let printed = Arc::new(Mutex::new(Vec::new()));
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    printed.lock().unwrap_or_else(|e| e.into_inner()).push(line.clone());
                    if let Some(b) = line.strip_prefix("listening on ") {
                        break b.to_string();
                    }
                }
                _ => {
                    let status = child.wait();
                    panic!("px serve exited before listening: {status:?}");
                }
            }
        };
        let sink = Arc::clone(&printed);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        Self { child, base, data_dir: data_dir.to_path_buf(), stdout: printed }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in {}", self.base))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown code runs, as in a crash or power loss.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (up to `timeout`) for the process to exit;
    /// returns its exit status, or `None` if it did not exit in time.
    pub fn terminate(mut self, timeout: std::time::Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// Waits until the server printed a line containing `needle`.
    pub async fn wait_for_output(&self, needle: &str, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.stdout.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|l| l.contains(needle)) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }
}

impl Drop for PxServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Gzips bytes (for tests of compressed bodies).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Every stored event of `project` (newest first), read through the API
/// at `base` with its secret key, following the cursor over all pages.
pub async fn all_events(base: &str, project: i64, secret: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/projects/{project}/events?limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let resp = client.get(url).bearer_auth(secret).send().await.unwrap_or_else(|e| panic!("reading events: {e}"));
        let page: Value = resp.json().await.unwrap_or_else(|e| panic!("reading events: {e}"));
        events.extend(page["events"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return events,
        }
    }
}
