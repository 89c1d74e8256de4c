//! The emulated AWS account: `fixtures/cloud/aws.yaml`.
//!
//! The file mirrors what an administrator creates in IAM — OIDC identity providers and roles
//! whose trust and permission policies are JSON exactly as pasted into the console — so a
//! runbook's IAM snippets can be dropped in unchanged. Everything IAM would refuse is refused
//! here when the file is read, naming the file, line and key; unknown keys are errors.
//!
//! Issuer placeholders: the lab IdP's issuer (`http://127.0.0.1:<port>/realms/acme`) is only
//! known once it runs, so the file may write `${IDP_ISSUER}` (the issuer URL) and
//! `${IDP_ISSUER_HOST_PATH}` (the issuer without its scheme: what IAM calls the provider's URL
//! in ARNs and condition keys, e.g. `…:oidc-provider/${IDP_ISSUER_HOST_PATH}` and
//! `${IDP_ISSUER_HOST_PATH}:aud`); see [`crate::placeholders`].
//! [`AwsConfig::load_with_issuer`] fills them in; [`AwsConfig::load`] refuses a file that uses
//! them.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use super::policy::{Policy, PolicyError, PolicyKind};
use crate::placeholders::{self, is_usable_issuer};
use ssoproof_config::{from_yaml, read_text, FileDomain, FileError};

/// The AWS account file's error codes.
pub enum AwsConfigFile {}

impl FileDomain for AwsConfigFile {
    const READ: &'static str = "aws-config/read";
    const SYNTAX: &'static str = "aws-config/syntax";
    const INVALID: &'static str = "aws-config/invalid";
}

/// Why the AWS configuration could not be used. Codes are stable.
#[derive(Debug, thiserror::Error)]
pub enum AwsConfigError {
    #[error(transparent)]
    File(#[from] FileError<AwsConfigFile>),
    /// A trust or permission policy IAM would refuse.
    #[error("{}:{line}: `{key}`: {source}", path.display())]
    Policy {
        path: PathBuf,
        /// The line in the YAML file (the policy's own line is in the message).
        line: usize,
        key: String,
        source: PolicyError,
    },
}

impl AwsConfigError {
    /// Every code an AWS configuration error can carry.
    pub const CODES: [&'static str; 4] = {
        let [read, syntax, invalid] = FileError::<AwsConfigFile>::CODES;
        [read, syntax, invalid, "aws-config/policy"]
    };

    pub fn code(&self) -> &'static str {
        match self {
            AwsConfigError::File(e) => e.code(),
            AwsConfigError::Policy { .. } => Self::CODES[3],
        }
    }
}

/// An emulated AWS account with its IAM OIDC providers and roles.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    /// Twelve digits.
    pub account_id: String,
    /// The region Bedrock serves and SigV4 scopes must name, e.g. `us-east-1`.
    pub region: String,
    pub oidc_providers: Vec<OidcProvider>,
    pub roles: Vec<Role>,
}

/// An IAM OIDC identity provider.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    /// As registered, e.g. `https://idp.example.com/realms/acme`.
    pub url: String,
    /// The allowed audiences (IAM's `ClientIDList`).
    pub client_ids: Vec<String>,
}

/// An IAM role that federated users assume.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub trust_policy: Policy,
    /// Seconds, 3600–43200.
    pub max_session_duration: u32,
    pub permission_policies: Vec<Policy>,
}

impl OidcProvider {
    /// The URL without its scheme: IAM's name for the provider in ARNs and condition keys.
    pub fn host_path(&self) -> &str {
        strip_scheme(&self.url)
    }

    pub fn arn(&self, account_id: &str) -> String {
        format!(
            "arn:aws:iam::{account_id}:oidc-provider/{}",
            self.host_path()
        )
    }

    /// A plain-http or loopback/private provider: allowed so the lab IdP works, but real STS
    /// fetches keys from AWS's side and can never reach it.
    pub fn is_lab_only(&self) -> bool {
        self.url.starts_with("http://") || Url::parse(&self.url).is_ok_and(|u| is_private_host(&u))
    }

    /// Whether a token's `iss` names this provider. STS compares the issuer without the
    /// `https://` scheme; a plain-http provider (lab only) must match exactly.
    pub fn matches_issuer(&self, iss: &str) -> bool {
        iss == self.url || (self.url.starts_with("https://") && iss == self.host_path())
    }
}

impl Role {
    pub fn arn(&self, account_id: &str) -> String {
        format!("arn:aws:iam::{account_id}:role/{}", self.name)
    }

    /// A stable `AROA…` role id, derived from the account and name so snapshots do not churn.
    pub fn role_id(&self, account_id: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{account_id}:{}", self.name));
        format!("AROA{}", base32(&digest, 17))
    }
}

impl AwsConfig {
    /// Reads a configuration that uses no placeholders.
    pub fn load(path: &Path) -> Result<AwsConfig, AwsConfigError> {
        AwsConfig::load_with::<&str>(path, &[])
    }

    /// Reads a configuration, filling `${IDP_ISSUER}` and `${IDP_ISSUER_HOST_PATH}` from
    /// `issuer`.
    pub fn load_with_issuer(path: &Path, issuer: &str) -> Result<AwsConfig, AwsConfigError> {
        if !is_usable_issuer(issuer) {
            return Err(FileError::invalid(
                path,
                1,
                placeholders::IDP_ISSUER,
                format!("`{issuer}` is not an http(s) URL usable as an issuer"),
            )
            .into());
        }
        AwsConfig::load_with(path, &placeholders::idp_issuer(issuer))
    }

    /// Reads a configuration, replacing each `${NAME}` with its value from `variables`.
    pub fn load_with<V: AsRef<str>>(
        path: &Path,
        variables: &[(&str, V)],
    ) -> Result<AwsConfig, AwsConfigError> {
        let text = read_text(path)?;
        AwsConfig::parse(&text, path, variables)
    }

    /// Parses configuration text after filling its placeholders; `path` is only used in
    /// messages.
    pub fn parse<V: AsRef<str>>(
        text: &str,
        path: &Path,
        variables: &[(&str, V)],
    ) -> Result<AwsConfig, AwsConfigError> {
        let text = placeholders::substitute(text, variables)
            .map_err(|u| u.in_file::<AwsConfigFile>(path))?;
        let raw: RawConfig = from_yaml(&text, path)?;
        raw.validate(&Lines::new(&text), path)
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// The provider a token's `iss` names. An issuer ending in `#` never matches: IAM refuses
    /// such provider URLs, and INI-based AWS config files would cut the value at the `#`.
    pub fn provider_for_issuer(&self, iss: &str) -> Option<&OidcProvider> {
        if iss.ends_with('#') {
            return None;
        }
        self.oidc_providers.iter().find(|p| p.matches_issuer(iss))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    account_id: String,
    region: String,
    #[serde(default)]
    oidc_providers: Vec<RawProvider>,
    #[serde(default)]
    roles: Vec<RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    url: String,
    client_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: String,
    trust_policy: String,
    #[serde(default = "default_max_session_duration")]
    max_session_duration: u32,
    #[serde(default)]
    permission_policies: Vec<String>,
}

fn default_max_session_duration() -> u32 {
    3600
}

impl RawConfig {
    /// The rules IAM enforces that serde cannot express.
    fn validate(self, lines: &Lines, path: &Path) -> Result<AwsConfig, AwsConfigError> {
        let invalid = |line: usize, key: String, message: String| {
            AwsConfigError::File(FileError::invalid(path, line, key, message))
        };
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                lines.top_key("account_id"),
                "account_id".into(),
                "an AWS account id is 12 digits".into(),
            ));
        }
        if !is_region(&self.region) {
            return Err(invalid(
                lines.top_key("region"),
                "region".into(),
                format!("`{}` is not a region name like us-east-1", self.region),
            ));
        }

        let providers_line = lines.top_key("oidc_providers");
        let provider_items = lines.items_under(providers_line);
        let mut oidc_providers: Vec<OidcProvider> = Vec::new();
        for (i, raw) in self.oidc_providers.into_iter().enumerate() {
            let line = provider_items.get(i).copied().unwrap_or(providers_line);
            let key = |k: &str| format!("oidc_providers[{i}].{k}");
            check_provider_url(&raw.url).map_err(|m| invalid(line, key("url"), m))?;
            if oidc_providers.iter().any(|p| p.url == raw.url) {
                return Err(invalid(
                    line,
                    key("url"),
                    format!("provider `{}` is registered twice", raw.url),
                ));
            }
            if raw.client_ids.is_empty() || raw.client_ids.len() > 100 {
                return Err(invalid(
                    line,
                    key("client_ids"),
                    "IAM takes 1 to 100 client ids (audiences)".into(),
                ));
            }
            if let Some(bad) = raw
                .client_ids
                .iter()
                .find(|c| c.is_empty() || c.len() > 255)
            {
                return Err(invalid(
                    line,
                    key("client_ids"),
                    format!("client id `{bad}` must be 1 to 255 characters"),
                ));
            }
            oidc_providers.push(OidcProvider {
                url: raw.url,
                client_ids: raw.client_ids,
            });
        }

        let roles_line = lines.top_key("roles");
        let role_items = lines.items_under(roles_line);
        let mut roles: Vec<Role> = Vec::new();
        for (i, raw) in self.roles.into_iter().enumerate() {
            let start = role_items.get(i).copied().unwrap_or(roles_line);
            let end = role_items.get(i + 1).copied().unwrap_or(usize::MAX);
            let key_line = |k: &str| lines.key_in(start, end, k).unwrap_or(start);
            let key = |k: &str| format!("roles[{i}].{k}");
            let name_ok = (1..=64).contains(&raw.name.len())
                && raw
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !name_ok {
                return Err(invalid(
                    key_line("name"),
                    key("name"),
                    format!(
                        "`{}` is not a role name (1-64 of [A-Za-z0-9+=,.@_-])",
                        raw.name
                    ),
                ));
            }
            if roles.iter().any(|r| r.name == raw.name) {
                return Err(invalid(
                    key_line("name"),
                    key("name"),
                    format!("role `{}` is defined twice", raw.name),
                ));
            }
            if !(3600..=43200).contains(&raw.max_session_duration) {
                return Err(invalid(
                    key_line("max_session_duration"),
                    key("max_session_duration"),
                    "MaxSessionDuration must be 3600 to 43200 seconds".into(),
                ));
            }
            let policy_error =
                |line: usize, key: String, source: PolicyError| AwsConfigError::Policy {
                    path: path.to_path_buf(),
                    line: lines.policy_line(line, source.line),
                    key,
                    source,
                };
            let trust_line = key_line("trust_policy");
            let trust_policy = Policy::parse(&raw.trust_policy, PolicyKind::Trust)
                .map_err(|e| policy_error(trust_line, key("trust_policy"), e))?;
            let permissions_line = key_line("permission_policies");
            let permission_items = lines.items_under(permissions_line);
            let permission_policies = raw
                .permission_policies
                .iter()
                .enumerate()
                .map(|(j, text)| {
                    let line = permission_items.get(j).copied().unwrap_or(permissions_line);
                    Policy::parse(text, PolicyKind::Identity).map_err(|e| {
                        policy_error(line, format!("roles[{i}].permission_policies[{j}]"), e)
                    })
                })
                .collect::<Result<_, _>>()?;
            roles.push(Role {
                name: raw.name,
                trust_policy,
                max_session_duration: raw.max_session_duration,
                permission_policies,
            });
        }
        Ok(AwsConfig {
            account_id: self.account_id,
            region: self.region,
            oidc_providers,
            roles,
        })
    }
}

/// IAM's rules for a provider URL, relaxed only for loopback and private hosts (the lab IdP).
fn check_provider_url(text: &str) -> Result<(), String> {
    if text.contains('#') {
        return Err(format!(
            "`{text}` contains `#`: IAM refuses fragments, and in an INI-based AWS config file everything after `#` is a comment (drop a trailing `/#`)"
        ));
    }
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    let lab = is_private_host(&url);
    match url.scheme() {
        "https" => {}
        "http" if lab => {}
        _ => return Err(format!("`{text}` must start with https:// (plain http is accepted only for loopback and private lab hosts)")),
    }
    if url.query().is_some() {
        return Err(format!("`{text}` must not have a query"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{text}` must not carry credentials"));
    }
    if url.port().is_some() && !lab {
        return Err(format!("`{text}` must not name a port (IAM refuses ports)"));
    }
    Ok(())
}

/// A host real STS can never fetch keys from: `localhost`, loopback, private, link-local or
/// unspecified addresses. Names that merely resolve to such addresses are not detected.
pub(crate) fn is_private_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => is_private_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_private_ip(IpAddr::V6(ip)),
        None => true,
    }
}

fn is_private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private_ip(IpAddr::V4(v4)))
        }
    }
}

fn strip_scheme(url: &str) -> &str {
    url.strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url)
}

fn is_region(text: &str) -> bool {
    // e.g. us-east-1, ap-southeast-2, us-gov-west-1
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// `len` characters of RFC 4648 base32 over `bytes`: the alphabet of AWS ids.
pub(crate) fn base32(bytes: &[u8], len: usize) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(len);
    let (mut buffer, mut bits) = (0u32, 0);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 && out.len() < len {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    out
}

/// Where keys and list items are in the YAML text, for errors about values serde accepted
/// (serde_yaml_ng keeps no positions). Lines are 1-based.
struct Lines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            lines: text.lines().collect(),
        }
    }

    fn indent(line: &str) -> usize {
        line.len() - line.trim_start().len()
    }

    /// An unindented `key:` line (1 when absent).
    fn top_key(&self, key: &str) -> usize {
        let needle = format!("{key}:");
        self.lines
            .iter()
            .position(|l| l.starts_with(&needle))
            .map_or(1, |i| i + 1)
    }

    /// The first `key:` (also `- key:`) on lines `from..to`.
    fn key_in(&self, from: usize, to: usize, key: &str) -> Option<usize> {
        let needle = format!("{key}:");
        (from..to.min(self.lines.len() + 1)).find(|&n| {
            n >= 1
                && self.lines[n - 1]
                    .trim_start()
                    .trim_start_matches("- ")
                    .starts_with(&needle)
        })
    }

    /// The lines of the `- ` items of the block sequence under the key on line `key_line`.
    fn items_under(&self, key_line: usize) -> Vec<usize> {
        let Some(key_text) = self.lines.get(key_line.wrapping_sub(1)) else {
            return Vec::new();
        };
        let key_indent = Lines::indent(key_text);
        let mut items = Vec::new();
        let mut item_indent = None;
        for (i, line) in self.lines.iter().enumerate().skip(key_line) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = Lines::indent(line);
            if indent < key_indent || (indent == key_indent && !trimmed.starts_with('-')) {
                break;
            }
            if trimmed.starts_with('-') && item_indent.is_none_or(|at| at == indent) {
                item_indent = Some(indent);
                items.push(i + 1);
            }
        }
        items
    }

    /// The file line of line `policy_line` of a policy whose scalar starts on `scalar_line`:
    /// block scalars (`|`) keep the policy's lines, quoted scalars sit on one line.
    fn policy_line(&self, scalar_line: usize, policy_line: usize) -> usize {
        let is_block = self
            .lines
            .get(scalar_line.wrapping_sub(1))
            .is_some_and(|l| {
                l.trim_end().ends_with(['|', '>', '-', '+']) && l.contains(['|', '>'])
            });
        if is_block {
            scalar_line + policy_line
        } else {
            scalar_line
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"account_id: "123456789012"
region: us-east-1
oidc_providers:
  - url: https://idp.example.com/realms/acme
    client_ids: [acme-app]
roles:
  - name: BedrockUser
    max_session_duration: 7200
    trust_policy: |
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/idp.example.com/realms/acme"},
          "Action": "sts:AssumeRoleWithWebIdentity",
          "Condition": {"StringEquals": {"idp.example.com/realms/acme:aud": "acme-app"}}
        }]
      }
    permission_policies:
      - |
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}]}
"#;

    fn parse(text: &str) -> Result<AwsConfig, AwsConfigError> {
        AwsConfig::parse::<&str>(text, Path::new("aws.yaml"), &[])
    }

    #[test]
    fn reads_a_good_file() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.account_id, "123456789012");
        let provider = &config.oidc_providers[0];
        assert_eq!(provider.host_path(), "idp.example.com/realms/acme");
        assert_eq!(
            provider.arn("123456789012"),
            "arn:aws:iam::123456789012:oidc-provider/idp.example.com/realms/acme"
        );
        assert!(!provider.is_lab_only());
        let role = config.role("BedrockUser").unwrap();
        assert_eq!(role.max_session_duration, 7200);
        assert_eq!(role.permission_policies.len(), 1);
        assert_eq!(
            role.arn("123456789012"),
            "arn:aws:iam::123456789012:role/BedrockUser"
        );
        let id = role.role_id("123456789012");
        assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
        assert_eq!(id, role.role_id("123456789012"), "stable");
    }

    #[test]
    fn issuer_matching_ignores_https_and_never_matches_a_trailing_hash() {
        let config = parse(GOOD).unwrap();
        assert!(config
            .provider_for_issuer("https://idp.example.com/realms/acme")
            .is_some());
        assert!(config
            .provider_for_issuer("idp.example.com/realms/acme")
            .is_some());
        assert!(config
            .provider_for_issuer("https://idp.example.com/realms/acme/")
            .is_none());
        assert!(config
            .provider_for_issuer("http://idp.example.com/realms/acme")
            .is_none());
        assert!(config
            .provider_for_issuer("https://idp.example.com/realms/acme/#")
            .is_none());
    }

    #[test]
    fn placeholders_take_the_lab_issuer() {
        let text = GOOD
            .replace("https://idp.example.com/realms/acme", "${IDP_ISSUER}")
            .replace("idp.example.com/realms/acme", "${IDP_ISSUER_HOST_PATH}");
        let err = parse(&text).unwrap_err();
        assert!(
            err.to_string().starts_with("aws.yaml:4: `${IDP_ISSUER}`"),
            "{err}"
        );
        let config = AwsConfig::parse(
            &text,
            Path::new("aws.yaml"),
            &placeholders::idp_issuer("http://127.0.0.1:8080/realms/acme"),
        )
        .unwrap();
        let provider = &config.oidc_providers[0];
        assert_eq!(provider.url, "http://127.0.0.1:8080/realms/acme");
        assert!(provider.is_lab_only());
        assert!(provider.matches_issuer("http://127.0.0.1:8080/realms/acme"));
        assert!(
            !provider.matches_issuer("127.0.0.1:8080/realms/acme"),
            "plain http must match exactly"
        );
        assert_eq!(
            config.roles[0].trust_policy.federated_principals(),
            ["arn:aws:iam::123456789012:oidc-provider/127.0.0.1:8080/realms/acme"]
        );
    }

    #[test]
    fn a_policy_using_iam_variables_loads_unchanged() {
        let statement = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}"#;
        let text = GOOD.replace(
            r#"{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}"#,
            statement,
        );
        assert!(text.contains("${aws:username}"));
        let config = parse(&text).unwrap();
        let policy = format!("{:?}", config.roles[0].permission_policies[0]);
        assert!(policy.contains("${aws:username}"), "{policy}");
    }

    #[test]
    fn an_unusable_issuer_is_refused_before_it_reaches_the_yaml() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
        for bad in ["not a url", "https://x/\"\nroles: []"] {
            let err = AwsConfig::load_with_issuer(&path, bad).unwrap_err();
            assert_eq!(err.code(), "aws-config/invalid");
            assert!(err.to_string().contains("not an http(s) URL"), "{err}");
        }
    }

    #[test]
    fn a_missing_file_is_aws_config_read() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("absent-aws.yaml");
        let err = AwsConfig::load(&path).unwrap_err();
        assert_eq!(err.code(), "aws-config/read");
        let prefix = format!("cannot read {}: ", path.display());
        assert!(err.to_string().starts_with(&prefix), "{err}");
    }

    #[test]
    fn every_listed_code_is_produced() {
        let produced = [
            AwsConfig::load(Path::new("absent-aws.yaml")).unwrap_err(),
            parse(&GOOD.replace("client_ids:", "client_id:")).unwrap_err(),
            parse(&GOOD.replace("account_id: \"123456789012\"", "account_id: \"12345\""))
                .unwrap_err(),
            parse(&GOOD.replace("\"StringEquals\"", "\"DateLessThan\"")).unwrap_err(),
        ]
        .map(|e| e.code());
        assert_eq!(produced, AwsConfigError::CODES);
    }

    #[test]
    fn yaml_mistakes_name_file_line_and_key() {
        let err = parse(&GOOD.replace("client_ids:", "client_id:")).unwrap_err();
        assert_eq!(err.code(), "aws-config/syntax");
        assert!(err.to_string().starts_with("aws.yaml:5:"), "{err}");
        assert!(
            err.to_string().contains("unknown field `client_id`"),
            "{err}"
        );
        let err = parse(&GOOD.replace("max_session_duration: 7200", "max_session_duration: soon"))
            .unwrap_err();
        assert!(err.to_string().starts_with("aws.yaml:8:"), "{err}");
    }

    #[test]
    fn iam_rules_are_enforced_where_written() {
        let check = |from: &str, to: &str, expected: &str| {
            let err = parse(&GOOD.replace(from, to)).unwrap_err();
            assert!(
                err.to_string().starts_with(expected),
                "{from} -> {to}: {err}"
            );
            err
        };
        check("\"123456789012\"", "\"12345\"", "aws.yaml:1: `account_id`");
        check("us-east-1", "useast1", "aws.yaml:2: `region`");
        let err = check(
            "realms/acme\n",
            "realms/acme/#\n",
            "aws.yaml:4: `oidc_providers[0].url`",
        );
        assert!(err.to_string().contains("INI"), "{err}");
        check(
            "https://idp.example.com/realms/acme\n",
            "http://idp.example.com/realms/acme\n",
            "aws.yaml:4: `oidc_providers[0].url`",
        );
        check(
            "https://idp.example.com/realms/acme\n",
            "https://idp.example.com:8443/realms/acme\n",
            "aws.yaml:4: `oidc_providers[0].url`",
        );
        check(
            "https://idp.example.com/realms/acme\n",
            "https://idp.example.com/realms/acme?x=1\n",
            "aws.yaml:4: `oidc_providers[0].url`",
        );
        check(
            "[acme-app]",
            "[]",
            "aws.yaml:4: `oidc_providers[0].client_ids`",
        );
        check(
            "max_session_duration: 7200",
            "max_session_duration: 900",
            "aws.yaml:8: `roles[0].max_session_duration`",
        );
        check(
            "name: BedrockUser",
            "name: Bedrock User",
            "aws.yaml:7: `roles[0].name`",
        );
        // Lab hosts may use plain http and a port.
        parse(&GOOD.replace(
            "https://idp.example.com/realms/acme\n",
            "http://127.0.0.1:8080/realms/acme\n",
        ))
        .unwrap();
        parse(&GOOD.replace(
            "https://idp.example.com/realms/acme\n",
            "http://localhost:8080/realms/acme\n",
        ))
        .unwrap();
    }

    #[test]
    fn policy_errors_point_into_the_block_scalar() {
        let err = parse(&GOOD.replace("\"StringEquals\"", "\"DateLessThan\"")).unwrap_err();
        assert_eq!(err.code(), "aws-config/policy");
        let text = err.to_string();
        assert!(
            text.starts_with("aws.yaml:16: `roles[0].trust_policy`: line 7 of the policy"),
            "{text}"
        );
        assert!(
            text.contains("unsupported condition operator `DateLessThan`"),
            "{text}"
        );
        let err = parse(&GOOD.replace("\"Resource\": \"*\"", "\"Principal\": \"*\"")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("aws.yaml:21: `roles[0].permission_policies[0]`"),
            "{err}"
        );
        let err = parse(&GOOD.replace(
            "\"Version\": \"2012-10-17\",\n",
            "\"Version\": \"2012-10-17\"\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }

    #[test]
    fn private_hosts() {
        for lab in [
            "http://127.0.0.1:1/x",
            "http://localhost/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://[::1]:8/",
            "http://[fd00::1]/",
            "http://app.localhost/",
        ] {
            assert!(is_private_host(&Url::parse(lab).unwrap()), "{lab}");
        }
        for public in [
            "https://idp.example.com/",
            "https://8.8.8.8/",
            "https://[2001:db8::1]/",
        ] {
            assert!(!is_private_host(&Url::parse(public).unwrap()), "{public}");
        }
    }

    #[test]
    fn the_shipped_fixture_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
        let err = AwsConfig::load(&path).unwrap_err();
        assert_eq!(
            err.code(),
            "aws-config/invalid",
            "the fixture is templated: {err}"
        );
        let config =
            AwsConfig::load_with_issuer(&path, "http://127.0.0.1:8080/realms/acme").unwrap();
        assert!(config.role("BedrockUser").is_some());
        assert_eq!(config.oidc_providers[0].client_ids, ["acme-app"]);
    }
}
