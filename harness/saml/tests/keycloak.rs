//! A Response the real Keycloak 26.7.3 signed for the fixture realm's SAML client (carol's
//! SP-initiated login, recorded with its IdP metadata): the validator accepts Keycloak's
//! signatures and shapes (document and assertion signed, its own `dsig:` prefix and default
//! namespace, millisecond instants), and refuses it once a signed byte changes or it is replayed.

use ssoproof_saml::{validate_response, Certificate, Expected, MemoryReplayCache};

const RESPONSE: &str = include_str!("fixtures/keycloak-26-response.xml");
const DESCRIPTOR: &str = include_str!("fixtures/keycloak-26-descriptor.xml");

fn metadata_certificate() -> Certificate {
    let doc = roxmltree::Document::parse(DESCRIPTOR).unwrap();
    let cert = doc
        .descendants()
        .find(|n| n.has_tag_name("X509Certificate"))
        .unwrap();
    Certificate::from_base64(cert.text().unwrap()).unwrap()
}

fn expected(certificates: &[Certificate]) -> Expected<'_> {
    Expected {
        idp_certificates: certificates,
        idp_entity_id: Some("http://127.0.0.1:18080/realms/acme"),
        sp_entity_id: "https://sp.acme.test/saml",
        acs_url: "http://127.0.0.1/saml/acs",
        request_id: Some("id-uwecOmWfMcBhtoRT8"),
        clock_skew: time::Duration::seconds(30),
        now: time::macros::datetime!(2026-12-08 02:09:50 UTC),
    }
}

#[test]
fn keycloaks_response_is_accepted_with_its_metadata_certificate() {
    let certificates = [metadata_certificate()];
    let cache = MemoryReplayCache::default();
    let assertion = validate_response(RESPONSE, &expected(&certificates), &cache).unwrap();
    assert_eq!(assertion.name_id, "carol@example.com");
    assert!(assertion.assertion_signed && assertion.response_signed);
    assert_eq!(assertion.attribute("email").unwrap(), ["carol@example.com"]);
    assert_eq!(
        assertion.attribute("groups").unwrap(),
        ["/acme/admins", "/acme/engineers"]
    );
    assert_eq!(
        validate_response(RESPONSE, &expected(&certificates), &cache)
            .unwrap_err()
            .code(),
        "saml/replay"
    );
}

#[test]
fn keycloaks_response_is_refused_once_changed_or_late() {
    let certificates = [metadata_certificate()];
    let changed = RESPONSE.replace(
        "carol@example.com</saml:NameID>",
        "alice@example.com</saml:NameID>",
    );
    assert_ne!(changed, RESPONSE);
    let error = validate_response(
        &changed,
        &expected(&certificates),
        &MemoryReplayCache::default(),
    )
    .unwrap_err();
    assert_eq!(error.code(), "saml/signature-invalid");
    let mut late = expected(&certificates);
    late.now = time::macros::datetime!(2026-12-08 02:20 UTC);
    assert_eq!(
        validate_response(RESPONSE, &late, &MemoryReplayCache::default())
            .unwrap_err()
            .code(),
        "saml/expired"
    );
}
