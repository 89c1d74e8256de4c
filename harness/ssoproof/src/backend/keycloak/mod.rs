//! A real Keycloak, started once for the whole run on the first scenario, with a fresh copy of
//! the realm fixture (`acme-1`, `acme-2`, …) per scenario. Realm-admin operations go through
//! Keycloak's admin REST API with a token from the `master` realm's `admin-cli` password grant.
//! No fault injection: that is the emulator's.
//!
//! Two launchers, one [`launcher::Launcher`] trait: a container through testcontainers where a
//! Docker engine answers ([`container`]), else a local distribution started as a process
//! ([`process`], found by [`distribution`]: `SSOPROOF_KEYCLOAK_HOME`, or where
//! `scripts/fetch-keycloak` unpacked it). With neither, every scenario is skipped with both
//! reasons. `SSOPROOF_KEYCLOAK_LAUNCHER=container|process` insists on one.
//!
//! - `SSOPROOF_KEYCLOAK_IMAGE` picks the image (default `quay.io/keycloak/keycloak:`
//!   [`KEYCLOAK_VERSION`]); the process launcher runs the same version.
//! - Containers carry the label `org.ssoproof.backend=keycloak`, so a run killed before it could
//!   remove its container leaves something `docker ps --filter label=…` finds.
//!
//! The other pieces: [`docker`] finds an engine, [`admin`] talks to the admin REST API,
//! [`realm`] is one scenario's realm, built from the JSON in [`representation`]; [`http`] is the
//! HTTP client they share.

mod admin;
mod container;
mod distribution;
mod docker;
mod http;
mod launcher;
mod process;
mod realm;
mod representation;
#[cfg(test)]
mod testkit;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rand::distributions::Alphanumeric;
use rand::Rng;
use tokio::sync::OnceCell;

use super::{Backend, BackendError, Capability, Idp, RealmFixture};
use container::ContainerLauncher;
use distribution::Lookup;
use docker::DockerProbe;
use launcher::{Keycloak, Launcher};
use process::ProcessLauncher;
use realm::KeycloakIdp;
use ssoproof_secret::Secret;

const NAME: &str = "keycloak";

/// The Keycloak release every way of running it uses: the container image's tag,
/// `scripts/fetch-keycloak`'s download and `docker/compose.yaml` (a test checks they agree).
pub const KEYCLOAK_VERSION: &str = "26.7.3";
/// The image used unless `SSOPROOF_KEYCLOAK_IMAGE` names another.
pub const DEFAULT_IMAGE: &str = "quay.io/keycloak/keycloak:26.7.3";
pub const IMAGE_VAR: &str = "SSOPROOF_KEYCLOAK_IMAGE";
pub const LAUNCHER_VAR: &str = "SSOPROOF_KEYCLOAK_LAUNCHER";

/// Scenarios at once on one Keycloak; each creates (and at its end deletes) a realm.
const MAX_CONCURRENT_SCENARIOS: usize = 3;

/// How long one probe of the Docker engine or of Keycloak's readiness may take.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Which launcher to use: the first that can run here, or the one `SSOPROOF_KEYCLOAK_LAUNCHER`
/// names.
#[derive(Debug)]
struct Launchers {
    container: ContainerLauncher,
    process: ProcessLauncher,
    /// `Err`: `SSOPROOF_KEYCLOAK_LAUNCHER` names no launcher.
    insist: Result<Option<Which>, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Container,
    Process,
}

impl Launchers {
    fn get(&self, which: Which) -> &dyn Launcher {
        match which {
            Which::Container => &self.container,
            Which::Process => &self.process,
        }
    }

    /// The launcher to use and what it will start, or why none can (both reasons).
    async fn pick(&self) -> Result<(Which, String), String> {
        let insist = self.insist.clone()?;
        let container = match insist {
            Some(Which::Process) => Err(format!("container not tried: {LAUNCHER_VAR}=process")),
            _ => self.container.check().await,
        };
        let no_container = match container {
            Ok(what) => return Ok((Which::Container, what)),
            Err(why) => why,
        };
        let process = match insist {
            Some(Which::Container) => Err(format!("process not tried: {LAUNCHER_VAR}=container")),
            _ => self.process.check().await,
        };
        match process {
            Ok(what) => Ok((Which::Process, what)),
            Err(no_process) => Err(format!("{no_container}; {no_process}")),
        }
    }
}

/// Real Keycloak scenarios: `RealmAdmin`, never `FaultInjection`.
pub struct KeycloakBackend {
    realm: PathBuf,
    launchers: Launchers,
    /// Probed once: a run either can start Keycloak or it cannot.
    picked: OnceCell<Result<(Which, String), String>>,
    /// Started once; a start that failed is not retried by every later scenario.
    keycloak: OnceCell<Result<Keycloak, String>>,
    realms: AtomicUsize,
}

impl std::fmt::Debug for KeycloakBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeycloakBackend")
            .field("realm", &self.realm)
            .field("launchers", &self.launchers)
            .field("keycloak", &self.keycloak.get())
            .finish_non_exhaustive()
    }
}

impl KeycloakBackend {
    /// `realm` is the realm export every scenario gets a copy of; a local Keycloak's log goes
    /// to `log_dir`. Nothing starts until the first scenario; the image comes from
    /// `SSOPROOF_KEYCLOAK_IMAGE` when set.
    pub fn new(realm: PathBuf, log_dir: PathBuf) -> KeycloakBackend {
        let image = std::env::var(IMAGE_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_IMAGE.to_string());
        let insist = match std::env::var(LAUNCHER_VAR).ok().as_deref().map(str::trim) {
            None | Some("") | Some("auto") => Ok(None),
            Some("container") => Ok(Some(Which::Container)),
            Some("process") => Ok(Some(Which::Process)),
            Some(other) => Err(format!(
                "{LAUNCHER_VAR} is `{other}`; use `container`, `process` or `auto`"
            )),
        };
        KeycloakBackend::with_launchers(
            realm,
            Launchers {
                container: ContainerLauncher {
                    image,
                    probe: DockerProbe::from_env(),
                },
                process: ProcessLauncher::new(Lookup::from_env(), log_dir),
                insist,
            },
        )
    }

    fn with_launchers(realm: PathBuf, launchers: Launchers) -> KeycloakBackend {
        KeycloakBackend {
            realm,
            launchers,
            picked: OnceCell::new(),
            keycloak: OnceCell::new(),
            realms: AtomicUsize::new(0),
        }
    }

    /// What this backend runs (`quay.io/keycloak/keycloak:26.7.3 on the Docker engine at …`,
    /// `Keycloak 26.7.3 at … (Java 21 …)`), or why it cannot.
    pub async fn describe(&self) -> Result<String, BackendError> {
        self.picked().await.map(|(_, what)| what.to_string())
    }

    async fn picked(&self) -> Result<(Which, &str), BackendError> {
        let picked = self.picked.get_or_init(|| self.launchers.pick()).await;
        match picked {
            Ok((which, what)) => Ok((*which, what)),
            Err(reason) => Err(BackendError::Unavailable {
                backend: NAME,
                reason: reason.clone(),
            }),
        }
    }

    async fn keycloak(&self) -> Result<&Keycloak, BackendError> {
        let (which, _) = self.picked().await?;
        let started = self
            .keycloak
            .get_or_init(|| async {
                let fixture = RealmFixture::load(&self.realm, NAME).map_err(|e| e.to_string())?;
                self.launchers
                    .get(which)
                    .start(&fixture, &admin_password())
                    .await
            })
            .await;
        started.as_ref().map_err(|message| failed(message.clone()))
    }
}

/// A fresh bootstrap-admin password per server: nothing to configure, nothing to leak.
fn admin_password() -> Secret {
    Secret::new(
        rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from)
            .collect::<String>(),
    )
}

#[async_trait]
impl Backend for KeycloakBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> &[Capability] {
        &[Capability::RealmAdmin, Capability::LoginPage]
    }

    async fn availability(&self) -> Result<(), BackendError> {
        self.describe().await?;
        RealmFixture::load(&self.realm, NAME).map(|_| ())
    }

    /// Realm creation dominates a scenario; more at once only makes each slower.
    fn max_concurrent_scenarios(&self) -> Option<usize> {
        Some(MAX_CONCURRENT_SCENARIOS)
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
    use std::path::Path;

    use serde_json::Value;

    use super::http::http_client;
    use super::testkit::{guarded, write_fixture};
    use super::*;

    fn confined(dir: &Path, insist: Result<Option<Which>, String>) -> KeycloakBackend {
        KeycloakBackend::with_launchers(
            write_fixture(dir),
            Launchers {
                container: ContainerLauncher {
                    image: DEFAULT_IMAGE.into(),
                    probe: DockerProbe::confined_to(dir),
                },
                process: ProcessLauncher::new(
                    Lookup {
                        cache: Some(dir.join("cache")),
                        ..Lookup::default()
                    },
                    dir.join("logs"),
                ),
                insist,
            },
        )
    }

    #[tokio::test]
    async fn without_docker_or_a_distribution_it_is_unavailable_with_both_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let backend = confined(dir.path(), Ok(None));
        assert_eq!(backend.name(), "keycloak");
        assert_eq!(
            backend.capabilities(),
            &[Capability::RealmAdmin, Capability::LoginPage]
        );

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
            reason.contains("); no local Keycloak (SSOPROOF_KEYCLOAK_HOME unset, none in "),
            "{reason}"
        );
        assert!(reason.ends_with(distribution::FETCH_HINT), "{reason}");
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

        let insisting = confined(dir.path(), Ok(Some(Which::Container)));
        let reason = insisting.describe().await.unwrap_err().to_string();
        assert!(
            reason.ends_with("process not tried: SSOPROOF_KEYCLOAK_LAUNCHER=container"),
            "{reason}"
        );
        let misspelt = confined(
            dir.path(),
            Err("SSOPROOF_KEYCLOAK_LAUNCHER is `dokcer`; …".into()),
        );
        let reason = misspelt.describe().await.unwrap_err().to_string();
        assert!(reason.contains("`dokcer`"), "{reason}");
    }

    /// The container, the compose file and the fetched distribution run the same release.
    #[test]
    fn every_way_of_running_keycloak_names_the_same_version() {
        assert_eq!(
            DEFAULT_IMAGE,
            format!("quay.io/keycloak/keycloak:{KEYCLOAK_VERSION}")
        );
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for (file, expected) in [
            (
                "docker/compose.yaml",
                format!("quay.io/keycloak/keycloak:{KEYCLOAK_VERSION}"),
            ),
            (
                "scripts/fetch-keycloak",
                format!("VERSION = \"{KEYCLOAK_VERSION}\""),
            ),
            (
                "scripts/fetch-keycloak",
                format!(
                    "BUILD_OPTIONS = [{}]",
                    distribution::BUILD_OPTIONS
                        .map(|o| format!("\"{o}\""))
                        .join(", ")
                ),
            ),
            (
                "fixtures/fidelity/keycloak.yaml",
                format!("keycloak: {KEYCLOAK_VERSION}"),
            ),
        ] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            assert!(text.contains(&expected), "{file} does not say {expected}");
        }
    }

    // --- A real Keycloak ---------------------------------------------------------------------

    /// End to end against a real Keycloak, container or process, whichever this machine has;
    /// skipped, loudly, where it has neither.
    #[tokio::test(flavor = "multi_thread")]
    async fn realm_copies_and_admin_operations_on_a_real_keycloak() {
        let dir = tempfile::tempdir().unwrap();
        let backend = KeycloakBackend::new(write_fixture(dir.path()), dir.path().join("logs"));
        match backend.describe().await {
            Ok(what) => eprintln!("running against {what}"),
            Err(e) => {
                assert!(
                    std::env::var_os("SSOPROOF_REQUIRE_KEYCLOAK").is_none(),
                    "SSOPROOF_REQUIRE_KEYCLOAK is set but {e}"
                );
                eprintln!("skipped: {e}");
                return;
            }
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

    /// The browser login driver (headless Chromium) through the real Keycloak's login theme,
    /// scripts and all, to a validated session. Skipped, loudly, without a Keycloak or without
    /// chromium and chromedriver, unless SSOPROOF_REQUIRE_KEYCLOAK or SSOPROOF_REQUIRE_CHROMIUM
    /// is set.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_browser_driver_signs_in_at_a_real_keycloak() {
        if let Err(e) = ssoproof_rp::check_browser() {
            assert!(
                std::env::var_os("SSOPROOF_REQUIRE_CHROMIUM").is_none_or(|v| v.is_empty()),
                "SSOPROOF_REQUIRE_CHROMIUM is set but {e}"
            );
            eprintln!("skipped: {e}");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let backend = KeycloakBackend::new(write_fixture(dir.path()), dir.path().join("logs"));
        if let Err(e) = backend.describe().await {
            assert!(
                std::env::var_os("SSOPROOF_REQUIRE_KEYCLOAK").is_none(),
                "SSOPROOF_REQUIRE_KEYCLOAK is set but {e}"
            );
            eprintln!("skipped: {e}");
            return;
        }
        let idp = backend.start_scenario(&[]).await.unwrap();
        let client = idp.client();
        let mut config =
            ssoproof_rp::ClientConfig::new(idp.issuer(), &client.client_id, &client.redirect_uri);
        config.client_secret = client.secret;
        config.default_role = Some(config.roles.role("viewer").unwrap());
        config.timeout = std::time::Duration::from_secs(30);
        let rp = ssoproof_rp::RelyingParty::discover(config).await.unwrap();
        let driver = ssoproof_rp::LoginDriver::Browser(ssoproof_rp::BrowserOptions {
            screenshots: dir.path().join("screenshots"),
        });
        let password = idp.password("alice").unwrap();
        let session = rp
            .login_with(&driver, "alice", &password)
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", e.code()));
        assert_eq!(session.outcome.email.as_deref(), Some("alice@acme.test"));
        let err = rp
            .login_with(
                &driver,
                "alice",
                &ssoproof_secret::Secret::new("not-her-password"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "login_failed", "{err}");
        assert!(
            err.to_string().contains("Invalid username or password."),
            "{err}"
        );
    }
}
