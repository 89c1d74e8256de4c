//! A live tenant, for nightly smoke runs: configured from the environment, read-only (its one
//! capability is `@https`, when its issuer is https), skipped with the reason when not
//! configured.
//!
//! - `SSOPROOF_LIVE_ISSUER`, `SSOPROOF_LIVE_CLIENT_ID`, `SSOPROOF_LIVE_CLIENT_SECRET`,
//!   `SSOPROOF_LIVE_REDIRECT_URI` (default `http://127.0.0.1/callback`);
//! - per test user `SSOPROOF_LIVE_PASSWORD_<USERNAME>` (upper-case) and optionally
//!   `SSOPROOF_LIVE_USER_ID_<USERNAME>` (the IdP's id for the user, for `sub` checks).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::fixture::APP_REDIRECT_URI;
use super::profiles::{Driver, TenantProfile, TenantUser};
use super::{Backend, BackendError, Capability, ClientRegistration, Idp, Promise};
use ssoproof_secret::Secret;

const NAME: &str = "live";

#[derive(Debug, Clone)]
pub struct LiveBackend {
    issuer: Option<String>,
    client_id: Option<String>,
    secret: Option<Secret>,
    redirect_uri: String,
    /// Set when the backend is a tenant of `live.yaml`.
    tenant: Option<Tenant>,
    capabilities: Vec<Capability>,
}

/// What a tenant profile adds to the environment-configured backend.
#[derive(Debug, Clone)]
struct Tenant {
    name: String,
    driver: Driver,
    /// The vendor's persona tag: the tenant plays it in its vendor's feature.
    persona: Option<&'static str>,
    users: Vec<TenantUser>,
    /// Each user's password; `Err` holds why the tenant's secrets could not be read.
    passwords: Result<BTreeMap<String, Secret>, String>,
}

impl LiveBackend {
    /// The tenant `profile`, its secrets read through `env`. Secrets that are not set make the
    /// tenant unavailable with the reason, so the other tenants still run.
    pub fn from_profile(
        profile: &TenantProfile,
        env: impl Fn(&str) -> Option<String>,
    ) -> LiveBackend {
        let resolved = profile.resolve(env);
        let (secret, passwords) = match resolved {
            Ok(r) => (r.client_secret, Ok(r.passwords)),
            Err(e) => (None, Err(e.to_string())),
        };
        LiveBackend {
            capabilities: capabilities(&profile.issuer, profile.driver),
            issuer: Some(profile.issuer.clone()),
            client_id: Some(profile.client_id.clone()),
            secret,
            redirect_uri: profile.redirect_uri.clone(),
            tenant: Some(Tenant {
                name: profile.name.clone(),
                driver: profile.driver,
                persona: profile.vendor.persona(),
                users: profile.users.clone(),
                passwords,
            }),
        }
    }

    fn user(&self, username: &str) -> Option<&TenantUser> {
        let tenant = self.tenant.as_ref()?;
        tenant.users.iter().find(|u| u.username == username)
    }

    /// Whether the tenant answers its discovery document: a tenant that is down is named as
    /// such instead of failing every scenario with a connection error.
    async fn answers(&self, tenant: &str, issuer: &str) -> Result<(), BackendError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let failed = |problem: String| {
            BackendError::Failed {
            backend: NAME,
            message: format!(
                "tenant \"{tenant}\" does not answer: GET {url} {problem}; check the tenant's issuer in live.yaml and that the tenant is up"
            ),
        }
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| failed(e.to_string()))?;
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| failed(format!("failed: {e}")))?;
        if !response.status().is_success() {
            return Err(failed(format!("answered {}", response.status())));
        }
        Ok(())
    }

    pub fn from_env() -> LiveBackend {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let issuer = var("SSOPROOF_LIVE_ISSUER");
        LiveBackend {
            capabilities: capabilities(issuer.as_deref().unwrap_or_default(), Driver::Form),
            issuer,
            client_id: var("SSOPROOF_LIVE_CLIENT_ID"),
            secret: var("SSOPROOF_LIVE_CLIENT_SECRET").map(Secret::from),
            redirect_uri: var("SSOPROOF_LIVE_REDIRECT_URI")
                .unwrap_or_else(|| APP_REDIRECT_URI.into()),
            tenant: None,
        }
    }
}

/// What a live tenant offers: `@https` when its issuer is https (a real tenant's certificate
/// chains to the public roots), and `@login-page` unless its users sign in with the password
/// grant.
fn capabilities(issuer: &str, driver: Driver) -> Vec<Capability> {
    let mut offered = Vec::new();
    if issuer.starts_with("https://") {
        offered.push(Capability::Https);
    }
    if driver != Driver::PasswordGrant {
        offered.push(Capability::LoginPage);
    }
    offered
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
        &self.capabilities
    }

    /// A tenant plays its vendor's persona: the vendor feature's `@live` scenarios run on it.
    fn serves_persona(&self, name: &str) -> bool {
        self.tenant
            .as_ref()
            .is_some_and(|t| t.persona == Some(name))
    }

    async fn start_persona(&self, _name: &str) -> Result<Arc<dyn Idp>, BackendError> {
        self.start_scenario(&[]).await
    }

    async fn availability(&self) -> Result<(), BackendError> {
        if let (Some(tenant), Some(issuer)) = (&self.tenant, &self.issuer) {
            if let Err(reason) = &tenant.passwords {
                return Err(BackendError::Failed {
                    backend: NAME,
                    message: reason.clone(),
                });
            }
            if tenant.driver == Driver::Browser {
                ssoproof_rp::check_browser().map_err(|e| BackendError::Failed {
                    backend: NAME,
                    message: format!(
                        "tenant \"{}\" signs in with `driver: browser`: [{}] {e}",
                        tenant.name,
                        e.code()
                    ),
                })?;
            }
            return self.answers(&tenant.name, issuer).await;
        }
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

    fn login_name(&self, username: &str) -> String {
        self.user(username)
            .and_then(|u| u.login.clone())
            .unwrap_or_else(|| username.to_string())
    }

    fn promise(&self, username: &str) -> Option<Promise> {
        let user = self.user(username)?;
        (!user.groups.is_empty() || user.role.is_some()).then(|| Promise {
            source: format!(
                "{} promises for tenant \"{}\"",
                super::profiles::PROFILES_FILE,
                self.tenant.as_ref().map_or("", |t| t.name.as_str())
            ),
            groups: user.groups.clone(),
            role: user.role.clone(),
        })
    }

    fn driver(&self) -> Driver {
        self.tenant.as_ref().map_or(Driver::Form, |t| t.driver)
    }

    fn password(&self, username: &str) -> Option<Secret> {
        if let Some(tenant) = &self.tenant {
            return tenant.passwords.as_ref().ok()?.get(username).cloned();
        }
        user_var("SSOPROOF_LIVE_PASSWORD_", username).map(Secret::from)
    }

    fn user_id(&self, username: &str) -> Option<String> {
        user_var("SSOPROOF_LIVE_USER_ID_", username)
    }
}
