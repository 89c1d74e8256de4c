//! Faults aimed at access tokens (or both tokens), the userinfo endpoint's answer to a broken
//! access token, and the RFC 9207 `iss` faults.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;
use crate::state::now;
use crate::{Fault, FaultTokens, IdpOptions};

const GATEWAY: &str = "api-gateway";
const GATEWAY_REDIRECT: &str = "http://127.0.0.1/gateway/callback";

/// What a broken access token's header and claims must look like.
type Check = Box<dyn Fn(&Emulator, &Value, &Value)>;

async fn userinfo_status(emulator: &Emulator, access_token: &str) -> StatusCode {
    http()
        .get(format!(
            "{}/protocol/openid-connect/userinfo",
            emulator.issuer()
        ))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn every_claim_and_signature_fault_can_break_the_access_token() {
    let now = now();
    let key_id = |h: &Value| h.get("kid").and_then(Value::as_str).map(str::to_string);
    // Each fault, what it does to the access token, and whether userinfo still answers for it
    // (Keycloak's verification checks neither the audience nor `iat`).
    let checks: Vec<(Fault, Check, bool)> = vec![
        (
            Fault::WrongIssuer,
            Box::new(|e, _, c| assert_eq!(c["iss"], format!("{}-impostor", e.issuer()))),
            false,
        ),
        (
            Fault::WrongAudience,
            Box::new(|_, _, c| assert_eq!(c["aud"], "another-client")),
            true,
        ),
        (
            Fault::MissingAudience,
            Box::new(|_, _, c| assert!(c.get("aud").is_none())),
            true,
        ),
        (
            Fault::MissingSub,
            Box::new(|_, _, c| assert!(c.get("sub").is_none())),
            false,
        ),
        (
            Fault::MissingIat,
            Box::new(|_, _, c| assert!(c.get("iat").is_none())),
            true,
        ),
        (
            Fault::Expired,
            Box::new(move |_, _, c| assert!(c["exp"].as_i64().unwrap() <= now - 290)),
            false,
        ),
        (
            Fault::IatInFuture,
            Box::new(move |_, _, c| assert!(c["iat"].as_i64().unwrap() >= now + 590)),
            true,
        ),
        (
            Fault::NotYetValid,
            Box::new(move |_, _, c| assert!(c["nbf"].as_i64().unwrap() >= now + 590)),
            false,
        ),
        (
            Fault::MultipleAudiencesWithoutAzp,
            Box::new(|_, _, c| {
                assert_eq!(c["aud"], json!(["api-gateway", "another-audience"]));
                assert!(c.get("azp").is_none());
            }),
            false,
        ),
        (
            Fault::WrongAzp,
            Box::new(|_, _, c| assert_eq!(c["azp"], "another-client")),
            false,
        ),
        (
            Fault::AlgNone,
            Box::new(|_, h, _| assert_eq!(*h, json!({"alg": "none", "typ": "JWT"}))),
            false,
        ),
        (
            Fault::Hs256ClientSecret,
            Box::new(|_, h, _| assert_eq!(h["alg"], "HS256")),
            false,
        ),
        (
            Fault::BadSignature,
            Box::new(|e, h, _| assert_eq!(h["kid"], e.current_kid())),
            false,
        ),
        (
            Fault::NoKid,
            Box::new(|_, h, _| assert!(h.get("kid").is_none())),
            false,
        ),
        (
            Fault::NoKidMultipleKeys,
            Box::new(|_, h, _| assert!(h.get("kid").is_none())),
            false,
        ),
        (
            Fault::UnknownKid,
            Box::new(|_, h, _| assert!(h["kid"].as_str().unwrap().starts_with("unknown-"))),
            false,
        ),
        (
            Fault::RotateBeforeSigning,
            Box::new(|e, h, _| assert_eq!(h["kid"], e.current_kid())),
            true,
        ),
    ];
    for (fault, check, userinfo_answers) in checks {
        let emulator = start().await;
        let first_kid = emulator.current_kid();
        emulator
            .inject_for(fault.clone(), FaultTokens::Access)
            .unwrap();
        // The client whose access tokens name an API audience, so that the audience faults have
        // one to break.
        let tokens = Login::for_client(&emulator, GATEWAY, GATEWAY_REDIRECT)
            .tokens("alice")
            .await;
        let access = tokens["access_token"].as_str().unwrap();
        let (header, claims) = decode(access);
        check(&emulator, &header, &claims);
        let signature_valid = verify(&emulator, access).await.is_ok();
        let signature_fault = matches!(
            fault,
            Fault::AlgNone
                | Fault::Hs256ClientSecret
                | Fault::BadSignature
                | Fault::NoKid
                | Fault::NoKidMultipleKeys
                | Fault::UnknownKid
        );
        assert_eq!(signature_valid, !signature_fault, "{fault:?}");
        // The ID token is untouched (a rotation before signing signs it with the new key too).
        let id = tokens["id_token"].as_str().unwrap();
        let id_claims = verify(&emulator, id)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(
            (&id_claims["iss"], &id_claims["aud"], &id_claims["azp"]),
            (&json!(emulator.issuer()), &json!(GATEWAY), &json!(GATEWAY)),
            "{fault:?}"
        );
        assert!(id_claims.get("sub").is_some() && id_claims.get("iat").is_some());
        assert!(id_claims.get("nbf").is_none(), "{fault:?}");
        if fault == Fault::RotateBeforeSigning {
            assert_ne!(key_id(&header), Some(first_kid));
        }
        let expected = if userinfo_answers {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(
            userinfo_status(&emulator, access).await,
            expected,
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn hs256_access_tokens_are_keyed_with_the_client_secret_and_both_breaks_both() {
    let emulator = start().await;
    emulator
        .inject_for(Fault::Hs256ClientSecret, FaultTokens::Both)
        .unwrap();
    let tokens = Login::new(&emulator).tokens("alice").await;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    for field in ["access_token", "id_token"] {
        jsonwebtoken::decode::<Value>(
            tokens[field].as_str().unwrap(),
            &DecodingKey::from_secret(b"acme-app-secret"),
            &validation,
        )
        .unwrap_or_else(|e| panic!("{field}: {e}"));
    }
    // Aimed at ID tokens again (the default), the access token is clean.
    emulator.inject(Fault::Hs256ClientSecret);
    let tokens = Login::new(&emulator).tokens("alice").await;
    verify(&emulator, tokens["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        decode(tokens["id_token"].as_str().unwrap()).0["alg"],
        "HS256"
    );
}

#[tokio::test]
async fn faults_that_cannot_break_an_access_token_are_refused_for_one() {
    let emulator = start().await;
    for fault in [
        Fault::WrongNonce,
        Fault::WrongAtHash,
        Fault::UserinfoOtherSub,
        Fault::RefreshOtherSub,
        Fault::RefreshWrongIssuer,
        Fault::JwksDown,
        Fault::JwksSlow { millis: 1 },
        Fault::DiscoveryIssuerMismatch,
        Fault::ClockSkew { seconds: 1 },
        Fault::IssParameterMissing,
        Fault::IssParameterWrong,
    ] {
        for tokens in [FaultTokens::Access, FaultTokens::Both] {
            let refused = emulator.inject_for(fault.clone(), tokens).unwrap_err();
            assert_eq!(refused.code(), "idp/fault-tokens", "{fault:?}");
        }
        emulator.inject_for(fault, FaultTokens::Id).unwrap();
    }

    // Over the admin API: `tokens` beside `fault`, refused the same way; the state shows it.
    let emulator = start().await;
    let url = format!("{}/_ssoproof/faults", emulator.base_url());
    let answer = http()
        .post(&url)
        .json(&json!({"fault": "wrong_nonce", "tokens": "access"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "idp/fault-tokens");
    assert!(body["message"].as_str().unwrap().contains("wrong_nonce"));
    for (body, status) in [
        (json!({"fault": "alg_none", "tokens": "access"}), 204),
        (json!({"fault": "wrong_issuer"}), 204),
        (json!({"fault": "wrong_issuer", "tokens": "all"}), 400),
    ] {
        let answer = http().post(&url).json(&body).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), status, "{body}");
    }
    let state: Value = http()
        .get(format!("{}/_ssoproof/state", emulator.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["faults"],
        json!([{"fault": "alg_none", "tokens": "access"},
               {"fault": "wrong_issuer"}])
    );
    let tokens = Login::new(&emulator).tokens("alice").await;
    assert!(tokens["access_token"].as_str().unwrap().ends_with('.'));
    let id = decode(tokens["id_token"].as_str().unwrap()).1;
    assert_eq!(id["iss"], format!("{}-impostor", emulator.issuer()));
}

const OKTA_CLIENT: &str = "0oa1b2c3d4e5f6g7h8i9";

async fn okta(iss_parameter: Option<bool>) -> Emulator {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/idp/okta.yaml");
    let options = IdpOptions {
        iss_parameter,
        ..IdpOptions::default()
    };
    Emulator::start(Realm::from_persona(path).unwrap(), options)
        .await
        .unwrap()
}

/// Alice signs in to the Okta persona's default server: the redirect back, and the PKCE
/// verifier.
async fn okta_sign_in(okta: &Emulator) -> (reqwest::Response, String) {
    let (verifier, challenge) = pkce();
    let page = http()
        .get(format!("{}/oauth2/default/v1/authorize", okta.base_url()))
        .query(&[
            ("client_id", OKTA_CLIENT),
            ("redirect_uri", "http://127.0.0.1/callback"),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "st"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = form_action(&page, "login-form");
    let redirect = http()
        .post(format!("{}{action}", okta.base_url()))
        .form(&[
            ("identifier", "alice@example.com"),
            ("credentials.passcode", "alice-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    (redirect, verifier)
}

#[tokio::test]
async fn persona_access_tokens_break_too_and_their_userinfo_refuses_them() {
    let okta = okta(None).await;
    okta.inject_for(Fault::WrongIssuer, FaultTokens::Access)
        .unwrap();
    let client = OKTA_CLIENT;
    let (redirect, verifier) = okta_sign_in(&okta).await;
    let code = location_params(&redirect)["code"].clone();
    let tokens: Value = http()
        .post(format!("{}/oauth2/default/v1/token", okta.base_url()))
        .basic_auth(client, Some("acme-okta-client-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1/callback"),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        decode(access).1["iss"],
        format!("{}-impostor", okta.issuer())
    );
    assert_eq!(
        decode(tokens["id_token"].as_str().unwrap()).1["iss"],
        okta.issuer()
    );
    let userinfo = http()
        .get(format!("{}/oauth2/default/v1/userinfo", okta.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
}

/// The `iss` of the authorization response to a login, or of the `prompt=none` error.
async fn response_iss(emulator: &Emulator, prompt_none: bool) -> Option<String> {
    let login = Login::new(emulator);
    let redirect = if prompt_none {
        login.param("prompt", "none").authorize().await
    } else {
        login.login("alice", "alice-password").await
    };
    assert_eq!(redirect.status(), StatusCode::FOUND);
    location_params(&redirect).get("iss").cloned()
}

#[tokio::test]
async fn iss_parameter_faults_on_a_realm() {
    let emulator = start().await;
    let issuer = emulator.issuer();
    assert_eq!(response_iss(&emulator, false).await, Some(issuer.clone()));
    emulator.inject(Fault::IssParameterMissing);
    for prompt_none in [false, true] {
        assert_eq!(response_iss(&emulator, prompt_none).await, None);
    }
    // Discovery still advertises it.
    let discovery: Value = http()
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    emulator.clear_faults();
    emulator.inject(Fault::IssParameterWrong);
    for prompt_none in [false, true] {
        assert_eq!(
            response_iss(&emulator, prompt_none).await,
            Some(format!("{issuer}-impostor"))
        );
    }
    // Where `iss` is not sent, the faults send none either.
    let silent = start_with(IdpOptions {
        iss_parameter: Some(false),
        ..IdpOptions::default()
    })
    .await;
    silent.inject(Fault::IssParameterWrong);
    assert_eq!(response_iss(&silent, false).await, None);
}

#[tokio::test]
async fn iss_parameter_faults_on_a_persona() {
    let okta = okta(Some(true)).await;
    let signed_in_iss = || async {
        let (redirect, _) = okta_sign_in(&okta).await;
        location_params(&redirect).get("iss").cloned()
    };
    let authorize = |prompt: &'static str| {
        let (_, challenge) = pkce();
        http()
            .get(format!("{}/oauth2/default/v1/authorize", okta.base_url()))
            .query(&[
                ("client_id", OKTA_CLIENT),
                ("redirect_uri", "http://127.0.0.1/callback"),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "st"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("prompt", prompt),
            ])
            .send()
    };
    let iss = |response: reqwest::Response| location_params(&response).get("iss").cloned();
    let issuer = okta.issuer();
    assert_eq!(iss(authorize("none").await.unwrap()), Some(issuer.clone()));
    assert_eq!(signed_in_iss().await, Some(issuer.clone()));
    okta.inject(Fault::IssParameterMissing);
    assert_eq!(iss(authorize("none").await.unwrap()), None);
    assert_eq!(signed_in_iss().await, None);
    okta.clear_faults();
    okta.inject(Fault::IssParameterWrong);
    let impostor = Some(format!("{issuer}-impostor"));
    assert_eq!(iss(authorize("none").await.unwrap()), impostor);
    assert_eq!(signed_in_iss().await, impostor);
}
