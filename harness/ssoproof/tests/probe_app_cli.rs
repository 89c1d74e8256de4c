//! `ssoproof probe app`: setup problems are exit 2 with their code; an application that cannot
//! be reached is exit 1 with an `ERROR` row naming the hop, in the format asked for.

use std::process::{Command, Output};

fn probe(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["probe", "app", "--idp-bind", "127.0.0.1:0"])
        .args(extra)
        .output()
        .expect("ssoproof runs")
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn setup_problems_are_exit_2_with_their_code() {
    let out = probe(&[
        "--login-url",
        "https://app.example.com/login",
        "--whoami-url",
        "https://app.example.com/whoami",
        "--role-pointer",
        "/role",
        "--user",
        "alice",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: [probe/target-remote]"), "{stderr}");

    let out = probe(&[
        "--login-url",
        "http://127.0.0.1:1/login",
        "--whoami-url",
        "http://127.0.0.1:1/whoami",
        "--signed-in-status",
        "200",
        "--user",
        "mallory:admin",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: [probe/unknown-user]"), "{stderr}");
    assert!(stderr.contains("alice"), "{stderr}");
    assert!(!stderr.contains("alice-password"), "{stderr}");
}

#[test]
fn an_unreachable_application_is_exit_1_naming_the_hop() {
    let port = closed_port();
    let out = probe(&[
        "--login-url",
        &format!("http://127.0.0.1:{port}/login"),
        "--whoami-url",
        &format!("http://127.0.0.1:{port}/whoami"),
        "--role-pointer",
        "/role",
        "--user",
        "alice:admin",
        "--case",
        "valid-login",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let control = &report["cases"][0];
    assert_eq!(control["id"], "valid-login");
    assert_eq!(control["observed"], "error");
    assert_eq!(control["hop"], "app login URL");
    assert!(
        control["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{control}"
    );
}

/// issue 15: `probe app --saml` refuses an unknown case id and the OIDC-only flags, and an
/// application that cannot be reached is an `ERROR` row naming the hop.
#[test]
fn saml_setup_problems_and_an_unreachable_sp() {
    let port = closed_port();
    let login = format!("http://127.0.0.1:{port}/login");
    let whoami = format!("http://127.0.0.1:{port}/whoami");
    let base = [
        "--saml",
        "--login-url",
        &login,
        "--whoami-url",
        &whoami,
        "--role-pointer",
        "/role",
        "--user",
        "alice",
    ];
    let out = probe(&[&base[..], &["--case", "no-such-case"]].concat());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("probe/usage") && stderr.contains("no-such-case"),
        "{stderr}"
    );
    let out = probe(&[&base[..], &["--rediscovers"]].concat());
    assert_eq!(out.status.code(), Some(2));
    let out = probe(&[&base[..], &["--format", "json"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cases"][0]["id"], "valid-login");
    assert_eq!(report["cases"][0]["observed"], "error", "{report:#}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/protocol/saml/descriptor"));
}
