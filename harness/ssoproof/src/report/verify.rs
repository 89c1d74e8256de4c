//! The per-runbook report of `ssoproof verify`: each checklist item and troubleshooting row with
//! its status (passed, failed with the reason, skipped with the reason, manual), then totals.

use serde_json::json;

use super::html::{self, Page, Proof, RunResult, Status, StepSource};
use super::truncate;
use crate::scenario::{tally, Outcome, ScenarioResult, NOT_IN_SHARD};
use crate::verify::{lint_counts, ItemStatus, VerifyOutcome, VerifyReport};
use ssoproof_lint::binding::ItemKind;

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
        "shard": report.shard.map(|s| s.to_string()),
        "lint": {"files_checked": report.lint.files.len(), "errors": errors, "warnings": warnings},
        "scenarios": {"passed": passed, "failed": failed, "skipped": skipped},
        "backends": per_backend(report),
        "runbooks": report.runbooks,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("plain data always serializes");
    text.push('\n');
    text
}

/// A short GitHub-flavoured Markdown summary (for `$GITHUB_STEP_SUMMARY`): the verdict and
/// counts, then each failed item with its runbook, line and reason, then each skip reason.
pub fn markdown(report: &VerifyReport) -> String {
    let (errors, warnings) = lint_counts(&report.lint);
    let (passed, failed, skipped) = tally(&report.results);
    let verdict = match report.outcome() {
        VerifyOutcome::Passed => "passed",
        VerifyOutcome::Failed => "FAILED",
        VerifyOutcome::NothingRan => "NOTHING RAN (every scenario was skipped)",
    };
    let mut out = format!("### ssoproof verify: {verdict}\n\n");
    out += &format!("- backends: {}\n", backends(report).join(", "));
    if let Some(shard) = report.shard {
        out += &format!("- shard {shard}: the other shards' scenarios are {NOT_IN_SHARD}\n");
    }
    out += &format!(
        "- lint: {errors} errors, {warnings} warnings in {} files\n- scenarios: {passed} passed, \
         {failed} failed, {skipped} skipped\n",
        report.lint.files.len()
    );
    let failures: Vec<String> = report
        .runbooks
        .iter()
        .flat_map(|runbook| {
            runbook
                .items
                .iter()
                .filter_map(move |item| match &item.status {
                    ItemStatus::Failed(reason) => Some(format!(
                        "| `{}:{}` | {} | {} | {} |\n",
                        runbook.file,
                        item.line,
                        match item.kind {
                            ItemKind::ChecklistItem => "checklist item",
                            ItemKind::TroubleshootingRow => "troubleshooting row",
                        },
                        cell(&truncate(&item.text, 100)),
                        cell(&truncate(reason, 300)),
                    )),
                    _ => None,
                })
        })
        .collect();
    if !failures.is_empty() {
        out += "\n#### Failed runbook items\n\n| Where | Kind | Item | Reason |\n| --- | --- | --- | --- |\n";
        out.extend(failures);
    }
    let reasons = skip_reasons(report);
    if !reasons.is_empty() {
        out += "\n#### Skipped\n\n";
        for reason in reasons {
            out += &format!("- {}\n", cell(&reason));
        }
    }
    out
}

/// Text made safe for one Markdown table cell or list item: no row-breaking `|` or newline,
/// no HTML the summary page would render.
fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn summary(report: &VerifyReport) -> String {
    let (errors, warnings) = lint_counts(&report.lint);
    let (passed, failed, skipped) = tally(&report.results);
    let mut text = match report.shard {
        Some(shard) => format!(
            "shard {shard}: only this share of the scenarios ran; the others are reported as \
             {NOT_IN_SHARD}\n"
        ),
        None => String::new(),
    };
    text += &format!(
        "lint: {errors} errors, {warnings} warnings in {} files\nscenarios ({}): {passed} passed, {failed} failed, {skipped} skipped\n",
        report.lint.files.len(),
        backends(report).join(", ")
    );
    for reason in skip_reasons(report) {
        text.push_str(&format!("  skipped — {reason}\n"));
    }
    text.push_str(verdict(report.outcome()));
    text
}

/// Each backend's (each live tenant's) tally and failures, so that one tenant's failure is
/// read next to the others' results, never instead of them.
fn per_backend(report: &VerifyReport) -> Vec<serde_json::Value> {
    backends(report)
        .into_iter()
        .map(|backend| {
            let results: Vec<ScenarioResult> = report
                .results
                .iter()
                .filter(|r| r.backend == backend)
                .cloned()
                .collect();
            let (passed, failed, skipped) = tally(&results);
            let failures: Vec<serde_json::Value> = results
                .iter()
                .filter_map(|r| match &r.outcome {
                    Outcome::Failed(reason) => Some(json!({"scenario": r.scenario, "reason": reason})),
                    _ => None,
                })
                .collect();
            json!({"name": backend, "passed": passed, "failed": failed, "skipped": skipped, "failures": failures})
        })
        .collect()
}

/// The backends that ran, each once, in the order they ran.
fn backends(report: &VerifyReport) -> Vec<&str> {
    let mut backends: Vec<&str> = Vec::new();
    for result in &report.results {
        if !backends.contains(&result.backend.as_str()) {
            backends.push(&result.backend);
        }
    }
    backends
}

/// Each distinct reason scenarios were skipped, with its backend.
fn skip_reasons(report: &VerifyReport) -> Vec<String> {
    let mut reasons: Vec<String> = report
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Skipped(reason) => Some(format!("{}: {reason}", r.backend)),
            _ => None,
        })
        .collect();
    reasons.sort();
    reasons.dedup();
    reasons
}

fn verdict(outcome: VerifyOutcome) -> &'static str {
    match outcome {
        VerifyOutcome::Passed => "verify: passed",
        VerifyOutcome::Failed => "verify: FAILED",
        VerifyOutcome::NothingRan => {
            "verify: NOTHING RAN — every scenario was skipped (see above); nothing was verified"
        }
    }
}

/// The report as a self-contained HTML page; `steps` reads the proving scenarios' steps,
/// `generated_at` says when the page was made.
pub fn html(report: &VerifyReport, steps: &mut StepSource, generated_at: &str) -> String {
    html::render(&page(report, steps, generated_at))
}

fn page(report: &VerifyReport, steps: &mut StepSource, generated_at: &str) -> Page {
    let (errors, warnings) = lint_counts(&report.lint);
    let (passed, failed, skipped) = tally(&report.results);
    let outcome = report.outcome();
    let verdict_status = match outcome {
        VerifyOutcome::Passed => Status::Pass,
        VerifyOutcome::Failed => Status::Fail,
        VerifyOutcome::NothingRan => Status::Skip,
    };
    let mut facts = vec![
        ("Generated".to_string(), generated_at.to_string()),
        ("Backends".to_string(), backends(report).join(", ")),
        (
            "Lint".to_string(),
            format!(
                "{errors} errors, {warnings} warnings in {} files",
                report.lint.files.len()
            ),
        ),
        (
            "Scenarios".to_string(),
            format!("{passed} passed, {failed} failed, {skipped} skipped"),
        ),
    ];
    if let Some(shard) = report.shard {
        facts.push(("Shard".to_string(), shard.to_string()));
    }
    facts.extend(
        skip_reasons(report)
            .into_iter()
            .map(|reason| ("Skipped".to_string(), reason)),
    );
    let runbooks = report
        .runbooks
        .iter()
        .map(|runbook| html::Runbook {
            file: runbook.file.clone(),
            items: runbook
                .items
                .iter()
                .map(|item| {
                    let (status, reason) = match &item.status {
                        ItemStatus::Passed => (Status::Pass, None),
                        ItemStatus::Failed(reason) => (Status::Fail, Some(reason.clone())),
                        ItemStatus::Skipped(reason) => (Status::Skip, Some(reason.clone())),
                        ItemStatus::Manual => (Status::Manual, None),
                        ItemStatus::Unbound => (Status::Unbound, None),
                    };
                    html::Item {
                        kind: kind_label(item.kind).to_string(),
                        line: item.line,
                        text: item.text.clone(),
                        status,
                        reason,
                        proofs: proofs(&item.scenarios, steps),
                    }
                })
                .collect(),
        })
        .collect();
    Page {
        title: "ssoproof verify".into(),
        verdict: Some((verdict_status, verdict(outcome).to_string())),
        facts,
        runbooks,
        lists: Vec::new(),
    }
}

/// What the item is, in a word; shared with the coverage page.
pub(super) fn kind_label(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::ChecklistItem => "checklist",
        ItemKind::TroubleshootingRow => "troubleshooting",
    }
}

/// The results grouped by scenario (an outline's example rows each their own), each with its
/// distinct results per backend.
fn proofs(results: &[ScenarioResult], steps: &mut StepSource) -> Vec<Proof> {
    let mut proofs: Vec<(&ScenarioResult, Vec<RunResult>)> = Vec::new();
    for result in results {
        let run = RunResult {
            backend: result.backend.clone(),
            status: match result.outcome {
                Outcome::Passed => Status::Pass,
                Outcome::Failed(_) => Status::Fail,
                Outcome::Skipped(_) => Status::Skip,
            },
            reason: match &result.outcome {
                Outcome::Passed => None,
                Outcome::Failed(reason) | Outcome::Skipped(reason) => Some(reason.clone()),
            },
        };
        let same = |(r, _): &&mut (&ScenarioResult, Vec<RunResult>)| {
            (&r.feature, r.line, &r.scenario) == (&result.feature, result.line, &result.scenario)
        };
        match proofs.iter_mut().find(same) {
            Some((_, runs)) if runs.contains(&run) => {}
            Some((_, runs)) => runs.push(run),
            None => proofs.push((result, vec![run])),
        }
    }
    proofs
        .into_iter()
        .map(|(result, results)| Proof {
            scenario: result.scenario.clone(),
            place: format!("{}:{}", result.feature.display(), result.line),
            results,
            evidence: Vec::new(),
            steps: steps.steps(&result.feature, result.line),
        })
        .collect()
}
