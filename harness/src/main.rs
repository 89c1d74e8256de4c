//! The `ssoproof` command line: argument parsing and exit codes over the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use ssoproof::config::{IsoDate, LoadedConfig};
use ssoproof::lint::{self, LintRequest, Rule, RuleFilter};
use ssoproof::report::{self, Format};
use ssoproof::rp::{self, render, AuthMethod, ClientConfig, RelyingParty, Role};
use ssoproof::secret::Secret;

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
    /// Sign in to an OIDC IdP as the reference relying party and report the user's role.
    ///
    /// Runs the whole contract: discovery (exact issuer), code flow with PKCE S256 through the
    /// IdP's HTML login form, token exchange, strict ID-token validation, userinfo, groups claim
    /// and role mapping. Exit status 0: signed in; 1: rejected (the error code says why);
    /// 2: usage problem. Tokens are printed only with --show-tokens.
    #[command(
        after_help = "Environment:\n  SSOPROOF_CLIENT_SECRET  client secret when --client-secret is not given\n  SSOPROOF_PASSWORD       password when --password is not given\nPrefer the environment: command-line arguments are visible to other local users."
    )]
    Login(LoginArgs),
}

#[derive(Args)]
struct LoginArgs {
    /// The issuer, byte for byte as the IdP's discovery document spells it.
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// The client id registered at the IdP.
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// The client secret (default: $SSOPROOF_CLIENT_SECRET; neither = public client).
    #[arg(long, value_name = "SECRET")]
    client_secret: Option<String>,
    /// The user to sign in as.
    #[arg(long, value_name = "USER")]
    username: String,
    /// The user's password (default: $SSOPROOF_PASSWORD; one of the two is required).
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,
    /// Registered redirect URI; nothing needs to listen on it.
    #[arg(long, value_name = "URI", default_value = "http://127.0.0.1/callback")]
    redirect_uri: String,
    /// Scope to request (repeatable or space-separated; default `openid email profile`;
    /// `openid` is added when missing).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Path of the groups claim in the ID token: dotted for nested objects, or a URL-shaped key.
    #[arg(long, value_name = "PATH", default_value = "groups")]
    groups_claim: String,
    /// Map a group to a role: viewer, user or admin (repeatable; exact, case-sensitive).
    #[arg(long = "role", value_name = "GROUP=ROLE", value_parser = render::parse_role_mapping)]
    roles: Vec<(String, Role)>,
    /// Role for users none of whose groups is mapped (default: refuse them).
    #[arg(long, value_name = "ROLE", value_parser = parse_role)]
    default_role: Option<Role>,
    /// How the client authenticates to the token endpoint.
    #[arg(long, value_enum, default_value_t = AuthMethodArg::Basic)]
    auth_method: AuthMethodArg,
    /// Timeout of each network request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LoginFormat::Human)]
    format: LoginFormat,
    /// Also print the ID, access and refresh tokens.
    #[arg(long)]
    show_tokens: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuthMethodArg {
    /// client_secret_basic
    Basic,
    /// client_secret_post
    Post,
}

#[derive(Clone, Copy, ValueEnum)]
enum LoginFormat {
    Human,
    Json,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse().map_err(|e: rp::UnknownRole| e.to_string())
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
        Command::Login(args) => run_login(args),
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

/// `--flag`, else the environment variable; an empty value counts as absent.
fn flag_or_env(flag: Option<String>, var: &str) -> Option<String> {
    flag.or_else(|| std::env::var(var).ok())
        .filter(|v| !v.is_empty())
}

fn run_login(args: LoginArgs) -> anyhow::Result<u8> {
    let Some(password) = flag_or_env(args.password, "SSOPROOF_PASSWORD") else {
        let mut command = Cli::command();
        command.build();
        let login = command
            .find_subcommand_mut("login")
            .expect("the login subcommand exists");
        login
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "a password is required: pass --password or set SSOPROOF_PASSWORD",
            )
            .exit();
    };
    let mut config = ClientConfig::new(args.issuer, args.client_id, args.redirect_uri);
    config.client_secret =
        flag_or_env(args.client_secret, "SSOPROOF_CLIENT_SECRET").map(Secret::new);
    config.scopes = render::scopes_from_args(&args.scopes);
    config.groups_claim = args.groups_claim;
    config.role_mappings = args.roles;
    config.default_role = args.default_role;
    config.auth_method = match args.auth_method {
        AuthMethodArg::Basic => AuthMethod::ClientSecretBasic,
        AuthMethodArg::Post => AuthMethod::ClientSecretPost,
    };
    config.timeout = std::time::Duration::from_secs(args.timeout);
    let password = Secret::new(password);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let party = RelyingParty::discover(config).await?;
        party.login(&args.username, &password).await
    });

    let mut out = std::io::stdout().lock();
    let status = match &result {
        Ok(_) => OK,
        // The configuration itself is unusable: a usage problem, not a verdict on the IdP.
        Err(error) if error.code() == "config_invalid" => TROUBLE,
        Err(_) => FOUND_ERRORS,
    };
    let text = match (&result, args.format) {
        (Ok(session), LoginFormat::Json) => render::success_json(session, args.show_tokens),
        (Ok(session), LoginFormat::Human) => render::success_human(session, args.show_tokens),
        (Err(error), LoginFormat::Json) => render::rejection_json(error),
        (Err(error), LoginFormat::Human) => render::rejection_human(error),
    };
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(status)
}
