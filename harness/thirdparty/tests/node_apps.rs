//! The Node apps of scripts/interop/probe-targets started against the emulator: the
//! openid-client login app signs users in with the roles its map gives and refuses what it
//! must; the jose bearer API takes the emulator's access tokens, reports the identity and
//! applies its group rule.
//!
//! Skips (printing `SKIPPED: …`) without node or `npm ci` there, unless
//! `SSOPROOF_REQUIRE_PROBE_TARGETS=1`.

mod common;

use common::{
    access_token, browser, keycloak, keycloak_with_api_audience, secret, sign_in, API_AUDIENCE,
    CLIENT,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use ssoproof_thirdparty::{launch_or_skip, NodeApp};

const ROLES: &[(&str, &str)] = &[("/acme/admins", "admin"), ("/acme/engineers", "user")];

#[tokio::test]
async fn login_app_signs_alice_in_as_admin() {
    let idp = keycloak().await;
    let app =
        launch_or_skip!(NodeApp::login_app(&idp.issuer(), CLIENT, &secret(&idp), ROLES, &[]).await);
    let browser = browser();
    let before = browser.get(app.whoami_url()).send().await.unwrap();
    assert_eq!(before.status(), StatusCode::UNAUTHORIZED);

    let landed = sign_in(&browser, app.login_url(), "alice", "alice-password").await;
    assert_eq!(landed.status, StatusCode::OK, "{landed:?}\n{}", app.log());
    assert_eq!(
        landed.url,
        *app.base_url(),
        "the app's home page after the login"
    );
    let who: Value = browser
        .get(app.whoami_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sub = idp.subject("alice", CLIENT).unwrap();
    assert_eq!(
        who,
        json!({"sub": sub, "email": "alice@example.com", "role": "admin"})
    );
}

#[tokio::test]
async fn login_app_refuses_a_user_whose_groups_map_to_no_role_unless_a_default_is_set() {
    let idp = keycloak().await;
    let strict =
        launch_or_skip!(NodeApp::login_app(&idp.issuer(), CLIENT, &secret(&idp), ROLES, &[]).await);
    let browser = browser();
    let refused = sign_in(&browser, strict.login_url(), "dave", "dave-password").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert!(
        refused.body.contains("none of your groups maps to a role"),
        "{refused:?}"
    );
    let who = browser.get(strict.whoami_url()).send().await.unwrap();
    assert_eq!(
        who.status(),
        StatusCode::UNAUTHORIZED,
        "no session after a refused login"
    );

    let lenient = launch_or_skip!(
        NodeApp::login_app(
            &idp.issuer(),
            CLIENT,
            &secret(&idp),
            ROLES,
            &[("DEFAULT_ROLE", "viewer")]
        )
        .await
    );
    let browser = common::browser();
    let landed = sign_in(&browser, lenient.login_url(), "dave", "dave-password").await;
    assert_eq!(
        landed.status,
        StatusCode::OK,
        "{landed:?}\n{}",
        lenient.log()
    );
    let who: Value = browser
        .get(lenient.whoami_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["role"], "viewer", "{who}");
}

#[tokio::test]
async fn login_app_sends_pkce_state_and_nonce_and_refuses_an_error_callback() {
    let idp = keycloak().await;
    let app =
        launch_or_skip!(NodeApp::login_app(&idp.issuer(), CLIENT, &secret(&idp), ROLES, &[]).await);
    let browser = browser();
    let start = browser.get(app.login_url()).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::FOUND, "{}", app.log());
    let authorize = url::Url::parse(start.headers()["location"].to_str().unwrap()).unwrap();
    let param = |name: &str| {
        authorize
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(
        param("redirect_uri").as_deref(),
        Some(app.callback_url().as_str())
    );
    let state = param("state").expect("a state");
    assert!(param("nonce").is_some(), "a nonce: {authorize}");

    let mut callback = app.callback_url();
    callback
        .query_pairs_mut()
        .append_pair("error", "access_denied")
        .append_pair("state", &state);
    let answer = browser.get(callback).send().await.unwrap();
    assert!(answer.status().is_client_error(), "{}", answer.status());
    let who = browser.get(app.whoami_url()).send().await.unwrap();
    assert_eq!(who.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bearer_api_takes_emulator_tokens_applies_its_group_rule_and_refuses_forgeries() {
    let idp = keycloak_with_api_audience().await;
    let api = launch_or_skip!(
        NodeApp::bearer_api(
            &idp.issuer(),
            API_AUDIENCE,
            &[("gpt-4", "/acme/admins")],
            &[]
        )
        .await
    );
    let client = reqwest::Client::new();
    let model = api.url("/v1/models/gpt-4");

    let alice = access_token(&idp, "alice").await;
    let allowed = client
        .post(model.clone())
        .bearer_auth(alice.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK, "{}", api.log());
    assert_eq!(allowed.headers()["x-attach-user"], "alice@example.com");
    let who: Value = allowed.json().await.unwrap();
    assert_eq!(who["groups"], json!(["/acme/admins"]), "{who}");
    assert_eq!(who["sub"].as_str(), idp.subject("alice", CLIENT).as_deref());

    let bob = access_token(&idp, "bob").await;
    let outside = client
        .post(model.clone())
        .bearer_auth(bob.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::FORBIDDEN, "bob is no admin");
    let me = client
        .get(api.url("/v1/me"))
        .bearer_auth(bob.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        StatusCode::OK,
        "any valid token may ask who it is"
    );

    let mut forged = alice.expose().to_string();
    let cut = forged.len() - 4;
    forged.replace_range(cut.., "AAAA");
    let refused = client
        .post(model.clone())
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().get("x-attach-user").is_none());
    let anonymous = client.post(model).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bearer_api_refetches_the_keys_for_a_rotated_key_when_its_cooldown_allows() {
    let idp = keycloak_with_api_audience().await;
    // jose waits 30 s after a fetch before another by default; 0 lets this test rotate at once.
    let api = launch_or_skip!(
        NodeApp::bearer_api(&idp.issuer(), API_AUDIENCE, &[], &[("JWKS_COOLDOWN", "0")]).await
    );
    let client = reqwest::Client::new();
    let before = access_token(&idp, "bob").await;
    let answer = client
        .get(api.url("/v1/me"))
        .bearer_auth(before.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{}", api.log());

    idp.rotate_keys();
    let after = access_token(&idp, "bob").await;
    let answer = client
        .get(api.url("/v1/me"))
        .bearer_auth(after.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "a token signed with the new key: {}",
        api.log()
    );
}
