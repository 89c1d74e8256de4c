//! The emulated Google Cloud organisation, read from a strict YAML file (see
//! `fixtures/cloud/gcp.yaml`): workforce pools and their OIDC providers, projects with their
//! Vertex AI and quota permissions, and the Google account issuers whose OAuth tokens Vertex
//! accepts directly.
//!
//! Everything Google checks when a provider is created is checked when the file is loaded, with
//! the file and line: an `http://` issuer ("Invalid OIDC issuer URI. The scheme must be
//! https."), a JWKS Google would refuse, a mapping without `google.subject`, CEL that does not
//! compile or a condition over 4096 characters.
//!
//! `${NAME}` placeholders ([`crate::placeholders`]) are replaced before parsing with
//! values the caller supplies, so one fixture can point at an emulator whose port is only known
//! at run time: `issuer_uri: ${IDP_ISSUER}` with
//! `GcpConfig::load_with(path, &placeholders::idp_issuer(&issuer))`.

use std::collections::HashSet;
use std::path::Path;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use serde::Deserialize;

use super::attributes::{AttributeCondition, AttributeMapping};
use super::iam::Member;
use crate::placeholders;
use crate::web_identity::KeySource;
use ssoproof_config::yaml::{key_path, Step};
use ssoproof_config::{
    deserialize_checked, deserialize_checked_impl, from_yaml, read_text, ConfigError,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpConfig {
    #[serde(default)]
    pub workforce_pools: Vec<WorkforcePool>,
    #[serde(default)]
    pub projects: Vec<Project>,
    /// Issuers of Google OAuth access tokens that Vertex accepts as bearers.
    #[serde(default)]
    pub google_accounts: Vec<GoogleAccounts>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkforcePool {
    pub id: PoolId,
    #[serde(default)]
    pub disabled: bool,
    pub providers: Vec<Provider>,
}

/// A workforce pool OIDC provider (`gcloud iam workforce-pools providers create-oidc`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub id: ProviderId,
    #[serde(default)]
    pub disabled: bool,
    /// Must equal the token's `iss` exactly.
    pub issuer_uri: IssuerUri,
    /// Must equal (or be among) the token's `aud`.
    pub client_id: String,
    /// Google's `jwksJson`: keys given inline, so nothing is fetched from the issuer.
    #[serde(default)]
    pub jwks_json: Option<InlineJwks>,
    pub attribute_mapping: AttributeMapping,
    #[serde(default)]
    pub attribute_condition: Option<AttributeCondition>,
}

impl Provider {
    pub fn key_source(&self) -> KeySource {
        match &self.jwks_json {
            Some(jwks) => KeySource::Inline(jwks.0.clone()),
            None => KeySource::Discovery {
                issuer: self.issuer_uri.0.clone(),
            },
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub id: ProjectId,
    /// Whether `aiplatform.googleapis.com` is enabled.
    pub vertex_enabled: bool,
    #[serde(default)]
    pub permissions: Permissions,
}

/// Who holds each permission on the project (what roles/aiplatform.user and
/// roles/serviceusage.serviceUsageConsumer grant in real life).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// May call Vertex models in the project.
    #[serde(rename = "aiplatform.endpoints.predict", default)]
    pub predict: Vec<Member>,
    /// May bill the project as the quota project (`x-goog-user-project`).
    #[serde(rename = "serviceusage.services.use", default)]
    pub service_usage: Vec<Member>,
}

/// An issuer of Google OAuth access tokens (the real one is `https://accounts.google.com`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleAccounts {
    pub issuer: IssuerUri,
    #[serde(default)]
    pub jwks_json: Option<InlineJwks>,
}

impl GoogleAccounts {
    pub fn key_source(&self) -> KeySource {
        match &self.jwks_json {
            Some(jwks) => KeySource::Inline(jwks.0.clone()),
            None => KeySource::Discovery {
                issuer: self.issuer.0.clone(),
            },
        }
    }
}

/// What `${GOOGLE_ISSUER}` stands for while [`GcpConfig::load_without_google_issuer`] reads a
/// file: a host under `.invalid` (RFC 2606), which no issuer in a file can really have.
const UNSET_GOOGLE_ISSUER: &str = "https://google-issuer.unset.invalid";

/// A resource id with Google's rules: `MIN`–`MAX` lowercase letters, digits and hyphens,
/// starting with a letter and not ending with a hyphen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId<const MIN: usize, const MAX: usize>(String);

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for ResourceId<MIN, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_checked(deserializer)
    }
}

pub type PoolId = ResourceId<6, 63>;
pub type ProviderId = ResourceId<4, 32>;
pub type ProjectId = ResourceId<6, 30>;

impl<const MIN: usize, const MAX: usize> ResourceId<MIN, MAX> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MIN: usize, const MAX: usize> TryFrom<String> for ResourceId<MIN, MAX> {
    type Error = String;

    fn try_from(id: String) -> Result<Self, String> {
        let charset = id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let valid = (MIN..=MAX).contains(&id.len())
            && charset
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && !id.ends_with('-');
        if valid {
            Ok(ResourceId(id))
        } else {
            Err(format!(
                "`{id}` is not a valid id: {MIN} to {MAX} lowercase letters, digits and hyphens, \
                 starting with a letter and not ending with a hyphen"
            ))
        }
    }
}

/// An OIDC issuer URI, https only, as Google requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerUri(String);

impl IssuerUri {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IssuerUri {
    type Error = String;

    fn try_from(uri: String) -> Result<Self, String> {
        match url::Url::parse(&uri) {
            Ok(url) if url.scheme() == "https" && url.host().is_some() => Ok(IssuerUri(uri)),
            Ok(url) if url.scheme() == "http" => Err(format!(
                "Invalid OIDC issuer URI. The scheme must be https. (`{uri}`: Google never \
                 accepts a plain-http issuer; serve the IdP over HTTPS, e.g. the ssoproof IdP \
                 emulator with its local CA)"
            )),
            _ => Err(format!("Invalid OIDC issuer URI. (`{uri}`)")),
        }
    }
}

/// Google's `jwksJson`: a JWKS document as a string, RSA or EC P-256 keys only.
#[derive(Debug, Clone)]
pub struct InlineJwks(JwkSet);

deserialize_checked_impl!(IssuerUri, InlineJwks);

impl TryFrom<String> for InlineJwks {
    type Error = String;

    fn try_from(json: String) -> Result<Self, String> {
        // Google's own messages for the JWKS it refuses.
        let set: JwkSet = serde_json::from_str(&json)
            .map_err(|e| format!("Input JWK is not in a valid json format ({e})"))?;
        if set.keys.is_empty() {
            return Err("Input JWK is not in a valid json format (no keys)".into());
        }
        for key in &set.keys {
            match &key.algorithm {
                AlgorithmParameters::RSA(_) => {}
                AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {}
                AlgorithmParameters::EllipticCurve(_) => {
                    return Err(
                        "Invalid JWKs: EC keys must use the P-256 curve. Only RSA, EC key types are supported."
                            .into(),
                    )
                }
                _ => return Err("Input jwks contains corrupted key material.".into()),
            }
        }
        Ok(InlineJwks(set))
    }
}

impl GcpConfig {
    /// Reads a file without placeholders.
    pub fn load(path: &Path) -> Result<GcpConfig, ConfigError> {
        GcpConfig::load_with::<&str>(path, &[])
    }

    /// Reads a file, replacing each `${NAME}` with its value from `variables`.
    pub fn load_with<V: AsRef<str>>(
        path: &Path,
        variables: &[(&str, V)],
    ) -> Result<GcpConfig, ConfigError> {
        let text = read_text(path)?;
        GcpConfig::parse(&text, path, variables)
    }

    /// Reads a file whose `google_accounts` may name `${GOOGLE_ISSUER}` when `variables` give it
    /// no value (`ssoproof serve clouds` without `--google-issuer`): those entries are left out
    /// and their lines returned, so the caller can say so. The placeholder anywhere else, or any
    /// other placeholder without a value, is the usual error.
    pub fn load_without_google_issuer<V: AsRef<str>>(
        path: &Path,
        variables: &[(&str, V)],
    ) -> Result<(GcpConfig, Vec<usize>), ConfigError> {
        let text = read_text(path)?;
        let unresolved = match placeholders::substitute(&text, variables) {
            Err(u) if u.name == placeholders::GOOGLE_ISSUER => u,
            _ => return GcpConfig::parse(&text, path, variables).map(|c| (c, Vec::new())),
        };
        let mut with_stand_in: Vec<(&str, &str)> =
            variables.iter().map(|(n, v)| (*n, v.as_ref())).collect();
        with_stand_in.push((placeholders::GOOGLE_ISSUER, UNSET_GOOGLE_ISSUER));
        let mut config = GcpConfig::parse(&text, path, &with_stand_in)?;
        let uses = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim_start().starts_with('#'))
            .filter(|(_, line)| line.contains("${GOOGLE_ISSUER}"))
            .map(|(i, _)| i + 1);
        let key = |k: &str| Step::Key(k.to_string());
        let left_out: Vec<usize> = config
            .google_accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.issuer.as_str() == UNSET_GOOGLE_ISSUER)
            .filter_map(|(i, _)| {
                let steps = [key("google_accounts"), Step::Index(i), key("issuer")];
                ssoproof_config::yaml::locate(&text, &steps).map(|(line, _)| line)
            })
            .collect();
        // A use elsewhere (a provider's issuer, a JWKS) has no stand-in that would mean anything.
        if let Some(line) = uses.into_iter().find(|line| !left_out.contains(line)) {
            let unresolved = placeholders::Unresolved { line, ..unresolved };
            return Err(unresolved.in_file(path));
        }
        config
            .google_accounts
            .retain(|a| a.issuer.as_str() != UNSET_GOOGLE_ISSUER);
        Ok((config, left_out))
    }

    pub fn parse<V: AsRef<str>>(
        text: &str,
        path: &Path,
        variables: &[(&str, V)],
    ) -> Result<GcpConfig, ConfigError> {
        let text = placeholders::substitute(text, variables).map_err(|u| u.in_file(path))?;
        let config: GcpConfig = from_yaml(&text, path)?;
        config.validate(&text, path)?;
        Ok(config)
    }

    pub fn pool(&self, id: &str) -> Option<&WorkforcePool> {
        self.workforce_pools.iter().find(|p| p.id.as_str() == id)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id.as_str() == id)
    }

    /// Rules across entries, which serde cannot express. Each is reported at the value that
    /// breaks it.
    fn validate(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let invalid = |steps: &[Step], message: String| {
            ConfigError::invalid_at(path, text, steps, key_path(steps), message)
        };
        let key = |k: &str| Step::Key(k.to_string());
        if let Some((i, id)) = first_repeat(self.workforce_pools.iter().map(|p| p.id.as_str())) {
            let steps = [key("workforce_pools"), Step::Index(i), key("id")];
            return Err(invalid(&steps, format!("pool `{id}` is defined twice")));
        }
        if let Some((i, id)) = first_repeat(self.projects.iter().map(|p| p.id.as_str())) {
            let steps = [key("projects"), Step::Index(i), key("id")];
            return Err(invalid(&steps, format!("project `{id}` is defined twice")));
        }
        for (p, pool) in self.workforce_pools.iter().enumerate() {
            let providers = [key("workforce_pools"), Step::Index(p), key("providers")];
            if let Some((i, id)) = first_repeat(pool.providers.iter().map(|p| p.id.as_str())) {
                let steps = [&providers[..], &[Step::Index(i), key("id")]].concat();
                return Err(invalid(
                    &steps,
                    format!(
                        "provider `{id}` is defined twice in pool `{}`",
                        pool.id.as_str()
                    ),
                ));
            }
            for (i, provider) in pool.providers.iter().enumerate() {
                if is_google(provider.issuer_uri.as_str()) {
                    let steps = [&providers[..], &[Step::Index(i), key("issuer_uri")]].concat();
                    return Err(invalid(
                        &steps,
                        "Google accounts cannot be a workforce pool identity provider; a Google \
                         OAuth token with the cloud-platform scope is a Vertex bearer by itself: \
                         list the issuer under `google_accounts` instead"
                            .into(),
                    ));
                }
            }
        }
        for (p, project) in self.projects.iter().enumerate() {
            let grants = [
                ("aiplatform.endpoints.predict", &project.permissions.predict),
                (
                    "serviceusage.services.use",
                    &project.permissions.service_usage,
                ),
            ];
            for (permission, members) in grants {
                for (i, member) in members.iter().enumerate() {
                    let Some(pool) = member.pool() else { continue };
                    if self.pool(pool).is_none() {
                        let steps = [
                            key("projects"),
                            Step::Index(p),
                            key("permissions"),
                            key(permission),
                            Step::Index(i),
                        ];
                        return Err(invalid(
                            &steps,
                            format!("`{member}` names workforce pool `{pool}`, which this file does not define"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn is_google(issuer: &str) -> bool {
    url::Url::parse(issuer).is_ok_and(|u| u.host_str() == Some("accounts.google.com"))
}

/// The first item that repeats an earlier one, with its index (reported where it repeats).
fn first_repeat<'a>(items: impl Iterator<Item = &'a str>) -> Option<(usize, &'a str)> {
    let mut seen = HashSet::new();
    items.enumerate().find(|(_, item)| !seen.insert(*item))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placeholders::{GOOGLE_ISSUER, IDP_ISSUER};

    const ISSUER: &str = "https://127.0.0.1:8443/realms/acme";

    fn parse(text: &str) -> Result<GcpConfig, ConfigError> {
        GcpConfig::parse(text, Path::new("gcp.yaml"), &[(IDP_ISSUER, ISSUER)])
    }

    fn pool(provider: &str) -> String {
        format!(
            "workforce_pools:\n  - id: acme-workforce\n    providers:\n      - id: acme-idp\n{provider}"
        )
    }

    const MAPPING: &str = "        attribute_mapping:\n          google.subject: assertion.sub\n";

    #[test]
    fn the_fixture_loads_with_the_idp_issuer() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/gcp.yaml");
        let google = "https://127.0.0.1:8443/google";
        let config =
            GcpConfig::load_with(&path, &[(IDP_ISSUER, ISSUER), (GOOGLE_ISSUER, google)]).unwrap();
        let provider = &config.workforce_pools[0].providers[0];
        assert_eq!(provider.issuer_uri.as_str(), ISSUER);
        assert!(!config.projects.is_empty());
        assert_eq!(config.google_accounts[0].issuer.as_str(), google);
        let err = GcpConfig::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("`${IDP_ISSUER}`: the placeholder has no value"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_is_config_read_naming_it() {
        let err = GcpConfig::load(Path::new("absent-gcp.yaml")).unwrap_err();
        assert_eq!(err.code(), "config/read");
        assert!(
            err.to_string().starts_with("cannot read absent-gcp.yaml: "),
            "{err}"
        );
    }

    #[test]
    fn a_plain_http_issuer_is_refused_with_file_and_line() {
        let text = pool(&format!(
            "        issuer_uri: http://127.0.0.1:8080/realms/acme\n        client_id: app\n{MAPPING}"
        ));
        let err = parse(&text).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("gcp.yaml:5:"), "{message}");
        assert!(
            message.contains("Invalid OIDC issuer URI. The scheme must be https."),
            "{message}"
        );
        let err = GcpConfig::parse(
            &pool(&format!(
                "        issuer_uri: ${{IDP_ISSUER}}\n        client_id: app\n{MAPPING}"
            )),
            Path::new("gcp.yaml"),
            &[(IDP_ISSUER, "http://127.0.0.1:8080/realms/acme")],
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("gcp.yaml:5:"), "{err}");
    }

    #[test]
    fn bad_cel_and_long_conditions_are_refused_where_written() {
        let text = pool(&format!(
            "        issuer_uri: {ISSUER}\n        client_id: app\n{MAPPING}        attribute_condition: \"assertion.sub ==\"\n"
        ));
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.starts_with("gcp.yaml:9:"), "{message}");
        assert!(
            message.contains("invalid CEL in the attribute condition"),
            "{message}"
        );
        let text = pool(&format!(
            "        issuer_uri: {ISSUER}\n        client_id: app\n{MAPPING}        attribute_condition: \"'{}' == assertion.sub\"\n",
            "x".repeat(4100)
        ));
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.contains("at most 4096"), "{message}");
        let text = pool(&format!(
            "        issuer_uri: {ISSUER}\n        client_id: app\n        attribute_mapping:\n          attribute.x: assertion.x\n"
        ));
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.contains("must map `google.subject`"), "{message}");
        // 100,000 nested parentheses panicked inside the `cel` crate.
        let deep = format!(
            "{}assertion.sub{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let text = pool(&format!(
            "        issuer_uri: {ISSUER}\n        client_id: app\n        attribute_mapping:\n          google.subject: \"{deep}\"\n"
        ));
        let err = parse(&text).unwrap_err();
        assert_eq!(err.code(), "config/syntax");
        let message = err.to_string();
        assert!(message.starts_with("gcp.yaml:8:27:"), "{message}");
        assert!(message.contains("at most 16384"), "{message}");
        assert!(
            message.len() < 300,
            "the source is not echoed whole: {message}"
        );
    }

    #[test]
    fn jwks_google_would_refuse_is_refused() {
        let with_jwks = |jwks: &str| {
            parse(&pool(&format!(
                "        issuer_uri: {ISSUER}\n        client_id: app\n        jwks_json: '{jwks}'\n{MAPPING}"
            )))
        };
        let message = with_jwks("not json").unwrap_err().to_string();
        assert!(
            message.contains("Input JWK is not in a valid json format"),
            "{message}"
        );
        let okp = r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
        let message = with_jwks(okp).unwrap_err().to_string();
        assert!(message.contains("corrupted key material"), "{message}");
        let p256 = r#"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
        assert!(with_jwks(p256).is_ok());
    }

    #[test]
    fn ids_duplicates_and_unknown_pools_are_refused() {
        let message = parse("projects:\n  - id: Acme\n    vertex_enabled: true\n")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("gcp.yaml:2:"), "{message}");
        assert!(message.contains("not a valid id"), "{message}");
        let message = parse(
            "projects:\n  - id: acme-ai\n    vertex_enabled: true\n  - id: acme-ai\n    vertex_enabled: false\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            message.starts_with("gcp.yaml:4:9: `projects[1].id`"),
            "{message}"
        );
        let message = parse(
            "projects:\n  - id: acme-ai\n    vertex_enabled: true\n    permissions:\n      aiplatform.endpoints.predict:\n        - principalSet://iam.googleapis.com/locations/global/workforcePools/nowhere/*\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            message.starts_with(
                "gcp.yaml:6:11: `projects[0].permissions.aiplatform.endpoints.predict[0]`"
            ),
            "{message}"
        );
        assert!(message.contains("does not define"), "{message}");
        let message = parse("projects:\n  - id: acme-ai\n    vertex_enabled: true\n    permissions:\n      aiplatform.endpoints.get: []\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("unknown field `aiplatform.endpoints.get`"),
            "{message}"
        );
    }

    #[test]
    fn google_cannot_be_a_workforce_provider() {
        let text = pool(&format!(
            "        issuer_uri: https://accounts.google.com\n        client_id: app\n{MAPPING}"
        ));
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.starts_with("gcp.yaml:5:"), "{message}");
        assert!(
            message.contains("list the issuer under `google_accounts`"),
            "{message}"
        );
    }

    #[test]
    fn google_accounts_without_their_issuer_are_left_out_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gcp.yaml");
        let write = |text: &str| std::fs::write(&path, text).unwrap();
        let none: &[(&str, &str)] = &[];
        write("# ${GOOGLE_ISSUER} in a comment\ngoogle_accounts:\n  - issuer: ${GOOGLE_ISSUER}\n  - issuer: https://accounts.example.test\n");
        let (config, left_out) = GcpConfig::load_without_google_issuer(&path, none).unwrap();
        assert_eq!(left_out, [3]);
        assert_eq!(config.google_accounts.len(), 1);
        assert_eq!(
            config.google_accounts[0].issuer.as_str(),
            "https://accounts.example.test"
        );
        // With a value nothing is left out.
        let google = [(GOOGLE_ISSUER, "https://127.0.0.1:8443/google")];
        let (config, left_out) = GcpConfig::load_without_google_issuer(&path, &google).unwrap();
        assert!(left_out.is_empty());
        assert_eq!(
            config.google_accounts[0].issuer.as_str(),
            "https://127.0.0.1:8443/google"
        );
        // Used anywhere else, the placeholder still needs its value.
        write(&format!(
            "google_accounts:\n  - issuer: ${{GOOGLE_ISSUER}}\n{}",
            pool(&format!(
                "        issuer_uri: ${{GOOGLE_ISSUER}}/x\n        client_id: app\n{MAPPING}"
            ))
        ));
        let err = GcpConfig::load_without_google_issuer(&path, none).unwrap_err();
        assert_eq!(err.code(), "config/invalid");
        assert!(err.to_string().contains(":7: `${GOOGLE_ISSUER}`"), "{err}");
        assert!(err.to_string().contains("--google-issuer"), "{err}");
        // Other placeholders are not optional.
        write("workforce_pools: []\ngoogle_accounts:\n  - issuer: ${IDP_ISSUER}\n");
        let err = GcpConfig::load_without_google_issuer(&path, none).unwrap_err();
        assert!(err.to_string().contains("`${IDP_ISSUER}`"), "{err}");
    }

    #[test]
    fn unknown_placeholders_name_their_line() {
        let err = parse("google_accounts:\n  - issuer: ${GOOGLE_ISSUER}\n").unwrap_err();
        assert_eq!(err.code(), "config/invalid");
        assert!(
            err.to_string()
                .starts_with("gcp.yaml:2: `${GOOGLE_ISSUER}`"),
            "{err}"
        );
    }
}
