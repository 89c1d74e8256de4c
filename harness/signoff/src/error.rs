//! Why a sign-off could not be made or checked. Codes are stable and documented in the README.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SignoffError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:1: has no `## {section}` with `- [ ]` items: there is nothing to sign off; add the checklist (see `ssoproof lint`)", path.display())]
    NoChecklist { path: PathBuf, section: String },
    #[error("{}:1: {problem}; only a runbook whose kind has `bindings: true` in ssoproof.yaml can be signed off against its scenarios", path.display())]
    NotBound { path: PathBuf, problem: String },
    #[error("cannot write the record in {}: {source}; make the folder writable or set `signoff.dir` in ssoproof.yaml", dir.display())]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{} already exists; pass --force to replace it", path.display())]
    Exists { path: PathBuf },
    #[error("{}:{line}: the record is not what `ssoproof signoff` wrote: {problem}; sign the runbook off again", path.display())]
    Edited {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("{}:{line}:{column}: not a sign-off record: {message}", path.display())]
    Record {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {problem}", path.display())]
    Signature { path: PathBuf, problem: String },
    #[error(transparent)]
    Answers(#[from] crate::store::AnswersError),
    #[error("no answer for these [manual] items, and stdin is not a terminal to ask on: {}; answer them in --answers FILE", items.join("; "))]
    Unanswered { items: Vec<String> },
}

impl SignoffError {
    /// Every code [`SignoffError::code`] returns, for the README's table.
    pub const CODES: &'static [&'static str] = &[
        "signoff/read",
        "signoff/no-checklist",
        "signoff/not-bound",
        "signoff/write",
        "signoff/exists",
        "signoff/edited",
        "signoff/record",
        "signoff/signature",
        "signoff/answers",
        "signoff/unanswered",
    ];

    pub fn code(&self) -> &'static str {
        match self {
            SignoffError::Read { .. } => "signoff/read",
            SignoffError::NoChecklist { .. } => "signoff/no-checklist",
            SignoffError::NotBound { .. } => "signoff/not-bound",
            SignoffError::Write { .. } => "signoff/write",
            SignoffError::Exists { .. } => "signoff/exists",
            SignoffError::Edited { .. } => "signoff/edited",
            SignoffError::Record { .. } => "signoff/record",
            SignoffError::Signature { .. } => "signoff/signature",
            SignoffError::Answers(_) => "signoff/answers",
            SignoffError::Unanswered { .. } => "signoff/unanswered",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_lists_what_code_returns() {
        let io = || std::io::Error::other("x");
        let path = PathBuf::from("r.md");
        let errors = [
            SignoffError::Read {
                path: path.clone(),
                source: io(),
            },
            SignoffError::NoChecklist {
                path: path.clone(),
                section: "C".into(),
            },
            SignoffError::NotBound {
                path: path.clone(),
                problem: "p".into(),
            },
            SignoffError::Write {
                dir: path.clone(),
                source: io(),
            },
            SignoffError::Exists { path: path.clone() },
            SignoffError::Edited {
                path: path.clone(),
                line: 1,
                problem: "p".into(),
            },
            SignoffError::Record {
                path: path.clone(),
                line: 1,
                column: 1,
                message: "m".into(),
            },
            SignoffError::Signature {
                path: path.clone(),
                problem: "p".into(),
            },
            SignoffError::Answers(crate::store::AnswersError::read(&path, io())),
            SignoffError::Unanswered { items: vec![] },
        ];
        let codes: Vec<&str> = errors.iter().map(SignoffError::code).collect();
        assert_eq!(codes, SignoffError::CODES);
    }
}
