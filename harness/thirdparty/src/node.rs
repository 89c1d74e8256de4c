//! The two Node apps of `scripts/interop/probe-targets`, and node-oidc-provider
//! (`scripts/oidc-provider`), started with `node`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use ssoproof_secret::Secret;
use tokio::process::Command;
use url::Url;

use crate::process::{clean_env, Process};
use crate::{repo_root, unavailable, BearerApi, LaunchError, LoginApp};

/// Starts the Node apps of `scripts/interop/probe-targets`.
pub struct NodeApp;

impl NodeApp {
    /// `login-app.js`: an Express app whose OIDC login is openid-client 6 (code flow, PKCE
    /// S256, state, nonce, userinfo), with the confidential client `client_id`. `role_map`
    /// gives each group its role, the first entry naming one of the user's groups winning.
    /// `env` sets further variables the app reads (`DEFAULT_ROLE`, `GROUPS_CLAIM`, `SCOPE`; see
    /// the file's header). Its redirect URI is `http://127.0.0.1:<port>/callback`.
    pub async fn login_app(
        issuer: &str,
        client_id: &str,
        client_secret: &Secret,
        role_map: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Result<LoginApp, LaunchError> {
        let map: serde_json::Map<String, serde_json::Value> = role_map
            .iter()
            .map(|(group, role)| (group.to_string(), (*role).into()))
            .collect();
        let mut command = node(&package_dir(), "login-app.js")?;
        command
            .env("ISSUER", issuer)
            .env("CLIENT_ID", client_id)
            .env("CLIENT_SECRET", client_secret.expose())
            .env("ROLE_MAP", serde_json::Value::Object(map).to_string())
            .envs(env.iter().copied());
        let (process, base_url) = start("login-app.js", command).await?;
        Ok(LoginApp {
            process,
            base_url,
            login_path: "/login",
            callback_path: "/callback",
            whoami_path: "/whoami",
        })
    }

    /// `bearer-api.js`: an Express API that verifies bearer tokens with jose
    /// (`createRemoteJWKSet` + `jwtVerify` with `issuer`, `audience` and RS256/ES256).
    /// `GET /v1/me` answers any valid token; `POST /v1/models/{model}` also needs the group
    /// `model_groups` names for the model (`*` for every other model). `env` sets further
    /// variables the app reads (`ALGORITHMS`, `CLOCK_TOLERANCE`, `GROUPS_CLAIM`, `JWKS_URI`,
    /// `JWKS_COOLDOWN`).
    pub async fn bearer_api(
        issuer: &str,
        audience: &str,
        model_groups: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Result<BearerApi, LaunchError> {
        let map: serde_json::Map<String, serde_json::Value> = model_groups
            .iter()
            .map(|(model, group)| (model.to_string(), (*group).into()))
            .collect();
        let mut command = node(&package_dir(), "bearer-api.js")?;
        command
            .env("ISSUER", issuer)
            .env("AUDIENCE", audience)
            .env("MODEL_GROUPS", serde_json::Value::Object(map).to_string())
            .envs(env.iter().copied());
        let (process, base_url) = start("bearer-api.js", command).await?;
        Ok(BearerApi {
            process,
            base_url,
            _upstream: None,
        })
    }

    /// node-oidc-provider 8 (`scripts/oidc-provider/server.js`): the client `acme-app` (secret
    /// `acme-app-secret`, redirect URI `http://127.0.0.1/callback`, PKCE S256 required), and
    /// its development login (any login, any password) then its consent page.
    pub async fn oidc_provider() -> Result<NodeProvider, LaunchError> {
        let mut command = node(&repo_root().join("scripts/oidc-provider"), "server.js")?;
        // Its issuer names the port it was given, so it needs a real one: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| LaunchError::Setup {
                target: "node-oidc-provider",
                message: format!("no free loopback port: {e}"),
            })?
            .port();
        command.arg(port.to_string());
        let (process, base_url) = start("node-oidc-provider", command).await?;
        Ok(NodeProvider {
            _process: process,
            issuer: base_url.as_str().trim_end_matches('/').to_string(),
        })
    }
}

/// A running node-oidc-provider, stopped (its process group killed) when dropped.
pub struct NodeProvider {
    _process: Process,
    issuer: String,
}

impl NodeProvider {
    /// `http://127.0.0.1:<port>`, without a trailing slash, as its discovery spells it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// The probe targets' Node package folder in this repository.
fn package_dir() -> PathBuf {
    repo_root().join("scripts/interop/probe-targets")
}

/// `node <script>` in the package folder `dir`, once its dependencies are installed.
fn node(dir: &Path, script: &str) -> Result<Command, LaunchError> {
    let dir = dir.to_path_buf();
    let missing = missing_dependencies(&dir)?;
    if !missing.is_empty() {
        return Err(unavailable(format!(
            "{} lacks {} in node_modules: run `npm ci` there",
            dir.display(),
            missing.join(", ")
        )));
    }
    let mut command = Command::new("node");
    clean_env(&mut command);
    command.arg(script).current_dir(dir).env("PORT", "0");
    Ok(command)
}

/// The dependencies `package.json` names that `node_modules` does not hold.
fn missing_dependencies(dir: &Path) -> Result<Vec<String>, LaunchError> {
    let setup = |message: String| LaunchError::Setup {
        target: "a Node package",
        message,
    };
    let manifest = dir.join("package.json");
    let text = ssoproof_config::fs::read_to_string(&manifest)
        .map_err(|e| setup(format!("{}: {e}", manifest.display())))?;
    let package: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| setup(format!("{}: not JSON: {e}", manifest.display())))?;
    let dependencies = package
        .get("dependencies")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| setup(format!("{} has no dependencies", manifest.display())))?;
    Ok(dependencies
        .keys()
        .filter(|name| {
            !dir.join("node_modules")
                .join(name)
                .join("package.json")
                .is_file()
        })
        .cloned()
        .collect())
}

/// Spawns the app and waits for its `listening on <base URL>` line.
async fn start(name: &'static str, command: Command) -> Result<(Process, Url), LaunchError> {
    let (mut process, mut lines) = match Process::spawn(name, command) {
        Err(LaunchError::Spawn { source, .. }) if source.kind() == ErrorKind::NotFound => {
            return Err(unavailable(
                "node is not on PATH: install Node 20 or later".to_string(),
            ))
        }
        other => other?,
    };
    let base = process
        .until_line(&mut lines, |line| {
            line.strip_prefix("listening on ")
                .and_then(|url| Url::parse(url.trim()).ok())
        })
        .await?;
    // The base URL with its trailing slash, so paths join onto it.
    let base_url = base.join("/").expect("an http URL has a root");
    Ok((process, base_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_missing_from_node_modules_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"dependencies": {"jose": "6.2.19", "express": "5.3.0"}}"#,
        )
        .unwrap();
        let express = dir.path().join("node_modules/express");
        std::fs::create_dir_all(&express).unwrap();
        std::fs::write(express.join("package.json"), "{}").unwrap();
        assert_eq!(missing_dependencies(dir.path()).unwrap(), ["jose"]);
    }

    #[test]
    fn a_broken_package_json_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), "{").unwrap();
        let error = missing_dependencies(dir.path()).unwrap_err().to_string();
        assert!(error.contains("package.json: not JSON"), "{error}");
    }

    #[test]
    fn the_repositorys_package_names_the_apps_dependencies() {
        let text = std::fs::read_to_string(package_dir().join("package.json")).unwrap();
        let package: serde_json::Value = serde_json::from_str(&text).unwrap();
        for name in ["express", "express-session", "jose", "openid-client"] {
            let version = package["dependencies"][name].as_str().unwrap_or_default();
            assert!(
                !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{name} is pinned to an exact version: {version:?}"
            );
        }
    }
}
