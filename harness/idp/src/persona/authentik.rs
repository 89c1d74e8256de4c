//! authentik: one application and the OAuth2/OpenID provider behind it, the scope mappings
//! (property mappings) the provider releases claims through, the certificate-key pairs of
//! System → Certificates, groups and users. The issuer is per application,
//! `<base>/application/o/<slug>/` with its trailing slash; authorization, token and userinfo
//! are shared by every provider (`/application/o/authorize/`, `…/token/`, `…/userinfo/`);
//! discovery, JWKS and end-session live under the slug.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{
    client, fields, ids, oauth_error, suggestion, unique, with_issued_tokens, with_sign_out_urls,
    AccessToken, Built, ClientRefusal, Ctx, Dialect, ErrorPage, Issued, Lifetimes, Locator,
    LoginForm, Logout, LogoutRefusal, LogoutStyle, M2mRequest, M2mToken, Model, NewUser,
    PersonaEdit, PersonaError, RefreshPolicy, Refusal, Server, TokenRefusal, Vendor,
};
use crate::realm::{Client, User};

/// A built-in scope mapping: its name, its scope, and the claims its expression returns.
type DefaultMapping = (
    &'static str,
    &'static str,
    &'static [(&'static str, Source)],
);

/// The scope mappings every authentik installation has (the "System - OAuth2 Provider -
/// Scopes" blueprint), by name, with their scope and what their expressions return.
const DEFAULT_MAPPINGS: [DefaultMapping; 5] = [
    (
        "authentik default OAuth Mapping: OpenID 'openid'",
        "openid",
        &[],
    ),
    (
        "authentik default OAuth Mapping: OpenID 'email'",
        "email",
        &[
            ("email", Source::Email),
            // The default expression returns a literal False.
            ("email_verified", Source::False),
        ],
    ),
    (
        "authentik default OAuth Mapping: OpenID 'profile'",
        "profile",
        &[
            ("name", Source::Name),
            // authentik keeps only a full name, so the default uses it as given_name too.
            ("given_name", Source::Name),
            ("preferred_username", Source::Username),
            ("nickname", Source::Username),
            // The default profile mapping carries the group names.
            ("groups", Source::GroupNames),
        ],
    ),
    (
        "authentik default OAuth Mapping: OpenID 'offline_access'",
        "offline_access",
        &[],
    ),
    (
        "authentik default OAuth Mapping: Application Entitlements",
        "entitlements",
        // The persona models no entitlements: the lists are empty.
        &[
            ("entitlements", Source::Nothing),
            ("roles", Source::Nothing),
        ],
    ),
];

const ACR: &str = "goauthentik.io/providers/oauth2/default";

/// The longest token validity the persona accepts: ten years, far below where seconds overflow.
const MAX_VALIDITY_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// `TokenError` descriptions of authentik's token endpoint.
const INVALID_CLIENT: &str = "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)";
const INVALID_GRANT: &str = "The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client";
const MALFORMED: &str = "The request is otherwise malformed";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceFile {
    #[allow(dead_code)]
    vendor: Vendor,
    /// The brand's domain, e.g. `authentik.example.com`; served on the emulator's base URL.
    domain: String,
    /// The installation id the hashed user ids derive from; derived from `domain` when absent.
    #[serde(default)]
    install_id: Option<String>,
    #[serde(default)]
    certificates: Vec<CertificateFile>,
    #[serde(default)]
    scope_mappings: Vec<MappingFile>,
    #[serde(default)]
    groups: Vec<GroupFile>,
    users: Vec<UserFile>,
    provider: ProviderFile,
    application: ApplicationFile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateFile {
    name: String,
    key_type: KeyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KeyType {
    Rsa,
    Ecdsa,
}

/// A custom scope mapping: its expression, written down as the claims it returns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    name: String,
    scope_name: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    /// Claim name → what the expression puts there.
    #[serde(default)]
    claims: Vec<ClaimFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimFile {
    name: String,
    value: Source,
}

/// What a mapping's expression returns for a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Source {
    /// `[group.name for group in request.user.ak_groups.all()]`
    GroupNames,
    Username,
    Email,
    /// The user's full name.
    Name,
    /// The `upn` attribute.
    Upn,
    /// `False`.
    False,
    /// `True`.
    True,
    /// An empty list.
    Nothing,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    username: String,
    /// The numeric primary key; by default the user's position in the list, from 1.
    #[serde(default)]
    pk: Option<u64>,
    name: String,
    email: String,
    password: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default = "yes")]
    is_active: bool,
    /// The `upn` attribute (subject mode `user_upn`).
    #[serde(default)]
    upn: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    name: String,
    #[serde(default)]
    client_type: ClientType,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    redirect_uris: Vec<RedirectFile>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<RedirectFile>,
    /// A certificate-key pair's name; none signs HS256 with the client secret.
    #[serde(default)]
    signing_key: Option<String>,
    /// The selected scope mappings ("Scopes"), by name.
    property_mappings: Vec<String>,
    #[serde(default)]
    sub_mode: SubMode,
    #[serde(default = "yes")]
    include_claims_in_id_token: bool,
    #[serde(default = "code_validity")]
    access_code_validity: String,
    #[serde(default = "access_validity")]
    access_token_validity: String,
    #[serde(default = "refresh_validity")]
    refresh_token_validity: String,
}

fn code_validity() -> String {
    "minutes=1".into()
}

fn access_validity() -> String {
    "hours=1".into()
}

fn refresh_validity() -> String {
    "days=30".into()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ClientType {
    #[default]
    Confidential,
    Public,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectFile {
    matching_mode: MatchingMode,
    url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum MatchingMode {
    Strict,
    Regex,
}

/// What `sub` is made of ("Subject mode").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SubMode {
    #[default]
    HashedUserId,
    UserId,
    UserUuid,
    UserUsername,
    UserEmail,
    UserUpn,
}

impl SubMode {
    const NAMES: [&'static str; 6] = [
        "hashed_user_id",
        "user_id",
        "user_uuid",
        "user_username",
        "user_email",
        "user_upn",
    ];

    fn parse(name: &str) -> Option<SubMode> {
        let modes = [
            SubMode::HashedUserId,
            SubMode::UserId,
            SubMode::UserUuid,
            SubMode::UserUsername,
            SubMode::UserEmail,
            SubMode::UserUpn,
        ];
        SubMode::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| modes[i])
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationFile {
    name: String,
    slug: String,
    /// The provider's name.
    provider: String,
    /// Policy / Group / User bindings; none lets every user in.
    #[serde(default)]
    bindings: BindingsFile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingsFile {
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
}

/// A scope mapping the provider can select.
#[derive(Debug, Clone)]
struct Mapping {
    name: String,
    scope: String,
    claims: Vec<(String, Source)>,
}

/// The user facts the subject modes and mappings read, by login (lower-case username).
#[derive(Debug, Clone)]
struct UserFacts {
    login: String,
    username: String,
    pk: u64,
    uuid: String,
    name: String,
    upn: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Instance {
    domain: String,
    install_id: String,
    certificates: Vec<CertificateFile>,
    mappings: Vec<Mapping>,
    users: Vec<UserFacts>,
    app_name: String,
    slug: String,
    provider_name: String,
    client_id: String,
    /// The selected mappings, by name.
    selected: Vec<String>,
    signing_key: Option<String>,
    sub_mode: SubMode,
    include_claims_in_id_token: bool,
    post_logout_uris: Vec<String>,
    bound_groups: Vec<String>,
    bound_users: Vec<String>,
    access_token_seconds: i64,
    /// The service account the client credentials grant signs in as, which authentik creates
    /// at the first such request.
    service_account: UserFacts,
}

/// The username authentik gives a provider's client credentials service account.
fn service_account_name(provider: &str) -> String {
    // authentik trims the provider name so that the whole username fits 150 characters.
    let trimmed: String = provider.chars().take(150 - 22).collect();
    format!("ak-{trimmed}-client_credentials")
}

/// Seconds in an authentik duration (`hours=1;minutes=2;seconds=3`).
fn parse_validity(text: &str) -> Result<u64, String> {
    let mut total: u64 = 0;
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (unit, amount) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not UNIT=NUMBER"))?;
        let per = match unit.trim() {
            "weeks" => 7 * 24 * 3600,
            "days" => 24 * 3600,
            "hours" => 3600,
            "minutes" => 60,
            "seconds" => 1,
            other => {
                return Err(format!(
                    "`{other}` is not a unit the persona reads: use weeks, days, hours, minutes or seconds"
                ))
            }
        };
        let amount: u64 = amount
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not a whole number", amount.trim()))?;
        total = amount
            .checked_mul(per)
            .and_then(|s| total.checked_add(s))
            .filter(|s| *s <= MAX_VALIDITY_SECONDS)
            .ok_or_else(|| {
                format!("`{text}` is longer than the persona allows ({MAX_VALIDITY_SECONDS} seconds, ten years)")
            })?;
    }
    if total == 0 {
        return Err(format!("`{text}` is no time at all: give e.g. `hours=1`"));
    }
    Ok(total)
}

pub(crate) fn build(file: InstanceFile, at: &Locator<'_>) -> Result<Built, PersonaError> {
    unique(
        at,
        "certificates.name",
        "certificate",
        file.certificates.iter().map(|c| c.name.as_str()),
    )?;
    unique(
        at,
        "scope_mappings.name",
        "scope mapping",
        DEFAULT_MAPPINGS
            .iter()
            .map(|(name, _, _)| *name)
            .chain(file.scope_mappings.iter().map(|m| m.name.as_str())),
    )?;
    unique(
        at,
        "groups.name",
        "group",
        file.groups.iter().map(|g| g.name.as_str()),
    )?;
    unique(
        at,
        "users.username",
        "user",
        file.users.iter().map(|u| u.username.as_str()),
    )?;
    let groups: Vec<&str> = file.groups.iter().map(|g| g.name.as_str()).collect();
    let undefined_group = |key: String, anchor: String, group: &str, whose: String| {
        at.invalid(
            &key,
            &anchor,
            group,
            format!(
                "{whose} names the group \"{group}\", which is not defined; add it under `groups`{}",
                suggestion(group, groups.iter().copied())
            ),
        )
    };
    for (i, user) in file.users.iter().enumerate() {
        for group in &user.groups {
            if !groups.contains(&group.as_str()) {
                return Err(undefined_group(
                    format!("users[{i}].groups"),
                    format!("username: {}", user.username),
                    group,
                    format!("user \"{}\"", user.username),
                ));
            }
        }
    }
    for (i, mapping) in file.scope_mappings.iter().enumerate() {
        if mapping.scope_name.trim().is_empty() || mapping.scope_name.contains(' ') {
            return Err(at.invalid(
                &format!("scope_mappings[{i}].scope_name"),
                &mapping.name,
                "scope_name",
                format!(
                    "scope mapping \"{}\" needs a scope name without spaces, e.g. `groups`",
                    mapping.name
                ),
            ));
        }
    }
    let mappings: Vec<Mapping> = DEFAULT_MAPPINGS
        .iter()
        .map(|(name, scope, claims)| Mapping {
            name: name.to_string(),
            scope: scope.to_string(),
            claims: claims.iter().map(|(c, s)| (c.to_string(), *s)).collect(),
        })
        .chain(file.scope_mappings.iter().map(|m| Mapping {
            name: m.name.clone(),
            scope: m.scope_name.clone(),
            claims: m.claims.iter().map(|c| (c.name.clone(), c.value)).collect(),
        }))
        .collect();

    let provider = &file.provider;
    for (i, name) in provider.property_mappings.iter().enumerate() {
        if !mappings.iter().any(|m| &m.name == name) {
            return Err(at.invalid(
                &format!("provider.property_mappings[{i}]"),
                "provider:",
                name,
                format!(
                    "no scope mapping is named \"{name}\"; define it under `scope_mappings` or pick a default one{}",
                    suggestion(name, mappings.iter().map(|m| m.name.as_str()))
                ),
            ));
        }
    }
    let secret =
        match (provider.client_type, &provider.client_secret) {
            (ClientType::Confidential, None) => return Err(at.invalid(
                "provider.client_secret",
                "provider:",
                "client_type",
                "a confidential provider needs its `client_secret` (or set `client_type: public`)"
                    .into(),
            )),
            (ClientType::Confidential, Some(secret)) => Some(secret.as_str()),
            (ClientType::Public, _) => None,
        };
    if let Some(key) = &provider.signing_key {
        match file.certificates.iter().find(|c| &c.name == key) {
            None => {
                return Err(at.invalid(
                    "provider.signing_key",
                    "provider:",
                    "signing_key",
                    format!(
                        "no certificate-key pair is named \"{key}\"; add it under `certificates`{}",
                        suggestion(key, file.certificates.iter().map(|c| c.name.as_str()))
                    ),
                ))
            }
            Some(cert) if cert.key_type == KeyType::Ecdsa => {
                return Err(at.invalid(
                    "provider.signing_key",
                    "provider:",
                    "signing_key",
                    format!(
                        "\"{key}\" is an ECDSA key, which authentik signs ES256 with; the persona signs RS256 only: pick an RSA certificate-key pair"
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    if provider.redirect_uris.is_empty() {
        return Err(at.invalid(
            "provider.redirect_uris",
            "provider:",
            "redirect_uris",
            "the provider needs at least one redirect URI".into(),
        ));
    }
    for (key, list) in [
        ("redirect_uris", &provider.redirect_uris),
        (
            "post_logout_redirect_uris",
            &provider.post_logout_redirect_uris,
        ),
    ] {
        if let Some((i, uri)) = list
            .iter()
            .enumerate()
            .find(|(_, r)| r.matching_mode == MatchingMode::Regex)
        {
            return Err(at.invalid(
                &format!("provider.{key}[{i}].matching_mode"),
                &uri.url,
                "matching_mode",
                "the persona matches URIs strictly: list each URI with `matching_mode: strict`"
                    .into(),
            ));
        }
    }
    let validity = |key: &str, text: &str| {
        parse_validity(text)
            .map_err(|message| at.invalid(&format!("provider.{key}"), "provider:", key, message))
    };
    let code_seconds = validity("access_code_validity", &provider.access_code_validity)?;
    let access_seconds = validity("access_token_validity", &provider.access_token_validity)?;
    let refresh_seconds = validity("refresh_token_validity", &provider.refresh_token_validity)?;

    let app = &file.application;
    let valid_slug = !app.slug.is_empty()
        && app
            .slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_slug {
        return Err(at.invalid(
            "application.slug",
            "application:",
            "slug",
            format!(
                "`{}` is not a slug: use letters, digits, `-` and `_` (it becomes the issuer path /application/o/<slug>/)",
                app.slug
            ),
        ));
    }
    if app.provider != provider.name {
        return Err(at.invalid(
            "application.provider",
            "application:",
            "provider",
            format!(
                "the application names the provider \"{}\", but the provider is \"{}\"",
                app.provider, provider.name
            ),
        ));
    }
    for group in &app.bindings.groups {
        if !groups.contains(&group.as_str()) {
            return Err(undefined_group(
                "application.bindings.groups".into(),
                "application:".into(),
                group,
                "the application's group binding".into(),
            ));
        }
    }
    let service_account = service_account_name(&provider.name);
    for bound in &app.bindings.users {
        if !file.users.iter().any(|u| &u.username == bound) && *bound != service_account {
            return Err(at.invalid(
                "application.bindings.users",
                "application:",
                bound,
                format!(
                    "the application's user binding names \"{bound}\", who is not under `users`{}",
                    suggestion(bound, file.users.iter().map(|u| u.username.as_str()))
                ),
            ));
        }
    }

    let install_id = file
        .install_id
        .clone()
        .unwrap_or_else(|| ids::uuid(&format!("authentik:{}", file.domain)));
    let facts: Vec<UserFacts> = file
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| UserFacts {
            login: u.username.to_lowercase(),
            username: u.username.clone(),
            pk: u.pk.unwrap_or(i as u64 + 1),
            uuid: ids::uuid(&format!("{install_id}:{}", u.username)),
            name: u.name.clone(),
            upn: u.upn.clone(),
        })
        .collect();
    let users = file
        .users
        .iter()
        .zip(&facts)
        .map(|(u, f)| {
            super::user(NewUser {
                id: f.uuid.clone(),
                login: &u.username,
                password: Some(&u.password),
                enabled: u.is_active,
                email: Some(u.email.clone()),
                email_verified: false,
                first_name: Some(u.name.clone()),
                last_name: None,
                groups: u.groups.clone(),
            })
        })
        .collect();
    let strict = |list: &[RedirectFile]| list.iter().map(|r| r.url.clone()).collect::<Vec<_>>();
    let post_logout_uris = strict(&provider.post_logout_redirect_uris);
    let clients = vec![with_sign_out_urls(
        client(
            &provider.client_id,
            &provider.name,
            secret,
            &strict(&provider.redirect_uris),
            false,
        ),
        &post_logout_uris,
    )];
    let account = UserFacts {
        login: service_account.to_lowercase(),
        pk: facts.iter().map(|f| f.pk).max().unwrap_or(0) + 1,
        uuid: ids::uuid(&format!("{install_id}:{service_account}")),
        name: format!(
            "Autogenerated user from application {} (client credentials)",
            app.name
        ),
        upn: None,
        username: service_account,
    };
    let mut tokens = super::token_settings(access_seconds);
    tokens.access_code_lifespan = code_seconds;
    // Refresh tokens live for the provider's refresh-token validity.
    tokens.sso_session_idle_timeout = refresh_seconds;
    tokens.sso_session_max_lifespan = tokens.sso_session_max_lifespan.max(refresh_seconds);
    Ok(Built {
        name: app.slug.clone(),
        display_name: app.name.clone(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        users,
        clients,
        saml_clients: Vec::new(),
        tokens,
        model: Model::Authentik(Box::new(Instance {
            domain: file.domain.clone(),
            install_id,
            certificates: file.certificates.clone(),
            mappings,
            users: facts,
            app_name: app.name.clone(),
            slug: app.slug.clone(),
            provider_name: provider.name.clone(),
            client_id: provider.client_id.clone(),
            selected: provider.property_mappings.clone(),
            signing_key: provider.signing_key.clone(),
            sub_mode: provider.sub_mode,
            include_claims_in_id_token: provider.include_claims_in_id_token,
            post_logout_uris,
            bound_groups: app.bindings.groups.clone(),
            bound_users: app
                .bindings
                .users
                .iter()
                .map(|u| u.to_lowercase())
                .collect(),
            access_token_seconds: access_seconds as i64,
            service_account: account,
        })),
    })
}

impl Instance {
    fn facts(&self, user: &User) -> Option<&UserFacts> {
        self.users
            .iter()
            .chain(std::iter::once(&self.service_account))
            .find(|f| f.login == user.username)
    }

    /// The provider's selected mappings.
    fn selected(&self) -> impl Iterator<Item = &Mapping> {
        self.mappings
            .iter()
            .filter(|m| self.selected.contains(&m.name))
    }

    /// `sha256("<pk>-<install id>")` in hex: authentik's `User.uid`.
    fn hashed_id(&self, facts: &UserFacts) -> String {
        Sha256::digest(format!("{}-{}", facts.pk, self.install_id).as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The claims the selected mappings of the granted scopes return, in mapping order (a
    /// later mapping overwrites an earlier one's claim, as authentik's dict update does).
    fn scope_claims(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let user = ctx.user;
        let facts = self.facts(user);
        let mut claims = Map::new();
        for mapping in self.selected().filter(|m| ctx.has_scope(&m.scope)) {
            for (claim, source) in &mapping.claims {
                let value = match source {
                    Source::GroupNames => json!(ctx.group_names()),
                    Source::Username => json!(facts.map_or(&user.username, |f| &f.username)),
                    Source::Email => json!(user.email),
                    Source::Name => json!(facts.map_or("", |f| f.name.as_str())),
                    Source::Upn => json!(facts.and_then(|f| f.upn.clone())),
                    Source::False => json!(false),
                    Source::True => json!(true),
                    Source::Nothing => json!([]),
                };
                claims.insert(claim.clone(), value);
            }
        }
        claims
    }

    /// `IDToken.new`: the standard claims, then the mappings' claims when asked for.
    fn token_claims(&self, ctx: &Ctx<'_>, with_scope_claims: bool) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(ctx.issuer));
        claims.insert("sub".into(), json!(self.sub(ctx.client, ctx.user)));
        claims.insert("aud".into(), json!(ctx.client.client_id));
        claims.insert("exp".into(), json!(ctx.now + self.access_token_seconds));
        claims.insert("iat".into(), json!(ctx.now));
        if let Some(auth_time) = ctx.auth_time {
            claims.insert("auth_time".into(), json!(auth_time));
        }
        claims.insert("acr".into(), json!(ACR));
        claims.insert("amr".into(), json!(["pwd"]));
        if let Some(nonce) = ctx.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if with_scope_claims {
            claims.extend(self.scope_claims(ctx));
        }
        claims
    }

    /// `to_access_token`: the ID token's claims with every mapping's, `azp` and a token id.
    fn access_claims(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut claims = self.token_claims(ctx, true);
        claims.insert("azp".into(), json!(ctx.client.client_id));
        claims.insert("uid".into(), json!(ids::base62(&ids::random(16), 40)));
        claims
    }

    fn bad_request(&self) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Bad Request".into(),
            message: MALFORMED.into(),
        }
    }
}

impl Dialect for Instance {
    fn vendor(&self) -> Vendor {
        Vendor::Authentik
    }

    fn servers(&self, base: &str) -> Vec<Server> {
        let under = format!("/application/o/{}", self.slug);
        vec![Server {
            id: self.slug.clone(),
            issuer: format!("{base}{under}/"),
            discovery: format!("{under}/.well-known/openid-configuration"),
            jwks: format!("{under}/jwks/"),
            authorize: "/application/o/authorize/".into(),
            token: "/application/o/token/".into(),
            userinfo: Some("/application/o/userinfo/".into()),
            logout: vec![Logout {
                path: format!("{under}/end-session/"),
                style: LogoutStyle::RpInitiated,
            }],
            discovery_only: false,
        }]
    }

    fn discovery(&self, server: &Server, _servers: &[Server], base: &str) -> Value {
        let url = |path: &str| format!("{base}{path}");
        let mut scopes: Vec<&str> = self.selected().map(|m| m.scope.as_str()).collect();
        if !scopes.contains(&"openid") {
            scopes.push("openid");
        }
        let mut claims: Vec<String> = [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "amr",
            "nonce",
        ]
        .map(String::from)
        .to_vec();
        let mut by_scope: Vec<&Mapping> = self.selected().collect();
        by_scope.sort_by(|a, b| a.scope.cmp(&b.scope));
        claims.extend(
            by_scope
                .iter()
                .flat_map(|m| m.claims.iter().map(|(c, _)| c.clone())),
        );
        let alg = if self.signing_key.is_some() {
            "RS256"
        } else {
            "HS256"
        };
        json!({
            "issuer": server.issuer,
            "authorization_endpoint": url(&server.authorize),
            "token_endpoint": url(&server.token),
            "userinfo_endpoint": url("/application/o/userinfo/"),
            "end_session_endpoint": url(&server.logout[0].path),
            "introspection_endpoint": url("/application/o/introspect/"),
            "revocation_endpoint": url("/application/o/revoke/"),
            "device_authorization_endpoint": url("/application/o/device/"),
            "response_types_supported": ["code", "id_token", "id_token token", "code token", "code id_token", "code id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "jwks_uri": url(&server.jwks),
            "grant_types_supported": ["authorization_code", "refresh_token", "implicit", "client_credentials", "password", "urn:ietf:params:oauth:grant-type:device_code"],
            "id_token_signing_alg_values_supported": [alg],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "acr_values_supported": [ACR],
            "scopes_supported": scopes,
            "request_parameter_supported": false,
            "claims_supported": claims,
            "claims_parameter_supported": false,
            "code_challenge_methods_supported": ["plain", "S256"],
        })
    }

    fn login_path(&self) -> String {
        "/if/flow/default-authentication-flow/".into()
    }

    fn login_form(&self) -> LoginForm {
        LoginForm {
            title: "authentik".into(),
            heading: "Welcome to authentik!".into(),
            username_field: "uid_field",
            username_label: "Email or Username",
            password_field: "password",
            submit: "Log in",
            // The default flow's identification stage embeds the password stage.
            identifier_first: false,
            bad_credentials: "Invalid password",
        }
    }

    fn unknown_client(&self, _client_id: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Client ID Error".into(),
            message: "The client identifier (client_id) is missing or invalid.".into(),
        }
    }

    fn redirect_mismatch(&self, _client: &Client, _redirect_uri: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Redirect URI Error".into(),
            message: "The request fails due to a missing, invalid, or mismatching redirection URI (redirect_uri).".into(),
        }
    }

    fn check_scopes(
        &self,
        _server: &Server,
        _client: &Client,
        requested: &[&str],
    ) -> Result<Vec<String>, Refusal> {
        // A scope no selected mapping provides is dropped without a word.
        let known: BTreeSet<&str> = self.selected().map(|m| m.scope.as_str()).collect();
        Ok(requested
            .iter()
            .filter(|s| **s == "openid" || known.contains(*s))
            .map(|s| s.to_string())
            .collect())
    }

    fn admit(&self, _client: &Client, user: &User) -> Result<(), Refusal> {
        if !user.enabled {
            // Django's backends refuse inactive users as they refuse a wrong password.
            return Err(Refusal::page(
                StatusCode::OK,
                "authentik",
                "Invalid password",
            ));
        }
        let unbound = self.bound_groups.is_empty() && self.bound_users.is_empty();
        let member = super::group_names(user)
            .iter()
            .any(|g| self.bound_groups.contains(g))
            || self.bound_users.contains(&user.username);
        if unbound || member {
            Ok(())
        } else {
            Err(Refusal::page(
                StatusCode::FORBIDDEN,
                "Permission denied",
                "Request has been denied.",
            ))
        }
    }

    fn sub(&self, _client: &Client, user: &User) -> String {
        let Some(facts) = self.facts(user) else {
            return user.id.clone();
        };
        match self.sub_mode {
            SubMode::HashedUserId => self.hashed_id(facts),
            SubMode::UserId => facts.pk.to_string(),
            SubMode::UserUuid => facts.uuid.clone(),
            SubMode::UserUsername => facts.username.clone(),
            SubMode::UserEmail => user.email.clone().unwrap_or_default(),
            SubMode::UserUpn => facts.upn.clone().unwrap_or_else(|| self.hashed_id(facts)),
        }
    }

    fn id_token(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        self.token_claims(ctx, self.include_claims_in_id_token)
    }

    fn id_token_hs256(&self, _client: &Client) -> bool {
        self.signing_key.is_none()
    }

    fn signing_key(&self) -> Option<&str> {
        self.signing_key.as_deref()
    }

    fn publishes_only_current_key(&self) -> bool {
        // The JWKS view lists the provider's selected key only.
        true
    }

    fn access_token(&self, ctx: &Ctx<'_>) -> AccessToken {
        AccessToken::Jwt(self.access_claims(ctx))
    }

    fn userinfo(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(self.sub(ctx.client, ctx.user)));
        claims.extend(self.scope_claims(ctx));
        claims
    }

    fn refresh(&self, ctx: &Ctx<'_>) -> Option<RefreshPolicy> {
        // Only `offline_access` gets a refresh token; every refresh rotates it, and a used one
        // is refused (invalid_grant) without touching the newer one.
        ctx.has_scope("offline_access").then_some(RefreshPolicy {
            rotate: true,
            reuse_detection: true,
            grace_seconds: 0,
            echo: false,
            revoke_family: false,
        })
    }

    fn token_response(&self, issued: Issued) -> Value {
        let body = json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "scope": issued.scopes.join(" "),
            "expires_in": issued.expires_in,
        });
        with_issued_tokens(body, issued.id_token, issued.refresh_token)
    }

    fn offers_client_credentials(&self) -> bool {
        true
    }

    /// authentik reads a secret that is not the provider's as an app password
    /// (`base64(username:password)`), and refuses what that is not as a grant error.
    fn client_credentials_bad_secret(&self) -> Option<TokenRefusal> {
        Some((
            StatusCode::BAD_REQUEST,
            oauth_error("invalid_grant", INVALID_GRANT),
        ))
    }

    /// The provider's service account signs in (`ak-<provider>-client_credentials`, which the
    /// application's bindings must admit): an access token and an ID token of its claims, for
    /// the requested scopes the provider's mappings know (others dropped without a word).
    fn client_credentials(&self, m2m: &M2mRequest<'_>) -> Result<M2mToken, TokenRefusal> {
        let refused = || {
            Err((
                StatusCode::BAD_REQUEST,
                oauth_error("invalid_grant", INVALID_GRANT),
            ))
        };
        let account = &self.service_account;
        let unbound = self.bound_groups.is_empty() && self.bound_users.is_empty();
        if m2m.client.public_client || !(unbound || self.bound_users.contains(&account.username)) {
            return refused();
        }
        let known: BTreeSet<&str> = self.selected().map(|m| m.scope.as_str()).collect();
        let scopes: Vec<String> = m2m
            .scopes()
            .into_iter()
            .filter(|s| known.contains(s))
            .map(str::to_string)
            .collect();
        let user = super::user(NewUser {
            id: account.uuid.clone(),
            login: &account.login,
            password: None,
            enabled: true,
            email: None,
            email_verified: false,
            first_name: Some(account.name.clone()),
            last_name: None,
            groups: Vec::new(),
        });
        let params = BTreeMap::new();
        let ctx = Ctx {
            server: m2m.server,
            issuer: m2m.issuer,
            client: m2m.client,
            user: &user,
            scopes: &scopes,
            nonce: None,
            now: m2m.now,
            auth_time: Some(m2m.now),
            session_id: "",
            params: &params,
        };
        // No login session: no authentication methods to name.
        let without_amr = |mut claims: Map<String, Value>| {
            claims.remove("amr");
            claims
        };
        Ok(M2mToken {
            claims: without_amr(self.access_claims(&ctx)),
            id_token: Some(without_amr(self.id_token(&ctx))),
            response: fields([
                ("token_type", json!("Bearer")),
                ("scope", json!(scopes.join(" "))),
                ("expires_in", json!(self.access_token_seconds)),
            ]),
        })
    }

    fn client_refusal(&self, _why: ClientRefusal, _client_id: &str) -> (StatusCode, Value) {
        (
            StatusCode::BAD_REQUEST,
            oauth_error("invalid_client", INVALID_CLIENT),
        )
    }

    fn refresh_refusal(&self) -> (StatusCode, Value) {
        (
            StatusCode::BAD_REQUEST,
            oauth_error("invalid_grant", INVALID_GRANT),
        )
    }

    fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_token: self.access_token_seconds,
            id_token: self.access_token_seconds,
        }
    }

    fn logout_needs_hint(&self, has_target: bool) -> bool {
        // A post_logout_redirect_uri needs an id_token_hint once the provider registers any.
        has_target && !self.post_logout_uris.is_empty()
    }

    fn logout_refusal(&self, why: LogoutRefusal<'_>) -> ErrorPage {
        match why {
            // No id_token_hint and nothing registered: the target is ignored and the user is
            // signed out on authentik's own page; likewise a target when the provider
            // registers no post-logout URI at all.
            LogoutRefusal::UnknownClient(_) => self.signed_out(),
            LogoutRefusal::Target { .. } if self.post_logout_uris.is_empty() => self.signed_out(),
            _ => self.bad_request(),
        }
    }

    fn signed_out(&self) -> ErrorPage {
        ErrorPage {
            status: StatusCode::OK,
            title: "authentik".into(),
            message: format!("You've logged out of {}.", self.app_name),
        }
    }

    fn edit(&mut self, edit: &PersonaEdit) -> Result<(), String> {
        match edit {
            PersonaEdit::AuthentikScopes { scopes } => {
                let mut selected = Vec::new();
                for scope in scopes {
                    let mapping = self
                        .mappings
                        .iter()
                        .find(|m| &m.scope == scope)
                        .ok_or_else(|| format!("no scope mapping provides the scope `{scope}`"))?;
                    selected.push(mapping.name.clone());
                }
                self.selected = selected;
                Ok(())
            }
            PersonaEdit::AuthentikSubMode { mode } => {
                self.sub_mode = SubMode::parse(mode).ok_or_else(|| {
                    format!(
                        "`{mode}` is not a subject mode: use one of {}",
                        SubMode::NAMES.join(", ")
                    )
                })?;
                Ok(())
            }
            PersonaEdit::AuthentikSigningKey { certificate } => {
                if let Some(name) = certificate {
                    match self.certificates.iter().find(|c| &c.name == name) {
                        Some(c) if c.key_type == KeyType::Rsa => {}
                        Some(_) => return Err(format!("\"{name}\" is not an RSA key")),
                        None => return Err(format!("no certificate-key pair is named \"{name}\"")),
                    }
                }
                self.signing_key = certificate.clone();
                Ok(())
            }
            PersonaEdit::AuthentikIncludeClaimsInIdToken { enabled } => {
                self.include_claims_in_id_token = *enabled;
                Ok(())
            }
            other => Err(format!("an authentik provider cannot apply {other:?}")),
        }
    }

    fn summary(&self) -> Vec<String> {
        vec![
            format!(
                "authentik {} (install {}): application \"{}\" (slug {}) → provider \"{}\", client {}",
                self.domain, self.install_id, self.app_name, self.slug, self.provider_name, self.client_id
            ),
            format!(
                "  scopes {}; subject mode {}; signing key {}",
                self.selected()
                    .map(|m| m.scope.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                SubMode::NAMES[self.sub_mode as usize],
                self.signing_key.as_deref().unwrap_or("none (HS256 with the client secret)")
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::parse_validity;

    #[test]
    fn validities_read_authentik_durations_and_stay_bounded() {
        assert_eq!(parse_validity("minutes=1"), Ok(60));
        assert_eq!(parse_validity("hours=1;minutes=2;seconds=3"), Ok(3723));
        assert_eq!(parse_validity("days=30"), Ok(30 * 24 * 3600));
        for bad in ["", "hours", "hours=x", "fortnights=1", "seconds=0"] {
            assert!(parse_validity(bad).is_err(), "{bad}");
        }
        let huge = parse_validity("weeks=18446744073709551615").unwrap_err();
        assert!(huge.contains("longer than the persona allows"), "{huge}");
        assert!(parse_validity("days=3651").is_err());
    }
}
