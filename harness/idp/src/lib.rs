//! An embedded OpenID Connect provider that behaves like Keycloak 26, and like Okta, Auth0,
//! Entra ID, Google and Cognito through vendor personas: an in-process IdP for tests.
//!
//! Use it from another project's tests as a `[dev-dependencies]` entry; one line starts a
//! server on an ephemeral loopback port, dropped with the handle:
//!
//! ```no_run
//! # async fn demo() -> Result<(), ssoproof_idp::IdpError> {
//! let idp = ssoproof_idp::Emulator::keycloak().await?;
//! let okta = ssoproof_idp::Emulator::persona(ssoproof_idp::Vendor::Okta).await?;
//! # Ok(()) }
//! ```
//!
//! [`Emulator::start`] serves a [`Realm`] read from a Keycloak realm export, over HTTP (or HTTPS
//! with [`IdpOptions::tls`], which the clouds' STSes require of an issuer), on an ephemeral
//! loopback port by default. It starts in milliseconds (RSA keys come from a pool of
//! test keys) and answers at Keycloak's URLs, with Keycloak's token shapes, error codes and
//! messages, so that a relying party and the runbooks that configure it can be tested without a
//! Keycloak container. `ssoproof serve idp` runs one standalone.
//!
//! # Endpoints
//!
//! Under `<base>/realms/<realm>` (the issuer, no trailing slash):
//!
//! | path | what |
//! |---|---|
//! | `/.well-known/openid-configuration` | discovery |
//! | `/protocol/openid-connect/certs` | JWKS: the current key and those retired within the overlap |
//! | `/protocol/openid-connect/auth` | authorization (code flow, PKCE S256), then the login form |
//! | `/login-actions/authenticate`, `/login-actions/consent` | the login and consent forms' targets |
//! | `/protocol/openid-connect/token` | `authorization_code`, `refresh_token`, `password` and `client_credentials` grants |
//! | `/protocol/openid-connect/userinfo` | userinfo (Bearer access token) |
//! | `/protocol/openid-connect/logout` | RP-initiated logout; back-channel with a refresh token |
//! | `/protocol/saml/descriptor` | SAML IdP metadata (entity ID: the issuer) |
//! | `/protocol/saml` | SAML SSO and single logout: an AuthnRequest or LogoutRequest on HTTP-Redirect (`GET`) or HTTP-POST |
//! | `/protocol/saml/clients/<name>` | IdP-initiated SAML login for the client whose `saml_idp_initiated_sso_url_name` is `<name>` |
//!
//! The SAML endpoints serve the export's `"protocol": "saml"` clients; see the `saml` module
//! (and [`SamlFault`]) for what they reproduce of Keycloak.
//!
//! # Where it differs from Keycloak
//!
//! - No single-sign-on cookie: every authorization request shows the login form, and
//!   `prompt=none` always answers `login_required`.
//! - `scope` must contain `openid` (Keycloak would serve a plain OAuth request), and PKCE `plain`
//!   is always refused (Keycloak refuses it only when the client enforces S256).
//! - Only the code flow: implicit and hybrid `response_type`s are refused as Keycloak refuses them
//!   for a client with the implicit flow off; JARM response modes are refused.
//! - Roles are not imported; every user holds Keycloak's default roles plus the export's
//!   `realmRoles`. Access tokens name no `account` audience (Keycloak 26 gives imported users no
//!   `account` client roles either); an `oidc-audience-mapper` names an API's audience
//!   (`included.custom.audience`), as the fixture realm's `api-gateway` client does. Offline
//!   tokens, token exchange, introspection and custom authentication flows are not emulated;
//!   the realm import names each such feature it meets ([`Realm::warnings`]).
//! - Userinfo answers only for access tokens the token endpoint issued. One a fault aimed at
//!   access tokens broke is refused (`invalid_token`, `Token verification failed`) where
//!   Keycloak's verification would refuse it — signature, `kid`, `iss`, `sub`, `exp`/`nbf`,
//!   `azp` — and still answered for a changed `aud` or `iat`, which Keycloak does not check.
//!   Minted tokens ([`Emulator::mint`]) are never answered for.
//! - The `client_credentials` grant serves confidential clients with `serviceAccountsEnabled`
//!   as Keycloak 26 does (a transient session: no `sid`, no refresh token; an ID token only
//!   with `scope=openid`). The service account is the export's `service-account-<clientId>`
//!   user when there is one, else one holding the realm's default roles; its access token has
//!   no `resource_access` and no `aud: account` (client roles are not emulated), and userinfo
//!   does not answer it. `use.refresh.tokens.for.client.credentials.grant` is not emulated.
//! - Identity brokering is emulated for `google` and `oidc` identity providers with
//!   `oidc-hardcoded-group-idp-mapper` mappers and `defaultGroups`: the login page's
//!   `social-<alias>` link or `kc_idp_hint=<alias>` leads to the upstream (a persona started
//!   alongside, named in [`IdpOptions::upstreams`]), `/realms/<realm>/broker/<alias>/endpoint`
//!   takes its answer. The first broker login stops at "Account already exists" when a local
//!   user has the e-mail address; the linking that would follow is not emulated.
//!
//! # Personas
//!
//! [`Realm::from_persona`] reads an Okta, Auth0, Entra ID, Google or Cognito persona instead of
//! a realm export; the emulator then answers at that vendor's paths, with its issuers, claims and
//! errors. See [`persona`] for what each vendor reproduces and the documents behind the shapes.
//! - The `iss` authorization-response parameter (RFC 9207) is sent by personas only when
//!   [`IdpOptions::iss_parameter`] is `Some(true)`; a Keycloak realm sends it unless it is
//!   `Some(false)`.
//!
//! # Faults
//!
//! [`Emulator::inject`] makes the tokens misbehave in one of the ways listed on [`Fault`]; a fault
//! stays active until [`Emulator::clear_faults`]. Claim and signature faults break ID tokens;
//! [`Emulator::inject_for`] aims them at access tokens or both ([`FaultTokens`]), for testing
//! resource servers.
//!
//! [`Emulator::mint`] makes one token with any claims, header, key and algorithm, starting from
//! what the token endpoint would issue for a user (see [`MintRequest`]); [`Emulator::public_key_pem`]
//! gives the current public key for key-confusion tokens.
//!
//! # Admin API
//!
//! The same control surface, over HTTP under `<base>/_ssoproof/`. Only loopback peers may call
//! it; any other peer gets `403`. Errors are `{"error": "<code>", "message": "…"}`.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /_ssoproof/state` | | `{"issuer", "faults": [{"fault", "tokens" unless "id"}…], "current_kid", "current_public_key_pem", "published_kids": […], "jwks_fetch_count"}` |
//! | `POST /_ssoproof/faults` | a [`Fault`], e.g. `{"fault": "wrong_issuer"}`, `{"fault": "jwks_slow", "millis": 3000}`, with the tokens it breaks beside it ([`FaultTokens`], default `id`): `{"fault": "alg_none", "tokens": "access"}` | `204`, or `400` `idp/fault-tokens` for a fault that cannot break an access token |
//! | `DELETE /_ssoproof/faults` | | `204`; every fault cleared |
//! | `POST /_ssoproof/saml/faults` | a [`SamlFault`], e.g. `{"fault": "xsw_evil_before"}` | `204` |
//! | `DELETE /_ssoproof/saml/faults` | | `204`; every SAML fault cleared |
//! | `POST /_ssoproof/keys/rotate` | | `{"kid": "<the new current kid>"}` |
//! | `POST /_ssoproof/users/{username}/enabled` | `{"enabled": false}` | `204`, or `404` `idp/unknown-user` |
//! | `POST /_ssoproof/users` | a [`NewUser`], e.g. `{"username": "zoe", "password": "zoe-password", "groups": ["/acme/admins"]}` | `201` `{"id", "username"}`; `400` `idp/invalid-user` (empty username or password), `404` `idp/unknown-group`, `409` `idp/user-exists` (the username, or the e-mail address, is taken) or `idp/persona` (a persona's users come from its file) |
//! | `POST /_ssoproof/groups` | `{"path": "/AI-Power-Users"}` (a subgroup: `/acme/AI-Power-Users`) | `201` `{"path"}`; `400` `idp/invalid-group`, `404` `idp/unknown-group` (the parent), `409` `idp/group-exists` or `idp/persona` |
//! | `POST /_ssoproof/users/{username}/groups` | `{"group": "/acme/admins"}` (a persona: the group name) | `204` (a member already: unchanged), or `404` `idp/unknown-user` / `idp/unknown-group` |
//! | `DELETE /_ssoproof/users/{username}/groups` | `{"group": "/acme/admins"}` | `204` (not a member: unchanged), or `404` `idp/unknown-user` / `idp/unknown-group` |
//! | `PUT /_ssoproof/clients/{client_id}/pkce` | `{"method": "S256"}` (enforced) or `{"method": null}` (optional) | `204`; `400` `idp/pkce-method` for `plain` (refused on every client) or another method, `404` `idp/unknown-client`. Personas keep their vendor's PKCE setting in the same place |
//! | `PUT /_ssoproof/clients/{client_id}/group-mapper/full-path` | `{"value": "true"}`, `{"value": "false"}` or `{"value": null}` (removes the key) | `204`, or `404` `idp/unknown-client` / `idp/no-group-mapper` |
//! | `DELETE /_ssoproof/clients/{client_id}/mappers/{mapper_name}` | | `204`, or `404` `idp/unknown-client` / `idp/unknown-mapper` |
//! | `POST /_ssoproof/persona` | a [`PersonaEdit`], e.g. `{"edit": "entra_group_membership_claims", "value": "SecurityGroup"}` | `204`, or `409` `idp/persona` when the persona cannot apply it |
//! | `POST /_ssoproof/clock` | `{"seconds": 31}` | `204`; refresh-token grace periods see the time pass |
//! | `POST /_ssoproof/tokens` | a [`MintRequest`], e.g. `{"token": "id", "username": "alice", "header": {"kid": "x"}, "signing": {"hs256": "k"}}` | `200` `{"token", "header", "claims"}` ([`Minted`]), or `404` `idp/unknown-user` / `idp/unknown-client`, or `409` `idp/opaque-access-token` |
//! | `GET /_ssoproof/scim/v2/Users?filter=userName eq "alice"` | | a SCIM ListResponse of the realm's users (only `userName eq` filters) |
//! | `PATCH /_ssoproof/scim/v2/Users/{id}` | a SCIM PatchOp setting `active` (RFC, Entra ID or Okta shape) | `200` with the User; `active: false` disables the user |
//!
//! A body that is not the expected JSON is `400` `admin/invalid-body`.

mod admin;
mod builtin;
mod directory;
mod endpoints;
mod faults;
mod keys;
mod mappers;
mod mint;
mod pages;
pub mod persona;
mod realm;
mod redirect;
mod saml;
mod state;
mod tokens;

#[cfg(test)]
mod tests;

use std::fmt::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ssoproof_server::tls::serve_tls;
use ssoproof_server::ServerHandle;

pub use directory::NewUser;
pub use faults::{Fault, FaultTokens};
pub use mint::{MintRequest, Minted, Signing, TokenKind};
pub use persona::{
    FilterType, GroupFilter, Persona, PersonaEdit, PersonaError, PersonaFile, Vendor,
};
pub use realm::{
    Client, ClientScope, FederatedIdentity, Group, IdentityProvider, IdentityProviderMapper,
    ProtocolMapper, Realm, RealmError, RealmWarning, SamlClient, TokenSettings, User,
};
pub use saml::SamlFault;
use state::Shared;

/// The algorithm ID and access tokens are signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SigningAlg {
    /// Keycloak's default.
    #[default]
    Rs256,
    Es256,
    /// Ed25519.
    EdDsa,
}

impl SigningAlg {
    /// The JOSE name: `RS256`, `ES256`, `EdDSA`.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
            SigningAlg::EdDsa => "EdDSA",
        }
    }

    fn jwt_algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlg::Rs256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::Es256 => jsonwebtoken::Algorithm::ES256,
            SigningAlg::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlg {
    type Err = String;

    /// `rs256`, `es256` or `eddsa`, in any case.
    fn from_str(text: &str) -> Result<SigningAlg, String> {
        match text.to_ascii_lowercase().as_str() {
            "rs256" => Ok(SigningAlg::Rs256),
            "es256" => Ok(SigningAlg::Es256),
            "eddsa" => Ok(SigningAlg::EdDsa),
            _ => Err(format!(
                "unknown signing algorithm `{text}`; use rs256, es256 or eddsa"
            )),
        }
    }
}

/// How a Keycloak realm's login page is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginPage {
    /// Keycloak's HTML form, posted by the browser.
    #[default]
    Form,
    /// An empty `<div>` that an inline script fills with an identifier-first form (username,
    /// Next, then password), posted with `fetch` and answered with JSON, as the Okta sign-in
    /// widget does: only a driver that runs scripts can sign in.
    Script,
}

impl LoginPage {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginPage::Form => "form",
            LoginPage::Script => "script",
        }
    }
}

impl fmt::Display for LoginPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LoginPage {
    type Err = String;

    fn from_str(text: &str) -> Result<LoginPage, String> {
        match text {
            "form" => Ok(LoginPage::Form),
            "script" => Ok(LoginPage::Script),
            _ => Err(format!("unknown login page `{text}`; use form or script")),
        }
    }
}

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct IdpOptions {
    /// How a Keycloak realm serves its login page (default: the HTML form).
    pub login_page: LoginPage,
    /// Where to listen (default `127.0.0.1:0`: an ephemeral loopback port).
    pub bind: SocketAddr,
    pub signing: SigningAlg,
    /// Send the RFC 9207 `iss` parameter with authorization responses, and advertise it:
    /// `None` does what the vendor does by default — Keycloak sends it (checked against Keycloak
    /// 26.7: on success and on error redirects, unless the client sets
    /// `exclude.issuer.from.auth.response`), the personas do not.
    pub iss_parameter: Option<bool>,
    /// How long a rotated-out key stays in the JWKS (default 10 minutes). An authentik persona
    /// ignores it: authentik lists only the selected key.
    pub key_overlap: Duration,
    /// Serve HTTPS with this configuration (its certificate must name the address clients use,
    /// e.g. `127.0.0.1` from [`ssoproof_server::tls::LocalCa::issue_server_cert`]); the issuer becomes
    /// `https://…`. `None` (the default) serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The issuer of each identity provider the realm brokers to, by alias, for providers
    /// whose export names none (`providerId: google` points at accounts.google.com in
    /// Keycloak; here it points at a Google persona).
    pub upstreams: Vec<(String, String)>,
}

impl IdpOptions {
    /// Whether a Keycloak realm sends `iss`.
    pub(crate) fn realm_sends_iss(&self) -> bool {
        self.iss_parameter.unwrap_or(true)
    }

    /// Whether a vendor persona sends `iss`.
    pub(crate) fn persona_sends_iss(&self) -> bool {
        self.iss_parameter.unwrap_or(false)
    }
}

impl Default for IdpOptions {
    fn default() -> Self {
        IdpOptions {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            signing: SigningAlg::Rs256,
            login_page: LoginPage::Form,
            iss_parameter: None,
            key_overlap: Duration::from_secs(600),
            tls: None,
            upstreams: Vec::new(),
        }
    }
}

/// Why the emulator could not start, or could not do what its control surface was asked.
#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    #[error("cannot listen on {addr}: {source}; choose another port or address")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the realm has no user \"{0}\"")]
    UnknownUser(String),
    #[error("the realm has no client \"{0}\"")]
    UnknownClient(String),
    #[error("client \"{client_id}\" has no protocol mapper named \"{mapper}\" of its own")]
    UnknownMapper { client_id: String, mapper: String },
    #[error("client \"{0}\" has no oidc-group-membership-mapper of its own")]
    NoGroupMapper(String),
    #[error("the realm has no group \"{0}\"")]
    UnknownGroup(String),
    #[error("the realm has no identity provider \"{alias}\" with a mapper \"{mapper}\"")]
    UnknownIdpMapper { alias: String, mapper: String },
    #[error("the {} persona's access tokens are opaque strings, not JWTs, so none can be minted; mint an ID token (\"token\": \"id\") or use a Keycloak realm", .vendor.product())]
    OpaqueAccessToken { vendor: Vendor },
    #[error("the fault \"{0}\" cannot break an access token: it is about the nonce or at_hash of an ID token, a refresh, userinfo, discovery, the JWKS, the clock or the authorization response; leave out \"tokens\" (or set it to \"id\")")]
    FaultTokens(String),
    #[error("cannot edit the persona: {0}")]
    Persona(String),
    #[error("the {vendor} persona signs as {vendor} does, with the RS256 its discovery document advertises; {alg} tokens would be signed with an algorithm discovery does not list. Drop --signing for a persona (a Keycloak realm serves {alg})", vendor = .vendor.product())]
    PersonaSigning {
        vendor: persona::Vendor,
        alg: SigningAlg,
    },
    #[error("the {vendor} persona serves its vendor's own login pages; the script-built login page is a Keycloak realm's. Drop --login-page script for a persona, or serve a realm", vendor = .vendor.product())]
    PersonaLoginPage { vendor: persona::Vendor },
    #[error("the realm already has a user {0}")]
    UserExists(String),
    #[error("cannot add the user: {0}")]
    InvalidUser(String),
    #[error("the realm already has a group \"{0}\"")]
    GroupExists(String),
    #[error("cannot add the group: {0}")]
    InvalidGroup(String),
    #[error("PKCE method \"{0}\" cannot be enforced: the emulator enforces S256 or nothing (null); it refuses `plain` on every client, where Keycloak would accept it")]
    PkceMethod(String),
    #[error("the realm has no identity provider \"{alias}\" to serve an upstream for; {}", known_aliases(.known))]
    UnknownUpstream {
        alias: String,
        /// The aliases of the realm's `identityProviders`.
        known: Vec<String>,
    },
}

fn known_aliases(known: &[String]) -> String {
    if known.is_empty() {
        "it has no `identityProviders` at all".into()
    } else {
        let quoted: Vec<String> = known.iter().map(|a| format!("\"{a}\"")).collect();
        format!("its identity providers are {}", quoted.join(", "))
    }
}

/// Whether `alias` names an identity provider of `realm`, so that an upstream given for it
/// (`--upstream ALIAS=FILE`, [`IdpOptions::upstreams`]) would ever be used.
pub fn check_upstream(realm: &Realm, alias: &str) -> Result<(), IdpError> {
    if realm.identity_provider(alias).is_some() {
        return Ok(());
    }
    Err(IdpError::UnknownUpstream {
        alias: alias.to_string(),
        known: realm
            .identity_providers
            .iter()
            .map(|p| p.alias.clone())
            .collect(),
    })
}

impl IdpError {
    pub fn code(&self) -> &'static str {
        match self {
            IdpError::Bind { .. } => "idp/bind",
            IdpError::UnknownUser(_) => "idp/unknown-user",
            IdpError::UnknownClient(_) => "idp/unknown-client",
            IdpError::UnknownMapper { .. } => "idp/unknown-mapper",
            IdpError::NoGroupMapper(_) => "idp/no-group-mapper",
            IdpError::UnknownGroup(_) => "idp/unknown-group",
            IdpError::UnknownIdpMapper { .. } => "idp/unknown-idp-mapper",
            IdpError::OpaqueAccessToken { .. } => "idp/opaque-access-token",
            IdpError::FaultTokens(_) => "idp/fault-tokens",
            IdpError::Persona(_) => "idp/persona",
            IdpError::PersonaSigning { .. } => "idp/persona-signing",
            IdpError::PersonaLoginPage { .. } => "idp/persona-login-page",
            IdpError::UnknownUpstream { .. } => "idp/unknown-upstream",
            IdpError::UserExists(_) => "idp/user-exists",
            IdpError::InvalidUser(_) => "idp/invalid-user",
            IdpError::GroupExists(_) => "idp/group-exists",
            IdpError::InvalidGroup(_) => "idp/invalid-group",
            IdpError::PkceMethod(_) => "idp/pkce-method",
        }
    }
}

/// A running emulator. Dropping it shuts the server down.
pub struct Emulator {
    shared: Arc<Shared>,
    _server: ServerHandle,
}

impl Emulator {
    /// Binds, then serves in the background on the current tokio runtime.
    pub async fn start(realm: Realm, options: IdpOptions) -> Result<Emulator, IdpError> {
        // Every persona's discovery advertises RS256 for ID tokens, as its vendor's does (Auth0's
        // per-application HS256 is a persona setting, not this option): another algorithm would
        // sign what discovery does not list.
        if let Some(persona) = &realm.persona {
            if options.signing != SigningAlg::Rs256 {
                return Err(IdpError::PersonaSigning {
                    vendor: persona.vendor(),
                    alg: options.signing,
                });
            }
            if options.login_page != LoginPage::Form {
                return Err(IdpError::PersonaLoginPage {
                    vendor: persona.vendor(),
                });
            }
        }
        // An upstream nothing would ever use is a mistake, never silently ignored.
        for (alias, _) in &options.upstreams {
            check_upstream(&realm, alias)?;
        }
        let addr = options.bind;
        let bind_error = |source| IdpError::Bind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let tls = options.tls.clone();
        let shared = Arc::new(Shared::new(realm, options, base_url(local, tls.is_some())));
        let app = endpoints::router(shared.clone()).merge(admin::router(shared.clone()));
        let server = match tls {
            None => ServerHandle::spawn(listener, app),
            Some(config) => serve_tls(listener, app, config),
        }
        .map_err(bind_error)?;
        Ok(Emulator {
            shared,
            _server: server,
        })
    }

    /// The primary issuer: `http(s)://127.0.0.1:<port>/realms/<realm>` for a Keycloak realm, the
    /// vendor's shape for a persona (Okta's first custom authorization server, Auth0's with its
    /// trailing slash, Entra's tenant v2.0 issuer, …).
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// Every issuer served, by its key: `""` for single-issuer realms; Okta: `org` and each
    /// custom authorization server's id; Entra: `tenant`, `common`, `organizations`, `v1`. Each is
    /// the issuer an application would be configured with to reach that discovery document:
    /// the advertised issuer where discovery lives under it, else the discovery document's
    /// location (Entra's `/common/v2.0`, whose document advertises the `{tenantid}` template).
    pub fn issuers(&self) -> Vec<(String, String)> {
        const WELL_KNOWN: &str = "/.well-known/openid-configuration";
        self.shared
            .servers
            .iter()
            .map(|s| {
                let location = format!(
                    "{}{}",
                    self.shared.base_url,
                    s.discovery.strip_suffix(WELL_KNOWN).unwrap_or(&s.discovery)
                );
                let issuer = if s.issuer.trim_end_matches('/') == location {
                    s.issuer.clone()
                } else {
                    location
                };
                (s.id.clone(), issuer)
            })
            .collect()
    }

    /// The vendor impersonated; `None` for a Keycloak realm.
    pub fn vendor(&self) -> Option<Vendor> {
        self.shared.realm().persona.as_ref().map(Persona::vendor)
    }

    /// Applies a change to the persona, as its admin console would.
    pub fn edit_persona(&self, edit: &PersonaEdit) -> Result<(), IdpError> {
        self.shared.edit_persona(edit)
    }

    /// Moves the clock refresh-token grace periods are measured with forward by `seconds`
    /// (other lifetimes keep the real clock).
    pub fn advance_clock(&self, seconds: i64) {
        self.shared.advance_clock(seconds);
    }

    /// Adds a user to a group (a full path for a Keycloak realm, a name for a persona); it
    /// takes effect at the user's next login.
    pub fn add_user_to_group(&self, username: &str, group: &str) -> Result<(), IdpError> {
        self.shared.add_user_to_group(username, group)
    }

    /// Adds a user to a Keycloak realm (a persona's users come from its file: `idp/persona`);
    /// returns its id, the `sub` of its tokens.
    pub fn add_user(&self, user: &NewUser) -> Result<String, IdpError> {
        self.shared.add_user(user)
    }

    /// Adds a group to a Keycloak realm by its full path (`/acme/AI-Power-Users`); the parent
    /// must exist.
    pub fn add_group(&self, path: &str) -> Result<(), IdpError> {
        self.shared.add_group(path)
    }

    /// Takes a user out of a group; it takes effect at the user's next login.
    pub fn remove_user_from_group(&self, username: &str, group: &str) -> Result<(), IdpError> {
        self.shared.remove_user_from_group(username, group)
    }

    /// Makes a client enforce PKCE S256 (`Some("S256")`, Keycloak's client attribute
    /// `pkce.code.challenge.method`) or makes PKCE optional (`None`). `plain` is refused
    /// (`idp/pkce-method`): the emulator never accepts the plain method.
    pub fn set_client_pkce(&self, client_id: &str, method: Option<&str>) -> Result<(), IdpError> {
        self.shared.set_client_pkce(client_id, method)
    }

    /// Sets the sync mode of an identity provider's mapper (`IMPORT`, `FORCE`, `LEGACY`),
    /// adding it back if it was removed earlier; or removes the mapper (`None`).
    pub fn set_identity_provider_mapper(
        &self,
        alias: &str,
        mapper: &str,
        sync_mode: Option<&str>,
    ) -> Result<(), IdpError> {
        let mut realm = self.shared.realm_mut();
        let unknown = || IdpError::UnknownIdpMapper {
            alias: alias.to_string(),
            mapper: mapper.to_string(),
        };
        let provider = realm
            .identity_providers
            .iter_mut()
            .find(|p| p.alias == alias)
            .ok_or_else(unknown)?;
        let mut removed = state::lock(&self.shared.removed_idp_mappers);
        if !provider.mappers.iter().any(|m| m.name == mapper) {
            let stashed = removed
                .iter()
                .position(|(a, m)| a == alias && m.name == mapper)
                .ok_or_else(unknown)?;
            if sync_mode.is_none() {
                return Ok(());
            }
            provider.mappers.push(removed.remove(stashed).1);
        }
        let index = provider
            .mappers
            .iter()
            .position(|m| m.name == mapper)
            .ok_or_else(unknown)?;
        match sync_mode {
            Some(mode) => {
                provider.mappers[index]
                    .config
                    .insert("syncMode".into(), mode.to_string());
            }
            None => {
                removed.push((alias.to_string(), provider.mappers.remove(index)));
            }
        }
        Ok(())
    }

    /// Deletes a user (a brokered user is then created anew at the next broker login).
    pub fn delete_user(&self, username: &str) -> Result<(), IdpError> {
        let mut realm = self.shared.realm_mut();
        let wanted = username.to_lowercase();
        let before = realm.users.len();
        realm.users.retain(|u| u.username != wanted);
        if realm.users.len() == before {
            return Err(IdpError::UnknownUser(username.to_string()));
        }
        Ok(())
    }

    /// The `sub` the client sees for a user: the user id, except for vendors with pairwise
    /// subjects (Entra).
    pub fn subject(&self, username: &str, client_id: &str) -> Option<String> {
        let realm = self.shared.realm();
        let user = realm.user(username)?;
        match (&realm.persona, realm.client(client_id)) {
            (Some(persona), Some(client)) => Some(persona.dialect().sub(client, user)),
            _ => Some(user.id.clone()),
        }
    }

    /// A user's password as the realm holds it (for the scenarios, which sign users in).
    pub fn password(&self, username: &str) -> Option<ssoproof_secret::Secret> {
        self.shared.realm().user(username)?.password.clone()
    }

    /// The usernames of the realm, as stored (lower-case).
    pub fn usernames(&self) -> Vec<String> {
        self.shared
            .realm()
            .users
            .iter()
            .map(|u| u.username.clone())
            .collect()
    }

    /// The client ids of the realm, in file order.
    pub fn client_ids(&self) -> Vec<String> {
        self.shared
            .realm()
            .clients
            .iter()
            .map(|c| c.client_id.clone())
            .collect()
    }

    /// A client's secret, for scenarios that configure the application from the realm.
    pub fn client_secret(&self, client_id: &str) -> Option<ssoproof_secret::Secret> {
        self.shared.realm().client(client_id)?.secret.clone()
    }

    /// `http(s)://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn realm_name(&self) -> String {
        self.shared.realm().name.clone()
    }

    /// Activates a fault until [`Emulator::clear_faults`]; a claim or signature fault breaks ID
    /// tokens (see [`Emulator::inject_for`]).
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.inject(faults::AimedFault {
            fault,
            tokens: FaultTokens::Id,
        });
    }

    /// Activates a claim or signature fault for access tokens, ID tokens or both, until
    /// [`Emulator::clear_faults`]; a fault that cannot break an access token (the nonce, `at_hash`,
    /// refresh, userinfo, discovery, JWKS, clock and `iss`-parameter faults) is refused for
    /// [`FaultTokens::Access`] and [`FaultTokens::Both`] (`idp/fault-tokens`).
    pub fn inject_for(&self, fault: Fault, tokens: FaultTokens) -> Result<(), IdpError> {
        self.shared
            .faults
            .inject(faults::AimedFault::new(fault, tokens)?);
        Ok(())
    }

    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Activates a SAML fault until [`Emulator::clear_saml_faults`]: every Response the SAML
    /// endpoints send misbehaves that way (several faults combine).
    pub fn inject_saml(&self, fault: SamlFault) {
        self.shared.saml.inject(fault);
    }

    pub fn clear_saml_faults(&self) {
        self.shared.saml.clear();
    }

    /// The SAML signing certificate (PEM), as `/protocol/saml/descriptor` publishes it.
    pub fn saml_certificate_pem(&self) -> String {
        saml::certificate_pem()
    }

    /// Makes a new signing key current and returns its `kid`; the previous key stays in the
    /// JWKS for [`IdpOptions::key_overlap`] (an authentik persona drops it at once).
    pub fn rotate_keys(&self) -> String {
        self.shared.rotate_keys()
    }

    pub fn current_kid(&self) -> String {
        self.shared.current_key().kid.clone()
    }

    /// The current signing key's public half as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as an
    /// application configured with a PEM file would hold it; the HMAC key of a key-confusion
    /// test ([`Signing::Hs256`]).
    pub fn public_key_pem(&self) -> String {
        self.shared.current_key().public_pem.clone()
    }

    /// A token with the claims, header and signature `request` asks for; see [`MintRequest`].
    pub fn mint(&self, request: &MintRequest) -> Result<Minted, IdpError> {
        mint::mint(&self.shared, request)
    }

    /// How many requests the certs endpoint has answered (faulty answers included).
    pub fn jwks_fetch_count(&self) -> usize {
        self.shared.jwks_fetch_count()
    }

    /// Enables or disables a user; a disabled user cannot log in, refresh or call userinfo.
    pub fn set_user_enabled(&self, username: &str, enabled: bool) -> Result<(), IdpError> {
        self.shared.set_user_enabled(username, enabled)
    }

    /// Sets (`Some`) or removes (`None`) the `full.path` config of the client's own
    /// group-membership mapper(s). Only exactly `"true"` gives full paths.
    pub fn set_group_mapper_full_path(
        &self,
        client_id: &str,
        value: Option<&str>,
    ) -> Result<(), IdpError> {
        self.shared.set_group_mapper_full_path(client_id, value)
    }

    /// Removes one of the client's own protocol mappers (not one of a client scope).
    pub fn remove_protocol_mapper(
        &self,
        client_id: &str,
        mapper_name: &str,
    ) -> Result<(), IdpError> {
        self.shared.remove_protocol_mapper(client_id, mapper_name)
    }

    /// The Keycloak user id (the `sub`) of a user.
    pub fn user_id(&self, username: &str) -> Option<String> {
        self.shared.realm().user(username).map(|u| u.id.clone())
    }
}

/// The URL a client reaches the listener at: an unspecified bind address is reached on loopback.
fn base_url(local: SocketAddr, https: bool) -> String {
    let ip = match local.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{}", SocketAddr::new(ip, local.port()))
}

/// What `ssoproof serve idp` prints: where to point a client, and who can log in. Never a
/// password or a secret.
pub fn serve_summary(emulator: &Emulator) -> String {
    let shared = &emulator.shared;
    let realm = shared.realm();
    let mut out = String::new();
    match &realm.persona {
        None => {
            let _ = writeln!(out, "Keycloak emulator serving realm \"{}\"", realm.name);
            let _ = writeln!(out, "  issuer     {}", shared.issuer);
            let _ = writeln!(
                out,
                "  discovery  {}/.well-known/openid-configuration",
                shared.issuer
            );
            if !realm.saml_clients.is_empty() {
                let _ = writeln!(
                    out,
                    "  SAML       {}/protocol/saml/descriptor",
                    shared.issuer
                );
            }
        }
        Some(persona) => {
            let _ = writeln!(
                out,
                "{} persona from {}",
                persona.vendor().product(),
                realm.source.display()
            );
            for line in persona.dialect().summary() {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "  issuer     {}", shared.issuer);
            for server in &shared.servers {
                let label = if server.id.is_empty() {
                    "discovery"
                } else {
                    server.id.as_str()
                };
                let _ = writeln!(
                    out,
                    "  {label:<10} {}{}{}",
                    shared.base_url,
                    server.discovery,
                    if server.issuer == shared.issuer || server.id.is_empty() {
                        String::new()
                    } else {
                        format!("  (issuer {})", server.issuer)
                    }
                );
            }
            for idp in persona.dialect().saml_idps(&shared.base_url) {
                let _ = writeln!(
                    out,
                    "  SAML       {}  (entity ID {})",
                    idp.metadata_url, idp.entity_id
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "  admin API  {}/_ssoproof/ (loopback only)",
        shared.base_url
    );
    let _ = writeln!(
        out,
        "  signing    {} (kid {})",
        shared.options.signing,
        shared.current_key().kid
    );
    let _ = writeln!(out, "clients");
    for client in &realm.clients {
        let kind = if client.public_client {
            "public"
        } else {
            "confidential"
        };
        let _ = writeln!(
            out,
            "  {:<20} {:<13}redirect URIs: {}",
            client.client_id,
            kind,
            if client.redirect_uris.is_empty() {
                "(none)".to_string()
            } else {
                client.redirect_uris.join(", ")
            }
        );
    }
    if !realm.saml_clients.is_empty() {
        let _ = writeln!(out, "SAML clients");
        for client in &realm.saml_clients {
            let _ = writeln!(
                out,
                "  {}  ACS: {}  redirect URIs: {}",
                client.client_id,
                client.acs_post().unwrap_or("(from the AuthnRequest)"),
                if client.redirect_uris.is_empty() {
                    "(none)".to_string()
                } else {
                    client.redirect_uris.join(", ")
                }
            );
        }
    }
    let _ = writeln!(out, "users");
    for user in &realm.users {
        let groups = if user.groups.is_empty() {
            "(no group)".to_string()
        } else {
            user.groups.join(", ")
        };
        let state = if user.enabled { "enabled" } else { "disabled" };
        let _ = writeln!(out, "  {:<20} {:<9} {groups}", user.username, state);
    }
    if !realm.warnings.is_empty() {
        let _ = writeln!(out, "warnings");
        for warning in &realm.warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    out
}
