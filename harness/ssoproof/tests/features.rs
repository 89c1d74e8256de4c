//! `cargo test --test features`: every feature under `features/` against every backend, and
//! the examples under `examples/features/` against the embedded emulator.
//!
//! The embedded emulator always runs. The Keycloak container runs where a Docker engine exists
//! and the live tenant where `SSOPROOF_LIVE_*` is set; otherwise their scenarios are reported as
//! skipped with the reason, never as passed. cucumber's JUnit reports land in the test target
//! folder (`cucumber-<backend>.xml`).

use std::path::Path;
use std::process::ExitCode;

use ssoproof::backend::BackendKind;
use ssoproof::scenario::{self, Outcome, RunOptions};

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    let mut all = Vec::new();
    // The repository's features on every backend; the examples (a team's own application under
    // test, which needs Node) on the emulator, apart so that `ssoproof verify`'s report of this
    // repository does not depend on what is installed.
    for (kind, features, junit) in [
        (BackendKind::Emulator, "features", "emulator"),
        (BackendKind::Keycloak, "features", "keycloak"),
        (BackendKind::Live, "features", "live"),
        (
            BackendKind::Emulator,
            "examples/features",
            "emulator-examples",
        ),
    ] {
        let backend = kind.build(root);
        let junit = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cucumber-{junit}.xml"));
        let options = RunOptions {
            root: root.to_path_buf(),
            features: root.join(features),
            junit: Some(junit),
            verbose: true,
            tags: None,
            shard: None,
            on_result: None,
        };
        match runtime.block_on(scenario::run(backend.clone(), &options)) {
            Ok(results) => {
                let (passed, failed, skipped) = scenario::tally(&results);
                println!(
                    "\n[{}] {passed} passed, {failed} failed, {skipped} skipped",
                    backend.name()
                );
                let mut skips: Vec<&str> = Vec::new();
                for result in &results {
                    match &result.outcome {
                        Outcome::Failed(reason) => {
                            println!("  FAILED  {}: {reason}", result.scenario)
                        }
                        Outcome::Skipped(reason) => skips.push(reason),
                        Outcome::Passed => {}
                    }
                }
                // One line per reason: a whole backend is usually skipped for one reason.
                skips.sort_unstable();
                for reason in skips
                    .iter()
                    .copied()
                    .collect::<std::collections::BTreeSet<_>>()
                {
                    let count = skips.iter().filter(|r| **r == reason).count();
                    println!("  SKIPPED {count} scenario(s): {reason}");
                }
                all.extend(results);
            }
            Err(e) => {
                eprintln!("error: [{}] {e}", e.code());
                return ExitCode::FAILURE;
            }
        }
    }
    let (passed, failed, skipped) = scenario::tally(&all);
    println!("\nfeatures: {passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 || passed == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
