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

/// issue 14: two shards of the same run; between them every scenario ran exactly once, and an
/// item proved in the other shard reads "not run in this shard", never passed.
#[test]
fn two_shards_split_the_run() {
    let mut ran = std::collections::BTreeMap::new();
    let mut totals = Vec::new();
    let mut passed_items = std::collections::BTreeSet::new();
    for shard in ["1/2", "2/2"] {
        let (code, stdout) = verify(&["--shard", shard, "--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
        assert_eq!(report["shard"], shard);
        assert_eq!(report["outcome"], "passed", "{stdout}");
        assert_eq!(code, 0);
        let s = &report["scenarios"];
        totals.push(s["passed"].as_u64().unwrap() + s["skipped"].as_u64().unwrap());
        for runbook in report["runbooks"].as_array().unwrap() {
            for item in runbook["items"].as_array().unwrap() {
                let key = format!("{}:{}", runbook["file"], item["line"]);
                for scenario in item["scenarios"].as_array().unwrap() {
                    let id = format!("{}:{}", scenario["feature"], scenario["line"]);
                    let outcome = &scenario["outcome"];
                    let here = outcome["status"] == "passed";
                    if here {
                        // Once per shard at most, and never in both.
                        let owner = ran.entry(id.clone()).or_insert(shard);
                        assert_eq!(*owner, shard, "{id} ran in two shards");
                    } else if outcome["status"] == "skipped" {
                        let reason = outcome["reason"].as_str().unwrap();
                        if reason.starts_with("not run in this shard") {
                            assert!(reason.contains(&format!("({shard})")), "{reason}");
                            assert_eq!(item["status"], "skipped", "{key}: {item}");
                        }
                    }
                }
                if item["status"] == "passed" {
                    assert!(
                        passed_items.insert(key.clone()),
                        "{key} passed in both shards"
                    );
                }
            }
        }
    }
    // Each shard accounts for the whole set: its own scenarios ran, the others are listed.
    assert_eq!(totals[0], totals[1]);
    assert!(ran.values().any(|s| *s == "1/2") && ran.values().any(|s| *s == "2/2"));
}

#[test]
fn a_bad_shard_is_a_usage_error_naming_the_flag() {
    for bad in ["0/2", "3/2", "x/2"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
            .current_dir(root)
            .args(["verify", "--shard", bad])
            .output()
            .expect("ssoproof runs");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--shard"), "{stderr}");
        assert!(stderr.contains("I/N"), "{stderr}");
    }
}
