//! Auth0: a tenant with a database connection's users, roles, Post-Login Actions (described
//! declaratively: the custom claims the Action's code sets, or an `api.access.deny`), the
//! post-login trigger that runs them, and Regular Web Applications.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{
    client, fields, ids, oauth_error, suggestion, token_settings, unique, with_issued_tokens,
    with_sign_out_urls, AccessToken, Built, ClientRefusal, Ctx, Dialect, ErrorPage, Issued,
    Lifetimes, Locator, LoginForm, Logout, LogoutRefusal, LogoutStyle, M2mRequest, M2mToken, Model,
    NewUser, PersonaEdit, PersonaError, RefreshPolicy, Refusal, Server, TokenRefusal, Vendor,
};
use crate::realm::{Client, User};

/// Claim names an Action cannot set: Auth0 drops them without an error.
pub(crate) const RESTRICTED_CLAIMS: &[&str] = &[
    "acr",
    "act",
    "active",
    "amr",
    "at_hash",
    "ath",
    "attest",
    "aud",
    "auth_time",
    "authorization_details",
    "azp",
    "c_hash",
    "client_id",
    "cnf",
    "cty",
    "dest",
    "entitlements",
    "events",
    "exp",
    "groups",
    "gty",
    "htm",
    "htu",
    "iat",
    "internalService",
    "iss",
    "jcard",
    "jku",
    "jti",
    "jwe",
    "jwk",
    "kid",
    "may_act",
    "mky",
    "nbf",
    "nonce",
    "object_id",
    "org_id",
    "org_name",
    "orig",
    "origid",
    "permissions",
    "roles",
    "rph",
    "s_hash",
    "sid",
    "sip_callid",
    "sip_cseq_num",
    "sip_date",
    "sip_from_tag",
    "sip_via_branch",
    "sub",
    "sub_jwk",
    "toe",
    "txn",
    "typ",
    "uuid",
    "vot",
    "vtm",
    "x5t#S256",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantFile {
    #[allow(dead_code)]
    vendor: Vendor,
    /// `acme` for `acme.auth0.com`.
    tenant: String,
    #[serde(default)]
    roles: Vec<RoleFile>,
    users: Vec<UserFile>,
    #[serde(default)]
    actions: Vec<ActionFile>,
    /// Action names bound to each trigger, in order.
    #[serde(default)]
    triggers: Triggers,
    applications: Vec<ApplicationFile>,
    /// Applications → APIs: the audiences an authorization request may name, and those
    /// machine-to-machine tokens are for.
    #[serde(default)]
    apis: Vec<ApiFile>,
}

/// An API (a resource server): its identifier is the `audience` of its tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiFile {
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    name: String,
    identifier: String,
    /// The API's Permissions tab: the scopes it defines.
    #[serde(default)]
    permissions: Vec<String>,
    /// The Machine to Machine Applications tab: each authorized application (a client grant)
    /// with the permissions granted to it.
    #[serde(default)]
    machine_to_machine: Vec<ClientGrantFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientGrantFile {
    client_id: String,
    #[serde(default)]
    permissions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    name: String,
    #[serde(default)]
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    email: String,
    password: String,
    /// Without it: `auth0|` and 24 hexadecimal characters.
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default = "database")]
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    connection: String,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default = "yes")]
    email_verified: bool,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    blocked: bool,
}

fn database() -> String {
    "Username-Password-Authentication".into()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionFile {
    name: String,
    /// Only `post-login` Actions run at login.
    trigger: String,
    /// A saved but undeployed Action never runs.
    #[serde(default = "yes")]
    deployed: bool,
    /// `api.idToken.setCustomClaim(name, value)` calls, in order.
    #[serde(default)]
    set_id_token_claims: Vec<CustomClaim>,
    /// `api.accessToken.setCustomClaim(name, value)` calls.
    #[serde(default)]
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    set_access_token_claims: Vec<CustomClaim>,
    /// `api.access.deny(message)` for users holding none of `unless_roles`.
    #[serde(default)]
    deny: Option<Deny>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomClaim {
    name: String,
    /// What the code passes: `roles` (`event.authorization.roles`), `email` or `user_id`.
    value: ClaimValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ClaimValue {
    Roles,
    Email,
    UserId,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deny {
    message: String,
    unless_roles: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Triggers {
    #[serde(rename = "post-login", default)]
    post_login: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationFile {
    name: String,
    /// `regular_web` is the only type the emulator serves.
    #[serde(rename = "type")]
    kind: String,
    client_id: String,
    client_secret: String,
    allowed_callback_urls: Vec<String>,
    /// "Allowed Logout URLs": where `/oidc/logout` and `/v2/logout` may send the browser.
    #[serde(default)]
    allowed_logout_urls: Vec<String>,
    #[serde(default = "basic")]
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    token_endpoint_auth_method: String,
    /// `RS256` or `HS256` (signed with the client secret).
    #[serde(default = "rs256")]
    jwt_signature_algorithm: String,
    #[serde(default = "code_only")]
    grant_types: Vec<String>,
    #[serde(default)]
    refresh_token: RefreshSettings,
}

fn basic() -> String {
    "client_secret_basic".into()
}

fn rs256() -> String {
    "RS256".into()
}

fn code_only() -> Vec<String> {
    vec!["authorization_code".into()]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshSettings {
    /// `rotating` or `non-rotating`.
    #[serde(default = "rotating")]
    rotation_type: String,
    #[serde(default)]
    leeway_seconds: u32,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        RefreshSettings {
            rotation_type: rotating(),
            leeway_seconds: 0,
        }
    }
}

fn rotating() -> String {
    "rotating".into()
}

#[derive(Debug, Clone)]
struct UserInfo {
    username: String,
    blocked: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    tenant: String,
    users: Vec<UserInfo>,
    actions: Vec<ActionFile>,
    triggers: Triggers,
    applications: Vec<ApplicationFile>,
    apis: Vec<ApiFile>,
}

pub(crate) fn build(file: TenantFile, at: &Locator<'_>) -> Result<Built, PersonaError> {
    unique(
        at,
        "roles.name",
        "role",
        file.roles.iter().map(|r| r.name.as_str()),
    )?;
    unique(
        at,
        "users.email",
        "user",
        file.users.iter().map(|u| u.email.as_str()),
    )?;
    unique(
        at,
        "actions.name",
        "Action",
        file.actions.iter().map(|a| a.name.as_str()),
    )?;
    unique(
        at,
        "apis.identifier",
        "API",
        file.apis.iter().map(|a| a.identifier.as_str()),
    )?;
    unique(
        at,
        "applications.client_id",
        "application",
        file.applications.iter().map(|a| a.client_id.as_str()),
    )?;
    let roles: Vec<&str> = file.roles.iter().map(|r| r.name.as_str()).collect();
    for (i, user) in file.users.iter().enumerate() {
        for role in &user.roles {
            if !roles.contains(&role.as_str()) {
                return Err(at.invalid(
                    &format!("users[{i}].roles"),
                    &user.email,
                    role,
                    format!(
                        "user \"{}\" has role \"{role}\", which the tenant does not define; add it under `roles`{}",
                        user.email,
                        suggestion(role, roles.iter().copied())
                    ),
                ));
            }
        }
        if let Some(id) = &user.user_id {
            if !id.contains('|') {
                return Err(at.invalid(
                    &format!("users[{i}].user_id"),
                    &user.email,
                    id,
                    format!("`{id}` is not an Auth0 user id: `<connection strategy>|<id>`, e.g. `auth0|5f7c8ec7c33c6c004bbafe82`"),
                ));
            }
        }
    }
    for (i, action) in file.actions.iter().enumerate() {
        if action.trigger != "post-login" {
            return Err(at.invalid(
                &format!("actions[{i}].trigger"),
                &action.name,
                &action.trigger,
                format!(
                    "the emulator runs `post-login` Actions only, not `{}`",
                    action.trigger
                ),
            ));
        }
    }
    for name in &file.triggers.post_login {
        if !file.actions.iter().any(|a| &a.name == name) {
            return Err(at.invalid(
                "triggers.post-login",
                "triggers:",
                name,
                format!(
                    "the post-login trigger names Action \"{name}\", which `actions` does not define{}",
                    suggestion(name, file.actions.iter().map(|a| a.name.as_str()))
                ),
            ));
        }
    }
    for (i, app) in file.applications.iter().enumerate() {
        let key = |k: &str| format!("applications[{i}].{k}");
        if app.kind != "regular_web" {
            return Err(at.invalid(
                &key("type"),
                &app.client_id,
                &app.kind,
                format!("application type `{}`: the emulator serves Regular Web Applications (`regular_web`)", app.kind),
            ));
        }
        if !["RS256", "HS256"].contains(&app.jwt_signature_algorithm.as_str()) {
            return Err(at.invalid(
                &key("jwt_signature_algorithm"),
                &app.client_id,
                &app.jwt_signature_algorithm,
                "Auth0 signs ID tokens with RS256 or HS256".into(),
            ));
        }
        if !["rotating", "non-rotating"].contains(&app.refresh_token.rotation_type.as_str()) {
            return Err(at.invalid(
                &key("refresh_token.rotation_type"),
                &app.client_id,
                &app.refresh_token.rotation_type,
                "`rotation_type` is `rotating` or `non-rotating`".into(),
            ));
        }
    }

    for (i, api) in file.apis.iter().enumerate() {
        for (j, grant) in api.machine_to_machine.iter().enumerate() {
            let key = format!("apis[{i}].machine_to_machine[{j}]");
            if !file
                .applications
                .iter()
                .any(|a| a.client_id == grant.client_id)
            {
                return Err(at.invalid(
                    &format!("{key}.client_id"),
                    &api.identifier,
                    &grant.client_id,
                    format!(
                        "API \"{}\" authorizes client \"{}\", which `applications` does not define",
                        api.identifier, grant.client_id
                    ),
                ));
            }
            if let Some(unknown) = grant
                .permissions
                .iter()
                .find(|p| !api.permissions.contains(p))
            {
                return Err(at.invalid(
                    &format!("{key}.permissions"),
                    &api.identifier,
                    unknown,
                    format!(
                        "permission \"{unknown}\" is not one of API \"{}\"'s `permissions`{}",
                        api.identifier,
                        suggestion(unknown, api.permissions.iter().map(String::as_str))
                    ),
                ));
            }
        }
    }

    let users: Vec<User> = file
        .users
        .iter()
        .map(|u| {
            super::user(NewUser {
                id: user_id(&file.tenant, u),
                login: &u.email,
                password: Some(&u.password),
                enabled: true,
                email: Some(u.email.clone()),
                email_verified: u.email_verified,
                first_name: u.given_name.clone(),
                last_name: u.family_name.clone(),
                groups: u.roles.clone(),
            })
        })
        .collect();
    let clients = file
        .applications
        .iter()
        .map(|a| {
            with_sign_out_urls(
                client(
                    &a.client_id,
                    &a.name,
                    Some(&a.client_secret),
                    &a.allowed_callback_urls,
                    false,
                ),
                &a.allowed_logout_urls,
            )
        })
        .collect();
    Ok(Built {
        name: file.tenant.clone(),
        display_name: file.tenant.clone(),
        groups: file.roles.iter().map(|r| r.name.clone()).collect(),
        clients,
        saml_clients: Vec::new(),
        tokens: token_settings(86400),
        model: Model::Auth0(Tenant {
            users: file
                .users
                .iter()
                .map(|u| UserInfo {
                    username: u.email.to_lowercase(),
                    blocked: u.blocked,
                })
                .collect(),
            tenant: file.tenant,
            actions: file.actions,
            triggers: file.triggers,
            applications: file.applications,
            apis: file.apis,
        }),
        users,
    })
}

fn user_id(tenant: &str, user: &UserFile) -> String {
    user.user_id.clone().unwrap_or_else(|| {
        format!(
            "auth0|{}",
            ids::hex(&format!("{tenant}:{}", user.email), 24)
        )
    })
}

impl Tenant {
    fn app(&self, client_id: &str) -> Option<&ApplicationFile> {
        self.applications.iter().find(|a| a.client_id == client_id)
    }

    /// The API an authorization request's `audience` names.
    fn api(&self, audience: &str) -> Option<&ApiFile> {
        self.apis.iter().find(|a| a.identifier == audience)
    }

    fn info(&self, user: &User) -> Option<&UserInfo> {
        self.users.iter().find(|u| u.username == user.username)
    }

    /// The deployed Actions of the post-login trigger, in order.
    fn post_login(&self) -> impl Iterator<Item = &ActionFile> {
        self.triggers
            .post_login
            .iter()
            .filter_map(|name| self.actions.iter().find(|a| &a.name == name))
            .filter(|a| a.deployed)
    }

    fn value(&self, value: ClaimValue, user: &User) -> Value {
        match value {
            ClaimValue::Roles => {
                // The roles are the shared model's groups, so that a membership changed at run
                // time (`Emulator::add_user_to_group`) shows.
                json!(super::group_names(user))
            }
            ClaimValue::Email => json!(user.email),
            ClaimValue::UserId => json!(user.id),
        }
    }

    /// The profile Auth0 keeps for a database user.
    fn profile(user: &User) -> Map<String, Value> {
        let email = user.email.clone().unwrap_or_default();
        let nickname = email.split('@').next().unwrap_or_default().to_string();
        let hash: String = Sha256::digest(email.trim().to_lowercase().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let initials: String = nickname.chars().take(2).collect::<String>().to_lowercase();
        let mut profile = Map::new();
        if let Some(given) = &user.first_name {
            profile.insert("given_name".into(), json!(given));
        }
        if let Some(family) = &user.last_name {
            profile.insert("family_name".into(), json!(family));
        }
        profile.insert("nickname".into(), json!(nickname));
        profile.insert("name".into(), json!(email));
        profile.insert(
            "picture".into(),
            json!(format!("https://s.gravatar.com/avatar/{hash}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F{initials}.png")),
        );
        profile.insert("updated_at".into(), json!("2026-11-01T09:00:00.000Z"));
        profile
    }

    fn scoped_profile(ctx: &Ctx<'_>, claims: &mut Map<String, Value>) {
        if ctx.has_scope("profile") {
            claims.extend(Tenant::profile(ctx.user));
        }
        if ctx.has_scope("email") {
            claims.insert("email".into(), json!(ctx.user.email));
            claims.insert("email_verified".into(), json!(ctx.user.email_verified));
        }
    }
}

impl Dialect for Tenant {
    fn vendor(&self) -> Vendor {
        Vendor::Auth0
    }

    fn servers(&self, base: &str) -> Vec<Server> {
        vec![Server {
            id: String::new(),
            // Auth0's issuer ends in a slash.
            issuer: format!("{base}/"),
            discovery: "/.well-known/openid-configuration".into(),
            jwks: "/.well-known/jwks.json".into(),
            authorize: "/authorize".into(),
            token: "/oauth/token".into(),
            userinfo: Some("/userinfo".into()),
            logout: vec![
                Logout {
                    path: "/oidc/logout".into(),
                    style: LogoutStyle::RpInitiated,
                },
                // The legacy endpoint, still documented and still what many SDKs call.
                Logout {
                    path: "/v2/logout".into(),
                    style: LogoutStyle::ClientNamed { target: "returnTo" },
                },
            ],
            discovery_only: false,
        }]
    }

    fn discovery(&self, server: &Server, _servers: &[Server], base: &str) -> Value {
        let url = |path: &str| format!("{base}{path}");
        json!({
            "issuer": server.issuer,
            "authorization_endpoint": url(&server.authorize),
            "token_endpoint": url(&server.token),
            "device_authorization_endpoint": url("/oauth/device/code"),
            "userinfo_endpoint": url("/userinfo"),
            "mfa_challenge_endpoint": url("/mfa/challenge"),
            "jwks_uri": url(&server.jwks),
            "registration_endpoint": url("/oidc/register"),
            "revocation_endpoint": url("/oauth/revoke"),
            "scopes_supported": ["openid", "profile", "offline_access", "name", "given_name", "family_name", "nickname", "email", "email_verified", "picture", "created_at", "identities", "phone", "address"],
            "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "claims_supported": ["aud", "auth_time", "created_at", "email", "email_verified", "exp", "family_name", "given_name", "iat", "identities", "iss", "name", "nickname", "phone_number", "picture", "sub"],
            "request_uri_parameter_supported": false,
            "request_parameter_supported": false,
            "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "PS256"],
            "end_session_endpoint": url(&server.logout[0].path),
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
        })
    }

    fn login_path(&self) -> String {
        "/u/login".into()
    }

    fn login_form(&self) -> LoginForm {
        LoginForm {
            title: format!("Log in | {}", self.tenant),
            heading: "Welcome".into(),
            username_field: "username",
            username_label: "Email address",
            password_field: "password",
            submit: "Continue",
            identifier_first: false,
            bad_credentials: "Wrong email or password",
        }
    }

    fn unknown_client(&self, client_id: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Error".into(),
            message: format!("invalid_request: Unknown client: {client_id}"),
        }
    }

    fn redirect_mismatch(&self, _client: &Client, _redirect_uri: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Callback URL mismatch".into(),
            message: "Callback URL mismatch. The provided redirect_uri is not in the list of allowed callback URLs. Please go to the Application Settings page and make sure you are sending a valid callback url from your application.".into(),
        }
    }

    fn logout_refusal(&self, why: LogoutRefusal<'_>) -> ErrorPage {
        let message = match why {
            LogoutRefusal::UnknownClient(id) => return self.unknown_client(id),
            LogoutRefusal::MissingHint | LogoutRefusal::BadHint => {
                "invalid_request: The id_token_hint parameter is invalid.".to_string()
            }
            LogoutRefusal::Target { client, param, uri } => format!(
                "invalid_request: The \"{param}\" querystring parameter \"{uri}\" is not defined as a valid URL in \"Allowed Logout URLs\". To add a new URL, please do it here: https://manage.auth0.com/#/applications/{}/settings",
                client.client_id
            ),
        };
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Error".into(),
            message,
        }
    }

    fn signed_out(&self) -> ErrorPage {
        ErrorPage {
            status: StatusCode::OK,
            title: "Logout".into(),
            message: "OK".into(),
        }
    }

    fn check_scopes(
        &self,
        _server: &Server,
        _client: &Client,
        requested: &[&str],
    ) -> Result<Vec<String>, Refusal> {
        // Auth0 accepts any scope and grants the OIDC ones it knows.
        let known = ["openid", "profile", "email", "offline_access"];
        Ok(requested
            .iter()
            .filter(|s| known.contains(s))
            .map(|s| s.to_string())
            .collect())
    }

    fn admit(&self, _client: &Client, user: &User) -> Result<(), Refusal> {
        let info = self.info(user);
        if info.is_some_and(|u| u.blocked) {
            return Err(Refusal::redirect("unauthorized", "user is blocked"));
        }
        let roles = super::group_names(user);
        for action in self.post_login() {
            if let Some(deny) = &action.deny {
                if !deny.unless_roles.iter().any(|r| roles.contains(r)) {
                    return Err(Refusal::redirect("access_denied", &deny.message));
                }
            }
        }
        Ok(())
    }

    fn sub(&self, _client: &Client, user: &User) -> String {
        user.id.clone()
    }

    fn id_token(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut claims = Map::new();
        Tenant::scoped_profile(ctx, &mut claims);
        claims.insert("iss".into(), json!(ctx.issuer));
        claims.insert("aud".into(), json!(ctx.client.client_id));
        claims.insert("sub".into(), json!(ctx.user.id));
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("exp".into(), json!(ctx.now + 36000));
        claims.insert("sid".into(), json!(ctx.session_id));
        if let Some(nonce) = ctx.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        for action in self.post_login() {
            for custom in &action.set_id_token_claims {
                // Restricted names are dropped without an error.
                if !RESTRICTED_CLAIMS.contains(&custom.name.as_str()) {
                    claims.insert(custom.name.clone(), self.value(custom.value, ctx.user));
                }
            }
        }
        claims
    }

    fn at_hash(&self) -> bool {
        false
    }

    fn id_token_hs256(&self, client: &Client) -> bool {
        self.app(&client.client_id)
            .is_some_and(|a| a.jwt_signature_algorithm == "HS256")
    }

    fn check_params(&self, params: &BTreeMap<String, String>) -> Result<(), Refusal> {
        match params.get("audience") {
            Some(audience) if self.api(audience).is_none() => Err(Refusal::redirect(
                "access_denied",
                &format!("Service not found: {audience}"),
            )),
            _ => Ok(()),
        }
    }

    fn default_audience(&self) -> Option<String> {
        self.apis.first().map(|a| a.identifier.clone())
    }

    fn access_token(&self, ctx: &Ctx<'_>) -> AccessToken {
        // With an API's `audience`, a JWT for that API (Auth0's "Access Token Profiles", the
        // default profile); its /userinfo is an audience too when `openid` was granted.
        if let Some(api) = ctx.params.get("audience").and_then(|a| self.api(a)) {
            let userinfo = format!("{}userinfo", ctx.issuer);
            let aud = if ctx.has_scope("openid") {
                json!([api.identifier, userinfo])
            } else {
                json!(api.identifier)
            };
            let mut claims = Map::new();
            claims.insert("iss".into(), json!(ctx.issuer));
            claims.insert("sub".into(), json!(ctx.user.id));
            claims.insert("aud".into(), aud);
            claims.insert("azp".into(), json!(ctx.client.client_id));
            claims.insert("exp".into(), json!(ctx.now + self.lifetimes().access_token));
            claims.insert("iat".into(), json!(ctx.now));
            claims.insert("scope".into(), json!(ctx.scopes.join(" ")));
            return AccessToken::Jwt(claims);
        }
        // Without an `audience`, Auth0's access token is an encrypted token (JWE, `alg: dir`)
        // that only its own /userinfo reads.
        let header = URL_SAFE_NO_PAD
            .encode(json!({"alg": "dir", "enc": "A256GCM", "iss": ctx.issuer}).to_string());
        AccessToken::Opaque(format!(
            "{header}..{}.{}.{}",
            ids::random(16),
            ids::random(342),
            ids::random(22)
        ))
    }

    fn userinfo(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(ctx.user.id));
        Tenant::scoped_profile(ctx, &mut claims);
        claims
    }

    fn refresh(&self, ctx: &Ctx<'_>) -> Option<RefreshPolicy> {
        let app = self.app(&ctx.client.client_id)?;
        (ctx.has_scope("offline_access") && app.grant_types.iter().any(|g| g == "refresh_token"))
            .then_some(RefreshPolicy {
                rotate: app.refresh_token.rotation_type == "rotating",
                reuse_detection: true,
                grace_seconds: i64::from(app.refresh_token.leeway_seconds),
                echo: false,
                revoke_family: true,
            })
    }

    fn token_response(&self, issued: Issued) -> Value {
        let body = json!({
            "access_token": issued.access_token,
            "scope": issued.scopes.join(" "),
            "expires_in": issued.expires_in,
            "token_type": "Bearer",
        });
        with_issued_tokens(body, issued.id_token, issued.refresh_token)
    }

    fn offers_client_credentials(&self) -> bool {
        true
    }

    /// A machine-to-machine token for an API (`audience`) the application is authorized for:
    /// `sub` `<client_id>@clients`, `gty` `client-credentials`, the granted permissions in
    /// `scope` (those requested, when `scope` names some).
    fn client_credentials(&self, m2m: &M2mRequest<'_>) -> Result<M2mToken, TokenRefusal> {
        let denied = |error: &str, description: String| {
            Err((StatusCode::FORBIDDEN, oauth_error(error, &description)))
        };
        let client_id = &m2m.client.client_id;
        let allowed = self
            .app(client_id)
            .is_some_and(|a| a.grant_types.iter().any(|g| g == "client_credentials"));
        if !allowed {
            return denied(
                "unauthorized_client",
                "Grant type 'client_credentials' not allowed for the client.".into(),
            );
        }
        let Some(audience) = m2m.audience else {
            return denied(
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured"
                    .into(),
            );
        };
        let Some(api) = self.apis.iter().find(|a| a.identifier == audience) else {
            return denied("access_denied", format!("Service not found: {audience}"));
        };
        let Some(grant) = api
            .machine_to_machine
            .iter()
            .find(|g| &g.client_id == client_id)
        else {
            return denied(
                "access_denied",
                format!("Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"),
            );
        };
        let requested = m2m.scopes();
        let scopes: Vec<&str> = grant
            .permissions
            .iter()
            .map(String::as_str)
            .filter(|p| requested.is_empty() || requested.contains(p))
            .collect();
        let expires_in = 86400;
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(m2m.issuer));
        claims.insert("sub".into(), json!(format!("{client_id}@clients")));
        claims.insert("aud".into(), json!(audience));
        claims.insert("iat".into(), json!(m2m.now));
        claims.insert("exp".into(), json!(m2m.now + expires_in));
        claims.insert("scope".into(), json!(scopes.join(" ")));
        claims.insert("gty".into(), json!("client-credentials"));
        claims.insert("azp".into(), json!(client_id));
        Ok(M2mToken {
            claims,
            id_token: None,
            response: fields([
                ("scope", json!(scopes.join(" "))),
                ("expires_in", json!(expires_in)),
                ("token_type", json!("Bearer")),
            ]),
        })
    }

    fn client_refusal(&self, _why: ClientRefusal, _client_id: &str) -> (StatusCode, Value) {
        (
            StatusCode::UNAUTHORIZED,
            oauth_error("access_denied", "Unauthorized"),
        )
    }

    fn refresh_refusal(&self) -> (StatusCode, Value) {
        (
            StatusCode::FORBIDDEN,
            oauth_error("invalid_grant", "Unknown or invalid refresh token."),
        )
    }

    fn code(&self) -> String {
        ids::random(43)
    }

    fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: 86400,
            id_token: 36000,
        }
    }

    fn edit(&mut self, edit: &PersonaEdit) -> Result<(), String> {
        match edit {
            PersonaEdit::Auth0GroupsClaim { claim: None } => {
                self.triggers.post_login.clear();
                Ok(())
            }
            PersonaEdit::Auth0GroupsClaim { claim: Some(name) } => {
                let action = self
                    .actions
                    .iter_mut()
                    .find(|a| {
                        a.set_id_token_claims
                            .iter()
                            .any(|c| c.value == ClaimValue::Roles)
                    })
                    .ok_or("no Action sets the roles as a claim")?;
                for custom in &mut action.set_id_token_claims {
                    if custom.value == ClaimValue::Roles {
                        custom.name = name.clone();
                    }
                }
                Ok(())
            }
            PersonaEdit::Auth0SigningAlgorithm { algorithm } => {
                if !["RS256", "HS256"].contains(&algorithm.as_str()) {
                    return Err(format!("Auth0 signs with RS256 or HS256, not {algorithm}"));
                }
                let app = self
                    .applications
                    .first_mut()
                    .ok_or("the tenant has no application")?;
                app.jwt_signature_algorithm = algorithm.clone();
                Ok(())
            }
            other => Err(format!("an Auth0 tenant cannot apply {other:?}")),
        }
    }

    fn summary(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Auth0 tenant \"{}\" ({}.auth0.com)",
            self.tenant, self.tenant
        )];
        lines.push(format!(
            "  post-login trigger: {}",
            if self.triggers.post_login.is_empty() {
                "(no Action)".to_string()
            } else {
                self.triggers.post_login.join(", ")
            }
        ));
        for app in &self.applications {
            lines.push(format!(
                "  application \"{}\" {} ({})",
                app.name, app.client_id, app.jwt_signature_algorithm
            ));
        }
        lines
    }
}
