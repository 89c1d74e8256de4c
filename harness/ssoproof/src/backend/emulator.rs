//! The embedded emulator: a fresh in-process IdP per scenario, with every capability. It serves
//! the Keycloak realm fixture, and every vendor persona under `fixtures/idp/` for the features
//! that ask for one (`@persona:<name>`); a persona brokered through Keycloak gets a second
//! emulator, the persona, behind the Keycloak realm.
//! A scenario tagged `@https` gets the Keycloak realm over HTTPS with a local CA of its own,
//! which [`Idp::trusted_ca_pem`] hands to the application and the clouds.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use super::fixture::APP_REDIRECT_URI;
use super::{
    Backend, BackendError, Capability, ClientRegistration, Idp, PersonaFixture, RealmFixture,
};
use ssoproof_idp::{Emulator, Fault, IdpOptions, PersonaEdit, Realm};
use ssoproof_secret::Secret;
use ssoproof_server::tls::LocalCa;

const NAME: &str = "emulator";

#[derive(Debug)]
pub struct EmulatorBackend {
    realm: PathBuf,
    personas: Vec<PersonaFixture>,
    /// A persona every scenario gets (see [`EmulatorBackend::persona`]).
    fixed: Option<PersonaFixture>,
}

impl EmulatorBackend {
    /// Serves the Keycloak realm export `realm` (and no persona).
    pub fn new(realm: PathBuf) -> EmulatorBackend {
        EmulatorBackend {
            realm,
            personas: Vec::new(),
            fixed: None,
        }
    }

    /// Also serves these personas to the scenarios that name them.
    pub fn with_personas(mut self, personas: Vec<PersonaFixture>) -> EmulatorBackend {
        self.personas = personas;
        self
    }

    /// Serves one persona to every scenario, whatever its tags.
    pub fn persona(persona: PersonaFixture) -> EmulatorBackend {
        EmulatorBackend {
            realm: persona
                .broker_realm
                .clone()
                .unwrap_or_else(|| persona.file.clone()),
            personas: vec![persona.clone()],
            fixed: Some(persona),
        }
    }

    /// The personas this backend serves.
    pub fn personas(&self) -> &[PersonaFixture] {
        &self.personas
    }

    async fn start_persona_fixture(
        &self,
        persona: &PersonaFixture,
    ) -> Result<Arc<dyn Idp>, BackendError> {
        let realm = Realm::from_persona(&persona.file)
            .map_err(|e| failed(format!("[{}] {e}", e.code())))?;
        let emulator = Emulator::start(realm, IdpOptions::default())
            .await
            .map_err(|e| failed(e.to_string()))?;
        let Some(broker) = &persona.broker_realm else {
            let client_id =
                emulator.client_ids().first().cloned().ok_or_else(|| {
                    failed(format!("{} defines no client", persona.file.display()))
                })?;
            let app = ClientRegistration {
                secret: emulator.client_secret(&client_id),
                client_id,
                redirect_uri: APP_REDIRECT_URI.to_string(),
            };
            return Ok(Arc::new(EmulatedIdp {
                emulator,
                upstream: None,
                app,
                fixture: None,
                ca_pem: None,
            }));
        };
        let fixture = RealmFixture::load(broker, NAME)?;
        let keycloak = Realm::from_keycloak_export(broker).map_err(|e| failed(e.to_string()))?;
        let vendor = persona.vendor.map(|v| v.as_str()).unwrap_or_default();
        let upstreams = keycloak
            .identity_providers
            .iter()
            .filter(|p| p.provider_id == vendor)
            .map(|p| (p.alias.clone(), emulator.issuer()))
            .collect();
        let options = IdpOptions {
            upstreams,
            ..IdpOptions::default()
        };
        let front = Emulator::start(keycloak, options)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(Arc::new(EmulatedIdp {
            emulator: front,
            upstream: Some((vendor.to_string(), emulator)),
            app: fixture.app_client(),
            fixture: Some(fixture),
            ca_pem: None,
        }))
    }
}

fn failed(message: String) -> BackendError {
    BackendError::Failed {
        backend: NAME,
        message,
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
        match &self.fixed {
            Some(persona) => Realm::from_persona(&persona.file)
                .map(|_| ())
                .map_err(|e| failed(format!("[{}] {e}", e.code()))),
            None => RealmFixture::load(&self.realm, NAME).map(|_| ()),
        }
    }

    async fn start_scenario(&self, needs: &[Capability]) -> Result<Arc<dyn Idp>, BackendError> {
        if let Some(persona) = &self.fixed {
            return self.start_persona_fixture(persona).await;
        }
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
            upstream: None,
            app: fixture.app_client(),
            fixture: Some(fixture),
            ca_pem,
        }))
    }

    fn serves_persona(&self, name: &str) -> bool {
        self.personas.iter().any(|p| p.name == name)
    }

    async fn start_persona(&self, name: &str) -> Result<Arc<dyn Idp>, BackendError> {
        let persona = self
            .personas
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                failed(format!(
                    "no persona \"{name}\" (expected fixtures/idp/{name}.yaml)"
                ))
            })?;
        self.start_persona_fixture(persona).await
    }
}

/// One scenario's emulator; for a brokered persona, the Keycloak realm in front and the persona
/// (keyed by its vendor, e.g. `google`) behind it.
struct EmulatedIdp {
    emulator: Emulator,
    upstream: Option<(String, Emulator)>,
    app: ClientRegistration,
    /// The Keycloak realm export, whose passwords the scenarios use.
    fixture: Option<RealmFixture>,
    /// The local CA's certificate when serving HTTPS.
    ca_pem: Option<String>,
}

impl std::fmt::Debug for EmulatedIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedIdp")
            .field("issuer", &self.emulator.issuer())
            .field("vendor", &self.emulator.vendor())
            .finish()
    }
}

/// The stored username `name` stands for: itself, or the account whose e-mail-shaped login
/// starts `name@`.
fn resolve(emulator: &Emulator, name: &str) -> Option<String> {
    let wanted = name.to_lowercase();
    emulator
        .usernames()
        .into_iter()
        .find(|u| *u == wanted || u.split_once('@').is_some_and(|(local, _)| local == wanted))
}

#[async_trait]
impl Idp for EmulatedIdp {
    fn backend(&self) -> &'static str {
        NAME
    }

    fn issuer(&self) -> String {
        self.emulator.issuer()
    }

    fn scim_base_url(&self) -> Option<String> {
        Some(format!("{}/_ssoproof/scim/v2", self.emulator.base_url()))
    }

    fn client(&self) -> ClientRegistration {
        self.app.clone()
    }

    fn login_name(&self, username: &str) -> String {
        self.upstream
            .as_ref()
            .and_then(|(_, upstream)| resolve(upstream, username))
            .or_else(|| resolve(&self.emulator, username))
            .unwrap_or_else(|| username.to_string())
    }

    fn password(&self, username: &str) -> Option<Secret> {
        if let Some((_, upstream)) = &self.upstream {
            if let Some(login) = resolve(upstream, username) {
                return upstream.password(&login);
            }
        }
        match (&self.fixture, self.emulator.vendor()) {
            (Some(fixture), None) => fixture
                .password(username)
                .or_else(|| self.emulator.password(&self.login_name(username))),
            _ => self.emulator.password(&self.login_name(username)),
        }
    }

    fn user_id(&self, username: &str) -> Option<String> {
        let login = resolve(&self.emulator, username).or_else(|| {
            self.upstream
                .as_ref()
                .and_then(|(_, upstream)| resolve(upstream, username))
        })?;
        match self.emulator.vendor() {
            Some(_) => self.emulator.subject(&login, &self.app.client_id),
            None => self.emulator.user_id(&login),
        }
    }

    fn issuer_named(&self, key: &str) -> Option<String> {
        if let Some((vendor, upstream)) = &self.upstream {
            if vendor == key {
                return Some(upstream.issuer());
            }
        }
        self.emulator
            .issuers()
            .into_iter()
            .find(|(id, _)| id == key)
            .map(|(_, issuer)| issuer)
    }

    fn client_named(&self, client_id: &str) -> Option<ClientRegistration> {
        std::iter::once(&self.emulator)
            .chain(self.upstream.as_ref().map(|(_, u)| u))
            .find(|e| e.client_ids().iter().any(|c| c == client_id))
            .map(|e| ClientRegistration {
                client_id: client_id.to_string(),
                secret: e.client_secret(client_id),
                redirect_uri: APP_REDIRECT_URI.to_string(),
            })
    }

    fn upstream_user_id(&self, username: &str) -> Option<String> {
        let (_, upstream) = self.upstream.as_ref()?;
        upstream.user_id(&resolve(upstream, username)?)
    }

    fn trusted_ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    async fn rotate_keys(&self) -> Result<String, BackendError> {
        Ok(self.emulator.rotate_keys())
    }

    async fn set_user_enabled(&self, username: &str, enabled: bool) -> Result<(), BackendError> {
        self.emulator
            .set_user_enabled(&self.login_name(username), enabled)
            .map_err(|e| failed(e.to_string()))
    }

    async fn set_group_mapper_full_path(&self, value: Option<&str>) -> Result<(), BackendError> {
        self.emulator
            .set_group_mapper_full_path(&self.app.client_id, value)
            .map_err(|e| failed(e.to_string()))
    }

    async fn remove_group_mapper(&self) -> Result<(), BackendError> {
        self.emulator
            .remove_protocol_mapper(&self.app.client_id, "groups")
            .map_err(|e| failed(e.to_string()))
    }

    fn inject(&self, fault: Fault) -> Result<(), BackendError> {
        self.emulator.inject(fault);
        Ok(())
    }

    fn inject_saml(&self, fault: ssoproof_idp::SamlFault) -> Result<(), BackendError> {
        self.emulator.inject_saml(fault);
        Ok(())
    }

    fn jwks_fetch_count(&self) -> Result<usize, BackendError> {
        Ok(self.emulator.jwks_fetch_count())
    }

    async fn edit_persona(&self, edit: PersonaEdit) -> Result<(), BackendError> {
        let target = match &self.upstream {
            Some((_, upstream)) => upstream,
            None => &self.emulator,
        };
        target
            .edit_persona(&edit)
            .map_err(|e| failed(e.to_string()))
    }

    async fn advance_clock(&self, seconds: i64) -> Result<(), BackendError> {
        self.emulator.advance_clock(seconds);
        Ok(())
    }

    async fn add_user_to_group(&self, username: &str, group: &str) -> Result<(), BackendError> {
        let login = resolve(&self.emulator, username).unwrap_or_else(|| self.login_name(username));
        self.emulator
            .add_user_to_group(&login, group)
            .map_err(|e| failed(e.to_string()))
    }

    async fn delete_user(&self, username: &str) -> Result<(), BackendError> {
        let login = resolve(&self.emulator, username).unwrap_or_else(|| self.login_name(username));
        self.emulator
            .delete_user(&login)
            .map_err(|e| failed(e.to_string()))
    }

    async fn set_identity_provider_mapper(
        &self,
        alias: &str,
        mapper: &str,
        sync_mode: Option<&str>,
    ) -> Result<(), BackendError> {
        self.emulator
            .set_identity_provider_mapper(alias, mapper, sync_mode)
            .map_err(|e| failed(e.to_string()))
    }
}
