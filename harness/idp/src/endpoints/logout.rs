//! RP-initiated logout, `GET` (query) or `POST` (body) `/protocol/openid-connect/logout`, and
//! Keycloak's back-channel variant (a `POST` carrying a `refresh_token` and client credentials).
//!
//! An `id_token_hint` must be an ID token this emulator issued (an expired one is fine, as in
//! Keycloak) and it ends that token's session, so the session's refresh tokens stop working
//! ("Session not active"). A `post_logout_redirect_uri` must be one the client may return to
//! (its redirect URIs, or its `post.logout.redirect.uris`); otherwise, and for a bad hint, the
//! answer is an error page and nothing is ended. Without a target the "You are logged out" page
//! is shown.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_auth;
use super::params::Params;
use super::responses::{found, oauth_error};
use crate::pages;
use crate::redirect;
use crate::state::Shared;

pub(crate) async fn get(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    front_channel(&shared, &Params::query(query.as_deref()))
}

pub(crate) async fn post(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Params::parse(&body);
    if form.non_empty("refresh_token").is_some() {
        back_channel(&shared, &headers, &form)
    } else {
        front_channel(&shared, &form)
    }
}

fn front_channel(shared: &Shared, params: &Params) -> Response {
    let realm = shared.realm();
    let error = |message| pages::error(StatusCode::BAD_REQUEST, realm.title(), message);
    let hinted = match params.non_empty("id_token_hint") {
        None => None,
        Some(hint) => match shared.store().id_token(hint).cloned() {
            Some(issued) => Some(issued),
            None => return error("Invalid parameter: id_token_hint"),
        },
    };
    let named_client = params.non_empty("client_id");
    if let (Some(issued), Some(named)) = (&hinted, named_client) {
        if issued.client_id != named {
            return error("Invalid parameter: id_token_hint");
        }
    }
    let client_id = hinted
        .as_ref()
        .map(|issued| issued.client_id.as_str())
        .or(named_client);
    let target = params.non_empty("post_logout_redirect_uri");
    if let Some(target) = target {
        let Some(client_id) = client_id else {
            return error("Missing parameters: id_token_hint");
        };
        let allowed = realm
            .client(client_id)
            .is_some_and(|client| redirect::post_logout_matches(client, target));
        if !allowed {
            return error("Invalid redirect uri");
        }
    }
    if let Some(issued) = &hinted {
        shared.store().end_session(&issued.session_id);
    }
    let Some(target) = target else {
        return pages::logged_out(realm.title());
    };
    found(&with_state(target, params.non_empty("state")))
        .unwrap_or_else(|| error("Invalid redirect uri"))
}

/// The post-logout target with the request's `state` appended, as RP-Initiated Logout asks.
pub(crate) fn with_state(target: &str, state: Option<&str>) -> String {
    match state {
        Some(state) => {
            let separator = if target.contains('?') { '&' } else { '?' };
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("state", state)
                .finish();
            format!("{target}{separator}{encoded}")
        }
        None => target.to_string(),
    }
}

fn back_channel(shared: &Shared, headers: &HeaderMap, form: &Params) -> Response {
    let realm = shared.realm();
    let client = match client_auth::authenticate(&realm, headers, form) {
        Ok(client) => client,
        Err(refusal) => return refusal.response(),
    };
    let token = form.non_empty("refresh_token").unwrap_or("");
    let claims = shared.refresh_key.verify(token);
    let text = |name: &str| claims.as_ref()?.get(name)?.as_str().map(str::to_string);
    let (Some(azp), Some(session_id)) = (text("azp"), text("sid")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid refresh token",
        );
    };
    if azp != client.client_id {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid refresh token. Token client and authorized client don't match",
        );
    }
    shared.store().end_session(&session_id);
    StatusCode::NO_CONTENT.into_response()
}
