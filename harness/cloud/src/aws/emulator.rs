//! The running emulator: STS and Bedrock Runtime on one loopback port. Real AWS serves them
//! from different hosts; their paths do not overlap (`/` for the STS Query API,
//! `/model/{id}/…` for Bedrock), so one port keeps setup to a single endpoint URL.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{any, post, MethodRouter};
use axum::Router;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::bedrock::{self, Operation};
use super::config::AwsConfig;
use super::sessions::Sessions;
use super::sts;

/// How faithfully the emulator copies real AWS where that would break a local lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The default: STS fetches keys from loopback and plain-http issuers, so the lab IdP works.
    #[default]
    Lab,
    /// Like real STS, which fetches keys from AWS's side: an http, localhost, loopback or
    /// private issuer fails with "Couldn't retrieve verification key…".
    Realistic,
}

#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    pub mode: Mode,
    /// The client STS fetches issuers' discovery documents and keys with: give it the local CA
    /// (`LocalCa::client`) when the IdP serves HTTPS with one. Each fetch has its own timeout
    /// as well.
    pub http: reqwest::Client,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            mode: Mode::Lab,
            http: crate::fetch_client(&[]),
        }
    }
}

/// The emulator's notion of now: real time plus an offset that tests advance to age tokens
/// and credentials. SigV4 freshness (±5 minutes) is checked against the real clock, which the
/// client and the emulator share, so advancing never makes a fresh signature look stale.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
            + time::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    fn advance(&self, by: Duration) {
        let seconds = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}

/// What the STS and Bedrock handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: AwsConfig,
    pub mode: Mode,
    pub clock: Clock,
    pub sessions: Sessions,
    /// For discovery and JWKS fetches; every request also carries its own timeout.
    pub http: reqwest::Client,
}

/// A running emulator; stops when dropped.
pub struct AwsEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl AwsEmulator {
    /// Binds `options.bind` and serves STS and Bedrock Runtime until dropped or shut down.
    pub async fn start(config: AwsConfig, options: AwsOptions) -> std::io::Result<AwsEmulator> {
        let shared = Arc::new(Shared {
            config,
            mode: options.mode,
            clock: Clock::default(),
            sessions: Sessions::default(),
            http: options.http,
        });
        let listener = tokio::net::TcpListener::bind(options.bind).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(AwsEmulator {
            addr,
            shared,
            shutdown: Some(shutdown),
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The STS endpoint URL (`endpoint_url` for the AWS SDKs).
    pub fn sts_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Bedrock Runtime endpoint URL; the same port as STS.
    pub fn bedrock_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> &AwsConfig {
        &self.shared.config
    }

    pub fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// Moves the emulator's clock forward: tokens and credentials age by `by`.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// The standalone summary `ssoproof serve clouds --aws` prints.
    pub fn summary(&self) -> String {
        render_summary(
            &self.shared.config,
            self.shared.mode,
            &self.sts_endpoint(),
            &self.bedrock_endpoint(),
        )
    }

    /// Stops serving and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for AwsEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", any(sts::handle))
        .route("/model/{model_id}/invoke", bedrock_route(Operation::Invoke))
        .route(
            "/model/{model_id}/converse",
            bedrock_route(Operation::Converse),
        )
        .route(
            "/model/{model_id}/invoke-with-response-stream",
            bedrock_route(Operation::InvokeStream),
        )
        .route(
            "/model/{model_id}/converse-stream",
            bedrock_route(Operation::ConverseStream),
        )
        .fallback(bedrock::unknown_operation)
        .method_not_allowed_fallback(bedrock::unknown_operation)
        .with_state(shared)
}

/// `POST` to one Bedrock operation.
fn bedrock_route(operation: Operation) -> MethodRouter<Arc<Shared>> {
    post(
        move |state: State<Arc<Shared>>,
              method: Method,
              uri: Uri,
              headers: HeaderMap,
              body: Bytes| { bedrock::serve(operation, state, method, uri, headers, body) },
    )
}

/// Endpoints, account, providers and roles, with the traps a reader should notice.
fn render_summary(config: &AwsConfig, mode: Mode, sts: &str, bedrock: &str) -> String {
    let mut out = String::new();
    let account = &config.account_id;
    let mode = match mode {
        Mode::Lab => "lab (loopback and plain-http issuers are allowed)",
        Mode::Realistic => {
            "realistic (keys are fetched as from AWS: loopback, private and http issuers fail)"
        }
    };
    let _ = writeln!(
        out,
        "AWS emulator — account {account}, region {}, mode {mode}",
        config.region
    );
    let _ = writeln!(out, "  STS (AssumeRoleWithWebIdentity):  {sts}");
    let _ = writeln!(
        out,
        "  Bedrock Runtime (sign as service `bedrock`): {bedrock}"
    );
    let _ = writeln!(out, "OIDC providers:");
    if config.oidc_providers.is_empty() {
        let _ = writeln!(out, "  (none: every AssumeRoleWithWebIdentity fails)");
    }
    for provider in &config.oidc_providers {
        let lab = if provider.is_lab_only() {
            "  [lab only: real IAM/STS cannot use it]"
        } else {
            ""
        };
        let _ = writeln!(out, "  {}{lab}", provider.arn(account));
        let _ = writeln!(
            out,
            "    url {}  client ids: {}",
            provider.url,
            provider.client_ids.join(", ")
        );
    }
    let _ = writeln!(out, "Roles:");
    for role in &config.roles {
        let _ = writeln!(
            out,
            "  {}  (max session {} s, permission policies: {})",
            role.arn(account),
            role.max_session_duration,
            role.permission_policies.len()
        );
        for principal in role.trust_policy.federated_principals() {
            let known = config
                .oidc_providers
                .iter()
                .any(|p| p.arn(account) == principal);
            let note = if known {
                ""
            } else {
                "  [not a registered provider: assuming will be denied]"
            };
            let _ = writeln!(out, "    trusts {principal}{note}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[tokio::test]
    async fn summary_lists_endpoints_providers_roles_and_traps() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
        let config =
            AwsConfig::load_with_issuer(&path, "http://127.0.0.1:8080/realms/acme").unwrap();
        let emulator = AwsEmulator::start(config, AwsOptions::default())
            .await
            .unwrap();
        let summary = emulator.summary();
        assert!(summary.contains(&emulator.sts_endpoint()), "{summary}");
        assert!(
            summary.contains(
                "arn:aws:iam::123456789012:oidc-provider/127.0.0.1:8080/realms/acme  [lab only"
            ),
            "{summary}"
        );
        assert!(
            summary.contains("arn:aws:iam::123456789012:role/BedrockUser"),
            "{summary}"
        );
        assert!(
            summary.contains(
                "trusts arn:aws:iam::123456789012:oidc-provider/127.0.0.1:8080/realms/acme\n"
            ),
            "{summary}"
        );
        emulator.shutdown().await;
    }
}
