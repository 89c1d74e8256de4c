//! An API audience on a realm client: Keycloak's `oidc-audience-mapper` with
//! `included.custom.audience` (the fixture's `api-gateway`).

use serde_json::json;

use super::*;
use crate::MintRequest;

#[tokio::test]
async fn an_audience_mapper_names_the_api_in_access_tokens_only() {
    let emulator = start().await;
    let tokens = Login::for_client(
        &emulator,
        "api-gateway",
        "http://127.0.0.1/gateway/callback",
    )
    .tokens("alice")
    .await;
    let access = verify(&emulator, tokens["access_token"].as_str().unwrap())
        .await
        .unwrap();
    // Imported users hold no `account` client roles, so Keycloak adds no `account` audience (see
    // the mappers' module documentation): the API is the only audience, written as a string.
    assert_eq!(access["aud"], "https://api.example.com");
    assert_eq!(access["azp"], "api-gateway");
    // `id.token.claim` is false: the ID token is for the client alone.
    let id = decode(tokens["id_token"].as_str().unwrap()).1;
    assert_eq!(id["aud"], "api-gateway");
    // A client without the mapper names no audience.
    let plain = Login::new(&emulator).tokens("alice").await;
    assert!(decode(plain["access_token"].as_str().unwrap())
        .1
        .get("aud")
        .is_none());
    // A minted access token for the client carries it too.
    let minted = emulator
        .mint(&MintRequest {
            username: Some("alice".into()),
            client_id: Some("api-gateway".into()),
            ..MintRequest::default()
        })
        .unwrap();
    assert_eq!(minted.claims["aud"], json!("https://api.example.com"));
}
