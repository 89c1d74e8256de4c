//! Link integrity: files, directories, fragments, reference labels, insecure and local links.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use regex::bytes::RegexSet;

use super::diagnostic::Diagnostic;
use super::diagnostic::FILE_START;
use super::document::{Document, Place};
use super::fs_index::{key, EntryKind, FsIndex, PathMap};
use super::once_cache::OnceCache;
use super::rules::Rule;
use super::target::{self, Target};
use ssoproof_config::suggest::nearest;
use ssoproof_config::{Pattern, Renderer};

/// Markdown files whose anchors can be checked.
///
/// Asked for every fragment link: the extension is read from the path's bytes, as
/// `Path::extension` reads it (after the file name's last dot, never a leading dot alone), without
/// `Path`'s component parsing, which cost more than the rest of the check.
pub fn is_markdown(path: &Path) -> bool {
    let is_separator = |b: &u8| std::path::is_separator(char::from(*b));
    let mut bytes = path.as_os_str().as_encoded_bytes();
    while let [rest @ .., last] = bytes {
        if !is_separator(last) {
            break;
        }
        bytes = rest;
    }
    let name = bytes.rsplit(is_separator).next().unwrap_or(bytes);
    let Some(dot) = memchr::memrchr(b'.', name).filter(|&i| i > 0 && name != b"..") else {
        return false;
    };
    let extension = &name[dot + 1..];
    ["md", "markdown", "mdown", "mkd", "mkdn"]
        .iter()
        .any(|m| extension.eq_ignore_ascii_case(m.as_bytes()))
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
    /// A document, or why it could not be read (a symlink loop, no permission, a FIFO).
    parsed: OnceCache<PathBuf, Result<Document, String>>,
}

impl Targets {
    fn with_document<R>(
        &self,
        checked: &PathMap<Document>,
        path: &Path,
        renderer: Renderer,
        f: impl FnOnce(&Document) -> R,
    ) -> Result<R, String> {
        if let Some(doc) = checked.get(key(path)) {
            return Ok(f(doc));
        }
        let slot = self.parsed.get_or_load(&path.to_path_buf(), || {
            let bytes = ssoproof_config::fs::read(path).map_err(|e| e.to_string())?;
            Ok(Document::parse_for(&Document::text(bytes), renderer))
        });
        match slot.get() {
            Some(Ok(doc)) => Ok(f(doc)),
            Some(Err(error)) => Err(error.clone()),
            None => Err("it could not be read".to_string()),
        }
    }
}

/// Configured link-target globs (`lint.local_path_patterns`, `lint.allowed_http`) compiled
/// into one matcher, run on every link.
///
/// The globs' own regexes go into one `RegexSet`: `GlobSet::is_match` first builds a path
/// candidate (an allocation and a scan) per call, which on every link cost more than the
/// match itself. The destination is matched as written, the same on every platform.
pub struct PatternSet<'a> {
    patterns: &'a [Pattern],
    set: RegexSet,
    /// For each glob, the bytes its matches can start with, and the bytes that can follow.
    leads: Vec<[ByteSet; 2]>,
}

impl<'a> PatternSet<'a> {
    pub fn new(patterns: &'a [Pattern]) -> PatternSet<'a> {
        let set = RegexSet::new(patterns.iter().map(|p| p.glob().regex()))
            .unwrap_or_else(|_| RegexSet::empty());
        let leads = patterns.iter().map(|p| leading_bytes(p.as_str())).collect();
        PatternSet {
            patterns,
            set,
            leads,
        }
    }

    fn first_match(&self, target: &str) -> Option<&'a Pattern> {
        // Most links start with bytes no glob can (the defaults all begin with a literal), and
        // two table lookups per glob cost far less than a regex search.
        if let [b0, b1, ..] = *target.as_bytes() {
            if !self.leads.iter().any(|[s0, s1]| s0.has(b0) && s1.has(b1)) {
                return None;
            }
        }
        if !self.set.is_match(target.as_bytes()) {
            return None;
        }
        let first = self.set.matches(target.as_bytes()).into_iter().next()?;
        self.patterns.get(first)
    }
}

/// A set of bytes, as a bitmap.
#[derive(Clone, Copy)]
struct ByteSet([u64; 4]);

impl ByteSet {
    const ALL: ByteSet = ByteSet([u64::MAX; 4]);

    fn has(self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    fn add(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }
}

/// The bytes a match of `glob` can hold in its first two places, over-approximated: a
/// wildcard, an alternation, a negated class, a non-ASCII character or the glob's end there
/// allows any byte. A backslash counts as itself and as the character it may escape, since
/// whether it escapes depends on the platform.
fn leading_bytes(glob: &str) -> [ByteSet; 2] {
    let mut sets = [ByteSet::ALL; 2];
    let mut rest = glob.as_bytes();
    for set in &mut sets {
        let mut bytes = ByteSet([0; 4]);
        match rest {
            [b'\\', c, ..] if c.is_ascii() => {
                bytes.add(b'\\');
                bytes.add(*c);
                // One byte of the text or two: the next place is unknown.
                *set = bytes;
                break;
            }
            [b'[', tail @ ..] => {
                let Some(close) = tail.iter().skip(1).position(|&b| b == b']') else {
                    break;
                };
                let class = &tail[..close + 1];
                if matches!(class.first(), Some(b'!' | b'^'))
                    || !class.is_ascii()
                    || class.contains(&b'\\')
                {
                    break;
                }
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == b'-' {
                        (class[i]..=class[i + 2]).for_each(|b| bytes.add(b));
                        i += 3;
                    } else {
                        bytes.add(class[i]);
                        i += 1;
                    }
                }
                rest = &tail[close + 2..];
            }
            [c, tail @ ..] if c.is_ascii() && !matches!(c, b'*' | b'?' | b'{' | b'\\') => {
                bytes.add(*c);
                rest = tail;
            }
            _ => break,
        }
        *set = bytes;
    }
    sets
}

pub struct LinkChecker<'a> {
    pub root: &'a Path,
    pub local_paths: &'a PatternSet<'a>,
    pub allowed_http: &'a PatternSet<'a>,
    pub renderer: Renderer,
    pub checked: &'a PathMap<Document>,
    pub targets: &'a Targets,
}

impl LinkChecker<'_> {
    /// Checks one document, whose absolute normalized path is `file`.
    pub fn check(&self, file: &Path, doc: &Document, out: &mut Vec<Diagnostic>) {
        let dir = file.parent().unwrap_or(self.root);
        // Resolved paths are built here, one buffer for the whole file.
        let scratch = &mut String::new();
        for link in &doc.links {
            let place = Place::Span(link.span);
            self.check_target(dir, doc, doc.target(link), place, scratch, out);
        }
        for definition in &doc.definitions {
            let place = Place::At(definition.position);
            self.check_target(dir, doc, &definition.target, place, scratch, out);
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
        for duplicate in &doc.duplicate_definitions {
            out.push(
                Diagnostic::new(
                    Rule::DuplicateDefinition,
                    duplicate.position,
                    format!(
                        "`[{}]` is already defined on line {}, so this definition (to `{}`) is ignored",
                        duplicate.label, duplicate.first_line, duplicate.target
                    ),
                )
                .help("labels match ignoring case and spacing, and the first definition wins: remove this one or give it its own label")
                .target(&duplicate.label),
            );
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
                        FILE_START,
                        format!(
                            "GitHub ignores the `{{#{id}}}` heading attribute; this heading's anchor is `#{}`",
                            heading.anchor
                        ),
                    )
                    .place(Place::Span(heading.span))
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
        place: Place,
        scratch: &mut String,
        out: &mut Vec<Diagnostic>,
    ) {
        let report = |rule: Rule, message: String| {
            Diagnostic::new(rule, FILE_START, message)
                .place(place)
                .target(raw)
        };
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
            Target::External { scheme }
                if scheme.eq_ignore_ascii_case("http")
                    && !is_loopback(raw.trim())
                    && self.allowed_http.first_match(raw.trim()).is_none() =>
            {
                out.push(
                    report(Rule::InsecureHttp, format!("`{raw}` uses plain http")).help(format!(
                        "use `https{}` if the site serves it, or allow it in `lint.allowed_http`",
                        &raw.trim()[scheme.len()..]
                    )),
                )
            }
            Target::External { .. } => {}
            Target::SameFile { fragment } => {
                if let Some(d) = check_fragment(doc, &fragment, None, self.renderer) {
                    out.push(d.place(place).target(raw));
                }
            }
            Target::Local { path, fragment } => {
                let Some(mut resolved) = target::resolve_in(&path, dir, self.root, scratch) else {
                    out.push(
                        report(
                            Rule::MissingFile,
                            format!("`{raw}` climbs above the file system root"),
                        )
                        .help("remove the extra `../`"),
                    );
                    return;
                };
                // GitHub serves only the repository: a link out of it is broken there, whatever
                // this machine has at that path. (Only asked of files inside the project.)
                if !under(&resolved, self.root) && under(dir, self.root) {
                    out.push(
                        report(
                            Rule::MissingFile,
                            format!("`{raw}` leaves the project, where GitHub cannot follow it"),
                        )
                        .help("link to a file inside the repository, or to its URL"),
                    );
                    return;
                }
                let mut found = self.targets.fs.lookup(&resolved);
                if found.is_none() && self.renderer == Renderer::Mdbook {
                    if let Some(source) = self.mdbook_source(&resolved) {
                        resolved = source.into();
                        found = Some(EntryKind::File);
                    }
                }
                match found {
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
                            EntryKind::Dir => self.readme_in(&resolved).map(Cow::Owned),
                        };
                        let Some(anchored) = anchored else { return };
                        let found = self.targets.with_document(
                            self.checked,
                            &anchored,
                            self.renderer,
                            |target_doc| {
                                check_fragment(target_doc, &fragment, Some(&path), self.renderer)
                            },
                        );
                        match found {
                            Ok(None) => {}
                            Ok(Some(d)) => out.push(d.place(place).target(raw)),
                            // Never a silent pass: the fragment was not checked.
                            Err(error) => out.push(
                                report(
                                    Rule::MissingFile,
                                    format!("`{path}` cannot be read, so `#{fragment}` cannot be checked: {error}"),
                                )
                                .help("link to a readable Markdown file (a symlink loop or a FIFO is not one)"),
                            ),
                        }
                    }
                }
            }
        }
    }

    /// The chapter mdBook renders as the missing `page`: `x.html` comes from `x.md`, and
    /// `index.html` from `index.md` or, through mdBook's `index` preprocessor, `README.md` (any
    /// case). See "Links" in mdBook's guide (`guide/src/format/markdown.md`).
    fn mdbook_source(&self, page: &Path) -> Option<PathBuf> {
        if !page.extension()?.eq_ignore_ascii_case("html") {
            return None;
        }
        let chapter = page.with_extension("md");
        if self.targets.fs.lookup(&chapter) == Some(EntryKind::File) {
            return Some(chapter);
        }
        if page.file_name()? != "index.html" {
            return None;
        }
        let dir = page.parent()?;
        let listing = self.targets.fs.listing(dir)?;
        let mut readmes: Vec<&String> = listing
            .iter()
            .filter(|(name, kind)| {
                **kind == EntryKind::File
                    && Path::new(name.as_str())
                        .file_stem()
                        .is_some_and(|stem| stem.eq_ignore_ascii_case("readme"))
                    && Path::new(name.as_str())
                        .extension()
                        .is_some_and(|e| e == "md")
            })
            .map(|(name, _)| name)
            .collect();
        // A stable choice if several spellings exist (mdBook warns about such books).
        readmes.sort();
        readmes.first().map(|name| dir.join(name))
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
        let close = self
            .targets
            .fs
            .candidates(parent)
            .and_then(|names| names.nearest(name).map(str::to_string));
        // The suggestion replaces the last name as written (`dir/` keeps its slash); cut on the
        // written text's own boundaries, never at a byte count.
        let written = path.trim_end_matches('/');
        let slash = &path[written.len()..];
        match close.as_deref().zip(written.strip_suffix(name)) {
            Some((close, prefix)) => d.help(format!("did you mean `{prefix}{close}{slash}`?")),
            _ => {
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

/// Whether the normalized `path` is `base` or below it.
fn under(path: &Path, base: &Path) -> bool {
    crate::fs_index::strip_base(path, base).is_some()
}

/// A loopback URL (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`): in a runbook it is an
/// instruction to open something on the operator's own machine, where TLS buys nothing.
///
/// The host is read from the authority here rather than with the `url` crate, which would bring
/// IDNA and Unicode tables into the pre-commit hook's cold build for a question whose answers
/// are all ASCII.
fn is_loopback(raw: &str) -> bool {
    let Some(rest) = raw
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
        .map(|_| &raw[7..])
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed
            .split_once(']')
            .and_then(|(ip, _)| ip.parse::<std::net::Ipv6Addr>().ok())
            .is_some_and(|ip| ip.is_loopback());
    }
    let host = host_port
        .split_once(':')
        .map_or(host_port, |(host, _)| host);
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match host.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

/// `None` when the fragment names an anchor of `doc`; otherwise what is wrong.
fn check_fragment(
    doc: &Document,
    fragment: &str,
    in_file: Option<&str>,
    renderer: Renderer,
) -> Option<Diagnostic> {
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
        // github.com renders ids as `user-content-` + the anchor, and its page script finds the
        // target by lower-casing the decoded fragment and adding that prefix, so `#Foo` reaches
        // a heading `foo` there. Browsers, GitLab and mdBook match ids exactly. Sources:
        // https://github.com/rehypejs/rehype-sanitize#example-headings-dom-clobbering (the
        // script, "This is what GitHub does") and https://github.com/rsc/markdown/issues/19
        // ("GitHub actually supports any casing at all … Clearly JS is doing that").
        let help = match renderer {
            Renderer::Github if **anchor == anchor.to_lowercase() => format!(
                "github.com's page script lower-cases fragments, so the link works there, but \
                 not on GitLab, mdBook or other renderers, which match anchors exactly: write `#{anchor}`"
            ),
            Renderer::Github => format!(
                "github.com lower-cases fragments and this anchor is not lower-case, so the link \
                 fails there too: write `#{anchor}`"
            ),
            Renderer::Mdbook => {
                format!("browsers match mdBook's ids exactly: write `#{anchor}`")
            }
        };
        return Some(
            Diagnostic::new(
                Rule::FragmentCase,
                FILE_START,
                format!("`#{fragment}` matches `#{anchor}` in {place} only when case is ignored"),
            )
            .help(help),
        );
    }
    let help = match nearest(fragment, doc.anchors.iter().map(|a| &**a)) {
        Some(close) => format!("did you mean `#{close}`?"),
        None => match renderer {
            Renderer::Github => {
                "anchors follow GitHub's rules: lower-case, punctuation dropped, each space a `-`"
            }
            Renderer::Mdbook => {
                "anchors follow mdBook's rules: lower-case, punctuation dropped, each space a `-`, or a `{#id}` attribute"
            }
        }
        .to_string(),
    };
    Some(
        Diagnostic::new(
            Rule::MissingFragment,
            FILE_START,
            format!("`#{fragment}` is not a heading or anchor in {place}"),
        )
        .help(help),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_bytes_never_reject_a_match() {
        let patterns: Vec<Pattern> = [
            "/home/*",
            "~/*",
            "file:*",
            "[A-Za-z]:\\\\*",
            "[A-Za-z]:/*",
            "*.tmp",
            "?x*",
            "{a,b}c*",
            "[!a]b*",
            "[]x]y*",
            "q",
        ]
        .into_iter()
        .map(|p| Pattern::try_from(p.to_string()).unwrap())
        .collect();
        let set = PatternSet::new(&patterns);
        for (target, expected) in [
            ("/home/alice/x.md", Some("/home/*")),
            ("~/notes.md", Some("~/*")),
            ("file:///x", Some("file:*")),
            ("C:\\Users\\a", Some("[A-Za-z]:\\\\*")),
            ("d:/work", Some("[A-Za-z]:/*")),
            ("notes.tmp", Some("*.tmp")),
            ("zx.md", Some("?x*")),
            ("bc.md", Some("{a,b}c*")),
            ("zb.md", Some("[!a]b*")),
            ("]y.md", Some("[]x]y*")),
            ("q", Some("q")),
            ("../docs/x.md", None),
            ("https://example.com/home/x", None),
            ("okta.md", None),
            ("ab.md", None),
        ] {
            let found = set.first_match(target).map(Pattern::as_str);
            assert_eq!(found, expected, "{target}");
            let slow = patterns
                .iter()
                .find(|p| p.matches(target))
                .map(Pattern::as_str);
            assert_eq!(found, slow, "{target}");
        }
        let [s0, s1] = leading_bytes("[A-Za-z]:/*");
        assert!(s0.has(b'q') && !s0.has(b'.') && s1.has(b':') && !s1.has(b'k'));
    }

    #[test]
    fn markdown_extensions_as_path_reads_them() {
        for path in [
            "a.md",
            "/x/y/B.MD",
            "x.markdown",
            "d/.x.mkdn",
            "d/a.md/",
            "a.b.md",
            ".md",
            "d/.md",
            "md",
            "a.md.txt",
            "a.",
            "..",
            "d/..",
            "a.mdx",
            "/",
            "",
        ] {
            let path = Path::new(path);
            let expected = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                ["md", "markdown", "mdown", "mkd", "mkdn"]
                    .iter()
                    .any(|m| e.eq_ignore_ascii_case(m))
            });
            assert_eq!(is_markdown(path), expected, "{}", path.display());
        }
    }

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://localhost",
            "http://LOCALHOST:8080/x",
            "http://localhost./",
            "http://app.localhost:3000",
            "http://127.0.0.1:9090/api",
            "http://127.8.9.10/",
            "http://[::1]:8080/",
            "http://[0:0:0:0:0:0:0:1]/",
            "HTTP://user:pw@localhost:8080/x?y#z",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://example.com",
            "http://localhost.example.com",
            "http://128.0.0.1",
            "http://[::2]/",
            "http://10.0.0.1",
            "not a url",
            "https://localhost.evil.example/",
            "http://localhost@example.com/",
            "http://[::1",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
