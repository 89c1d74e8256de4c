//! `ssoproof coverage`: which scenario proves each runbook item, with its last result.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ssoproof::coverage::coverage;
use ssoproof::report::coverage as render;
use ssoproof::report::html::StepSource;

use super::{load_config, now, OK};

#[derive(Args)]
pub struct CoverageArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CoverageFormat::Human)]
    format: CoverageFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum CoverageFormat {
    Human,
    Json,
    /// One self-contained page (no external assets) that prints to PDF.
    Html,
}

pub fn run(config: Option<PathBuf>, args: CoverageArgs) -> anyhow::Result<u8> {
    let config = load_config(config)?;
    let report = coverage(&config).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let text = match args.format {
        CoverageFormat::Human => render::human(&report),
        CoverageFormat::Json => render::json(&report),
        CoverageFormat::Html => render::html(&report, &mut StepSource::new(&config.root), &now()),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(OK)
}
