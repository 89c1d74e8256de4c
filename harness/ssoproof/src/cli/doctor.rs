//! `ssoproof doctor`: the connection doctor over a profile file.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ssoproof::doctor::{self, report, Profile};

use super::{FOUND_ERRORS, OK};

#[derive(Args)]
pub struct DoctorArgs {
    /// The profile: the IdP and user to sign in as, the cloud legs to run, the runbooks to
    /// quote. Secrets are named by environment variable, never written in it.
    #[arg(long, value_name = "FILE")]
    profile: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DoctorFormat::Human)]
    format: DoctorFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum DoctorFormat {
    Human,
    Json,
}

pub fn run(args: DoctorArgs) -> anyhow::Result<u8> {
    let profile =
        Profile::load(&args.profile).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime
        .block_on(doctor::diagnose(&profile))
        .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let text = match args.format {
        DoctorFormat::Human => report::human(&report),
        DoctorFormat::Json => report::json(&report),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if report.ok { OK } else { FOUND_ERRORS })
}
