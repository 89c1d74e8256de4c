//! The two bindings browsers carry SAML messages on: HTTP-Redirect (raw DEFLATE, base64, in
//! the query) and HTTP-POST (base64 in an auto-submitted form). SAML Bindings 2.0 §3.4, §3.5.

use std::io::Read as _;

use base64::Engine as _;

use crate::{SamlError, MAX_MESSAGE_BYTES};

/// Encodes a message for the HTTP-Redirect binding's `SAMLRequest` or `SAMLResponse` query
/// parameter (raw DEFLATE, then base64; the caller URL-encodes it into the query).
#[must_use]
pub fn redirect_encode(xml: &str) -> String {
    let mut encoder =
        flate2::read::DeflateEncoder::new(xml.as_bytes(), flate2::Compression::default());
    let mut deflated = Vec::new();
    // Reading from a byte slice through the encoder cannot fail.
    let _ = encoder.read_to_end(&mut deflated);
    base64::engine::general_purpose::STANDARD.encode(deflated)
}

/// Decodes an HTTP-Redirect binding parameter (already URL-decoded). Inflation stops at
/// [`MAX_MESSAGE_BYTES`], so a DEFLATE bomb costs at most that much memory.
///
/// # Errors
/// `saml/binding` for broken base64 or DEFLATE, `saml/too-large` past the limit,
/// `saml/malformed-xml` when the result is not UTF-8.
pub fn redirect_decode(parameter: &'static str, value: &str) -> Result<String, SamlError> {
    let broken = |detail: String| SamlError::Binding {
        binding: "HTTP-Redirect",
        what: parameter,
        detail,
    };
    let compressed = decode_base64(value).map_err(broken)?;
    let mut inflated = Vec::new();
    let limit = u64::try_from(MAX_MESSAGE_BYTES).unwrap_or(u64::MAX) + 1;
    flate2::read::DeflateDecoder::new(compressed.as_slice())
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(|e| broken(format!("not raw DEFLATE: {e}")))?;
    Ok(crate::xml::utf8(&inflated)?.to_owned())
}

/// Encodes a message for the HTTP-POST binding's `SAMLRequest` or `SAMLResponse` form field.
#[must_use]
pub fn post_encode(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml.as_bytes())
}

/// Decodes an HTTP-POST binding form field (already form-decoded).
///
/// # Errors
/// `saml/too-large`, `saml/binding` for broken base64, `saml/malformed-xml` for non-UTF-8.
pub fn post_decode(parameter: &'static str, value: &str) -> Result<String, SamlError> {
    // Base64 is 4/3 of the message: refuse before decoding anything larger.
    if value.len() > MAX_MESSAGE_BYTES / 3 * 4 + 4 {
        return Err(SamlError::TooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let bytes = decode_base64(value).map_err(|detail| SamlError::Binding {
        binding: "HTTP-POST",
        what: parameter,
        detail,
    })?;
    Ok(crate::xml::utf8(&bytes)?.to_owned())
}

fn decode_base64(value: &str) -> Result<Vec<u8>, String> {
    // Line breaks are common in POSTed base64 (Keycloak and ADFS wrap at 76 columns). A space
    // can only be a `+` that the sender did not percent-encode, which form decoding turned into
    // a space: base64 has no other use for one.
    let compact: String = value
        .chars()
        .filter(|c| *c == ' ' || !c.is_ascii_whitespace())
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("broken base64: {e}"))
}

/// The HTTP-POST binding's page: a form that posts `field` (`SAMLResponse` or `SAMLRequest`)
/// and `RelayState` to `action`, submitted by script, with a button when scripts are off.
#[must_use]
pub fn post_form(action: &str, field: &str, xml: &str, relay_state: Option<&str>) -> String {
    use crate::xml::escape;
    let relay = relay_state
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\"/>",
                escape(r)
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Submit this form</title></head>\
         <body onload=\"document.forms[0].submit()\">\
         <noscript><p>Scripts are off: press Continue to go on.</p></noscript>\
         <form method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"{}\" value=\"{}\"/>{relay}\
         <noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
        escape(action),
        escape(field),
        post_encode(xml),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bindings_round_trip() {
        let xml =
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_1\"/>";
        assert_eq!(
            redirect_decode("SAMLRequest", &redirect_encode(xml)).unwrap(),
            xml
        );
        assert_eq!(post_decode("SAMLResponse", &post_encode(xml)).unwrap(), xml);
    }

    #[test]
    fn a_plus_decoded_as_a_space_and_line_breaks_are_tolerated() {
        let xml = "<r>??>>??</r>";
        let encoded = post_encode(xml);
        assert!(encoded.contains('+'), "{encoded}");
        let mangled = encoded.replace('+', " ");
        let wrapped = format!("{}\r\n{}", &mangled[..8], &mangled[8..]);
        assert_eq!(post_decode("SAMLResponse", &wrapped).unwrap(), xml);
    }

    #[test]
    fn broken_encodings_name_the_binding_and_parameter() {
        let error = redirect_decode("SAMLRequest", "***").unwrap_err();
        assert_eq!(error.code(), "saml/binding");
        assert!(
            error
                .to_string()
                .contains("HTTP-Redirect binding's SAMLRequest"),
            "{error}"
        );
        let not_deflate = base64::engine::general_purpose::STANDARD.encode([0xffu8; 16]);
        assert_eq!(
            redirect_decode("SAMLRequest", &not_deflate)
                .unwrap_err()
                .code(),
            "saml/binding"
        );
        assert_eq!(
            post_decode("SAMLResponse", "@@").unwrap_err().code(),
            "saml/binding"
        );
    }

    #[test]
    fn a_deflate_bomb_stops_at_the_limit() {
        let bomb = redirect_encode(&" ".repeat(MAX_MESSAGE_BYTES * 4));
        assert!(
            bomb.len() < MAX_MESSAGE_BYTES / 100,
            "the bomb should be small"
        );
        assert_eq!(
            redirect_decode("SAMLRequest", &bomb).unwrap_err().code(),
            "saml/too-large"
        );
    }

    #[test]
    fn an_oversized_post_is_refused_before_decoding() {
        let huge = "A".repeat(MAX_MESSAGE_BYTES * 2);
        assert_eq!(
            post_decode("SAMLResponse", &huge).unwrap_err().code(),
            "saml/too-large"
        );
    }

    #[test]
    fn the_post_form_escapes_what_it_carries() {
        let page = post_form(
            "https://sp.test/acs?a=1&b=\"2\"",
            "SAMLResponse",
            "<r/>",
            Some("<x>"),
        );
        assert!(
            page.contains("action=\"https://sp.test/acs?a=1&amp;b=&quot;2&quot;\""),
            "{page}"
        );
        assert!(page.contains("value=\"&lt;x&gt;\""), "{page}");
    }
}
