//! The personas' shapes, pinned: each persona's discovery document, ID token claims, access
//! token claims (or what an opaque one looks like) and userinfo answer, after a real sign-in
//! through the reference relying party. Per-run values are replaced before snapshotting: the
//! port (`[port]`), times (`[time]`), and random ids, nonces and hashes (`[random]`). The vendor
//! documents behind each shape are listed in `ssoproof_idp::persona`'s module documentation.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use ssoproof_idp::{Emulator, IdpOptions, Realm};
use ssoproof_rp::{ClientConfig, RelyingParty};
use ssoproof_secret::Secret;

/// Claims whose values change at every run.
const TIMES: [&str; 4] = ["iat", "exp", "nbf", "auth_time"];
const RANDOM: [&str; 13] = [
    "jti",
    "nonce",
    "at_hash",
    "sid",
    "aio",
    "uti",
    "rh",
    "event_id",
    "origin_jti",
    "c_hash",
    "session_state",
    "correlation_id",
    "trace_id",
];

async fn start(file: &str) -> Emulator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/idp")
        .join(file);
    let realm = Realm::from_persona(&path).unwrap_or_else(|e| panic!("{e}"));
    Emulator::start(realm, IdpOptions::default()).await.unwrap()
}

fn redact(value: &Value, base: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(base, "http://127.0.0.1:[port]")),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact(v, base)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if TIMES.contains(&k.as_str()) {
                        Value::from("[time]")
                    } else if RANDOM.contains(&k.as_str()) {
                        match v.as_str() {
                            // Okta's `ID.`/`AT.` prefixes are part of the shape.
                            Some(s) if s.starts_with("ID.") => Value::from("ID.[random]"),
                            Some(s) if s.starts_with("AT.") => Value::from("AT.[random]"),
                            _ => Value::from("[random]"),
                        }
                    } else {
                        redact(v, base)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

fn jwt_parts(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.split('.');
    let mut decode = || -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()
    };
    let header = decode()?;
    let claims = decode()?;
    (token.split('.').count() == 3).then_some((header, claims))
}

/// A JWT's header (without its `kid`) and claims; or the shape of an opaque token.
fn describe_token(token: &str, base: &str) -> String {
    if let Some((mut header, claims)) = jwt_parts(token) {
        header.as_object_mut().unwrap().remove("kid");
        return format!(
            "header: {}\nclaims: {}",
            pretty(&header),
            pretty(&redact(&claims, base))
        );
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 5 {
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        return format!(
            "opaque: a JWE the application cannot read ({} parts, encrypted key empty: {})\nheader: {}",
            parts.len(),
            parts[1].is_empty(),
            pretty(&redact(&header, base))
        );
    }
    // A vendor prefix (Google's `ya29.`) is part of the shape; the rest is random.
    match token.split_once('.').filter(|(p, _)| p.len() <= 6) {
        Some((prefix, _)) => format!(
            "opaque: not a JWT ({} characters, prefix {:?})",
            token.len(),
            format!("{prefix}.")
        ),
        None => format!("opaque: not a JWT ({} characters)", token.len()),
    }
}

struct Shapes {
    discovery: String,
    id_token: String,
    access_token: String,
    userinfo: String,
}

async fn shapes(
    emulator: &Emulator,
    issuer: String,
    client_id: &str,
    username: &str,
    password: &str,
    scopes: &[&str],
) -> Shapes {
    let base = emulator.base_url();
    let mut config = ClientConfig::new(issuer, client_id, "http://127.0.0.1/callback");
    config.client_secret = emulator.client_secret(client_id);
    config.scopes = scopes.iter().map(|s| s.to_string()).collect();
    config.groups_claim = "sub".into();
    config.default_role = Some(config.roles.role("viewer").unwrap());
    let rp = RelyingParty::discover(config).await.unwrap();
    let discovery = pretty(&redact(rp.discovery(), &base));
    let session = rp
        .login(username, &Secret::new(password))
        .await
        .unwrap_or_else(|e| panic!("{username}: [{}] {e}", e.code()));
    let id_token = describe_token(session.id_token().expose(), &base);
    let access_token = describe_token(session.access_token().expose(), &base);
    let endpoint = rp.discovery()["userinfo_endpoint"].as_str().unwrap();
    let userinfo: Map<String, Value> = reqwest::Client::new()
        .get(endpoint)
        .bearer_auth(session.access_token().expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Shapes {
        discovery,
        id_token,
        access_token,
        userinfo: pretty(&redact(&Value::Object(userinfo), &base)),
    }
}

fn snapshot(prefix: &str, shapes: Shapes) {
    insta::assert_snapshot!(format!("{prefix}_discovery"), shapes.discovery);
    insta::assert_snapshot!(format!("{prefix}_id_token"), shapes.id_token);
    insta::assert_snapshot!(format!("{prefix}_access_token"), shapes.access_token);
    insta::assert_snapshot!(format!("{prefix}_userinfo"), shapes.userinfo);
}

#[tokio::test]
async fn okta_custom_authorization_server() {
    let okta = start("okta.yaml").await;
    let shapes = shapes(
        &okta,
        okta.issuer(),
        "0oa1b2c3d4e5f6g7h8i9",
        "alice@example.com",
        "alice-password",
        &["openid", "email", "profile"],
    )
    .await;
    snapshot("okta_default", shapes);
}

#[tokio::test]
async fn okta_org_authorization_server() {
    let okta = start("okta.yaml").await;
    let org = okta
        .issuers()
        .into_iter()
        .find(|(id, _)| id == "org")
        .unwrap()
        .1;
    let shapes = shapes(
        &okta,
        org,
        "0oa1b2c3d4e5f6g7h8i9",
        "alice@example.com",
        "alice-password",
        &["openid", "email", "profile", "groups"],
    )
    .await;
    snapshot("okta_org", shapes);
}

#[tokio::test]
async fn auth0_tenant() {
    let auth0 = start("auth0.yaml").await;
    let shapes = shapes(
        &auth0,
        auth0.issuer(),
        "8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4",
        "alice@example.com",
        "alice-password",
        &["openid", "email", "profile"],
    )
    .await;
    snapshot("auth0", shapes);
}

#[tokio::test]
async fn entra_tenant() {
    let entra = start("entra-id.yaml").await;
    let shapes = shapes(
        &entra,
        entra.issuer(),
        "44444444-4444-4444-4444-444444444444",
        "alice@example.com",
        "alice-password",
        &["openid", "email", "profile"],
    )
    .await;
    snapshot("entra", shapes);
}

#[tokio::test]
async fn entra_overage() {
    let entra = start("entra-id.yaml").await;
    entra
        .edit_persona(&ssoproof_idp::PersonaEdit::EntraGroupMembershipClaims {
            value: "SecurityGroup".into(),
        })
        .unwrap();
    let shapes = shapes(
        &entra,
        entra.issuer(),
        "44444444-4444-4444-4444-444444444444",
        "olga@example.com",
        "olga-password",
        &["openid", "profile"],
    )
    .await;
    insta::assert_snapshot!("entra_overage_id_token", shapes.id_token);
}

#[tokio::test]
async fn entra_other_discovery_documents() {
    let entra = start("entra-id.yaml").await;
    let base = entra.base_url();
    for (key, name) in [
        ("common", "entra_common_discovery"),
        ("v1", "entra_v1_discovery"),
    ] {
        let location = entra
            .issuers()
            .into_iter()
            .find(|(id, _)| id == key)
            .unwrap()
            .1;
        let document: Value = reqwest::get(format!("{location}/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        insta::assert_snapshot!(name, pretty(&redact(&document, &base)));
    }
}

#[tokio::test]
async fn google_workspace_account() {
    let google = start("google-workspace.yaml").await;
    let shapes = shapes(
        &google,
        google.issuer(),
        "123456789012-acmeappdirect.apps.googleusercontent.com",
        "alice@example.com",
        "alice-password",
        &["openid", "email", "profile"],
    )
    .await;
    snapshot("google", shapes);
}

#[tokio::test]
async fn cognito_user_pool() {
    let cognito = start("cognito.yaml").await;
    let shapes = shapes(
        &cognito,
        cognito.issuer(),
        "4jt4a1b2c3d4e5f6g7h8i9j0k1",
        "carol",
        "carol-password",
        &["openid", "email"],
    )
    .await;
    snapshot("cognito", shapes);
}

#[tokio::test]
async fn authentik_provider() {
    let authentik = start("authentik.yaml").await;
    let shapes = shapes(
        &authentik,
        authentik.issuer(),
        "acme-authentik-client",
        "carol",
        "carol-password",
        &["openid", "email", "profile", "groups", "offline_access"],
    )
    .await;
    // The access token's `uid` is random at authentik (Okta's `uid` is the stable user id, so
    // it is not redacted for every persona).
    let at = shapes.access_token.find("\"uid\": \"").unwrap() + "\"uid\": \"".len();
    let end = at + shapes.access_token[at..].find('"').unwrap();
    assert_eq!(end - at, 40, "{}", shapes.access_token);
    let access_token = format!(
        "{}[random]{}",
        &shapes.access_token[..at],
        &shapes.access_token[end..]
    );
    snapshot(
        "authentik",
        Shapes {
            access_token,
            ..shapes
        },
    );
}
