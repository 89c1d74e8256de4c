//! The checklist items and troubleshooting rows of a runbook, with what each is bound to.

use std::path::{Path, PathBuf};

use crate::document::{Document, Heading, LineIndex, Link, Place, Span};
use crate::target::{self, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    ChecklistItem,
    TroubleshootingRow,
}

/// A reference from an item to a scenario: `<feature file>#<scenario tag>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingTarget {
    /// The feature file, absolute and normalized.
    pub feature: PathBuf,
    /// The scenario tag the fragment names (without `@`).
    pub id: String,
    /// The link as written.
    pub raw: String,
    pub place: Place,
}

#[derive(Debug, Clone)]
pub struct BoundItem {
    pub kind: ItemKind,
    pub line: usize,
    /// The item's text as written, without the list marker or table pipes.
    pub text: String,
    pub scenarios: Vec<BindingTarget>,
    pub manual: bool,
    /// Its source lines joined, white space collapsed: what a sign-off hashes (text and links).
    pub source: String,
}

/// Which sections hold the bound items.
pub struct Sections<'a> {
    pub checklist: &'a str,
    pub troubleshooting: &'a str,
    pub manual_marker: &'a str,
}

/// The runbook's checklist items and troubleshooting rows, in document order.
pub fn items(
    doc: &Document,
    source: &str,
    file: &Path,
    root: &Path,
    sections: &Sections,
) -> Vec<BoundItem> {
    let dir = file.parent().unwrap_or(root);
    let lines: Vec<&str> = source.lines().collect();
    let index = LineIndex::new(source);
    let line = |n: usize| lines.get(n.wrapping_sub(1)).copied().unwrap_or("");
    let mut out = Vec::new();
    if let Some(range) = section_range(doc, &index, lines.len(), sections.checklist) {
        for task in doc.tasks.iter().filter(|t| range.contains(&t.line)) {
            let text: Vec<&str> = (task.line..=task.end_line).map(line).collect();
            out.push(item(
                ItemKind::ChecklistItem,
                task.line,
                task.span,
                &text.join(" "),
                doc,
                dir,
                root,
                sections,
            ));
        }
    }
    if let Some(range) = section_range(doc, &index, lines.len(), sections.troubleshooting) {
        for row in doc.table_rows.iter().filter(|r| range.contains(&r.line)) {
            out.push(item(
                ItemKind::TroubleshootingRow,
                row.line,
                row.span,
                line(row.line),
                doc,
                dir,
                root,
                sections,
            ));
        }
    }
    out.sort_by_key(|i| i.line);
    out
}

#[allow(clippy::too_many_arguments)]
fn item(
    kind: ItemKind,
    first: usize,
    span: Span,
    source: &str,
    doc: &Document,
    dir: &Path,
    root: &Path,
    sections: &Sections,
) -> BoundItem {
    let in_item = |l: &&Link| span.start <= l.span.start && l.span.start < span.end;
    let scenarios = doc
        .links
        .iter()
        .filter(in_item)
        .filter_map(|l| binding(doc.target(l), l.span, dir, root))
        .collect();
    BoundItem {
        kind,
        line: first,
        text: clean_text(source),
        scenarios,
        manual: source.contains(sections.manual_marker),
        source: source.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

fn binding(raw: &str, span: Span, dir: &Path, root: &Path) -> Option<BindingTarget> {
    let Target::Local { path, fragment } = target::parse(raw) else {
        return None;
    };
    if !path.ends_with(".feature") {
        return None;
    }
    Some(BindingTarget {
        feature: target::resolve(&path, dir, root)?,
        id: fragment.map(|f| f.into_owned()).unwrap_or_default(),
        raw: raw.to_string(),
        place: Place::Span(span),
    })
}

/// 1-based lines of the H2 section titled `title` (its heading is the line before).
pub(super) fn section_range(
    doc: &Document,
    lines: &LineIndex,
    line_count: usize,
    title: &str,
) -> Option<std::ops::Range<usize>> {
    let h2: Vec<&Heading> = doc.headings.iter().filter(|h| h.level == 2).collect();
    let at = h2.iter().position(|h| h.text == title)?;
    let start = lines.line_of(h2[at].span.start) + 1;
    let end = h2
        .get(at + 1)
        .map_or(line_count + 1, |h| lines.line_of(h.span.start));
    Some(start..end)
}

/// What a report shows of an item: a checklist item's text, or a troubleshooting row's first
/// cell (the symptom), without list markers and without the `[proof](…feature#…)` links.
fn clean_text(source: &str) -> String {
    let text = source.trim();
    let text = text
        .strip_prefix("- [ ]")
        .or_else(|| text.strip_prefix("- [x]"))
        .or_else(|| text.strip_prefix("* [ ]"))
        .unwrap_or(text);
    match text.trim().strip_prefix('|') {
        Some(_) => row_cells(text).into_iter().next().unwrap_or_default(),
        None => without_proofs(text),
    }
}

/// The cells of a table row (`| a | b |`), each without `[proof](…feature#…)` links and with
/// its whitespace collapsed.
pub fn row_cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row.strip_suffix('|').unwrap_or(row);
    row.split('|').map(without_proofs).collect()
}

fn without_proofs(text: &str) -> String {
    PROOF_LINK
        .replace_all(text, "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `[label](path.feature#tag)`: the binding links themselves.
static PROOF_LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\[[^\]]*\]\([^)\s]*\.feature(#[^)\s]*)?\)").expect("valid regex")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_items_rows_and_their_bindings() {
        let source = "# T\n\n## Troubleshooting\n\n| Symptom | Fix |\n|---|---|\n| `login_failed` [proof](../features/kc.feature#wrong-password) | Reset |\n| nothing | x |\n\n## Validation checklist\n\n- [ ] Alice is admin [proof](../features/kc.feature#admin-role).\n- [ ] Realm is not master [manual]\n- [ ] Unbound\n  wrapped [proof](../features/kc.feature#wrapped)\n\nSign-off: x\n";
        let doc = Document::parse(source);
        let lines: Vec<&str> = source.lines().collect();
        let sections = Sections {
            checklist: "Validation checklist",
            troubleshooting: "Troubleshooting",
            manual_marker: "[manual]",
        };
        let items = items(
            &doc,
            source,
            Path::new("/r/runbooks/kc.md"),
            Path::new("/r"),
            &sections,
        );
        let summary: Vec<_> = items
            .iter()
            .map(|i| {
                (
                    i.kind,
                    i.line,
                    i.scenarios
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>(),
                    i.manual,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    ItemKind::TroubleshootingRow,
                    7,
                    vec!["wrong-password"],
                    false
                ),
                (ItemKind::TroubleshootingRow, 8, vec![], false),
                (ItemKind::ChecklistItem, 12, vec!["admin-role"], false),
                (ItemKind::ChecklistItem, 13, vec![], true),
                (ItemKind::ChecklistItem, 14, vec!["wrapped"], false),
            ]
        );
        assert_eq!(
            items[0].scenarios[0].feature,
            PathBuf::from("/r/features/kc.feature")
        );
        assert_eq!(items[0].text, "`login_failed`");
        assert_eq!(items[1].text, "nothing");
        assert_eq!(items[2].text, "Alice is admin .");
        assert_eq!(items[4].text, "Unbound wrapped");
        assert_eq!(
            row_cells(lines[6]),
            ["`login_failed`", "Reset"],
            "cells without the proof links"
        );
    }
}
