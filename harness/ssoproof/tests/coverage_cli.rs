//! `ssoproof coverage` on this repository: every Keycloak runbook item names the scenario that
//! proves it, and scenarios no runbook cites are listed.

use std::path::Path;
use std::process::Command;

#[test]
fn keycloak_items_name_their_scenarios_and_uncited_scenarios_are_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root");
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .current_dir(root)
        .args(["coverage", "--format", "json"])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let keycloak = report["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == "runbooks/keycloak.md")
        .expect("the Keycloak runbook is listed");
    for item in keycloak["items"].as_array().unwrap() {
        let proofs = item["proofs"].as_array().unwrap();
        assert!(!proofs.is_empty(), "{item}");
        for proof in proofs {
            assert_eq!(
                proof["scenario"]["feature"], "features/keycloak.feature",
                "{proof}"
            );
        }
    }
    let uncited = report["uncited"].as_array().unwrap();
    assert!(uncited
        .iter()
        .any(|s| s["feature"] == "features/rp-conformance.feature"));
    assert!(!uncited
        .iter()
        .any(|s| s["name"] == "A wrong password is refused by the IdP's login page"));
}
