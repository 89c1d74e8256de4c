//! The `client_credentials` grant of the Keycloak emulator: a service account's tokens.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

/// The fixture realm with service accounts enabled on `acme-app`.
async fn with_service_account() -> Emulator {
    let mut realm = fixture();
    let app = realm
        .clients
        .iter_mut()
        .find(|c| c.client_id == "acme-app")
        .unwrap();
    app.service_accounts_enabled = true;
    Emulator::start(realm, IdpOptions::default()).await.unwrap()
}

async fn client_credentials(
    emulator: &Emulator,
    client_id: &str,
    secret: Option<&str>,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let request = http().post(format!(
        "{}/protocol/openid-connect/token",
        emulator.issuer()
    ));
    let request = match secret {
        Some(secret) => request.basic_auth(client_id, Some(secret)),
        None => {
            form.push(("client_id", client_id));
            request
        }
    };
    let response = request.form(&form).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_service_account_gets_an_access_token_and_no_refresh_token() {
    let emulator = with_service_account().await;
    let (status, body) =
        client_credentials(&emulator, "acme-app", Some("acme-app-secret"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // No refresh token, no session_state (the JSON object's keys come sorted).
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "not-before-policy",
            "refresh_expires_in",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(body["refresh_expires_in"], 0);
    assert_eq!(body["token_type"], "Bearer");

    let access = verify(&emulator, body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(access["iss"], emulator.issuer());
    assert_eq!(access["typ"], "Bearer");
    assert_eq!(access["azp"], "acme-app");
    assert_eq!(access["client_id"], "acme-app");
    assert_eq!(access["preferred_username"], "service-account-acme-app");
    assert_eq!(access["clientHost"], "127.0.0.1");
    assert_eq!(access["clientAddress"], "127.0.0.1");
    assert!(
        access["jti"].as_str().unwrap().starts_with("trrtcc:"),
        "{access}"
    );
    assert!(access.get("sid").is_none(), "{access}");
    assert_eq!(
        access["realm_access"]["roles"],
        json!(["default-roles-acme", "offline_access", "uma_authorization"])
    );
    // The same service account every time.
    let (_, again) = client_credentials(&emulator, "acme-app", Some("acme-app-secret"), None).await;
    let again = decode(again["access_token"].as_str().unwrap()).1;
    assert_eq!(again["sub"], access["sub"]);
    assert!(uuid::Uuid::parse_str(access["sub"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn scope_openid_adds_an_id_token_for_the_service_account() {
    let emulator = with_service_account().await;
    let (status, body) = client_credentials(
        &emulator,
        "acme-app",
        Some("acme-app-secret"),
        Some("openid"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let id = verify(&emulator, body["id_token"].as_str().unwrap())
        .await
        .unwrap();
    let access = decode(body["access_token"].as_str().unwrap()).1;
    assert_eq!(id["aud"], "acme-app");
    assert_eq!(id["sub"], access["sub"]);
    assert_eq!(id["client_id"], "acme-app");
    assert!(id.get("sid").is_none() && id.get("nonce").is_none(), "{id}");
    assert!(id["at_hash"].is_string());
}

#[tokio::test]
async fn the_grant_is_refused_in_keycloaks_words() {
    let emulator = with_service_account().await;
    let unauthorized = |description: &str| {
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized_client", "error_description": description}),
        )
    };
    // Service accounts off (the fixture's acme-consent).
    assert_eq!(
        client_credentials(&emulator, "acme-consent", Some("acme-consent-secret"), None).await,
        unauthorized("Client not enabled to retrieve service account")
    );
    // A public client authenticates with its id alone, then is refused.
    assert_eq!(
        client_credentials(&emulator, "acme-spa", None, None).await,
        unauthorized("Public client not allowed to retrieve service account")
    );
    // A wrong secret fails client authentication first.
    assert_eq!(
        client_credentials(&emulator, "acme-app", Some("wrong"), None).await,
        unauthorized("Invalid client or Invalid client credentials")
    );
    assert_eq!(
        client_credentials(
            &emulator,
            "acme-app",
            Some("acme-app-secret"),
            Some("openid admin")
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_scope", "error_description": "Invalid scopes: openid admin"})
        )
    );
    let discovery: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            emulator.issuer()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(discovery["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("client_credentials")));
}

#[tokio::test]
async fn a_disabled_service_account_from_the_export_is_refused() {
    let mut realm = fixture();
    realm
        .clients
        .iter_mut()
        .find(|c| c.client_id == "acme-app")
        .unwrap()
        .service_accounts_enabled = true;
    let mut account = realm.users[0].clone();
    account.username = "service-account-acme-app".into();
    account.enabled = false;
    realm.users.push(account);
    let emulator = Emulator::start(realm, IdpOptions::default()).await.unwrap();
    assert_eq!(
        client_credentials(&emulator, "acme-app", Some("acme-app-secret"), None).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_request", "error_description": "User 'service-account-acme-app' disabled"})
        )
    );
}

#[test]
fn the_export_key_turns_the_grant_on() {
    let text = fixture_text().replacen(
        "\"serviceAccountsEnabled\": false",
        "\"serviceAccountsEnabled\": true",
        1,
    );
    let realm = Realm::from_keycloak_json(&text, std::path::Path::new("r.json")).unwrap();
    assert!(realm.clients[0].service_accounts_enabled);
    assert!(realm.warnings.is_empty(), "{:?}", realm.warnings);
    // Refresh tokens for the grant are not emulated, and said so.
    let text = text.replacen(
        "\"attributes\": {",
        "\"attributes\": {\"use.refresh.tokens.for.client.credentials.grant\": \"true\", ",
        1,
    );
    let realm = Realm::from_keycloak_json(&text, std::path::Path::new("r.json")).unwrap();
    assert!(
        realm.warnings.iter().any(|w| w
            .message
            .contains("\"use.refresh.tokens.for.client.credentials.grant\" (\"true\") ignored")),
        "{:?}",
        realm.warnings
    );
}

#[tokio::test]
async fn the_exports_service_account_user_is_the_one_that_signs_in() {
    let text = fixture_text()
        .replacen(
            "\"serviceAccountsEnabled\": false",
            "\"serviceAccountsEnabled\": true",
            1,
        )
        .replacen(
            "\"users\": [",
            "\"users\": [{\"id\": \"5a5a5a5a-0000-4000-8000-000000000001\", \"username\": \"service-account-acme-app\", \"enabled\": true, \"serviceAccountClientId\": \"acme-app\", \"realmRoles\": [\"default-roles-acme\"]},",
            1,
        );
    let realm = Realm::from_keycloak_json(&text, std::path::Path::new("r.json")).unwrap();
    assert!(realm.warnings.is_empty(), "{:?}", realm.warnings);
    let emulator = Emulator::start(realm, IdpOptions::default()).await.unwrap();
    let (status, body) =
        client_credentials(&emulator, "acme-app", Some("acme-app-secret"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = decode(body["access_token"].as_str().unwrap()).1;
    assert_eq!(access["sub"], "5a5a5a5a-0000-4000-8000-000000000001");
    assert_eq!(
        access["realm_access"]["roles"],
        json!(["default-roles-acme"])
    );
}
