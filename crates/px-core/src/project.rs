//! Per-project settings that change how events are processed. Stored by the
//! meta store as JSON, read by the pipeline on every batch (cached).

use serde::{Deserialize, Serialize};

/// Privacy and processing settings of one project. Defaults are the safe
/// choice: personal data is masked and IPs are truncated unless a project
/// opts out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSettings {
    /// Replace e-mail addresses and phone numbers in property values, URLs
    /// and titles with `[email]` / `[phone]` before storage.
    pub mask_pii: bool,
    /// Store the client IP truncated (IPv4 /24, IPv6 /48) instead of whole.
    pub anonymize_ip: bool,
    /// Do not store the client IP at all (geo lookup still runs first).
    pub drop_ip: bool,
    /// IANA time zone for day boundaries in queries.
    pub timezone: String,
}

impl Default for ProjectSettings {
    fn default() -> Self {
        Self { mask_pii: true, anonymize_ip: true, drop_ip: false, timezone: "UTC".into() }
    }
}
