//! Vendor personas: the emulator impersonating Okta, Auth0, Microsoft Entra ID, Google, Amazon
//! Cognito and authentik, each configured from a YAML file under `fixtures/idp/` written in the
//! vendor's own concepts.
//!
//! A persona file loads into a [`Realm`] ([`Realm::from_persona`]) whose users, groups and
//! clients are the vendor-neutral model the endpoints share (password login, redirect-URI
//! matching, codes, PKCE, sessions, refresh tokens, faults), plus a *dialect* that decides
//! everything the vendor does its own way: the URL layout and issuers, the discovery document,
//! which scopes exist, who may sign in to which application, the `sub` shape, the claims of the
//! ID token, the access token and userinfo, the token response, the refresh-token policy, and
//! the wording of every error the runbooks quote. `Emulator::start` serves either kind of realm.
//!
//! Everything served lives on the emulator's own `http://127.0.0.1:<port>` base: each vendor's
//! host becomes that base and its path shape is kept, trailing slashes included.
//!
//! # Where each shape comes from
//!
//! | vendor | document the shapes follow |
//! |---|---|
//! | Okta | Okta developer docs: "OpenID Connect & OAuth 2.0 API" (`/.well-known/openid-configuration`, `/v1/authorize`, `/v1/token`, `/v1/userinfo`, `/v1/keys` for the org and custom authorization servers), "ID token" and "Access token" payload references (`ver`, `jti` `ID.`/`AT.`, `amr`, `idp`, `cid`, `uid`, `scp`), "Customize tokens returned from Okta with a Groups claim" (filters STARTS_WITH, EQUALS, CONTAINS, REGEX; the org server's claim only in the ID token and only with the `groups` scope), "Refresh token rotation" (reuse detection, 0–60 s grace period, default 30 s), error texts as Okta returns them ("User is not assigned to the client application.", "One or more scopes are not configured for the authorization server resource.", "The client secret supplied for a confidential client is invalid.") |
//! | Auth0 | Auth0 docs: "Locate JSON Web Key Sets" / tenant discovery (`/.well-known/openid-configuration`, `/authorize`, `/oauth/token`, `/userinfo`, `/.well-known/jwks.json`), "ID Token Structure" and "User Profile Structure" (`nickname`, `name`, `picture`, `updated_at`, `email_verified`, `sid`), "Create Custom Claims" (restricted claim names are silently dropped), "Refresh Token Rotation" (reuse interval, family revocation), "Block and Unblock Users" (`unauthorized` / `user is blocked`), the `access_denied` / `Unauthorized` answer of `/oauth/token` to a wrong secret, "Get Access Tokens" and "Access Token Profiles" (an `audience` naming one of the tenant's `apis` gets a JWT access token with `aud` [API, `<issuer>userinfo`], `azp`, `scope`; an unknown one `access_denied` / `Service not found: <audience>`; none gets the encrypted token) |
//! | Entra ID | Microsoft identity platform docs: "OpenID Connect on the Microsoft identity platform" (tenant and `/common` v2.0 discovery documents, the `{tenantid}` issuer template, the Graph userinfo endpoint), "ID token claims reference" (v2.0: `aio`, `oid`, `tid`, `rh`, `uti`, `ver`, pairwise `sub`), "Configure group claims" and "Access token claims reference" (`groups` as object ids, the overage marker `_claim_names` / `_claim_sources` above 200 groups), "Optional claims reference" (`email`), the AADSTS error reference (50011, 50020, 50057, 50105, 700016, 7000215, 7000222, 28000, 500011), "Expose an API" and "Access tokens" (a scope `<Application ID URI or app id>/.default` or `/<scope>` gets an access token for that app registration's API, v1.0 or v2.0 as its `requested_access_token_version` says, with its `groupMembershipClaims`; one resource per token) |
//! | Google | Google Identity docs: "OpenID Connect" (the discovery document at `accounts.google.com`, the ID token claim set with `hd`, `azp`, `at_hash`, `email_verified`, `name`, `picture`, `given_name`, `family_name`, `locale`), "Using OAuth 2.0 for Web Server Applications" (`access_type=offline`, refresh tokens only at first consent, token response with expanded scopes), the error pages `Error 400: redirect_uri_mismatch` and `Error 403: org_internal` |
//! | Cognito | Amazon Cognito developer guide: "Understanding user pool JSON web tokens" (ID and access token claims: `cognito:groups`, `cognito:username`, `token_use`, `origin_jti`, `event_id`, `client_id`, `version`), "User pool endpoints and managed login" (`/oauth2/authorize`, `/oauth2/token`, `/oauth2/userInfo`, `/<pool-id>/.well-known/jwks.json`), "Scopes, M2M and APIs" (`openid`, `email`, `phone`, `profile`, `aws.cognito.signin.user.admin`; no `offline_access`, refused with `invalid_request` / `invalid_scope`), "Refresh tokens" (optional rotation with a 0–60 s grace period) |
//! | authentik | authentik source (`goauthentik/authentik`, `authentik/providers/oauth2/`): `views/provider.py` (the discovery document under `/application/o/<slug>/`), `views/token.py` (refresh tokens only with `offline_access`, every refresh rotating and marking the used token revoked, `invalid_client` / `invalid_grant` with `TokenError`'s descriptions, unknown scopes narrowed silently), `id_token.py` (`acr` `goauthentik.io/providers/oauth2/default`, `amr`, the subject modes, claims in the ID token only with "Include claims in id_token"), `views/end_session.py` (`id_token_hint` required with a registered `post_logout_redirect_uri`, `state` appended), `models.py` (validity defaults `minutes=1` / `hours=1` / `days=30`, no signing key signing HS256 with the client secret, refresh tokens outliving the session), `core/models.py` (`User.uid`, the SHA-256 of `<pk>-<install id>`), the `System - OAuth2 Provider - Scopes` blueprint (the default mappings; `profile` carries `groups`, `email` sets `email_verified` false), `errors.py` ("Redirect URI Error", "Client ID Error") |
//!
//! # Where the personas differ from the vendors
//!
//! - Refresh tokens are the emulator's own HS512 JWTs for every vendor (real ones are opaque);
//!   applications must treat them as opaque anyway.
//! - Keys, `kid`s and signatures are the emulator's (RS256 from its test-key pool).
//! - Hosts are the emulator's base URL; Entra's Graph userinfo endpoint is `<base>/oidc/userinfo`
//!   and Cognito's hosted-UI domain shares the base with the pool's issuer.
//! - Login pages are plain HTML forms with the vendor's field names, not the vendors' JavaScript
//!   sign-in widgets.
//! - Sign-out endpoints check the request and redirect as the vendor does, but there is no
//!   browser session to clear, and (as at the vendors) no token is revoked. Refusal texts the
//!   vendors' docs do not quote (a bad `id_token_hint`) are the emulator's own words.
//! - Cognito's `/logout` with `redirect_uri` (sign out, then sign in again) is not served; use
//!   `logout_uri`.
//! - The `client_credentials` grant is served for Okta, Auth0, Entra ID, Cognito and authentik
//!   (its provider-secret form; app passwords and JWT assertions are not emulated), each the
//!   vendor's way (the repository README lists how); its tokens are signed with the current key,
//!   untouched by faults, and not recorded for userinfo.
//! - Auth0's `/v2/logout` without `returnTo` answers "OK" instead of going to the first Allowed
//!   Logout URL.
//! - authentik: a persona file holds one application and its provider; scope mappings are
//!   written as the claims their expression returns (no Python runs); redirect URIs match
//!   strictly (`regex` mode is refused); signing keys are RSA (an ECDSA pair is refused);
//!   end-session redirects at once instead of running the invalidation flow, and deletes no
//!   access token (there is no browser session); with no signing key the ID token is HS256 but
//!   the access token stays RS256 and the JWKS still lists the emulator's keys. Selecting
//!   another RSA pair switches to a fresh emulator key; the JWKS lists only the current key,
//!   as authentik's does (no overlap).

mod auth0;
mod authentik;
mod cognito;
mod entra;
mod google;
mod ids;
mod okta;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::realm::{Client, Group, Realm, SamlClient, TokenSettings, User};
use crate::saml::SamlIdp;
use ssoproof_config::{from_yaml, read_text, FileDomain, FileError};
use ssoproof_saml::Attribute;
use ssoproof_secret::Secret;

/// The vendors a persona file may name in `vendor:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Okta,
    Auth0,
    Entra,
    Google,
    Cognito,
    Authentik,
}

impl Vendor {
    pub const ALL: [Vendor; 6] = [
        Vendor::Okta,
        Vendor::Auth0,
        Vendor::Entra,
        Vendor::Google,
        Vendor::Cognito,
        Vendor::Authentik,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Okta => "okta",
            Vendor::Auth0 => "auth0",
            Vendor::Entra => "entra",
            Vendor::Google => "google",
            Vendor::Cognito => "cognito",
            Vendor::Authentik => "authentik",
        }
    }

    /// The product name, for messages.
    pub fn product(self) -> &'static str {
        match self {
            Vendor::Okta => "Okta",
            Vendor::Auth0 => "Auth0",
            Vendor::Entra => "Microsoft Entra ID",
            Vendor::Google => "Google",
            Vendor::Cognito => "Amazon Cognito",
            Vendor::Authentik => "authentik",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The persona files' error codes.
pub enum PersonaFile {}

impl FileDomain for PersonaFile {
    const READ: &'static str = "persona/read";
    const SYNTAX: &'static str = "persona/syntax";
    const INVALID: &'static str = "persona/invalid";
    const NAME: Option<&'static str> = Some("persona file");
}

/// Why a persona file cannot be served. Codes are stable; every message but a read error's
/// names the file, the line and the key.
pub type PersonaError = FileError<PersonaFile>;

/// Builds an invalid-value error for a file, locating the line from the text.
pub(crate) struct Locator<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl Locator<'_> {
    /// An error at the first line holding `needle` at or after the first line holding
    /// `anchor` (an entry's identifying value, so that the same name elsewhere is not taken).
    pub fn invalid(&self, key: &str, anchor: &str, needle: &str, message: String) -> PersonaError {
        PersonaError::invalid(self.path, self.line(anchor, needle), key, message)
    }

    pub fn line(&self, anchor: &str, needle: &str) -> usize {
        let lines: Vec<&str> = self.text.lines().collect();
        let start = lines
            .iter()
            .position(|l| !anchor.is_empty() && contains_value(l, anchor))
            .unwrap_or(0);
        lines[start..]
            .iter()
            .position(|l| contains_value(l, needle))
            .map(|i| start + i + 1)
            .or_else(|| (start > 0).then_some(start + 1))
            .unwrap_or(1)
    }
}

/// Whether a YAML line holds `value` outside a comment.
fn contains_value(line: &str, value: &str) -> bool {
    let content = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    !line.trim_start().starts_with('#') && content.contains(value)
}

/// "did you mean" for a name among `candidates`.
pub(crate) fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    ssoproof_config::suggest::nearest(name, candidates)
        .map(|c| format!(" (did you mean \"{c}\"?)"))
        .unwrap_or_default()
}

/// A loaded persona: the vendor model behind a realm.
#[derive(Debug, Clone)]
pub struct Persona(pub(crate) Model);

impl Persona {
    pub fn vendor(&self) -> Vendor {
        self.dialect().vendor()
    }

    pub(crate) fn dialect(&self) -> &dyn Dialect {
        match &self.0 {
            Model::Okta(m) => m,
            Model::Auth0(m) => m,
            Model::Entra(m) => m,
            Model::Google(m) => m,
            Model::Cognito(m) => m,
            Model::Authentik(m) => m.as_ref(),
        }
    }

    pub(crate) fn dialect_mut(&mut self) -> &mut dyn Dialect {
        match &mut self.0 {
            Model::Okta(m) => m,
            Model::Auth0(m) => m,
            Model::Entra(m) => m,
            Model::Google(m) => m,
            Model::Cognito(m) => m,
            Model::Authentik(m) => m.as_mut(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Model {
    Okta(okta::Org),
    Auth0(auth0::Tenant),
    Entra(entra::Tenant),
    Google(google::Workspace),
    Cognito(cognito::Pool),
    // Boxed: the instance is by far the largest model.
    Authentik(Box<authentik::Instance>),
}

/// A change to a running persona, as its admin console (or the vendor's API) would make it:
/// how scenarios reproduce a runbook step that was skipped or done wrong. As JSON (the admin
/// API's `POST /_ssoproof/persona`): `{"edit": "okta_groups_claim", "server": "default",
/// "filter": {"type": "REGEX", "value": "app-.*"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum PersonaEdit {
    /// Okta: the `groups` claim of a custom authorization server (`server`), or of the first
    /// app on the org server (no `server`); no `filter` deletes the claim.
    OktaGroupsClaim {
        #[serde(default)]
        server: Option<String>,
        #[serde(default)]
        filter: Option<GroupFilter>,
    },
    /// Auth0: the claim name the post-login Action sets the roles under; `None` takes every
    /// Action out of the post-login trigger.
    Auth0GroupsClaim {
        #[serde(default)]
        claim: Option<String>,
    },
    /// Auth0: the first application's JWT signature algorithm, `RS256` or `HS256`.
    Auth0SigningAlgorithm { algorithm: String },
    /// Entra: the first app registration's `groupMembershipClaims`: `None`, `SecurityGroup`,
    /// `ApplicationGroup`, `DirectoryRole` or `All`.
    EntraGroupMembershipClaims { value: String },
    /// Entra: whether the first app registration has the `email` optional claim in ID tokens.
    EntraEmailOptionalClaim { enabled: bool },
    /// Entra: the first app registration's `requestedAccessTokenVersion` (1 or 2).
    EntraAccessTokenVersion { version: u8 },
    /// Entra: a claims-mapping policy on the first app registration, which makes Entra sign its
    /// tokens with an application-specific key the tenant's JWKS does not list.
    EntraClaimsMappingPolicy { assigned: bool },
    /// Google: the OAuth consent screen's user type of every project, `internal` or `external`.
    GoogleConsentScreen { user_type: String },
    /// Google: a new secret for an OAuth client (the old one stops working at once).
    GoogleClientSecret { client_id: String, secret: String },
    /// Cognito: the first app client's allowed OAuth scopes.
    CognitoAllowedScopes { scopes: Vec<String> },
    /// authentik: the provider's selected scope mappings, named by the scopes they provide.
    AuthentikScopes { scopes: Vec<String> },
    /// authentik: the provider's subject mode (`hashed_user_id`, `user_email`, …).
    AuthentikSubMode { mode: String },
    /// authentik: the provider's signing key, a certificate-key pair's name; `None` signs
    /// HS256 with the client secret.
    AuthentikSigningKey { certificate: Option<String> },
    /// authentik: the provider's "Include claims in id_token".
    AuthentikIncludeClaimsInIdToken { enabled: bool },
}

/// Okta's group filter on a `groups` claim (`groupFilterType` and `value` in Okta's API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFilter {
    #[serde(rename = "type")]
    pub kind: FilterType,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FilterType {
    StartsWith,
    Equals,
    Contains,
    Regex,
}

impl GroupFilter {
    /// The compiled regex of a `REGEX` filter, which must match the whole group name.
    pub fn compile(&self) -> Result<Option<regex::Regex>, String> {
        match self.kind {
            FilterType::Regex => regex::Regex::new(&format!("^(?:{})$", self.value))
                .map(Some)
                .map_err(|e| {
                    format!(
                        "`{}` is not a valid regular expression: {}",
                        self.value,
                        e.to_string().lines().last().unwrap_or_default().trim()
                    )
                }),
            _ => Ok(None),
        }
    }

    /// Whether a group name passes. Okta compares STARTS_WITH, EQUALS and CONTAINS
    /// case-insensitively and anchors REGEX at both ends.
    pub fn matches(&self, group: &str) -> bool {
        let (group_l, value_l) = (group.to_lowercase(), self.value.to_lowercase());
        match self.kind {
            FilterType::StartsWith => group_l.starts_with(&value_l),
            FilterType::Equals => group_l == value_l,
            FilterType::Contains => group_l.contains(&value_l),
            FilterType::Regex => self
                .compile()
                .ok()
                .flatten()
                .is_some_and(|r| r.is_match(group)),
        }
    }
}

/// One issuer the persona serves, with its endpoints' paths on the emulator.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    /// Stable key: `""` for a single-issuer vendor; Okta: `org` or the custom server's id;
    /// Entra: `tenant`, `common` or `v1`.
    pub id: String,
    pub issuer: String,
    pub discovery: String,
    pub jwks: String,
    pub authorize: String,
    pub token: String,
    pub userinfo: Option<String>,
    /// The vendor's sign-out endpoints; the first is the discovery's `end_session_endpoint`.
    pub logout: Vec<Logout>,
    /// Only the discovery document is served (Entra's v1 document, there to be refused).
    pub discovery_only: bool,
}

/// A sign-out endpoint at `path`, read the vendor's way.
#[derive(Debug, Clone)]
pub(crate) struct Logout {
    pub path: String,
    pub style: LogoutStyle,
}

/// How a sign-out endpoint reads its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogoutStyle {
    /// OpenID Connect RP-Initiated Logout 1.0: the client comes from `id_token_hint` (or
    /// `client_id`), the target is `post_logout_redirect_uri`, `state` travels back (Okta,
    /// Auth0's `/oidc/logout`, Entra). GET or POST.
    RpInitiated,
    /// The client is named by `client_id`, the target by the parameter given (Auth0's legacy
    /// `/v2/logout` with `returnTo`, Cognito's `/logout` with `logout_uri`). GET only; no
    /// `id_token_hint`, no `state`.
    ClientNamed { target: &'static str },
}

/// Why a sign-out request is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LogoutRefusal<'a> {
    /// The `id_token_hint` is not an ID token the vendor issued, or names another client.
    BadHint,
    /// The vendor requires an `id_token_hint` and none came (Okta).
    MissingHint,
    /// No client, or an unknown one.
    UnknownClient(&'a str),
    /// The target is not one of the client's sign-out URLs; `param` names the parameter.
    Target {
        client: &'a Client,
        param: &'a str,
        uri: &'a str,
    },
}

/// How a persona's sign-in page looks to a form-filling browser.
#[derive(Debug, Clone)]
pub(crate) struct LoginForm {
    pub title: String,
    pub heading: String,
    pub username_field: &'static str,
    pub username_label: &'static str,
    pub password_field: &'static str,
    pub submit: &'static str,
    /// The username is asked on a page of its own, the password on the next (Google).
    pub identifier_first: bool,
    /// What the page says to a wrong username or password.
    pub bad_credentials: &'static str,
}

/// An error the vendor shows on its own page (never redirected to the client).
#[derive(Debug, Clone)]
pub(crate) struct ErrorPage {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

/// How the vendor refuses an authorization: a redirect back with an OAuth error, or a page.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    Redirect {
        error: String,
        description: Option<String>,
    },
    Page(ErrorPage),
}

impl Refusal {
    pub fn redirect(error: &str, description: &str) -> Refusal {
        Refusal::Redirect {
            error: error.to_string(),
            description: Some(description.to_string()),
        }
    }

    pub fn page(status: StatusCode, title: &str, message: impl Into<String>) -> Refusal {
        Refusal::Page(ErrorPage {
            status,
            title: title.to_string(),
            message: message.into(),
        })
    }
}

/// Who gets a token, through which server, for what.
pub(crate) struct Ctx<'a> {
    pub server: &'a Server,
    /// The `iss` of the tokens (Entra's `/common` server issues the tenant's).
    pub issuer: &'a str,
    pub client: &'a Client,
    pub user: &'a User,
    /// The granted scopes.
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    /// The (possibly skewed) issuing time.
    pub now: i64,
    pub auth_time: Option<i64>,
    pub session_id: &'a str,
    /// Authorization parameters the vendor reads (`access_type`, `hd`, …).
    pub params: &'a BTreeMap<String, String>,
}

impl Ctx<'_> {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The user's group names (paths without their leading `/`).
    pub fn group_names(&self) -> Vec<String> {
        group_names(self.user)
    }
}

pub(crate) fn group_names(user: &User) -> Vec<String> {
    user.groups
        .iter()
        .map(|p| p.trim_start_matches('/').to_string())
        .collect()
}

/// An access token as the vendor shapes it.
pub(crate) enum AccessToken {
    /// A JWT with these claims, signed like the ID token.
    Jwt(Map<String, Value>),
    /// A string the application cannot read (Okta's org server, Auth0 without an audience,
    /// Google).
    Opaque(String),
}

/// What happens to refresh tokens at a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefreshPolicy {
    /// Every refresh returns a new refresh token and retires the one used.
    pub rotate: bool,
    /// Presenting a retired token after the grace period revokes the newest refresh token and
    /// every access token of the session (Okta, Auth0). Without it retired tokens keep working.
    pub reuse_detection: bool,
    /// Seconds a retired token stays usable.
    pub grace_seconds: i64,
    /// Without rotation: whether the refresh response repeats the refresh token (Okta) or leaves
    /// it out (Google, Cognito).
    pub echo: bool,
    /// Whether a refused refresh token (retired past the grace period, or unknown) also revokes
    /// the newest refresh token and the session's access tokens, or is only refused itself
    /// (authentik, which marks a used token revoked and leaves its successor alone).
    pub revoke_family: bool,
}

/// The tokens of one token response, for the vendor to arrange.
pub(crate) struct Issued {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    pub expires_in: i64,
}

/// A vendor's token response `body` with the ID and refresh tokens added where they were
/// issued: every vendor names them `id_token` and `refresh_token`.
pub(crate) fn with_issued_tokens(
    mut body: Value,
    id_token: Option<String>,
    refresh_token: Option<String>,
) -> Value {
    if let Some(id) = id_token {
        body["id_token"] = Value::String(id);
    }
    if let Some(refresh) = refresh_token {
        body["refresh_token"] = Value::String(refresh);
    }
    body
}

/// The result of comparing a presented client secret with the client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretCheck {
    Valid,
    Wrong,
    Expired,
}

/// Why the token endpoint refused to authenticate a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientRefusal {
    UnknownClient,
    WrongSecret,
    ExpiredSecret,
}

/// A `client_credentials` request that passed client authentication.
pub(crate) struct M2mRequest<'a> {
    pub server: &'a Server,
    /// The `iss` of the token.
    pub issuer: &'a str,
    pub client: &'a Client,
    /// The `scope` parameter, when not empty.
    pub scope: Option<&'a str>,
    /// The `audience` parameter (Auth0), when not empty.
    pub audience: Option<&'a str>,
    /// The (possibly skewed) issuing time.
    pub now: i64,
}

impl M2mRequest<'_> {
    /// The requested scopes, in order.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// A vendor's machine-to-machine token: the access token's claims (signed like every access
/// token) and the token response without its `access_token`.
pub(crate) struct M2mToken {
    pub claims: Map<String, Value>,
    /// An ID token's claims, for a vendor that issues one with the grant (authentik), signed
    /// as its ID tokens are.
    pub id_token: Option<Map<String, Value>>,
    pub response: Map<String, Value>,
}

/// A JSON object of these fields, in this order.
pub(crate) fn fields<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// A token-endpoint refusal: the status and the vendor's JSON body.
pub(crate) type TokenRefusal = (StatusCode, Value);

/// Token lifetimes, in seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetimes {
    pub access_token: i64,
    pub id_token: i64,
}

/// What a vendor decides. One implementation per vendor module.
pub(crate) trait Dialect: fmt::Debug + Send + Sync {
    fn vendor(&self) -> Vendor;
    /// The issuers and endpoints served on `base`; the first is the primary issuer.
    fn servers(&self, base: &str) -> Vec<Server>;
    /// The `iss` of tokens issued through `server`.
    fn token_issuer(&self, server: &Server, _servers: &[Server]) -> String {
        server.issuer.clone()
    }
    fn discovery(&self, server: &Server, servers: &[Server], base: &str) -> Value;
    /// The path the sign-in form posts to.
    fn login_path(&self) -> String;
    fn login_form(&self) -> LoginForm;
    fn unknown_client(&self, client_id: &str) -> ErrorPage;
    fn redirect_mismatch(&self, client: &Client, redirect_uri: &str) -> ErrorPage;
    /// The scopes granted for `requested`, or the refusal.
    fn check_scopes(
        &self,
        server: &Server,
        client: &Client,
        requested: &[&str],
    ) -> Result<Vec<String>, Refusal>;
    /// Whether the authorization parameters the vendor reads (`audience`, …) are acceptable.
    fn check_params(&self, _params: &BTreeMap<String, String>) -> Result<(), Refusal> {
        Ok(())
    }
    /// The `audience` parameter an application of this vendor sends to get a JWT access token
    /// for its API (Auth0's first API); a minted access token asks for it.
    fn default_audience(&self) -> Option<String> {
        None
    }
    /// After the password was right: whether this user may sign in to this client (assignment,
    /// account state, organisation).
    fn admit(&self, client: &Client, user: &User) -> Result<(), Refusal>;
    /// The `sub` the client sees for the user.
    fn sub(&self, client: &Client, user: &User) -> String;
    /// The ID token's claims; `at_hash` is added after when [`Dialect::at_hash`] says so.
    fn id_token(&self, ctx: &Ctx<'_>) -> Map<String, Value>;
    /// Whether ID tokens carry `at_hash`.
    fn at_hash(&self) -> bool {
        true
    }
    /// Whether the client's ID tokens are HS256-signed with its secret (Auth0's setting).
    fn id_token_hs256(&self, _client: &Client) -> bool {
        false
    }
    /// The signing key the vendor's own configuration selects, when it names one (authentik's
    /// certificate-key pair): selecting another one switches the emulator to a fresh key.
    fn signing_key(&self) -> Option<&str> {
        None
    }
    /// Whether the JWKS lists only the current key, a replaced one disappearing at once
    /// (authentik), instead of keeping it for the emulator's overlap.
    fn publishes_only_current_key(&self) -> bool {
        false
    }
    /// Whether the ID token is signed with a key the JWKS does not publish (Entra with a
    /// claims-mapping policy).
    fn unpublished_signing_key(&self, _client: &Client) -> bool {
        false
    }
    fn access_token(&self, ctx: &Ctx<'_>) -> AccessToken;
    fn userinfo(&self, ctx: &Ctx<'_>) -> Map<String, Value>;
    /// The refresh policy when this grant gets a refresh token at all.
    fn refresh(&self, ctx: &Ctx<'_>) -> Option<RefreshPolicy>;
    fn token_response(&self, issued: Issued) -> Value;
    fn check_secret(&self, client: &Client, presented: &str) -> SecretCheck {
        match &client.secret {
            Some(secret) if secret.expose() == presented => SecretCheck::Valid,
            _ => SecretCheck::Wrong,
        }
    }
    fn client_refusal(&self, why: ClientRefusal, client_id: &str) -> (StatusCode, Value);
    /// The answer to a `grant_type` the vendor does not serve (checked before the client).
    fn unsupported_grant(&self, _grant_type: &str) -> TokenRefusal {
        (
            StatusCode::BAD_REQUEST,
            oauth_error("unsupported_grant_type", "The grant_type is not supported."),
        )
    }
    /// Whether the vendor's token endpoint serves `client_credentials` at all.
    fn offers_client_credentials(&self) -> bool {
        false
    }
    /// The answer to a `client_credentials` request whose client secret is wrong, when the
    /// vendor does not answer it as a failed client authentication (authentik).
    fn client_credentials_bad_secret(&self) -> Option<TokenRefusal> {
        None
    }
    /// The `client_credentials` grant, for a client that authenticated: the token, or the
    /// vendor's refusal. Called only when [`Dialect::offers_client_credentials`].
    fn client_credentials(&self, _request: &M2mRequest<'_>) -> Result<M2mToken, TokenRefusal> {
        Err(self.unsupported_grant("client_credentials"))
    }
    /// The answer to a refresh token that is unknown, expired, retired or revoked.
    fn refresh_refusal(&self) -> (StatusCode, Value);
    /// Parameters the vendor adds to the redirect that carries the code.
    fn callback_params(&self, _user: &User, _scopes: &[String]) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    fn code(&self) -> String {
        super::state::random_token(32)
    }
    fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: 3600,
            id_token: 3600,
        }
    }
    /// Whether RP-initiated logout insists on an `id_token_hint` (Okta always; authentik when a
    /// `post_logout_redirect_uri` came and the provider registers any).
    fn logout_needs_hint(&self, _has_target: bool) -> bool {
        false
    }
    /// Whether the redirect after an RP-initiated logout carries the request's `state`.
    fn logout_echoes_state(&self) -> bool {
        true
    }
    /// The vendor's answer to a sign-out request it refuses; by default it signs out and stays
    /// on its own page (Entra).
    fn logout_refusal(&self, _why: LogoutRefusal<'_>) -> ErrorPage {
        self.signed_out()
    }
    /// The vendor's answer to a sign-out with nowhere to go.
    fn signed_out(&self) -> ErrorPage {
        ErrorPage {
            status: StatusCode::OK,
            title: "Signed out".into(),
            message: "You have been signed out.".into(),
        }
    }
    /// The persona's SAML IdPs on `base`, at the vendor's paths.
    fn saml_idps(&self, _base: &str) -> Vec<SamlIdp> {
        Vec::new()
    }
    /// The AttributeStatement of a Response for `user` at the SAML app `client`.
    fn saml_attributes(&self, _client: &SamlClient, _user: &User) -> Vec<Attribute> {
        Vec::new()
    }
    fn edit(&mut self, edit: &PersonaEdit) -> Result<(), String>;
    /// Lines for `ssoproof serve idp`: the vendor's own view of what is served.
    fn summary(&self) -> Vec<String>;
}

/// What every vendor module produces from its file.
pub(crate) struct Built {
    pub name: String,
    pub display_name: String,
    pub groups: Vec<String>,
    pub users: Vec<User>,
    pub clients: Vec<Client>,
    /// The SAML apps (Okta) or enterprise applications (Entra ID), as SAML clients.
    pub saml_clients: Vec<SamlClient>,
    pub tokens: TokenSettings,
    pub model: Model,
}

/// The vendor a persona file names, read without loading the rest.
pub fn vendor_of(path: &Path) -> Result<Vendor, PersonaError> {
    #[derive(Deserialize)]
    struct Head {
        vendor: Vendor,
    }
    let text = read_text(path)?;
    let head: Head = from_yaml(&text, path)?;
    Ok(head.vendor)
}

/// Reads a persona file.
pub(crate) fn load(path: &Path) -> Result<Realm, PersonaError> {
    let text = read_text(path)?;
    parse(&text, path)
}

/// Parses a persona file; `path` names it in messages.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Realm, PersonaError> {
    /// The first pass: only the vendor, so an unknown one is reported at its own line.
    #[derive(Deserialize)]
    struct Head {
        vendor: Vendor,
    }
    let head: Head = from_yaml(text, path)?;
    let at = Locator { path, text };
    let built = match head.vendor {
        Vendor::Okta => okta::build(from_yaml(text, path)?, &at)?,
        Vendor::Auth0 => auth0::build(from_yaml(text, path)?, &at)?,
        Vendor::Entra => entra::build(from_yaml(text, path)?, &at)?,
        Vendor::Google => google::build(from_yaml(text, path)?, &at)?,
        Vendor::Cognito => cognito::build(from_yaml(text, path)?, &at)?,
        Vendor::Authentik => authentik::build(from_yaml(text, path)?, &at)?,
    };
    Ok(Realm {
        name: built.name,
        display_name: Some(built.display_name),
        tokens: built.tokens,
        login_with_email_allowed: true,
        groups: built
            .groups
            .into_iter()
            .map(|name| Group {
                path: format!("/{name}"),
                name,
            })
            .collect(),
        users: built.users,
        clients: built.clients,
        client_scopes: Vec::new(),
        warnings: Vec::new(),
        source: path.to_path_buf(),
        identity_providers: Vec::new(),
        default_groups: Vec::new(),
        persona: Some(Persona(built.model)),
        saml_clients: built.saml_clients,
    })
}

/// A persona user in the shared model.
pub(crate) struct NewUser<'a> {
    pub id: String,
    pub login: &'a str,
    pub password: Option<&'a str>,
    pub enabled: bool,
    pub email: Option<String>,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub groups: Vec<String>,
}

pub(crate) fn user(new: NewUser<'_>) -> User {
    User {
        id: new.id,
        username: new.login.to_lowercase(),
        enabled: new.enabled,
        email: new.email.map(|e| e.to_lowercase()),
        email_verified: new.email_verified,
        first_name: new.first_name,
        last_name: new.last_name,
        password: new.password.map(Secret::from),
        groups: new.groups.iter().map(|g| format!("/{g}")).collect(),
        realm_roles: Vec::new(),
        attributes: BTreeMap::new(),
        federated_identities: Vec::new(),
    }
}

/// A confidential client that uses the code flow, in the shared model.
pub(crate) fn client(
    client_id: &str,
    name: &str,
    secret: Option<&str>,
    redirect_uris: &[String],
    require_s256: bool,
) -> Client {
    let mut attributes = BTreeMap::new();
    if require_s256 {
        attributes.insert("pkce.code.challenge.method".into(), "S256".into());
    }
    Client {
        id: client_id.to_string(),
        client_id: client_id.to_string(),
        name: Some(name.to_string()),
        enabled: true,
        public_client: secret.is_none(),
        secret: secret.map(Secret::from),
        redirect_uris: redirect_uris.to_vec(),
        web_origins: Vec::new(),
        standard_flow_enabled: true,
        direct_access_grants_enabled: false,
        service_accounts_enabled: false,
        consent_required: false,
        attributes,
        protocol_mappers: Vec::new(),
        default_client_scopes: Vec::new(),
        optional_client_scopes: Vec::new(),
    }
}

/// A persona's SAML app in the shared model: its SP entity ID, its one ACS, and the settings
/// (Keycloak's attribute names, which the SAML flow reads) for signing and the NameID.
pub(crate) fn saml_client(
    entity_id: &str,
    name: &str,
    acs: &str,
    settings: &[(&str, &str)],
) -> SamlClient {
    let mut attributes: BTreeMap<String, String> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    attributes.insert("saml_assertion_consumer_url_post".into(), acs.to_string());
    SamlClient {
        client_id: entity_id.to_string(),
        name: Some(name.to_string()),
        enabled: true,
        redirect_uris: vec![acs.to_string()],
        attributes,
        protocol_mappers: Vec::new(),
    }
}

/// Registers a client's sign-out URLs where the shared logout matcher reads them; none at all
/// means none is allowed (the vendors here do not fall back to the sign-in URLs).
pub(crate) fn with_sign_out_urls(mut client: Client, urls: &[String]) -> Client {
    let list = if urls.is_empty() {
        "-".to_string()
    } else {
        urls.join("##")
    };
    client
        .attributes
        .insert("post.logout.redirect.uris".into(), list);
    client
}

/// Token settings with a vendor's access-token lifetime.
pub(crate) fn token_settings(access_token_lifespan: u64) -> TokenSettings {
    TokenSettings {
        access_token_lifespan,
        access_code_lifespan: 300,
        sso_session_idle_timeout: 7 * 24 * 3600,
        sso_session_max_lifespan: 90 * 24 * 3600,
        ..TokenSettings::default()
    }
}

/// Names must be unique within a list: the first repeated one, with where it repeats.
pub(crate) fn unique<'a>(
    at: &Locator<'_>,
    key: &str,
    what: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), PersonaError> {
    // A hash set: a persona with many users must load in linear time.
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name) {
            let line = at
                .text
                .lines()
                .enumerate()
                .filter(|(_, l)| contains_value(l, name))
                .map(|(i, _)| i + 1)
                .nth(1)
                .unwrap_or(1);
            return Err(PersonaError::invalid(
                at.path,
                line,
                key,
                format!("{what} \"{name}\" is defined twice"),
            ));
        }
    }
    Ok(())
}

/// `{"error": …, "error_description": …}`.
pub(crate) fn oauth_error(error: &str, description: &str) -> Value {
    serde_json::json!({"error": error, "error_description": description})
}

#[cfg(test)]
mod tests;
