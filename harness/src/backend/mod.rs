//! Where scenarios find their IdP. The same features run against the embedded emulator (the
//! zero-setup default), a real Keycloak in a container, and live tenants; steps only talk to an
//! [`Idp`], never to a backend's internals.
//!
//! Scenarios declare what they need with tags: `@emulator` (fault injection and clock control,
//! which only the embedded emulator has), `@realm-admin` (changing the realm: rotating keys,
//! disabling users, editing mappers) and `@https` (an issuer served over HTTPS, which a cloud's
//! STS requires). A backend without a capability skips those scenarios and says why.

mod emulator;
mod fixture;
mod keycloak;
mod live;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

pub use emulator::EmulatorBackend;
pub use fixture::RealmFixture;
pub use keycloak::KeycloakContainerBackend;
pub use live::LiveBackend;

use crate::idp::Fault;
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Broken tokens, failing endpoints, clock skew: `@emulator`.
    FaultInjection,
    /// Key rotation, user and mapper changes: `@realm-admin`.
    RealmAdmin,
    /// An `https://` issuer whose certificate the harness trusts: `@https`.
    Https,
}

impl Capability {
    pub const ALL: [Capability; 3] = [
        Capability::FaultInjection,
        Capability::RealmAdmin,
        Capability::Https,
    ];

    /// The scenario tag that asks for this capability.
    pub fn tag(self) -> &'static str {
        match self {
            Capability::FaultInjection => "emulator",
            Capability::RealmAdmin => "realm-admin",
            Capability::Https => "https",
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
}

/// What a scenario can do with its IdP. Operations a backend lacks return
/// [`BackendError::Unsupported`]; scenarios needing them carry a capability tag.
#[async_trait]
pub trait Idp: Send + Sync + fmt::Debug {
    fn backend(&self) -> &'static str;
    fn issuer(&self) -> String;
    fn client(&self) -> ClientRegistration;
    fn password(&self, username: &str) -> Option<Secret>;
    fn user_id(&self, username: &str) -> Option<String>;
    /// The PEM certificate of a private CA clients must trust to reach the IdP over HTTPS
    /// (the emulator's local CA); `None` when the public roots suffice.
    fn trusted_ca_pem(&self) -> Option<String> {
        None
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
    fn jwks_fetch_count(&self) -> Result<usize, BackendError> {
        Err(self.unsupported("count JWKS fetches"))
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
            BackendKind::Emulator => Arc::new(EmulatorBackend::new(realm)),
            BackendKind::Keycloak => Arc::new(KeycloakContainerBackend::new(realm)),
            BackendKind::Live => Arc::new(LiveBackend::from_env()),
        }
    }
}
