//! Microsoft Entra ID: a tenant with security groups (object ids), users (one may be in hundreds
//! of groups), accounts of other tenants, and app registrations with their secrets, redirect
//! URIs, `groupMembershipClaims`, optional claims, token version, and the enterprise
//! application's assignment settings.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    client, fields, ids, saml_client, suggestion, token_settings, unique, with_issued_tokens,
    AccessToken, Built, ClientRefusal, Ctx, Dialect, ErrorPage, Issued, Locator, LoginForm, Logout,
    LogoutStyle, M2mRequest, M2mToken, Model, NewUser, PersonaEdit, PersonaError, RefreshPolicy,
    Refusal, SecretCheck, Server, TokenRefusal, Vendor,
};
use crate::realm::{Client, SamlClient, User};

/// Above this many groups a JWT carries the overage marker instead of `groups`.
const OVERAGE_LIMIT: usize = 200;
/// The most groups a tenant may define, `count` expansions included (README, "Vendor
/// personas"): fifty times the overage limit, far below what would exhaust memory.
pub(crate) const MAX_GROUPS: u64 = 10_000;
/// The most group memberships all users may hold together, expansions included.
pub(crate) const MAX_MEMBERSHIPS: u64 = 1_000_000;
/// Microsoft Graph's application id: the audience of the access token for openid/profile/email.
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantFile {
    #[allow(dead_code)]
    vendor: Vendor,
    tenant: TenantInfo,
    groups: Vec<GroupFile>,
    users: Vec<UserFile>,
    /// Accounts of other directories (personal Microsoft accounts, other tenants) that try to
    /// sign in here.
    #[serde(default)]
    external_accounts: Vec<ExternalAccount>,
    app_registrations: Vec<AppFile>,
    #[serde(default)]
    enterprise_applications: Vec<EnterpriseAppFile>,
}

/// Above this many groups a SAML token carries `groups.link` instead of the groups ("Configure
/// group claims for applications by using Microsoft Entra ID": 150 in SAML tokens).
const SAML_OVERAGE_LIMIT: usize = 150;
const GROUPS_CLAIM: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups";
const GROUPS_LINK: &str = "http://schemas.microsoft.com/claims/groups.link";

/// Enterprise applications → a SAML app's "Set up single sign-on with SAML" page (Microsoft
/// Learn, "Enable SAML single sign-on for an enterprise application" and "Customize claims
/// issued in the SAML token for enterprise applications").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnterpriseAppFile {
    display_name: String,
    /// Basic SAML Configuration → "Identifier (Entity ID)".
    identifier: String,
    /// Basic SAML Configuration → "Reply URL (Assertion Consumer Service URL)".
    reply_url: String,
    /// SAML Signing Certificate → "Signing Option" (default "Sign SAML assertion").
    #[serde(default)]
    signing_option: SigningOption,
    /// SAML Signing Certificate → "Signing Algorithm" (default SHA-256).
    #[serde(default)]
    signing_algorithm: SigningAlgorithm,
    /// Attributes & Claims → "Unique User Identifier (Name ID)".
    #[serde(default)]
    name_identifier: NameIdentifier,
    /// Attributes & Claims → additional claims: a claim name (a URI) and a source attribute.
    #[serde(default)]
    claims: Vec<ClaimMapping>,
    /// Attributes & Claims → "Add a group claim"; none when absent.
    #[serde(default)]
    group_claim: Option<GroupClaim>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
enum SigningOption {
    #[serde(rename = "Sign SAML response")]
    Response,
    #[default]
    #[serde(rename = "Sign SAML assertion")]
    Assertion,
    #[serde(rename = "Sign SAML response and assertion")]
    Both,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
enum SigningAlgorithm {
    #[default]
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-1")]
    Sha1,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameIdentifier {
    /// "Name identifier format".
    #[serde(default = "email_address")]
    format: NameIdentifierFormat,
    /// "Source attribute".
    #[serde(default = "upn")]
    source: String,
}

impl Default for NameIdentifier {
    fn default() -> Self {
        NameIdentifier {
            format: NameIdentifierFormat::EmailAddress,
            source: upn(),
        }
    }
}

fn email_address() -> NameIdentifierFormat {
    NameIdentifierFormat::EmailAddress
}

fn upn() -> String {
    "user.userprincipalname".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum NameIdentifierFormat {
    Unspecified,
    EmailAddress,
    Persistent,
    Transient,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimMapping {
    /// The claim's name with its namespace, e.g.
    /// `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress`.
    name: String,
    source: String,
}

/// The source attributes a claim may name here.
const SOURCES: [&str; 6] = [
    "user.userprincipalname",
    "user.mail",
    "user.givenname",
    "user.surname",
    "user.objectid",
    "user.tenantid",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupClaim {
    /// "Which groups associated with the user should be returned in the claim?"
    groups: GroupSelection,
    /// The claim's name; Entra's default is the `…/ws/2008/06/identity/claims/groups` URI.
    #[serde(default = "groups_claim")]
    name: String,
}

fn groups_claim() -> String {
    GROUPS_CLAIM.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum GroupSelection {
    SecurityGroups,
    AllGroups,
    GroupsAssignedToTheApplication,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantInfo {
    /// The directory (tenant) id.
    id: String,
    display_name: String,
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    primary_domain: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    display_name: String,
    /// The object id; derived from the name when absent.
    #[serde(default)]
    id: Option<String>,
    /// Expands to `count` groups named by replacing `{n}` with 1…count.
    #[serde(default)]
    count: Option<u32>,
    #[serde(default = "yes")]
    security_enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    user_principal_name: String,
    /// The object id (`oid`); derived when absent.
    #[serde(default)]
    id: Option<String>,
    display_name: String,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    surname: Option<String>,
    /// The `mail` attribute; the `email` optional claim is empty without it.
    #[serde(default)]
    mail: Option<String>,
    password: String,
    /// Group display names (a `{n}` group name joins all its expansions).
    #[serde(default)]
    member_of: Vec<String>,
    #[serde(default = "yes")]
    account_enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalAccount {
    user_principal_name: String,
    password: String,
    /// `live.com` for a personal Microsoft account, else the other tenant's domain.
    identity_provider: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    display_name: String,
    /// The application (client) id.
    app_id: String,
    #[serde(default = "my_org")]
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    sign_in_audience: String,
    web_redirect_uris: Vec<String>,
    client_secrets: Vec<SecretFile>,
    /// `null` (absent) behaves as 1 for the app's own API; ID tokens follow the endpoint.
    #[serde(default)]
    requested_access_token_version: Option<u8>,
    /// Expose an API → Application ID URIs (`api://<app id>`): what a scope
    /// `<uri>/.default` names, besides the application id itself.
    #[serde(default)]
    identifier_uris: Vec<String>,
    /// Expose an API → the scopes it defines (`access_as_user`): `<uri>/<scope>` asks for one,
    /// `<uri>/.default` for all.
    #[serde(default)]
    api_scopes: Vec<String>,
    /// `None`, `SecurityGroup`, `ApplicationGroup`, `DirectoryRole` or `All`.
    #[serde(default = "none")]
    group_membership_claims: String,
    #[serde(default)]
    optional_claims: OptionalClaims,
    /// The enterprise application's "Assignment required?".
    #[serde(default)]
    assignment_required: bool,
    /// Groups (display names) and users (UPNs) assigned to the enterprise application.
    #[serde(default)]
    assignments: Vec<String>,
    #[serde(default)]
    claims_mapping_policy: bool,
    /// "API permissions", application permissions with admin consent: the app roles this app
    /// holds on other apps' APIs, by the API's app id or Application ID URI. They are the
    /// `roles` of its client credentials tokens.
    #[serde(default)]
    application_permissions: Vec<AppPermission>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppPermission {
    api: String,
    roles: Vec<String>,
}

fn my_org() -> String {
    "AzureADMyOrg".into()
}

fn none() -> String {
    "None".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionalClaims {
    #[serde(default)]
    id_token: Vec<String>,
    #[serde(default)]
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    access_token: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFile {
    /// Part of the vendor's model; the emulator does not act on it.
    #[allow(dead_code)]
    #[serde(default)]
    display_name: Option<String>,
    value: String,
    /// `YYYY-MM-DD`; a secret past it is refused with AADSTS7000222.
    #[serde(default)]
    end_date: Option<String>,
}

#[derive(Debug, Clone)]
struct GroupInfo {
    name: String,
    oid: String,
    security: bool,
}

#[derive(Debug, Clone)]
struct UserInfo {
    username: String,
    display_name: String,
    mail: Option<String>,
    external: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    id: String,
    display_name: String,
    groups: Vec<GroupInfo>,
    users: Vec<UserInfo>,
    apps: Vec<AppFile>,
    enterprise_apps: Vec<EnterpriseAppFile>,
}

fn expand(group: &GroupFile, tenant: &str) -> Vec<GroupInfo> {
    let one = |name: String, id: Option<String>| GroupInfo {
        oid: id.unwrap_or_else(|| ids::uuid(&format!("{tenant}:group:{name}"))),
        name,
        security: group.security_enabled,
    };
    match group.count {
        Some(count) => (1..=count)
            .map(|n| one(group.display_name.replace("{n}", &n.to_string()), None))
            .collect(),
        None => vec![one(group.display_name.clone(), group.id.clone())],
    }
}

pub(crate) fn build(file: TenantFile, at: &Locator<'_>) -> Result<Built, PersonaError> {
    let tenant = &file.tenant.id;
    if uuid::Uuid::parse_str(tenant).is_err() {
        return Err(at.invalid(
            "tenant.id",
            "tenant:",
            tenant,
            format!("`{tenant}` is not a tenant id (a GUID)"),
        ));
    }
    unique(
        at,
        "groups.display_name",
        "group",
        file.groups.iter().map(|g| g.display_name.as_str()),
    )?;
    unique(
        at,
        "users.user_principal_name",
        "user",
        file.users.iter().map(|u| u.user_principal_name.as_str()),
    )?;
    unique(
        at,
        "app_registrations.app_id",
        "app registration",
        file.app_registrations.iter().map(|a| a.app_id.as_str()),
    )?;
    // Counted before anything is expanded: `count: 4000000000` must be an error, not 224 GB.
    let mut expanded_groups = 0u64;
    for (i, group) in file.groups.iter().enumerate() {
        if group.count == Some(0) || group.count.is_some_and(|c| u64::from(c) > MAX_GROUPS) {
            return Err(at.invalid(
                &format!("groups[{i}].count"),
                &group.display_name,
                "count",
                format!(
                    "group \"{}\" has `count: {}`; give a count from 1 to {MAX_GROUPS}, the most groups a persona tenant holds",
                    group.display_name,
                    group.count.unwrap_or_default()
                ),
            ));
        }
        expanded_groups += group.count.map_or(1, u64::from);
        if expanded_groups > MAX_GROUPS {
            return Err(at.invalid(
                &format!("groups[{i}]"),
                &group.display_name,
                "display_name",
                format!(
                    "with group \"{}\" the tenant has {expanded_groups} groups, counting each `count` expansion; a persona tenant holds at most {MAX_GROUPS}",
                    group.display_name
                ),
            ));
        }
        if group.count.is_some() && !group.display_name.contains("{n}") {
            return Err(at.invalid(
                &format!("groups[{i}].count"),
                &group.display_name,
                "count",
                format!(
                    "group \"{}\" has a `count` but no `{{n}}` in its name",
                    group.display_name
                ),
            ));
        }
        if let Some(id) = &group.id {
            if uuid::Uuid::parse_str(id).is_err() {
                return Err(at.invalid(
                    &format!("groups[{i}].id"),
                    &group.display_name,
                    id,
                    format!("`{id}` is not an object id (a GUID)"),
                ));
            }
        }
    }
    let templates: Vec<&str> = file
        .groups
        .iter()
        .map(|g| g.display_name.as_str())
        .collect();
    let size = |name: &str| {
        file.groups
            .iter()
            .find(|g| g.display_name == name)
            .map_or(0, |g| g.count.map_or(1, u64::from))
    };
    let mut memberships = 0u64;
    for (i, user) in file.users.iter().enumerate() {
        for group in &user.member_of {
            memberships += size(group);
            if memberships > MAX_MEMBERSHIPS {
                return Err(at.invalid(
                    &format!("users[{i}].member_of"),
                    &user.user_principal_name,
                    group,
                    format!(
                        "with user \"{}\" in \"{group}\" the users hold more than {MAX_MEMBERSHIPS} group memberships in all, counting each `count` expansion; that is the most a persona tenant holds",
                        user.user_principal_name
                    ),
                ));
            }
            if !templates.contains(&group.as_str()) {
                return Err(at.invalid(
                    &format!("users[{i}].member_of"),
                    &user.user_principal_name,
                    group,
                    format!(
                        "user \"{}\" is a member of \"{group}\", which the tenant does not define; add it under `groups`{}",
                        user.user_principal_name,
                        suggestion(group, templates.iter().copied())
                    ),
                ));
            }
        }
    }
    for (i, app) in file.app_registrations.iter().enumerate() {
        let key = |k: &str| format!("app_registrations[{i}].{k}");
        for permission in &app.application_permissions {
            let known = file
                .app_registrations
                .iter()
                .any(|a| a.app_id == permission.api || a.identifier_uris.contains(&permission.api));
            if !known {
                return Err(at.invalid(
                    &key("application_permissions"),
                    &app.app_id,
                    &permission.api,
                    format!(
                        "app \"{}\" holds permissions on API \"{}\", which no app registration exposes (by `app_id` or `identifier_uris`)",
                        app.display_name, permission.api
                    ),
                ));
            }
        }
        if ![
            "None",
            "SecurityGroup",
            "ApplicationGroup",
            "DirectoryRole",
            "All",
        ]
        .contains(&app.group_membership_claims.as_str())
        {
            return Err(at.invalid(
                &key("group_membership_claims"),
                &app.app_id,
                &app.group_membership_claims,
                "`groupMembershipClaims` is None, SecurityGroup, ApplicationGroup, DirectoryRole or All".into(),
            ));
        }
        if let Some(v) = app.requested_access_token_version {
            if v != 1 && v != 2 {
                return Err(at.invalid(
                    &key("requested_access_token_version"),
                    &app.app_id,
                    "requested_access_token_version",
                    "`requestedAccessTokenVersion` is 1, 2 or null".into(),
                ));
            }
        }
        for assignee in &app.assignments {
            let known = templates.contains(&assignee.as_str())
                || file
                    .users
                    .iter()
                    .any(|u| &u.user_principal_name == assignee);
            if !known {
                return Err(at.invalid(
                    &key("assignments"),
                    &app.app_id,
                    assignee,
                    format!(
                        "\"{assignee}\" is neither a group nor a user of the tenant{}",
                        suggestion(assignee, templates.iter().copied())
                    ),
                ));
            }
        }
        for secret in &app.client_secrets {
            if let Some(end) = &secret.end_date {
                if ssoproof_config::IsoDate::parse(end).is_err() {
                    return Err(at.invalid(
                        &key("client_secrets.end_date"),
                        &app.app_id,
                        end,
                        format!("`{end}` is not a YYYY-MM-DD date"),
                    ));
                }
            }
        }
    }

    let groups: Vec<GroupInfo> = file.groups.iter().flat_map(|g| expand(g, tenant)).collect();
    let membership = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .flat_map(|name| {
                let template = file.groups.iter().find(|g| &g.display_name == name);
                template.map(|t| expand(t, tenant)).unwrap_or_default()
            })
            .map(|g| g.name)
            .collect()
    };
    let mut users: Vec<User> = file
        .users
        .iter()
        .map(|u| {
            super::user(NewUser {
                id: u.id.clone().unwrap_or_else(|| {
                    ids::uuid(&format!("{tenant}:user:{}", u.user_principal_name))
                }),
                login: &u.user_principal_name,
                password: Some(&u.password),
                enabled: u.account_enabled,
                email: u.mail.clone(),
                email_verified: false,
                first_name: u.given_name.clone(),
                last_name: u.surname.clone(),
                groups: membership(&u.member_of),
            })
        })
        .collect();
    users.extend(file.external_accounts.iter().map(|a| {
        super::user(NewUser {
            id: ids::uuid(&format!("external:{}", a.user_principal_name)),
            login: &a.user_principal_name,
            password: Some(&a.password),
            enabled: true,
            email: Some(a.user_principal_name.clone()),
            email_verified: false,
            first_name: None,
            last_name: None,
            groups: Vec::new(),
        })
    }));
    let clients = file
        .app_registrations
        .iter()
        .map(|a| {
            let current = a
                .client_secrets
                .iter()
                .find(|s| !expired(s))
                .or(a.client_secrets.first());
            client(
                &a.app_id,
                &a.display_name,
                current.map(|s| s.value.as_str()),
                &a.web_redirect_uris,
                false,
            )
        })
        .collect();
    let mut infos: Vec<UserInfo> = file
        .users
        .iter()
        .map(|u| UserInfo {
            username: u.user_principal_name.to_lowercase(),
            display_name: u.display_name.clone(),
            mail: u.mail.clone(),
            external: None,
        })
        .collect();
    infos.extend(file.external_accounts.iter().map(|a| UserInfo {
        username: a.user_principal_name.to_lowercase(),
        display_name: a.user_principal_name.clone(),
        mail: None,
        external: Some(a.identity_provider.clone()),
    }));
    unique(
        at,
        "enterprise_applications.identifier",
        "enterprise application identifier",
        file.enterprise_applications
            .iter()
            .map(|a| a.identifier.as_str()),
    )?;
    let mut saml_clients = Vec::new();
    for (i, app) in file.enterprise_applications.iter().enumerate() {
        let sources = app
            .claims
            .iter()
            .enumerate()
            .map(|(j, c)| (format!("claims[{j}].source"), &c.source))
            .chain([(
                "name_identifier.source".to_string(),
                &app.name_identifier.source,
            )]);
        for (key, source) in sources {
            if !SOURCES.contains(&source.as_str()) {
                return Err(at.invalid(
                    &format!("enterprise_applications[{i}].{key}"),
                    &app.identifier,
                    source,
                    format!(
                        "`{source}` is not a source attribute the emulator knows ({}){}",
                        SOURCES.join(", "),
                        suggestion(source, SOURCES)
                    ),
                ));
            }
        }
        let (response, assertion) = match app.signing_option {
            SigningOption::Response => ("true", "false"),
            SigningOption::Assertion => ("false", "true"),
            SigningOption::Both => ("true", "true"),
        };
        let format = match app.name_identifier.format {
            NameIdentifierFormat::Unspecified => "username",
            NameIdentifierFormat::EmailAddress => "email",
            NameIdentifierFormat::Persistent => "persistent",
            NameIdentifierFormat::Transient => "transient",
        };
        let source = match app.name_identifier.source.as_str() {
            "user.mail" => "email",
            "user.objectid" => "id",
            _ => "username",
        };
        let algorithm = match app.signing_algorithm {
            SigningAlgorithm::Sha256 => "RSA_SHA256",
            SigningAlgorithm::Sha1 => "RSA_SHA1",
        };
        saml_clients.push(saml_client(
            &app.identifier,
            &app.display_name,
            &app.reply_url,
            &[
                ("saml_name_id_format", format),
                ("persona.name_id.source", source),
                ("saml.server.signature", response),
                ("saml.assertion.signature", assertion),
                ("saml.signature.algorithm", algorithm),
                ("saml.force.name.id.format", "true"),
            ],
        ));
    }
    Ok(Built {
        name: file.tenant.id.clone(),
        display_name: file.tenant.display_name.clone(),
        groups: groups.iter().map(|g| g.name.clone()).collect(),
        users,
        clients,
        saml_clients,
        tokens: token_settings(3600),
        model: Model::Entra(Tenant {
            id: file.tenant.id,
            display_name: file.tenant.display_name,
            groups,
            users: infos,
            apps: file.app_registrations,
            enterprise_apps: file.enterprise_applications,
        }),
    })
}

fn expired(secret: &SecretFile) -> bool {
    let Some(end) = secret
        .end_date
        .as_deref()
        .and_then(|d| ssoproof_config::IsoDate::parse(d).ok())
    else {
        return false;
    };
    let today = time::OffsetDateTime::now_utc().date();
    end.0 < today
}

impl Tenant {
    fn app(&self, client_id: &str) -> Option<&AppFile> {
        self.apps.iter().find(|a| a.app_id == client_id)
    }

    fn info(&self, user: &User) -> Option<&UserInfo> {
        self.users.iter().find(|u| u.username == user.username)
    }

    fn group(&self, name: &str) -> Option<&GroupInfo> {
        self.groups.iter().find(|g| g.name == name)
    }

    fn tenant_issuer(base: &str, tenant: &str) -> String {
        format!("{base}/{tenant}/v2.0")
    }

    /// A scope naming one of the tenant's APIs, `<resource>/<scope>`: the API's app
    /// registration, the resource as written (an Application ID URI or the application id) and
    /// the scope. `None` for OIDC and Graph scopes.
    fn api_scope<'s>(&self, scope: &'s str) -> Option<(&AppFile, &'s str, &'s str)> {
        let (resource, name) = scope.rsplit_once('/')?;
        let app = self
            .apps
            .iter()
            .find(|a| a.app_id == resource || a.identifier_uris.iter().any(|u| u == resource))?;
        Some((app, resource, name))
    }

    /// The `groups` claim (object ids), or the overage marker, per the `groupMembershipClaims`
    /// of `app`: the client for an ID token, the API for its access token.
    fn groups_claims(&self, app: &AppFile, ctx: &Ctx<'_>, claims: &mut Map<String, Value>) {
        let member: Vec<&GroupInfo> = ctx
            .group_names()
            .iter()
            .filter_map(|n| self.group(n))
            .collect();
        let emitted: Vec<&GroupInfo> = match app.group_membership_claims.as_str() {
            "SecurityGroup" => member.into_iter().filter(|g| g.security).collect(),
            "All" => member,
            "ApplicationGroup" => member
                .into_iter()
                .filter(|g| app.assignments.contains(&g.name))
                .collect(),
            _ => return,
        };
        if emitted.len() > OVERAGE_LIMIT {
            claims.insert("_claim_names".into(), json!({"groups": "src1"}));
            claims.insert(
                "_claim_sources".into(),
                json!({"src1": {"endpoint": format!("https://graph.microsoft.com/v1.0/users/{}/getMemberObjects", ctx.user.id)}}),
            );
        } else if !emitted.is_empty() {
            claims.insert(
                "groups".into(),
                json!(emitted.iter().map(|g| g.oid.clone()).collect::<Vec<_>>()),
            );
        }
    }

    /// An access token for one of the tenant's APIs, in the version its registration requests
    /// (`requestedAccessTokenVersion`, 1 when absent): v1.0 names the resource as it was asked
    /// for and is issued by `sts.windows.net`, v2.0 names the application id ("Access token
    /// claims reference").
    fn api_access_token(&self, ctx: &Ctx<'_>, api: &AppFile, resource: &str) -> Map<String, Value> {
        let user = ctx.user;
        let v2 = api.requested_access_token_version == Some(2);
        let scp: Vec<&str> = ctx
            .scopes
            .iter()
            .filter_map(|s| self.api_scope(s))
            .flat_map(|(_, _, name)| match name {
                ".default" => api.api_scopes.iter().map(String::as_str).collect(),
                name => vec![name],
            })
            .collect();
        let mut claims = Map::new();
        if v2 {
            claims.insert("aud".into(), json!(api.app_id));
            claims.insert(
                "iss".into(),
                json!(format!(
                    "https://login.microsoftonline.com/{}/v2.0",
                    self.id
                )),
            );
        } else {
            claims.insert("aud".into(), json!(resource));
            claims.insert(
                "iss".into(),
                json!(format!("https://sts.windows.net/{}/", self.id)),
            );
        }
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("nbf".into(), json!(ctx.now));
        claims.insert("exp".into(), json!(ctx.now + 3600));
        if !v2 {
            claims.insert("acr".into(), json!("1"));
        }
        claims.insert("aio".into(), json!(ids::random(120)));
        if v2 {
            claims.insert("azp".into(), json!(ctx.client.client_id));
            claims.insert("azpacr".into(), json!("1"));
        } else {
            claims.insert("amr".into(), json!(["pwd"]));
            claims.insert("appid".into(), json!(ctx.client.client_id));
            claims.insert("appidacr".into(), json!("1"));
            if let Some(family) = &user.last_name {
                claims.insert("family_name".into(), json!(family));
            }
            if let Some(given) = &user.first_name {
                claims.insert("given_name".into(), json!(given));
            }
            claims.insert("ipaddr".into(), json!("127.0.0.1"));
        }
        self.groups_claims(api, ctx, &mut claims);
        claims.insert("name".into(), json!(self.name(user)));
        claims.insert("oid".into(), json!(user.id));
        if v2 {
            claims.insert("preferred_username".into(), json!(user.username));
        }
        claims.insert("rh".into(), json!(format!("1.{}.", ids::random(62))));
        claims.insert("scp".into(), json!(scp.join(" ")));
        claims.insert("sub".into(), json!(ids::pairwise(&user.id, &api.app_id)));
        claims.insert("tid".into(), json!(self.id));
        if !v2 {
            claims.insert("unique_name".into(), json!(user.username));
            claims.insert("upn".into(), json!(user.username));
        }
        claims.insert("uti".into(), json!(ids::random(22)));
        claims.insert("ver".into(), json!(if v2 { "2.0" } else { "1.0" }));
        claims
    }

    fn name(&self, user: &User) -> String {
        self.info(user)
            .map(|u| u.display_name.clone())
            .unwrap_or_else(|| user.username.clone())
    }
}

impl Dialect for Tenant {
    fn saml_idps(&self, base: &str) -> Vec<crate::saml::SamlIdp> {
        if self.enterprise_apps.is_empty() {
            return Vec::new();
        }
        vec![crate::saml::SamlIdp {
            entity_id: format!("https://sts.windows.net/{}/", self.id),
            metadata_url: format!(
                "{base}/{}/federationmetadata/2007-06/federationmetadata.xml",
                self.id
            ),
            sso_url: format!("{base}/{}/saml2", self.id),
            sp: None,
        }]
    }

    fn saml_attributes(&self, client: &SamlClient, user: &User) -> Vec<ssoproof_saml::Attribute> {
        let Some(app) = self
            .enterprise_apps
            .iter()
            .find(|a| a.identifier == client.client_id)
        else {
            return Vec::new();
        };
        // Entra writes the claim's full name and no NameFormat.
        let attribute = |name: &str, values: Vec<String>| ssoproof_saml::Attribute {
            name: name.to_string(),
            name_format: None,
            friendly_name: None,
            values,
        };
        let mut out = Vec::new();
        for claim in &app.claims {
            let value = match claim.source.as_str() {
                "user.userprincipalname" => Some(user.username.clone()),
                "user.mail" => user.email.clone(),
                "user.givenname" => user.first_name.clone(),
                "user.surname" => user.last_name.clone(),
                "user.objectid" => Some(user.id.clone()),
                "user.tenantid" => Some(self.id.clone()),
                _ => None,
            };
            out.extend(value.map(|v| attribute(&claim.name, vec![v])));
        }
        if let Some(claim) = &app.group_claim {
            let member: Vec<&GroupInfo> = super::group_names(user)
                .iter()
                .filter_map(|n| self.group(n))
                .collect();
            let emitted: Vec<&GroupInfo> = match claim.groups {
                GroupSelection::SecurityGroups => {
                    member.into_iter().filter(|g| g.security).collect()
                }
                GroupSelection::AllGroups => member,
                // Enterprise applications take their assignments from the app registration
                // with the same display name, where the persona file keeps them.
                GroupSelection::GroupsAssignedToTheApplication => member
                    .into_iter()
                    .filter(|g| {
                        self.apps.iter().any(|a| {
                            a.display_name == app.display_name && a.assignments.contains(&g.name)
                        })
                    })
                    .collect(),
            };
            if emitted.len() > SAML_OVERAGE_LIMIT {
                out.push(attribute(
                    GROUPS_LINK,
                    vec![format!(
                        "https://graph.windows.net/{}/users/{}/getMemberObjects",
                        self.id, user.id
                    )],
                ));
            } else if !emitted.is_empty() {
                out.push(attribute(
                    &claim.name,
                    emitted.iter().map(|g| g.oid.clone()).collect(),
                ));
            }
        }
        out
    }

    fn vendor(&self) -> Vendor {
        Vendor::Entra
    }

    fn servers(&self, base: &str) -> Vec<Server> {
        let server = |id: &str, segment: &str, issuer: String| Server {
            id: id.to_string(),
            issuer,
            discovery: format!("/{segment}/v2.0/.well-known/openid-configuration"),
            jwks: format!("/{segment}/discovery/v2.0/keys"),
            authorize: format!("/{segment}/oauth2/v2.0/authorize"),
            token: format!("/{segment}/oauth2/v2.0/token"),
            userinfo: Some("/oidc/userinfo".into()),
            logout: vec![Logout {
                path: format!("/{segment}/oauth2/v2.0/logout"),
                style: LogoutStyle::RpInitiated,
            }],
            discovery_only: false,
        };
        vec![
            server("tenant", &self.id, Tenant::tenant_issuer(base, &self.id)),
            server("common", "common", format!("{base}/{{tenantid}}/v2.0")),
            server(
                "organizations",
                "organizations",
                format!("{base}/{{tenantid}}/v2.0"),
            ),
            // The v1.0 document (a tenant issuer without `/v2.0`), served to be refused: its
            // issuer is on sts.windows.net.
            Server {
                id: "v1".into(),
                issuer: format!("https://sts.windows.net/{}/", self.id),
                discovery: format!("/{}/.well-known/openid-configuration", self.id),
                jwks: format!("/{}/discovery/keys", self.id),
                authorize: format!("/{}/oauth2/authorize", self.id),
                token: format!("/{}/oauth2/token", self.id),
                userinfo: None,
                logout: Vec::new(),
                discovery_only: true,
            },
        ]
    }

    fn token_issuer(&self, _server: &Server, servers: &[Server]) -> String {
        servers[0].issuer.clone()
    }

    fn discovery(&self, server: &Server, _servers: &[Server], base: &str) -> Value {
        let url = |path: &str| format!("{base}{path}");
        if server.id == "v1" {
            return json!({
                "token_endpoint": url(&server.token),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "jwks_uri": url(&server.jwks),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
                "scopes_supported": ["openid"],
                "issuer": server.issuer,
                "microsoft_multi_refresh_token": true,
                "authorization_endpoint": url(&server.authorize),
                "http_logout_supported": true,
                "frontchannel_logout_supported": true,
                "end_session_endpoint": url(&format!("/{}/oauth2/logout", self.id)),
                "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"],
                "check_session_iframe": url(&format!("/{}/oauth2/checksession", self.id)),
                "userinfo_endpoint": url(&format!("/{}/openid/userinfo", self.id)),
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            });
        }
        let segment = server.token.split('/').nth(1).unwrap_or_default();
        json!({
            "token_endpoint": url(&server.token),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": url(&server.jwks),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": server.issuer,
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": url("/oidc/userinfo"),
            "authorization_endpoint": url(&server.authorize),
            "device_authorization_endpoint": url(&format!("/{segment}/oauth2/v2.0/devicecode")),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": url(&server.logout[0].path),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": url(&format!("/{segment}/kerberos")),
            "tenant_region_scope": if server.id == "tenant" { json!("NA") } else { Value::Null },
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        })
    }

    fn login_path(&self) -> String {
        format!("/{}/login", self.id)
    }

    fn login_form(&self) -> LoginForm {
        LoginForm {
            title: "Sign in to your account".into(),
            heading: "Sign in".into(),
            username_field: "loginfmt",
            username_label: "Email, phone, or Skype",
            password_field: "passwd",
            submit: "Sign in",
            identifier_first: false,
            bad_credentials: "Your account or password is incorrect. If you don't remember your password, reset it now.",
        }
    }

    fn unknown_client(&self, client_id: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Sign in to your account".into(),
            message: format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                self.display_name
            ),
        }
    }

    fn redirect_mismatch(&self, client: &Client, redirect_uri: &str) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title: "Sign in to your account".into(),
            message: format!(
                "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
                client.client_id
            ),
        }
    }

    fn logout_echoes_state(&self) -> bool {
        // The v2.0 sign-out request documents `post_logout_redirect_uri` and `logout_hint` only.
        false
    }

    /// Also the answer to every refusal: Entra signs the user out anyway and stays on its own
    /// page, so a `post_logout_redirect_uri` that is not one of the app's redirect URIs is
    /// ignored rather than refused.
    fn signed_out(&self) -> ErrorPage {
        ErrorPage {
            status: StatusCode::OK,
            title: "Sign out".into(),
            message:
                "You signed out of your account. It's a good idea to close all browser windows."
                    .into(),
        }
    }

    fn check_scopes(
        &self,
        _server: &Server,
        _client: &Client,
        requested: &[&str],
    ) -> Result<Vec<String>, Refusal> {
        let oidc = |s: &&str| ["openid", "profile", "email", "offline_access"].contains(s);
        let graph = |s: &&str| *s == "User.Read" || s.starts_with("https://graph.microsoft.com/");
        // An access token is for one resource: Graph or one API.
        let apis: std::collections::BTreeSet<&str> = requested
            .iter()
            .filter_map(|s| self.api_scope(s).map(|(app, _, _)| app.app_id.as_str()))
            .collect();
        if apis.len() > 1 || (!apis.is_empty() && requested.iter().any(graph)) {
            return Err(Refusal::redirect(
                "invalid_scope",
                "AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource.",
            ));
        }
        if let Some(unknown) = requested
            .iter()
            .filter(|s| !oidc(s) && !graph(s) && s.contains('/'))
            .find(|s| self.api_scope(s).is_none())
        {
            let resource = unknown.rsplit_once('/').map_or(*unknown, |(r, _)| r);
            return Err(Refusal::redirect(
                "invalid_resource",
                &format!("AADSTS500011: The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", self.display_name),
            ));
        }
        let known = |s: &&str| {
            oidc(s)
                || graph(s)
                || self.api_scope(s).is_some_and(|(app, _, name)| {
                    name == ".default" || app.api_scopes.iter().any(|d| d == name)
                })
        };
        if requested.iter().all(known) {
            Ok(requested.iter().map(|s| s.to_string()).collect())
        } else {
            Err(Refusal::redirect(
                "invalid_scope",
                "AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid.",
            ))
        }
    }

    fn admit(&self, client: &Client, user: &User) -> Result<(), Refusal> {
        let info = self.info(user);
        if let Some(provider) = info.and_then(|i| i.external.clone()) {
            return Err(Refusal::page(
                StatusCode::BAD_REQUEST,
                "Sign in to your account",
                format!(
                    "AADSTS50020: User account '{}' from identity provider '{provider}' does not exist in tenant '{}' and cannot access the application '{}'({}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.",
                    user.username,
                    self.display_name,
                    client.client_id,
                    client.name.clone().unwrap_or_default()
                ),
            ));
        }
        if !user.enabled {
            return Err(Refusal::page(
                StatusCode::BAD_REQUEST,
                "Sign in to your account",
                "AADSTS50057: The user account is disabled.",
            ));
        }
        let Some(app) = self.app(&client.client_id) else {
            return Ok(());
        };
        let groups = super::group_names(user);
        let assigned = app
            .assignments
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&user.username) || groups.contains(a));
        if app.assignment_required && !assigned {
            return Err(Refusal::page(
                StatusCode::BAD_REQUEST,
                "Sign in to your account",
                format!(
                    "AADSTS50105: Your administrator has configured the application {} ('{}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '{}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.",
                    app.display_name, app.app_id, user.username
                ),
            ));
        }
        Ok(())
    }

    fn sub(&self, client: &Client, user: &User) -> String {
        ids::pairwise(&user.id, &client.client_id)
    }

    fn id_token(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let user = ctx.user;
        let mut claims = Map::new();
        claims.insert("aud".into(), json!(ctx.client.client_id));
        claims.insert("iss".into(), json!(ctx.issuer));
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("nbf".into(), json!(ctx.now));
        claims.insert("exp".into(), json!(ctx.now + 3600));
        claims.insert("aio".into(), json!(ids::random(120)));
        let app = self.app(&ctx.client.client_id);
        if app.is_some_and(|a| a.optional_claims.id_token.iter().any(|c| c == "email")) {
            if let Some(mail) = self.info(user).and_then(|i| i.mail.clone()) {
                claims.insert("email".into(), json!(mail));
            }
        }
        if let Some(app) = app {
            self.groups_claims(app, ctx, &mut claims);
        }
        if ctx.has_scope("profile") {
            claims.insert("name".into(), json!(self.name(user)));
            claims.insert("preferred_username".into(), json!(user.username));
        }
        if let Some(nonce) = ctx.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        claims.insert("oid".into(), json!(user.id));
        claims.insert("rh".into(), json!(format!("1.{}.", ids::random(62))));
        claims.insert("sid".into(), json!(ids::uuid(ctx.session_id)));
        claims.insert("sub".into(), json!(self.sub(ctx.client, user)));
        claims.insert("tid".into(), json!(self.id));
        claims.insert("uti".into(), json!(ids::random(22)));
        claims.insert("ver".into(), json!("2.0"));
        claims
    }

    fn unpublished_signing_key(&self, client: &Client) -> bool {
        self.app(&client.client_id)
            .is_some_and(|a| a.claims_mapping_policy)
    }

    fn access_token(&self, ctx: &Ctx<'_>) -> AccessToken {
        if let Some((api, resource, _)) = ctx.scopes.iter().find_map(|s| self.api_scope(s)) {
            return AccessToken::Jwt(self.api_access_token(ctx, api, resource));
        }
        // openid/profile/email only: a Microsoft Graph token, always v1.0, for Graph alone.
        let user = ctx.user;
        let app = self.app(&ctx.client.client_id);
        let mut scp: Vec<&str> = ctx
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| *s != "offline_access")
            .collect();
        scp.push("User.Read");
        scp.sort_unstable();
        scp.dedup();
        let mut claims = Map::new();
        claims.insert("aud".into(), json!(GRAPH));
        claims.insert(
            "iss".into(),
            json!(format!("https://sts.windows.net/{}/", self.id)),
        );
        claims.insert("iat".into(), json!(ctx.now));
        claims.insert("nbf".into(), json!(ctx.now));
        claims.insert("exp".into(), json!(ctx.now + 3600));
        claims.insert("acct".into(), json!(0));
        claims.insert("acr".into(), json!("1"));
        claims.insert("aio".into(), json!(ids::random(120)));
        claims.insert("amr".into(), json!(["pwd"]));
        claims.insert(
            "app_displayname".into(),
            json!(app.map(|a| a.display_name.clone()).unwrap_or_default()),
        );
        claims.insert("appid".into(), json!(ctx.client.client_id));
        claims.insert("appidacr".into(), json!("1"));
        if let Some(family) = &user.last_name {
            claims.insert("family_name".into(), json!(family));
        }
        if let Some(given) = &user.first_name {
            claims.insert("given_name".into(), json!(given));
        }
        claims.insert("idtyp".into(), json!("user"));
        claims.insert("ipaddr".into(), json!("127.0.0.1"));
        claims.insert("name".into(), json!(self.name(user)));
        claims.insert("oid".into(), json!(user.id));
        claims.insert("platf".into(), json!("3"));
        claims.insert("puid".into(), json!(ids::hex(&user.id, 16).to_uppercase()));
        claims.insert("rh".into(), json!(format!("1.{}.", ids::random(62))));
        claims.insert("scp".into(), json!(scp.join(" ")));
        claims.insert("sid".into(), json!(ids::uuid(ctx.session_id)));
        claims.insert("sub".into(), json!(ids::pairwise(&user.id, GRAPH)));
        claims.insert("tenant_region_scope".into(), json!("NA"));
        claims.insert("tid".into(), json!(self.id));
        claims.insert("unique_name".into(), json!(user.username));
        claims.insert("upn".into(), json!(user.username));
        claims.insert("uti".into(), json!(ids::random(22)));
        claims.insert("ver".into(), json!("1.0"));
        claims.insert("xms_tcdt".into(), json!(1_700_000_000));
        AccessToken::Jwt(claims)
    }

    fn userinfo(&self, ctx: &Ctx<'_>) -> Map<String, Value> {
        let user = ctx.user;
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(self.sub(ctx.client, user)));
        if ctx.has_scope("profile") {
            claims.insert("name".into(), json!(self.name(user)));
            if let Some(family) = &user.last_name {
                claims.insert("family_name".into(), json!(family));
            }
            if let Some(given) = &user.first_name {
                claims.insert("given_name".into(), json!(given));
            }
            claims.insert(
                "picture".into(),
                json!("https://graph.microsoft.com/v1.0/me/photo/$value"),
            );
        }
        if ctx.has_scope("email") {
            if let Some(mail) = self.info(user).and_then(|i| i.mail.clone()) {
                claims.insert("email".into(), json!(mail));
            }
        }
        claims
    }

    fn refresh(&self, ctx: &Ctx<'_>) -> Option<RefreshPolicy> {
        ctx.has_scope("offline_access").then_some(RefreshPolicy {
            rotate: true,
            reuse_detection: false,
            grace_seconds: 0,
            echo: false,
            revoke_family: true,
        })
    }

    fn token_response(&self, issued: Issued) -> Value {
        let mut scopes: Vec<String> = issued
            .scopes
            .iter()
            .filter(|s| *s != "offline_access")
            .cloned()
            .collect();
        scopes.push("User.Read".into());
        scopes.sort();
        scopes.dedup();
        let body = json!({
            "token_type": "Bearer",
            "scope": scopes.join(" "),
            "expires_in": issued.expires_in,
            "ext_expires_in": issued.expires_in,
            "access_token": issued.access_token,
        });
        with_issued_tokens(body, issued.id_token, issued.refresh_token)
    }

    fn check_secret(&self, client: &Client, presented: &str) -> SecretCheck {
        let Some(app) = self.app(&client.client_id) else {
            return SecretCheck::Wrong;
        };
        match app.client_secrets.iter().find(|s| s.value == presented) {
            Some(secret) if expired(secret) => SecretCheck::Expired,
            Some(_) => SecretCheck::Valid,
            None => SecretCheck::Wrong,
        }
    }

    fn offers_client_credentials(&self) -> bool {
        true
    }

    /// An app-only token for another app registration's API, named by `<resource>/.default`:
    /// `idtyp` `app`, the consented application permissions in `roles`, no `scp`, `sub` and
    /// `oid` the client's service principal; v2.0 or v1.0 as the API's
    /// `requestedAccessTokenVersion` says.
    fn client_credentials(&self, m2m: &M2mRequest<'_>) -> Result<M2mToken, TokenRefusal> {
        let Some(scope) = m2m.scope else {
            return Err(aadsts(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "AADSTS900144: The request body must contain the following parameter: 'scope'."
                    .into(),
            ));
        };
        let Some(resource) = scope.strip_suffix("/.default").filter(|r| !r.contains(' ')) else {
            return Err(aadsts(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!("AADSTS1002012: The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            ));
        };
        let Some(api) = self
            .apps
            .iter()
            .find(|a| a.app_id == resource || a.identifier_uris.iter().any(|u| u == resource))
        else {
            return Err(aadsts(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                format!("AADSTS500011: The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", self.display_name),
            ));
        };
        let client_id = &m2m.client.client_id;
        let roles: Vec<&str> = self
            .app(client_id)
            .into_iter()
            .flat_map(|a| &a.application_permissions)
            .filter(|p| p.api == api.app_id || api.identifier_uris.contains(&p.api))
            .flat_map(|p| p.roles.iter().map(String::as_str))
            .collect();
        let principal = ids::uuid(&format!("{}:service-principal:{client_id}", self.id));
        let v1_issuer = format!("https://sts.windows.net/{}/", self.id);
        let v2 = api.requested_access_token_version == Some(2);
        let mut claims = Map::new();
        if v2 {
            claims.insert("aud".into(), json!(api.app_id));
            claims.insert("iss".into(), json!(m2m.issuer));
        } else {
            // v1.0 names the API as the request did.
            claims.insert("aud".into(), json!(resource));
            claims.insert("iss".into(), json!(v1_issuer));
        }
        claims.insert("iat".into(), json!(m2m.now));
        claims.insert("nbf".into(), json!(m2m.now));
        claims.insert("exp".into(), json!(m2m.now + 3599));
        claims.insert("aio".into(), json!(ids::random(80)));
        if v2 {
            claims.insert("azp".into(), json!(client_id));
            claims.insert("azpacr".into(), json!("1"));
        } else {
            claims.insert("appid".into(), json!(client_id));
            claims.insert("appidacr".into(), json!("1"));
        }
        claims.insert("idp".into(), json!(v1_issuer));
        claims.insert("idtyp".into(), json!("app"));
        claims.insert("oid".into(), json!(principal));
        claims.insert("rh".into(), json!(format!("1.{}.", ids::random(62))));
        if !roles.is_empty() {
            claims.insert("roles".into(), json!(roles));
        }
        claims.insert("sub".into(), json!(principal));
        claims.insert("tid".into(), json!(self.id));
        claims.insert("uti".into(), json!(ids::random(22)));
        claims.insert("ver".into(), json!(if v2 { "2.0" } else { "1.0" }));
        Ok(M2mToken {
            claims,
            id_token: None,
            response: fields([
                ("token_type", json!("Bearer")),
                ("expires_in", json!(3599)),
                ("ext_expires_in", json!(3599)),
            ]),
        })
    }

    fn client_refusal(&self, why: ClientRefusal, client_id: &str) -> (StatusCode, Value) {
        let (status, error, code, text) = match why {
            ClientRefusal::UnknownClient => (
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!("AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{}'.", self.display_name),
            ),
            ClientRefusal::WrongSecret => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
            ),
            ClientRefusal::ExpiredSecret => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000222,
                format!("AADSTS7000222: The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."),
            ),
        };
        aadsts(status, error, code, text)
    }

    fn refresh_refusal(&self) -> (StatusCode, Value) {
        (
            StatusCode::BAD_REQUEST,
            json!({
                "error": "invalid_grant",
                "error_description": "AADSTS9002313: Invalid request. Request is malformed or invalid.",
                "error_codes": [9002313],
            }),
        )
    }

    fn callback_params(&self, _user: &User, _scopes: &[String]) -> Vec<(&'static str, String)> {
        vec![("session_state", ids::uuid(&ids::random(16)))]
    }

    fn code(&self) -> String {
        format!("1.A{}", ids::random(300))
    }

    fn edit(&mut self, edit: &PersonaEdit) -> Result<(), String> {
        let app = self
            .apps
            .first_mut()
            .ok_or("the tenant has no app registration")?;
        match edit {
            PersonaEdit::EntraGroupMembershipClaims { value } => {
                if ![
                    "None",
                    "SecurityGroup",
                    "ApplicationGroup",
                    "DirectoryRole",
                    "All",
                ]
                .contains(&value.as_str())
                {
                    return Err(format!("`{value}` is not a groupMembershipClaims value"));
                }
                app.group_membership_claims = value.clone();
            }
            PersonaEdit::EntraEmailOptionalClaim { enabled } => {
                app.optional_claims.id_token.retain(|c| c != "email");
                if *enabled {
                    app.optional_claims.id_token.push("email".into());
                }
            }
            PersonaEdit::EntraAccessTokenVersion { version } => {
                app.requested_access_token_version = Some(*version);
            }
            PersonaEdit::EntraClaimsMappingPolicy { assigned } => {
                app.claims_mapping_policy = *assigned;
            }
            other => return Err(format!("an Entra tenant cannot apply {other:?}")),
        }
        Ok(())
    }

    fn summary(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Entra ID tenant \"{}\" ({}), {} groups",
            self.display_name,
            self.id,
            self.groups.len()
        )];
        for app in &self.apps {
            lines.push(format!(
                "  app registration \"{}\" {}: groupMembershipClaims {}, assignment required {}",
                app.display_name, app.app_id, app.group_membership_claims, app.assignment_required
            ));
        }
        lines
    }
}

/// An error as Entra's token endpoint writes it: the AADSTS text with its trace, the code list,
/// the timestamp and the ids.
fn aadsts(status: StatusCode, error: &str, code: u32, text: String) -> TokenRefusal {
    let trace = ids::uuid(&ids::random(16));
    (
        status,
        json!({
        "error": error,
        "error_description": format!("{text} Trace ID: {trace} Correlation ID: {trace} Timestamp: 2026-11-23 00:00:00Z"),
        "error_codes": [code],
        "timestamp": "2026-11-23 00:00:00Z",
        "trace_id": trace,
        "correlation_id": trace,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}
