//! Identity brokering, as Keycloak does it for an identity provider of type `google` (or
//! `oidc`): the login page's "Sign in with" link (or `kc_idp_hint=<alias>`) sends the browser
//! to the upstream IdP; the upstream sends it back to `/realms/<realm>/broker/<alias>/endpoint`
//! with a code; Keycloak exchanges the code, validates the upstream ID token (signature, issuer,
//! audience, nonce, and Google's `hd` against `hostedDomain`), finds the user linked to the
//! upstream `sub` or creates one (Keycloak's own UUID, `defaultGroups`, and the
//! `oidc-hardcoded-group-idp-mapper` groups), and resumes the original authorization request,
//! so the application receives Keycloak's `sub` and groups, never the upstream's.
//!
//! The first broker login stops at Keycloak's "Account already exists" page when a local user
//! already has the upstream e-mail address: linking is the user's decision, never silent.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value};

use super::login::{encode, finish};
use super::params::Params;
use super::responses::found;
use crate::pages;
use crate::realm::{FederatedIdentity, IdentityProvider, Realm, User, HARDCODED_GROUP_MAPPER};
use crate::state::{now, random_token, PendingLogin, Shared, Stage};

/// What Keycloak shows for any failure of the upstream leg.
const UNEXPECTED: &str = "Unexpected error when authenticating with identity provider";
const LOGIN_EXPIRED: &str = "An error occurred, please login again through your application.";

/// Sends a pending login to the broker's own login step for `alias` (`kc_idp_hint`).
pub(crate) fn hand_over(
    shared: &Shared,
    realm: &Realm,
    login: PendingLogin,
    alias: &str,
) -> Response {
    let client_id = login.request.client_id.clone();
    let tab_id = login.tab_id.clone();
    let code = shared
        .store()
        .put_login(login, now(), realm.tokens.access_code_lifespan_login);
    let location = format!(
        "/realms/{}/broker/{alias}/login?{}",
        realm.name,
        encode(&[
            ("client_id", &client_id),
            ("tab_id", &tab_id),
            ("session_code", &code),
        ])
    );
    found(&location)
        .unwrap_or_else(|| pages::error(StatusCode::BAD_REQUEST, realm.title(), UNEXPECTED))
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a plain HTTP client builds")
}

/// The upstream's discovery document.
async fn discover(issuer: &str) -> Result<Map<String, Value>, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let response = http()
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let document: Value = response.json().await.map_err(|e| format!("{url}: {e}"))?;
    match document {
        Value::Object(map) if map.get("issuer").and_then(Value::as_str) == Some(issuer) => Ok(map),
        other => Err(format!("{url} does not describe {issuer}: {other}")),
    }
}

fn endpoint<'a>(document: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    document
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the upstream discovery document has no `{key}`"))
}

/// The upstream issuer of an identity provider: its `issuer` config, else the one the emulator
/// was started with.
fn upstream_issuer(shared: &Shared, provider: &IdentityProvider) -> Option<String> {
    provider.issuer.clone().or_else(|| {
        shared
            .options
            .upstreams
            .iter()
            .find(|(alias, _)| *alias == provider.alias)
            .map(|(_, issuer)| issuer.clone())
    })
}

fn broker_redirect_uri(shared: &Shared, realm: &str, alias: &str) -> String {
    format!("{}/realms/{realm}/broker/{alias}/endpoint", shared.base_url)
}

/// `GET /realms/<realm>/broker/<alias>/login`: the "Sign in with" link.
pub(crate) async fn login(
    State(shared): State<Arc<Shared>>,
    Path(alias): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Params::query(query.as_deref());
    let (title, realm_name, lifespan, provider) = {
        let realm = shared.realm();
        (
            realm.title().to_string(),
            realm.name.clone(),
            realm.tokens.access_code_lifespan_login,
            realm.identity_provider(&alias).cloned(),
        )
    };
    let error = |message: String| pages::error(StatusCode::BAD_REQUEST, &title, &message);
    let Some(login) = query
        .get("session_code")
        .and_then(|code| shared.store().take_login(code, now(), lifespan))
    else {
        return error(LOGIN_EXPIRED.into());
    };
    if login.stage != Stage::Credentials
        || query.get("client_id") != Some(login.request.client_id.as_str())
        || query.get("tab_id") != Some(login.tab_id.as_str())
    {
        return error(LOGIN_EXPIRED.into());
    }
    let Some(provider) = provider.filter(|p| p.enabled) else {
        return error(format!(
            "Could not find an identity provider with the alias {alias}."
        ));
    };
    let Some(issuer) = upstream_issuer(&shared, &provider) else {
        return error(format!(
            "{UNEXPECTED}: the emulator was started without the upstream IdP of \"{alias}\" (give it with IdpOptions::upstreams)"
        ));
    };
    let document = match discover(&issuer).await {
        Ok(document) => document,
        Err(problem) => return error(format!("{UNEXPECTED}: {problem}")),
    };
    let authorize = match endpoint(&document, "authorization_endpoint") {
        Ok(url) => url.to_string(),
        Err(problem) => return error(format!("{UNEXPECTED}: {problem}")),
    };
    let nonce = random_token(16);
    let pending = PendingLogin {
        stage: Stage::Brokering {
            alias: alias.clone(),
            nonce: nonce.clone(),
        },
        ..login
    };
    let state = shared.store().put_login(pending, now(), lifespan);
    let mut url = match url::Url::parse(&authorize) {
        Ok(url) => url,
        Err(e) => return error(format!("{UNEXPECTED}: {e}")),
    };
    url.query_pairs_mut()
        .append_pair("scope", &provider.default_scope)
        .append_pair("state", &state)
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair(
            "redirect_uri",
            &broker_redirect_uri(&shared, &realm_name, &alias),
        )
        .append_pair("nonce", &nonce);
    if let Some(hd) = &provider.hosted_domain {
        url.query_pairs_mut().append_pair("hd", hd);
    }
    found(url.as_str()).unwrap_or_else(|| error(UNEXPECTED.into()))
}

/// `GET`/`POST /realms/<realm>/broker/<alias>/endpoint`: the upstream's answer.
pub(crate) async fn endpoint_get(
    State(shared): State<Arc<Shared>>,
    Path(alias): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(shared, alias, Params::query(query.as_deref())).await
}

pub(crate) async fn endpoint_post(
    State(shared): State<Arc<Shared>>,
    Path(alias): Path<String>,
    body: Bytes,
) -> Response {
    answer(shared, alias, Params::parse(&body)).await
}

async fn answer(shared: Arc<Shared>, alias: String, params: Params) -> Response {
    let (title, realm_name, lifespan, provider) = {
        let realm = shared.realm();
        (
            realm.title().to_string(),
            realm.name.clone(),
            realm.tokens.access_code_lifespan_login,
            realm.identity_provider(&alias).cloned(),
        )
    };
    let error = |message: String| pages::error(StatusCode::BAD_GATEWAY, &title, &message);
    let Some(login) = params
        .get("state")
        .and_then(|state| shared.store().take_login(state, now(), lifespan))
    else {
        return pages::error(StatusCode::BAD_REQUEST, &title, LOGIN_EXPIRED);
    };
    let Stage::Brokering {
        alias: expected,
        nonce,
    } = login.stage.clone()
    else {
        return pages::error(StatusCode::BAD_REQUEST, &title, LOGIN_EXPIRED);
    };
    let Some(provider) = provider.filter(|_| expected == alias) else {
        return pages::error(StatusCode::BAD_REQUEST, &title, LOGIN_EXPIRED);
    };
    if let Some(upstream_error) = params.get("error") {
        return error(format!(
            "{UNEXPECTED}: the identity provider answered `{upstream_error}`"
        ));
    }
    let Some(code) = params.get("code") else {
        return error(format!("{UNEXPECTED}: no code"));
    };
    let claims = match exchange(&shared, &realm_name, &provider, code, &nonce).await {
        Ok(claims) => claims,
        Err(problem) => return error(format!("{UNEXPECTED}: {problem}")),
    };
    if let Some(domain) = &provider.hosted_domain {
        let hd = claims.get("hd").and_then(Value::as_str);
        if !(domain == "*" && hd.is_some() || hd == Some(domain.as_str())) {
            return error(format!(
                "{UNEXPECTED}: the ID token's hosted domain is {}, not {domain}",
                hd.map_or("absent".to_string(), |h| format!("\"{h}\""))
            ));
        }
    }
    let user_id = match link_or_create(&shared, &provider, &claims) {
        Ok(user_id) => user_id,
        Err(Outcome::AccountExists(email)) => {
            let action = format!(
                "/realms/{realm_name}/login-actions/first-broker-login?{}",
                encode(&[
                    ("client_id", &login.request.client_id),
                    ("tab_id", &login.tab_id)
                ])
            );
            return pages::account_exists(&title, &action, "email", &email);
        }
        Err(Outcome::Invalid(problem)) => return error(format!("{UNEXPECTED}: {problem}")),
    };
    let realm = shared.realm();
    let Some(client) = realm.client(&login.request.client_id) else {
        return pages::error(StatusCode::BAD_REQUEST, &title, LOGIN_EXPIRED);
    };
    finish(&shared, &realm, client, login, &user_id, now())
}

/// Exchanges the upstream code and validates the upstream ID token; its claims.
async fn exchange(
    shared: &Shared,
    realm: &str,
    provider: &IdentityProvider,
    code: &str,
    nonce: &str,
) -> Result<Map<String, Value>, String> {
    let issuer = upstream_issuer(shared, provider).ok_or("no upstream issuer")?;
    let document = discover(&issuer).await?;
    let token_endpoint = endpoint(&document, "token_endpoint")?;
    let jwks_uri = endpoint(&document, "jwks_uri")?;
    let redirect_uri = broker_redirect_uri(shared, realm, &provider.alias);
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code.to_string()),
        ("redirect_uri", redirect_uri),
        ("client_id", provider.client_id.clone()),
    ];
    if let Some(secret) = &provider.client_secret {
        form.push(("client_secret", secret.expose().to_string()));
    }
    let response = http()
        .post(token_endpoint)
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("the code exchange failed: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("the token response is not JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!("the token endpoint answered {status}: {body}"));
    }
    let id_token = body
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or("the token response has no id_token")?;
    let header = jsonwebtoken::decode_header(id_token).map_err(|e| e.to_string())?;
    let jwks: JwkSet = http()
        .get(jwks_uri)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let jwk = header
        .kid
        .as_deref()
        .and_then(|kid| jwks.find(kid))
        .ok_or("the ID token's key is not in the upstream JWKS")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[&provider.client_id]);
    validation.set_issuer(&[&issuer]);
    let claims = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation)
        .map_err(|e| format!("the upstream ID token is invalid: {e}"))?
        .claims;
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err("the upstream ID token's nonce is not the one sent".into());
    }
    Ok(claims)
}

enum Outcome {
    /// A local user already has this e-mail address.
    AccountExists(String),
    Invalid(String),
}

/// The realm user linked to the upstream `sub`, updated by FORCE mappers; or a new one.
fn link_or_create(
    shared: &Shared,
    provider: &IdentityProvider,
    claims: &Map<String, Value>,
) -> Result<String, Outcome> {
    let text = |key: &str| claims.get(key).and_then(Value::as_str).map(str::to_string);
    let sub =
        text("sub").ok_or_else(|| Outcome::Invalid("the upstream ID token has no sub".into()))?;
    let email = text("email").map(|e| e.to_lowercase());
    let mut realm = shared.realm_mut();
    let mapped: Vec<(String, String)> = provider
        .mappers
        .iter()
        .filter(|m| m.mapper_type == HARDCODED_GROUP_MAPPER)
        .filter_map(|m| {
            let group = m.config.get("group")?;
            Some((
                format!("/{}", group.trim_matches('/')),
                m.sync_mode(provider).to_string(),
            ))
        })
        .collect();
    if let Some(user) = realm.users.iter_mut().find(|u| {
        u.federated_identities
            .iter()
            .any(|f| f.identity_provider == provider.alias && f.user_id == sub)
    }) {
        // Later logins: only FORCE (and LEGACY) mappers apply again.
        for (group, mode) in &mapped {
            if mode != "IMPORT" && !user.groups.contains(group) {
                user.groups.push(group.clone());
            }
        }
        return Ok(user.id.clone());
    }
    if let Some(email) = &email {
        if realm
            .users
            .iter()
            .any(|u| u.email.as_deref() == Some(email.as_str()))
        {
            return Err(Outcome::AccountExists(email.clone()));
        }
    }
    let username = email
        .clone()
        .or_else(|| text("preferred_username"))
        .unwrap_or_else(|| format!("{}.{sub}", provider.alias))
        .to_lowercase();
    if realm.user(&username).is_some() {
        return Err(Outcome::AccountExists(username));
    }
    let mut groups = realm.default_groups.clone();
    for (group, _) in &mapped {
        if !groups.contains(group) {
            groups.push(group.clone());
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    realm.users.push(User {
        id: id.clone(),
        username: username.clone(),
        enabled: true,
        email,
        email_verified: claims.get("email_verified") == Some(&Value::Bool(true)),
        first_name: text("given_name"),
        last_name: text("family_name"),
        password: None,
        groups,
        realm_roles: Vec::new(),
        attributes: Default::default(),
        federated_identities: vec![FederatedIdentity {
            identity_provider: provider.alias.clone(),
            user_id: sub,
            user_name: username,
        }],
    });
    Ok(id)
}
