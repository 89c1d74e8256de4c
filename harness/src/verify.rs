//! `ssoproof verify`, the main job: lint the runbooks, run every feature against the chosen
//! backends, and report each bound runbook item with the result of the scenarios that prove it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::backend::BackendKind;
use crate::binding::{self, BoundItem, ItemKind, Sections};
use crate::config::{absolute, LoadedConfig};
use crate::lint::{self, Document, LintError, LintReport, LintRequest, Severity};
use crate::scenario::{self, Outcome, RunOptions, ScenarioError, ScenarioResult};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Lint(#[from] LintError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Lint(e) => e.code(),
            VerifyError::Scenario(e) => e.code(),
            VerifyError::Read { .. } => "verify/read",
        }
    }
}

pub struct VerifyOptions {
    pub backends: Vec<BackendKind>,
    /// The feature folder, relative to the project root unless absolute.
    pub features: PathBuf,
    /// A folder for cucumber's JUnit reports, one per backend.
    pub junit_dir: Option<PathBuf>,
    pub verbose: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum ItemStatus {
    Passed,
    Failed(String),
    Skipped(String),
    Manual,
    Unbound,
}

#[derive(Debug, Serialize)]
pub struct ItemReport {
    pub kind: ItemKind,
    pub line: usize,
    pub text: String,
    #[serde(flatten)]
    pub status: ItemStatus,
    pub scenarios: Vec<ScenarioResult>,
}

#[derive(Debug, Serialize)]
pub struct RunbookReport {
    pub file: String,
    pub items: Vec<ItemReport>,
}

#[derive(Debug)]
pub struct VerifyReport {
    pub lint: LintReport,
    pub results: Vec<ScenarioResult>,
    pub runbooks: Vec<RunbookReport>,
}

impl VerifyReport {
    pub fn passed(&self) -> bool {
        !self.lint.has_errors()
            && !self
                .results
                .iter()
                .any(|r| matches!(r.outcome, Outcome::Failed(_)))
    }
}

pub async fn verify(
    config: &LoadedConfig,
    options: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let lint = lint::lint(config, &LintRequest::default())?;
    let features = config.root.join(&options.features);
    let mut results = Vec::new();
    for kind in &options.backends {
        let backend = kind.build(&config.root);
        let junit = options
            .junit_dir
            .as_ref()
            .map(|d| d.join(format!("cucumber-{}.xml", backend.name())));
        let run = RunOptions {
            root: config.root.clone(),
            features: features.clone(),
            junit,
            verbose: options.verbose,
        };
        results.extend(scenario::run(Arc::clone(&backend), &run).await?);
    }
    let runbooks = runbook_reports(config, &results)?;
    Ok(VerifyReport {
        lint,
        results,
        runbooks,
    })
}

/// Every bound runbook's items with the results of the scenarios they cite.
fn runbook_reports(
    config: &LoadedConfig,
    results: &[ScenarioResult],
) -> Result<Vec<RunbookReport>, VerifyError> {
    let runbooks = &config.config.runbooks;
    let sections = Sections {
        checklist: &runbooks.checklist.section,
        troubleshooting: &runbooks.bindings.troubleshooting_section,
        manual_marker: &runbooks.bindings.manual_marker,
    };
    let root = absolute(&config.root);
    let mut reports = Vec::new();
    for (display, path) in lint::files(config, &[])? {
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        let Some(kind) = runbooks.kinds.iter().find(|k| k.matches(relative)) else {
            continue;
        };
        if !kind.bindings {
            continue;
        }
        let text =
            std::fs::read(&path)
                .map(Document::text)
                .map_err(|source| VerifyError::Read {
                    path: path.clone(),
                    source,
                })?;
        let doc = Document::parse(&text);
        let lines: Vec<&str> = text.lines().collect();
        let items = binding::items(&doc, &lines, &path, &root, &sections)
            .into_iter()
            .map(|item| item_report(item, results))
            .collect();
        reports.push(RunbookReport {
            file: display,
            items,
        });
    }
    Ok(reports)
}

fn item_report(item: BoundItem, results: &[ScenarioResult]) -> ItemReport {
    let scenarios: Vec<ScenarioResult> = results
        .iter()
        .filter(|r| {
            item.scenarios
                .iter()
                .any(|b| same_file(&b.feature, &r.feature) && r.tags.contains(&b.id))
        })
        .cloned()
        .collect();
    let status = if item.manual && item.scenarios.is_empty() {
        ItemStatus::Manual
    } else if item.scenarios.is_empty() {
        ItemStatus::Unbound
    } else if let Some((failed, reason)) = scenarios.iter().find_map(|r| match &r.outcome {
        Outcome::Failed(reason) => Some((r, reason)),
        _ => None,
    }) {
        ItemStatus::Failed(format!(
            "[{}] {}: {reason}",
            failed.backend, failed.scenario
        ))
    } else if scenarios.iter().any(|r| r.outcome == Outcome::Passed) {
        ItemStatus::Passed
    } else if let Some(Outcome::Skipped(reason)) = scenarios.first().map(|r| &r.outcome) {
        ItemStatus::Skipped(reason.clone())
    } else {
        ItemStatus::Failed("no scenario carries the bound tag (see `ssoproof lint`)".into())
    };
    ItemReport {
        kind: item.kind,
        line: item.line,
        text: item.text,
        status,
        scenarios,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(a, b)| a == b)
}

/// Counts for summaries.
pub fn lint_counts(report: &LintReport) -> (usize, usize) {
    (
        report.count(Severity::Error),
        report.count(Severity::Warning),
    )
}
