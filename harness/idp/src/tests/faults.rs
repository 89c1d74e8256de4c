//! Every fault breaks the tokens (or the JWKS, or discovery) the way its documentation says,
//! and only that way; key rotation keeps the old key published for the overlap.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;
use crate::state::now;
use crate::{Fault, IdpOptions, SigningAlg};

/// Logs alice in under `fault` and returns the emulator and the token response.
async fn under(fault: Fault) -> (Emulator, Value) {
    let emulator = start().await;
    emulator.inject(fault);
    let tokens = Login::new(&emulator).tokens("alice").await;
    (emulator, tokens)
}

fn id_claims(tokens: &Value) -> Value {
    decode(tokens["id_token"].as_str().unwrap()).1
}

fn id_header(tokens: &Value) -> Value {
    decode(tokens["id_token"].as_str().unwrap()).0
}

/// What a broken ID token's claims must look like.
type ClaimCheck = Box<dyn Fn(&Emulator, &Value)>;

#[tokio::test]
async fn claim_faults() {
    let now = now();
    let checks: Vec<(Fault, ClaimCheck)> = vec![
        (
            Fault::WrongIssuer,
            Box::new(|e, c| assert_eq!(c["iss"], format!("{}-impostor", e.issuer()))),
        ),
        (
            Fault::WrongAudience,
            Box::new(|_, c| assert_eq!(c["aud"], "another-client")),
        ),
        (
            Fault::MissingAudience,
            Box::new(|_, c| assert!(c.get("aud").is_none())),
        ),
        (
            Fault::WrongNonce,
            Box::new(|_, c| assert_ne!(c["nonce"], "n-1")),
        ),
        (
            Fault::MissingSub,
            Box::new(|_, c| assert!(c.get("sub").is_none())),
        ),
        (
            Fault::MissingIat,
            Box::new(|_, c| assert!(c.get("iat").is_none())),
        ),
        (
            Fault::Expired,
            Box::new(move |_, c| assert!(c["exp"].as_i64().unwrap() <= now - 290)),
        ),
        (
            Fault::IatInFuture,
            Box::new(move |_, c| assert!(c["iat"].as_i64().unwrap() >= now + 590)),
        ),
        (
            Fault::NotYetValid,
            Box::new(move |_, c| assert!(c["nbf"].as_i64().unwrap() >= now + 590)),
        ),
        (
            Fault::MultipleAudiencesWithoutAzp,
            Box::new(|_, c| {
                assert_eq!(c["aud"], json!(["acme-app", "another-audience"]));
                assert!(c.get("azp").is_none());
            }),
        ),
        (
            Fault::WrongAzp,
            Box::new(|_, c| assert_eq!(c["azp"], "another-client")),
        ),
        (
            Fault::ClockSkew { seconds: -3600 },
            Box::new(move |_, c| {
                let iat = c["iat"].as_i64().unwrap();
                assert!((now - 3610..=now - 3590).contains(&iat), "{iat}");
                assert!(c["auth_time"].as_i64().unwrap() <= iat);
            }),
        ),
    ];
    for (fault, check) in checks {
        let (emulator, tokens) = under(fault.clone()).await;
        let claims = id_claims(&tokens);
        check(&emulator, &claims);
        // The claim faults keep the signature valid: only the claims are wrong.
        assert!(
            verify(&emulator, tokens["id_token"].as_str().unwrap())
                .await
                .is_ok(),
            "{fault:?}"
        );
        // The access token is untouched, except for the clock.
        let access = decode(tokens["access_token"].as_str().unwrap()).1;
        if !matches!(fault, Fault::ClockSkew { .. }) {
            assert_eq!(access["iss"], emulator.issuer(), "{fault:?}");
            assert!(
                (now - 5..now + 5).contains(&access["iat"].as_i64().unwrap()),
                "{fault:?}"
            );
        }
    }
    let (_, tokens) = under(Fault::WrongAtHash).await;
    let real = crate::tokens::at_hash(SigningAlg::Rs256, tokens["access_token"].as_str().unwrap());
    assert_ne!(id_claims(&tokens)["at_hash"], real);
}

#[tokio::test]
async fn signature_faults() {
    let (emulator, tokens) = under(Fault::AlgNone).await;
    let token = tokens["id_token"].as_str().unwrap();
    assert_eq!(id_header(&tokens), json!({"alg": "none", "typ": "JWT"}));
    assert!(token.ends_with('.'));
    assert_eq!(
        id_claims(&tokens)["sub"],
        emulator.user_id("alice").unwrap()
    );

    let (_, tokens) = under(Fault::Hs256ClientSecret).await;
    assert_eq!(id_header(&tokens)["alg"], "HS256");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["acme-app"]);
    jsonwebtoken::decode::<Value>(
        tokens["id_token"].as_str().unwrap(),
        &DecodingKey::from_secret(b"acme-app-secret"),
        &validation,
    )
    .unwrap();

    let (emulator, tokens) = under(Fault::BadSignature).await;
    assert_eq!(id_header(&tokens)["kid"], emulator.current_kid());
    let error = verify(&emulator, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap_err();
    assert!(error.contains("InvalidSignature"), "{error}");
}

#[tokio::test]
async fn kid_faults() {
    let (emulator, tokens) = under(Fault::NoKid).await;
    assert!(id_header(&tokens).get("kid").is_none());
    assert_eq!(jwks(&emulator).await.keys.len(), 1);

    let (emulator, tokens) = under(Fault::NoKidMultipleKeys).await;
    assert!(id_header(&tokens).get("kid").is_none());
    assert!(jwks(&emulator).await.keys.len() >= 2);

    let (emulator, tokens) = under(Fault::UnknownKid).await;
    let kid = id_header(&tokens)["kid"].as_str().unwrap().to_string();
    assert!(jwks(&emulator).await.find(&kid).is_none());

    let emulator = start().await;
    let before = emulator.current_kid();
    emulator.inject(Fault::RotateBeforeSigning);
    let tokens = Login::new(&emulator).tokens("alice").await;
    let kid = id_header(&tokens)["kid"].as_str().unwrap().to_string();
    assert_ne!(kid, before);
    assert_eq!(kid, emulator.current_kid());
    // The relying party has to fetch the JWKS again, and finds both keys there.
    let published = jwks(&emulator).await;
    assert!(published.find(&kid).is_some() && published.find(&before).is_some());
    assert!(verify(&emulator, tokens["id_token"].as_str().unwrap())
        .await
        .is_ok());
}

#[tokio::test]
async fn refresh_and_userinfo_faults() {
    let emulator = start().await;
    emulator.inject(Fault::RefreshOtherSub);
    emulator.inject(Fault::RefreshWrongIssuer);
    emulator.inject(Fault::UserinfoOtherSub);
    let tokens = Login::new(&emulator).tokens("alice").await;
    let alice = emulator.user_id("alice").unwrap();
    let first = id_claims(&tokens);
    assert_eq!(
        (first["sub"].as_str(), first["iss"].as_str()),
        (Some(alice.as_str()), Some(emulator.issuer().as_str()))
    );
    let refreshed: Value = http()
        .post(format!(
            "{}/protocol/openid-connect/token",
            emulator.issuer()
        ))
        .basic_auth("acme-app", Some("acme-app-secret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = id_claims(&refreshed);
    assert_ne!(second["sub"], alice);
    assert_eq!(second["iss"], format!("{}-impostor", emulator.issuer()));
    let info: Value = http()
        .get(format!(
            "{}/protocol/openid-connect/userinfo",
            emulator.issuer()
        ))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(info["sub"], alice);
    assert!(info["sub"].is_string());

    // Cleared, everything is back to normal.
    emulator.clear_faults();
    let tokens = Login::new(&emulator).tokens("alice").await;
    assert_eq!(id_claims(&tokens)["sub"], alice);
}

#[tokio::test]
async fn jwks_and_discovery_faults() {
    let emulator = start().await;
    let certs = format!("{}/protocol/openid-connect/certs", emulator.issuer());
    assert_eq!(emulator.jwks_fetch_count(), 0);
    emulator.inject(Fault::JwksDown);
    assert_eq!(
        http().get(&certs).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(emulator.jwks_fetch_count(), 1);
    emulator.clear_faults();
    emulator.inject(Fault::JwksSlow { millis: 300 });
    let began = Instant::now();
    assert_eq!(
        http().get(&certs).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert!(began.elapsed() >= Duration::from_millis(300));
    assert_eq!(emulator.jwks_fetch_count(), 2);

    emulator.inject(Fault::DiscoveryIssuerMismatch);
    let document: Value = http()
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
    assert_eq!(
        document["issuer"],
        format!("{}-impostor", emulator.issuer())
    );
    assert_eq!(document["jwks_uri"], certs);
}

#[tokio::test]
async fn rotation_keeps_the_old_key_for_the_overlap() {
    let emulator = start().await;
    let first = emulator.current_kid();
    let old_tokens = Login::new(&emulator).tokens("alice").await;
    let second = emulator.rotate_keys();
    assert_eq!(emulator.current_kid(), second);
    let published: Vec<String> = jwks(&emulator)
        .await
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(published, [second.clone(), first.clone()]);
    // Tokens signed before the rotation still verify; new ones carry the new kid.
    assert!(verify(&emulator, old_tokens["id_token"].as_str().unwrap())
        .await
        .is_ok());
    let new_tokens = Login::new(&emulator).tokens("alice").await;
    assert_eq!(id_header(&new_tokens)["kid"], second);

    let no_overlap = start_with(IdpOptions {
        key_overlap: Duration::ZERO,
        ..IdpOptions::default()
    })
    .await;
    let old = no_overlap.current_kid();
    let new = no_overlap.rotate_keys();
    let published: Vec<String> = jwks(&no_overlap)
        .await
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(published, [new]);
    assert!(!published.contains(&old));
}
