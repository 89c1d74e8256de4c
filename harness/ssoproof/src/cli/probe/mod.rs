//! `ssoproof probe`: conformance probes of the team's own application.

mod api;

use clap::Subcommand;

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
}

pub fn run(command: Probe) -> anyhow::Result<u8> {
    match command {
        Probe::Api(args) => api::run(*args),
    }
}
