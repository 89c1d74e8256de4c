//! Rules for files the configuration marks as runbooks: review date, layout, checklist, index.

pub mod binding;
pub mod checklist;
pub mod date;
pub mod index;
pub mod layout;
pub mod signoff;

use std::path::Path;

use super::document::{Document, Heading, LineIndex, Position};
use ssoproof_config::RunbookKind;

/// One runbook as the rules see it.
pub struct Runbook<'a> {
    /// Path relative to the project root, as the config's globs see it.
    pub relative: &'a Path,
    pub source: &'a str,
    /// The source split into lines; `lines[0]` is line 1.
    pub lines: Vec<&'a str>,
    /// Where the lines start, for headings' lines.
    pub index: LineIndex<'a>,
    pub doc: &'a Document,
    pub kind: &'a RunbookKind,
}

impl<'a> Runbook<'a> {
    pub fn new(
        relative: &'a Path,
        source: &'a str,
        doc: &'a Document,
        kind: &'a RunbookKind,
    ) -> Self {
        Runbook {
            relative,
            source,
            lines: source.lines().collect(),
            index: LineIndex::new(source),
            doc,
            kind,
        }
    }

    /// The 1-based line a heading starts on.
    pub fn heading_line(&self, heading: &Heading) -> usize {
        self.index.line_of(heading.span.start)
    }

    /// Lines in the file (a final newline ends the last line rather than starting one).
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

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
            .find(|h| h.span.start > heading.span.start && h.level <= heading.level)
            .map_or(self.line_count() + 1, |h| self.heading_line(h));
        self.heading_line(heading) + 1..end
    }

    /// Whether line `number` renders as nothing: blank, front matter, or a comment-only HTML
    /// block (GitHub shows neither comments nor front matter as Markdown).
    pub fn unrendered(&self, number: usize) -> bool {
        self.line(number).trim().is_empty()
            || self
                .doc
                .front_matter
                .as_ref()
                .is_some_and(|f| number <= f.end_line)
            || self
                .doc
                .comment_blocks
                .iter()
                .any(|&(first, last)| (first..=last).contains(&number))
    }

    /// The first rendered line after line `after`, with its number.
    pub fn next_rendered(&self, after: usize) -> Option<(usize, &str)> {
        (after + 1..=self.line_count())
            .find(|&n| !self.unrendered(n))
            .map(|n| (n, self.line(n)))
    }

    /// The runbook's title: a `# Title` as its first rendered line, else a front-matter
    /// `title:`.
    pub fn title(&self) -> Option<Title<'_>> {
        let first = self.next_rendered(0).map(|(n, _)| n);
        let heading = self
            .doc
            .headings
            .first()
            .filter(|h| h.level == 1 && Some(self.heading_line(h)) == first);
        match (heading, &self.doc.front_matter) {
            (Some(heading), _) => Some(Title::Heading(heading)),
            (None, Some(front)) if front.title.is_some() => Some(Title::FrontMatter {
                end_line: front.end_line,
            }),
            _ => None,
        }
    }

    pub fn line(&self, number: usize) -> &str {
        number
            .checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .copied()
            .unwrap_or("")
    }
}

/// Where a runbook's title is written.
pub enum Title<'a> {
    Heading(&'a Heading),
    /// In front matter, which ends on `end_line`.
    FrontMatter {
        end_line: usize,
    },
}

impl Title<'_> {
    /// The line after which the runbook's content begins.
    pub fn last_line(&self, runbook: &Runbook) -> usize {
        match self {
            Title::Heading(h) => runbook.heading_line(h),
            Title::FrontMatter { end_line } => *end_line,
        }
    }

    /// Where findings about the title point: the heading, or the front matter's first line.
    pub fn position(&self, runbook: &Runbook) -> Position {
        match self {
            Title::Heading(h) => runbook.index.position(h.span),
            Title::FrontMatter { .. } => line_position(1, runbook.line(1)),
        }
    }

    /// How messages name the place right under the title.
    pub fn under(&self) -> &'static str {
        match self {
            Title::Heading(_) => "under the title",
            Title::FrontMatter { .. } => "after the front matter",
        }
    }

    /// Where to add a line that belongs right under the title.
    pub fn add_at(&self) -> &'static str {
        match self {
            Title::Heading(_) => "after a blank line under the title",
            Title::FrontMatter { .. } => "right after the front matter",
        }
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
