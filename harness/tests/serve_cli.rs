//! `ssoproof serve idp`: refuses a broken realm with its code, and serves a good one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

fn realm() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/keycloak-realm.json")
        .display()
        .to_string()
}

#[test]
fn a_missing_realm_file_is_exit_2_with_its_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "idp", "--realm", "no/such/realm.json"])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: [realm/read] cannot read realm export no/such/realm.json"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_signing_algorithm_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "idp", "--realm", &realm(), "--signing", "hs256"])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use rs256, es256 or eddsa"));
}

#[test]
fn serves_the_fixture_and_prints_where() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "idp", "--realm", &realm(), "--signing", "es256"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ssoproof starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut summary = String::new();
    let mut issuer = None;
    for line in lines.by_ref() {
        let line = line.expect("utf-8 output");
        summary.push_str(&line);
        summary.push('\n');
        if let Some(value) = line.trim().strip_prefix("issuer") {
            issuer = Some(value.trim().to_string());
        }
        if line.starts_with("Serving until Ctrl-C") {
            break;
        }
    }
    let issuer = issuer.unwrap_or_else(|| panic!("no issuer in\n{summary}"));
    let address = issuer
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .expect("http issuer");
    let mut stream = TcpStream::connect(address).expect("the server listens");
    write!(
        stream,
        "GET /realms/acme/.well-known/openid-configuration HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    child.kill().expect("the server stops");
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(&format!("\"issuer\":\"{issuer}\"")),
        "{answer}"
    );
    assert!(summary.contains("signing    ES256"), "{summary}");
    assert!(
        summary.contains("erin") && !summary.contains("erin-password"),
        "{summary}"
    );
}

fn persona(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/idp")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn a_bad_persona_file_is_exit_2_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("okta.yaml");
    std::fs::write(
        &path,
        "vendor: okta\norg: acme\nusers:\n  - login: a@example.com\n    first_name: A\n    last_name: B\n    password: p\n    groups: [admins]\napps: []\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "idp", "--persona", &path.display().to_string()])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[persona/invalid]") && stderr.contains("okta.yaml:8: `users[0].groups`"),
        "{stderr}"
    );
}

#[test]
fn realm_and_persona_exclude_each_other() {
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "serve",
            "idp",
            "--realm",
            &realm(),
            "--persona",
            &persona("okta.yaml"),
        ])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "idp"])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn serves_a_persona_at_the_vendor_paths() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "idp", "--persona", &persona("entra-id.yaml")])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ssoproof starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut summary = String::new();
    let mut issuer = None;
    for line in lines.by_ref() {
        let line = line.expect("utf-8 output");
        summary.push_str(&line);
        summary.push('\n');
        if let Some(value) = line.trim().strip_prefix("issuer") {
            issuer = Some(value.trim().to_string());
        }
        if line.starts_with("Serving until Ctrl-C") {
            break;
        }
    }
    let issuer = issuer.unwrap_or_else(|| panic!("no issuer in\n{summary}"));
    let address = issuer
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .expect("http issuer")
        .to_string();
    let mut stream = TcpStream::connect(&address).expect("the server listens");
    write!(
        stream,
        "GET /00000000-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    child.kill().expect("the server stops");
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        issuer.ends_with("/00000000-0000-0000-0000-000000000000/v2.0"),
        "{issuer}"
    );
    assert!(
        answer.contains(&format!("\"issuer\":\"{issuer}\"")),
        "{answer}"
    );
    assert!(summary.contains("Microsoft Entra ID persona"), "{summary}");
    assert!(summary.contains("common"), "{summary}");
    assert!(!summary.contains("alice-password"), "{summary}");
}
