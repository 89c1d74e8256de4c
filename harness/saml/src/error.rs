//! Every way a SAML message can be refused, each with a stable code (the README's table).

/// Why a SAML message, key or binding was refused. [`SamlError::code`] is stable and documented;
/// the message names the element or value at fault and never holds key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SamlError {
    /// The message (decoded, or inflated) is larger than [`crate::MAX_MESSAGE_BYTES`].
    #[error("the SAML message is larger than {limit} bytes: refused unread")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Not well-formed XML, or not UTF-8.
    #[error("the SAML message is not well-formed XML: {detail}")]
    MalformedXml {
        /// The parser's account, with line and column.
        detail: String,
    },
    /// A DOCTYPE (and so any entity declaration: XXE, billion laughs) is never read.
    #[error(
        "the SAML message has a DOCTYPE: DTDs and entity declarations are refused, never expanded"
    )]
    Dtd,
    /// Base64, DEFLATE or URL encoding of a binding is broken.
    #[error("the {binding} binding's {what} could not be decoded: {detail}")]
    Binding {
        /// `HTTP-Redirect` or `HTTP-POST`.
        binding: &'static str,
        /// The parameter at fault, e.g. `SAMLResponse`.
        what: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// The message's structure is not what the protocol requires (a missing element, the
    /// wrong root).
    #[error("the SAML message is not a valid {expected}: {detail}")]
    Structure {
        /// The message expected, e.g. `samlp:Response`.
        expected: &'static str,
        /// What is missing or wrong.
        detail: String,
    },
    /// The IdP answered with a non-success status.
    #[error("the IdP answered with status {status}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// The top-level (and second-level, after a space) status code URIs.
        status: String,
        /// The StatusMessage, if any.
        message: Option<String>,
    },
    /// Neither the assertion nor the response carries a signature.
    #[error(
        "neither the assertion nor the response is signed: an unsigned assertion is never trusted"
    )]
    Unsigned,
    /// A signature did not verify with any trusted certificate.
    #[error("the {target} signature does not verify with the trusted IdP certificate(s)")]
    SignatureInvalid {
        /// `assertion` or `response`.
        target: &'static str,
    },
    /// The signature's KeyInfo names a certificate that is not trusted.
    #[error("the {target} is signed with a certificate that is not the IdP's (subject to the KeyInfo it carries)")]
    UntrustedCertificate {
        /// `assertion` or `response`.
        target: &'static str,
    },
    /// SHA-1 (or another weak algorithm) in SignatureMethod or DigestMethod.
    #[error(
        "the {target} signature uses {algorithm}: SHA-1 and weaker are refused, use RSA-SHA256"
    )]
    WeakAlgorithm {
        /// `assertion` or `response`.
        target: &'static str,
        /// The algorithm URI.
        algorithm: String,
    },
    /// An algorithm or transform outside the SAML profile (exclusive c14n, enveloped signature).
    #[error(
        "the {target} signature uses {algorithm}, which the SAML signature profile does not allow"
    )]
    UnsupportedAlgorithm {
        /// `assertion` or `response`.
        target: &'static str,
        /// The algorithm URI.
        algorithm: String,
    },
    /// The signature does not reference exactly the element that carries it.
    #[error("the {target} signature does not cover the element that carries it: {detail}")]
    SignatureReference {
        /// `assertion` or `response`.
        target: &'static str,
        /// What the reference names instead.
        detail: String,
    },
    /// Zero or several assertions, or one not directly in the Response: the shape that
    /// signature-wrapping (XSW) attacks need.
    #[error(
        "the response must hold exactly one assertion, directly under samlp:Response: {detail}"
    )]
    AssertionCount {
        /// What was found.
        detail: String,
    },
    /// Two elements carry the same ID: a reference could resolve to either.
    #[error("the ID {id:?} is carried by more than one element")]
    DuplicateId {
        /// The duplicated ID.
        id: String,
    },
    /// An EncryptedAssertion, which this SP holds no key to decrypt.
    #[error(
        "the response holds an EncryptedAssertion: this SP has no decryption key, so it is refused"
    )]
    EncryptedAssertion,
    /// A comment or processing instruction inside the assertion: signatures do not cover
    /// comments, so a reader that stops at one (the 2018 NameID truncation bugs) would see other
    /// values than were signed.
    #[error("the assertion holds a comment or processing instruction inside <{element}>: refused, as it is not covered by the signature")]
    Comment {
        /// The element holding it.
        element: String,
    },
    /// The Issuer is not the expected IdP.
    #[error("the {target} Issuer is {found:?}, not the IdP {expected:?}")]
    Issuer {
        /// `assertion` or `response`.
        target: &'static str,
        /// The Issuer found.
        found: String,
        /// The IdP's entity ID.
        expected: String,
    },
    /// No AudienceRestriction names this SP.
    #[error("the assertion's audience is {found:?}, which does not name this SP {expected:?}")]
    Audience {
        /// The Audience values found.
        found: Vec<String>,
        /// This SP's entity ID.
        expected: String,
    },
    /// The bearer SubjectConfirmationData's Recipient is not this SP's ACS URL.
    #[error("the assertion's Recipient is {found:?}, not this SP's ACS URL {expected:?}")]
    Recipient {
        /// The Recipient found.
        found: String,
        /// The ACS URL.
        expected: String,
    },
    /// The Response's Destination is not this SP's ACS URL.
    #[error("the response's Destination is {found:?}, not this SP's ACS URL {expected:?}")]
    Destination {
        /// The Destination found (empty when absent).
        found: String,
        /// The ACS URL.
        expected: String,
    },
    /// NotOnOrAfter (of the Conditions or the SubjectConfirmationData) has passed.
    #[error("the assertion expired: {element} NotOnOrAfter {not_on_or_after} is not after {now} (skew {skew_seconds} s)")]
    Expired {
        /// The element carrying the bound.
        element: &'static str,
        /// The bound.
        not_on_or_after: String,
        /// The validator's clock.
        now: String,
        /// The allowed clock skew.
        skew_seconds: i64,
    },
    /// Conditions NotBefore is in the future.
    #[error("the assertion is not yet valid: NotBefore {not_before} is after {now} (skew {skew_seconds} s)")]
    NotYetValid {
        /// The bound.
        not_before: String,
        /// The validator's clock.
        now: String,
        /// The allowed clock skew.
        skew_seconds: i64,
    },
    /// InResponseTo does not name the AuthnRequest this SP sent (or names one when none was).
    #[error("InResponseTo is {found:?}, expected {expected:?}")]
    InResponseTo {
        /// InResponseTo found (None when absent).
        found: Option<String>,
        /// The AuthnRequest ID sent (None for IdP-initiated login).
        expected: Option<String>,
    },
    /// The assertion ID was accepted before.
    #[error("the assertion {id:?} was already accepted once: a replay")]
    Replay {
        /// The assertion ID.
        id: String,
    },
    /// A key or certificate could not be read.
    #[error("the {what} could not be read: {detail}")]
    Key {
        /// `signing key`, `certificate`.
        what: &'static str,
        /// What went wrong (never the key material).
        detail: String,
    },
    /// libxmlsec1 failed while signing.
    #[error("signing the {target} failed in libxmlsec1")]
    Signing {
        /// `assertion`, `response` or the message name.
        target: &'static str,
    },
}

impl SamlError {
    /// The stable code documented in the README's SAML table.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "saml/too-large",
            Self::MalformedXml { .. } => "saml/malformed-xml",
            Self::Dtd => "saml/dtd",
            Self::Binding { .. } => "saml/binding",
            Self::Structure { .. } => "saml/structure",
            Self::Status { .. } => "saml/status",
            Self::Unsigned => "saml/unsigned",
            Self::SignatureInvalid { .. } => "saml/signature-invalid",
            Self::UntrustedCertificate { .. } => "saml/untrusted-certificate",
            Self::WeakAlgorithm { .. } => "saml/weak-algorithm",
            Self::UnsupportedAlgorithm { .. } => "saml/unsupported-algorithm",
            Self::SignatureReference { .. } => "saml/signature-reference",
            Self::AssertionCount { .. } => "saml/assertion-count",
            Self::DuplicateId { .. } => "saml/duplicate-id",
            Self::EncryptedAssertion => "saml/encrypted-assertion",
            Self::Comment { .. } => "saml/comment",
            Self::Issuer { .. } => "saml/issuer",
            Self::Audience { .. } => "saml/audience",
            Self::Recipient { .. } => "saml/recipient",
            Self::Destination { .. } => "saml/destination",
            Self::Expired { .. } => "saml/expired",
            Self::NotYetValid { .. } => "saml/not-yet-valid",
            Self::InResponseTo { .. } => "saml/in-response-to",
            Self::Replay { .. } => "saml/replay",
            Self::Key { .. } => "saml/key",
            Self::Signing { .. } => "saml/signing",
        }
    }

    /// Every code [`SamlError::code`] can return, for the README test.
    pub const CODES: &'static [&'static str] = &[
        "saml/too-large",
        "saml/malformed-xml",
        "saml/dtd",
        "saml/binding",
        "saml/structure",
        "saml/status",
        "saml/unsigned",
        "saml/signature-invalid",
        "saml/untrusted-certificate",
        "saml/weak-algorithm",
        "saml/unsupported-algorithm",
        "saml/signature-reference",
        "saml/assertion-count",
        "saml/duplicate-id",
        "saml/encrypted-assertion",
        "saml/comment",
        "saml/issuer",
        "saml/audience",
        "saml/recipient",
        "saml/destination",
        "saml/expired",
        "saml/not-yet-valid",
        "saml/in-response-to",
        "saml/replay",
        "saml/key",
        "saml/signing",
    ];
}

#[cfg(test)]
mod tests {
    use super::SamlError as E;

    /// One of each variant: `code()` and `CODES` must agree, each code used once.
    #[test]
    fn codes_lists_every_code_once() {
        let s = String::new;
        let all = [
            E::TooLarge { limit: 1 },
            E::MalformedXml { detail: s() },
            E::Dtd,
            E::Binding {
                binding: "",
                what: "",
                detail: s(),
            },
            E::Structure {
                expected: "",
                detail: s(),
            },
            E::Status {
                status: s(),
                message: None,
            },
            E::Unsigned,
            E::SignatureInvalid { target: "" },
            E::UntrustedCertificate { target: "" },
            E::WeakAlgorithm {
                target: "",
                algorithm: s(),
            },
            E::UnsupportedAlgorithm {
                target: "",
                algorithm: s(),
            },
            E::SignatureReference {
                target: "",
                detail: s(),
            },
            E::AssertionCount { detail: s() },
            E::DuplicateId { id: s() },
            E::EncryptedAssertion,
            E::Comment { element: s() },
            E::Issuer {
                target: "",
                found: s(),
                expected: s(),
            },
            E::Audience {
                found: vec![],
                expected: s(),
            },
            E::Recipient {
                found: s(),
                expected: s(),
            },
            E::Destination {
                found: s(),
                expected: s(),
            },
            E::Expired {
                element: "",
                not_on_or_after: s(),
                now: s(),
                skew_seconds: 0,
            },
            E::NotYetValid {
                not_before: s(),
                now: s(),
                skew_seconds: 0,
            },
            E::InResponseTo {
                found: None,
                expected: None,
            },
            E::Replay { id: s() },
            E::Key {
                what: "",
                detail: s(),
            },
            E::Signing { target: "" },
        ];
        let codes: Vec<&str> = all.iter().map(E::code).collect();
        assert_eq!(codes, E::CODES);
    }
}
