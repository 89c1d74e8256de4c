//! Property tests: whatever bytes arrive as a Response, a request or a binding parameter, the
//! crate answers with a value or a `SamlError` whose code is documented, and never panics.
//! Mutations start from a validly signed Response so that they reach the signature and
//! condition checks, not only the parser.
//!
//! Bounded for `cargo test` (proptest's 256 cases per property); `.ci/run` runs 1,000.

use proptest::prelude::*;
use ssoproof_saml::{
    binding, validate_response, AuthnRequest, Credential, Expected, LogoutRequest, LogoutResponse,
    MemoryReplayCache, ResponseSpec, SamlError, Signing,
};

const NOW: time::OffsetDateTime = time::macros::datetime!(2026-06-01 12:00 UTC);

fn signed() -> (String, Credential) {
    let credential = Credential::from_pem(
        include_str!("fixtures/idp-key.pem"),
        include_str!("fixtures/idp-cert.pem"),
    )
    .unwrap();
    let mut spec = ResponseSpec::new(
        "https://idp.test",
        "https://sp.test/acs",
        "https://sp.test",
        "alice@example.com",
        NOW,
    );
    spec.signing = Signing::Both;
    spec.in_response_to = Some("_r".into());
    spec.attributes = vec![ssoproof_saml::Attribute::basic("groups", vec!["a".into()])];
    (spec.build(&credential).unwrap(), credential)
}

fn documented(error: &SamlError) {
    assert!(SamlError::CODES.contains(&error.code()), "{error:?}");
    assert!(!error.to_string().is_empty());
}

/// One edit: replace, insert or delete a short run of characters from `alphabet` at `at`.
fn mutate(text: &str, edits: &[(usize, u8, String)]) -> String {
    let mut out = text.to_owned();
    for (at, kind, insert) in edits {
        let mut at = at % (out.len() + 1);
        while !out.is_char_boundary(at) {
            at -= 1;
        }
        let end = out[at..]
            .char_indices()
            .nth(insert.chars().count().max(1))
            .map_or(out.len(), |(i, _)| at + i);
        match kind % 3 {
            0 => out.replace_range(at..end, insert),
            1 => out.insert_str(at, insert),
            _ => out.replace_range(at..end, ""),
        }
    }
    out
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[<>/=\"' a-zA-Z:#&;!\\[\\]-]{0,12}",
        Just("<!DOCTYPE r [<!ENTITY x \"y\">]>".to_owned()),
        Just("<!---->".to_owned()),
        Just(
            "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_x\">"
                .to_owned()
        ),
        Just(" ID=\"_dup\"".to_owned()),
        Just("&amp;&#0;&#xFFFF;".to_owned()),
    ]
}

proptest! {
    #[test]
    fn a_mutated_response_never_panics(edits in prop::collection::vec((any::<usize>(), any::<u8>(), fragment()), 1..4)) {
        let (xml, credential) = signed();
        let certificates = [credential.certificate().clone()];
        let expected = Expected {
            idp_certificates: &certificates,
            idp_entity_id: Some("https://idp.test"),
            sp_entity_id: "https://sp.test",
            acs_url: "https://sp.test/acs",
            request_id: Some("_r"),
            clock_skew: time::Duration::seconds(30),
            now: NOW,
        };
        let mutated = mutate(&xml, &edits);
        if let Err(error) = validate_response(&mutated, &expected, &MemoryReplayCache::default()) {
            documented(&error);
        }
    }

    #[test]
    fn any_request_or_binding_value_never_panics(text in "\\PC{0,200}") {
        for result in [
            AuthnRequest::parse(&text).map(drop),
            LogoutRequest::parse(&text).map(drop),
            LogoutResponse::parse(&text).map(drop),
            binding::redirect_decode("SAMLRequest", &text).map(drop),
            binding::post_decode("SAMLResponse", &text).map(drop),
        ] {
            if let Err(error) = result {
                documented(&error);
            }
        }
    }
}
