//! `ssoproof probe`: conformance probes of the team's own application.

mod app;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum Probe {
    /// Act as the browser of a web application with an OIDC login and report, per case,
    /// whether it created a session it should not have.
    ///
    /// Each case opens a fresh session at --login-url, follows the application to the IdP
    /// emulator, signs in as a fixture user (while the emulator misbehaves, or tampering with
    /// what the browser carries back), delivers the callback and asks --whoami-url who is
    /// signed in. Exit status 0: every case passed; 1: a case was accepted that must be
    /// refused, refused that must be accepted, or could not be decided; 2: usage or setup
    /// problem.
    App(app::AppArgs),
}

pub fn run(command: Probe) -> anyhow::Result<u8> {
    match command {
        Probe::App(args) => app::run(args),
    }
}
