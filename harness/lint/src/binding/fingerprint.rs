//! A runbook's validation checklist as a sign-off record sees it: each item's hash (its text
//! and bindings) and the hash of each scenario it is bound to.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::extract::section_range;
use super::feature::{FeatureFile, ScenarioRef};
use super::{items, FeatureError, ItemKind, Sections};
use crate::document::{Document, LineIndex};
use ssoproof_signoff::{sha256_hex, Checklist, ItemFingerprint, ScenarioFingerprint};

/// The checklist's items fingerprinted, or `None` when the runbook has no checklist section
/// or no item in it. A feature file that cannot be parsed is an error: nothing can be signed
/// against it.
pub fn checklist(
    doc: &Document,
    source: &str,
    file: &Path,
    root: &Path,
    sections: &Sections,
) -> Result<Option<Checklist>, FeatureError> {
    let index = LineIndex::new(source);
    let Some(range) = section_range(doc, &index, source.lines().count(), sections.checklist) else {
        return Ok(None);
    };
    let mut features: HashMap<PathBuf, Vec<ScenarioRef>> = HashMap::new();
    let mut out = Vec::new();
    let checklist_items = items(doc, source, file, root, sections)
        .into_iter()
        .filter(|i| i.kind == ItemKind::ChecklistItem);
    for (n, item) in checklist_items.enumerate() {
        let mut scenarios = Vec::new();
        for target in &item.scenarios {
            if !features.contains_key(&target.feature) {
                // A feature file that is not there is `link/missing-file`'s; it hashes as absent.
                let scenarios = match FeatureFile::load(&target.feature) {
                    Err(FeatureError::Read { .. })
                        if std::fs::symlink_metadata(&target.feature).is_err() =>
                    {
                        Vec::new()
                    }
                    other => other?.scenarios,
                };
                features.insert(target.feature.clone(), scenarios);
            }
            let tagged: Vec<&String> = features[&target.feature]
                .iter()
                .filter(|s| s.tags.contains(&target.id))
                .map(|s| &s.sha256)
                .collect();
            scenarios.push(ScenarioFingerprint {
                feature: relative(&target.feature, root),
                tag: target.id.clone(),
                sha256: match tagged[..] {
                    [one] => Some(one.clone()),
                    _ => None,
                },
            });
        }
        out.push(ItemFingerprint {
            id: item
                .scenarios
                .first()
                .map_or_else(|| format!("item-{}", n + 1), |s| s.id.clone()),
            text: item.text,
            line: item.line,
            sha256: sha256_hex(&item.source),
            manual: item.manual,
            scenarios,
        });
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(Checklist {
        line: range.start - 1,
        items: out,
    }))
}

/// `/`-separated, relative to the root when under it: records move between machines.
pub fn relative(path: &Path, root: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEATURE: &str = "Feature: KC\n  Background:\n    Given a realm\n\n  @admin-role\n  Scenario: Alice is admin\n    When alice logs in\n    Then her role is admin\n\n  @other\n  Scenario: Other\n    Then something\n";
    const RUNBOOK: &str = "# KC\n\nSome prose.\n\n## Validation checklist\n\n- [ ] Alice is admin. [proof](../features/kc.feature#admin-role)\n- [ ] Store tokens is off. [manual]\n\nSign-off: ___ (operator) on ___ (date).\n";

    fn fingerprint(dir: &Path, runbook: &str) -> Checklist {
        let doc = Document::parse(runbook);
        let sections = Sections {
            checklist: "Validation checklist",
            troubleshooting: "Troubleshooting",
            manual_marker: "[manual]",
        };
        checklist(&doc, runbook, &dir.join("runbooks/kc.md"), dir, &sections)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn items_and_scenarios_hash_what_they_say_and_nothing_around_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("features")).unwrap();
        let feature = dir.path().join("features/kc.feature");
        std::fs::write(&feature, FEATURE).unwrap();
        let before = fingerprint(dir.path(), RUNBOOK);
        assert_eq!(before.line, 5);
        let ids: Vec<&str> = before.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["admin-role", "item-2"]);
        assert!(before.items[1].manual);
        assert_eq!(before.items[0].scenarios[0].feature, "features/kc.feature");
        assert!(before.items[0].scenarios[0].sha256.is_some());

        // Prose, other scenarios, comments and indentation change no hash.
        let prose = fingerprint(
            dir.path(),
            &RUNBOOK.replace("Some prose.", "Other prose.\n\nMore."),
        );
        assert_eq!(prose.sha256(), before.sha256());
        std::fs::write(
            &feature,
            FEATURE
                .replace("Then something", "Then something else")
                .replace("    When alice", "  # why\n      When alice"),
        )
        .unwrap();
        assert_eq!(fingerprint(dir.path(), RUNBOOK).items, before.items);

        // The item's text, its binding, its scenario or the background do.
        let edited = fingerprint(
            dir.path(),
            &RUNBOOK.replace("Alice is admin.", "Alice is an admin."),
        );
        assert_ne!(edited.items[0].sha256, before.items[0].sha256);
        assert_eq!(edited.items[1].sha256, before.items[1].sha256);
        let rebound = fingerprint(dir.path(), &RUNBOOK.replace("#admin-role", "#other"));
        assert_ne!(rebound.items[0].sha256, before.items[0].sha256);
        std::fs::write(
            &feature,
            FEATURE.replace("her role is admin", "her role is user"),
        )
        .unwrap();
        assert_ne!(
            fingerprint(dir.path(), RUNBOOK).items[0].scenarios[0].sha256,
            before.items[0].scenarios[0].sha256
        );
        std::fs::write(
            &feature,
            FEATURE.replace("Given a realm", "Given another realm"),
        )
        .unwrap();
        assert_ne!(
            fingerprint(dir.path(), RUNBOOK).items[0].scenarios[0].sha256,
            before.items[0].scenarios[0].sha256
        );
    }
}
