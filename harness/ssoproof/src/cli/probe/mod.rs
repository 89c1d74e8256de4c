//! `ssoproof probe`: conformance probes of the team's own application.

mod api;
mod app;
mod scim;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ssoproof_idp::{Realm, Vendor};
use ssoproof_probe::report::{render, Format};
use ssoproof_probe::{ProbeError, ProbeReport};

use super::serve::load_realm;
use super::{FOUND_ERRORS, OK};

#[derive(Subcommand)]
pub enum Probe {
    /// Call a bearer-token API with valid, forged and out-of-policy tokens and report, per
    /// case, whether it refused what it must refuse.
    ///
    /// The API must trust the issuer the probe prints (an emulator it starts on --idp-bind, or
    /// the one --idp-url names). Exit status 0: every case passed; 1: a case was accepted that
    /// must be refused, refused that must be accepted, or could not be decided; 2: usage or
    /// setup problem.
    Api(Box<api::ApiArgs>),
    /// Act as the browser of a web application with an OIDC login and report, per case,
    /// whether it created a session it should not have.
    ///
    /// Each case opens a fresh session at --login-url, follows the application to the IdP
    /// emulator, signs in as a fixture user (while the emulator misbehaves, or tampering with
    /// what the browser carries back), delivers the callback and asks --whoami-url who is
    /// signed in. Exit status 0: every case passed; 1: a case was accepted that must be
    /// refused, refused that must be accepted, or could not be decided; 2: usage or setup
    /// problem.
    App(Box<app::AppArgs>),
    /// Drive a SCIM 2.0 server (RFC 7643/7644) as an IdP's provisioning client does and
    /// report, per case, whether it did what the RFC (and with --dialect, Entra ID's or Okta's
    /// client) needs.
    ///
    /// Creates, reads, replaces, patches, filters, pages and deletes Users and Groups named
    /// ssoproof-<run>-…, deleting them at the end. Exit status 0: every case passed; 1: a case
    /// failed or could not be decided; 2: usage or setup problem.
    Scim(Box<scim::ScimArgs>),
}

pub fn run(command: Probe) -> anyhow::Result<u8> {
    match command {
        Probe::Api(args) => api::run(*args),
        Probe::App(args) => app::run(*args),
        Probe::Scim(args) => scim::run(*args),
    }
}

/// What the emulator serves (and where fixture users' passwords come from): a Keycloak realm
/// export, a built-in persona by name, a persona file, or the built-in realm `acme`.
fn realm(realm: Option<&Path>, persona: Option<&str>) -> anyhow::Result<Realm> {
    if let Some(vendor) = persona.and_then(builtin_persona) {
        return Ok(Realm::builtin_persona(vendor));
    }
    Ok(load_realm(realm, persona.map(Path::new))?.unwrap_or_else(Realm::builtin_keycloak))
}

/// A built-in persona by the name of its fixture file.
fn builtin_persona(name: &str) -> Option<Vendor> {
    Some(match name {
        "okta" => Vendor::Okta,
        "auth0" => Vendor::Auth0,
        "entra-id" | "entra" => Vendor::Entra,
        "google" | "google-workspace" => Vendor::Google,
        "cognito" => Vendor::Cognito,
        "authentik" => Vendor::Authentik,
        _ => return None,
    })
}

fn coded(e: ProbeError) -> anyhow::Error {
    anyhow::anyhow!("[{}] {e}", e.code())
}

/// How both probes report.
#[derive(Args)]
struct ReportArgs {
    /// Output format: table, json, junit or sarif.
    #[arg(long, default_value = "table")]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Include the tokens each case sent in the report (probe api; probe app sends no token of
    /// its own, the application redeems the code; probe scim's bearer token is never shown).
    #[arg(long)]
    show_tokens: bool,
}

/// A JSON pointer (RFC 6901): empty (the whole document) or starting with `/`.
fn parse_pointer(text: &str) -> Result<String, String> {
    if text.is_empty() || text.starts_with('/') {
        Ok(text.to_string())
    } else {
        Err(format!(
            "`{text}` is not a JSON pointer; they start with `/`, e.g. /sub or /role"
        ))
    }
}

/// Writes the report where `--output` says (standard output by default) and gives the exit
/// status: 0 when every case passed, 1 otherwise.
fn write_report(report: &ProbeReport, args: &ReportArgs) -> anyhow::Result<u8> {
    let text = render(report, args.format, args.show_tokens);
    match args.output.as_deref() {
        Some(path) => std::fs::write(path, &text).map_err(|e| {
            coded(ProbeError::Output {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(if report.passed() { OK } else { FOUND_ERRORS })
}
