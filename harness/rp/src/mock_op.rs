//! A compact OpenID Provider for the relying party's tests (the real emulator lives elsewhere).
//!
//! It serves discovery, a JWKS at an unguessable path, an authorization endpoint with a static
//! HTML login form (Keycloak-like, or node-oidc-provider-like with a consent step), a token
//! endpoint that checks client authentication and PKCE and signs ID tokens with keys generated in
//! the test, and userinfo. Every behaviour a certification case needs can be switched through
//! [`Behaviour`], and what happened is recorded in [`Record`].

// Handlers return early with a ready `Response`; boxing it would only add noise to test code.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::id_token::{at_hash, b64url};
use super::{AuthMethod, ClientConfig};
use ssoproof_secret::Secret;

pub const REALM: &str = "/realms/acme";
pub const CLIENT_ID: &str = "acme-app";
/// Characters that must be form-urlencoded before Basic encoding.
pub const CLIENT_SECRET: &str = "s3cr:t/+ é&=";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// A signing key and its public JWK.
#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    /// The public JWK, with `kid` (dropped from the JWKS when `publish_kids` is off).
    pub jwk: Value,
}

impl TestKey {
    pub fn es256(kid: &str) -> TestKey {
        use p256::pkcs8::EncodePrivateKey;
        let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let point = key.verifying_key().to_encoded_point(false);
        TestKey {
            kid: kid.to_string(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(key.to_pkcs8_der().unwrap().as_bytes()),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                "x": b64url(point.x().unwrap()), "y": b64url(point.y().unwrap()),
            }),
        }
    }

    /// RSA keys are slow to make: one per test binary, shared under any kid.
    pub fn rs256(kid: &str) -> TestKey {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;
        static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
        let key = KEY.get_or_init(|| {
            rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation")
        });
        TestKey {
            kid: kid.to_string(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes()),
            jwk: json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": b64url(&key.n().to_bytes_be()), "e": b64url(&key.e().to_bytes_be()),
            }),
        }
    }

    pub fn ed25519(kid: &str) -> TestKey {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        TestKey {
            kid: kid.to_string(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(key.to_pkcs8_der().unwrap().as_bytes()),
            jwk: json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "kid": kid,
                "x": b64url(key.verifying_key().as_bytes()),
            }),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Style {
    /// `kc-form-login` with `username`, `password`, hidden `credentialId`; no consent.
    Keycloak,
    /// A `login` + `password` form, then a consent form with a Continue button.
    NodeOidc,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IssParam {
    Correct,
    Omitted,
    Wrong,
}

#[derive(Clone)]
pub struct User {
    pub username: String,
    pub password: String,
    pub sub: String,
    pub email: String,
    /// `None`: no groups claim at all.
    pub groups: Option<Value>,
}

pub type ClaimsHook = Arc<dyn Fn(&mut Map<String, Value>) + Send + Sync>;
/// Rewrites the signed ID token (given its claims), e.g. to strip or forge the signature.
pub type TokenHook = Arc<dyn Fn(&Map<String, Value>, String) -> String + Send + Sync>;
/// Answers a token request instead of the provider (a hostile token endpoint), given its
/// Authorization header and raw body.
pub type TokenResponder = Arc<dyn Fn(Option<&str>, &str) -> Response + Send + Sync>;

/// What the provider does; tests change it between steps with [`MockOp::set`].
#[derive(Clone)]
pub struct Behaviour {
    pub style: Style,
    pub discovery_issuer: Option<String>,
    pub discovery_extra: Map<String, Value>,
    pub iss_param: IssParam,
    pub state_override: Option<String>,
    /// Redirect back with this error after a successful login.
    pub callback_error: Option<(String, String)>,
    pub auth_method: Option<AuthMethod>,
    pub client_secret: Option<String>,
    pub published: Vec<TestKey>,
    pub publish_kids: bool,
    pub signer: TestKey,
    pub omit_kid: bool,
    pub claims_hook: Option<ClaimsHook>,
    pub refresh_claims_hook: Option<ClaimsHook>,
    pub token_hook: Option<TokenHook>,
    pub userinfo_hook: Option<ClaimsHook>,
    pub refresh_id_token: bool,
    pub rotate_refresh: bool,
    pub jwks_broken: bool,
    pub token_broken: bool,
    pub token_responder: Option<TokenResponder>,
    pub users: Vec<User>,
}

/// The Authorization header and the form of a token request.
pub type TokenRequest = (Option<String>, Vec<(String, String)>);

/// What the provider saw.
#[derive(Clone, Default, Debug)]
pub struct Record {
    /// `authorize`, `login`, `consent`, `token:authorization_code`, `token:refresh_token <rt>`,
    /// `userinfo`, `jwks` — plus whatever tests add through [`MockOp::log`].
    pub events: Vec<String>,
    pub authorize_queries: Vec<HashMap<String, String>>,
    /// Authorization header and form of each token request.
    pub token_requests: Vec<TokenRequest>,
    /// Every token issued (access, refresh, ID), to check none leaks.
    pub issued: Vec<String>,
    pub jwks_fetches: usize,
}

struct GrantData {
    user: usize,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

struct Inner {
    issuer: String,
    jwks_path: String,
    behaviour: Behaviour,
    record: Record,
    /// Session id → (authorize query, user once logged in).
    pending: HashMap<String, (HashMap<String, String>, Option<usize>)>,
    codes: HashMap<String, GrantData>,
    refresh: HashMap<String, GrantData>,
    access: HashMap<String, usize>,
    counter: u64,
}

type Shared = Arc<Mutex<Inner>>;

pub struct MockOp {
    pub issuer: String,
    shared: Shared,
}

pub fn default_users() -> Vec<User> {
    let user = |name: &str, sub: &str, groups: Option<Value>| User {
        username: name.to_string(),
        password: format!("{name}-pw-Secret1"),
        sub: sub.to_string(),
        email: format!("{name}@example.com"),
        groups,
    };
    vec![
        user(
            "alice",
            "11111111-aaaa-4aaa-8aaa-000000000001",
            Some(json!(["/acme/admins"])),
        ),
        user(
            "bob",
            "11111111-aaaa-4aaa-8aaa-000000000002",
            Some(json!(["/acme/engineers"])),
        ),
        user(
            "carol",
            "11111111-aaaa-4aaa-8aaa-000000000003",
            Some(json!(["/acme/engineers", "/acme/admins"])),
        ),
        user(
            "dave",
            "11111111-aaaa-4aaa-8aaa-000000000004",
            Some(json!(["/acme/contractors"])),
        ),
        user("erin", "11111111-aaaa-4aaa-8aaa-000000000005", None),
    ]
}

impl MockOp {
    pub async fn start() -> MockOp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}{REALM}", listener.local_addr().unwrap());
        let key = TestKey::es256("key-1");
        let inner = Inner {
            issuer: issuer.clone(),
            jwks_path: format!("/protocol/certs-{}", uuid::Uuid::new_v4().simple()),
            behaviour: Behaviour {
                style: Style::Keycloak,
                discovery_issuer: None,
                discovery_extra: Map::new(),
                iss_param: IssParam::Correct,
                state_override: None,
                callback_error: None,
                auth_method: Some(AuthMethod::ClientSecretBasic),
                client_secret: Some(CLIENT_SECRET.to_string()),
                published: vec![key.clone()],
                publish_kids: true,
                signer: key,
                omit_kid: false,
                claims_hook: None,
                refresh_claims_hook: None,
                token_hook: None,
                userinfo_hook: None,
                refresh_id_token: true,
                rotate_refresh: true,
                jwks_broken: false,
                token_broken: false,
                token_responder: None,
                users: default_users(),
            },
            record: Record::default(),
            pending: HashMap::new(),
            codes: HashMap::new(),
            refresh: HashMap::new(),
            access: HashMap::new(),
            counter: 0,
        };
        let jwks_path = inner.jwks_path.clone();
        let shared: Shared = Arc::new(Mutex::new(inner));
        let realm = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route(&jwks_path, get(jwks))
            .route("/protocol/auth", get(authorize))
            .route("/login-actions/authenticate", post(keycloak_login))
            .route("/interaction/{sid}/login", post(node_login))
            .route("/interaction/{sid}", get(node_consent_page))
            .route("/interaction/{sid}/confirm", post(node_confirm))
            .route("/protocol/token", post(token))
            .route("/protocol/userinfo", get(userinfo))
            .with_state(shared.clone());
        let app = Router::new().nest(REALM, realm);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockOp { issuer, shared }
    }

    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.shared.lock().unwrap().behaviour);
    }

    pub fn record(&self) -> Record {
        self.shared.lock().unwrap().record.clone()
    }

    /// Adds an event to the record, so tests can interleave their own steps with the OP's.
    pub fn log(&self, event: impl Into<String>) {
        self.shared.lock().unwrap().record.events.push(event.into());
    }

    pub fn user(&self, name: &str) -> User {
        let inner = self.shared.lock().unwrap();
        inner
            .behaviour
            .users
            .iter()
            .find(|u| u.username == name)
            .cloned()
            .unwrap()
    }

    pub fn password(&self, name: &str) -> Secret {
        Secret::new(self.user(name).password)
    }

    /// The configuration a correct relying party uses against this provider.
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(&self.issuer, CLIENT_ID, REDIRECT_URI);
        config.client_secret = Some(Secret::new(CLIENT_SECRET));
        config.role_mappings = vec![
            (
                "/acme/admins".to_string(),
                config.roles.role("admin").unwrap(),
            ),
            (
                "/acme/engineers".to_string(),
                config.roles.role("user").unwrap(),
            ),
        ];
        config.timeout = std::time::Duration::from_secs(5);
        config
    }

    pub fn jwks_url(&self) -> String {
        let inner = self.shared.lock().unwrap();
        format!("{}{}", inner.issuer, inner.jwks_path)
    }
}

fn now() -> i64 {
    super::id_token::now()
}

fn html_page(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

fn redirect(status: StatusCode, location: &str) -> Response {
    (status, [(header::LOCATION, location.to_string())]).into_response()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("MOCK_SESSION=").map(str::to_string))
}

async fn discovery(State(shared): State<Shared>) -> Response {
    let inner = shared.lock().unwrap();
    let b = &inner.behaviour;
    let issuer = &inner.issuer;
    let mut doc = json!({
        "issuer": b.discovery_issuer.clone().unwrap_or_else(|| issuer.clone()),
        "authorization_endpoint": format!("{issuer}/protocol/auth"),
        "token_endpoint": format!("{issuer}/protocol/token"),
        "userinfo_endpoint": format!("{issuer}/protocol/userinfo"),
        "jwks_uri": format!("{issuer}{}", inner.jwks_path),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    });
    for (k, v) in &b.discovery_extra {
        doc[k] = v.clone();
    }
    json_response(StatusCode::OK, doc)
}

async fn jwks(State(shared): State<Shared>) -> Response {
    let mut inner = shared.lock().unwrap();
    inner.record.jwks_fetches += 1;
    inner.record.events.push("jwks".to_string());
    let b = &inner.behaviour;
    if b.jwks_broken {
        return html_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "<h1>upstream down</h1>".into(),
        );
    }
    let keys: Vec<Value> = b
        .published
        .iter()
        .map(|k| {
            let mut jwk = k.jwk.clone();
            if !b.publish_kids {
                jwk.as_object_mut().unwrap().remove("kid");
            }
            jwk
        })
        .collect();
    json_response(StatusCode::OK, json!({ "keys": keys }))
}

fn keycloak_login_page(issuer: &str, sid: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| {
            format!(
                r#"<div class="alert-error pf-c-alert pf-m-inline pf-m-danger"><span class="kc-feedback-text">{e}</span></div>
<span id="input-error" class="pf-c-form__helper-text pf-m-error required kc-feedback-text" aria-live="polite">{e}</span>"#
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html><html><head><title>Sign in to acme</title></head><body>
<div id="kc-header"><div id="kc-header-wrapper">ACME</div></div>
<form id="kc-locale" action="{issuer}/locale" method="get"><input type="hidden" name="kc_locale" value="en"><button type="submit">English</button></form>
<h1 id="kc-page-title">Sign in to your account</h1>
{error}
<form id="kc-form-login" onsubmit="login.disabled = true; return true;" action="{issuer}/login-actions/authenticate?session_code={sid}&amp;execution=e-1&amp;client_id={CLIENT_ID}&amp;tab_id=t-1" method="post">
<input tabindex="1" id="username" name="username" value="" type="text" autofocus autocomplete="off" aria-invalid="">
<input tabindex="2" id="password" name="password" type="password" autocomplete="off" aria-invalid="">
<input tabindex="3" id="rememberMe" name="rememberMe" type="checkbox">
<input type="hidden" id="id-hidden-input" name="credentialId" value="">
<input tabindex="4" name="login" id="kc-login" type="submit" value="Sign In">
</form></body></html>"#
    )
}

fn node_login_page(sid: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{e}</p>"#))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html><html><head><title>Sign-in</title></head><body><div class="login-card"><h1>Sign-in</h1>{error}
<form autocomplete="off" action="../interaction/{sid}/login" method="post">
<input required type="text" name="login" placeholder="Enter any login" autofocus="on">
<input required type="password" name="password" placeholder="and password">
<button type="submit" class="login login-submit">Sign-in</button></form>
<div class="login-help"><a href="../interaction/{sid}/abort">[ Cancel ]</a></div></div></body></html>"#
    )
}

async fn authorize(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = shared.lock().unwrap();
    inner.record.events.push("authorize".to_string());
    inner.record.authorize_queries.push(query.clone());
    if query.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return html_page(
            StatusCode::BAD_REQUEST,
            "<html><head><title>Sign in to acme</title></head><body><h1 id=\"kc-page-title\">We are sorry...</h1><div id=\"kc-error-message\"><p class=\"instruction\">Client not found.</p></div></body></html>".into(),
        );
    }
    if query.get("redirect_uri").map(String::as_str) != Some(REDIRECT_URI) {
        return html_page(
            StatusCode::BAD_REQUEST,
            "<html><head><title>Sign in to acme</title></head><body><h1 id=\"kc-page-title\">We are sorry...</h1><div id=\"kc-error-message\"><p class=\"instruction\">Invalid parameter: redirect_uri</p></div></body></html>".into(),
        );
    }
    if query.get("code_challenge_method").map(String::as_str) != Some("S256") {
        let state = query.get("state").cloned().unwrap_or_default();
        return redirect(
            StatusCode::FOUND,
            &format!("{REDIRECT_URI}?error=invalid_request&error_description=Missing+parameter%3A+code_challenge_method&state={state}"),
        );
    }
    inner.counter += 1;
    let sid = format!("sid-{}-{}", inner.counter, uuid::Uuid::new_v4().simple());
    inner.pending.insert(sid.clone(), (query, None));
    let page = match inner.behaviour.style {
        Style::Keycloak => keycloak_login_page(&inner.issuer, &sid, None),
        Style::NodeOidc => node_login_page(&sid, None),
    };
    // Like Keycloak >= 24: Secure and SameSite=None even over http. Browsers (and the cookie
    // jar) still send it to loopback hosts, which count as secure contexts.
    (
        [(
            header::SET_COOKIE,
            format!("MOCK_SESSION={sid}; Path={REALM}/; Secure; HttpOnly; SameSite=None"),
        )],
        Html(page),
    )
        .into_response()
}

/// Checks the session cookie and credentials; `Ok(user index)` or the response to send.
fn check_login(
    inner: &mut Inner,
    sid: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
    username_field: &str,
) -> Result<usize, Response> {
    inner.record.events.push("login".to_string());
    if cookie(headers).as_deref() != Some(sid) || !inner.pending.contains_key(sid) {
        return Err(html_page(
            StatusCode::BAD_REQUEST,
            "<html><head><title>Sign in to acme</title></head><body><h1>We are sorry...</h1><p id=\"kc-error-message\">Cookie not found. Please make sure cookies are enabled in your browser.</p></body></html>".into(),
        ));
    }
    let username = field(form, username_field).unwrap_or_default();
    let password = field(form, "password").unwrap_or_default();
    let found = inner
        .behaviour
        .users
        .iter()
        .position(|u| u.username == username && u.password == password);
    found.ok_or_else(|| {
        let page = match inner.behaviour.style {
            Style::Keycloak => {
                keycloak_login_page(&inner.issuer, sid, Some("Invalid username or password."))
            }
            Style::NodeOidc => node_login_page(sid, Some("Invalid login or password.")),
        };
        html_page(StatusCode::OK, page)
    })
}

/// The redirect back to the client after a successful login (and consent).
fn finish(inner: &mut Inner, sid: &str, user: usize) -> Response {
    let (query, _) = inner.pending.remove(sid).unwrap();
    let b = inner.behaviour.clone();
    let state = b
        .state_override
        .clone()
        .or_else(|| query.get("state").cloned())
        .unwrap_or_default();
    let mut url = url::Url::parse(REDIRECT_URI).unwrap();
    {
        let mut pairs = url.query_pairs_mut();
        if let Some((error, description)) = &b.callback_error {
            pairs.append_pair("error", error);
            pairs.append_pair("error_description", description);
        } else {
            let code = format!("code-{}", uuid::Uuid::new_v4().simple());
            inner.codes.insert(
                code.clone(),
                GrantData {
                    user,
                    nonce: query.get("nonce").cloned().unwrap_or_default(),
                    challenge: query.get("code_challenge").cloned().unwrap_or_default(),
                    redirect_uri: query.get("redirect_uri").cloned().unwrap_or_default(),
                },
            );
            pairs.append_pair("code", &code);
        }
        pairs.append_pair("state", &state);
        pairs.append_pair("session_state", "ss-1");
        match b.iss_param {
            IssParam::Correct => {
                pairs.append_pair("iss", &inner.issuer);
            }
            IssParam::Wrong => {
                pairs.append_pair("iss", "https://attacker.example/realms/acme");
            }
            IssParam::Omitted => {}
        }
    }
    redirect(StatusCode::FOUND, url.as_str())
}

async fn keycloak_login(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = shared.lock().unwrap();
    let form = form_pairs(&body);
    let sid = query.get("session_code").cloned().unwrap_or_default();
    // A real browser runs the form's `onsubmit`, which disables the button, so its name and
    // value are not sent; the scraper does send them (its own unit test checks that).
    if field(&form, "credentialId").is_none()
        || field(&form, "login").is_some_and(|v| v != "Sign In")
    {
        return html_page(
            StatusCode::BAD_REQUEST,
            "<title>hidden fields lost</title>".into(),
        );
    }
    match check_login(&mut inner, &sid, &headers, &form, "username") {
        Ok(user) => finish(&mut inner, &sid, user),
        Err(response) => response,
    }
}

async fn node_login(
    State(shared): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = shared.lock().unwrap();
    let form = form_pairs(&body);
    match check_login(&mut inner, &sid, &headers, &form, "login") {
        Ok(user) => {
            inner.pending.get_mut(&sid).unwrap().1 = Some(user);
            redirect(StatusCode::SEE_OTHER, &format!("{REALM}/interaction/{sid}"))
        }
        Err(response) => response,
    }
}

async fn node_consent_page(Path(sid): Path<String>) -> Response {
    html_page(
        StatusCode::OK,
        format!(
            r#"<!DOCTYPE html><html><head><title>Authorize</title></head><body><div class="login-card"><h1>Authorize</h1>
<ul><li>scopes: openid, email, profile</li></ul>
<form autocomplete="off" action="/realms/acme/interaction/{sid}/confirm" method="post">
<input type="hidden" name="prompt" value="consent"/>
<button autofocus type="submit" class="login login-submit">Continue</button></form>
<div class="login-help"><a href="/realms/acme/interaction/{sid}/abort">[ Cancel ]</a></div></div></body></html>"#
        ),
    )
}

async fn node_confirm(
    State(shared): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = shared.lock().unwrap();
    inner.record.events.push("consent".to_string());
    let form = form_pairs(&body);
    let user = inner.pending.get(&sid).and_then(|(_, u)| *u);
    match user {
        Some(user)
            if field(&form, "prompt") == Some("consent")
                && cookie(&headers).as_deref() == Some(&sid) =>
        {
            finish(&mut inner, &sid, user)
        }
        _ => html_page(
            StatusCode::BAD_REQUEST,
            "<title>interaction expired</title>".into(),
        ),
    }
}

fn client_authenticated(
    b: &Behaviour,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<(), Response> {
    let unauthorized =
        |why: &str| Err(oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", why));
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    match (&b.client_secret, b.auth_method) {
        (None, _) => {
            if basic.is_some() || field(form, "client_secret").is_some() {
                return unauthorized("public client sent a secret");
            }
            if field(form, "client_id") != Some(CLIENT_ID) {
                return unauthorized("client_id missing");
            }
        }
        (Some(secret), Some(AuthMethod::ClientSecretBasic)) => {
            let Some(basic) = basic else {
                return unauthorized("expected client_secret_basic");
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(basic)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            let (id, pw) = decoded.split_once(':').unwrap_or_default();
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            if decode(id) != CLIENT_ID || decode(pw) != *secret {
                return unauthorized("Invalid client or Invalid client credentials");
            }
        }
        (Some(secret), _) => {
            if field(form, "client_id") != Some(CLIENT_ID)
                || field(form, "client_secret") != Some(secret.as_str())
            {
                return unauthorized("Invalid client or Invalid client credentials");
            }
        }
    }
    Ok(())
}

fn sign_id_token(
    inner: &Inner,
    user: &User,
    nonce: Option<&str>,
    access_token: &str,
    hook: Option<&ClaimsHook>,
) -> String {
    let b = &inner.behaviour;
    let now = now();
    let mut claims = json!({
        "iss": inner.issuer, "sub": user.sub, "aud": CLIENT_ID, "exp": now + 300, "iat": now,
        "auth_time": now, "email": user.email, "email_verified": true,
        "preferred_username": user.username,
        "at_hash": at_hash(access_token, b.signer.alg),
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    if let Some(groups) = &user.groups {
        claims["groups"] = groups.clone();
    }
    let mut claims = claims.as_object().unwrap().clone();
    if let Some(hook) = hook {
        hook(&mut claims);
    }
    let mut header = Header::new(b.signer.alg);
    header.typ = Some("JWT".to_string());
    header.kid = (!b.omit_kid).then(|| b.signer.kid.clone());
    let token = jsonwebtoken::encode(&header, &claims, &b.signer.encoding).unwrap();
    match &b.token_hook {
        Some(hook) => hook(&claims, token),
        None => token,
    }
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = shared.lock().unwrap();
    let form = form_pairs(&body);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    inner
        .record
        .token_requests
        .push((authorization, form.clone()));
    let grant_type = field(&form, "grant_type").unwrap_or_default().to_string();
    let event = match grant_type.as_str() {
        "refresh_token" => format!(
            "token:refresh_token {}",
            field(&form, "refresh_token").unwrap_or_default()
        ),
        other => format!("token:{other}"),
    };
    inner.record.events.push(event);
    if let Some(respond) = &inner.behaviour.token_responder {
        return respond(
            inner
                .record
                .token_requests
                .last()
                .and_then(|(a, _)| a.as_deref()),
            &String::from_utf8_lossy(&body),
        );
    }
    if inner.behaviour.token_broken {
        return html_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<html><body><h1>Internal Server Error</h1></body></html>".into(),
        );
    }
    if let Err(response) = client_authenticated(&inner.behaviour, &headers, &form) {
        return response;
    }
    let grant = match grant_type.as_str() {
        "authorization_code" => {
            let code = field(&form, "code").unwrap_or_default();
            let Some(grant) = inner.codes.remove(code) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Code not valid");
            };
            let verifier = field(&form, "code_verifier").unwrap_or_default();
            if !(43..=128).contains(&verifier.len())
                || b64url(&Sha256::digest(verifier.as_bytes())) != grant.challenge
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "PKCE verification failed",
                );
            }
            if field(&form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Incorrect redirect_uri",
                );
            }
            grant
        }
        "refresh_token" => {
            let token = field(&form, "refresh_token")
                .unwrap_or_default()
                .to_string();
            let rotate = inner.behaviour.rotate_refresh;
            let grant = if rotate {
                inner.refresh.remove(&token)
            } else {
                inner.refresh.get(&token).map(|g| GrantData {
                    user: g.user,
                    nonce: g.nonce.clone(),
                    challenge: String::new(),
                    redirect_uri: String::new(),
                })
            };
            let Some(grant) = grant else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid refresh token",
                );
            };
            grant
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "?"),
    };
    let user = inner.behaviour.users[grant.user].clone();
    let access_token = format!("at-{}", uuid::Uuid::new_v4().simple());
    inner.access.insert(access_token.clone(), grant.user);
    let refreshing = grant_type == "refresh_token";
    let refresh_token = if refreshing && !inner.behaviour.rotate_refresh {
        None
    } else {
        let rt = format!("rt-{}", uuid::Uuid::new_v4().simple());
        Some(rt)
    };
    let id_token = if refreshing && !inner.behaviour.refresh_id_token {
        None
    } else {
        let hook = if refreshing {
            inner.behaviour.refresh_claims_hook.clone()
        } else {
            inner.behaviour.claims_hook.clone()
        };
        Some(sign_id_token(
            &inner,
            &user,
            Some(&grant.nonce),
            &access_token,
            hook.as_ref(),
        ))
    };
    let mut body = json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 300});
    if let Some(rt) = &refresh_token {
        body["refresh_token"] = json!(rt);
        inner.refresh.insert(
            rt.clone(),
            GrantData {
                user: grant.user,
                nonce: grant.nonce.clone(),
                challenge: String::new(),
                redirect_uri: String::new(),
            },
        );
    }
    if let Some(id) = &id_token {
        body["id_token"] = json!(id);
    }
    let issued = [Some(access_token), refresh_token, id_token];
    inner.record.issued.extend(issued.into_iter().flatten());
    json_response(StatusCode::OK, body)
}

async fn userinfo(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut inner = shared.lock().unwrap();
    inner.record.events.push("userinfo".to_string());
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Some(&user) = inner.access.get(bearer) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Token verification failed",
        );
    };
    let user = inner.behaviour.users[user].clone();
    let mut claims = json!({
        "sub": user.sub, "email": user.email, "email_verified": true,
        "name": format!("{} Example", user.username), "preferred_username": user.username,
    })
    .as_object()
    .unwrap()
    .clone();
    if let Some(hook) = &inner.behaviour.userinfo_hook {
        hook(&mut claims);
    }
    json_response(StatusCode::OK, Value::Object(claims))
}
