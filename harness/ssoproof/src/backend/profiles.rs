//! Tenant profiles: `live.yaml` beside `ssoproof.yaml`, the live tenants a nightly smoke run
//! signs in to. A file of its own rather than a section of `ssoproof.yaml`: the tenant list
//! belongs to the environment that holds the secrets (the CI job, an operator's shell), while
//! `ssoproof.yaml` describes the runbooks and is the same everywhere.
//!
//! Strictly parsed like every ssoproof file: an unknown key, vendor or driver is an error with
//! the file, the line and a "did you mean". Secrets are never written in the file, only the
//! names of the environment variables holding them; they are read at run time and kept as
//! [`Secret`]s, redacted wherever they are printed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::fixture::APP_REDIRECT_URI;
use ssoproof_config::suggest::nearest;
use ssoproof_config::{deserialize_checked_impl, from_yaml, read_text, FileDomain, FileError};
use ssoproof_secret::Secret;

/// The profile file's name, in the project root.
pub const PROFILES_FILE: &str = "live.yaml";

/// The profile file's error codes.
pub enum ProfilesFile {}

impl FileDomain for ProfilesFile {
    const READ: &'static str = "live/read";
    const SYNTAX: &'static str = "live/syntax";
    const INVALID: &'static str = "live/invalid";
    const NAME: Option<&'static str> = Some("tenant profile file");
}

/// Why the profile file cannot be used. Codes are stable.
pub type ProfilesError = FileError<ProfilesFile>;

/// A vendor a tenant may name; it picks the feature the tenant runs (`features/<vendor>.feature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantVendor {
    Keycloak,
    Okta,
    Auth0,
    EntraId,
    GoogleWorkspace,
    Cognito,
    Authentik,
    /// Any other OpenID provider: runs the Keycloak feature's `@live` scenarios, which are
    /// plain OIDC (discovery, JWKS, login, wrong password, refresh, logout).
    Generic,
}

impl TenantVendor {
    const ALL: [TenantVendor; 8] = [
        TenantVendor::Keycloak,
        TenantVendor::Okta,
        TenantVendor::Auth0,
        TenantVendor::EntraId,
        TenantVendor::GoogleWorkspace,
        TenantVendor::Cognito,
        TenantVendor::Authentik,
        TenantVendor::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TenantVendor::Keycloak => "keycloak",
            TenantVendor::Okta => "okta",
            TenantVendor::Auth0 => "auth0",
            TenantVendor::EntraId => "entra-id",
            TenantVendor::GoogleWorkspace => "google-workspace",
            TenantVendor::Cognito => "cognito",
            TenantVendor::Authentik => "authentik",
            TenantVendor::Generic => "generic",
        }
    }

    /// The persona tag (`@persona:<name>`) of the vendor's feature; none for Keycloak and
    /// generic providers, whose feature is plain OpenID Connect.
    pub fn persona(self) -> Option<&'static str> {
        match self {
            TenantVendor::Keycloak | TenantVendor::Generic => None,
            vendor => Some(vendor.as_str()),
        }
    }

    /// The feature file the tenant's scenarios come from, relative to the feature folder.
    pub fn feature(self) -> String {
        match self {
            TenantVendor::Generic => "keycloak.feature".into(),
            vendor => format!("{}.feature", vendor.as_str()),
        }
    }
}

/// How the harness signs a test user in at the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Driver {
    /// The scraper browser: fills and posts the HTML login form (Keycloak, the emulator).
    #[default]
    Form,
    /// The resource-owner password grant: a smoke-test shortcut for clients that allow it.
    PasswordGrant,
    /// A real headless Chromium through WebDriver: pages built by scripts too.
    Browser,
}

impl Driver {
    const ALL: [Driver; 3] = [Driver::Form, Driver::PasswordGrant, Driver::Browser];

    pub fn as_str(self) -> &'static str {
        match self {
            Driver::Form => "form",
            Driver::PasswordGrant => "password-grant",
            Driver::Browser => "browser",
        }
    }
}

/// `value` as one of `all`, or an error listing them with the nearest as a suggestion.
fn one_of<T: Copy>(
    what: &str,
    value: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, String> {
    if let Some(found) = all.iter().copied().find(|v| name(*v) == value) {
        return Ok(found);
    }
    let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
    let hint = nearest(value, names.iter().copied())
        .map(|n| format!(" (did you mean \"{n}\"?)"))
        .unwrap_or_default();
    Err(format!(
        "unknown {what} \"{value}\"{hint}; expected one of {}",
        names.join(", ")
    ))
}

impl TryFrom<String> for TenantVendor {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        one_of("vendor", &value, &TenantVendor::ALL, TenantVendor::as_str)
    }
}

impl TryFrom<String> for Driver {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        one_of("driver", &value, &Driver::ALL, Driver::as_str)
    }
}

deserialize_checked_impl!(TenantVendor, Driver);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilesDoc {
    tenants: Vec<TenantProfile>,
}

/// One tenant as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantProfile {
    pub name: String,
    pub vendor: TenantVendor,
    pub issuer: String,
    pub client_id: String,
    /// The environment variable holding the client secret; none for a public client.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    #[serde(default = "default_redirect_uri")]
    pub redirect_uri: String,
    #[serde(default)]
    pub driver: Driver,
    #[serde(default)]
    pub users: Vec<TenantUser>,
}

fn default_redirect_uri() -> String {
    APP_REDIRECT_URI.into()
}

/// A test user and what the runbook promises about them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantUser {
    /// The runbook's name for the user (`alice` in "When alice signs in").
    pub username: String,
    /// What the user types at the tenant's login page, when it is not `username`
    /// (`alice@acme.example`).
    #[serde(default)]
    pub login: Option<String>,
    /// The environment variable holding the password.
    pub password_env: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// The tenants of one profile file, in file order.
#[derive(Debug, Clone)]
pub struct Profiles {
    pub tenants: Vec<TenantProfile>,
}

impl Profiles {
    pub fn load(path: &Path) -> Result<Profiles, ProfilesError> {
        Profiles::parse(&read_text(path)?, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Profiles, ProfilesError> {
        let doc: ProfilesDoc = from_yaml(text, path)?;
        let invalid =
            |key: String, message: String| FileError::invalid_key(path, text, &key, message);
        let mut seen = BTreeMap::new();
        for (i, tenant) in doc.tenants.iter().enumerate() {
            if tenant.name.is_empty()
                || !tenant
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(invalid(
                    format!("tenants[{i}].name"),
                    "a tenant name is letters, digits, `-` and `_` (it names the JUnit report and the CI job)".into(),
                ));
            }
            if let Some(first) = seen.insert(tenant.name.as_str(), i) {
                return Err(invalid(
                    format!("tenants[{i}].name"),
                    format!("tenant \"{}\" is already defined at tenants[{first}]; tenant names are unique", tenant.name),
                ));
            }
            if !(tenant.issuer.starts_with("https://") || tenant.issuer.starts_with("http://")) {
                return Err(invalid(
                    format!("tenants[{i}].issuer"),
                    format!("tenant \"{}\": the issuer is an http(s) URL, exactly as the IdP announces it", tenant.name),
                ));
            }
        }
        Ok(Profiles {
            tenants: doc.tenants,
        })
    }

    /// The tenants named, in the order asked, or all of them when none is named. An unknown
    /// name is refused with the nearest known one.
    pub fn select(&self, names: &[String]) -> Result<Vec<TenantProfile>, ProfileSelectError> {
        if names.is_empty() {
            return Ok(self.tenants.clone());
        }
        names
            .iter()
            .map(|name| {
                self.tenants
                    .iter()
                    .find(|t| &t.name == name)
                    .cloned()
                    .ok_or_else(|| ProfileSelectError {
                        name: name.clone(),
                        suggestion: nearest(name, self.tenants.iter().map(|t| t.name.as_str()))
                            .map(str::to_string),
                        known: self.tenants.iter().map(|t| t.name.clone()).collect(),
                    })
            })
            .collect()
    }
}

/// `--tenant NAME` names no tenant of the profile file.
#[derive(Debug, thiserror::Error)]
pub struct ProfileSelectError {
    pub name: String,
    pub suggestion: Option<String>,
    pub known: Vec<String>,
}

impl fmt::Display for ProfileSelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no tenant \"{}\" in {PROFILES_FILE}", self.name)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean \"{s}\"?)")?;
        }
        write!(f, "; the tenants are: {}", self.known.join(", "))
    }
}

/// A tenant with its secrets read from the environment.
#[derive(Debug, Clone)]
pub struct ResolvedTenant {
    pub profile: TenantProfile,
    pub client_secret: Option<Secret>,
    /// Each user's password, by username.
    pub passwords: BTreeMap<String, Secret>,
}

/// A tenant whose secrets are not all in the environment.
#[derive(Debug, thiserror::Error)]
#[error("tenant \"{tenant}\": the environment variable {variable} ({what}) is not set; export it (in CI, map it from the repository's secrets) or remove the tenant from {PROFILES_FILE}")]
pub struct UnsetVariable {
    pub tenant: String,
    pub variable: String,
    pub what: String,
}

impl TenantProfile {
    /// Reads the tenant's secrets through `env` (the process environment in use).
    pub fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ResolvedTenant, UnsetVariable> {
        let get = |variable: &str, what: String| {
            env(variable)
                .filter(|v| !v.is_empty())
                .map(Secret::from)
                .ok_or_else(|| UnsetVariable {
                    tenant: self.name.clone(),
                    variable: variable.into(),
                    what,
                })
        };
        let client_secret = self
            .client_secret_env
            .as_deref()
            .map(|v| get(v, "the client secret".into()))
            .transpose()?;
        let passwords = self
            .users
            .iter()
            .map(|u| {
                get(&u.password_env, format!("{}'s password", u.username))
                    .map(|p| (u.username.clone(), p))
            })
            .collect::<Result<_, _>>()?;
        Ok(ResolvedTenant {
            profile: self.clone(),
            client_secret,
            passwords,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
tenants:
  - name: acme
    vendor: keycloak
    issuer: https://id.example.com/realms/acme
    client_id: app
    client_secret_env: ACME_SECRET
    driver: password-grant
    users:
      - username: alice
        password_env: ACME_ALICE
        groups: [/acme/admins]
        role: admin
  - name: beta
    vendor: generic
    issuer: http://127.0.0.1:1/
    client_id: app
";

    fn parse(text: &str) -> Result<Profiles, ProfilesError> {
        Profiles::parse(text, Path::new("live.yaml"))
    }

    #[test]
    fn a_good_file_parses_with_defaults() {
        let profiles = parse(GOOD).unwrap();
        let [acme, beta] = &profiles.tenants[..] else {
            panic!("two tenants")
        };
        assert_eq!(acme.driver, Driver::PasswordGrant);
        assert_eq!(acme.users[0].role.as_deref(), Some("admin"));
        assert_eq!(beta.driver, Driver::Form);
        assert_eq!(beta.redirect_uri, APP_REDIRECT_URI);
        assert_eq!(beta.vendor.feature(), "keycloak.feature");
    }

    #[test]
    fn an_unknown_vendor_names_the_file_line_and_nearest() {
        let err = parse(&GOOD.replace("vendor: keycloak", "vendor: keycloack")).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.code(), "live/syntax");
        assert!(text.contains("live.yaml"), "{text}");
        assert!(text.contains("live.yaml:3:"), "{text}");
        assert!(text.contains("did you mean \"keycloak\""), "{text}");
    }

    #[test]
    fn an_unknown_driver_names_the_file_line_and_nearest() {
        let err =
            parse(&GOOD.replace("driver: password-grant", "driver: pasword-grant")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("live.yaml:7:"), "{text}");
        assert!(text.contains("did you mean \"password-grant\""), "{text}");
    }

    #[test]
    fn the_browser_driver_is_accepted() {
        let profiles = parse(&GOOD.replace("driver: password-grant", "driver: browser")).unwrap();
        assert_eq!(profiles.tenants[0].driver, Driver::Browser);
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_line() {
        let err = parse(&GOOD.replace(
            "    client_id: app\n    client_secret_env",
            "    client_id: app\n    client_secret: hunter2\n    client_secret_env",
        ))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown field `client_secret`"), "{text}");
        assert!(text.contains("live.yaml:6:"), "{text}");
    }

    #[test]
    fn duplicate_tenant_names_are_refused() {
        let err = parse(&GOOD.replace("name: beta", "name: acme")).unwrap_err();
        assert!(err.to_string().contains("already defined"), "{err}");
    }

    #[test]
    fn an_unset_variable_names_the_tenant_the_variable_and_what_to_do() {
        let profiles = parse(GOOD).unwrap();
        let env = |v: &str| (v == "ACME_SECRET").then(|| "s3cret".to_string());
        let err = profiles.tenants[0].resolve(env).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("tenant \"acme\""), "{text}");
        assert!(text.contains("ACME_ALICE"), "{text}");
        assert!(text.contains("alice's password"), "{text}");
        assert!(text.contains("export it"), "{text}");
    }

    #[test]
    fn resolved_secrets_are_redacted() {
        let profiles = parse(GOOD).unwrap();
        let env = |v: &str| Some(format!("value-of-{v}"));
        let tenant = profiles.tenants[0].resolve(env).unwrap();
        let debug = format!("{tenant:?}");
        assert!(!debug.contains("value-of-"), "{debug}");
        assert_eq!(tenant.passwords["alice"].expose(), "value-of-ACME_ALICE");
    }

    #[test]
    fn an_unknown_tenant_name_is_refused_with_the_nearest() {
        let profiles = parse(GOOD).unwrap();
        let err = profiles.select(&["acne".into()]).unwrap_err();
        assert!(err.to_string().contains("did you mean \"acme\""), "{err}");
        let both = profiles.select(&[]).unwrap();
        assert_eq!(both.len(), 2);
    }
}
