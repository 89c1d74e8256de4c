//! The `client_credentials` grant (RFC 6749 section 4.4): a confidential client's own tokens,
//! issued to its service account, as Keycloak 26's `ClientCredentialsGrantType` issues them.
//!
//! The client must be confidential and have `serviceAccountsEnabled`; otherwise the answer is
//! `401` `unauthorized_client` with Keycloak's reason. The tokens are the service account
//! user's: `sub` its id, `preferred_username` `service-account-<clientId>`, the realm's default
//! roles, and the `service_account` client scope's `client_id`, `clientHost` and `clientAddress`.
//! The session is transient: no `sid`, no refresh token (`refresh_expires_in: 0`), no
//! `session_state`; an ID token comes only when `scope` names `openid`.

use std::net::IpAddr;

use axum::http::StatusCode;
use axum::response::Response;

use super::params::Params;
use super::responses::{json, oauth_error};
use crate::realm::{Client, Realm, User};
use crate::state::{now, random_token, Shared};
use crate::tokens::{self, Grant, Issue};

/// The prefix of a service account's username, before the lower-cased client id.
const SERVICE_ACCOUNT_PREFIX: &str = "service-account-";

/// The roles Keycloak grants every user it creates, a service account included.
fn default_roles(realm: &Realm) -> Vec<String> {
    vec![
        format!("default-roles-{}", realm.name.to_lowercase()),
        "offline_access".into(),
        "uma_authorization".into(),
    ]
}

/// The client's service account: the realm's user of that name when the export has one (as
/// `kc.sh export` writes it, with its id and roles), else the one Keycloak creates when service
/// accounts are enabled, with an id that stays the same for the emulator's lifetime.
pub(crate) fn service_account(realm: &Realm, client: &Client) -> User {
    let username = format!(
        "{SERVICE_ACCOUNT_PREFIX}{}",
        client.client_id.to_lowercase()
    );
    if let Some(user) = realm.user(&username) {
        return user.clone();
    }
    User {
        id: uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{}/service-account/{}", realm.name, client.id).as_bytes(),
        )
        .to_string(),
        username,
        enabled: true,
        email: None,
        email_verified: false,
        first_name: None,
        last_name: None,
        password: None,
        groups: Vec::new(),
        realm_roles: default_roles(realm),
        attributes: Default::default(),
        federated_identities: Vec::new(),
    }
}

pub(crate) fn grant(
    shared: &Shared,
    realm: &Realm,
    client: &Client,
    form: &Params,
    peer: IpAddr,
) -> Response {
    let unauthorized = |description: &str| {
        oauth_error(StatusCode::UNAUTHORIZED, "unauthorized_client", description)
    };
    if client.public_client {
        return unauthorized("Public client not allowed to retrieve service account");
    }
    if !client.service_accounts_enabled {
        return unauthorized("Client not enabled to retrieve service account");
    }
    let account = service_account(realm, client);
    if !account.enabled {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            &format!("User '{}' disabled", account.username),
        );
    }
    let scopes = match super::token::requested_scopes(form, realm, client) {
        Ok(scopes) => scopes,
        Err(refusal) => return *refusal,
    };
    let response = tokens::issue(
        shared,
        realm,
        &Issue {
            grant: Grant::ClientCredentials(peer),
            client,
            user: &account,
            // Never stored: the tokens name no session.
            session_id: &random_token(18),
            auth_time: None,
            session_started: now(),
            scopes: &scopes,
            nonce: None,
        },
    );
    json(StatusCode::OK, &response)
}
