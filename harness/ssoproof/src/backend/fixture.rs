//! What the scenarios need to know of the realm fixture that the emulator and a real Keycloak
//! both load: the test users' passwords and the application's client.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{BackendError, ClientRegistration};
use ssoproof_secret::Secret;

/// The realm export every backend that can import one starts from.
pub const REALM_FIXTURE: &str = "fixtures/keycloak-realm.json";

/// The client the runbook's application is, and where it receives codes.
pub const APP_CLIENT: &str = "acme-app";
pub const APP_REDIRECT_URI: &str = "http://127.0.0.1/callback";

#[derive(Clone)]
pub struct RealmFixture {
    pub path: PathBuf,
    pub json: Value,
}

/// The export holds passwords and the client secret: `Debug` names the file, not its content.
impl std::fmt::Debug for RealmFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealmFixture")
            .field("path", &self.path)
            .field("realm", &self.realm_name())
            .finish()
    }
}

impl RealmFixture {
    pub fn load(path: &Path, backend: &'static str) -> Result<RealmFixture, BackendError> {
        let failed = |message: String| BackendError::Failed { backend, message };
        let text = std::fs::read_to_string(path)
            .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
        let json = serde_json::from_str(&text).map_err(|e| {
            failed(format!(
                "{}:{}:{}: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        Ok(RealmFixture {
            path: path.to_path_buf(),
            json,
        })
    }

    pub fn realm_name(&self) -> &str {
        self.json["realm"].as_str().unwrap_or_default()
    }

    fn user(&self, username: &str) -> Option<&Value> {
        self.json["users"]
            .as_array()?
            .iter()
            .find(|u| u["username"] == username)
    }

    pub fn password(&self, username: &str) -> Option<Secret> {
        let credentials = self.user(username)?["credentials"].as_array()?;
        credentials
            .iter()
            .find(|c| c["type"] == "password")
            .and_then(|c| c["value"].as_str())
            .map(Secret::from)
    }

    pub fn user_id(&self, username: &str) -> Option<String> {
        self.user(username)?["id"].as_str().map(str::to_string)
    }

    pub fn app_client(&self) -> ClientRegistration {
        let client = self.json["clients"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["clientId"] == APP_CLIENT));
        ClientRegistration {
            client_id: APP_CLIENT.to_string(),
            secret: client.and_then(|c| c["secret"].as_str()).map(Secret::from),
            redirect_uri: APP_REDIRECT_URI.to_string(),
        }
    }
}
