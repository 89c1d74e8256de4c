//! The lint command line, shared by `ssoproof lint` and the standalone `ssoproof-lint` binary
//! that the pre-commit hook installs, so both take the same arguments and give the same output.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use ssoproof_config::{ConfigError, IsoDate, LoadedConfig};

use crate::report::{self, Format};
use crate::{LintError, LintRequest, Rule, RuleFilter};

/// Exit status: no error found.
pub const OK: u8 = 0;
/// Exit status: the linter found errors.
pub const FOUND_ERRORS: u8 = 1;
/// Exit status: usage, configuration or I/O problem (clap uses 2 for usage errors too).
pub const TROUBLE: u8 = 2;

#[derive(Args)]
pub struct LintArgs {
    /// Files or folders to check (default: `lint.roots` from the config, else `runbooks/`).
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Report only rules whose id starts with PREFIX (repeatable), e.g. `--select link`.
    #[arg(long, value_name = "PREFIX")]
    select: Vec<String>,
    /// Do not report rules whose id starts with PREFIX (repeatable).
    #[arg(long, value_name = "PREFIX")]
    ignore: Vec<String>,
    /// The date the review-date rules treat as today (default: the HEAD commit's date).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = IsoDate::parse)]
    today: Option<IsoDate>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Print every rule id with its default severity and summary, then exit.
    #[arg(long)]
    list_rules: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Why the command could not run; each carries the stable code it is printed with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("[{code}] {0}", code = .0.code())]
    Config(#[from] ConfigError),
    #[error("[{code}] {0}", code = .0.code())]
    Lint(#[from] LintError),
    #[error("[lint/io] cannot write the report: {0}")]
    Io(#[from] std::io::Error),
}

/// Loads `config` (or discovers `ssoproof.yaml` from the current folder up), lints, prints the
/// report on stdout, and returns the exit status.
pub fn run(config: Option<PathBuf>, args: LintArgs) -> Result<u8, CliError> {
    let mut out = std::io::stdout().lock();
    if args.list_rules {
        for rule in Rule::ALL {
            writeln!(
                out,
                "{:<26} {:<8} {}",
                rule.id(),
                rule.default_severity().as_str(),
                rule.summary()
            )?;
        }
        return Ok(OK);
    }
    let config = load_config(config)?;
    let request = LintRequest {
        paths: args.paths,
        filter: RuleFilter::new(args.select, args.ignore),
        today: args.today.map(|d| d.0),
        exits_after: true,
    };
    let report = crate::lint(&config, &request)?;
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    out.write_all(report::render(&report, args.format, color).as_bytes())?;
    out.flush()?;
    Ok(if report.has_errors() {
        FOUND_ERRORS
    } else {
        OK
    })
}

/// `path` if given, else the nearest `ssoproof.yaml` from the current folder up (or defaults).
pub fn load_config(path: Option<PathBuf>) -> Result<LoadedConfig, ConfigError> {
    match path {
        Some(path) => LoadedConfig::load(&path),
        None => {
            let here = std::env::current_dir()
                .map_err(|source| ConfigError::read(Path::new("."), source))?;
            LoadedConfig::discover(&here)
        }
    }
}
