//! The realm the emulator serves: users, groups, clients and client scopes, read from a Keycloak
//! realm export (the JSON that `kc.sh export` writes and `kc.sh start --import-realm` reads).
//!
//! The model keeps Keycloak's own vocabulary (`clientId`, `redirectUris`, protocol mappers with
//! their string-valued `config`) so that scenario steps can say what an operator would click.
//! What the import cannot honour is reported: [`Realm::warnings`] names every ignored feature,
//! and anything that would change who may log in or what a token says is an error instead.

mod defaults;
mod import;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ssoproof_secret::Secret;

pub use super::persona::Persona;

pub use import::RealmError;
pub(crate) use import::HARDCODED_GROUP_MAPPER;

/// A realm, ready to be served.
#[derive(Debug, Clone)]
pub struct Realm {
    /// The realm name: the issuer is `<base>/realms/<name>`.
    pub name: String,
    /// `displayName`, shown on the login page (the name when absent).
    pub display_name: Option<String>,
    pub tokens: TokenSettings,
    /// `loginWithEmailAllowed` (Keycloak's default: true): the login form accepts the e-mail
    /// address in place of the username.
    pub login_with_email_allowed: bool,
    /// Every group, parents before their subgroups.
    pub groups: Vec<Group>,
    pub users: Vec<User>,
    pub clients: Vec<Client>,
    /// The realm's client scopes (Keycloak's built-in set when the export names none).
    pub client_scopes: Vec<ClientScope>,
    /// Features of the export the emulator ignores, each named.
    pub warnings: Vec<RealmWarning>,
    /// The file the realm was read from, for messages.
    pub source: PathBuf,
    /// Identity brokering: the export's `identityProviders` (Keycloak realms only).
    pub identity_providers: Vec<IdentityProvider>,
    /// `defaultGroups`: full paths every user created at a broker login joins.
    pub default_groups: Vec<String>,
    /// The vendor this realm impersonates; `None` for a Keycloak realm.
    pub persona: Option<Persona>,
    /// The export's SAML clients (`"protocol": "saml"`), served at `/protocol/saml`.
    pub saml_clients: Vec<SamlClient>,
}

/// A SAML service provider registered in the realm: Keycloak's `"protocol": "saml"` client,
/// whose `clientId` is the SP's entity ID. Its settings are Keycloak's client attributes
/// (`SamlConfigAttributes` and `SamlProtocol` in Keycloak's source name them).
#[derive(Debug, Clone)]
pub struct SamlClient {
    /// The SP's entity ID: the Audience of its assertions.
    pub client_id: String,
    pub name: Option<String>,
    pub enabled: bool,
    /// Valid Assertion Consumer Service URLs (an AuthnRequest's `AssertionConsumerServiceURL`
    /// must match one); a trailing `*` matches any suffix.
    pub redirect_uris: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    /// `saml-user-property-mapper`, `saml-user-attribute-mapper` and
    /// `saml-group-membership-mapper` mappers, in order.
    pub protocol_mappers: Vec<ProtocolMapper>,
}

impl SamlClient {
    /// A non-empty client attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `saml.server.signature`: sign the Response (Keycloak's default: yes).
    pub fn signs_documents(&self) -> bool {
        self.attribute("saml.server.signature") != Some("false")
    }

    /// `saml.assertion.signature`: sign the assertion (Keycloak's default: no).
    pub fn signs_assertions(&self) -> bool {
        self.attribute("saml.assertion.signature") == Some("true")
    }

    /// `saml_assertion_consumer_url_post`: the ACS when the AuthnRequest names none, and for
    /// IdP-initiated login.
    pub fn acs_post(&self) -> Option<&str> {
        self.attribute("saml_assertion_consumer_url_post")
    }
}

/// An upstream IdP the realm federates (`identityProviders[]`), with its mappers
/// (`identityProviderMappers[]` naming its alias).
#[derive(Debug, Clone)]
pub struct IdentityProvider {
    /// `alias`: part of the broker endpoint, `/realms/<realm>/broker/<alias>/endpoint`.
    pub alias: String,
    /// `providerId`: `google` or `oidc`.
    pub provider_id: String,
    pub enabled: bool,
    pub display_name: Option<String>,
    /// `config.clientId` / `config.clientSecret`: the realm's client at the upstream IdP.
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// `config.hostedDomain` (Google): the `hd` the upstream ID token must carry.
    pub hosted_domain: Option<String>,
    /// `config.defaultScope`, space-separated (Google's default: `openid profile email`).
    pub default_scope: String,
    /// `config.syncMode`: `IMPORT` (default), `FORCE` or `LEGACY`, the default of its mappers.
    pub sync_mode: String,
    /// `storeToken`: whether Keycloak keeps the upstream tokens (the emulator never needs them).
    pub store_token: bool,
    /// `config.issuer` for an `oidc` provider; for `google` the emulator is given the upstream's
    /// issuer when it starts ([`crate::IdpOptions::upstreams`]).
    pub issuer: Option<String>,
    pub mappers: Vec<IdentityProviderMapper>,
}

/// An identity-provider mapper, e.g. `oidc-hardcoded-group-idp-mapper` with `config.group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProviderMapper {
    pub name: String,
    /// `identityProviderMapper`, the mapper type.
    pub mapper_type: String,
    pub config: BTreeMap<String, String>,
}

impl IdentityProviderMapper {
    /// `config.syncMode`, else the provider's.
    pub fn sync_mode<'a>(&'a self, provider: &'a IdentityProvider) -> &'a str {
        self.config
            .get("syncMode")
            .map(String::as_str)
            .filter(|m| *m != "INHERIT")
            .unwrap_or(&provider.sync_mode)
    }
}

/// A link between a realm user and the user an upstream IdP knows (`federatedIdentities[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedIdentity {
    /// The identity provider's alias.
    pub identity_provider: String,
    /// The upstream `sub`.
    pub user_id: String,
    pub user_name: String,
}

/// Realm-wide token and session lifetimes, in seconds, with Keycloak's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    /// `accessTokenLifespan` (300): access and ID tokens.
    pub access_token_lifespan: u64,
    /// `accessCodeLifespan` (60): authorization codes.
    pub access_code_lifespan: u64,
    /// `accessCodeLifespanLogin` (1800): how long a login form stays usable.
    pub access_code_lifespan_login: u64,
    /// `ssoSessionIdleTimeout` (1800): a session unused this long ends; refresh tokens last this long.
    pub sso_session_idle_timeout: u64,
    /// `ssoSessionMaxLifespan` (36000): a session ends this long after login whatever happens.
    pub sso_session_max_lifespan: u64,
    /// `revokeRefreshToken` (false): refresh-token rotation with reuse detection.
    pub revoke_refresh_token: bool,
    /// `refreshTokenMaxReuse` (0): extra uses a refresh token gets when rotation is on.
    pub refresh_token_max_reuse: u32,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            access_token_lifespan: 300,
            access_code_lifespan: 60,
            access_code_lifespan_login: 1800,
            sso_session_idle_timeout: 1800,
            sso_session_max_lifespan: 36000,
            revoke_refresh_token: false,
            refresh_token_max_reuse: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    /// The full path, `/parent/child`.
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct User {
    /// The Keycloak user id, a UUID: the `sub` of every token.
    pub id: String,
    /// Lower-cased, as Keycloak stores it.
    pub username: String,
    pub enabled: bool,
    pub email: Option<String>,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The password credential; `None` when the user cannot log in with a password.
    pub password: Option<Secret>,
    /// Direct group memberships, as full paths (`/acme/admins`).
    pub groups: Vec<String>,
    /// `realmRoles`, added to the default roles every user holds.
    pub realm_roles: Vec<String>,
    /// `attributes`, for attribute mappers.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Links to upstream identity providers (brokered users).
    pub federated_identities: Vec<FederatedIdentity>,
}

#[derive(Debug, Clone)]
pub struct Client {
    /// Keycloak's internal id (the export's `id`, else derived from `clientId`); the third part
    /// of an authorization code.
    pub id: String,
    pub client_id: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub public_client: bool,
    /// The client secret of a confidential client.
    pub secret: Option<Secret>,
    /// Valid redirect URIs; a trailing `*` matches any suffix.
    pub redirect_uris: Vec<String>,
    /// Web origins (`+` means the origins of the redirect URIs).
    pub web_origins: Vec<String>,
    pub standard_flow_enabled: bool,
    pub direct_access_grants_enabled: bool,
    /// `serviceAccountsEnabled`: the `client_credentials` grant, for a confidential client.
    pub service_accounts_enabled: bool,
    pub consent_required: bool,
    /// `attributes`: `pkce.code.challenge.method`, `post.logout.redirect.uris`, … (all kept,
    /// only the emulated ones are read).
    pub attributes: BTreeMap<String, String>,
    /// The client's own ("dedicated") protocol mappers.
    pub protocol_mappers: Vec<ProtocolMapper>,
    pub default_client_scopes: Vec<String>,
    pub optional_client_scopes: Vec<String>,
}

impl Client {
    /// The PKCE method the client enforces (`pkce.code.challenge.method`), if any.
    pub fn pkce_method(&self) -> Option<&str> {
        self.attributes
            .get("pkce.code.challenge.method")
            .map(String::as_str)
            .filter(|m| !m.is_empty())
    }

    /// Whether a client attribute is the string `"true"`, the way Keycloak tests flags.
    pub fn attribute_is_true(&self, name: &str) -> bool {
        self.attributes.get(name).is_some_and(|v| v == "true")
    }

    /// Whether a `scope` parameter may name `scope`: `openid`, or one of the client's scopes.
    pub fn allows_scope(&self, scope: &str) -> bool {
        scope == OPENID
            || self.default_client_scopes.iter().any(|s| s == scope)
            || self.optional_client_scopes.iter().any(|s| s == scope)
    }
}

/// The scope that makes a request OpenID Connect rather than plain OAuth.
pub const OPENID: &str = "openid";

#[derive(Debug, Clone)]
pub struct ClientScope {
    pub name: String,
    /// `attributes."include.in.token.scope"`: whether the name appears in the `scope` claim.
    pub include_in_token_scope: bool,
    pub protocol_mappers: Vec<ProtocolMapper>,
}

/// A protocol mapper, as Keycloak stores it: a type and a string-to-string config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolMapper {
    pub name: String,
    /// The mapper type, e.g. `oidc-group-membership-mapper`.
    pub protocol_mapper: String,
    pub config: BTreeMap<String, String>,
}

impl ProtocolMapper {
    pub fn config(&self, key: &str) -> Option<&str> {
        self.config.get(key).map(String::as_str)
    }

    /// Keycloak's test for a boolean mapper setting: exactly the string `"true"`.
    pub fn is_true(&self, key: &str) -> bool {
        self.config(key) == Some("true")
    }
}

/// Something in the export the emulator does not reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmWarning {
    /// Where it is, e.g. `authenticationFlows` or `clients[1] "acme-spa".implicitFlowEnabled`.
    pub subject: String,
    pub message: String,
}

impl fmt::Display for RealmWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Realm {
    /// Reads a Keycloak realm export.
    pub fn from_keycloak_export(path: impl AsRef<Path>) -> Result<Realm, RealmError> {
        let path = path.as_ref();
        // The shared reader refuses a FIFO, a directory or a device up front instead of blocking.
        let text =
            ssoproof_config::fs::read_to_string(path).map_err(|source| RealmError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Realm::from_keycloak_json(&text, path)
    }

    /// Reads a vendor persona file (`fixtures/idp/*.yaml`): an Okta org, an Auth0 tenant, an
    /// Entra tenant, a Google Workspace or a Cognito user pool. Errors name the file, line and key.
    pub fn from_persona(path: impl AsRef<Path>) -> Result<Realm, super::persona::PersonaError> {
        super::persona::load(path.as_ref())
    }

    /// Parses a persona file's text; `origin` names the file in messages.
    pub fn from_persona_yaml(
        text: &str,
        origin: &Path,
    ) -> Result<Realm, super::persona::PersonaError> {
        super::persona::parse(text, origin)
    }

    /// Parses a Keycloak realm export; `origin` names the file in messages.
    pub fn from_keycloak_json(text: &str, origin: &Path) -> Result<Realm, RealmError> {
        import::parse(text, origin)
    }

    /// The user with this username (any case), as the login form finds it.
    pub fn user(&self, username: &str) -> Option<&User> {
        let wanted = username.to_lowercase();
        self.users.iter().find(|u| u.username == wanted)
    }

    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// The SAML client whose entity ID (`clientId`) is `entity_id`.
    pub fn saml_client(&self, entity_id: &str) -> Option<&SamlClient> {
        self.saml_clients.iter().find(|c| c.client_id == entity_id)
    }

    pub fn client_scope(&self, name: &str) -> Option<&ClientScope> {
        self.client_scopes.iter().find(|s| s.name == name)
    }

    pub fn group(&self, path: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.path == path)
    }

    pub fn identity_provider(&self, alias: &str) -> Option<&IdentityProvider> {
        self.identity_providers.iter().find(|p| p.alias == alias)
    }

    /// The user linked to `upstream_sub` at the identity provider `alias`.
    pub fn federated_user(&self, alias: &str, upstream_sub: &str) -> Option<&User> {
        self.users.iter().find(|u| {
            u.federated_identities
                .iter()
                .any(|f| f.identity_provider == alias && f.user_id == upstream_sub)
        })
    }

    /// The login form's lookup: the username, or the e-mail address when the realm allows it.
    pub fn login_user(&self, login: &str) -> Option<&User> {
        let login = login.trim().to_lowercase();
        if login.is_empty() {
            return None;
        }
        self.user(&login).or_else(|| {
            self.login_with_email_allowed
                .then(|| {
                    self.users
                        .iter()
                        .find(|u| u.email.as_deref().map(str::to_lowercase) == Some(login.clone()))
                })
                .flatten()
        })
    }

    /// The scopes a token is granted: `openid` when requested, the client's default scopes, and
    /// the requested optional ones.
    pub fn granted_scopes(&self, client: &Client, requested: &[&str]) -> Vec<String> {
        let mut granted = Vec::new();
        if requested.contains(&OPENID) {
            granted.push(OPENID.to_string());
        }
        granted.extend(client.default_client_scopes.iter().cloned());
        for scope in &client.optional_client_scopes {
            if requested.contains(&scope.as_str()) {
                granted.push(scope.clone());
            }
        }
        granted
    }

    /// The `scope` claim: the granted scopes Keycloak names in tokens.
    pub fn scope_claim(&self, granted: &[String]) -> String {
        granted
            .iter()
            .filter(|s| {
                *s == OPENID
                    || self
                        .client_scope(s)
                        .is_some_and(|scope| scope.include_in_token_scope)
            })
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The title the theme shows: the display name, else the realm name.
    pub fn title(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}
