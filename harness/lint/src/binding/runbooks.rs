//! The runbooks a project's lint roots hold, with their items and bindings.

use std::path::PathBuf;

use super::{items, BoundItem, Sections};
use crate::{Document, LintError};
use ssoproof_config::{absolute, LoadedConfig};

#[derive(Debug)]
pub struct RunbookItems {
    /// As `ssoproof lint` names it.
    pub file: String,
    pub path: PathBuf,
    /// Whether its kind requires bindings (`bindings: true`).
    pub bound: bool,
    pub items: Vec<BoundItem>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunbooksError {
    #[error(transparent)]
    Lint(#[from] LintError),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RunbooksError {
    pub fn code(&self) -> &'static str {
        match self {
            RunbooksError::Lint(e) => e.code(),
            RunbooksError::Read { .. } => "binding/read",
        }
    }
}

/// Every runbook (a file some runbook kind matches) under the configured lint roots.
pub fn runbooks(config: &LoadedConfig) -> Result<Vec<RunbookItems>, RunbooksError> {
    let runbooks = &config.config.runbooks;
    let sections = Sections {
        checklist: &runbooks.checklist.section,
        troubleshooting: &runbooks.bindings.troubleshooting_section,
        manual_marker: &runbooks.bindings.manual_marker,
    };
    let root = absolute(&config.root);
    let mut found = Vec::new();
    for (file, path) in crate::files(config, &[])? {
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        let Some(kind) = runbooks.kinds.iter().find(|k| k.matches(relative)) else {
            continue;
        };
        let text =
            std::fs::read(&path)
                .map(Document::text)
                .map_err(|source| RunbooksError::Read {
                    path: path.clone(),
                    source,
                })?;
        let doc = Document::parse(&text);
        let items = items(&doc, &text, &path, &root, &sections);
        found.push(RunbookItems {
            file,
            path,
            bound: kind.bindings,
            items,
        });
    }
    Ok(found)
}
