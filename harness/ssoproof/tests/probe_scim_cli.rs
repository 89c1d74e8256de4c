//! `ssoproof probe scim` on the command line: the token only from the named variable, exit
//! statuses, and a report that names the request when the server is unreachable.

use std::process::{Command, Output};

const TOKEN: &str = "cli-scim-token-5f0c2a9e";

fn probe(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ssoproof"));
    command.args(["probe", "scim"]).args(args);
    command.env_remove("SSOPROOF_TEST_SCIM_TOKEN");
    if let Some(token) = token {
        command.env("SSOPROOF_TEST_SCIM_TOKEN", token);
    }
    command.output().expect("ssoproof runs")
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
fn an_unset_token_variable_is_exit_2_naming_it() {
    let out = probe(
        &[
            "--url",
            "http://127.0.0.1:9/scim/v2",
            "--token-env",
            "SSOPROOF_TEST_SCIM_TOKEN",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: [probe/usage] --token-env SSOPROOF_TEST_SCIM_TOKEN: the variable is not set"
        ),
        "{stderr}"
    );
}

#[test]
fn a_remote_server_is_exit_2_before_anything_is_sent() {
    let out = probe(
        &[
            "--url",
            "https://scim.example.com/v2",
            "--token-env",
            "SSOPROOF_TEST_SCIM_TOKEN",
        ],
        Some(TOKEN),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: [probe/target-remote]"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_server_is_exit_1_with_the_request_named_and_the_token_nowhere() {
    let url = format!("http://127.0.0.1:{}/scim/v2", closed_port());
    let out = probe(
        &[
            "--url",
            &url,
            "--token-env",
            "SSOPROOF_TEST_SCIM_TOKEN",
            "--format",
            "json",
            "--dialect",
            "okta",
        ],
        Some(TOKEN),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(TOKEN) && !String::from_utf8_lossy(&out.stderr).contains(TOKEN));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["probe"], "scim");
    assert_eq!(report["vendor"], "okta");
    let first = &report["cases"][0];
    assert_eq!(first["verdict"], "error");
    assert_eq!(first["hop"], "GET /scim/v2/ServiceProviderConfig");
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .starts_with("no answer: "),
        "{first}"
    );
    assert!(report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "okta-remove-member"));
}
