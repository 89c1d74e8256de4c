//! `probe app`: the probe acts as the browser of a web application with an OIDC login. For each
//! case it opens a fresh session at the application's login URL, follows it to the IdP
//! emulator, signs in as a fixture user (while the emulator misbehaves, or tampering with what
//! the browser carries back), delivers the callback and asks the application's whoami URL
//! whether it created a session it should not have.
//!
//! The emulator's client must accept the application's redirect URI: the probe reads it from
//! the application's own authorization request and never rewrites it. Register it on the
//! realm's or persona's client exactly, or register the same path without a port: like
//! Keycloak (RFC 8252, section 7.3), the emulator matches `http://127.0.0.1:<any port>/…` and
//! `http://localhost:<any port>/…` against a port-less registration, and a trailing `*`
//! (`http://127.0.0.1/*`) admits every loopback callback.

mod cases;
pub mod saml;
pub mod session;

use std::time::Duration;

use ssoproof_secret::Secret;
use url::Url;

use crate::error::ProbeError;
use crate::idp::Idp;
use crate::outcome::{ProbeKind, ProbeReport};
use crate::target::check_target;

pub use cases::{Case, CATALOGUE};
pub use session::{AuthRequest, SignedIn, HOP_CALLBACK, HOP_IDP, HOP_LOGIN, HOP_WHOAMI};

fn usage_spec(spec: &str) -> ProbeError {
    ProbeError::Usage {
        message: format!(
            "`{spec}` is not a fixture user: write NAME, NAME:ROLE (the role the runbook \
             promises) or NAME:- (must be refused)"
        ),
    }
}

/// The role a fixture user must end up with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRule {
    /// No promise: any session will do (the control user by default).
    Any,
    /// Signed in with exactly this role (the value at the whoami pointer).
    Role(String),
    /// Refused: the user's groups map to nothing and the runbook fails closed.
    Refused,
}

/// A fixture user of the IdP, and what the runbook promises for them.
#[derive(Debug, Clone)]
pub struct FixtureUser {
    pub username: String,
    pub password: Secret,
    pub rule: RoleRule,
}

impl FixtureUser {
    /// The user `NAME[:ROLE|:-]` of `realm`, with the password the realm holds for them.
    pub fn from_realm(realm: &ssoproof_idp::Realm, spec: &str) -> Result<FixtureUser, ProbeError> {
        let (username, rule) = FixtureUser::parse_spec(spec)?;
        let password = realm
            .user(&username)
            .and_then(|u| u.password.clone())
            .ok_or_else(|| ProbeError::UnknownUser {
                user: username.clone(),
                known: realm
                    .users
                    .iter()
                    .filter(|u| u.password.is_some())
                    .map(|u| u.username.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        Ok(FixtureUser {
            username,
            password,
            rule,
        })
    }

    /// Parses `NAME`, `NAME:ROLE` or `NAME:-` (must be refused) from the command line.
    pub fn parse_spec(spec: &str) -> Result<(String, RoleRule), ProbeError> {
        let (name, rule) = match spec.split_once(':') {
            None => (spec, RoleRule::Any),
            Some((name, "-")) => (name, RoleRule::Refused),
            Some((name, role)) if !role.trim().is_empty() => {
                (name, RoleRule::Role(role.trim().to_string()))
            }
            Some(_) => return Err(usage_spec(spec)),
        };
        if name.trim().is_empty() {
            return Err(usage_spec(spec));
        }
        Ok((name.trim().to_string(), rule))
    }
}

/// What `probe app` is pointed at.
#[derive(Debug, Clone)]
pub struct AppProbe {
    pub login_url: Url,
    pub whoami_url: Url,
    pub signed_in: SignedIn,
    /// The first is the control user, who must be signed in by a valid login.
    pub users: Vec<FixtureUser>,
    /// An Entra user in more than 200 groups and what the runbook promises for them (the
    /// `groups-overage` case; Entra sends `_claim_names` instead of `groups` then).
    pub overage_user: Option<FixtureUser>,
    /// Every request's limit (default 10 s).
    pub timeout: Duration,
    pub allow_remote: bool,
    /// Whether the application reads the discovery document at each login (then the
    /// `discovery-issuer-mismatch` case runs); an application that reads it once at startup
    /// cannot see a fault injected later, so the case would prove nothing.
    pub rediscovers: bool,
    /// Whether the application calls userinfo at login (then the `userinfo-other-sub` case
    /// runs); one that never does cannot be misled by it.
    pub calls_userinfo: bool,
    /// Run only these case ids (empty: all).
    pub only: Vec<String>,
    /// The persona or realm name, for the report.
    pub vendor: String,
}

/// Runs the catalogue against the application; faults are injected one at a time and cleared
/// after each case, so cases run one after the other.
pub async fn run(probe: &AppProbe, idp: &Idp) -> Result<ProbeReport, ProbeError> {
    check_target(&probe.login_url, probe.allow_remote)?;
    check_target(&probe.whoami_url, probe.allow_remote)?;
    if probe
        .overage_user
        .as_ref()
        .is_some_and(|u| u.rule == RoleRule::Any)
    {
        return Err(ProbeError::Usage {
            message: "--overage-user needs the runbook's promise: NAME:ROLE, or NAME:- (refused)"
                .into(),
        });
    }
    if probe.users.is_empty() {
        return Err(ProbeError::Usage {
            message: "no fixture user: pass --user NAME at least once (the first signs in as \
                      the control)"
                .into(),
        });
    }
    for id in &probe.only {
        if !CATALOGUE.iter().any(|c| c.id == id)
            && !id.starts_with(cases::ROLE_PREFIX)
            && id != cases::OVERAGE
        {
            return Err(ProbeError::Usage {
                message: format!(
                    "unknown case `{id}`; the case ids are listed in the README, section \
                     \"`ssoproof probe app`\""
                ),
            });
        }
    }
    let issuer = idp.issuer();
    let idp_origin = Url::parse(&issuer)
        .map_err(|e| ProbeError::Usage {
            message: format!("the IdP's issuer `{issuer}` is not a URL: {e}"),
        })?
        .origin();
    let target = session::Target {
        login_url: probe.login_url.clone(),
        whoami_url: probe.whoami_url.clone(),
        signed_in: probe.signed_in.clone(),
        idp_origin,
        timeout: probe.timeout,
    };
    // Whatever an earlier run left behind would break the control case.
    idp.clear_faults().await?;
    let cases = cases::run_all(probe, &target, idp).await?;
    let mut shown = probe.login_url.clone();
    shown.set_query(None);
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    Ok(ProbeReport {
        probe: ProbeKind::App,
        target: shown.to_string(),
        issuer,
        vendor: probe.vendor.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        cases,
    })
}
