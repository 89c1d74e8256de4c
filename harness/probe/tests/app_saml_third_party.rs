//! issue 15: `probe app --saml` against real third-party software: a web application whose SAML
//! login is pysaml2 7.5.5 (`scripts/interop/saml/sp_app.py`, started by `ssoproof-thirdparty`),
//! trusting the emulator's metadata for the built-in realm's SAML client. The test asserts what
//! pysaml2 does with every case, findings included.
//!
//! Skips (printing `SKIPPED: …`) when the pysaml2 venv is not there, unless
//! `SSOPROOF_REQUIRE_PROBE_TARGETS=1`.

use std::collections::BTreeMap;
use std::time::Duration;

use ssoproof_idp::{Realm, SigningAlg};
use ssoproof_probe::app::saml::{self, SamlAppProbe};
use ssoproof_probe::app::session::{SignedIn, Target};
use ssoproof_probe::app::FixtureUser;
use ssoproof_probe::idp::{Idp, LocalOptions};
use ssoproof_probe::report::{render, Format};
use ssoproof_thirdparty::{launch_or_skip, PySaml2App};

#[tokio::test(flavor = "multi_thread")]
async fn pysaml2_sp_against_the_saml_catalogue() {
    let realm = Realm::builtin_keycloak();
    let idp = Idp::start(LocalOptions {
        realm: realm.clone(),
        bind: "127.0.0.1:0".parse().unwrap(),
        signing: SigningAlg::Rs256,
    })
    .await
    .unwrap();
    let metadata = format!("{}/protocol/saml/descriptor", idp.issuer());
    let app = launch_or_skip!(
        PySaml2App::start(
            &metadata,
            "https://sp.acme.test/saml",
            &[("/acme/admins", "admin")]
        )
        .await
    );
    let probe = SamlAppProbe {
        target: Target {
            login_url: app.login_url(),
            whoami_url: app.whoami_url(),
            signed_in: SignedIn::Pointer("/role".into()),
            idp_origin: url::Url::parse(&idp.issuer()).unwrap().origin(),
            timeout: Duration::from_secs(10),
        },
        user: FixtureUser::from_realm(&realm, "alice").unwrap(),
        allow_remote: false,
        only: Vec::new(),
        vendor: "keycloak".into(),
    };
    let report = saml::run(&probe, &idp).await.unwrap();
    let context = format!("{}\n{}", render(&report, Format::Table, false), app.log());
    let observed: BTreeMap<&str, &str> = report
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.observed_label()))
        .collect();
    assert_eq!(observed.len(), saml::CATALOGUE.len(), "{context}");
    // Findings, as found with pysaml2 7.5.5 (the emulator's pysaml2 test in
    // scripts/interop/saml sees the same three): it accepts a SHA-1 signature, a Recipient
    // naming another ACS (it checks the Destination only), and a comment inside the NameID
    // (it reads the NameID's whole text, so the comment does not truncate it).
    let accepted: Vec<&str> = observed
        .iter()
        .filter(|(_, o)| **o == "ACCEPTED")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(
        accepted,
        [
            "nameid-comment",
            "sha1-signature",
            "valid-login",
            "wrong-recipient"
        ],
        "{context}"
    );
    assert!(observed.values().all(|o| *o != "ERROR"), "{context}");
    let control = &report.cases[0];
    assert!(
        matches!(&control.observed, ssoproof_probe::Observed::Accepted { identity: Some(role), .. } if role == "admin"),
        "{context}"
    );
}
