//! `ssoproof doctor` as a process: exit codes for a broken profile and a failing hop. The hops
//! themselves are covered by the library's tests against the emulators.

use std::path::Path;
use std::process::Command;

fn doctor(profile: &Path, format: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["doctor", "--profile"])
        .arg(profile)
        .args(["--format", format])
        .env("DOCTOR_TEST_PASSWORD", "pw")
        .output()
        .expect("ssoproof runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_broken_profile_is_exit_2_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doctor.yaml");
    std::fs::write(
        &path,
        "idp:\n  issuer: https://sso.example.com/realms/acme\n  client: x\n",
    )
    .unwrap();
    let (code, stdout, stderr) = doctor(&path, "human");
    assert_eq!(code, 2, "{stdout}");
    assert!(stderr.starts_with("error: [config/syntax] "), "{stderr}");
    assert!(stderr.contains("doctor.yaml:3:"), "{stderr}");
    assert!(stderr.contains("unknown field `client`"), "{stderr}");

    let (code, _, stderr) = doctor(&dir.path().join("missing.yaml"), "human");
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: [config/read] "), "{stderr}");
}

#[test]
fn an_issuer_that_is_not_a_url_is_a_profile_problem_not_a_failed_hop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doctor.yaml");
    std::fs::write(
        &path,
        "idp:\n  issuer: sso.example.com\n  client_id: acme-app\n  redirect_uri: http://127.0.0.1/callback\n  username: alice\n  password_env: PATH\n",
    )
    .unwrap();
    let (code, stdout, stderr) = doctor(&path, "human");
    assert_eq!(code, 2, "{stdout}");
    assert!(stderr.starts_with("error: [config/invalid] "), "{stderr}");
    assert!(stderr.contains("not an http(s) URL"), "{stderr}");
}

#[test]
fn an_unreachable_idp_is_exit_1_with_the_failing_hop() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doctor.yaml");
    std::fs::write(
        &path,
        format!(
            "idp:\n  issuer: http://127.0.0.1:{port}/realms/acme\n  client_id: acme-app\n  redirect_uri: http://127.0.0.1/callback\n  username: alice\n  password_env: DOCTOR_TEST_PASSWORD\n"
        ),
    )
    .unwrap();
    let (code, stdout, _) = doctor(&path, "json");
    assert_eq!(code, 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["hops"][0]["status"], "failed");
    assert_eq!(report["hops"][0]["failure"]["code"], "discovery_failed");
    assert_eq!(report["hops"][3]["status"], "not_run");
    let (code, stdout, _) = doctor(&path, "human");
    assert_eq!(code, 1);
    assert!(
        stdout.contains("1 of 4 hops failed: IdP discovery."),
        "{stdout}"
    );
}
