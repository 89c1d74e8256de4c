//! `ssoproof verify`, the main job, end to end on this repository: lint + every feature against
//! the embedded emulator + the per-runbook report.

use std::path::Path;
use std::process::Command;

fn verify(args: &[&str]) -> (i32, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root");
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .current_dir(root)
        .arg("verify")
        .args(args)
        // The live backend must be unconfigured here whatever the caller's environment holds.
        .env_remove("SSOPROOF_LIVE_ISSUER")
        .env_remove("SSOPROOF_LIVE_CLIENT_ID")
        .output()
        .expect("ssoproof runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

#[test]
fn every_keycloak_item_passes_against_the_emulator() {
    let (code, stdout) = verify(&["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(report["outcome"], "passed", "{stdout}");
    assert_eq!(code, 0);
    assert_eq!(report["lint"]["errors"], 0);
    assert_eq!(report["scenarios"]["failed"], 0);
    let keycloak = report["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == "runbooks/keycloak.md")
        .expect("the Keycloak runbook is bound");
    let items = keycloak["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        27,
        "12 troubleshooting rows and 15 checklist items"
    );
    for item in items {
        assert_eq!(item["status"], "passed", "{item}");
        let scenarios = item["scenarios"].as_array().unwrap();
        assert!(!scenarios.is_empty());
        assert!(scenarios
            .iter()
            .all(|s| s["feature"] == "features/keycloak.feature"));
    }
}

#[test]
fn human_report() {
    let (code, stdout) = verify(&[]);
    assert_eq!(code, 0, "{stdout}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_run_where_every_scenario_was_skipped_is_not_a_pass() {
    // No live tenant is configured here, so every scenario is skipped with the reason.
    let (code, stdout) = verify(&["--backend", "live", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(report["outcome"], "nothing_ran", "{stdout}");
    assert_eq!(report["scenarios"]["passed"], 0);
    assert_eq!(code, 1);
}

#[test]
fn a_junit_path_that_is_a_file_is_scenario_junit_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, "").unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .current_dir(root)
        .args(["verify", "--junit"])
        .arg(&file)
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: [scenario/junit] cannot use {} as the JUnit report folder: it is a regular file",
            file.display()
        )),
        "{stderr}"
    );
}
