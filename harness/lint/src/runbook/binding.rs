//! Every checklist item and troubleshooting row is bound to a scenario (or marked manual), and
//! every binding names exactly one existing scenario.

use std::path::{Path, PathBuf};

use super::Runbook;
use crate::binding::{self, FeatureError, FeatureFile, Sections};
use crate::diagnostic::{Diagnostic, FILE_START};
use crate::once_cache::OnceCache;
use crate::rules::Rule;
use ssoproof_config::BindingsConfig;

/// Feature files parsed at most once per run, shared by all runbooks.
pub type FeatureCache = OnceCache<PathBuf, Result<FeatureFile, FeatureError>>;

pub fn check(
    runbook: &Runbook,
    file: &Path,
    root: &Path,
    config: &BindingsConfig,
    checklist_section: &str,
    features: &FeatureCache,
    out: &mut Vec<Diagnostic>,
) {
    if !runbook.kind.bindings {
        return;
    }
    let sections = Sections {
        checklist: checklist_section,
        troubleshooting: &config.troubleshooting_section,
        manual_marker: &config.manual_marker,
    };
    // A broken feature file is reported once per runbook, not once per binding into it.
    let mut reported_syntax: Vec<PathBuf> = Vec::new();
    for item in binding::items(runbook.doc, runbook.source, file, root, &sections) {
        if item.scenarios.is_empty() && !item.manual {
            let what = match item.kind {
                binding::ItemKind::ChecklistItem => "checklist item",
                binding::ItemKind::TroubleshootingRow => "troubleshooting row",
            };
            let line = runbook.line(item.line);
            out.push(
                Diagnostic::new(
                    Rule::Unbound,
                    super::line_position(item.line, line),
                    format!("this {what} is bound to no scenario"),
                )
                .help(format!(
                    "link the scenario that proves it, e.g. `[proof](../features/<runbook>.feature#<scenario-tag>)`, or mark it `{}`",
                    config.manual_marker
                )),
            );
        }
        for target in &item.scenarios {
            let slot = features.get_or_load(&target.feature, || FeatureFile::load(&target.feature));
            let Some(loaded) = slot.get() else { continue };
            let report = |rule: Rule, message: String| {
                Diagnostic::new(rule, FILE_START, message)
                    .place(target.place)
                    .target(&target.raw)
            };
            match loaded {
                // A missing feature file is link/missing-file's to report; anything else that
                // cannot be read (a folder, not UTF-8, a FIFO) proves nothing and says so.
                Err(FeatureError::Read { .. })
                    if std::fs::symlink_metadata(&target.feature).is_err() => {}
                Err(error) => {
                    if reported_syntax.contains(&target.feature) {
                        continue;
                    }
                    reported_syntax.push(target.feature.clone());
                    let shown = target.feature.strip_prefix(root).unwrap_or(&target.feature);
                    let (problem, help) = match error {
                        FeatureError::Read { message, .. } => (
                            format!("cannot be read as Gherkin: {message}"),
                            "bind to a UTF-8 `.feature` file",
                        ),
                        FeatureError::Syntax {
                            line,
                            column,
                            message,
                            ..
                        } => (
                            format!("is not valid Gherkin at {line}:{column}: {message}"),
                            "fix the feature file; the position is its line and column",
                        ),
                    };
                    out.push(
                        report(
                            Rule::FeatureSyntax,
                            format!("`{}` {problem}", shown.display()),
                        )
                        .help(help),
                    );
                }
                Ok(feature) => match feature.tagged(&target.id).len() {
                    1 => {}
                    0 => {
                        let tags = feature
                            .scenarios
                            .iter()
                            .flat_map(|s| s.tags.iter().map(String::as_str))
                            .collect::<Vec<_>>();
                        let help = match ssoproof_config::suggest::nearest(&target.id, tags) {
                            Some(close) => format!("did you mean `#{close}`?"),
                            None => format!(
                                "tag the proving scenario `@{}` in {}",
                                target.id,
                                target
                                    .feature
                                    .file_name()
                                    .map(|n| n.to_string_lossy())
                                    .unwrap_or_default()
                            ),
                        };
                        let message = if target.id.is_empty() {
                            "the binding names no scenario: add `#<scenario-tag>`".to_string()
                        } else {
                            format!(
                                "no scenario is tagged `@{}` in `{}`",
                                target.id, feature.name
                            )
                        };
                        out.push(report(Rule::UnknownScenario, message).help(help));
                    }
                    n => out.push(
                        report(
                            Rule::AmbiguousScenario,
                            format!(
                                "{n} scenarios are tagged `@{}` in `{}`",
                                target.id, feature.name
                            ),
                        )
                        .help("give the proving scenario a tag of its own"),
                    ),
                },
            }
        }
    }
}
