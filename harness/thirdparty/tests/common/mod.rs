//! What the launcher tests share: the emulator, a minimal cookie-keeping browser that signs in
//! through the emulator's login form, and an access token for a fixture user.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use scraper::{Html, Selector};
use ssoproof_idp::{Emulator, IdpOptions, ProtocolMapper, Realm};
use ssoproof_rp::{ClientConfig, RelyingParty};
use ssoproof_secret::Secret;
use url::Url;

pub const CLIENT: &str = "acme-app";

/// The audience acme-app's access tokens carry in [`keycloak_with_api_audience`].
pub const API_AUDIENCE: &str = "acme-api";

pub async fn keycloak() -> Emulator {
    Emulator::keycloak().await.expect("the emulator starts")
}

/// The built-in realm with an audience mapper on acme-app (as a Keycloak admin adds one for an
/// API): its access tokens carry `aud: acme-api`, which bearer APIs check.
pub async fn keycloak_with_api_audience() -> Emulator {
    let mut realm = Realm::builtin_keycloak();
    let app = realm
        .clients
        .iter_mut()
        .find(|c| c.client_id == CLIENT)
        .expect("the realm has acme-app");
    app.protocol_mappers.push(ProtocolMapper {
        name: "api audience".to_string(),
        protocol_mapper: "oidc-audience-mapper".to_string(),
        config: [
            ("included.custom.audience", API_AUDIENCE),
            ("access.token.claim", "true"),
            ("id.token.claim", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    });
    Emulator::start(realm, IdpOptions::default())
        .await
        .expect("the emulator starts")
}

pub fn secret(idp: &Emulator) -> Secret {
    idp.client_secret(CLIENT).expect("acme-app is confidential")
}

/// A browser: keeps cookies, follows nothing on its own (sign_in does, hop by hop).
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client builds")
}

/// The page a browser ends on.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub url: Url,
    /// Shown when a test fails.
    pub body: String,
}

/// Opens `start`, follows redirects, fills the emulator's login form with `username` and
/// `password`, and follows on until a page that is neither a redirect nor the login form: the
/// app's answer.
pub async fn sign_in(browser: &Client, start: Url, username: &str, password: &str) -> Page {
    let mut answer = browser
        .get(start)
        .send()
        .await
        .expect("the login URL answers");
    for _ in 0..10 {
        let here = answer.url().clone();
        if answer.status().is_redirection() {
            let location = answer.headers()["location"]
                .to_str()
                .expect("an ASCII location");
            let next = here.join(location).expect("a valid location");
            answer = browser
                .get(next)
                .send()
                .await
                .expect("the redirect target answers");
            continue;
        }
        let status = answer.status();
        let body = answer.text().await.expect("a page");
        let Some(action) = login_form_action(&body) else {
            return Page {
                status,
                url: here,
                body,
            };
        };
        let target = here.join(&action).expect("a valid form action");
        answer = browser
            .post(target)
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .expect("the login form answers");
    }
    panic!("more than 10 hops from the login URL");
}

fn login_form_action(html: &str) -> Option<String> {
    let page = Html::parse_document(html);
    let form = Selector::parse("form#kc-form-login").expect("a valid selector");
    let action = page.select(&form).next()?.value().attr("action")?;
    Some(action.to_string())
}

/// An access token for `username` from the emulator (the code flow, as acme-app).
pub async fn access_token(idp: &Emulator, username: &str) -> Secret {
    let mut config = ClientConfig::new(idp.issuer(), CLIENT, "http://127.0.0.1/callback");
    config.client_secret = Some(secret(idp));
    // Any fixture user: the role is not what these tests look at.
    config.default_role = Some(config.roles.role("viewer").expect("a default role"));
    let rp = RelyingParty::discover(config).await.expect("discovery");
    let password = idp.password(username).expect("a fixture user");
    let session = rp
        .login(username, &password)
        .await
        .expect("the login succeeds");
    session.access_token().clone()
}
