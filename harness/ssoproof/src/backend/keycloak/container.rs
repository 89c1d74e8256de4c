//! The Keycloak container: started through testcontainers, ready when its health endpoint says so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::distributions::Alphanumeric;
use rand::Rng;
use reqwest::StatusCode;
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::admin::{AdminApi, ADMIN_USER};
use super::docker::DockerEngine;
use super::http::{http_client, transport};
use super::{secs, PING_TIMEOUT};
use crate::backend::BackendError;
use ssoproof_secret::{redact_all, Secret};

const HTTP_PORT: u16 = 8080;
const MANAGEMENT_PORT: u16 = 9000;
const LABEL: (&str, &str) = ("org.ssoproof.backend", "keycloak");

/// Cold start is 10–20 s; slow CI machines get the same allowance as other test frameworks.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The running container and the admin API on it.
pub(super) struct Keycloak {
    pub(super) container: ContainerAsync<GenericImage>,
    pub(super) admin: Arc<AdminApi>,
}

impl std::fmt::Debug for Keycloak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keycloak")
            .field("container", &self.container.id())
            .field("base", &self.admin.base)
            .finish()
    }
}

impl Keycloak {
    pub(super) async fn start(
        image: &str,
        engine: &DockerEngine,
    ) -> Result<Keycloak, BackendError> {
        let password = Secret::new(
            rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(32)
                .map(char::from)
                .collect::<String>(),
        );
        let failed = |message: String| super::failed(redact_all(&message, &[&password]));
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
        if let Err(e) = wait_ready(&http, &health, READY_TIMEOUT).await {
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
        let admin = AdminApi::new(http, format!("http://{host}:{http_port}"), password);
        Ok(Keycloak {
            container,
            admin: Arc::new(admin),
        })
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

/// Polls `url` until it answers 200, for at most `limit`.
async fn wait_ready(http: &reqwest::Client, url: &str, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let last = match http.get(url).timeout(PING_TIMEOUT).send().await {
            Ok(r) if r.status() == StatusCode::OK => return Ok(()),
            Ok(r) => format!("answered {}", r.status()),
            Err(e) => transport(e),
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "GET {url} did not answer 200 within {} (last: {last})",
                secs(limit)
            ));
        }
        tokio::time::sleep(Duration::from_millis(500).min(limit)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::super::testkit::{closed_address, guarded, serve};
    use super::super::DEFAULT_IMAGE;
    use super::*;

    #[test]
    fn images_split_into_name_and_tag() {
        let split = |s| split_image(s);
        assert_eq!(
            split(DEFAULT_IMAGE),
            ("quay.io/keycloak/keycloak".into(), "26.0".into())
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

    #[tokio::test]
    async fn readiness_is_polled_until_200_and_gives_up_clearly() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let (base, _) = serve(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            (
                if n < 2 { 503 } else { 200 },
                vec![],
                r#"{"status": "UP"}"#.into(),
            )
        })
        .await;
        let http = http_client().unwrap();
        let url = format!("{base}/health/ready");
        guarded("readiness", wait_ready(&http, &url, Duration::from_secs(2)))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let closed = closed_address().await;
        let url = format!("http://{closed}/health/ready");
        let error = guarded(
            "readiness",
            wait_ready(&http, &url, Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
        assert!(
            error.starts_with(&format!(
                "GET {url} did not answer 200 within 300 ms (last: "
            )),
            "{error}"
        );
    }
}
