//! `ssoproof.yaml`, the project configuration.
//!
//! Every key has a default, so a missing file or an empty one is a valid configuration. Unknown
//! keys and wrong types are refused with the file, line and key: a typo in a CI configuration
//! must not silently switch a check off. Patterns and dates are parsed while the file is read, so
//! a loaded [`Config`] only ever holds valid globs, regexes and dates.

mod file_error;
pub mod fs;
pub mod suggest;
pub mod yaml;

pub use file_error::{read_text, FileDomain, FileError, Problem};

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use globset::{Glob, GlobMatcher};
use regex::Regex;
use serde::Deserialize;
use time::Date;

pub const FILE_NAME: &str = "ssoproof.yaml";

/// `ssoproof.yaml`'s error codes, shared by the files documented under them: the GCP account
/// file and the doctor profile.
pub enum ConfigFile {}

impl FileDomain for ConfigFile {
    const READ: &'static str = "config/read";
    const SYNTAX: &'static str = "config/syntax";
    const INVALID: &'static str = "config/invalid";
}

/// Why the configuration could not be used. Codes are stable and documented in the README.
pub type ConfigError = FileError<ConfigFile>;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub lint: LintConfig,
    pub runbooks: RunbooksConfig,
    pub verify: VerifyConfig,
    pub signoff: SignoffConfig,
}

/// `ssoproof signoff`: where records go and which runbooks must carry a fresh one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignoffConfig {
    /// The folder records are written under, relative to the config.
    pub dir: PathBuf,
    /// Runbooks (paths relative to the config) whose latest sign-off `signoff check` and the
    /// `signoff/stale` rule hold to account. Empty: the rule is off.
    pub required: Vec<PathBuf>,
    /// A record older than this many days no longer signs its runbook off.
    pub review_days: u32,
    /// Whether a record must carry an SSH signature that verifies against `allowed_signers`.
    pub require_signature: bool,
    /// An `ssh-keygen` allowed-signers file (as git's `gpg.ssh.allowedSignersFile`).
    pub allowed_signers: Option<PathBuf>,
}

impl Default for SignoffConfig {
    fn default() -> Self {
        SignoffConfig {
            dir: PathBuf::from("signoffs"),
            required: Vec::new(),
            review_days: 90,
            require_signature: false,
            allowed_signers: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    /// The folder of Gherkin features that `ssoproof verify` runs, relative to the config.
    pub features: PathBuf,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            features: PathBuf::from("features"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LintConfig {
    /// Folders (or files) linted when `ssoproof lint` is given no path, relative to the config.
    pub roots: Vec<PathBuf>,
    /// Link targets matching one of these globs leak a local path (`link/local-path`).
    pub local_path_patterns: Vec<Pattern>,
    /// Rule-id prefixes switched off for every run (added to `--ignore`).
    pub ignore: Vec<String>,
    /// `http://` links matching one of these globs are not `link/insecure-http` (loopback
    /// addresses never are).
    pub allowed_http: Vec<Pattern>,
    /// Which site renders the Markdown: it decides heading anchors and how links resolve.
    pub renderer: Renderer,
}

/// The renderer whose anchor and link rules the linter reproduces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Renderer {
    /// github.com: github-slugger anchors, `{#id}` is plain text, links name `.md` files.
    #[default]
    Github,
    /// mdBook: its own heading ids, `{#id}` attributes honoured, `x.html` links reach `x.md`.
    Mdbook,
}

impl Default for LintConfig {
    fn default() -> Self {
        LintConfig {
            roots: vec![PathBuf::from("runbooks")],
            local_path_patterns: [
                "/home/*",
                "/Users/*",
                "/root/*",
                "/private/var/*",
                "/var/folders/*",
                "~/*",
                "file:*",
                "[A-Za-z]:\\\\*",
                "[A-Za-z]:/*",
            ]
            .into_iter()
            .map(|p| Pattern::try_from(p.to_string()).expect("built-in pattern is valid"))
            .collect(),
            ignore: Vec::new(),
            allowed_http: Vec::new(),
            renderer: Renderer::Github,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunbooksConfig {
    pub review: ReviewConfig,
    pub exceptions: Vec<ReviewException>,
    /// Runbook kinds; a file takes the first kind whose `files` match and `exclude` does not.
    pub kinds: Vec<RunbookKind>,
    /// Index runbooks: each must link every runbook in its folder.
    pub indexes: Vec<PathBuf>,
    pub checklist: ChecklistConfig,
    pub bindings: BindingsConfig,
}

impl Default for RunbooksConfig {
    fn default() -> Self {
        RunbooksConfig {
            review: ReviewConfig::default(),
            exceptions: Vec::new(),
            kinds: vec![
                RunbookKind {
                    name: "index".into(),
                    files: vec![Pattern::literal("runbooks/index.md")],
                    exclude: Vec::new(),
                    sections: Vec::new(),
                    checklist: false,
                    bindings: false,
                },
                RunbookKind {
                    name: "idp".into(),
                    files: vec![Pattern::literal("runbooks/*.md")],
                    exclude: Vec::new(),
                    sections: RunbookKind::default_sections(),
                    checklist: true,
                    bindings: false,
                },
            ],
            indexes: vec![PathBuf::from("runbooks/index.md")],
            checklist: ChecklistConfig::default(),
            bindings: BindingsConfig::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    pub warn_after_days: u32,
    pub fail_after_days: u32,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            warn_after_days: 90,
            fail_after_days: 120,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewException {
    pub path: Pattern,
    pub justification: String,
    pub expires: IsoDate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookKind {
    pub name: String,
    pub files: Vec<Pattern>,
    #[serde(default)]
    pub exclude: Vec<Pattern>,
    /// Required H2 sections, in order; `*` and `?` wildcards allowed.
    #[serde(default = "RunbookKind::default_sections")]
    pub sections: Vec<Pattern>,
    /// Whether the validation checklist and its sign-off line are required.
    #[serde(default = "yes")]
    pub checklist: bool,
    /// Whether every checklist item and troubleshooting row must be bound to a scenario.
    #[serde(default)]
    pub bindings: bool,
}

fn yes() -> bool {
    true
}

impl RunbookKind {
    fn default_sections() -> Vec<Pattern> {
        [
            "Prerequisites",
            "IdP-side configuration",
            "Application-side configuration",
            "Verification",
            "Troubleshooting",
            "Validation checklist",
        ]
        .into_iter()
        .map(Pattern::literal)
        .collect()
    }

    pub fn matches(&self, relative: &Path) -> bool {
        self.files.iter().any(|p| p.matches_path(relative))
            && !self.exclude.iter().any(|p| p.matches_path(relative))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecklistConfig {
    /// The H2 section holding the checklist.
    pub section: String,
    /// The line the checklist must end with.
    pub sign_off: LineRegex,
}

impl Default for ChecklistConfig {
    fn default() -> Self {
        ChecklistConfig {
            section: "Validation checklist".into(),
            sign_off: LineRegex::try_from(
                r"^Sign-off: _{3,} \(operator\) on _{3,} \(date\)\.$".to_string(),
            )
            .expect("built-in regex is valid"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BindingsConfig {
    /// The H2 section whose table rows must be bound.
    pub troubleshooting_section: String,
    /// The text that marks an item as checked by a person, not a scenario.
    pub manual_marker: String,
}

impl Default for BindingsConfig {
    fn default() -> Self {
        BindingsConfig {
            troubleshooting_section: "Troubleshooting".into(),
            manual_marker: "[manual]".into(),
        }
    }
}

/// A glob (`*`, `?`, `[abc]`, `**`), kept with its source text for messages.
#[derive(Clone)]
pub struct Pattern {
    text: String,
    compiled: Arc<CompiledGlob>,
}

struct CompiledGlob {
    glob: Glob,
    matcher: GlobMatcher,
}

/// Globs compiled so far, by text: a file that names one glob many times (a YAML alias used a
/// thousand times) compiles it once. Weak, so a glob no loaded configuration uses is freed.
static GLOBS: LazyLock<Mutex<HashMap<String, Weak<CompiledGlob>>>> = LazyLock::new(Mutex::default);

impl CompiledGlob {
    fn get(text: &str) -> Result<Arc<CompiledGlob>, globset::Error> {
        let mut globs = GLOBS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(compiled) = globs.get(text).and_then(Weak::upgrade) {
            return Ok(compiled);
        }
        let glob = Glob::new(text)?;
        let compiled = Arc::new(CompiledGlob {
            matcher: glob.compile_matcher(),
            glob,
        });
        // Drop the dead entries now and then, so the table stays the size of what is in use.
        if globs.len() >= 64 && globs.len().is_power_of_two() {
            globs.retain(|_, weak| weak.strong_count() > 0);
        }
        globs.insert(text.to_string(), Arc::downgrade(&compiled));
        Ok(compiled)
    }
}

impl Pattern {
    fn literal(text: &str) -> Pattern {
        Pattern::try_from(text.to_string()).expect("built-in glob is valid")
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn glob(&self) -> &Glob {
        &self.compiled.glob
    }

    pub fn matches(&self, text: &str) -> bool {
        self.compiled.matcher.is_match(text)
    }

    pub fn matches_path(&self, path: &Path) -> bool {
        self.compiled.matcher.is_match(path)
    }
}

impl TryFrom<String> for Pattern {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let compiled =
            CompiledGlob::get(&text).map_err(|e| format!("`{text}` is not a valid glob: {e}"))?;
        Ok(Pattern { text, compiled })
    }
}

// Checked inside the scalar, so a refused glob, regex or date is reported at its own line and
// column, not at the mapping around it.
deserialize_checked_impl!(Pattern, LineRegex, IsoDate);

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.text)
    }
}

/// A regular expression matched against one whole line.
#[derive(Debug, Clone)]
pub struct LineRegex(pub Regex);

impl TryFrom<String> for LineRegex {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Regex::new(&text)
            .map(LineRegex)
            .map_err(|e| format!("not a valid regex: {e}"))
    }
}

/// A `YYYY-MM-DD` calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IsoDate(pub Date);

const ISO_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl IsoDate {
    pub fn parse(text: &str) -> Result<IsoDate, String> {
        Date::parse(text, ISO_DATE)
            .map(IsoDate)
            .map_err(|e| format!("`{text}` is not a YYYY-MM-DD date: {e}"))
    }
}

impl TryFrom<String> for IsoDate {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        IsoDate::parse(&text)
    }
}

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

/// A configuration together with where it came from.
#[derive(Debug)]
pub struct LoadedConfig {
    /// The file it was read from; `None` when no `ssoproof.yaml` was found.
    pub path: Option<PathBuf>,
    /// The project root: the config's folder, else the nearest git work tree, else the start.
    /// Config paths and `/`-rooted links resolve against it.
    pub root: PathBuf,
    pub config: Config,
}

impl LoadedConfig {
    /// Reads an explicit config file.
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
        let text = read_text(path)?;
        let config = Config::parse(&text, path)?;
        let root = absolute(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok(LoadedConfig {
            path: Some(path.to_path_buf()),
            root,
            config,
        })
    }

    /// Finds `ssoproof.yaml` in `start` or its ancestors; defaults when there is none.
    pub fn discover(start: &Path) -> Result<LoadedConfig, ConfigError> {
        let start = absolute(start);
        // Whatever is there is the configuration: a FIFO or a folder named `ssoproof.yaml` is
        // refused by `load`, not passed over for the defaults.
        if let Some(dir) = start.ancestors().find(|d| d.join(FILE_NAME).exists()) {
            return LoadedConfig::load(&dir.join(FILE_NAME));
        }
        let root = start
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(&start)
            .to_path_buf();
        Ok(LoadedConfig {
            path: None,
            root,
            config: Config::default(),
        })
    }
}

impl Config {
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        // An empty file (or one holding only comments) is the default configuration.
        let config: Config = if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            Config::default()
        } else {
            from_yaml(text, path)?
        };
        config.validate(text, path)?;
        Ok(config)
    }

    /// Rules that span several keys, which serde cannot express.
    fn validate(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let invalid =
            |key: &str, message: String| ConfigError::invalid_key(path, text, key, message);
        let review = &self.runbooks.review;
        if review.warn_after_days > review.fail_after_days {
            // At the threshold written; the other one took its default.
            let warn = "runbooks.review.warn_after_days";
            let key = if yaml::locate(text, &yaml::steps(warn)).is_some() {
                warn
            } else {
                "runbooks.review.fail_after_days"
            };
            return Err(invalid(
                key,
                format!(
                    "the warn threshold ({} days) must not exceed the fail threshold ({} days)",
                    review.warn_after_days, review.fail_after_days
                ),
            ));
        }
        for (i, exception) in self.runbooks.exceptions.iter().enumerate() {
            if exception.justification.trim().is_empty() {
                return Err(invalid(
                    &format!("runbooks.exceptions[{i}].justification"),
                    format!(
                        "the exception for `{}` needs a justification",
                        exception.path.as_str()
                    ),
                ));
            }
        }
        for (i, kind) in self.runbooks.kinds.iter().enumerate() {
            if kind.files.is_empty() {
                return Err(invalid(
                    &format!("runbooks.kinds[{i}].files"),
                    format!("runbook kind `{}` names no files", kind.name),
                ));
            }
        }
        if self.signoff.require_signature && self.signoff.allowed_signers.is_none() {
            return Err(invalid(
                "signoff.require_signature",
                "a required signature needs `signoff.allowed_signers`, the file of keys allowed to sign".into(),
            ));
        }
        Ok(())
    }
}

/// Parses a strict YAML file into `T`; a syntax error, unknown key or refused value is `D`'s
/// syntax error naming the file, line and column. Shared by every YAML file ssoproof reads.
pub fn from_yaml<T: serde::de::DeserializeOwned, D: FileDomain>(
    text: &str,
    path: &Path,
) -> Result<T, FileError<D>> {
    let syntax = |e: serde_yaml_ng::Error| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        // The location leads the message already; drop the parser's own suffix.
        let message = e.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = message.strip_suffix(&suffix).unwrap_or(&message);
        FileError::syntax(path, line, column, message)
    };
    // Counted first: deserializing a document whose aliases expand to millions of values
    // would take the memory before any error.
    yaml::check_expansion(text).map_err(syntax)?;
    serde_yaml_ng::from_str(text).map_err(syntax)
}

/// Deserializes a string into `T` through `T::try_from`, validating inside the scalar so that a
/// refused value is reported at its own line. (With `#[serde(try_from = "String")]` the error
/// surfaces outside the scalar and YAML reports the enclosing mapping's line instead.)
pub fn deserialize_checked<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<String, Error = String>,
{
    struct Checked<T>(std::marker::PhantomData<T>);
    impl<T: TryFrom<String, Error = String>> serde::de::Visitor<'_> for Checked<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
            T::try_from(value.to_string()).map_err(E::custom)
        }
    }
    deserializer.deserialize_str(Checked(std::marker::PhantomData))
}

/// Implements `Deserialize` through [`deserialize_checked`] for types that are `TryFrom<String>`.
#[macro_export]
macro_rules! deserialize_checked_impl {
    ($($ty:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::deserialize_checked(deserializer)
            }
        }
    )*};
}

/// `path` made absolute against the current directory, without touching the file system.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("ssoproof.yaml"))
    }

    #[test]
    fn empty_and_comment_only_files_are_defaults() {
        assert_eq!(parse("").unwrap().runbooks.review.warn_after_days, 90);
        assert_eq!(
            parse("# nothing yet\n").unwrap().lint.roots,
            [PathBuf::from("runbooks")]
        );
    }

    /// issue 13: the sign-off keys are read strictly, and a required signature without the
    /// keys allowed to make it is refused at its own line.
    #[test]
    fn signoff_keys_default_and_a_signature_needs_allowed_signers() {
        let defaults = parse("").unwrap().signoff;
        assert_eq!(defaults.dir, PathBuf::from("signoffs"));
        assert_eq!(defaults.review_days, 90);
        let set = parse("signoff:\n  required: [runbooks/keycloak.md]\n  review_days: 30\n  require_signature: true\n  allowed_signers: .ssoproof/allowed_signers\n").unwrap();
        assert_eq!(
            set.signoff.required,
            [PathBuf::from("runbooks/keycloak.md")]
        );
        let err = parse("signoff:\n  required: []\n  require_signature: true\n").unwrap_err();
        assert_eq!(err.code(), "config/invalid");
        assert!(err.to_string().contains(":3:"), "{err}");
        assert_eq!(
            parse("signoff:\n  folder: x\n").unwrap_err().code(),
            "config/syntax"
        );
    }

    #[test]
    fn an_unreadable_file_is_config_read_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let err = LoadedConfig::load(&path).unwrap_err();
        assert_eq!(err.code(), "config/read");
        let prefix = format!("cannot read {}: ", path.display());
        assert!(err.to_string().starts_with(&prefix), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_config_is_refused_not_waited_on_nor_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for err in [
            LoadedConfig::load(&path).unwrap_err(),
            LoadedConfig::discover(dir.path()).unwrap_err(),
        ] {
            assert_eq!(err.code(), "config/read");
            assert!(err.to_string().contains("a FIFO"), "{err}");
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
        }
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("lint:\n  roots: [docs]\n  rots: [x]\n").unwrap_err();
        assert_eq!(err.code(), "config/syntax");
        let text = err.to_string();
        assert!(text.starts_with("ssoproof.yaml:3:"), "{text}");
        assert!(text.contains("unknown field `rots`"), "{text}");
    }

    #[test]
    fn wrong_type_names_line() {
        let err = parse("runbooks:\n  review:\n    warn_after_days: soon\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ssoproof.yaml:3:"), "{text}");
        assert!(text.contains("warn_after_days"), "{text}");
    }

    #[test]
    fn bad_glob_regex_and_date_are_refused_where_written() {
        let err = parse("lint:\n  local_path_patterns: ['[unclosed']\n").unwrap_err();
        assert!(err.to_string().starts_with("ssoproof.yaml:2:"), "{err}");
        let err = parse("runbooks:\n  checklist:\n    sign_off: '(unclosed'\n").unwrap_err();
        assert!(err.to_string().contains("not a valid regex"), "{err}");
        let err = parse(
            "runbooks:\n  exceptions:\n    - path: a.md\n      justification: x\n      expires: 2026-02-30\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a YYYY-MM-DD date"), "{err}");
    }

    #[test]
    fn thresholds_must_be_ordered() {
        let err = parse("runbooks:\n  review:\n    warn_after_days: 200\n").unwrap_err();
        assert_eq!(err.code(), "config/invalid");
        assert!(
            err.to_string()
                .starts_with("ssoproof.yaml:3:22: `runbooks.review.warn_after_days`"),
            "{err}"
        );
    }

    /// The `file:line:column` an error starts with.
    fn position(err: &ConfigError) -> String {
        let text = err.to_string();
        text.split(": ").next().unwrap_or_default().to_string()
    }

    #[test]
    fn every_value_is_reported_at_its_own_line_and_column() {
        // Flow style: no line starts with the key.
        let err =
            parse("lint: {roots: [x]}\nrunbooks:\n  review: {warn_after_days: 200}\n").unwrap_err();
        assert_eq!(position(&err), "ssoproof.yaml:3:29", "{err}");
        // Only the fail threshold written: reported there.
        let err = parse("runbooks:\n  review:\n    fail_after_days: 10\n").unwrap_err();
        assert_eq!(position(&err), "ssoproof.yaml:3:22", "{err}");
        assert!(err.to_string().contains("fail_after_days"), "{err}");
        // The second item of a list, not the first holding the same key.
        let exceptions = "runbooks:\n  exceptions:\n    - path: a.md\n      justification: fine\n      expires: 2027-01-01\n    - path: b.md\n      justification: ' '\n      expires: 2027-01-01\n";
        let err = parse(exceptions).unwrap_err();
        assert_eq!(position(&err), "ssoproof.yaml:7:22", "{err}");
        assert!(err
            .to_string()
            .contains("runbooks.exceptions[1].justification"));
        let kinds = "runbooks:\n  kinds:\n    - name: a\n      files: ['a/*.md']\n    - name: b\n      files: []\n";
        let err = parse(kinds).unwrap_err();
        assert_eq!(position(&err), "ssoproof.yaml:6:14", "{err}");
        // Values refused while parsing: at the value, not at the mapping around it.
        let err = parse(&exceptions.replace(
            "justification: ' '\n      expires: 2027-01-01",
            "justification: x\n      expires: 2027-02-30",
        ))
        .unwrap_err();
        assert_eq!(err.code(), "config/syntax");
        assert_eq!(position(&err), "ssoproof.yaml:8:16", "{err}");
        let err =
            parse("lint:\n  local_path_patterns:\n    - '/ok/*'\n    - '[unclosed'\n").unwrap_err();
        assert_eq!(position(&err), "ssoproof.yaml:4:7", "{err}");
        let err = parse("runbooks:\n  exceptions:\n    - path: a.md\n      justification: x\n      expires: 2027-01-01\n    - path: '[b'\n      justification: x\n      expires: 2027-01-01\n").unwrap_err();
        assert_eq!(position(&err), "ssoproof.yaml:6:13", "{err}");
    }

    #[test]
    fn aliases_cannot_expand_past_the_limit_and_globs_compile_once() {
        // The reported file: one kind of 1,000 globs referenced 1,000 times (29 KB, and
        // past 5 GB once expanded before the limit).
        let globs = (0..1000)
            .map(|i| format!("'g{i}/*'"))
            .collect::<Vec<_>>()
            .join(", ");
        let kinds = (0..1000)
            .map(|i| format!("    - {{name: k{i}, files: *g}}\n"))
            .collect::<String>();
        let text = format!("lint:\n  allowed_http: &g [{globs}]\nrunbooks:\n  kinds:\n{kinds}");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.code(), "config/syntax");
        assert!(err.to_string().contains("aliases"), "{err}");
        assert!(err.to_string().starts_with("ssoproof.yaml:"), "{err}");
        // A few uses are fine, and share one compiled glob per text.
        let kinds = (0..10)
            .map(|i| format!("    - {{name: k{i}, files: *g}}\n"))
            .collect::<String>();
        let text = format!("lint:\n  allowed_http: &g [{globs}]\nrunbooks:\n  kinds:\n{kinds}");
        let config = parse(&text).unwrap();
        let kinds = &config.runbooks.kinds;
        assert_eq!(kinds.len(), 10);
        assert!(Arc::ptr_eq(
            &kinds[0].files[999].compiled,
            &kinds[9].files[999].compiled
        ));
        assert!(Arc::ptr_eq(
            &config.lint.allowed_http[5].compiled,
            &kinds[3].files[5].compiled
        ));
    }

    /// Fragments of `ssoproof.yaml`: its keys, YAML punctuation, anchors and aliases, values
    /// of every kind, glued in any order.
    fn config_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let fragment = prop::sample::select(vec![
            "lint:",
            "runbooks:",
            "verify:",
            "roots:",
            "local_path_patterns:",
            "ignore:",
            "allowed_http:",
            "renderer:",
            "review:",
            "warn_after_days:",
            "fail_after_days:",
            "exceptions:",
            "kinds:",
            "name:",
            "files:",
            "exclude:",
            "sections:",
            "checklist:",
            "bindings:",
            "path:",
            "justification:",
            "expires:",
            "sign_off:",
            "features:",
            "\n",
            "\n  ",
            "\n    ",
            "\n- ",
            "- ",
            " ",
            ": ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "'",
            "\"",
            "&a ",
            "*a",
            "&b ",
            "*b",
            "!!str ",
            "? ",
            "|\n  ",
            ">",
            "#",
            "---\n",
            "...",
            "2026-02-30",
            "2027-01-01",
            "200",
            "-1",
            "4294967296",
            "~",
            "null",
            "true",
            "'[unclosed'",
            "'(unclosed'",
            "'**'",
            "runbooks/*.md",
            "mdbook",
            "é",
            "\t",
        ]);
        prop_oneof![
            prop::collection::vec(fragment, 0..60).prop_map(|parts| parts.concat()),
            any::<String>(),
        ]
    }

    proptest::proptest! {
        // PROPTEST_CASES raises the case count (256 by default, a few seconds).
        #[test]
        fn any_text_is_a_config_or_an_error_inside_the_file(text in config_text()) {
            if let Err(err) = parse(&text) {
                let lines = text.lines().count().max(1);
                let line = match err.problem() {
                    Problem::Read(_) => unreachable!("nothing is read"),
                    Problem::Syntax { line, .. } | Problem::Invalid { line, .. } => *line,
                };
                // libyaml may point just past the last line at the end of the input.
                proptest::prop_assert!(line >= 1 && line <= lines + 1, "{err} for {text:?}");
                proptest::prop_assert!(err.to_string().starts_with("ssoproof.yaml:"));
            }
        }
    }

    #[test]
    fn default_local_path_patterns() {
        let config = Config::default();
        let hit = |t: &str| config.lint.local_path_patterns.iter().any(|p| p.matches(t));
        for leak in [
            "/home/alice/x.md",
            "/Users/bob/x.md",
            "C:\\Users\\a\\x.md",
            "D:/work/x.md",
            "file:///x",
            "~/notes.md",
        ] {
            assert!(hit(leak), "{leak}");
        }
        for fine in [
            "../docs/x.md",
            "/docs/x.md",
            "https://example.com/home/x",
            "okta.md",
        ] {
            assert!(!hit(fine), "{fine}");
        }
    }

    #[test]
    fn kinds_match_first_and_respect_exclude() {
        let config = parse(
            "runbooks:\n  kinds:\n    - name: cloud\n      files: ['runbooks/aws-*.md']\n      sections: [Prerequisites]\n    - name: idp\n      files: ['runbooks/*.md']\n      exclude: ['runbooks/index.md']\n",
        )
        .unwrap();
        let kind = |p: &str| {
            config
                .runbooks
                .kinds
                .iter()
                .find(|k| k.matches(Path::new(p)))
                .map(|k| k.name.as_str())
        };
        assert_eq!(kind("runbooks/aws-bedrock.md"), Some("cloud"));
        assert_eq!(kind("runbooks/okta.md"), Some("idp"));
        assert_eq!(kind("runbooks/index.md"), None);
        assert_eq!(kind("docs/x.md"), None);
    }

    #[test]
    fn renderer_and_allowed_http_are_strict() {
        let config = parse(
            "lint:\n  renderer: mdbook\n  allowed_http: ['http://grafana.internal:3000/*']\n",
        )
        .unwrap();
        assert_eq!(config.lint.renderer, Renderer::Mdbook);
        assert!(config.lint.allowed_http[0].matches("http://grafana.internal:3000/d/x"));
        assert_eq!(Config::default().lint.renderer, Renderer::Github);
        let err = parse("lint:\n  renderer: hugo\n").unwrap_err();
        assert!(err.to_string().starts_with("ssoproof.yaml:2:"), "{err}");
        assert!(err.to_string().contains("unknown variant `hugo`"), "{err}");
        let err = parse("lint:\n  allowed_http: ['[unclosed']\n").unwrap_err();
        assert!(err.to_string().starts_with("ssoproof.yaml:2:"), "{err}");
    }
}
