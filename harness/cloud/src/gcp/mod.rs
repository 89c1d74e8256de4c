//! Emulated Google Cloud: the STS token exchange of workforce identity federation and the
//! Vertex AI prediction endpoint, validating tokens and permissions as Google does.
//!
//! One server answers both, over plain HTTP (google-auth accepts an `http://` `token_url` since
//! 2.16.1; the Vertex SDKs take an `api_endpoint`):
//! - STS: `POST {base}/v1/token` ([`GcpEmulator::sts_url`]);
//! - Vertex: `POST {base}/v1/projects/{P}/locations/{LOC}/publishers/{PUB}/models/{M}:generateContent`
//!   or `…:rawPredict` ([`GcpEmulator::vertex_url`] is `{base}`).
//!
//! The organisation (pools, providers, projects, Google account issuers) comes from a
//! [`GcpConfig`] file; see `fixtures/cloud/gcp.yaml`. The provider's issuer must be https, as
//! in Google, so the IdP emulator serves HTTPS with [`ssoproof_server::tls::LocalCa`] and the STS fetches
//! its keys with a client trusting that CA ([`GcpOptions::http`]).
//!
//! Two legs reach Vertex:
//! - workforce federation: ID token → STS → federated token (`ya29.d.…`, recorded as a
//!   [`Grant`] with the pool, subject, groups, attributes and user project) → Vertex;
//! - a Google account directly: Google refuses to be a workforce IdP, but its OAuth token with
//!   the `cloud-platform` scope is a Vertex bearer. The emulator accepts a JWT access token from
//!   a `google_accounts` issuer (claims `iss`, `email`, `exp`, space-separated `scope`), verified
//!   with that issuer's keys; IAM knows the caller as `user:<email>`.

mod attributes;
mod cel;
mod client;
mod config;
mod iam;
mod sts;
mod tokens;
mod vertex;

#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use attributes::Identity;
pub use client::{
    exchange_token, generate_content, raw_predict, say_hello, AccessToken, StsError, VertexError,
    VertexModel,
};
pub use config::{GcpConfig, GoogleAccounts, Project, Provider, WorkforcePool};
pub use iam::{Caller, Member};
pub use sts::{CLOUD_PLATFORM_SCOPE, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN};
pub use tokens::Grant;
pub use vertex::{Method, VertexCall};

use ssoproof_server::ServerHandle;

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct GcpOptions {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The client the STS and Vertex fetch issuers' discovery documents and keys with: give it
    /// the local CA (`LocalCa::client`) when the IdP emulator serves HTTPS with one.
    pub http: reqwest::Client,
}

impl Default for GcpOptions {
    fn default() -> GcpOptions {
        GcpOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            http: super::fetch_client(&[]),
        }
    }
}

/// What the handlers share.
struct GcpState {
    config: GcpConfig,
    http: reqwest::Client,
    tokens: tokens::TokenStore,
    calls: Mutex<Vec<VertexCall>>,
}

impl GcpState {
    fn record(&self, call: VertexCall) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
    }
}

/// A running emulator; dropping it stops the server.
pub struct GcpEmulator {
    state: Arc<GcpState>,
    server: ServerHandle,
}

impl std::fmt::Debug for GcpEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpEmulator")
            .field("addr", &self.server.local_addr())
            .finish_non_exhaustive()
    }
}

impl GcpEmulator {
    pub async fn start(config: GcpConfig, options: GcpOptions) -> io::Result<GcpEmulator> {
        let state = Arc::new(GcpState {
            config,
            http: options.http,
            tokens: tokens::TokenStore::default(),
            calls: Mutex::default(),
        });
        let router = axum::Router::new()
            .route("/v1/token", axum::routing::post(sts::token))
            .fallback(vertex::handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(options.bind).await?;
        let server = ServerHandle::spawn(listener, router)?;
        Ok(GcpEmulator { state, server })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.local_addr())
    }

    /// The STS token endpoint (`token_url` in a google-auth credential file).
    pub fn sts_url(&self) -> String {
        format!("{}/v1/token", self.base_url())
    }

    /// The Vertex API endpoint that model paths are appended to.
    pub fn vertex_url(&self) -> String {
        self.base_url()
    }

    pub fn config(&self) -> &GcpConfig {
        &self.state.config
    }

    /// Grants behind the tokens minted so far (the tokens themselves are not kept outside).
    pub fn grants(&self) -> Vec<Grant> {
        self.state.tokens.grants()
    }

    /// Predictions answered so far, with who made them and which project paid.
    pub fn vertex_calls(&self) -> Vec<VertexCall> {
        self.state
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub async fn shutdown(self) -> io::Result<()> {
        self.server.shutdown().await
    }
}

/// The full resource name STS expects as `audience` for a provider.
pub fn provider_audience(pool: &str, provider: &str) -> String {
    format!("//iam.googleapis.com/locations/global/workforcePools/{pool}/providers/{provider}")
}

/// What `ssoproof serve clouds --gcp FILE` prints: endpoints, pools and providers, projects,
/// and a google-auth credential file to point a client at the emulator.
pub fn render_summary(emulator: &GcpEmulator) -> String {
    let config = emulator.config();
    let mut out = String::new();
    let _ = writeln!(out, "Google Cloud (emulated)");
    let _ = writeln!(out, "  STS     POST {}", emulator.sts_url());
    let _ = writeln!(
        out,
        "  Vertex  POST {}/v1/projects/{{P}}/locations/{{LOC}}/publishers/{{PUB}}/models/{{M}}:generateContent|rawPredict",
        emulator.vertex_url()
    );
    for pool in &config.workforce_pools {
        let disabled = if pool.disabled { " (disabled)" } else { "" };
        let _ = writeln!(out, "  workforce pool {}{disabled}", pool.id.as_str());
        for provider in &pool.providers {
            let disabled = if provider.disabled { " (disabled)" } else { "" };
            let keys = if provider.jwks_json.is_some() {
                "inline jwks_json"
            } else {
                "discovery"
            };
            let _ = writeln!(out, "    provider {}{disabled}", provider.id.as_str());
            let _ = writeln!(
                out,
                "      audience   {}",
                provider_audience(pool.id.as_str(), provider.id.as_str())
            );
            let _ = writeln!(
                out,
                "      issuer     {} (keys: {keys})",
                provider.issuer_uri.as_str()
            );
            let _ = writeln!(out, "      client_id  {}", provider.client_id);
            for (target, expr) in provider.attribute_mapping.iter() {
                let _ = writeln!(out, "      map        {target} = {}", expr.source());
            }
            if let Some(condition) = &provider.attribute_condition {
                let _ = writeln!(out, "      condition  {}", condition.source());
            }
        }
    }
    for project in &config.projects {
        let vertex = if project.vertex_enabled {
            "Vertex AI enabled"
        } else {
            "Vertex AI disabled"
        };
        let _ = writeln!(out, "  project {} ({vertex})", project.id.as_str());
        let permissions = &project.permissions;
        for (name, members) in [
            ("aiplatform.endpoints.predict", &permissions.predict),
            ("serviceusage.services.use", &permissions.service_usage),
        ] {
            for member in members {
                let _ = writeln!(out, "    {name}: {member}");
            }
        }
    }
    for accounts in &config.google_accounts {
        let _ = writeln!(
            out,
            "  Google account tokens from {} (scope {CLOUD_PLATFORM_SCOPE})",
            accounts.issuer.as_str()
        );
    }
    if let Some((pool, provider)) = config
        .workforce_pools
        .iter()
        .find_map(|p| p.providers.first().map(|v| (p, v)))
    {
        let project = config.projects.first().map_or("PROJECT", |p| p.id.as_str());
        let credential = serde_json::json!({
            "type": "external_account",
            "audience": provider_audience(pool.id.as_str(), provider.id.as_str()),
            "subject_token_type": TOKEN_TYPE_ID_TOKEN,
            "token_url": emulator.sts_url(),
            "workforce_pool_user_project": project,
            "credential_source": {"file": "/path/to/id_token"},
        });
        let _ = writeln!(out, "  google-auth credential file:");
        let pretty = serde_json::to_string_pretty(&credential).unwrap_or_default();
        for line in pretty.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}
