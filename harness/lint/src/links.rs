//! Link integrity: files, directories, fragments, reference labels, insecure and local links.

use std::path::{Path, PathBuf};

use regex::bytes::RegexSet;

use super::diagnostic::Diagnostic;
use super::document::{Document, Position};
use super::fs_index::{key, EntryKind, FsIndex, PathMap};
use super::once_cache::OnceCache;
use super::rules::Rule;
use super::target::{self, Target};
use ssoproof_config::suggest::nearest;
use ssoproof_config::Pattern;

/// Markdown files whose anchors can be checked.
pub fn is_markdown(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["md", "markdown", "mdown", "mkd", "mkdn"]
            .iter()
            .any(|m| e.eq_ignore_ascii_case(m))
    })
}

/// GitHub shows the first of these in a directory, so a `dir/#frag` link lands in it.
const READMES: &[&str] = &[
    "README.md",
    "readme.md",
    "Readme.md",
    "README.markdown",
    "README",
];

/// Documents reached as link targets but not themselves checked: each is parsed at most once,
/// whichever thread asks first.
#[derive(Default)]
pub struct Targets {
    pub fs: FsIndex,
    parsed: OnceCache<PathBuf, Option<Document>>,
}

impl Targets {
    fn with_document<R>(
        &self,
        checked: &PathMap<Document>,
        path: &Path,
        f: impl FnOnce(&Document) -> R,
    ) -> Option<R> {
        if let Some(doc) = checked.get(key(path)) {
            return Some(f(doc));
        }
        let slot = self.parsed.get_or_load(&path.to_path_buf(), || {
            let bytes = std::fs::read(path).ok()?;
            Some(Document::parse(&Document::text(bytes)))
        });
        slot.get().and_then(Option::as_ref).map(f)
    }
}

/// `lint.local_path_patterns` compiled into one matcher, run on every link.
///
/// The globs' own regexes go into one `RegexSet`: `GlobSet::is_match` first builds a path
/// candidate (an allocation and a scan) per call, which on every link cost more than the
/// match itself. The destination is matched as written, the same on every platform.
pub struct LocalPathPatterns<'a> {
    patterns: &'a [Pattern],
    set: RegexSet,
}

impl<'a> LocalPathPatterns<'a> {
    pub fn new(patterns: &'a [Pattern]) -> LocalPathPatterns<'a> {
        let set = RegexSet::new(patterns.iter().map(|p| p.glob().regex()))
            .unwrap_or_else(|_| RegexSet::empty());
        LocalPathPatterns { patterns, set }
    }

    fn first_match(&self, target: &str) -> Option<&'a Pattern> {
        if !self.set.is_match(target.as_bytes()) {
            return None;
        }
        let first = self.set.matches(target.as_bytes()).into_iter().next()?;
        self.patterns.get(first)
    }
}

pub struct LinkChecker<'a> {
    pub root: &'a Path,
    pub local_paths: &'a LocalPathPatterns<'a>,
    pub checked: &'a PathMap<Document>,
    pub targets: &'a Targets,
}

impl LinkChecker<'_> {
    /// Checks one document, whose absolute normalized path is `file`.
    pub fn check(&self, file: &Path, doc: &Document, out: &mut Vec<Diagnostic>) {
        let dir = file.parent().unwrap_or(self.root);
        for link in &doc.links {
            self.check_target(dir, doc, &link.target, link.position, out);
        }
        for definition in &doc.definitions {
            self.check_target(dir, doc, &definition.target, definition.position, out);
            if !definition.used {
                out.push(
                    Diagnostic::new(
                        Rule::UnusedDefinition,
                        definition.position,
                        format!(
                            "reference definition `[{}]` is never used",
                            definition.label
                        ),
                    )
                    .help(format!(
                        "remove it, or link to it with `[text][{}]`",
                        definition.label
                    ))
                    .target(&definition.label),
                );
            }
        }
        for reference in &doc.undefined_references {
            let known = doc.definitions.iter().map(|d| d.label.as_str());
            let help = match nearest(&reference.label, known) {
                Some(close) => format!("did you mean `[{close}]`?"),
                None => format!(
                    "define it on a line of its own: `[{}]: <target>`",
                    reference.label
                ),
            };
            out.push(
                Diagnostic::new(
                    Rule::UndefinedReference,
                    reference.position,
                    format!("reference label `[{}]` is not defined", reference.label),
                )
                .help(help)
                .target(&reference.label),
            );
        }
        for heading in &doc.headings {
            if let Some(id) = &heading.attribute_id {
                out.push(
                    Diagnostic::new(
                        Rule::HeadingAttribute,
                        heading.position,
                        format!(
                            "GitHub ignores the `{{#{id}}}` heading attribute; this heading's anchor is `#{}`",
                            heading.anchor
                        ),
                    )
                    .help(format!(
                        "remove `{{#{id}}}`, or put `<a name=\"{id}\"></a>` on the line above the heading"
                    )),
                );
            }
        }
    }

    fn check_target(
        &self,
        dir: &Path,
        doc: &Document,
        raw: &str,
        position: Position,
        out: &mut Vec<Diagnostic>,
    ) {
        let report =
            |rule: Rule, message: String| Diagnostic::new(rule, position, message).target(raw);
        if let Some(pattern) = self.local_paths.first_match(raw.trim()) {
            out.push(
                report(Rule::LocalPath, format!("`{raw}` points into a local machine's file system"))
                    .help(format!(
                        "it matches `{}` in `lint.local_path_patterns`; link relative to this file instead",
                        pattern.as_str()
                    )),
            );
            return;
        }
        match target::parse(raw) {
            Target::Empty => out.push(
                report(Rule::EmptyTarget, "link has an empty destination".into())
                    .help("point it at a file, a `#heading`, or an https URL"),
            ),
            Target::External { scheme } if scheme.eq_ignore_ascii_case("http") => out.push(
                report(Rule::InsecureHttp, format!("`{raw}` uses plain http")).help(format!(
                    "use `https{}` if the site serves it",
                    &raw.trim()[scheme.len()..]
                )),
            ),
            Target::External { .. } => {}
            Target::SameFile { fragment } => {
                if let Some(d) = check_fragment(doc, &fragment, None) {
                    out.push(d.position(position).target(raw));
                }
            }
            Target::Local { path, fragment } => {
                let Some(resolved) = target::resolve(&path, dir, self.root) else {
                    out.push(
                        report(
                            Rule::MissingFile,
                            format!("`{raw}` climbs above the file system root"),
                        )
                        .help("remove the extra `../`"),
                    );
                    return;
                };
                match self.targets.fs.lookup(&resolved) {
                    None => {
                        let d = report(Rule::MissingFile, format!("`{path}` does not exist"));
                        out.push(self.missing_file_help(d, &path, &resolved));
                    }
                    Some(kind) => {
                        let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
                            return;
                        };
                        let anchored = match kind {
                            EntryKind::File if is_markdown(&resolved) => Some(resolved),
                            EntryKind::File => None,
                            EntryKind::Dir => self.readme_in(&resolved),
                        };
                        let Some(anchored) = anchored else { return };
                        let found =
                            self.targets
                                .with_document(self.checked, &anchored, |target_doc| {
                                    check_fragment(target_doc, &fragment, Some(&path))
                                });
                        if let Some(Some(d)) = found {
                            out.push(d.position(position).target(raw));
                        }
                    }
                }
            }
        }
    }

    fn readme_in(&self, dir: &Path) -> Option<PathBuf> {
        let listing = self.targets.fs.listing(dir)?;
        READMES
            .iter()
            .find(|r| listing.get(**r) == Some(&EntryKind::File))
            .map(|r| dir.join(r))
    }

    fn missing_file_help(&self, d: Diagnostic, path: &str, resolved: &Path) -> Diagnostic {
        let (Some(parent), Some(name)) = (
            resolved.parent(),
            resolved.file_name().and_then(|n| n.to_str()),
        ) else {
            return d;
        };
        let close =
            self.targets.fs.listing(parent).and_then(|names| {
                nearest(name, names.keys().map(String::as_str)).map(str::to_string)
            });
        match close {
            Some(close) => {
                let prefix = &path[..path.len().saturating_sub(name.len())];
                d.help(format!("did you mean `{prefix}{close}`?"))
            }
            None => {
                let help = match resolved.strip_prefix(self.root) {
                    Ok(inside) => format!(
                        "it resolves to `{}` in the project; check the path and its case",
                        inside.display()
                    ),
                    Err(_) => {
                        "it resolves outside the project, where GitHub cannot follow it".to_string()
                    }
                };
                d.help(help)
            }
        }
    }
}

/// `None` when the fragment names an anchor of `doc`; otherwise what is wrong.
fn check_fragment(doc: &Document, fragment: &str, in_file: Option<&str>) -> Option<Diagnostic> {
    if fragment.is_empty() || doc.anchors.contains(fragment) {
        return None;
    }
    let place = in_file.map_or("this file".to_string(), |f| format!("`{f}`"));
    let folded = || fragment.chars().flat_map(char::to_lowercase);
    if let Some(anchor) = doc
        .anchors
        .iter()
        .find(|a| a.chars().flat_map(char::to_lowercase).eq(folded()))
    {
        return Some(
            Diagnostic::new(
                Rule::FragmentCase,
                super::diagnostic::FILE_START,
                format!("`#{fragment}` matches `#{anchor}` in {place} only when case is ignored"),
            )
            .help(format!(
                "GitHub anchors are case-sensitive: did you mean `#{anchor}`?"
            )),
        );
    }
    let help = match nearest(fragment, doc.anchors.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `#{close}`?"),
        None => "anchors follow GitHub's rules: lower-case, punctuation dropped, each space a `-`"
            .to_string(),
    };
    Some(
        Diagnostic::new(
            Rule::MissingFragment,
            super::diagnostic::FILE_START,
            format!("`#{fragment}` is not a heading or anchor in {place}"),
        )
        .help(help),
    )
}
