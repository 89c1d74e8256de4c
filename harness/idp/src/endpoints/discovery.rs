//! `/.well-known/openid-configuration` and the JWKS (`/protocol/openid-connect/certs`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::responses::oauth_error;
use crate::faults::{impostor_issuer, Fault};
use crate::realm::OPENID;
use crate::state::Shared;

/// The signing algorithms Keycloak 26 advertises (it can sign with all of them).
const SIGNING_ALGORITHMS: [&str; 13] = [
    "PS384", "RS384", "EdDSA", "ES384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512",
    "PS256", "PS512", "RS512",
];

pub(crate) async fn configuration(State(shared): State<Arc<Shared>>) -> Response {
    let faults = shared.faults.snapshot();
    let issuer = if faults.has(&Fault::DiscoveryIssuerMismatch) {
        impostor_issuer(&shared.issuer)
    } else {
        shared.issuer.clone()
    };
    let endpoint = |path: &str| format!("{}/protocol/openid-connect/{path}", shared.issuer);
    let scopes: Vec<String> = std::iter::once(OPENID.to_string())
        .chain(shared.realm().client_scopes.iter().map(|s| s.name.clone()))
        .collect();
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": endpoint("auth"),
        "token_endpoint": endpoint("token"),
        "userinfo_endpoint": endpoint("userinfo"),
        "end_session_endpoint": endpoint("logout"),
        "jwks_uri": endpoint("certs"),
        "grant_types_supported": ["authorization_code", "refresh_token", "password", "client_credentials"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": SIGNING_ALGORITHMS,
        "userinfo_signing_alg_values_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": scopes,
        // Keycloak 26.7.3's list, which the tokens here carry too.
        "claims_supported": [
            "aud", "sub", "iss", "auth_time", "name", "given_name", "family_name",
            "preferred_username", "email", "acr", "azp", "exp", "iat", "nonce"
        ],
        "claim_types_supported": ["normal"],
        "acr_values_supported": ["0", "1"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    });
    if shared.options.realm_sends_iss() {
        document["authorization_response_iss_parameter_supported"] = json!(true);
    }
    let mut response = super::responses::json(StatusCode::OK, &document);
    // Discovery may be cached; Keycloak's carries no no-store.
    response.headers_mut().remove(header::CACHE_CONTROL);
    response.headers_mut().remove(header::PRAGMA);
    response
}

pub(crate) async fn certs(State(shared): State<Arc<Shared>>) -> Response {
    let faults = shared.faults.snapshot();
    if let Some(delay) = faults.jwks_delay() {
        tokio::time::sleep(delay).await;
    }
    if faults.has(&Fault::JwksDown) {
        shared.count_jwks_fetch();
        return oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the JWKS is down (injected fault jwks_down)",
        );
    }
    let keys: Vec<_> = shared
        .fetch_jwks()
        .iter()
        .map(|key| key.jwk.clone())
        .collect();
    let mut response = axum::Json(json!({ "keys": keys })).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
