//! A `# Title` first, then the kind's required H2 sections in order.

use super::{Runbook, Title};
use crate::diagnostic::{Diagnostic, FILE_START};
use crate::rules::Rule;

pub fn check(runbook: &Runbook, out: &mut Vec<Diagnostic>) {
    let title = runbook.title();
    if title.is_none() {
        out.push(
            Diagnostic::new(
                Rule::MissingTitle,
                FILE_START,
                "the runbook does not start with a `# Title`",
            )
            .help("make the first line an H1 naming the IdP, e.g. `# Okta`"),
        );
    }
    let title = match title {
        Some(Title::Heading(heading)) => Some(heading),
        _ => None,
    };

    let sections: Vec<_> = runbook.sections().collect();
    let mut cursor = 0;
    let mut previous: Option<&str> = None;
    for required in &runbook.kind.sections {
        let found = sections[cursor..]
            .iter()
            .position(|h| required.matches(&h.text));
        match found {
            Some(offset) => {
                cursor += offset + 1;
                previous = Some(required.as_str());
            }
            None => {
                let earlier = sections[..cursor]
                    .iter()
                    .find(|h| required.matches(&h.text));
                let after = previous.map_or("the title".to_string(), |p| format!("`## {p}`"));
                let diagnostic = match earlier {
                    Some(heading) => Diagnostic::new(
                        Rule::SectionOrder,
                        runbook.index.position(heading.span),
                        format!(
                            "`## {}` comes before {after}; runbooks of kind `{}` put it after",
                            heading.text, runbook.kind.name
                        ),
                    )
                    .help(format!("required order: {}", order(runbook))),
                    None => Diagnostic::new(
                        Rule::MissingSection,
                        cursor
                            .checked_sub(1)
                            .and_then(|i| sections.get(i).copied())
                            .or(title)
                            .map_or(FILE_START, |h| runbook.index.position(h.span)),
                        format!(
                            "no `## {}` section (required for runbooks of kind `{}`)",
                            required.as_str(),
                            runbook.kind.name
                        ),
                    )
                    .help(format!(
                        "add it after {after}; required order: {}",
                        order(runbook)
                    )),
                };
                out.push(diagnostic);
            }
        }
    }
}

fn order(runbook: &Runbook) -> String {
    runbook
        .kind
        .sections
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" → ")
}
