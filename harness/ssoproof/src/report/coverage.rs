//! `ssoproof coverage` output: per runbook, each item with its proving scenario and last result,
//! then the scenarios no runbook cites.

use super::html::{self, Page, RunResult, Status, StepSource};
use crate::coverage::{CoverageReport, ItemCoverage, Proof};
use crate::scenario::Outcome;

pub fn human(report: &CoverageReport) -> String {
    let mut out = match &report.last_run {
        Some(at) => format!("last results: `ssoproof verify` finished {at}\n\n"),
        None => "last results: none yet (run `ssoproof verify`)\n\n".to_string(),
    };
    for runbook in &report.runbooks {
        out.push_str(&format!("{}\n", runbook.file));
        for item in &runbook.items {
            let kind = match item.kind {
                ssoproof_lint::binding::ItemKind::ChecklistItem => "checklist",
                ssoproof_lint::binding::ItemKind::TroubleshootingRow => "row",
            };
            out.push_str(&format!("  {kind:<9} {:>4}  {}\n", item.line, item.text));
            for line in proof_lines(item) {
                out.push_str(&format!("                  {line}\n"));
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "scenarios no runbook cites: {}\n",
        report.uncited.len()
    ));
    for s in &report.uncited {
        out.push_str(&format!(
            "  {}:{}  {}\n",
            s.feature.display(),
            s.line,
            s.name
        ));
    }
    out
}

fn proof_lines(item: &ItemCoverage) -> Vec<String> {
    if item.proofs.is_empty() {
        return vec![if item.manual {
            "manual".into()
        } else {
            "bound to nothing".into()
        }];
    }
    item.proofs
        .iter()
        .map(|p| {
            let place = match &p.scenario {
                Some(s) => format!(
                    "{}:{} @{} \"{}\"",
                    s.feature.display(),
                    s.line,
                    p.tag,
                    s.name
                ),
                None => format!(
                    "{} @{} (no single scenario carries the tag)",
                    p.feature.display(),
                    p.tag
                ),
            };
            let last: Vec<String> = p
                .last
                .iter()
                .map(|r| match &r.outcome {
                    Outcome::Passed => format!("{}: passed", r.backend),
                    Outcome::Failed(_) => format!("{}: FAILED", r.backend),
                    Outcome::Skipped(_) => format!("{}: skipped", r.backend),
                })
                .collect();
            let last = if last.is_empty() {
                "not run".to_string()
            } else {
                dedup(last).join(", ")
            };
            format!("→ {place} — {last}")
        })
        .collect()
}

/// Outline rows repeat a result per example; one mention per backend and outcome is enough.
fn dedup(mut items: Vec<String>) -> Vec<String> {
    items.dedup();
    items
}

pub fn json(report: &CoverageReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("plain data always serializes");
    text.push('\n');
    text
}

/// The report as a self-contained HTML page. An item's status is its proofs' last results
/// taken as `verify` takes them: a failure anywhere fails it, else a pass passes it, else a
/// skip skips it; with no result it has not run.
pub fn html(report: &CoverageReport, steps: &mut StepSource, generated_at: &str) -> String {
    let last_run = match &report.last_run {
        Some(at) => format!("`ssoproof verify` finished {at}"),
        None => "none yet (run `ssoproof verify`)".to_string(),
    };
    let runbooks = report
        .runbooks
        .iter()
        .map(|runbook| html::Runbook {
            file: runbook.file.clone(),
            items: runbook
                .items
                .iter()
                .map(|item| html_item(item, steps))
                .collect(),
        })
        .collect();
    let uncited = report
        .uncited
        .iter()
        .map(|s| format!("{}:{}  {}", s.feature.display(), s.line, s.name))
        .collect();
    html::render(&Page {
        title: "ssoproof coverage".into(),
        verdict: None,
        facts: vec![
            ("Generated".into(), generated_at.to_string()),
            ("Last results".into(), last_run),
        ],
        runbooks,
        lists: vec![html::List {
            title: "Scenarios no runbook cites".into(),
            entries: uncited,
        }],
    })
}

fn html_item(item: &ItemCoverage, steps: &mut StepSource) -> html::Item {
    let proofs: Vec<html::Proof> = item.proofs.iter().map(|p| html_proof(p, steps)).collect();
    let results = || proofs.iter().flat_map(|p| &p.results);
    let first = |status: Status| results().find(|r| r.status == status);
    let (status, reason) = if item.proofs.is_empty() {
        (
            if item.manual {
                Status::Manual
            } else {
                Status::Unbound
            },
            None,
        )
    } else if let Some(failed) = first(Status::Fail) {
        (
            Status::Fail,
            Some(format!(
                "[{}] {}",
                failed.backend,
                failed.reason.clone().unwrap_or_default()
            )),
        )
    } else if first(Status::Pass).is_some() {
        (Status::Pass, None)
    } else if let Some(skipped) = first(Status::Skip) {
        (Status::Skip, skipped.reason.clone())
    } else {
        (Status::NotRun, None)
    };
    html::Item {
        kind: super::verify::kind_label(item.kind).to_string(),
        line: item.line,
        text: item.text.clone(),
        status,
        reason,
        proofs,
    }
}

fn html_proof(proof: &Proof, steps: &mut StepSource) -> html::Proof {
    let mut results: Vec<RunResult> = Vec::new();
    for last in &proof.last {
        let (status, reason) = match &last.outcome {
            Outcome::Passed => (Status::Pass, None),
            Outcome::Failed(reason) => (Status::Fail, Some(reason.clone())),
            Outcome::Skipped(reason) => (Status::Skip, Some(reason.clone())),
        };
        let run = RunResult {
            backend: last.backend.clone(),
            status,
            reason,
        };
        // Outline rows repeat a result per example; one mention per backend and outcome.
        if !results.contains(&run) {
            results.push(run);
        }
    }
    match &proof.scenario {
        Some(s) => html::Proof {
            scenario: s.name.clone(),
            place: format!("{}:{} @{}", s.feature.display(), s.line, proof.tag),
            results,
            evidence: Vec::new(),
            steps: steps.steps(&s.feature, s.line),
        },
        None => html::Proof {
            scenario: format!("@{}", proof.tag),
            place: proof.feature.display().to_string(),
            results,
            evidence: Vec::new(),
            steps: Err(format!(
                "no single scenario of {} carries @{} (see `ssoproof lint`)",
                proof.feature.display(),
                proof.tag
            )),
        },
    }
}
