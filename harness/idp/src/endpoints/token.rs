//! The token endpoint, `POST /protocol/openid-connect/token`: the `authorization_code`,
//! `refresh_token`, `password` and `client_credentials` grants.
//!
//! The checks run in the order measured on Keycloak 26: `grant_type`, client authentication, a
//! repeated parameter, then the grant's own. A code is spent by the first exchange that gets past
//! client authentication, even one that then fails (so a retry answers "Code not valid"), and a
//! code used twice ends the client session it started. With `revokeRefreshToken` on, each
//! refresh token is good for `refreshTokenMaxReuse + 1` uses; going beyond, or using a token
//! older than the last one used, is refused and ends the client's session, so the rotated tokens
//! stop working too ("Session doesn't have required client").

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::client_auth;
use super::client_credentials;
use super::params::Params;
use super::pkce;
use super::responses::{json, oauth_error};
use crate::realm::{Client, Realm, User};
use crate::state::{now, random_token, CodeGrant, NewSession, ReuseError, Shared};
use crate::tokens::{self, Grant, Issue};

pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    exchange(&shared, peer, &headers, &Params::parse(&body))
}

fn invalid_request(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn exchange(shared: &Shared, peer: SocketAddr, headers: &HeaderMap, form: &Params) -> Response {
    let Some(grant_type) = form.non_empty("grant_type") else {
        return invalid_request("Missing form parameter: grant_type");
    };
    if !matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "password" | "client_credentials"
    ) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant_type",
        );
    }
    let realm = shared.realm();
    let client = match client_auth::authenticate(&realm, headers, form) {
        Ok(client) => client,
        Err(refusal) => return refusal.response(),
    };
    if form.has_duplicates() {
        return invalid_request("duplicated parameter");
    }
    match grant_type {
        "authorization_code" => code_grant(shared, &realm, client, form),
        "refresh_token" => refresh_grant(shared, &realm, client, form),
        "client_credentials" => client_credentials::grant(shared, &realm, client, form, peer.ip()),
        _ => password_grant(shared, &realm, client, form),
    }
}

/// How a vendor words its refusals of an authorization code; the checks are the same everywhere.
pub(crate) struct CodeRefusals {
    pub missing: &'static str,
    pub invalid: &'static str,
    pub redirect_mismatch: &'static str,
    pub other_client: &'static str,
    pub no_user: &'static str,
}

/// Keycloak's wording.
const KEYCLOAK_CODE_REFUSALS: CodeRefusals = CodeRefusals {
    missing: "Missing parameter: code",
    invalid: "Code not valid",
    redirect_mismatch: "Incorrect redirect_uri",
    other_client: "Auth error: Found different client_id in clientSession",
    no_user: "User not found",
};

/// An authorization code that passed every check: single use, live session, same redirect URI
/// and client, PKCE, and a user that still exists.
pub(crate) struct RedeemedCode<'r> {
    pub grant: CodeGrant,
    pub user: &'r User,
    pub auth_time: Option<i64>,
    pub started: i64,
}

/// Redeems the code in `form` for `client`, or answers the OAuth error a vendor would.
pub(crate) fn redeem_code<'r>(
    shared: &Shared,
    realm: &'r Realm,
    client: &Client,
    form: &Params,
    refusals: &CodeRefusals,
) -> Result<RedeemedCode<'r>, Box<Response>> {
    let Some(code) = form.get("code") else {
        return Err(Box::new(invalid_request(refusals.missing)));
    };
    let now = now();
    let Some(grant) = shared.store().redeem_code(code, now) else {
        return Err(Box::new(invalid_grant(refusals.invalid)));
    };
    let session = shared
        .store()
        .session(&grant.session_id, now, &realm.tokens)
        .filter(|s| s.clients.contains_key(&grant.request.client_id))
        .map(|s| (s.auth_time, s.started));
    let Some((auth_time, started)) = session else {
        return Err(Box::new(invalid_grant(refusals.invalid)));
    };
    if form.get("redirect_uri") != Some(grant.request.redirect_uri.as_str()) {
        return Err(Box::new(invalid_grant(refusals.redirect_mismatch)));
    }
    if grant.request.client_id != client.client_id {
        return Err(Box::new(invalid_grant(refusals.other_client)));
    }
    if let Err(description) = pkce::verify(
        grant.request.code_challenge.as_ref(),
        form.get("code_verifier"),
    ) {
        return Err(Box::new(invalid_grant(description)));
    }
    let Some(user) = realm.user_by_id(&grant.user_id) else {
        return Err(Box::new(invalid_grant(refusals.no_user)));
    };
    Ok(RedeemedCode {
        grant,
        user,
        auth_time,
        started,
    })
}

fn code_grant(shared: &Shared, realm: &Realm, client: &Client, form: &Params) -> Response {
    let RedeemedCode {
        grant,
        user,
        auth_time,
        started,
    } = match redeem_code(shared, realm, client, form, &KEYCLOAK_CODE_REFUSALS) {
        Ok(redeemed) => redeemed,
        Err(refusal) => return *refusal,
    };
    if !user.enabled {
        return invalid_grant("User disabled");
    }
    let response = tokens::issue(
        shared,
        realm,
        &Issue {
            grant: Grant::AuthorizationCode,
            client,
            user,
            session_id: &grant.session_id,
            auth_time,
            session_started: started,
            scopes: &grant.request.scopes,
            nonce: grant.request.nonce.as_deref(),
        },
    );
    json(StatusCode::OK, &response)
}

fn refresh_grant(shared: &Shared, realm: &Realm, client: &Client, form: &Params) -> Response {
    let Some(token) = form.non_empty("refresh_token") else {
        return invalid_request("Missing parameter: refresh_token");
    };
    let Some(claims) = shared.refresh_key.verify(token) else {
        return invalid_grant("Invalid refresh token");
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let (Some("Refresh"), Some(azp), Some(session_id), Some(jti), Some(exp)) = (
        text("typ"),
        text("azp"),
        text("sid"),
        text("jti"),
        claims.get("exp").and_then(Value::as_i64),
    ) else {
        return invalid_grant("Invalid refresh token");
    };
    if azp != client.client_id {
        return invalid_grant(
            "Invalid refresh token. Token client and authorized client don't match",
        );
    }
    let now = now();
    // The claim carries any clock skew that was injected when it was issued.
    if exp - shared.faults.snapshot().clock_skew() <= now {
        return invalid_grant("Token is not active");
    }
    let mut store = shared.store();
    let Some(session) = store.session(session_id, now, &realm.tokens) else {
        return invalid_grant("Session not active");
    };
    let (user_id, auth_time, started) =
        (session.user_id.clone(), session.auth_time, session.started);
    let Some(scopes) = session
        .clients
        .get(&client.client_id)
        .map(|c| c.scopes.clone())
    else {
        return invalid_grant("Session doesn't have required client");
    };
    let Some(user) = realm.user_by_id(&user_id) else {
        return invalid_grant("Invalid refresh token");
    };
    if !user.enabled {
        return invalid_grant("User disabled");
    }
    if realm.tokens.revoke_refresh_token {
        let checked = store.check_reuse(
            session_id,
            &client.client_id,
            jti,
            realm.tokens.refresh_token_max_reuse,
        );
        if let Err(error) = checked {
            store.detach_client(session_id, &client.client_id);
            return invalid_grant(match error {
                ReuseError::Stale => "Stale token",
                ReuseError::MaxReuseExceeded => "Maximum allowed refresh token reuse exceeded",
                ReuseError::Unknown => "Invalid refresh token",
            });
        }
    }
    store.touch_session(session_id, now);
    drop(store);
    let response = tokens::issue(
        shared,
        realm,
        &Issue {
            grant: Grant::Refresh,
            client,
            user,
            session_id,
            auth_time,
            session_started: started,
            scopes: &scopes,
            nonce: None,
        },
    );
    json(StatusCode::OK, &response)
}

fn password_grant(shared: &Shared, realm: &Realm, client: &Client, form: &Params) -> Response {
    if !client.direct_access_grants_enabled {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "Client not allowed for direct access grants",
        );
    }
    let password = form.get("password").unwrap_or("");
    let user = realm
        .login_user(form.get("username").unwrap_or(""))
        .filter(|u| u.password.as_ref().is_some_and(|p| p.expose() == password));
    let Some(user) = user else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
            "Invalid user credentials",
        );
    };
    if !user.enabled {
        return invalid_grant("Account disabled");
    }
    let scopes = match requested_scopes(form, realm, client) {
        Ok(scopes) => scopes,
        Err(refusal) => return *refusal,
    };
    let session_id = random_token(18);
    let now = now();
    shared.store().start_session(
        NewSession {
            session_id: &session_id,
            user_id: &user.id,
            auth_time: None,
            client_id: &client.client_id,
            scopes: &scopes,
        },
        now,
        &realm.tokens,
    );
    let response = tokens::issue(
        shared,
        realm,
        &Issue {
            grant: Grant::Password,
            client,
            user,
            session_id: &session_id,
            auth_time: None,
            session_started: now,
            scopes: &scopes,
            nonce: None,
        },
    );
    json(StatusCode::OK, &response)
}

/// The scopes a direct grant (password, client credentials) is given for its `scope`
/// parameter, or Keycloak's `invalid_scope` refusal when it names one the client may not have.
pub(crate) fn requested_scopes(
    form: &Params,
    realm: &Realm,
    client: &Client,
) -> Result<Vec<String>, Box<Response>> {
    let raw_scope = form.get("scope").unwrap_or("");
    let requested: Vec<&str> = raw_scope.split(' ').filter(|s| !s.is_empty()).collect();
    if requested.iter().any(|s| !client.allows_scope(s)) {
        return Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("Invalid scopes: {raw_scope}"),
        )));
    }
    Ok(realm.granted_scopes(client, &requested))
}
