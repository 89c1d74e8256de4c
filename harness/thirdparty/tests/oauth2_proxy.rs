//! oauth2-proxy started against the emulator, in both modes: a browser signs in through it, and
//! a bearer token from the emulator passes its gateway while a forged one does not.
//!
//! Skips (printing `SKIPPED: …`) without an oauth2-proxy binary, unless
//! `SSOPROOF_REQUIRE_PROBE_TARGETS=1`.

mod common;

use std::io::Write as _;

use common::{
    access_token, browser, keycloak, keycloak_with_api_audience, secret, sign_in, API_AUDIENCE,
    CLIENT,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use ssoproof_thirdparty::{launch_or_skip, OAuth2Proxy};

#[tokio::test]
async fn login_mode_signs_alice_in_and_tells_who_she_is() {
    let idp = keycloak().await;
    let proxy =
        launch_or_skip!(OAuth2Proxy::login(&idp.issuer(), CLIENT, &secret(&idp), &[]).await);
    assert_eq!(
        proxy.callback_url().as_str(),
        format!("{}oauth2/callback", proxy.base_url())
    );
    let browser = browser();
    let before = browser.get(proxy.whoami_url()).send().await.unwrap();
    assert_eq!(before.status(), StatusCode::UNAUTHORIZED);

    let landed = sign_in(&browser, proxy.login_url(), "alice", "alice-password").await;
    assert_eq!(landed.status, StatusCode::OK, "{landed:?}\n{}", proxy.log());
    assert_eq!(
        landed.url,
        *proxy.base_url(),
        "back where the login started"
    );
    assert_eq!(landed.body, "Authenticated", "static://200's page");

    let who: Value = browser
        .get(proxy.whoami_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["email"], "alice@example.com", "{who}");
    assert_eq!(who["groups"], json!(["/acme/admins"]), "{who}");
    assert_eq!(
        who["user"].as_str(),
        idp.subject("alice", CLIENT).as_deref(),
        "oauth2-proxy's user is the ID token's sub: {who}"
    );
}

#[tokio::test]
async fn login_mode_fails_to_start_with_the_reason_when_the_issuer_is_wrong() {
    let idp = keycloak().await;
    let wrong = format!("{}-not", idp.issuer());
    let Err(e) = OAuth2Proxy::login(&wrong, CLIENT, &secret(&idp), &[]).await else {
        panic!("oauth2-proxy started with an issuer that has no discovery document");
    };
    if let ssoproof_thirdparty::LaunchError::Unavailable(reason) = &e {
        // Past the harness's output capture, as launch_or_skip! prints.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
        return;
    }
    let message = e.to_string();
    assert!(
        message.starts_with("oauth2-proxy exited before it was ready"),
        "{message}"
    );
    assert!(
        message.contains("failed to discover OIDC configuration"),
        "the log says what failed: {message}"
    );
}

#[tokio::test]
async fn bearer_mode_passes_an_emulator_token_with_the_identity_and_refuses_a_forged_one() {
    let idp = keycloak_with_api_audience().await;
    let gateway = launch_or_skip!(
        OAuth2Proxy::bearer(&idp.issuer(), CLIENT, &secret(&idp), API_AUDIENCE, &[]).await
    );
    let token = access_token(&idp, "bob").await;
    let client = reqwest::Client::new();
    let url = gateway.url("/v1/models/gpt-4");

    let accepted = client
        .post(url.clone())
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK, "{}", gateway.log());
    assert_eq!(accepted.headers()["x-attach-user"], "bob@example.com");
    let who: Value = accepted.json().await.unwrap();
    assert_eq!(who["email"], "bob@example.com", "{who}");
    assert_eq!(who["groups"], json!(["/acme/engineers"]), "{who}");

    // The same token with its signature's last characters changed.
    let mut forged = token.expose().to_string();
    let cut = forged.len() - 4;
    forged.replace_range(cut.., "AAAA");
    let refused = client
        .post(url.clone())
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{}", gateway.log());
    assert!(refused.headers().get("x-attach-user").is_none());

    let anonymous = client.post(url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
