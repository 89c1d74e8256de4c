//! The per-runbook report of `ssoproof verify`: each checklist item and troubleshooting row with
//! its status (passed, failed with the reason, skipped with the reason, manual), then totals.

use serde_json::json;

use crate::scenario::tally;
use crate::verify::{lint_counts, ItemStatus, VerifyOutcome, VerifyReport};

pub fn human(report: &VerifyReport) -> String {
    let mut out = String::new();
    for runbook in &report.runbooks {
        out.push_str(&format!("{}\n", runbook.file));
        for item in &runbook.items {
            let (label, reason) = match &item.status {
                ItemStatus::Passed => ("PASS", None),
                ItemStatus::Failed(reason) => ("FAIL", Some(reason.as_str())),
                ItemStatus::Skipped(reason) => ("SKIP", Some(reason.as_str())),
                ItemStatus::Manual => ("MANUAL", None),
                ItemStatus::Unbound => ("UNBOUND", None),
            };
            out.push_str(&format!(
                "  {label:<7} {:>4}  {}\n",
                item.line,
                truncate(&item.text, 100)
            ));
            if let Some(reason) = reason {
                out.push_str(&format!("               {}\n", truncate(reason, 160)));
            }
        }
        out.push('\n');
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

pub fn json(report: &VerifyReport) -> String {
    let (errors, warnings) = lint_counts(&report.lint);
    let (passed, failed, skipped) = tally(&report.results);
    let value = json!({
        "outcome": report.outcome().as_str(),
        "lint": {"files_checked": report.lint.files.len(), "errors": errors, "warnings": warnings},
        "scenarios": {"passed": passed, "failed": failed, "skipped": skipped},
        "runbooks": report.runbooks,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("plain data always serializes");
    text.push('\n');
    text
}

fn summary(report: &VerifyReport) -> String {
    let (errors, warnings) = lint_counts(&report.lint);
    let (passed, failed, skipped) = tally(&report.results);
    let mut backends: Vec<&str> = report.results.iter().map(|r| r.backend.as_str()).collect();
    backends.dedup();
    let mut skip_reasons: Vec<String> = report
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            crate::scenario::Outcome::Skipped(reason) => Some(format!("{}: {reason}", r.backend)),
            _ => None,
        })
        .collect();
    skip_reasons.sort();
    skip_reasons.dedup();
    let mut text = format!(
        "lint: {errors} errors, {warnings} warnings in {} files\nscenarios ({}): {passed} passed, {failed} failed, {skipped} skipped\n",
        report.lint.files.len(),
        backends.join(", ")
    );
    for reason in skip_reasons {
        text.push_str(&format!("  skipped — {reason}\n"));
    }
    text.push_str(match report.outcome() {
        VerifyOutcome::Passed => "verify: passed",
        VerifyOutcome::Failed => "verify: FAILED",
        VerifyOutcome::NothingRan => {
            "verify: NOTHING RAN — every scenario was skipped (see above); nothing was verified"
        }
    });
    text
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}
