//! `PxConfig`: the whole configuration, one section per crate. Layers, each
//! overriding the previous: defaults in code, the TOML file, `PX_*`
//! environment variables, command-line flags. This is the only code that
//! reads the environment, and it takes it as an argument so tests need no
//! global state.
//!
//! Environment: `PX_<SECTION>__<KEY>` sets any key (`PX_SERVER__PORT=9000`,
//! `PX_INGEST__LIMITS__MAX_EVENTS_PER_BATCH=100`); values parse as TOML
//! (numbers, booleans) or else as strings. Shortcuts: `PX_DATA_DIR`,
//! `PX_PORT`, `PX_BIND`, `PX_ADMIN_PASSWORD`, `PX_GEOIP_DB`, `PX_LOG`.

use px_ai::llm::LlmConfig;
use px_core::IngestLimits;
use px_server::config::ServerConfig;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PxConfig {
    /// Where the DuckDB and SQLite files live.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub ingest: IngestConfig,
    pub store: StoreConfig,
    pub log: LogConfig,
    pub bootstrap: BootstrapConfig,
    pub ai: AiConfig,
}

/// The AI engine's schedule inside `px serve`, and its optional LLM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AiConfig {
    /// Run the engine on a schedule (`px ai run` works either way).
    pub enabled: bool,
    /// Seconds between near-real-time passes (hourly buckets, last 3 days).
    pub recent_interval_secs: u64,
    /// Seconds between full passes (daily buckets, last 28 days).
    pub full_interval_secs: u64,
    /// `[ai.llm]`: off unless `url` is set.
    pub llm: LlmConfig,
}

impl Default for AiConfig {
    fn default() -> Self {
        Self { enabled: true, recent_interval_secs: 60, full_interval_secs: 86_400, llm: LlmConfig::default() }
    }
}

impl Default for PxConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./px-data"),
            server: ServerConfig::default(),
            ingest: IngestConfig::default(),
            store: StoreConfig::default(),
            log: LogConfig::default(),
            bootstrap: BootstrapConfig::default(),
            ai: AiConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    pub limits: IngestLimits,
    /// A MaxMind-format city or country database (GeoLite2-City.mmdb).
    pub geoip_db: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// DuckDB's memory limit, e.g. "2GB". DuckDB keeps the pages it wrote
    /// and read cached up to it (its own default is 80% of RAM), so it is
    /// most of the server's memory; the default keeps `px serve` under
    /// 1 GiB while ingesting. Larger queries spill to disk past it.
    /// `"none"` leaves DuckDB's own default; read it with
    /// [`StoreConfig::memory_limit`].
    pub duckdb_memory_limit: Option<String>,
    /// Analytics queries running longer are stopped (answered 503).
    pub query_timeout_secs: u64,
}

impl StoreConfig {
    /// The limit to give DuckDB, if any.
    pub fn memory_limit(&self) -> Option<&str> {
        self.duckdb_memory_limit.as_deref().filter(|l| !l.eq_ignore_ascii_case("none"))
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            duckdb_memory_limit: Some("512MB".into()),
            query_timeout_secs: px_store::duckdb::DEFAULT_QUERY_TIMEOUT.as_secs(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter: `info`, `px_server=debug,info`, ...
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Text, level: "info".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapConfig {
    pub admin_email: String,
    /// The first admin's password; generated and printed once when unset.
    pub admin_password: Option<String>,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self { admin_email: "admin@px.local".into(), admin_password: None }
    }
}

/// Environment shortcuts and the dotted keys they set.
const SHORTCUTS: [(&str, &str); 6] = [
    ("PX_DATA_DIR", "data_dir"),
    ("PX_PORT", "server.port"),
    ("PX_BIND", "server.bind"),
    ("PX_ADMIN_PASSWORD", "bootstrap.admin_password"),
    ("PX_GEOIP_DB", "ingest.geoip_db"),
    ("PX_LOG", "log.level"),
];

/// Keys whose values stay strings even when they look like numbers.
const STRING_KEYS: [&str; 7] = [
    "data_dir",
    "bootstrap.admin_password",
    "ingest.geoip_db",
    "log.level",
    "ai.llm.url",
    "ai.llm.model",
    "ai.llm.api_key",
];

/// Loads the config: `path` must exist if given; otherwise `./px.toml` is
/// read when present. Returns every problem found, not just the first.
pub fn load(path: Option<&Path>, env: &HashMap<String, String>) -> Result<PxConfig, Vec<String>> {
    let mut problems = Vec::new();
    let text = match path {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) => {
                return Err(vec![format!("cannot read config file {}: {e}", p.display())]);
            }
        },
        None => std::fs::read_to_string("px.toml").unwrap_or_default(),
    };
    let mut table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => return Err(vec![format!("config file is not valid TOML: {e}")]),
    };

    let mut keys: Vec<(String, String)> = Vec::new();
    for (var, key) in SHORTCUTS {
        if let Some(v) = env.get(var) {
            keys.push((key.to_string(), v.clone()));
        }
    }
    let mut generic: Vec<_> = env
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("PX_")?.to_string(), v)))
        .filter(|(k, _)| k.contains("__"))
        .collect();
    generic.sort();
    for (k, v) in generic {
        keys.push((k.to_ascii_lowercase().replace("__", "."), v.clone()));
    }
    for (key, value) in keys {
        if let Err(e) = set_dotted(&mut table, &key, &value) {
            problems.push(e);
        }
    }

    let config: PxConfig = match toml::Value::Table(table).try_into() {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("invalid configuration: {e}"));
            return Err(problems);
        }
    };
    problems.extend(config.validate());
    if problems.is_empty() { Ok(config) } else { Err(problems) }
}

fn set_dotted(table: &mut toml::Table, key: &str, raw: &str) -> Result<(), String> {
    let value = if STRING_KEYS.contains(&key) {
        toml::Value::String(raw.to_string())
    } else {
        // `x = <raw>` parses numbers, booleans and arrays; anything else is a string.
        format!("x = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("x"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()))
    };
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().filter(|l| !l.is_empty()).ok_or_else(|| format!("bad config key {key:?}"))?;
    let mut cur = table;
    for p in parts {
        let entry = cur.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry.as_table_mut().ok_or_else(|| format!("config key {key:?}: {p} is not a section"))?;
    }
    cur.insert(last.to_string(), value);
    Ok(())
}

impl PxConfig {
    /// Every problem with the values, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut p = self.server.problems(self.ingest.limits.max_events_per_batch);
        let l = &self.ingest.limits;
        if l.max_future_skew_secs < 60 {
            p.push("ingest.limits.max_future_skew_secs must be at least 60".into());
        }
        if l.max_events_per_batch == 0 {
            p.push("ingest.limits.max_events_per_batch must be at least 1".into());
        }
        if self.ai.recent_interval_secs < 10 {
            p.push("ai.recent_interval_secs must be at least 10".into());
        }
        if self.ai.full_interval_secs < 600 {
            p.push("ai.full_interval_secs must be at least 600".into());
        }
        p.extend(self.ai.llm.problems());
        if !(1..=3600).contains(&self.store.query_timeout_secs) {
            p.push("store.query_timeout_secs must be 1 to 3600".into());
        }
        if l.max_decompressed_bytes < l.max_body_bytes {
            p.push("ingest.limits.max_decompressed_bytes must be at least ingest.limits.max_body_bytes".into());
        }
        if l.max_event_bytes > l.max_decompressed_bytes {
            p.push("ingest.limits.max_event_bytes must not exceed ingest.limits.max_decompressed_bytes".into());
        }
        if self.bootstrap.admin_password.as_ref().is_some_and(|pw| pw.len() < 8) {
            p.push("bootstrap.admin_password (PX_ADMIN_PASSWORD) must be at least 8 characters".into());
        }
        p
    }

    pub fn events_db(&self) -> PathBuf {
        self.data_dir.join("events.duckdb")
    }

    /// Where acknowledged events wait for the event store.
    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("spool")
    }

    pub fn meta_db(&self) -> PathBuf {
        self.data_dir.join("meta.sqlite")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_just_work() {
        let c = load(Some(Path::new("/dev/null")), &env(&[])).unwrap();
        assert_eq!(c.server.port, 8000);
        assert_eq!(c.store.query_timeout_secs, 60);
        assert_eq!(c.server.bind.to_string(), "127.0.0.1");
        assert_eq!(c.data_dir, PathBuf::from("./px-data"));
        assert_eq!(c.store.memory_limit(), Some("512MB"));
        let c = load(Some(Path::new("/dev/null")), &env(&[("PX_STORE__DUCKDB_MEMORY_LIMIT", "none")])).unwrap();
        assert_eq!(c.store.memory_limit(), None, "\"none\" leaves DuckDB's own limit");
    }

    #[test]
    fn env_overrides_file_and_shortcuts_work() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("px.toml");
        std::fs::write(&f, "data_dir = \"/a\"\n[server]\nport = 9000\n").unwrap();
        let c = load(
            Some(&f),
            &env(&[("PX_PORT", "9100"), ("PX_INGEST__LIMITS__MAX_EVENTS_PER_BATCH", "100"), ("PX_LOG", "debug")]),
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/a"));
        assert_eq!(c.server.port, 9100);
        assert_eq!(c.ingest.limits.max_events_per_batch, 100);
        assert_eq!(c.log.level, "debug");
    }

    #[test]
    fn plan_overrides_merge_with_the_built_in_plans() {
        let c = load(Some(Path::new("/dev/null")), &env(&[("PX_SERVER__RATE_LIMITS__PLANS__FREE__BURST", "50000")]))
            .unwrap();
        let free = c.server.rate_limits.plans["free"];
        assert_eq!((free.events_per_second, free.burst), (Some(1000), 50000));
        assert!(c.server.rate_limits.plans.contains_key("self_hosted"));
        let c = load(Some(Path::new("/dev/null")), &env(&[("PX_SERVER__RATE_LIMITS__PLANS__TEAM__BURST", "9000")]))
            .unwrap();
        assert_eq!(c.server.rate_limits.plans["team"].events_per_second, None);
        let c = load(
            Some(Path::new("/dev/null")),
            &env(&[("PX_SERVER__RATE_LIMITS__PLANS__FREE__EVENTS_PER_SECOND", "0")]),
        )
        .unwrap();
        assert_eq!(c.server.rate_limits.plans["free"].events_per_second, None, "0 makes a plan unlimited");
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let errs = load(
            Some(Path::new("/dev/null")),
            &env(&[
                ("PX_ADMIN_PASSWORD", "short"),
                ("PX_SERVER__MAX_COMMIT_EVENTS", "0"),
                ("PX_STORE__QUERY_TIMEOUT_SECS", "0"),
            ]),
        )
        .unwrap_err();
        assert!(errs.iter().any(|e| e.contains("store.query_timeout_secs must be 1 to 3600")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("bootstrap.admin_password")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("server.max_commit_events")), "{errs:?}");
        let errs = load(Some(Path::new("/dev/null")), &env(&[("PX_SERVER__PROT", "1")])).unwrap_err();
        assert!(errs[0].contains("prot"), "{errs:?}");
    }

    #[test]
    fn the_llm_is_off_by_default() {
        let c = load(Some(Path::new("/dev/null")), &env(&[])).unwrap();
        assert_eq!(c.ai.llm.url, None);
        assert_eq!(c.ai.llm.timeout_secs, 20);
        assert!(px_ai::llm::Llm::new(&c.ai.llm).unwrap().is_none());
    }

    #[test]
    fn the_llm_is_set_in_the_file_and_its_key_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("px.toml");
        std::fs::write(
            &f,
            "[ai.llm]\nurl = \"http://127.0.0.1:11434/v1\"\nmodel = \"llama3.1:8b\"\ntimeout_secs = 10\n",
        )
        .unwrap();
        // A key of digits only would parse as a number without STRING_KEYS.
        let c = load(Some(&f), &env(&[("PX_AI__LLM__API_KEY", "12345678"), ("PX_AI__LLM__MAX_CALLS_PER_PASS", "2")]))
            .unwrap();
        assert_eq!(c.ai.llm.url.as_deref(), Some("http://127.0.0.1:11434/v1"));
        assert_eq!(c.ai.llm.model.as_deref(), Some("llama3.1:8b"));
        assert_eq!(c.ai.llm.api_key.as_ref().map(|k| k.expose()), Some("12345678"));
        assert_eq!((c.ai.llm.timeout_secs, c.ai.llm.max_calls_per_pass), (10, 2));
        assert!(!format!("{c:?}").contains("12345678"), "the key never shows in debug output");
        let llm = px_ai::llm::Llm::new(&c.ai.llm).unwrap().expect("on with a url");
        assert_eq!(llm.endpoint(), "http://127.0.0.1:11434/v1/chat/completions");
    }

    #[test]
    fn llm_problems_are_reported_with_their_keys() {
        let errs = load(
            Some(Path::new("/dev/null")),
            &env(&[
                ("PX_AI__LLM__URL", "localhost:11434/v1"),
                ("PX_AI__LLM__TIMEOUT_SECS", "0"),
                ("PX_AI__LLM__PASS_BUDGET_SECS", "9999"),
            ]),
        )
        .unwrap_err();
        for key in ["ai.llm.url", "ai.llm.model", "ai.llm.timeout_secs", "ai.llm.pass_budget_secs"] {
            assert!(errs.iter().any(|e| e.starts_with(key)), "{key} missing from {errs:?}");
        }
        let errs = load(Some(Path::new("/dev/null")), &env(&[("PX_AI__LLM__TEMPERATURE", "0.2")])).unwrap_err();
        assert!(errs[0].contains("temperature"), "unknown keys are errors: {errs:?}");
    }
}
