//! The clouds a scenario federates into: the emulated AWS account and Google Cloud organisation
//! of `fixtures/cloud/`, trusting the scenario's IdP. Each is read when a `Given` step first
//! names it, may then be changed the way a runbook mistake would change it (edits go through the
//! YAML, so the changed file passes the same loader and checks as the shipped one), and is
//! started when a step first calls it.

use std::path::{Path, PathBuf};

use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

use ssoproof_cloud as cloud;
use ssoproof_cloud::aws::{
    AssumedRole, AwsCallError, AwsClient, AwsConfig, AwsEmulator, AwsOptions, Credentials, Mode,
    StreamEvent,
};
use ssoproof_cloud::gcp::{
    self, AccessToken, GcpConfig, GcpEmulator, GcpOptions, StsError, VertexError,
};
use ssoproof_cloud::placeholders::{self, GOOGLE_ISSUER};
use ssoproof_cloud::test_issuer::TestIssuer;
use ssoproof_secret::Secret;
use ssoproof_server::tls::LocalCa;

/// The AWS account the runbook sets up, relative to the project root.
pub const AWS_ACCOUNT: &str = "fixtures/cloud/aws.yaml";
/// The Google Cloud organisation the runbook sets up, relative to the project root.
pub const GCP_ORGANISATION: &str = "fixtures/cloud/gcp.yaml";

/// The clouds of one scenario, and what they last said.
#[derive(Default)]
pub struct Clouds {
    pub aws: Option<AwsLab>,
    pub gcp: Option<GcpLab>,
    /// Why the last cloud setup was refused (`[code] message`), when it was.
    pub setup_refusal: Option<String>,
    /// The message of the last refusal any cloud call met, for `the refusal says …`.
    pub last_refusal: Option<String>,
}

/// A cloud file read with the IdP's issuer filled in, as editable YAML.
fn read_file(root: &Path, file: &str, variables: &[(&str, String)]) -> Result<Yaml, String> {
    let path = root.join(file);
    let text = ssoproof_config::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = placeholders::substitute(&text, variables)
        .map_err(|e| format!("{}:{}: `{}`: {e}", path.display(), e.line, e.key()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The file text the loader reads back after the scenario's edits.
fn write_yaml(file: &Yaml) -> Result<String, String> {
    serde_yaml_ng::to_string(file).map_err(|e| format!("cannot write the edited YAML: {e}"))
}

/// The item of the list `list` whose `key` is `value`.
fn item_mut<'a>(
    file: &'a mut Yaml,
    list: &str,
    key: &str,
    value: &str,
) -> Result<&'a mut Yaml, String> {
    file.get_mut(list)
        .and_then(Yaml::as_sequence_mut)
        .and_then(|items| {
            items
                .iter_mut()
                .find(|i| i.get(key).and_then(Yaml::as_str) == Some(value))
        })
        .ok_or_else(|| format!("no `{list}` entry with {key} `{value}`"))
}

/// Sets `key` of a mapping.
pub fn set(mapping: &mut Yaml, key: &str, value: Yaml) -> Result<(), String> {
    mapping
        .as_mapping_mut()
        .map(|m| {
            m.insert(Yaml::String(key.to_string()), value);
        })
        .ok_or_else(|| format!("cannot set `{key}`: not a mapping"))
}

/// Certificates the clouds must trust to reach the scenario's IdP.
pub fn roots_from_pem(pem: Option<&str>) -> Result<Vec<reqwest::Certificate>, String> {
    match pem {
        None => Ok(Vec::new()),
        Some(pem) => reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| format!("the IdP's CA certificate is unusable: {e}")),
    }
}

/// The emulated AWS account of one scenario.
pub struct AwsLab {
    /// `fixtures/cloud/aws.yaml` with the IdP's issuer filled in; edited before the start.
    pub account: Yaml,
    pub mode: Mode,
    path: PathBuf,
    /// Trusts the IdP's CA, for STS's key fetches.
    fetch: reqwest::Client,
    emulator: Option<AwsEmulator>,
    pub client: AwsClient,
    /// `DurationSeconds` the application asks for; the service default (3600) when `None`.
    pub duration_seconds: Option<u32>,
    /// The last `AssumeRoleWithWebIdentity`.
    pub assumed: Option<Result<AssumedRole, AwsCallError>>,
    /// Credentials the user holds from an earlier sign-in (the offboarding scenarios).
    pub held: Option<Credentials>,
    /// The last Bedrock call.
    pub bedrock: Option<Result<Value, AwsCallError>>,
    /// The last streaming Bedrock call: the operation and its events.
    pub stream: Option<(StreamOperation, Result<Vec<StreamEvent>, AwsCallError>)>,
}

/// Bedrock's two streaming operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOperation {
    ConverseStream,
    InvokeModelWithResponseStream,
}

impl AwsLab {
    /// The runbook's account, trusting `issuer`; STS trusts `roots` besides the public ones.
    pub fn read(
        root: &Path,
        issuer: &str,
        roots: &[reqwest::Certificate],
    ) -> Result<AwsLab, String> {
        Ok(AwsLab {
            account: read_file(root, AWS_ACCOUNT, &placeholders::idp_issuer(issuer))?,
            mode: Mode::Lab,
            path: root.join(AWS_ACCOUNT),
            fetch: cloud::fetch_client(roots),
            emulator: None,
            client: AwsClient::new(),
            duration_seconds: None,
            assumed: None,
            held: None,
            bedrock: None,
            stream: None,
        })
    }

    /// The running emulator, started from the (edited) account on first use. A refusal is the
    /// loader's, `[code] message`.
    pub async fn emulator(&mut self) -> Result<&AwsEmulator, String> {
        if self.emulator.is_none() {
            let text = write_yaml(&self.account)?;
            let config = AwsConfig::parse::<&str>(&text, &self.path, &[])
                .map_err(|e| format!("[{}] {e}", e.code()))?;
            let options = AwsOptions {
                mode: self.mode,
                http: self.fetch.clone(),
                ..AwsOptions::default()
            };
            let started = AwsEmulator::start(config, options)
                .await
                .map_err(|e| format!("the AWS emulator does not start: {e}"))?;
            self.emulator = Some(started);
        }
        self.emulator
            .as_ref()
            .ok_or_else(|| "the AWS emulator is not running".into())
    }

    pub fn role_mut(&mut self, name: &str) -> Result<&mut Yaml, String> {
        item_mut(&mut self.account, "roles", "name", name)
    }

    /// The first IAM OIDC provider: the one trusting the IdP.
    pub fn provider_mut(&mut self) -> Result<&mut Yaml, String> {
        self.account
            .get_mut("oidc_providers")
            .and_then(|p| p.get_mut(0))
            .ok_or_else(|| "the account registers no OIDC provider".into())
    }

    /// Changes each statement of a role's trust policy (JSON inside the YAML, as pasted into
    /// the IAM console).
    pub fn edit_trust_policy(
        &mut self,
        role: &str,
        mut edit: impl FnMut(&mut serde_json::Map<String, Value>),
    ) -> Result<(), String> {
        let role = self.role_mut(role)?;
        let text = role
            .get("trust_policy")
            .and_then(Yaml::as_str)
            .ok_or("the role has no trust policy")?;
        let mut policy: Value =
            serde_json::from_str(text).map_err(|e| format!("the trust policy is not JSON: {e}"))?;
        let statements = match &mut policy["Statement"] {
            Value::Array(items) => items.iter_mut().collect::<Vec<_>>(),
            single => vec![single],
        };
        for statement in statements {
            if let Value::Object(statement) = statement {
                edit(statement);
            }
        }
        set(role, "trust_policy", Yaml::String(policy.to_string()))
    }

    /// The account id the file declares.
    pub fn account_id(&self) -> String {
        self.account
            .get("account_id")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

/// The emulated Google Cloud organisation of one scenario.
pub struct GcpLab {
    /// `fixtures/cloud/gcp.yaml` with the issuers filled in; edited before the start.
    pub organisation: Yaml,
    path: PathBuf,
    /// Signs the emulated Google accounts' OAuth tokens, over HTTPS with a CA of its own.
    pub google: TestIssuer,
    /// Trusts the IdP's CA and the Google issuer's: for the emulator's key fetches and for the
    /// scenario's own calls.
    pub http: reqwest::Client,
    emulator: Option<GcpEmulator>,
    /// The last STS token exchange.
    pub exchange: Option<Result<AccessToken, StsError>>,
    /// What the user calls Vertex with: a federated access token or a Google account's token.
    pub bearer: Option<Secret>,
    /// The last Vertex call.
    pub vertex: Option<Result<Value, VertexError>>,
}

/// Where the emulated Google accounts' issuer lives (the real one is accounts.google.com).
const GOOGLE_PATH: &str = "/google";

impl GcpLab {
    /// The runbook's organisation, its workforce provider trusting `issuer`.
    pub async fn read(
        root: &Path,
        issuer: &str,
        idp_roots: &[reqwest::Certificate],
    ) -> Result<GcpLab, String> {
        let google_ca = LocalCa::generate().map_err(|e| e.to_string())?;
        let google = TestIssuer::start_https(&google_ca, GOOGLE_PATH)
            .await
            .map_err(|e| format!("the Google accounts issuer does not start: {e}"))?;
        let mut roots = idp_roots.to_vec();
        roots.push(google_ca.root_certificate().map_err(|e| e.to_string())?);
        let mut variables = placeholders::idp_issuer(issuer).to_vec();
        variables.push((GOOGLE_ISSUER, google.issuer().to_string()));
        Ok(GcpLab {
            organisation: read_file(root, GCP_ORGANISATION, &variables)?,
            path: root.join(GCP_ORGANISATION),
            google,
            http: cloud::fetch_client(&roots),
            emulator: None,
            exchange: None,
            bearer: None,
            vertex: None,
        })
    }

    /// The running emulator, started from the (edited) organisation on first use. A refusal
    /// is the loader's, `[code] message`.
    pub async fn emulator(&mut self) -> Result<&GcpEmulator, String> {
        if self.emulator.is_none() {
            let text = write_yaml(&self.organisation)?;
            let config = GcpConfig::parse::<&str>(&text, &self.path, &[])
                .map_err(|e| format!("[{}] {e}", e.code()))?;
            let options = GcpOptions {
                http: self.http.clone(),
                ..GcpOptions::default()
            };
            let started = GcpEmulator::start(config, options)
                .await
                .map_err(|e| format!("the Google Cloud emulator does not start: {e}"))?;
            self.emulator = Some(started);
        }
        self.emulator
            .as_ref()
            .ok_or_else(|| "the Google Cloud emulator is not running".into())
    }

    /// The first workforce pool's first provider: the one trusting the IdP.
    pub fn provider_mut(&mut self) -> Result<&mut Yaml, String> {
        self.organisation
            .get_mut("workforce_pools")
            .and_then(|p| p.get_mut(0))
            .and_then(|p| p.get_mut("providers"))
            .and_then(|p| p.get_mut(0))
            .ok_or_else(|| "the organisation has no workforce provider".into())
    }

    /// The STS `audience` of the provider the IdP is trusted by.
    pub fn audience(&self) -> Result<String, String> {
        let pool = self
            .organisation
            .get("workforce_pools")
            .and_then(|p| p.get(0));
        let provider = pool.and_then(|p| p.get("providers")).and_then(|p| p.get(0));
        match (
            pool.and_then(|p| p.get("id")).and_then(Yaml::as_str),
            provider.and_then(|p| p.get("id")).and_then(Yaml::as_str),
        ) {
            (Some(pool), Some(provider)) => Ok(gcp::provider_audience(pool, provider)),
            _ => Err("the organisation has no workforce provider".into()),
        }
    }
}
