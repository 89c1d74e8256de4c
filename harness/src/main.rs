//! The `ssoproof` command line: argument parsing and exit codes over the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ssoproof::cloud::aws::{AwsConfig, AwsEmulator, AwsOptions, Mode};
use ssoproof::config::{IsoDate, LoadedConfig};
use ssoproof::lint::{self, LintRequest, Rule, RuleFilter};
use ssoproof::report::{self, Format};

/// Exit status: no error found.
const OK: u8 = 0;
/// Exit status: the checks found errors.
const FOUND_ERRORS: u8 = 1;
/// Exit status: usage, configuration or I/O problem (clap uses 2 for usage errors too).
const TROUBLE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "ssoproof",
    version,
    about = "Executable SSO runbooks",
    propagate_version = true
)]
struct Cli {
    /// The project configuration (default: `ssoproof.yaml` in this folder or an ancestor).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check Markdown runbooks: links, anchors, review dates, layout, checklists, index.
    Lint(LintArgs),
    /// Run emulators until interrupted.
    #[command(subcommand)]
    Serve(ServeCommand),
}

#[derive(Subcommand)]
enum ServeCommand {
    /// Emulated cloud federation endpoints (AWS STS + Bedrock Runtime).
    Clouds(CloudsArgs),
}

#[derive(Args)]
struct CloudsArgs {
    /// The emulated AWS account (e.g. fixtures/cloud/aws.yaml).
    #[arg(long, value_name = "FILE")]
    aws: Option<PathBuf>,
    /// Replaces `{issuer}` / `{issuer_host_path}` in the account file.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Loopback port (default: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Behave like real AWS: loopback, private and plain-http issuers fail key retrieval.
    #[arg(long)]
    realistic: bool,
}

#[derive(Args)]
struct LintArgs {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Lint(args) => run_lint(cli.config, args),
        Command::Serve(ServeCommand::Clouds(args)) => serve_clouds(args),
    };
    match status {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(TROUBLE)
        }
    }
}

fn load_config(path: Option<PathBuf>) -> anyhow::Result<LoadedConfig> {
    let loaded = match path {
        Some(path) => LoadedConfig::load(&path),
        None => LoadedConfig::discover(&std::env::current_dir()?),
    };
    loaded.map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))
}

fn run_lint(config: Option<PathBuf>, args: LintArgs) -> anyhow::Result<u8> {
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

fn serve_clouds(args: CloudsArgs) -> anyhow::Result<u8> {
    let Some(path) = args.aws else {
        anyhow::bail!("nothing to serve: pass --aws FILE");
    };
    let config = match &args.issuer {
        Some(issuer) => AwsConfig::load_with_issuer(&path, issuer),
        None => AwsConfig::load(&path),
    }
    .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let options = AwsOptions {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], args.port)),
        mode: if args.realistic {
            Mode::Realistic
        } else {
            Mode::Lab
        },
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let aws = AwsEmulator::start(config, options).await?;
        print!("{}", aws.summary());
        println!("Serving until Ctrl-C.");
        std::io::stdout().flush()?;
        tokio::signal::ctrl_c().await?;
        aws.shutdown().await;
        Ok(OK)
    })
}
