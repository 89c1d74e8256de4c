//! End-to-end tests of `ssoproof lint` on the fixture tree under `fixtures/lint/`, whose files
//! hold a known-broken example of every rule. Outputs are pinned with insta snapshots.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

fn fixture() -> PathBuf {
    repo().join("fixtures/lint")
}

fn ssoproof(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("ssoproof runs")
}

fn lint_fixture(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["lint", "--today", "2026-11-23"];
    all.extend_from_slice(args);
    let out = ssoproof(&fixture(), &all);
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

#[test]
fn human_output() {
    let (code, stdout, _) = lint_fixture(&["--color", "never"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn json_output() {
    let (code, stdout, _) = lint_fixture(&["--format", "json"]);
    assert_eq!(code, 1);
    let parsed: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(parsed["files_checked"], 11);
    insta::assert_snapshot!(stdout);
}

#[test]
fn sarif_output() {
    let (_, stdout, _) = lint_fixture(&["--format", "sarif", "runbooks/broken-links.md"]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(parsed["version"], "2.1.0");
    insta::assert_snapshot!(stdout);
}

#[test]
fn junit_output() {
    let (_, stdout, _) = lint_fixture(&[
        "--format",
        "junit",
        "runbooks/good.md",
        "runbooks/layout.md",
    ]);
    insta::assert_snapshot!(stdout);
}

#[test]
fn github_output() {
    let (_, stdout, _) = lint_fixture(&[
        "--format",
        "github",
        "runbooks/dates.md",
        "runbooks/stale.md",
    ]);
    insta::assert_snapshot!(stdout);
}

#[test]
fn clean_file_exits_zero() {
    let (code, stdout, _) = lint_fixture(&["runbooks/good.md"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, "1 file: no problems found\n");
}

#[test]
fn warnings_alone_exit_zero() {
    let (code, stdout, _) = lint_fixture(&["--format", "json", "runbooks/stale.md"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("\"date/stale\""));
}

#[test]
fn explicit_files_check_only_those_but_resolve_their_targets() {
    let (code, stdout, _) = lint_fixture(&["--format", "json", "runbooks/broken-links.md"]);
    assert_eq!(code, 1);
    let parsed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(parsed["files_checked"], 1);
    let diagnostics = parsed["diagnostics"].as_array().unwrap();
    assert!(diagnostics
        .iter()
        .all(|d| d["file"] == "runbooks/broken-links.md"));
    // Cross-file fragments into docs/target.md, which was not itself checked, were resolved.
    assert!(diagnostics
        .iter()
        .any(|d| d["target"] == "../docs/target.md#launch"));
    assert!(!diagnostics
        .iter()
        .any(|d| d["target"] == "../docs/target.md#-launch"));
}

#[test]
fn select_and_ignore() {
    let (_, stdout, _) = lint_fixture(&[
        "--format",
        "json",
        "--select",
        "date",
        "--ignore",
        "date/stale",
    ]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rules: Vec<&str> = parsed["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.is_empty());
    assert!(
        rules
            .iter()
            .all(|r| r.starts_with("date/") && *r != "date/stale"),
        "{rules:?}"
    );
}

#[test]
fn unknown_rule_prefix_is_a_usage_error() {
    let (code, _, stderr) = lint_fixture(&["--select", "links"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no rule id starts with links"), "{stderr}");
}

#[test]
fn missing_path_exits_two() {
    let (code, _, stderr) = lint_fixture(&["runbooks/nope.md"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("runbooks/nope.md: no such file or directory"),
        "{stderr}"
    );
}

#[test]
fn unreadable_file_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    // A symlink loop cannot be read even by root.
    std::os::unix::fs::symlink("loop.md", dir.path().join("loop.md")).unwrap();
    let out = ssoproof(dir.path(), &["lint", "loop.md"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[lint/read] cannot read loop.md"),
        "{stderr}"
    );
}

#[test]
fn malformed_config_exits_two_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ssoproof.yaml"),
        "lint:\n  roots: [runbooks]\n  root: [x]\n",
    )
    .unwrap();
    let out = ssoproof(dir.path(), &["lint"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[config/syntax]"), "{stderr}");
    assert!(stderr.contains("ssoproof.yaml:3:"), "{stderr}");
    assert!(stderr.contains("unknown field `root`"), "{stderr}");

    std::fs::write(dir.path().join("ssoproof.yaml"), "lint: [\n").unwrap();
    let out = ssoproof(dir.path(), &["lint"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[config/syntax] "));
}

#[test]
fn explicit_config_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = ssoproof(dir.path(), &["lint", "--config", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[config/read] cannot read missing.yaml"));
}

#[test]
fn bad_usage_exits_two() {
    let (code, _, _) = lint_fixture(&["--format", "yaml"]);
    assert_eq!(code, 2);
    let (code, _, _) = lint_fixture(&["--today", "2026-13-01"]);
    assert_eq!(code, 2);
}

#[test]
fn the_projects_own_runbooks_have_no_broken_links() {
    let out = ssoproof(
        &repo(),
        &[
            "lint",
            "--select",
            "link",
            "--select",
            "layout",
            "--select",
            "checklist",
            "--select",
            "index",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("warning["), "{stdout}");
}

#[test]
fn list_rules_names_every_rule() {
    let out = ssoproof(&fixture(), &["lint", "--list-rules"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for id in [
        "link/missing-file",
        "link/duplicate-definition",
        "date/stale",
        "layout/section-order",
        "checklist/sign-off",
        "index/missing-entry",
    ] {
        assert!(stdout.contains(id), "{id}");
    }
}

#[test]
fn broken_feature_file_is_reported_once_per_runbook() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("runbooks")).unwrap();
    std::fs::create_dir_all(root.join("features")).unwrap();
    std::fs::write(
        root.join("ssoproof.yaml"),
        "runbooks:\n  indexes: []\n  kinds:\n    - name: idp\n      files: ['runbooks/*.md']\n      sections: []\n      bindings: true\n",
    )
    .unwrap();
    std::fs::write(
        root.join("features/x.feature"),
        "Feature: X\n  Scenario: Y\n    Given a\n  Nonsense\n",
    )
    .unwrap();
    std::fs::write(
        root.join("runbooks/x.md"),
        "# X\n\n> Last reviewed: 2026-11-20\n\n## Validation checklist\n\n- [ ] a [proof](../features/x.feature#y)\n- [ ] b [proof](../features/x.feature#z)\n\nSign-off: ___ (operator) on ___ (date).\n",
    )
    .unwrap();
    let out = ssoproof(root, &["lint", "--today", "2026-11-23", "--format", "json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = parsed["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["binding/feature-syntax"], "{parsed}");
    assert!(parsed["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("`features/x.feature` is not valid Gherkin"));
}

#[test]
fn a_bound_feature_that_cannot_be_read_is_reported_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("runbooks")).unwrap();
    // A folder named like a feature file, and a feature file that is not UTF-8.
    std::fs::create_dir_all(root.join("features/dir.feature")).unwrap();
    std::fs::write(
        root.join("features/latin1.feature"),
        b"Feature: caf\xe9\n  @y\n  Scenario: Y\n    Given a\n",
    )
    .unwrap();
    std::fs::write(
        root.join("ssoproof.yaml"),
        "runbooks:\n  indexes: []\n  kinds:\n    - name: idp\n      files: ['runbooks/*.md']\n      sections: []\n      bindings: true\n",
    )
    .unwrap();
    std::fs::write(
        root.join("runbooks/x.md"),
        "# X\n\n> Last reviewed: 2026-11-20\n\n## Validation checklist\n\n- [ ] a [proof](../features/latin1.feature#y)\n- [ ] b [proof](../features/dir.feature#y)\n\nSign-off: ___ (operator) on ___ (date).\n",
    )
    .unwrap();
    let out = ssoproof(root, &["lint", "--today", "2026-11-23", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let messages: Vec<&str> = parsed["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "binding/feature-syntax")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{parsed}");
    assert!(
        messages[0].starts_with("`features/latin1.feature` cannot be read as Gherkin: not UTF-8"),
        "{parsed}"
    );
    assert!(
        messages[1]
            .starts_with("`features/dir.feature` cannot be read as Gherkin: it is a directory"),
        "{parsed}"
    );
}
