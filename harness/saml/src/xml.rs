//! The one way a SAML message is read: size-capped, UTF-8, no DTD (so no entity is ever
//! declared, let alone expanded), namespace-aware.

use roxmltree::{Document, Node, ParsingOptions};

use crate::{SamlError, MAX_MESSAGE_BYTES};

/// SAML 2.0 assertion namespace.
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol namespace.
pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 metadata namespace.
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig namespace.
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Parses a message, refusing oversized input and any DOCTYPE before a node is built.
pub(crate) fn parse(xml: &str) -> Result<Document<'_>, SamlError> {
    if xml.len() > MAX_MESSAGE_BYTES {
        return Err(SamlError::TooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    // roxmltree refuses a DTD unless `allow_dtd` is set; it stays unset, so an entity
    // declaration (XXE, billion laughs) never reaches an expansion.
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(xml, options).map_err(|error| match error {
        roxmltree::Error::DtdDetected => SamlError::Dtd,
        other => SamlError::MalformedXml {
            detail: other.to_string(),
        },
    })
}

/// Reads bytes as UTF-8 (SAML messages are UTF-8 on every binding).
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, SamlError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(SamlError::TooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    std::str::from_utf8(bytes).map_err(|e| SamlError::MalformedXml {
        detail: format!("not UTF-8: {e}"),
    })
}

/// Whether `node` is the element `{ns}local`.
pub(crate) fn is(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local && node.tag_name().namespace() == Some(ns)
}

/// The element children of `node` named `{ns}local`.
pub(crate) fn children<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    local: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| is(*c, ns, local))
}

/// The first element child named `{ns}local`.
pub(crate) fn child<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    local: &'static str,
) -> Option<Node<'a, 'i>> {
    children(node, ns, local).next()
}

/// All the text under `node`, concatenated: never only the first text node, which is what
/// made a comment truncate NameIDs in the 2018 class of SAML bugs.
pub(crate) fn text(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect()
}

/// Escapes text for an element's content or a double-quoted attribute value.
#[must_use]
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Carriage returns would be normalised away by any parser, changing signed text.
            '\r' => out.push_str("&#13;"),
            other => out.push(other),
        }
    }
    out
}

/// An xs:dateTime in UTC with a `Z`, whole seconds, as SAML requires.
pub(crate) fn instant(at: time::OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Reads an xs:dateTime attribute.
pub(crate) fn read_instant(
    node: Node<'_, '_>,
    attribute: &str,
    expected: &'static str,
) -> Result<Option<time::OffsetDateTime>, SamlError> {
    node.attribute(attribute)
        .map(|value| {
            time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
                .map_err(|e| SamlError::Structure {
                    expected,
                    detail: format!(
                        "<{}> {attribute}={value:?} is not an xs:dateTime in UTC: {e}",
                        node.tag_name().name()
                    ),
                })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_external_entity_is_refused_before_any_read() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert_eq!(parse(xxe).unwrap_err().code(), "saml/dtd");
    }

    #[test]
    fn a_billion_laughs_is_refused_not_expanded() {
        let mut bomb = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_owned()
            } else {
                format!("lol{}", i - 1)
            };
            bomb.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&{prev};").repeat(10)
            ));
        }
        bomb.push_str("]><lolz>&lol9;</lolz>");
        assert_eq!(parse(&bomb).unwrap_err().code(), "saml/dtd");
    }

    #[test]
    fn oversized_and_malformed_input_get_their_codes() {
        let big = format!("<r>{}</r>", "a".repeat(MAX_MESSAGE_BYTES));
        assert_eq!(parse(&big).unwrap_err().code(), "saml/too-large");
        let error = parse("<r><unclosed></r>").unwrap_err();
        assert_eq!(error.code(), "saml/malformed-xml");
        assert!(error.to_string().contains("1:"), "{error}");
        assert_eq!(
            utf8(&[0xff, 0xfe]).unwrap_err().code(),
            "saml/malformed-xml"
        );
    }

    #[test]
    fn text_reads_past_a_comment() {
        let doc = parse("<n>admin@example.com<!---->.evil.test</n>").unwrap();
        assert_eq!(text(doc.root_element()), "admin@example.com.evil.test");
    }
}
