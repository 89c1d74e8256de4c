//! One Markdown file reduced to what the checks need: headings and their GitHub anchors,
//! explicit HTML anchors, links with their positions, reference definitions and task items.
//!
//! The text itself is not kept: on a large corpus only this summary stays in memory, and the
//! source line of a diagnostic is read back when one is reported.

use std::collections::HashSet;
use std::ops::Range;

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
}

#[derive(Debug, Default)]
pub struct Document {
    pub headings: Vec<Heading>,
    /// Every valid fragment target: heading anchors plus explicit `name`/`id` anchors.
    pub anchors: HashSet<String>,
    pub links: Vec<Link>,
    pub definitions: Vec<ReferenceDefinition>,
    pub undefined_references: Vec<UndefinedReference>,
    pub tasks: Vec<TaskItem>,
    pub line_count: usize,
}

impl Document {
    /// Parses a Markdown source. Never fails: any byte sequence is some Markdown.
    pub fn parse(source: &str) -> Document {
        let lines = LineIndex::new(source);
        let mut doc = Document { line_count: lines.starts.len(), ..Document::default() };
        let mut broken: Vec<(Range<usize>, String, LinkType)> = Vec::new();
        let callback = |link: BrokenLink<'_>| {
            broken.push((link.span.clone(), link.reference.to_string(), link.link_type));
            None
        };
        let parser = Parser::new_with_broken_link_callback(source, options(), Some(callback));

        let definitions: Vec<(String, String, usize)> = parser
            .reference_definitions()
            .iter()
            .map(|(label, def)| (label.to_string(), def.dest.to_string(), def.span.start))
            .collect();
        let mut used_labels: HashSet<String> = HashSet::new();

        let mut slugger = Slugger::default();
        let mut heading: Option<(u8, usize, String)> = None;
        let mut image_depth = 0usize;
        let mut html_fragments: Vec<&str> = Vec::new();

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
                        doc.headings.push(Heading { level, text, anchor, position, attribute_id });
                    }
                }
                Event::Start(tag @ (Tag::Link { .. } | Tag::Image { .. })) => {
                    let image = matches!(tag, Tag::Image { .. });
                    let (Tag::Link { link_type, dest_url, id, .. }
                    | Tag::Image { link_type, dest_url, id, .. }) = tag
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
                                target: dest_url.to_string(),
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
                Event::Html(html) | Event::InlineHtml(html) => {
                    if html_anchors::may_hold_anchor(&html) {
                        html_fragments.push(&source[range]);
                    }
                }
                Event::TaskListMarker(checked) => {
                    doc.tasks.push(TaskItem { checked, line: lines.line_of(range.start) });
                }
                _ => {}
            }
        }

        for (range, label, link_type) in broken {
            // A bare `[text]` is ordinary prose far more often than a forgotten definition,
            // so only the unambiguous `[text][label]` and `[label][]` forms are reported.
            // The callback reports the form as written (`Reference`, `Collapsed`, `Shortcut`).
            if matches!(link_type, LinkType::Reference | LinkType::Collapsed) {
                doc.undefined_references
                    .push(UndefinedReference { label, position: lines.position(source, range) });
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
        doc.definitions.sort_by_key(|d| (d.position.line, d.position.column));
        if !html_fragments.is_empty() {
            doc.anchors.extend(html_anchors::anchors(&html_fragments.concat()));
        }
        doc
    }
}

fn options() -> Options {
    // GitHub Flavored Markdown, without heading attributes: GitHub does not honour `{#id}`.
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
    label.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Byte offsets of line starts, to turn offsets into line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
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
        let line_end = source[line_start..].find('\n').map_or(source.len(), |i| line_start + i);
        let start = range.start.min(line_end);
        let end = range.end.clamp(start, line_end);
        let column = source[line_start..start].chars().count() + 1;
        let width = source[start..end].chars().count().max(1);
        Position { line, column, width }
    }
}
