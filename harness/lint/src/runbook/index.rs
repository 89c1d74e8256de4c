//! The index runbook links every runbook in its folder, and only runbooks that exist.

use std::collections::BTreeSet;
use std::path::Path;

use crate::diagnostic::{Diagnostic, FILE_START};
use crate::document::{Document, Place};
use crate::fs_index::{EntryKind, FsIndex};
use crate::links::is_markdown;
use crate::rules::Rule;
use crate::target::{self, Target};
use ssoproof_config::RunbookKind;

pub struct IndexFile<'a> {
    /// Absolute, normalized.
    pub path: &'a Path,
    /// Relative to the project root.
    pub relative: &'a Path,
    pub doc: &'a Document,
}

pub fn check(
    index: &IndexFile,
    root: &Path,
    kinds: &[RunbookKind],
    fs: &FsIndex,
    out: &mut Vec<Diagnostic>,
) {
    let Some(folder) = index.path.parent() else {
        return;
    };
    let relative_folder = index.relative.parent().unwrap_or(Path::new(""));
    let targets = index
        .doc
        .links
        .iter()
        .map(|l| (index.doc.target(l), Place::Span(l.span)))
        .chain(
            index
                .doc
                .definitions
                .iter()
                .map(|d| (d.target.as_str(), Place::At(d.position))),
        );

    let mut linked = BTreeSet::new();
    for (raw, place) in targets {
        let Target::Local { path, .. } = target::parse(raw) else {
            continue;
        };
        let Some(resolved) = target::resolve(&path, folder, root) else {
            continue;
        };
        if resolved.parent() != Some(folder) || !is_markdown(&resolved) {
            continue;
        }
        let Some(name) = resolved.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if fs.lookup(&resolved).is_none() {
            out.push(dangling(raw, name, place));
        }
        linked.insert(name.to_string());
    }

    let Some(listing) = fs.listing(folder) else {
        return;
    };
    let mut runbooks: Vec<&str> = listing
        .iter()
        .filter(|(name, kind)| **kind == EntryKind::File && is_markdown(Path::new(name.as_str())))
        .map(|(name, _)| name.as_str())
        .filter(|name| Some(*name) != index.path.file_name().and_then(|n| n.to_str()))
        .filter(|name| kinds.iter().any(|k| k.matches(&relative_folder.join(name))))
        .collect();
    runbooks.sort_unstable();
    let title = index
        .doc
        .headings
        .first()
        .map_or(Place::At(FILE_START), |h| Place::Span(h.span));
    for name in runbooks.into_iter().filter(|n| !linked.contains(*n)) {
        out.push(
            Diagnostic::new(
                Rule::IndexMissingEntry,
                FILE_START,
                format!("the index does not link the runbook `{name}`"),
            )
            .place(title)
            .help(format!(
                "add a row for `[{name}]({name})` to the index's comparison table"
            ))
            .target(name),
        );
    }
}

fn dangling(raw: &str, name: &str, place: Place) -> Diagnostic {
    Diagnostic::new(
        Rule::IndexDanglingEntry,
        FILE_START,
        format!("the index links `{name}`, which does not exist"),
    )
    .place(place)
    .help("remove the row, or restore the runbook")
    .target(raw)
}
