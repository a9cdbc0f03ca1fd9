//! The baseline a scenario injects into: the release-bound built-in
//! frictions (checkout bug, chunk errors on release days) are off unless the
//! file sets `builtin_frictions`, and the constant background ones stay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers, not only #[test] fns

mod common;

use common::{config, count, named, run, run_steady, run_with, str_at};
use px_simulate::Scenario;
use serde_json::Value;

/// The checkout bug's message in each engine's wording.
const CHECKOUT_BUG: [&str; 3] = [
    "TypeError: Cannot read properties of undefined (reading 'id')",
    "TypeError: undefined is not an object (evaluating 'plan.id')",
    "TypeError: plan is undefined",
];

fn message(e: &Value) -> &str {
    str_at(e, "/properties/message")
}

fn chunk_error(e: &Value) -> bool {
    named(e, "error") && message(e).starts_with("ChunkLoadError")
}

fn checkout_bug(e: &Value) -> bool {
    named(e, "error") && CHECKOUT_BUG.contains(&message(e))
}

#[test]
fn scenario_runs_leave_out_the_release_bound_frictions_unless_asked() {
    let cfg = config(31, 10, 500);
    let full = run(&cfg);
    assert!(count(&full, chunk_error) > 0 && count(&full, checkout_bug) > 0, "the full baseline has both");

    let (steady, labels) = run_with(&cfg, Scenario::from_toml("name = \"quiet\"").unwrap());
    assert!(labels.frictions.is_empty());
    assert_eq!(steady, run_steady(&cfg), "a scenario without frictions is exactly the steady baseline");
    assert_eq!(count(&steady, chunk_error), 0);
    assert_eq!(count(&steady, checkout_bug), 0);
    // Constant frictions stay: dead clicks, slow-export rage, error noise.
    assert!(count(&steady, |e| named(e, "dead_click")) > 100);
    let export_rage = |e: &Value| named(e, "rage_click") && str_at(e, "/properties/selector") == "button.export-csv";
    assert!(count(&steady, export_rage) > 5);
    assert!(count(&steady, |e| named(e, "error") && message(e) == "Script error.") > 10);
    // Releases still roll out: stale clients keep the previous version.
    let versions: std::collections::HashSet<&str> =
        steady.iter().map(|e| str_at(e, "/properties/app_version")).collect();
    assert!(versions.contains("1.4.1") && versions.contains("1.5.0"), "{versions:?}");

    let (builtin, _) = run_with(&cfg, Scenario::from_toml("name = \"x\"\nbuiltin_frictions = true").unwrap());
    assert_eq!(builtin, full, "builtin_frictions = true injects into the full baseline");
}
