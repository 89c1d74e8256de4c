//! `{"files_checked": N, "diagnostics": [...]}`: one JSON document for scripts.

use serde::Serialize;

use crate::LintReport;

#[derive(Serialize)]
struct Output<'a> {
    files_checked: usize,
    diagnostics: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    rule: &'a str,
    severity: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    target: Option<&'a str>,
}

pub fn render(report: &LintReport) -> String {
    let output = Output {
        files_checked: report.files.len(),
        diagnostics: report
            .diagnostics
            .iter()
            .map(|d| Entry {
                file: &d.file,
                line: d.position.line,
                column: d.position.column,
                rule: d.rule.id(),
                severity: d.severity.as_str(),
                message: &d.message,
                help: d.help.as_deref(),
                target: d.target.as_deref(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&output).expect("plain data always serializes");
    text.push('\n');
    text
}
