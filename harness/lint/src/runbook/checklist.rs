//! The validation checklist: at least one `- [ ]` item, ending with the sign-off line.

use super::{line_position, Runbook};
use crate::diagnostic::{Diagnostic, FILE_START};
use crate::rules::Rule;
use ssoproof_config::ChecklistConfig;

pub fn check(runbook: &Runbook, config: &ChecklistConfig, out: &mut Vec<Diagnostic>) {
    if !runbook.kind.checklist {
        return;
    }
    let sign_off_example = "Sign-off: _______________ (operator) on _______________ (date).";
    let Some(heading) = runbook.sections().find(|h| h.text == config.section) else {
        // When the section is required by the kind, layout/missing-section already says so.
        if !runbook
            .kind
            .sections
            .iter()
            .any(|s| s.matches(&config.section))
        {
            out.push(
                Diagnostic::new(
                    Rule::ChecklistEmpty,
                    FILE_START,
                    format!("no `## {}` section", config.section),
                )
                .help(format!(
                    "end the runbook with `## {}`, its `- [ ]` items and `{sign_off_example}`",
                    config.section
                )),
            );
        }
        return;
    };
    let lines = runbook.section_lines(heading);
    let items: Vec<_> = runbook
        .doc
        .tasks
        .iter()
        .filter(|t| lines.contains(&t.line))
        .collect();
    if items.is_empty() {
        out.push(
            Diagnostic::new(
                Rule::ChecklistEmpty,
                runbook.index.position(heading.span),
                format!("`## {}` has no `- [ ]` item", config.section),
            )
            .help("list each check the operator must make as `- [ ] …`"),
        );
    }
    for item in items.iter().filter(|t| t.checked) {
        let text = runbook.line(item.line);
        out.push(
            Diagnostic::new(
                Rule::ChecklistPrechecked,
                line_position(item.line, text),
                "checklist item is already ticked",
            )
            .help("leave items as `- [ ]` in the runbook; operators tick them in their own copy"),
        );
    }
    let last = lines
        .clone()
        .rev()
        .find(|&n| !runbook.line(n).trim().is_empty());
    match last {
        Some(n) if config.sign_off.0.is_match(runbook.line(n).trim_end()) => {}
        Some(n) => out.push(
            Diagnostic::new(
                Rule::ChecklistSignOff,
                line_position(n, runbook.line(n)),
                "the checklist does not end with the sign-off line",
            )
            .help(format!(
                "end the section with `{sign_off_example}` (pattern: `{}`)",
                config.sign_off.0.as_str()
            )),
        ),
        None => out.push(
            Diagnostic::new(
                Rule::ChecklistSignOff,
                runbook.index.position(heading.span),
                "the checklist does not end with the sign-off line",
            )
            .help(format!("end the section with `{sign_off_example}`")),
        ),
    }
}
