//! The userinfo endpoint, `GET` or `POST /protocol/openid-connect/userinfo`, with the access
//! token as a Bearer header (or, in a `POST`, the `access_token` form parameter).
//!
//! It answers `sub` and the claims of the mappers flagged for userinfo in the scopes the token
//! was granted. The token must be one this emulator issued, unexpired, and its session must still
//! be alive; anything else is a 401 whose `WWW-Authenticate` header carries the reason
//! (RFC 6750 section 3).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::params::Params;
use super::responses::{json, oauth_error};
use crate::faults::Fault;
use crate::mappers::{self, Subject, Target};
use crate::state::{now, Shared};

pub(crate) async fn userinfo(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&shared, &headers, &body)
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn unauthorized(realm: &str, error: &str, description: &str) -> Response {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, error, description);
    let challenge =
        format!("Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn answer(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let realm = shared.realm();
    let token = bearer_token(headers).or_else(|| {
        Params::parse(body)
            .non_empty("access_token")
            .map(str::to_string)
    });
    let Some(token) = token else {
        return unauthorized(&realm.name, "invalid_request", "Token not provided");
    };
    let now = now();
    let store = shared.store();
    let Some(grant) = store.access_grant(&token, now).cloned() else {
        return unauthorized(&realm.name, "invalid_token", "Token verification failed");
    };
    let session_alive = store
        .session(&grant.session_id, now, &realm.tokens)
        .is_some_and(|s| s.clients.contains_key(&grant.client_id));
    drop(store);
    if !session_alive {
        return unauthorized(
            &realm.name,
            "invalid_token",
            "User session not found or doesn't have client attached on it",
        );
    }
    let (Some(user), Some(client)) = (
        realm.user_by_id(&grant.user_id),
        realm.client(&grant.client_id),
    ) else {
        return unauthorized(&realm.name, "invalid_token", "Token verification failed");
    };
    if !user.enabled {
        return unauthorized(&realm.name, "invalid_token", "User disabled");
    }
    let sub = if shared.faults.snapshot().has(&Fault::UserinfoOtherSub) {
        uuid::Uuid::new_v4().to_string()
    } else {
        user.id.clone()
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::String(sub));
    let subject = Subject {
        client,
        user,
        session_id: &grant.session_id,
        auth_time: None,
    };
    mappers::apply(
        mappers::effective(&realm, client, &grant.scopes),
        &subject,
        Target::Userinfo,
        &mut claims,
    );
    json(StatusCode::OK, &claims)
}
