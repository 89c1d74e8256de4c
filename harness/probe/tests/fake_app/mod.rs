//! A web application with an OIDC login, in-process, for the `probe app` tests: `strict`
//! checks everything; `lax` ignores `state`, the RFC 9207 `iss` and the ID token's `nonce`, sends no PKCE, uses a
//! constant state, and gives unmapped users a default role (fails open).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use sha2::{Digest, Sha256};
use ssoproof_rp::{ClientConfig, RelyingParty};
use ssoproof_secret::Secret;
use ssoproof_server::ServerHandle;

#[derive(Default, Clone)]
struct Pending {
    state: String,
    nonce: String,
    verifier: Option<String>,
    signed_in: Option<(String, String)>,
}

struct App {
    strict: bool,
    scope: String,
    rp: RelyingParty,
    client_id: String,
    secret: String,
    redirect_uri: String,
    http: reqwest::Client,
    sessions: Mutex<HashMap<String, Pending>>,
}

pub struct FakeApp {
    pub base: String,
    _server: ServerHandle,
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn sid(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("sid=").map(str::to_string))
}

fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut response = (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response();
    if let Some(cookie) = cookie {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cookie.parse().unwrap());
    }
    response
}

async fn login(State(app): State<Arc<App>>) -> Response {
    let id = random();
    let pending = Pending {
        state: if app.strict { random() } else { "state".into() },
        nonce: random() + &random(),
        verifier: app.strict.then(|| random() + &random()),
        signed_in: None,
    };
    let endpoint = app.rp.discovery()["authorization_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let mut url = url::Url::parse(&endpoint).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", &app.redirect_uri)
        .append_pair("scope", &app.scope)
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce);
    if let Some(verifier) = &pending.verifier {
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        url.query_pairs_mut()
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
    }
    app.sessions.lock().unwrap().insert(id.clone(), pending);
    redirect(url.as_str(), Some(format!("sid={id}; Path=/; HttpOnly")))
}

fn claim_nonce(id_token: &str) -> String {
    let payload = id_token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    claims["nonce"].as_str().unwrap_or_default().to_string()
}

async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let refuse = |why: &str| (StatusCode::UNAUTHORIZED, why.to_string()).into_response();
    let Some(id) = sid(&headers) else {
        return refuse("no session");
    };
    let Some(pending) = app.sessions.lock().unwrap().get(&id).cloned() else {
        return refuse("unknown session");
    };
    if query.contains_key("error") {
        return refuse("the IdP refused");
    }
    if app.strict && query.get("state") != Some(&pending.state) {
        return refuse("state mismatch");
    }
    let discovery = app.rp.discovery();
    let advertised = discovery["authorization_response_iss_parameter_supported"] == true;
    if app.strict
        && advertised
        && query.get("iss").map(String::as_str) != discovery["issuer"].as_str()
    {
        return refuse("iss parameter missing or wrong (RFC 9207)");
    }
    let Some(code) = query.get("code") else {
        return refuse("no code");
    };
    let token_endpoint = app.rp.discovery()["token_endpoint"].as_str().unwrap();
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code.clone()),
        ("redirect_uri", app.redirect_uri.clone()),
        ("client_id", app.client_id.clone()),
        ("client_secret", app.secret.clone()),
    ];
    if let Some(verifier) = &pending.verifier {
        form.push(("code_verifier", verifier.clone()));
    }
    let Ok(answer) = app.http.post(token_endpoint).form(&form).send().await else {
        return refuse("token endpoint unreachable");
    };
    if !answer.status().is_success() {
        return refuse("token request refused");
    }
    let tokens: serde_json::Value = answer.json().await.unwrap_or_default();
    let id_token = tokens["id_token"].as_str().unwrap_or_default().to_string();
    let access_token = Secret::new(tokens["access_token"].as_str().unwrap_or_default());
    let nonce = if app.strict {
        pending.nonce.clone()
    } else {
        claim_nonce(&id_token)
    };
    let claims = match app
        .rp
        .validate_id_token(&Secret::new(id_token), &nonce, Some(&access_token))
        .await
    {
        Ok(claims) => claims,
        Err(_) => return refuse("invalid ID token"),
    };
    let sub = claims["sub"].as_str().unwrap_or_default().to_string();
    if app.strict {
        let userinfo = app.rp.discovery()["userinfo_endpoint"].as_str().unwrap();
        let info: serde_json::Value = match app
            .http
            .get(userinfo)
            .bearer_auth(access_token.expose())
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
            _ => return refuse("userinfo failed"),
        };
        if info["sub"].as_str() != Some(sub.as_str()) {
            return refuse("userinfo names another user");
        }
    }
    // No `groups` (Entra's overage marker replaces it) is no group, not a crash.
    let groups: Vec<String> = claims
        .get("groups")
        .and_then(|g| g.as_array())
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_str().map(str::to_string))
        .collect();
    let role = if groups.iter().any(|g| g.ends_with("admins")) {
        "admin"
    } else if groups.iter().any(|g| g.ends_with("engineers")) {
        "user"
    } else if app.strict {
        return (StatusCode::FORBIDDEN, "no role").into_response();
    } else {
        "viewer"
    };
    if let Some(p) = app.sessions.lock().unwrap().get_mut(&id) {
        p.signed_in = Some((sub, role.to_string()));
    }
    redirect("/", None)
}

async fn whoami(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let signed_in = sid(&headers)
        .and_then(|id| app.sessions.lock().unwrap().get(&id).cloned())
        .and_then(|p| p.signed_in);
    match signed_in {
        Some((sub, role)) => Json(serde_json::json!({"sub": sub, "role": role})).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

impl FakeApp {
    /// Starts the application against `issuer`, as the confidential client `client_id`.
    pub async fn start(strict: bool, issuer: &str, client_id: &str, secret: &str) -> FakeApp {
        FakeApp::with_scope(strict, issuer, client_id, secret, "openid email profile").await
    }

    /// [`FakeApp::start`], asking for `scope`.
    pub async fn with_scope(
        strict: bool,
        issuer: &str,
        client_id: &str,
        secret: &str,
        scope: &str,
    ) -> FakeApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let redirect_uri = format!("{base}/callback");
        let mut config = ClientConfig::new(issuer, client_id, redirect_uri.clone());
        config.client_secret = Some(Secret::new(secret));
        let rp = RelyingParty::discover(config).await.unwrap();
        let app = Arc::new(App {
            strict,
            scope: scope.into(),
            rp,
            client_id: client_id.into(),
            secret: secret.into(),
            redirect_uri,
            http: reqwest::Client::new(),
            sessions: Mutex::default(),
        });
        let router = Router::new()
            .route("/login", get(login))
            .route("/callback", get(callback))
            .route("/", get(|| async { "home" }))
            .route("/whoami", get(whoami))
            .with_state(app);
        let server = ServerHandle::spawn(listener, router).unwrap();
        FakeApp {
            base,
            _server: server,
        }
    }
}
