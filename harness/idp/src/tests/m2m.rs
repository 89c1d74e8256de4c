//! The `client_credentials` grant of the vendor personas: each vendor's token shape and
//! refusals, from a persona file that enables it the vendor's way.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

/// The repository's persona `file`, with `edits` (each replacing one text) applied.
async fn persona_with(file: &str, edits: &[(&str, &str)]) -> Emulator {
    let path = format!("{}/../../fixtures/idp/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{file} has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    let realm = Realm::from_persona_yaml(&text, Path::new(file)).unwrap();
    Emulator::start(realm, IdpOptions::default()).await.unwrap()
}

/// POSTs a client credentials request to `path` with HTTP Basic (or the id alone without a
/// secret) and these extra parameters.
async fn m2m(
    emulator: &Emulator,
    path: &str,
    client: (&str, Option<&str>),
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    let request = http().post(format!("{}{path}", emulator.base_url()));
    let request = match client.1 {
        Some(secret) => request.basic_auth(client.0, Some(secret)),
        None => {
            form.push(("client_id", client.0));
            request
        }
    };
    let response = request.form(&form).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

async fn grant_types(emulator: &Emulator, discovery: &str) -> Value {
    http()
        .get(format!("{}{discovery}", emulator.base_url()))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["grant_types_supported"]
        .clone()
}

const OKTA_APP: (&str, Option<&str>) = ("0oa1b2c3d4e5f6g7h8i9", Some("acme-okta-client-secret"));
const OKTA_TOKEN: &str = "/oauth2/default/v1/token";

#[tokio::test]
async fn okta_issues_a_service_token_for_custom_scopes_of_a_custom_server() {
    let okta = persona_with(
        "okta.yaml",
        &[
            ("scopes: []", "scopes: [models.invoke, models.list]"),
            (
                "grant_types: [authorization_code, refresh_token]",
                "grant_types: [authorization_code, refresh_token, client_credentials]",
            ),
        ],
    )
    .await;
    let (status, body) = m2m(&okta, OKTA_TOKEN, OKTA_APP, &[("scope", "models.invoke")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "models.invoke");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let claims = verify_at(
        &okta,
        body["access_token"].as_str().unwrap(),
        "/oauth2/default/v1/keys",
    )
    .await;
    assert_eq!(claims["iss"], format!("{}/oauth2/default", okta.base_url()));
    assert_eq!(claims["aud"], "api://default");
    assert_eq!(claims["sub"], OKTA_APP.0);
    assert_eq!(claims["cid"], OKTA_APP.0);
    assert_eq!(claims["scp"], json!(["models.invoke"]));
    assert_eq!(claims["ver"], 1);
    assert!(claims.get("uid").is_none(), "{claims}");
    assert!(claims["jti"].as_str().unwrap().starts_with("AT."));

    let cases = [
        (vec![], error("invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")),
        (vec![("scope", "openid models.invoke")], error("invalid_scope", "Client Credentials requests cannot contain OpenID scopes.")),
        (vec![("scope", "models.delete")], error("invalid_scope", "One or more scopes are not configured for the authorization server resource.")),
    ];
    for (extra, expected) in cases {
        assert_eq!(
            m2m(&okta, OKTA_TOKEN, OKTA_APP, &extra).await,
            (StatusCode::BAD_REQUEST, expected)
        );
    }
    // The org server serves Okta's own APIs to private_key_jwt clients only.
    assert_eq!(
        m2m(&okta, "/oauth2/v1/token", OKTA_APP, &[("scope", "okta.users.read")]).await,
        (
            StatusCode::UNAUTHORIZED,
            error("invalid_client", "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.")
        )
    );
    // A wrong secret fails client authentication first.
    assert_eq!(
        m2m(
            &okta,
            OKTA_TOKEN,
            (OKTA_APP.0, Some("wrong")),
            &[("scope", "models.invoke")]
        )
        .await,
        (
            StatusCode::UNAUTHORIZED,
            error(
                "invalid_client",
                "The client secret supplied for a confidential client is invalid."
            )
        )
    );
    assert!(
        grant_types(&okta, "/oauth2/default/.well-known/openid-configuration")
            .await
            .as_array()
            .unwrap()
            .contains(&json!("client_credentials"))
    );
}

#[tokio::test]
async fn okta_refuses_an_app_without_the_grant_type() {
    let okta = persona_with("okta.yaml", &[("scopes: []", "scopes: [models.invoke]")]).await;
    assert_eq!(
        m2m(&okta, OKTA_TOKEN, OKTA_APP, &[("scope", "models.invoke")]).await,
        (
            StatusCode::BAD_REQUEST,
            error("unauthorized_client", "The client is not authorized to use the provided grant type. Configured grant types: [authorization_code, refresh_token].")
        )
    );
}

/// Verifies a token's signature against the JWKS at `jwks`; the claims.
async fn verify_at(emulator: &Emulator, token: &str, jwks: &str) -> Value {
    let set: jsonwebtoken::jwk::JwkSet = http()
        .get(format!("{}{jwks}", emulator.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(set.find(&header.kid.unwrap()).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn google_has_no_client_credentials_grant() {
    let google = persona_with("google-workspace.yaml", &[]).await;
    let app = (
        "123456789012-acmeappdirect.apps.googleusercontent.com",
        Some("GOCSPX-acme-app-direct-secret"),
    );
    assert_eq!(
        m2m(&google, "/token", app, &[("scope", "openid")]).await,
        (
            StatusCode::BAD_REQUEST,
            error(
                "unsupported_grant_type",
                "Invalid grant_type: client_credentials"
            )
        )
    );
    assert!(!grant_types(&google, "/.well-known/openid-configuration")
        .await
        .as_array()
        .unwrap()
        .contains(&json!("client_credentials")));
}

const AUTH0_APP: (&str, Option<&str>) = (
    "8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4",
    Some("acme-auth0-client-secret"),
);
const MODELS: &str = "https://models.acme.example";

/// The fixture tenant with an API the application is authorized for, and the grant type on.
const AUTH0_M2M: [(&str, &str); 2] = [
    (
        "grant_types: [authorization_code, refresh_token]",
        "grant_types: [authorization_code, refresh_token, client_credentials]",
    ),
    (
        "apis:\n",
        "apis:\n  - name: Acme Models\n    identifier: https://models.acme.example\n    permissions: [invoke:models, list:models]\n    machine_to_machine:\n      - client_id: 8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4\n        permissions: [invoke:models, list:models]\n  - name: Billing\n    identifier: https://billing.acme.example\n",
    ),
];

#[tokio::test]
async fn auth0_issues_a_machine_to_machine_token_for_an_authorized_api() {
    let auth0 = persona_with("auth0.yaml", &AUTH0_M2M).await;
    let (status, body) = m2m(&auth0, "/oauth/token", AUTH0_APP, &[("audience", MODELS)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    assert_eq!(body["scope"], "invoke:models list:models");
    let claims = verify_at(
        &auth0,
        body["access_token"].as_str().unwrap(),
        "/.well-known/jwks.json",
    )
    .await;
    assert_eq!(claims["iss"], format!("{}/", auth0.base_url()));
    assert_eq!(claims["sub"], format!("{}@clients", AUTH0_APP.0));
    assert_eq!(claims["aud"], MODELS);
    assert_eq!(claims["gty"], "client-credentials");
    assert_eq!(claims["azp"], AUTH0_APP.0);
    // A `scope` narrows the granted permissions.
    let (_, narrowed) = m2m(
        &auth0,
        "/oauth/token",
        AUTH0_APP,
        &[("audience", MODELS), ("scope", "list:models delete:models")],
    )
    .await;
    assert_eq!(narrowed["scope"], "list:models");

    let denied = |description: &str| (StatusCode::FORBIDDEN, error("access_denied", description));
    assert_eq!(
        m2m(&auth0, "/oauth/token", AUTH0_APP, &[]).await,
        denied("No audience parameter was provided, and no default audience has been configured")
    );
    assert_eq!(
        m2m(
            &auth0,
            "/oauth/token",
            AUTH0_APP,
            &[("audience", "https://nope.example")]
        )
        .await,
        denied("Service not found: https://nope.example")
    );
    assert_eq!(
        m2m(&auth0, "/oauth/token", AUTH0_APP, &[("audience", "https://billing.acme.example")]).await,
        denied("Client is not authorized to access \"https://billing.acme.example\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants")
    );
    // A wrong secret: Auth0's answer to any failed client authentication.
    let (status, body) = m2m(
        &auth0,
        "/oauth/token",
        (AUTH0_APP.0, Some("wrong")),
        &[("audience", MODELS)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("access_denied"))
    );
}

#[tokio::test]
async fn auth0_refuses_an_application_without_the_grant_type() {
    let auth0 = persona_with("auth0.yaml", &AUTH0_M2M[1..]).await;
    assert_eq!(
        m2m(&auth0, "/oauth/token", AUTH0_APP, &[("audience", MODELS)]).await,
        (
            StatusCode::FORBIDDEN,
            error(
                "unauthorized_client",
                "Grant type 'client_credentials' not allowed for the client."
            )
        )
    );
}

#[test]
fn an_auth0_api_must_authorize_known_applications_for_its_own_permissions() {
    let path = format!(
        "{}/../../fixtures/idp/auth0.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let base = std::fs::read_to_string(path).unwrap();
    let with = |apis: &str| base.replacen("apis:\n", &format!("apis:\n{apis}"), 1);
    let cases = [
        (
            "  - name: M\n    identifier: https://m.example\n    machine_to_machine:\n      - client_id: nobody\n",
            "API \"https://m.example\" authorizes client \"nobody\", which `applications` does not define",
        ),
        (
            "  - name: M\n    identifier: https://m.example\n    permissions: [read:m]\n    machine_to_machine:\n      - client_id: 8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4\n        permissions: [raed:m]\n",
            "permission \"raed:m\" is not one of API \"https://m.example\"'s `permissions` (did you mean \"read:m\"?)",
        ),
    ];
    for (apis, message) in cases {
        let error = Realm::from_persona_yaml(&with(apis), Path::new("auth0.yaml")).unwrap_err();
        assert_eq!(error.code(), "persona/invalid");
        assert!(error.to_string().contains(message), "{error}");
    }
}

const ENTRA_TOKEN: &str = "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token";
const ENTRA_CALLER: (&str, Option<&str>) = (
    "55555555-5555-5555-5555-555555555555",
    Some("acme-reporting-client-secret"),
);

/// The fixture tenant with Acme exposing an API and Acme Reporting holding an app role on it.
const ENTRA_M2M: [(&str, &str); 2] = [
    (
        "    identifier_uris: [api://44444444-4444-4444-4444-444444444444]\n",
        "    identifier_uris: [api://44444444-4444-4444-4444-444444444444, api://acme-models]\n",
    ),
    (
        "    group_membership_claims: SecurityGroup",
        "    group_membership_claims: SecurityGroup\n    application_permissions:\n      - api: api://acme-models\n        roles: [Models.Invoke]",
    ),
];

#[tokio::test]
async fn entra_issues_an_app_only_token_for_a_default_scope() {
    let entra = persona_with("entra-id.yaml", &ENTRA_M2M).await;
    let tenant = "00000000-0000-0000-0000-000000000000";
    let (status, body) = m2m(
        &entra,
        ENTRA_TOKEN,
        ENTRA_CALLER,
        &[("scope", "api://acme-models/.default")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_i64()),
        (Some("Bearer"), Some(3599))
    );
    assert_eq!(body["ext_expires_in"], 3599);
    let jwks = format!("/{tenant}/discovery/v2.0/keys");
    let claims = verify_at(&entra, body["access_token"].as_str().unwrap(), &jwks).await;
    // Acme requests v2.0 tokens for its API.
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["aud"], "44444444-4444-4444-4444-444444444444");
    assert_eq!(claims["iss"], format!("{}/{tenant}/v2.0", entra.base_url()));
    assert_eq!(claims["azp"], ENTRA_CALLER.0);
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["roles"], json!(["Models.Invoke"]));
    assert_eq!(claims["sub"], claims["oid"]);
    assert_eq!(claims["tid"], tenant);
    assert!(
        claims.get("scp").is_none() && claims.get("appid").is_none(),
        "{claims}"
    );

    // Acme Reporting has no requestedAccessTokenVersion: a v1.0 token, with the URI asked for.
    let acme = (
        "44444444-4444-4444-4444-444444444444",
        Some("acme-entra-client-secret"),
    );
    let (_, body) = m2m(
        &entra,
        ENTRA_TOKEN,
        acme,
        &[("scope", "55555555-5555-5555-5555-555555555555/.default")],
    )
    .await;
    let v1 = decode(body["access_token"].as_str().unwrap()).1;
    assert_eq!(v1["ver"], "1.0");
    assert_eq!(v1["aud"], "55555555-5555-5555-5555-555555555555");
    assert_eq!(v1["iss"], format!("https://sts.windows.net/{tenant}/"));
    assert_eq!(v1["appid"], acme.0);
    assert!(v1.get("roles").is_none(), "{v1}");

    for (extra, error, text) in [
        (vec![], "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'scope'."),
        (vec![("scope", "api://acme-models/Models.Invoke")], "invalid_scope", "AADSTS1002012: The provided value for scope api://acme-models/Models.Invoke is not valid."),
        (vec![("scope", "api://nope/.default")], "invalid_resource", "AADSTS500011: The resource principal named api://nope was not found in the tenant named Acme."),
    ] {
        let (status, body) = m2m(&entra, ENTRA_TOKEN, ENTRA_CALLER, &extra).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some(error)), "{body}");
        assert!(body["error_description"].as_str().unwrap().starts_with(text), "{body}");
    }
    let (status, body) = m2m(
        &entra,
        ENTRA_TOKEN,
        (ENTRA_CALLER.0, Some("wrong")),
        &[("scope", "api://acme-models/.default")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
}

#[test]
fn an_entra_permission_must_name_an_exposed_api() {
    let path = format!(
        "{}/../../fixtures/idp/entra-id.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap().replacen(
        "    group_membership_claims: SecurityGroup",
        "    group_membership_claims: SecurityGroup\n    application_permissions:\n      - api: api://nope\n        roles: [X]",
        1,
    );
    let error = Realm::from_persona_yaml(&text, Path::new("entra-id.yaml")).unwrap_err();
    assert_eq!(error.code(), "persona/invalid");
    assert!(error.to_string().contains("app \"Acme Reporting\" holds permissions on API \"api://nope\", which no app registration exposes"), "{error}");
}

const COGNITO_SERVICE: (&str, Option<&str>) =
    ("7m2ma1b2c3d4e5f6g7h8i9j0k1", Some("acme-service-secret"));

/// The fixture pool with a machine-to-machine app client (client_credentials alone).
const COGNITO_M2M: [(&str, &str); 1] = [(
    "  app_clients:\n",
    "  app_clients:\n    - client_name: acme-service\n      client_id: 7m2ma1b2c3d4e5f6g7h8i9j0k1\n      client_secret: acme-service-secret\n      callback_urls: []\n      allowed_oauth_flows: [client_credentials]\n      allowed_oauth_scopes: [models/invoke, models/list]\n",
)];

#[tokio::test]
async fn cognito_issues_a_machine_token_for_resource_server_scopes() {
    let cognito = persona_with("cognito.yaml", &COGNITO_M2M).await;
    let (status, body) = m2m(
        &cognito,
        "/oauth2/token",
        COGNITO_SERVICE,
        &[("scope", "models/invoke")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_i64()),
        (Some("Bearer"), Some(3600))
    );
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let claims = verify_at(
        &cognito,
        body["access_token"].as_str().unwrap(),
        "/us-east-1_AcMe12345/.well-known/jwks.json",
    )
    .await;
    assert_eq!(
        claims["iss"],
        format!("{}/us-east-1_AcMe12345", cognito.base_url())
    );
    assert_eq!(claims["sub"], COGNITO_SERVICE.0);
    assert_eq!(claims["client_id"], COGNITO_SERVICE.0);
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["scope"], "models/invoke");
    assert!(claims.get("username").is_none(), "{claims}");
    // Without `scope`, every scope the app client allows.
    let (_, all) = m2m(&cognito, "/oauth2/token", COGNITO_SERVICE, &[]).await;
    assert_eq!(
        decode(all["access_token"].as_str().unwrap()).1["scope"],
        "models/invoke models/list"
    );

    let refused = |error: &str| (StatusCode::BAD_REQUEST, json!({ "error": error }));
    assert_eq!(
        m2m(
            &cognito,
            "/oauth2/token",
            COGNITO_SERVICE,
            &[("scope", "models/delete")]
        )
        .await,
        refused("invalid_scope")
    );
    // The code-flow app client may not use the grant.
    assert_eq!(
        m2m(
            &cognito,
            "/oauth2/token",
            (
                "4jt4a1b2c3d4e5f6g7h8i9j0k1",
                Some("acme-cognito-client-secret")
            ),
            &[]
        )
        .await,
        refused("unauthorized_client")
    );
    assert_eq!(
        m2m(
            &cognito,
            "/oauth2/token",
            (COGNITO_SERVICE.0, Some("wrong")),
            &[]
        )
        .await,
        refused("invalid_client")
    );
}

#[test]
fn a_cognito_client_credentials_app_client_stands_alone_with_a_secret() {
    let path = format!(
        "{}/../../fixtures/idp/cognito.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let base = std::fs::read_to_string(path).unwrap();
    let with =
        |client: &str| base.replacen("  app_clients:\n", &format!("  app_clients:\n{client}"), 1);
    let head = "    - client_name: s\n      client_id: s1\n      callback_urls: []\n";
    for (client, message) in [
        (format!("{head}      client_secret: x\n      allowed_oauth_flows: [code, client_credentials]\n      allowed_oauth_scopes: [m/i]\n"), "Cognito allows `client_credentials` only alone"),
        (format!("{head}      allowed_oauth_flows: [client_credentials]\n      allowed_oauth_scopes: [m/i]\n"), "needs a `client_secret`"),
        (format!("{head}      client_secret: x\n      allowed_oauth_flows: [client_credentials]\n      allowed_oauth_scopes: [openid]\n"), "allows resource-server scopes only"),
    ] {
        let error = Realm::from_persona_yaml(&with(&client), Path::new("cognito.yaml")).unwrap_err();
        assert_eq!(error.code(), "persona/invalid");
        assert!(error.to_string().contains(message), "{error}");
    }
}

#[tokio::test]
async fn a_cognito_machine_client_cannot_sign_users_in() {
    let cognito = persona_with(
        "cognito.yaml",
        &[(
            COGNITO_M2M[0].0,
            &COGNITO_M2M[0].1.replace(
                "callback_urls: []",
                "callback_urls: [http://127.0.0.1/callback]",
            ),
        )],
    )
    .await;
    let answer = http()
        .get(format!("{}/oauth2/authorize", cognito.base_url()))
        .query(&[
            ("client_id", COGNITO_SERVICE.0),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(location_params(&answer)["error"], "unauthorized_client");
}

const AUTHENTIK_APP: (&str, Option<&str>) = (
    "acme-authentik-client",
    Some("acme-authentik-client-secret"),
);
const AUTHENTIK_TOKEN: &str = "/application/o/token/";
const AUTHENTIK_BOUND: (&str, &str) = (
    "    groups: [acme-admins, acme-engineers, acme-contractors]\n",
    "    groups: [acme-admins, acme-engineers, acme-contractors]\n    users: [ak-acme-oidc-client_credentials]\n",
);

#[tokio::test]
async fn authentik_signs_in_the_providers_service_account() {
    let authentik = persona_with("authentik.yaml", &[AUTHENTIK_BOUND]).await;
    let (status, body) = m2m(
        &authentik,
        AUTHENTIK_TOKEN,
        AUTHENTIK_APP,
        &[("scope", "openid profile groups nope")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    // A scope no mapping provides is dropped without a word.
    assert_eq!(body["scope"], "openid profile groups");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let jwks = "/application/o/acme/jwks/";
    let access = verify_at(&authentik, body["access_token"].as_str().unwrap(), jwks).await;
    let id = verify_at(&authentik, body["id_token"].as_str().unwrap(), jwks).await;
    assert_eq!(
        access["iss"],
        format!("{}/application/o/acme/", authentik.base_url())
    );
    assert_eq!(access["aud"], AUTHENTIK_APP.0);
    assert_eq!(access["azp"], AUTHENTIK_APP.0);
    assert_eq!(
        access["preferred_username"],
        "ak-acme-oidc-client_credentials"
    );
    assert_eq!(
        access["name"],
        "Autogenerated user from application Acme (client credentials)"
    );
    assert_eq!(access["groups"], json!([]));
    assert_eq!(access["sub"], id["sub"]);
    // The hashed user id of the service account: 64 hex digits.
    let sub = access["sub"].as_str().unwrap();
    assert!(
        sub.len() == 64 && sub.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sub}"
    );
    assert!(
        access.get("amr").is_none() && id.get("amr").is_none(),
        "{access}"
    );

    // A secret that is not the provider's is read as an app password, and refused as a grant.
    let (status, body) = m2m(
        &authentik,
        AUTHENTIK_TOKEN,
        (AUTHENTIK_APP.0, Some("wrong")),
        &[],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    // An unknown client is still a client error.
    let (status, body) = m2m(&authentik, AUTHENTIK_TOKEN, ("nobody", Some("x")), &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_client"))
    );
}

#[tokio::test]
async fn authentik_refuses_a_service_account_the_bindings_do_not_admit() {
    let authentik = persona_with("authentik.yaml", &[]).await;
    let (status, body) = m2m(
        &authentik,
        AUTHENTIK_TOKEN,
        AUTHENTIK_APP,
        &[("scope", "openid")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn authentik_without_a_signing_key_signs_the_id_token_with_the_secret() {
    let authentik = persona_with(
        "authentik.yaml",
        &[
            AUTHENTIK_BOUND,
            ("  signing_key: authentik Self-signed Certificate\n", ""),
        ],
    )
    .await;
    let (status, body) = m2m(
        &authentik,
        AUTHENTIK_TOKEN,
        AUTHENTIK_APP,
        &[("scope", "openid")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let header = jsonwebtoken::decode_header(body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    assert!(jsonwebtoken::decode::<Value>(
        body["id_token"].as_str().unwrap(),
        &jsonwebtoken::DecodingKey::from_secret(AUTHENTIK_APP.1.unwrap().as_bytes()),
        &validation,
    )
    .is_ok());
}
