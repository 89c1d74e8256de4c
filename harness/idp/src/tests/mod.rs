//! The emulator over real HTTP: a browser and a relying party written with reqwest, driving the
//! fixture realm (`fixtures/keycloak-realm.json`).

mod access_faults;
mod admin;
mod audience;
mod authorize;
mod client_credentials;
mod directory;
mod faults;
mod flow;
mod m2m;
mod mint;
mod persona_saml;
mod personas;
mod robustness;
mod saml;

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Emulator, IdpOptions, Realm};

pub(super) const REDIRECT: &str = "http://127.0.0.1/callback";

pub(super) fn fixture_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/keycloak-realm.json"
    ))
    .unwrap()
}

pub(super) fn fixture() -> Realm {
    Realm::from_keycloak_json(&fixture_text(), std::path::Path::new("keycloak-realm.json")).unwrap()
}

pub(super) async fn start() -> Emulator {
    start_with(IdpOptions::default()).await
}

pub(super) async fn start_with(options: IdpOptions) -> Emulator {
    Emulator::start(fixture(), options).await.unwrap()
}

/// A client that does not follow redirects, keeps no cookies and ignores proxy settings.
pub(super) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// An RFC 7636 verifier and its S256 challenge.
pub(super) fn pkce() -> (String, String) {
    let verifier = format!("verifier-{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The query (or fragment) parameters of a `Location`.
pub(super) fn location_params(response: &reqwest::Response) -> HashMap<String, String> {
    let location = response.headers()[LOCATION].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    let pairs = match url.fragment() {
        Some(fragment) => url::form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect(),
        None => url.query_pairs().into_owned().collect(),
    };
    pairs
}

pub(super) fn form_action(html: &str, form_id: &str) -> String {
    let document = Html::parse_document(html);
    let selector = Selector::parse(&format!("form#{form_id}")).unwrap();
    document
        .select(&selector)
        .next()
        .unwrap_or_else(|| panic!("no form#{form_id} in {html}"))
        .value()
        .attr("action")
        .unwrap()
        .to_string()
}

pub(super) fn text_of(html: &str, selector: &str) -> Option<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(selector).unwrap();
    document
        .select(&selector)
        .next()
        .map(|e| e.text().collect::<String>())
}

/// One login through the browser flow.
pub(super) struct Login<'a> {
    pub emulator: &'a Emulator,
    pub http: reqwest::Client,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub extra: Vec<(&'a str, String)>,
    pub verifier: Option<String>,
}

impl<'a> Login<'a> {
    /// A login for `acme-app` with S256 PKCE, a state and a nonce.
    pub fn new(emulator: &'a Emulator) -> Login<'a> {
        Login::for_client(emulator, "acme-app", REDIRECT)
    }

    pub fn for_client(
        emulator: &'a Emulator,
        client_id: &'a str,
        redirect_uri: &'a str,
    ) -> Login<'a> {
        let (verifier, challenge) = pkce();
        Login {
            emulator,
            http: http(),
            client_id,
            redirect_uri,
            extra: vec![
                ("scope", "openid".into()),
                ("state", "st-1".into()),
                ("nonce", "n-1".into()),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256".into()),
            ],
            verifier: Some(verifier),
        }
    }

    pub fn param(mut self, key: &'a str, value: &str) -> Self {
        self.extra.retain(|(k, _)| *k != key);
        self.extra.push((key, value.to_string()));
        self
    }

    pub fn without(mut self, key: &str) -> Self {
        self.extra.retain(|(k, _)| *k != key);
        self
    }

    pub async fn authorize(&self) -> reqwest::Response {
        let mut query: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.to_string()),
            ("redirect_uri", self.redirect_uri.to_string()),
            ("response_type", "code".into()),
        ];
        query.retain(|(k, _)| !self.extra.iter().any(|(e, _)| e == k));
        query.extend(self.extra.iter().cloned());
        self.http
            .get(format!(
                "{}/protocol/openid-connect/auth",
                self.emulator.issuer()
            ))
            .query(&query)
            .send()
            .await
            .unwrap()
    }

    /// Posts credentials to the form on `page`.
    pub async fn submit(&self, page: &str, username: &str, password: &str) -> reqwest::Response {
        let action = form_action(page, "kc-form-login");
        self.http
            .post(format!("{}{action}", self.emulator.base_url()))
            .form(&[
                ("username", username),
                ("password", password),
                ("credentialId", ""),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Authorizes and logs in; returns the redirect back to the client.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        let page = self.authorize().await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.unwrap();
        self.submit(&page, username, password).await
    }

    /// Logs in and returns the code.
    pub async fn code(&self, username: &str) -> String {
        let redirect = self.login(username, &format!("{username}-password")).await;
        assert_eq!(redirect.status(), StatusCode::FOUND);
        location_params(&redirect)["code"].clone()
    }

    /// Exchanges a code with `client_secret_basic` (confidential) or `client_id` (public).
    pub async fn exchange(&self, code: &str) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.to_string()),
            ("redirect_uri", self.redirect_uri.to_string()),
        ];
        if let Some(verifier) = &self.verifier {
            form.push(("code_verifier", verifier.clone()));
        }
        let request = self.http.post(format!(
            "{}/protocol/openid-connect/token",
            self.emulator.issuer()
        ));
        let request = match secret_of(self.client_id) {
            Some(secret) => request.basic_auth(self.client_id, Some(secret)),
            None => {
                form.push(("client_id", self.client_id.to_string()));
                request
            }
        };
        request.form(&form).send().await.unwrap()
    }

    /// The whole flow: the token response's JSON.
    pub async fn tokens(&self, username: &str) -> Value {
        let code = self.code(username).await;
        let response = self.exchange(&code).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

pub(super) fn secret_of(client_id: &str) -> Option<&'static str> {
    match client_id {
        "acme-app" => Some("acme-app-secret"),
        "acme-consent" => Some("acme-consent-secret"),
        "api-gateway" => Some("api-gateway-secret"),
        _ => None,
    }
}

/// The header and claims of a JWT, decoded without verification.
pub(super) fn decode(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || {
        let bytes = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    (part(), part())
}

pub(super) async fn jwks(emulator: &Emulator) -> JwkSet {
    http()
        .get(format!(
            "{}/protocol/openid-connect/certs",
            emulator.issuer()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Verifies a token's signature against the JWKS, by its `kid`, and nothing else (the fault
/// tests break the claims on purpose); the claims on success.
pub(super) async fn verify(emulator: &Emulator, token: &str) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let jwks = jwks(emulator).await;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks.find(&kid).ok_or("unknown kid")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}
