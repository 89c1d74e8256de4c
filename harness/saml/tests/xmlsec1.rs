//! Debian's `xmlsec1` command verifies each kind of signature the builder makes, and refuses a
//! tampered one.

use ssoproof_saml::{xmlsec1, Credential, ResponseSpec, Signing};

#[test]
fn xmlsec1_verifies_every_signature_the_builder_makes() {
    if !xmlsec1::available() {
        println!("SKIPPED: no `xmlsec1` on PATH (apt-get install xmlsec1; .ci/run does)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let credential = Credential::from_pem(
        include_str!("fixtures/idp-key.pem"),
        include_str!("fixtures/idp-cert.pem"),
    )
    .unwrap();
    let certificate = credential.certificate();
    for signing in [Signing::Assertion, Signing::Response, Signing::Both] {
        let mut spec = ResponseSpec::new(
            "https://idp.test",
            "https://sp.test/acs",
            "https://sp.test",
            "alice@example.com",
            time::OffsetDateTime::now_utc(),
        );
        spec.signing = signing;
        spec.attributes = vec![ssoproof_saml::Attribute::basic(
            "groups",
            vec!["a & b".into(), "c".into()],
        )];
        let xml = spec.build(&credential).unwrap();
        let signed: &[&str] = match signing {
            Signing::Assertion => &["Assertion"],
            Signing::Response => &["Response"],
            _ => &["Assertion", "Response"],
        };
        for parent in signed {
            assert!(
                xmlsec1::verifies(dir.path(), &xml, parent, certificate).unwrap(),
                "{signing:?}: {parent}\n{xml}"
            );
            // The control: the same command refuses the signature once a signed value changes.
            let tampered = xml.replace("alice@example.com", "mallory@example.com");
            assert!(
                !xmlsec1::verifies(dir.path(), &tampered, parent, certificate).unwrap(),
                "{signing:?}: tampered {parent}"
            );
        }
    }
}
