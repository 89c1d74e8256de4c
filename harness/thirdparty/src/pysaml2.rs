//! `scripts/interop/saml/sp_app.py`: a web application whose SAML login is pysaml2, started with
//! the Python of a venv holding `scripts/interop/saml/requirements.txt`.

use std::io::ErrorKind;
use std::path::PathBuf;

use tokio::process::Command;
use url::Url;

use crate::process::{clean_env, Process};
use crate::{repo_root, unavailable, LaunchError, LoginApp};

/// The Python of a venv with pysaml2 installed; unset, `target/probe-saml-venv/bin/python` of
/// this repository (where `.ci/run` makes it).
pub const PYSAML2_PYTHON_ENV: &str = "SSOPROOF_PYSAML2_PYTHON";

/// Starts `sp_app.py`.
pub struct PySaml2App;

impl PySaml2App {
    /// The SP `entity_id` trusting the IdP metadata at `metadata_url` (read once, at start), its
    /// ACS `http://127.0.0.1:<port>/saml/acs`; `role_map` gives each group its role, the first
    /// of the user's groups found winning. Login `/login`, whoami `/whoami` (`{"name_id",
    /// "role"}`, 401 without a session).
    pub async fn start(
        metadata_url: &str,
        entity_id: &str,
        role_map: &[(&str, &str)],
    ) -> Result<LoginApp, LaunchError> {
        let python = std::env::var_os(PYSAML2_PYTHON_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/probe-saml-venv/bin/python"));
        if !python.is_file() {
            return Err(unavailable(format!(
                "no pysaml2 venv at {} (set {PYSAML2_PYTHON_ENV}, or make it: python3 -m venv \
                 target/probe-saml-venv && target/probe-saml-venv/bin/pip install -r \
                 scripts/interop/saml/requirements.txt)",
                python.display()
            )));
        }
        let map: serde_json::Map<String, serde_json::Value> = role_map
            .iter()
            .map(|(group, role)| (group.to_string(), (*role).into()))
            .collect();
        let mut command = Command::new(&python);
        clean_env(&mut command);
        command
            .arg("sp_app.py")
            .current_dir(repo_root().join("scripts/interop/saml"))
            .env("PORT", "0")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("METADATA_URL", metadata_url)
            .env("SP_ENTITY_ID", entity_id)
            .env("ROLE_MAP", serde_json::Value::Object(map).to_string());
        let (mut process, mut lines) = match Process::spawn("sp_app.py", command) {
            Err(LaunchError::Spawn { source, .. }) if source.kind() == ErrorKind::NotFound => {
                return Err(unavailable(format!("cannot run {}", python.display())))
            }
            other => other?,
        };
        let base = process
            .until_line(&mut lines, |line| {
                line.strip_prefix("listening on ")
                    .and_then(|url| Url::parse(url.trim()).ok())
            })
            .await?;
        Ok(LoginApp {
            process,
            base_url: base,
            login_path: "/login",
            callback_path: "/saml/acs",
            whoami_path: "/whoami",
        })
    }
}
