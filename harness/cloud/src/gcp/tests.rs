//! End to end: an IdP served over HTTPS with the local CA, the emulated STS and Vertex, and the
//! typed client, with every refusal checked against its exact body.

use std::path::Path;

use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::sts::{decode_options, parse_audience, parse_token_request};
use super::vertex::parse_path;
use super::*;
use crate::placeholders::{GOOGLE_ISSUER, IDP_ISSUER};
use crate::test_issuer::{unix_now, TestIssuer, TestKey};
use ssoproof_secret::Secret;
use ssoproof_server::tls::LocalCa;

const POOL: &str = "acme-workforce";
const CLIENT: &str = "acme-app";
/// An issuer nobody serves: only inline keys can make its tokens pass.
const PRIVATE_ISSUER: &str = "https://idp.invalid/realms/private";

const CONFIG: &str = r#"
workforce_pools:
  - id: acme-workforce
    providers:
      - id: acme-idp
        issuer_uri: ${IDP_ISSUER}
        client_id: acme-app
        attribute_mapping:
          google.subject: assertion.sub
          google.groups: assertion.groups
          attribute.email: assertion.email
        attribute_condition: "assertion.email.endsWith('@acme.test')"
      - id: inline-keys
        issuer_uri: https://idp.invalid/realms/private
        client_id: acme-app
        jwks_json: '${INLINE_JWKS}'
        attribute_mapping:
          google.subject: "'inline:' + assertion.sub"
      - id: nowhere
        issuer_uri: https://127.0.0.1:9/realms/none
        client_id: acme-app
        attribute_mapping:
          google.subject: assertion.sub
      - id: retired
        disabled: true
        issuer_uri: ${IDP_ISSUER}
        client_id: acme-app
        attribute_mapping:
          google.subject: assertion.sub
projects:
  - id: acme-ai
    vertex_enabled: true
    permissions:
      aiplatform.endpoints.predict:
        - principalSet://iam.googleapis.com/locations/global/workforcePools/acme-workforce/group/engineers
        - user:alice@example.com
      serviceusage.services.use:
        - principalSet://iam.googleapis.com/locations/global/workforcePools/acme-workforce/*
        - user:alice@example.com
  - id: acme-finance
    vertex_enabled: true
  - id: acme-sandbox
    vertex_enabled: false
    permissions:
      serviceusage.services.use:
        - principalSet://iam.googleapis.com/locations/global/workforcePools/acme-workforce/*
google_accounts:
  - issuer: ${GOOGLE_ISSUER}
"#;

struct World {
    idp: TestIssuer,
    google: TestIssuer,
    inline: TestKey,
    gcp: GcpEmulator,
    /// Trusts the local CA, as the STS does.
    http: reqwest::Client,
}

async fn world() -> World {
    let ca = LocalCa::generate().unwrap();
    let idp = TestIssuer::start_https(&ca, "/realms/acme").await.unwrap();
    let google = TestIssuer::start_https(&ca, "/google").await.unwrap();
    // The same kid as the served key: a token signed by one and checked against the other
    // must fail on its signature.
    let inline = TestKey::generate(idp.key().kid());
    let config = GcpConfig::parse(
        CONFIG,
        Path::new("gcp.yaml"),
        &[
            (IDP_ISSUER, idp.issuer()),
            (GOOGLE_ISSUER, google.issuer()),
            ("INLINE_JWKS", &inline.jwks_json()),
        ],
    )
    .unwrap();
    let http = ca.client().unwrap();
    let options = GcpOptions {
        http: http.clone(),
        ..GcpOptions::default()
    };
    let gcp = GcpEmulator::start(config, options).await.unwrap();
    World {
        idp,
        google,
        inline,
        gcp,
        http,
    }
}

impl World {
    fn audience(&self, provider: &str) -> String {
        provider_audience(POOL, provider)
    }

    /// Posts a token exchange as google-auth would, with `changes` applied to the form
    /// (`None` removes a field).
    async fn sts(
        &self,
        subject_token: &str,
        changes: &[(&str, Option<&str>)],
    ) -> (StatusCode, Value) {
        let audience = self.audience("acme-idp");
        let mut form: Vec<(&str, &str)> = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("audience", &audience),
            ("scope", CLOUD_PLATFORM_SCOPE),
            ("requested_token_type", TOKEN_TYPE_ACCESS_TOKEN),
            ("subject_token", subject_token),
            ("subject_token_type", TOKEN_TYPE_ID_TOKEN),
            ("options", "%7B%22userProject%22%3A%20%22acme-ai%22%7D"),
        ];
        for (name, value) in changes {
            form.retain(|(k, _)| k != name);
            if let Some(value) = value {
                form.push((name, value));
            }
        }
        let response = self
            .http
            .post(self.gcp.sts_url())
            .header("authorization", "Bearer ignored-by-sts")
            .form(&form)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn token_for(&self, extra: Value) -> Secret {
        let id_token = Secret::new(id_token(&self.idp, CLIENT, extra));
        exchange_token(
            &self.http,
            &self.gcp.sts_url(),
            &self.audience("acme-idp"),
            &id_token,
            "acme-ai",
        )
        .await
        .unwrap()
        .token
    }

    /// A Gemini call with `bearer` (raw header value) and quota project.
    async fn vertex(
        &self,
        project: &str,
        bearer: Option<&str>,
        quota: Option<&str>,
    ) -> (StatusCode, Value) {
        let url = format!(
            "{}/v1/projects/{project}/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent",
            self.gcp.vertex_url()
        );
        let mut request = self.http.post(url).json(&gemini_body());
        if let Some(bearer) = bearer {
            request = request.header("authorization", bearer);
        }
        if let Some(quota) = quota {
            request = request.header("x-goog-user-project", quota);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

fn gemini_body() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]})
}

/// Case name, subject token, form changes, expected body.
type StsCase<'a> = (&'a str, String, Vec<(&'a str, Option<&'a str>)>, Value);
/// Case name, model project, Authorization header, quota project, expected status and body.
type VertexCase<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    StatusCode,
    Value,
);

/// A valid ID token from `issuer` for `aud`, for alice in `engineers`; `extra` adds, overrides
/// or (with `null`) removes claims.
fn id_token(issuer: &TestIssuer, aud: &str, extra: Value) -> String {
    let mut claims = json!({
        "aud": aud,
        "sub": "6f1d0c1e-alice",
        "email": "alice@acme.test",
        "groups": ["engineers"],
    });
    if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    issuer.token(claims)
}

fn sts_error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

fn bearer(token: &Secret) -> String {
    format!("Bearer {}", token.expose())
}

#[tokio::test]
async fn federated_happy_path_over_https_to_gemini_and_claude() {
    let w = world().await;
    let id_token = Secret::new(id_token(&w.idp, CLIENT, json!({})));
    let access = exchange_token(
        &w.http,
        &w.gcp.sts_url(),
        &w.audience("acme-idp"),
        &id_token,
        "acme-ai",
    )
    .await
    .unwrap();
    assert_eq!(access.issued_token_type, TOKEN_TYPE_ACCESS_TOKEN);
    let expires_in = access.expires_in.unwrap();
    assert!(
        (290..=300).contains(&expires_in),
        "bounded by the ID token: {expires_in}"
    );

    let grants = w.gcp.grants();
    assert_eq!(grants.len(), 1);
    let grant = &grants[0];
    let Caller::Federated { pool, identity } = &grant.caller else {
        panic!("{grant:?}")
    };
    assert_eq!(pool, POOL);
    assert_eq!(identity.subject, "6f1d0c1e-alice");
    assert_eq!(identity.groups, ["engineers"]);
    assert_eq!(identity.attributes["email"], json!("alice@acme.test"));
    assert_eq!(grant.user_project.as_deref(), Some("acme-ai"));
    assert_eq!(grant.scopes, [CLOUD_PLATFORM_SCOPE]);

    let model = VertexModel::google("acme-ai", "us-central1", "gemini-2.0-flash");
    let answer = generate_content(
        &w.http,
        &w.gcp.vertex_url(),
        model,
        &access.token,
        Some("acme-ai"),
        &gemini_body(),
    )
    .await
    .unwrap();
    assert_eq!(
        answer["candidates"][0]["content"]["parts"][0]["text"],
        "Hello from the ssoproof Vertex AI emulator."
    );
    assert_eq!(answer["usageMetadata"]["promptTokenCount"], 2);

    let claude = VertexModel::anthropic("acme-ai", "us-east5", "claude-sonnet-4@20250514");
    let body = json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
                      "messages": [{"role": "user", "content": "Say hello"}]});
    let answer = raw_predict(
        &w.http,
        &w.gcp.vertex_url(),
        claude,
        &access.token,
        Some("acme-ai"),
        &body,
    )
    .await
    .unwrap();
    assert_eq!(answer["type"], "message");
    assert_eq!(
        answer["content"][0]["text"],
        "Hello from the ssoproof Vertex AI emulator."
    );

    let calls = w.gcp.vertex_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].quota_project, "acme-ai");
    assert_eq!(
        calls[1].resource,
        "projects/acme-ai/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514"
    );
    assert_eq!(calls[0].caller, grant.caller);
}

#[tokio::test]
async fn inline_jwks_trusts_an_issuer_nobody_can_reach() {
    let w = world().await;
    let now = unix_now();
    let claims =
        json!({"iss": PRIVATE_ISSUER, "aud": CLIENT, "sub": "bob", "iat": now, "exp": now + 60});
    let token = Secret::new(w.inline.sign(&claims));
    exchange_token(
        &w.http,
        &w.gcp.sts_url(),
        &w.audience("inline-keys"),
        &token,
        "acme-ai",
    )
    .await
    .unwrap();
    let grants = w.gcp.grants();
    let Caller::Federated { identity, .. } = &grants[0].caller else {
        panic!()
    };
    assert_eq!(identity.subject, "inline:bob");

    // Signed by another key under the same kid: the signature fails.
    let forged = Secret::new(w.idp.key().sign(&claims));
    let err = exchange_token(
        &w.http,
        &w.gcp.sts_url(),
        &w.audience("inline-keys"),
        &forged,
        "acme-ai",
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        StsError::Refused {
            status: 400,
            error: "invalid_grant".into(),
            description: "Unable to verify the ID Token signature.".into()
        }
    );
    assert_eq!(err.code(), "gcp/sts-refused");
}

#[tokio::test]
async fn sts_refusals_carry_googles_bodies() {
    let w = world().await;
    let now = unix_now();
    let good = id_token(&w.idp, CLIENT, json!({}));
    let bad_audience = "https://iam.googleapis.com/locations/global/workforcePools/acme-workforce/providers/acme-idp";
    let other_pool = provider_audience("other-pool", "acme-idp");
    let retired = w.audience("retired");
    let nowhere = w.audience("nowhere");
    let mut hs256 = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs256.kid = Some("k1".into());
    let hs256 = jsonwebtoken::encode(
        &hs256,
        &json!({"iss": w.idp.issuer(), "aud": CLIENT, "sub": "x", "iat": now, "exp": now + 60}),
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let no_kid = w.idp.key().sign_with(
        jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
        &json!({"iss": w.idp.issuer(), "aud": CLIENT, "sub": "x", "iat": now, "exp": now + 60}),
    );
    let mut unknown_kid = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    unknown_kid.kid = Some("k2".into());
    let unknown_kid = w.idp.key().sign_with(
        unknown_kid,
        &json!({"iss": w.idp.issuer(), "aud": CLIENT, "sub": "x", "iat": now, "exp": now + 60}),
    );
    let target = "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.";
    let unreachable = "Error connecting to the given credential's issuer.";
    let cases: Vec<StsCase> = vec![
        (
            "audience in the https form",
            good.clone(),
            vec![("audience", Some(bad_audience))],
            sts_error("invalid_request", "Invalid value for \"audience\". This value should be the full resource name of the Identity Provider. See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for the list of possible formats."),
        ),
        ("unknown pool", good.clone(), vec![("audience", Some(&other_pool))], sts_error("invalid_target", target)),
        ("disabled provider", good.clone(), vec![("audience", Some(&retired))], sts_error("invalid_target", target)),
        (
            "no subject token",
            good.clone(),
            vec![("subject_token", None)],
            sts_error("invalid_request", "Invalid value for \"subject_token\"."),
        ),
        (
            "no user project",
            good.clone(),
            vec![("options", None)],
            sts_error("invalid_request", "Invalid value for \"options\". A workforce pool token exchange without client authentication needs options={\"userProject\": \"<project>\"}."),
        ),
        (
            "wrong audience",
            id_token(&w.idp, "someone-else", json!({})),
            vec![],
            sts_error("invalid_grant", "The audience in ID Token [someone-else] does not match the expected audience."),
        ),
        (
            "wrong issuer",
            id_token(&w.idp, CLIENT, json!({"iss": "https://evil.test/realms/acme"})),
            vec![],
            sts_error("invalid_grant", &format!("The issuer in ID Token https://evil.test/realms/acme does not match the expected one in config: {}.", w.idp.issuer())),
        ),
        (
            "no issuer",
            id_token(&w.idp, CLIENT, json!({"iss": null})),
            vec![],
            sts_error("invalid_grant", &format!("The issuer in ID Token null does not match the expected one in config: {}.", w.idp.issuer())),
        ),
        (
            "expired",
            id_token(&w.idp, CLIENT, json!({"iat": now - 3600, "exp": now - 600})),
            vec![],
            sts_error("invalid_grant", &format!("ID Token issued at {} is stale to sign-in.", now - 3600)),
        ),
        (
            "no iat",
            id_token(&w.idp, CLIENT, json!({"iat": null})),
            vec![],
            sts_error("invalid_grant", "ID Token issued at null is stale to sign-in."),
        ),
        ("not a JWT", "not-a-jwt".into(), vec![], sts_error("invalid_grant", "Unable to parse the ID Token.")),
        ("HS256", hs256, vec![], sts_error("invalid_grant", unreachable)),
        ("no kid", no_kid, vec![], sts_error("invalid_grant", unreachable)),
        ("unknown kid", unknown_kid, vec![], sts_error("invalid_grant", unreachable)),
        (
            "issuer down",
            id_token(&w.idp, CLIENT, json!({"iss": "https://127.0.0.1:9/realms/none"})),
            vec![("audience", Some(&nowhere))],
            sts_error("invalid_grant", unreachable),
        ),
        (
            "condition false",
            id_token(&w.idp, CLIENT, json!({"email": "mallory@elsewhere.test"})),
            vec![],
            sts_error("unauthorized_client", "The given credential is rejected by the attribute condition."),
        ),
        (
            "condition error (no email claim)",
            id_token(&w.idp, CLIENT, json!({"email": null})),
            vec![],
            sts_error("unauthorized_client", "The given credential is rejected by the attribute condition."),
        ),
        (
            "subject too long",
            id_token(&w.idp, CLIENT, json!({"sub": "s".repeat(128)})),
            vec![],
            sts_error("invalid_request", "The size of mapped attribute google.subject exceeds the 127 bytes limit. Either modify your attribute mapping or the incoming assertion to produce a mapped attribute that is less than 127 bytes."),
        ),
        (
            "subject not a string",
            id_token(&w.idp, CLIENT, json!({"sub": 42})),
            vec![],
            sts_error("unauthorized_client", "The mapped attribute 'google.subject' must be of type STRING."),
        ),
    ];
    for (case, token, changes, expected) in cases {
        let (status, body) = w.sts(&token, &changes).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert_eq!(body, expected, "{case}");
    }
    assert!(w.gcp.grants().is_empty());
    // The Authorization header is ignored: the same request with one succeeds.
    let (status, body) = w.sts(&good, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["issued_token_type"], TOKEN_TYPE_ACCESS_TOKEN);
}

#[tokio::test]
async fn an_issuer_whose_certificate_the_sts_does_not_trust_is_unreachable() {
    let w = world().await;
    // Same configuration, but an STS without the local CA, like Google facing a private CA.
    let config = w.gcp.config().clone();
    let gcp = GcpEmulator::start(config, GcpOptions::default())
        .await
        .unwrap();
    let token = Secret::new(id_token(&w.idp, CLIENT, json!({})));
    let err = exchange_token(
        &w.http,
        &gcp.sts_url(),
        &w.audience("acme-idp"),
        &token,
        "acme-ai",
    )
    .await
    .unwrap_err();
    let StsError::Refused { description, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        description,
        "Error connecting to the given credential's issuer."
    );
}

fn vertex_error(code: u16, status: &str, message: &str, info: Option<Value>) -> Value {
    let details: Vec<Value> = info
        .into_iter()
        .map(|mut i| {
            i["@type"] = json!("type.googleapis.com/google.rpc.ErrorInfo");
            i
        })
        .collect();
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

const GEMINI_RPC: &str = "google.cloud.aiplatform.v1.PredictionService.GenerateContent";

#[tokio::test]
async fn vertex_refusals_carry_googles_envelope() {
    let w = world().await;
    let alice = w.token_for(json!({})).await;
    let bob = w
        .token_for(json!({"sub": "bob", "email": "bob@acme.test", "groups": ["sales"]}))
        .await;
    let auth_help = "Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
    let auth_info = |reason: &str| {
        json!({"reason": reason, "domain": "googleapis.com",
               "metadata": {"method": GEMINI_RPC, "service": "aiplatform.googleapis.com"}})
    };
    let user_project_denied = |p: &str| {
        vertex_error(
            403,
            "PERMISSION_DENIED",
            &format!("Caller does not have required permission to use project {p}. Grant the caller the roles/serviceusage.serviceUsageConsumer role, or a custom role with the serviceusage.services.use permission, by visiting https://console.developers.google.com/iam-admin/iam/project?project={p} and then retry. Propagation of the new permission may take a few minutes."),
            Some(json!({"reason": "USER_PROJECT_DENIED", "domain": "googleapis.com",
                        "metadata": {"consumer": format!("projects/{p}"), "service": "aiplatform.googleapis.com"}})),
        )
    };
    let iam_denied = |p: &str| {
        let resource =
            format!("projects/{p}/locations/us-central1/publishers/google/models/gemini-2.0-flash");
        vertex_error(
            403,
            "PERMISSION_DENIED",
            &format!("Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/{resource}' (or it may not exist)."),
            Some(json!({"reason": "IAM_PERMISSION_DENIED", "domain": "aiplatform.googleapis.com",
                        "metadata": {"permission": "aiplatform.endpoints.predict", "resource": resource}})),
        )
    };
    let (alice, bob) = (bearer(&alice), bearer(&bob));
    let cases: Vec<VertexCase> = vec![
        (
            "no token",
            "acme-ai",
            None,
            Some("acme-ai"),
            StatusCode::UNAUTHORIZED,
            vertex_error(401, "UNAUTHENTICATED", &format!("Request is missing required authentication credential. {auth_help}"), Some(auth_info("CREDENTIALS_MISSING"))),
        ),
        (
            "unknown token",
            "acme-ai",
            Some("Bearer ya29.d.made-up"),
            Some("acme-ai"),
            StatusCode::UNAUTHORIZED,
            vertex_error(401, "UNAUTHENTICATED", &format!("Request had invalid authentication credentials. {auth_help}"), Some(auth_info("ACCESS_TOKEN_TYPE_UNSUPPORTED"))),
        ),
        ("quota project nobody may bill", "acme-ai", Some(&alice), Some("acme-finance"), StatusCode::FORBIDDEN, user_project_denied("acme-finance")),
        ("unknown quota project", "acme-ai", Some(&alice), Some("no-such-project"), StatusCode::FORBIDDEN, user_project_denied("no-such-project")),
        (
            "Vertex disabled in the quota project",
            "acme-ai",
            Some(&alice),
            Some("acme-sandbox"),
            StatusCode::FORBIDDEN,
            vertex_error(403, "PERMISSION_DENIED", "Vertex AI API has not been used in project acme-sandbox before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=acme-sandbox then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.",
                Some(json!({"reason": "SERVICE_DISABLED", "domain": "googleapis.com",
                            "metadata": {"activationUrl": "https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=acme-sandbox",
                                         "consumer": "projects/acme-sandbox", "service": "aiplatform.googleapis.com", "serviceTitle": "Vertex AI API"}}))),
        ),
        ("not in the engineers group", "acme-ai", Some(&bob), Some("acme-ai"), StatusCode::FORBIDDEN, iam_denied("acme-ai")),
        ("unknown model project", "acme-gone", Some(&alice), Some("acme-ai"), StatusCode::FORBIDDEN, iam_denied("acme-gone")),
    ];
    for (case, project, bearer, quota, status, expected) in cases {
        let (got_status, body) = w.vertex(project, bearer, quota).await;
        assert_eq!(got_status, status, "{case}: {body}");
        assert_eq!(body, expected, "{case}");
    }

    // The typed client reports the reason.
    let err = generate_content(
        &w.http,
        &w.gcp.vertex_url(),
        VertexModel::google("acme-ai", "us-central1", "gemini-2.0-flash"),
        &Secret::new(bob.trim_start_matches("Bearer ")),
        Some("acme-ai"),
        &gemini_body(),
    )
    .await
    .unwrap_err();
    let VertexError::Refused {
        code,
        status,
        reason,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*code, status.as_str(), reason.as_deref()),
        (403, "PERMISSION_DENIED", Some("IAM_PERMISSION_DENIED"))
    );
    assert!(
        message.starts_with("Permission 'aiplatform.endpoints.predict' denied"),
        "{message}"
    );
    assert!(!err.to_string().contains("ya29"), "{err}");
}

/// google-auth sends `workforce_pool_user_project` only as the STS `options.userProject` (the
/// header only with `quota_project_id`): the federated token's client project is billed when the
/// call names none, and the header still overrides it.
#[tokio::test]
async fn a_federated_token_bills_its_workforce_pool_user_project() {
    let w = world().await;
    let alice = bearer(&w.token_for(json!({})).await);
    let (status, body) = w.vertex("acme-ai", Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(w.gcp.vertex_calls()[0].quota_project, "acme-ai");

    // Exchanged for a project she may not bill: refused for that project, unless the header
    // names one she may.
    let id_token = id_token(&w.idp, CLIENT, json!({}));
    let finance = "%7B%22userProject%22%3A%20%22acme-finance%22%7D";
    let (status, body) = w.sts(&id_token, &[("options", Some(finance))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let finance = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let (status, body) = w.vertex("acme-ai", Some(&finance), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["details"][0]["reason"], "USER_PROJECT_DENIED");
    assert_eq!(
        body["error"]["details"][0]["metadata"]["consumer"],
        "projects/acme-finance"
    );
    let (status, body) = w.vertex("acme-ai", Some(&finance), Some("acme-ai")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(w.gcp.vertex_calls()[1].quota_project, "acme-ai");
}

#[tokio::test]
async fn a_token_without_the_cloud_platform_scope_is_not_enough() {
    let w = world().await;
    let id_token = id_token(&w.idp, CLIENT, json!({}));
    let (status, body) = w.sts(&id_token, &[("scope", None)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let (status, body) = w.vertex("acme-ai", Some(&token), Some("acme-ai")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        vertex_error(
            403,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
            Some(
                json!({"reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
                        "metadata": {"method": GEMINI_RPC, "service": "aiplatform.googleapis.com"}})
            )
        )
    );
}

#[tokio::test]
async fn a_google_account_token_reaches_vertex_directly() {
    let w = world().await;
    let now = unix_now();
    let google = |extra: Value| {
        let mut claims = json!({"iss": w.google.issuer(), "sub": "1098", "email": "alice@example.com",
                                "azp": "app.apps.googleusercontent.com", "iat": now, "exp": now + 600,
                                "scope": format!("openid email {CLOUD_PLATFORM_SCOPE}")});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        format!("Bearer {}", w.google.key().sign(&claims))
    };
    let (status, body) = w
        .vertex("acme-ai", Some(&google(json!({}))), Some("acme-ai"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        w.gcp.vertex_calls()[0].caller,
        Caller::GoogleUser {
            email: "alice@example.com".into()
        }
    );

    // A Google user's token has no client project: without `x-goog-user-project` nobody is
    // billed and Google refuses.
    let (status, body) = w.vertex("acme-ai", Some(&google(json!({}))), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        vertex_error(403, "PERMISSION_DENIED", "Your application is authenticating by using local Application Default Credentials. The aiplatform.googleapis.com API requires a quota project, which is not set by default. To learn how to set your quota project, see https://cloud.google.com/docs/authentication/adc-troubleshooting/user-creds .",
            Some(json!({"reason": "SERVICE_DISABLED", "domain": "googleapis.com",
                        "metadata": {"consumer": "projects/764086051850", "service": "aiplatform.googleapis.com"}})))
    );
    // Expired.
    let (status, body) = w
        .vertex(
            "acme-ai",
            Some(&google(json!({"exp": now - 10}))),
            Some("acme-ai"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_EXPIRED"
    );
    // An ID token (no scope) is not an access token.
    let (status, body) = w
        .vertex(
            "acme-ai",
            Some(&google(json!({"scope": null}))),
            Some("acme-ai"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_TYPE_UNSUPPORTED"
    );
    // Signed in without the cloud-platform scope.
    let (status, body) = w
        .vertex(
            "acme-ai",
            Some(&google(json!({"scope": "openid email"}))),
            Some("acme-ai"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    );
    // A Google user without a binding.
    let (status, body) = w
        .vertex(
            "acme-ai",
            Some(&google(json!({"email": "eve@example.com"}))),
            Some("acme-ai"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["details"][0]["reason"], "USER_PROJECT_DENIED");
    // Signed by the workforce IdP's key under the Google issuer's name: not Google's token.
    let forged = w.idp.key().sign(
        &json!({"iss": w.google.issuer(), "email": "alice@example.com",
                                         "scope": CLOUD_PLATFORM_SCOPE, "exp": now + 600}),
    );
    let (status, _) = w
        .vertex(
            "acme-ai",
            Some(&format!("Bearer {forged}")),
            Some("acme-ai"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_bodies_and_unknown_urls() {
    let w = world().await;
    let token = bearer(&w.token_for(json!({})).await);
    let url = format!(
        "{}/v1/projects/acme-ai/locations/us-central1/publishers/google/models/gemini:generateContent",
        w.gcp.vertex_url()
    );
    let send = |body: &'static str| {
        w.http
            .post(&url)
            .header("authorization", &token)
            .header("x-goog-user-project", "acme-ai")
            .body(body)
            .send()
    };
    let response = send("{not json").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid JSON payload received."));
    let response = send(r#"{"contents": []}"#).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    for (method, path) in [
        ("GET", "/v1/projects/acme-ai"),
        ("POST", "/v1/models"),
        ("GET", "/v1/token"),
    ] {
        let response = w
            .http
            .request(
                method.parse().unwrap(),
                format!("{}{path}", w.gcp.base_url()),
            )
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{method} {path}");
    }
}

#[tokio::test]
async fn summary_names_endpoints_pools_and_projects() {
    let w = world().await;
    let summary = render_summary(&w.gcp);
    for expected in [
        format!("STS     POST {}", w.gcp.sts_url()),
        "workforce pool acme-workforce".to_string(),
        format!("audience   {}", w.audience("acme-idp")),
        format!("issuer     {} (keys: discovery)", w.idp.issuer()),
        "map        google.subject = assertion.sub".to_string(),
        "condition  assertion.email.endsWith('@acme.test')".to_string(),
        "provider retired (disabled)".to_string(),
        "project acme-sandbox (Vertex AI disabled)".to_string(),
        "aiplatform.endpoints.predict: user:alice@example.com".to_string(),
        "\"type\": \"external_account\"".to_string(),
    ] {
        assert!(
            summary.contains(&expected),
            "missing {expected:?} in\n{summary}"
        );
    }
}

/// Random and mutated input for every parser of request data: each must answer with an error
/// value, never panic, and accept only what is well-formed.
#[test]
fn request_parsers_survive_random_and_malformed_input() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x550b00f);
    let alphabet: &[u8] = b"%=&+/:{}\"[]\\ ,.abcdefPUv1-_~\x00\xff\xc3\xa9";
    let valid_form = serde_urlencoded::to_string([
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        (
            "audience",
            "//iam.googleapis.com/locations/global/workforcePools/p/providers/q",
        ),
        ("requested_token_type", TOKEN_TYPE_ACCESS_TOKEN),
        ("subject_token", "a.b.c"),
        ("subject_token_type", TOKEN_TYPE_ID_TOKEN),
        ("options", "%7B%22userProject%22%3A%22p%22%7D"),
    ])
    .unwrap();
    let valid_path = "/v1/projects/p/locations/l/publishers/google/models/m:generateContent";
    let mutate = |rng: &mut rand::rngs::StdRng, seed: &str| -> Vec<u8> {
        let mut bytes = seed.as_bytes().to_vec();
        for _ in 0..rng.gen_range(1..6) {
            let at = rng.gen_range(0..=bytes.len());
            match rng.gen_range(0..3) {
                0 => bytes.insert(at, alphabet[rng.gen_range(0..alphabet.len())]),
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
        }
        bytes
    };
    for round in 0..20_000 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            (0..rng.gen_range(0..64))
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect()
        } else if round % 4 == 1 {
            mutate(&mut rng, &valid_form)
        } else {
            mutate(&mut rng, valid_path)
        };
        let text = String::from_utf8_lossy(&bytes);
        if let Err(failure) = parse_token_request(&bytes) {
            assert_eq!(failure.status, StatusCode::BAD_REQUEST);
            assert!(!failure.description.is_empty());
        }
        if let Err(failure) = decode_options(&text) {
            assert_eq!(failure.error, "invalid_request");
        }
        if let Ok((pool, provider)) = parse_audience(&text) {
            assert!(!pool.is_empty() && !provider.is_empty() && !pool.contains('/'));
        }
        match parse_path(&text) {
            Ok(target) => assert!(!target.model.is_empty() && !target.project.is_empty()),
            Err(failure) => assert_eq!(failure.code, StatusCode::NOT_FOUND),
        }
    }
}

/// Malformed requests through the running server: always a 4xx JSON answer, never a 5xx.
#[tokio::test]
async fn the_server_answers_garbage_with_client_errors() {
    let w = world().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..100 {
        let body: Vec<u8> = (0..rng.gen_range(0..200)).map(|_| rng.gen()).collect();
        let response = w
            .http
            .post(w.gcp.sts_url())
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let json: Value = response.json().await.unwrap();
        assert!(json["error"].is_string());
        let segment: String = (0..rng.gen_range(1..20))
            .map(|_| char::from(b"abc:%2F3A-_.~@"[rng.gen_range(0..14)]))
            .collect();
        let url = format!(
            "{}/v1/projects/{segment}/locations/l/publishers/google/models/{segment}",
            w.gcp.vertex_url()
        );
        let response = w.http.post(url).body(body).send().await.unwrap();
        assert!(response.status().is_client_error(), "{segment}");
        let json: Value = response.json().await.unwrap();
        assert!(json["error"]["code"].is_u64());
    }
}
