//! Realm import time against the size of the export (issue 11: 20,000 users took 3 s and
//! 100,000 did not load in 20 s, because the duplicate checks over users, clients and groups
//! compared each entry with every earlier one). Loading must grow linearly: the time per user
//! stays flat from 10,000 to 100,000 users.
//!
//! `cargo bench -p ssoproof-idp --bench realm_import [-- USERS...]`

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ssoproof_idp::Realm;

/// An export with `users` users, a tenth as many groups and clients, each user in two groups
/// and with a password: every list the duplicate checks walk grows with the size.
fn export(users: usize) -> String {
    let groups = (users / 10).max(1);
    let group_list: Vec<Value> = (0..groups)
        .map(|g| json!({"name": format!("g{g}")}))
        .collect();
    let user_list: Vec<Value> = (0..users)
        .map(|u| {
            json!({
                "username": format!("user{u}"),
                "enabled": true,
                "email": format!("user{u}@example.com"),
                "credentials": [{"type": "password", "value": format!("pw{u}")}],
                "groups": [format!("/g{}", u % groups), format!("/g{}", (u * 7) % groups)],
            })
        })
        .collect();
    let client_list: Vec<Value> = (0..groups)
        .map(|c| {
            json!({
                "clientId": format!("client{c}"),
                "secret": format!("secret{c}"),
                "redirectUris": ["http://127.0.0.1/callback"],
            })
        })
        .collect();
    json!({
        "realm": "bench",
        "enabled": true,
        "groups": group_list,
        "users": user_list,
        "clients": client_list,
    })
    .to_string()
}

/// The fastest of three loads (the machine is shared; the minimum is the least disturbed).
fn time_load(text: &str) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let realm = Realm::from_keycloak_json(text, Path::new("bench.json")).expect("loads");
            let elapsed = start.elapsed();
            std::hint::black_box(realm);
            elapsed
        })
        .min()
        .expect("three runs")
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 20_000, 50_000, 100_000]
    } else {
        sizes
    };
    println!(
        "{:>8} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "users", "groups", "clients", "MB", "load", "µs/user"
    );
    for users in sizes {
        let text = export(users);
        let elapsed = time_load(&text);
        let per_user = elapsed.as_secs_f64() * 1e6 / users as f64;
        println!(
            "{users:>8} {:>8} {:>8} {:>10.1} {:>9.3}s {per_user:>10.2}",
            (users / 10).max(1),
            (users / 10).max(1),
            text.len() as f64 / 1e6,
            elapsed.as_secs_f64(),
        );
    }
}
