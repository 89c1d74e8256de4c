//! `ssoproof probe api` on the command line: its exit statuses, where the issuer and the report
//! go, and the codes of what stops it.

use std::process::{Command, Output};

fn probe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["probe", "api", "--audience", "https://api.acme.test"])
        .args(args)
        .output()
        .expect("ssoproof runs")
}

/// A loopback port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_remote_target_is_exit_2_before_anything_is_sent() {
    let out = probe(&[
        "--url",
        "https://api.example.com/v1",
        "--idp-bind",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: [probe/target-remote]"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("probe: issuer"),
        "no emulator was started: {stderr}"
    );
}

#[test]
fn a_header_without_a_colon_is_a_usage_error() {
    let out = probe(&["--url", "http://127.0.0.1:9/", "--header", "X-Team acme"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: [probe/usage] --header `X-Team acme`"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_case_is_a_usage_error_that_lists_the_cases() {
    let out = probe(&[
        "--url",
        "http://127.0.0.1:9/",
        "--idp-bind",
        "127.0.0.1:0",
        "--case",
        "alg-nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: [probe/usage] --case alg-nope: no such case; the cases are valid,"
        ),
        "{stderr}"
    );
}

#[test]
fn a_taken_idp_address_is_probe_idp() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let out = probe(&["--url", "http://127.0.0.1:9/", "--idp-bind", &bind]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: [probe/idp]"), "{stderr}");
    assert!(stderr.contains(&bind), "{stderr}");
}

#[test]
fn an_unreachable_api_is_exit_1_with_a_json_report_and_the_issuer_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let url = format!("http://127.0.0.1:{}/v1/chat", closed_port());
    let out = probe(&[
        "--url",
        &url,
        "--idp-bind",
        "127.0.0.1:0",
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("probe: issuer http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "the report went to --output");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert!(cases.len() > 30, "{json}");
    assert!(cases.iter().all(|c| c["observed"] == "error"), "{json}");
}

#[test]
fn a_builtin_persona_is_named_and_a_persona_file_that_is_not_there_is_its_code() {
    let url = format!("http://127.0.0.1:{}/v1/chat", closed_port());
    let okta = probe(&[
        "--url",
        &url,
        "--idp-bind",
        "127.0.0.1:0",
        "--persona",
        "okta",
    ]);
    assert_eq!(
        okta.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&okta.stderr)
    );
    let stderr = String::from_utf8_lossy(&okta.stderr);
    assert!(
        stderr.starts_with("probe: issuer http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/oauth2/") && stderr.contains("(okta)"),
        "{stderr}"
    );

    let missing = probe(&["--url", &url, "--persona", "no/such/persona.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.starts_with("error: [persona/read]"), "{stderr}");
}
