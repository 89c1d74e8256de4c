//! Known attacks on SAML SPs, made from a Response the builder signed, so that an emulated IdP
//! can send them and tests can check an SP refuses them. Each keeps the original signature
//! intact: a careless SP would find it valid.

use crate::idp::new_id;
use crate::SamlError;

/// Signature-wrapping variants (Somorovsky et al., "On Breaking SAML: Be Whoever You Want to
/// Be", USENIX Security 2012, XSW3, XSW4, XSW7, XSW8; and a duplicated-ID copy). In each, an
/// unsigned "evil" assertion naming another subject sits where a careless SP reads, while the
/// signed original sits where its signature check looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Xsw {
    /// XSW3: the evil assertion is inserted before the signed one.
    EvilBefore,
    /// XSW4: the evil assertion wraps the signed one as its child.
    OriginalInsideEvil,
    /// XSW7: the signed assertion moves into `samlp:Extensions`; the evil one takes its place.
    OriginalInExtensions,
    /// XSW8: the evil assertion carries a signature whose `ds:Object` holds the signed original.
    OriginalInSignatureObject,
    /// The evil assertion reuses the signed one's ID, placed before it.
    SameIdBefore,
}

impl Xsw {
    /// Every variant.
    pub const ALL: [Self; 5] = [
        Self::EvilBefore,
        Self::OriginalInsideEvil,
        Self::OriginalInExtensions,
        Self::OriginalInSignatureObject,
        Self::SameIdBefore,
    ];
}

fn shape(detail: &str) -> SamlError {
    SamlError::Structure {
        expected: "Response signed by ssoproof-saml",
        detail: detail.into(),
    }
}

/// `(start, end)` of the first `<open…>…</close>` in `xml` at or after `from`.
fn span(xml: &str, open: &str, close: &str, from: usize) -> Option<(usize, usize)> {
    let start = xml[from..].find(open)? + from;
    let end = xml[start..].find(close)? + start + close.len();
    Some((start, end))
}

/// The signed assertion's span in a Response the builder wrote.
fn assertion_span(xml: &str) -> Result<(usize, usize), SamlError> {
    span(xml, "<saml:Assertion", "</saml:Assertion>", 0).ok_or_else(|| shape("no saml:Assertion"))
}

/// The assertion without its signature, with a new ID (or `id`) and `name_id` as subject.
fn evil_copy(assertion: &str, name_id: &str, id: Option<&str>) -> Result<String, SamlError> {
    let mut evil = assertion.to_owned();
    if let Some((start, end)) = span(&evil, "<ds:Signature", "</ds:Signature>", 0) {
        evil.replace_range(start..end, "");
    }
    let id_start = evil
        .find(" ID=\"")
        .ok_or_else(|| shape("the assertion has no ID"))?
        + 5;
    let id_end = evil[id_start..]
        .find('"')
        .ok_or_else(|| shape("unterminated ID"))?
        + id_start;
    evil.replace_range(id_start..id_end, id.unwrap_or(&new_id()));
    let (start, end) =
        span(&evil, "<saml:NameID", "</saml:NameID>", 0).ok_or_else(|| shape("no saml:NameID"))?;
    let open_end = evil[start..end]
        .find('>')
        .ok_or_else(|| shape("broken saml:NameID"))?
        + start
        + 1;
    evil.replace_range(
        open_end..end - "</saml:NameID>".len(),
        &crate::xml::escape(name_id),
    );
    Ok(evil)
}

/// Wraps the signed assertion of `signed_response` as `variant` says, the evil assertion
/// naming `evil_name_id`.
///
/// # Errors
/// `saml/structure` when the Response is not one the builder wrote.
pub fn wrap(signed_response: &str, variant: Xsw, evil_name_id: &str) -> Result<String, SamlError> {
    let (start, end) = assertion_span(signed_response)?;
    let original = &signed_response[start..end];
    let original_id = {
        let doc = crate::xml::parse(signed_response)?;
        let root = doc.root_element();
        crate::xml::child(root, crate::xml::NS_ASSERTION, "Assertion")
            .and_then(|a| a.attribute("ID"))
            .map(str::to_owned)
            .ok_or_else(|| shape("no assertion ID"))?
    };
    let replacement = match variant {
        Xsw::EvilBefore => format!("{}{original}", evil_copy(original, evil_name_id, None)?),
        Xsw::SameIdBefore => format!(
            "{}{original}",
            evil_copy(original, evil_name_id, Some(&original_id))?
        ),
        Xsw::OriginalInsideEvil => {
            let evil = evil_copy(original, evil_name_id, None)?;
            let close = evil.len() - "</saml:Assertion>".len();
            format!("{}{original}</saml:Assertion>", &evil[..close])
        }
        Xsw::OriginalInExtensions => evil_copy(original, evil_name_id, None)?,
        Xsw::OriginalInSignatureObject => {
            let evil = evil_copy(original, evil_name_id, None)?;
            let issuer_end = evil
                .find("</saml:Issuer>")
                .ok_or_else(|| shape("no saml:Issuer"))?
                + "</saml:Issuer>".len();
            format!(
                "{}<ds:Signature xmlns:ds=\"{}\"><ds:Object>{original}</ds:Object></ds:Signature>{}",
                &evil[..issuer_end],
                crate::xml::NS_DSIG,
                &evil[issuer_end..]
            )
        }
    };
    let mut wrapped = signed_response.to_owned();
    wrapped.replace_range(start..end, &replacement);
    if variant == Xsw::OriginalInExtensions {
        // Extensions comes right after the Response's Issuer (and its signature, if any).
        let issuer_end = wrapped
            .find("</saml:Issuer>")
            .ok_or_else(|| shape("no saml:Issuer"))?
            + "</saml:Issuer>".len();
        let after_signature = span(&wrapped, "<ds:Signature", "</ds:Signature>", issuer_end)
            .filter(|(s, _)| *s == issuer_end)
            .map_or(issuer_end, |(_, e)| e);
        wrapped.insert_str(
            after_signature,
            &format!("<samlp:Extensions>{original}</samlp:Extensions>"),
        );
    }
    Ok(wrapped)
}

/// Inserts an empty comment into the NameID before its last `.` (or mid-way when it has none),
/// so that a reader that stops at the first text node reads a shorter name
/// (`alice@example.com<!---->.evil.test` reads as `alice@example.com`), while exclusive c14n,
/// which drops comments, still verifies.
///
/// # Errors
/// `saml/structure` when the Response has no NameID with text.
pub fn comment_in_name_id(signed_response: &str) -> Result<String, SamlError> {
    let (start, end) = span(signed_response, "<saml:NameID", "</saml:NameID>", 0)
        .ok_or_else(|| shape("no saml:NameID"))?;
    let text_start = signed_response[start..end]
        .find('>')
        .ok_or_else(|| shape("broken saml:NameID"))?
        + start
        + 1;
    let text = &signed_response[text_start..end - "</saml:NameID>".len()];
    let at = match text.rfind('.') {
        Some(dot) => dot,
        // Mid-way, on a character boundary.
        None => (1..text.len())
            .find(|i| *i >= text.len() / 2 && text.is_char_boundary(*i))
            .ok_or_else(|| shape("the NameID is too short to split"))?,
    };
    let mut commented = signed_response.to_owned();
    commented.insert_str(text_start + at, "<!---->");
    Ok(commented)
}

/// Replaces the assertion with an `EncryptedAssertion` for a key the SP does not hold: its
/// `EncryptedKey` is wrapped for `other` (a certificate that is not the SP's), so that no SP
/// configuration can decrypt it.
///
/// # Errors
/// `saml/structure` when the Response is not one the builder wrote.
pub fn encrypted_for_another_key(
    signed_response: &str,
    other: &crate::Certificate,
) -> Result<String, SamlError> {
    use base64::Engine as _;
    let (start, end) = assertion_span(signed_response)?;
    // The cipher text is random bytes of the assertion's length: only a holder of the other
    // key's private half could even try to decrypt it, so its content does not matter.
    let cipher = random_bytes(end - start);
    let encrypted = format!(
        "<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" \
         Type=\"http://www.w3.org/2001/04/xmlenc#Element\">\
         <xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\"/>\
         <ds:KeyInfo xmlns:ds=\"{ds}\"><xenc:EncryptedKey>\
         <xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/>\
         <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
         <xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>\
         <xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>\
         </saml:EncryptedAssertion>",
        ds = crate::xml::NS_DSIG,
        cert = other.to_base64(),
        key = base64::engine::general_purpose::STANDARD.encode(random_bytes(256)),
        cipher = base64::engine::general_purpose::STANDARD.encode(cipher),
    );
    let mut out = signed_response.to_owned();
    out.replace_range(start..end, &encrypted);
    Ok(out)
}

fn random_bytes(count: usize) -> Vec<u8> {
    std::iter::repeat_with(|| *uuid::Uuid::new_v4().as_bytes())
        .flatten()
        .take(count)
        .collect()
}
