//! The one error type for the YAML files ssoproof reads (`ssoproof.yaml`, the cloud accounts,
//! the doctor profile, the vendor personas): the file cannot be read, it does not parse into its
//! schema, or a value the parser accepted breaks a rule. The message shapes are shared; each
//! kind of file (a [`FileDomain`]) has its own stable codes, documented in the README.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// A kind of file with its own error codes, e.g. `ssoproof.yaml` with `config/read`,
/// `config/syntax` and `config/invalid`. Implemented by an uninhabited marker type.
pub trait FileDomain {
    /// The file could not be read.
    const READ: &'static str;
    /// Not valid YAML, an unknown key, a wrong type or a value refused while parsing.
    const SYNTAX: &'static str;
    /// A value the parser accepted breaks a rule.
    const INVALID: &'static str;
    /// How a read error names the file before its path (`persona file`); `None` for the path
    /// alone.
    const NAME: Option<&'static str> = None;
}

/// What is wrong with the file. Each kind carries exactly the position it can know: a read
/// error none, a syntax error the parser's line and column, an invalid value its line and key.
#[derive(Debug)]
pub enum Problem {
    Read(std::io::Error),
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    Invalid {
        line: usize,
        /// Known when the value was located in the text.
        column: Option<usize>,
        key: String,
        message: String,
    },
}

/// Why a file of domain `D` cannot be used; its [`code`](FileError::code) is `D`'s.
pub struct FileError<D> {
    path: PathBuf,
    problem: Problem,
    // `fn() -> D`: the marker is never stored, so the error is Send + Sync whatever `D` is.
    domain: PhantomData<fn() -> D>,
}

impl<D: FileDomain> FileError<D> {
    /// Every code an error of this domain can carry, in the order read, syntax, invalid.
    pub const CODES: [&'static str; 3] = [D::READ, D::SYNTAX, D::INVALID];

    pub fn new(path: &Path, problem: Problem) -> Self {
        FileError {
            path: path.to_path_buf(),
            problem,
            domain: PhantomData,
        }
    }

    pub fn read(path: &Path, source: std::io::Error) -> Self {
        FileError::new(path, Problem::Read(source))
    }

    pub fn syntax(path: &Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        FileError::new(
            path,
            Problem::Syntax {
                line,
                column,
                message: message.into(),
            },
        )
    }

    pub fn invalid(
        path: &Path,
        line: usize,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FileError::new(
            path,
            Problem::Invalid {
                line,
                column: None,
                key: key.into(),
                message: message.into(),
            },
        )
    }

    /// An invalid value at the key path `key` of `text` (`runbooks.exceptions[1].expires`),
    /// reported at the value's own line and column; a key left to its default is reported at
    /// the nearest enclosing value written.
    pub fn invalid_key(path: &Path, text: &str, key: &str, message: impl Into<String>) -> Self {
        FileError::invalid_at(path, text, &crate::yaml::steps(key), key, message)
    }

    /// [`FileError::invalid_key`] for a path given as steps (keys that hold a `.`).
    pub fn invalid_at(
        path: &Path,
        text: &str,
        steps: &[crate::yaml::Step],
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = crate::yaml::locate_nearest(text, steps);
        FileError::new(
            path,
            Problem::Invalid {
                line,
                column: Some(column),
                key: key.into(),
                message: message.into(),
            },
        )
    }

    pub fn code(&self) -> &'static str {
        match self.problem {
            Problem::Read(_) => D::READ,
            Problem::Syntax { .. } => D::SYNTAX,
            Problem::Invalid { .. } => D::INVALID,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

/// Reads a whole file as text, a failure being `D`'s read error.
pub fn read_text<D: FileDomain>(path: &Path) -> Result<String, FileError<D>> {
    crate::fs::read_to_string(path).map_err(|source| FileError::read(path, source))
}

impl<D: FileDomain> fmt::Display for FileError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.problem {
            Problem::Read(source) => match D::NAME {
                Some(name) => write!(f, "cannot read {name} {path}: {source}"),
                None => write!(f, "cannot read {path}: {source}"),
            },
            Problem::Syntax {
                line,
                column,
                message,
            } => write!(f, "{path}:{line}:{column}: {message}"),
            Problem::Invalid {
                line,
                column: Some(column),
                key,
                message,
            } => write!(f, "{path}:{line}:{column}: `{key}`: {message}"),
            Problem::Invalid {
                line, key, message, ..
            } => write!(f, "{path}:{line}: `{key}`: {message}"),
        }
    }
}

// By hand: a derive would demand `D: Debug` of the marker, and the code says more than `D`.
impl<D: FileDomain> fmt::Debug for FileError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileError")
            .field("code", &self.code())
            .field("path", &self.path)
            .field("problem", &self.problem)
            .finish()
    }
}

impl<D: FileDomain> std::error::Error for FileError<D> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Read(source) => Some(source),
            Problem::Syntax { .. } | Problem::Invalid { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Plain {}
    impl FileDomain for Plain {
        const READ: &'static str = "plain/read";
        const SYNTAX: &'static str = "plain/syntax";
        const INVALID: &'static str = "plain/invalid";
    }

    enum Named {}
    impl FileDomain for Named {
        const READ: &'static str = "named/read";
        const SYNTAX: &'static str = "named/syntax";
        const INVALID: &'static str = "named/invalid";
        const NAME: Option<&'static str> = Some("named file");
    }

    fn missing() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::NotFound, "gone")
    }

    #[test]
    fn each_kind_has_its_message_shape_and_its_domains_code() {
        let path = Path::new("dir/a.yaml");
        let read = FileError::<Plain>::read(path, missing());
        assert_eq!(read.to_string(), "cannot read dir/a.yaml: gone");
        assert_eq!(read.code(), "plain/read");
        let syntax = FileError::<Plain>::syntax(path, 3, 7, "unknown field `x`");
        assert_eq!(syntax.to_string(), "dir/a.yaml:3:7: unknown field `x`");
        assert_eq!(syntax.code(), "plain/syntax");
        let invalid = FileError::<Plain>::invalid(path, 4, "a.b", "must not be empty");
        assert_eq!(
            invalid.to_string(),
            "dir/a.yaml:4: `a.b`: must not be empty"
        );
        assert_eq!(invalid.code(), "plain/invalid");
    }

    #[test]
    fn a_named_domain_names_the_file_in_read_errors_only() {
        let path = Path::new("b.yaml");
        let read = FileError::<Named>::read(path, missing());
        assert_eq!(read.to_string(), "cannot read named file b.yaml: gone");
        assert_eq!(read.code(), "named/read");
        let syntax = FileError::<Named>::syntax(path, 1, 1, "bad");
        assert_eq!(syntax.to_string(), "b.yaml:1:1: bad");
        assert_eq!(syntax.code(), "named/syntax");
        let invalid = FileError::<Named>::invalid(path, 2, "k", "bad");
        assert_eq!(invalid.to_string(), "b.yaml:2: `k`: bad");
        assert_eq!(invalid.code(), "named/invalid");
        assert_eq!(
            FileError::<Named>::CODES,
            ["named/read", "named/syntax", "named/invalid"]
        );
    }

    #[test]
    fn invalid_key_points_at_the_value_itself() {
        // An earlier `c:` elsewhere must not be taken for it.
        let text = "x:\n  c: 0\na:\n  b: {c: 1}\n";
        let err = FileError::<Plain>::invalid_key(Path::new("d.yaml"), text, "a.b.c", "no");
        assert_eq!(err.to_string(), "d.yaml:4:10: `a.b.c`: no");
    }

    #[test]
    fn only_a_read_error_has_a_source() {
        use std::error::Error;
        let path = Path::new("c.yaml");
        let read = FileError::<Plain>::read(path, missing());
        assert_eq!(read.source().unwrap().to_string(), "gone");
        assert!(FileError::<Plain>::syntax(path, 1, 1, "x")
            .source()
            .is_none());
        assert!(FileError::<Plain>::invalid(path, 1, "k", "x")
            .source()
            .is_none());
    }

    #[test]
    fn read_text_reports_the_domains_read_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.yaml");
        let err = read_text::<Named>(&missing).unwrap_err();
        assert_eq!(err.code(), "named/read");
        assert_eq!(err.path(), missing);
        assert!(
            matches!(err.problem(), Problem::Read(e) if e.kind() == std::io::ErrorKind::NotFound)
        );
        let here = dir.path().join("here.yaml");
        std::fs::write(&here, "a: 1\n").unwrap();
        assert_eq!(read_text::<Named>(&here).unwrap(), "a: 1\n");
    }
}
