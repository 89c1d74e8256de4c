//! `ssoproof serve idp`: refuses a broken realm with its code, and serves a good one, over HTTP
//! or over HTTPS with a local CA that `ssoproof login --ca-cert` trusts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

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

/// A running `ssoproof serve idp` and what it printed up to "Serving until Ctrl-C."; killed
/// when dropped.
struct Served {
    child: Child,
    summary: String,
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
            .args(["serve", "idp", "--realm", &realm()])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("ssoproof starts");
        let mut summary = String::new();
        for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
            let line = line.expect("utf-8 output");
            summary.push_str(&line);
            summary.push('\n');
            if line.starts_with("Serving until Ctrl-C") {
                break;
            }
        }
        Served { child, summary }
    }

    /// The value after `label` on the summary line that starts with it.
    fn value(&self, label: &str) -> String {
        self.summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {label} in\n{}", self.summary))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serves_the_fixture_and_prints_where() {
    let served = Served::start(&["--signing", "es256"]);
    let issuer = served.value("issuer");
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
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(&format!("\"issuer\":\"{issuer}\"")),
        "{answer}"
    );
    let summary = &served.summary;
    assert!(summary.contains("signing    ES256"), "{summary}");
    assert!(
        summary.contains("erin") && !summary.contains("erin-password"),
        "{summary}"
    );
}

#[test]
fn over_tls_the_ca_it_writes_is_what_login_needs() {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let served = Served::start(&["--tls", "--ca-out", ca_path.to_str().unwrap()]);
    let issuer = served.value("issuer");
    assert!(issuer.starts_with("https://127.0.0.1:"), "{issuer}");
    assert_eq!(served.value("certificate"), ca_path.display().to_string());
    let login = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ssoproof"))
            .args(["login", "--issuer", &issuer, "--client-id", "acme-app"])
            .args(["--username", "alice", "--role", "/acme/admins=admin"])
            .args(["--format", "json"])
            .args(extra)
            .env("SSOPROOF_CLIENT_SECRET", "acme-app-secret")
            .env("SSOPROOF_PASSWORD", "alice-password")
            .output()
            .expect("ssoproof runs")
    };
    let trusted = login(&["--ca-cert", ca_path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&trusted.stdout);
    assert_eq!(trusted.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"role\": \"admin\""), "{stdout}");
    let untrusted = login(&[]);
    let stdout = String::from_utf8_lossy(&untrusted.stdout);
    assert_eq!(untrusted.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("discovery_failed"), "{stdout}");
}

#[test]
fn tls_without_a_path_writes_the_ca_to_the_temporary_folder() {
    let served = Served::start(&["--tls"]);
    let path = std::path::PathBuf::from(served.value("certificate"));
    assert!(path.starts_with(std::env::temp_dir()), "{}", path.display());
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    // Killed, the server cannot remove it itself (Ctrl-C does).
    drop(served);
    std::fs::remove_file(&path).unwrap();
}
