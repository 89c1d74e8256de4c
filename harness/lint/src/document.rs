//! One Markdown file reduced to what the checks need: headings and their GitHub anchors,
//! explicit HTML anchors, links with their positions, reference definitions and task items.
//!
//! The text itself is not kept: on a large corpus only this summary stays in memory, and the
//! source line of a diagnostic is read back when one is reported.

use std::ops::Range;

use rustc_hash::FxHashSet;

use pulldown_cmark::{BrokenLink, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

use super::html_anchors;
use super::slug::Slugger;

/// A position in a source file: 1-based line and column (in characters), and the span's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    /// Width of the highlighted span in characters, clipped to the end of its line.
    pub width: usize,
}

#[derive(Debug, Clone)]
pub struct Heading {
    pub level: u8,
    /// The heading as GitHub renders it to text (code kept, image alt text and markup dropped).
    pub text: String,
    pub anchor: String,
    pub position: Position,
    /// The heading carries a `{#id}` attribute, which GitHub does not honour.
    pub attribute_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Inline,
    Image,
    Autolink,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub kind: LinkKind,
    /// The destination as written (after Markdown unescaping, angle brackets removed).
    pub target: String,
    pub position: Position,
}

#[derive(Debug, Clone)]
pub struct ReferenceDefinition {
    /// The label as written.
    pub label: String,
    pub target: String,
    pub position: Position,
    /// Whether any link in the file uses this definition.
    pub used: bool,
}

/// A reference-style link whose label has no definition.
#[derive(Debug, Clone)]
pub struct UndefinedReference {
    pub label: String,
    pub position: Position,
}

#[derive(Debug, Clone)]
pub struct TaskItem {
    pub checked: bool,
    pub line: usize,
    /// The item's last line: an item may wrap onto continuation lines.
    pub end_line: usize,
}

/// A table body row (header rows are not recorded); rows are always one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRow {
    pub line: usize,
}

#[derive(Debug, Default)]
pub struct Document {
    pub headings: Vec<Heading>,
    /// Every valid fragment target: heading anchors plus explicit `name`/`id` anchors.
    pub anchors: FxHashSet<String>,
    pub links: Vec<Link>,
    pub definitions: Vec<ReferenceDefinition>,
    pub undefined_references: Vec<UndefinedReference>,
    pub tasks: Vec<TaskItem>,
    pub table_rows: Vec<TableRow>,
    pub line_count: usize,
}

impl Document {
    /// Reads bytes as text: invalid UTF-8 becomes U+FFFD rather than an error, as GitHub shows it.
    pub fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Parses a Markdown source. Never fails: any byte sequence is some Markdown.
    pub fn parse(source: &str) -> Document {
        let lines = LineIndex::new(source);
        let mut doc = Document {
            line_count: lines.starts.len(),
            ..Document::default()
        };
        let mut broken: Vec<(Range<usize>, String, LinkType)> = Vec::new();
        let callback = |link: BrokenLink<'_>| {
            broken.push((
                link.span.clone(),
                link.reference.into_string(),
                link.link_type,
            ));
            None
        };
        let parser = Parser::new_with_broken_link_callback(source, options(), Some(callback));

        let definitions: Vec<(String, String, usize)> = parser
            .reference_definitions()
            .iter()
            .map(|(label, def)| (label.to_owned(), def.dest.to_string(), def.span.start))
            .collect();
        let mut used_labels: FxHashSet<String> = FxHashSet::default();

        let mut slugger = Slugger::default();
        let mut heading: Option<(u8, usize, String)> = None;
        let mut image_depth = 0usize;
        let mut html_fragments: Vec<&str> = Vec::new();
        // Open list items, each with its task marker once seen.
        let mut items: Vec<(Range<usize>, Option<bool>)> = Vec::new();
        let mut in_table_head = false;

        for (event, range) in parser.into_offset_iter() {
            match event {
                Event::Start(Tag::Heading { level, .. }) => {
                    heading = Some((heading_level(level), range.start, String::new()));
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, start, text)) = heading.take() {
                        let attribute_id = trailing_attribute_id(&text);
                        let anchor = slugger.next(&text);
                        doc.anchors.insert(anchor.clone());
                        let position = lines.position(source, start..range.end);
                        doc.headings.push(Heading {
                            level,
                            text,
                            anchor,
                            position,
                            attribute_id,
                        });
                    }
                }
                Event::Start(tag @ (Tag::Link { .. } | Tag::Image { .. })) => {
                    let image = matches!(tag, Tag::Image { .. });
                    let (Tag::Link {
                        link_type,
                        dest_url,
                        id,
                        ..
                    }
                    | Tag::Image {
                        link_type,
                        dest_url,
                        id,
                        ..
                    }) = tag
                    else {
                        continue;
                    };
                    if image {
                        image_depth += 1;
                    }
                    match link_type {
                        LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut => {
                            used_labels.insert(normalize_label(&id));
                        }
                        // Broken references were recorded by the callback; they carry no target.
                        LinkType::ReferenceUnknown
                        | LinkType::CollapsedUnknown
                        | LinkType::ShortcutUnknown
                        | LinkType::Email
                        | LinkType::WikiLink { .. } => {}
                        LinkType::Autolink | LinkType::Inline => {
                            let kind = match (link_type, image) {
                                (LinkType::Autolink, _) => LinkKind::Autolink,
                                (_, true) => LinkKind::Image,
                                _ => LinkKind::Inline,
                            };
                            doc.links.push(Link {
                                kind,
                                target: dest_url.into_string(),
                                position: lines.position(source, range),
                            });
                        }
                    }
                }
                Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
                Event::Text(text) | Event::Code(text) => {
                    if let Some((_, _, rendered)) = heading.as_mut() {
                        if image_depth == 0 {
                            rendered.push_str(&text);
                        }
                    }
                }
                Event::SoftBreak | Event::HardBreak => {
                    if let Some((_, _, rendered)) = heading.as_mut() {
                        rendered.push('\n');
                    }
                }
                Event::Html(html) | Event::InlineHtml(html)
                    if html_anchors::may_hold_anchor(&html) =>
                {
                    html_fragments.push(&source[range]);
                }
                Event::Start(Tag::Item) => items.push((range.clone(), None)),
                Event::TaskListMarker(checked) => {
                    if let Some((_, task)) = items.last_mut() {
                        *task = Some(checked);
                    }
                }
                Event::End(TagEnd::Item) => {
                    if let Some((item, Some(checked))) = items.pop() {
                        let line = lines.line_of(item.start);
                        // An item's range ends after its newline; step back onto its last line.
                        let end_line = lines.line_of(item.end.saturating_sub(1).max(item.start));
                        doc.tasks.push(TaskItem {
                            checked,
                            line,
                            end_line,
                        });
                    }
                }
                Event::Start(Tag::TableHead) => in_table_head = true,
                Event::End(TagEnd::TableHead) => in_table_head = false,
                Event::Start(Tag::TableRow) if !in_table_head => {
                    doc.table_rows.push(TableRow {
                        line: lines.line_of(range.start),
                    });
                }
                _ => {}
            }
        }

        for (range, label, link_type) in broken {
            // A bare `[text]` is ordinary prose far more often than a forgotten definition,
            // so only the unambiguous `[text][label]` and `[label][]` forms are reported.
            // The callback reports the form as written (`Reference`, `Collapsed`, `Shortcut`).
            if matches!(link_type, LinkType::Reference | LinkType::Collapsed) {
                doc.undefined_references.push(UndefinedReference {
                    label,
                    position: lines.position(source, range),
                });
            }
        }
        doc.definitions = definitions
            .into_iter()
            .map(|(label, target, start)| ReferenceDefinition {
                used: used_labels.contains(&normalize_label(&label)),
                position: lines.position(source, start..start + label.len() + 2),
                label,
                target,
            })
            .collect();
        doc.definitions
            .sort_by_key(|d| (d.position.line, d.position.column));
        if !html_fragments.is_empty() {
            doc.anchors
                .extend(html_anchors::anchors(&html_fragments.concat()));
        }
        doc
    }
}

/// The parser options: GitHub Flavored Markdown, without heading attributes (GitHub does not
/// honour `{#id}`). Public for the parse-floor benchmark (`examples/parse_floor.rs`).
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM
}

fn heading_level(level: HeadingLevel) -> u8 {
    level as u8
}

/// `{#custom-id}` at the end of a heading's text.
fn trailing_attribute_id(text: &str) -> Option<String> {
    let trimmed = text.trim_end();
    let inner = trimmed.strip_suffix('}')?;
    let start = inner.rfind("{#")?;
    let id = &inner[start + 2..];
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_string())
}

/// Reference labels match case-insensitively with runs of white space collapsed (CommonMark).
pub fn normalize_label(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Byte offsets of line starts, to turn offsets into line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', source.as_bytes()).map(|i| i + 1));
        if starts.len() > 1 && *starts.last().unwrap_or(&0) == source.len() {
            starts.pop();
        }
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }

    fn position(&self, source: &str, range: Range<usize>) -> Position {
        let line = self.line_of(range.start);
        let line_start = self.starts[line - 1];
        let line_end = self.starts.get(line).map_or(source.len(), |next| next - 1);
        let start = range.start.min(line_end);
        let end = range.end.clamp(start, line_end);
        let column = source[line_start..start].chars().count() + 1;
        let width = source[start..end].chars().count().max(1);
        Position {
            line,
            column,
            width,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors(source: &str) -> Vec<String> {
        Document::parse(source)
            .headings
            .into_iter()
            .map(|h| h.anchor)
            .collect()
    }

    #[test]
    fn heading_anchors_use_rendered_text() {
        let source = "\
# The `full.path` trap
## Logo ![alt text](img/a.png) here
## Fish &amp; Chips &#x26; more
## *Bold* and __strong__ move
## [Linked](x.md) heading
## Tab\there
## Non\u{a0}breaking
## 🚀 Launch
## m² and ½
## <span>Inline</span> html
## Trailing hashes ##
";
        assert_eq!(
            anchors(source),
            [
                "the-fullpath-trap",
                "logo--here",
                "fish--chips--more",
                "bold-and-strong-move",
                "linked-heading",
                "tabhere",
                "nonbreaking",
                "-launch",
                "m-and-",
                "inline-html",
                "trailing-hashes",
            ]
        );
    }

    #[test]
    fn duplicate_headings_and_setext() {
        assert_eq!(anchors("# A\n# A\n# A 1\n"), ["a", "a-1", "a-1-1"]);
        assert_eq!(anchors("Two\nlines\n===\n"), ["twolines"]);
    }

    #[test]
    fn explicit_anchors_do_not_take_part_in_numbering() {
        let doc = Document::parse("<a name=\"a\"></a>\n\n# A\n\n<div id=\"box\">x</div>\n\n# A\n");
        let mut all: Vec<_> = doc.anchors.iter().cloned().collect();
        all.sort();
        assert_eq!(all, ["a", "a-1", "box"]);
    }

    #[test]
    fn heading_attributes_are_text_on_github() {
        let doc = Document::parse("## Install {#setup}\n");
        assert_eq!(doc.headings[0].anchor, "install-setup");
        assert_eq!(doc.headings[0].attribute_id.as_deref(), Some("setup"));
    }

    #[test]
    fn links_in_code_are_ignored() {
        let doc = Document::parse(
            "`[a](x.md)`\n\n```\n[b](y.md)\n```\n\n    [c](z.md)\n\n[d](real.md)\n",
        );
        let targets: Vec<_> = doc.links.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(targets, ["real.md"]);
    }

    #[test]
    fn link_forms_and_positions() {
        let source = "x [t](<a b.md> \"title\") ![i](img.png) <https://e.test>\n[r][lbl] [lbl][] [undef][nope]\n\n[lbl]: r.md#frag\n[spare]: s.md\n";
        let doc = Document::parse(source);
        let links: Vec<_> = doc
            .links
            .iter()
            .map(|l| (l.kind, l.target.as_str(), l.position.column))
            .collect();
        assert_eq!(
            links,
            [
                (LinkKind::Inline, "a b.md", 3),
                (LinkKind::Image, "img.png", 25),
                (LinkKind::Autolink, "https://e.test", 39)
            ]
        );
        let defs: Vec<_> = doc
            .definitions
            .iter()
            .map(|d| (d.label.as_str(), d.target.as_str(), d.used, d.position.line))
            .collect();
        assert_eq!(
            defs,
            [("lbl", "r.md#frag", true, 4), ("spare", "s.md", false, 5)]
        );
        assert_eq!(doc.undefined_references.len(), 1);
        assert_eq!(doc.undefined_references[0].label, "nope");
        assert_eq!(doc.undefined_references[0].position.line, 2);
    }

    #[test]
    fn shortcut_brackets_are_prose() {
        let doc = Document::parse("Press [Enter] to continue.\n\n- [ ] a task\n- [x] done\n");
        assert!(doc.undefined_references.is_empty());
        assert_eq!(
            doc.tasks
                .iter()
                .map(|t| (t.checked, t.line))
                .collect::<Vec<_>>(),
            [(false, 3), (true, 4)]
        );
    }

    #[test]
    fn wrapped_task_items_and_table_rows() {
        let doc = Document::parse(
            "- [ ] one line\n- [ ] wraps\n  onto a second line\n- plain\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n",
        );
        let tasks: Vec<_> = doc.tasks.iter().map(|t| (t.line, t.end_line)).collect();
        assert_eq!(tasks, [(1, 1), (2, 3)]);
        assert_eq!(doc.table_rows, [TableRow { line: 8 }, TableRow { line: 9 }]);
    }

    #[test]
    fn columns_count_characters() {
        let doc = Document::parse("héllo wörld [x](y.md)\n");
        assert_eq!(doc.links[0].position.column, 13);
    }
}
