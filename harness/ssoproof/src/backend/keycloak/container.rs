//! The Keycloak container: started through testcontainers, ready when its health endpoint says so.

use std::time::Duration;

use async_trait::async_trait;
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::admin::{AdminApi, ADMIN_USER};
use super::docker::DockerProbe;
use super::http::http_client;
use super::launcher::{wait_ready, Keycloak, Launcher, Server};
use crate::backend::RealmFixture;
use ssoproof_secret::{redact_all, Secret};

const HTTP_PORT: u16 = 8080;
const MANAGEMENT_PORT: u16 = 9000;
const LABEL: (&str, &str) = ("org.ssoproof.backend", "keycloak");

/// Cold start is 10–20 s; slow CI machines get the same allowance as other test frameworks.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Starts `image` on the Docker engine the probe finds.
#[derive(Debug)]
pub(super) struct ContainerLauncher {
    pub(super) image: String,
    pub(super) probe: DockerProbe,
}

#[async_trait]
impl Launcher for ContainerLauncher {
    async fn check(&self) -> Result<String, String> {
        let engine = self.probe.check().await?;
        Ok(format!(
            "{} on the Docker engine at {}",
            self.image, engine.host
        ))
    }

    /// The container starts empty (`start-dev`); scenarios create their realms through the
    /// admin API.
    async fn start(&self, _fixture: &RealmFixture, password: &Secret) -> Result<Keycloak, String> {
        let engine = self.probe.check().await?;
        let image = &self.image;
        let failed = |message: String| redact_all(&message, &[password]);
        let (name, tag) = split_image(image);
        let container = GenericImage::new(name, tag)
            .with_exposed_port(HTTP_PORT.tcp())
            .with_exposed_port(MANAGEMENT_PORT.tcp())
            .with_cmd(["start-dev"])
            .with_env_var("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN_USER)
            .with_env_var("KC_BOOTSTRAP_ADMIN_PASSWORD", password.expose())
            .with_env_var("KC_HEALTH_ENABLED", "true")
            .with_label(LABEL.0, LABEL.1)
            .with_startup_timeout(READY_TIMEOUT)
            .start()
            .await
            .map_err(|e| failed(format!("cannot start {image} on {}: {e}", engine.host)))?;

        let host = container
            .get_host()
            .await
            .map_err(|e| failed(format!("container host: {e}")))?;
        // Docker maps ports on IPv4 and IPv6 separately; pin the IPv4 one so `localhost`
        // resolving to ::1 cannot land on another port.
        let host = match host {
            url::Host::Domain(d) if d == "localhost" => "127.0.0.1".to_string(),
            other => other.to_string(),
        };
        let port = |p: u16| {
            let container = &container;
            async move {
                container
                    .get_host_port_ipv4(p.tcp())
                    .await
                    .map_err(|e| format!("no host port for container port {p}: {e}"))
            }
        };
        let http_port = port(HTTP_PORT).await.map_err(failed)?;
        let management_port = port(MANAGEMENT_PORT).await.map_err(failed)?;

        let http = http_client().map_err(failed)?;
        let health = format!("http://{host}:{management_port}/health/ready");
        if let Err(e) = wait_ready(&http, &health, READY_TIMEOUT, || None).await {
            let logs = container.stdout_to_vec().await.unwrap_or_default();
            let logs = String::from_utf8_lossy(&logs);
            let tail: Vec<&str> = logs.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(failed(format!(
                "Keycloak ({image}, container {}) is not ready: {e}; last log lines:\n{}",
                container.id(),
                tail.join("\n")
            )));
        }
        let admin = AdminApi::new(http, format!("http://{host}:{http_port}"), password.clone());
        Ok(Keycloak::new(
            admin,
            Server::Container(Box::new(KeycloakContainer(Some(container)))),
        ))
    }
}

/// The container, removed on drop.
#[derive(Debug)]
pub(super) struct KeycloakContainer(Option<ContainerAsync<GenericImage>>);

/// `ContainerAsync` needs a Tokio runtime to remove the container; one dropped after the
/// runtime is gone gets a small one of its own instead of a panic.
impl Drop for KeycloakContainer {
    fn drop(&mut self) {
        let Some(container) = self.0.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(container);
            return;
        }
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(async move { drop(container) }),
            Err(e) => {
                let id = container.id().to_string();
                std::mem::forget(container); // dropping it without a runtime would panic
                eprintln!(
                    "ssoproof: cannot remove Keycloak container {id} ({e}): `docker rm -f {id}`"
                );
            }
        }
    }
}

/// `registry:5000/keycloak:26.0` → (`registry:5000/keycloak`, `26.0`); no tag → `latest`;
/// a digest (`…@sha256:…`) splits at its colon, which testcontainers joins back.
fn split_image(image: &str) -> (String, String) {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (
            image[..name_start + i].to_string(),
            image[name_start + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::DEFAULT_IMAGE;
    use super::*;

    #[test]
    fn images_split_into_name_and_tag() {
        let split = |s| split_image(s);
        assert_eq!(
            split(DEFAULT_IMAGE),
            (
                "quay.io/keycloak/keycloak".into(),
                super::super::KEYCLOAK_VERSION.into()
            )
        );
        assert_eq!(
            split("localhost:5000/keycloak"),
            ("localhost:5000/keycloak".into(), "latest".into())
        );
        assert_eq!(
            split("localhost:5000/kc:nightly"),
            ("localhost:5000/kc".into(), "nightly".into())
        );
        let (name, tag) = split("quay.io/keycloak/keycloak@sha256:abc");
        assert_eq!(
            format!("{name}:{tag}"),
            "quay.io/keycloak/keycloak@sha256:abc"
        );
    }
}
