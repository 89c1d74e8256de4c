//! Debian's `xmlsec1` command, an implementation independent of our calls into the library,
//! verifies each signature the builder makes, and refuses a tampered one.

use std::path::Path;
use std::process::Command;

use ssoproof_saml::{Credential, ResponseSpec, Signing};

fn xmlsec1() -> Option<()> {
    let found = Command::new("xmlsec1").arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        return Some(());
    }
    if std::env::var_os("SSOPROOF_REQUIRE_XMLSEC1").is_some_and(|v| !v.is_empty()) {
        panic!("SSOPROOF_REQUIRE_XMLSEC1 is set and there is no `xmlsec1` on PATH");
    }
    println!("SKIPPED: no `xmlsec1` on PATH (apt-get install xmlsec1; .ci/run does)");
    None
}

/// `xmlsec1 --verify` of the signature inside the element `parent` (by local name).
fn verifies(dir: &Path, xml: &str, parent: &str) -> bool {
    let file = dir.join("response.xml");
    std::fs::write(&file, xml).unwrap();
    let output = Command::new("xmlsec1")
        .arg("--verify")
        .args(["--pubkey-cert-pem", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/idp-cert.pem")])
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"])
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"])
        .args([
            "--node-xpath",
            &format!("//*[local-name()='{parent}']/*[local-name()='Signature']"),
        ])
        .arg(&file)
        .output()
        .unwrap();
    output.status.success()
}

#[test]
fn xmlsec1_verifies_every_signature_the_builder_makes() {
    if xmlsec1().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let credential = Credential::from_pem(
        include_str!("fixtures/idp-key.pem"),
        include_str!("fixtures/idp-cert.pem"),
    )
    .unwrap();
    for signing in [Signing::Assertion, Signing::Response, Signing::Both] {
        let mut spec = ResponseSpec::new(
            "https://idp.test",
            "https://sp.test/acs",
            "https://sp.test",
            "alice@example.com",
            time::OffsetDateTime::now_utc(),
        );
        spec.signing = signing;
        spec.attributes = vec![ssoproof_saml::Attribute::basic("groups", vec!["a & b".into(), "c".into()])];
        let xml = spec.build(&credential).unwrap();
        let signed: &[&str] = match signing {
            Signing::Assertion => &["Assertion"],
            Signing::Response => &["Response"],
            _ => &["Assertion", "Response"],
        };
        for parent in signed {
            assert!(verifies(dir.path(), &xml, parent), "{signing:?}: {parent} signature\n{xml}");
            // The control: the same command refuses the signature once a signed value changes.
            let tampered = xml.replace("alice@example.com", "mallory@example.com");
            assert!(!verifies(dir.path(), &tampered, parent), "{signing:?}: tampered {parent} verified");
        }
    }
}
