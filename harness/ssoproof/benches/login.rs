//! In-process login round trip: the reference relying party signs in to the embedded emulator
//! (authorize → HTML form → code → token → ID-token validation → userinfo), per signing
//! algorithm. Goal: under 5 ms median with RS256.
//!
//! `cargo bench --bench login [-- ITERATIONS]`

use std::time::{Duration, Instant};

use ssoproof_idp::{Emulator, IdpOptions, Realm, SigningAlg};
use ssoproof_rp::{ClientConfig, RelyingParty};
use ssoproof_secret::Secret;

fn main() {
    let iterations: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(300);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!("in-process login round trip, {iterations} iterations after 20 warm-up logins");
    println!(
        "{:<8} {:>10} {:>10} {:>10}",
        "alg", "median", "p95", "start"
    );
    for signing in [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa] {
        runtime.block_on(async {
            let realm = Realm::from_keycloak_export(root.join("fixtures/keycloak-realm.json"))
                .expect("fixture loads");
            let started = Instant::now();
            let emulator = Emulator::start(
                realm,
                IdpOptions {
                    signing,
                    ..IdpOptions::default()
                },
            )
            .await
            .expect("emulator starts");
            let start = started.elapsed();
            let mut config =
                ClientConfig::new(emulator.issuer(), "acme-app", "http://127.0.0.1/callback");
            config.client_secret = Some(Secret::new("acme-app-secret"));
            config.role_mappings =
                vec![("/acme/admins".into(), config.roles.role("admin").unwrap())];
            let rp = RelyingParty::discover(config).await.expect("discovery");
            let password = Secret::new("alice-password");
            let mut samples: Vec<Duration> = Vec::with_capacity(iterations);
            for i in 0..iterations + 20 {
                let t = Instant::now();
                let session = rp.login("alice", &password).await.expect("login succeeds");
                assert_eq!(session.outcome.role, "admin");
                if i >= 20 {
                    samples.push(t.elapsed());
                }
            }
            samples.sort();
            let median = samples[samples.len() / 2];
            let p95 = samples[samples.len() * 95 / 100];
            println!(
                "{:<8} {:>8.2}ms {:>8.2}ms {:>8.2}ms",
                signing.as_str(),
                ms(median),
                ms(p95),
                ms(start)
            );
        });
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
