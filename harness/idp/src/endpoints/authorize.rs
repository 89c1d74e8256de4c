//! The authorization endpoint, `GET` (parameters in the query) or `POST` (parameters in the
//! body) `/protocol/openid-connect/auth`.
//!
//! The checks run in Keycloak's order. The client and the redirect URI come first, and their
//! failures are an error page, never a redirect: until the redirect URI is known to be the
//! client's, sending the browser there would hand an attacker the answer. Every later failure is
//! redirected to the client: `response_type`, `response_mode`, the standard flow, a repeated
//! parameter, `scope`, PKCE, `prompt=none`. A request that passes gets the login form.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::iss_parameter;
use super::login::show_login;
use super::params::Params;
use super::pkce;
use super::responses::AuthResponse;
use crate::pages;
use crate::realm::OPENID;
use crate::redirect;
use crate::state::{now, random_token, AuthRequest, PendingLogin, ResponseMode, Shared, Stage};

pub(crate) async fn get(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    authorize(&shared, &Params::query(query.as_deref()))
}

pub(crate) async fn post(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    authorize(&shared, &Params::parse(&body))
}

const IMPLICIT_DISABLED: &str = "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client.";
const STANDARD_DISABLED: &str = "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.";

fn authorize(shared: &Shared, params: &Params) -> Response {
    let realm = shared.realm();
    let title = realm.title();
    // A repeated client_id resolves no client in Keycloak.
    let client = params
        .get("client_id")
        .filter(|_| params.count("client_id") == 1)
        .and_then(|id| realm.client(id));
    let Some(client) = client else {
        return pages::error(StatusCode::BAD_REQUEST, title, "Client not found.");
    };
    if !client.enabled {
        return pages::error(StatusCode::BAD_REQUEST, title, "Client disabled.");
    }
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) if redirect::matches(&client.redirect_uris, uri) => uri,
        _ => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                title,
                "Invalid parameter: redirect_uri",
            )
        }
    };
    let state = params.get("state");
    let iss = iss_parameter(shared, client);
    let reply = |mode: ResponseMode, error: &str, description: Option<&str>| {
        AuthResponse::error(
            redirect_uri,
            mode,
            error,
            description,
            state,
            iss.as_deref(),
        )
        .send(title)
    };

    let Some(response_type) = params.get("response_type") else {
        return reply(
            ResponseMode::Query,
            "invalid_request",
            Some("Missing parameter: response_type"),
        );
    };
    let words: Vec<&str> = response_type.split(' ').collect();
    if !words.iter().all(|w| *w == "code") {
        let implicit = words
            .iter()
            .all(|w| matches!(*w, "code" | "token" | "id_token"));
        return if implicit {
            reply(
                ResponseMode::Fragment,
                "unauthorized_client",
                Some(IMPLICIT_DISABLED),
            )
        } else {
            reply(ResponseMode::Query, "unsupported_response_type", None)
        };
    }
    let mode = match params.get("response_mode") {
        None | Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => {
            return reply(
                ResponseMode::Query,
                "invalid_request",
                Some("Invalid parameter: response_mode"),
            )
        }
    };
    if !client.standard_flow_enabled {
        return reply(mode, "unauthorized_client", Some(STANDARD_DISABLED));
    }
    if params.has_duplicates() {
        return reply(mode, "invalid_request", Some("duplicated parameter"));
    }
    let raw_scope = params.get("scope").unwrap_or("");
    let requested: Vec<&str> = raw_scope.split(' ').filter(|s| !s.is_empty()).collect();
    // Keycloak would serve a plain OAuth request without `openid`; the emulator is an OpenID
    // provider only.
    if !requested.contains(&OPENID) || requested.iter().any(|s| !client.allows_scope(s)) {
        return reply(
            mode,
            "invalid_scope",
            Some(&format!("Invalid scopes: {raw_scope}")),
        );
    }
    let code_challenge = match pkce::check_request(
        client,
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        Ok(challenge) => challenge,
        Err(description) => return reply(mode, "invalid_request", Some(&description)),
    };
    // No single sign-on session ever exists, so a silent login can never succeed.
    if params
        .get("prompt")
        .is_some_and(|p| p.split(' ').any(|p| p == "none"))
    {
        return reply(mode, "login_required", None);
    }

    let login = PendingLogin {
        request: AuthRequest {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.to_string(),
            response_mode: mode,
            state: state.map(str::to_string),
            nonce: params.get("nonce").map(str::to_string),
            scopes: realm.granted_scopes(client, &requested),
            code_challenge,
            server: 0,
            params: params
                .get("kc_idp_hint")
                .map(|hint| ("kc_idp_hint".to_string(), hint.to_string()))
                .into_iter()
                .collect(),
            saml: None,
        },
        // Keycloak decides the session id when it serves the login page.
        session_id: random_token(18),
        tab_id: random_token(8),
        created: now(),
        stage: Stage::Credentials,
    };
    // `kc_idp_hint` names an identity provider: skip the login form and go there.
    let hint = login.request.params.get("kc_idp_hint").cloned();
    if let Some(alias) = hint.filter(|a| realm.identity_provider(a).is_some_and(|p| p.enabled)) {
        return super::broker::hand_over(shared, &realm, login, &alias);
    }
    show_login(shared, &realm, login, "", None)
}
