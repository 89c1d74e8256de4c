//! A live tenant, for nightly smoke runs: configured from the environment, read-only (its one
//! capability is `@https`, when its issuer is https), skipped with the reason when not
//! configured.
//!
//! - `SSOPROOF_LIVE_ISSUER`, `SSOPROOF_LIVE_CLIENT_ID`, `SSOPROOF_LIVE_CLIENT_SECRET`,
//!   `SSOPROOF_LIVE_REDIRECT_URI` (default `http://127.0.0.1/callback`);
//! - per test user `SSOPROOF_LIVE_PASSWORD_<USERNAME>` (upper-case) and optionally
//!   `SSOPROOF_LIVE_USER_ID_<USERNAME>` (the IdP's id for the user, for `sub` checks).

use std::sync::Arc;

use async_trait::async_trait;

use super::fixture::APP_REDIRECT_URI;
use super::{Backend, BackendError, Capability, ClientRegistration, Idp};
use ssoproof_secret::Secret;

const NAME: &str = "live";

#[derive(Debug, Clone)]
pub struct LiveBackend {
    issuer: Option<String>,
    client_id: Option<String>,
    secret: Option<Secret>,
    redirect_uri: String,
}

impl LiveBackend {
    pub fn from_env() -> LiveBackend {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        LiveBackend {
            issuer: var("SSOPROOF_LIVE_ISSUER"),
            client_id: var("SSOPROOF_LIVE_CLIENT_ID"),
            secret: var("SSOPROOF_LIVE_CLIENT_SECRET").map(Secret::from),
            redirect_uri: var("SSOPROOF_LIVE_REDIRECT_URI")
                .unwrap_or_else(|| APP_REDIRECT_URI.into()),
        }
    }
}

fn user_var(prefix: &str, username: &str) -> Option<String> {
    let key = format!(
        "{prefix}{}",
        username
            .to_uppercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

#[async_trait]
impl Backend for LiveBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> &[Capability] {
        // A real tenant's certificate chains to the public roots.
        match &self.issuer {
            Some(issuer) if issuer.starts_with("https://") => &[Capability::Https],
            _ => &[],
        }
    }

    async fn availability(&self) -> Result<(), BackendError> {
        match (&self.issuer, &self.client_id) {
            (Some(_), Some(_)) => Ok(()),
            _ => Err(BackendError::Unavailable {
                backend: NAME,
                reason: "no live tenant configured (set SSOPROOF_LIVE_ISSUER and SSOPROOF_LIVE_CLIENT_ID)"
                    .into(),
            }),
        }
    }

    async fn start_scenario(&self, _needs: &[Capability]) -> Result<Arc<dyn Idp>, BackendError> {
        self.availability().await?;
        Ok(Arc::new(self.clone()))
    }
}

#[async_trait]
impl Idp for LiveBackend {
    fn backend(&self) -> &'static str {
        NAME
    }

    fn issuer(&self) -> String {
        self.issuer.clone().unwrap_or_default()
    }

    fn client(&self) -> ClientRegistration {
        ClientRegistration {
            client_id: self.client_id.clone().unwrap_or_default(),
            secret: self.secret.clone(),
            redirect_uri: self.redirect_uri.clone(),
        }
    }

    fn password(&self, username: &str) -> Option<Secret> {
        user_var("SSOPROOF_LIVE_PASSWORD_", username).map(Secret::from)
    }

    fn user_id(&self, username: &str) -> Option<String> {
        user_var("SSOPROOF_LIVE_USER_ID_", username)
    }
}
