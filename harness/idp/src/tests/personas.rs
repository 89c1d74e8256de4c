//! Persona behaviour over HTTP that the features do not reach: the admin API's persona edits,
//! token-endpoint refusals in each vendor's words, Google's identifier-first pages, and tokens
//! issued through Entra's `/common` endpoints.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{decode, form_action, http, location_params, pkce};
use crate::{Emulator, IdpOptions, Realm, SigningAlg};

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

/// A persona application to sign in to, with the vendor's paths and form fields.
struct App {
    file: &'static str,
    authorize: &'static str,
    token: &'static str,
    client_id: &'static str,
    secret: &'static str,
    /// Scopes that get a refresh token where the vendor issues one.
    scope: &'static str,
    user_field: &'static str,
    password_field: &'static str,
    user: &'static str,
}

const OKTA: App = App {
    file: "okta.yaml",
    authorize: "/oauth2/default/v1/authorize",
    token: "/oauth2/default/v1/token",
    client_id: "0oa1b2c3d4e5f6g7h8i9",
    secret: "acme-okta-client-secret",
    scope: "openid email offline_access",
    user_field: "identifier",
    password_field: "credentials.passcode",
    user: "alice@example.com",
};

const AUTH0: App = App {
    file: "auth0.yaml",
    authorize: "/authorize",
    token: "/oauth/token",
    client_id: "8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4",
    secret: "acme-auth0-client-secret",
    scope: "openid email offline_access",
    user_field: "username",
    password_field: "password",
    user: "alice@example.com",
};

const ENTRA: App = App {
    file: "entra-id.yaml",
    authorize: "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/authorize",
    token: "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token",
    client_id: "44444444-4444-4444-4444-444444444444",
    secret: "acme-entra-client-secret",
    scope: "openid email offline_access",
    user_field: "loginfmt",
    password_field: "passwd",
    user: "alice@example.com",
};

const COGNITO: App = App {
    file: "cognito.yaml",
    authorize: "/oauth2/authorize",
    token: "/oauth2/token",
    client_id: "4jt4a1b2c3d4e5f6g7h8i9j0k1",
    secret: "acme-cognito-client-secret",
    scope: "openid email",
    user_field: "username",
    password_field: "password",
    user: "alice",
};

const AUTHENTIK: App = App {
    file: "authentik.yaml",
    authorize: "/application/o/authorize/",
    token: "/application/o/token/",
    client_id: "acme-authentik-client",
    secret: "acme-authentik-client-secret",
    scope: "openid email offline_access",
    user_field: "uid_field",
    password_field: "password",
    user: "alice",
};

const GOOGLE: App = App {
    file: "google-workspace.yaml",
    authorize: "/o/oauth2/v2/auth",
    token: "/token",
    client_id: "123456789012-acmeappdirect.apps.googleusercontent.com",
    secret: "GOCSPX-acme-app-direct-secret",
    scope: "openid email",
    user_field: "identifier",
    password_field: "Passwd",
    user: "alice@example.com",
};

/// Signs `app.user` in through the sign-in form (identifier-first where the page asks so) and
/// returns the redirect back to the application, with the PKCE verifier.
async fn sign_in(
    emulator: &Emulator,
    app: &App,
    extra: &[(&str, &str)],
) -> (reqwest::Response, String) {
    let base = emulator.base_url();
    let (verifier, challenge) = pkce();
    let mut query = vec![
        ("client_id", app.client_id),
        ("redirect_uri", "http://127.0.0.1/callback"),
        ("response_type", "code"),
        ("scope", app.scope),
        ("state", "st"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    query.extend_from_slice(extra);
    let page = http()
        .get(format!("{base}{}", app.authorize))
        .query(&query)
        .send()
        .await
        .unwrap();
    if page.status() == StatusCode::FOUND {
        return (page, verifier);
    }
    let mut page = page.text().await.unwrap();
    let password = format!("{}-password", app.user.split('@').next().unwrap());
    let mut fields = vec![(app.user_field, app.user), (app.password_field, &password)];
    if !page.contains(&format!("name=\"{}\"", app.password_field)) {
        // Identifier first (Google): the password goes on the next page.
        let action = form_action(&page, "login-form");
        page = http()
            .post(format!("{base}{action}"))
            .form(&fields[..1])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        fields.remove(0);
    }
    let action = form_action(&page, "login-form");
    let redirect = http()
        .post(format!("{base}{action}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    (redirect, verifier)
}

/// The token response of a full code flow.
async fn sign_in_for_tokens(emulator: &Emulator, app: &App, extra: &[(&str, &str)]) -> Value {
    let (redirect, verifier) = sign_in(emulator, app, extra).await;
    assert_eq!(redirect.status(), StatusCode::FOUND, "{}", app.file);
    let code = location_params(&redirect)["code"].clone();
    let answer = http()
        .post(format!("{}{}", emulator.base_url(), app.token))
        .basic_auth(app.client_id, Some(app.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1/callback"),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{}", app.file);
    answer.json().await.unwrap()
}

async fn refresh(emulator: &Emulator, app: &App, refresh_token: &str) -> reqwest::Response {
    http()
        .post(format!("{}{}", emulator.base_url(), app.token))
        .basic_auth(app.client_id, Some(app.secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap()
}

/// A GET at a sign-out endpoint, `path` relative to the emulator's base.
async fn sign_out(emulator: &Emulator, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
    http()
        .get(format!("{}{path}", emulator.base_url()))
        .query(query)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_advertised_end_session_endpoint_is_served() {
    for (file, discovery) in [
        (
            "okta.yaml",
            "/oauth2/default/.well-known/openid-configuration",
        ),
        ("okta.yaml", "/.well-known/openid-configuration"),
        ("auth0.yaml", "/.well-known/openid-configuration"),
        (
            "entra-id.yaml",
            "/00000000-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration",
        ),
        (
            "entra-id.yaml",
            "/common/v2.0/.well-known/openid-configuration",
        ),
        (
            "cognito.yaml",
            "/us-east-1_AcMe12345/.well-known/openid-configuration",
        ),
        (
            "authentik.yaml",
            "/application/o/acme/.well-known/openid-configuration",
        ),
    ] {
        let emulator = persona(file).await;
        let document: Value = http()
            .get(format!("{}{discovery}", emulator.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let endpoint = document["end_session_endpoint"].as_str().unwrap();
        let answer = http().get(endpoint).send().await.unwrap();
        assert_ne!(answer.status(), StatusCode::NOT_FOUND, "{file} {endpoint}");
        assert_ne!(answer.status(), StatusCode::METHOD_NOT_ALLOWED, "{file}");
    }
    let google = persona("google-workspace.yaml").await;
    let document: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            google.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document.get("end_session_endpoint").is_none());
}

/// Signs in, signs out through `path` with `query` (the ID token added as `id_token_hint`
/// when `hint` is set), and returns the sign-out answer and the refresh token.
async fn sign_in_then_out(
    emulator: &Emulator,
    app: &App,
    path: &str,
    query: &[(&str, &str)],
    hint: bool,
) -> (reqwest::Response, String) {
    let tokens = sign_in_for_tokens(emulator, app, &[]).await;
    let mut query = query.to_vec();
    let id_token = tokens["id_token"].as_str().unwrap();
    if hint {
        query.push(("id_token_hint", id_token));
    }
    let answer = sign_out(emulator, path, &query).await;
    (
        answer,
        tokens["refresh_token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn okta_signs_out_to_registered_uris_and_keeps_refresh_tokens() {
    let okta = persona("okta.yaml").await;
    let logout = "/oauth2/default/v1/logout";
    let target = [
        ("post_logout_redirect_uri", "http://127.0.0.1/signed-out"),
        ("state", "s 1"),
    ];
    let (answer, refresh_token) = sign_in_then_out(&okta, &OKTA, logout, &target, true).await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(
        answer.headers()[reqwest::header::LOCATION],
        "http://127.0.0.1/signed-out?state=s+1"
    );
    // Okta's logout ends the browser session only; refresh tokens go through /v1/revoke.
    assert_eq!(
        refresh(&okta, &OKTA, &refresh_token).await.status(),
        StatusCode::OK
    );

    let unregistered = [("post_logout_redirect_uri", "http://127.0.0.1/callback")];
    let (answer, _) = sign_in_then_out(&okta, &OKTA, logout, &unregistered, true).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("must be a Logout redirect URI in the client app settings"));
    // Okta requires the hint, and only its own ID tokens.
    let missing = sign_out(&okta, logout, &target).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert!(missing.text().await.unwrap().contains("id_token_hint"));
    let forged = sign_out(&okta, logout, &[("id_token_hint", "e30.e30.x")]).await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    // The org server has its own.
    let (answer, _) = sign_in_then_out(&okta, &OKTA, "/oauth2/v1/logout", &target, true).await;
    assert_eq!(answer.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn auth0_checks_allowed_logout_urls_on_both_endpoints() {
    let auth0 = persona("auth0.yaml").await;
    let target = [
        ("post_logout_redirect_uri", "http://127.0.0.1/signed-out"),
        ("state", "s"),
    ];
    let (answer, refresh_token) =
        sign_in_then_out(&auth0, &AUTH0, "/oidc/logout", &target, true).await;
    assert_eq!(
        answer.headers()[reqwest::header::LOCATION],
        "http://127.0.0.1/signed-out?state=s"
    );
    assert_eq!(
        refresh(&auth0, &AUTH0, &refresh_token).await.status(),
        StatusCode::OK
    );
    // Without a hint the client is named by client_id.
    let named = sign_out(
        &auth0,
        "/oidc/logout",
        &[
            ("client_id", AUTH0.client_id),
            ("post_logout_redirect_uri", "http://127.0.0.1/signed-out"),
        ],
    )
    .await;
    assert_eq!(named.status(), StatusCode::FOUND);
    let refused = sign_out(
        &auth0,
        "/oidc/logout",
        &[
            ("client_id", AUTH0.client_id),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains(
        "The &quot;post_logout_redirect_uri&quot; querystring parameter &quot;https://evil.example/&quot; is not defined as a valid URL in &quot;Allowed Logout URLs&quot;"
    ));
    // The legacy endpoint: returnTo, checked against the same list; no state.
    let legacy = sign_out(
        &auth0,
        "/v2/logout",
        &[
            ("client_id", AUTH0.client_id),
            ("returnTo", "http://127.0.0.1/signed-out"),
            ("state", "s"),
        ],
    )
    .await;
    assert_eq!(
        legacy.headers()[reqwest::header::LOCATION],
        "http://127.0.0.1/signed-out"
    );
    let legacy = sign_out(
        &auth0,
        "/v2/logout",
        &[
            ("client_id", AUTH0.client_id),
            ("returnTo", "https://evil.example/"),
        ],
    )
    .await;
    assert!(legacy
        .text()
        .await
        .unwrap()
        .contains("&quot;returnTo&quot;"));
}

#[tokio::test]
async fn entra_returns_only_to_redirect_uris_and_otherwise_stays() {
    let entra = persona("entra-id.yaml").await;
    let logout = "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/logout";
    let (answer, refresh_token) = sign_in_then_out(
        &entra,
        &ENTRA,
        logout,
        &[("post_logout_redirect_uri", "http://127.0.0.1/callback")],
        true,
    )
    .await;
    assert_eq!(
        answer.headers()[reqwest::header::LOCATION],
        "http://127.0.0.1/callback"
    );
    // "Single sign-out on web" leaves refresh tokens alive.
    assert_eq!(
        refresh(&entra, &ENTRA, &refresh_token).await.status(),
        StatusCode::OK
    );
    let (answer, _) = sign_in_then_out(
        &entra,
        &ENTRA,
        logout,
        &[("post_logout_redirect_uri", "https://evil.example/")],
        true,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("You signed out of your account"));
}

#[tokio::test]
async fn cognito_signs_out_with_client_id_and_logout_uri() {
    let cognito = persona("cognito.yaml").await;
    let (answer, refresh_token) = sign_in_then_out(
        &cognito,
        &COGNITO,
        "/logout",
        &[
            ("client_id", COGNITO.client_id),
            ("logout_uri", "http://127.0.0.1/signed-out"),
        ],
        false,
    )
    .await;
    assert_eq!(
        answer.headers()[reqwest::header::LOCATION],
        "http://127.0.0.1/signed-out"
    );
    // /logout clears the hosted-UI cookie; refresh tokens go through /oauth2/revoke.
    assert_eq!(
        refresh(&cognito, &COGNITO, &refresh_token).await.status(),
        StatusCode::OK
    );
    // Not RP-Initiated Logout: post_logout_redirect_uri is not read.
    let oidc = sign_out(
        &cognito,
        "/logout",
        &[
            ("client_id", COGNITO.client_id),
            ("post_logout_redirect_uri", "http://127.0.0.1/signed-out"),
        ],
    )
    .await;
    assert_eq!(oidc.status(), StatusCode::BAD_REQUEST);
    let unregistered = sign_out(
        &cognito,
        "/logout",
        &[
            ("client_id", COGNITO.client_id),
            ("logout_uri", "http://127.0.0.1/callback"),
        ],
    )
    .await;
    assert!(unregistered
        .text()
        .await
        .unwrap()
        .contains("Error: redirect_mismatch"));
    let no_client = sign_out(
        &cognito,
        "/logout",
        &[("logout_uri", "http://127.0.0.1/signed-out")],
    )
    .await;
    assert!(no_client
        .text()
        .await
        .unwrap()
        .contains("Error: invalid_client"));
}

#[tokio::test]
async fn authentik_signs_out_to_registered_uris_with_a_hint_and_keeps_refresh_tokens() {
    let authentik = persona("authentik.yaml").await;
    let end_session = "/application/o/acme/end-session/";
    let target = [
        ("post_logout_redirect_uri", "http://127.0.0.1/signed-out"),
        ("state", "s 1"),
    ];
    let (answer, refresh_token) =
        sign_in_then_out(&authentik, &AUTHENTIK, end_session, &target, true).await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(
        answer.headers()[reqwest::header::LOCATION],
        "http://127.0.0.1/signed-out?state=s+1"
    );
    // Refresh tokens outlive the session end-session ends.
    assert_eq!(
        refresh(&authentik, &AUTHENTIK, &refresh_token)
            .await
            .status(),
        StatusCode::OK
    );
    // A post_logout_redirect_uri without id_token_hint, or an unregistered one, is refused.
    for (query, hint) in [
        (&target[..], false),
        (
            &[("post_logout_redirect_uri", "http://127.0.0.1/callback")][..],
            true,
        ),
    ] {
        let (answer, _) = sign_in_then_out(&authentik, &AUTHENTIK, end_session, query, hint).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(answer
            .text()
            .await
            .unwrap()
            .contains("The request is otherwise malformed"));
    }
    // Nothing to return to: signed out on authentik's page.
    let plain = sign_out(&authentik, end_session, &[]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.text().await.unwrap().contains("logged out of Acme"));
}

/// The `kid`s the authentik persona's JWKS lists.
async fn authentik_kids(authentik: &Emulator) -> Vec<String> {
    let jwks: Value = http()
        .get(format!("{}/application/o/acme/jwks/", authentik.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn authentik_switches_keys_when_another_certificate_is_selected_and_lists_only_it() {
    let authentik = persona("authentik.yaml").await;
    let before = authentik_kids(&authentik).await;
    assert_eq!(before.len(), 1);
    let url = format!("{}/_ssoproof/persona", authentik.base_url());
    let select = |name: &str| json!({"edit": "authentik_signing_key", "certificate": name});
    // The key already selected: nothing changes.
    let answer = http()
        .post(&url)
        .json(&select("authentik Self-signed Certificate"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(authentik_kids(&authentik).await, before);
    // Another pair: a new key, and the old one is gone from the JWKS at once.
    let answer = http()
        .post(&url)
        .json(&select("acme-signing-2026"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let after = authentik_kids(&authentik).await;
    assert_eq!(after.len(), 1);
    assert_ne!(after, before);
    let unknown = http()
        .post(&url)
        .json(&select("no-such-pair"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn authentik_refuses_a_used_refresh_token_but_keeps_its_successor() {
    let authentik = persona("authentik.yaml").await;
    let tokens = sign_in_for_tokens(&authentik, &AUTHENTIK, &[]).await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let answer = refresh(&authentik, &AUTHENTIK, first).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let rotated: Value = answer.json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    let replay = refresh(&authentik, &AUTHENTIK, first).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        replay.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // Unlike Okta's reuse detection, the successor still works.
    assert_eq!(
        refresh(&authentik, &AUTHENTIK, second).await.status(),
        StatusCode::OK
    );
    // No offline_access, no refresh token; a scope no mapping provides is dropped silently.
    let online = App {
        scope: "openid email unknown-scope",
        ..AUTHENTIK
    };
    let tokens = sign_in_for_tokens(&authentik, &online, &[]).await;
    assert!(tokens.get("refresh_token").is_none());
    assert_eq!(tokens["scope"], "openid email");
}

#[tokio::test]
async fn google_offline_refresh_tokens_keep_working() {
    let google = persona("google-workspace.yaml").await;
    let tokens = sign_in_for_tokens(&google, &GOOGLE, &[("access_type", "offline")]).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    for _ in 0..2 {
        let answer = refresh(&google, &GOOGLE, refresh_token).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let body: Value = answer.json().await.unwrap();
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "access_token",
                "expires_in",
                "id_token",
                "scope",
                "token_type"
            ]
        );
    }
    let online = sign_in_for_tokens(&google, &GOOGLE, &[]).await;
    assert!(online.get("refresh_token").is_none());
}

#[tokio::test]
async fn persona_error_redirects_carry_iss_when_asked() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/idp/okta.yaml");
    let options = IdpOptions {
        iss_parameter: Some(true),
        ..IdpOptions::default()
    };
    let okta = Emulator::start(Realm::from_persona(path).unwrap(), options)
        .await
        .unwrap();
    let issuer = format!("{}/oauth2/default", okta.base_url());
    let (prompt_none, _) = sign_in(&okta, &OKTA, &[("prompt", "none")]).await;
    let params = location_params(&prompt_none);
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["iss"], issuer);
    let groups = App {
        scope: "openid groups",
        ..OKTA
    };
    let (invalid_scope, _) = sign_in(&okta, &groups, &[]).await;
    let params = location_params(&invalid_scope);
    assert_eq!(params["error"], "invalid_scope");
    assert_eq!(params["iss"], issuer);
    let uma = App {
        user: "uma@example.com",
        ..OKTA
    };
    let (unassigned, _) = sign_in(&okta, &uma, &[]).await;
    let params = location_params(&unassigned);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["iss"], issuer);
    let (success, _) = sign_in(&okta, &OKTA, &[]).await;
    assert_eq!(location_params(&success)["iss"], issuer);
}

#[tokio::test]
async fn personas_refuse_a_signing_algorithm_their_vendor_does_not_use() {
    for file in [
        "okta.yaml",
        "auth0.yaml",
        "entra-id.yaml",
        "google-workspace.yaml",
        "cognito.yaml",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/idp")
            .join(file);
        for signing in [SigningAlg::Es256, SigningAlg::EdDsa] {
            let options = IdpOptions {
                signing,
                ..IdpOptions::default()
            };
            let refused = Emulator::start(Realm::from_persona(&path).unwrap(), options).await;
            let error = refused
                .err()
                .expect("a persona refuses --signing other than RS256");
            assert_eq!(error.code(), "idp/persona-signing", "{file}");
            assert!(
                error
                    .to_string()
                    .contains("RS256 its discovery document advertises"),
                "{error}"
            );
        }
    }
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

#[tokio::test]
async fn minted_persona_tokens_carry_the_claims_the_token_endpoint_issues() {
    // Each persona's scopes as the mint asks them: `openid` and whichever of `profile`,
    // `email`, `groups` the vendor grants the client.
    // Auth0 issues a JWT access token only for an API's audience; the mint asks for the first.
    let auth0_api: &[(&str, &str)] = &[("audience", "https://api.example.com")];
    for (app, scope, extra) in [
        (&OKTA, "openid profile email", &[][..]),
        (&AUTH0, "openid profile email", auth0_api),
        (&ENTRA, "openid profile email", &[]),
        (&GOOGLE, "openid profile email", &[]),
        (&COGNITO, "openid email", &[]),
        (&AUTHENTIK, "openid profile email groups", &[]),
    ] {
        let emulator = persona(app.file).await;
        let issued = sign_in_for_tokens(&emulator, &App { scope, ..*app }, extra).await;
        for (kind, field) in [
            (crate::TokenKind::Id, "id_token"),
            (crate::TokenKind::Access, "access_token"),
        ] {
            let request = crate::MintRequest {
                token: kind,
                username: Some(app.user.into()),
                client_id: Some(app.client_id.into()),
                ..crate::MintRequest::default()
            };
            let real = issued[field].as_str().unwrap();
            if real.split('.').count() != 3 {
                // An opaque access token (Google): none is minted.
                let refusal = emulator.mint(&request).unwrap_err();
                assert_eq!(refusal.code(), "idp/opaque-access-token", "{}", app.file);
                continue;
            }
            let minted = emulator.mint(&request).unwrap();
            let discovery: Value = http()
                .get(format!(
                    "{}/.well-known/openid-configuration",
                    emulator.issuers()[0].1.trim_end_matches('/')
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let jwks: jsonwebtoken::jwk::JwkSet = http()
                .get(discovery["jwks_uri"].as_str().unwrap())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let key = jsonwebtoken::DecodingKey::from_jwk(
                jwks.find(minted.header["kid"].as_str().unwrap()).unwrap(),
            )
            .unwrap();
            let (input, signature) = minted.token.rsplit_once('.').unwrap();
            assert!(jsonwebtoken::crypto::verify(
                signature,
                input.as_bytes(),
                &key,
                jsonwebtoken::Algorithm::RS256
            )
            .unwrap());
            let keys = |claims: &serde_json::Map<String, Value>| {
                let mut keys: Vec<String> = claims
                    .keys()
                    .filter(|k| !["at_hash", "c_hash", "nonce"].contains(&k.as_str()))
                    .cloned()
                    .collect();
                keys.sort();
                keys
            };
            let real = decode(real).1;
            let real = real.as_object().unwrap();
            assert_eq!(keys(&minted.claims), keys(real), "{} {field}", app.file);
            for claim in ["iss", "sub", "aud", "groups", "email", "cognito:groups"] {
                assert_eq!(
                    minted.claims.get(claim),
                    real.get(claim),
                    "{} {field} {claim}",
                    app.file
                );
            }
        }
    }
}

#[tokio::test]
async fn auth0_issues_jwt_access_tokens_for_an_api_audience_and_refuses_an_unknown_one() {
    let auth0 = persona("auth0.yaml").await;
    let api = "https://api.example.com";
    let tokens = sign_in_for_tokens(&auth0, &AUTH0, &[("audience", api)]).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (header, claims) = decode(access);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(
        claims["aud"],
        json!([api, format!("{}userinfo", auth0.issuer())])
    );
    assert_eq!(claims["azp"], AUTH0.client_id);
    assert_eq!(claims["iss"], auth0.issuer());
    assert_eq!(claims["scope"], "openid email offline_access");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        86400
    );
    // Its /userinfo accepts it, as Auth0's does.
    let userinfo = http()
        .get(format!("{}/userinfo", auth0.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), StatusCode::OK);
    // Without an audience, the encrypted token as before.
    let tokens = sign_in_for_tokens(&auth0, &AUTH0, &[]).await;
    assert_eq!(
        tokens["access_token"].as_str().unwrap().split('.').count(),
        5
    );
    // An audience no API has: Auth0's redirect.
    let (refused, _) = sign_in(&auth0, &AUTH0, &[("audience", "https://nope.example.com")]).await;
    let params = location_params(&refused);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(
        params["error_description"],
        "Service not found: https://nope.example.com"
    );
}

#[tokio::test]
async fn entra_issues_access_tokens_for_the_tenants_apis_in_their_version() {
    let entra = persona("entra-id.yaml").await;
    let tenant = "00000000-0000-0000-0000-000000000000";
    // The Acme app's own API, by its Application ID URI: v2.0, as its registration requests.
    let own = App {
        scope: "openid profile api://44444444-4444-4444-4444-444444444444/.default",
        ..ENTRA
    };
    let tokens = sign_in_for_tokens(&entra, &own, &[]).await;
    let (header, claims) = decode(tokens["access_token"].as_str().unwrap());
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["aud"], ENTRA.client_id);
    assert_eq!(
        claims["iss"],
        format!("https://login.microsoftonline.com/{tenant}/v2.0")
    );
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["azp"], ENTRA.client_id);
    assert_eq!(claims["scp"], "access_as_user");
    assert_eq!(claims["preferred_username"], "alice@example.com");
    // The API's groupMembershipClaims: the groups assigned to it.
    assert_eq!(
        claims["groups"],
        json!(["11111111-1111-1111-1111-111111111111"])
    );
    // The reporting app's API by its application id: v1.0 (no requested version), naming the
    // resource as asked, its security groups.
    let reporting = App {
        scope: "openid 55555555-5555-5555-5555-555555555555/.default",
        ..ENTRA
    };
    let tokens = sign_in_for_tokens(&entra, &reporting, &[]).await;
    let claims = decode(tokens["access_token"].as_str().unwrap()).1;
    assert_eq!(claims["aud"], "55555555-5555-5555-5555-555555555555");
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{tenant}/"));
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["appid"], ENTRA.client_id);
    assert_eq!(claims["upn"], "alice@example.com");
    assert_eq!(
        claims["groups"],
        json!([
            "11111111-1111-1111-1111-111111111111",
            "66666666-6666-6666-6666-666666666666"
        ])
    );
    // Without an API scope, the Graph token as before.
    let tokens = sign_in_for_tokens(&entra, &ENTRA, &[]).await;
    assert_eq!(
        decode(tokens["access_token"].as_str().unwrap()).1["aud"],
        "00000003-0000-0000-c000-000000000000"
    );
    for (scope, error, code) in [
        (
            "openid User.Read api://44444444-4444-4444-4444-444444444444/.default",
            "invalid_scope",
            "AADSTS28000",
        ),
        (
            "openid api://nope.example.com/.default",
            "invalid_resource",
            "AADSTS500011",
        ),
        (
            "openid api://44444444-4444-4444-4444-444444444444/write",
            "invalid_scope",
            "AADSTS70011",
        ),
    ] {
        let (refused, _) = sign_in(&entra, &App { scope, ..ENTRA }, &[]).await;
        let params = location_params(&refused);
        assert_eq!(params["error"], error, "{scope}");
        assert!(
            params["error_description"].starts_with(code),
            "{scope}: {params:?}"
        );
    }
}
