//! Why a probe could not run at all (as opposed to a case that could not be decided, which is
//! an `ERROR` row of the report). Each has a stable code, documented in the workspace README
//! ("`ssoproof probe`").

use crate::target::TargetError;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{message}")]
    Usage { message: String },
    #[error("cannot read the request body file {path}: {message}")]
    BodyFile { path: String, message: String },
    #[error("cannot start the IdP emulator: [{code}] {message}")]
    Idp { code: &'static str, message: String },
    #[error("{hop}: {message}")]
    Admin { hop: String, message: String },
    #[error("the emulator cannot mint the token: {message}")]
    Mint { message: String },
    #[error("cannot read the issuer's keys: {hop}: {message}")]
    Jwks { hop: String, message: String },
    #[error("cannot make the probe's own keys: {message}")]
    Keys { message: String },
    #[error("cannot start the probe's key server on 127.0.0.1: {message}")]
    KeyServer { message: String },
    #[error("cannot build the HTTP client: {message}")]
    Http { message: String },
    #[error("the IdP has no user `{user}` with a password; its users are {known}")]
    UnknownUser { user: String, known: String },
    #[error("cannot write the report to {path}: {message}")]
    Output { path: String, message: String },
}

impl ProbeError {
    /// Every code [`ProbeError::code`] returns, for the README check.
    pub const CODES: [&'static str; 13] = [
        "probe/target-not-http",
        "probe/target-remote",
        "probe/usage",
        "probe/body-file",
        "probe/idp",
        "probe/idp-admin",
        "probe/mint",
        "probe/jwks",
        "probe/keys",
        "probe/key-server",
        "probe/http",
        "probe/unknown-user",
        "probe/output",
    ];

    pub fn code(&self) -> &'static str {
        match self {
            ProbeError::Target(e) => e.code(),
            ProbeError::Usage { .. } => "probe/usage",
            ProbeError::BodyFile { .. } => "probe/body-file",
            ProbeError::Idp { .. } => "probe/idp",
            ProbeError::Admin { .. } => "probe/idp-admin",
            ProbeError::Mint { .. } => "probe/mint",
            ProbeError::Jwks { .. } => "probe/jwks",
            ProbeError::Keys { .. } => "probe/keys",
            ProbeError::KeyServer { .. } => "probe/key-server",
            ProbeError::Http { .. } => "probe/http",
            ProbeError::UnknownUser { .. } => "probe/unknown-user",
            ProbeError::Output { .. } => "probe/output",
        }
    }
}
