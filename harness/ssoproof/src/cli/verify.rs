//! `ssoproof verify`, the main job: lint the runbooks, run every feature against the chosen
//! backends, and print the per-runbook report.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ssoproof::backend::BackendKind;
use ssoproof::report::html::StepSource;
use ssoproof::report::verify as render;
use ssoproof::scenario::Shard;
use ssoproof::verify::{tenant_names, verify, VerifyOptions};

use super::{load_config, now, FOUND_ERRORS, OK};

#[derive(Args)]
pub struct VerifyArgs {
    /// Where the scenarios run (repeatable). The Keycloak container needs Docker and the live
    /// tenant `SSOPROOF_LIVE_*`; without them their scenarios are reported as skipped.
    #[arg(long = "backend", value_enum, default_values_t = [BackendKind::Emulator])]
    backends: Vec<BackendKind>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Human)]
    format: VerifyFormat,
    /// Write cucumber's JUnit report for each backend into this folder.
    #[arg(long, value_name = "DIR")]
    junit: Option<PathBuf>,
    /// Run only share I of N of the scenarios (1 <= I <= N), chosen by a stable hash of each
    /// scenario's feature path and name; the others are reported as not run in this shard.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// With `--backend live`: run only this tenant of `live.yaml` (repeatable; default: every
    /// tenant in the file). Each tenant runs its vendor's `@live` scenarios and is reported as
    /// `live:<tenant>`.
    #[arg(long = "tenant", value_name = "NAME")]
    tenants: Vec<String>,
    /// The tenant profile file for `--backend live` (default: `live.yaml` in the project root).
    #[arg(long, value_name = "FILE")]
    profiles: Option<PathBuf>,
    /// Print the names of the tenants that would run (the profile file, `--tenant` applied) as
    /// a JSON list, and run nothing: the nightly workflow's matrix.
    #[arg(long, conflicts_with_all = ["format", "junit", "shard", "verbose"])]
    list_tenants: bool,
    /// Show cucumber's step-by-step output.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum VerifyFormat {
    Human,
    Json,
    /// One self-contained page (no external assets) that prints to PDF.
    Html,
    /// A short Markdown summary (verdict, counts, failed items, skip reasons), for
    /// `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

pub fn run(config: Option<PathBuf>, args: VerifyArgs) -> anyhow::Result<u8> {
    let config = load_config(config)?;
    if let Some(dir) = &args.junit {
        ssoproof::scenario::prepare_junit_dir(dir)
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    }
    if args.list_tenants && !args.backends.contains(&BackendKind::Live) {
        anyhow::bail!("[verify/tenant] --list-tenants lists live tenants; add --backend live");
    }
    let options = VerifyOptions {
        backends: args.backends,
        features: config.config.verify.features.clone(),
        junit_dir: args.junit,
        verbose: args.verbose,
        shard: args.shard,
        tenants: args.tenants,
        profiles: args.profiles,
    };
    if args.list_tenants {
        let names =
            tenant_names(&config, &options).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        println!("{}", serde_json::to_string(&names)?);
        return Ok(OK);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime
        .block_on(verify(&config, &options))
        .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let text = match args.format {
        VerifyFormat::Human => render::human(&report),
        VerifyFormat::Json => render::json(&report),
        VerifyFormat::Markdown => render::markdown(&report),
        VerifyFormat::Html => render::html(&report, &mut StepSource::new(&config.root), &now()),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if report.passed() { OK } else { FOUND_ERRORS })
}
