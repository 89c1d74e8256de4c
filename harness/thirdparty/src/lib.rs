//! Test support (not published): starts the real third-party software the `ssoproof probe`
//! tests are proven on, from a Rust test in one call, trusting an IdP (normally the emulator).
//!
//! | launcher | what runs | login / whoami |
//! |---|---|---|
//! | [`OAuth2Proxy::login`] | oauth2-proxy v7.15.6, `--provider=oidc`, in front of `static://200` | `/oauth2/start`, `/oauth2/userinfo` |
//! | [`OAuth2Proxy::bearer`] | oauth2-proxy with `--skip-jwt-bearer-tokens` in front of an echo upstream | — |
//! | [`NodeApp::login_app`] | `scripts/interop/probe-targets/login-app.js`: Express + openid-client 6 | `/login`, `/whoami` |
//! | [`NodeApp::bearer_api`] | `scripts/interop/probe-targets/bearer-api.js`: Express + jose | — |
//! | [`Scim2Server::start`] | scim2-server 0.8.3 (PyPI), in memory, one bearer token | SCIM base `/v2` |
//! | [`NodeApp::oidc_provider`] | `scripts/oidc-provider/server.js`: node-oidc-provider 8, an IdP ([`NodeProvider`]) | its dev login |
//! | [`PySaml2App::start`] | `scripts/interop/saml/sp_app.py`: a SAML SP on pysaml2 7.5.5 | `/login`, `/whoami` |
//!
//! Each answers with a handle ([`LoginApp`] or [`BearerApi`]) that knows its URLs and kills the
//! target's whole process group when dropped. A bearer target reports the caller's identity the
//! same way in both implementations: an `X-Attach-User` header (the email, else `sub`) and a
//! JSON body `{"sub", "email", "groups"}`. A target runs with a clean environment (`PATH` and
//! `HOME` only) plus what its launcher sets, so nothing in the test's environment changes it.
//!
//! # Where the targets come from
//!
//! - `SSOPROOF_OAUTH2_PROXY`: the oauth2-proxy binary. Unset, the path
//!   `scripts/interop/oauth2-proxy/install` builds to by default is tried
//!   (`$SSOPROOF_CACHE/oauth2-proxy-v7.15.6/bin/oauth2-proxy`, the cache defaulting to
//!   `$XDG_CACHE_HOME/ssoproof` or `~/.cache/ssoproof`).
//! - The Node apps: `node` (20 or later) on `PATH`, and `npm ci` run in
//!   `scripts/interop/probe-targets` (node-oidc-provider: `scripts/oidc-provider`) of this
//!   repository.
//! - `SSOPROOF_SCIM_VENV`: a Python venv with `scripts/interop/scim/requirements.txt`
//!   installed (scim2-server and scim2-tester); unset, `target/scim-venv` is tried.
//! - The pysaml2 app: `SSOPROOF_PYSAML2_PYTHON`, a venv's Python with
//!   `scripts/interop/saml/requirements.txt` installed (default `target/probe-saml-venv/bin/python`),
//!   and the `xmlsec1` command.
//!
//! A missing target is [`LaunchError::Unavailable`]: the test skips, saying why (see
//! [`launch_or_skip!`]). With `SSOPROOF_REQUIRE_PROBE_TARGETS=1` (set by `.ci/run`) it is
//! [`LaunchError::Required`] instead, and the test fails.

mod node;
mod oauth2_proxy;
mod process;
mod pysaml2;
mod scim2;

use std::path::PathBuf;

use url::Url;

pub use node::{NodeApp, NodeProvider};
pub use oauth2_proxy::{OAuth2Proxy, OAUTH2_PROXY_ENV, OAUTH2_PROXY_VERSION};
pub use pysaml2::{PySaml2App, PYSAML2_PYTHON_ENV};
pub use scim2::{Scim2Server, ScimServer, SCIM_VENV_ENV};

use process::Process;

/// Set (to anything) to make a missing target a failure instead of a skip.
pub const REQUIRE_ENV: &str = "SSOPROOF_REQUIRE_PROBE_TARGETS";

/// Why a target did not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The target is not installed here: the test should skip, saying this.
    #[error("{0}")]
    Unavailable(String),
    /// The target is not installed, but `SSOPROOF_REQUIRE_PROBE_TARGETS` says it must be.
    #[error("SSOPROOF_REQUIRE_PROBE_TARGETS is set but {0}")]
    Required(String),
    #[error("cannot start {target} ({program}): {source}")]
    Spawn {
        target: &'static str,
        program: String,
        source: std::io::Error,
    },
    #[error("{target} exited before it was ready ({status}); it printed:\n{log}")]
    Exited {
        target: &'static str,
        status: String,
        log: String,
    },
    #[error("{target} was not ready within {secs} s; it printed:\n{log}")]
    NotReady {
        target: &'static str,
        secs: u64,
        log: String,
    },
    #[error("cannot set up {target}: {message}")]
    Setup {
        target: &'static str,
        message: String,
    },
}

/// A missing target: a skip, or a failure under `SSOPROOF_REQUIRE_PROBE_TARGETS`.
fn unavailable(reason: String) -> LaunchError {
    missing(
        std::env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty()),
        reason,
    )
}

fn missing(required: bool, reason: String) -> LaunchError {
    if required {
        LaunchError::Required(reason)
    } else {
        LaunchError::Unavailable(reason)
    }
}

/// The value of a launch, or: on [`LaunchError::Unavailable`] print `SKIPPED: <reason>` and
/// return from the (unit-returning) test; on any other error panic with it.
///
/// The line goes straight to the process's stderr, past the test harness's output capture,
/// so a skip shows in a plain `cargo test` run.
#[macro_export]
macro_rules! launch_or_skip {
    ($launch:expr) => {
        match $launch {
            Ok(target) => target,
            Err($crate::LaunchError::Unavailable(reason)) => {
                use std::io::Write as _;
                let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
                return;
            }
            Err(other) => panic!("{other}"),
        }
    };
}

/// The repository root (this crate is `harness/thirdparty`).
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running web application with an OIDC login.
pub struct LoginApp {
    process: Process,
    base_url: Url,
    login_path: &'static str,
    callback_path: &'static str,
    whoami_path: &'static str,
}

impl LoginApp {
    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Where a browser starts a login (the app redirects it to the IdP).
    pub fn login_url(&self) -> Url {
        self.join(self.login_path)
    }

    /// The redirect URI the app sends to the IdP, where the IdP sends the browser back.
    pub fn callback_url(&self) -> Url {
        self.join(self.callback_path)
    }

    /// Answers `200` with JSON naming the signed-in user, `401` without a session:
    /// oauth2-proxy's `{"user", "email", "groups", "preferredUsername"}`, the Node app's
    /// `{"sub", "email", "role"}`.
    pub fn whoami_url(&self) -> Url {
        self.join(self.whoami_path)
    }

    /// What the app printed so far (stdout and stderr), for a failing test's message.
    pub fn log(&self) -> String {
        self.process.log()
    }

    fn join(&self, path: &str) -> Url {
        self.base_url
            .join(path)
            .expect("a path joins onto an http URL")
    }
}

/// A running API that takes bearer tokens.
pub struct BearerApi {
    process: Process,
    base_url: Url,
    /// oauth2-proxy's upstream, stopped with the proxy.
    _upstream: Option<ssoproof_server::ServerHandle>,
}

impl BearerApi {
    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// `path` on the API, e.g. `/v1/models/gpt-4`.
    pub fn url(&self, path: &str) -> Url {
        self.base_url
            .join(path)
            .expect("a path joins onto an http URL")
    }

    /// What the API printed so far (stdout and stderr), for a failing test's message.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(result: Result<u8, LaunchError>, reached: &mut Option<u8>) {
        let value = launch_or_skip!(result);
        *reached = Some(value);
    }

    #[test]
    fn launch_or_skip_returns_early_on_a_skip_and_hands_over_a_target() {
        let mut reached = None;
        launch(
            // Prints `SKIPPED: …` as any skip does; the reason says whose it is.
            Err(LaunchError::Unavailable(
                "launch_or_skip!'s own test of a skip".into(),
            )),
            &mut reached,
        );
        assert_eq!(reached, None);
        launch(Ok(7), &mut reached);
        assert_eq!(reached, Some(7));
    }

    #[test]
    #[should_panic(expected = "SSOPROOF_REQUIRE_PROBE_TARGETS is set but not here")]
    fn launch_or_skip_fails_the_test_when_targets_are_required() {
        launch(Err(LaunchError::Required("not here".into())), &mut None);
    }

    #[test]
    fn a_missing_target_is_a_skip_unless_targets_are_required() {
        let skip = missing(false, "oauth2-proxy is not installed".to_string());
        assert!(
            matches!(&skip, LaunchError::Unavailable(r) if r == "oauth2-proxy is not installed")
        );
        let fail = missing(true, "oauth2-proxy is not installed".to_string());
        assert_eq!(
            fail.to_string(),
            "SSOPROOF_REQUIRE_PROBE_TARGETS is set but oauth2-proxy is not installed"
        );
    }
}
