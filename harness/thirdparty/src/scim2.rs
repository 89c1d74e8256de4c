//! scim2-server (PyPI), an in-memory SCIM 2.0 server, and scim2-tester, an RFC 7643/7644
//! compliance checker, both from the venv `scripts/interop/scim/requirements.txt` pins.
//!
//! The server is started through `scripts/interop/scim/serve.py`, which hands scim2-server's
//! own command its bearer token from the environment, never on a command line.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;

use ssoproof_secret::Secret;
use tokio::process::Command;
use url::Url;

use crate::process::{clean_env, Process, READY_TIMEOUT};
use crate::{repo_root, unavailable, LaunchError};

/// Names the venv that holds scim2-server and scim2-tester (its folder, with `bin/python`).
pub const SCIM_VENV_ENV: &str = "SSOPROOF_SCIM_VENV";

const TARGET: &str = "scim2-server";

/// Starts scim2-server.
pub struct Scim2Server;

/// A running scim2-server; killed (its whole process group) when dropped.
pub struct ScimServer {
    process: Process,
    base_url: Url,
    python: PathBuf,
}

impl Scim2Server {
    /// scim2-server with its defaults (the RFC 7643 schemas, User and Group, every feature
    /// announced but cursor paging) on a free loopback port, accepting only `token`.
    pub async fn start(token: &Secret) -> Result<ScimServer, LaunchError> {
        let python = python()?;
        // A free port, released for the server to take: scim2-server prints the port it was
        // given, not the one it bound, so port 0 cannot be used.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| LaunchError::Setup {
                target: TARGET,
                message: format!("no free port on 127.0.0.1: {e}"),
            })?
            .port();
        let mut command = Command::new(&python);
        clean_env(&mut command);
        command
            .arg(repo_root().join("scripts/interop/scim/serve.py"))
            .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
            .env("SCIM_BEARER_TOKEN", token.expose())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1");
        let (mut process, mut lines) = match Process::spawn(TARGET, command) {
            Err(LaunchError::Spawn { source, .. }) if source.kind() == ErrorKind::NotFound => {
                return Err(unavailable(format!("{} is missing", python.display())))
            }
            other => other?,
        };
        let base_url = process
            .until_line(&mut lines, |line| {
                line.strip_prefix("Serving SCIM on ")
                    .and_then(|url| Url::parse(url.trim()).ok())
            })
            .await?;
        Ok(ScimServer {
            process,
            base_url,
            python,
        })
    }
}

impl ScimServer {
    /// The SCIM base URL, `http://127.0.0.1:<port>/v2`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// What the server printed so far, for a failing test's message.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Runs scim2-tester (`scripts/interop/scim/run_tester.py`) against `base_url` with
    /// `token` (through the environment) and returns its output: one JSON object per check,
    /// `{"checker", "status", "tags", "resource_type", "reason"}`.
    pub async fn run_tester(&self, base_url: &Url, token: &Secret) -> Result<String, LaunchError> {
        let mut command = Command::new(&self.python);
        clean_env(&mut command);
        command
            .arg(repo_root().join("scripts/interop/scim/run_tester.py"))
            .arg(base_url.as_str())
            .arg("SCIM_TESTER_TOKEN")
            .env("SCIM_TESTER_TOKEN", token.expose())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(READY_TIMEOUT * 4, command.output())
            .await
            .map_err(|_| LaunchError::Setup {
                target: "scim2-tester",
                message: format!("did not finish within {} s", READY_TIMEOUT.as_secs() * 4),
            })?
            .map_err(|source| LaunchError::Spawn {
                target: "scim2-tester",
                program: self.python.display().to_string(),
                source,
            })?;
        let redact =
            |bytes: &[u8]| ssoproof_secret::redact_all(&String::from_utf8_lossy(bytes), &[token]);
        if !output.status.success() {
            return Err(LaunchError::Exited {
                target: "scim2-tester",
                status: output.status.to_string(),
                log: format!("{}{}", redact(&output.stdout), redact(&output.stderr)),
            });
        }
        Ok(redact(&output.stdout))
    }
}

/// The venv's python: `$SSOPROOF_SCIM_VENV/bin/python`, by default `target/scim-venv`.
fn python() -> Result<PathBuf, LaunchError> {
    let venv = std::env::var_os(SCIM_VENV_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/scim-venv"));
    let python = venv.join("bin/python");
    let installed = venv.join("bin/scim2-server").try_exists().unwrap_or(false);
    if !installed {
        return Err(unavailable(format!(
            "scim2-server is not installed in {} (set {SCIM_VENV_ENV}, or run `python3 -m venv \
             target/scim-venv && target/scim-venv/bin/pip install -r \
             scripts/interop/scim/requirements.txt`)",
            venv.display()
        )));
    }
    Ok(python)
}
