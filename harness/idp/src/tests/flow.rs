//! The code flow end to end, as a relying party drives it.

use std::time::{Duration, Instant};

use reqwest::header::{CACHE_CONTROL, LOCATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;
use crate::{IdpOptions, SigningAlg};

async fn refresh(emulator: &Emulator, refresh_token: &str) -> reqwest::Response {
    http()
        .post(format!(
            "{}/protocol/openid-connect/token",
            emulator.issuer()
        ))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "acme-app"),
            ("client_secret", "acme-app-secret"),
        ])
        .send()
        .await
        .unwrap()
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap().to_string(),
        body["error_description"].as_str().unwrap_or("").to_string(),
    )
}

async fn userinfo(emulator: &Emulator, access_token: &str) -> reqwest::Response {
    http()
        .get(format!(
            "{}/protocol/openid-connect/userinfo",
            emulator.issuer()
        ))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn discovery_names_keycloak_endpoints() {
    let emulator = start().await;
    let issuer = emulator.issuer();
    assert!(issuer.starts_with("http://127.0.0.1:") && issuer.ends_with("/realms/acme"));
    assert_eq!(issuer, format!("{}/realms/acme", emulator.base_url()));
    let document: Value = http()
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["issuer"], issuer);
    assert_eq!(
        document["authorization_endpoint"],
        format!("{issuer}/protocol/openid-connect/auth")
    );
    assert_eq!(
        document["jwks_uri"],
        format!("{issuer}/protocol/openid-connect/certs")
    );
    assert_eq!(
        document["end_session_endpoint"],
        format!("{issuer}/protocol/openid-connect/logout")
    );
    assert_eq!(document["response_types_supported"], json!(["code"]));
    assert_eq!(
        document["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        document["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert!(document["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("openid")));
    assert_eq!(
        document["authorization_response_iss_parameter_supported"],
        json!(true)
    );
    let jwks = jwks(&emulator).await;
    assert_eq!(jwks.keys.len(), 1);
    let key = serde_json::to_value(&jwks.keys[0]).unwrap();
    assert_eq!(
        (
            key["kid"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (
            Some(emulator.current_kid().as_str()),
            Some("RS256"),
            Some("sig")
        )
    );
    assert!(key.get("d").is_none(), "a private part in the JWKS");

    let other = http()
        .get(format!(
            "{}/realms/master/.well-known/openid-configuration",
            emulator.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        other.json::<Value>().await.unwrap()["error"],
        "Realm does not exist"
    );
}

#[tokio::test]
async fn code_flow_refresh_reuse_and_logout() {
    let emulator = start().await;
    let login = Login::new(&emulator);

    // The login page, a wrong password, then the right one.
    let page = login.authorize().await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let action = form_action(&page, "kc-form-login");
    assert!(
        action.starts_with("/realms/acme/login-actions/authenticate?session_code="),
        "{action}"
    );
    for field in ["execution=", "client_id=acme-app", "tab_id="] {
        assert!(action.contains(field), "{action}");
    }
    assert!(page.contains(r#"name="password""#) && page.contains(r#"type="password""#));
    assert!(page.contains(r#"name="credentialId""#) && page.contains(r#"name="login""#));
    let wrong = login.submit(&page, "alice", "nope").await;
    assert_eq!(wrong.status(), StatusCode::OK);
    let wrong = wrong.text().await.unwrap();
    assert_eq!(
        text_of(&wrong, "span#input-error").as_deref(),
        Some("Invalid username or password.")
    );
    // The old session code is spent: the retry uses the re-rendered form.
    assert_eq!(
        login
            .submit(&page, "alice", "alice-password")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let redirect = login.submit(&wrong, "alice", "alice-password").await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location = redirect.headers()[LOCATION].to_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1/callback?"),
        "{location}"
    );
    let params = location_params(&redirect);
    assert_eq!(params["state"], "st-1");
    // Keycloak sends RFC 9207's `iss` by default.
    assert_eq!(params["iss"], emulator.issuer());
    let session_state = params["session_state"].clone();
    let code = params["code"].clone();
    assert_eq!(code.split('.').nth(1), Some(session_state.as_str()));

    // Exchange with client_secret_basic; the code is single-use.
    let response = login.exchange(&code).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 300);
    assert_eq!(tokens["refresh_expires_in"], 1800);
    assert_eq!(tokens["scope"], "openid profile email");
    assert_eq!(tokens["session_state"], session_state);
    let replay = login.exchange(&code).await;
    assert_eq!(
        error_of(replay).await,
        (
            StatusCode::BAD_REQUEST,
            "invalid_grant".into(),
            "Code not valid".into()
        )
    );
    // …and the replay ended the client session, as Keycloak does.
    let (_, _, description) =
        error_of(refresh(&emulator, tokens["refresh_token"].as_str().unwrap()).await).await;
    assert_eq!(description, "Session doesn't have required client");

    // A fresh login, exchanged with client_secret_post.
    let login = Login::new(&emulator);
    let code = login.code("alice").await;
    let response = http()
        .post(format!(
            "{}/protocol/openid-connect/token",
            emulator.issuer()
        ))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", login.verifier.as_deref().unwrap()),
            ("client_id", "acme-app"),
            ("client_secret", "acme-app-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();

    // The ID token: Keycloak's claims, verified against the JWKS.
    let alice = emulator.user_id("alice").unwrap();
    let id = verify(&emulator, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(id["iss"], emulator.issuer());
    assert_eq!(id["aud"], "acme-app");
    assert_eq!(id["azp"], "acme-app");
    assert_eq!(id["sub"], alice);
    assert_eq!(alice, "6f1c2a4e-0b1d-4c55-9a6e-3f2b8c1d0a01");
    assert_eq!(id["typ"], "ID");
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["sid"], tokens["session_state"]);
    assert_eq!(id["preferred_username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Alice Admin");
    assert_eq!(
        (id["given_name"].as_str(), id["family_name"].as_str()),
        (Some("Alice"), Some("Admin"))
    );
    assert_eq!(id["groups"], json!(["/acme/admins"]));
    assert_eq!(id["acr"], "1");
    assert!(id["auth_time"].as_i64().unwrap() <= id["iat"].as_i64().unwrap());
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        300
    );
    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        id["at_hash"],
        crate::tokens::at_hash(SigningAlg::Rs256, access_token)
    );
    let (header, _) = decode(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str()),
        (Some("RS256"), Some("JWT"))
    );

    // The access token: a JWT with Keycloak's claims.
    let access = verify(&emulator, access_token).await.unwrap();
    assert_eq!(access["typ"], "Bearer");
    assert_eq!(access["azp"], "acme-app");
    assert_eq!(access["sub"], alice);
    assert_eq!(access["scope"], "openid profile email");
    assert_eq!(access["sid"], id["sid"]);
    assert!(access["jti"].as_str().unwrap().starts_with("onrtac:"));
    // Imported users hold no roles: no `aud: account`, no `realm_access` (as Keycloak 26.7.3).
    assert!(
        access.get("aud").is_none() && access.get("realm_access").is_none(),
        "{access}"
    );
    assert_eq!(
        access["allowed-origins"],
        json!(["http://127.0.0.1", "https://app.example.com"])
    );
    let (refresh_header, refresh_claims) = decode(tokens["refresh_token"].as_str().unwrap());
    assert_eq!(
        (
            refresh_header["alg"].as_str(),
            refresh_claims["typ"].as_str()
        ),
        (Some("HS512"), Some("Refresh"))
    );

    // Userinfo.
    let info = userinfo(&emulator, access_token).await;
    assert_eq!(info.status(), StatusCode::OK);
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["sub"], alice);
    assert_eq!(info["groups"], json!(["/acme/admins"]));
    assert_eq!(info["email"], "alice@example.com");
    let bad = userinfo(&emulator, "not-a-token").await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let challenge = bad.headers()[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );

    // Refresh rotates; reusing the old token is detected and ends the client session.
    let first_refresh = tokens["refresh_token"].as_str().unwrap();
    let rotated = refresh(&emulator, first_refresh).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let second_refresh = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);
    let refreshed_id = verify(&emulator, rotated["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (
            refreshed_id["sub"].as_str(),
            refreshed_id["auth_time"].as_i64()
        ),
        (Some(alice.as_str()), id["auth_time"].as_i64())
    );
    assert!(decode(rotated["access_token"].as_str().unwrap()).1["jti"]
        .as_str()
        .unwrap()
        .starts_with("onrtrt:"));
    assert_eq!(
        error_of(refresh(&emulator, first_refresh).await).await,
        (
            StatusCode::BAD_REQUEST,
            "invalid_grant".into(),
            "Maximum allowed refresh token reuse exceeded".into()
        )
    );
    assert_eq!(
        error_of(refresh(&emulator, second_refresh).await).await.2,
        "Session doesn't have required client"
    );

    // Logout with an id_token_hint ends the session: its refresh tokens stop working.
    let login = Login::new(&emulator);
    let tokens = login.tokens("bob").await;
    let logout = http()
        .get(format!(
            "{}/protocol/openid-connect/logout",
            emulator.issuer()
        ))
        .query(&[
            ("id_token_hint", tokens["id_token"].as_str().unwrap()),
            (
                "post_logout_redirect_uri",
                "https://app.example.com/auth/callback",
            ),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::FOUND);
    assert_eq!(
        logout.headers()[LOCATION],
        "https://app.example.com/auth/callback?state=bye"
    );
    assert_eq!(
        error_of(refresh(&emulator, tokens["refresh_token"].as_str().unwrap()).await)
            .await
            .2,
        "Session not active"
    );
    assert_eq!(
        userinfo(&emulator, tokens["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_refuses_unknown_targets_and_hints_without_ending_anything() {
    let emulator = start().await;
    let tokens = Login::new(&emulator).tokens("carol").await;
    let logout = |params: Vec<(&'static str, String)>| {
        let emulator = &emulator;
        async move {
            http()
                .get(format!(
                    "{}/protocol/openid-connect/logout",
                    emulator.issuer()
                ))
                .query(&params)
                .send()
                .await
                .unwrap()
        }
    };
    let hint = tokens["id_token"].as_str().unwrap().to_string();
    let refused = logout(vec![
        ("id_token_hint", hint.clone()),
        (
            "post_logout_redirect_uri",
            "https://evil.example.com/".into(),
        ),
    ])
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers().get(LOCATION).is_none());
    assert_eq!(
        text_of(&refused.text().await.unwrap(), "p.instruction").as_deref(),
        Some("Invalid redirect uri")
    );
    let forged = logout(vec![("id_token_hint", format!("{hint}x"))]).await;
    assert_eq!(
        text_of(&forged.text().await.unwrap(), "p.instruction").as_deref(),
        Some("Invalid parameter: id_token_hint")
    );
    // Nothing was ended.
    assert_eq!(
        refresh(&emulator, tokens["refresh_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    // Without a target: the logged-out page.
    let done = logout(vec![("id_token_hint", hint)]).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("You are logged out"));
}

#[tokio::test]
async fn disabled_users_cannot_log_in_or_refresh() {
    let emulator = start().await;
    let login = Login::new(&emulator);
    let page = login.login("erin", "erin-password").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        text_of(&page.text().await.unwrap(), "span#input-error").as_deref(),
        Some("Account is disabled, contact your administrator.")
    );
    // A wrong password does not reveal that the account is disabled.
    let page = login.login("erin", "wrong").await.text().await.unwrap();
    assert_eq!(
        text_of(&page, "span#input-error").as_deref(),
        Some("Invalid username or password.")
    );

    let tokens = Login::new(&emulator).tokens("bob").await;
    emulator.set_user_enabled("bob", false).unwrap();
    assert_eq!(
        error_of(refresh(&emulator, tokens["refresh_token"].as_str().unwrap()).await).await,
        (
            StatusCode::BAD_REQUEST,
            "invalid_grant".into(),
            "User disabled".into()
        )
    );
    assert_eq!(
        userinfo(&emulator, tokens["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    emulator.set_user_enabled("bob", true).unwrap();
    assert_eq!(
        refresh(&emulator, tokens["refresh_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        emulator
            .set_user_enabled("nobody", true)
            .unwrap_err()
            .code(),
        "idp/unknown-user"
    );
}

#[tokio::test]
async fn token_endpoint_errors() {
    let emulator = start().await;
    let token = |form: Vec<(&'static str, &'static str)>,
                 basic: Option<(&'static str, &'static str)>| {
        let emulator = &emulator;
        async move {
            let request = http().post(format!(
                "{}/protocol/openid-connect/token",
                emulator.issuer()
            ));
            let request = match basic {
                Some((id, secret)) => request.basic_auth(id, Some(secret)),
                None => request,
            };
            error_of(request.form(&form).send().await.unwrap()).await
        }
    };
    let code = vec![
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("redirect_uri", REDIRECT),
    ];
    assert_eq!(
        token(vec![], None).await,
        (
            StatusCode::BAD_REQUEST,
            "invalid_request".into(),
            "Missing form parameter: grant_type".into()
        )
    );
    assert_eq!(
        token(vec![("grant_type", "no_such_grant")], None).await.1,
        "unsupported_grant_type"
    );
    assert_eq!(
        token(code.clone(), Some(("nobody", "x"))).await,
        (
            StatusCode::UNAUTHORIZED,
            "invalid_client".into(),
            "Invalid client or Invalid client credentials".into()
        )
    );
    // Keycloak's answer to a wrong or missing secret is unauthorized_client.
    assert_eq!(
        token(code.clone(), Some(("acme-app", "wrong"))).await,
        (
            StatusCode::UNAUTHORIZED,
            "unauthorized_client".into(),
            "Invalid client or Invalid client credentials".into()
        )
    );
    let mut without_secret = code.clone();
    without_secret.push(("client_id", "acme-app"));
    assert_eq!(token(without_secret, None).await.1, "unauthorized_client");
    assert_eq!(
        token(code.clone(), Some(("acme-app", "acme-app-secret"))).await,
        (
            StatusCode::BAD_REQUEST,
            "invalid_grant".into(),
            "Code not valid".into()
        )
    );
    let mut twice = code.clone();
    twice.push(("code", "y"));
    assert_eq!(
        token(twice, Some(("acme-app", "acme-app-secret"))).await.2,
        "duplicated parameter"
    );
    let password = vec![
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "alice-password"),
    ];
    assert_eq!(
        token(password, Some(("acme-app", "acme-app-secret"))).await,
        (
            StatusCode::BAD_REQUEST,
            "unauthorized_client".into(),
            "Client not allowed for direct access grants".into()
        )
    );
    assert_eq!(
        token(
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "garbage")
            ],
            Some(("acme-app", "acme-app-secret"))
        )
        .await
        .2,
        "Invalid refresh token"
    );

    // A code is bound to its redirect URI, its client and its PKCE verifier.
    let login = Login::new(&emulator);
    let code = login.code("alice").await;
    let wrong_uri = http()
        .post(format!(
            "{}/protocol/openid-connect/token",
            emulator.issuer()
        ))
        .basic_auth("acme-app", Some("acme-app-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://app.example.com/auth/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(wrong_uri).await.2, "Incorrect redirect_uri");
    let login = Login::new(&emulator);
    let code = login.code("alice").await;
    let mut wrong_verifier = Login::new(&emulator);
    wrong_verifier.verifier = Some("a".repeat(43));
    assert_eq!(
        error_of(wrong_verifier.exchange(&code).await).await.2,
        "PKCE verification failed: Code mismatch"
    );
    let login = Login::new(&emulator);
    let code = login.code("alice").await;
    let mut other_client = Login::for_client(&emulator, "acme-consent", REDIRECT);
    other_client.verifier = login.verifier.clone();
    assert_eq!(
        error_of(other_client.exchange(&code).await).await.2,
        "Auth error: Found different client_id in clientSession"
    );
}

#[tokio::test]
async fn consent_screen_then_remembered() {
    let emulator = start().await;
    let login = Login::for_client(&emulator, "acme-consent", REDIRECT);
    let consent = login.login("bob", "bob-password").await;
    assert_eq!(consent.status(), StatusCode::OK);
    let page = consent.text().await.unwrap();
    let action = form_action(&page, "kc-oauth");
    assert!(
        page.contains(r#"<button name="accept" id="kc-login" type="submit">Yes</button>"#)
            && page.contains(r#"name="cancel""#)
    );
    let code = scraper::Html::parse_document(&page)
        .select(&scraper::Selector::parse("input[name=code]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_string();
    let cancel = login
        .http
        .post(format!("{}{action}", emulator.base_url()))
        .form(&[("code", code.as_str()), ("cancel", "No")])
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::FOUND);
    let params = location_params(&cancel);
    assert_eq!(
        (params["error"].as_str(), params["state"].as_str()),
        ("access_denied", "st-1")
    );

    let page = login
        .login("bob", "bob-password")
        .await
        .text()
        .await
        .unwrap();
    let action = form_action(&page, "kc-oauth");
    let code = page
        .split(r#"name="code" value=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let accept = login
        .http
        .post(format!("{}{action}", emulator.base_url()))
        .form(&[("code", code.as_str()), ("accept", "Yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(accept.status(), StatusCode::FOUND);
    assert!(location_params(&accept).contains_key("code"));
    // Consent is remembered: the next login goes straight back.
    assert_eq!(
        login.login("bob", "bob-password").await.status(),
        StatusCode::FOUND
    );
}

#[tokio::test]
async fn public_client_wildcard_redirect_any_loopback_port() {
    let emulator = start().await;
    let login = Login::for_client(
        &emulator,
        "acme-spa",
        "http://127.0.0.1:5173/spa/after-login",
    );
    let tokens = login.tokens("dave").await;
    let id = verify(&emulator, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (id["aud"].as_str(), id["groups"].clone()),
        (Some("acme-spa"), json!(["/acme/contractors"]))
    );
    // A public client must use PKCE: the fixture enforces S256.
    let without = Login::for_client(&emulator, "acme-spa", "http://127.0.0.1/spa/")
        .without("code_challenge")
        .without("code_challenge_method");
    let refused = without.authorize().await;
    assert_eq!(
        location_params(&refused)["error_description"],
        "Missing parameter: code_challenge_method"
    );
}

#[tokio::test]
async fn response_modes_and_the_iss_parameter() {
    let emulator = start_with(IdpOptions {
        iss_parameter: Some(true),
        ..IdpOptions::default()
    })
    .await;
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
        document["authorization_response_iss_parameter_supported"],
        true
    );
    let login = Login::new(&emulator).param("response_mode", "fragment");
    let redirect = login.login("alice", "alice-password").await;
    let location = redirect.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(
        location.starts_with("http://127.0.0.1/callback#"),
        "{location}"
    );
    let params = location_params(&redirect);
    assert_eq!(params["iss"], emulator.issuer());
    assert!(params.contains_key("code"));

    let login = Login::new(&emulator).param("response_mode", "form_post");
    let page = login.login("alice", "alice-password").await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(r#"action="http://127.0.0.1/callback""#) && page.contains(r#"name="code""#),
        "{page}"
    );
    assert!(
        page.contains(&format!(r#"name="iss" value="{}""#, emulator.issuer())),
        "{page}"
    );
}

#[tokio::test]
async fn signing_algorithms() {
    for alg in [SigningAlg::Es256, SigningAlg::EdDsa] {
        let emulator = start_with(IdpOptions {
            signing: alg,
            ..IdpOptions::default()
        })
        .await;
        let tokens = Login::new(&emulator).tokens("alice").await;
        let id_token = tokens["id_token"].as_str().unwrap();
        assert_eq!(decode(id_token).0["alg"], alg.as_str());
        let id = verify(&emulator, id_token).await.unwrap();
        assert_eq!(
            id["at_hash"],
            crate::tokens::at_hash(alg, tokens["access_token"].as_str().unwrap())
        );
    }
}

/// Prints the start time and the login round trip (authorize, form, code exchange) for each
/// algorithm; `cargo test --lib starts_and_logs_in -- --nocapture` shows them.
#[tokio::test]
async fn starts_and_logs_in_quickly() {
    for alg in [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa] {
        let started = Instant::now();
        let emulator = start_with(IdpOptions {
            signing: alg,
            ..IdpOptions::default()
        })
        .await;
        let start_time = started.elapsed();
        let login = Login::new(&emulator);
        // Warm up the connection and the lazily parsed pool key.
        login.tokens("alice").await;
        let rounds = 10;
        let began = Instant::now();
        for _ in 0..rounds {
            login.tokens("alice").await;
        }
        let per_login = began.elapsed() / rounds;
        println!("{alg}: Emulator::start {start_time:?}, login round trip {per_login:?}");
        // Generous bounds that only catch a regression such as key generation at start.
        assert!(start_time < Duration::from_millis(500), "{start_time:?}");
        assert!(per_login < Duration::from_millis(250), "{per_login:?}");
    }
}

#[tokio::test]
async fn back_channel_logout_ends_the_session() {
    let emulator = start().await;
    let tokens = Login::new(&emulator).tokens("alice").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let logout = |client_id: &'static str, secret: &'static str| {
        let emulator = &emulator;
        async move {
            http()
                .post(format!(
                    "{}/protocol/openid-connect/logout",
                    emulator.issuer()
                ))
                .basic_auth(client_id, Some(secret))
                .form(&[("refresh_token", refresh_token)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        logout("acme-app", "wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let other_client = logout("acme-consent", "acme-consent-secret").await;
    assert_eq!(
        error_of(other_client).await.2,
        "Invalid refresh token. Token client and authorized client don't match"
    );
    assert_eq!(
        logout("acme-app", "acme-app-secret").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        error_of(refresh(&emulator, refresh_token).await).await.2,
        "Session not active"
    );
}

#[tokio::test]
async fn password_grant_when_direct_access_is_enabled() {
    let realm = Realm::from_keycloak_json(
        &fixture_text().replace(
            r#""directAccessGrantsEnabled": false"#,
            r#""directAccessGrantsEnabled": true"#,
        ),
        std::path::Path::new("direct.json"),
    )
    .unwrap();
    let emulator = Emulator::start(realm, IdpOptions::default()).await.unwrap();
    let grant = |username: &'static str, password: &'static str, scope: &'static str| {
        let emulator = &emulator;
        async move {
            http()
                .post(format!(
                    "{}/protocol/openid-connect/token",
                    emulator.issuer()
                ))
                .basic_auth("acme-app", Some("acme-app-secret"))
                .form(&[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", password),
                    ("scope", scope),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let tokens: Value = grant("bob", "bob-password", "openid phone")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["scope"], "openid profile email phone");
    let id = decode(tokens["id_token"].as_str().unwrap()).1;
    let access = decode(tokens["access_token"].as_str().unwrap()).1;
    // Keycloak's password grant carries no auth_time.
    assert!(id.get("auth_time").is_none() && access.get("auth_time").is_none());
    assert!(access["jti"].as_str().unwrap().starts_with("onrtro:"));
    assert_eq!(id["groups"], json!(["/acme/engineers"]));
    // Without openid: no ID token, as in Keycloak.
    let tokens: Value = grant("bob", "bob-password", "").await.json().await.unwrap();
    assert!(tokens.get("id_token").is_none());
    assert_eq!(tokens["scope"], "profile email");
    assert_eq!(
        error_of(grant("bob", "nope", "openid").await).await,
        (
            StatusCode::UNAUTHORIZED,
            "invalid_grant".into(),
            "Invalid user credentials".into()
        )
    );
    assert_eq!(
        error_of(grant("erin", "erin-password", "openid").await)
            .await
            .2,
        "Account disabled"
    );
    assert_eq!(
        error_of(grant("bob", "bob-password", "openid groups").await)
            .await
            .1,
        "invalid_scope"
    );
}

#[tokio::test]
async fn dropping_the_emulator_stops_the_server() {
    let emulator = start().await;
    let discovery = format!("{}/.well-known/openid-configuration", emulator.issuer());
    let client = http();
    assert_eq!(
        client.get(&discovery).send().await.unwrap().status(),
        StatusCode::OK
    );
    drop(emulator);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // A fresh client: no pooled connection to reuse.
        if http().get(&discovery).send().await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still serving after drop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn serves_https_with_a_local_ca_that_only_its_trusting_clients_reach() {
    use ssoproof_rp::{ClientConfig, RelyingParty};
    use ssoproof_server::tls::LocalCa;

    let ca = LocalCa::generate().unwrap();
    let tls = ca
        .issue_server_cert(&["127.0.0.1"])
        .unwrap()
        .server_config()
        .unwrap();
    let emulator = start_with(IdpOptions {
        tls: Some(tls),
        ..IdpOptions::default()
    })
    .await;
    let issuer = emulator.issuer();
    assert!(issuer.starts_with("https://127.0.0.1:"), "{issuer}");
    let trusting = ca.client().unwrap();
    let document: Value = trusting
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["issuer"], issuer.as_str());
    assert!(document["jwks_uri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    // The admin API still knows its peer is on loopback over TLS.
    let state = trusting
        .get(format!("{}/_ssoproof/state", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(state.status(), StatusCode::OK);

    // The reference relying party signs in when told to trust the CA, and only then.
    let mut config = ClientConfig::new(&issuer, "acme-app", REDIRECT);
    config.client_secret = Some("acme-app-secret".into());
    config.role_mappings = vec![("/acme/admins".into(), config.roles.role("admin").unwrap())];
    let err = RelyingParty::discover(config.clone()).await.unwrap_err();
    assert_eq!(err.code(), "discovery_failed", "{err}");
    config.trusted_ca_pem = Some("not a certificate".into());
    let err = RelyingParty::discover(config.clone()).await.unwrap_err();
    assert_eq!(err.code(), "config_invalid", "{err}");
    config.trusted_ca_pem = Some(ca.cert_pem().to_string());
    let rp = RelyingParty::discover(config).await.unwrap();
    let session = rp.login("alice", &"alice-password".into()).await.unwrap();
    assert_eq!(session.outcome.role, "admin");
}
