//! Rules for files the configuration marks as runbooks: review date, layout, checklist, index.

pub mod binding;
pub mod checklist;
pub mod date;
pub mod index;
pub mod layout;

use std::path::Path;

use super::document::{Document, Heading, Position};
use ssoproof_config::RunbookKind;

/// One runbook as the rules see it.
pub struct Runbook<'a> {
    /// Path relative to the project root, as the config's globs see it.
    pub relative: &'a Path,
    /// The source split into lines; `lines[0]` is line 1.
    pub lines: Vec<&'a str>,
    pub doc: &'a Document,
    pub kind: &'a RunbookKind,
}

impl Runbook<'_> {
    /// The runbook's H2 sections, in order.
    pub fn sections(&self) -> impl Iterator<Item = &Heading> {
        self.doc.headings.iter().filter(|h| h.level == 2)
    }

    /// The 1-based line range of the section under `heading`: up to the next heading of the same
    /// or a higher level, or the end of the file.
    pub fn section_lines(&self, heading: &Heading) -> std::ops::Range<usize> {
        let end = self
            .doc
            .headings
            .iter()
            .find(|h| h.position.line > heading.position.line && h.level <= heading.level)
            .map_or(self.doc.line_count + 1, |h| h.position.line);
        heading.position.line + 1..end
    }

    pub fn line(&self, number: usize) -> &str {
        number
            .checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .copied()
            .unwrap_or("")
    }
}

/// A whole-line position for findings about a line.
pub fn line_position(line: usize, text: &str) -> Position {
    Position {
        line,
        column: 1,
        width: text.chars().count().max(1),
    }
}
