//! `ssoproof login` as a process: exit codes, output shapes, secrets from the environment.
//! Full logins are covered by the library's tests against its mock OP.

use std::process::{Command, Output};

fn ssoproof(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ssoproof"));
    command
        .args(args)
        .env_remove("SSOPROOF_PASSWORD")
        .env_remove("SSOPROOF_CLIENT_SECRET");
    for (k, v) in env {
        command.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("ssoproof runs");
    (
        status.code().expect("exit code"),
        String::from_utf8(stdout).expect("utf-8 stdout"),
        String::from_utf8(stderr).expect("utf-8 stderr"),
    )
}

/// An issuer on a port nothing listens on.
fn dead_issuer() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/realms/acme")
}

#[test]
fn help_names_the_secret_environment_variables() {
    let (code, stdout, _) = ssoproof(&["login", "--help"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("SSOPROOF_CLIENT_SECRET"), "{stdout}");
    assert!(stdout.contains("SSOPROOF_PASSWORD"), "{stdout}");
}

#[test]
fn usage_problems_exit_2() {
    let base = [
        "login",
        "--issuer",
        "https://idp/realms/a",
        "--client-id",
        "app",
    ];
    for extra in [
        &["--username", "u", "--password", "p", "--role", "admins"][..],
        &[
            "--username",
            "u",
            "--password",
            "p",
            "--role",
            "/acme/admins=owner",
        ],
        &[
            "--username",
            "u",
            "--password",
            "p",
            "--default-role",
            "Admin",
        ],
        &["--username", "u"],
        &["--username", "u", "--password", "p", "--timeout", "0"],
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let (code, stdout, stderr) = ssoproof(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
    }
    let (code, stdout, _) = ssoproof(
        &[
            "login",
            "--issuer",
            "idp.example",
            "--client-id",
            "a",
            "--username",
            "u",
            "--password",
            "p",
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(stdout.contains("config_invalid"), "{stdout}");
}

#[test]
fn rejection_is_json_with_a_code_and_exit_1() {
    let issuer = dead_issuer();
    let (code, stdout, _) = ssoproof(
        &[
            "login",
            "--issuer",
            &issuer,
            "--client-id",
            "acme-app",
            "--username",
            "alice",
            "--format",
            "json",
            "--timeout",
            "2",
        ],
        &[
            ("SSOPROOF_PASSWORD", "pw-from-env-1"),
            ("SSOPROOF_CLIENT_SECRET", "secret-from-env-1"),
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(json["outcome"], "rejected");
    assert_eq!(json["error"], "discovery_failed");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains(&format!("GET {issuer}/.well-known/openid-configuration")));
    assert!(!stdout.contains("pw-from-env-1") && !stdout.contains("secret-from-env-1"));

    let (code, stdout, _) = ssoproof(
        &[
            "login",
            "--issuer",
            &issuer,
            "--client-id",
            "a",
            "--username",
            "u",
            "--password",
            "p",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("rejected [discovery_failed]: "),
        "{stdout}"
    );
}

#[test]
fn auth_params_must_be_key_value_and_not_override_the_relying_party() {
    let base = [
        "login",
        "--issuer",
        "https://idp/realms/a",
        "--client-id",
        "app",
        "--username",
        "u",
        "--password",
        "p",
    ];
    let (code, _, stderr) = ssoproof(&[&base[..], &["--auth-param", "kc_idp_hint"]].concat(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not KEY=VALUE"), "{stderr}");
    let (code, stdout, _) = ssoproof(
        &[
            &base[..],
            &["--auth-param", "nonce=mine", "--format", "json"],
        ]
        .concat(),
        &[],
    );
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("config_invalid"), "{stdout}");
    assert!(
        stdout.contains("`nonce` is set by the relying party"),
        "{stdout}"
    );
}

/// issue 11: `--ca-cert <not a PEM file>` did not name the file; now it is `config_invalid`
/// (exit 2) naming it and what is wrong.
#[test]
fn a_ca_cert_that_is_not_pem_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a certificate\n").unwrap();
    let issuer = dead_issuer();
    let (code, stdout, stderr) = ssoproof(
        &[
            "login",
            "--issuer",
            &issuer,
            "--client-id",
            "app",
            "--username",
            "u",
            "--password",
            "p",
            "--ca-cert",
            notes.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(out["error"], "config_invalid");
    let message = out["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("`{}` holds no PEM certificate", notes.display())),
        "{message}"
    );
}
