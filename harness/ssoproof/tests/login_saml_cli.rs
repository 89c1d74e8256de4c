//! issue 15: `ssoproof login --saml`, the reference service provider, as a process against the
//! emulator's SAML IdP (the built-in realm's SAML client `https://sp.acme.test/saml`): alice is
//! signed in with her groups mapped to a role, and every SAML fault the emulator can inject is
//! refused with its `saml/…` code.

use std::process::Command;

use serde_json::Value;
use ssoproof_idp::{Emulator, IdpOptions, Realm, SamlFault};

const SP: &str = "https://sp.acme.test/saml";

struct Idp {
    emulator: Emulator,
    _runtime: tokio::runtime::Runtime,
}

impl Idp {
    fn start() -> Idp {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emulator = runtime
            .block_on(Emulator::start(
                Realm::builtin_keycloak(),
                IdpOptions::default(),
            ))
            .unwrap();
        Idp {
            emulator,
            _runtime: runtime,
        }
    }

    fn metadata(&self) -> String {
        format!(
            "{}/realms/acme/protocol/saml/descriptor",
            self.emulator.base_url()
        )
    }
}

/// Runs `ssoproof login --saml … extra` as alice; the exit code and the parsed JSON output.
fn login(metadata: &str, extra: &[&str]) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args(["login", "--saml", "--metadata", metadata, "--entity-id", SP])
        .args([
            "--username",
            "alice",
            "--role",
            "/acme/admins=admin",
            "--format",
            "json",
        ])
        .args(extra)
        .env("SSOPROOF_PASSWORD", "alice-password")
        .output()
        .expect("ssoproof runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), json)
}

#[test]
fn alice_signs_in_over_saml_with_her_groups_and_role() {
    let idp = Idp::start();
    let (code, json) = login(&idp.metadata(), &[]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["outcome"], "ok");
    assert_eq!(json["name_id"], "alice@example.com");
    assert_eq!(json["groups"], serde_json::json!(["/acme/admins"]));
    assert_eq!(json["role"], "admin");
    assert!(json["session_index"].is_string(), "{json:#}");
    // The human form says the same in a line.
    let output = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "login",
            "--saml",
            "--metadata",
            &idp.metadata(),
            "--entity-id",
            SP,
        ])
        .args([
            "--username",
            "alice",
            "--password",
            "alice-password",
            "--role",
            "/acme/admins=admin",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("ok: signed in over SAML as alice@example.com"),
        "{text}"
    );
}

#[test]
fn every_emulated_saml_fault_is_refused_with_its_code() {
    let idp = Idp::start();
    let cases = [
        (SamlFault::Unsigned, "saml/unsigned"),
        (SamlFault::OtherKey, "saml/untrusted-certificate"),
        (SamlFault::Sha1, "saml/weak-algorithm"),
        (SamlFault::XswEvilBefore, "saml/assertion-count"),
        (SamlFault::XswOriginalInsideEvil, "saml/assertion-count"),
        (SamlFault::XswOriginalInExtensions, "saml/assertion-count"),
        (
            SamlFault::XswOriginalInSignatureObject,
            "saml/assertion-count",
        ),
        (SamlFault::XswSameIdBefore, "saml/assertion-count"),
        (SamlFault::NameIdComment, "saml/comment"),
        (SamlFault::WrongAudience, "saml/audience"),
        (SamlFault::WrongRecipient, "saml/recipient"),
        (SamlFault::WrongDestination, "saml/destination"),
        (SamlFault::Expired, "saml/expired"),
        (SamlFault::NotYetValid, "saml/not-yet-valid"),
        (SamlFault::WrongInResponseTo, "saml/in-response-to"),
        (SamlFault::EncryptedAssertion, "saml/encrypted-assertion"),
    ];
    for (fault, expected) in cases {
        idp.emulator.clear_saml_faults();
        idp.emulator.inject_saml(fault);
        let (code, json) = login(&idp.metadata(), &[]);
        assert_eq!(
            (code, json["error"].as_str()),
            (1, Some(expected)),
            "{fault:?}: {json:#}"
        );
    }
}

#[test]
fn login_side_refusals_have_their_codes() {
    let idp = Idp::start();
    // Another entity ID than the client's: Keycloak and the emulator refuse the AuthnRequest
    // itself, on a page the browser reports.
    let output = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "login",
            "--saml",
            "--metadata",
            &idp.metadata(),
            "--entity-id",
            "https://wrong.example/sp",
        ])
        .args([
            "--username",
            "alice",
            "--password",
            "alice-password",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (output.status.code(), json["error"].as_str()),
        (Some(1), Some("login_failed")),
        "{json:#}"
    );

    // A groups attribute the assertion lacks names the ones it has.
    let (code, json) = login(&idp.metadata(), &["--groups-attribute", "memberOf"]);
    assert_eq!(
        (code, json["error"].as_str()),
        (1, Some("groups_missing")),
        "{json:#}"
    );
    assert!(
        json["message"].as_str().unwrap().contains("`groups`"),
        "{json:#}"
    );

    // dave's groups map to nothing: refused, as in the OIDC login.
    let output = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "login",
            "--saml",
            "--metadata",
            &idp.metadata(),
            "--entity-id",
            SP,
        ])
        .args([
            "--username",
            "dave",
            "--password",
            "dave-password",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["error"], "groups_unmapped", "{json:#}");

    // Metadata that is not there, or not metadata.
    let dead = format!(
        "{}/realms/nope/protocol/saml/descriptor",
        idp.emulator.base_url()
    );
    let (code, json) = login(&dead, &[]);
    assert_eq!(
        (code, json["error"].as_str()),
        (1, Some("metadata_failed")),
        "{json:#}"
    );
    let dir = tempfile::tempdir().unwrap();
    let xxe = dir.path().join("metadata.xml");
    std::fs::write(
        &xxe,
        "<!DOCTYPE m [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><m>&e;</m>",
    )
    .unwrap();
    let (code, json) = login(xxe.to_str().unwrap(), &[]);
    assert_eq!(
        (code, json["error"].as_str()),
        (1, Some("metadata_failed")),
        "{json:#}"
    );
    assert!(
        json["message"].as_str().unwrap().contains("saml/dtd"),
        "{json:#}"
    );
    assert!(
        json["message"].as_str().unwrap().contains("metadata.xml"),
        "{json:#}"
    );
}

#[test]
fn saml_and_oidc_flags_do_not_mix() {
    let output = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "login",
            "--saml",
            "--metadata",
            "m.xml",
            "--entity-id",
            SP,
            "--issuer",
            "https://x",
        ])
        .args(["--username", "alice", "--password", "p"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
        .args([
            "login",
            "--saml",
            "--entity-id",
            SP,
            "--username",
            "alice",
            "--password",
            "p",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--metadata"));
}

/// `login --saml` against the Entra ID persona's tenant metadata: the groups claim URI holds
/// object ids, and a user in more than 150 groups gets `groups.link`, `groups_overage`.
#[test]
fn entra_persona_saml_object_ids_and_overage() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/idp/entra-id.yaml");
    let emulator = runtime
        .block_on(Emulator::start(
            Realm::from_persona(path).unwrap(),
            IdpOptions::default(),
        ))
        .unwrap();
    let metadata = format!(
        "{}/00000000-0000-0000-0000-000000000000/federationmetadata/2007-06/federationmetadata.xml",
        emulator.base_url()
    );
    let run = |user: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_ssoproof"))
            .args([
                "login",
                "--saml",
                "--metadata",
                &metadata,
                "--entity-id",
                SP,
            ])
            .args(["--username", &format!("{user}@example.com")])
            .args([
                "--groups-attribute",
                "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
                "--role",
                "11111111-1111-1111-1111-111111111111=admin",
                "--format",
                "json",
            ])
            .env("SSOPROOF_PASSWORD", format!("{user}-password"))
            .output()
            .expect("ssoproof runs");
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        (output.status.code().unwrap(), json)
    };
    let (code, json) = run("alice");
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["role"], "admin");
    assert!(
        json["groups"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("11111111-1111-1111-1111-111111111111")),
        "{json:#}"
    );
    let (code, json) = run("olga");
    assert_eq!(
        (code, json["error"].as_str()),
        (1, Some("groups_overage")),
        "{json:#}"
    );
}
