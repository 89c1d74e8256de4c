//! Google: a Workspace domain with its users, consumer (gmail.com) accounts, and Cloud projects
//! with their OAuth consent screen (Internal or External) and OAuth web clients. Google issues no
//! groups claim, ever.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    client, ids, oauth_error, token_settings, unique, with_issued_tokens, AccessToken, Built,
    ClientRefusal, Ctx, Dialect, ErrorPage, Issued, Locator, LoginForm, Model, NewUser,
    PersonaEdit, PersonaError, RefreshPolicy, Refusal, Server, TokenRefusal, Vendor,
};
use crate::realm::{Client, User};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceFile {
    #[allow(dead_code)]
    vendor: Vendor,
    workspace: WorkspaceInfo,
    #[serde(default)]
    consumer_accounts: Vec<AccountFile>,
    projects: Vec<ProjectFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceInfo {
    primary_domain: String,
    #[serde(default)]
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    customer_id: Option<String>,
    users: Vec<AccountFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountFile {
    email: String,
    password: String,
    given_name: String,
    family_name: String,
    /// The numeric `sub`; derived when absent.
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    suspended: bool,
    #[serde(default = "en")]
    locale: String,
}

fn en() -> String {
    "en".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    project_id: String,
    oauth_consent_screen: ConsentScreen,
    oauth_clients: Vec<ClientFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentScreen {
    /// `internal`: only the Workspace's own accounts; `external`: any Google account.
    user_type: UserType,
    app_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum UserType {
    Internal,
    External,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    name: String,
    /// `<number>-<id>.apps.googleusercontent.com`.
    client_id: String,
    client_secret: String,
    authorized_redirect_uris: Vec<String>,
}

#[derive(Debug, Clone)]
struct Account {
    username: String,
    workspace: bool,
    suspended: bool,
    locale: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    domain: String,
    accounts: Vec<Account>,
    projects: Vec<ProjectFile>,
}

pub(crate) fn build(file: WorkspaceFile, at: &Locator<'_>) -> Result<Built, PersonaError> {
    let domain = file.workspace.primary_domain.to_lowercase();
    let all: Vec<&AccountFile> = file
        .workspace
        .users
        .iter()
        .chain(&file.consumer_accounts)
        .collect();
    unique(
        at,
        "accounts.email",
        "account",
        all.iter().map(|a| a.email.as_str()),
    )?;
    for (i, user) in file.workspace.users.iter().enumerate() {
        let in_domain = user
            .email
            .to_lowercase()
            .rsplit_once('@')
            .is_some_and(|(_, d)| d == domain);
        if !in_domain {
            return Err(at.invalid(
                &format!("workspace.users[{i}].email"),
                "users:",
                &user.email,
                format!("\"{}\" is not in the Workspace domain {domain}; list it under `consumer_accounts`", user.email),
            ));
        }
    }
    for (i, account) in file.consumer_accounts.iter().enumerate() {
        if account
            .email
            .to_lowercase()
            .ends_with(&format!("@{domain}"))
        {
            return Err(at.invalid(
                &format!("consumer_accounts[{i}].email"),
                "consumer_accounts:",
                &account.email,
                format!(
                    "\"{}\" is in the Workspace domain; list it under `workspace.users`",
                    account.email
                ),
            ));
        }
    }
    for account in &all {
        if let Some(id) = &account.id {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(at.invalid(
                    "accounts.id",
                    &account.email,
                    id,
                    format!("`{id}` is not a Google account id (digits only)"),
                ));
            }
        }
    }
    let mut client_ids: Vec<&str> = Vec::new();
    for (i, project) in file.projects.iter().enumerate() {
        for (j, client) in project.oauth_clients.iter().enumerate() {
            if !client.client_id.ends_with(".apps.googleusercontent.com") {
                return Err(at.invalid(
                    &format!("projects[{i}].oauth_clients[{j}].client_id"),
                    &project.project_id,
                    &client.client_id,
                    "Google OAuth client ids end in `.apps.googleusercontent.com`".into(),
                ));
            }
            client_ids.push(&client.client_id);
        }
    }
    unique(
        at,
        "projects.oauth_clients.client_id",
        "OAuth client",
        client_ids,
    )?;

    let users = all
        .iter()
        .map(|a| {
            super::user(NewUser {
                id: a.id.clone().unwrap_or_else(|| {
                    ids::digits(&format!("google:{}", a.email.to_lowercase()), 21)
                }),
                login: &a.email,
                password: Some(&a.password),
                enabled: !a.suspended,
                email: Some(a.email.clone()),
                email_verified: true,
                first_name: Some(a.given_name.clone()),
                last_name: Some(a.family_name.clone()),
                groups: Vec::new(),
            })
        })
        .collect();
    let clients = file
        .projects
        .iter()
        .flat_map(|p| &p.oauth_clients)
        .map(|c| {
            client(
                &c.client_id,
                &c.name,
                Some(&c.client_secret),
                &c.authorized_redirect_uris,
                false,
            )
        })
        .collect();
    let accounts = file
        .workspace
        .users
        .iter()
        .map(|a| (a, true))
        .chain(file.consumer_accounts.iter().map(|a| (a, false)))
        .map(|(a, workspace)| Account {
            username: a.email.to_lowercase(),
            workspace,
            suspended: a.suspended,
            locale: a.locale.clone(),
        })
        .collect();
    Ok(Built {
        name: domain.clone(),
        display_name: "Google".into(),
        groups: Vec::new(),
        users,
        clients,
        saml_clients: Vec::new(),
        tokens: token_settings(3599),
        model: Model::Google(Workspace {
            domain,
            accounts,
            projects: file.projects,
        }),
    })
}

impl Workspace {
    fn account(&self, user: &User) -> Option<&Account> {
        self.accounts.iter().find(|a| a.username == user.username)
    }

    fn project_of(&self, client_id: &str) -> Option<&ProjectFile> {
        self.projects
            .iter()
            .find(|p| p.oauth_clients.iter().any(|c| c.client_id == client_id))
    }

    /// `hd`: only for Workspace accounts.
    fn hd(&self, user: &User) -> Option<String> {
        self.account(user)
            .filter(|a| a.workspace)
            .map(|_| self.domain.clone())
    }

    fn profile(&self, ctx: &Ctx<'_>, claims: &mut Map<String, Value>) {
        let user = ctx.user;
        if ctx.has_scope("email") {
            claims.insert("email".into(), json!(user.email));
            claims.insert("email_verified".into(), json!(true));
        }
        if ctx.has_scope("profile") {
            let name = format!(
                "{} {}",
                user.first_name.clone().unwrap_or_default(),
                user.last_name.clone().unwrap_or_default()
            );
            claims.insert("name".into(), json!(name.trim()));
            claims.insert(
                "picture".into(),
                json!(format!(
                    "https://lh3.googleusercontent.com/a/{}=s96-c",
                    ids::base62(&user.id, 40)
                )),
            );
            claims.insert("given_name".into(), json!(user.first_name));
            claims.insert("family_name".into(), json!(user.last_name));
            if let Some(account) = self.account(user) {
                claims.insert("locale".into(), json!(account.locale));
            }
        }
    }

    /// The granted scopes as Google's token response spells them.
    fn expanded(scopes: &[String]) -> Vec<String> {
        scopes
            .iter()
            .map(|s| match s.as_str() {
                "email" => "https://www.googleapis.com/auth/userinfo.email".to_string(),
                "profile" => "https://www.googleapis.com/auth/userinfo.profile".to_string(),
                other => other.to_string(),
            })
            .collect()
    }
}

impl Dialect for Workspace {
    fn vendor(&self) -> Vendor {
        Vendor::Google
    }

    fn servers(&self, base: &str) -> Vec<Server> {
        vec![Server {
            id: String::new(),
            issuer: base.to_string(),
            discovery: "/.well-known/openid-configuration".into(),
            jwks: "/oauth2/v3/certs".into(),
            authorize: "/o/oauth2/v2/auth".into(),
            token: "/token".into(),
            userinfo: Some("/v1/userinfo".into()),
            // Google has no end-session endpoint; applications revoke at /revoke instead.
            logout: Vec::new(),
            discovery_only: false,
        }]
    }

    fn discovery(&self, server: &Server, _servers: &[Server], base: &str) -> Value {
        let url = |path: &str| format!("{base}{path}");
        json!({
            "issuer": server.issuer,
            "authorization_endpoint": url(&server.authorize),
            "device_authorization_endpoint": url("/device/code"),
            "token_endpoint": url(&server.token),
            "userinfo_endpoint": url("/v1/userinfo"),
            "revocation_endpoint": url("/revoke"),
            "jwks_uri": url(&server.jwks),
            "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"],
        })
    }

    fn login_path(&self) -> String {
        "/v3/signin/challenge".into()
    }

    fn login_form(&self) -> LoginForm {
        LoginForm {
            title: "Sign in - Google Accounts".into(),
            heading: "Sign in".into(),
            username_field: "identifier",
            username_label: "Email or phone",
            password_field: "Passwd",
            submit: "Next",
            identifier_first: true,
            bad_credentials: "Wrong password. Try again or click Forgot password to reset it.",
        }
    }

    fn unknown_client(&self, _client_id: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::UNAUTHORIZED,
            title: "Access blocked: Authorization Error".into(),
            message: "The OAuth client was not found. Error 401: invalid_client".into(),
        }
    }

    fn redirect_mismatch(&self, _client: &Client, _redirect_uri: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Access blocked: This app's request is invalid".into(),
            message: "You can't sign in because this app sent an invalid request. You can try again later, or contact the developer about this issue. Error 400: redirect_uri_mismatch".into(),
        }
    }

    fn check_scopes(
        &self,
        _server: &Server,
        _client: &Client,
        requested: &[&str],
    ) -> Result<Vec<String>, Refusal> {
        let known = [
            "openid",
            "email",
            "profile",
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/userinfo.profile",
        ];
        if let Some(bad) = requested.iter().find(|s| !known.contains(s)) {
            return Err(Refusal::page(
                StatusCode::BAD_REQUEST,
                "Access blocked: Authorization Error",
                format!("Some requested scopes were invalid. {{invalid=[{bad}]}} Error 400: invalid_scope"),
            ));
        }
        Ok(requested
            .iter()
            .map(|s| match *s {
                "https://www.googleapis.com/auth/userinfo.email" => "email".to_string(),
                "https://www.googleapis.com/auth/userinfo.profile" => "profile".to_string(),
                other => other.to_string(),
            })
            .collect())
    }

    fn admit(&self, client: &Client, user: &User) -> Result<(), Refusal> {
        let account = self.account(user);
        if account.is_some_and(|a| a.suspended) {
            return Err(Refusal::page(
                StatusCode::OK,
                "Account disabled",
                "Your account has been suspended. This account was suspended by your administrator.",
            ));
        }
        let internal = self
            .project_of(&client.client_id)
            .is_some_and(|p| p.oauth_consent_screen.user_type == UserType::Internal);
        if internal && !account.is_some_and(|a| a.workspace) {
            let app = self
                .project_of(&client.client_id)
                .map(|p| p.oauth_consent_screen.app_name.clone())
                .unwrap_or_default();
            return Err(Refusal::page(
                StatusCode::FORBIDDEN,
                "Access blocked: Authorization Error",
                format!("{app} can only be used within its organization. Error 403: org_internal"),
            ));
        }
        Ok(())
    }

    fn sub(&self, _client: &Client, user: &User) -> String {
        user.id.clone()
    }

    fn id_token(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(ctx.issuer));
        claims.insert("azp".into(), json!(ctx.client.client_id));
        claims.insert("aud".into(), json!(ctx.client.client_id));
        claims.insert("sub".into(), json!(ctx.user.id));
        if let Some(hd) = self.hd(ctx.user) {
            claims.insert("hd".into(), json!(hd));
        }
        if let Some(nonce) = ctx.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        self.profile(ctx, &mut claims);
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("exp".into(), json!(ctx.now + 3600));
        claims
    }

    fn access_token(&self, _ctx: &Ctx<'_>) -> AccessToken {
        AccessToken::Opaque(format!("ya29.a0{}", ids::random(210)))
    }

    fn userinfo(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(ctx.user.id));
        self.profile(ctx, &mut claims);
        if let Some(hd) = self.hd(ctx.user) {
            claims.insert("hd".into(), json!(hd));
        }
        claims
    }

    fn refresh(&self, ctx: &Ctx<'_>) -> Option<RefreshPolicy> {
        (ctx.params.get("access_type").map(String::as_str) == Some("offline")).then_some(
            RefreshPolicy {
                rotate: false,
                reuse_detection: false,
                grace_seconds: 0,
                echo: false,
                revoke_family: true,
            },
        )
    }

    fn token_response(&self, issued: Issued) -> Value {
        let body = json!({
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "scope": Workspace::expanded(&issued.scopes).join(" "),
            "token_type": "Bearer",
        });
        with_issued_tokens(body, issued.id_token, issued.refresh_token)
    }

    /// Google's OAuth clients have no client credentials grant (a service account signs its
    /// own JWT assertion instead), and its token endpoint names the grant it refuses.
    fn unsupported_grant(&self, grant_type: &str) -> TokenRefusal {
        (
            StatusCode::BAD_REQUEST,
            oauth_error(
                "unsupported_grant_type",
                &format!("Invalid grant_type: {grant_type}"),
            ),
        )
    }

    fn client_refusal(&self, why: ClientRefusal, _client_id: &str) -> (StatusCode, Value) {
        match why {
            ClientRefusal::UnknownClient => (
                StatusCode::UNAUTHORIZED,
                oauth_error("invalid_client", "The OAuth client was not found."),
            ),
            _ => (
                StatusCode::UNAUTHORIZED,
                oauth_error("invalid_client", "Unauthorized"),
            ),
        }
    }

    fn refresh_refusal(&self) -> (StatusCode, Value) {
        (
            StatusCode::BAD_REQUEST,
            oauth_error("invalid_grant", "Token has been expired or revoked."),
        )
    }

    fn callback_params(&self, user: &User, scopes: &[String]) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("scope", Workspace::expanded(scopes).join(" ")),
            ("authuser", "0".into()),
        ];
        if let Some(hd) = self.hd(user) {
            params.push(("hd", hd));
        }
        params.push(("prompt", "consent".into()));
        params
    }

    fn code(&self) -> String {
        format!("4/0A{}", ids::random(71))
    }

    fn lifetimes(&self) -> super::Lifetimes {
        super::Lifetimes {
            access_token: 3599,
            id_token: 3600,
        }
    }

    fn check_secret(&self, client: &Client, presented: &str) -> super::SecretCheck {
        let secret = self
            .projects
            .iter()
            .flat_map(|p| &p.oauth_clients)
            .find(|c| c.client_id == client.client_id)
            .map(|c| c.client_secret.as_str());
        if secret == Some(presented) {
            super::SecretCheck::Valid
        } else {
            super::SecretCheck::Wrong
        }
    }

    fn edit(&mut self, edit: &PersonaEdit) -> Result<(), String> {
        if let PersonaEdit::GoogleClientSecret { client_id, secret } = edit {
            let client = self
                .projects
                .iter_mut()
                .flat_map(|p| &mut p.oauth_clients)
                .find(|c| &c.client_id == client_id)
                .ok_or_else(|| format!("no OAuth client {client_id}"))?;
            client.client_secret = secret.clone();
            return Ok(());
        }
        let PersonaEdit::GoogleConsentScreen { user_type } = edit else {
            return Err(format!("a Google Workspace cannot apply {edit:?}"));
        };
        let kind = match user_type.as_str() {
            "internal" => UserType::Internal,
            "external" => UserType::External,
            other => {
                return Err(format!(
                    "the consent screen's user type is internal or external, not {other}"
                ))
            }
        };
        for project in &mut self.projects {
            project.oauth_consent_screen.user_type = kind;
        }
        Ok(())
    }

    fn summary(&self) -> Vec<String> {
        let mut lines = vec![format!("Google Workspace \"{}\"", self.domain)];
        for project in &self.projects {
            lines.push(format!(
                "  project {} (consent screen {:?}): {}",
                project.project_id,
                project.oauth_consent_screen.user_type,
                project
                    .oauth_clients
                    .iter()
                    .map(|c| c.client_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        lines
    }
}
