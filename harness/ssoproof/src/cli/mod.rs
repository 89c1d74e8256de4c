//! Argument parsing and exit codes over the library; one module per subcommand.

mod coverage;
mod doctor;
mod lint;
mod login;
mod probe;
mod serve;
mod signoff;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ssoproof_config::LoadedConfig;

pub use ssoproof_lint::cli::{FOUND_ERRORS, OK, TROUBLE};

#[derive(Parser)]
#[command(
    name = "ssoproof",
    version,
    about = "Executable SSO runbooks",
    propagate_version = true
)]
pub struct Cli {
    /// The project configuration (default: `ssoproof.yaml` in this folder or an ancestor).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint the runbooks, run every feature against the emulator (or other backends), and
    /// report each checklist item: passed, failed with the reason, skipped, or manual.
    Verify(verify::VerifyArgs),
    /// For each runbook item, the scenario that proves it and its last result; and the
    /// scenarios no runbook cites.
    Coverage(coverage::CoverageArgs),
    /// Sign a runbook off: run the scenarios bound to its checklist, ask its `[manual]` items,
    /// and write a Markdown record with JSON evidence (optionally SSH-signed); or, with
    /// `check`, report runbooks whose latest sign-off no longer covers them.
    ///
    /// Exit status 0: signed off (check: every record current); 1: refused, listing the items
    /// that failed, were skipped or answered no (check: a finding); 2: usage or input problem.
    Signoff(signoff::SignoffArgs),
    /// Check Markdown runbooks: links, anchors, review dates, layout, checklists, index, bindings.
    Lint(lint::LintArgs),
    /// Sign in to an OIDC IdP as the reference relying party (or, with --saml, to a SAML IdP as
    /// the reference service provider) and report the user's role.
    ///
    /// Runs the whole contract: discovery (exact issuer), code flow with PKCE S256 through the
    /// IdP's HTML login form, token exchange, strict ID-token validation, userinfo, groups claim
    /// and role mapping; with --saml: metadata, AuthnRequest, the login form, strict Response
    /// validation, groups attribute and role mapping. Exit status 0: signed in; 1: rejected
    /// (the error code says why); 2: usage problem. Tokens are printed only with --show-tokens.
    #[command(
        after_help = "Environment:\n  SSOPROOF_CLIENT_SECRET  client secret when --client-secret is not given\n  SSOPROOF_PASSWORD       password when --password is not given\nPrefer the environment: command-line arguments are visible to other local users."
    )]
    Login(login::LoginArgs),
    /// Check a federated setup hop by hop and name the hop that fails.
    ///
    /// IdP discovery and JWKS (no token), sign-in (or a silent refresh from a stored refresh
    /// token), ID-token validation, then each configured cloud leg: AWS STS and Bedrock, Google
    /// STS and Vertex. A failure shows the server's own reason and the matching troubleshooting
    /// rows of the runbooks the profile names. Exit status 0: every hop ok; 1: a hop failed;
    /// 2: usage or profile problem.
    #[command(
        after_help = "Profile (YAML; secrets come from the environment variables it names):
  idp:   issuer, client_id, client_secret_env, redirect_uri, username, password_env,
         groups_claim, role_mappings, default_role, scopes, ca_file, token_store, timeout_seconds
  aws:   sts_endpoint, region, role_arn, session_name, duration_seconds, bedrock_endpoint, model
  gcp:   sts_endpoint, audience, project, quota_project, vertex_endpoint, location, model
  runbooks: [FILE, ...]"
    )]
    Doctor(doctor::DoctorArgs),
    /// Test the team's own application: a bearer API (`probe api`) against a catalogue of
    /// valid, forged and out-of-policy tokens, or a web application's OIDC login (`probe app`)
    /// while the emulator misbehaves and the browser tampers.
    #[command(subcommand)]
    Probe(probe::Probe),
    /// Run an emulator in the foreground until Ctrl-C.
    #[command(subcommand)]
    Serve(serve::Serve),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Verify(args) => verify::run(cli.config, args),
        Command::Coverage(args) => coverage::run(cli.config, args),
        Command::Signoff(args) => signoff::run(cli.config, args),
        Command::Lint(args) => lint::run(cli.config, args),
        Command::Login(args) => login::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Probe(command) => probe::run(command),
        Command::Serve(command) => serve::run(command),
    };
    match status {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(TROUBLE)
        }
    }
}

pub fn load_config(path: Option<PathBuf>) -> anyhow::Result<LoadedConfig> {
    ssoproof_lint::cli::load_config(path).map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))
}

/// Now, in UTC (RFC 3339), for the "generated" line of a report.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
