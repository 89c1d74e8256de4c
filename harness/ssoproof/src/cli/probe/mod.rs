//! `ssoproof probe`: conformance probes of the team's own application.

mod api;
mod app;

use std::io::Write;
use std::path::Path;

use clap::Subcommand;
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
}

pub fn run(command: Probe) -> anyhow::Result<u8> {
    match command {
        Probe::Api(args) => api::run(*args),
        Probe::App(args) => app::run(*args),
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

/// Writes the report where `--output` says (standard output by default) and gives the exit
/// status: 0 when every case passed, 1 otherwise.
fn write_report(
    report: &ProbeReport,
    format: Format,
    show_tokens: bool,
    output: Option<&Path>,
) -> anyhow::Result<u8> {
    let text = render(report, format, show_tokens);
    match output {
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
