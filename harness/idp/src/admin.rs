//! The admin API under `/_ssoproof/`: the emulator's control surface over HTTP, for scenarios
//! that drive a standalone `ssoproof serve idp`. Only loopback peers may use it (403 otherwise);
//! the routes are listed in the module documentation of [`crate`].

mod directory;
mod scim;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use super::faults::AimedFault;
use super::mint::MintRequest;
use super::persona::PersonaEdit;
use super::saml::SamlFault;
use super::state::Shared;
use super::IdpError;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_ssoproof/state", get(state))
        .route("/_ssoproof/faults", post(inject).delete(clear))
        .route(
            "/_ssoproof/saml/faults",
            post(inject_saml).delete(clear_saml),
        )
        .route("/_ssoproof/keys/rotate", post(rotate))
        .route("/_ssoproof/users/{username}/enabled", post(set_enabled))
        .route(
            "/_ssoproof/clients/{client_id}/group-mapper/full-path",
            put(set_full_path),
        )
        .route(
            "/_ssoproof/clients/{client_id}/mappers/{mapper}",
            delete(remove_mapper),
        )
        .route("/_ssoproof/persona", post(edit_persona))
        .route("/_ssoproof/clock", post(advance_clock))
        .route("/_ssoproof/tokens", post(mint))
        .merge(directory::routes())
        .merge(scim::routes())
        .layer(middleware::from_fn(loopback_only))
        .with_state(shared)
}

/// Whether a peer is on this machine (IPv4-mapped IPv6 loopback included).
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

async fn loopback_only(request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if peer.is_some_and(is_loopback) {
        next.run(request).await
    } else {
        error(
            StatusCode::FORBIDDEN,
            "admin/forbidden",
            "the admin API answers loopback clients only".into(),
        )
    }
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

/// The JSON body, or the 400 explaining why it is not one.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "admin/invalid-body",
            format!("the request body is not the expected JSON: {e}"),
        ))
    })
}

/// A refused control request: bad input is 400, something missing 404, a conflict with what
/// exists (or what a persona or vendor allows) 409. Every route answers through this one table.
fn refusal(e: &IdpError) -> Response {
    let status = match e {
        IdpError::InvalidUser(_)
        | IdpError::InvalidGroup(_)
        | IdpError::PkceMethod(_)
        | IdpError::FaultTokens { .. } => StatusCode::BAD_REQUEST,
        IdpError::UserExists(_)
        | IdpError::GroupExists(_)
        | IdpError::Persona(_)
        | IdpError::OpaqueAccessToken { .. } => StatusCode::CONFLICT,
        _ => StatusCode::NOT_FOUND,
    };
    error(status, e.code(), e.to_string())
}

/// `success` or the refusal.
fn outcome_with(result: Result<(), IdpError>, success: Response) -> Response {
    match result {
        Ok(()) => success,
        Err(e) => refusal(&e),
    }
}

fn outcome(result: Result<(), IdpError>) -> Response {
    outcome_with(result, StatusCode::NO_CONTENT.into_response())
}

async fn state(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.report()).into_response()
}

async fn inject(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let aimed = match body::<AimedFault>(&bytes) {
        Ok(aimed) => aimed,
        Err(response) => return *response,
    };
    // Deserializing skips the check that the fault can break the tokens it is aimed at.
    match AimedFault::new(aimed.fault, aimed.tokens) {
        Ok(aimed) => {
            shared.faults.inject(aimed);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => refusal(&e),
    }
}

async fn clear(State(shared): State<Arc<Shared>>) -> Response {
    shared.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn inject_saml(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<SamlFault>(&bytes) {
        Ok(fault) => {
            shared.saml.inject(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(response) => *response,
    }
}

async fn clear_saml(State(shared): State<Arc<Shared>>) -> Response {
    shared.saml.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn rotate(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "kid": shared.rotate_keys() })).into_response()
}

#[derive(Deserialize)]
struct Enabled {
    enabled: bool,
}

async fn set_enabled(
    State(shared): State<Arc<Shared>>,
    Path(username): Path<String>,
    bytes: Bytes,
) -> Response {
    match body::<Enabled>(&bytes) {
        Ok(Enabled { enabled }) => outcome(shared.set_user_enabled(&username, enabled)),
        Err(response) => *response,
    }
}

#[derive(Deserialize)]
struct FullPath {
    value: Option<String>,
}

async fn set_full_path(
    State(shared): State<Arc<Shared>>,
    Path(client_id): Path<String>,
    bytes: Bytes,
) -> Response {
    match body::<FullPath>(&bytes) {
        Ok(FullPath { value }) => {
            outcome(shared.set_group_mapper_full_path(&client_id, value.as_deref()))
        }
        Err(response) => *response,
    }
}

async fn remove_mapper(
    State(shared): State<Arc<Shared>>,
    Path((client_id, mapper)): Path<(String, String)>,
) -> Response {
    outcome(shared.remove_protocol_mapper(&client_id, &mapper))
}

async fn edit_persona(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<PersonaEdit>(&bytes) {
        Ok(edit) => outcome(shared.edit_persona(&edit)),
        Err(response) => *response,
    }
}

/// `{"seconds": N}`, as the README documents it; an unknown key is refused, not ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clock {
    seconds: i64,
}

async fn advance_clock(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<Clock>(&bytes) {
        Ok(Clock { seconds }) => {
            shared.advance_clock(seconds);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(response) => *response,
    }
}

async fn mint(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let request = match body::<MintRequest>(&bytes) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    match super::mint::mint(&shared, &request) {
        Ok(minted) => Json(minted).into_response(),
        Err(e) => refusal(&e),
    }
}
