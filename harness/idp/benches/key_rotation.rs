//! Key rotation time (issue 12: rotations past the eighth took 130–490 ms each, because the
//! embedded key pool ran out and each further RS256 key was generated on the spot).
//!
//! `cargo bench -p ssoproof-idp --bench key_rotation [-- ROTATIONS]` (default 50): starts a
//! Keycloak emulator, rotates its RS256 key that many times and prints each rotation's time,
//! their median, the slowest, and the total.

use std::time::{Duration, Instant};

fn main() {
    let rotations: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse().expect("ROTATIONS is a number"))
        .unwrap_or(50);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let emulator = runtime
        .block_on(ssoproof_idp::Emulator::keycloak())
        .expect("the emulator starts");
    let mut times: Vec<Duration> = Vec::with_capacity(rotations);
    let started = Instant::now();
    for n in 1..=rotations {
        let before = Instant::now();
        emulator.rotate_keys();
        let took = before.elapsed();
        println!("rotation {n:>3}: {:>8.3} ms", took.as_secs_f64() * 1e3);
        times.push(took);
    }
    let total = started.elapsed();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{rotations} rotations: median {:.3} ms, slowest {:.3} ms, total {:.1} ms",
        ms(times[times.len() / 2]),
        ms(*times.last().expect("at least one rotation")),
        ms(total)
    );
}
