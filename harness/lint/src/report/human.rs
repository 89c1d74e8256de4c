//! rustc-style output: `error[rule]: message`, the location, a source excerpt, and help.

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

use crate::{Diagnostic, LintReport, Severity};

pub fn render(report: &LintReport, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in &report.diagnostics {
        out.push_str(&renderer.render(&[group(d)]).to_string());
        out.push_str("\n\n");
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

fn group(d: &Diagnostic) -> annotate_snippets::Group<'_> {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(d.message.as_str()).id(d.rule.id());
    let group = match &d.excerpt {
        Some(excerpt) => {
            let line = excerpt.text.as_str();
            let column = d.position.column.saturating_sub(excerpt.first_column);
            let start = byte_offset(line, column);
            let end = byte_offset(line, column + d.position.width);
            title.element(
                Snippet::source(line)
                    .line_start(d.position.line)
                    .path(d.file.as_str())
                    .annotation(AnnotationKind::Primary.span(start..end.max(start))),
            )
        }
        None => title.element(
            annotate_snippets::Origin::path(d.file.as_str())
                .line(d.position.line)
                .char_column(d.position.column),
        ),
    };
    match &d.help {
        Some(help) => group.element(Level::HELP.message(help.as_str())),
        None => group,
    }
}

fn byte_offset(line: &str, chars: usize) -> usize {
    line.char_indices()
        .nth(chars)
        .map_or(line.len(), |(i, _)| i)
}

fn summary(report: &LintReport) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let files = report.files.len();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors == 0 && warnings == 0 {
        return format!("{}: no problems found", plural(files, "file"));
    }
    let mut affected: Vec<&str> = report.diagnostics.iter().map(|d| d.file.as_str()).collect();
    affected.dedup();
    format!(
        "{} and {} in {} of {} checked",
        plural(errors, "error"),
        plural(warnings, "warning"),
        affected.len(),
        plural(files, "file"),
    )
}
