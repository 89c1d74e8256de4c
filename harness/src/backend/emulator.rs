//! The embedded emulator: a fresh in-process IdP per scenario, with every capability. A
//! scenario tagged `@https` gets it over HTTPS with a local CA of its own, which
//! [`Idp::trusted_ca_pem`] hands to the application and the clouds.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use super::{Backend, BackendError, Capability, ClientRegistration, Idp, RealmFixture};
use crate::idp::{Emulator, Fault, IdpOptions, Realm};
use crate::secret::Secret;
use crate::tls::LocalCa;

const NAME: &str = "emulator";

#[derive(Debug)]
pub struct EmulatorBackend {
    realm: PathBuf,
}

impl EmulatorBackend {
    pub fn new(realm: PathBuf) -> EmulatorBackend {
        EmulatorBackend { realm }
    }
}

#[async_trait]
impl Backend for EmulatorBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> &[Capability] {
        &Capability::ALL
    }

    async fn availability(&self) -> Result<(), BackendError> {
        RealmFixture::load(&self.realm, NAME).map(|_| ())
    }

    async fn start_scenario(&self, needs: &[Capability]) -> Result<Arc<dyn Idp>, BackendError> {
        let failed = |message: String| BackendError::Failed {
            backend: NAME,
            message,
        };
        let fixture = RealmFixture::load(&self.realm, NAME)?;
        let realm = Realm::from_keycloak_export(&self.realm).map_err(|e| failed(e.to_string()))?;
        let mut options = IdpOptions::default();
        let mut ca_pem = None;
        if needs.contains(&Capability::Https) {
            let ca = LocalCa::generate().map_err(|e| failed(e.to_string()))?;
            let cert = ca
                .issue_server_cert(&["127.0.0.1"])
                .and_then(|cert| cert.server_config())
                .map_err(|e| failed(e.to_string()))?;
            options.tls = Some(cert);
            ca_pem = Some(ca.cert_pem().to_string());
        }
        let emulator = Emulator::start(realm, options)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(Arc::new(EmulatedIdp {
            emulator,
            fixture,
            ca_pem,
        }))
    }
}

struct EmulatedIdp {
    emulator: Emulator,
    fixture: RealmFixture,
    /// The local CA's certificate when serving HTTPS.
    ca_pem: Option<String>,
}

impl std::fmt::Debug for EmulatedIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedIdp")
            .field("issuer", &self.emulator.issuer())
            .finish()
    }
}

#[async_trait]
impl Idp for EmulatedIdp {
    fn backend(&self) -> &'static str {
        NAME
    }

    fn issuer(&self) -> String {
        self.emulator.issuer()
    }

    fn client(&self) -> ClientRegistration {
        self.fixture.app_client()
    }

    fn password(&self, username: &str) -> Option<Secret> {
        self.fixture.password(username)
    }

    fn user_id(&self, username: &str) -> Option<String> {
        self.emulator.user_id(username)
    }

    fn trusted_ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    async fn rotate_keys(&self) -> Result<String, BackendError> {
        Ok(self.emulator.rotate_keys())
    }

    async fn set_user_enabled(&self, username: &str, enabled: bool) -> Result<(), BackendError> {
        self.emulator
            .set_user_enabled(username, enabled)
            .map_err(|e| self.failed(e))
    }

    async fn set_group_mapper_full_path(&self, value: Option<&str>) -> Result<(), BackendError> {
        let client = self.fixture.app_client().client_id;
        self.emulator
            .set_group_mapper_full_path(&client, value)
            .map_err(|e| self.failed(e))
    }

    async fn remove_group_mapper(&self) -> Result<(), BackendError> {
        let client = self.fixture.app_client().client_id;
        self.emulator
            .remove_protocol_mapper(&client, "groups")
            .map_err(|e| self.failed(e))
    }

    fn inject(&self, fault: Fault) -> Result<(), BackendError> {
        self.emulator.inject(fault);
        Ok(())
    }

    fn jwks_fetch_count(&self) -> Result<usize, BackendError> {
        Ok(self.emulator.jwks_fetch_count())
    }
}

impl EmulatedIdp {
    fn failed(&self, error: impl std::fmt::Display) -> BackendError {
        BackendError::Failed {
            backend: NAME,
            message: error.to_string(),
        }
    }
}
