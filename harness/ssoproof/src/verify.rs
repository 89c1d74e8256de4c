//! `ssoproof verify`, the main job: lint the runbooks, run every feature against the chosen
//! backends, and report each bound runbook item with the result of the scenarios that prove it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::backend::profiles::{
    ProfileSelectError, Profiles, ProfilesError, TenantProfile, PROFILES_FILE,
};
use crate::backend::{Backend, BackendKind, LiveBackend};
use crate::scenario::{
    self, Outcome, RunOptions, ScenarioError, ScenarioResult, Shard, NOT_IN_SHARD,
};
use ssoproof_config::{absolute, LoadedConfig};
use ssoproof_lint::binding::{self, BoundItem, ItemKind, RunbooksError};
use ssoproof_lint::{self as lint, LintError, LintReport, LintRequest, Severity};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Lint(#[from] LintError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Runbooks(#[from] RunbooksError),
    #[error(transparent)]
    Profiles(#[from] ProfilesError),
    #[error(transparent)]
    Tenant(#[from] ProfileSelectError),
    #[error("there is no tenant profile file {}; write one (see the README's \"Live tenants\") or name it with --profiles FILE", path.display())]
    NoProfiles { path: PathBuf },
    #[error("--tenant chooses live tenants; add --backend live")]
    TenantWithoutLive,
    #[error("cannot record the run in {}: {source}", path.display())]
    Record {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Lint(e) => e.code(),
            VerifyError::Scenario(e) => e.code(),
            VerifyError::Runbooks(e) => e.code(),
            VerifyError::Profiles(e) => e.code(),
            VerifyError::Tenant(_) => "verify/tenant",
            VerifyError::NoProfiles { .. } | VerifyError::TenantWithoutLive => "verify/tenant",
            VerifyError::Record { .. } => "verify/record",
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
    /// Only this share of the scenarios (`verify --shard I/N`).
    pub shard: Option<Shard>,
    /// The `live.yaml` tenants the live backend runs (none: every tenant in the file).
    pub tenants: Vec<String>,
    /// The tenant profile file (default: `live.yaml` in the project root).
    pub profiles: Option<PathBuf>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutcome {
    Passed,
    Failed,
    /// Every scenario was skipped (no Docker, no live tenant, …).
    NothingRan,
}

impl VerifyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyOutcome::Passed => "passed",
            VerifyOutcome::Failed => "failed",
            VerifyOutcome::NothingRan => "nothing_ran",
        }
    }
}

#[derive(Debug)]
pub struct VerifyReport {
    pub lint: LintReport,
    pub results: Vec<ScenarioResult>,
    pub runbooks: Vec<RunbookReport>,
    /// The share of the scenarios this run made, if it was one shard of several.
    pub shard: Option<Shard>,
}

impl VerifyReport {
    /// Passed only when the runbooks lint clean, no scenario failed and at least one ran: a run
    /// where every scenario was skipped verified nothing and must not read as a pass.
    pub fn outcome(&self) -> VerifyOutcome {
        let failed = self
            .results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed(_)));
        let ran = self.results.iter().any(|r| r.outcome == Outcome::Passed);
        if self.lint.has_errors() || failed {
            VerifyOutcome::Failed
        } else if !ran {
            VerifyOutcome::NothingRan
        } else {
            VerifyOutcome::Passed
        }
    }

    pub fn passed(&self) -> bool {
        self.outcome() == VerifyOutcome::Passed
    }
}

pub async fn verify(
    config: &LoadedConfig,
    options: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let lint = lint::lint(config, &LintRequest::default())?;
    let features = config.root.join(&options.features);
    let mut results = Vec::new();
    for run in runs(config, options)? {
        let junit = options
            .junit_dir
            .as_ref()
            .map(|d| d.join(format!("cucumber-{}.xml", run.label.replace(':', "-"))));
        let options = RunOptions {
            root: config.root.clone(),
            features: run
                .features
                .map_or_else(|| features.clone(), |f| features.join(f)),
            junit,
            verbose: options.verbose,
            tags: run.tags,
            shard: options.shard,
            on_result: None,
        };
        let down = match run.tenant {
            true => run.backend.availability().await.err(),
            false => None,
        };
        let mut ran = scenario::run(Arc::clone(&run.backend), &options).await?;
        let no_live = run.tenant && ran.is_empty();
        if no_live {
            // A tenant whose vendor feature has no `@live` scenario yet is reported, not left
            // out of the report as if it had not been asked for.
            ran.push(ScenarioResult {
                backend: String::new(),
                feature: options.features.clone(),
                scenario: "(no @live scenario)".into(),
                line: 0,
                tags: Vec::new(),
                outcome: Outcome::Skipped(format!(
                    "{} has no scenario tagged @{LIVE_TAG}; nothing can be checked on this tenant yet",
                    options.features.display()
                )),
            });
        }
        for result in &mut ran {
            result.backend = run.label.clone();
            // A tenant that is down or misconfigured failed its smoke run; it is not a
            // backend that simply is not set up here.
            if let Some(reason) = &down {
                result.outcome = Outcome::Failed(reason.to_string());
            }
        }
        let cucumber_ran = down.is_none() && !no_live;
        if let Some(path) = options.junit.as_ref().filter(|_| !cucumber_ran) {
            // Cucumber did not run (the tenant is down, lacks secrets, or has no `@live`
            // scenario): the nightly job still gets the tenant's report, with the reason.
            write_junit(path, &run.label, &ran)?;
        }
        results.extend(ran);
    }
    record(config, &results)?;
    let runbooks = runbook_reports(config, &results)?;
    Ok(VerifyReport {
        lint,
        results,
        runbooks,
        shard: options.shard,
    })
}

/// One backend's run: where, which scenarios, under which name the results are reported.
struct Run {
    backend: Arc<dyn Backend>,
    /// `emulator`, `live`, or `live:<tenant>`.
    label: String,
    /// A feature file within the feature folder; `None` for the whole folder.
    features: Option<String>,
    tags: Option<Vec<String>>,
    tenant: bool,
}

/// The runs `options` ask for. The live backend is one run per tenant of `live.yaml` when that
/// file exists (or `--tenant` is given), each restricted to its vendor's `@live` scenarios;
/// without the file it is the one tenant of the `SSOPROOF_LIVE_*` variables.
fn runs(config: &LoadedConfig, options: &VerifyOptions) -> Result<Vec<Run>, VerifyError> {
    let profiles_path = profiles_path(config, options);
    if !options.tenants.is_empty() && !options.backends.contains(&BackendKind::Live) {
        return Err(VerifyError::TenantWithoutLive);
    }
    let mut runs = Vec::new();
    for kind in &options.backends {
        let profiled =
            *kind == BackendKind::Live && (!options.tenants.is_empty() || profiles_path.exists());
        if !profiled {
            let backend = kind.build(&config.root);
            runs.push(Run {
                label: backend.name().to_string(),
                backend,
                features: None,
                tags: None,
                tenant: false,
            });
            continue;
        }
        for tenant in selected_tenants(&profiles_path, &options.tenants)? {
            runs.push(Run {
                backend: Arc::new(LiveBackend::from_profile(&tenant, |v| {
                    std::env::var(v).ok()
                })),
                label: format!("live:{}", tenant.name),
                features: Some(tenant.vendor.feature()),
                tags: Some(vec![LIVE_TAG.to_string()]),
                tenant: true,
            });
        }
    }
    Ok(runs)
}

fn profiles_path(config: &LoadedConfig, options: &VerifyOptions) -> PathBuf {
    options
        .profiles
        .clone()
        .unwrap_or_else(|| config.root.join(PROFILES_FILE))
}

fn selected_tenants(path: &Path, names: &[String]) -> Result<Vec<TenantProfile>, VerifyError> {
    if !path.exists() {
        return Err(VerifyError::NoProfiles {
            path: path.to_path_buf(),
        });
    }
    Ok(Profiles::load(path)?.select(names)?)
}

/// The names of the tenants a `verify --backend live` with these options would run, in order:
/// the nightly workflow's matrix, read from the same strictly parsed file the runs use.
pub fn tenant_names(
    config: &LoadedConfig,
    options: &VerifyOptions,
) -> Result<Vec<String>, VerifyError> {
    let tenants = selected_tenants(&profiles_path(config, options), &options.tenants)?;
    Ok(tenants.into_iter().map(|t| t.name).collect())
}

/// A JUnit report of `results` that cucumber did not write itself.
fn write_junit(path: &Path, suite: &str, results: &[ScenarioResult]) -> Result<(), VerifyError> {
    use quick_xml::escape::escape;
    let (_, failed, skipped) = scenario::tally(results);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\">\n",
        escape(suite),
        results.len()
    );
    for result in results {
        let name = escape(&result.scenario);
        let body = match &result.outcome {
            Outcome::Passed => String::new(),
            Outcome::Failed(reason) => format!("<failure message=\"{}\"/>", escape(reason)),
            Outcome::Skipped(reason) => format!("<skipped message=\"{}\"/>", escape(reason)),
        };
        xml.push_str(&format!(
            "    <testcase name=\"{name}\">{body}</testcase>\n"
        ));
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    std::fs::write(path, xml).map_err(|source| {
        VerifyError::Scenario(ScenarioError::Junit {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// The tag of the scenarios safe on a real tenant: they read, sign in and sign out, and change
/// nothing.
pub const LIVE_TAG: &str = "live";

/// Where the last run's results are kept for `ssoproof coverage`.
pub fn last_run_path(config: &LoadedConfig) -> PathBuf {
    config.root.join("target/ssoproof/last-run.json")
}

/// The results of a `verify` run, with feature paths relative to the project root.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct LastRun {
    pub finished_at: String,
    pub results: Vec<ScenarioResult>,
}

fn record(config: &LoadedConfig, results: &[ScenarioResult]) -> Result<(), VerifyError> {
    let root = absolute(&config.root);
    let path = last_run_path(config);
    let relative: Vec<ScenarioResult> = results.iter().map(|r| relative_to(r, &root)).collect();
    let finished_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let text = serde_json::to_string_pretty(&LastRun {
        finished_at,
        results: relative,
    })
    .expect("plain data always serializes");
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        // Written whole then renamed, so a reader never sees half a file.
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, &path)
    };
    write().map_err(|source| VerifyError::Record { path, source })
}

/// The result with its feature path relative to `root`, as reports name it.
fn relative_to(result: &ScenarioResult, root: &Path) -> ScenarioResult {
    let mut result = result.clone();
    if let Ok(relative) = result.feature.strip_prefix(root) {
        result.feature = relative.to_path_buf();
    }
    result
}

/// Every bound runbook's items with the results of the scenarios they cite.
fn runbook_reports(
    config: &LoadedConfig,
    results: &[ScenarioResult],
) -> Result<Vec<RunbookReport>, VerifyError> {
    let root = absolute(&config.root);
    Ok(binding::runbooks(config)?
        .into_iter()
        .filter(|r| r.bound)
        .map(|r| RunbookReport {
            file: r.file,
            items: r
                .items
                .into_iter()
                .map(|item| item_report(item, results, &root))
                .collect(),
        })
        .collect())
}

/// An item's status from the results of the scenarios it cites (also what `signoff` signs).
pub(crate) fn item_report(item: BoundItem, results: &[ScenarioResult], root: &Path) -> ItemReport {
    let scenarios: Vec<ScenarioResult> = results
        .iter()
        .filter(|r| {
            item.scenarios
                .iter()
                .any(|b| same_file(&b.feature, &r.feature) && r.tags.contains(&b.id))
        })
        .map(|r| relative_to(r, root))
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
    } else if let Some(Outcome::Skipped(reason)) = scenarios
        .iter()
        .map(|r| &r.outcome)
        .find(|o| matches!(o, Outcome::Skipped(reason) if reason.starts_with(NOT_IN_SHARD)))
    {
        // Part of its proof is another shard's: that shard's report says whether it passed.
        ItemStatus::Skipped(reason.clone())
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
