//! Raw protocol exchanges: what the IdP does with requests a correct application never sends.

use std::time::Duration;

use base64::Engine;
use cucumber::{then, when};
use sha2::{Digest, Sha256};

use super::{ensure, StepResult};
use crate::scenario::world::{Observed, RunbookWorld};
use ssoproof_rp::MemoryTokenStore;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a plain HTTP client builds")
}

async fn observe(response: reqwest::Result<reqwest::Response>) -> Result<Observed, String> {
    let response = response.map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.text().await.unwrap_or_default();
    Ok(Observed {
        status,
        location,
        body,
    })
}

async fn discovery(world: &mut RunbookWorld) -> Result<serde_json::Value, String> {
    let issuer = world.app().issuer.clone();
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let observed = observe(http().get(&url).send().await).await?;
    serde_json::from_str(&observed.body).map_err(|e| format!("discovery at {url} is not JSON: {e}"))
}

#[when("the operator fetches the discovery document")]
async fn fetch_discovery(world: &mut RunbookWorld) -> StepResult {
    let doc = discovery(world).await?;
    world.observed = Some(Observed {
        status: 200,
        location: None,
        body: doc.to_string(),
    });
    Ok(())
}

#[then("its issuer is byte-equal to the application's issuer")]
fn issuer_byte_equal(world: &mut RunbookWorld) -> StepResult {
    let observed = world
        .observed
        .clone()
        .ok_or("no discovery document was fetched")?;
    let doc: serde_json::Value = serde_json::from_str(&observed.body).map_err(|e| e.to_string())?;
    let configured = world.app().issuer.clone();
    ensure(doc["issuer"].as_str() == Some(configured.as_str()), || {
        format!(
            "discovery says {} but the application is configured with {configured}",
            doc["issuer"]
        )
    })
}

#[then(expr = "the issuer does not name the {string} realm")]
fn not_master(world: &mut RunbookWorld, realm: String) -> StepResult {
    let issuer = world.app().issuer.clone();
    ensure(
        !issuer
            .trim_end_matches('/')
            .ends_with(&format!("/realms/{realm}")),
        || format!("the application uses {issuer}"),
    )
}

async fn authorization_request(
    world: &mut RunbookWorld,
    method: &str,
    redirect_uri: Option<String>,
) -> StepResult {
    let doc = discovery(world).await?;
    let endpoint = doc["authorization_endpoint"]
        .as_str()
        .ok_or("discovery has no authorization_endpoint")?;
    let app = world.app().clone();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = match method {
        "plain" => verifier.to_string(),
        _ => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier)),
    };
    let redirect = redirect_uri.unwrap_or(app.redirect_uri.clone());
    let mut url = url::Url::parse(endpoint).map_err(|e| format!("authorization_endpoint: {e}"))?;
    url.query_pairs_mut()
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", "scenario-state")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", method);
    world.observed = Some(observe(http().get(url).send().await).await?);
    Ok(())
}

#[when(expr = "an authorization request asks for PKCE method {string}")]
async fn pkce_method(world: &mut RunbookWorld, method: String) -> StepResult {
    authorization_request(world, &method, None).await
}

#[when(expr = "an authorization request names the redirect URI {string}")]
async fn redirect_uri(world: &mut RunbookWorld, uri: String) -> StepResult {
    authorization_request(world, "S256", Some(uri)).await
}

#[then(expr = "the IdP redirects back with error {string}")]
fn redirects_with_error(world: &mut RunbookWorld, error: String) -> StepResult {
    let observed = world.observed.clone().ok_or("no request was sent")?;
    let redirect = world.app().redirect_uri.clone();
    let location = observed
        .location
        .ok_or_else(|| format!("the IdP answered {} without redirecting", observed.status))?;
    ensure(location.starts_with(&redirect), || {
        format!("redirected to {location}, not {redirect}")
    })?;
    let url = url::Url::parse(&location).map_err(|e| e.to_string())?;
    let got = url
        .query_pairs()
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned());
    ensure(got.as_deref() == Some(error.as_str()), || {
        format!("redirected with error {got:?}, expected {error}")
    })
}

#[then(expr = "the IdP shows {string} without redirecting")]
fn shows_without_redirect(world: &mut RunbookWorld, text: String) -> StepResult {
    let observed = world.observed.clone().ok_or("no request was sent")?;
    ensure(observed.location.is_none(), || {
        format!("the IdP redirected to {:?}", observed.location)
    })?;
    ensure(observed.body.contains(&text), || {
        format!("the page ({}) does not say `{text}`", observed.status)
    })
}

/// RP-initiated logout as an application sends the browser: discovery's `end_session_endpoint`
/// with the session's ID token as `id_token_hint`.
#[when(expr = "the application signs her out at the IdP, returning to {string}")]
async fn sign_out(world: &mut RunbookWorld, target: String) -> StepResult {
    let hint = world
        .session
        .as_ref()
        .ok_or("nobody signed in")?
        .id_token()
        .expose()
        .to_string();
    send_sign_out(
        world,
        &[
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", &target),
        ],
    )
    .await
}

/// RP-initiated sign-out that forgets the `id_token_hint`.
#[when(expr = "the application signs her out without a hint, returning to {string}")]
async fn sign_out_without_hint(world: &mut RunbookWorld, target: String) -> StepResult {
    send_sign_out(world, &[("post_logout_redirect_uri", &target)]).await
}

/// Cognito's `/logout`, which is not RP-Initiated Logout: `client_id` and `logout_uri`.
#[when(expr = "the application signs her out Cognito's way, returning to {string}")]
async fn sign_out_cognito(world: &mut RunbookWorld, target: String) -> StepResult {
    let client_id = world.app().client_id.clone();
    send_sign_out(
        world,
        &[("client_id", client_id.as_str()), ("logout_uri", &target)],
    )
    .await
}

async fn send_sign_out(world: &mut RunbookWorld, query: &[(&str, &str)]) -> StepResult {
    let doc = discovery(world).await?;
    let endpoint = doc["end_session_endpoint"]
        .as_str()
        .ok_or("discovery advertises no end_session_endpoint")?
        .to_string();
    world.observed = Some(observe(http().get(endpoint).query(query).send().await).await?);
    Ok(())
}

#[then(expr = "the IdP redirects to {string}")]
fn redirects_to(world: &mut RunbookWorld, target: String) -> StepResult {
    let observed = world.observed.clone().ok_or("no request was sent")?;
    ensure(
        (300..400).contains(&observed.status) && observed.location.as_deref() == Some(&target),
        || {
            format!(
                "the IdP answered {} with location {:?}",
                observed.status, observed.location
            )
        },
    )
}

#[when("the IdP's signing key is rotated")]
async fn rotate(world: &mut RunbookWorld) -> StepResult {
    world.rotated_kid = Some(world.idp().rotate_keys().await.map_err(|e| e.to_string())?);
    Ok(())
}

#[then("the IdP's JWKS no longer lists the key of her ID token")]
async fn jwks_dropped_session_key(world: &mut RunbookWorld) -> StepResult {
    let id_token = world
        .session
        .as_ref()
        .ok_or("nobody signed in")?
        .id_token()
        .expose()
        .to_string();
    let kid = jsonwebtoken::decode_header(&id_token)
        .map_err(|e| format!("the ID token's header is unreadable: {e}"))?
        .kid
        .ok_or("the ID token names no kid")?;
    let doc = discovery(world).await?;
    let jwks_uri = doc["jwks_uri"]
        .as_str()
        .ok_or("discovery advertises no jwks_uri")?;
    let jwks: serde_json::Value = http()
        .get(jwks_uri)
        .send()
        .await
        .map_err(|e| format!("GET {jwks_uri}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("GET {jwks_uri}: not JSON: {e}"))?;
    let listed: Vec<&str> = jwks["keys"]
        .as_array()
        .ok_or("the JWKS has no keys array")?
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    ensure(!listed.contains(&kid.as_str()), || {
        format!("the JWKS still lists {kid}: {listed:?}")
    })
}

/// Records the refresh's outcome like a sign-in's, so `Then` steps can expect either. A failed
/// refresh ends the application's session, as the runbooks require of the application: it keeps
/// no session its IdP no longer backs (a deprovisioned user's, above all).
#[when("the application refreshes the session")]
async fn refresh(world: &mut RunbookWorld) -> StepResult {
    let rp = world
        .rp
        .as_ref()
        .ok_or("the application never discovered the IdP")?;
    let session = world.session.as_mut().ok_or("nobody signed in")?;
    world.previous_refresh_token = session.refresh_token().cloned();
    let store = MemoryTokenStore::default();
    let outcome = rp.refresh(session, &store).await;
    if outcome.is_err() {
        world.session = None;
    }
    world.login = Some(outcome);
    Ok(())
}

#[then("the application has ended the session")]
fn session_ended(world: &mut RunbookWorld) -> StepResult {
    ensure(world.session.is_none(), || {
        "the application still holds the session (its last refresh succeeded)".to_string()
    })
}

#[when("the previous refresh token is presented again")]
async fn replay_refresh(world: &mut RunbookWorld) -> StepResult {
    let token = world
        .previous_refresh_token
        .clone()
        .ok_or("no refresh happened before")?;
    present_refresh_token(world, token).await
}

/// The session's current refresh token, the one the application stored last.
#[when("the newest refresh token is presented")]
async fn newest_refresh(world: &mut RunbookWorld) -> StepResult {
    let token = world
        .session
        .as_ref()
        .and_then(|s| s.refresh_token().cloned())
        .ok_or("the session holds no refresh token")?;
    present_refresh_token(world, token).await
}

async fn present_refresh_token(
    world: &mut RunbookWorld,
    token: ssoproof_secret::Secret,
) -> StepResult {
    let doc = discovery(world).await?;
    let endpoint = doc["token_endpoint"]
        .as_str()
        .ok_or("discovery has no token_endpoint")?
        .to_string();
    let app = world.app().clone();
    let secret = app.client_secret.as_ref().map(|s| s.expose().to_string());
    let request = http()
        .post(endpoint)
        .basic_auth(&app.client_id, secret)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token.expose()),
        ]);
    world.observed = Some(observe(request.send().await).await?);
    Ok(())
}

/// A 4xx with this OAuth error (400 for most IdPs; Auth0 answers `invalid_grant` with 403).
#[then(expr = "the IdP refuses it with {string}")]
fn refuses_with(world: &mut RunbookWorld, error: String) -> StepResult {
    let observed = world.observed.clone().ok_or("no request was sent")?;
    let body: serde_json::Value = serde_json::from_str(&observed.body)
        .map_err(|_| format!("the IdP answered {} with a non-JSON body", observed.status))?;
    ensure(
        (400..500).contains(&observed.status) && body["error"] == error.as_str(),
        || format!("the IdP answered {} {}", observed.status, body),
    )
}

#[then("the IdP accepts it")]
fn accepts(world: &mut RunbookWorld) -> StepResult {
    let observed = world.observed.clone().ok_or("no request was sent")?;
    let body: serde_json::Value = serde_json::from_str(&observed.body).unwrap_or_default();
    ensure(
        observed.status == 200 && body["access_token"].is_string(),
        || format!("the IdP answered {} {}", observed.status, body),
    )
}

#[then("the IdP shows its sign-in page")]
fn shows_sign_in(world: &mut RunbookWorld) -> StepResult {
    let observed = world.observed.clone().ok_or("no request was sent")?;
    ensure(
        observed.status == 200 && observed.location.is_none() && observed.body.contains("<form"),
        || {
            format!(
                "the IdP answered {} (location {:?})",
                observed.status, observed.location
            )
        },
    )
}
