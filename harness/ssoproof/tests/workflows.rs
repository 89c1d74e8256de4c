//! issue 14: the GitHub Actions workflows (`.github/workflows/*.yml`) pass actionlint, the
//! checker of workflow syntax, expressions, matrix and action inputs. actionlint comes from
//! `scripts/install-actionlint` (CI sets `SSOPROOF_ACTIONLINT` to it and
//! `SSOPROOF_REQUIRE_ACTIONLINT=1`); without it these tests say so and skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn actionlint() -> Option<PathBuf> {
    let named = std::env::var_os("SSOPROOF_ACTIONLINT").map(PathBuf::from);
    let found = named.or_else(|| {
        Command::new("actionlint")
            .arg("-version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from("actionlint"))
    });
    if found.is_none() {
        let required =
            std::env::var_os("SSOPROOF_REQUIRE_ACTIONLINT").is_some_and(|v| !v.is_empty());
        assert!(!required, "actionlint is required (SSOPROOF_REQUIRE_ACTIONLINT) but neither SSOPROOF_ACTIONLINT nor PATH has it: run scripts/install-actionlint");
        eprintln!("SKIPPED: actionlint is not installed (scripts/install-actionlint prints its path; set SSOPROOF_ACTIONLINT to it)");
    }
    found
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
}

fn lint(actionlint: &Path, files: &[PathBuf]) -> Output {
    Command::new(actionlint)
        .current_dir(root())
        .arg("-no-color")
        .args(files)
        .output()
        .expect("actionlint runs")
}

#[test]
fn the_workflows_pass_actionlint() {
    let Some(actionlint) = actionlint() else {
        return;
    };
    let files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    assert!(
        files.iter().any(|p| p.ends_with("nightly.yml")),
        "{files:?}"
    );
    let out = lint(&actionlint, &files);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The check can fail: a matrix value used under a name the matrix does not have is caught.
#[test]
fn actionlint_catches_a_broken_workflow() {
    let Some(actionlint) = actionlint() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(".github/workflows/nightly.yml"))
        .unwrap()
        .replace("--tenant \"$TENANT\"", "--tenant \"${{ matrix.tennant }}\"");
    let broken = dir.path().join("nightly.yml");
    std::fs::write(&broken, text).unwrap();
    let out = lint(&actionlint, &[broken]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("tennant"));
}
