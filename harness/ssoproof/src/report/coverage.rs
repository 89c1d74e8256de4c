//! `ssoproof coverage` output: per runbook, each item with its proving scenario and last result,
//! then the scenarios no runbook cites.

use crate::coverage::{CoverageReport, ItemCoverage};
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
