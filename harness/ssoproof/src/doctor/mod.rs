//! The connection doctor an operator runs first (`ssoproof doctor --profile FILE`): it walks a
//! federated call hop by hop — IdP discovery and JWKS without a token, sign-in (or a silent
//! refresh), the ID token's validation, then each configured cloud leg (AWS STS and Bedrock,
//! Google STS and Vertex) — and says which hop failed, with the server's own reason and the
//! runbook troubleshooting rows that describe it.
//!
//! - [`profile`]: the profile file (strict YAML, secrets from the environment).
//! - `hops`: running the hops, legs stopping at their first failure.
//! - [`troubleshooting`]: the runbooks' troubleshooting rows, and which match a failure.
//! - [`report`]: the result, rendered for people and as JSON.

mod hops;
pub mod profile;
pub mod report;
pub mod troubleshooting;

pub use profile::{AwsProfile, GcpProfile, IdpProfile, Profile, SignIn};
pub use report::{Failure, Hop, HopReport, Outcome, Report};
pub use troubleshooting::{Row, RunbookReadError};

use ssoproof_config::ConfigError;

/// Why the doctor could not start. Codes are stable.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    #[error(transparent)]
    Profile(#[from] ConfigError),
    #[error(transparent)]
    Runbook(#[from] RunbookReadError),
}

impl DoctorError {
    pub fn code(&self) -> &'static str {
        match self {
            DoctorError::Profile(e) => e.code(),
            DoctorError::Runbook(e) => e.code(),
        }
    }
}

/// Reads the profile's runbooks, then runs every configured hop.
pub async fn diagnose(profile: &Profile) -> Result<Report, DoctorError> {
    let rows = troubleshooting::load(&profile.runbooks)?;
    Ok(hops::run(profile, &rows).await)
}

#[cfg(test)]
mod tests;
