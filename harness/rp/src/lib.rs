//! The reference relying party: the OIDC contract the runbooks promise, implemented strictly.
//!
//! - Discovery from `<issuer>/.well-known/openid-configuration`, whose `issuer` must be
//!   byte-equal to the configured one; an IdP advertising no allowed signing algorithm is refused.
//! - Authorization-code flow with PKCE S256, a random single-use `state` and `nonce`, and the
//!   RFC 9207 `iss` check. The sign-in itself is done by a small form-filling browser
//!   that works with any IdP whose login page is a plain HTML form; nothing listens on the
//!   redirect URI.
//! - Code exchange with `client_secret_basic` (default) or `client_secret_post`; public clients
//!   send only their id.
//! - ID-token validation with a distinct error code per rule (algorithm allow-list, signature
//!   with keys from discovery's `jwks_uri`, `iss`, `aud`, `azp`, `exp` / `nbf` / `iat` with 60 s
//!   skew, `nonce`, `at_hash`), then userinfo, whose `sub` must match.
//! - Groups from the ID token by a configurable claim path, mapped to a role, failing closed.
//! - Refresh with rotation: a new refresh token is saved through a [`TokenStore`] before
//!   anything uses it.
//!
//! Every failure is an [`RpError`] with a stable code (see [`ERROR_CODES`]); no message carries a
//! secret or a token.

mod browser;
mod chromium;
mod discovery;
mod error;
mod groups;
mod http;
mod id_token;
mod jwks;
pub mod render;
mod roles;
pub mod saml;
mod store;

#[cfg(test)]
mod mock_op;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

pub use browser::{page_message, Browser, Walk, WalkError};
pub use chromium::{check_browser, BrowserOptions, DEFAULT_SCREENSHOT_DIR};
pub use error::{meaning_of, RpError, ERROR_CODES};
pub use groups::{map_role, resolve_groups};
pub use id_token::{ALLOWED_ALGS, CLOCK_SKEW_SECS};
pub use roles::{LadderError, Role, RoleLadder, UnknownRole};
pub use store::{FileTokenStore, MemoryTokenStore, TokenStore};

use id_token::{Expected, NonceRule};
use ssoproof_secret::{redact_all, Secret};

/// How the client authenticates to the token endpoint (when it has a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// HTTP Basic with the form-urlencoded client id and secret (RFC 6749, section 2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the request body.
    ClientSecretPost,
}

/// The relying party's configuration, as in the runbooks' "Application-side configuration".
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Exact, byte for byte (a trailing slash matters).
    pub issuer: String,
    pub client_id: String,
    /// `None` for a public client, which sends only its id.
    pub client_secret: Option<Secret>,
    pub redirect_uri: String,
    /// Must include `openid`. Default `openid email profile`.
    pub scopes: Vec<String>,
    pub auth_method: AuthMethod,
    /// Path of the groups claim in the ID token. Default `groups`.
    pub groups_claim: String,
    /// The application's roles, highest first. Default `admin > user > viewer`.
    pub roles: RoleLadder,
    /// Group → role, exact and case-sensitive; every role must be one of `roles`.
    pub role_mappings: Vec<(String, Role)>,
    /// The role of a user whose groups map to nothing; `None` fails closed.
    pub default_role: Option<Role>,
    /// Limit for every network request. Default 10 s. (A whole sign-in is bounded by
    /// [`with_deadline`].)
    pub timeout: Duration,
    /// Least time after a JWKS refetch that did not find a token's key before the next one
    /// (flood protection; a refetch that finds the key does not count). Default 10 s.
    pub jwks_refetch_interval: Duration,
    /// PEM certificates (one, or a bundle) trusted besides the public roots: a private CA, or
    /// the local CA that `ssoproof serve idp --tls` writes. Default none.
    pub trusted_ca_pem: Option<String>,
    /// Extra authorization-request parameters, e.g. `kc_idp_hint=google` (Keycloak: go straight
    /// to that identity provider) or `access_type=offline` (Google). The parameters the relying
    /// party sets itself cannot be overridden.
    pub authorization_params: Vec<(String, String)>,
}

/// The certificates of a PEM bundle; at least one.
fn pem_roots(pem: &str) -> Result<Vec<reqwest::Certificate>, String> {
    match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
        Ok(roots) if !roots.is_empty() => Ok(roots),
        Ok(_) => Err(
            "holds no PEM certificate (no `-----BEGIN CERTIFICATE-----` block); give the CA's \
             certificate in PEM, e.g. the file `ssoproof serve idp --tls` wrote"
                .to_string(),
        ),
        Err(e) => Err(format!("is not a valid PEM certificate: {e}")),
    }
}

/// The certificates of an optional trusted-CA PEM bundle (none without one).
fn pem_roots_of(pem: Option<&str>) -> Result<Vec<reqwest::Certificate>, RpError> {
    let Some(pem) = pem else {
        return Ok(Vec::new());
    };
    pem_roots(pem).map_err(|problem| RpError::ConfigInvalid {
        problem: format!("the trusted CA {problem}"),
    })
}

/// A PEM file of CA certificates to trust, read with the one reader of user-named files.
fn read_ca_file(path: &Path) -> Result<String, RpError> {
    let invalid = |problem: String| RpError::ConfigInvalid {
        problem: format!("the CA certificate file `{}` {problem}", path.display()),
    };
    let pem = ssoproof_config::fs::read_to_string(path)
        .map_err(|e| invalid(format!("cannot be read: {e}")))?;
    pem_roots(&pem).map_err(invalid)?;
    Ok(pem)
}

/// Runs `work` (typically discovery and a login together) within `limit`, or fails with
/// `deadline_exceeded`. The per-request [`ClientConfig::timeout`] alone does not bound a sign-in:
/// it may take many requests, and parsing a hostile login page is slow CPU work; when the limit
/// passes, `work` is dropped, which also stops a page parse in progress.
pub async fn with_deadline<T>(
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, RpError>>,
) -> Result<T, RpError> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(RpError::DeadlineExceeded {
            seconds: limit.as_secs_f64(),
        })
    })
}

/// Authorization parameters the relying party sets itself.
const RESERVED_PARAMS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

impl ClientConfig {
    /// A configuration with the defaults: scopes `openid email profile`, `client_secret_basic`,
    /// groups claim `groups`, roles `admin > user > viewer`, no mappings, no default role, 10 s
    /// timeout and refetch interval.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> ClientConfig {
        ClientConfig {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri: redirect_uri.into(),
            scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            auth_method: AuthMethod::ClientSecretBasic,
            groups_claim: "groups".to_string(),
            roles: RoleLadder::default(),
            role_mappings: Vec::new(),
            default_role: None,
            timeout: Duration::from_secs(10),
            jwks_refetch_interval: Duration::from_secs(10),
            trusted_ca_pem: None,
            authorization_params: Vec::new(),
        }
    }

    /// Trusts the certificates of the PEM file at `path` (see
    /// [`trusted_ca_pem`](Self::trusted_ca_pem)), read with the one reader of user-named files
    /// (regular files only, size-capped). A file that cannot be read or holds no certificate is
    /// `config_invalid`, naming the file and what is wrong with it.
    pub fn trust_ca_file(&mut self, path: &Path) -> Result<(), RpError> {
        self.trusted_ca_pem = Some(read_ca_file(path)?);
        Ok(())
    }

    /// Checks the configuration without any request: an http(s) issuer, a client id, an
    /// absolute redirect URI, `openid` among the scopes, … (`config_invalid` otherwise), so
    /// that callers loading it from a file can refuse it at load.
    pub fn validate(&self) -> Result<(), RpError> {
        let invalid = |problem: String| Err(RpError::ConfigInvalid { problem });
        match Url::parse(&self.issuer) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {
                if u.query().is_some() || u.fragment().is_some() {
                    return invalid(format!(
                        "the issuer `{}` has a query or fragment; an issuer is a plain http(s) URL",
                        self.issuer
                    ));
                }
            }
            _ => {
                return invalid(format!(
                    "the issuer `{}` is not an http(s) URL",
                    self.issuer
                ))
            }
        }
        if self.client_id.is_empty() {
            return invalid("the client id is empty".to_string());
        }
        match Url::parse(&self.redirect_uri) {
            Ok(u) if u.fragment().is_none() => {}
            Ok(_) => {
                return invalid(format!(
                    "the redirect URI `{}` has a fragment, which OAuth forbids",
                    self.redirect_uri
                ))
            }
            Err(e) => {
                return invalid(format!(
                    "the redirect URI `{}` is not an absolute URL: {e}",
                    self.redirect_uri
                ))
            }
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return invalid(format!(
                "the scopes {:?} lack `openid`; without it there is no ID token",
                self.scopes
            ));
        }
        if self.groups_claim.is_empty() {
            return invalid("the groups claim path is empty".to_string());
        }
        if let Err(problem) = self
            .roles
            .check_config(&self.role_mappings, self.default_role.as_ref())
        {
            return invalid(problem);
        }
        if self.timeout.is_zero() {
            return invalid("the timeout is zero".to_string());
        }
        if let Some((key, _)) = self
            .authorization_params
            .iter()
            .find(|(k, _)| RESERVED_PARAMS.contains(&k.as_str()) || k.is_empty())
        {
            return invalid(format!(
                "the authorization parameter `{key}` is set by the relying party itself and cannot be added"
            ));
        }
        Ok(())
    }
}

/// Who signed in, and with which role. Serializes without tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoginOutcome {
    pub sub: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub role: Role,
    /// The ID token's claims, completed by userinfo claims the ID token lacks.
    pub claims: Map<String, Value>,
}

/// A signed-in session: the outcome, and the tokens (private, as [`Secret`]s).
#[derive(Debug, Clone)]
pub struct Session {
    pub outcome: LoginOutcome,
    id_token: Secret,
    access_token: Secret,
    refresh_token: Option<Secret>,
    /// The claims of the last validated ID token; groups and role come from them.
    id_claims: Map<String, Value>,
    /// The nonce of the login, which a refreshed ID token may repeat and must not change.
    nonce: String,
}

impl Session {
    pub fn id_token(&self) -> &Secret {
        &self.id_token
    }

    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    pub fn access_token(&self) -> &Secret {
        &self.access_token
    }
}

/// What walks the IdP's login pages from the authorization URL to the redirect URI.
#[derive(Debug, Clone, Default)]
pub enum LoginDriver {
    /// The form-filling scraper: plain HTML login forms, no JavaScript.
    #[default]
    Form,
    /// A real headless Chromium through WebDriver: pages built by scripts too.
    Browser(BrowserOptions),
}

/// A relying party bound to one discovered IdP.
#[derive(Debug)]
pub struct RelyingParty {
    config: ClientConfig,
    provider: discovery::Provider,
    client: reqwest::Client,
    /// Extra trusted roots, for the browser's own client.
    roots: Vec<reqwest::Certificate>,
    jwks: jwks::Jwks,
}

/// Tokens from the token endpoint.
struct Tokens {
    access_token: Secret,
    id_token: Option<Secret>,
    refresh_token: Option<Secret>,
}

enum Grant<'a> {
    Code {
        code: &'a Secret,
        verifier: &'a Secret,
    },
    Refresh(&'a Secret),
    /// The resource-owner password grant (RFC 6749 4.3).
    Password {
        username: &'a str,
        password: &'a Secret,
    },
}

/// `bytes` random bytes from the operating system's CSPRNG, base64url-encoded.
fn random_string(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    id_token::b64url(&buffer)
}

/// The PKCE S256 challenge of `verifier`: base64url(SHA-256(verifier)).
fn pkce_challenge(verifier: &str) -> String {
    id_token::b64url(&Sha256::digest(verifier.as_bytes()))
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl RelyingParty {
    /// Validates `config`, fetches and checks the discovery document.
    pub async fn discover(config: ClientConfig) -> Result<RelyingParty, RpError> {
        config.validate()?;
        let roots = pem_roots_of(config.trusted_ca_pem.as_deref())?;
        let client = http::back_channel_client(config.timeout, &roots).map_err(|e| {
            RpError::ConfigInvalid {
                problem: format!("cannot build an HTTP client: {e}"),
            }
        })?;
        let provider = discovery::discover(&client, &config.issuer, config.timeout).await?;
        let jwks = jwks::Jwks::new(
            provider.jwks_uri.clone(),
            config.jwks_refetch_interval,
            config.timeout,
        );
        Ok(RelyingParty {
            config,
            provider,
            client,
            roots,
            jwks,
        })
    }

    /// The discovery document as fetched.
    pub fn discovery(&self) -> &Value {
        &self.provider.document
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// How many times this relying party requested the JWKS.
    pub fn jwks_fetches(&self) -> usize {
        self.jwks.fetches()
    }

    /// Signs `username` in through the IdP's login form, exchanges the code, validates the ID
    /// token, calls userinfo and maps the groups to a role.
    pub async fn login(&self, username: &str, password: &Secret) -> Result<Session, RpError> {
        self.login_with(&LoginDriver::Form, username, password)
            .await
    }

    /// [`login`](Self::login) through `driver`'s login pages: the same PKCE, state, nonce and
    /// session checks whichever driver reaches the redirect URI.
    pub async fn login_with(
        &self,
        driver: &LoginDriver,
        username: &str,
        password: &Secret,
    ) -> Result<Session, RpError> {
        // The IdP has the password from the login form: whatever it sends back (an `iss`
        // parameter, claims) may quote it.
        let mut secrets = self.secrets();
        secrets.push(password);
        self.sign_in(driver, username, password)
            .await
            .map_err(|e| e.redact_server_values(&secrets))
    }

    async fn sign_in(
        &self,
        driver: &LoginDriver,
        username: &str,
        password: &Secret,
    ) -> Result<Session, RpError> {
        let state = random_string(32);
        let nonce = random_string(32);
        let verifier = Secret::new(random_string(48)); // 64 characters
        let mut start = self.provider.authorization_endpoint.clone();
        start
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", &self.config.scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce_challenge(verifier.expose()))
            .append_pair("code_challenge_method", "S256");
        for (key, value) in &self.config.authorization_params {
            start.query_pairs_mut().append_pair(key, value);
        }

        let mut secrets = self.secrets();
        secrets.extend([password, &verifier]);
        let (redirect_uri, timeout) = (&self.config.redirect_uri, self.config.timeout);
        let callback = match driver {
            LoginDriver::Form => {
                browser::sign_in(
                    &start,
                    redirect_uri,
                    username,
                    password,
                    timeout,
                    &self.roots,
                    &secrets,
                )
                .await?
            }
            LoginDriver::Browser(options) => {
                chromium::sign_in(
                    &start,
                    redirect_uri,
                    username,
                    password,
                    timeout,
                    options,
                    &secrets,
                )
                .await?
            }
        };
        let code = Secret::new(self.check_callback(callback, &state)?);
        secrets.push(&code);
        let grant = Grant::Code {
            code: &code,
            verifier: &verifier,
        };
        self.session(grant, NonceRule::Required(&nonce), nonce.clone(), &secrets)
            .await
    }

    /// Signs `username` in with the resource-owner password grant instead of the login form:
    /// a smoke-test shortcut for clients that allow it (Keycloak's direct access grants, Auth0's
    /// password realm, Entra ROPC). It proves the credentials, the token and the role mapping,
    /// not the login pages users see.
    pub async fn login_with_password_grant(
        &self,
        username: &str,
        password: &Secret,
    ) -> Result<Session, RpError> {
        let mut secrets = self.secrets();
        secrets.push(password);
        let grant = Grant::Password { username, password };
        self.session(grant, NonceRule::NotSent, String::new(), &secrets)
            .await
            .map_err(|e| e.redact_server_values(&secrets))
    }

    /// Redeems `grant` at the token endpoint, validates the ID token, calls userinfo and maps
    /// the groups to a role.
    async fn session(
        &self,
        grant: Grant<'_>,
        nonce_rule: NonceRule<'_>,
        nonce: String,
        secrets: &[&Secret],
    ) -> Result<Session, RpError> {
        let tokens =
            self.token_request(grant, secrets)
                .await
                .map_err(|f| RpError::TokenRequestFailed {
                    request: f.request,
                    problem: f.problem,
                })?;
        let id_token = tokens.id_token.ok_or_else(|| RpError::TokenRequestFailed {
            request: format!("POST {}", self.provider.token_endpoint),
            problem: "answered without an `id_token`; check that the `openid` scope is allowed \
                      for this client"
                .to_string(),
        })?;
        let claims = self
            .validate(
                &id_token,
                Expected {
                    issuer: &self.config.issuer,
                    origin: "the ID token",
                    client_id: &self.config.client_id,
                    nonce: nonce_rule,
                    access_token: Some(&tokens.access_token),
                    now: id_token::now(),
                },
            )
            .await?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let userinfo = self.userinfo(&tokens.access_token, &sub).await?;
        let outcome = self.outcome(&claims, userinfo)?;
        Ok(Session {
            outcome,
            id_token,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            id_claims: claims,
            nonce,
        })
    }

    /// Uses the session's refresh token. A new refresh token (rotation) is saved to `store`
    /// first, before anything else happens; if saving fails the refresh is aborted. A refreshed
    /// ID token must keep the original `iss` and `sub`; userinfo is called with the new access
    /// token. On success the session holds the new tokens and outcome. When a later check fails,
    /// the session keeps its old access and ID tokens but already holds the new refresh token,
    /// the only one the IdP still honours.
    pub async fn refresh(
        &self,
        session: &mut Session,
        store: &dyn TokenStore,
    ) -> Result<LoginOutcome, RpError> {
        // The IdP holds the client secret and the refresh token: whatever it sends back (claims,
        // an issuer) may quote either, as in a login.
        let mut secrets = self.secrets();
        let held = session.refresh_token.clone();
        secrets.extend(held.as_ref());
        self.refresh_session(session, store)
            .await
            .map_err(|e| e.redact_server_values(&secrets))
    }

    async fn refresh_session(
        &self,
        session: &mut Session,
        store: &dyn TokenStore,
    ) -> Result<LoginOutcome, RpError> {
        let token_endpoint = format!("POST {}", self.provider.token_endpoint);
        let current = match &session.refresh_token {
            Some(token) => token.clone(),
            None => store
                .load_refresh_token()?
                .ok_or_else(|| RpError::RefreshFailed {
                    request: token_endpoint.clone(),
                    problem: "the session holds no refresh token (the IdP issued none: request \
                          `offline_access` or enable refresh tokens for the client)"
                        .to_string(),
                })?,
        };
        let tokens = self
            .redeem_refresh_token(&current, Some(&session.access_token), store)
            .await?;
        if let Some(new) = &tokens.refresh_token {
            session.refresh_token = Some(new.clone());
        }
        let sub = session.outcome.sub.clone();
        let claims = match &tokens.id_token {
            Some(id_token) => {
                let claims = self
                    .validate(
                        id_token,
                        Expected {
                            issuer: &self.config.issuer,
                            origin: "the refreshed ID token",
                            client_id: &self.config.client_id,
                            nonce: NonceRule::IfPresent(&session.nonce),
                            access_token: Some(&tokens.access_token),
                            now: id_token::now(),
                        },
                    )
                    .await?;
                let refreshed = claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if refreshed != sub {
                    return Err(RpError::SubMismatch {
                        original: sub,
                        refreshed: refreshed.to_string(),
                    });
                }
                claims
            }
            None => session.id_claims.clone(),
        };
        let userinfo = self.userinfo(&tokens.access_token, &sub).await?;
        let outcome = self.outcome(&claims, userinfo)?;
        if let Some(id_token) = tokens.id_token {
            session.id_token = id_token;
        }
        session.access_token = tokens.access_token;
        session.id_claims = claims;
        session.outcome = outcome.clone();
        Ok(outcome)
    }

    /// Resumes a session from the refresh token `store` holds (saved by a login in an earlier
    /// process): one refresh grant with the checks of [`refresh`](Self::refresh), except that
    /// the login's nonce is gone and so not compared. The IdP must answer with an ID token. A
    /// new refresh token is saved first, as in a refresh.
    pub async fn resume(&self, store: &dyn TokenStore) -> Result<Session, RpError> {
        self.resume_session(store)
            .await
            .map_err(|e| e.redact_server_values(&self.secrets()))
    }

    async fn resume_session(&self, store: &dyn TokenStore) -> Result<Session, RpError> {
        let failed = |problem: &str| RpError::RefreshFailed {
            request: format!("POST {}", self.provider.token_endpoint),
            problem: problem.to_string(),
        };
        let current = store
            .load_refresh_token()?
            .ok_or_else(|| failed("the token store holds no refresh token; sign in first"))?;
        let tokens = self.redeem_refresh_token(&current, None, store).await?;
        let id_token = tokens.id_token.ok_or_else(|| {
            failed("answered without an `id_token`, which resuming a session needs")
        })?;
        let claims = self
            .validate(
                &id_token,
                Expected {
                    issuer: &self.config.issuer,
                    origin: "the refreshed ID token",
                    client_id: &self.config.client_id,
                    nonce: NonceRule::NotKept,
                    access_token: Some(&tokens.access_token),
                    now: id_token::now(),
                },
            )
            .await?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let userinfo = self.userinfo(&tokens.access_token, &sub).await?;
        let outcome = self.outcome(&claims, userinfo)?;
        // Later refreshes compare against the nonce this token carries, if any.
        let nonce = claims
            .get("nonce")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(Session {
            outcome,
            id_token,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.or(Some(current)),
            id_claims: claims,
            nonce,
        })
    }

    /// Fetches the IdP's JWKS now (before any token exists, as the doctor does) and keeps it for
    /// the validations that follow. Returns the published key ids (`(no kid)` for keys without
    /// one); a JWKS with no key at all is `jwks_unreachable`.
    pub async fn fetch_keys(&self) -> Result<Vec<String>, RpError> {
        self.jwks.prefetch(&self.client).await
    }

    /// The refresh grant with `current`; a rotated refresh token is saved to `store` before
    /// anything else happens, and the refresh aborts if saving fails. `access_token`, the
    /// session's current one, is redacted from error messages too.
    async fn redeem_refresh_token(
        &self,
        current: &Secret,
        access_token: Option<&Secret>,
        store: &dyn TokenStore,
    ) -> Result<Tokens, RpError> {
        let mut secrets = self.secrets();
        secrets.push(current);
        secrets.extend(access_token);
        let tokens = self
            .token_request(Grant::Refresh(current), &secrets)
            .await
            .map_err(|f| RpError::RefreshFailed {
                request: f.request,
                problem: f.problem,
            })?;
        if let Some(new) = &tokens.refresh_token {
            store.save_refresh_token(new)?;
        }
        Ok(tokens)
    }

    /// Validates an ID token obtained outside [`login`](Self::login) (for scenario steps):
    /// every rule of a login applies, with `nonce` required to equal `nonce`.
    pub async fn validate_id_token(
        &self,
        id_token: &Secret,
        nonce: &str,
        access_token: Option<&Secret>,
    ) -> Result<Map<String, Value>, RpError> {
        self.validate(
            id_token,
            Expected {
                issuer: &self.config.issuer,
                origin: "the ID token",
                client_id: &self.config.client_id,
                nonce: NonceRule::Required(nonce),
                access_token,
                now: id_token::now(),
            },
        )
        .await
    }

    fn secrets(&self) -> Vec<&Secret> {
        self.config.client_secret.iter().collect()
    }

    async fn validate(
        &self,
        token: &Secret,
        expected: Expected<'_>,
    ) -> Result<Map<String, Value>, RpError> {
        let parsed = id_token::parse(token)?;
        self.jwks
            .verify(
                &self.client,
                parsed.kid.as_deref(),
                parsed.alg,
                &parsed.signing_input,
                &parsed.signature,
            )
            .await?;
        id_token::check_claims(&parsed.claims, parsed.alg, &expected)?;
        Ok(parsed.claims)
    }

    /// Checks `state` and the RFC 9207 `iss` parameter, surfaces an IdP error, returns the code.
    fn check_callback(&self, callback: browser::Callback, state: &str) -> Result<String, RpError> {
        match (&callback.state, &callback.error) {
            // An error response without state cannot be used for anything; report the error.
            (None, Some(_)) => {}
            (None, None) => {
                return Err(RpError::StateMismatch {
                    problem: "is missing".to_string(),
                })
            }
            (Some(got), _) if got != state => {
                return Err(RpError::StateMismatch {
                    problem: "differs from the one sent".to_string(),
                })
            }
            _ => {}
        }
        match &callback.iss {
            Some(iss) if iss != &self.config.issuer => {
                return Err(RpError::IssParamMismatch {
                    expected: self.config.issuer.clone(),
                    found: Some(iss.clone()),
                })
            }
            None if self.provider.iss_parameter_supported => {
                return Err(RpError::IssParamMismatch {
                    expected: self.config.issuer.clone(),
                    found: None,
                })
            }
            _ => {}
        }
        if let Some(error) = callback.error {
            let secrets = self.secrets();
            return Err(RpError::IdpError {
                error: redact_all(&error, &secrets),
                description: callback.error_description.map(|d| redact_all(&d, &secrets)),
            });
        }
        callback.code.ok_or_else(|| RpError::LoginFailed {
            page: self.config.redirect_uri.clone(),
            reason: "the IdP redirected back with neither `code` nor `error`".to_string(),
            screenshot: None,
        })
    }

    async fn token_request(
        &self,
        grant: Grant<'_>,
        secrets: &[&Secret],
    ) -> Result<Tokens, http::Failure> {
        let endpoint = &self.provider.token_endpoint;
        let label = format!("POST {endpoint}");
        let mut form: Vec<(&str, String)> = match grant {
            Grant::Code { code, verifier } => vec![
                ("grant_type", "authorization_code".to_string()),
                ("code", code.expose().to_string()),
                ("redirect_uri", self.config.redirect_uri.clone()),
                ("code_verifier", verifier.expose().to_string()),
            ],
            Grant::Refresh(token) => vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", token.expose().to_string()),
            ],
            Grant::Password { username, password } => vec![
                ("grant_type", "password".to_string()),
                ("username", username.to_string()),
                ("password", password.expose().to_string()),
                ("scope", self.config.scopes.join(" ")),
            ],
        };
        let mut request = self
            .client
            .post(endpoint)
            .header(reqwest::header::ACCEPT, "application/json");
        // The Basic credentials are the secret in a form of their own: an endpoint that echoes
        // the request must not get them printed.
        let mut basic = None;
        match (&self.config.client_secret, self.config.auth_method) {
            (Some(secret), AuthMethod::ClientSecretBasic) => {
                let pair = format!(
                    "{}:{}",
                    form_encode(&self.config.client_id),
                    form_encode(secret.expose())
                );
                let credentials = basic.insert(Secret::new(
                    base64::engine::general_purpose::STANDARD.encode(pair),
                ));
                request = request.header(
                    reqwest::header::AUTHORIZATION,
                    format!("Basic {}", credentials.expose()),
                );
            }
            (Some(secret), AuthMethod::ClientSecretPost) => {
                form.push(("client_id", self.config.client_id.clone()));
                form.push(("client_secret", secret.expose().to_string()));
            }
            (None, _) => form.push(("client_id", self.config.client_id.clone())),
        }
        let secrets: Vec<&Secret> = secrets.iter().copied().chain(basic.as_ref()).collect();
        let secrets = secrets.as_slice();
        let timeout = self.config.timeout;
        let response = http::send(request.form(&form), &label, timeout).await?;
        let answer = http::read(response, &label, timeout).await?;
        let failure = |problem: String| http::Failure {
            request: label.clone(),
            problem,
        };
        let body = answer.json_object(secrets).map_err(failure)?;
        let text = |key: &str| -> Result<Option<Secret>, http::Failure> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(Secret::new(s.clone()))),
                Some(_) => Err(failure(format!(
                    "answered 200 but `{key}` is not a non-empty string"
                ))),
            }
        };
        let access_token = text("access_token")?
            .ok_or_else(|| failure("answered 200 without an `access_token`".to_string()))?;
        match body.get("token_type").and_then(Value::as_str) {
            Some(t) if t.eq_ignore_ascii_case("bearer") => {}
            Some(t) => {
                return Err(failure(format!(
                    "answered 200 with `token_type` `{}`, expected `Bearer`",
                    redact_all(t, secrets)
                )))
            }
            None => {
                return Err(failure(
                    "answered 200 without a `token_type` (RFC 6749 requires it)".to_string(),
                ))
            }
        }
        Ok(Tokens {
            access_token,
            id_token: text("id_token")?,
            refresh_token: text("refresh_token")?,
        })
    }

    /// Calls userinfo (when discovery names an endpoint) and checks its `sub`.
    async fn userinfo(
        &self,
        access_token: &Secret,
        sub: &str,
    ) -> Result<Option<Map<String, Value>>, RpError> {
        let Some(endpoint) = &self.provider.userinfo_endpoint else {
            return Ok(None);
        };
        let label = format!("GET {endpoint}");
        let failed = |problem: String| RpError::UserinfoFailed {
            request: label.clone(),
            problem,
        };
        let timeout = self.config.timeout;
        let request = self
            .client
            .get(endpoint)
            .bearer_auth(access_token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        let answer = async {
            let response = http::send(request, &label, timeout).await?;
            http::read(response, &label, timeout).await
        }
        .await
        .map_err(|f| failed(f.problem))?;
        let mut secrets = self.secrets();
        secrets.push(access_token);
        if answer.status.is_success() && answer.content_type.starts_with("application/jwt") {
            return Err(failed(
                "answered with a signed or encrypted userinfo response (application/jwt), which \
                 this relying party does not accept; configure plain JSON userinfo responses"
                    .to_string(),
            ));
        }
        let claims = answer.json_object(&secrets).map_err(failed)?;
        match claims.get("sub").and_then(Value::as_str) {
            Some(found) if found == sub => Ok(Some(claims)),
            found => Err(RpError::UserinfoSubMismatch {
                id_token_sub: sub.to_string(),
                userinfo_sub: found.unwrap_or("(missing)").to_string(),
            }),
        }
    }

    /// Groups and role from the ID token's claims; the outcome's claims completed by userinfo.
    fn outcome(
        &self,
        id_claims: &Map<String, Value>,
        userinfo: Option<Map<String, Value>>,
    ) -> Result<LoginOutcome, RpError> {
        let groups = resolve_groups(&Value::Object(id_claims.clone()), &self.config.groups_claim)?;
        let role = map_role(
            &groups,
            &self.config.role_mappings,
            self.config.default_role.as_ref(),
        )?;
        let mut claims = id_claims.clone();
        for (key, value) in userinfo.into_iter().flatten() {
            claims.entry(key).or_insert(value);
        }
        Ok(LoginOutcome {
            sub: claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            email: claims
                .get("email")
                .and_then(Value::as_str)
                .map(str::to_string),
            groups,
            role,
            claims,
        })
    }
}
