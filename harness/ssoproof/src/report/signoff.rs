//! The `--format html` page of a sign-off record (`ssoproof signoff --format html`), drawn from
//! the JSON evidence model itself: the record's facts and hashes, each checklist item with its
//! result (a `[manual]` item's answer and note as its reason), and the evidence of each proving
//! scenario with its steps.

use std::path::Path;

use super::html::{self, Page, Proof, RunResult, Status, StepSource};
use ssoproof_signoff::{Answer, Evidence, ItemRecord, Record, Verdict};

/// The record as a self-contained HTML page; `steps` reads the proving scenarios' steps and
/// `json_name` is the evidence file the page is a view of.
pub fn html(record: &Record, json_name: &str, steps: &mut StepSource) -> String {
    html::render(&page(record, json_name, steps))
}

fn page(record: &Record, json_name: &str, steps: &mut StepSource) -> Page {
    let date = record.signed_at.get(..10).unwrap_or(&record.signed_at);
    let blocking = record.blocking_items().len();
    let verdict = if record.complete {
        (
            Status::Pass,
            format!("signed off by {} on {date}", record.operator),
        )
    } else {
        (
            Status::Fail,
            format!(
                "incomplete (--partial): {blocking} item(s) did not pass; this record signs nothing off"
            ),
        )
    };
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    let fact = |label: &str, value: String| (label.to_string(), value);
    let mut facts = vec![
        fact("Operator", record.operator.clone()),
        fact("Signed at", record.signed_at.clone()),
        fact("Backend", record.backend.clone()),
        fact("Issuer", or_unknown(&record.issuer)),
        fact("Client", or_unknown(&record.client_id)),
        fact(
            "Record",
            if record.complete {
                "complete".into()
            } else {
                format!("incomplete, {blocking} item(s) did not pass")
            },
        ),
        fact("Runbook SHA-256", record.runbook.sha256.clone()),
        fact("Checklist SHA-256", record.runbook.checklist_sha256.clone()),
    ];
    facts.extend(
        record
            .features
            .iter()
            .map(|f| fact("Feature SHA-256", format!("{} {}", f.path, f.sha256))),
    );
    facts.push(fact(
        "Evidence",
        format!("{json_name}, record SHA-256 {}", record.record_sha256),
    ));
    facts.push(fact("Tool", format!("ssoproof {}", record.tool_version)));
    Page {
        title: format!("Sign-off: {}", record.runbook.path),
        verdict: Some(verdict),
        facts,
        runbooks: vec![html::Runbook {
            file: record.runbook.path.clone(),
            items: record.items.iter().map(|i| item(i, steps)).collect(),
        }],
        lists: Vec::new(),
    }
}

fn item(item: &ItemRecord, steps: &mut StepSource) -> html::Item {
    // A manual item's reason is what the operator said; anything else's, why it did not pass.
    let reason = match (item.item.manual, item.answer) {
        (true, Some(answer)) => Some(
            [
                Some(format!("answered {}", answer_word(answer))),
                item.note.as_ref().map(|note| format!("note: {note}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" — "),
        ),
        _ => item.reason.clone(),
    };
    html::Item {
        kind: if item.item.manual {
            "manual".into()
        } else {
            "checklist".into()
        },
        line: item.item.line,
        text: item.item.text.clone(),
        status: status(item.result),
        reason,
        proofs: item.evidence.iter().map(|e| proof(e, steps)).collect(),
    }
}

fn proof(evidence: &Evidence, steps: &mut StepSource) -> Proof {
    let mut shown = Vec::new();
    if let Some(role) = &evidence.role {
        shown.push(("Role".to_string(), role.clone()));
    }
    if let Some(code) = &evidence.error_code {
        shown.push(("Error code".to_string(), code.clone()));
    }
    if !evidence.claims.is_empty() {
        // Already redacted when the record was made.
        let claims = serde_json::to_string(&evidence.claims).expect("plain data always serializes");
        shown.push(("Claims".to_string(), claims));
    }
    Proof {
        scenario: evidence.scenario.clone(),
        place: format!("{}:{}", evidence.feature, evidence.line),
        results: vec![RunResult {
            backend: evidence.backend.clone(),
            status: status(evidence.result),
            reason: evidence.reason.clone(),
        }],
        evidence: shown,
        steps: steps.steps(Path::new(&evidence.feature), evidence.line),
    }
}

fn status(verdict: Verdict) -> Status {
    match verdict {
        Verdict::Passed => Status::Pass,
        Verdict::Failed => Status::Fail,
        Verdict::Skipped => Status::Skip,
    }
}

fn answer_word(answer: Answer) -> &'static str {
    match answer {
        Answer::Yes => "yes",
        Answer::No => "no",
        Answer::Skip => "skip",
    }
}
