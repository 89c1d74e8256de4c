//! One Markdown file reduced to what the checks need: headings and their GitHub anchors,
//! explicit HTML anchors, links with their positions, reference definitions and task items.
//!
//! The text itself is not kept: on a large corpus only this summary stays in memory, and the
//! source line of a diagnostic is read back when one is reported.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use pulldown_cmark::{
    BrokenLink, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use ssoproof_config::Renderer;

use super::diagnostic::Excerpt;
use super::html_anchors;
use super::slug::Anchors;

/// A position in a source file: 1-based line and column (in characters), and the span's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    /// Width of the highlighted span in characters, clipped to the end of its line.
    pub width: usize,
}

/// A byte span of a file's text (as [`Document::text`] reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// Where a diagnostic points: a known position, or a span whose position is computed only if
/// the diagnostic is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    At(Position),
    Span(Span),
}

#[derive(Debug, Clone)]
pub struct Heading {
    pub level: u8,
    /// The heading as GitHub renders it to text (code kept, image alt text and markup dropped).
    pub text: String,
    /// Shared with [`Document::anchors`]: each anchor is stored once.
    pub anchor: Arc<str>,
    /// Its bytes. Only runbook rules need a heading's line ([`LineIndex`]), so it is not worked
    /// out while every file is parsed.
    pub span: Span,
    /// The heading carries a `{#id}` attribute that the renderer does not honour (GitHub).
    pub attribute_id: Option<String>,
}

/// YAML front matter (Jekyll, Hugo, Docusaurus): a `---` first line up to a closing `---` or
/// `...` line. Renderers show it as metadata, never as Markdown.
#[derive(Debug, Clone)]
pub struct FrontMatter {
    /// Its last line (the closing delimiter); it starts on line 1.
    pub end_line: usize,
    /// A string `title:` key, which site generators use as the page's title.
    pub title: Option<String>,
}

/// A reference definition that an earlier one with the same label shadows (CommonMark keeps
/// the first).
#[derive(Debug, Clone)]
pub struct DuplicateDefinition {
    pub label: String,
    pub target: String,
    pub position: Position,
    /// The line of the definition that wins.
    pub first_line: usize,
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
    /// Where [`Document::target`] finds the destination in the document's target text: one
    /// string per document instead of an allocation per link.
    target: Range<u32>,
    /// Its line and column are only worked out from the span for a diagnostic.
    pub span: Span,
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
    /// The item's bytes, which hold its links.
    pub span: Span,
}

/// A table body row (header rows are not recorded); rows are always one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRow {
    pub line: usize,
    /// The row's bytes, which hold its links.
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Document {
    pub headings: Vec<Heading>,
    /// Every valid fragment target: heading anchors plus explicit `name`/`id` anchors.
    pub anchors: FxHashSet<Arc<str>>,
    pub links: Vec<Link>,
    /// The destinations of `links`, end to end.
    targets: String,
    pub definitions: Vec<ReferenceDefinition>,
    pub duplicate_definitions: Vec<DuplicateDefinition>,
    pub undefined_references: Vec<UndefinedReference>,
    pub tasks: Vec<TaskItem>,
    pub table_rows: Vec<TableRow>,
    pub front_matter: Option<FrontMatter>,
    /// Line ranges (inclusive) of HTML blocks holding only comments: they render as nothing.
    pub comment_blocks: Vec<(usize, usize)>,
}

impl Document {
    /// The destination of one of this document's links, as written (after Markdown
    /// unescaping, angle brackets removed).
    pub fn target(&self, link: &Link) -> &str {
        &self.targets[link.target.start as usize..link.target.end as usize]
    }

    /// Reads bytes as text: invalid UTF-8 becomes U+FFFD rather than an error, as GitHub shows it.
    pub fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Parses a Markdown source as GitHub renders it. Never fails: any byte sequence is some
    /// Markdown.
    pub fn parse(source: &str) -> Document {
        Document::parse_for(source, Renderer::Github)
    }

    /// Parses a Markdown source as `renderer` renders it.
    pub fn parse_for(source: &str, renderer: Renderer) -> Document {
        let front_matter = match renderer {
            Renderer::Github => front_matter(source),
            // mdBook renders a leading `---` block as Markdown (a rule and a heading).
            Renderer::Mdbook => None,
        };
        // Front matter is blanked out rather than cut off, so offsets stay those of the file.
        // (pulldown-cmark's metadata-block option is not used: it also takes `---` blocks in
        // the middle of a document, which GitHub renders as a rule and a heading.)
        let blanked;
        let markdown = match &front_matter {
            Some((end, _)) => {
                blanked = blank_out(source, *end);
                blanked.as_str()
            }
            None => source,
        };
        let mut lines = LineCursor::new(source);
        let mut doc = Document {
            front_matter: front_matter.map(|(end, title)| FrontMatter {
                end_line: lines.line_of(end.saturating_sub(1)),
                title,
            }),
            ..Document::default()
        };
        // Shared with the loop below, which only records link spans once a reference is broken.
        let broken: RefCell<Vec<(Range<usize>, String)>> = RefCell::new(Vec::new());
        // A bare `[text]` is ordinary prose far more often than a forgotten definition, so
        // only the unambiguous `[text][label]` and `[label][]` forms are kept (the callback
        // reports the form as written), and prose brackets cost no allocation.
        let callback = |link: BrokenLink<'_>| {
            if matches!(link.link_type, LinkType::Reference | LinkType::Collapsed) {
                broken
                    .borrow_mut()
                    .push((link.span.clone(), link.reference.into_string()));
            }
            None
        };
        let parser =
            Parser::new_with_broken_link_callback(markdown, options(renderer), Some(callback));

        let mut definitions: Vec<(String, String, usize)> = parser
            .reference_definitions()
            .iter()
            .map(|(label, def)| (label.to_owned(), def.dest.to_string(), def.span.start))
            .collect();
        // In document order, so that the line cursor moves forward (the map's order is not).
        definitions.sort_unstable_by_key(|(_, _, start)| *start);
        let candidates = if definitions.is_empty() {
            Vec::new()
        } else {
            shadow_candidates(markdown, &definitions, &lines)
        };
        // Labels as written borrow from the source: most need no normalizing and no copy.
        let mut used_labels: FxHashSet<Cow<'_, str>> = FxHashSet::default();

        let mut anchors = Anchors::new(renderer);
        let mut heading: Option<(u8, usize, String, Option<String>)> = None;
        let mut image_depth = 0usize;
        let mut html_fragments: Vec<&str> = Vec::new();
        // Open list items, each with its task marker once seen.
        let mut items: Vec<(Range<usize>, Option<bool>)> = Vec::new();
        let mut scratch = SCRATCH.take();
        let mut in_table_head = false;
        // Spans of parsed links, and of everything that renders as text: a reference definition
        // lies outside the latter.
        let mut link_spans: Vec<Range<usize>> = Vec::new();
        let mut text_spans: Vec<Range<usize>> = Vec::new();
        let mut html_block: Option<(usize, String)> = None;

        for (event, range) in parser.into_offset_iter() {
            // Only needed to find shadowed definitions, so only kept when one may exist.
            if !candidates.is_empty()
                && matches!(
                    event,
                    Event::Text(_) | Event::Code(_) | Event::Html(_) | Event::InlineHtml(_)
                )
            {
                text_spans.push(range.clone());
            }
            match event {
                Event::Start(Tag::Heading { level, id, .. }) => {
                    // Only parsed when the renderer honours `{#id}` (mdBook).
                    let id = id.map(|id| id.to_string());
                    // The source span almost always bounds the rendered text (markup only drops
                    // characters, references decode shorter), so the text is allocated once.
                    let text = String::with_capacity(range.len());
                    heading = Some((heading_level(level), range.start, text, id));
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, start, text, id)) = heading.take() {
                        let (anchor, attribute_id) = match id {
                            // An explicit id takes no part in numbering, as in mdBook.
                            Some(id) => {
                                let id: Arc<str> = id.into();
                                doc.anchors.insert(id.clone());
                                (id, None)
                            }
                            // Recorded by `anchors`, whose set joins `doc.anchors` at the end.
                            None => (anchors.next(&text), trailing_attribute_id(&text)),
                        };
                        scratch.headings.push(Heading {
                            level,
                            text,
                            anchor,
                            span: Span {
                                start,
                                end: range.end,
                            },
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
                    // A parsed link only matters when it overlaps a broken reference, which the
                    // callback has recorded by now: a paragraph's inlines are parsed whole
                    // before its first event.
                    if !broken.borrow().is_empty() {
                        link_spans.push(range.clone());
                    }
                    match link_type {
                        LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut => {
                            let label = match id {
                                CowStr::Borrowed(id) => normalize_label(id),
                                id => Cow::Owned(normalize_label(&id).into_owned()),
                            };
                            used_labels.insert(label);
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
                            // Offsets fit: input files are capped far below 4 GiB.
                            let start = scratch.targets.len() as u32;
                            scratch.targets.push_str(&dest_url);
                            scratch.links.push(Link {
                                kind,
                                target: start..scratch.targets.len() as u32,
                                span: Span {
                                    start: range.start,
                                    end: range.end,
                                },
                            });
                        }
                    }
                }
                Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
                Event::Text(text) | Event::Code(text) => {
                    if let Some((_, _, rendered, _)) = heading.as_mut() {
                        if image_depth == 0 {
                            rendered.push_str(&text);
                        }
                    }
                }
                Event::SoftBreak | Event::HardBreak => {
                    if let Some((_, _, rendered, _)) = heading.as_mut() {
                        rendered.push('\n');
                    }
                }
                Event::Start(Tag::HtmlBlock) => html_block = Some((range.start, String::new())),
                Event::End(TagEnd::HtmlBlock) => {
                    if let Some((start, html)) = html_block.take() {
                        let html = html.trim();
                        if html.starts_with("<!--") && html.ends_with("-->") {
                            let last = range.end.saturating_sub(1).max(start);
                            doc.comment_blocks
                                .push((lines.line_of(start), lines.line_of(last)));
                        }
                    }
                }
                Event::Html(html) | Event::InlineHtml(html) => {
                    if let Some((_, block)) = html_block.as_mut() {
                        block.push_str(&html);
                    }
                    if html_anchors::may_hold_anchor(&html) {
                        html_fragments.push(&markdown[range]);
                    }
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
                            span: Span {
                                start: item.start,
                                end: item.end,
                            },
                        });
                    }
                }
                Event::Start(Tag::TableHead) => in_table_head = true,
                Event::End(TagEnd::TableHead) => in_table_head = false,
                Event::Start(Tag::TableRow) if !in_table_head => {
                    doc.table_rows.push(TableRow {
                        line: lines.line_of(range.start),
                        span: Span {
                            start: range.start,
                            end: range.end,
                        },
                    });
                }
                _ => {}
            }
        }

        for (range, label) in broken.into_inner() {
            // In `[Bob][ text](url)` the second brackets became an inline link: GitHub shows
            // `[Bob]` and a working link, so a span that overlaps a parsed link is no reference.
            let overlaps_link = link_spans
                .iter()
                .any(|l| l.start < range.end && range.start < l.end);
            if !overlaps_link {
                doc.undefined_references.push(UndefinedReference {
                    label,
                    position: lines.position(source, range),
                });
            }
        }
        if !candidates.is_empty() {
            doc.duplicate_definitions = duplicate_definitions(
                markdown,
                renderer,
                &definitions,
                &candidates,
                &text_spans,
                &mut lines,
            );
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
        let mut all = anchors.into_set();
        all.extend(std::mem::take(&mut doc.anchors));
        doc.anchors = all;
        if !html_fragments.is_empty() {
            doc.anchors.extend(
                html_anchors::anchors(&html_fragments.concat())
                    .into_iter()
                    .map(Arc::from),
            );
        }
        scratch.move_into(&mut doc);
        SCRATCH.set(scratch);
        doc
    }
}

/// The growing parts of a [`Document`], built in buffers each thread reuses from file to file
/// and then copied out at their exact size: one allocation per part instead of a reallocation
/// at every doubling, and no spare capacity kept for the rest of the run.
#[derive(Default)]
struct Scratch {
    headings: Vec<Heading>,
    links: Vec<Link>,
    targets: String,
}

impl Scratch {
    fn move_into(&mut self, doc: &mut Document) {
        doc.headings = self.headings.drain(..).collect();
        doc.links = self.links.drain(..).collect();
        doc.targets = self.targets.as_str().into();
        self.targets.clear();
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// The end offset of YAML front matter (just past its closing line) and its `title`, when the
/// file starts with one: `---` alone on the first line, closed by a `---` or `...` line.
fn front_matter(source: &str) -> Option<(usize, Option<String>)> {
    let body = source.strip_prefix('\u{feff}').unwrap_or(source);
    let skipped = source.len() - body.len();
    let mut lines = body.split_inclusive('\n');
    let opening = lines.next()?;
    if opening.trim_end() != "---" {
        return None;
    }
    let yaml_start = skipped + opening.len();
    let mut end = yaml_start;
    for line in lines {
        let yaml_end = end;
        end += line.len();
        if matches!(line.trim_end(), "---" | "...") {
            return Some((end, front_matter_title(&source[yaml_start..yaml_end])));
        }
    }
    None
}

fn front_matter_title(yaml: &str) -> Option<String> {
    // Invalid YAML still is front matter to the site generator (which then fails); it just
    // names no title here.
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).ok()?;
    let title = value.get("title")?.as_str()?.trim();
    (!title.is_empty()).then(|| title.to_string())
}

/// `source` with every character before `end` other than line breaks turned into a space.
fn blank_out(source: &str, end: usize) -> String {
    let mut out = String::with_capacity(source.len());
    out.extend(
        source[..end]
            .bytes()
            .map(|b| if b == b'\n' { '\n' } else { ' ' }),
    );
    // Multi-byte characters became one space per byte, so offsets are unchanged.
    out.push_str(&source[end..]);
    out
}

/// Where a definition that an earlier one shadows may start, and where the search for it ends:
/// a `[` opening a line (after any indentation or `>`) with a `]:` on it or on one of the three
/// lines after it (a definition's label may wrap), other than the definitions the parser kept.
/// Found from the `]:` (a vectorized search) rather than by visiting every line; usually there
/// are none, and then the parse loop records no text spans at all.
fn shadow_candidates(
    markdown: &str,
    definitions: &[(String, String, usize)],
    lines: &LineCursor<'_>,
) -> Vec<(usize, usize)> {
    // The parser keeps the first definition of each label: those cannot shadow themselves.
    let kept: FxHashSet<usize> = definitions.iter().map(|(_, _, start)| *start).collect();
    let bytes = markdown.as_bytes();
    let line_start = |offset: usize| memchr::memrchr(b'\n', &bytes[..offset]).map_or(0, |i| i + 1);
    let mut starts = Vec::new();
    for hit in memchr::memmem::find_iter(bytes, b"]:") {
        // The hit's own line and the three before it.
        let mut line = line_start(hit);
        for _ in 0..4 {
            let text = &markdown[line..];
            let body = text.trim_start_matches([' ', '\t', '>']);
            let start = line + (text.len() - body.len());
            if body.starts_with('[') && start <= hit && !kept.contains(&start) {
                starts.push(start);
            }
            if line == 0 {
                break;
            }
            line = line_start(line - 1);
        }
    }
    starts.sort_unstable();
    starts.dedup();
    starts
        .into_iter()
        // A definition may wrap its destination and title onto the next lines.
        .map(|start| (start, lines.after_lines(start, 4)))
        .collect()
}

/// Definitions that a first one with the same label shadows. The parser keeps only the first,
/// so the others are found again: a candidate line start outside everything that rendered as
/// text, which parses on its own as a definition of an already defined label.
fn duplicate_definitions(
    markdown: &str,
    renderer: Renderer,
    definitions: &[(String, String, usize)],
    candidates: &[(usize, usize)],
    text_spans: &[Range<usize>],
    lines: &mut LineCursor<'_>,
) -> Vec<DuplicateDefinition> {
    let first: FxHashMap<Cow<'_, str>, usize> = definitions
        .iter()
        .map(|(label, _, start)| (normalize_label(label), *start))
        .collect();
    let mut found = Vec::new();
    for &(start, slice_end) in candidates {
        // Spans are in document order: the last one starting at or before `start` is the only
        // one that can cover it.
        let covered = text_spans
            .partition_point(|s| s.start <= start)
            .checked_sub(1)
            .is_some_and(|i| text_spans[i].end > start);
        if covered {
            continue;
        }
        let alone = Parser::new_ext(&markdown[start..slice_end], options(renderer));
        let Some((label, def)) = alone
            .reference_definitions()
            .iter()
            .find(|(_, def)| def.span.start == 0)
        else {
            continue;
        };
        let Some(&winner) = first.get(&normalize_label(label)) else {
            continue;
        };
        if winner != start {
            found.push(DuplicateDefinition {
                label: label.to_string(),
                target: def.dest.to_string(),
                position: lines.position(markdown, start..start + def.span.end),
                first_line: lines.line_of(winner),
            });
        }
    }
    found
}

/// The parser options for `renderer`; public for the parse-floor benchmark
/// (`examples/parse_floor.rs`), which must parse exactly as the linter does.
pub fn options(renderer: Renderer) -> Options {
    // GitHub Flavored Markdown, without heading attributes: GitHub does not honour `{#id}`.
    let gfm = Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM;
    match renderer {
        Renderer::Github => gfm,
        // mdBook's defaults (mdbook-markdown): heading attributes and smart punctuation, which
        // turns `--` into a dash that ids then drop.
        Renderer::Mdbook => {
            gfm | Options::ENABLE_HEADING_ATTRIBUTES | Options::ENABLE_SMART_PUNCTUATION
        }
    }
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
pub fn normalize_label(label: &str) -> Cow<'_, str> {
    // Most labels are already normal: lower-case ASCII words with single spaces.
    let bytes = label.as_bytes();
    let plain = bytes
        .iter()
        .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() || *b == b' ')
        && !label.starts_with(' ')
        && !label.ends_with(' ')
        && !label.contains("  ");
    if plain {
        return Cow::Borrowed(label);
    }
    Cow::Owned(
        label
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
    )
}

/// Lines of one text by byte offset, with a table of line starts: for the few files whose
/// rules ask about many places in any order (runbooks). Positions agree with [`LineCursor`]'s.
pub struct LineIndex<'a> {
    source: &'a str,
    /// Offsets where lines start: 0, and just past every newline.
    starts: Vec<usize>,
    /// The greatest offset asked about: a final newline starts no line of its own.
    last: usize,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> LineIndex<'a> {
        let bytes = source.as_bytes();
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1))
            .collect();
        LineIndex {
            source,
            starts,
            last: bytes.len() - usize::from(bytes.last() == Some(&b'\n')),
        }
    }

    /// The 1-based line holding `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.last);
        self.starts.partition_point(|&s| s <= offset)
    }

    /// The position of `span`, clipped to the end of its first line.
    pub fn position(&self, span: Span) -> Position {
        let line = self.line_of(span.start);
        let line_start = self.starts[line - 1];
        let (start, width) = start_and_width(self.source, self.last, span.start..span.end);
        Position {
            line,
            column: char_count(&self.source[line_start.min(start)..start]) + 1,
            width,
        }
    }
}

/// Turns byte offsets into line and column by moving from the offset asked for last, counting
/// the newlines in between. The parse asks in nearly increasing order, so no table of line
/// starts is built: on a large tree that table cost more than the positions a file needs.
pub(crate) struct LineCursor<'a> {
    source: &'a str,
    bytes: &'a [u8],
    /// The greatest offset asked about: a final newline starts no line of its own.
    last: usize,
    offset: usize,
    /// The 1-based line holding `offset`, and where that line starts.
    line: usize,
    line_start: usize,
    /// The last column worked out, as (offset, column) on the line starting at `line_start`:
    /// columns further along the same line count on from it, so many diagnostics on one long
    /// line cost time linear in its length, not quadratic.
    column: (usize, usize),
}

impl<'a> LineCursor<'a> {
    pub(crate) fn new(source: &'a str) -> LineCursor<'a> {
        let bytes = source.as_bytes();
        let last = bytes.len() - usize::from(bytes.last() == Some(&b'\n'));
        LineCursor {
            source,
            bytes,
            last,
            offset: 0,
            line: 1,
            line_start: 0,
            column: (0, 1),
        }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        let newlines = |bytes: &[u8]| memchr::memchr_iter(b'\n', bytes).count();
        let offset = offset.min(self.last);
        if offset >= self.offset {
            let gap = &self.bytes[self.offset..offset];
            // Mostly the same line as the last offset: then one search answers.
            if let Some(i) = memchr::memrchr(b'\n', gap) {
                self.line += 1 + newlines(&gap[..i]);
                self.line_start = self.offset + i + 1;
            }
        } else {
            let crossed = newlines(&self.bytes[offset..self.offset]);
            if crossed > 0 {
                self.line -= crossed;
                self.line_start =
                    memchr::memrchr(b'\n', &self.bytes[..offset]).map_or(0, |i| i + 1);
            }
        }
        self.offset = offset;
        self.line
    }

    /// The position of `range` in `source` (the text the cursor reads, or one with the same
    /// line breaks), clipped to the end of its first line.
    fn position(&mut self, source: &str, range: Range<usize>) -> Position {
        let line = self.line_of(range.start);
        let (start, width) = start_and_width(source, self.last, range);
        let (from, counted) = match self.column {
            (offset, column) if offset >= self.line_start && offset <= start => (offset, column),
            _ => (self.line_start, 1),
        };
        let column = counted + char_count(&source[from..start]);
        self.column = (start, column);
        Position {
            line,
            column,
            width,
        }
    }

    /// The position of `span` in the text the cursor reads, the one it was taken from.
    pub(crate) fn span(&mut self, span: Span) -> Position {
        self.position(self.source, span.start..span.end)
    }

    /// The excerpt for the position just worked out for the span starting at `at`: the
    /// cursor's line whole, or a window of it around `at` when it is longer than
    /// [`Excerpt::MAX_BYTES`]. Only a bounded stretch of the line is ever scanned.
    pub(crate) fn excerpt(&self, at: usize, column: usize) -> Excerpt {
        let bytes = self.bytes;
        let end_of_line = |from: usize, limit: usize| {
            let stop = limit.min(bytes.len());
            memchr::memchr(b'\n', &bytes[from..stop]).map(|i| from + i)
        };
        let whole =
            end_of_line(self.line_start, self.line_start + Excerpt::MAX_BYTES + 1).or_else(|| {
                (bytes.len() <= self.line_start + Excerpt::MAX_BYTES).then_some(bytes.len())
            });
        let (start, end) = match whole {
            Some(end) => (self.line_start, end),
            None => {
                let half = Excerpt::MAX_BYTES / 2;
                let at = at.clamp(self.line_start, bytes.len());
                let start =
                    floor_boundary(self.source, at.saturating_sub(half).max(self.line_start));
                let end = end_of_line(at, at + half)
                    .unwrap_or_else(|| floor_boundary(self.source, (at + half).min(bytes.len())));
                (start, end)
            }
        };
        let text = &self.source[start..end];
        let text = text.strip_suffix('\r').unwrap_or(text);
        let before = char_count(&self.source[start..at.clamp(start, end)]);
        Excerpt {
            text: text.to_string(),
            first_column: column.saturating_sub(before).max(1),
        }
    }

    /// The offset just past the `n`th newline at or after `offset`, or the end of the file.
    fn after_lines(&self, offset: usize, n: usize) -> usize {
        memchr::memchr_iter(b'\n', &self.bytes[offset..])
            .nth(n - 1)
            .map_or(self.bytes.len(), |i| offset + i + 1)
    }
}

/// Characters in `text`; most lines are ASCII, where the byte length is the answer and the
/// word-at-a-time ASCII check is cheaper than counting on short spans.
/// Where a span starts in `source` (clamped to it) and its width in characters, at least 1:
/// the span stops at its line's newline, and the last line (before `last`, the final newline's
/// offset) runs to the end of the file.
fn start_and_width(source: &str, last: usize, range: Range<usize>) -> (usize, usize) {
    let start = range.start.min(source.len());
    let end = range.end.clamp(start, source.len());
    let end = match memchr::memchr(b'\n', &source.as_bytes()[start..end]) {
        Some(i) if start + i < last => start + i,
        _ => end,
    };
    (start, char_count(&source[start..end]).max(1))
}

/// The nearest character boundary at or before `offset`.
fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn char_count(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_places_spans_as_the_cursor_does() {
        for source in [
            "",
            "a",
            "a\n",
            "a\n\nb",
            "é\r\nxy\n",
            "\n\n",
            "# T\n\nx ü [l](y)\n",
        ] {
            let index = LineIndex::new(source);
            for start in (0..=source.len()).filter(|&i| source.is_char_boundary(i)) {
                for end in (start..=source.len()).filter(|&i| source.is_char_boundary(i)) {
                    let span = Span { start, end };
                    assert_eq!(
                        index.position(span),
                        LineCursor::new(source).span(span),
                        "{source:?} {start}..{end}"
                    );
                }
            }
        }
    }

    #[test]
    fn labels_normalize_as_commonmark_says() {
        // The definition: case-folded, inner white space runs collapsed, ends trimmed.
        let reference = |label: &str| {
            label
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        for label in [
            "",
            "a",
            "okta docs",
            "Okta Docs",
            " a",
            "a ",
            "a  b",
            "a\tb",
            "a\nb",
            "ΑΣ",
            "Σ word ΟΔΟΣ",
            "x-y_z.1",
            " ",
            "é",
            "A  B  ",
        ] {
            assert_eq!(normalize_label(label), reference(label), "{label:?}");
        }
        assert!(matches!(normalize_label("okta docs"), Cow::Borrowed(_)));
    }

    fn anchors(source: &str) -> Vec<String> {
        Document::parse(source)
            .headings
            .into_iter()
            .map(|h| h.anchor.to_string())
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
        let mut all: Vec<_> = doc.anchors.iter().map(|a| a.to_string()).collect();
        all.sort();
        assert_eq!(all, ["a", "a-1", "box"]);
    }

    #[test]
    fn heading_attributes_are_text_on_github() {
        let doc = Document::parse("## Install {#setup}\n");
        assert_eq!(&*doc.headings[0].anchor, "install-setup");
        assert_eq!(doc.headings[0].attribute_id.as_deref(), Some("setup"));
    }

    #[test]
    fn links_in_code_are_ignored() {
        let doc = Document::parse(
            "`[a](x.md)`\n\n```\n[b](y.md)\n```\n\n    [c](z.md)\n\n[d](real.md)\n",
        );
        let targets: Vec<_> = doc.links.iter().map(|l| doc.target(l)).collect();
        assert_eq!(targets, ["real.md"]);
    }

    #[test]
    fn link_forms_and_positions() {
        let source = "x [t](<a b.md> \"title\") ![i](img.png) <https://e.test>\n[r][lbl] [lbl][] [undef][nope]\n\n[lbl]: r.md#frag\n[spare]: s.md\n";
        let doc = Document::parse(source);
        let links: Vec<_> = doc
            .links
            .iter()
            .map(|l| {
                (
                    l.kind,
                    doc.target(l),
                    LineCursor::new(source).span(l.span).column,
                )
            })
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
        let source = "- [ ] one line\n- [ ] wraps\n  onto a second line\n- plain\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n";
        let doc = Document::parse(source);
        let tasks: Vec<_> = doc.tasks.iter().map(|t| (t.line, t.end_line)).collect();
        assert_eq!(tasks, [(1, 1), (2, 3)]);
        let rows: Vec<_> = doc
            .table_rows
            .iter()
            .map(|r| (r.line, &source[r.span.start..r.span.end]))
            .collect();
        assert_eq!(rows, [(8, "| 1 | 2 |\n"), (9, "| 3 | 4 |\n")]);
    }

    #[test]
    fn line_cursor_moves_both_ways() {
        for source in ["", "a", "a\n", "\n", "ab\ncd\n\nef", "x\ny\n\n"] {
            let mut lines = LineCursor::new(source);
            // Every offset forward, then backward: the line is the count of newlines before the
            // offset, plus one, with a final newline starting no line.
            let offsets: Vec<usize> = (0..=source.len()).chain((0..=source.len()).rev()).collect();
            for offset in offsets {
                let last = source.len() - usize::from(source.ends_with('\n'));
                let expected = 1 + source[..offset.min(last)].matches('\n').count();
                assert_eq!(lines.line_of(offset), expected, "{source:?} at {offset}");
            }
        }
        let mut lines = LineCursor::new("ab\ncdé f\n");
        let p = lines.position("ab\ncdé f\n", 7..9);
        assert_eq!((p.line, p.column, p.width), (2, 4, 2));
        let p = lines.position("ab\ncdé f\n", 1..2);
        assert_eq!((p.line, p.column, p.width), (1, 2, 1));
    }

    #[test]
    fn columns_count_characters() {
        let source = "héllo wörld [x](y.md)\n";
        let doc = Document::parse(source);
        assert_eq!(LineCursor::new(source).span(doc.links[0].span).column, 13);
    }

    #[test]
    fn front_matter_is_not_markdown() {
        let source = "---\ntitle: \"Rotate: the keys\"\ntags: [a]\n---\n\n# Body\n";
        let doc = Document::parse(source);
        let front = doc.front_matter.as_ref().expect("front matter");
        assert_eq!(front.end_line, 4);
        assert_eq!(front.title.as_deref(), Some("Rotate: the keys"));
        assert_eq!(anchors(source), ["body"]);
        assert_eq!(
            LineIndex::new(source).line_of(doc.headings[0].span.start),
            6
        );
        // Closed by `...`, no title, and a byte-order mark first.
        let doc = Document::parse("\u{feff}---\nweight: 2\n...\n## After\n");
        assert_eq!(doc.front_matter.as_ref().map(|f| f.end_line), Some(3));
        assert!(doc.front_matter.unwrap().title.is_none());
        // Unclosed, or not on the first line: Markdown, as GitHub renders it.
        assert!(Document::parse("---\ntitle: x\n").front_matter.is_none());
        assert_eq!(anchors("Intro\n\n---\ntitle: x\n---\n"), ["title-x"]);
        // mdBook has no front matter.
        let doc = Document::parse_for("---\ntitle: x\n---\n", Renderer::Mdbook);
        assert!(doc.front_matter.is_none());
    }

    #[test]
    fn comment_only_html_blocks_are_recorded() {
        let doc = Document::parse(
            "# T\n\n<!--\n  owner: x\n-->\n\n<!-- a --> <b>shown</b>\n\n<div>x</div>\n",
        );
        assert_eq!(doc.comment_blocks, [(3, 5)]);
    }

    #[test]
    fn adjacent_brackets_before_an_inline_link_are_prose() {
        let doc = Document::parse("Thanks [Bob][ text](https://x.test) and [a][nope].\n");
        let labels: Vec<_> = doc
            .undefined_references
            .iter()
            .map(|r| r.label.as_str())
            .collect();
        assert_eq!(labels, ["nope"]);
        assert_eq!(doc.target(&doc.links[0]), "https://x.test");
    }

    #[test]
    fn shadowed_definitions_are_found() {
        let source = "[a] [b]\n\n[a]: one.md\n[ A ]: two.md\n> [b]: x.md\n\n```\n[a]: in-code.md\n```\n\n    [a]: indented-code.md\n\nText\n[a]: not a definition inside a paragraph\n\n[B]:\n  wrapped.md\n";
        let doc = Document::parse(source);
        let dups: Vec<_> = doc
            .duplicate_definitions
            .iter()
            .map(|d| {
                (
                    d.label.as_str(),
                    d.target.as_str(),
                    d.position.line,
                    d.first_line,
                )
            })
            .collect();
        assert_eq!(dups, [("A", "two.md", 4, 3), ("B", "wrapped.md", 16, 5)]);
    }

    #[test]
    fn mdbook_honours_heading_attributes() {
        let doc = Document::parse_for(
            "## Install {#setup .big}\n## Install\n## m² -- x\n",
            Renderer::Mdbook,
        );
        let got: Vec<_> = doc
            .headings
            .iter()
            .map(|h| (h.text.as_str(), &*h.anchor, h.attribute_id.is_some()))
            .collect();
        // Smart punctuation turns `--` into an en dash, which the id drops.
        assert_eq!(
            got,
            [
                ("Install", "setup", false),
                ("Install", "install", false),
                ("m² – x", "m²--x", false)
            ]
        );
    }
}
