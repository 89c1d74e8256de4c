//! What a check reports: a rule, where, what is wrong and how to fix it.

use super::document::{Place, Position, Span};
use super::rules::{Rule, Severity};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as reached from the command-line arguments (or the configured roots).
    pub file: String,
    /// Line and column; for a diagnostic made with a [`Span`], resolved when it is reported.
    pub position: Position,
    /// The byte span whose position is still to be computed: link positions are only worked
    /// out for the few links a diagnostic is about, not for every link parsed.
    pub span: Option<Span>,
    pub rule: Rule,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    /// The raw link target (or reference label) the diagnostic is about, if any.
    pub target: Option<String>,
    /// The source the position points into, for excerpts; filled in when reporting.
    pub excerpt: Option<Excerpt>,
}

/// The line a diagnostic points into, or, on a line too long to print whole (minified or
/// generated Markdown), a window of it around the position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    pub text: String,
    /// The 1-based column (in characters) of the line at which `text` starts.
    pub first_column: usize,
}

impl Excerpt {
    /// Lines up to this many bytes are shown whole; longer ones as a window of about as many
    /// bytes around the position, so a diagnostic never copies a whole megabyte line.
    pub const MAX_BYTES: usize = 400;
}

impl Diagnostic {
    pub fn new(rule: Rule, position: Position, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: String::new(),
            position,
            span: None,
            rule,
            severity: rule.default_severity(),
            message: message.into(),
            help: None,
            target: None,
            excerpt: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Diagnostic {
        self.target = Some(target.into());
        self
    }

    pub fn position(mut self, position: Position) -> Diagnostic {
        self.position = position;
        self
    }

    /// Places the diagnostic at a position, or at a span resolved when it is reported.
    pub fn place(mut self, place: Place) -> Diagnostic {
        match place {
            Place::At(position) => self.position = position,
            Place::Span(span) => self.span = Some(span),
        }
        self
    }

    pub fn severity(mut self, severity: Severity) -> Diagnostic {
        self.severity = severity;
        self
    }
}

/// A position for file-level findings (line 1, column 1).
pub const FILE_START: Position = Position {
    line: 1,
    column: 1,
    width: 1,
};
