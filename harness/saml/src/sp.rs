//! The SP side: a strict validator for `samlp:Response`s, the checks SAML Profiles 2.0 §4.1.4.3
//! and §4.1.4.5 ask of a web-browser-SSO SP, plus the defences the attacks on SAML SPs showed to
//! be needed (signature wrapping, comment truncation, replay).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use roxmltree::Node;
use time::OffsetDateTime;

use crate::dsig::{self, Certificate};
use crate::idp::{self, Attribute, STATUS_SUCCESS};
use crate::xml::{self, instant, NS_ASSERTION, NS_DSIG, NS_PROTOCOL};
use crate::SamlError;

const RESPONSE: &str = "samlp:Response";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const SIGNATURE_METHODS: [&str; 3] = [
    dsig::RSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
];
const DIGEST_METHODS: [&str; 3] = [
    dsig::SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];
const WEAK: [&str; 4] = [
    dsig::RSA_SHA1,
    dsig::SHA1,
    "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-md5",
];

/// What the SP expects of a Response: who signs, who it is for, and when it is checked.
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    /// The IdP's signing certificates (from its metadata); any one may have signed.
    pub idp_certificates: &'a [Certificate],
    /// The IdP's entity ID: both Issuers must equal it. `None` skips the check.
    pub idp_entity_id: Option<&'a str>,
    /// This SP's entity ID: an `Audience` must name it.
    pub sp_entity_id: &'a str,
    /// This SP's Assertion Consumer Service URL: `Destination` and `Recipient`.
    pub acs_url: &'a str,
    /// The ID of the AuthnRequest sent; `None` accepts only unsolicited (IdP-initiated) Responses.
    pub request_id: Option<&'a str>,
    /// Tolerated clock difference with the IdP.
    pub clock_skew: time::Duration,
    /// The validator's clock.
    pub now: OffsetDateTime,
}

/// Remembers accepted assertion IDs until they expire, so that one is accepted only once.
pub trait ReplayCache {
    /// Records `assertion_id` (valid until `not_on_or_after`) and answers whether this was its
    /// first use. Called only for an otherwise valid assertion.
    fn first_use(
        &self,
        assertion_id: &str,
        not_on_or_after: OffsetDateTime,
        now: OffsetDateTime,
    ) -> bool;
}

/// An in-memory [`ReplayCache`] for one process; entries are dropped once expired.
#[derive(Debug, Default)]
pub struct MemoryReplayCache {
    seen: Mutex<HashMap<String, OffsetDateTime>>,
}

impl ReplayCache for MemoryReplayCache {
    fn first_use(
        &self,
        assertion_id: &str,
        not_on_or_after: OffsetDateTime,
        now: OffsetDateTime,
    ) -> bool {
        // A poisoned lock only means another thread panicked mid-insert; the map is still sound.
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|_, until| *until > now);
        seen.insert(assertion_id.to_owned(), not_on_or_after)
            .is_none()
    }
}

/// What a valid Response asserts: read only from the assertion whose signature was verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    /// The assertion's `ID`.
    pub id: String,
    /// Its Issuer.
    pub issuer: String,
    /// The NameID: all its text, comments refused.
    pub name_id: String,
    /// The NameID's `Format`, when given.
    pub name_id_format: Option<String>,
    /// The AuthnStatement's `SessionIndex`, for single logout.
    pub session_index: Option<String>,
    /// The AttributeStatements' attributes, in document order.
    pub attributes: Vec<Attribute>,
    /// The earliest NotOnOrAfter of the Conditions and the bearer confirmation.
    pub not_on_or_after: OffsetDateTime,
    /// Whether the assertion itself was signed (else the Response around it was).
    pub assertion_signed: bool,
    /// Whether the Response was signed.
    pub response_signed: bool,
}

impl Assertion {
    /// The values of the attribute `name` (its `Name`, or else its `FriendlyName`).
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .or_else(|| {
                self.attributes
                    .iter()
                    .find(|a| a.friendly_name.as_deref() == Some(name))
            })
            .map(|a| a.values.as_slice())
    }
}

/// Validates a Response (the HTTP-POST binding's decoded `SAMLResponse`) for this SP.
///
/// Checks, in order: size, no DTD, well-formed; a `samlp:Response` with Success status; no
/// EncryptedAssertion; exactly one assertion, a child of the Response, and no ID carried twice
/// (the XSW defences); no comment or processing instruction; a signature on the assertion or
/// the Response (or both, each then verified) that references exactly the element carrying it,
/// with RSA-SHA256/384/512, exclusive c14n and no SHA-1, made with a trusted certificate;
/// Issuers; Destination; a bearer SubjectConfirmation with the ACS as Recipient, unexpired and
/// naming the AuthnRequest; the Conditions' time bounds and Audience; then replay.
///
/// # Errors
/// The first check that fails, as a [`SamlError`] with its stable code.
pub fn validate_response(
    xml: &str,
    expected: &Expected<'_>,
    replay: &dyn ReplayCache,
) -> Result<Assertion, SamlError> {
    let doc = xml::parse(xml)?;
    let root = doc.root_element();
    if !xml::is(root, NS_PROTOCOL, "Response") {
        return Err(idp::wrong_root(RESPONSE, root));
    }
    let status =
        idp::status_code(root).ok_or_else(|| structure("no samlp:Status/samlp:StatusCode"))?;
    if status != STATUS_SUCCESS {
        let message = xml::child(root, NS_PROTOCOL, "Status")
            .and_then(|s| xml::child(s, NS_PROTOCOL, "StatusMessage"))
            .map(xml::text);
        return Err(SamlError::Status { status, message });
    }
    if root
        .descendants()
        .any(|n| xml::is(n, NS_ASSERTION, "EncryptedAssertion"))
    {
        return Err(SamlError::EncryptedAssertion);
    }
    let assertion = the_one_assertion(root)?;
    unique_ids(root)?;
    if let Some(node) = root.descendants().find(|n| n.is_comment() || n.is_pi()) {
        let element = node
            .parent_element()
            .map(|p| p.tag_name().name().to_owned())
            .unwrap_or_default();
        return Err(SamlError::Comment { element });
    }

    let response_signed = verify_signature(xml, root, "response", expected)?;
    let assertion_signed = verify_signature(xml, assertion, "assertion", expected)?;
    if !response_signed && !assertion_signed {
        return Err(SamlError::Unsigned);
    }

    let assertion_issuer = xml::child(assertion, NS_ASSERTION, "Issuer")
        .map(xml::text)
        .ok_or_else(|| structure("the assertion has no saml:Issuer"))?;
    if let Some(idp) = expected.idp_entity_id {
        let response_issuer = xml::child(root, NS_ASSERTION, "Issuer").map(xml::text);
        for (target, found) in [
            ("response", response_issuer),
            ("assertion", Some(assertion_issuer.clone())),
        ] {
            if let Some(found) = found.filter(|f| f != idp) {
                return Err(SamlError::Issuer {
                    target,
                    found,
                    expected: idp.to_owned(),
                });
            }
        }
    }
    match root.attribute("Destination") {
        Some(destination) if destination == expected.acs_url => {}
        // SAML Bindings 2.0 §3.5.5.2: a signed message must carry its Destination.
        None if !response_signed => {}
        found => {
            return Err(SamlError::Destination {
                found: found.unwrap_or_default().to_owned(),
                expected: expected.acs_url.to_owned(),
            })
        }
    }
    let response_in_response_to = root.attribute("InResponseTo");
    if response_in_response_to.is_some() && response_in_response_to != expected.request_id {
        return Err(in_response_to(response_in_response_to, expected));
    }

    let subject = xml::child(assertion, NS_ASSERTION, "Subject")
        .ok_or_else(|| structure("the assertion has no saml:Subject"))?;
    let name_id = xml::child(subject, NS_ASSERTION, "NameID")
        .ok_or_else(|| structure("the assertion's Subject has no saml:NameID"))?;
    let confirmation_until = bearer_confirmation(subject, expected)?;
    let conditions_until = conditions(assertion, expected)?;

    let not_on_or_after =
        conditions_until.map_or(confirmation_until, |c| c.min(confirmation_until));
    let id = idp::required_attr(assertion, "ID", RESPONSE)?;
    if !replay.first_use(&id, not_on_or_after, expected.now) {
        return Err(SamlError::Replay { id });
    }
    Ok(Assertion {
        id,
        issuer: assertion_issuer,
        name_id: xml::text(name_id),
        name_id_format: name_id.attribute("Format").map(Into::into),
        session_index: xml::child(assertion, NS_ASSERTION, "AuthnStatement")
            .and_then(|s| s.attribute("SessionIndex"))
            .map(Into::into),
        attributes: attributes(assertion),
        not_on_or_after,
        assertion_signed,
        response_signed,
    })
}

fn structure(detail: &str) -> SamlError {
    SamlError::Structure {
        expected: RESPONSE,
        detail: detail.to_owned(),
    }
}

fn in_response_to(found: Option<&str>, expected: &Expected<'_>) -> SamlError {
    SamlError::InResponseTo {
        found: found.map(Into::into),
        expected: expected.request_id.map(Into::into),
    }
}

/// The only assertion in the document, which must be a child of the Response: every
/// signature-wrapping variant adds a second one or moves the signed one elsewhere.
fn the_one_assertion<'a, 'i>(root: Node<'a, 'i>) -> Result<Node<'a, 'i>, SamlError> {
    let all: Vec<_> = root
        .descendants()
        .filter(|n| xml::is(*n, NS_ASSERTION, "Assertion"))
        .collect();
    match all.as_slice() {
        [one] if one.parent() == Some(root) => Ok(*one),
        [one] => Err(SamlError::AssertionCount {
            detail: format!(
                "the assertion is inside <{}>",
                one.parent_element()
                    .map(|p| p.tag_name().name())
                    .unwrap_or_default()
            ),
        }),
        [] => Err(SamlError::AssertionCount {
            detail: "there is none".into(),
        }),
        many => Err(SamlError::AssertionCount {
            detail: format!("there are {}", many.len()),
        }),
    }
}

/// No ID value carried twice, counting every attribute a reference could resolve to.
fn unique_ids(root: Node<'_, '_>) -> Result<(), SamlError> {
    let mut seen = HashSet::new();
    for element in root.descendants().filter(Node::is_element) {
        for attribute in element.attributes() {
            let is_id = matches!(attribute.name(), "ID" | "Id" | "id")
                && (attribute.namespace().is_none()
                    || attribute.namespace() == Some("http://www.w3.org/XML/1998/namespace"));
            if is_id && !seen.insert(attribute.value()) {
                return Err(SamlError::DuplicateId {
                    id: attribute.value().to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// Verifies the signature `element` carries, if any; `Ok(false)` when it carries none.
fn verify_signature(
    xml: &str,
    element: Node<'_, '_>,
    target: &'static str,
    expected: &Expected<'_>,
) -> Result<bool, SamlError> {
    let mut signatures = xml::children(element, NS_DSIG, "Signature");
    let Some(signature) = signatures.next() else {
        return Ok(false);
    };
    let reference_error = |detail: String| SamlError::SignatureReference { target, detail };
    if signatures.next().is_some() {
        return Err(reference_error(
            "it carries two ds:Signature elements".into(),
        ));
    }
    let signed_info = xml::child(signature, NS_DSIG, "SignedInfo")
        .ok_or_else(|| reference_error("the signature has no ds:SignedInfo".into()))?;
    let algorithm = |parent: Node<'_, '_>, name: &'static str| -> Result<String, SamlError> {
        xml::child(parent, NS_DSIG, name)
            .and_then(|n| n.attribute("Algorithm"))
            .map(Into::into)
            .ok_or_else(|| reference_error(format!("no ds:{name} Algorithm")))
    };
    let allow = |uri: String, allowed: &[&str]| -> Result<(), SamlError> {
        if WEAK.contains(&uri.as_str()) {
            Err(SamlError::WeakAlgorithm {
                target,
                algorithm: uri,
            })
        } else if allowed.contains(&uri.as_str()) {
            Ok(())
        } else {
            Err(SamlError::UnsupportedAlgorithm {
                target,
                algorithm: uri,
            })
        }
    };
    allow(
        algorithm(signed_info, "CanonicalizationMethod")?,
        &[dsig::EXC_C14N],
    )?;
    allow(
        algorithm(signed_info, "SignatureMethod")?,
        &SIGNATURE_METHODS,
    )?;
    let references: Vec<_> = xml::children(signed_info, NS_DSIG, "Reference").collect();
    let [reference] = references.as_slice() else {
        return Err(reference_error(format!(
            "SignedInfo has {} references, not one",
            references.len()
        )));
    };
    allow(algorithm(*reference, "DigestMethod")?, &DIGEST_METHODS)?;
    let id = element.attribute("ID").ok_or_else(|| {
        reference_error(format!(
            "the signed <{}> has no ID",
            element.tag_name().name()
        ))
    })?;
    let uri = reference.attribute("URI").unwrap_or_default();
    if uri.strip_prefix('#') != Some(id) {
        return Err(reference_error(format!(
            "the reference is {uri:?}, not \"#{id}\""
        )));
    }
    let transforms: Vec<_> = xml::child(*reference, NS_DSIG, "Transforms")
        .map(|t| {
            xml::children(t, NS_DSIG, "Transform")
                .filter_map(|n| n.attribute("Algorithm"))
                .collect()
        })
        .unwrap_or_default();
    if !transforms.contains(&dsig::ENVELOPED) {
        return Err(reference_error(
            "the reference lacks the enveloped-signature transform".into(),
        ));
    }
    for transform in transforms {
        allow(transform.to_owned(), &[dsig::ENVELOPED, dsig::EXC_C14N])?;
    }
    // A KeyInfo certificate is only a hint, never trusted for itself; one that is not the IdP's
    // gets its own code, since "signed by another key" is a distinct misconfiguration.
    let key_info_certificates: Vec<String> = signature
        .descendants()
        .filter(|n| xml::is(*n, NS_DSIG, "X509Certificate"))
        .map(xml::text)
        .collect();
    if !key_info_certificates.is_empty()
        && !key_info_certificates.iter().any(|text| {
            Certificate::from_base64(text).is_ok_and(|c| expected.idp_certificates.contains(&c))
        })
    {
        return Err(SamlError::UntrustedCertificate { target });
    }
    for certificate in expected.idp_certificates {
        if dsig::verify(xml, id, target, certificate)? {
            return Ok(true);
        }
    }
    Err(SamlError::SignatureInvalid { target })
}

fn time_error_now(expected: &Expected<'_>) -> (String, i64) {
    (instant(expected.now), expected.clock_skew.whole_seconds())
}

/// The bearer confirmation's bound, once one bearer SubjectConfirmationData passes.
fn bearer_confirmation(
    subject: Node<'_, '_>,
    expected: &Expected<'_>,
) -> Result<OffsetDateTime, SamlError> {
    let mut first_error = None;
    for confirmation in xml::children(subject, NS_ASSERTION, "SubjectConfirmation") {
        if confirmation.attribute("Method") != Some(BEARER) {
            continue;
        }
        let result = xml::child(confirmation, NS_ASSERTION, "SubjectConfirmationData")
            .ok_or_else(|| {
                structure("the bearer SubjectConfirmation has no SubjectConfirmationData")
            })
            .and_then(|data| check_confirmation_data(data, expected));
        match result {
            Ok(until) => return Ok(until),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| structure("the Subject has no bearer SubjectConfirmation")))
}

fn check_confirmation_data(
    data: Node<'_, '_>,
    expected: &Expected<'_>,
) -> Result<OffsetDateTime, SamlError> {
    let recipient = data.attribute("Recipient").unwrap_or_default();
    if recipient != expected.acs_url {
        return Err(SamlError::Recipient {
            found: recipient.into(),
            expected: expected.acs_url.into(),
        });
    }
    let until = xml::read_instant(data, "NotOnOrAfter", RESPONSE)?
        .ok_or_else(|| structure("the bearer SubjectConfirmationData has no NotOnOrAfter"))?;
    if until <= expected.now - expected.clock_skew {
        let (now, skew_seconds) = time_error_now(expected);
        return Err(SamlError::Expired {
            element: "SubjectConfirmationData",
            not_on_or_after: instant(until),
            now,
            skew_seconds,
        });
    }
    let found = data.attribute("InResponseTo");
    if found != expected.request_id {
        return Err(in_response_to(found, expected));
    }
    Ok(until)
}

fn conditions(
    assertion: Node<'_, '_>,
    expected: &Expected<'_>,
) -> Result<Option<OffsetDateTime>, SamlError> {
    let Some(conditions) = xml::child(assertion, NS_ASSERTION, "Conditions") else {
        return Err(SamlError::Audience {
            found: Vec::new(),
            expected: expected.sp_entity_id.into(),
        });
    };
    if let Some(not_before) = xml::read_instant(conditions, "NotBefore", RESPONSE)? {
        if not_before > expected.now + expected.clock_skew {
            let (now, skew_seconds) = time_error_now(expected);
            return Err(SamlError::NotYetValid {
                not_before: instant(not_before),
                now,
                skew_seconds,
            });
        }
    }
    let until = xml::read_instant(conditions, "NotOnOrAfter", RESPONSE)?;
    if let Some(until) = until.filter(|u| *u <= expected.now - expected.clock_skew) {
        let (now, skew_seconds) = time_error_now(expected);
        return Err(SamlError::Expired {
            element: "Conditions",
            not_on_or_after: instant(until),
            now,
            skew_seconds,
        });
    }
    // Each AudienceRestriction must name this SP (they are ANDed), and there must be one.
    let restrictions: Vec<Vec<String>> =
        xml::children(conditions, NS_ASSERTION, "AudienceRestriction")
            .map(|r| {
                xml::children(r, NS_ASSERTION, "Audience")
                    .map(xml::text)
                    .collect()
            })
            .collect();
    let named = |r: &Vec<String>| r.iter().any(|a| a == expected.sp_entity_id);
    if restrictions.is_empty() || !restrictions.iter().all(named) {
        return Err(SamlError::Audience {
            found: restrictions.into_iter().flatten().collect(),
            expected: expected.sp_entity_id.into(),
        });
    }
    Ok(until)
}

fn attributes(assertion: Node<'_, '_>) -> Vec<Attribute> {
    xml::children(assertion, NS_ASSERTION, "AttributeStatement")
        .flat_map(|s| xml::children(s, NS_ASSERTION, "Attribute"))
        .map(|a| Attribute {
            name: a.attribute("Name").unwrap_or_default().to_owned(),
            name_format: a.attribute("NameFormat").map(Into::into),
            friendly_name: a.attribute("FriendlyName").map(Into::into),
            values: xml::children(a, NS_ASSERTION, "AttributeValue")
                .map(xml::text)
                .collect(),
        })
        .collect()
}
