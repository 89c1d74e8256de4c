//! ssoproof's runbook linter: link integrity and runbook rules for Markdown files, with no
//! network access and no async runtime (it is what the pre-commit hook builds).
//!
//! Entry point: [`lint`] over a [`LoadedConfig`]; [`report::render`] turns the result into
//! human, JSON, JUnit, SARIF or GitHub output; [`binding`] links runbook items to the Gherkin
//! scenarios that prove them (shared with the harness's `verify` and `coverage`).
//!
//! A run has three phases. The files are read and reduced to [`Document`] summaries in
//! parallel; links are then resolved against those summaries (a target outside the checked set
//! is parsed at most once); finally the runbook rules run on the files the config marks as
//! runbooks. Only runbooks keep their text in memory, so memory stays flat on large trees.

pub mod binding;
#[cfg(feature = "cli")]
pub mod cli;
pub mod diagnostic;
pub mod document;
mod fs_index;
mod html_anchors;
mod links;
mod once_cache;
pub mod report;
pub mod rules;
mod runbook;
mod slug;
mod target;
pub mod today;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use time::Date;

pub use diagnostic::{Diagnostic, Excerpt};
pub use document::Document;
use document::LineCursor;
pub use rules::{Rule, RuleFilter, Severity};

use fs_index::{key, normalize, strip_base, PathMap};
use links::{is_markdown, LinkChecker, PatternSet, Targets};
use runbook::{binding::FeatureCache, date::DatePolicy, index::IndexFile, Runbook};
use ssoproof_config::{absolute, LoadedConfig, Renderer, RunbookKind};

/// Why a lint run could not be completed (as opposed to finding problems). Exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("{}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot walk {}: {source}", path.display())]
    Walk {
        path: PathBuf,
        source: walkdir::Error,
    },
    #[error("{}; see `ssoproof lint --list-rules`", describe_prefixes(prefixes))]
    UnknownRulePrefix { prefixes: Vec<String> },
    /// `lint.ignore` in `ssoproof.yaml` names a prefix no rule has (or the empty one).
    #[error(transparent)]
    Config(#[from] ssoproof_config::ConfigError),
}

fn describe_prefixes(prefixes: &[String]) -> String {
    if prefixes.iter().any(String::is_empty) {
        "an empty rule prefix matches every rule and would switch every check off; name a rule or a family (`link`, `date/stale`)".to_string()
    } else {
        format!("no rule id starts with {}", prefixes.join(", "))
    }
}

impl LintError {
    pub fn code(&self) -> &'static str {
        match self {
            LintError::NotFound { .. } => "lint/not-found",
            LintError::Read { .. } | LintError::Walk { .. } => "lint/read",
            LintError::UnknownRulePrefix { .. } => "lint/unknown-rule",
            LintError::Config(e) => e.code(),
        }
    }
}

#[derive(Debug, Default)]
pub struct LintRequest {
    /// Files and folders to check; empty means the config's `lint.roots`.
    pub paths: Vec<PathBuf>,
    pub filter: RuleFilter,
    /// Overrides "today" for the review-date rules.
    pub today: Option<Date>,
    /// The process exits right after this run (the CLI): the per-file summaries are left for
    /// the OS to reclaim instead of being freed one allocation at a time, which on a large
    /// tree is a few percent of the run (ripgrep does the same).
    pub exits_after: bool,
}

#[derive(Debug)]
pub struct LintReport {
    /// The checked files, as reached from the arguments, in order.
    pub files: Vec<String>,
    /// Sorted by file, line and column.
    pub diagnostics: Vec<Diagnostic>,
}

impl LintReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}

/// A file to check: how the user reached it, and where it is.
struct Input {
    display: String,
    path: PathBuf,
}

/// What a file keeps besides its [`Document`]: for runbooks, the text (their rules read lines)
/// and the index of their kind in the config.
struct RunbookSource {
    source: Option<String>,
    kind: Option<usize>,
}

pub fn lint(config: &LoadedConfig, request: &LintRequest) -> Result<LintReport, LintError> {
    let unknown = request.filter.unknown_prefixes();
    if !unknown.is_empty() {
        return Err(LintError::UnknownRulePrefix {
            prefixes: unknown.into_iter().map(str::to_string).collect(),
        });
    }
    check_config_ignores(config)?;
    let mut filter = request.filter.clone();
    filter.add_ignores(&config.config.lint.ignore);
    let root = normalize(&config.root).unwrap_or_else(|| config.root.clone());
    let inputs = collect_inputs(config, &request.paths)?;
    let kinds = &config.config.runbooks.kinds;

    let renderer = config.config.lint.renderer;
    let parsed: Vec<_> = inputs
        .par_iter()
        .map(|input| parse_one(input, &root, kinds, renderer))
        .collect();
    let mut docs = PathMap::with_capacity_and_hasher(inputs.len(), Default::default());
    let mut sources: Vec<RunbookSource> = Vec::with_capacity(inputs.len());
    for (input, result) in inputs.iter().zip(parsed) {
        let (doc, source) = result?;
        docs.insert(key(&input.path).into(), doc);
        sources.push(source);
    }

    let run_runbooks = ["date", "layout", "checklist", "index", "binding", "signoff"]
        .iter()
        .any(|f| filter.any_in(f));
    let today = if run_runbooks {
        today::today(&root, request.today).0
    } else {
        Date::MIN
    };
    let local_paths = PatternSet::new(&config.config.lint.local_path_patterns);
    let allowed_http = PatternSet::new(&config.config.lint.allowed_http);
    let targets = Targets::default();
    let context = Context {
        config,
        filter: &filter,
        root: &root,
        today,
        docs: &docs,
        linker: LinkChecker {
            root: &root,
            local_paths: &local_paths,
            allowed_http: &allowed_http,
            renderer,
            checked: &docs,
            targets: &targets,
        },
        features: FeatureCache::default(),
    };
    let work: Vec<(&Input, &RunbookSource)> = inputs.iter().zip(&sources).collect();
    let per_file: Vec<Vec<Diagnostic>> = work
        .par_iter()
        .map(|(input, source)| context.check_file(input, source))
        .collect();

    drop(context);
    if request.exits_after {
        std::mem::forget(docs);
        std::mem::forget(targets);
    }
    Ok(LintReport {
        diagnostics: per_file.into_iter().flatten().collect(),
        files: inputs.into_iter().map(|i| i.display).collect(),
    })
}

/// Everything the per-file checks share; read-only, so files are checked in parallel.
struct Context<'a> {
    config: &'a LoadedConfig,
    filter: &'a RuleFilter,
    root: &'a Path,
    today: Date,
    docs: &'a PathMap<Document>,
    linker: LinkChecker<'a>,
    features: FeatureCache,
}

impl Context<'_> {
    fn check_file(&self, input: &Input, extra: &RunbookSource) -> Vec<Diagnostic> {
        let doc = &self.docs[key(&input.path)];
        let runbooks = &self.config.config.runbooks;
        let mut out = Vec::new();
        if self.filter.any_in("link") {
            self.linker.check(&input.path, doc, &mut out);
        }
        let relative = strip_base(&input.path, self.root).unwrap_or(&input.path);
        if let (Some(kind), Some(source)) = (extra.kind, &extra.source) {
            let runbook = Runbook::new(relative, source, doc, &runbooks.kinds[kind]);
            let policy = DatePolicy {
                today: self.today,
                review: &runbooks.review,
                exceptions: &runbooks.exceptions,
            };
            if self.filter.any_in("date") {
                runbook::date::check(&runbook, &policy, &mut out);
            }
            if self.filter.any_in("layout") {
                runbook::layout::check(&runbook, &mut out);
            }
            if self.filter.any_in("checklist") {
                runbook::checklist::check(&runbook, &runbooks.checklist, &mut out);
            }
            if self.filter.any_in("binding") {
                runbook::binding::check(
                    &runbook,
                    &input.path,
                    self.root,
                    &runbooks.bindings,
                    &runbooks.checklist.section,
                    &self.features,
                    &mut out,
                );
            }
            if self.filter.any_in("signoff") {
                runbook::signoff::check(
                    &runbook,
                    &input.path,
                    self.root,
                    self.config,
                    self.today,
                    &mut out,
                );
            }
        }
        if self.filter.any_in("index") && runbooks.indexes.iter().any(|i| i == relative) {
            let index = IndexFile {
                path: &input.path,
                relative,
                doc,
            };
            runbook::index::check(
                &index,
                self.root,
                &runbooks.kinds,
                &self.linker.targets.fs,
                &mut out,
            );
        }

        out.retain(|d| self.filter.enabled(d.rule));
        if out.is_empty() {
            return out;
        }
        // Only files with findings are read again, for the excerpts and the positions of the
        // links they are about.
        let reread;
        let bytes = match &extra.source {
            Some(source) => source.as_bytes(),
            None => {
                reread = ssoproof_config::fs::read(&input.path);
                reread.as_deref().unwrap_or(&[])
            }
        };
        if out.iter().any(|d| d.span.is_some()) {
            // Spans are offsets into the text as the parse read it.
            // (Validating first: the lossy decoder is several times slower on valid text.)
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(bytes),
            };
            let mut lines = LineCursor::new(&text);
            for d in &mut out {
                if let Some(span) = d.span.take() {
                    d.position = lines.span(span);
                    // The cursor stands on the line: no second scan for the excerpt.
                    d.excerpt = Some(lines.excerpt(span.start, d.position.column));
                }
            }
        }
        drop_shadowed(&mut out);
        out.sort_by_key(|d| (d.position.line, d.position.column, d.rule));
        let mut lines = Lines::new(bytes);
        for d in &mut out {
            d.file = input.display.clone();
            if d.excerpt.is_none() {
                d.excerpt = lines.line(d.position.line).map(|text| Excerpt {
                    text,
                    first_column: 1,
                });
            }
        }
        out
    }
}

/// Lines of a file by number, found with one forward scan over its newlines (`memchr`), as
/// `str::lines` splits them: `\n` or `\r\n`, no empty line after a final newline. Only the
/// lines asked for are decoded (invalid UTF-8 as U+FFFD, like [`Document::text`]), so a large
/// file with one finding is not validated whole.
struct Lines<'a> {
    bytes: &'a [u8],
    newlines: memchr::Memchr<'a>,
    /// The current line's number (1-based) and start offset.
    number: usize,
    start: usize,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Lines<'a> {
        Lines {
            bytes,
            newlines: memchr::memchr_iter(b'\n', bytes),
            number: 1,
            start: 0,
        }
    }

    /// Line `number`, which must not be before the previous one asked for; `None` for a line
    /// longer than [`Excerpt::MAX_BYTES`] (these diagnostics carry no span to center a window
    /// on, and copying such a line for each of them is what must not happen).
    fn line(&mut self, number: usize) -> Option<String> {
        while self.number < number {
            self.start = self.newlines.next()? + 1;
            self.number += 1;
        }
        if self.number != number || self.start >= self.bytes.len() {
            return None;
        }
        let rest = &self.bytes[self.start..];
        let bounded = &rest[..rest.len().min(Excerpt::MAX_BYTES + 1)];
        let line = match memchr::memchr(b'\n', bounded) {
            Some(end) => bounded[..end]
                .strip_suffix(b"\r")
                .unwrap_or(&bounded[..end]),
            None if bounded.len() == rest.len() => rest,
            None => return None,
        };
        Some(String::from_utf8_lossy(line).into_owned())
    }
}

/// The Markdown files a lint run with these paths would check: (display path, absolute path).
pub fn files(
    config: &LoadedConfig,
    paths: &[PathBuf],
) -> Result<Vec<(String, PathBuf)>, LintError> {
    Ok(collect_inputs(config, paths)?
        .into_iter()
        .map(|i| (i.display, i.path))
        .collect())
}

/// An index link to a missing runbook is reported once, as `index/dangling-entry`.
fn drop_shadowed(out: &mut Vec<Diagnostic>) {
    let dangling: Vec<_> = out
        .iter()
        .filter(|d| d.rule == Rule::IndexDanglingEntry)
        .map(|d| d.position)
        .collect();
    out.retain(|d| d.rule != Rule::MissingFile || !dangling.contains(&d.position));
}

fn collect_inputs(config: &LoadedConfig, paths: &[PathBuf]) -> Result<Vec<Input>, LintError> {
    let given: Vec<(String, PathBuf)> = if paths.is_empty() {
        let cwd = absolute(Path::new("."));
        config
            .config
            .lint
            .roots
            .iter()
            .map(|r| {
                let path = config.root.join(r);
                let display = pathdiff(&path, &cwd).unwrap_or_else(|| path.clone());
                (display_path(&display), path)
            })
            .collect()
    } else {
        paths.iter().map(|p| (display_path(p), p.clone())).collect()
    };

    let mut inputs = Vec::new();
    // Keyed by bytes with FxHash: `Path`'s own hash re-parses components (see `fs_index::key`).
    let mut seen = rustc_hash::FxHashSet::default();
    for (display, path) in given {
        let metadata = std::fs::metadata(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => LintError::NotFound { path: path.clone() },
            _ => LintError::Read {
                path: path.clone(),
                source,
            },
        })?;
        // Absolute and normalized once: the walk below only appends names to it.
        let base = normalize(&absolute(&path)).unwrap_or_else(|| absolute(&path));
        let mut push = |display: String, absolute: PathBuf| {
            if seen.insert(Box::<[u8]>::from(key(&absolute))) {
                inputs.push(Input {
                    display,
                    path: absolute,
                });
            }
        };
        if !metadata.is_dir() {
            push(display, base);
            continue;
        }
        let walker = walkdir::WalkDir::new(&base)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !skipped_dir(e));
        for entry in walker {
            let entry = entry.map_err(|source| LintError::Walk {
                path: path.clone(),
                source,
            })?;
            if entry.file_type().is_file() && is_markdown(entry.path()) {
                let relative = strip_base(entry.path(), &base).unwrap_or(entry.path());
                let display = if display == "." {
                    display_path(relative)
                } else {
                    format!(
                        "{}/{}",
                        display.trim_end_matches('/'),
                        display_path(relative)
                    )
                };
                push(display, entry.into_path());
            }
        }
    }
    Ok(inputs)
}

/// `lint.ignore` entries are checked like `--ignore`, but reported at their own line in the
/// file, so that a typo there is found where it was written.
fn check_config_ignores(config: &LoadedConfig) -> Result<(), LintError> {
    let ignore = &config.config.lint.ignore;
    let (Some(index), Some(path)) = (
        ignore.iter().position(|p| !rules::is_known_prefix(p)),
        &config.path,
    ) else {
        return Ok(());
    };
    let text = ssoproof_config::read_text(path)?;
    let message = format!(
        "{}; see `ssoproof lint --list-rules`",
        describe_prefixes(&ignore[index..=index])
    );
    Err(ssoproof_config::ConfigError::invalid_key(
        path,
        &text,
        &format!("lint.ignore[{index}]"),
        message,
    )
    .into())
}

/// Hidden folders and build output never hold runbooks.
fn skipped_dir(entry: &walkdir::DirEntry) -> bool {
    let name = entry.file_name().to_string_lossy();
    entry.file_type().is_dir()
        && (name.starts_with('.') || name == "target" || name == "node_modules")
}

fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '\\' {
        text.replace('\\', "/")
    } else {
        text.into_owned()
    }
}

/// `path` relative to `base`, when `path` is under `base`.
fn pathdiff(path: &Path, base: &Path) -> Option<PathBuf> {
    let path = normalize(path)?;
    let relative = path.strip_prefix(base).ok()?;
    Some(if relative.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        relative.to_path_buf()
    })
}

fn parse_one(
    input: &Input,
    root: &Path,
    kinds: &[RunbookKind],
    renderer: Renderer,
) -> Result<(Document, RunbookSource), LintError> {
    let bytes = ssoproof_config::fs::read(&input.path).map_err(|source| LintError::Read {
        path: input.path.clone(),
        source,
    })?;
    let text = Document::text(bytes);
    let doc = Document::parse_for(&text, renderer);
    let relative = strip_base(&input.path, root).unwrap_or(&input.path);
    let kind = kinds.iter().position(|k| k.matches(relative));
    let source = kind.map(|_| text);
    Ok((doc, RunbookSource { source, kind }))
}
