//! Reading a Keycloak realm export into a [`Realm`].
//!
//! The text is deserialised straight into typed representations, so that a syntax error or a
//! value of the wrong type carries serde_json's line and column, and serde_path_to_error's key
//! path names the element it is in (`clients[1] (clientId "acme-spa").publicClient`). Keys fall
//! in three kinds: the ones the emulator reads, the ones
//! that only matter to surfaces it does not have (themes, e-mail, events: accepted silently),
//! and features it does not reproduce, reported as warnings when set to anything but Keycloak's
//! default. An unknown key is a warning with a "did you mean". What would change who may log in
//! or what a token says — an unknown mapper type, a group nobody defined — is an error.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::defaults::{builtin_client_scopes, DEFAULT_SCOPES, OPTIONAL_SCOPES};
use super::{
    Client, ClientScope, FederatedIdentity, Group, IdentityProvider, IdentityProviderMapper,
    ProtocolMapper, Realm, RealmWarning, SamlClient, TokenSettings, User,
};
use crate::mappers::{self, Support};
use ssoproof_config::suggest::nearest;
use ssoproof_secret::Secret;

/// Why a realm export cannot be served. Codes are stable.
#[derive(Debug, thiserror::Error)]
pub enum RealmError {
    #[error("cannot read realm export {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: not valid JSON: {message}; a realm export is one JSON object as `kc.sh export` writes it", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {at} has no `{field}`; add it, Keycloak refuses the import without it", path.display())]
    MissingField {
        path: PathBuf,
        at: String,
        field: &'static str,
    },
    #[error("{}:{line}:{column}: {at}: {message}", path.display())]
    WrongType {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The key path, e.g. `clients[2] (clientId "web").publicClient`.
        at: String,
        message: String,
    },
    #[error("{}: {at}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        at: String,
        message: String,
    },
    #[error("{}: {owner}: protocol mapper \"{mapper}\" has the unknown type \"{mapper_type}\"; use a Keycloak type such as {}", path.display(), mappers::EXAMPLE_TYPES)]
    UnknownMapper {
        path: PathBuf,
        owner: String,
        mapper: String,
        mapper_type: String,
    },
    #[error("{}: user \"{user}\" is in group \"{group}\", which the realm does not define; add it under `groups` (with `subGroups`) or fix the path{suggestion}", path.display())]
    UnknownGroup {
        path: PathBuf,
        user: String,
        group: String,
        /// ` (did you mean "…"?)` or empty.
        suggestion: String,
    },
}

impl RealmError {
    pub fn code(&self) -> &'static str {
        match self {
            RealmError::Read { .. } => "realm/read",
            RealmError::Syntax { .. } => "realm/syntax",
            RealmError::MissingField { .. } => "realm/missing-field",
            // A wrong type is an invalid value, located more precisely.
            RealmError::Invalid { .. } | RealmError::WrongType { .. } => "realm/invalid",
            RealmError::UnknownMapper { .. } => "realm/unknown-mapper",
            RealmError::UnknownGroup { .. } => "realm/unknown-group",
        }
    }
}

/// The keys an object of the export may hold, by what the emulator does with them.
struct KeyKinds {
    /// Read by the emulator.
    read: &'static [&'static str],
    /// Features it does not reproduce: a warning unless set to Keycloak's default.
    features: &'static [&'static str],
    /// Only meaningful to surfaces it does not have: accepted silently.
    inert: &'static [&'static str],
}

const REALM_KEYS: KeyKinds = KeyKinds {
    read: &[
        "realm",
        "displayName",
        "enabled",
        "accessTokenLifespan",
        "accessCodeLifespan",
        "accessCodeLifespanLogin",
        "ssoSessionIdleTimeout",
        "ssoSessionMaxLifespan",
        "revokeRefreshToken",
        "refreshTokenMaxReuse",
        "loginWithEmailAllowed",
        "groups",
        "users",
        "clients",
        "clientScopes",
        "defaultDefaultClientScopes",
        "defaultOptionalClientScopes",
        "identityProviders",
        "identityProviderMappers",
        "defaultGroups",
    ],
    features: REALM_FEATURES,
    inert: REALM_INERT,
};

const GROUP_KEYS: KeyKinds = KeyKinds {
    read: &["name", "subGroups"],
    features: &["clientRoles", "realmRoles"],
    // `path` is derived from the nesting, by Keycloak as here.
    inert: &[
        "access",
        "attributes",
        "description",
        "id",
        "parentId",
        "path",
        "subGroupCount",
    ],
};

const USER_KEYS: KeyKinds = KeyKinds {
    read: &[
        "id",
        "username",
        "enabled",
        "email",
        "emailVerified",
        "firstName",
        "lastName",
        "credentials",
        "groups",
        "realmRoles",
        "attributes",
        "federatedIdentities",
    ],
    features: &["clientRoles", "federationLink", "requiredActions", "totp"],
    inert: &[
        "access",
        "applicationRoles",
        "clientConsents",
        "createdTimestamp",
        "disableableCredentialTypes",
        "notBefore",
        "origin",
        "self",
        // The client credentials grant finds a client's service account by its username,
        // `service-account-<clientId>`, which Keycloak derives from this same link.
        "serviceAccountClientId",
        "socialLinks",
    ],
};

/// Besides `type`, `value` and `temporary`; the hashed forms are recognised by the missing
/// `value`.
const CREDENTIAL_KEYS: KeyKinds = KeyKinds {
    read: &["type", "value", "temporary"],
    features: &[],
    inert: &[
        "algorithm",
        "counter",
        "createdDate",
        "credentialData",
        "device",
        "digits",
        "hashIterations",
        "hashedSaltedValue",
        "id",
        "period",
        "priority",
        "salt",
        "secretData",
        "userLabel",
    ],
};

const CLIENT_KEYS: KeyKinds = KeyKinds {
    read: &[
        "id",
        "clientId",
        "name",
        "enabled",
        "protocol",
        "publicClient",
        "secret",
        "redirectUris",
        "webOrigins",
        "standardFlowEnabled",
        "directAccessGrantsEnabled",
        "serviceAccountsEnabled",
        "consentRequired",
        "attributes",
        "protocolMappers",
        "defaultClientScopes",
        "optionalClientScopes",
    ],
    features: CLIENT_FEATURES,
    inert: CLIENT_INERT,
};

const SCOPE_KEYS: KeyKinds = KeyKinds {
    read: &["name", "protocol", "attributes", "protocolMappers"],
    features: &[],
    inert: &["description", "id"],
};

/// The SAML mappers the emulator runs (harness/idp/src/saml/attributes.rs).
const SAML_MAPPERS: [&str; 3] = [
    "saml-user-property-mapper",
    "saml-user-attribute-mapper",
    "saml-group-membership-mapper",
];

const MAPPER_KEYS: KeyKinds = KeyKinds {
    read: &["name", "protocol", "protocolMapper", "config"],
    features: &[],
    inert: &["consentRequired", "consentText", "id"],
};

/// Top-level keys whose features the emulator does not reproduce.
const REALM_FEATURES: &[&str] = &[
    "authenticationFlows",
    "browserFlow",
    "bruteForceProtected",
    "certificate",
    "clientAuthenticationFlow",
    "clientPolicies",
    "clientProfiles",
    "clientSessionIdleTimeout",
    "clientSessionMaxLifespan",
    "clientTemplates",
    "components",
    "defaultSignatureAlgorithm",
    "directGrantFlow",
    "dockerAuthenticationFlow",
    "federatedUsers",
    "firstBrokerLoginFlow",
    "organizations",
    "organizationsEnabled",
    "passwordPolicy",
    "privateKey",
    "protocolMappers",
    "publicKey",
    "registrationAllowed",
    "registrationFlow",
    "rememberMe",
    "requiredCredentials",
    "resetCredentialsFlow",
    "roles",
    "userFederationMappers",
    "userFederationProviders",
    "verifyEmail",
];

/// Top-level keys that only matter to surfaces the emulator does not have.
const REALM_INERT: &[&str] = &[
    "accessCodeLifespanUserAction",
    "accessTokenLifespanForImplicitFlow",
    "actionTokenGeneratedByAdminLifespan",
    "actionTokenGeneratedByUserLifespan",
    "accountTheme",
    "adminEventsDetailsEnabled",
    "adminEventsEnabled",
    "adminPermissionsClient",
    "adminPermissionsEnabled",
    "adminTheme",
    "attributes",
    "authenticatorConfig",
    "browserSecurityHeaders",
    "bruteForceStrategy",
    "clientOfflineSessionIdleTimeout",
    "clientOfflineSessionMaxLifespan",
    "clientScopeMappings",
    "codeSecret",
    "defaultLocale",
    "defaultRole",
    "defaultRoles",
    "displayNameHtml",
    "duplicateEmailsAllowed",
    "editUsernameAllowed",
    "emailTheme",
    "enabledEventTypes",
    "eventsEnabled",
    "eventsExpiration",
    "eventsListeners",
    "failureFactor",
    "id",
    "internationalizationEnabled",
    "keycloakVersion",
    "localizationTexts",
    "loginTheme",
    "maxDeltaTimeSeconds",
    "maxFailureWaitSeconds",
    "maxTemporaryLockouts",
    "minimumQuickLoginWaitSeconds",
    "notBefore",
    "oauth2DeviceCodeLifespan",
    "oauth2DevicePollingInterval",
    "offlineSessionIdleTimeout",
    "offlineSessionMaxLifespan",
    "offlineSessionMaxLifespanEnabled",
    "otpPolicyAlgorithm",
    "otpPolicyCodeReusable",
    "otpPolicyDigits",
    "otpPolicyInitialCounter",
    "otpPolicyLookAheadWindow",
    "otpPolicyPeriod",
    "otpPolicyType",
    "otpSupportedApplications",
    "passwordCredentialGrantAllowed",
    "permanentLockout",
    "quickLoginCheckMilliSeconds",
    "realmCacheEnabled",
    "registrationEmailAsUsername",
    "requiredActions",
    "resetPasswordAllowed",
    "scopeMappings",
    "smtpServer",
    "sslRequired",
    "ssoSessionIdleTimeoutRememberMe",
    "ssoSessionMaxLifespanRememberMe",
    "supportedLocales",
    "userCacheEnabled",
    "userManagedAccessAllowed",
    "verifiableCredentialsEnabled",
    "waitIncrementSeconds",
];

const CLIENT_FEATURES: &[&str] = &[
    "authenticationFlowBindingOverrides",
    "authorizationServicesEnabled",
    "authorizationSettings",
    "bearerOnly",
    "clientAuthenticatorType",
    "directGrantsOnly",
    "implicitFlowEnabled",
    "oauth2DeviceAuthorizationGrantEnabled",
];

const CLIENT_INERT: &[&str] = &[
    "access",
    "adminUrl",
    "alwaysDisplayInConsole",
    "baseUrl",
    "clientTemplate",
    "defaultRoles",
    "description",
    "frontchannelLogout",
    "fullScopeAllowed",
    "nodeReRegistrationTimeout",
    "notBefore",
    "origin",
    "registeredNodes",
    "registrationAccessToken",
    "rootUrl",
    "surrogateAuthRequired",
    "type",
    "useTemplateConfig",
    "useTemplateMappers",
    "useTemplateScope",
];

/// Client attributes that change token contents or the flow, with Keycloak's default value.
const CLIENT_ATTRIBUTE_FEATURES: &[(&str, &str)] = &[
    ("access.token.lifespan", ""),
    ("access.token.signed.response.alg", ""),
    ("client.session.idle.timeout", ""),
    ("client.session.max.lifespan", ""),
    ("dpop.bound.access.tokens", "false"),
    ("id.token.encrypted.response.alg", ""),
    ("id.token.signed.response.alg", ""),
    ("require.pushed.authorization.requests", "false"),
    ("tls.client.certificate.bound.access.tokens", "false"),
    ("use.lightweight.access.token.enabled", "false"),
    ("use.refresh.tokens", "true"),
    // Keycloak 26's default: no refresh token for the client credentials grant.
    ("use.refresh.tokens.for.client.credentials.grant", "false"),
    ("user.info.response.signature.alg", ""),
];

/// The clients Keycloak creates in every realm; their built-in settings are not reported.
const BUILTIN_CLIENTS: &[&str] = &[
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

/// Keys of an identity provider that need no emulation.
const IDP_INERT: &[&str] = &[
    "addReadTokenRoleOnCreate",
    "authenticateByDefault",
    "firstBrokerLoginFlowAlias",
    "hideOnLogin",
    "internalId",
    "linkOnly",
    "postBrokerLoginFlowAlias",
    "trustEmail",
    "updateProfileFirstLoginMode",
];

/// The identity-provider mapper type the emulator reproduces.
pub(crate) const HARDCODED_GROUP_MAPPER: &str = "oidc-hardcoded-group-idp-mapper";

/// What the admin console's partial export writes in place of a secret.
const MASKED_SECRET: &str = "**********";

/// Keycloak's namespace for user ids the export leaves out (any fixed UUID would do; this one is
/// documented so that tests outside Rust can compute the same ids).
const USER_ID_NAMESPACE: uuid::Uuid = uuid::Uuid::NAMESPACE_OID;

pub(super) fn parse(text: &str, origin: &Path) -> Result<Realm, RealmError> {
    // Deserialised from the text itself, not from a parsed `Value`, so that a wrong type keeps
    // serde_json's line and column, and serde_path_to_error adds the key path to it.
    let rep: RealmRep =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
            .map_err(|e| wrong_shape(text, origin, e))?;
    Importer {
        path: origin,
        warnings: Vec::new(),
    }
    .realm(rep)
}

/// A syntax error, or a value of the wrong type with where it is: the key path, each array
/// element named by its `clientId`, `username`, `alias` or `name`, and the line and column.
fn wrong_shape(
    text: &str,
    origin: &Path,
    error: serde_path_to_error::Error<serde_json::Error>,
) -> RealmError {
    let path = error.path().clone();
    let inner = error.into_inner();
    let (line, column) = (inner.line(), inner.column());
    let message = inner.to_string();
    let message = message
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&message)
        .to_string();
    if inner.classify() != serde_json::error::Category::Data {
        return RealmError::Syntax {
            path: origin.to_path_buf(),
            line,
            column,
            message,
        };
    }
    let at = key_path(text, &path);
    let secret = matches!(
        path.iter().next_back(),
        Some(serde_path_to_error::Segment::Map { key }) if SECRET_KEYS.contains(&key.as_str())
    );
    let message = if at.is_empty() {
        format!("a realm export is a JSON object as `kc.sh export` writes it ({message})")
    } else if secret {
        // serde's message quotes the value, and this one is a secret or a password.
        "must be a string (the value is not shown: it is a secret)".into()
    } else {
        message
    };
    RealmError::WrongType {
        path: origin.to_path_buf(),
        line,
        // serde_json says column 0 for an error before the line's first character.
        column: column.max(1),
        at: if at.is_empty() {
            "the top level".into()
        } else {
            at
        },
        message,
    }
}

/// The typed keys that hold a client secret or a password (`value` of a credential).
const SECRET_KEYS: &[&str] = &["secret", "value"];

/// The keys that identify an element of the export's arrays, for messages.
const NAMING_KEYS: &[&str] = &["clientId", "username", "alias", "name"];

/// `clients[2] (clientId "web").publicClient`: the path serde_path_to_error recorded, each array
/// element named by its identifying key when the text has one.
fn key_path(text: &str, path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    // Only on the error path; a text that is not JSON past the error just names no elements.
    let document: Option<Value> = serde_json::from_str(text).ok();
    let mut node = document.as_ref();
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
                node = node.and_then(|n| n.get(key));
            }
            Segment::Seq { index } => {
                out.push_str(&format!("[{index}]"));
                node = node.and_then(|n| n.get(index));
                let naming = node.and_then(|n| {
                    NAMING_KEYS
                        .iter()
                        .find_map(|k| Some((*k, n.get(*k)?.as_str()?)))
                });
                if let Some((key, name)) = naming {
                    out.push_str(&format!(" ({key} \"{name}\")"));
                }
            }
            Segment::Enum { variant } => out.push_str(&format!("::{variant}")),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// Keycloak reads its numeric realm settings into Java `Integer`s; a value outside that range
/// is refused by its JSON reader, and so it is here. Negative values are refused too: Keycloak's
/// import copies them as they are, and what it then does (below) is never what a runbook means.
fn keycloak_int<'de, D: Deserializer<'de>>(
    d: D,
    what: &str,
    negative: &str,
) -> Result<Option<u32>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let range = format!("give {what} from 0 to {}", i32::MAX);
    if number.is_f64() {
        // Keycloak's reader would truncate it; the emulator does not rewrite what was written.
        return Err(D::Error::custom(format!(
            "{number} is not a whole number: {range}"
        )));
    }
    let value = number
        .as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            D::Error::custom(format!(
                "{number} is out of the range Keycloak can store (it keeps this setting in a 32-bit integer): {range}"
            ))
        })?;
    if value < 0 {
        return Err(D::Error::custom(format!(
            "{value} is negative; {negative}: {range}"
        )));
    }
    Ok(Some(value.unsigned_abs()))
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    // TokenManager computes `now + lifespan`, except that an access-token lifespan of -1 means
    // "until the SSO session's maximum".
    keycloak_int(
        d,
        "a number of seconds",
        "Keycloak would import it and time everything it bounds as already expired (-1 on `accessTokenLifespan`: tokens as long-lived as the session), which the emulator does not reproduce",
    )
}

fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    keycloak_int(d, "a count", "a negative count has no meaning")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct RealmRep {
    realm: Option<String>,
    display_name: Option<String>,
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "seconds")]
    access_token_lifespan: Option<u32>,
    #[serde(default, deserialize_with = "seconds")]
    access_code_lifespan: Option<u32>,
    #[serde(default, deserialize_with = "seconds")]
    access_code_lifespan_login: Option<u32>,
    #[serde(default, deserialize_with = "seconds")]
    sso_session_idle_timeout: Option<u32>,
    #[serde(default, deserialize_with = "seconds")]
    sso_session_max_lifespan: Option<u32>,
    revoke_refresh_token: Option<bool>,
    #[serde(default, deserialize_with = "count")]
    refresh_token_max_reuse: Option<u32>,
    login_with_email_allowed: Option<bool>,
    groups: Option<Vec<GroupRep>>,
    users: Option<Vec<UserRep>>,
    clients: Option<Vec<ClientRep>>,
    client_scopes: Option<Vec<ScopeRep>>,
    default_default_client_scopes: Option<Vec<String>>,
    default_optional_client_scopes: Option<Vec<String>>,
    identity_providers: Option<Vec<IdentityProviderRep>>,
    identity_provider_mappers: Option<Vec<IdentityProviderMapperRep>>,
    default_groups: Option<Vec<String>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct IdentityProviderRep {
    alias: Option<String>,
    provider_id: Option<String>,
    enabled: Option<bool>,
    display_name: Option<String>,
    store_token: Option<bool>,
    config: Option<Map<String, Value>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct IdentityProviderMapperRep {
    name: Option<String>,
    identity_provider_alias: Option<String>,
    identity_provider_mapper: Option<String>,
    config: Option<Map<String, Value>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct FederatedIdentityRep {
    identity_provider: Option<String>,
    user_id: Option<String>,
    user_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct GroupRep {
    name: Option<String>,
    sub_groups: Option<Vec<GroupRep>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct UserRep {
    id: Option<String>,
    username: Option<String>,
    enabled: Option<bool>,
    email: Option<String>,
    email_verified: Option<bool>,
    first_name: Option<String>,
    last_name: Option<String>,
    credentials: Option<Vec<CredentialRep>>,
    groups: Option<Vec<String>>,
    realm_roles: Option<Vec<String>>,
    attributes: Option<BTreeMap<String, Vec<String>>>,
    federated_identities: Option<Vec<FederatedIdentityRep>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct CredentialRep {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<String>,
    temporary: Option<bool>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct ClientRep {
    id: Option<String>,
    client_id: Option<String>,
    name: Option<String>,
    enabled: Option<bool>,
    protocol: Option<String>,
    public_client: Option<bool>,
    secret: Option<String>,
    redirect_uris: Option<Vec<String>>,
    web_origins: Option<Vec<String>>,
    standard_flow_enabled: Option<bool>,
    direct_access_grants_enabled: Option<bool>,
    service_accounts_enabled: Option<bool>,
    consent_required: Option<bool>,
    attributes: Option<Map<String, Value>>,
    protocol_mappers: Option<Vec<MapperRep>>,
    default_client_scopes: Option<Vec<String>>,
    optional_client_scopes: Option<Vec<String>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct ScopeRep {
    name: Option<String>,
    protocol: Option<String>,
    attributes: Option<Map<String, Value>>,
    protocol_mappers: Option<Vec<MapperRep>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
struct MapperRep {
    name: Option<String>,
    protocol: Option<String>,
    protocol_mapper: Option<String>,
    config: Option<Map<String, Value>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

struct Importer<'a> {
    path: &'a Path,
    warnings: Vec<RealmWarning>,
}

impl Importer<'_> {
    fn realm(mut self, rep: RealmRep) -> Result<Realm, RealmError> {
        let name = rep
            .realm
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing("the realm", "realm"))?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        {
            return Err(self.invalid(
                "`realm`",
                format!("the emulator serves realm names made of letters, digits and `-._~`, not \"{name}\""),
            ));
        }
        if rep.enabled == Some(false) {
            return Err(self.invalid(
                "`enabled`",
                format!("realm \"{name}\" is disabled; Keycloak answers nothing for it, set `enabled` to true"),
            ));
        }
        self.extra_keys("realm", &rep.rest, &REALM_KEYS, |key| {
            format!("unsupported realm feature \"{key}\" ignored")
        });
        let defaults = TokenSettings::default();
        let secs = |v: Option<u32>, default: u64| v.map_or(default, u64::from);
        let tokens = TokenSettings {
            access_token_lifespan: secs(rep.access_token_lifespan, defaults.access_token_lifespan),
            access_code_lifespan: secs(rep.access_code_lifespan, defaults.access_code_lifespan),
            access_code_lifespan_login: secs(
                rep.access_code_lifespan_login,
                defaults.access_code_lifespan_login,
            ),
            sso_session_idle_timeout: secs(
                rep.sso_session_idle_timeout,
                defaults.sso_session_idle_timeout,
            ),
            sso_session_max_lifespan: secs(
                rep.sso_session_max_lifespan,
                defaults.sso_session_max_lifespan,
            ),
            revoke_refresh_token: rep
                .revoke_refresh_token
                .unwrap_or(defaults.revoke_refresh_token),
            refresh_token_max_reuse: rep
                .refresh_token_max_reuse
                .unwrap_or(defaults.refresh_token_max_reuse),
        };

        // Duplicate checks and lookups go through hash sets: a realm of 100,000 users must load
        // in linear time.
        let mut groups = Vec::new();
        let mut group_paths = HashSet::new();
        for (i, group) in rep.groups.unwrap_or_default().into_iter().enumerate() {
            self.group(
                group,
                &format!("groups[{i}]"),
                "",
                &mut groups,
                &mut group_paths,
            )?;
        }

        let client_scopes = match rep.client_scopes {
            None => builtin_client_scopes(),
            Some(scopes) => {
                let mut out = Vec::new();
                let mut names = HashSet::new();
                for (i, scope) in scopes.into_iter().enumerate() {
                    if let Some(scope) = self.client_scope(scope, i)? {
                        if !names.insert(scope.name.clone()) {
                            return Err(self.invalid(
                                &format!("clientScopes[{i}]"),
                                format!("a second client scope named \"{}\"", scope.name),
                            ));
                        }
                        out.push(scope);
                    }
                }
                out
            }
        };
        let scope_names: Vec<&str> = client_scopes.iter().map(|s| s.name.as_str()).collect();
        let realm_defaults = rep.default_default_client_scopes.unwrap_or_else(|| {
            DEFAULT_SCOPES
                .iter()
                .filter(|s| scope_names.contains(s))
                .map(|s| s.to_string())
                .collect()
        });
        let realm_optionals = rep.default_optional_client_scopes.unwrap_or_else(|| {
            OPTIONAL_SCOPES
                .iter()
                .filter(|s| scope_names.contains(s))
                .map(|s| s.to_string())
                .collect()
        });

        let scopes = ScopeNames {
            defined: &scope_names,
            defaults: &realm_defaults,
            optionals: &realm_optionals,
        };
        let mut clients: Vec<Client> = Vec::new();
        let mut client_ids = HashSet::new();
        let mut saml_clients: Vec<SamlClient> = Vec::new();
        for (i, client) in rep.clients.unwrap_or_default().into_iter().enumerate() {
            if client.protocol.as_deref() == Some("saml") {
                let client = self.saml_client(client, i)?;
                if !client_ids.insert(client.client_id.clone()) {
                    let at = format!("clients[{i}] \"{}\"", client.client_id);
                    return Err(self.invalid(&at, "a second client with this `clientId`".into()));
                }
                saml_clients.push(client);
                continue;
            }
            let Some(client) = self.client(client, i, &scopes)? else {
                continue;
            };
            if !client_ids.insert(client.client_id.clone()) {
                let at = format!("clients[{i}] \"{}\"", client.client_id);
                return Err(self.invalid(&at, "a second client with this `clientId`".into()));
            }
            clients.push(client);
        }

        let mut users: Vec<User> = Vec::new();
        let (mut usernames, mut user_ids) = (HashSet::new(), HashSet::new());
        for (i, user) in rep.users.unwrap_or_default().into_iter().enumerate() {
            let user = self.user(user, i, &groups, &group_paths)?;
            let at = format!("users[{i}] \"{}\"", user.username);
            if !usernames.insert(user.username.clone()) {
                return Err(self.invalid(&at, "a second user with this `username`".into()));
            }
            if !user_ids.insert(user.id.clone()) {
                return Err(self.invalid(&at, format!("a second user with the id \"{}\"", user.id)));
            }
            users.push(user);
        }

        let mut identity_providers = Vec::new();
        for (i, provider) in rep
            .identity_providers
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            identity_providers.push(self.identity_provider(provider, i)?);
        }
        for (i, mapper) in rep
            .identity_provider_mappers
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            self.identity_provider_mapper(mapper, i, &mut identity_providers, &group_paths)?;
        }
        let mut default_groups = Vec::new();
        for group in rep.default_groups.unwrap_or_default() {
            let wanted = format!("/{}", group.trim_matches('/'));
            if !group_paths.contains(&wanted) {
                return Err(self.invalid(
                    "`defaultGroups`",
                    format!("\"{group}\" is not a group of the realm; add it under `groups` or fix the path"),
                ));
            }
            default_groups.push(wanted);
        }

        Ok(Realm {
            identity_providers,
            default_groups,
            persona: None,
            saml_clients,
            name,
            display_name: rep.display_name.filter(|n| !n.is_empty()),
            tokens,
            login_with_email_allowed: rep.login_with_email_allowed.unwrap_or(true),
            groups,
            users,
            clients,
            client_scopes,
            warnings: self.warnings,
            source: self.path.to_path_buf(),
        })
    }

    fn identity_provider(
        &mut self,
        rep: IdentityProviderRep,
        index: usize,
    ) -> Result<IdentityProvider, RealmError> {
        let at = format!("identityProviders[{index}]");
        let alias = rep
            .alias
            .filter(|a| !a.is_empty())
            .ok_or_else(|| self.missing(&at, "alias"))?;
        let at = format!("{at} \"{alias}\"");
        let provider_id = rep
            .provider_id
            .filter(|p| !p.is_empty())
            .ok_or_else(|| self.missing(&at, "providerId"))?;
        if !["google", "oidc"].contains(&provider_id.as_str()) {
            self.warn(
                format!("{at}.providerId"),
                format!("identity provider \"{alias}\" of type \"{provider_id}\" is not emulated (only google and oidc are); it is shown but cannot be used"),
            );
        }
        for key in rep.rest.keys() {
            if !IDP_INERT.contains(&key.as_str()) {
                self.warn(
                    format!("{at}.{key}"),
                    format!("identity provider \"{alias}\": unsupported feature \"{key}\" ignored"),
                );
            }
        }
        let config = self.string_map(&format!("{at}.config"), rep.config)?;
        let client_id = config
            .get("clientId")
            .filter(|c| !c.is_empty())
            .cloned()
            .ok_or_else(|| self.missing(&format!("{at}.config"), "clientId"))?;
        let client_secret = config
            .get("clientSecret")
            .filter(|s| !s.is_empty())
            .map(|secret| self.placeholder(&at, secret.clone()));
        let default_scope = config
            .get("defaultScope")
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| "openid profile email".to_string());
        Ok(IdentityProvider {
            hosted_domain: config
                .get("hostedDomain")
                .filter(|d| !d.is_empty())
                .cloned(),
            sync_mode: config
                .get("syncMode")
                .filter(|m| !m.is_empty())
                .cloned()
                .unwrap_or_else(|| "IMPORT".to_string()),
            issuer: config.get("issuer").filter(|i| !i.is_empty()).cloned(),
            alias,
            provider_id,
            enabled: rep.enabled.unwrap_or(true),
            display_name: rep.display_name.filter(|n| !n.is_empty()),
            client_id,
            client_secret,
            default_scope,
            store_token: rep.store_token.unwrap_or(false),
            mappers: Vec::new(),
        })
    }

    fn identity_provider_mapper(
        &mut self,
        rep: IdentityProviderMapperRep,
        index: usize,
        providers: &mut [IdentityProvider],
        group_paths: &HashSet<String>,
    ) -> Result<(), RealmError> {
        let at = format!("identityProviderMappers[{index}]");
        let name = rep
            .name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing(&at, "name"))?;
        let at = format!("{at} \"{name}\"");
        let alias = rep
            .identity_provider_alias
            .filter(|a| !a.is_empty())
            .ok_or_else(|| self.missing(&at, "identityProviderAlias"))?;
        let mapper_type = rep
            .identity_provider_mapper
            .filter(|m| !m.is_empty())
            .ok_or_else(|| self.missing(&at, "identityProviderMapper"))?;
        let config = self.string_map(&format!("{at}.config"), rep.config)?;
        let _ = rep.rest;
        if mapper_type == HARDCODED_GROUP_MAPPER {
            let group = config.get("group").cloned().unwrap_or_default();
            let wanted = format!("/{}", group.trim_matches('/'));
            if !group_paths.contains(&wanted) {
                return Err(self.invalid(
                    &format!("{at}.config.group"),
                    format!("\"{group}\" is not a group of the realm"),
                ));
            }
        } else {
            self.warn(
                at.clone(),
                format!("identity provider mapper \"{name}\" of type \"{mapper_type}\" is not emulated (only {HARDCODED_GROUP_MAPPER} is); ignored"),
            );
        }
        let Some(provider) = providers.iter_mut().find(|p| p.alias == alias) else {
            return Err(self.invalid(
                &at,
                format!(
                    "`identityProviderAlias` \"{alias}\" names no identity provider of the realm"
                ),
            ));
        };
        provider.mappers.push(IdentityProviderMapper {
            name,
            mapper_type,
            config,
        });
        Ok(())
    }

    fn group(
        &mut self,
        rep: GroupRep,
        at: &str,
        parent: &str,
        out: &mut Vec<Group>,
        paths: &mut HashSet<String>,
    ) -> Result<(), RealmError> {
        let name = rep
            .name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing(at, "name"))?;
        let path = format!("{parent}/{name}");
        let at = format!("{at} \"{path}\"");
        if !paths.insert(path.clone()) {
            return Err(self.invalid(&at, "a second group with this path".into()));
        }
        self.extra_keys(&at, &rep.rest, &GROUP_KEYS, |key| {
            format!("group \"{path}\": unsupported feature \"{key}\" ignored")
        });
        out.push(Group {
            name,
            path: path.clone(),
        });
        for (i, sub) in rep.sub_groups.unwrap_or_default().into_iter().enumerate() {
            self.group(sub, &format!("{at}.subGroups[{i}]"), &path, out, paths)?;
        }
        Ok(())
    }

    fn user(
        &mut self,
        rep: UserRep,
        index: usize,
        groups: &[Group],
        group_paths: &HashSet<String>,
    ) -> Result<User, RealmError> {
        let at = format!("users[{index}]");
        let username = rep
            .username
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing(&at, "username"))?
            .to_lowercase();
        let at = format!("{at} \"{username}\"");
        self.extra_keys(&at, &rep.rest, &USER_KEYS, |key| {
            format!("user \"{username}\": unsupported feature \"{key}\" ignored")
        });
        let enabled = match rep.enabled {
            Some(enabled) => enabled,
            None => {
                self.warn(
                    format!("{at}.enabled"),
                    format!("user \"{username}\" has no `enabled`; Keycloak imports such a user disabled, and so does the emulator"),
                );
                false
            }
        };
        let mut password = None;
        for (i, credential) in rep.credentials.unwrap_or_default().into_iter().enumerate() {
            let at = format!("{at}.credentials[{i}]");
            self.extra_keys(&at, &credential.rest, &CREDENTIAL_KEYS, |_| String::new());
            let kind = credential
                .kind
                .filter(|k| !k.is_empty())
                .ok_or_else(|| self.missing(&at, "type"))?;
            if kind != "password" {
                self.warn(
                    at.clone(),
                    format!("user \"{username}\": credential of type \"{kind}\" ignored; the emulator logs in with passwords only"),
                );
                continue;
            }
            let Some(value) = credential.value else {
                self.warn(
                    at.clone(),
                    format!("user \"{username}\": hashed password credential ignored (the emulator needs the plain `value`); the user cannot log in"),
                );
                continue;
            };
            if credential.temporary == Some(true) {
                self.warn(
                    format!("{at}.temporary"),
                    format!("user \"{username}\": temporary password; Keycloak would demand a new password at login, the emulator logs the user in directly"),
                );
            }
            if password.is_none() {
                password = Some(self.placeholder(&at, value));
            }
        }
        let mut paths = Vec::new();
        for group in rep.groups.unwrap_or_default() {
            // Keycloak's lookup tolerates a missing leading slash.
            let wanted = format!("/{}", group.trim_matches('/'));
            if group_paths.contains(&wanted) {
                if !paths.contains(&wanted) {
                    paths.push(wanted);
                }
                continue;
            }
            let suggestion = nearest(&wanted, groups.iter().map(|g| g.path.as_str()))
                .map(|p| format!(" (did you mean \"{p}\"?)"))
                .unwrap_or_default();
            return Err(RealmError::UnknownGroup {
                path: self.path.to_path_buf(),
                user: username,
                group,
                suggestion,
            });
        }
        let id = rep.id.filter(|id| !id.is_empty()).unwrap_or_else(|| {
            uuid::Uuid::new_v5(&USER_ID_NAMESPACE, username.as_bytes()).to_string()
        });
        Ok(User {
            id,
            username,
            enabled,
            email: rep
                .email
                .filter(|e| !e.is_empty())
                .map(|e| e.to_lowercase()),
            email_verified: rep.email_verified.unwrap_or(false),
            first_name: rep.first_name.filter(|n| !n.is_empty()),
            last_name: rep.last_name.filter(|n| !n.is_empty()),
            password,
            groups: paths,
            realm_roles: rep.realm_roles.unwrap_or_default(),
            attributes: rep.attributes.unwrap_or_default(),
            federated_identities: rep
                .federated_identities
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| {
                    Some(FederatedIdentity {
                        identity_provider: f.identity_provider?,
                        user_id: f.user_id?,
                        user_name: f.user_name.unwrap_or_default(),
                    })
                })
                .collect(),
        })
    }

    fn client(
        &mut self,
        rep: ClientRep,
        index: usize,
        scopes: &ScopeNames<'_>,
    ) -> Result<Option<Client>, RealmError> {
        let at = format!("clients[{index}]");
        let client_id = rep
            .client_id
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing(&at, "clientId"))?;
        let at = format!("{at} \"{client_id}\"");
        let protocol = rep.protocol.unwrap_or_else(|| "openid-connect".into());
        if protocol != "openid-connect" {
            self.warn(
                format!("{at}.protocol"),
                format!("client \"{client_id}\" uses protocol \"{protocol}\", which the emulator does not serve; ignored"),
            );
            return Ok(None);
        }
        let builtin = BUILTIN_CLIENTS.contains(&client_id.as_str());
        if !builtin {
            self.extra_keys(&at, &rep.rest, &CLIENT_KEYS, |key| {
                format!("client \"{client_id}\": unsupported feature \"{key}\" ignored")
            });
        }
        let attributes = self.string_map(&format!("{at}.attributes"), rep.attributes)?;
        if !builtin {
            for (key, default) in CLIENT_ATTRIBUTE_FEATURES {
                if let Some(value) = attributes.get(*key) {
                    if !value.is_empty() && value != default {
                        self.warn(
                            format!("{at}.attributes.{key}"),
                            format!("client \"{client_id}\": unsupported attribute \"{key}\" (\"{value}\") ignored"),
                        );
                    }
                }
            }
        }
        if let Some(method) = attributes.get("pkce.code.challenge.method") {
            if !["", "S256", "plain"].contains(&method.as_str()) {
                return Err(self.invalid(
                    &format!("{at}.attributes"),
                    format!("`pkce.code.challenge.method` is \"{method}\"; Keycloak knows S256 and plain"),
                ));
            }
        }
        let public_client = rep.public_client.unwrap_or(false);
        let secret = if public_client {
            None
        } else {
            match rep.secret.filter(|s| !s.is_empty()) {
                Some(secret) if secret == MASKED_SECRET => {
                    self.warn(
                        format!("{at}.secret"),
                        format!("client \"{client_id}\": the export masks the secret (\"{MASKED_SECRET}\"); put the real secret or a ${{ENV}} placeholder in the file"),
                    );
                    Some(Secret::new(secret))
                }
                Some(secret) => Some(self.placeholder(&at, secret)),
                None => {
                    if !builtin {
                        self.warn(
                            format!("{at}.secret"),
                            format!("confidential client \"{client_id}\" has no `secret`; Keycloak generates one nobody knows, so no token request can authenticate"),
                        );
                    }
                    Some(Secret::new(uuid::Uuid::new_v4().to_string()))
                }
            }
        };
        let mut protocol_mappers = Vec::new();
        let owner = format!("client \"{client_id}\"");
        for (i, mapper) in rep
            .protocol_mappers
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            if let Some(mapper) =
                self.mapper(mapper, &format!("{at}.protocolMappers[{i}]"), &owner)?
            {
                protocol_mappers.push(mapper);
            }
        }
        let id = rep.id.filter(|id| !id.is_empty()).unwrap_or_else(|| {
            uuid::Uuid::new_v5(&USER_ID_NAMESPACE, format!("client:{client_id}").as_bytes())
                .to_string()
        });
        let default_client_scopes = self.known_scopes(
            &at,
            rep.default_client_scopes,
            scopes.defaults,
            scopes.defined,
        );
        let optional_client_scopes = self.known_scopes(
            &at,
            rep.optional_client_scopes,
            scopes.optionals,
            scopes.defined,
        );
        Ok(Some(Client {
            id,
            name: rep.name.filter(|n| !n.is_empty()),
            enabled: rep.enabled.unwrap_or(true),
            public_client,
            secret,
            redirect_uris: rep.redirect_uris.unwrap_or_default(),
            web_origins: rep.web_origins.unwrap_or_default(),
            standard_flow_enabled: rep.standard_flow_enabled.unwrap_or(true),
            direct_access_grants_enabled: rep.direct_access_grants_enabled.unwrap_or(false),
            service_accounts_enabled: rep.service_accounts_enabled.unwrap_or(false),
            consent_required: rep.consent_required.unwrap_or(false),
            attributes,
            protocol_mappers,
            default_client_scopes,
            optional_client_scopes,
            client_id,
        }))
    }

    /// A SAML client: its attributes as they are, and the SAML mappers the emulator runs (others
    /// are named and ignored).
    fn saml_client(&mut self, rep: ClientRep, index: usize) -> Result<SamlClient, RealmError> {
        let at = format!("clients[{index}]");
        let client_id = rep
            .client_id
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing(&at, "clientId"))?;
        let at = format!("{at} \"{client_id}\"");
        let attributes = self.string_map(&format!("{at}.attributes"), rep.attributes)?;
        // Keycloak's default is to require signed AuthnRequests; the emulator checks none.
        if attributes
            .get("saml.client.signature")
            .is_none_or(|v| v != "false")
        {
            self.warn(
                format!("{at}.attributes.saml.client.signature"),
                format!("SAML client \"{client_id}\": AuthnRequest signatures are not checked by the emulator; set \"saml.client.signature\" to \"false\" to say so"),
            );
        }
        let mut protocol_mappers = Vec::new();
        for (i, mapper) in rep
            .protocol_mappers
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let mapper_at = format!("{at}.protocolMappers[{i}]");
            let name = mapper
                .name
                .filter(|n| !n.is_empty())
                .ok_or_else(|| self.missing(&mapper_at, "name"))?;
            let mapper_type = mapper.protocol_mapper.unwrap_or_default();
            if !SAML_MAPPERS.contains(&mapper_type.as_str()) {
                self.warn(
                    mapper_at,
                    format!("SAML client \"{client_id}\": protocol mapper \"{name}\" of type \"{mapper_type}\" is not emulated; ignored"),
                );
                continue;
            }
            let config = self.string_map(&format!("{mapper_at}.config"), mapper.config)?;
            protocol_mappers.push(ProtocolMapper {
                name,
                protocol_mapper: mapper_type,
                config,
            });
        }
        Ok(SamlClient {
            name: rep.name.filter(|n| !n.is_empty()),
            enabled: rep.enabled.unwrap_or(true),
            redirect_uris: rep.redirect_uris.unwrap_or_default(),
            attributes,
            protocol_mappers,
            client_id,
        })
    }

    fn client_scope(
        &mut self,
        rep: ScopeRep,
        index: usize,
    ) -> Result<Option<ClientScope>, RealmError> {
        let at = format!("clientScopes[{index}]");
        let name = rep
            .name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing(&at, "name"))?;
        // SAML scopes (role_list, saml_organization in every export) have no effect on OIDC.
        if rep
            .protocol
            .as_deref()
            .is_some_and(|p| p != "openid-connect")
        {
            return Ok(None);
        }
        let at = format!("{at} \"{name}\"");
        self.extra_keys(&at, &rep.rest, &SCOPE_KEYS, |_| String::new());
        let attributes = self.string_map(&format!("{at}.attributes"), rep.attributes)?;
        let mut protocol_mappers = Vec::new();
        let owner = format!("client scope \"{name}\"");
        for (i, mapper) in rep
            .protocol_mappers
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            if let Some(mapper) =
                self.mapper(mapper, &format!("{at}.protocolMappers[{i}]"), &owner)?
            {
                protocol_mappers.push(mapper);
            }
        }
        Ok(Some(ClientScope {
            include_in_token_scope: attributes
                .get("include.in.token.scope")
                .is_none_or(|v| v.eq_ignore_ascii_case("true")),
            name,
            protocol_mappers,
        }))
    }

    fn mapper(
        &mut self,
        rep: MapperRep,
        at: &str,
        owner: &str,
    ) -> Result<Option<ProtocolMapper>, RealmError> {
        let name = rep
            .name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing(at, "name"))?;
        let at = format!("{at} \"{name}\"");
        let mapper_type = rep
            .protocol_mapper
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.missing(&at, "protocolMapper"))?;
        self.extra_keys(&at, &rep.rest, &MAPPER_KEYS, |_| String::new());
        if rep
            .protocol
            .as_deref()
            .is_some_and(|p| p != "openid-connect")
        {
            self.warn(
                at,
                format!(
                    "{owner}: protocol mapper \"{name}\" is not an openid-connect mapper; ignored"
                ),
            );
            return Ok(None);
        }
        match mappers::support(&mapper_type) {
            Support::Emulated => {}
            Support::NotEmulated => {
                self.warn(
                    at,
                    format!("{owner}: protocol mapper \"{name}\" of type \"{mapper_type}\" is not emulated; ignored"),
                );
                return Ok(None);
            }
            Support::Unknown => {
                return Err(RealmError::UnknownMapper {
                    path: self.path.to_path_buf(),
                    owner: owner.to_string(),
                    mapper: name,
                    mapper_type,
                })
            }
        }
        let config = self.string_map(&format!("{at}.config"), rep.config)?;
        if mappers::needs_claim_name(&mapper_type)
            && config.get("claim.name").is_none_or(|c| c.is_empty())
        {
            self.warn(
                format!("{at}.config"),
                format!(
                    "{owner}: protocol mapper \"{name}\" has no `claim.name`, so it adds nothing"
                ),
            );
        }
        Ok(Some(ProtocolMapper {
            name,
            protocol_mapper: mapper_type,
            config,
        }))
    }

    /// A client's scope list with the names no client scope carries removed (Keycloak logs and
    /// skips them), or the realm's defaults when the export gave none.
    fn known_scopes(
        &mut self,
        at: &str,
        listed: Option<Vec<String>>,
        realm_default: &[String],
        defined: &[&str],
    ) -> Vec<String> {
        let Some(listed) = listed else {
            return realm_default
                .iter()
                .filter(|s| defined.contains(&s.as_str()))
                .cloned()
                .collect();
        };
        let mut out = Vec::new();
        for name in listed {
            if defined.contains(&name.as_str()) {
                out.push(name);
            } else {
                self.warn(
                    at.to_string(),
                    format!("{at} names the client scope \"{name}\", which the realm does not define; ignored"),
                );
            }
        }
        out
    }

    /// Reports keys outside the representation: features as warnings when set to anything but
    /// Keycloak's default, inert keys never, unknown keys with a suggestion.
    fn extra_keys(
        &mut self,
        at: &str,
        rest: &Map<String, Value>,
        kinds: &KeyKinds,
        feature_message: impl Fn(&str) -> String,
    ) {
        for (key, value) in rest {
            if kinds.features.contains(&key.as_str()) {
                if in_use(key, value) {
                    self.warn(format!("{at}.{key}"), feature_message(key));
                }
            } else if !kinds.inert.contains(&key.as_str()) && !key.starts_with("webAuthnPolicy") {
                let known = kinds.read.iter().chain(kinds.features).chain(kinds.inert);
                let hint = nearest(key, known.copied())
                    .map(|k| format!(" (did you mean \"{k}\"?)"))
                    .unwrap_or_default();
                self.warn(
                    format!("{at}.{key}"),
                    format!("unknown key \"{key}\" in {at} ignored{hint}"),
                );
            }
        }
    }

    /// A secret or password, with a `${VAR}` / `${VAR:default}` placeholder resolved from the
    /// environment the way Keycloak's import does.
    fn placeholder(&mut self, at: &str, value: String) -> Secret {
        let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else {
            return Secret::new(value);
        };
        let (name, default) = match inner.split_once(':') {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        match (std::env::var(name), default) {
            (Ok(resolved), _) => Secret::new(resolved),
            (Err(_), Some(default)) => Secret::new(default),
            (Err(_), None) => {
                self.warn(
                    at.to_string(),
                    format!("{at}: the environment variable {name} is not set; the placeholder is kept as the literal value"),
                );
                Secret::new(value)
            }
        }
    }

    /// A string-to-string map; scalars are turned into strings the way Keycloak's JSON reader does.
    fn string_map(
        &self,
        at: &str,
        map: Option<Map<String, Value>>,
    ) -> Result<BTreeMap<String, String>, RealmError> {
        let mut out = BTreeMap::new();
        for (key, value) in map.unwrap_or_default() {
            let text = match value {
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Null => continue,
                other => {
                    return Err(self.invalid(
                        at,
                        format!("`{key}` must be a string, this is {}", kind_of(&other)),
                    ))
                }
            };
            out.insert(key, text);
        }
        Ok(out)
    }

    fn missing(&self, at: &str, field: &'static str) -> RealmError {
        RealmError::MissingField {
            path: self.path.to_path_buf(),
            at: at.to_string(),
            field,
        }
    }

    fn invalid(&self, at: &str, message: String) -> RealmError {
        RealmError::Invalid {
            path: self.path.to_path_buf(),
            at: at.to_string(),
            message,
        }
    }

    fn warn(&mut self, subject: String, message: String) {
        self.warnings.push(RealmWarning { subject, message });
    }
}

/// The realm's client scopes, and the defaults a client without its own lists gets.
struct ScopeNames<'a> {
    defined: &'a [&'a str],
    defaults: &'a [String],
    optionals: &'a [String],
}

/// Whether a feature key is set to something other than Keycloak's default.
fn in_use(key: &str, value: &Value) -> bool {
    if is_empty(value) {
        return false;
    }
    let default = match key {
        "defaultSignatureAlgorithm" => "RS256",
        "browserFlow" => "browser",
        "registrationFlow" => "registration",
        "directGrantFlow" => "direct grant",
        "resetCredentialsFlow" => "reset credentials",
        "clientAuthenticationFlow" => "clients",
        "dockerAuthenticationFlow" => "docker auth",
        "firstBrokerLoginFlow" => "first broker login",
        "clientAuthenticatorType" => "client-secret",
        "requiredCredentials" => return value != &serde_json::json!(["password"]),
        // Every full export lists the built-in flows; only custom ones change the login.
        "authenticationFlows" => {
            return value.as_array().is_some_and(|flows| {
                flows
                    .iter()
                    .any(|f| f.get("builtIn") != Some(&Value::Bool(true)))
            })
        }
        // Every full export lists Keycloak's own roles; only other realm roles are a feature.
        "roles" => {
            let builtin = ["offline_access", "uma_authorization"];
            return value
                .get("realm")
                .and_then(Value::as_array)
                .is_some_and(|roles| {
                    roles.iter().any(|r| {
                        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                        !builtin.contains(&name) && !name.starts_with("default-roles-")
                    })
                });
        }
        _ => return true,
    };
    value.as_str() != Some(default)
}

/// Null, false, zero, "", [] and {} (recursively) leave a feature switched off.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_empty),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    const FIXTURE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/keycloak-realm.json"
    ));

    fn load(text: &str) -> Result<Realm, RealmError> {
        Realm::from_keycloak_json(text, Path::new("realm.json"))
    }

    fn with(extra: &str) -> String {
        format!(r#"{{"realm": "r", "enabled": true{extra}}}"#)
    }

    fn messages(realm: &Realm) -> Vec<String> {
        realm.warnings.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn the_fixture_loads_cleanly() {
        let realm = Realm::from_keycloak_export(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/keycloak-realm.json"
        ))
        .unwrap();
        assert!(realm.warnings.is_empty(), "{:?}", realm.warnings);
        assert_eq!(realm.name, "acme");
        assert_eq!(realm.tokens.access_token_lifespan, 300);
        assert!(realm.tokens.revoke_refresh_token);
        assert_eq!(realm.tokens.refresh_token_max_reuse, 0);
        let paths: Vec<&str> = realm.groups.iter().map(|g| g.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/acme",
                "/acme/admins",
                "/acme/engineers",
                "/acme/contractors"
            ]
        );
        let carol = realm.user("Carol").unwrap();
        assert_eq!(carol.groups, ["/acme/admins", "/acme/engineers"]);
        assert_eq!(carol.password.as_ref().unwrap().expose(), "carol-password");
        assert!(!realm.user("erin").unwrap().enabled);
        assert_eq!(
            realm.login_user("ALICE@example.com").unwrap().username,
            "alice"
        );
        let app = realm.client("acme-app").unwrap();
        assert_eq!(app.pkce_method(), Some("S256"));
        assert_eq!(app.secret.as_ref().unwrap().expose(), "acme-app-secret");
        assert!(!app.public_client && !app.direct_access_grants_enabled);
        assert!(realm.client("acme-consent").unwrap().consent_required);
        let spa = realm.client("acme-spa").unwrap();
        assert!(spa.public_client && spa.secret.is_none());
        assert_eq!(spa.redirect_uris, ["http://127.0.0.1/spa/*"]);
        // No clientScopes in the file: Keycloak's built-in ones.
        assert!(realm.client_scope("profile").is_some() && realm.client_scope("basic").is_some());
        assert_eq!(
            realm.scope_claim(&realm.granted_scopes(app, &["openid"])),
            "openid profile email"
        );
    }

    #[test]
    fn defaults_ids_and_placeholders() {
        std::env::set_var("SSOPROOF_TEST_SECRET", "from-env");
        let realm = load(&with(
            r#", "users": [{"username": "Zed", "credentials": [{"type": "password", "value": "${SSOPROOF_TEST_UNSET:fallback}"}]}],
                "clients": [{"clientId": "c", "secret": "${SSOPROOF_TEST_SECRET}", "defaultClientScopes": ["email", "nope"]}]"#,
        ))
        .unwrap();
        let zed = realm.user("zed").unwrap();
        assert_eq!(zed.username, "zed");
        assert_eq!(
            zed.id,
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, b"zed").to_string()
        );
        // Keycloak imports a user without `enabled` disabled.
        assert!(!zed.enabled);
        assert_eq!(zed.password.as_ref().unwrap().expose(), "fallback");
        let client = realm.client("c").unwrap();
        assert_eq!(client.secret.as_ref().unwrap().expose(), "from-env");
        assert!(client.standard_flow_enabled && !client.consent_required);
        assert_eq!(client.default_client_scopes, ["email"]);
        assert_eq!(client.optional_client_scopes.len(), 5);
        let warnings = messages(&realm);
        assert!(
            warnings.iter().any(|w| w.contains("has no `enabled`")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("\"nope\"")),
            "{warnings:?}"
        );
    }

    #[test]
    fn unsupported_features_are_named() {
        let realm = load(&with(
            r#", "authenticationFlows": [{"alias": "browser", "builtIn": true}, {"alias": "mine", "builtIn": false}],
                "bruteForceProtected": false, "registrationAllowed": true,
                "defaultSignatureAlgorithm": "RS256", "components": {}, "loginTheme": "keycloak",
                "clinets": [],
                "clients": [{"clientId": "c", "secret": "s", "implicitFlowEnabled": true,
                             "attributes": {"id.token.signed.response.alg": "HS512"}},
                            {"clientId": "docker", "protocol": "docker-v2"}],
                "users": [{"username": "u", "enabled": true, "requiredActions": ["UPDATE_PASSWORD"],
                           "credentials": [{"type": "password", "secretData": "{}", "credentialData": "{}"},
                                           {"type": "otp", "value": "x"}]}]"#,
        ))
        .unwrap();
        let warnings = messages(&realm);
        let expected = [
            "unsupported realm feature \"authenticationFlows\" ignored",
            "unsupported realm feature \"registrationAllowed\" ignored",
            "unknown key \"clinets\" in realm ignored (did you mean \"clients\"?)",
            "client \"c\": unsupported feature \"implicitFlowEnabled\" ignored",
            "client \"c\": unsupported attribute \"id.token.signed.response.alg\" (\"HS512\") ignored",
            "client \"docker\" uses protocol \"docker-v2\", which the emulator does not serve; ignored",
            "user \"u\": unsupported feature \"requiredActions\" ignored",
        ];
        for message in expected {
            assert!(
                warnings.iter().any(|w| w == message),
                "missing {message:?} in {warnings:#?}"
            );
        }
        assert!(
            warnings.iter().any(|w| w.contains("hashed password")),
            "{warnings:#?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("\"otp\"")),
            "{warnings:#?}"
        );
        // Built-in flows only, brute force off, the default algorithm, empty components: silent.
        for silent in [
            "bruteForceProtected",
            "defaultSignatureAlgorithm",
            "components",
            "loginTheme",
        ] {
            assert!(
                !warnings.iter().any(|w| w.contains(silent)),
                "{silent}: {warnings:#?}"
            );
        }
        assert!(realm.client("docker").is_none());
        assert!(realm.user("u").unwrap().password.is_none());
    }

    #[test]
    fn mappers_are_checked_and_coerced() {
        let realm = load(&with(
            r#", "clients": [{"clientId": "c", "secret": "s", "protocolMappers": [
                {"name": "groups", "protocolMapper": "oidc-group-membership-mapper",
                 "config": {"claim.name": "groups", "full.path": true, "id.token.claim": "true"}},
                {"name": "pairwise", "protocolMapper": "oidc-sha256-pairwise-sub-mapper", "config": {}},
                {"name": "nameless", "protocolMapper": "oidc-hardcoded-claim-mapper", "config": {"claim.value": "x"}}]}]"#,
        ))
        .unwrap();
        let client = realm.client("c").unwrap();
        assert_eq!(client.protocol_mappers.len(), 2);
        assert!(client.protocol_mappers[0].is_true("full.path"));
        let warnings = messages(&realm);
        assert!(
            warnings.iter().any(|w| w.contains(
                "\"pairwise\" of type \"oidc-sha256-pairwise-sub-mapper\" is not emulated"
            )),
            "{warnings:#?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("\"nameless\" has no `claim.name`")),
            "{warnings:#?}"
        );

        let err = load(&with(
            r#", "clients": [{"clientId": "acme-app", "protocolMappers": [{"name": "groups", "protocolMapper": "oidc-group-mapper"}]}]"#,
        ))
        .unwrap_err();
        assert_eq!(err.code(), "realm/unknown-mapper");
        let text = err.to_string();
        assert!(
            text.starts_with("realm.json: client \"acme-app\": protocol mapper \"groups\" has the unknown type \"oidc-group-mapper\""),
            "{text}"
        );
        let err = load(&with(
            r#", "clientScopes": [{"name": "extra", "protocol": "openid-connect", "protocolMappers": [{"name": "m", "protocolMapper": "made-up"}]}]"#,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("client scope \"extra\""), "{err}");
    }

    #[test]
    fn errors_have_codes_and_say_where() {
        let cases: &[(&str, &str, &str)] = &[
            ("{\"realm\": \"r\",\n  \"users\": [}", "realm/syntax", "realm.json:2:13: not valid JSON"),
            ("[1, 2]", "realm/invalid", "realm.json:1:1: the top level: a realm export is a JSON object"),
            ("{\"enabled\": true}", "realm/missing-field", "the realm has no `realm`"),
            (&with(r#", "clients": [{"secret": "s"}]"#), "realm/missing-field", "clients[0] has no `clientId`"),
            (&with(r#", "users": [{"username": "u", "credentials": [{"value": "p"}]}]"#), "realm/missing-field", "credentials[0] has no `type`"),
            (&with(r#", "clients": [{"clientId": "c", "publicClient": "yes"}]"#), "realm/invalid",
             "realm.json:1:83: clients[0] (clientId \"c\").publicClient: invalid type: string \"yes\", expected a boolean"),
            (&with(r#", "users": {"username": "u"}"#), "realm/invalid", "realm.json:1:41: users: invalid type: map, expected a sequence"),
            (&with(r#", "users": [{"username": "u", "credentials": [{"type": "password", "value": 5}]}]"#), "realm/invalid",
             "users[0] (username \"u\").credentials[0].value: must be a string (the value is not shown"),
            (&with(r#", "groups": [{"name": "a", "subGroups": [7]}]"#), "realm/invalid",
             "groups[0] (name \"a\").subGroups[0]: invalid type: integer `7`, expected an object"),
            (&with(r#", "clients": [{"clientId": "c"}, {"clientId": "c"}]"#), "realm/invalid", "a second client with this `clientId`"),
            (&with(r#", "users": [{"username": "u"}, {"username": "U"}]"#), "realm/invalid", "a second user"),
            (&with(r#", "clients": [{"clientId": "c", "attributes": {"pkce.code.challenge.method": "S512"}}]"#), "realm/invalid", "Keycloak knows S256 and plain"),
            (r#"{"realm": "a/b"}"#, "realm/invalid", "letters, digits"),
            (r#"{"realm": "r", "enabled": false}"#, "realm/invalid", "is disabled"),
            (&with(r#", "groups": [{"name": "acme", "subGroups": [{"name": "admins"}]}], "users": [{"username": "u", "groups": ["/acme/admin"]}]"#),
             "realm/unknown-group", "user \"u\" is in group \"/acme/admin\", which the realm does not define; add it under `groups` (with `subGroups`) or fix the path (did you mean \"/acme/admins\"?)"),
        ];
        for (text, code, message) in cases {
            let err = load(text).unwrap_err();
            assert_eq!(err.code(), *code, "{err}");
            assert!(
                err.to_string().contains(message),
                "{err} should contain {message}"
            );
        }
        let err = Realm::from_keycloak_export("/nonexistent/realm.json").unwrap_err();
        assert_eq!(err.code(), "realm/read");
        assert!(err.to_string().contains("/nonexistent/realm.json"), "{err}");
    }

    #[test]
    fn a_wrong_type_is_located_by_key_path_line_and_column() {
        let text = "{\"realm\": \"r\", \"enabled\": true,\n \"clients\": [\n  {\"clientId\": \"api\"},\n  {\"clientId\": \"cli\"},\n  {\"clientId\": \"web\",\n   \"publicClient\": \"yes\"}]}";
        let err = load(text).unwrap_err();
        assert_eq!(err.code(), "realm/invalid");
        assert_eq!(
            err.to_string(),
            "realm.json:6:24: clients[2] (clientId \"web\").publicClient: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_not_quoted() {
        for extra in [
            r#", "clients": [{"clientId": "c", "secret": 918273645}]"#,
            r#", "users": [{"username": "u", "credentials": [{"type": "password", "value": 918273645}]}]"#,
        ] {
            let err = load(&with(extra)).unwrap_err();
            assert_eq!(err.code(), "realm/invalid");
            let text = err.to_string();
            assert!(!text.contains("918273645"), "{text}");
            assert!(
                text.ends_with("must be a string (the value is not shown: it is a secret)"),
                "{text}"
            );
        }
    }

    #[test]
    fn numeric_settings_are_keycloak_ints_and_not_negative() {
        let settings = [
            "accessTokenLifespan",
            "accessCodeLifespan",
            "accessCodeLifespanLogin",
            "ssoSessionIdleTimeout",
            "ssoSessionMaxLifespan",
            "refreshTokenMaxReuse",
        ];
        for key in settings {
            for bad in [
                "18446744073709551615",
                "2147483648",
                "-5",
                "-1",
                "1.5",
                "1e30",
            ] {
                let err = load(&with(&format!(", \"{key}\": {bad}"))).unwrap_err();
                assert_eq!(err.code(), "realm/invalid", "{key}: {bad}: {err}");
                let text = err.to_string();
                assert!(text.starts_with("realm.json:1:"), "{text}");
                assert!(text.contains(&format!(": {key}: ")), "{text}");
                assert!(text.contains("from 0 to 2147483647"), "{text}");
            }
        }
        let err = load(&with(r#", "accessTokenLifespan": -5"#)).unwrap_err();
        assert!(
            err.to_string().contains("-5 is negative; Keycloak would import it and time everything it bounds as already expired"),
            "{err}"
        );
        let err = load(&with(r#", "accessTokenLifespan": 18446744073709551615"#)).unwrap_err();
        assert!(
            err.to_string().contains("18446744073709551615 is out of the range Keycloak can store (it keeps this setting in a 32-bit integer): give a number of seconds from 0 to 2147483647"),
            "{err}"
        );
        let err = load(&with(r#", "refreshTokenMaxReuse": 1.5"#)).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("refreshTokenMaxReuse: 1.5 is not a whole number: give a count from 0 to 2147483647"),
            "{err}"
        );
        // The extremes Keycloak stores are kept as they are.
        let realm = load(&with(
            r#", "accessTokenLifespan": 2147483647, "accessCodeLifespan": 0, "refreshTokenMaxReuse": 3"#,
        ))
        .unwrap();
        assert_eq!(realm.tokens.access_token_lifespan, 2147483647);
        assert_eq!(realm.tokens.access_code_lifespan, 0);
        assert_eq!(realm.tokens.refresh_token_max_reuse, 3);
    }

    #[test]
    fn duplicates_are_found_in_every_list() {
        let cases = [
            (
                r#", "users": [{"username": "a"}, {"username": "b"}, {"username": "A"}]"#,
                "users[2] \"a\": a second user with this `username`",
            ),
            (
                r#", "users": [{"username": "a", "id": "1"}, {"username": "b", "id": "1"}]"#,
                "users[1] \"b\": a second user with the id \"1\"",
            ),
            (
                r#", "clients": [{"clientId": "c", "secret": "s"}, {"clientId": "d", "secret": "s"}, {"clientId": "c", "secret": "s"}]"#,
                "clients[2] \"c\": a second client with this `clientId`",
            ),
            (
                r#", "groups": [{"name": "g", "subGroups": [{"name": "s"}, {"name": "s"}]}]"#,
                "groups[0] \"/g\".subGroups[1] \"/g/s\": a second group with this path",
            ),
            (
                r#", "groups": [{"name": "g"}, {"name": "h"}, {"name": "g"}]"#,
                "groups[2] \"/g\": a second group with this path",
            ),
            (
                r#", "clientScopes": [{"name": "s", "protocol": "openid-connect"}, {"name": "s", "protocol": "openid-connect"}]"#,
                "clientScopes[1]: a second client scope named \"s\"",
            ),
        ];
        for (extra, message) in cases {
            let err = load(&with(extra)).unwrap_err();
            assert_eq!(err.code(), "realm/invalid", "{err}");
            assert_eq!(err.to_string(), format!("realm.json: {message}"));
        }
    }

    #[test]
    fn a_fifo_or_a_directory_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = Realm::from_keycloak_export(dir.path()).unwrap_err();
        assert_eq!(err.code(), "realm/read");
        let text = err.to_string();
        assert!(
            text.contains(&dir.path().display().to_string()) && text.contains("a directory"),
            "{text}"
        );
        #[cfg(unix)]
        {
            let fifo = dir.path().join("realm.json");
            let status = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(status.success());
            // Without the check this read blocks forever: nobody writes to the FIFO.
            let err = Realm::from_keycloak_export(&fifo).unwrap_err();
            assert_eq!(err.code(), "realm/read");
            assert!(err.to_string().contains("a FIFO"), "{err}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for cut in (0..FIXTURE.len()).step_by(7) {
            let _ = load(&FIXTURE[..FIXTURE.floor_char_boundary(cut)]);
        }
        let bytes = FIXTURE.as_bytes();
        for _ in 0..400 {
            let mut mutated = bytes.to_vec();
            for _ in 0..rng.gen_range(1..8) {
                let i = rng.gen_range(0..mutated.len());
                mutated[i] = *b"{}[]\":,0-e.tn\\x ".get(rng.gen_range(0..16)).unwrap();
            }
            let _ = load(&String::from_utf8_lossy(&mutated));
        }
        for _ in 0..200 {
            let len = rng.gen_range(0..64);
            let noise: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let _ = load(&String::from_utf8_lossy(&noise));
        }
        for odd in ["", "null", "\"realm\"", "{\"realm\": null}", "{\"realm\": \"r\", \"groups\": [[]]}",
                    "{\"realm\": \"r\", \"users\": [{\"username\": \"u\", \"attributes\": {\"a\": \"b\"}}]}",
                    "{\"realm\": \"r\", \"clients\": [{\"clientId\": \"c\", \"protocolMappers\": [{\"name\": \"m\", \"protocolMapper\": \"oidc-acr-mapper\", \"config\": {\"a\": [1]}}]}]}"] {
            let _ = load(odd);
        }
    }
}
