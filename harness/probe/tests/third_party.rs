//! `probe api` against real third-party software, started by `ssoproof-thirdparty`: oauth2-proxy
//! v7.15.6 as a bearer gateway (`--skip-jwt-bearer-tokens`) and an Express API verifying tokens
//! with jose (`scripts/interop/probe-targets/bearer-api.js`). Each test asserts what the target
//! does with every case, findings included: a real project that accepts what it should not is
//! stated here (and in the README), not hidden.
//!
//! Skips (printing `SKIPPED: …`) when a target is not installed, unless
//! `SSOPROOF_REQUIRE_PROBE_TARGETS=1`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use ssoproof_idp::{Realm, SigningAlg};
use ssoproof_probe::api::cases::{GroupRule, Settings};
use ssoproof_probe::api::{self, ApiTarget, IdentitySource};
use ssoproof_probe::idp::{Idp, LocalOptions};
use ssoproof_probe::report::{render, Format};
use ssoproof_probe::ProbeReport;
use ssoproof_thirdparty::{launch_or_skip, LaunchError, NodeApp, OAuth2Proxy};
use url::Url;

const CLIENT: &str = "acme-app";
const AUDIENCE: &str = "acme-api";

async fn idp() -> Idp {
    idp_signing(SigningAlg::Rs256).await
}

async fn idp_signing(signing: SigningAlg) -> Idp {
    Idp::start(LocalOptions {
        realm: Realm::builtin_keycloak(),
        bind: "127.0.0.1:0".parse().unwrap(),
        signing,
    })
    .await
    .unwrap()
}

fn settings() -> Settings {
    Settings {
        user: "alice".into(),
        audience: AUDIENCE.into(),
        group: None,
        allowed_users: Vec::new(),
        denied_users: Vec::new(),
        only: Vec::new(),
        now: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    }
}

async fn run(idp: &Idp, url: Url, settings: &Settings) -> ProbeReport {
    let mut target = ApiTarget::new(url, false).unwrap();
    target.method = reqwest::Method::POST;
    target.body = Some(br#"{"prompt":"hello"}"#.to_vec());
    target.identity = IdentitySource::Header("x-attach-user".parse().unwrap());
    api::run(idp, &target, settings).await.unwrap()
}

/// Each case's observation (`REFUSED`, `ACCEPTED`, `ERROR`).
fn observed(report: &ProbeReport) -> BTreeMap<&str, &'static str> {
    report
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.observed_label()))
        .collect()
}

/// The cases observed as `label`.
fn cases_observed<'a>(report: &'a ProbeReport, label: &str) -> Vec<&'a str> {
    observed(report)
        .into_iter()
        .filter(|(_, l)| *l == label)
        .map(|(id, _)| id)
        .collect()
}

#[tokio::test]
async fn the_jose_api() {
    jose_api(SigningAlg::Rs256).await;
}

/// With an ES256 issuer the zero-signature cases (CVE-2022-21449) name the issuer's own EC key,
/// and key confusion has no PKCS #1 form; jose answers alike.
#[tokio::test]
async fn the_jose_api_with_an_es256_issuer() {
    let report = jose_api(SigningAlg::Es256).await;
    let Some(report) = report else { return };
    let confusion: Vec<&str> = report
        .cases
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| id.starts_with("hs256-key-confusion"))
        .collect();
    assert_eq!(
        confusion,
        [
            "hs256-key-confusion",
            "hs256-key-confusion-der",
            "hs256-key-confusion-jwk"
        ]
    );
}

/// The report, or `None` when the API is not installed here.
async fn jose_api(signing: SigningAlg) -> Option<ProbeReport> {
    let idp = idp_signing(signing).await;
    let api =
        match NodeApp::bearer_api(&idp.issuer(), AUDIENCE, &[("gpt-4", "AI-Power-Users")], &[])
            .await
        {
            Ok(api) => api,
            Err(LaunchError::Unavailable(reason)) => {
                eprintln!("SKIPPED: {reason}");
                return None;
            }
            Err(other) => panic!("{other}"),
        };
    let settings = Settings {
        group: Some(GroupRule {
            group: "AI-Power-Users".into(),
            claim: "groups".into(),
        }),
        ..settings()
    };
    let report = run(&idp, api.url("/v1/models/gpt-4"), &settings).await;
    let table = render(&report, Format::Table, false);
    let log = api.log();
    // Findings: jose checks `iat` only when asked for a maximum token age, so a token issued
    // 120 s in the future passes; and createRemoteJWKSet refetches for an unknown `kid` only
    // 30 s (its `cooldownDuration`) after its previous fetch, so a token signed by a key
    // rotated in within that time is refused (the probe's whole run is shorter).
    assert_eq!(
        cases_observed(&report, "ACCEPTED"),
        [
            "expired-within-skew",
            "iat-future",
            "iat-within-skew",
            "nbf-within-skew",
            "valid"
        ],
        "{table}\n{log}"
    );
    assert_eq!(cases_observed(&report, "ERROR"), [""; 0], "{table}\n{log}");
    let status = |id: &str| {
        report
            .cases
            .iter()
            .find(|c| c.id == id)
            .map(|c| match &c.observed {
                ssoproof_probe::Observed::Refused { status, .. } => *status,
                _ => None,
            })
    };
    assert_eq!(status("key-rotation"), Some(Some(401)), "{table}");
    assert_eq!(status("group-non-member"), Some(Some(403)), "{table}");
    // Node refuses the 64 KiB header before the app sees it.
    assert_eq!(status("oversized"), Some(Some(431)), "{table}");
    Some(report)
}

#[tokio::test]
async fn oauth2_proxy_as_a_bearer_gateway() {
    let idp = idp().await;
    let secret = idp.local().unwrap().client_secret(CLIENT).unwrap();
    let gateway = launch_or_skip!(
        OAuth2Proxy::bearer(
            &idp.issuer(),
            CLIENT,
            &secret,
            AUDIENCE,
            &["--allowed-group=/acme/admins"]
        )
        .await
    );
    let settings = Settings {
        allowed_users: vec!["carol".into()],
        denied_users: vec!["dave".into()],
        ..settings()
    };
    let report = run(&idp, gateway.url("/v1/models/gpt-4"), &settings).await;
    let table = render(&report, Format::Table, false);
    let log = gateway.log();
    // Findings: oauth2-proxy verifies bearer tokens with go-oidc's ID-token verifier, so it
    // takes an ID token (audience: its own client id) as an API credential; go-oidc allows
    // 5 minutes of skew on `nbf` and none on `exp`, and ignores `iat`; Go's 1 MiB header limit
    // lets a 64 KiB token through.
    assert_eq!(
        cases_observed(&report, "ACCEPTED"),
        [
            "iat-future",
            "iat-within-skew",
            "id-token",
            "key-rotation",
            "nbf-future",
            "nbf-within-skew",
            "oversized",
            "user-allowed:carol",
            "valid"
        ],
        "{table}\n{log}"
    );
    assert_eq!(cases_observed(&report, "ERROR"), [""; 0], "{table}\n{log}");
    // Refused, every one with 403 (`--bearer-token-login-fallback=false`), dave by the group
    // rule; `expired-within-skew` is the one refusal that is wrong (BROKEN).
    let broken: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.verdict() == ssoproof_probe::Verdict::Broken)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(broken, ["expired-within-skew"], "{table}");
}
