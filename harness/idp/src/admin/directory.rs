//! The admin API's users, groups and PKCE routes (see [`crate::directory`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::{body, outcome_with, refusal};
use crate::directory::NewUser;
use crate::state::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_ssoproof/users", post(add_user))
        .route("/_ssoproof/groups", post(add_group))
        .route(
            "/_ssoproof/users/{username}/groups",
            post(join_group).delete(leave_group),
        )
        .route("/_ssoproof/clients/{client_id}/pkce", put(set_pkce))
}

async fn add_user(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let new = match body::<NewUser>(&bytes) {
        Ok(new) => new,
        Err(response) => return *response,
    };
    match shared.add_user(&new) {
        Ok(id) => (
            StatusCode::CREATED,
            Json(json!({"id": id, "username": new.stored_username()})),
        )
            .into_response(),
        Err(e) => refusal(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGroup {
    path: String,
}

async fn add_group(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<NewGroup>(&bytes) {
        Ok(NewGroup { path }) => {
            let created = (StatusCode::CREATED, Json(json!({ "path": path }))).into_response();
            outcome_with(shared.add_group(&path), created)
        }
        Err(response) => *response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Membership {
    group: String,
}

async fn join_group(
    State(shared): State<Arc<Shared>>,
    Path(username): Path<String>,
    bytes: Bytes,
) -> Response {
    match body::<Membership>(&bytes) {
        Ok(Membership { group }) => outcome_with(
            shared.add_user_to_group(&username, &group),
            StatusCode::NO_CONTENT.into_response(),
        ),
        Err(response) => *response,
    }
}

async fn leave_group(
    State(shared): State<Arc<Shared>>,
    Path(username): Path<String>,
    bytes: Bytes,
) -> Response {
    match body::<Membership>(&bytes) {
        Ok(Membership { group }) => outcome_with(
            shared.remove_user_from_group(&username, &group),
            StatusCode::NO_CONTENT.into_response(),
        ),
        Err(response) => *response,
    }
}

/// `{"method": "S256"}` or `{"method": null}`; the key is required, so that `{}` is not
/// silently read as "PKCE optional".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pkce {
    #[serde(deserialize_with = "present")]
    method: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Option::deserialize(deserializer)
}

async fn set_pkce(
    State(shared): State<Arc<Shared>>,
    Path(client_id): Path<String>,
    bytes: Bytes,
) -> Response {
    match body::<Pkce>(&bytes) {
        Ok(Pkce { method }) => outcome_with(
            shared.set_client_pkce(&client_id, method.as_deref()),
            StatusCode::NO_CONTENT.into_response(),
        ),
        Err(response) => *response,
    }
}
