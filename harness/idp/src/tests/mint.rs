//! Minted tokens: the claims a real login gets, any header, any key, in Rust and over the admin
//! API.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use super::*;
use crate::{MintRequest, Signing, TokenKind};

/// Claims that differ between any two tokens of one user (times, ids, the session).
const PER_TOKEN: [&str; 7] = ["exp", "iat", "jti", "sid", "auth_time", "nonce", "at_hash"];

fn stable(claims: &Value) -> Map<String, Value> {
    let mut claims = claims.as_object().unwrap().clone();
    claims.retain(|k, _| !PER_TOKEN.contains(&k.as_str()));
    claims
}

/// Whether the token's signature verifies under `key` with `alg`, over its header as sent.
fn signed_by(token: &str, key: &DecodingKey, alg: Algorithm) -> bool {
    let (input, signature) = token.rsplit_once('.').unwrap();
    jsonwebtoken::crypto::verify(signature, input.as_bytes(), key, alg).unwrap()
}

async fn current_jwk_key(emulator: &Emulator) -> DecodingKey {
    let jwks = jwks(emulator).await;
    DecodingKey::from_jwk(jwks.find(&emulator.current_kid()).unwrap()).unwrap()
}

#[tokio::test]
async fn minted_tokens_carry_what_the_token_endpoint_issues_and_verify_with_the_jwks() {
    let emulator = start().await;
    let issued = Login::new(&emulator).tokens("carol").await;
    for (kind, field) in [
        (TokenKind::Access, "access_token"),
        (TokenKind::Id, "id_token"),
    ] {
        let minted = emulator
            .mint(&MintRequest {
                token: kind,
                username: Some("Carol".into()),
                client_id: Some("acme-app".into()),
                ..MintRequest::default()
            })
            .unwrap();
        let claims = verify(&emulator, &minted.token).await.unwrap();
        assert_eq!(Value::Object(minted.claims.clone()), claims);
        let (header, _) = decode(&minted.token);
        assert_eq!(Value::Object(minted.header), header);
        assert_eq!(header["kid"], emulator.current_kid().as_str());
        let real = decode(issued[field].as_str().unwrap()).1;
        assert_eq!(stable(&claims), stable(&real), "{field}");
        // Valid now, for the lifespan the realm gives.
        let now = crate::state::now();
        let exp = claims["exp"].as_i64().unwrap();
        assert!(
            claims["iat"].as_i64().unwrap() <= now && exp > now,
            "{claims}"
        );
    }
    // Without a client, the first with a redirect URI (`acme-app` in the fixture).
    let minted = emulator
        .mint(&MintRequest {
            token: TokenKind::Id,
            ..MintRequest::default()
        })
        .unwrap();
    assert_eq!(minted.claims["aud"], "acme-app");
    assert!(!minted.claims.contains_key("sub"), "{:?}", minted.claims);
}

#[tokio::test]
async fn header_overrides_are_signed_as_given_and_null_removes() {
    let emulator = start().await;
    let mut header = Map::new();
    header.insert("kid".into(), json!("../../etc/passwd"));
    header.insert("crit".into(), json!(["urn:example:unknown"]));
    header.insert("jku".into(), json!("http://127.0.0.1:9/jwks.json"));
    header.insert("typ".into(), Value::Null);
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::Null);
    claims.insert("aud".into(), json!("https://api.example.com"));
    let minted = emulator
        .mint(&MintRequest {
            username: Some("alice".into()),
            header,
            claims,
            ..MintRequest::default()
        })
        .unwrap();
    let (header, claims) = decode(&minted.token);
    assert_eq!(
        header,
        json!({"alg": "RS256", "kid": "../../etc/passwd",
               "crit": ["urn:example:unknown"], "jku": "http://127.0.0.1:9/jwks.json"})
    );
    assert!(claims.get("sub").is_none(), "{claims}");
    assert_eq!(claims["aud"], "https://api.example.com");
    assert_eq!(claims["preferred_username"], "alice");
    assert!(signed_by(
        &minted.token,
        &current_jwk_key(&emulator).await,
        Algorithm::RS256
    ));
}

#[tokio::test]
async fn unpublished_none_and_hs256_signings() {
    let emulator = start().await;
    let mint = |signing: Signing| {
        emulator
            .mint(&MintRequest {
                username: Some("alice".into()),
                signing,
                ..MintRequest::default()
            })
            .unwrap()
    };
    let unpublished = mint(Signing::Unpublished);
    let kid = unpublished.header["kid"].as_str().unwrap();
    assert_eq!(unpublished.header["alg"], "RS256");
    assert!(jwks(&emulator).await.find(kid).is_none());
    assert_eq!(
        verify(&emulator, &unpublished.token).await,
        Err("unknown kid".into())
    );
    // Rotations never publish it.
    emulator.rotate_keys();
    assert!(jwks(&emulator).await.find(kid).is_none());

    let none = mint(Signing::None);
    assert!(none.token.ends_with('.'));
    assert_eq!(decode(&none.token).0, json!({"alg": "none", "typ": "JWT"}));

    let pem = emulator.public_key_pem();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let confused = mint(Signing::Hs256(pem.clone()));
    assert_eq!(
        decode(&confused.token).0,
        json!({"alg": "HS256", "typ": "JWT", "kid": emulator.current_kid()})
    );
    assert!(signed_by(
        &confused.token,
        &DecodingKey::from_secret(pem.as_bytes()),
        Algorithm::HS256
    ));
    assert!(!signed_by(
        &confused.token,
        &DecodingKey::from_secret(b"another key"),
        Algorithm::HS256
    ));
}

#[tokio::test]
async fn es256_realms_mint_es256_and_their_pem_is_the_jwks_key() {
    let emulator = start_with(IdpOptions {
        signing: crate::SigningAlg::Es256,
        ..IdpOptions::default()
    })
    .await;
    let minted = emulator
        .mint(&MintRequest {
            username: Some("alice".into()),
            ..MintRequest::default()
        })
        .unwrap();
    assert_eq!(minted.header["alg"], "ES256");
    verify(&emulator, &minted.token).await.unwrap();
    let from_pem = DecodingKey::from_ec_pem(emulator.public_key_pem().as_bytes()).unwrap();
    assert!(signed_by(&minted.token, &from_pem, Algorithm::ES256));
    let unpublished = emulator
        .mint(&MintRequest {
            signing: Signing::Unpublished,
            ..MintRequest::default()
        })
        .unwrap();
    assert_eq!(unpublished.header["alg"], "ES256");
    assert!(jwks(&emulator)
        .await
        .find(unpublished.header["kid"].as_str().unwrap())
        .is_none());
}

#[tokio::test]
async fn the_admin_endpoint_mints_and_refuses_clearly() {
    let emulator = start().await;
    let url = format!("{}/_ssoproof/tokens", emulator.base_url());
    let post = |body: Value| http().post(&url).json(&body).send();

    let answer = post(json!({"token": "id", "username": "alice",
                             "claims": {"email": null}, "signing": {"hs256": "k"}}))
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(
        decode(token),
        (body["header"].clone(), body["claims"].clone())
    );
    assert_eq!(body["claims"]["typ"], "ID");
    assert!(body["claims"].get("email").is_none());
    assert!(signed_by(
        token,
        &DecodingKey::from_secret(b"k"),
        Algorithm::HS256
    ));

    let answer = post(json!({})).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["claims"]["typ"], "Bearer");

    for (body, status, code) in [
        (json!({"username": "nobody"}), 404, "idp/unknown-user"),
        (json!({"client_id": "nope"}), 404, "idp/unknown-client"),
        (json!({"token": "refresh"}), 400, "admin/invalid-body"),
        (json!({"signing": "rs512"}), 400, "admin/invalid-body"),
        (json!({"usernme": "alice"}), 400, "admin/invalid-body"),
    ] {
        let answer = post(body.clone()).await.unwrap();
        assert_eq!(answer.status().as_u16(), status, "{body}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["error"], code, "{body}");
    }
    // A suite driving the emulator over HTTP finds the key-confusion key in the state.
    let state: Value = http()
        .get(format!("{}/_ssoproof/state", emulator.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pem = state["current_public_key_pem"].as_str().unwrap();
    assert_eq!(pem, emulator.public_key_pem());
    let answer = post(json!({"signing": {"hs256": pem}})).await.unwrap();
    let body: Value = answer.json().await.unwrap();
    assert!(signed_by(
        body["token"].as_str().unwrap(),
        &DecodingKey::from_secret(pem.as_bytes()),
        Algorithm::HS256
    ));

    // The bytes after the header are the signature; an empty one only for `none`.
    let answer = post(json!({"signing": "none"})).await.unwrap();
    let body: Value = answer.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let header = URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&header).unwrap(),
        json!({"alg": "none", "typ": "JWT"})
    );
}
