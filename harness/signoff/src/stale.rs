//! Whether a runbook's latest sign-off still covers it: it exists, is complete, is signed when
//! signatures are required, is within the review period, and signed the checklist items and
//! bound scenarios the runbook has now. Items are matched by their own hash, so prose around
//! the checklist, or items moving down a line, changes nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime};

use crate::store::{self, RecordPaths};
use crate::{sign, Checklist};

/// What `signoff check` and `signoff/stale` hold a record to.
pub struct Policy<'a> {
    pub review_days: u32,
    pub today: Date,
    /// When signatures are required: the allowed-signers file they must verify against.
    pub allowed_signers: Option<&'a Path>,
}

/// One reason a runbook is not (or no longer) signed off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `signoff/stale`, or the record's own problem (`signoff/edited`, `signoff/signature`, …).
    pub code: &'static str,
    /// The runbook line it is about: the changed item's, else the checklist heading's.
    pub line: usize,
    pub message: String,
    /// The record it is about, when there is one.
    pub record: Option<PathBuf>,
}

/// The findings for one runbook (none: its latest record covers it).
pub fn check(runbook: &str, records: &Path, current: &Checklist, policy: &Policy) -> Vec<Finding> {
    let at = |line: usize, code, message: String, record: Option<&Path>| Finding {
        code,
        line,
        message,
        record: record.map(Path::to_path_buf),
    };
    let dir = store::runbook_dir(records, runbook);
    let paths: RecordPaths = match store::latest(&dir) {
        Ok(Some(paths)) => paths,
        Ok(None) => {
            return vec![at(
                current.line,
                "signoff/stale",
                format!(
                    "no sign-off record in {}: run `ssoproof signoff {runbook}`",
                    dir.display()
                ),
                None,
            )]
        }
        Err(e) => return vec![at(current.line, e.code(), e.to_string(), None)],
    };
    let json = Some(paths.json.as_path());
    let (record, text) = match store::load(&paths) {
        Ok(loaded) => loaded,
        Err(e) => return vec![at(current.line, e.code(), e.to_string(), json)],
    };
    let mut out = Vec::new();
    if let Some(signers) = policy.allowed_signers {
        if let Err(e) = sign::verify(signers, &paths.signature, text.as_bytes()) {
            out.push(at(current.line, e.code(), e.to_string(), json));
        }
    }
    if !record.complete {
        out.push(at(
            current.line,
            "signoff/stale",
            format!(
                "the latest sign-off ({}) is incomplete (`--partial`)",
                record.signed_at
            ),
            json,
        ));
    }
    match OffsetDateTime::parse(&record.signed_at, &Rfc3339) {
        Ok(signed) => {
            let age = (policy.today - signed.date()).whole_days();
            if age >= i64::from(policy.review_days) {
                out.push(at(
                    current.line,
                    "signoff/stale",
                    format!(
                        "the latest sign-off is {age} days old (on {}); the review period is {} days",
                        signed.date(),
                        policy.review_days
                    ),
                    json,
                ));
            }
        }
        Err(e) => out.push(at(
            current.line,
            "signoff/record",
            format!("`signed_at` is not an RFC 3339 time: {e}"),
            json,
        )),
    }
    let signed: HashSet<&str> = record
        .items
        .iter()
        .map(|i| i.item.sha256.as_str())
        .collect();
    let now: HashSet<&str> = current.items.iter().map(|i| i.sha256.as_str()).collect();
    for item in &current.items {
        if !signed.contains(item.sha256.as_str()) {
            out.push(at(
                item.line,
                "signoff/stale",
                format!(
                    "checklist item `{}` changed or was added since the sign-off of {}",
                    item.text, record.signed_at
                ),
                json,
            ));
            continue;
        }
        let Some(then) = record.items.iter().find(|i| i.item.sha256 == item.sha256) else {
            continue;
        };
        for scenario in &item.scenarios {
            let before = then
                .item
                .scenarios
                .iter()
                .find(|s| s.feature == scenario.feature && s.tag == scenario.tag);
            if before.map(|s| &s.sha256) != Some(&scenario.sha256) {
                out.push(at(
                    item.line,
                    "signoff/stale",
                    format!(
                        "scenario `{}#{}` of checklist item `{}` changed since the sign-off of {}",
                        scenario.feature, scenario.tag, item.text, record.signed_at
                    ),
                    json,
                ));
            }
        }
    }
    for gone in record
        .items
        .iter()
        .filter(|i| !now.contains(i.item.sha256.as_str()))
    {
        out.push(at(
            current.line,
            "signoff/stale",
            format!(
                "checklist item `{}` was signed off but is no longer in the checklist as it was",
                gone.item.text
            ),
            json,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{runbook_dir, write};
    use time::macros::date;

    fn setup() -> (tempfile::TempDir, Checklist) {
        let dir = tempfile::tempdir().unwrap();
        let mut record = crate::tests::record();
        record.runbook.checklist_sha256 = String::new();
        record.seal();
        let paths = RecordPaths::for_date(&runbook_dir(dir.path(), "runbooks/kc.md"), "2026-12-01");
        write(&paths, &record, None, None, false).unwrap();
        let current = Checklist {
            line: 9,
            items: record.items.iter().map(|i| i.item.clone()).collect(),
        };
        (dir, current)
    }

    fn policy(today: Date) -> Policy<'static> {
        Policy {
            review_days: 90,
            today,
            allowed_signers: None,
        }
    }

    #[test]
    fn a_fresh_record_has_no_finding_and_moved_lines_change_nothing() {
        let (dir, mut current) = setup();
        current.items.iter_mut().for_each(|i| i.line += 40);
        assert_eq!(
            check(
                "runbooks/kc.md",
                dir.path(),
                &current,
                &policy(date!(2026 - 12 - 07))
            ),
            []
        );
    }

    #[test]
    fn a_changed_item_or_scenario_is_named_at_its_line() {
        let (dir, mut current) = setup();
        current.items[1].sha256 = crate::sha256_hex("edited");
        current.items[0].scenarios[0].sha256 = Some(crate::sha256_hex("edited"));
        let found = check(
            "runbooks/kc.md",
            dir.path(),
            &current,
            &policy(date!(2026 - 12 - 07)),
        );
        let lines: Vec<(usize, &str)> =
            found.iter().map(|f| (f.line, f.message.as_str())).collect();
        assert_eq!(found.len(), 3, "{lines:?}");
        assert!(found[0].message.starts_with("scenario `features/kc.feature#admin-role` of checklist item `item admin-role` changed"), "{lines:?}");
        assert_eq!(found[0].line, 10);
        assert!(
            found[1]
                .message
                .contains("`item wrong-password` changed or was added"),
            "{lines:?}"
        );
        assert_eq!(found[1].line, 11);
        assert!(
            found[2].message.contains("no longer in the checklist"),
            "{lines:?}"
        );
    }

    #[test]
    fn an_old_missing_or_unsigned_record_is_stale() {
        let (dir, current) = setup();
        let found = check(
            "runbooks/kc.md",
            dir.path(),
            &current,
            &policy(date!(2027 - 03 - 01)),
        );
        assert!(found[0].message.contains("90 days old"), "{found:?}");
        let found = check(
            "runbooks/other.md",
            dir.path(),
            &current,
            &policy(date!(2026 - 12 - 07)),
        );
        assert!(
            found[0].message.starts_with("no sign-off record"),
            "{found:?}"
        );
        let signers = dir.path().join("allowed_signers");
        std::fs::write(&signers, "").unwrap();
        let strict = Policy {
            allowed_signers: Some(&signers),
            ..policy(date!(2026 - 12 - 07))
        };
        let found = check("runbooks/kc.md", dir.path(), &current, &strict);
        assert_eq!(found[0].code, "signoff/signature", "{found:?}");
    }
}
