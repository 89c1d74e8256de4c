//! The emulator held to a real Keycloak: the same probes against both, every difference either
//! listed in `fixtures/fidelity/keycloak.yaml` with its reason or a failure.
//!
//! Needs a Keycloak (Docker, or a local distribution from `scripts/fetch-keycloak`); without
//! one the test prints that it skipped and why, unless `SSOPROOF_REQUIRE_KEYCLOAK=1` (set by
//! `.ci/run`), which makes a missing Keycloak a failure. `SSOPROOF_FIDELITY_DUMP=DIR` writes
//! both sides' observations there, for reviewing a difference.

use std::path::PathBuf;
use std::process::ExitCode;

use ssoproof::backend::{BackendKind, RealmFixture};
use ssoproof::fidelity::{observe_both, Deviations, Report, DEVIATIONS_FILE};

fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    runtime.block_on(the_emulator_answers_as_keycloak_does())
}

async fn the_emulator_answers_as_keycloak_does() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let keycloak = BackendKind::Keycloak.build(&root);
    if let Err(e) = keycloak.availability().await {
        if std::env::var_os("SSOPROOF_REQUIRE_KEYCLOAK").is_some() {
            eprintln!("fidelity: FAILED: SSOPROOF_REQUIRE_KEYCLOAK is set but {e}");
            return ExitCode::FAILURE;
        }
        println!("fidelity: skipped: {e}");
        return ExitCode::SUCCESS;
    }
    let deviations = Deviations::load(&root.join(DEVIATIONS_FILE)).unwrap();
    let emulator = BackendKind::Emulator.build(&root);
    let fixture =
        RealmFixture::load(&root.join("fixtures/keycloak-realm.json"), "fidelity").unwrap();
    let (real, emulated) = (
        keycloak.start_scenario(&[]).await.unwrap(),
        emulator.start_scenario(&[]).await.unwrap(),
    );
    let (emulated_seen, real_seen) = observe_both(emulated.as_ref(), real.as_ref(), &fixture)
        .await
        .unwrap_or_else(|e| panic!("[{}] {e}", e.code()));
    let report = Report::compare(&emulated_seen, &real_seen, &deviations);
    println!("{report}");
    if let Ok(dir) = std::env::var("SSOPROOF_FIDELITY_DUMP") {
        for (name, seen) in [("emulator", &emulated_seen), ("keycloak", &real_seen)] {
            let path = PathBuf::from(&dir).join(format!("{name}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(seen).unwrap()).unwrap();
        }
    }
    // The same Keycloak start serves the SAML test: each start costs half a minute or more.
    let saml = the_reference_sp_signs_in_at_keycloak_over_saml(&real.issuer()).await;
    let _ = real.finish().await;
    if let Err(failure) = saml {
        eprintln!("fidelity: FAILED: login --saml against Keycloak: {failure}");
        return ExitCode::FAILURE;
    }
    println!("fidelity: login --saml against Keycloak: alice signed in with her groups; wrong expectations refused with their codes");
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "fidelity: FAILED: the emulator differs from Keycloak {}: see above",
            deviations.keycloak
        );
        ExitCode::FAILURE
    }
}

/// issue 15: the reference SAML SP against the real Keycloak as IdP, through the fixture's SAML
/// client `https://sp.acme.test/saml` (ACS `http://127.0.0.1/saml/acs`): alice signs in with her
/// groups, and one real Response held to wrong expectations is refused with each code.
async fn the_reference_sp_signs_in_at_keycloak_over_saml(issuer: &str) -> Result<(), String> {
    use ssoproof_rp::saml::{MetadataSource, ServiceProvider, SpConfig};
    use ssoproof_secret::Secret;

    const SP: &str = "https://sp.acme.test/saml";
    const ACS: &str = "http://127.0.0.1/saml/acs";
    let metadata = MetadataSource::Url(format!("{issuer}/protocol/saml/descriptor"));
    let sp_with = |entity_id: &str, acs: &str| {
        let mut config = SpConfig::new(metadata.clone(), entity_id, acs);
        let admin = config
            .roles
            .role("admin")
            .expect("admin is on the default ladder");
        config.role_mappings = vec![("/acme/admins".to_string(), admin)];
        ServiceProvider::new(config)
    };
    let shown = |e: ssoproof_rp::RpError| format!("[{}] {e}", e.code());
    let sp = sp_with(SP, ACS).await.map_err(shown)?;
    let password = Secret::new("alice-password");
    let login = sp.login("alice", &password).await.map_err(shown)?;
    if (
        login.name_id.as_str(),
        login.groups.as_slice(),
        login.role.name(),
    ) != (
        "alice@example.com",
        &["/acme/admins".to_string()][..],
        "admin",
    ) {
        return Err(format!("alice's login is not the expected one: {login:?}"));
    }

    // One real Response, each expectation bent in turn.
    let posted = sp.sign_in("alice", &password).await.map_err(shown)?;
    let other_sp = sp_with("https://other-sp.example/saml", ACS)
        .await
        .map_err(shown)?;
    let other_acs = sp_with(SP, "http://127.0.0.1/other/acs")
        .await
        .map_err(shown)?;
    let checks = [
        (&other_sp, Some(posted.request_id.as_str()), "saml/audience"),
        (
            &other_acs,
            Some(posted.request_id.as_str()),
            "saml/destination",
        ),
        (&sp, Some("_another-request"), "saml/in-response-to"),
        (&sp, None, "saml/in-response-to"),
        (&sp, Some(posted.request_id.as_str()), "accepted"),
        (&sp, Some(posted.request_id.as_str()), "saml/replay"),
    ];
    for (sp, request_id, expected) in checks {
        let found = match sp.accept(&posted.saml_response, request_id) {
            Ok(_) => "accepted",
            Err(e) => e.code(),
        };
        if found != expected {
            return Err(format!(
                "Keycloak's Response with {request_id:?}: {found}, expected {expected}"
            ));
        }
    }
    Ok(())
}
