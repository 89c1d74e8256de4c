//! The login form's target (`/login-actions/authenticate`), the consent form's
//! (`/login-actions/consent`), and the redirect that ends a login with a code.
//!
//! As in Keycloak, the form's parameters (`session_code`, `execution`, `client_id`, `tab_id`)
//! travel in the query and the credentials in the body, and each `session_code` is good for one
//! submission: a wrong password re-renders the form under a fresh one. The password is checked
//! before the account's state, so a disabled account is revealed only to someone who knows its
//! password. No single-sign-on cookie is set: every authorization request shows the form.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::iss_parameter;
use super::params::Params;
use super::responses::AuthResponse;
use crate::pages;
use crate::realm::{Client, Realm};
use crate::state::{now, NewSession, PendingLogin, ResponseMode, Shared, Stage};

const INVALID_CREDENTIALS: &str = "Invalid username or password.";
const ACCOUNT_DISABLED: &str = "Account is disabled, contact your administrator.";
/// What Keycloak shows when the login form it served is no longer usable.
const LOGIN_EXPIRED: &str = "An error occurred, please login again through your application.";

pub(crate) fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Files the login and renders the form that posts back to it.
pub(crate) fn show_login(
    shared: &Shared,
    realm: &Realm,
    login: PendingLogin,
    username: &str,
    error: Option<&str>,
) -> Response {
    let request = &login.request;
    // Keycloak's restart hint: the redirect URI, response type, mode and state, never trusted.
    let mut client_data = serde_json::json!({"ru": request.redirect_uri, "rt": "code"});
    if request.response_mode != ResponseMode::Query {
        let mode = match request.response_mode {
            ResponseMode::Fragment => "fragment",
            _ => "form_post",
        };
        client_data["rm"] = mode.into();
    }
    if let Some(state) = &request.state {
        client_data["st"] = state.as_str().into();
    }
    let client_data = URL_SAFE_NO_PAD.encode(client_data.to_string());
    let client_id = request.client_id.clone();
    let saml = request.saml.is_some();
    let tab_id = login.tab_id.clone();
    let session_code =
        shared
            .store()
            .put_login(login, now(), realm.tokens.access_code_lifespan_login);
    let action = format!(
        "/realms/{}/login-actions/authenticate?{}",
        realm.name,
        encode(&[
            ("session_code", &session_code),
            ("execution", &shared.execution),
            ("client_id", &client_id),
            ("tab_id", &tab_id),
            ("client_data", &client_data),
        ])
    );
    // Brokering ends in an OpenID Connect code, so a SAML login is not offered it.
    let providers: Vec<(String, String, String)> = realm
        .identity_providers
        .iter()
        .filter(|p| p.enabled && !saml)
        .map(|p| {
            let href = format!(
                "/realms/{}/broker/{}/login?{}",
                realm.name,
                p.alias,
                encode(&[
                    ("client_id", &client_id),
                    ("tab_id", &tab_id),
                    ("session_code", &session_code),
                ])
            );
            let label = p
                .display_name
                .clone()
                .unwrap_or_else(|| match p.provider_id.as_str() {
                    "google" => "Google".to_string(),
                    _ => p.alias.clone(),
                });
            (p.alias.clone(), label, href)
        })
        .collect();
    pages::login(realm.title(), &action, username, error, &providers)
}

/// `POST` (and, as in Keycloak, `GET`) `/login-actions/authenticate`.
pub(crate) async fn authenticate(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    submit_credentials(
        &shared,
        &Params::query(query.as_deref()),
        &Params::parse(&body),
    )
}

fn submit_credentials(shared: &Shared, query: &Params, form: &Params) -> Response {
    let realm = shared.realm();
    let expired = || pages::error(StatusCode::BAD_REQUEST, realm.title(), LOGIN_EXPIRED);
    let now = now();
    let lifespan = realm.tokens.access_code_lifespan_login;
    let Some(login) = query
        .get("session_code")
        .and_then(|code| shared.store().take_login(code, now, lifespan))
    else {
        return expired();
    };
    let request = &login.request;
    if login.stage != Stage::Credentials
        || query.get("execution") != Some(shared.execution.as_str())
        || query.get("client_id") != Some(request.client_id.as_str())
        || query.get("tab_id") != Some(login.tab_id.as_str())
    {
        return expired();
    }
    // A SAML login's client is a SAML client; the password check is the same.
    let client = realm.client(&request.client_id);
    let saml = request.saml.is_some() && realm.saml_client(&request.client_id).is_some();
    if client.is_none() && !saml {
        return expired();
    }
    let username = form.get("username").unwrap_or("");
    let password = form.get("password").unwrap_or("");
    let user = realm.login_user(username).filter(|user| {
        user.password
            .as_ref()
            .is_some_and(|p| p.expose() == password)
    });
    match user {
        None => show_login(shared, &realm, login, username, Some(INVALID_CREDENTIALS)),
        Some(user) if !user.enabled => {
            show_login(shared, &realm, login, username, Some(ACCOUNT_DISABLED))
        }
        Some(user) if saml => crate::saml::finish(shared, &realm, &login, user),
        Some(user) => {
            let Some(client) = client else {
                return expired();
            };
            let user_id = user.id.clone();
            if client.consent_required && !shared.store().has_consent(&user_id, &client.client_id) {
                ask_consent(shared, &realm, client, login, user_id, now)
            } else {
                finish(shared, &realm, client, login, &user_id, now)
            }
        }
    }
}

fn ask_consent(
    shared: &Shared,
    realm: &Realm,
    client: &Client,
    login: PendingLogin,
    user_id: String,
    auth_time: i64,
) -> Response {
    let scopes = login.request.scopes.clone();
    let tab_id = login.tab_id.clone();
    let login = PendingLogin {
        stage: Stage::Consent { user_id, auth_time },
        ..login
    };
    let code = shared
        .store()
        .put_login(login, now(), realm.tokens.access_code_lifespan_login);
    let action = format!(
        "/realms/{}/login-actions/consent?{}",
        realm.name,
        encode(&[("client_id", &client.client_id), ("tab_id", &tab_id)])
    );
    let name = client.name.as_deref().unwrap_or(&client.client_id);
    pages::consent(realm.title(), name, &scopes, &action, &code)
}

/// `POST /login-actions/consent`: `accept` grants (and remembers) consent, `cancel` refuses.
pub(crate) async fn consent(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    answer_consent(&shared, &Params::parse(&body))
}

fn answer_consent(shared: &Shared, form: &Params) -> Response {
    let realm = shared.realm();
    let lifespan = realm.tokens.access_code_lifespan_login;
    let login = form
        .get("code")
        .and_then(|code| shared.store().take_login(code, now(), lifespan));
    let expired = || pages::error(StatusCode::BAD_REQUEST, realm.title(), LOGIN_EXPIRED);
    let Some(login) = login else {
        return expired();
    };
    let Stage::Consent { user_id, auth_time } = login.stage.clone() else {
        return expired();
    };
    let Some(client) = realm.client(&login.request.client_id) else {
        return expired();
    };
    if form.get("accept").is_some() {
        shared.store().grant_consent(&user_id, &client.client_id);
        return finish(shared, &realm, client, login, &user_id, auth_time);
    }
    let request = &login.request;
    AuthResponse::error(
        &request.redirect_uri,
        request.response_mode,
        "access_denied",
        None,
        request.state.as_deref(),
        iss_parameter(shared, client).as_deref(),
    )
    .send(realm.title())
}

/// Starts the user session and sends the browser back with a code.
pub(crate) fn finish(
    shared: &Shared,
    realm: &Realm,
    client: &Client,
    login: PendingLogin,
    user_id: &str,
    auth_time: i64,
) -> Response {
    let now = now();
    let request = login.request;
    let session_id = login.session_id;
    // Keycloak's code shape: a random id, the session id and the client's internal id.
    let code = format!("{}.{session_id}.{}", uuid::Uuid::new_v4(), client.id);
    let mut store = shared.store();
    store.start_session(
        NewSession {
            session_id: &session_id,
            user_id,
            auth_time: Some(auth_time),
            client_id: &client.client_id,
            scopes: &request.scopes,
        },
        now,
        &realm.tokens,
    );
    store.issue_code(
        code.clone(),
        request.clone(),
        user_id,
        &session_id,
        now,
        realm.tokens.access_code_lifespan,
    );
    drop(store);
    let mut params = Vec::new();
    if let Some(state) = &request.state {
        params.push(("state", state.clone()));
    }
    if !client.attribute_is_true("exclude.session.state.from.auth.response") {
        params.push(("session_state", session_id));
    }
    if let Some(iss) = iss_parameter(shared, client) {
        params.push(("iss", iss));
    }
    params.push(("code", code));
    AuthResponse {
        redirect_uri: &request.redirect_uri,
        mode: request.response_mode,
        params,
    }
    .send(realm.title())
}
