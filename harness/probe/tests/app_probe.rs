//! `probe app` against two in-process applications: a strict one, which must pass every case,
//! and a lax one, whose known weaknesses each case must find and no other.

mod fake_app;

use std::time::Duration;

use fake_app::FakeApp;
use ssoproof_idp::{Emulator, IdpOptions, Realm};
use ssoproof_probe::app::{run, AppProbe, FixtureUser, RoleRule, SignedIn};
use ssoproof_probe::idp::Idp;
use ssoproof_probe::report::{render, Format};
use ssoproof_probe::{ProbeReport, Verdict};
use url::Url;

fn user(name: &str, rule: RoleRule) -> FixtureUser {
    FixtureUser {
        username: name.into(),
        password: format!("{name}-password").into(),
        rule,
    }
}

fn probe(app: &FakeApp, calls_userinfo: bool) -> AppProbe {
    AppProbe {
        login_url: Url::parse(&format!("{}/login", app.base)).unwrap(),
        whoami_url: Url::parse(&format!("{}/whoami", app.base)).unwrap(),
        signed_in: SignedIn::Pointer("/role".into()),
        users: vec![
            user("alice", RoleRule::Role("admin".into())),
            user("bob", RoleRule::Role("user".into())),
            user("dave", RoleRule::Refused),
        ],
        overage_user: None,
        timeout: Duration::from_secs(10),
        allow_remote: false,
        rediscovers: false,
        calls_userinfo,
        only: Vec::new(),
        vendor: "keycloak".into(),
    }
}

/// The realm with the application's PKCE enforcement `pkce` (the lax app sends none).
async fn emulator(pkce: bool) -> Idp {
    let mut realm = Realm::builtin_keycloak();
    if !pkce {
        let client = realm
            .clients
            .iter_mut()
            .find(|c| c.client_id == "acme-app")
            .unwrap();
        client.attributes.remove("pkce.code.challenge.method");
    }
    Idp::from_emulator(Emulator::start(realm, IdpOptions::default()).await.unwrap())
}

fn verdicts(report: &ProbeReport) -> Vec<(String, Verdict)> {
    report
        .cases
        .iter()
        .map(|c| (c.id.clone(), c.verdict()))
        .collect()
}

fn not_passing(report: &ProbeReport) -> Vec<(String, Verdict)> {
    verdicts(report)
        .into_iter()
        .filter(|(_, v)| *v != Verdict::Pass)
        .collect()
}

#[tokio::test]
async fn a_strict_application_passes_every_case() {
    let idp = emulator(true).await;
    let app = FakeApp::start(true, &idp.issuer(), "acme-app", "acme-app-secret").await;
    let report = run(&probe(&app, true), &idp).await.unwrap();
    assert_eq!(not_passing(&report), [], "{report:#?}");
    let ids: Vec<String> = verdicts(&report).into_iter().map(|(id, _)| id).collect();
    assert!(ids.contains(&"role-dave".to_string()), "{ids:?}");
    assert!(ids.contains(&"code-other-session".to_string()), "{ids:?}");
    assert!(ids.contains(&"userinfo-other-sub".to_string()), "{ids:?}");
    assert!(ids.contains(&"iss-parameter-wrong".to_string()), "{ids:?}");
    assert!(
        !ids.contains(&"discovery-issuer-mismatch".to_string()),
        "{ids:?}"
    );
    assert!(report.passed());
}

#[tokio::test]
async fn a_lax_application_is_caught_where_it_is_lax_only() {
    let idp = emulator(false).await;
    let app = FakeApp::start(false, &idp.issuer(), "acme-app", "acme-app-secret").await;
    // It never calls userinfo, so the userinfo case does not apply.
    let report = run(&probe(&app, false), &idp).await.unwrap();
    let v = |s: &str| (s.to_string(), Verdict::Vulnerable);
    assert_eq!(
        not_passing(&report),
        [
            v("id-token-wrong-nonce"),
            v("iss-parameter-missing"),
            v("iss-parameter-wrong"),
            v("state-changed"),
            v("state-missing"),
            v("code-other-session"),
            v("pkce-s256"),
            v("state-unpredictable"),
            v("role-dave"),
        ],
        "{report:#?}"
    );
    // The table people read, for this fixed run (the ports change from run to run).
    let mut fixed = report.clone();
    fixed.target = "http://127.0.0.1:PORT/login".into();
    fixed.issuer = "http://127.0.0.1:PORT/realms/acme".into();
    fixed.tool_version = "VERSION".into();
    insta::assert_snapshot!(render(&fixed, Format::Table, false));
}

/// A login URL that never reaches the IdP and an application that does not answer: each
/// case is an error naming the hop, not a pass and not a hang.
#[tokio::test]
async fn broken_hops_are_named() {
    let idp = emulator(true).await;
    let app = FakeApp::start(true, &idp.issuer(), "acme-app", "acme-app-secret").await;
    let mut p = probe(&app, true);
    p.login_url = Url::parse(&format!("{}/", app.base)).unwrap();
    p.only = vec!["valid-login".into(), "state-changed".into()];
    let report = run(&p, &idp).await.unwrap();
    let errors: Vec<(String, String)> = report
        .cases
        .iter()
        .map(|c| match &c.observed {
            ssoproof_probe::Observed::Error { hop, message } => (hop.clone(), message.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(errors[0].0, "app login URL");
    assert!(
        errors[0].1.contains("never reached the IdP") && errors[0].1.contains("status 200"),
        "{}",
        errors[0].1
    );
    assert_eq!(errors[1].0, "valid-login", "{errors:?}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    p.login_url = Url::parse(&format!("http://127.0.0.1:{port}/login")).unwrap();
    let report = run(&p, &idp).await.unwrap();
    let ssoproof_probe::Observed::Error { hop, message } = &report.cases[0].observed else {
        panic!("{report:?}")
    };
    assert_eq!(hop, "app login URL");
    assert!(message.contains("cannot connect"), "{message}");
    assert!(!report.passed());
}

#[tokio::test]
async fn remote_targets_and_bad_users_are_setup_errors() {
    let idp = emulator(true).await;
    let app = FakeApp::start(true, &idp.issuer(), "acme-app", "acme-app-secret").await;
    let mut p = probe(&app, true);
    p.whoami_url = Url::parse("https://app.example.com/whoami").unwrap();
    let err = run(&p, &idp).await.unwrap_err();
    assert_eq!(err.code(), "probe/target-remote");
    let mut p = probe(&app, true);
    p.only = vec!["no-such-case".into()];
    assert_eq!(run(&p, &idp).await.unwrap_err().code(), "probe/usage");
    assert_eq!(
        FixtureUser::parse_spec("alice:").unwrap_err().code(),
        "probe/usage"
    );
    assert_eq!(
        FixtureUser::parse_spec("dave:-").unwrap(),
        ("dave".to_string(), RoleRule::Refused)
    );
}

/// An authorization the IdP refuses (here a scope the client may not ask for) is an error at
/// the IdP hop with the IdP's words, not a refusal by the application.
#[tokio::test]
async fn an_idp_refusal_is_an_idp_error() {
    let idp = emulator(true).await;
    let app = FakeApp::with_scope(
        true,
        &idp.issuer(),
        "acme-app",
        "acme-app-secret",
        "openid no-such-scope",
    )
    .await;
    let mut p = probe(&app, true);
    p.only = vec!["valid-login".into()];
    let report = run(&p, &idp).await.unwrap();
    let ssoproof_probe::Observed::Error { hop, message } = &report.cases[0].observed else {
        panic!("{report:?}")
    };
    assert_eq!(hop, "IdP");
    assert!(message.contains("error=invalid_scope"), "{message}");
}

/// Attached to an emulator through its admin API (as to a running `ssoproof serve idp`), the
/// faults travel over HTTP and the strict application still passes every case.
#[tokio::test]
async fn attached_over_the_admin_api() {
    let emulator = Emulator::start(Realm::builtin_keycloak(), IdpOptions::default())
        .await
        .unwrap();
    let idp = Idp::attach(&Url::parse(&emulator.base_url()).unwrap())
        .await
        .unwrap();
    let app = FakeApp::start(true, &idp.issuer(), "acme-app", "acme-app-secret").await;
    let report = run(&probe(&app, true), &idp).await.unwrap();
    assert_eq!(not_passing(&report), [], "{report:#?}");
    assert!(report.cases.iter().any(|c| c.id == "id-token-alg-none"));
}

/// Entra's group overage: olga is in 251 groups, so her ID token carries `_claim_names` instead
/// of `groups`. The lax application gives anyone without a mapped group the default role.
#[tokio::test]
async fn entra_group_overage_is_held_to_the_runbook() {
    let idp = Idp::from_emulator(
        Emulator::start(
            Realm::builtin_persona(ssoproof_idp::Vendor::Entra),
            IdpOptions::default(),
        )
        .await
        .unwrap(),
    );
    let app = FakeApp::start(
        false,
        &idp.issuer(),
        "44444444-4444-4444-4444-444444444444",
        "acme-entra-client-secret",
    )
    .await;
    let entra_user = |name: &str, rule| FixtureUser {
        username: format!("{name}@example.com"),
        password: format!("{name}-password").into(),
        rule,
    };
    let mut p = probe(&app, false);
    p.users = vec![entra_user("alice", RoleRule::Any)];
    p.only = vec!["valid-login".into(), "groups-overage".into()];
    // The runbook refuses such a user (groups_overage); the lax application signs her in.
    p.overage_user = Some(entra_user("olga", RoleRule::Refused));
    let report = run(&p, &idp).await.unwrap();
    assert_eq!(
        verdicts(&report),
        [
            ("valid-login".to_string(), Verdict::Pass),
            ("groups-overage".to_string(), Verdict::Vulnerable)
        ],
        "{report:#?}"
    );
    // A runbook that documents the default role is what the lax application does.
    p.overage_user = Some(entra_user("olga", RoleRule::Role("viewer".into())));
    let report = run(&p, &idp).await.unwrap();
    assert_eq!(report.cases[1].verdict(), Verdict::Pass, "{report:#?}");
}

/// Where the IdP cannot send the overage marker, the case says so instead of passing.
#[tokio::test]
async fn an_overage_case_without_the_marker_is_an_error() {
    let idp = emulator(true).await;
    let app = FakeApp::start(true, &idp.issuer(), "acme-app", "acme-app-secret").await;
    let mut p = probe(&app, false);
    p.only = vec!["valid-login".into(), "groups-overage".into()];
    p.overage_user = Some(user("dave", RoleRule::Refused));
    let report = run(&p, &idp).await.unwrap();
    assert_eq!(report.cases[1].id, "groups-overage");
    assert_eq!(report.cases[1].verdict(), Verdict::Error, "{report:#?}");
    p.overage_user = Some(user("dave", RoleRule::Any));
    let refused = run(&p, &idp).await.unwrap_err();
    assert_eq!(refused.code(), "probe/usage");
}
