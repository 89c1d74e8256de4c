//! issue 15: `probe app --saml` against two in-process service providers: a strict one, built on
//! ssoproof's reference SP (`ssoproof_rp::saml::ServiceProvider`), which must pass every case,
//! and a lax one that signs in whatever is posted to its ACS URL, which every case but the
//! control must find VULNERABLE.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ssoproof_idp::{Emulator, IdpOptions, Realm};
use ssoproof_probe::app::saml::{run, SamlAppProbe, CATALOGUE};
use ssoproof_probe::app::session::{SignedIn, Target};
use ssoproof_probe::app::FixtureUser;
use ssoproof_probe::idp::Idp;
use ssoproof_probe::report::{render, Format};
use ssoproof_probe::Verdict;
use ssoproof_rp::saml::{MetadataSource, ServiceProvider, SpConfig};
use url::Url;

const ENTITY_ID: &str = "https://sp.acme.test/saml";

struct Sp {
    reference: ServiceProvider,
    /// Signs in whatever reaches its ACS URL.
    lax: bool,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies
        .split("; ")
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_string))
}

async fn login(State(sp): State<Arc<Sp>>) -> Response {
    let (request, url) = sp.reference.authn_request();
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, url.to_string()),
            (header::SET_COOKIE, format!("req={}; Path=/", request.id)),
        ],
    )
        .into_response()
}

async fn acs(
    State(sp): State<Arc<Sp>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let response = form
        .iter()
        .find(|(k, _)| k == "SAMLResponse")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let role = if sp.lax {
        Some("admin".to_string())
    } else {
        sp.reference
            .accept(response, cookie(&headers, "req").as_deref())
            .ok()
            .map(|login| login.role.name().to_string())
    };
    match role {
        Some(role) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/whoami".to_string()),
                (header::SET_COOKIE, format!("role={role}; Path=/")),
            ],
        )
            .into_response(),
        None => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn whoami(headers: HeaderMap) -> Response {
    match cookie(&headers, "role") {
        Some(role) => axum::Json(serde_json::json!({ "role": role })).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// Probes an SP (strict or lax) trusting a fresh emulator; each case's verdict.
async fn probe(lax: bool) -> Vec<(String, Verdict)> {
    let emulator = Emulator::start(Realm::builtin_keycloak(), IdpOptions::default())
        .await
        .unwrap();
    let idp = Idp::from_emulator(emulator);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let metadata = MetadataSource::Url(format!("{}/protocol/saml/descriptor", idp.issuer()));
    let mut config = SpConfig::new(metadata, ENTITY_ID, format!("{base}/saml/acs"));
    let admin = config.roles.role("admin").unwrap();
    config.role_mappings = vec![("/acme/admins".into(), admin)];
    let sp = Arc::new(Sp {
        reference: ServiceProvider::new(config).await.unwrap(),
        lax,
    });
    let app = axum::Router::new()
        .route("/login", axum::routing::get(login))
        .route("/saml/acs", axum::routing::post(acs))
        .route("/whoami", axum::routing::get(whoami))
        .layer(axum::extract::DefaultBodyLimit::max(4 * 1024 * 1024))
        .with_state(sp);
    let _server = ssoproof_server::ServerHandle::spawn(listener, app).unwrap();
    let probe = SamlAppProbe {
        target: Target {
            login_url: Url::parse(&format!("{base}/login")).unwrap(),
            whoami_url: Url::parse(&format!("{base}/whoami")).unwrap(),
            signed_in: SignedIn::Pointer("/role".into()),
            idp_origin: Url::parse(&idp.issuer()).unwrap().origin(),
            timeout: Duration::from_secs(10),
        },
        user: FixtureUser::from_realm(&Realm::builtin_keycloak(), "alice").unwrap(),
        allow_remote: false,
        only: Vec::new(),
        vendor: "keycloak".into(),
    };
    let report = run(&probe, &idp).await.unwrap();
    println!("{}", render(&report, Format::Table, false));
    report
        .cases
        .iter()
        .map(|c| (c.id.clone(), c.verdict()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_sp_passes_every_case() {
    let verdicts = probe(false).await;
    assert_eq!(verdicts.len(), CATALOGUE.len());
    let failed: Vec<_> = verdicts
        .iter()
        .filter(|(_, v)| *v != Verdict::Pass)
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sp_that_accepts_anything_is_vulnerable_to_every_case() {
    let verdicts = probe(true).await;
    assert_eq!(verdicts[0], ("valid-login".to_string(), Verdict::Pass));
    let missed: Vec<_> = verdicts[1..]
        .iter()
        .filter(|(_, v)| *v != Verdict::Vulnerable)
        .collect();
    assert!(missed.is_empty(), "{missed:?}");
}
