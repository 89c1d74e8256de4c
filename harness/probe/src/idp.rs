//! The IdP a probe works with: an emulator it starts in this process, or a running
//! `ssoproof serve idp` it drives through the admin API. Either way the application under test
//! must already trust the issuer, so the probe prints it and never picks a port on its own
//! when the user named one.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use ssoproof_idp::{
    Emulator, Fault, IdpOptions, MintRequest, Minted, Realm, SamlFault, SigningAlg,
};
use url::Url;

use crate::error::ProbeError;

/// An emulator this process starts.
pub struct LocalIdp {
    emulator: Emulator,
    vendor: String,
}

/// What realm or persona a local emulator serves, and where.
pub struct LocalOptions {
    pub realm: Realm,
    /// `127.0.0.1:0` picks a free port; the application under test usually needs a fixed one.
    pub bind: SocketAddr,
    pub signing: SigningAlg,
}

/// A running `ssoproof serve idp`, driven over its admin API (loopback only, as the admin API
/// itself requires).
pub struct RemoteIdp {
    base: Url,
    issuer: String,
    client: reqwest::Client,
}

/// The IdP of a probe run.
pub enum Idp {
    Local(Box<LocalIdp>),
    Remote(RemoteIdp),
}

/// How long one admin or JWKS request may take: the emulator is local, so a slow answer means
/// something is wrong, not busy.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);

impl Idp {
    /// Starts an emulator serving `options.realm` on `options.bind`.
    pub async fn start(options: LocalOptions) -> Result<Idp, ProbeError> {
        let emulator = Emulator::start(
            options.realm,
            IdpOptions {
                bind: options.bind,
                signing: options.signing,
                ..IdpOptions::default()
            },
        )
        .await
        .map_err(|e| ProbeError::Idp {
            code: e.code(),
            message: e.to_string(),
        })?;
        Ok(Idp::from_emulator(emulator))
    }

    /// Wraps an emulator already started.
    pub fn from_emulator(emulator: Emulator) -> Idp {
        let vendor = match emulator.vendor() {
            Some(vendor) => vendor.as_str().to_string(),
            None => "keycloak".to_string(),
        };
        Idp::Local(Box::new(LocalIdp { emulator, vendor }))
    }

    /// Attaches to a running `ssoproof serve idp` at `base` (`http://127.0.0.1:8180`).
    pub async fn attach(base: &Url) -> Result<Idp, ProbeError> {
        let client = http_client()?;
        let remote = RemoteIdp {
            base: base.clone(),
            issuer: String::new(),
            client,
        };
        let state: Value = remote.admin(reqwest::Method::GET, "state", None).await?;
        let issuer = state["issuer"]
            .as_str()
            .ok_or_else(|| ProbeError::Admin {
                hop: remote.url("state"),
                message: "the answer has no `issuer`; is this an ssoproof emulator?".into(),
            })?
            .to_string();
        Ok(Idp::Remote(RemoteIdp { issuer, ..remote }))
    }

    pub fn issuer(&self) -> String {
        match self {
            Idp::Local(local) => local.emulator.issuer(),
            Idp::Remote(remote) => remote.issuer.clone(),
        }
    }

    /// `keycloak`, `okta`, …; `remote` for an attached emulator (its admin API does not say).
    pub fn vendor(&self) -> String {
        match self {
            Idp::Local(local) => local.vendor.clone(),
            Idp::Remote(_) => "remote".into(),
        }
    }

    /// The realm's first user, as stored (`alice` in the built-in realm, `alice@example.com` in
    /// the Okta persona); unknown for an attached emulator.
    pub fn first_user(&self) -> Option<String> {
        self.local()?.usernames().into_iter().next()
    }

    /// The emulator in this process, for what only it can do (start a second one alongside).
    pub fn local(&self) -> Option<&Emulator> {
        match self {
            Idp::Local(local) => Some(&local.emulator),
            Idp::Remote(_) => None,
        }
    }

    pub async fn mint(&self, mint: &MintRequest) -> Result<Minted, ProbeError> {
        match self {
            Idp::Local(local) => mint_local(&local.emulator, mint),
            Idp::Remote(remote) => {
                let body = serde_json::to_value(mint).map_err(|e| ProbeError::Mint {
                    message: e.to_string(),
                })?;
                remote
                    .admin(reqwest::Method::POST, "tokens", Some(body))
                    .await
            }
        }
    }

    /// Publishes a new signing key and makes it current; returns its `kid`.
    pub async fn rotate_keys(&self) -> Result<String, ProbeError> {
        match self {
            Idp::Local(local) => Ok(local.emulator.rotate_keys()),
            Idp::Remote(remote) => {
                let answer: Value = remote
                    .admin(reqwest::Method::POST, "keys/rotate", None)
                    .await?;
                Ok(answer["kid"].as_str().unwrap_or_default().to_string())
            }
        }
    }

    pub async fn inject(&self, fault: Fault) -> Result<(), ProbeError> {
        match self {
            Idp::Local(local) => {
                local.emulator.inject(fault);
                Ok(())
            }
            Idp::Remote(remote) => {
                let body = serde_json::to_value(&fault).map_err(|e| ProbeError::Admin {
                    hop: remote.url("faults"),
                    message: e.to_string(),
                })?;
                remote
                    .admin_no_content(reqwest::Method::POST, "faults", Some(body))
                    .await
            }
        }
    }

    /// Activates a SAML fault (`POST /_ssoproof/saml/faults` on an attached emulator).
    pub async fn inject_saml(&self, fault: SamlFault) -> Result<(), ProbeError> {
        match self {
            Idp::Local(local) => {
                local.emulator.inject_saml(fault);
                Ok(())
            }
            Idp::Remote(remote) => {
                let body = serde_json::to_value(fault).map_err(|e| ProbeError::Admin {
                    hop: remote.url("saml/faults"),
                    message: e.to_string(),
                })?;
                remote
                    .admin_no_content(reqwest::Method::POST, "saml/faults", Some(body))
                    .await
            }
        }
    }

    pub async fn clear_saml_faults(&self) -> Result<(), ProbeError> {
        match self {
            Idp::Local(local) => {
                local.emulator.clear_saml_faults();
                Ok(())
            }
            Idp::Remote(remote) => {
                remote
                    .admin_no_content(reqwest::Method::DELETE, "saml/faults", None)
                    .await
            }
        }
    }

    pub async fn clear_faults(&self) -> Result<(), ProbeError> {
        match self {
            Idp::Local(local) => {
                local.emulator.clear_faults();
                Ok(())
            }
            Idp::Remote(remote) => {
                remote
                    .admin_no_content(reqwest::Method::DELETE, "faults", None)
                    .await
            }
        }
    }

    /// The issuer's published keys (its JWKS, found through discovery).
    pub async fn jwks(&self) -> Result<Value, ProbeError> {
        let client = http_client()?;
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            self.issuer().trim_end_matches('/')
        );
        let doc: Value = get_json(&client, &discovery).await?;
        let jwks_uri = doc["jwks_uri"].as_str().ok_or_else(|| ProbeError::Jwks {
            hop: discovery.clone(),
            message: "discovery has no `jwks_uri`".into(),
        })?;
        get_json(&client, jwks_uri).await
    }
}

fn mint_local(emulator: &Emulator, mint: &MintRequest) -> Result<Minted, ProbeError> {
    emulator.mint(mint).map_err(|e| ProbeError::Mint {
        message: format!("[{}] {e}", e.code()),
    })
}

pub(crate) fn http_client() -> Result<reqwest::Client, ProbeError> {
    reqwest::Client::builder()
        .timeout(ADMIN_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ProbeError::Http {
            message: e.to_string(),
        })
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, ProbeError> {
    let error = |message: String| ProbeError::Jwks {
        hop: format!("GET {url}"),
        message,
    };
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| error(e.to_string()))?;
    if !response.status().is_success() {
        return Err(error(format!("answered {}", response.status())));
    }
    response.json().await.map_err(|e| error(e.to_string()))
}

impl RemoteIdp {
    fn url(&self, path: &str) -> String {
        format!(
            "{}/_ssoproof/{path}",
            self.base.as_str().trim_end_matches('/')
        )
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<reqwest::Response, ProbeError> {
        let url = self.url(path);
        let hop = format!("{method} {url}");
        let mut request = self.client.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| ProbeError::Admin {
            hop: hop.clone(),
            message: format!("{e}; is `ssoproof serve idp` running there?"),
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Err(ProbeError::Admin {
            hop,
            message: format!("answered {status}: {}", shorten(&text, 300)),
        })
    }

    async fn admin<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, ProbeError> {
        let hop = format!("{method} {}", self.url(path));
        self.send(method, path, body)
            .await?
            .json()
            .await
            .map_err(|e| ProbeError::Admin {
                hop,
                message: format!("the answer is not the expected JSON: {e}"),
            })
    }

    async fn admin_no_content(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(), ProbeError> {
        self.send(method, path, body).await.map(drop)
    }
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
