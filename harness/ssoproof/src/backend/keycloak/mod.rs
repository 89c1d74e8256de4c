//! A real Keycloak in a container, through testcontainers: one container for the whole run,
//! started on the first scenario, and a fresh copy of the realm fixture (`acme-1`, `acme-2`, …)
//! per scenario. Realm-admin operations go through Keycloak's admin REST API with a token from
//! the `master` realm's `admin-cli` password grant. No fault injection: that is the emulator's.
//!
//! Without a Docker engine the backend says so quickly (a socket that does not answer
//! `GET /_ping` within 2 s counts as absent) and every scenario is skipped with that reason.
//!
//! - `SSOPROOF_KEYCLOAK_IMAGE` picks the image (default `quay.io/keycloak/keycloak:26.0`).
//! - Containers carry the label `org.ssoproof.backend=keycloak`, so a run killed before it could
//!   remove its container leaves something `docker ps --filter label=…` finds.
//!
//! The pieces: [`docker`] finds an engine, [`container`] starts Keycloak on it, [`admin`] talks
//! to its admin REST API, [`realm`] is one scenario's realm, built from the JSON in
//! [`representation`]; [`http`] is the HTTP client they share.

mod admin;
mod container;
mod docker;
mod http;
mod realm;
mod representation;
#[cfg(test)]
mod testkit;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::{Backend, BackendError, Capability, Idp, RealmFixture};
use container::Keycloak;
use docker::{DockerEngine, DockerProbe};
use realm::KeycloakIdp;

const NAME: &str = "keycloak";

/// The image used unless `SSOPROOF_KEYCLOAK_IMAGE` names another.
pub const DEFAULT_IMAGE: &str = "quay.io/keycloak/keycloak:26.0";
pub const IMAGE_VAR: &str = "SSOPROOF_KEYCLOAK_IMAGE";

/// How long one probe of the Docker engine or of Keycloak's readiness may take.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Real Keycloak scenarios: `RealmAdmin`, never `FaultInjection`.
pub struct KeycloakContainerBackend {
    realm: PathBuf,
    image: String,
    probe: DockerProbe,
    docker: OnceCell<Result<DockerEngine, String>>,
    /// Started once; a start that failed is not retried by every later scenario.
    keycloak: OnceCell<Result<Keycloak, String>>,
    realms: AtomicUsize,
}

impl std::fmt::Debug for KeycloakContainerBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeycloakContainerBackend")
            .field("realm", &self.realm)
            .field("image", &self.image)
            .field("keycloak", &self.keycloak.get())
            .finish_non_exhaustive()
    }
}

impl KeycloakContainerBackend {
    /// `realm` is the realm export every scenario gets a copy of. Nothing starts until the first
    /// scenario; the image comes from `SSOPROOF_KEYCLOAK_IMAGE` when set.
    pub fn new(realm: PathBuf) -> KeycloakContainerBackend {
        let image = std::env::var(IMAGE_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_IMAGE.to_string());
        KeycloakContainerBackend {
            realm,
            image,
            probe: DockerProbe::from_env(),
            docker: OnceCell::new(),
            keycloak: OnceCell::new(),
            realms: AtomicUsize::new(0),
        }
    }

    /// The image this backend starts, `name:tag`.
    pub fn image(&self) -> &str {
        &self.image
    }

    #[cfg(test)]
    fn with_probe(mut self, probe: DockerProbe) -> KeycloakContainerBackend {
        self.probe = probe;
        self
    }

    /// The Docker probe runs once per backend: a run either has Docker or it does not.
    async fn docker(&self) -> Result<&DockerEngine, BackendError> {
        let probed = self.docker.get_or_init(|| self.probe.check()).await;
        probed.as_ref().map_err(|reason| BackendError::Unavailable {
            backend: NAME,
            reason: reason.clone(),
        })
    }

    async fn keycloak(&self) -> Result<&Keycloak, BackendError> {
        let engine = self.docker().await?;
        let started = self
            .keycloak
            .get_or_init(|| async {
                Keycloak::start(&self.image, engine)
                    .await
                    .map_err(|e| match e {
                        BackendError::Failed { message, .. } => message,
                        other => other.to_string(),
                    })
            })
            .await;
        started.as_ref().map_err(|message| failed(message.clone()))
    }
}

/// Removes the container. `ContainerAsync` needs a Tokio runtime to do that; a backend dropped
/// after the runtime is gone gets a small one of its own instead of a panic.
impl Drop for KeycloakContainerBackend {
    fn drop(&mut self) {
        let Some(Ok(keycloak)) = self.keycloak.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(keycloak);
            return;
        }
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(async move { drop(keycloak) }),
            Err(e) => {
                let id = keycloak.container.id().to_string();
                std::mem::forget(keycloak); // dropping it without a runtime would panic
                eprintln!(
                    "ssoproof: cannot remove Keycloak container {id} ({e}): `docker rm -f {id}`"
                );
            }
        }
    }
}

#[async_trait]
impl Backend for KeycloakContainerBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> &[Capability] {
        &[Capability::RealmAdmin]
    }

    async fn availability(&self) -> Result<(), BackendError> {
        self.docker().await?;
        RealmFixture::load(&self.realm, NAME).map(|_| ())
    }

    /// No scenario asks for a capability Keycloak lacks: `needs` changes nothing.
    async fn start_scenario(&self, _needs: &[Capability]) -> Result<Arc<dyn Idp>, BackendError> {
        let keycloak = self.keycloak().await?;
        let fixture = RealmFixture::load(&self.realm, NAME)?;
        let n = self.realms.fetch_add(1, Ordering::Relaxed) + 1;
        let idp = KeycloakIdp::create(keycloak.admin.clone(), fixture, n).await?;
        Ok(Arc::new(idp))
    }
}

/// Every failure of this backend: `keycloak: {message}`.
fn failed(message: impl Into<String>) -> BackendError {
    BackendError::Failed {
        backend: NAME,
        message: message.into(),
    }
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::Value;

    use super::docker::SKIP_HINT;
    use super::http::http_client;
    use super::testkit::{guarded, write_fixture};
    use super::*;

    #[tokio::test]
    async fn backend_without_docker_is_unavailable_and_never_starts_a_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let backend = KeycloakContainerBackend::new(write_fixture(dir.path()))
            .with_probe(DockerProbe::confined_to(dir.path()));
        assert_eq!(backend.name(), "keycloak");
        assert_eq!(backend.capabilities(), &[Capability::RealmAdmin]);

        let error = guarded("availability", backend.availability())
            .await
            .unwrap_err();
        assert_eq!(error.code(), "backend/unavailable");
        let BackendError::Unavailable {
            backend: name,
            reason,
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*name, "keycloak");
        assert!(
            reason.starts_with("no Docker engine (DOCKER_HOST unset, no "),
            "{reason}"
        );
        assert!(
            error
                .to_string()
                .starts_with("keycloak is not available here: no Docker engine"),
            "{error}"
        );

        let error = guarded("start_scenario", backend.start_scenario(&[]))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "backend/unavailable", "{error}");
    }

    /// The real environment, whatever it is: the answer comes quickly, and a refusal says what
    /// was checked.
    #[tokio::test]
    async fn availability_from_the_environment_answers_quickly() {
        let backend = KeycloakContainerBackend::new(PathBuf::from("/nonexistent/realm.json"));
        match guarded("the probe", backend.probe.check()).await {
            Ok(engine) => eprintln!("Docker found at {}", engine.host),
            Err(reason) => {
                eprintln!("{reason}");
                assert!(
                    reason.starts_with("no Docker engine (") && reason.contains("DOCKER_HOST"),
                    "{reason}"
                );
                assert!(reason.ends_with(SKIP_HINT), "{reason}");
            }
        }
    }

    // --- A real Keycloak ---------------------------------------------------------------------

    /// End to end against a real container; skipped, loudly, where there is no Docker.
    #[tokio::test(flavor = "multi_thread")]
    async fn realm_copies_and_admin_operations_requires_docker() {
        let dir = tempfile::tempdir().unwrap();
        let backend = KeycloakContainerBackend::new(write_fixture(dir.path()));
        if let Err(e) = backend.availability().await {
            eprintln!("skipped: no Docker: {e}");
            return;
        }
        let idp = backend.start_scenario(&[]).await.unwrap();
        let http = http_client().unwrap();
        let discovery: Value = http
            .get(format!("{}/.well-known/openid-configuration", idp.issuer()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(discovery["issuer"], idp.issuer().as_str());
        assert!(idp.issuer().ends_with("/realms/acme-1"), "{}", idp.issuer());
        let alice = idp.user_id("alice").unwrap();

        let kid = idp.rotate_keys().await.unwrap();
        let jwks: Value = http
            .get(discovery["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == kid.as_str()),
            "{kid} not in {jwks}"
        );

        idp.set_user_enabled("bob", false).await.unwrap();
        idp.set_group_mapper_full_path(None).await.unwrap();
        idp.set_group_mapper_full_path(Some("true")).await.unwrap();
        idp.remove_group_mapper().await.unwrap();
        assert_eq!(
            idp.remove_group_mapper().await.unwrap_err().code(),
            "backend/failed"
        );

        let second = backend.start_scenario(&[]).await.unwrap();
        assert!(second.issuer().ends_with("/realms/acme-2"));
        assert_ne!(second.user_id("alice").unwrap(), alice);
    }
}
