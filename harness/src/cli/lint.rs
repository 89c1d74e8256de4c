//! `ssoproof lint`: check Markdown runbooks.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ssoproof::config::IsoDate;
use ssoproof::lint::{self, LintRequest, Rule, RuleFilter};
use ssoproof::report::{self, Format};

use super::{load_config, FOUND_ERRORS, OK};

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
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
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

fn parse_date(text: &str) -> Result<IsoDate, String> {
    IsoDate::parse(text)
}

pub fn run(config: Option<PathBuf>, args: LintArgs) -> anyhow::Result<u8> {
    if args.list_rules {
        let mut out = std::io::stdout().lock();
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
    };
    let report =
        lint::lint(&config, &request).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(report::render(&report, args.format, color).as_bytes())?;
    out.flush()?;
    Ok(if report.has_errors() {
        FOUND_ERRORS
    } else {
        OK
    })
}
