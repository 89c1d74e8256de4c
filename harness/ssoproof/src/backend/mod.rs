//! Where scenarios find their IdP. The same features run against the embedded emulator (the
//! zero-setup default), a real Keycloak in a container, and live tenants; steps only talk to an
//! [`Idp`], never to a backend's internals.
//!
//! Scenarios declare what they need with tags: `@emulator` (fault injection and clock control,
//! which only the embedded emulator has), `@realm-admin` (changing the realm: rotating keys,
//! disabling users, editing mappers) and `@https` (an issuer served over HTTPS, which a cloud's
//! STS requires). A backend without a capability skips those scenarios and says why. A feature tagged
//! `@persona:<name>` runs against the vendor persona `fixtures/idp/<name>.yaml`
//! ([`persona_fixtures`]); only the embedded emulator serves personas, every other backend skips
//! those scenarios and says so.

mod emulator;
mod fixture;
mod keycloak;
mod live;
mod personas;
pub mod profiles;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

pub use emulator::EmulatorBackend;
pub use fixture::RealmFixture;
pub use keycloak::{KeycloakBackend, KEYCLOAK_VERSION};
pub use live::LiveBackend;
pub use personas::{persona_fixtures, persona_of, PersonaFixture, PERSONA_DIR, PERSONA_TAG};

use ssoproof_idp::{Fault, PersonaEdit, SamlFault};
use ssoproof_secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Broken tokens, failing endpoints, clock skew: `@emulator`.
    FaultInjection,
    /// Key rotation, user and mapper changes: `@realm-admin`.
    RealmAdmin,
    /// An `https://` issuer whose certificate the harness trusts: `@https`.
    Https,
    /// Test users sign in through the IdP's login pages, whose messages a scenario may read:
    /// `@login-page`. A live tenant on the password grant has no login page.
    LoginPage,
}

impl Capability {
    pub const ALL: [Capability; 4] = [
        Capability::FaultInjection,
        Capability::RealmAdmin,
        Capability::Https,
        Capability::LoginPage,
    ];

    /// The scenario tag that asks for this capability.
    pub fn tag(self) -> &'static str {
        match self {
            Capability::FaultInjection => "emulator",
            Capability::RealmAdmin => "realm-admin",
            Capability::Https => "https",
            Capability::LoginPage => "login-page",
        }
    }

    /// The capabilities a scenario's tags ask for.
    pub fn asked_by(tags: &[String]) -> Vec<Capability> {
        Capability::ALL
            .into_iter()
            .filter(|c| tags.iter().any(|t| t == c.tag()))
            .collect()
    }
}

/// The groups and role a test user is promised to sign in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promise {
    /// Who promises it, for the failure message.
    pub source: String,
    /// Groups the user's token must contain (it may hold more).
    pub groups: Vec<String>,
    /// The role the application must map the user to, by name.
    pub role: Option<String>,
}

/// Why a backend or an operation cannot be used here. Codes are stable.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("{backend} is not available here: {reason}")]
    Unavailable {
        backend: &'static str,
        reason: String,
    },
    #[error("{backend} cannot {operation}")]
    Unsupported {
        backend: &'static str,
        operation: &'static str,
    },
    #[error("{backend}: {message}")]
    Failed {
        backend: &'static str,
        message: String,
    },
}

impl BackendError {
    pub fn code(&self) -> &'static str {
        match self {
            BackendError::Unavailable { .. } => "backend/unavailable",
            BackendError::Unsupported { .. } => "backend/unsupported",
            BackendError::Failed { .. } => "backend/failed",
        }
    }
}

/// The client the application is registered as.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    pub client_id: String,
    pub secret: Option<Secret>,
    pub redirect_uri: String,
}

/// A source of IdPs for scenarios.
#[async_trait]
pub trait Backend: Send + Sync + fmt::Debug {
    fn name(&self) -> &'static str;
    fn capabilities(&self) -> &[Capability];
    /// Whether the backend can run here at all (Docker present, credentials set, …).
    async fn availability(&self) -> Result<(), BackendError>;
    /// An IdP for one scenario that asks for `needs` (all among [`Backend::capabilities`]).
    /// Backends isolate scenarios from each other where they can (a fresh emulator, a fresh
    /// realm copy in Keycloak).
    async fn start_scenario(&self, needs: &[Capability]) -> Result<Arc<dyn Idp>, BackendError>;
    /// How many scenarios may run at once; `None` leaves it to the runner. A real server that
    /// builds a realm per scenario is slower with everything at once than a few at a time.
    fn max_concurrent_scenarios(&self) -> Option<usize> {
        None
    }
    /// Whether the backend can serve the persona `name` (`@persona:<name>`).
    fn serves_persona(&self, _name: &str) -> bool {
        false
    }
    /// An IdP impersonating the persona `name`, for one scenario.
    async fn start_persona(&self, _name: &str) -> Result<Arc<dyn Idp>, BackendError> {
        Err(BackendError::Unsupported {
            backend: self.name(),
            operation: "serve vendor personas",
        })
    }
}

/// What a scenario can do with its IdP. Operations a backend lacks return
/// [`BackendError::Unsupported`]; scenarios needing them carry a capability tag.
#[async_trait]
pub trait Idp: Send + Sync + fmt::Debug {
    fn backend(&self) -> &'static str;
    fn issuer(&self) -> String;
    fn client(&self) -> ClientRegistration;
    fn password(&self, username: &str) -> Option<Secret>;
    /// The id the application sees as `sub` for a test user.
    fn user_id(&self, username: &str) -> Option<String>;
    /// What a test user types as the username: the short name itself, or the vendor's login
    /// (`alice` → `alice@example.com` at Okta, Entra, Google).
    fn login_name(&self, username: &str) -> String {
        username.to_string()
    }
    /// What the tenant's operators promise about `username` (a live tenant's `live.yaml`):
    /// checked on every sign-in of the user, whatever the scenario then asserts.
    fn promise(&self, _username: &str) -> Option<Promise> {
        None
    }
    /// How test users sign in: through the login form, or (a live tenant's choice) the
    /// password grant.
    fn driver(&self) -> profiles::Driver {
        profiles::Driver::Form
    }
    /// Another issuer the IdP serves, by key: Okta `org` or a custom server id, Entra `common`
    /// or `v1`, or the brokered upstream's vendor (`google`).
    fn issuer_named(&self, _key: &str) -> Option<String> {
        None
    }
    /// Another client registered at the IdP (or its brokered upstream), by client id.
    fn client_named(&self, _client_id: &str) -> Option<ClientRegistration> {
        None
    }
    /// The brokered upstream's id for a test user (Google's numeric `sub`).
    fn upstream_user_id(&self, _username: &str) -> Option<String> {
        None
    }
    /// The PEM certificate of a private CA clients must trust to reach the IdP over HTTPS
    /// (the emulator's local CA); `None` when the public roots suffice.
    fn trusted_ca_pem(&self) -> Option<String> {
        None
    }
    /// The base URL of the IdP's SCIM 2.0 Users endpoint, where a provisioning client can
    /// deactivate a user (the emulator's `/_ssoproof/scim/v2`); `None` when it has none.
    fn scim_base_url(&self) -> Option<String> {
        None
    }
    /// Called once the scenario has ended, whatever its outcome: release what the scenario
    /// held on a shared server (Keycloak deletes the scenario's realm copy).
    async fn finish(&self) -> Result<(), BackendError> {
        Ok(())
    }

    async fn rotate_keys(&self) -> Result<String, BackendError> {
        Err(self.unsupported("rotate signing keys"))
    }
    async fn set_user_enabled(&self, _username: &str, _enabled: bool) -> Result<(), BackendError> {
        Err(self.unsupported("enable or disable users"))
    }
    async fn set_group_mapper_full_path(&self, _value: Option<&str>) -> Result<(), BackendError> {
        Err(self.unsupported("edit protocol mappers"))
    }
    async fn remove_group_mapper(&self) -> Result<(), BackendError> {
        Err(self.unsupported("edit protocol mappers"))
    }
    fn inject(&self, _fault: Fault) -> Result<(), BackendError> {
        Err(self.unsupported("inject faults"))
    }
    /// Makes the IdP's SAML Responses misbehave (the emulator's SAML faults).
    fn inject_saml(&self, _fault: SamlFault) -> Result<(), BackendError> {
        Err(self.unsupported("inject SAML faults"))
    }
    fn jwks_fetch_count(&self) -> Result<usize, BackendError> {
        Err(self.unsupported("count JWKS fetches"))
    }
    /// Changes the persona as its admin console would (or the brokered upstream's).
    async fn edit_persona(&self, _edit: PersonaEdit) -> Result<(), BackendError> {
        Err(self.unsupported("edit vendor personas"))
    }
    /// Lets `seconds` pass for refresh-token grace periods.
    async fn advance_clock(&self, _seconds: i64) -> Result<(), BackendError> {
        Err(self.unsupported("move the clock"))
    }
    async fn add_user_to_group(&self, _username: &str, _group: &str) -> Result<(), BackendError> {
        Err(self.unsupported("change group memberships"))
    }
    async fn delete_user(&self, _username: &str) -> Result<(), BackendError> {
        Err(self.unsupported("delete users"))
    }
    /// Sets an identity-provider mapper's sync mode, or removes the mapper (`None`).
    async fn set_identity_provider_mapper(
        &self,
        _alias: &str,
        _mapper: &str,
        _sync_mode: Option<&str>,
    ) -> Result<(), BackendError> {
        Err(self.unsupported("edit identity-provider mappers"))
    }

    fn unsupported(&self, operation: &'static str) -> BackendError {
        BackendError::Unsupported {
            backend: self.backend(),
            operation,
        }
    }
}

/// Which backends `verify` and the feature tests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    Emulator,
    Keycloak,
    Live,
}

impl BackendKind {
    pub fn build(self, root: &Path) -> Arc<dyn Backend> {
        let realm = root.join(fixture::REALM_FIXTURE);
        match self {
            BackendKind::Emulator => {
                Arc::new(EmulatorBackend::new(realm).with_personas(persona_fixtures(root)))
            }
            BackendKind::Keycloak => {
                Arc::new(KeycloakBackend::new(realm, root.join("target/keycloak")))
            }
            BackendKind::Live => Arc::new(LiveBackend::from_env()),
        }
    }
}
