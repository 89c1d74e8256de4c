//! The control surface, in Rust and over the loopback-only admin API.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;
use crate::admin::is_loopback;
use crate::{serve_summary, Fault, IdpOptions};

async fn groups_of(emulator: &Emulator, username: &str) -> Option<Value> {
    let tokens = Login::new(emulator).tokens(username).await;
    decode(tokens["id_token"].as_str().unwrap())
        .1
        .get("groups")
        .cloned()
}

#[tokio::test]
async fn the_full_path_trap_and_a_missing_mapper() {
    let emulator = start().await;
    assert_eq!(
        groups_of(&emulator, "carol").await,
        Some(json!(["/acme/admins", "/acme/engineers"]))
    );
    // A mapper written without `full.path` (or with anything but "true") emits plain names.
    emulator
        .set_group_mapper_full_path("acme-app", None)
        .unwrap();
    assert_eq!(
        groups_of(&emulator, "carol").await,
        Some(json!(["admins", "engineers"]))
    );
    emulator
        .set_group_mapper_full_path("acme-app", Some("TRUE"))
        .unwrap();
    assert_eq!(
        groups_of(&emulator, "carol").await,
        Some(json!(["admins", "engineers"]))
    );
    emulator
        .set_group_mapper_full_path("acme-app", Some("true"))
        .unwrap();
    assert_eq!(
        groups_of(&emulator, "carol").await,
        Some(json!(["/acme/admins", "/acme/engineers"]))
    );
    emulator
        .remove_protocol_mapper("acme-app", "groups")
        .unwrap();
    assert_eq!(groups_of(&emulator, "carol").await, None);

    assert_eq!(
        emulator
            .remove_protocol_mapper("acme-app", "groups")
            .unwrap_err()
            .code(),
        "idp/unknown-mapper"
    );
    assert_eq!(
        emulator
            .set_group_mapper_full_path("acme-app", None)
            .unwrap_err()
            .code(),
        "idp/no-group-mapper"
    );
    assert_eq!(
        emulator
            .set_group_mapper_full_path("nope", None)
            .unwrap_err()
            .code(),
        "idp/unknown-client"
    );
    assert_eq!(
        emulator.user_id("Alice").as_deref(),
        Some("6f1c2a4e-0b1d-4c55-9a6e-3f2b8c1d0a01")
    );
    assert_eq!(emulator.user_id("nobody"), None);
    assert_eq!(emulator.realm_name(), "acme");
}

#[tokio::test]
async fn the_admin_api_mirrors_the_rust_api() {
    let emulator = start().await;
    let admin = |path: &str| format!("{}/_ssoproof/{path}", emulator.base_url());
    let client = http();

    let state: Value = client
        .get(admin("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["issuer"], emulator.issuer());
    assert_eq!(state["faults"], json!([]));
    assert_eq!(state["current_kid"], emulator.current_kid());
    assert_eq!(state["jwks_fetch_count"], 0);

    let injected = client
        .post(admin("faults"))
        .json(&json!({"fault": "jwks_slow", "millis": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(injected.status(), StatusCode::NO_CONTENT);
    client
        .post(admin("faults"))
        .json(&Fault::WrongIssuer)
        .send()
        .await
        .unwrap();
    let state: Value = client
        .get(admin("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["faults"],
        json!([{"fault": "jwks_slow", "millis": 5}, {"fault": "wrong_issuer"}])
    );
    let bad = client
        .post(admin("faults"))
        .body(r#"{"fault": "made_up"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "admin/invalid-body"
    );
    assert_eq!(
        client
            .delete(admin("faults"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );

    let rotated: Value = client
        .post(admin("keys/rotate"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rotated["kid"], emulator.current_kid());
    jwks(&emulator).await;
    let state: Value = client
        .get(admin("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["faults"], json!([]));
    assert_eq!(state["published_kids"].as_array().unwrap().len(), 2);
    assert_eq!(state["jwks_fetch_count"], 1);

    let disabled = client
        .post(admin("users/alice/enabled"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let page = Login::new(&emulator)
        .login("alice", "alice-password")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Account is disabled"));
    let unknown = client
        .post(admin("users/zoe/enabled"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "idp/unknown-user"
    );

    let full_path = client
        .put(admin("clients/acme-app/group-mapper/full-path"))
        .json(&json!({"value": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(full_path.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        groups_of(&emulator, "bob").await,
        Some(json!(["engineers"]))
    );
    let removed = client
        .delete(admin("clients/acme-app/mappers/groups"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(groups_of(&emulator, "bob").await, None);
}

#[test]
fn only_loopback_peers_are_admitted() {
    assert!(is_loopback(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    assert!(is_loopback(IpAddr::V4(Ipv4Addr::new(127, 9, 9, 9))));
    assert!(is_loopback(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    assert!(is_loopback(IpAddr::V6(
        Ipv4Addr::LOCALHOST.to_ipv6_mapped()
    )));
    assert!(!is_loopback(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
    assert!(!is_loopback(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    assert!(!is_loopback(IpAddr::V6(
        Ipv4Addr::new(192, 168, 1, 1).to_ipv6_mapped()
    )));
}

/// This machine's address on its default route, when it has one.
fn non_loopback_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    Some(socket.local_addr().ok()?.ip()).filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

#[tokio::test]
async fn a_non_loopback_peer_gets_403() {
    let Some(address) = non_loopback_address() else {
        eprintln!("no non-loopback interface: only the address check is tested");
        return;
    };
    let emulator = start_with(IdpOptions {
        bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        ..IdpOptions::default()
    })
    .await;
    let port = url::Url::parse(&emulator.base_url())
        .unwrap()
        .port()
        .unwrap();
    let remote = format!("http://{}", SocketAddr::new(address, port));
    let refused = http()
        .get(format!("{remote}/_ssoproof/state"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"],
        "admin/forbidden"
    );
    let rotated = http()
        .post(format!("{remote}/_ssoproof/keys/rotate"))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::FORBIDDEN);
    // The provider itself answers anyone; the admin API answers loopback.
    let discovery = http()
        .get(format!(
            "{remote}/realms/acme/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status(), StatusCode::OK);
    let local = http()
        .get(format!("{}/_ssoproof/state", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_summary_names_clients_and_users_but_no_secret() {
    let emulator = start().await;
    let summary = serve_summary(&emulator);
    for expected in [
        format!("issuer     {}", emulator.issuer()),
        format!("{}/.well-known/openid-configuration", emulator.issuer()),
        format!("{}/_ssoproof/", emulator.base_url()),
        "acme-app".into(),
        "confidential".into(),
        "http://127.0.0.1/spa/*".into(),
        "public".into(),
        "/acme/admins, /acme/engineers".into(),
        format!("SAML       {}/protocol/saml/descriptor", emulator.issuer()),
        "https://sp.acme.test/saml  ACS: http://127.0.0.1/saml/acs".into(),
        "disabled".into(),
    ] {
        assert!(
            summary.contains(&expected),
            "{expected} missing from\n{summary}"
        );
    }
    for secret in [
        "acme-app-secret",
        "acme-consent-secret",
        "alice-password",
        "password",
    ] {
        assert!(!summary.contains(secret), "{secret} leaked into\n{summary}");
    }
}

/// One row of the README's admin API table.
struct AdminRow {
    method: reqwest::Method,
    path: String,
    /// Every example body the row shows (none for a request without a body).
    bodies: Vec<Value>,
    status: StatusCode,
}

/// The README's admin API table, read from the README itself so that the two cannot drift.
fn documented_admin_requests() -> Vec<AdminRow> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let backticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let rows: Vec<AdminRow> = readme
        .lines()
        .skip_while(|l| !l.starts_with("### Fault injection and the admin API"))
        .skip_while(|l| !l.starts_with("| method and path |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 3, "{line}");
            let request = backticked(cells[0]);
            let (method, path) = request[0].split_once(' ').unwrap();
            // Every backticked example in the body column is sent, so each must be JSON.
            let bodies = backticked(cells[1])
                .iter()
                .map(|b| {
                    serde_json::from_str(b)
                        .unwrap_or_else(|e| panic!("README body `{b}` is not JSON ({e}): {line}"))
                })
                .collect();
            // The first status the answer names; a JSON answer is a 200.
            let answer = backticked(cells[2]);
            let status = answer
                .iter()
                .find_map(|a| a.parse::<u16>().ok())
                .or_else(|| answer.first().filter(|a| a.starts_with('{')).map(|_| 200))
                .unwrap_or_else(|| panic!("no documented status: {line}"));
            AdminRow {
                method: method.parse().unwrap(),
                path: path.to_string(),
                bodies,
                status: StatusCode::from_u16(status).unwrap(),
            }
        })
        .collect();
    assert!(rows.len() >= 9, "the admin table was not found");
    rows
}

/// The fixture realm's names for the placeholders the README's paths use.
fn fill(path: &str) -> String {
    let filled = path
        .replace("{username}", "alice")
        .replace("{client_id}", "acme-app")
        .replace("{mapper_name}", "groups");
    assert!(
        !filled.contains('{'),
        "a placeholder the test does not know: {path}"
    );
    filled
}

#[tokio::test]
async fn every_documented_admin_request_gets_its_documented_answer() {
    let keycloak = start().await;
    // Persona edits need a persona; the README's example edits an Entra tenant.
    let entra = Emulator::start(
        Realm::from_persona(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/idp/entra-id.yaml"
        ))
        .unwrap(),
        IdpOptions::default(),
    )
    .await
    .unwrap();
    let client = http();
    for row in documented_admin_requests() {
        let emulator = if row.path.ends_with("/persona") {
            &entra
        } else {
            &keycloak
        };
        let url = format!("{}{}", emulator.base_url(), fill(&row.path));
        let bodies: Vec<Option<&Value>> = if row.bodies.is_empty() {
            vec![None]
        } else {
            row.bodies.iter().map(Some).collect()
        };
        for body in bodies {
            let mut request = client.request(row.method.clone(), &url);
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = request.send().await.unwrap();
            let status = answer.status();
            let text = answer.text().await.unwrap();
            assert_eq!(
                status, row.status,
                "{} {} {body:?} answered {text}",
                row.method, row.path
            );
        }
    }
}

#[tokio::test]
async fn the_clock_refuses_an_undocumented_body() {
    let emulator = start().await;
    let url = format!("{}/_ssoproof/clock", emulator.base_url());
    for body in [
        json!({"advance_seconds": 5}),
        json!({"seconds": 5, "extra": 1}),
        json!({"seconds": "5"}),
    ] {
        let answer = http().post(&url).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer.json::<Value>().await.unwrap()["error"],
            "admin/invalid-body"
        );
    }
}
