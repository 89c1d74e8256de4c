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
    let _ = real.finish().await;
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
