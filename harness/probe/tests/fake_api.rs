//! `probe api` against two bearer APIs written here: a strict one (jsonwebtoken, algorithm
//! pinned, every claim checked, JWKS refetched on an unknown `kid`) that must pass every case,
//! and a deliberately vulnerable one (takes `alg: none`, ignores `aud`, `typ`, `crit`, `iat`
//! and size) whose every hole the probe must report as ACCEPTED, and nothing else.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use ssoproof_idp::{Realm, SigningAlg};
use ssoproof_probe::api::cases::{GroupRule, Settings};
use ssoproof_probe::api::{self, ApiTarget, IdentitySource};
use ssoproof_probe::idp::{Idp, LocalOptions};
use ssoproof_probe::report::{render, Format};
use ssoproof_probe::{Observed, ProbeReport, Verdict};
use ssoproof_server::ServerHandle;
use url::Url;

const AUDIENCE: &str = "https://api.acme.test";
const GROUP: &str = "AI-Power-Users";

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Strict,
    Vulnerable,
    /// Fails with 500 on `alg: none`, refuses everything else echoing the Authorization header.
    Clumsy,
}

#[derive(Clone)]
struct Api {
    kind: Kind,
    issuer: String,
    jwks: Arc<Mutex<JwkSet>>,
    /// The group the API requires, when it has a group rule.
    group: Option<&'static str>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn fetch_jwks(issuer: &str) -> JwkSet {
    reqwest::get(format!("{issuer}/protocol/openid-connect/certs"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn deny(status: StatusCode, why: &str) -> Response {
    (
        status,
        [("www-authenticate", "Bearer error=\"invalid_token\"")],
        why.to_string(),
    )
        .into_response()
}

async fn handle(State(api): State<Api>, headers: HeaderMap) -> Response {
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return deny(StatusCode::UNAUTHORIZED, "no token");
    };
    let claims = match api.kind {
        Kind::Strict => strict(&api, token).await,
        Kind::Vulnerable => vulnerable(&api, token).await,
        Kind::Clumsy => Err(clumsy(token)),
    };
    let claims = match claims {
        Ok(claims) => claims,
        Err((status, why)) => return deny(status, &why),
    };
    if let Some(group) = api.group {
        let member = claims["groups"]
            .as_array()
            .is_some_and(|groups| groups.iter().any(|g| g == group));
        if !member {
            return deny(StatusCode::FORBIDDEN, "not in the group");
        }
    }
    let sub = claims["sub"].as_str().unwrap_or_default().to_string();
    (
        [("x-attach-user", sub.clone())],
        axum::Json(json!({ "user": { "sub": sub } })),
    )
        .into_response()
}

type Refusal = (StatusCode, String);

fn clumsy(token: &str) -> Refusal {
    let header = token.split('.').next().unwrap_or_default();
    let header = String::from_utf8(URL_SAFE_NO_PAD.decode(header).unwrap_or_default()).unwrap();
    if header.to_lowercase().contains(r#""alg":"none""#) {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "TypeError: key is undefined".into(),
        )
    } else {
        (
            StatusCode::UNAUTHORIZED,
            format!("bad token: Bearer {token}"),
        )
    }
}

async fn key_for(api: &Api, kid: &str) -> Option<DecodingKey> {
    let known = api.jwks.lock().unwrap().find(kid).cloned();
    let jwk = match known {
        Some(jwk) => jwk,
        None => {
            let fresh = fetch_jwks(&api.issuer).await;
            let jwk = fresh.find(kid).cloned();
            *api.jwks.lock().unwrap() = fresh;
            jwk?
        }
    };
    DecodingKey::from_jwk(&jwk).ok()
}

async fn strict(api: &Api, token: &str) -> Result<Value, Refusal> {
    let unauthorized = |why: String| (StatusCode::UNAUTHORIZED, why);
    if token.len() > 16 * 1024 {
        return Err((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "too large".into(),
        ));
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| unauthorized(e.to_string()))?;
    if header.alg != Algorithm::RS256 || header.crit.is_some() || header.jku.is_some() {
        return Err(unauthorized("header refused".into()));
    }
    let kid = header.kid.ok_or_else(|| unauthorized("no kid".into()))?;
    let key = key_for(api, &kid)
        .await
        .ok_or_else(|| unauthorized("unknown kid".into()))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&api.issuer]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.leeway = 60;
    validation.validate_nbf = true;
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| unauthorized(e.to_string()))?
        .claims;
    if claims["iat"].as_i64().is_some_and(|iat| iat > now() + 60) {
        return Err(unauthorized("issued in the future".into()));
    }
    if claims["typ"] != "Bearer" {
        return Err(unauthorized("not an access token".into()));
    }
    Ok(claims)
}

/// Takes `alg: none` in any spelling, trusts the key set a `jku` header names, and verifies the
/// rest with a key from the JWKS, but never checks `aud`, `typ`, `crit`, `iat` or size.
async fn vulnerable(api: &Api, token: &str) -> Result<Value, Refusal> {
    let unauthorized = |why: String| (StatusCode::UNAUTHORIZED, why);
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| unauthorized("bad header".into()))?;
    if header["alg"]
        .as_str()
        .is_some_and(|a| a.eq_ignore_ascii_case("none"))
    {
        return URL_SAFE_NO_PAD
            .decode(parts[1])
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| unauthorized("bad claims".into()));
    }
    let kid = header["kid"].as_str().unwrap_or_default();
    // Trusts the key set the token names.
    let key = match header["jku"].as_str() {
        Some(jku) => {
            let set: JwkSet = reqwest::get(jku).await.unwrap().json().await.unwrap();
            set.find(kid)
                .and_then(|jwk| DecodingKey::from_jwk(jwk).ok())
        }
        None => key_for(api, kid).await,
    }
    .ok_or_else(|| unauthorized("unknown kid".into()))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&api.issuer]);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.leeway = 60;
    validation.validate_nbf = true;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| unauthorized(e.to_string()))
}

async fn start_api(kind: Kind, issuer: &str, group: Option<&'static str>) -> ServerHandle {
    let api = Api {
        kind,
        issuer: issuer.to_string(),
        jwks: Arc::new(Mutex::new(fetch_jwks(issuer).await)),
        group,
    };
    let app = axum::Router::new()
        .route("/v1/models/{model}", any(handle))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ServerHandle::spawn(listener, app).unwrap()
}

async fn idp() -> Idp {
    Idp::start(LocalOptions {
        realm: Realm::builtin_keycloak(),
        bind: "127.0.0.1:0".parse().unwrap(),
        signing: SigningAlg::Rs256,
    })
    .await
    .unwrap()
}

fn settings(group: bool) -> Settings {
    Settings {
        user: "alice".into(),
        audience: AUDIENCE.into(),
        group: group.then(|| GroupRule {
            group: GROUP.into(),
            claim: "groups".into(),
        }),
        allowed_users: Vec::new(),
        denied_users: Vec::new(),
        only: Vec::new(),
        now: now(),
    }
}

async fn probe(kind: Kind, group: bool, identity: IdentitySource) -> (ProbeReport, Idp) {
    let (report, idp, _) = probe_at(kind, group, identity).await;
    (report, idp)
}

/// Also returns the API's address.
async fn probe_at(
    kind: Kind,
    group: bool,
    identity: IdentitySource,
) -> (ProbeReport, Idp, std::net::SocketAddr) {
    let idp = idp().await;
    let api = start_api(kind, &idp.issuer(), group.then_some(GROUP)).await;
    let addr = api.local_addr();
    let url = Url::parse(&format!("http://{addr}/v1/models/gpt")).unwrap();
    let mut target = ApiTarget::new(url, false).unwrap();
    target.method = reqwest::Method::POST;
    target.body = Some(br#"{"prompt":"hi"}"#.to_vec());
    target.identity = identity;
    let report = api::run(&idp, &target, &settings(group)).await.unwrap();
    drop(api);
    (report, idp, addr)
}

fn ids_where(report: &ProbeReport, verdict: Verdict) -> BTreeSet<&str> {
    report
        .cases
        .iter()
        .filter(|c| c.verdict() == verdict)
        .map(|c| c.id.as_str())
        .collect()
}

#[tokio::test]
async fn a_strict_api_passes_every_case() {
    let (report, _idp) = probe(
        Kind::Strict,
        true,
        IdentitySource::Header("x-attach-user".parse().unwrap()),
    )
    .await;
    let table = render(&report, Format::Table, false);
    assert!(report.passed(), "{table}");
    let valid = &report.cases[0];
    assert_eq!(valid.id, "valid");
    let Observed::Accepted { identity, .. } = &valid.observed else {
        panic!("{table}")
    };
    assert!(
        identity.as_deref().is_some_and(|id| !id.is_empty()),
        "{table}"
    );
    let group = report
        .cases
        .iter()
        .find(|c| c.id == "group-non-member")
        .unwrap();
    assert!(
        matches!(
            group.observed,
            Observed::Refused {
                status: Some(403),
                ..
            }
        ),
        "{table}"
    );
    let jku = report.cases.iter().find(|c| c.id == "jku-header").unwrap();
    let Observed::Refused { detail, .. } = &jku.observed else {
        panic!("{table}")
    };
    assert!(
        detail.starts_with("it did not fetch the key URL"),
        "{detail}"
    );
    // Tokens never appear unasked.
    let token = valid.token.as_ref().unwrap().expose().to_string();
    for format in [Format::Table, Format::Json, Format::Junit, Format::Sarif] {
        assert!(
            !render(&report, format, false).contains(&token),
            "{format:?}"
        );
    }
}

#[tokio::test]
async fn a_vulnerable_api_is_caught_on_exactly_its_holes() {
    let (report, idp, addr) = probe_at(
        Kind::Vulnerable,
        false,
        IdentitySource::Pointer("/user/sub".into()),
    )
    .await;
    let table = render(&report, Format::Table, false);
    // The ports are the run's; the rest of the table is fixed.
    let fixed = table
        .replace(&addr.to_string(), "127.0.0.1:API")
        .replace(&idp.issuer(), "http://127.0.0.1:IDP/realms/acme");
    insta::assert_snapshot!("vulnerable_api_table", fixed);
    let expected: BTreeSet<&str> = [
        "alg-none",
        "alg-none-title",
        "alg-none-upper",
        "alg-none-mixed",
        "aud-wrong",
        "aud-missing",
        "id-token",
        "crit-unknown",
        "iat-future",
        "jku-header",
        "oversized",
    ]
    .into();
    assert_eq!(ids_where(&report, Verdict::Vulnerable), expected, "{table}");
    assert_eq!(
        ids_where(&report, Verdict::Error),
        BTreeSet::new(),
        "{table}"
    );
    assert_eq!(
        ids_where(&report, Verdict::Broken),
        BTreeSet::new(),
        "{table}"
    );
    assert!(!report.passed());
    let jku = report.cases.iter().find(|c| c.id == "jku-header").unwrap();
    let Observed::Accepted { detail, .. } = &jku.observed else {
        panic!("{table}")
    };
    assert!(
        detail.starts_with("it fetched the key URL the token named (1x)"),
        "{detail}"
    );
}

#[tokio::test]
async fn an_api_reporting_another_identity_fails_the_valid_case() {
    // The body's `/user` is an object, not the token's sub: the valid case cannot pass.
    let (report, _idp) = probe(Kind::Strict, false, IdentitySource::Pointer("/user".into())).await;
    let valid = &report.cases[0];
    assert_eq!(valid.verdict(), Verdict::Error);
    let Observed::Error { hop, message } = &valid.observed else {
        panic!()
    };
    assert!(hop.starts_with("identity: POST http://127.0.0.1:"), "{hop}");
    assert!(message.contains("not the token's"), "{message}");
}

#[tokio::test]
async fn an_unreachable_api_is_an_error_naming_the_hop_for_every_case() {
    let idp = idp().await;
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/api")).unwrap();
    let target = ApiTarget::new(url, false).unwrap();
    let report = api::run(&idp, &target, &settings(false)).await.unwrap();
    for case in &report.cases {
        let Observed::Error { hop, message } = &case.observed else {
            panic!("{}: {:?}", case.id, case.observed)
        };
        assert_eq!(
            hop,
            &format!("GET http://127.0.0.1:{port}/api"),
            "{}",
            case.id
        );
        assert!(message.starts_with("cannot connect"), "{message}");
    }
}

#[test]
fn a_remote_target_is_refused_before_anything_is_sent() {
    let url = Url::parse("https://api.example.com/v1").unwrap();
    let error = ApiTarget::new(url, false).unwrap_err();
    assert_eq!(error.code(), "probe/target-remote");
}

#[tokio::test]
async fn attached_to_a_running_emulator_the_probe_mints_and_rotates_over_its_admin_api() {
    let emulator = ssoproof_idp::Emulator::keycloak().await.unwrap();
    let idp = Idp::attach(&Url::parse(&emulator.base_url()).unwrap())
        .await
        .unwrap();
    assert_eq!(idp.issuer(), emulator.issuer());
    let before = emulator.current_kid();
    let api = start_api(Kind::Strict, &idp.issuer(), None).await;
    let url = Url::parse(&format!("http://{}/v1/models/gpt", api.local_addr())).unwrap();
    let report = api::run(&idp, &ApiTarget::new(url, false).unwrap(), &settings(false))
        .await
        .unwrap();
    assert!(report.passed(), "{}", render(&report, Format::Table, false));
    assert_ne!(
        emulator.current_kid(),
        before,
        "the rotation case rotated the emulator's key"
    );
}

#[tokio::test]
async fn attaching_to_nothing_names_the_admin_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let Err(error) = Idp::attach(&base).await else {
        panic!("attached to nothing")
    };
    assert_eq!(error.code(), "probe/idp-admin");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("GET http://127.0.0.1:{port}/_ssoproof/state: ")),
        "{message}"
    );
}

#[tokio::test]
async fn a_server_error_on_a_forgery_is_flagged_and_an_echoed_token_is_redacted() {
    let (report, _idp) = probe(Kind::Clumsy, false, IdentitySource::None).await;
    let table = render(&report, Format::Table, false);
    for id in [
        "alg-none",
        "alg-none-title",
        "alg-none-upper",
        "alg-none-mixed",
    ] {
        let case = report.cases.iter().find(|c| c.id == id).unwrap();
        let Observed::Error { message, .. } = &case.observed else {
            panic!("{table}")
        };
        assert!(
            message.starts_with("answered 500 Internal Server Error: a server error on a forged"),
            "{message}"
        );
    }
    let valid = &report.cases[0];
    assert_eq!(valid.verdict(), Verdict::Broken, "{table}");
    let Observed::Refused { detail, .. } = &valid.observed else {
        panic!("{table}")
    };
    assert!(detail.contains("bad token: Bearer [redacted]"), "{detail}");
    for case in &report.cases {
        let token = case.token.as_ref().unwrap().expose();
        assert!(!table.contains(token), "{} leaked in\n{table}", case.id);
        assert!(!render(&report, Format::Json, false).contains(token));
    }
}

#[tokio::test]
async fn an_api_that_never_answers_is_an_error_after_the_timeout_not_a_hang() {
    let idp = idp().await;
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let url = Url::parse(&format!("http://{addr}/api")).unwrap();
    let mut target = ApiTarget::new(url, false).unwrap();
    target.timeout = std::time::Duration::from_secs(1);
    target.concurrency = 64;
    let report = api::run(&idp, &target, &settings(false)).await.unwrap();
    held.abort();
    for case in &report.cases {
        let Observed::Error { message, .. } = &case.observed else {
            panic!("{}: {:?}", case.id, case.observed)
        };
        assert_eq!(message, "no answer within 1 s (--timeout)", "{}", case.id);
    }
}
