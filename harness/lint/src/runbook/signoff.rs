//! `signoff/stale`: a runbook named in `signoff.required` whose latest sign-off record no
//! longer covers it. Off unless configured: with no `signoff.required` nothing is checked.

use std::path::Path;

use time::Date;

use super::{line_position, Runbook};
use crate::binding::{self, Sections};
use crate::diagnostic::{Diagnostic, FILE_START};
use crate::rules::Rule;
use ssoproof_config::LoadedConfig;
use ssoproof_signoff::stale::{self, Policy};

pub fn check(
    runbook: &Runbook,
    file: &Path,
    root: &Path,
    config: &LoadedConfig,
    today: Date,
    out: &mut Vec<Diagnostic>,
) {
    let signoff = &config.config.signoff;
    if !signoff.required.iter().any(|r| r == runbook.relative) {
        return;
    }
    let runbooks = &config.config.runbooks;
    let sections = Sections {
        checklist: &runbooks.checklist.section,
        troubleshooting: &runbooks.bindings.troubleshooting_section,
        manual_marker: &runbooks.bindings.manual_marker,
    };
    let help = format!(
        "run `ssoproof signoff {}` to sign it off again",
        binding::relative(runbook.relative, Path::new(""))
    );
    let checklist = match binding::checklist(runbook.doc, runbook.source, file, root, &sections) {
        Ok(Some(checklist)) => checklist,
        // No checklist is checklist/no-items' finding; a broken feature binding/feature-syntax's.
        Ok(None) | Err(_) => return,
    };
    let allowed_signers = signoff
        .require_signature
        .then(|| {
            signoff
                .allowed_signers
                .as_ref()
                .map(|p| config.root.join(p))
        })
        .flatten();
    let policy = Policy {
        review_days: signoff.review_days,
        today,
        allowed_signers: allowed_signers.as_deref(),
    };
    let name = binding::relative(runbook.relative, Path::new(""));
    for finding in stale::check(&name, &config.root.join(&signoff.dir), &checklist, &policy) {
        let position = match finding.line {
            0 => FILE_START,
            n => line_position(n, runbook.line(n)),
        };
        let message = match finding.code {
            "signoff/stale" => finding.message,
            code => format!("[{code}] {}", finding.message),
        };
        out.push(Diagnostic::new(Rule::SignoffStale, position, message).help(help.clone()));
    }
}

#[cfg(test)]
mod tests {
    use crate::{lint, LintRequest};
    use ssoproof_config::LoadedConfig;
    use ssoproof_signoff::store::{runbook_dir, write, RecordPaths};
    use ssoproof_signoff::{Record, RunbookRef, Verdict};
    use std::path::Path;

    const RUNBOOK: &str = "# KC\n\n## Validation checklist\n\n- [ ] Alice is admin. [proof](../features/kc.feature#admin-role)\n\nSign-off: _______________ (operator) on _______________ (date).\n";
    const FEATURE: &str =
        "Feature: KC\n  @admin-role\n  Scenario: Alice is admin\n    Then her role is admin\n";

    fn stale(dir: &Path) -> Vec<(usize, String)> {
        let config = LoadedConfig::load(&dir.join("ssoproof.yaml")).unwrap();
        let request = LintRequest {
            today: Some(time::macros::date!(2026 - 12 - 07)),
            ..LintRequest::default()
        };
        lint(&config, &request)
            .unwrap()
            .diagnostics
            .into_iter()
            .filter(|d| d.rule.id() == "signoff/stale")
            .map(|d| (d.position.line, d.message))
            .collect()
    }

    /// issue 13: off unless configured; then a missing record, and an item edited after the
    /// sign-off, are reported at the checklist's and the item's line.
    #[test]
    fn reports_a_missing_or_outdated_sign_off_of_a_required_runbook() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("runbooks")).unwrap();
        std::fs::create_dir_all(root.join("features")).unwrap();
        std::fs::write(root.join("runbooks/kc.md"), RUNBOOK).unwrap();
        std::fs::write(root.join("features/kc.feature"), FEATURE).unwrap();
        let kinds = "runbooks:\n  kinds:\n    - name: idp\n      files: [\"runbooks/*.md\"]\n      sections: [Validation checklist]\n      bindings: true\n";
        std::fs::write(root.join("ssoproof.yaml"), kinds).unwrap();
        assert_eq!(stale(root), [], "off unless configured");

        std::fs::write(
            root.join("ssoproof.yaml"),
            format!("{kinds}signoff:\n  required: [runbooks/kc.md]\n"),
        )
        .unwrap();
        let found = stale(root);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 3);
        assert!(found[0].1.starts_with("no sign-off record"), "{found:?}");

        let config = LoadedConfig::load(&root.join("ssoproof.yaml")).unwrap();
        let doc = crate::Document::parse(RUNBOOK);
        let sections = crate::binding::Sections {
            checklist: "Validation checklist",
            troubleshooting: "Troubleshooting",
            manual_marker: "[manual]",
        };
        let checklist = crate::binding::checklist(
            &doc,
            RUNBOOK,
            &root.join("runbooks/kc.md"),
            &config.root,
            &sections,
        )
        .unwrap()
        .unwrap();
        let mut record = Record {
            format: ssoproof_signoff::FORMAT,
            tool_version: "0".into(),
            runbook: RunbookRef {
                path: "runbooks/kc.md".into(),
                sha256: String::new(),
                checklist_sha256: checklist.sha256(),
            },
            backend: "emulator".into(),
            issuer: None,
            client_id: None,
            operator: "Ada".into(),
            signed_at: "2026-12-01T10:00:00Z".into(),
            complete: true,
            features: vec![],
            items: checklist
                .items
                .iter()
                .map(|i| ssoproof_signoff::ItemRecord {
                    item: i.clone(),
                    result: Verdict::Passed,
                    reason: None,
                    answer: None,
                    note: None,
                    checked_at: "2026-12-01T10:00:00Z".into(),
                    evidence: vec![],
                })
                .collect(),
            record_sha256: String::new(),
        };
        record.seal();
        let paths = RecordPaths::for_date(
            &runbook_dir(&root.join("signoffs"), "runbooks/kc.md"),
            "2026-12-01",
        );
        write(&paths, &record, None, None, false).unwrap();
        assert_eq!(stale(root), []);

        std::fs::write(
            root.join("runbooks/kc.md"),
            RUNBOOK
                .replace("# KC\n", "# KC\n\nNew prose.\n")
                .replace("Alice is admin.", "Alice is an admin."),
        )
        .unwrap();
        let found = stale(root);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.contains(&(7, "checklist item `Alice is an admin.` changed or was added since the sign-off of 2026-12-01T10:00:00Z".into())), "at the edited item: {found:?}");
        assert!(
            found.iter().any(|(line, m)| *line == 5
                && m.contains("`Alice is admin.` was signed off but is no longer")),
            "{found:?}"
        );
    }
}
