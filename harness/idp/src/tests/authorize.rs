//! The authorization endpoint's refusals: error pages that never redirect, and redirected OAuth
//! errors.

use std::path::Path;

use reqwest::header::LOCATION;
use reqwest::StatusCode;

use super::*;
use crate::{Emulator, IdpOptions, Realm};

async fn instruction(response: reqwest::Response) -> (StatusCode, bool, Option<String>) {
    let status = response.status();
    let redirected = response.headers().get(LOCATION).is_some();
    let page = response.text().await.unwrap();
    (status, redirected, text_of(&page, "p.instruction"))
}

fn error_of(response: &reqwest::Response) -> (String, Option<String>) {
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = location_params(response);
    (
        params["error"].clone(),
        params.get("error_description").cloned(),
    )
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_an_error_page_never_a_redirect() {
    let emulator = start().await;
    for uri in [
        "https://evil.example.com/callback",
        "https://app.example.com/auth/callback/",
        "http://127.0.0.1/callback/extra",
        "",
    ] {
        // Even with other faults, the redirect URI is judged first.
        let login =
            Login::for_client(&emulator, "acme-app", uri).param("code_challenge_method", "plain");
        let (status, redirected, message) = instruction(login.authorize().await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(!redirected, "{uri}");
        assert_eq!(
            message.as_deref(),
            Some("Invalid parameter: redirect_uri"),
            "{uri}"
        );
    }
    let (status, redirected, message) = instruction(
        Login::for_client(&emulator, "nobody", REDIRECT)
            .authorize()
            .await,
    )
    .await;
    assert_eq!(
        (status, redirected, message.as_deref()),
        (StatusCode::BAD_REQUEST, false, Some("Client not found."))
    );
}

#[tokio::test]
async fn oauth_errors_are_redirected_with_state() {
    let emulator = start().await;
    let cases: Vec<(Login<'_>, &str, Option<&str>)> = vec![
        (
            Login::new(&emulator).param("response_type", "token"),
            "unauthorized_client",
            None,
        ),
        (
            Login::new(&emulator).param("response_type", "id_token code"),
            "unauthorized_client",
            None,
        ),
        (
            Login::new(&emulator).param("response_mode", "jwt"),
            "invalid_request",
            Some("Invalid parameter: response_mode"),
        ),
        (
            Login::new(&emulator).param("scope", "profile"),
            "invalid_scope",
            Some("Invalid scopes: profile"),
        ),
        (
            Login::new(&emulator).param("scope", "openid groups"),
            "invalid_scope",
            Some("Invalid scopes: openid groups"),
        ),
        (
            Login::new(&emulator).param("prompt", "none"),
            "login_required",
            None,
        ),
        (
            Login::new(&emulator).param("code_challenge_method", "plain"),
            "invalid_request",
            Some("Invalid parameter: code challenge method is not matching the configured one"),
        ),
        (
            Login::new(&emulator).without("code_challenge_method"),
            "invalid_request",
            Some("Missing parameter: code_challenge_method"),
        ),
        (
            Login::new(&emulator).without("code_challenge"),
            "invalid_request",
            Some("Missing parameter: code_challenge"),
        ),
    ];
    for (login, error, description) in cases {
        let response = login.authorize().await;
        let params = location_params(&response);
        let (got_error, got_description) = error_of(&response);
        assert_eq!(got_error, error, "{params:?}");
        if let Some(description) = description {
            assert_eq!(got_description.as_deref(), Some(description), "{params:?}");
        }
        assert_eq!(params["state"], "st-1");
    }
    // Implicit response types are answered in the fragment.
    let implicit = Login::new(&emulator)
        .param("response_type", "token")
        .authorize()
        .await;
    assert!(implicit.headers()[LOCATION]
        .to_str()
        .unwrap()
        .contains("#error=unauthorized_client"));
    let unknown = Login::new(&emulator)
        .param("response_type", "magic")
        .authorize()
        .await;
    assert_eq!(
        error_of(&unknown),
        ("unsupported_response_type".into(), None)
    );
    let missing = Login::new(&emulator).without("response_type");
    let mut query = vec![
        ("client_id", "acme-app".to_string()),
        ("redirect_uri", REDIRECT.to_string()),
    ];
    query.extend(missing.extra.iter().cloned());
    let response = http()
        .get(format!(
            "{}/protocol/openid-connect/auth",
            emulator.issuer()
        ))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(&response).1.as_deref(),
        Some("Missing parameter: response_type")
    );
    let twice = Login::new(&emulator);
    let response = http()
        .get(format!(
            "{}/protocol/openid-connect/auth",
            emulator.issuer()
        ))
        .query(&[
            ("client_id", "acme-app"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("nonce", "a"),
            ("nonce", "b"),
        ])
        .query(&twice.extra)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(&response).1.as_deref(),
        Some("duplicated parameter")
    );
}

#[tokio::test]
async fn a_client_configured_for_plain_pkce_cannot_log_in() {
    let realm = Realm::from_keycloak_json(
        r#"{"realm": "acme", "enabled": true, "clients": [{"clientId": "legacy", "publicClient": true,
            "redirectUris": ["http://127.0.0.1/callback"], "attributes": {"pkce.code.challenge.method": "plain"}}]}"#,
        Path::new("legacy.json"),
    )
    .unwrap();
    let emulator = Emulator::start(realm, IdpOptions::default()).await.unwrap();
    let s256 = Login::for_client(&emulator, "legacy", REDIRECT)
        .authorize()
        .await;
    assert_eq!(
        error_of(&s256),
        (
            "invalid_request".into(),
            Some(
                "Invalid parameter: code challenge method is not matching the configured one"
                    .into()
            )
        )
    );
    let plain = Login::for_client(&emulator, "legacy", REDIRECT)
        .param("code_challenge_method", "plain")
        .authorize()
        .await;
    assert_eq!(error_of(&plain).0, "invalid_request");
}
