//! `ssoproof coverage`: for each runbook, every checklist item and troubleshooting row with the
//! scenario that proves it and that scenario's last result (from the last `ssoproof verify`),
//! and the scenarios no runbook cites.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::scenario::{self, Outcome, ScenarioError};
use crate::verify::{last_run_path, LastRun};
use ssoproof_config::{absolute, LoadedConfig};
use ssoproof_lint::binding::{self, FeatureFile, ItemKind, RunbooksError};

#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error(transparent)]
    Runbooks(#[from] RunbooksError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{}: not a record of a verify run ({reason}); run `ssoproof verify` again", path.display())]
    LastRun { path: PathBuf, reason: String },
}

impl CoverageError {
    pub fn code(&self) -> &'static str {
        match self {
            CoverageError::Runbooks(e) => e.code(),
            CoverageError::Scenario(e) => e.code(),
            CoverageError::LastRun { .. } => "coverage/last-run",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CoverageReport {
    /// When the results shown were produced; `None` when `verify` never ran here.
    pub last_run: Option<String>,
    pub runbooks: Vec<RunbookCoverage>,
    /// Scenarios whose tags no runbook item cites.
    pub uncited: Vec<ScenarioLocation>,
}

#[derive(Debug, Serialize)]
pub struct RunbookCoverage {
    pub file: String,
    pub items: Vec<ItemCoverage>,
}

#[derive(Debug, Serialize)]
pub struct ItemCoverage {
    pub kind: ItemKind,
    pub line: usize,
    pub text: String,
    pub manual: bool,
    pub proofs: Vec<Proof>,
}

#[derive(Debug, Serialize)]
pub struct Proof {
    /// The feature file, relative to the project root.
    pub feature: PathBuf,
    pub tag: String,
    /// The scenario carrying the tag, when exactly one does.
    pub scenario: Option<ScenarioLocation>,
    /// Its last results, one per backend and run.
    pub last: Vec<LastResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioLocation {
    pub feature: PathBuf,
    pub line: usize,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct LastResult {
    pub backend: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

pub fn coverage(config: &LoadedConfig) -> Result<CoverageReport, CoverageError> {
    let root = absolute(&config.root);
    let features = scenario::feature_files(&root.join(&config.config.verify.features))?;
    let last_run = load_last_run(config)?;
    let relative = |p: &Path| p.strip_prefix(&root).unwrap_or(p).to_path_buf();
    let bound = binding::runbooks(config)?;
    let elsewhere = bound_elsewhere(&bound, &features)?;
    let mut cited: Vec<(PathBuf, String)> = Vec::new();
    let mut runbooks = Vec::new();
    for runbook in bound {
        let items = runbook
            .items
            .into_iter()
            .map(|item| {
                let proofs = item
                    .scenarios
                    .iter()
                    .map(|target| {
                        cited.push((target.feature.clone(), target.id.clone()));
                        let feature = relative(&target.feature);
                        let scenario = carrier(
                            features.iter().chain(&elsewhere),
                            &target.feature,
                            &target.id,
                            &relative,
                        );
                        let last = last_run
                            .iter()
                            .flat_map(|run| &run.results)
                            .filter(|r| r.feature == feature && r.tags.contains(&target.id))
                            .map(|r| LastResult {
                                backend: r.backend.clone(),
                                outcome: r.outcome.clone(),
                            })
                            .collect();
                        Proof {
                            feature,
                            tag: target.id.clone(),
                            scenario,
                            last,
                        }
                    })
                    .collect();
                ItemCoverage {
                    kind: item.kind,
                    line: item.line,
                    text: item.text,
                    manual: item.manual,
                    proofs,
                }
            })
            .collect();
        runbooks.push(RunbookCoverage {
            file: runbook.file,
            items,
        });
    }
    let uncited = features
        .iter()
        .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
        .filter(|(f, s)| {
            !cited
                .iter()
                .any(|(path, tag)| *path == f.path && s.tags.contains(tag))
        })
        .map(|(f, s)| ScenarioLocation {
            feature: relative(&f.path),
            line: s.line,
            name: s.name.clone(),
        })
        .collect();
    Ok(CoverageReport {
        last_run: last_run.map(|r| r.finished_at),
        runbooks,
        uncited,
    })
}

/// The feature files runbooks bind outside the features folder, read so that one that cannot
/// be read (a folder, not UTF-8, not Gherkin) is reported rather than shown as "no scenario".
/// A missing one is left out: `ssoproof lint` reports it as a broken link.
fn bound_elsewhere(
    runbooks: &[binding::RunbookItems],
    features: &[FeatureFile],
) -> Result<Vec<FeatureFile>, ScenarioError> {
    let mut elsewhere: Vec<FeatureFile> = Vec::new();
    let targets = runbooks
        .iter()
        .flat_map(|r| &r.items)
        .flat_map(|item| &item.scenarios);
    for target in targets {
        let path = &target.feature;
        let known = features.iter().chain(&elsewhere).any(|f| f.path == *path);
        if !known && path.symlink_metadata().is_ok() {
            elsewhere.push(FeatureFile::load(path)?);
        }
    }
    Ok(elsewhere)
}

/// The one scenario of `feature` tagged `tag`, if exactly one is.
fn carrier<'a>(
    features: impl IntoIterator<Item = &'a FeatureFile>,
    feature: &Path,
    tag: &str,
    relative: &impl Fn(&Path) -> PathBuf,
) -> Option<ScenarioLocation> {
    let file = features.into_iter().find(|f| f.path == feature)?;
    match file.tagged(tag).as_slice() {
        [only] => Some(ScenarioLocation {
            feature: relative(&file.path),
            line: only.line,
            name: only.name.clone(),
        }),
        _ => None,
    }
}

/// The last run's record; `None` only when there is none. Any other failure (unreadable, not
/// UTF-8, not JSON) is an error: reading it as "no run yet" would hide a broken record.
fn load_last_run(config: &LoadedConfig) -> Result<Option<LastRun>, CoverageError> {
    let path = last_run_path(config);
    let text = match ssoproof_config::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CoverageError::LastRun {
                path,
                reason: e.to_string(),
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| CoverageError::LastRun {
            path,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(last_run: Option<&[u8]>) -> (tempfile::TempDir, LoadedConfig) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(bytes) = last_run {
            std::fs::create_dir_all(dir.path().join("target/ssoproof")).unwrap();
            std::fs::write(dir.path().join("target/ssoproof/last-run.json"), bytes).unwrap();
        }
        let config = LoadedConfig {
            path: None,
            root: dir.path().to_path_buf(),
            config: Default::default(),
        };
        (dir, config)
    }

    #[test]
    fn a_bound_feature_outside_the_folder_that_cannot_be_read_is_reported() {
        let (dir, config) = project(None);
        std::fs::create_dir_all(dir.path().join("features")).unwrap();
        std::fs::create_dir_all(dir.path().join("runbooks")).unwrap();
        std::fs::write(
            dir.path().join("runbooks/x.md"),
            "# X\n\n## Validation checklist\n\n- [ ] Sign-in works [proof](../elsewhere/x.feature#ok)\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("elsewhere/x.feature")).unwrap();
        let err = coverage(&config).unwrap_err();
        assert_eq!(err.code(), "scenario/feature");
        assert!(err.to_string().contains("a directory"), "{err}");
        std::fs::remove_dir(dir.path().join("elsewhere/x.feature")).unwrap();
        std::fs::write(
            dir.path().join("elsewhere/x.feature"),
            b"Feature: caf\xe9\n",
        )
        .unwrap();
        let err = coverage(&config).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        // Missing: the linter's to report; coverage shows no scenario.
        std::fs::remove_file(dir.path().join("elsewhere/x.feature")).unwrap();
        let report = coverage(&config).unwrap();
        assert!(report.runbooks[0].items[0].proofs[0].scenario.is_none());
    }

    #[test]
    fn only_a_missing_record_is_no_run_yet() {
        let (_dir, config) = project(None);
        assert!(load_last_run(&config).unwrap().is_none());
        for broken in [&b"{\"finished_at\": \"caf\xe9\"}"[..], b"not json"] {
            let (_dir, config) = project(Some(broken));
            let err = load_last_run(&config).unwrap_err();
            assert_eq!(err.code(), "coverage/last-run");
            assert!(err.to_string().contains("last-run.json"), "{err}");
        }
        let (dir, config) = project(None);
        std::fs::create_dir_all(dir.path().join("target/ssoproof/last-run.json")).unwrap();
        let err = load_last_run(&config).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }
}
