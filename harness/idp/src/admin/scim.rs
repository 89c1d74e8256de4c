//! A minimal SCIM 2.0 Users endpoint (RFC 7644) over the realm's users, under
//! `/_ssoproof/scim/v2`, for the deprovisioning drill: a provisioning client finds a user with
//! `filter=userName eq "…"`, reads them, and PATCHes `active`, in the RFC's request shape and in
//! the ones Entra ID's and Okta's clients send (`"op": "Replace"`, `"False"` as a string, a
//! path-less replace of `{"active": false}`). `active: false` disables the user, so their
//! sign-ins and refresh tokens are refused from then on, as a real IdP does for a user its
//! provisioning deactivated. Nothing else changes here: a PATCH of another attribute is a 400,
//! and users are created through `POST /_ssoproof/users`. Loopback-only like the rest of the
//! admin API, and without a bearer token of its own.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::realm::User;
use crate::state::Shared;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_ssoproof/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/_ssoproof/scim/v2/Users", get(list_users))
        .route(
            "/_ssoproof/scim/v2/Users/{id}",
            get(get_user).patch(patch_user),
        )
}

/// The SCIM error body (RFC 7644 §3.12).
fn scim_error(status: StatusCode, scim_type: Option<&str>, detail: String) -> Response {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let Some(scim_type) = scim_type {
        body["scimType"] = json!(scim_type);
    }
    (status, Json(body)).into_response()
}

fn not_found(id: &str) -> Response {
    scim_error(
        StatusCode::NOT_FOUND,
        None,
        format!("no User with id `{id}`"),
    )
}

fn user_json(shared: &Shared, user: &User) -> Value {
    let mut value = json!({
        "schemas": [USER_SCHEMA],
        "id": user.id,
        "userName": user.username,
        "active": user.enabled,
        "meta": {
            "resourceType": "User",
            "location": format!("{}/_ssoproof/scim/v2/Users/{}", shared.base_url, user.id),
        },
    });
    if let Some(email) = &user.email {
        value["emails"] = json!([{ "value": email, "primary": true }]);
    }
    if user.first_name.is_some() || user.last_name.is_some() {
        value["name"] = json!({ "givenName": user.first_name, "familyName": user.last_name });
    }
    value
}

async fn service_provider_config() -> Response {
    Json(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": 200 },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [],
    }))
    .into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    filter: Option<String>,
}

/// `userName eq "value"` (the attribute name and operator in any case, RFC 7644 §3.4.2.2), the
/// one filter a provisioning client needs to find a user.
fn user_name_eq(filter: &str) -> Option<String> {
    let mut parts = filter.trim().splitn(3, ' ');
    let (attribute, operator, value) = (parts.next()?, parts.next()?, parts.next()?);
    if !attribute.eq_ignore_ascii_case("userName") || !operator.eq_ignore_ascii_case("eq") {
        return None;
    }
    serde_json::from_str::<String>(value.trim()).ok()
}

async fn list_users(State(shared): State<Arc<Shared>>, Query(query): Query<ListQuery>) -> Response {
    let wanted = match &query.filter {
        None => None,
        Some(filter) => match user_name_eq(filter) {
            Some(name) => Some(name.to_lowercase()),
            None => {
                return scim_error(
                    StatusCode::BAD_REQUEST,
                    Some("invalidFilter"),
                    format!(
                        "the emulator's SCIM endpoint filters by `userName eq \"…\"` only, not `{filter}`"
                    ),
                )
            }
        },
    };
    let realm = shared.realm();
    let users: Vec<Value> = realm
        .users
        .iter()
        .filter(|u| wanted.as_ref().is_none_or(|name| u.username == *name))
        .map(|u| user_json(&shared, u))
        .collect();
    Json(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": users.len(),
        "startIndex": 1,
        "itemsPerPage": users.len(),
        "Resources": users,
    }))
    .into_response()
}

async fn get_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let realm = shared.realm();
    match realm.user_by_id(&id) {
        Some(user) => Json(user_json(&shared, user)).into_response(),
        None => not_found(&id),
    }
}

/// `true`/`false`, or the strings `"True"`/`"False"` (any case) Entra ID sends.
fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The `active` value one PATCH operation sets, or why the emulator refuses it.
fn active_of(operation: &Value) -> Result<bool, String> {
    let op = operation["op"].as_str().unwrap_or_default();
    if !op.eq_ignore_ascii_case("replace") && !op.eq_ignore_ascii_case("add") {
        return Err(format!(
            "op `{op}`: the emulator's SCIM endpoint only sets `active` (replace or add)"
        ));
    }
    let value = match operation["path"].as_str() {
        Some(path) if path.eq_ignore_ascii_case("active") => &operation["value"],
        Some(path) => {
            return Err(format!(
                "path `{path}`: the emulator's SCIM endpoint changes only `active`"
            ))
        }
        None => {
            let object = operation["value"]
                .as_object()
                .ok_or("a path-less operation needs an object value")?;
            if let Some(other) = object.keys().find(|k| !k.eq_ignore_ascii_case("active")) {
                return Err(format!(
                    "`{other}`: the emulator's SCIM endpoint changes only `active`"
                ));
            }
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("active"))
                .map(|(_, v)| v)
                .ok_or("a path-less operation without `active`")?
        }
    };
    boolean(value)
        .ok_or_else(|| format!("`active` must be a boolean (or \"True\"/\"False\"), not {value}"))
}

async fn patch_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let bad = |detail: String| scim_error(StatusCode::BAD_REQUEST, Some("invalidValue"), detail);
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(e) => {
            return scim_error(
                StatusCode::BAD_REQUEST,
                Some("invalidSyntax"),
                format!("not JSON: {e}"),
            )
        }
    };
    let Some(operations) = body["Operations"].as_array() else {
        return scim_error(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "a PatchOp message has an `Operations` array".into(),
        );
    };
    let mut active = None;
    for operation in operations {
        match active_of(operation) {
            Ok(value) => active = Some(value),
            Err(detail) => return bad(detail),
        }
    }
    let username = match shared.realm().user_by_id(&id) {
        Some(user) => user.username.clone(),
        None => return not_found(&id),
    };
    if let Some(active) = active {
        if let Err(e) = shared.set_user_enabled(&username, active) {
            return scim_error(StatusCode::NOT_FOUND, None, e.to_string());
        }
    }
    let realm = shared.realm();
    match realm.user_by_id(&id) {
        Some(user) => Json(user_json(&shared, user)).into_response(),
        None => not_found(&id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_is_read_from_the_rfc_entra_and_okta_shapes() {
        for (operation, want) in [
            (
                json!({"op": "replace", "path": "active", "value": false}),
                false,
            ),
            (
                json!({"op": "Replace", "path": "active", "value": "False"}),
                false,
            ),
            (json!({"op": "replace", "value": {"active": false}}), false),
            (
                json!({"op": "Add", "path": "active", "value": "True"}),
                true,
            ),
        ] {
            assert_eq!(active_of(&operation), Ok(want), "{operation}");
        }
        for operation in [
            json!({"op": "remove", "path": "active"}),
            json!({"op": "replace", "path": "displayName", "value": "x"}),
            json!({"op": "replace", "value": {"active": false, "nickName": "x"}}),
            json!({"op": "replace", "path": "active", "value": "no"}),
        ] {
            assert!(active_of(&operation).is_err(), "{operation}");
        }
    }

    #[test]
    fn only_user_name_eq_filters() {
        assert_eq!(user_name_eq("userName eq \"alice\""), Some("alice".into()));
        assert_eq!(user_name_eq("USERNAME EQ \"a b\""), Some("a b".into()));
        assert_eq!(user_name_eq("userName co \"a\""), None);
        assert_eq!(user_name_eq("emails eq \"a\""), None);
    }
}
