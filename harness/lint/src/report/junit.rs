//! JUnit XML: one test case per checked file, failing when the file has errors. Warnings are
//! listed in the case's `system-out` so CI dashboards show them without failing the build.

use std::fmt::Write;

use quick_xml::escape::escape;

use crate::{Diagnostic, LintReport, Severity};

pub fn render(report: &LintReport) -> String {
    let failed = report
        .files
        .iter()
        .filter(|f| {
            report
                .diagnostics
                .iter()
                .any(|d| &d.file == *f && d.severity == Severity::Error)
        })
        .count();
    let tests = report.files.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ssoproof lint\" tests=\"{tests}\" failures=\"{failed}\" errors=\"0\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"ssoproof lint\" tests=\"{tests}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">"
    );
    for file in &report.files {
        let found: Vec<&Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| &d.file == file)
            .collect();
        let name = escape(file.as_str());
        let _ = write!(
            out,
            "    <testcase classname=\"ssoproof.lint\" name=\"{name}\" file=\"{name}\""
        );
        if found.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let errors: Vec<_> = found
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if let Some(first) = errors.first() {
            let body: String = errors.iter().map(|d| line(d)).collect();
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                escape(first.rule.id()),
                escape(format!("{} error(s); first: {}", errors.len(), first.message).as_str()),
                escape(body.as_str())
            );
        }
        let warnings: String = found
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .map(|d| line(d))
            .collect();
        if !warnings.is_empty() {
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                escape(warnings.as_str())
            );
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn line(d: &Diagnostic) -> String {
    let mut text = format!(
        "{}:{}:{}: {}[{}]: {}\n",
        d.file,
        d.position.line,
        d.position.column,
        d.severity.as_str(),
        d.rule.id(),
        d.message
    );
    if let Some(help) = &d.help {
        let _ = writeln!(text, "  help: {help}");
    }
    text
}
