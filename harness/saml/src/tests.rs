//! Builder → validator round trips, and each fault refused with its code.

use time::{Duration, OffsetDateTime};

use crate::attacks::{self, Xsw};
use crate::*;

const IDP: &str = "https://idp.test/realms/acme";
const SP: &str = "https://sp.test/saml";
const ACS: &str = "https://sp.test/saml/acs";
const REQUEST: &str = "_request-1";

pub(crate) fn idp_credential() -> Credential {
    Credential::from_pem(
        include_str!("../tests/fixtures/idp-key.pem"),
        include_str!("../tests/fixtures/idp-cert.pem"),
    )
    .unwrap()
}

fn other_credential() -> Credential {
    Credential::from_pem(
        include_str!("../tests/fixtures/other-key.pem"),
        include_str!("../tests/fixtures/other-cert.pem"),
    )
    .unwrap()
}

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-06-01 12:00 UTC)
}

fn spec() -> ResponseSpec {
    let mut spec = ResponseSpec::new(IDP, ACS, SP, "alice@example.com", now());
    spec.in_response_to = Some(REQUEST.into());
    spec.attributes = vec![
        Attribute::basic("email", vec!["alice@example.com".into()]),
        Attribute::basic(
            "groups",
            vec!["/acme/admins".into(), "/acme/engineering".into()],
        ),
    ];
    spec
}

fn validate_at(xml: &str, at: OffsetDateTime) -> Result<Assertion, SamlError> {
    let certificates = [idp_credential().certificate().clone()];
    let expected = Expected {
        idp_certificates: &certificates,
        idp_entity_id: Some(IDP),
        sp_entity_id: SP,
        acs_url: ACS,
        request_id: Some(REQUEST),
        clock_skew: Duration::seconds(30),
        now: at,
    };
    validate_response(xml, &expected, &MemoryReplayCache::default())
}

fn validate(xml: &str) -> Result<Assertion, SamlError> {
    validate_at(xml, now())
}

fn refused(xml: &str) -> &'static str {
    match validate(xml) {
        Ok(assertion) => panic!("accepted {assertion:?}"),
        Err(error) => error.code(),
    }
}

#[test]
fn every_signing_choice_round_trips() {
    for signing in [Signing::Assertion, Signing::Response, Signing::Both] {
        let mut spec = spec();
        spec.signing = signing;
        let assertion = validate(&spec.build(&idp_credential()).unwrap()).unwrap();
        assert_eq!(assertion.name_id, "alice@example.com");
        assert_eq!(assertion.issuer, IDP);
        assert_eq!(
            assertion.attribute("groups").unwrap(),
            ["/acme/admins", "/acme/engineering"]
        );
        assert_eq!(
            assertion.session_index.as_deref(),
            Some(spec.session_index.as_str())
        );
        assert_eq!(
            assertion.assertion_signed,
            signing != Signing::Response,
            "{signing:?}"
        );
        assert_eq!(
            assertion.response_signed,
            signing != Signing::Assertion,
            "{signing:?}"
        );
    }
}

#[test]
fn name_id_formats_and_uri_attributes_round_trip() {
    for format in NameIdFormat::ALL {
        let mut spec = spec();
        spec.name_id_format = format;
        spec.name_id = "a1b2c3".into();
        spec.attributes = vec![Attribute {
            name: "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups".into(),
            name_format: Some(ATTRNAME_URI.into()),
            friendly_name: Some("groups".into()),
            values: vec!["<&\"'>".into()],
        }];
        let assertion = validate(&spec.build(&idp_credential()).unwrap()).unwrap();
        assert_eq!(assertion.name_id_format.as_deref(), Some(format.uri()));
        assert_eq!(
            assertion.attribute("groups").unwrap(),
            ["<&\"'>"],
            "found by FriendlyName"
        );
    }
}

#[test]
fn idp_initiated_login_has_no_in_response_to() {
    let mut spec = spec();
    spec.in_response_to = None;
    let xml = spec.build(&idp_credential()).unwrap();
    let certificates = [idp_credential().certificate().clone()];
    let expected = Expected {
        idp_certificates: &certificates,
        idp_entity_id: Some(IDP),
        sp_entity_id: SP,
        acs_url: ACS,
        request_id: None,
        clock_skew: Duration::seconds(30),
        now: now(),
    };
    validate_response(&xml, &expected, &MemoryReplayCache::default()).unwrap();
    // An unsolicited Response where the SP sent a request is refused.
    assert_eq!(refused(&xml), "saml/in-response-to");
}

#[test]
fn unsigned_and_foreign_signatures_are_refused() {
    let mut unsigned = spec();
    unsigned.signing = Signing::Unsigned;
    assert_eq!(
        refused(&unsigned.build(&idp_credential()).unwrap()),
        "saml/unsigned"
    );

    let by_other = spec().build(&other_credential()).unwrap();
    assert_eq!(refused(&by_other), "saml/untrusted-certificate");
    // Without the KeyInfo hint, the signature itself fails to verify.
    let start = by_other.find("<ds:KeyInfo>").unwrap();
    let end = by_other.find("</ds:KeyInfo>").unwrap() + "</ds:KeyInfo>".len();
    let mut stripped = by_other.clone();
    stripped.replace_range(start..end, "");
    assert_eq!(refused(&stripped), "saml/signature-invalid");
}

#[test]
fn a_changed_signed_value_breaks_the_signature() {
    for signing in [Signing::Assertion, Signing::Response] {
        let mut spec = spec();
        spec.signing = signing;
        let xml = spec
            .build(&idp_credential())
            .unwrap()
            .replace("alice@example.com", "admin@example.com");
        assert_eq!(refused(&xml), "saml/signature-invalid", "{signing:?}");
    }
}

#[test]
fn a_declared_encoding_cannot_make_the_two_parsers_disagree() {
    let mut spec = spec();
    spec.attributes = vec![Attribute::basic("name", vec!["Ã©lodie".into()])];
    let xml = spec.build(&idp_credential()).unwrap();
    // Read as Latin-1, the UTF-8 bytes of "Ã©" would be other characters than were signed.
    let declared = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{xml}");
    let assertion = validate(&declared).unwrap();
    assert_eq!(assertion.attribute("name").unwrap(), ["Ã©lodie"]);
}

#[test]
fn sha1_is_refused() {
    let mut spec = spec();
    spec.algorithm = SignatureAlgorithm::RsaSha1;
    assert_eq!(
        refused(&spec.build(&idp_credential()).unwrap()),
        "saml/weak-algorithm"
    );
}

#[test]
fn every_signature_wrapping_variant_is_refused() {
    for signing in [Signing::Assertion, Signing::Both] {
        let mut spec = spec();
        spec.signing = signing;
        let signed = spec.build(&idp_credential()).unwrap();
        for variant in Xsw::ALL {
            let wrapped = attacks::wrap(&signed, variant, "admin@example.com").unwrap();
            assert!(wrapped.contains("admin@example.com"), "{variant:?}");
            let code = refused(&wrapped);
            assert!(
                ["saml/assertion-count", "saml/duplicate-id"].contains(&code),
                "{signing:?} {variant:?}: {code}"
            );
        }
    }
}

#[test]
fn a_comment_in_the_name_id_is_refused() {
    let signed = spec().build(&idp_credential()).unwrap();
    let commented = attacks::comment_in_name_id(&signed).unwrap();
    assert!(
        commented.contains("alice@example<!---->.com"),
        "{commented}"
    );
    assert_eq!(refused(&commented), "saml/comment");
    let mut username = spec();
    username.name_id = "alice".into();
    let commented =
        attacks::comment_in_name_id(&username.build(&idp_credential()).unwrap()).unwrap();
    assert!(commented.contains(">al<!---->ice<"), "{commented}");
    assert_eq!(refused(&commented), "saml/comment");
}

#[test]
fn an_encrypted_assertion_is_refused() {
    let signed = spec().build(&idp_credential()).unwrap();
    let encrypted =
        attacks::encrypted_for_another_key(&signed, other_credential().certificate()).unwrap();
    assert_eq!(refused(&encrypted), "saml/encrypted-assertion");
}

#[test]
fn audience_recipient_destination_and_issuer_are_checked() {
    let bend = |f: fn(&mut ResponseSpec)| {
        let mut spec = spec();
        f(&mut spec);
        refused(&spec.build(&idp_credential()).unwrap())
    };
    assert_eq!(
        bend(|s| s.audience = "https://other-sp.test".into()),
        "saml/audience"
    );
    assert_eq!(
        bend(|s| s.recipient = "https://other-sp.test/acs".into()),
        "saml/recipient"
    );
    assert_eq!(
        bend(|s| s.destination = "https://other-sp.test/acs".into()),
        "saml/destination"
    );
    assert_eq!(
        bend(|s| s.issuer = "https://evil.test".into()),
        "saml/issuer"
    );
    assert_eq!(
        bend(|s| s.in_response_to = Some("_other".into())),
        "saml/in-response-to"
    );
}

#[test]
fn time_bounds_are_checked_with_the_skew() {
    let xml = spec().build(&idp_credential()).unwrap();
    // Valid from now - 60 s to now + 5 min; the skew is 30 s.
    validate_at(&xml, now() - Duration::seconds(89)).unwrap();
    assert_eq!(
        validate_at(&xml, now() - Duration::seconds(91))
            .unwrap_err()
            .code(),
        "saml/not-yet-valid"
    );
    validate_at(&xml, now() + Duration::seconds(329)).unwrap();
    let late = validate_at(&xml, now() + Duration::seconds(331)).unwrap_err();
    assert_eq!(late.code(), "saml/expired");
    assert!(
        late.to_string()
            .contains("NotOnOrAfter 2026-06-01T12:05:00Z"),
        "{late}"
    );
}

#[test]
fn a_replayed_assertion_is_refused() {
    let xml = spec().build(&idp_credential()).unwrap();
    let certificates = [idp_credential().certificate().clone()];
    let expected = Expected {
        idp_certificates: &certificates,
        idp_entity_id: Some(IDP),
        sp_entity_id: SP,
        acs_url: ACS,
        request_id: Some(REQUEST),
        clock_skew: Duration::seconds(30),
        now: now(),
    };
    let cache = MemoryReplayCache::default();
    validate_response(&xml, &expected, &cache).unwrap();
    assert_eq!(
        validate_response(&xml, &expected, &cache)
            .unwrap_err()
            .code(),
        "saml/replay"
    );
}

#[test]
fn a_failure_status_is_reported_with_its_message() {
    let xml = status_response(
        IDP,
        ACS,
        Some(REQUEST),
        "urn:oasis:names:tc:SAML:2.0:status:Responder",
        "no such user",
        now(),
    );
    let error = validate(&xml).unwrap_err();
    assert_eq!(error.code(), "saml/status");
    assert!(error.to_string().contains("no such user"), "{error}");
}

#[test]
fn hostile_xml_is_refused_before_any_signature_work() {
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
               <samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&x;</samlp:Response>";
    assert_eq!(refused(xxe), "saml/dtd");
    assert_eq!(refused("<samlp:Response"), "saml/malformed-xml");
    assert_eq!(refused("<other/>"), "saml/structure");
}

#[test]
fn messages_round_trip() {
    let request = AuthnRequest {
        id: new_id(),
        issuer: SP.into(),
        destination: Some(format!("{IDP}/protocol/saml")),
        acs_url: Some(ACS.into()),
        protocol_binding: Some(BINDING_POST.into()),
        name_id_format: Some(NameIdFormat::Persistent.uri().into()),
        force_authn: true,
    };
    let xml = request.to_xml(now());
    assert_eq!(
        AuthnRequest::parse(
            &binding::redirect_decode("SAMLRequest", &binding::redirect_encode(&xml)).unwrap()
        )
        .unwrap(),
        request
    );

    let logout = LogoutRequest {
        id: new_id(),
        issuer: SP.into(),
        destination: None,
        name_id: "alice@example.com".into(),
        name_id_format: Some(NameIdFormat::Email.uri().into()),
        session_indexes: vec!["_s1".into()],
    };
    assert_eq!(LogoutRequest::parse(&logout.to_xml(now())).unwrap(), logout);
    let answer = LogoutResponse {
        id: new_id(),
        issuer: IDP.into(),
        destination: Some(ACS.into()),
        in_response_to: Some(logout.id.clone()),
        status: STATUS_SUCCESS.into(),
    };
    assert_eq!(
        LogoutResponse::parse(&answer.to_xml(now())).unwrap(),
        answer
    );
    assert_eq!(
        LogoutResponse::parse(&request.to_xml(now()))
            .unwrap_err()
            .code(),
        "saml/structure"
    );
}

#[test]
fn metadata_names_the_endpoints_and_certificate() {
    let credential = idp_credential();
    let metadata = IdpDescriptor {
        entity_id: IDP,
        sso_url: &format!("{IDP}/protocol/saml"),
        slo_url: &format!("{IDP}/protocol/saml"),
        certificate: credential.certificate(),
        want_authn_requests_signed: false,
    }
    .metadata();
    let doc = roxmltree::Document::parse(&metadata).unwrap();
    let cert = doc
        .descendants()
        .find(|n| n.has_tag_name("X509Certificate"))
        .unwrap();
    assert_eq!(
        Certificate::from_base64(cert.text().unwrap()).unwrap(),
        *credential.certificate()
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("SingleSignOnService"))
            .count(),
        2
    );
}

#[test]
fn keys_that_cannot_be_read_are_refused_without_echoing_them() {
    let error = Credential::from_pem(
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
        include_str!("../tests/fixtures/idp-cert.pem"),
    )
    .unwrap_err();
    assert_eq!(error.code(), "saml/key");
    assert!(!error.to_string().contains("c2VjcmV0"), "{error}");
    assert_eq!(
        Certificate::from_pem("nothing").unwrap_err().code(),
        "saml/key"
    );
    assert_eq!(
        Certificate::from_base64("AAAA").unwrap_err().code(),
        "saml/key"
    );
}
