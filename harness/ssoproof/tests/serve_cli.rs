//! `ssoproof serve idp`: refuses a broken realm with its code, and serves a good one, over HTTP
//! or over HTTPS with a local CA that `ssoproof login --ca-cert` trusts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

fn realm() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/keycloak-realm.json")
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
fn a_cloud_port_in_use_is_clouds_bind_with_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let aws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "clouds", "--aws"])
        .arg(&aws)
        .args([
            "--issuer",
            "http://127.0.0.1:9/realms/acme",
            "--port",
            &port,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: [clouds/bind] cannot listen on 127.0.0.1:{port} for the emulated AWS: "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("choose another port"), "{stderr}");
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
    /// The rest of its standard output, kept open so that it can still print.
    rest: std::io::Lines<BufReader<ChildStdout>>,
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        let realm = realm();
        Served::command(&[&["idp", "--realm", &realm], extra].concat())
    }

    /// `ssoproof serve ARGS…`.
    fn command(args: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("ssoproof starts");
        let mut summary = String::new();
        let mut rest = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        for line in rest.by_ref() {
            let line = line.expect("utf-8 output");
            summary.push_str(&line);
            summary.push('\n');
            if line.starts_with("Serving until Ctrl-C") {
                break;
            }
        }
        Served {
            child,
            summary,
            rest,
        }
    }

    /// Sends `signal`, waits for the exit (a minute at most: a hang is killed and fails the
    /// test, it is not a timing threshold) and returns the status with what it printed after
    /// the summary.
    fn stop(mut self, signal: libc::c_int) -> (std::process::ExitStatus, String) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: signals our own child, which has not been waited for, so the pid is its.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "the signal is sent");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("`ssoproof serve` still runs a minute after signal {signal}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let after: Vec<String> = self.rest.by_ref().map_while(Result::ok).collect();
        (status, after.join("\n"))
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

/// `login --roles`: the application's own ladder, against the emulator.
#[test]
fn login_maps_groups_onto_the_ladder_of_roles() {
    const LADDER: &str = "admin,developer,viewer";
    let served = Served::start(&[]);
    let issuer = served.value("issuer");
    let login = |user: &str, roles: &str, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
            .args(["login", "--issuer", &issuer, "--client-id", "acme-app"])
            .args([
                "--username",
                user,
                "--password",
                &format!("{user}-password"),
            ])
            .args(["--roles", roles, "--format", "json"])
            .args(extra)
            .env("SSOPROOF_CLIENT_SECRET", "acme-app-secret")
            .output()
            .expect("ssoproof runs");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    // Listed lowest first: the ladder decides which wins, not the order of the flags.
    let mappings = [
        "--role",
        "/acme/engineers=developer",
        "--role",
        "/acme/admins=admin",
        "--default-role",
        "viewer",
    ];
    for (user, role) in [("bob", "developer"), ("carol", "admin"), ("dave", "viewer")] {
        let (code, stdout, _) = login(user, LADDER, &mappings);
        assert_eq!(code, Some(0), "{user}: {stdout}");
        let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
        assert_eq!(json["role"], role, "{user}: {stdout}");
    }
    // `user` is a role of the default ladder, not of this one.
    let (code, stdout, stderr) = login("bob", LADDER, &["--role", "/acme/engineers=user"]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(
        stderr.contains(
            "invalid value '/acme/engineers=user' for '--role <GROUP=ROLE>': unknown role `user`; \
             expected viewer, developer or admin"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = login("bob", "admin,admin", &[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("the role `admin` appears twice in the ladder"),
        "{stderr}"
    );
}

#[test]
fn sigterm_and_sighup_stop_the_idp_cleanly_with_exit_0() {
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGHUP, "SIGHUP")] {
        let served = Served::start(&["--tls"]);
        let ca = std::path::PathBuf::from(served.value("certificate"));
        let (status, after) = served.stop(signal);
        assert_eq!(
            status.code(),
            Some(0),
            "{name}: {status:?}, printed {after:?}"
        );
        assert_eq!(after, format!("Stopped on {name}."));
        // A clean stop removes the CA file it wrote to the temporary folder.
        assert!(!ca.exists(), "{name}: {} remains", ca.display());
    }
}

#[test]
fn sigterm_stops_the_clouds_cleanly_with_exit_0() {
    let aws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
    let clouds = Served::command(&[
        "clouds",
        "--aws",
        aws.to_str().unwrap(),
        "--issuer",
        "http://127.0.0.1:9/realms/acme",
    ]);
    let (status, after) = clouds.stop(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "{status:?}, printed {after:?}");
    assert_eq!(after, "Stopped on SIGTERM.");
}

#[test]
fn tls_without_a_path_writes_the_ca_to_the_temporary_folder() {
    let served = Served::start(&["--tls"]);
    let path = std::path::PathBuf::from(served.value("certificate"));
    assert!(path.starts_with(std::env::temp_dir()), "{}", path.display());
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    // Killed, the server cannot remove it itself (Ctrl-C, SIGTERM and SIGHUP do).
    drop(served);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn clouds_trust_the_idp_through_the_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let ca = ca_path.to_str().unwrap();
    let idp = Served::start(&["--tls", "--ca-out", ca]);
    let issuer = idp.value("issuer");
    let fixture = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/cloud")
            .join(name)
            .display()
            .to_string()
    };
    let (aws, gcp) = (fixture("aws.yaml"), fixture("gcp.yaml"));
    let clouds = Served::command(&[
        "clouds",
        "--aws",
        &aws,
        "--gcp",
        &gcp,
        "--issuer",
        &issuer,
        "--google-issuer",
        "https://accounts.example.test/google",
        "--ca-cert",
        ca,
    ]);
    assert!(
        clouds.summary.contains("AWS emulator"),
        "{}",
        clouds.summary
    );
    let sts = clouds.value("STS     POST").to_string();

    // alice's ID token, from a login that trusts the same CA.
    let login = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["login", "--issuer", &issuer, "--client-id", "acme-app"])
        .args(["--username", "alice", "--role", "/acme/admins=admin"])
        .args(["--format", "json", "--show-tokens", "--ca-cert", ca])
        .env("SSOPROOF_CLIENT_SECRET", "acme-app-secret")
        .env("SSOPROOF_PASSWORD", "alice-password")
        .output()
        .expect("ssoproof runs");
    let answer: serde_json::Value = serde_json::from_slice(&login.stdout).unwrap();
    let id_token = answer["tokens"]["id_token"].as_str().unwrap().to_string();

    // Google's STS fetched the IdP's keys over HTTPS, trusting the CA file.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let exchanged = runtime.block_on(ssoproof_cloud::gcp::exchange_token(
        &reqwest::Client::new(),
        &sts,
        &ssoproof_cloud::gcp::provider_audience("acme-workforce", "acme-idp"),
        &ssoproof_secret::Secret::new(id_token),
        "acme-ai",
    ));
    assert!(exchanged.is_ok(), "{exchanged:?}");
}

/// The runbook's command names no `--google-issuer`: the Google-account leg is left out and
/// the summary says so; a plain-http `--google-issuer` is refused before anything is read.
#[test]
fn clouds_without_a_google_issuer_leave_google_accounts_out() {
    let gcp = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/cloud/gcp.yaml")
        .display()
        .to_string();
    let issuer = "https://127.0.0.1:1/realms/acme";
    let clouds = Served::command(&["clouds", "--gcp", &gcp, "--issuer", issuer]);
    assert!(
        clouds.summary.contains(&format!(
            "Google account tokens from {gcp}:57 left out: ${{GOOGLE_ISSUER}} has no value (pass --google-issuer URL)"
        )),
        "{}",
        clouds.summary
    );
    assert!(
        clouds.summary.contains("Serving until Ctrl-C."),
        "{}",
        clouds.summary
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "clouds", "--gcp", &gcp, "--issuer", issuer])
        .args(["--google-issuer", "http://127.0.0.1:1/google"])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--google-issuer `http://127.0.0.1:1/google` is not an https URL"),
        "{stderr}"
    );
}

#[test]
fn a_ca_file_without_a_certificate_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("ca.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let aws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "serve",
            "clouds",
            "--issuer",
            "https://127.0.0.1:1/realms/acme",
            "--aws",
        ])
        .arg(&aws)
        .arg("--ca-cert")
        .arg(&bogus)
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds no PEM certificate"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_ca_file_that_is_a_fifo_is_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ca.pem");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());
    let aws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cloud/aws.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "serve",
            "clouds",
            "--issuer",
            "https://127.0.0.1:1/realms/acme",
        ])
        .arg("--aws")
        .arg(&aws)
        .arg("--ca-cert")
        .arg(&fifo)
        .stdin(Stdio::null())
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a FIFO"), "{stderr}");
    assert!(stderr.contains(&fifo.display().to_string()), "{stderr}");
}

fn persona(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/idp")
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
fn a_persona_refuses_a_signing_algorithm_its_vendor_does_not_use() {
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "serve",
            "idp",
            "--persona",
            &persona("okta.yaml"),
            "--signing",
            "es256",
        ])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[idp/persona-signing] the Okta persona signs as Okta does"),
        "{stderr}"
    );
}

#[test]
fn an_upstream_alias_the_realm_lacks_is_exit_2_listing_the_aliases() {
    let broker = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/keycloak-google-broker.json")
        .display()
        .to_string();
    let upstream = format!("nosuchalias={}", persona("google-workspace.yaml"));
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["serve", "idp", "--realm", &broker, "--upstream", &upstream])
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: [idp/unknown-upstream] the realm has no identity provider \"nosuchalias\""
        ) && stderr.contains("its identity providers are \"google\""),
        "{stderr}"
    );
    // Refused before anything is served.
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
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

/// `verify --backend live` with a tenant profile whose tenants are `ssoproof serve idp`
/// posing as live tenants: `acme` through the login form, `acme-grant` (a realm copy whose
/// client allows direct access grants) through the password grant, and `down`, which does not
/// answer. Each tenant is reported on its own; the one that is down fails with its name; the
/// password-grant tenant skips the scenario that reads the login page.
#[test]
fn verify_live_runs_each_tenant_of_the_profile_file() {
    let dir = tempfile::tempdir().unwrap();
    let realm: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(realm()).unwrap()).unwrap();
    let mut grant_realm = realm.clone();
    for client in grant_realm["clients"].as_array_mut().unwrap() {
        client["directAccessGrantsEnabled"] = true.into();
    }
    let grant_realm_path = dir.path().join("grant-realm.json");
    std::fs::write(&grant_realm_path, grant_realm.to_string()).unwrap();
    let form = Served::start(&[]);
    let grant = Served::command(&["idp", "--realm", grant_realm_path.to_str().unwrap()]);
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tenant = |name: &str, issuer: &str, driver: &str| {
        format!(
            "  - name: {name}\n    vendor: keycloak\n    issuer: {issuer}\n    client_id: acme-app\n    client_secret_env: LIVE_SECRET\n    driver: {driver}\n    users:\n      - {{username: alice, password_env: LIVE_ALICE, groups: [/acme/admins], role: admin}}\n      - {{username: bob, password_env: LIVE_BOB, groups: [/acme/engineers], role: user}}\n"
        )
    };
    let profiles = dir.path().join("live.yaml");
    std::fs::write(
        &profiles,
        format!(
            "tenants:\n{}{}{}{}",
            tenant("acme", &form.value("issuer"), "form"),
            tenant("unset", &form.value("issuer"), "form")
                .replace("LIVE_SECRET", "LIVE_UNSET_SECRET"),
            tenant("acme-grant", &grant.value("issuer"), "password-grant"),
            tenant(
                "down",
                &format!("http://127.0.0.1:{closed}/realms/acme"),
                "form"
            ),
        ),
    )
    .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .current_dir(&root)
        .args([
            "verify",
            "--backend",
            "live",
            "--format",
            "json",
            "--profiles",
        ])
        .arg(&profiles)
        .arg("--junit")
        .arg(dir.path().join("junit"))
        .env("LIVE_SECRET", "acme-app-secret")
        .env("LIVE_ALICE", "alice-password")
        .env("LIVE_BOB", "bob-password")
        .output()
        .expect("ssoproof runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let backend = |name: &str| -> &serde_json::Value {
        report["backends"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("{name} is reported: {stdout}"))
    };
    let acme = backend("live:acme");
    assert_eq!(
        acme["passed"], 5,
        "the five @live Keycloak scenarios: {acme}"
    );
    let grant = backend("live:acme-grant");
    // The wrong-password scenario reads the login page's message, which a grant has no page
    // to show: skipped with the reason, not failed.
    assert_eq!(
        (&grant["passed"], &grant["failed"], &grant["skipped"]),
        (&4.into(), &0.into(), &1.into()),
        "{grant}"
    );
    let down = backend("live:down");
    assert_eq!(down["failed"], 5, "{down}");
    for failure in down["failures"].as_array().unwrap() {
        let reason = failure["reason"].as_str().unwrap();
        assert!(
            reason.contains("tenant \"down\" does not answer"),
            "{reason}"
        );
    }
    for tenant in ["acme", "acme-grant", "down", "unset"] {
        let junit = dir.path().join(format!("junit/cucumber-live-{tenant}.xml"));
        assert!(
            junit.is_file(),
            "one JUnit report per tenant: {}",
            junit.display()
        );
    }
    let down_junit =
        std::fs::read_to_string(dir.path().join("junit/cucumber-live-down.xml")).unwrap();
    assert!(
        down_junit.contains("<failure message=\"live: tenant &quot;down&quot; does not answer"),
        "{down_junit}"
    );
    let unset = backend("live:unset");
    assert_eq!(unset["failed"], 5, "{unset}");
    let reason = unset["failures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("tenant \"unset\": the environment variable LIVE_UNSET_SECRET"),
        "{reason}"
    );
    assert!(!stdout.contains("alice-password") && !stdout.contains("acme-app-secret"));
    assert_eq!(out.status.code(), Some(1), "a tenant failed: {stdout}");
}

/// Each vendor's `@live` scenarios on a tenant of that vendor: `serve idp --persona` posing
/// as the live Okta, Auth0, Entra ID, Cognito and authentik tenants, with the users' logins,
/// groups and roles written in live.yaml. Every `@live` scenario must pass, which holds the tags
/// to "safe and runnable on a real tenant"; a tenant whose live.yaml promises bob the admin
/// role fails the scenario that signs him in, naming the promise.
#[test]
fn verify_live_runs_each_vendors_live_scenarios() {
    // (persona, client id, secret, whether users type their e-mail, groups are names, @live count)
    let vendors = [
        (
            "okta",
            "0oa1b2c3d4e5f6g7h8i9",
            "acme-okta-client-secret",
            true,
            true,
            8,
        ),
        (
            "auth0",
            "8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4",
            "acme-auth0-client-secret",
            true,
            true,
            7,
        ),
        (
            "entra-id",
            "44444444-4444-4444-4444-444444444444",
            "acme-entra-client-secret",
            true,
            false,
            7,
        ),
        (
            "cognito",
            "4jt4a1b2c3d4e5f6g7h8i9j0k1",
            "acme-cognito-client-secret",
            false,
            true,
            8,
        ),
        (
            "authentik",
            "acme-authentik-client",
            "acme-authentik-client-secret",
            false,
            true,
            8,
        ),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let mut served = Vec::new();
    let mut yaml = String::from("tenants:\n");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ssoproof"));
    for (persona, client_id, secret, email, named_groups, _) in vendors {
        let file = root.join(format!("fixtures/idp/{persona}.yaml"));
        let idp = Served::command(&["idp", "--persona", file.to_str().unwrap()]);
        let var = persona.to_uppercase().replace('-', "_");
        let user = |name: &str, group: &str, role: &str| {
            let login = if email {
                format!(", login: {name}@example.com")
            } else {
                String::new()
            };
            let groups = if named_groups && !group.is_empty() {
                format!(", groups: [{group}]")
            } else {
                String::new()
            };
            let role = if role.is_empty() {
                String::new()
            } else {
                format!(", role: {role}")
            };
            format!("      - {{username: {name}{login}, password_env: {var}_PASSWORD_{}{groups}{role}}}\n", name.to_uppercase())
        };
        let users = [
            user("alice", "acme-admins", "admin"),
            user("bob", "acme-engineers", "user"),
            user("carol", "", "admin"),
            user("dave", "acme-contractors", ""),
        ]
        .concat();
        let tenant = |name: &str, users: &str| {
            format!(
                "  - name: {name}\n    vendor: {persona}\n    issuer: {}\n    client_id: {client_id}\n    client_secret_env: {var}_SECRET\n    users:\n{users}",
                idp.value("issuer")
            )
        };
        yaml.push_str(&tenant(persona, &users));
        if persona == "okta" {
            yaml.push_str(&tenant(
                "okta-broken",
                &users.replace(
                    "groups: [acme-engineers], role: user",
                    "groups: [acme-engineers], role: admin",
                ),
            ));
        }
        command.env(format!("{var}_SECRET"), secret);
        for name in ["alice", "bob", "carol", "dave"] {
            command.env(
                format!("{var}_PASSWORD_{}", name.to_uppercase()),
                format!("{name}-password"),
            );
        }
        served.push(idp);
    }
    let profiles = dir.path().join("live.yaml");
    std::fs::write(&profiles, &yaml).unwrap();
    let out = command
        .current_dir(&root)
        .args([
            "verify",
            "--backend",
            "live",
            "--format",
            "json",
            "--profiles",
        ])
        .arg(&profiles)
        .output()
        .expect("ssoproof runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let backend = |name: &str| -> serde_json::Value {
        report["backends"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is reported: {stdout}"))
    };
    for (persona, .., live) in vendors {
        let tenant = backend(&format!("live:{persona}"));
        assert_eq!(
            (&tenant["passed"], &tenant["failed"], &tenant["skipped"]),
            (&live.into(), &0.into(), &0.into()),
            "every @live scenario of {persona}.feature passes: {tenant}\n{yaml}"
        );
    }
    let broken = backend("live:okta-broken");
    assert_eq!(broken["failed"], 1, "{broken}");
    let reason = broken["failures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("live.yaml promises for tenant \"okta-broken\": bob signs in as admin, but the application mapped them to user"),
        "{reason}"
    );
    for secret in ["alice-password", "bob-password", "client-secret"] {
        assert!(!stdout.contains(secret), "{secret} leaked: {stdout}");
    }
    drop(served);
}

#[test]
fn an_unknown_tenant_is_verify_tenant_with_the_nearest_name() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("live.yaml");
    std::fs::write(
        &profiles,
        "tenants:\n  - {name: acme, vendor: okta, issuer: 'http://127.0.0.1:9/', client_id: app}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .args([
            "verify",
            "--backend",
            "live",
            "--tenant",
            "acne",
            "--profiles",
        ])
        .arg(&profiles)
        .output()
        .expect("ssoproof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[verify/tenant] no tenant \"acne\" in live.yaml (did you mean \"acme\"?)"),
        "{stderr}"
    );
}

/// The nightly workflow's matrix: `--list-tenants` prints the tenants of the profile file as a
/// JSON list, `--tenant` applied, and refuses a broken file as a run would.
#[test]
fn list_tenants_prints_the_matrix_from_the_profile_file() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("live.yaml");
    let list = |text: &str, extra: &[&str]| {
        std::fs::write(&profiles, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
            .args(["verify", "--list-tenants", "--profiles"])
            .arg(&profiles)
            .args(extra)
            .output()
            .expect("ssoproof runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let two = "tenants:\n  - {name: okta-prod, vendor: okta, issuer: 'https://acme.okta.com/oauth2/default', client_id: app}\n  - {name: entra, vendor: entra-id, issuer: 'https://login.microsoftonline.com/t/v2.0', client_id: app}\n";
    let live = ["--backend", "live"];
    assert_eq!(
        list(two, &live),
        (Some(0), "[\"okta-prod\",\"entra\"]\n".into(), String::new())
    );
    assert_eq!(
        list(two, &[&live[..], &["--tenant", "entra"]].concat()).1,
        "[\"entra\"]\n"
    );
    let (code, stdout, stderr) = list(&two.replace("vendor: okta", "vendor: otka"), &live);
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert!(
        stderr.contains("[live/syntax]") && stderr.contains("did you mean \"okta\""),
        "{stderr}"
    );
    let (code, _, stderr) = list(two, &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("add --backend live"), "{stderr}");
}

/// `verify --backend live` against `serve idp --login-page script`, a login page built by
/// JavaScript: the tenant with `driver: browser` passes the five @live Keycloak scenarios, the
/// one with `driver: form` fails saying to use the browser driver. Without chromium and
/// chromedriver only the second half runs (said on stderr), unless SSOPROOF_REQUIRE_CHROMIUM=1.
#[test]
fn verify_live_signs_in_with_the_browser_driver_on_a_script_built_page() {
    let has_browser = ssoproof_rp::check_browser().is_ok();
    if !has_browser {
        assert!(
            std::env::var_os("SSOPROOF_REQUIRE_CHROMIUM").is_none_or(|v| v.is_empty()),
            "SSOPROOF_REQUIRE_CHROMIUM is set but chromium or chromedriver is missing"
        );
        eprintln!("SKIPPED the browser tenant: chromium or chromedriver is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&["--login-page", "script"]);
    let tenant = |name: &str, driver: &str| {
        format!(
            "  - name: {name}\n    vendor: keycloak\n    issuer: {}\n    client_id: acme-app\n    client_secret_env: LIVE_SECRET\n    driver: {driver}\n    users:\n      - {{username: alice, password_env: LIVE_ALICE, groups: [/acme/admins], role: admin}}\n      - {{username: bob, password_env: LIVE_BOB, groups: [/acme/engineers], role: user}}\n",
            served.value("issuer")
        )
    };
    let profiles = dir.path().join("live.yaml");
    std::fs::write(
        &profiles,
        format!(
            "tenants:\n{}{}",
            tenant("chromium", "browser"),
            tenant("scraper", "form")
        ),
    )
    .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let run = |extra_env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ssoproof"));
        command
            .current_dir(&root)
            .args(["verify", "--backend", "live", "--format", "json"])
            .arg("--profiles")
            .arg(&profiles)
            .env("LIVE_SECRET", "acme-app-secret")
            .env("LIVE_ALICE", "alice-password")
            .env("LIVE_BOB", "bob-password");
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let out = command.output().expect("ssoproof runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
        (report, stdout)
    };
    let backend = |report: &serde_json::Value, name: &str| -> serde_json::Value {
        report["backends"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("{name} is reported: {report}"))
            .clone()
    };
    // A browser that is not there: the tenant is named, and what to install.
    let (report, stdout) = run(&[("SSOPROOF_CHROMEDRIVER", "/nonexistent/chromedriver")]);
    let missing = backend(&report, "live:chromium");
    assert_eq!(missing["failed"], 5, "{missing}");
    let reason = missing["failures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("tenant \"chromium\" signs in with `driver: browser`")
            && reason.contains("install Debian's chromium and chromium-driver"),
        "{reason}"
    );
    let scraper = backend(&report, "live:scraper");
    // Every scenario that signs in; the fifth does not.
    assert_eq!(scraper["failed"], 4, "{scraper}");
    assert!(stdout.contains("driver: browser"), "{stdout}");
    assert!(!stdout.contains("alice-password") && !stdout.contains("acme-app-secret"));
    if has_browser {
        let (report, stdout) = run(&[]);
        let chromium = backend(&report, "live:chromium");
        assert_eq!(
            chromium["passed"], 5,
            "the five @live Keycloak scenarios through Chromium: {chromium}"
        );
        assert!(!stdout.contains("alice-password") && !stdout.contains("acme-app-secret"));
    }
}

/// `ssoproof login --driver browser` at `serve idp --login-page script`: the form driver cannot
/// sign in there, the browser driver can; a chromedriver that is not there is
/// `browser_unavailable`, saying what to install.
#[test]
fn login_with_the_browser_driver_on_a_script_built_page() {
    let served = Served::start(&["--login-page", "script"]);
    let issuer = served.value("issuer");
    let login = |driver: &str, env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ssoproof"));
        command
            .args(["login", "--issuer", &issuer, "--client-id", "acme-app"])
            .args([
                "--username",
                "alice",
                "--driver",
                driver,
                "--format",
                "json",
            ])
            .args(["--role", "/acme/admins=admin"])
            .env("SSOPROOF_CLIENT_SECRET", "acme-app-secret")
            .env("SSOPROOF_PASSWORD", "alice-password");
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().expect("ssoproof runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!stdout.contains("alice-password"), "{stdout}");
        (out.status.code(), stdout)
    };
    let (code, stdout) = login("form", &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("\"login_failed\"") && stdout.contains("--driver browser"),
        "{stdout}"
    );
    let (code, stdout) = login(
        "browser",
        &[("SSOPROOF_CHROMEDRIVER", "/nonexistent/chromedriver")],
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("\"browser_unavailable\"") && stdout.contains("SSOPROOF_CHROMEDRIVER"),
        "{stdout}"
    );
    if ssoproof_rp::check_browser().is_err() {
        assert!(
            std::env::var_os("SSOPROOF_REQUIRE_CHROMIUM").is_none_or(|v| v.is_empty()),
            "SSOPROOF_REQUIRE_CHROMIUM is set but chromium or chromedriver is missing"
        );
        eprintln!("SKIPPED the browser login: chromium or chromedriver is not installed");
        return;
    }
    let (code, stdout) = login("browser", &[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("\"role\": \"admin\"") || stdout.contains("\"role\":\"admin\""),
        "{stdout}"
    );
}
