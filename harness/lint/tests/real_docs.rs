//! False positives found by linting real documentation trees, reduced to the fixtures under
//! `fixtures/lint/real-docs/` (GitHub rendering) and `fixtures/lint/mdbook/` (mdBook). Only the
//! deliberate problems in them may be reported; the human report is pinned as a snapshot.

use std::path::{Path, PathBuf};

use ssoproof_config::{IsoDate, LoadedConfig};
use ssoproof_lint::report::{self, Format};
use ssoproof_lint::{lint, LintReport, LintRequest};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/lint")
        .join(name)
}

/// Lints a fixture tree's configured roots, with file names relative to the tree.
fn run(name: &str) -> LintReport {
    let root = fixture(name);
    let config = LoadedConfig::load(&root.join("ssoproof.yaml")).expect("fixture config loads");
    let request = LintRequest {
        today: Some(IsoDate::parse("2026-11-23").unwrap().0),
        ..LintRequest::default()
    };
    let mut report = lint(&config, &request).expect("lint runs");
    let prefix = format!("{}/", config.root.display());
    let relative = |f: &str| f.strip_prefix(&prefix).unwrap_or(f).to_string();
    report.files = report.files.iter().map(|f| relative(f)).collect();
    for d in &mut report.diagnostics {
        d.file = relative(&d.file);
    }
    report
}

fn found(report: &LintReport) -> Vec<(String, usize, &'static str)> {
    report
        .diagnostics
        .iter()
        .map(|d| (d.file.clone(), d.position.line, d.rule.id()))
        .collect()
}

fn at(file: &str, line: usize, rule: &'static str) -> (String, usize, &'static str) {
    (file.to_string(), line, rule)
}

#[test]
fn real_docs_report_only_the_deliberate_problems() {
    let report = run("real-docs");
    assert_eq!(report.files.len(), 5, "{:?}", report.files);
    assert_eq!(
        found(&report),
        [
            at("docs/prose.md", 11, "link/insecure-http"),
            at("docs/prose.md", 13, "link/fragment-case"),
            at("docs/prose.md", 17, "link/duplicate-definition"),
            at("docs/runbooks/front-matter-undated.md", 1, "date/missing"),
            at("docs/runbooks/front-matter.md", 11, "link/missing-fragment"),
        ]
    );
    insta::assert_snapshot!(report::render(&report, Format::Human, false));
}

#[test]
fn mdbook_links_reach_chapters_and_honour_heading_attributes() {
    let report = run("mdbook");
    assert_eq!(
        found(&report),
        [
            at("src/intro.md", 11, "link/missing-file"),
            at("src/intro.md", 11, "link/missing-fragment"),
            at("src/intro.md", 12, "link/fragment-case"),
        ]
    );
    insta::assert_snapshot!(report::render(&report, Format::Human, false));
}
