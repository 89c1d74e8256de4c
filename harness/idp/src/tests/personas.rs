//! Persona behaviour over HTTP that the features do not reach: the admin API's persona edits,
//! token-endpoint refusals in each vendor's words, Google's identifier-first pages, and tokens
//! issued through Entra's `/common` endpoints.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{decode, form_action, http, location_params, pkce};
use crate::{Emulator, IdpOptions, Realm};

async fn persona(file: &str) -> Emulator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/idp")
        .join(file);
    Emulator::start(Realm::from_persona(path).unwrap(), IdpOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_admin_api_edits_personas() {
    let okta = persona("okta.yaml").await;
    let url = format!("{}/_ssoproof/persona", okta.base_url());
    let edit = json!({"edit": "okta_groups_claim", "server": "default",
                      "filter": {"type": "REGEX", "value": "app-.*"}});
    let answer = http().post(&url).json(&edit).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let bad_regex = json!({"edit": "okta_groups_claim", "filter": {"type": "REGEX", "value": "("}});
    let answer = http().post(&url).json(&bad_regex).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::CONFLICT);
    let other_vendor = json!({"edit": "google_consent_screen", "user_type": "external"});
    let answer = http().post(&url).json(&other_vendor).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::CONFLICT);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "idp/persona");
    let clock = format!("{}/_ssoproof/clock", okta.base_url());
    let answer = http()
        .post(&clock)
        .json(&json!({"seconds": 31}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);

    let keycloak = super::start().await;
    let answer = http()
        .post(format!("{}/_ssoproof/persona", keycloak.base_url()))
        .json(&other_vendor)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn token_endpoints_refuse_clients_in_the_vendors_words() {
    for (file, path, client, status, error) in [
        (
            "okta.yaml",
            "/oauth2/default/v1/token",
            "0oa1b2c3d4e5f6g7h8i9",
            401,
            "invalid_client",
        ),
        (
            "auth0.yaml",
            "/oauth/token",
            "8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4",
            401,
            "access_denied",
        ),
        (
            "entra-id.yaml",
            "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token",
            "44444444-4444-4444-4444-444444444444",
            401,
            "invalid_client",
        ),
        (
            "google-workspace.yaml",
            "/token",
            "123456789012-acmeappdirect.apps.googleusercontent.com",
            401,
            "invalid_client",
        ),
        (
            "cognito.yaml",
            "/oauth2/token",
            "4jt4a1b2c3d4e5f6g7h8i9j0k1",
            400,
            "invalid_client",
        ),
    ] {
        let emulator = persona(file).await;
        let answer = http()
            .post(format!("{}{path}", emulator.base_url()))
            .basic_auth(client, Some("wrong"))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), status, "{file}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], error, "{file}: {body}");
        let answer = http()
            .post(format!("{}{path}", emulator.base_url()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{file}");
    }
}

#[tokio::test]
async fn google_asks_for_the_identifier_then_the_password() {
    let google = persona("google-workspace.yaml").await;
    let (_, challenge) = pkce();
    let page = http()
        .get(format!("{}/o/oauth2/v2/auth", google.base_url()))
        .query(&[
            (
                "client_id",
                "123456789012-acmeappdirect.apps.googleusercontent.com",
            ),
            ("redirect_uri", "http://127.0.0.1/callback"),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "s"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"identifier\"") && !page.contains("type=\"password\""));
    let action = form_action(&page, "login-form");
    let page = http()
        .post(format!("{}{action}", google.base_url()))
        .form(&[("identifier", "alice@example.com")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"Passwd\"") && page.contains("alice@example.com"));
    let action = form_action(&page, "login-form");
    let redirect = http()
        .post(format!("{}{action}", google.base_url()))
        .form(&[("Passwd", "alice-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let params = location_params(&redirect);
    assert!(params["code"].starts_with("4/0A"));
    assert_eq!(params["hd"], "example.com");
    assert_eq!(params["state"], "s");
}

#[tokio::test]
async fn tokens_through_entra_common_carry_the_tenant_issuer() {
    let entra = persona("entra-id.yaml").await;
    let base = entra.base_url();
    let (verifier, challenge) = pkce();
    let page = http()
        .get(format!("{base}/common/oauth2/v2.0/authorize"))
        .query(&[
            ("client_id", "44444444-4444-4444-4444-444444444444"),
            ("redirect_uri", "http://127.0.0.1/callback"),
            ("response_type", "code"),
            ("scope", "openid profile"),
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
        .post(format!("{base}{action}"))
        .form(&[("loginfmt", "bob@example.com"), ("passwd", "bob-password")])
        .send()
        .await
        .unwrap();
    let code = location_params(&redirect)["code"].clone();
    let tokens: Value = http()
        .post(format!("{base}/common/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1/callback"),
            ("code_verifier", &verifier),
            ("client_id", "44444444-4444-4444-4444-444444444444"),
            ("client_secret", "acme-entra-client-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, claims) = decode(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        claims["iss"],
        format!("{base}/00000000-0000-0000-0000-000000000000/v2.0")
    );
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        tokens.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    assert_eq!(tokens["scope"], "User.Read openid profile");
}

#[tokio::test]
async fn keycloaks_sign_in_with_google_link_leads_to_the_google_persona() {
    let google = persona("google-workspace.yaml").await;
    let broker = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/keycloak-google-broker.json");
    let realm = Realm::from_keycloak_export(broker).unwrap();
    assert!(realm.warnings.is_empty(), "{:?}", realm.warnings);
    let keycloak = Emulator::start(
        realm,
        IdpOptions {
            upstreams: vec![("google".into(), google.issuer())],
            ..IdpOptions::default()
        },
    )
    .await
    .unwrap();
    let login = super::Login::new(&keycloak);
    let page = login.authorize().await.text().await.unwrap();
    let document = scraper::Html::parse_document(&page);
    let link = document
        .select(&scraper::Selector::parse("a#social-google").unwrap())
        .next()
        .expect("the login page offers Google")
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    assert!(
        link.starts_with("/realms/acme/broker/google/login?"),
        "{link}"
    );
    let redirect = login
        .http
        .get(format!("{}{link}", keycloak.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location = redirect.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        location.starts_with(&format!("{}/o/oauth2/v2/auth?", google.base_url())),
        "{location}"
    );
    let params = location_params(&redirect);
    assert_eq!(params["hd"], "example.com");
    assert_eq!(
        params["client_id"],
        "123456789012-keycloakbroker.apps.googleusercontent.com"
    );
    assert_eq!(
        params["redirect_uri"],
        format!("{}/realms/acme/broker/google/endpoint", keycloak.base_url())
    );
}

#[tokio::test]
async fn an_upstream_for_no_identity_provider_of_the_realm_is_refused() {
    let broker = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/keycloak-google-broker.json");
    let realm = Realm::from_keycloak_export(broker).unwrap();
    let err = crate::check_upstream(&realm, "nosuchalias").unwrap_err();
    assert_eq!(err.code(), "idp/unknown-upstream");
    assert_eq!(
        err.to_string(),
        "the realm has no identity provider \"nosuchalias\" to serve an upstream for; its identity providers are \"google\""
    );
    crate::check_upstream(&realm, "google").unwrap();
    // Emulator::start makes the same check, so no caller can pass an unused upstream.
    let refused = Emulator::start(
        realm,
        IdpOptions {
            upstreams: vec![("nosuchalias".into(), "http://127.0.0.1:1".into())],
            ..IdpOptions::default()
        },
    )
    .await;
    assert_eq!(refused.err().unwrap().code(), "idp/unknown-upstream");
    // A realm without identity providers says so.
    let err = crate::check_upstream(&super::fixture(), "google").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("it has no `identityProviders` at all"),
        "{err}"
    );
}
