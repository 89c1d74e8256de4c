//! The runbooks' troubleshooting rows, and the ones that match a failure: a row matches when its
//! symptom cell names the failure's code as a whole word (`AccessDenied` is not
//! `AccessDeniedException`). When several rows name the code and some of them also quote the
//! server's message (a `"…"` fragment of the symptom appears in it), only those are kept, so
//! two `SERVICE_DISABLED` rows are told apart by their messages.

use std::path::{Path, PathBuf};

use serde::Serialize;

use ssoproof_config::BindingsConfig;
use ssoproof_lint::binding::{self, ItemKind, Sections};
use ssoproof_lint::document::Document;

/// One row of a troubleshooting table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub file: PathBuf,
    pub line: usize,
    pub symptom: String,
    pub cause: String,
    pub fix: String,
}

/// Why a runbook's rows could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the runbook {}: {source}", path.display())]
pub struct RunbookReadError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl RunbookReadError {
    pub fn code(&self) -> &'static str {
        "doctor/runbook-read"
    }
}

/// The troubleshooting rows of `runbooks`, in order.
pub fn load(runbooks: &[PathBuf]) -> Result<Vec<Row>, RunbookReadError> {
    let defaults = BindingsConfig::default();
    let sections = Sections {
        checklist: "Validation checklist",
        troubleshooting: &defaults.troubleshooting_section,
        manual_marker: &defaults.manual_marker,
    };
    let mut rows = Vec::new();
    for path in runbooks {
        let text =
            ssoproof_config::fs::read_to_string(path).map_err(|source| RunbookReadError {
                path: path.clone(),
                source,
            })?;
        let doc = Document::parse(&text);
        let dir = path.parent().unwrap_or(Path::new(""));
        for item in binding::items(&doc, &text, path, dir, &sections) {
            if item.kind != ItemKind::TroubleshootingRow {
                continue;
            }
            let cells = binding::row_cells(text.lines().nth(item.line - 1).unwrap_or(""));
            let cell = |i: usize| cells.get(i).cloned().unwrap_or_default();
            rows.push(Row {
                file: path.clone(),
                line: item.line,
                symptom: cell(0),
                cause: cell(1),
                fix: cell(2),
            });
        }
    }
    Ok(rows)
}

/// The rows that match a failure with `code` and the server's `message`.
pub fn matching<'a>(rows: &'a [Row], code: &str, message: &str) -> Vec<&'a Row> {
    let Ok(word) = regex::Regex::new(&format!(
        r"(^|[^A-Za-z0-9_]){}($|[^A-Za-z0-9_])",
        regex::escape(code)
    )) else {
        return Vec::new();
    };
    let candidates: Vec<&Row> = rows.iter().filter(|r| word.is_match(&r.symptom)).collect();
    let quoting: Vec<&Row> = candidates
        .iter()
        .copied()
        .filter(|r| quotes(&r.symptom).any(|q| message.contains(q)))
        .collect();
    if quoting.is_empty() {
        candidates
    } else {
        quoting
    }
}

/// The quoted fragments of a symptom, split at ellipses: `"… requires a quota project, …"`
/// gives `requires a quota project,`. Short fragments say too little to tell rows apart.
fn quotes(symptom: &str) -> impl Iterator<Item = &str> {
    symptom
        .split('"')
        .skip(1)
        .step_by(2)
        .flat_map(|q| q.split(['…']))
        .map(str::trim)
        .filter(|q| q.len() >= 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(symptom: &str) -> Row {
        Row {
            file: PathBuf::from("r.md"),
            line: 1,
            symptom: symptom.into(),
            cause: String::new(),
            fix: String::new(),
        }
    }

    #[test]
    fn codes_match_as_whole_words_and_quotes_pick_between_rows() {
        let rows = [
            row("`AccessDenied` \"Not authorized to perform sts:AssumeRoleWithWebIdentity\""),
            row(
                "`AccessDeniedException` \"… is not authorized to perform: bedrock:InvokeModel …\"",
            ),
            row("`SERVICE_DISABLED` \"… requires a quota project, which is not set by default …\""),
            row("`SERVICE_DISABLED` \"Vertex AI API has not been used in project … before\""),
        ];
        let found = |code: &str, message: &str| -> Vec<usize> {
            matching(&rows, code, message)
                .iter()
                .map(|r| rows.iter().position(|x| x == *r).unwrap())
                .collect()
        };
        assert_eq!(found("AccessDenied", "whatever"), [0]);
        assert_eq!(found("AccessDeniedException", "x"), [1]);
        assert_eq!(
            found(
                "SERVICE_DISABLED",
                "The API requires a quota project, which is not set by default."
            ),
            [2]
        );
        assert_eq!(
            found(
                "SERVICE_DISABLED",
                "Vertex AI API has not been used in project p before or it is disabled"
            ),
            [3]
        );
        // No quote matches: every row naming the code.
        assert_eq!(found("SERVICE_DISABLED", "something new"), [2, 3]);
        assert!(found("Nothing", "x").is_empty());
    }

    #[test]
    fn reads_the_shipped_runbooks_rows() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let rows = load(&[root.join("runbooks/aws-bedrock.md")]).unwrap();
        let denied = matching(&rows, "ValidationError", "");
        assert_eq!(denied.len(), 1);
        assert!(
            denied[0].cause.contains("maximum session duration"),
            "{:?}",
            denied[0]
        );
        assert!(!denied[0].fix.contains("proof"), "{:?}", denied[0]);
        let err = load(&[root.join("runbooks/no-such.md")]).unwrap_err();
        assert_eq!(err.code(), "doctor/runbook-read");
    }
}
