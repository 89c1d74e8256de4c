//! Amazon Cognito: a user pool with its groups, users and app clients, and its managed-login
//! (hosted UI) domain. The issuer is `<base>/<pool-id>`; the hosted UI's `/oauth2/*` endpoints
//! and `/login` share the base.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    client, fields, ids, suggestion, token_settings, unique, with_issued_tokens,
    with_sign_out_urls, AccessToken, Built, ClientRefusal, Ctx, Dialect, ErrorPage, Issued,
    Locator, LoginForm, Logout, LogoutRefusal, LogoutStyle, M2mRequest, M2mToken, Model, NewUser,
    PersonaEdit, PersonaError, RefreshPolicy, Refusal, Server, TokenRefusal, Vendor,
};
use crate::realm::{Client, User};

/// The OAuth flow of a machine-to-machine app client; Cognito allows it alone.
const CLIENT_CREDENTIALS: &str = "client_credentials";

/// The scopes a Cognito app client can allow (besides resource-server scopes).
const COGNITO_SCOPES: [&str; 5] = [
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoolFile {
    #[allow(dead_code)]
    vendor: Vendor,
    region: String,
    user_pool: UserPoolFile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPoolFile {
    /// `<region>_<9 characters>`, e.g. `us-east-1_AcMe12345`.
    id: String,
    name: String,
    /// The managed-login domain prefix: `<domain>.auth.<region>.amazoncognito.com`.
    domain: String,
    #[serde(default)]
    groups: Vec<GroupFile>,
    users: Vec<UserFile>,
    app_clients: Vec<AppClientFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    name: String,
    #[serde(default)]
    precedence: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    username: String,
    password: String,
    /// The `sub` attribute (a UUID); derived when absent.
    #[serde(default)]
    sub: Option<String>,
    email: String,
    #[serde(default = "yes")]
    email_verified: bool,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppClientFile {
    client_name: String,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    callback_urls: Vec<String>,
    /// "Allowed sign-out URLs": the `logout_uri`s `/logout` accepts.
    #[serde(default)]
    logout_urls: Vec<String>,
    #[serde(default = "code_flow")]
    allowed_oauth_flows: Vec<String>,
    allowed_oauth_scopes: Vec<String>,
    #[serde(default)]
    refresh_token_rotation: Rotation,
}

impl AppClientFile {
    fn is_m2m(&self) -> bool {
        self.allowed_oauth_flows
            .iter()
            .any(|f| f == CLIENT_CREDENTIALS)
    }
}

fn code_flow() -> Vec<String> {
    vec!["code".into()]
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    retry_grace_period_seconds: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Pool {
    region: String,
    id: String,
    name: String,
    domain: String,
    clients: Vec<AppClientFile>,
    /// Usernames as signed in, by login (the Cognito username keeps its case in tokens).
    usernames: Vec<(String, String)>,
}

pub(crate) fn build(file: PoolFile, at: &Locator<'_>) -> Result<Built, PersonaError> {
    let pool = &file.user_pool;
    let valid_id = pool
        .id
        .split_once('_')
        .is_some_and(|(region, rest)| region == file.region && !rest.is_empty());
    if !valid_id {
        return Err(at.invalid(
            "user_pool.id",
            "user_pool:",
            &pool.id,
            format!(
                "`{}` is not a user pool id of region {}: `{}_<id>`",
                pool.id, file.region, file.region
            ),
        ));
    }
    unique(
        at,
        "user_pool.groups.name",
        "group",
        pool.groups.iter().map(|g| g.name.as_str()),
    )?;
    unique(
        at,
        "user_pool.users.username",
        "user",
        pool.users.iter().map(|u| u.username.as_str()),
    )?;
    unique(
        at,
        "user_pool.app_clients.client_id",
        "app client",
        pool.app_clients.iter().map(|c| c.client_id.as_str()),
    )?;
    let groups: Vec<&str> = pool.groups.iter().map(|g| g.name.as_str()).collect();
    for (i, user) in pool.users.iter().enumerate() {
        for group in &user.groups {
            if !groups.contains(&group.as_str()) {
                return Err(at.invalid(
                    &format!("user_pool.users[{i}].groups"),
                    &format!("username: {}", user.username),
                    group,
                    format!(
                        "user \"{}\" is in group \"{group}\", which the user pool does not define; add it under `groups`{}",
                        user.username,
                        suggestion(group, groups.iter().copied())
                    ),
                ));
            }
        }
    }
    for (i, app) in pool.app_clients.iter().enumerate() {
        for scope in &app.allowed_oauth_scopes {
            if !COGNITO_SCOPES.contains(&scope.as_str()) && !scope.contains('/') {
                return Err(at.invalid(
                    &format!("user_pool.app_clients[{i}].allowed_oauth_scopes"),
                    &app.client_id,
                    scope,
                    format!(
                        "`{scope}` is not a Cognito scope: use openid, email, phone, profile, aws.cognito.signin.user.admin or a resource-server scope `<identifier>/<scope>`"
                    ),
                ));
            }
        }
        let flows_key = format!("user_pool.app_clients[{i}].allowed_oauth_flows");
        if app.is_m2m() {
            if app.allowed_oauth_flows.len() > 1 {
                return Err(at.invalid(
                    &flows_key,
                    &app.client_id,
                    "allowed_oauth_flows",
                    "Cognito allows `client_credentials` only alone, not with `code` or `implicit`; make a separate app client".into(),
                ));
            }
            if app.client_secret.is_none() {
                return Err(at.invalid(
                    &format!("user_pool.app_clients[{i}]"),
                    &app.client_id,
                    "client_id",
                    "an app client with `client_credentials` needs a `client_secret`".into(),
                ));
            }
            if let Some(scope) = app.allowed_oauth_scopes.iter().find(|s| !s.contains('/')) {
                return Err(at.invalid(
                    &format!("user_pool.app_clients[{i}].allowed_oauth_scopes"),
                    &app.client_id,
                    scope,
                    format!("`{scope}`: a `client_credentials` app client allows resource-server scopes only (`<identifier>/<scope>`)"),
                ));
            }
        } else if !app.allowed_oauth_flows.iter().any(|f| f == "code") {
            return Err(at.invalid(
                &flows_key,
                &app.client_id,
                "allowed_oauth_flows",
                "the emulator serves the authorization-code grant (`code`) and `client_credentials`: add one".into(),
            ));
        }
        if app.refresh_token_rotation.retry_grace_period_seconds > 60 {
            return Err(at.invalid(
                &format!(
                    "user_pool.app_clients[{i}].refresh_token_rotation.retry_grace_period_seconds"
                ),
                &app.client_id,
                "retry_grace_period_seconds",
                "Cognito allows a grace period of 0 to 60 seconds".into(),
            ));
        }
    }

    // Groups in precedence order: Cognito lists `cognito:groups` lowest precedence first.
    let mut ordered: Vec<&GroupFile> = pool.groups.iter().collect();
    ordered.sort_by_key(|g| g.precedence.unwrap_or(u32::MAX));
    let users = pool
        .users
        .iter()
        .map(|u| {
            let mut member: Vec<String> = ordered
                .iter()
                .filter(|g| u.groups.contains(&g.name))
                .map(|g| g.name.clone())
                .collect();
            member.dedup();
            super::user(NewUser {
                id: u
                    .sub
                    .clone()
                    .unwrap_or_else(|| ids::uuid(&format!("{}:{}", pool.id, u.username))),
                login: &u.username,
                password: Some(&u.password),
                enabled: u.enabled,
                email: Some(u.email.clone()),
                email_verified: u.email_verified,
                first_name: u.given_name.clone(),
                last_name: u.family_name.clone(),
                groups: member,
            })
        })
        .collect();
    let clients = pool
        .app_clients
        .iter()
        .map(|c| {
            with_sign_out_urls(
                client(
                    &c.client_id,
                    &c.client_name,
                    c.client_secret.as_deref(),
                    &c.callback_urls,
                    false,
                ),
                &c.logout_urls,
            )
        })
        .collect();
    Ok(Built {
        name: pool.id.clone(),
        display_name: pool.name.clone(),
        groups: pool.groups.iter().map(|g| g.name.clone()).collect(),
        users,
        clients,
        saml_clients: Vec::new(),
        tokens: token_settings(3600),
        model: Model::Cognito(Pool {
            region: file.region.clone(),
            id: pool.id.clone(),
            name: pool.name.clone(),
            domain: pool.domain.clone(),
            clients: pool.app_clients.clone(),
            usernames: pool
                .users
                .iter()
                .map(|u| (u.username.to_lowercase(), u.username.clone()))
                .collect(),
        }),
    })
}

impl Pool {
    fn app(&self, client_id: &str) -> Option<&AppClientFile> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    fn username(&self, user: &User) -> String {
        self.usernames
            .iter()
            .find(|(login, _)| *login == user.username)
            .map_or_else(|| user.username.clone(), |(_, name)| name.clone())
    }

    fn groups(ctx: &Ctx<'_>, claims: &mut Map<String, Value>) {
        let groups = ctx.group_names();
        if !groups.is_empty() {
            claims.insert("cognito:groups".into(), json!(groups));
        }
    }
}

impl Dialect for Pool {
    fn vendor(&self) -> Vendor {
        Vendor::Cognito
    }

    fn servers(&self, base: &str) -> Vec<Server> {
        vec![Server {
            id: String::new(),
            issuer: format!("{base}/{}", self.id),
            discovery: format!("/{}/.well-known/openid-configuration", self.id),
            jwks: format!("/{}/.well-known/jwks.json", self.id),
            authorize: "/oauth2/authorize".into(),
            token: "/oauth2/token".into(),
            userinfo: Some("/oauth2/userInfo".into()),
            logout: vec![Logout {
                path: "/logout".into(),
                style: LogoutStyle::ClientNamed {
                    target: "logout_uri",
                },
            }],
            discovery_only: false,
        }]
    }

    fn discovery(&self, server: &Server, _servers: &[Server], base: &str) -> Value {
        let url = |path: &str| format!("{base}{path}");
        json!({
            "authorization_endpoint": url(&server.authorize),
            "end_session_endpoint": url(&server.logout[0].path),
            "id_token_signing_alg_values_supported": ["RS256"],
            "issuer": server.issuer,
            "jwks_uri": url(&server.jwks),
            "response_types_supported": ["code", "token"],
            "revocation_endpoint": url("/oauth2/revoke"),
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "subject_types_supported": ["public"],
            "token_endpoint": url(&server.token),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "userinfo_endpoint": url("/oauth2/userInfo"),
        })
    }

    fn login_path(&self) -> String {
        "/login".into()
    }

    fn login_form(&self) -> LoginForm {
        LoginForm {
            title: "Signin".into(),
            heading: "Sign in with your username and password".into(),
            username_field: "username",
            username_label: "Username",
            password_field: "password",
            submit: "Sign in",
            identifier_first: false,
            bad_credentials: "Incorrect username or password.",
        }
    }

    fn unknown_client(&self, _client_id: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Error".into(),
            message: "An error was encountered with the requested page. Error: invalid_client"
                .into(),
        }
    }

    fn redirect_mismatch(&self, _client: &Client, _redirect_uri: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Error".into(),
            message: "An error was encountered with the requested page. Error: redirect_mismatch"
                .into(),
        }
    }

    fn logout_refusal(&self, why: LogoutRefusal<'_>) -> ErrorPage {
        match why {
            LogoutRefusal::Target { client, uri, .. } => self.redirect_mismatch(client, uri),
            LogoutRefusal::UnknownClient(id) => self.unknown_client(id),
            // `/logout` reads no `id_token_hint`.
            LogoutRefusal::MissingHint | LogoutRefusal::BadHint => self.signed_out(),
        }
    }

    fn signed_out(&self) -> ErrorPage {
        // `/logout` needs `logout_uri` (or `redirect_uri` with the sign-in parameters, which
        // the emulator does not serve): without one there is nowhere to go.
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Error".into(),
            message: "An error was encountered with the requested page. Error: invalid_request"
                .into(),
        }
    }

    fn check_scopes(
        &self,
        _server: &Server,
        client: &Client,
        requested: &[&str],
    ) -> Result<Vec<String>, Refusal> {
        let app = self.app(&client.client_id);
        if app.is_some_and(AppClientFile::is_m2m) {
            return Err(Refusal::Redirect {
                error: "unauthorized_client".into(),
                description: None,
            });
        }
        let allowed = app
            .map(|a| a.allowed_oauth_scopes.clone())
            .unwrap_or_default();
        if requested.iter().all(|s| allowed.iter().any(|a| a == s)) {
            Ok(requested.iter().map(|s| s.to_string()).collect())
        } else {
            // As Cognito sends it back: the error is `invalid_request`, the reason its
            // description.
            Err(Refusal::redirect("invalid_request", "invalid_scope"))
        }
    }

    fn admit(&self, _client: &Client, user: &User) -> Result<(), Refusal> {
        if user.enabled {
            Ok(())
        } else {
            Err(Refusal::page(StatusCode::OK, "Signin", "User is disabled."))
        }
    }

    fn sub(&self, _client: &Client, user: &User) -> String {
        user.id.clone()
    }

    fn id_token(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let user = ctx.user;
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(user.id));
        Pool::groups(ctx, &mut claims);
        claims.insert("email_verified".into(), json!(user.email_verified));
        claims.insert("iss".into(), json!(ctx.issuer));
        claims.insert("cognito:username".into(), json!(self.username(user)));
        claims.insert(
            "origin_jti".into(),
            json!(ids::uuid(&format!("origin:{}", ctx.session_id))),
        );
        claims.insert("aud".into(), json!(ctx.client.client_id));
        claims.insert(
            "event_id".into(),
            json!(ids::uuid(&format!("event:{}", ctx.session_id))),
        );
        claims.insert("token_use".into(), json!("id"));
        if let Some(auth_time) = ctx.auth_time {
            claims.insert("auth_time".into(), json!(auth_time));
        }
        claims.insert("exp".into(), json!(ctx.now + 3600));
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("jti".into(), json!(ids::uuid(&ids::random(16))));
        if let Some(given) = &user.first_name {
            claims.insert("given_name".into(), json!(given));
        }
        if let Some(family) = &user.last_name {
            claims.insert("family_name".into(), json!(family));
        }
        claims.insert("email".into(), json!(user.email));
        if let Some(nonce) = ctx.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        claims
    }

    fn access_token(&self, ctx: &Ctx<'_>) -> AccessToken {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(ctx.user.id));
        Pool::groups(ctx, &mut claims);
        claims.insert("iss".into(), json!(ctx.issuer));
        claims.insert("version".into(), json!(2));
        claims.insert("client_id".into(), json!(ctx.client.client_id));
        claims.insert(
            "origin_jti".into(),
            json!(ids::uuid(&format!("origin:{}", ctx.session_id))),
        );
        claims.insert(
            "event_id".into(),
            json!(ids::uuid(&format!("event:{}", ctx.session_id))),
        );
        claims.insert("token_use".into(), json!("access"));
        claims.insert("scope".into(), json!(ctx.scopes.join(" ")));
        if let Some(auth_time) = ctx.auth_time {
            claims.insert("auth_time".into(), json!(auth_time));
        }
        claims.insert("exp".into(), json!(ctx.now + 3600));
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("jti".into(), json!(ids::uuid(&ids::random(16))));
        claims.insert("username".into(), json!(self.username(ctx.user)));
        AccessToken::Jwt(claims)
    }

    fn userinfo(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let user = ctx.user;
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(user.id));
        if ctx.has_scope("email") {
            // Cognito's userInfo answers attribute values as strings, booleans included.
            claims.insert(
                "email_verified".into(),
                json!(user.email_verified.to_string()),
            );
            claims.insert("email".into(), json!(user.email));
        }
        if ctx.has_scope("profile") {
            if let Some(given) = &user.first_name {
                claims.insert("given_name".into(), json!(given));
            }
            if let Some(family) = &user.last_name {
                claims.insert("family_name".into(), json!(family));
            }
        }
        claims.insert("username".into(), json!(self.username(user)));
        claims
    }

    fn refresh(&self, ctx: &Ctx<'_>) -> Option<RefreshPolicy> {
        let rotation = self
            .app(&ctx.client.client_id)
            .map(|a| a.refresh_token_rotation.clone())
            .unwrap_or_default();
        Some(RefreshPolicy {
            rotate: rotation.enabled,
            reuse_detection: rotation.enabled,
            grace_seconds: i64::from(rotation.retry_grace_period_seconds),
            echo: false,
            revoke_family: true,
        })
    }

    fn token_response(&self, issued: Issued) -> Value {
        let body = json!({
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "token_type": "Bearer",
        });
        with_issued_tokens(body, issued.id_token, issued.refresh_token)
    }

    fn offers_client_credentials(&self) -> bool {
        true
    }

    /// A machine-to-machine app client's token for its resource-server scopes (all it allows
    /// when `scope` is absent): `sub` and `client_id` the client id, `token_use` `access`, no
    /// `username`. Cognito's errors here carry no description.
    fn client_credentials(&self, m2m: &M2mRequest<'_>) -> Result<M2mToken, TokenRefusal> {
        let refuse = |error: &str| Err((StatusCode::BAD_REQUEST, json!({ "error": error })));
        let client_id = &m2m.client.client_id;
        let Some(app) = self.app(client_id).filter(|a| a.is_m2m()) else {
            return refuse("unauthorized_client");
        };
        let requested = m2m.scopes();
        if requested
            .iter()
            .any(|s| !app.allowed_oauth_scopes.iter().any(|a| a == s))
        {
            return refuse("invalid_scope");
        }
        let scopes: Vec<&str> = if requested.is_empty() {
            app.allowed_oauth_scopes
                .iter()
                .map(String::as_str)
                .collect()
        } else {
            requested
        };
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(client_id));
        claims.insert("token_use".into(), json!("access"));
        claims.insert("scope".into(), json!(scopes.join(" ")));
        claims.insert("auth_time".into(), json!(m2m.now));
        claims.insert("iss".into(), json!(m2m.issuer));
        claims.insert("exp".into(), json!(m2m.now + 3600));
        claims.insert("iat".into(), json!(m2m.now));
        claims.insert("version".into(), json!(2));
        claims.insert("jti".into(), json!(ids::uuid(&ids::random(16))));
        claims.insert("client_id".into(), json!(client_id));
        Ok(M2mToken {
            claims,
            id_token: None,
            response: fields([("expires_in", json!(3600)), ("token_type", json!("Bearer"))]),
        })
    }

    fn client_refusal(&self, _why: ClientRefusal, _client_id: &str) -> (StatusCode, Value) {
        (StatusCode::BAD_REQUEST, json!({"error": "invalid_client"}))
    }

    fn refresh_refusal(&self) -> (StatusCode, Value) {
        (StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}))
    }

    fn code(&self) -> String {
        ids::uuid(&ids::random(16))
    }

    fn edit(&mut self, edit: &PersonaEdit) -> Result<(), String> {
        let PersonaEdit::CognitoAllowedScopes { scopes } = edit else {
            return Err(format!("a Cognito user pool cannot apply {edit:?}"));
        };
        let app = self
            .clients
            .first_mut()
            .ok_or("the user pool has no app client")?;
        app.allowed_oauth_scopes = scopes.clone();
        Ok(())
    }

    fn summary(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Cognito user pool \"{}\" ({}), managed login {}.auth.{}.amazoncognito.com",
            self.name, self.id, self.domain, self.region
        )];
        for app in &self.clients {
            lines.push(format!(
                "  app client \"{}\" {}: scopes {}",
                app.client_name,
                app.client_id,
                app.allowed_oauth_scopes.join(" ")
            ));
        }
        lines
    }
}
