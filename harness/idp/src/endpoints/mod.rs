//! The OpenID Connect endpoints, at Keycloak's paths under `/realms/<realm>`.

mod authorize;
mod broker;
mod client_auth;
mod client_credentials;
mod discovery;
mod login;
mod logout;
mod params;
mod persona;
mod pkce;
mod responses;
mod token;
mod userinfo;

use std::sync::Arc;

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

pub(crate) use login::show_login;
pub(crate) use params::Params;
pub(crate) use persona::show_login as show_persona_login;

use super::realm::Client;
use super::state::Shared;
use responses::json;

/// The endpoints for the realm `shared` serves: Keycloak's, or the persona's.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let (persona, realm) = {
        let realm = shared.realm();
        (realm.persona.is_some(), realm.name.clone())
    };
    if persona {
        persona::router(shared)
    } else {
        keycloak_router(shared, &realm)
    }
}

fn keycloak_router(shared: Arc<Shared>, realm: &str) -> Router {
    let base = format!("/realms/{realm}");
    let oidc = format!("{base}/protocol/openid-connect");
    Router::new()
        .route(
            &format!("{base}/.well-known/openid-configuration"),
            get(discovery::configuration),
        )
        .route(&format!("{oidc}/certs"), get(discovery::certs))
        .route(
            &format!("{oidc}/auth"),
            get(authorize::get).post(authorize::post),
        )
        .route(
            &format!("{base}/login-actions/authenticate"),
            get(login::authenticate).post(login::authenticate),
        )
        .route(
            &format!("{base}/login-actions/consent"),
            post(login::consent),
        )
        .route(&format!("{oidc}/token"), post(token::token))
        .route(
            &format!("{oidc}/userinfo"),
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(
            &format!("{oidc}/logout"),
            get(logout::get).post(logout::post),
        )
        .route(
            &format!("{base}/broker/{{alias}}/login"),
            get(broker::login),
        )
        .route(
            &format!("{base}/broker/{{alias}}/endpoint"),
            get(broker::endpoint_get).post(broker::endpoint_post),
        )
        .merge(crate::saml::routes(&base, &shared.issuer))
        .fallback({
            let realm = realm.to_string();
            move |uri: Uri| {
                let response = not_found(&uri, &realm);
                async move { response }
            }
        })
        .with_state(shared)
}

/// The issuer for the RFC 9207 `iss` authorization-response parameter, when it is sent (or
/// what a fault sends instead).
fn iss_parameter(shared: &Shared, client: &Client) -> Option<String> {
    let iss = (shared.options.realm_sends_iss()
        && !client.attribute_is_true("exclude.issuer.from.auth.response"))
    .then(|| shared.issuer.clone());
    shared.faults.snapshot().iss_parameter(iss)
}

/// Keycloak's two 404 bodies: another realm, or no such resource.
fn not_found(uri: &Uri, realm: &str) -> Response {
    let other_realm = uri
        .path()
        .strip_prefix("/realms/")
        .is_some_and(|rest| rest.split('/').next() != Some(realm));
    let error = if other_realm {
        "Realm does not exist"
    } else {
        "Unable to find matching target resource method"
    };
    json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({ "error": error }),
    )
}
