//! The `ssoproof` command line: argument parsing and exit codes over the library.

use std::io::{IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ssoproof::config::{IsoDate, LoadedConfig};
use ssoproof::idp::{self, Emulator, IdpOptions, Realm, SigningAlg};
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
    /// Run an emulator in the foreground until Ctrl-C.
    #[command(subcommand)]
    Serve(Serve),
}

#[derive(Subcommand)]
enum Serve {
    /// An OpenID Connect provider that behaves like Keycloak, serving a realm export.
    Idp(IdpArgs),
}

#[derive(Args)]
struct IdpArgs {
    /// The Keycloak realm export to serve (as `kc.sh export` writes it).
    #[arg(long, value_name = "FILE")]
    realm: PathBuf,
    /// The port to listen on, on 127.0.0.1 (default: any free port, printed at start).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The token signing algorithm: rs256, es256 or eddsa.
    #[arg(long, default_value_t = SigningAlg::Rs256)]
    signing: SigningAlg,
    /// Send and advertise the RFC 9207 `iss` authorization-response parameter.
    #[arg(long)]
    iss_parameter: bool,
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
        Command::Serve(Serve::Idp(args)) => serve_idp(args),
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

/// Serves until Ctrl-C, on a runtime built for this command only.
fn serve_idp(args: IdpArgs) -> anyhow::Result<u8> {
    let realm = Realm::from_keycloak_export(&args.realm)
        .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
    let options = IdpOptions {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        signing: args.signing,
        iss_parameter: args.iss_parameter,
        ..IdpOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let emulator = Emulator::start(realm, options)
            .await
            .map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
        let mut out = std::io::stdout().lock();
        out.write_all(idp::serve_summary(&emulator).as_bytes())?;
        writeln!(out, "Serving until Ctrl-C.")?;
        out.flush()?;
        drop(out);
        tokio::signal::ctrl_c().await?;
        Ok(OK)
    })
}
