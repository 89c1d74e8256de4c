//! The Markdown record: the runbook's checklist with each box ticked or not, each item's result
//! and proving scenario, and the filled sign-off line. A function of the JSON record alone, so
//! `signoff check` can re-render it and catch an edit.

use crate::{Record, Verdict};

pub fn markdown(record: &Record, json_name: &str) -> String {
    let date = record.signed_at.get(..10).unwrap_or(&record.signed_at);
    let mut out = format!("# Sign-off: `{}`\n\n", record.runbook.path);
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    out.push_str(&format!(
        "- Backend: {}, issuer `{}`, client `{}`\n",
        record.backend,
        or_none(&record.issuer),
        or_none(&record.client_id)
    ));
    out.push_str(&format!(
        "- Runbook SHA-256 `{}`, checklist SHA-256 `{}`\n",
        record.runbook.sha256, record.runbook.checklist_sha256
    ));
    for feature in &record.features {
        out.push_str(&format!(
            "- Feature `{}` SHA-256 `{}`\n",
            feature.path, feature.sha256
        ));
    }
    out.push_str(&format!(
        "- ssoproof {}, signed at {}\n",
        record.tool_version, record.signed_at
    ));
    let blocking = record.blocking_items().len();
    if !record.complete {
        out.push_str(&format!(
            "\n**Incomplete** (`--partial`): {blocking} item(s) did not pass; this record signs nothing off.\n"
        ));
    }
    out.push_str("\n## Validation checklist\n\n");
    for item in &record.items {
        let tick = if item.result == Verdict::Passed {
            "x"
        } else {
            " "
        };
        let proof = if item.item.manual {
            match item.answer {
                Some(answer) => format!("answered {}", serde_plain(answer)),
                None => "not answered".into(),
            }
        } else {
            let scenarios: Vec<String> = item
                .item
                .scenarios
                .iter()
                .map(|s| format!("`{}#{}`", s.feature, s.tag))
                .collect();
            format!("{} by {}", serde_plain(item.result), scenarios.join(", "))
        };
        out.push_str(&format!("- [{tick}] {} — {proof}", item.item.text));
        if let Some(reason) = &item.reason {
            out.push_str(&format!(": {}", one_line(reason)));
        }
        if let Some(note) = &item.note {
            out.push_str(&format!(" (note: {})", one_line(note)));
        }
        out.push('\n');
    }
    out.push('\n');
    if record.complete {
        out.push_str(&format!(
            "Sign-off: {} (operator) on {date} (date).\n",
            record.operator
        ));
    } else {
        out.push_str(&format!(
            "Sign-off: withheld, {blocking} item(s) did not pass ({} on {date}).\n",
            record.operator
        ));
    }
    out.push_str(&format!(
        "\nEvidence: [`{json_name}`]({json_name}), record SHA-256 `{}`.\n",
        record.record_sha256
    ));
    out
}

/// An enum's serde name (`passed`, `yes`).
fn serde_plain(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_passed_items_and_fills_the_sign_off_line() {
        let mut record = crate::tests::record();
        record.items[1].result = Verdict::Failed;
        record.items[1].reason = Some("login_failed\nexpected".into());
        let text = markdown(&record, "2026-12-01.json");
        assert!(
            text.contains("- [x] item admin-role — passed by `features/kc.feature#admin-role`\n"),
            "{text}"
        );
        assert!(text.contains("- [ ] item wrong-password — failed by `features/kc.feature#wrong-password`: login_failed expected\n"), "{text}");
        assert!(
            text.contains("Sign-off: Ada (operator) on 2026-12-01 (date).\n"),
            "{text}"
        );
        record.complete = false;
        assert!(markdown(&record, "x.json").contains("Sign-off: withheld, 1 item(s) did not pass"));
    }
}
