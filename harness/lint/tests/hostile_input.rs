//! Inputs that once crashed the linter, hung it, or passed silently: each must now give a clear
//! finding or error, promptly.

use std::path::Path;

use ssoproof_config::LoadedConfig;
use ssoproof_lint::{lint, LintError, LintReport, LintRequest, RuleFilter};

/// A scratch project: `files` are written under a temp folder that holds `ssoproof.yaml`.
fn project(config: &str, files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ssoproof.yaml"), config).unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn run(dir: &Path, request: &LintRequest) -> Result<LintReport, LintError> {
    let config = LoadedConfig::load(&dir.join("ssoproof.yaml")).unwrap();
    lint(&config, request)
}

fn messages(report: &LintReport) -> Vec<(&'static str, &str)> {
    report
        .diagnostics
        .iter()
        .map(|d| (d.rule.id(), d.message.as_str()))
        .collect()
}

const DOCS: &str = "lint:\n  roots: [docs]\n";

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn a_did_you_mean_beside_multibyte_names_cuts_on_character_boundaries() {
    let dir = project(DOCS, &[("docs/a.md", "[x](ééééa/)\n".as_bytes())]);
    std::fs::create_dir_all(dir.path().join("docs/ééééb")).unwrap();
    let report = run(dir.path(), &LintRequest::default()).unwrap();
    let d = &report.diagnostics[0];
    assert_eq!(d.rule.id(), "link/missing-file");
    assert_eq!(d.help.as_deref(), Some("did you mean `ééééb/`?"));
}

#[test]
fn links_out_of_the_project_are_reported_even_where_this_machine_has_the_file() {
    let dir = project(
        DOCS,
        &[(
            "docs/a.md",
            b"[p](../../../etc/passwd) [h](/../../etc/hostname)\n",
        )],
    );
    let report = run(dir.path(), &LintRequest::default()).unwrap();
    let found = messages(&report);
    assert_eq!(found.len(), 2, "{found:?}");
    for (rule, message) in found {
        assert_eq!(rule, "link/missing-file");
        assert!(message.contains("leaves the project"), "{message}");
    }
}

#[cfg(unix)]
#[test]
fn a_fragment_into_a_symlink_loop_or_a_fifo_is_reported_not_passed() {
    let dir = project(
        "lint:\n  roots: [docs/a.md]\n",
        &[("docs/a.md", b"[l](loop.md#x) [f](pipe.md#x)\n")],
    );
    let docs = dir.path().join("docs");
    std::os::unix::fs::symlink("loop.md", docs.join("loop.md")).unwrap();
    mkfifo(&docs.join("pipe.md"));
    let report = run(dir.path(), &LintRequest::default()).unwrap();
    let found = messages(&report);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0]
        .1
        .starts_with("`loop.md` cannot be read, so `#x` cannot be checked"));
    assert!(found[1].1.contains("a FIFO"), "{found:?}");
}

#[cfg(unix)]
#[test]
fn a_fifo_given_as_a_file_to_lint_is_a_read_error_not_a_hang() {
    let dir = project(DOCS, &[]);
    let pipe = dir.path().join("notes.md");
    mkfifo(&pipe);
    let request = LintRequest {
        paths: vec![pipe],
        ..LintRequest::default()
    };
    let error = run(dir.path(), &request).unwrap_err();
    assert_eq!(error.code(), "lint/read");
    assert!(error.to_string().contains("a FIFO"), "{error}");
}

#[test]
fn many_findings_on_one_huge_line_have_bounded_excerpts() {
    // 10,000 broken links on one line of about 2 MB: each excerpt is a window, not the line.
    let line = "[x](missing.md) ".repeat(10_000) + &"x".repeat(1_840_000);
    let dir = project(DOCS, &[("docs/a.md", line.as_bytes())]);
    let report = run(dir.path(), &LintRequest::default()).unwrap();
    assert_eq!(report.diagnostics.len(), 10_000);
    let last = report.diagnostics.last().unwrap();
    assert_eq!(last.position.column, 16 * 9_999 + 1);
    for d in &report.diagnostics {
        let excerpt = d.excerpt.as_ref().expect("a window of the line");
        assert!(excerpt.text.len() <= ssoproof_lint::Excerpt::MAX_BYTES);
        let offset = d.position.column - excerpt.first_column;
        assert!(
            excerpt.text[offset..].starts_with("[x](missing.md)"),
            "{excerpt:?}"
        );
    }
}

#[test]
fn an_empty_rule_prefix_is_refused_not_a_switch_for_everything() {
    let dir = project(DOCS, &[("docs/a.md", b"[x](nope.md)\n")]);
    let request = LintRequest {
        filter: RuleFilter::new(vec![], vec![String::new()]),
        ..LintRequest::default()
    };
    let error = run(dir.path(), &request).unwrap_err();
    assert_eq!(error.code(), "lint/unknown-rule");
    assert!(
        error.to_string().contains("an empty rule prefix"),
        "{error}"
    );
}

#[test]
fn a_bad_lint_ignore_in_the_config_names_the_file_and_line() {
    for (ignore, expected) in [
        ("[link, linkz]", "ssoproof.yaml:3:18"),
        ("['']", "ssoproof.yaml:3:12"),
    ] {
        let config = format!("lint:\n  roots: [docs]\n  ignore: {ignore}\n");
        let dir = project(&config, &[("docs/a.md", b"# A\n")]);
        let error = run(dir.path(), &LintRequest::default()).unwrap_err();
        assert_eq!(error.code(), "config/invalid", "{error}");
        let text = error.to_string();
        assert!(text.contains(expected), "{ignore}: {text}");
        assert!(text.contains("lint.ignore["), "{text}");
    }
}
