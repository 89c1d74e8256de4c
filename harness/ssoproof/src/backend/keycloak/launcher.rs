//! Two ways to run a real Keycloak — a container ([`super::container`]) and a local process
//! ([`super::process`]) — behind one trait, and the running server they both hand back: its
//! admin API and whatever keeps it alive.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::StatusCode;

use super::admin::AdminApi;
use super::container::KeycloakContainer;
use super::http::transport;
use super::process::KeycloakProcess;
use super::{secs, PING_TIMEOUT};
use crate::backend::RealmFixture;
use ssoproof_secret::Secret;

#[async_trait]
pub(super) trait Launcher: Send + Sync + std::fmt::Debug {
    /// Whether this launcher can start Keycloak here: what it would start, or why not.
    async fn check(&self) -> Result<String, String>;
    /// Starts Keycloak with `password` for the bootstrap admin and waits until it is ready.
    async fn start(&self, fixture: &RealmFixture, password: &Secret) -> Result<Keycloak, String>;
}

/// A running Keycloak; dropping it stops the server.
#[derive(Debug)]
pub(super) struct Keycloak {
    pub(super) admin: Arc<AdminApi>,
    /// Held for its Drop, which stops the server.
    _server: Server,
}

/// What keeps the server running: each variant stops it when dropped.
#[derive(Debug)]
#[expect(dead_code, reason = "held only for the Drop that stops the server")]
pub(super) enum Server {
    Container(Box<KeycloakContainer>),
    Process(KeycloakProcess),
}

impl Keycloak {
    pub(super) fn new(admin: AdminApi, server: Server) -> Keycloak {
        Keycloak {
            admin: Arc::new(admin),
            _server: server,
        }
    }
}

/// Polls `url` until it answers 200, for at most `limit`, giving up early when `exited` says
/// the server is gone.
pub(super) async fn wait_ready(
    http: &reqwest::Client,
    url: &str,
    limit: Duration,
    mut exited: impl FnMut() -> Option<String>,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let last = match http.get(url).timeout(PING_TIMEOUT).send().await {
            Ok(r) if r.status() == StatusCode::OK => return Ok(()),
            Ok(r) => format!("answered {}", r.status()),
            Err(e) => transport(e),
        };
        if let Some(why) = exited() {
            return Err(why);
        }
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

    use super::super::http::http_client;
    use super::super::testkit::{closed_address, guarded, serve};
    use super::*;

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
        guarded(
            "readiness",
            wait_ready(&http, &url, Duration::from_secs(2), || None),
        )
        .await
        .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let closed = closed_address().await;
        let url = format!("http://{closed}/health/ready");
        let error = guarded(
            "readiness",
            wait_ready(&http, &url, Duration::from_millis(300), || None),
        )
        .await
        .unwrap_err();
        assert!(
            error.starts_with(&format!(
                "GET {url} did not answer 200 within 300 ms (last: "
            )),
            "{error}"
        );

        // A server that died is not waited for.
        let error = guarded(
            "readiness",
            wait_ready(&http, &url, Duration::from_secs(60), || {
                Some("Keycloak exited (exit status: 1) before it was ready".into())
            }),
        )
        .await
        .unwrap_err();
        assert_eq!(
            error,
            "Keycloak exited (exit status: 1) before it was ready"
        );
    }
}
