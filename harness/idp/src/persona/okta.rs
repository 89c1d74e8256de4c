//! Okta: an org with its org authorization server (issuer `<base>`) and custom authorization
//! servers (issuer `<base>/oauth2/<id>`), groups (every user is also in `Everyone`), users, and
//! OIDC web apps with their assignments, org-server groups claim and refresh-token settings.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    client, fields, ids, oauth_error, saml_client, suggestion, token_settings, unique,
    with_issued_tokens, with_sign_out_urls, AccessToken, Built, ClientRefusal, Ctx, Dialect,
    ErrorPage, GroupFilter, Issued, Locator, LoginForm, Logout, LogoutRefusal, LogoutStyle,
    M2mRequest, M2mToken, Model, NewUser, PersonaEdit, PersonaError, RefreshPolicy, Refusal,
    Server, TokenRefusal, Vendor,
};
use crate::realm::{Client, SamlClient, User};

/// The group every Okta user belongs to.
const EVERYONE: &str = "Everyone";
/// Scopes every authorization server knows.
const OIDC_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrgFile {
    #[allow(dead_code)]
    vendor: super::Vendor,
    /// The org's subdomain: `acme` for `acme.okta.com`.
    org: String,
    #[serde(default)]
    authorization_servers: Vec<AuthServerFile>,
    #[serde(default)]
    groups: Vec<GroupFile>,
    users: Vec<UserFile>,
    apps: Vec<AppFile>,
    #[serde(default)]
    saml_apps: Vec<SamlAppFile>,
}

/// Applications → Create App Integration → SAML 2.0, as the admin console's "SAML Settings"
/// and the app's Sign On tab show it (Okta docs, "Create SAML app integrations" and "Define
/// group attribute statements").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SamlAppFile {
    label: String,
    /// The app's id (`0oa…`): its IdP issuer is `http://www.okta.com/<id>`.
    id: String,
    /// The app's name in its embed link, `/app/<name>/<id>/sso/saml`.
    name: String,
    /// "Single sign-on URL": the SP's ACS.
    sso_url: String,
    /// "Audience URI (SP Entity ID)".
    audience_uri: String,
    /// "Name ID format".
    #[serde(default)]
    name_id_format: OktaNameIdFormat,
    /// "Application username": what the NameID carries.
    #[serde(default)]
    application_username: AppUsername,
    /// "Response": `Signed` (the default) or `Unsigned`.
    #[serde(default = "signed")]
    response: Signature,
    /// "Assertion Signature": `Signed` (the default) or `Unsigned`.
    #[serde(default = "signed")]
    assertion_signature: Signature,
    /// "Signature Algorithm": `RSA_SHA256` (the default) or `RSA_SHA1`.
    #[serde(default)]
    signature_algorithm: SignatureAlgorithmFile,
    /// "Attribute Statements": a name and an Okta Expression Language value.
    #[serde(default)]
    attribute_statements: Vec<AttributeStatement>,
    /// "Group Attribute Statements": the user's groups that pass the filter ("Starts with",
    /// "Equals", "Contains", "Matches regex": STARTS_WITH, EQUALS, CONTAINS, REGEX in the API).
    #[serde(default)]
    group_attribute_statements: Vec<GroupAttributeStatement>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
enum OktaNameIdFormat {
    #[default]
    Unspecified,
    EmailAddress,
    Persistent,
    Transient,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AppUsername {
    /// "Okta username" (the default).
    #[default]
    OktaUsername,
    /// "Email".
    Email,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum Signature {
    Signed,
    Unsigned,
}

fn signed() -> Signature {
    Signature::Signed
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
enum SignatureAlgorithmFile {
    #[default]
    #[serde(rename = "RSA_SHA256")]
    RsaSha256,
    #[serde(rename = "RSA_SHA1")]
    RsaSha1,
}

/// "Name format" of an attribute statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
enum NameFormat {
    #[default]
    Unspecified,
    #[serde(rename = "URI Reference")]
    UriReference,
    Basic,
}

impl NameFormat {
    fn uri(self) -> &'static str {
        match self {
            NameFormat::Unspecified => ssoproof_saml::ATTRNAME_UNSPECIFIED,
            NameFormat::UriReference => ssoproof_saml::ATTRNAME_URI,
            NameFormat::Basic => ssoproof_saml::ATTRNAME_BASIC,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttributeStatement {
    name: String,
    #[serde(default)]
    name_format: NameFormat,
    /// `user.email`, `user.login`, `user.firstName`, `user.lastName` or `user.id`.
    value: String,
}

/// The Okta Expression Language values an attribute statement may use here.
const USER_PROPERTIES: [&str; 5] = [
    "user.email",
    "user.login",
    "user.firstName",
    "user.lastName",
    "user.id",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupAttributeStatement {
    name: String,
    #[serde(default)]
    name_format: NameFormat,
    filter: GroupFilter,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthServerFile {
    /// `default`, or an id like `aus1a2b3c4d5e6f7g8h9`: the issuer is `<org>/oauth2/<id>`.
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default = "default_audiences")]
    audiences: Vec<String>,
    /// Custom scopes, besides openid, profile, email, address, phone and offline_access.
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    claims: Vec<ClaimFile>,
}

fn default_audiences() -> Vec<String> {
    vec!["api://default".to_string()]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimFile {
    name: String,
    /// `id_token` ("ID Token, Always"), `id_token_userinfo` ("ID Token, Userinfo / ID Token":
    /// only in userinfo when an access token is issued too) or `access_token`.
    include_in_token_type: TokenType,
    /// Only `groups` claims are emulated.
    value_type: ValueType,
    filter: GroupFilter,
    /// Scopes that must be requested; empty means "Any scope".
    #[serde(default)]
    include_in_scopes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TokenType {
    IdToken,
    IdTokenUserinfo,
    AccessToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ValueType {
    Groups,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    name: String,
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    #[serde(default)]
    id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    /// The Okta username, e-mail shaped.
    login: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    first_name: String,
    last_name: String,
    password: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default = "active")]
    status: Status,
}

fn active() -> Status {
    Status::Active
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Status {
    Active,
    Suspended,
    LockedOut,
    Deprovisioned,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    label: String,
    /// Okta client ids begin `0oa`.
    client_id: String,
    client_secret: String,
    sign_in_redirect_uris: Vec<String>,
    /// "Sign-out redirect URIs": where `/v1/logout` may send the browser.
    #[serde(default)]
    sign_out_redirect_uris: Vec<String>,
    #[serde(default = "code_only")]
    grant_types: Vec<String>,
    #[serde(default)]
    pkce_required: bool,
    #[serde(default)]
    assignments: Assignments,
    /// The org server's groups claim (the app's Sign On tab): ID token only.
    #[serde(default)]
    groups_claim: Option<OrgGroupsClaim>,
    #[serde(default)]
    refresh_token: RefreshSettings,
}

fn code_only() -> Vec<String> {
    vec!["authorization_code".to_string()]
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Assignments {
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgGroupsClaim {
    name: String,
    filter: GroupFilter,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshSettings {
    /// "Rotate token after every use"; otherwise "Use persistent token".
    #[serde(default)]
    rotate: bool,
    #[serde(default = "thirty")]
    grace_period_seconds: u32,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        RefreshSettings {
            rotate: false,
            grace_period_seconds: 30,
        }
    }
}

fn thirty() -> u32 {
    30
}

/// A loaded Okta org.
#[derive(Debug, Clone)]
pub(crate) struct Org {
    org: String,
    org_id: String,
    servers: Vec<AuthServerFile>,
    apps: Vec<AppFile>,
    saml_apps: Vec<SamlAppFile>,
    users: Vec<(String, Status)>,
}

pub(crate) fn build(file: OrgFile, at: &Locator<'_>) -> Result<Built, PersonaError> {
    unique(
        at,
        "groups.name",
        "group",
        file.groups.iter().map(|g| g.name.as_str()),
    )?;
    unique(
        at,
        "users.login",
        "user",
        file.users.iter().map(|u| u.login.as_str()),
    )?;
    unique(
        at,
        "apps.client_id",
        "app",
        file.apps.iter().map(|a| a.client_id.as_str()),
    )?;
    unique(
        at,
        "authorization_servers.id",
        "authorization server",
        file.authorization_servers.iter().map(|s| s.id.as_str()),
    )?;
    let mut names: Vec<&str> = file.groups.iter().map(|g| g.name.as_str()).collect();
    names.push(EVERYONE);
    let known = |group: &str| names.contains(&group);
    for (i, user) in file.users.iter().enumerate() {
        for group in &user.groups {
            if !known(group) {
                return Err(at.invalid(
                    &format!("users[{i}].groups"),
                    &user.login,
                    group,
                    format!(
                        "user \"{}\" is in group \"{group}\", which the org does not define; add it under `groups`{}",
                        user.login,
                        suggestion(group, names.iter().copied())
                    ),
                ));
            }
        }
    }
    for (i, app) in file.apps.iter().enumerate() {
        for group in &app.assignments.groups {
            if !known(group) {
                return Err(at.invalid(
                    &format!("apps[{i}].assignments.groups"),
                    &app.client_id,
                    group,
                    format!("app \"{}\" is assigned to group \"{group}\", which the org does not define{}", app.label, suggestion(group, names.iter().copied())),
                ));
            }
        }
        for login in &app.assignments.users {
            if !file.users.iter().any(|u| &u.login == login) {
                return Err(at.invalid(
                    &format!("apps[{i}].assignments.users"),
                    &app.client_id,
                    login,
                    format!(
                        "app \"{}\" is assigned to user \"{login}\", who is not in `users`",
                        app.label
                    ),
                ));
            }
        }
        if let Some(claim) = &app.groups_claim {
            check_filter(
                at,
                &format!("apps[{i}].groups_claim.filter"),
                &app.client_id,
                &claim.filter,
            )?;
        }
        if app.refresh_token.grace_period_seconds > 60 {
            return Err(at.invalid(
                &format!("apps[{i}].refresh_token.grace_period_seconds"),
                &app.client_id,
                "grace_period_seconds",
                "Okta allows a grace period of 0 to 60 seconds".into(),
            ));
        }
    }
    unique(
        at,
        "saml_apps.id",
        "SAML app",
        file.saml_apps.iter().map(|a| a.id.as_str()),
    )?;
    unique(
        at,
        "saml_apps.audience_uri",
        "SAML app audience URI",
        file.saml_apps.iter().map(|a| a.audience_uri.as_str()),
    )?;
    for (i, app) in file.saml_apps.iter().enumerate() {
        for (j, statement) in app.attribute_statements.iter().enumerate() {
            if !USER_PROPERTIES.contains(&statement.value.as_str()) {
                return Err(at.invalid(
                    &format!("saml_apps[{i}].attribute_statements[{j}].value"),
                    &app.id,
                    &statement.value,
                    format!(
                        "`{}` is not a user property the emulator evaluates ({}){}",
                        statement.value,
                        USER_PROPERTIES.join(", "),
                        suggestion(&statement.value, USER_PROPERTIES)
                    ),
                ));
            }
        }
        for (j, statement) in app.group_attribute_statements.iter().enumerate() {
            check_filter(
                at,
                &format!("saml_apps[{i}].group_attribute_statements[{j}].filter"),
                &app.id,
                &statement.filter,
            )?;
        }
    }
    for (i, server) in file.authorization_servers.iter().enumerate() {
        for (j, claim) in server.claims.iter().enumerate() {
            check_filter(
                at,
                &format!("authorization_servers[{i}].claims[{j}].filter"),
                &format!("id: {}", server.id),
                &claim.filter,
            )?;
        }
        if !server.id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(at.invalid(
                &format!("authorization_servers[{i}].id"),
                "",
                &server.id,
                format!(
                    "`{}` is not an authorization server id (letters and digits, e.g. `default`)",
                    server.id
                ),
            ));
        }
    }

    let users = file
        .users
        .iter()
        .map(|u| {
            let mut groups = u.groups.clone();
            if !groups.iter().any(|g| g == EVERYONE) {
                groups.push(EVERYONE.to_string());
            }
            super::user(NewUser {
                id: u
                    .id
                    .clone()
                    .unwrap_or_else(|| ids::okta("00u", &format!("{}:{}", file.org, u.login))),
                login: &u.login,
                password: Some(&u.password),
                enabled: u.status == Status::Active,
                email: Some(u.email.clone().unwrap_or_else(|| u.login.clone())),
                email_verified: true,
                first_name: Some(u.first_name.clone()),
                last_name: Some(u.last_name.clone()),
                groups,
            })
        })
        .collect();
    let clients = file
        .apps
        .iter()
        .map(|a| {
            with_sign_out_urls(
                client(
                    &a.client_id,
                    &a.label,
                    Some(&a.client_secret),
                    &a.sign_in_redirect_uris,
                    a.pkce_required,
                ),
                &a.sign_out_redirect_uris,
            )
        })
        .collect();
    let mut groups: Vec<String> = vec![EVERYONE.to_string()];
    groups.extend(file.groups.iter().map(|g| g.name.clone()));
    let saml_clients = file
        .saml_apps
        .iter()
        .map(|a| {
            let format = match a.name_id_format {
                OktaNameIdFormat::Unspecified => "username",
                OktaNameIdFormat::EmailAddress => "email",
                OktaNameIdFormat::Persistent => "persistent",
                OktaNameIdFormat::Transient => "transient",
            };
            let source = match a.application_username {
                AppUsername::OktaUsername => "username",
                AppUsername::Email => "email",
            };
            let flag = |s: Signature| {
                if s == Signature::Signed {
                    "true"
                } else {
                    "false"
                }
            };
            let algorithm = match a.signature_algorithm {
                SignatureAlgorithmFile::RsaSha256 => "RSA_SHA256",
                SignatureAlgorithmFile::RsaSha1 => "RSA_SHA1",
            };
            saml_client(
                &a.audience_uri,
                &a.label,
                &a.sso_url,
                &[
                    ("saml_name_id_format", format),
                    ("persona.name_id.source", source),
                    ("saml.server.signature", flag(a.response)),
                    ("saml.assertion.signature", flag(a.assertion_signature)),
                    ("saml.signature.algorithm", algorithm),
                    // Okta's NameID is the app's setting, whatever the AuthnRequest asks.
                    ("saml.force.name.id.format", "true"),
                ],
            )
        })
        .collect();
    Ok(Built {
        name: file.org.clone(),
        display_name: format!("{} (Okta)", file.org),
        groups,
        users,
        clients,
        saml_clients,
        tokens: token_settings(3600),
        model: Model::Okta(Org {
            org_id: ids::okta("00o", &file.org),
            users: file
                .users
                .iter()
                .map(|u| (u.login.to_lowercase(), u.status))
                .collect(),
            org: file.org,
            servers: file.authorization_servers,
            apps: file.apps,
            saml_apps: file.saml_apps,
        }),
    })
}

fn check_filter(
    at: &Locator<'_>,
    key: &str,
    anchor: &str,
    filter: &GroupFilter,
) -> Result<(), PersonaError> {
    filter
        .compile()
        .map(|_| ())
        .map_err(|message| at.invalid(key, anchor, &filter.value, message))
}

impl Org {
    fn app(&self, client_id: &str) -> Option<&AppFile> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    fn server(&self, id: &str) -> Option<&AuthServerFile> {
        self.servers.iter().find(|s| s.id == id)
    }

    fn scopes_of(&self, server: &Server) -> Vec<String> {
        let mut scopes: Vec<String> = OIDC_SCOPES.iter().map(|s| s.to_string()).collect();
        match self.server(&server.id) {
            Some(custom) => scopes.extend(custom.scopes.iter().cloned()),
            None => scopes.push("groups".to_string()),
        }
        scopes
    }

    /// The groups claim for a token type, if the server defines one that applies and a group
    /// of the user passes its filter (Okta leaves the claim out when none does).
    fn groups_claim(&self, ctx: &Ctx<'_>, token: TokenType) -> Option<(String, Vec<String>)> {
        self.defined_groups_claim(ctx, token)
            .filter(|(_, groups)| !groups.is_empty())
    }

    fn defined_groups_claim(
        &self,
        ctx: &Ctx<'_>,
        token: TokenType,
    ) -> Option<(String, Vec<String>)> {
        let groups = ctx.group_names();
        let filtered = |filter: &GroupFilter| -> Vec<String> {
            groups
                .iter()
                .filter(|g| filter.matches(g))
                .cloned()
                .collect()
        };
        match self.server(&ctx.server.id) {
            Some(server) => server
                .claims
                .iter()
                .filter(|c| c.value_type == ValueType::Groups && c.include_in_token_type == token)
                .find(|c| {
                    c.include_in_scopes.is_empty()
                        || c.include_in_scopes.iter().any(|s| ctx.has_scope(s))
                })
                .map(|c| (c.name.clone(), filtered(&c.filter))),
            // The org server: the app's claim, ID token only, and only with the groups scope.
            None if token == TokenType::IdToken && ctx.has_scope("groups") => self
                .app(&ctx.client.client_id)
                .and_then(|a| a.groups_claim.as_ref())
                .map(|c| (c.name.clone(), filtered(&c.filter))),
            None => None,
        }
    }

    fn profile_claims(ctx: &Ctx<'_>, claims: &mut Map<String, Value>, full: bool) {
        let user = ctx.user;
        if ctx.has_scope("profile") {
            let name = format!(
                "{} {}",
                user.first_name.clone().unwrap_or_default(),
                user.last_name.clone().unwrap_or_default()
            );
            claims.insert("name".into(), json!(name.trim()));
            claims.insert("preferred_username".into(), json!(user.username));
            if full {
                claims.insert("given_name".into(), json!(user.first_name));
                claims.insert("family_name".into(), json!(user.last_name));
                claims.insert("locale".into(), json!("en_US"));
                claims.insert("zoneinfo".into(), json!("America/Los_Angeles"));
                claims.insert("updated_at".into(), json!(1_767_225_600));
            }
        }
        if ctx.has_scope("email") {
            claims.insert("email".into(), json!(user.email));
            if full {
                claims.insert("email_verified".into(), json!(user.email_verified));
            }
        }
    }
}

impl Dialect for Org {
    fn saml_idps(&self, base: &str) -> Vec<crate::saml::SamlIdp> {
        self.saml_apps
            .iter()
            .map(|a| crate::saml::SamlIdp {
                entity_id: format!("http://www.okta.com/{}", a.id),
                metadata_url: format!("{base}/app/{}/sso/saml/metadata", a.id),
                sso_url: format!("{base}/app/{}/{}/sso/saml", a.name, a.id),
                sp: Some(a.audience_uri.clone()),
            })
            .collect()
    }

    fn saml_attributes(&self, client: &SamlClient, user: &User) -> Vec<ssoproof_saml::Attribute> {
        let Some(app) = self
            .saml_apps
            .iter()
            .find(|a| a.audience_uri == client.client_id)
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for statement in &app.attribute_statements {
            let value = match statement.value.as_str() {
                "user.email" => user.email.clone(),
                "user.login" => Some(user.username.clone()),
                "user.firstName" => user.first_name.clone(),
                "user.lastName" => user.last_name.clone(),
                "user.id" => Some(user.id.clone()),
                _ => None,
            };
            out.extend(value.map(|v| ssoproof_saml::Attribute {
                name: statement.name.clone(),
                name_format: Some(statement.name_format.uri().to_string()),
                friendly_name: None,
                values: vec![v],
            }));
        }
        for statement in &app.group_attribute_statements {
            let groups: Vec<String> = super::group_names(user)
                .into_iter()
                .filter(|g| statement.filter.matches(g))
                .collect();
            // Okta leaves the attribute out when no group passes the filter.
            if !groups.is_empty() {
                out.push(ssoproof_saml::Attribute {
                    name: statement.name.clone(),
                    name_format: Some(statement.name_format.uri().to_string()),
                    friendly_name: None,
                    values: groups,
                });
            }
        }
        out
    }

    fn vendor(&self) -> Vendor {
        Vendor::Okta
    }

    fn servers(&self, base: &str) -> Vec<Server> {
        let custom = self.servers.iter().map(|s| {
            let prefix = format!("/oauth2/{}", s.id);
            Server {
                id: s.id.clone(),
                issuer: format!("{base}{prefix}"),
                discovery: format!("{prefix}/.well-known/openid-configuration"),
                jwks: format!("{prefix}/v1/keys"),
                authorize: format!("{prefix}/v1/authorize"),
                token: format!("{prefix}/v1/token"),
                userinfo: Some(format!("{prefix}/v1/userinfo")),
                logout: vec![Logout {
                    path: format!("{prefix}/v1/logout"),
                    style: LogoutStyle::RpInitiated,
                }],
                discovery_only: false,
            }
        });
        let org = Server {
            id: "org".to_string(),
            issuer: base.to_string(),
            discovery: "/.well-known/openid-configuration".into(),
            jwks: "/oauth2/v1/keys".into(),
            authorize: "/oauth2/v1/authorize".into(),
            token: "/oauth2/v1/token".into(),
            userinfo: Some("/oauth2/v1/userinfo".into()),
            logout: vec![Logout {
                path: "/oauth2/v1/logout".into(),
                style: LogoutStyle::RpInitiated,
            }],
            discovery_only: false,
        };
        // The runbook's server (the first custom one) is the primary issuer.
        custom.chain(std::iter::once(org)).collect()
    }

    fn discovery(&self, server: &Server, _servers: &[Server], base: &str) -> Value {
        let url = |path: &str| format!("{base}{path}");
        let prefix = server.token.trim_end_matches("/token");
        let custom = self.server(&server.id).is_some();
        let mut claims = vec![
            "iss",
            "ver",
            "sub",
            "aud",
            "iat",
            "exp",
            "jti",
            "auth_time",
            "amr",
            "idp",
            "nonce",
            "name",
            "nickname",
            "preferred_username",
            "given_name",
            "middle_name",
            "family_name",
            "email",
            "email_verified",
            "profile",
            "zoneinfo",
            "locale",
            "address",
            "phone_number",
            "picture",
            "website",
            "gender",
            "birthdate",
            "updated_at",
            "at_hash",
            "c_hash",
        ];
        if !custom {
            claims.push("groups");
        }
        json!({
            "issuer": server.issuer,
            "authorization_endpoint": url(&server.authorize),
            "token_endpoint": url(&server.token),
            "userinfo_endpoint": server.userinfo.as_deref().map(url),
            "registration_endpoint": url("/oauth2/v1/clients"),
            "jwks_uri": url(&server.jwks),
            "response_types_supported": ["code", "id_token", "code id_token", "code token", "id_token token", "code id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
            "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "password", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": self.scopes_of(server),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"],
            "claims_supported": claims,
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": url(&format!("{prefix}/introspect")),
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"],
            "revocation_endpoint": url(&format!("{prefix}/revoke")),
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"],
            "end_session_endpoint": url(&server.logout[0].path),
            "request_parameter_supported": true,
            "request_object_signing_alg_values_supported": ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
            "device_authorization_endpoint": url(&format!("{prefix}/device/authorize")),
            "dpop_signing_alg_values_supported": ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
        })
    }

    fn login_path(&self) -> String {
        "/login/login.htm".to_string()
    }

    fn login_form(&self) -> LoginForm {
        LoginForm {
            title: format!("{} - Sign In", self.org),
            heading: "Sign In".to_string(),
            username_field: "identifier",
            username_label: "Username",
            password_field: "credentials.passcode",
            submit: "Sign in",
            identifier_first: false,
            bad_credentials: "Unable to sign in",
        }
    }

    fn unknown_client(&self, _client_id: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "400 Bad Request".into(),
            message:
                "Error Code: invalid_client. Description: Invalid value for 'client_id' parameter."
                    .into(),
        }
    }

    fn redirect_mismatch(&self, client: &Client, _redirect_uri: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "400 Bad Request".into(),
            message: format!(
                "Error Code: invalid_request. Description: The 'redirect_uri' parameter must be a Login redirect URI in the client app settings: https://{}-admin.okta.com/admin/app/oidc_client/instance/{}#tab-general",
                self.org, client.client_id
            ),
        }
    }

    fn logout_needs_hint(&self, _has_target: bool) -> bool {
        true
    }

    fn logout_refusal(&self, why: LogoutRefusal<'_>) -> ErrorPage {
        let description = match why {
            LogoutRefusal::UnknownClient(id) => return self.unknown_client(id),
            LogoutRefusal::MissingHint => "The 'id_token_hint' parameter is required.".into(),
            LogoutRefusal::BadHint => "The 'id_token_hint' parameter is invalid.".into(),
            LogoutRefusal::Target { client, .. } => format!(
                "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings: https://{}-admin.okta.com/admin/app/oidc_client/instance/{}#tab-general",
                self.org, client.client_id
            ),
        };
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "400 Bad Request".into(),
            message: format!("Error Code: invalid_request. Description: {description}"),
        }
    }

    fn signed_out(&self) -> ErrorPage {
        // Okta sends the browser to its sign-in page; the emulator shows that it signed out.
        ErrorPage {
            status: StatusCode::OK,
            title: "Sign In".into(),
            message: "You have been signed out.".into(),
        }
    }

    fn check_scopes(
        &self,
        server: &Server,
        _client: &Client,
        requested: &[&str],
    ) -> Result<Vec<String>, Refusal> {
        let known = self.scopes_of(server);
        if requested.iter().all(|s| known.iter().any(|k| k == s)) {
            Ok(requested.iter().map(|s| s.to_string()).collect())
        } else {
            Err(Refusal::redirect(
                "invalid_scope",
                "One or more scopes are not configured for the authorization server resource.",
            ))
        }
    }

    fn admit(&self, client: &Client, user: &User) -> Result<(), Refusal> {
        let status = self
            .users
            .iter()
            .find(|(login, _)| *login == user.username)
            .map_or(Status::Active, |(_, s)| *s);
        if status != Status::Active {
            return Err(Refusal::page(
                StatusCode::OK,
                "Sign In",
                "Unable to sign in",
            ));
        }
        let Some(app) = self.app(&client.client_id) else {
            return Ok(());
        };
        let groups = super::group_names(user);
        let assigned = app
            .assignments
            .users
            .iter()
            .any(|u| u.eq_ignore_ascii_case(&user.username))
            || app.assignments.groups.iter().any(|g| groups.contains(g));
        if assigned {
            Ok(())
        } else {
            Err(Refusal::redirect(
                "access_denied",
                "User is not assigned to the client application.",
            ))
        }
    }

    fn sub(&self, _client: &Client, user: &User) -> String {
        user.id.clone()
    }

    fn id_token(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(ctx.user.id));
        Org::profile_claims(ctx, &mut claims, false);
        claims.insert("ver".into(), json!(1));
        claims.insert("iss".into(), json!(ctx.issuer));
        claims.insert("aud".into(), json!(ctx.client.client_id));
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("exp".into(), json!(ctx.now + 3600));
        claims.insert("jti".into(), json!(format!("ID.{}", ids::random(43))));
        claims.insert("amr".into(), json!(["pwd"]));
        claims.insert("idp".into(), json!(self.org_id));
        if let Some(nonce) = ctx.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if let Some(auth_time) = ctx.auth_time {
            claims.insert("auth_time".into(), json!(auth_time));
        }
        if let Some((name, groups)) = self.groups_claim(ctx, TokenType::IdToken) {
            claims.insert(name, json!(groups));
        }
        claims
    }

    fn access_token(&self, ctx: &Ctx<'_>) -> AccessToken {
        let Some(server) = self.server(&ctx.server.id) else {
            // The org server's access tokens are for Okta's own APIs.
            return AccessToken::Opaque(ids::random(58));
        };
        let mut claims = Map::new();
        claims.insert("ver".into(), json!(1));
        claims.insert("jti".into(), json!(format!("AT.{}", ids::random(43))));
        claims.insert("iss".into(), json!(ctx.issuer));
        claims.insert(
            "aud".into(),
            json!(server.audiences.first().cloned().unwrap_or_default()),
        );
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("exp".into(), json!(ctx.now + 3600));
        claims.insert("cid".into(), json!(ctx.client.client_id));
        claims.insert("uid".into(), json!(ctx.user.id));
        claims.insert("scp".into(), json!(ctx.scopes));
        if let Some(auth_time) = ctx.auth_time {
            claims.insert("auth_time".into(), json!(auth_time));
        }
        claims.insert("sub".into(), json!(ctx.user.username));
        if let Some((name, groups)) = self.groups_claim(ctx, TokenType::AccessToken) {
            claims.insert(name, json!(groups));
        }
        AccessToken::Jwt(claims)
    }

    fn userinfo(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(ctx.user.id));
        Org::profile_claims(ctx, &mut claims, true);
        for token in [TokenType::IdTokenUserinfo, TokenType::IdToken] {
            if let Some((name, groups)) = self.groups_claim(ctx, token) {
                claims.entry(name).or_insert(json!(groups));
            }
        }
        claims
    }

    fn refresh(&self, ctx: &Ctx<'_>) -> Option<RefreshPolicy> {
        let app = self.app(&ctx.client.client_id)?;
        (ctx.has_scope("offline_access") && app.grant_types.iter().any(|g| g == "refresh_token"))
            .then_some(RefreshPolicy {
                rotate: app.refresh_token.rotate,
                reuse_detection: true,
                grace_seconds: i64::from(app.refresh_token.grace_period_seconds),
                echo: true,
                revoke_family: true,
            })
    }

    fn token_response(&self, issued: Issued) -> Value {
        let body = json!({
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "access_token": issued.access_token,
            "scope": issued.scopes.join(" "),
        });
        with_issued_tokens(body, issued.id_token, issued.refresh_token)
    }

    fn offers_client_credentials(&self) -> bool {
        true
    }

    /// A service app's token from a custom authorization server, for its custom scopes: `sub`
    /// and `cid` are the client id, no `uid`. The org server issues such tokens only for
    /// Okta's own APIs, to `private_key_jwt` clients.
    fn client_credentials(&self, m2m: &M2mRequest<'_>) -> Result<M2mToken, TokenRefusal> {
        let refuse = |error: &str, description: &str| {
            Err((StatusCode::BAD_REQUEST, oauth_error(error, description)))
        };
        let granted = self
            .app(&m2m.client.client_id)
            .map(|a| a.grant_types.clone())
            .unwrap_or_default();
        if !granted.iter().any(|g| g == "client_credentials") {
            return refuse(
                "unauthorized_client",
                &format!(
                    "The client is not authorized to use the provided grant type. Configured grant types: [{}].",
                    granted.join(", ")
                ),
            );
        }
        let Some(server) = self.server(&m2m.server.id) else {
            return Err((
                StatusCode::UNAUTHORIZED,
                oauth_error(
                    "invalid_client",
                    "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.",
                ),
            ));
        };
        let scopes = m2m.scopes();
        if scopes.is_empty() {
            return refuse(
                "invalid_scope",
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
            );
        }
        if scopes.iter().any(|s| OIDC_SCOPES.contains(s)) {
            return refuse(
                "invalid_scope",
                "Client Credentials requests cannot contain OpenID scopes.",
            );
        }
        if scopes.iter().any(|s| !server.scopes.iter().any(|c| c == s)) {
            return refuse(
                "invalid_scope",
                "One or more scopes are not configured for the authorization server resource.",
            );
        }
        let client_id = &m2m.client.client_id;
        let mut claims = Map::new();
        claims.insert("ver".into(), json!(1));
        claims.insert("jti".into(), json!(format!("AT.{}", ids::random(43))));
        claims.insert("iss".into(), json!(m2m.issuer));
        claims.insert(
            "aud".into(),
            json!(server.audiences.first().cloned().unwrap_or_default()),
        );
        claims.insert("iat".into(), json!(m2m.now));
        claims.insert("exp".into(), json!(m2m.now + 3600));
        claims.insert("cid".into(), json!(client_id));
        claims.insert("scp".into(), json!(scopes));
        claims.insert("sub".into(), json!(client_id));
        Ok(M2mToken {
            claims,
            id_token: None,
            response: fields([
                ("token_type", json!("Bearer")),
                ("expires_in", json!(3600)),
                ("scope", json!(scopes.join(" "))),
            ]),
        })
    }

    fn client_refusal(&self, why: ClientRefusal, _client_id: &str) -> (StatusCode, Value) {
        let description = match why {
            ClientRefusal::UnknownClient => "Invalid value for 'client_id' parameter.",
            _ => "The client secret supplied for a confidential client is invalid.",
        };
        (
            StatusCode::UNAUTHORIZED,
            oauth_error("invalid_client", description),
        )
    }

    fn refresh_refusal(&self) -> (StatusCode, Value) {
        (
            StatusCode::BAD_REQUEST,
            oauth_error("invalid_grant", "The refresh token is invalid or expired."),
        )
    }

    fn code(&self) -> String {
        ids::random(43)
    }

    fn edit(&mut self, edit: &PersonaEdit) -> Result<(), String> {
        let PersonaEdit::OktaGroupsClaim { server, filter } = edit else {
            return Err(format!("an Okta org cannot apply {edit:?}"));
        };
        if let Some(filter) = filter {
            filter.compile()?;
        }
        match server {
            Some(id) => {
                let server = self
                    .servers
                    .iter_mut()
                    .find(|s| &s.id == id)
                    .ok_or_else(|| format!("the org has no authorization server \"{id}\""))?;
                server.claims.retain(|c| c.value_type != ValueType::Groups);
                if let Some(filter) = filter {
                    server.claims.push(ClaimFile {
                        name: "groups".into(),
                        include_in_token_type: TokenType::IdToken,
                        value_type: ValueType::Groups,
                        filter: filter.clone(),
                        include_in_scopes: Vec::new(),
                    });
                }
            }
            None => {
                let app = self.apps.first_mut().ok_or("the org has no app")?;
                app.groups_claim = filter.clone().map(|filter| OrgGroupsClaim {
                    name: "groups".into(),
                    filter,
                });
            }
        }
        Ok(())
    }

    fn summary(&self) -> Vec<String> {
        let mut lines = vec![format!("Okta org \"{}\" ({}.okta.com)", self.org, self.org)];
        for server in &self.servers {
            let claims: Vec<String> = server
                .claims
                .iter()
                .map(|c| format!("{} ({:?} {})", c.name, c.filter.kind, c.filter.value))
                .collect();
            lines.push(format!(
                "  authorization server \"{}\"{}: claims {}",
                server.id,
                server
                    .name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                if claims.is_empty() {
                    "(none)".into()
                } else {
                    claims.join(", ")
                }
            ));
        }
        for app in &self.apps {
            lines.push(format!(
                "  app \"{}\" {}: assigned groups {}",
                app.label,
                app.client_id,
                app.assignments.groups.join(", ")
            ));
        }
        lines
    }
}
