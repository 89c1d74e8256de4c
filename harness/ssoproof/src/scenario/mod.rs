//! Executable runbooks: the Gherkin features under `features/`, run with cucumber against a
//! [`Backend`]. The steps live in the library so that `cargo test` (the `features` test target)
//! and `ssoproof verify` run exactly the same thing.

mod clouds;
mod shard;
mod steps;
mod world;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cucumber::event::ScenarioFinished;
use cucumber::{writer, World as _, WriterExt as _};
use futures::FutureExt as _;

pub use shard::{Shard, ShardError, NOT_IN_SHARD};
pub use world::RunbookWorld;

use crate::backend::{persona_of, Backend, Capability};
use ssoproof_lint::binding::{FeatureError, FeatureFile, ScenarioRef};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ScenarioResult {
    pub backend: String,
    /// The feature file, absolute.
    pub feature: PathBuf,
    pub scenario: String,
    pub line: usize,
    pub tags: Vec<String>,
    pub outcome: Outcome,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot list feature files in {}: {source}", dir.display())]
    List { dir: PathBuf, source: io::Error },
    #[error(transparent)]
    Feature(#[from] FeatureError),
    #[error("cannot write the JUnit report {}: {source}", path.display())]
    Junit { path: PathBuf, source: io::Error },
    #[error("cannot use {} as the JUnit report folder: {problem}; `--junit` takes a folder, where one report per backend is written", dir.display())]
    JunitDir { dir: PathBuf, problem: String },
}

impl ScenarioError {
    pub fn code(&self) -> &'static str {
        match self {
            ScenarioError::List { .. } => "scenario/list",
            ScenarioError::Feature(_) => "scenario/feature",
            ScenarioError::Junit { .. } | ScenarioError::JunitDir { .. } => "scenario/junit",
        }
    }
}

pub struct RunOptions {
    /// The project root, where the fixtures are.
    pub root: PathBuf,
    pub features: PathBuf,
    /// Where cucumber's JUnit writer puts its report, if anywhere.
    pub junit: Option<PathBuf>,
    /// Print cucumber's step-by-step output.
    pub verbose: bool,
    /// Only the scenarios carrying one of these tags (`None`: every scenario).
    pub tags: Option<Vec<String>>,
    /// Only this share of the scenarios; the others come back skipped as [`NOT_IN_SHARD`].
    pub shard: Option<Shard>,
    /// Called as each scenario that ran finishes, with its world (for progress and evidence).
    pub on_result: Option<OnResult>,
}

/// See [`RunOptions::on_result`].
pub type OnResult = Arc<dyn Fn(&ScenarioResult, Option<&RunbookWorld>) + Send + Sync>;

/// Whether a scenario with `tags` is among those `wanted`.
fn selected(wanted: &Option<Vec<String>>, tags: &[String]) -> bool {
    wanted
        .as_ref()
        .is_none_or(|wanted| tags.iter().any(|t| wanted.contains(t)))
}

/// Creates the folder for JUnit reports, or checks the one there is.
pub fn prepare_junit_dir(dir: &Path) -> Result<(), ScenarioError> {
    let problem = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(meta) => format!("it is {}", ssoproof_config::fs::describe(&meta)),
        Err(_) => match std::fs::create_dir_all(dir) {
            Ok(()) => return Ok(()),
            Err(e) => e.to_string(),
        },
    };
    Err(ScenarioError::JunitDir {
        dir: dir.to_path_buf(),
        problem,
    })
}

/// The feature files under a folder (or the one file named), at any depth as cucumber finds
/// them (`*.feature`, any case), sorted and parsed for bookkeeping (names, tags, lines). Every one is read here
/// first, so one that cucumber could not read (a FIFO would block it, a folder named
/// `x.feature`, a file that is not UTF-8) is refused with its path before any scenario runs.
pub fn feature_files(dir: &Path) -> Result<Vec<FeatureFile>, ScenarioError> {
    let list_error = |source: io::Error| ScenarioError::List {
        dir: dir.into(),
        source,
    };
    let mut paths = Vec::new();
    let min_depth = if dir.is_file() { 0 } else { 1 };
    for entry in walkdir::WalkDir::new(dir).min_depth(min_depth) {
        let entry = entry.map_err(|e| list_error(e.into()))?;
        let is_feature = entry
            .path()
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("feature"));
        if is_feature {
            paths.push(entry.into_path());
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|p| FeatureFile::load(p).map_err(ScenarioError::from))
        .collect()
}

/// The capability a scenario's tags ask for that `backend` lacks, if any.
fn missing_capability(tags: &[String], backend: &dyn Backend) -> Option<Capability> {
    Capability::asked_by(tags)
        .into_iter()
        .find(|c| !backend.capabilities().contains(c))
}

/// A scenario's tags with its feature's and rule's.
fn all_tags(
    feature: &cucumber::gherkin::Feature,
    rule: Option<&cucumber::gherkin::Rule>,
    scenario: &cucumber::gherkin::Scenario,
) -> Vec<String> {
    feature
        .tags
        .iter()
        .chain(rule.iter().flat_map(|r| &r.tags))
        .chain(&scenario.tags)
        .cloned()
        .collect()
}

/// The tag of scenarios that start the repository's example application under test
/// (`scripts/interop/probe-targets/login-app.js`, Node with `npm ci` run in its folder).
pub const PROBE_TARGET_TAG: &str = "probe-target";

/// Why a scenario tagged `@probe-target` cannot run here, if it cannot: the example
/// application is not installed, and `SSOPROOF_REQUIRE_PROBE_TARGETS` (set by CI) does not
/// demand it (then the scenario runs and fails, saying what is missing).
fn probe_target_missing(root: &Path, required: bool) -> Option<String> {
    let modules = root.join("scripts/interop/probe-targets/node_modules");
    (!required && !modules.is_dir()).then(|| {
        "needs the example application: run `npm ci` in scripts/interop/probe-targets (Node 20 \
         or later)"
            .to_string()
    })
}

/// Why `backend` cannot run a scenario with these tags, if it cannot.
fn cannot_run(tags: &[String], backend: &dyn Backend, root: &Path) -> Option<String> {
    if tags.iter().any(|t| t == PROBE_TARGET_TAG) {
        let required =
            std::env::var_os("SSOPROOF_REQUIRE_PROBE_TARGETS").is_some_and(|v| !v.is_empty());
        if let Some(reason) = probe_target_missing(root, required) {
            return Some(reason);
        }
    }
    let name = backend.name();
    if let Some(persona) = persona_of(tags) {
        if !backend.serves_persona(persona) {
            return Some(if name == "emulator" {
                format!("needs the {persona} persona, and there is no fixtures/idp/{persona}.yaml")
            } else {
                format!("needs the {persona} persona, which only the embedded emulator has")
            });
        }
    }
    missing_capability(tags, backend).map(|capability| {
        format!(
            "needs @{} ({:?}), which the {name} backend does not offer",
            capability.tag(),
            capability
        )
    })
}

/// Runs every feature against `backend`. Scenarios it cannot run come back as skipped with the
/// reason; they are never reported as passed.
pub async fn run(
    backend: Arc<dyn Backend>,
    options: &RunOptions,
) -> Result<Vec<ScenarioResult>, ScenarioError> {
    let mut features = feature_files(&options.features)?;
    for feature in &mut features {
        feature
            .scenarios
            .retain(|s| selected(&options.tags, &s.tags));
    }
    let name = backend.name();
    // Another shard's scenarios are reported as such, never run here nor counted as passed.
    let mut results: Vec<ScenarioResult> = Vec::new();
    let mut in_shard = ShardPlan::default();
    if let Some(shard) = options.shard {
        for feature in &mut features {
            in_shard.add(&options.features, feature, shard);
            let (ours, theirs): (Vec<_>, Vec<_>) = std::mem::take(&mut feature.scenarios)
                .into_iter()
                .partition(|s| shard.runs(&options.features, &feature.path, &s.name));
            for scenario in &theirs {
                let reason = shard.skip_reason(&options.features, &feature.path, &scenario.name);
                results.extend(skip_runs(name, feature, scenario, &reason));
            }
            feature.scenarios = ours;
        }
    }
    let skip = |feature: &FeatureFile, scenario: &ScenarioRef, reason: &str| {
        skip_runs(name, feature, scenario, reason)
    };
    let skipped = |reason: &str| -> Vec<ScenarioResult> {
        features
            .iter()
            .flat_map(|f| f.scenarios.iter().flat_map(|s| skip(f, s, reason)))
            .collect()
    };
    if let Err(unavailable) = backend.availability().await {
        results.extend(skipped(&unavailable.to_string()));
        results.sort_by(|a, b| (&a.feature, a.line).cmp(&(&b.feature, b.line)));
        return Ok(results);
    }

    for feature in &features {
        for scenario in &feature.scenarios {
            if let Some(reason) = cannot_run(&scenario.tags, backend.as_ref(), &options.root) {
                results.extend(skip(feature, scenario, &reason));
            }
        }
    }

    let collected: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let junit: Box<dyn Write> = match &options.junit {
        Some(path) => {
            Box::new(
                std::fs::File::create(path).map_err(|source| ScenarioError::Junit {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => Box::new(io::sink()),
    };
    let console: Box<dyn Write> = if options.verbose {
        Box::new(io::stdout())
    } else {
        Box::new(io::sink())
    };
    let coloring = if options.verbose && io::stdout().is_terminal() {
        writer::Coloring::Auto
    } else {
        writer::Coloring::Never
    };
    let writer = writer::Basic::raw(console, coloring, 0)
        .summarized()
        .tee::<RunbookWorld, _>(writer::JUnit::for_tee(junit, 0))
        .normalized();

    let for_before = backend.clone();
    let root = options.root.clone();
    let for_after = collected.clone();
    let for_filter = backend.clone();
    let filter_root = options.root.clone();
    let filter_tags = options.tags.clone();
    let on_result = options.on_result.clone();
    let mut cucumber = RunbookWorld::cucumber();
    if let Some(limit) = backend.max_concurrent_scenarios() {
        cucumber = cucumber.max_concurrent_scenarios(limit);
    }
    cucumber
        .with_writer(writer)
        .fail_on_skipped()
        .before(move |feature, rule, scenario, world| {
            let backend = for_before.clone();
            let tags = all_tags(feature, rule, scenario);
            let needs = Capability::asked_by(&tags);
            let persona = persona_of(&tags).map(str::to_string);
            let root = root.clone();
            async move {
                world.root = root;
                let started = match &persona {
                    Some(name) => backend.start_persona(name).await,
                    None => backend.start_scenario(&needs).await,
                };
                world.idp = Some(match started {
                    Ok(idp) => idp,
                    Err(e) => panic!("cannot start the scenario's IdP: [{}] {e}", e.code()),
                });
                world.persona = persona;
                world.backend = Some(backend);
            }
            .boxed_local()
        })
        .after(move |feature, _, scenario, finished, world| {
            let idp = world.as_ref().and_then(|w| w.idp.clone());
            let outcome = match finished {
                ScenarioFinished::StepPassed => Outcome::Passed,
                ScenarioFinished::StepSkipped => {
                    Outcome::Failed("a step matched no definition".into())
                }
                ScenarioFinished::StepFailed(_, _, error) => Outcome::Failed(error.to_string()),
                ScenarioFinished::BeforeHookFailed(info) => Outcome::Failed(panic_text(info)),
            };
            let result = ScenarioResult {
                backend: name.to_string(),
                feature: feature.path.clone().unwrap_or_default(),
                scenario: scenario.name.clone(),
                line: scenario.position.line,
                tags: feature.tags.iter().chain(&scenario.tags).cloned().collect(),
                outcome,
            };
            if let Some(on_result) = &on_result {
                on_result(&result, world.as_deref());
            }
            for_after
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(result);
            async move {
                if let Some(idp) = idp {
                    // A realm that outlives its scenario only costs the shared server memory.
                    if let Err(e) = idp.finish().await {
                        eprintln!("ssoproof: after the scenario: {e}");
                    }
                }
            }
            .boxed_local()
        })
        .with_default_cli()
        .filter_run(options.features.clone(), move |feature, rule, scenario| {
            let tags = all_tags(feature, rule, scenario);
            selected(&filter_tags, &tags)
                && in_shard.runs(feature.path.as_deref(), scenario.position.line)
                && cannot_run(&tags, for_filter.as_ref(), &filter_root).is_none()
        })
        .await;

    results.extend(
        collected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..),
    );
    results.sort_by(|a, b| (&a.feature, a.line).cmp(&(&b.feature, b.line)));
    Ok(results)
}

/// Which scenarios this shard runs, by feature file and line, for cucumber's filter: cucumber
/// hands it an outline's expanded examples, named with the placeholders filled in and placed at
/// their rows, so the shard is decided once per scenario as written and looked up by line.
#[derive(Default)]
struct ShardPlan(Option<std::collections::HashMap<PathBuf, Vec<(usize, bool)>>>);

impl ShardPlan {
    fn add(&mut self, features: &Path, feature: &FeatureFile, shard: Shard) {
        let lines = feature
            .scenarios
            .iter()
            .map(|s| (s.line, shard.runs(features, &feature.path, &s.name)))
            .collect();
        self.0
            .get_or_insert_with(Default::default)
            .insert(canonical(&feature.path), lines);
    }

    /// Whether the scenario (or example) at `line` of `feature` is this shard's: that of the
    /// last scenario starting at or before it. Without a shard, every scenario is.
    fn runs(&self, feature: Option<&Path>, line: usize) -> bool {
        let Some(plan) = &self.0 else { return true };
        feature
            .and_then(|f| plan.get(&canonical(f)))
            .and_then(|lines| lines.iter().rev().find(|(start, _)| *start <= line))
            .is_some_and(|(_, ours)| *ours)
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// A scenario that will not run, reported once per run it would have made.
fn skip_runs(
    backend: &'static str,
    feature: &FeatureFile,
    scenario: &ScenarioRef,
    reason: &str,
) -> Vec<ScenarioResult> {
    let result = ScenarioResult {
        backend: backend.to_string(),
        feature: feature.path.clone(),
        scenario: scenario.name.clone(),
        line: scenario.line,
        tags: scenario.tags.clone(),
        outcome: Outcome::Skipped(reason.to_string()),
    };
    vec![result; scenario.runs]
}

fn panic_text(info: &cucumber::event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "the before hook panicked".into())
}

/// `N passed, N failed, N skipped` over a set of results.
pub fn tally(results: &[ScenarioResult]) -> (usize, usize, usize) {
    results
        .iter()
        .fold((0, 0, 0), |(p, f, s), r| match r.outcome {
            Outcome::Passed => (p + 1, f, s),
            Outcome::Failed(_) => (p, f + 1, s),
            Outcome::Skipped(_) => (p, f, s + 1),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{BackendError, Idp};
    use async_trait::async_trait;

    /// An available backend without personas whose scenarios must never start.
    #[derive(Debug)]
    struct NoPersonas;

    #[async_trait]
    impl Backend for NoPersonas {
        fn name(&self) -> &'static str {
            "keycloak"
        }
        fn capabilities(&self) -> &[Capability] {
            &[]
        }
        async fn availability(&self) -> Result<(), BackendError> {
            Ok(())
        }
        async fn start_scenario(
            &self,
            _needs: &[Capability],
        ) -> Result<Arc<dyn Idp>, BackendError> {
            panic!("a persona scenario was started on a backend without personas")
        }
    }

    /// issue 12: the example application's scenarios skip, saying how to install it, where it
    /// is not installed, unless CI requires it (then they run and fail, naming what is missing).
    #[test]
    fn probe_target_scenarios_skip_only_when_the_example_app_is_absent() {
        let dir = tempfile::tempdir().unwrap();
        let reason = probe_target_missing(dir.path(), false).unwrap();
        assert!(reason.contains("npm ci"), "{reason}");
        assert_eq!(probe_target_missing(dir.path(), true), None);
        std::fs::create_dir_all(
            dir.path()
                .join("scripts/interop/probe-targets/node_modules"),
        )
        .unwrap();
        assert_eq!(probe_target_missing(dir.path(), false), None);
    }

    #[test]
    fn every_feature_file_cucumber_would_read_is_read_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        let one = "Feature: One\n  Scenario: A\n    Given a\n";
        std::fs::write(dir.path().join("nested/one.FEATURE"), one).unwrap();
        std::fs::write(dir.path().join("notes.md"), "not a feature").unwrap();
        let files = feature_files(dir.path()).unwrap();
        assert_eq!(
            files.len(),
            1,
            "nested and upper-case, as cucumber finds them"
        );
        // A FIFO is refused with its path, without blocking.
        let fifo = dir.path().join("pipe.feature");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let err = feature_files(dir.path()).unwrap_err();
        assert_eq!(err.code(), "scenario/feature");
        assert!(err.to_string().contains("pipe.feature"), "{err}");
        assert!(err.to_string().contains("a FIFO"), "{err}");
        std::fs::remove_file(&fifo).unwrap();
        std::fs::create_dir(dir.path().join("folder.feature")).unwrap();
        let err = feature_files(dir.path()).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[test]
    fn a_junit_folder_that_is_a_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.xml");
        std::fs::write(&file, "").unwrap();
        let err = prepare_junit_dir(&file).unwrap_err();
        assert_eq!(err.code(), "scenario/junit");
        let text = err.to_string();
        assert!(
            text.contains("report.xml") && text.contains("a regular file"),
            "{text}"
        );
        assert!(text.contains("`--junit` takes a folder"), "{text}");
        prepare_junit_dir(&dir.path().join("a/b")).unwrap();
        prepare_junit_dir(&dir.path().join("a/b")).unwrap();
    }

    #[tokio::test]
    async fn persona_features_are_skipped_visibly_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("okta.feature"),
            "@persona:okta\nFeature: Okta\n\n  Scenario: One\n    When alice signs in\n\n  @emulator\n  Scenario: Two\n    When alice signs in\n",
        )
        .unwrap();
        let options = RunOptions {
            root: dir.path().to_path_buf(),
            features: dir.path().to_path_buf(),
            junit: None,
            verbose: false,
            tags: None,
            shard: None,
            on_result: None,
        };
        let results = run(Arc::new(NoPersonas), &options).await.unwrap();
        assert_eq!(results.len(), 2);
        // issue 13: a single feature file, and only the scenarios carrying a wanted tag.
        let only = RunOptions {
            features: dir.path().join("okta.feature"),
            tags: Some(vec!["emulator".into()]),
            ..options
        };
        let selected = run(Arc::new(NoPersonas), &only).await.unwrap();
        assert_eq!(selected.len(), 1);
        assert_eq!(selected[0].scenario, "Two");
        for result in &results {
            assert_eq!(
                result.outcome,
                Outcome::Skipped(
                    "needs the okta persona, which only the embedded emulator has".into()
                ),
                "{}",
                result.scenario
            );
        }
        assert_eq!(tally(&results), (0, 0, 2));
    }
}
