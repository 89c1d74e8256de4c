//! Reading an IdP's metadata (SAML Metadata 2.0 §2.4.3): what an SP needs to send its
//! AuthnRequest and to trust the Responses, read with the same DTD-refusing parser as every
//! message.

use crate::dsig::Certificate;
use crate::idp::{BINDING_POST, BINDING_REDIRECT};
use crate::xml::{self, NS_DSIG, NS_METADATA};
use crate::SamlError;

const WHAT: &str = "md:EntityDescriptor";

/// An IdP as its metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpMetadata {
    /// `entityID`: the Issuer of its Responses.
    pub entity_id: String,
    /// The SingleSignOnService on the HTTP-Redirect binding, if it has one.
    pub sso_redirect_url: Option<String>,
    /// The SingleSignOnService on the HTTP-POST binding, if it has one.
    pub sso_post_url: Option<String>,
    /// The signing certificates (`use="signing"` or no `use`), in document order: during a
    /// rollover an IdP lists the old and the new one, and either may sign.
    pub signing_certificates: Vec<Certificate>,
    /// `WantAuthnRequestsSigned`.
    pub want_authn_requests_signed: bool,
}

impl IdpMetadata {
    /// Reads an `md:EntityDescriptor`, or the first IdP's in an `md:EntitiesDescriptor`.
    ///
    /// # Errors
    /// The parser's codes (`saml/dtd`, `saml/malformed-xml`, `saml/too-large`);
    /// `saml/structure` without an IDPSSODescriptor, an entity ID, a SingleSignOnService or a
    /// signing certificate; `saml/key` for a certificate that cannot be read.
    pub fn parse(text: &str) -> Result<Self, SamlError> {
        let doc = xml::parse(text)?;
        let root = doc.root_element();
        let structure = |detail: String| SamlError::Structure {
            expected: WHAT,
            detail,
        };
        let entity = if xml::is(root, NS_METADATA, "EntityDescriptor") {
            root
        } else if xml::is(root, NS_METADATA, "EntitiesDescriptor") {
            root.descendants()
                .find(|n| {
                    xml::is(*n, NS_METADATA, "EntityDescriptor")
                        && xml::child(*n, NS_METADATA, "IDPSSODescriptor").is_some()
                })
                .ok_or_else(|| {
                    structure("the EntitiesDescriptor holds no IdP's EntityDescriptor".into())
                })?
        } else {
            return Err(crate::idp::wrong_root(WHAT, root));
        };
        let entity_id = entity
            .attribute("entityID")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| structure("no entityID".into()))?
            .to_owned();
        let idp = xml::child(entity, NS_METADATA, "IDPSSODescriptor").ok_or_else(|| {
            structure(format!(
                "{entity_id:?} has no md:IDPSSODescriptor: it is not an IdP's metadata"
            ))
        })?;
        let sso = |binding: &str| {
            xml::children(idp, NS_METADATA, "SingleSignOnService")
                .find(|s| s.attribute("Binding") == Some(binding))
                .and_then(|s| s.attribute("Location"))
                .map(str::to_owned)
        };
        let (sso_redirect_url, sso_post_url) = (sso(BINDING_REDIRECT), sso(BINDING_POST));
        if sso_redirect_url.is_none() && sso_post_url.is_none() {
            return Err(structure(
                "no SingleSignOnService on the HTTP-Redirect or HTTP-POST binding".into(),
            ));
        }
        let signing_certificates = xml::children(idp, NS_METADATA, "KeyDescriptor")
            .filter(|k| matches!(k.attribute("use"), None | Some("signing")))
            .flat_map(|k| {
                k.descendants()
                    .filter(|n| xml::is(*n, NS_DSIG, "X509Certificate"))
            })
            .map(|c| Certificate::from_base64(&xml::text(c)))
            .collect::<Result<Vec<_>, _>>()?;
        if signing_certificates.is_empty() {
            return Err(structure(
                "no signing certificate (md:KeyDescriptor with ds:X509Certificate) in the IDPSSODescriptor".into(),
            ));
        }
        Ok(Self {
            entity_id,
            sso_redirect_url,
            sso_post_url,
            signing_certificates,
            want_authn_requests_signed: matches!(
                idp.attribute("WantAuthnRequestsSigned"),
                Some("true" | "1")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdpDescriptor;

    #[test]
    fn what_the_descriptor_writes_is_read_back() {
        let credential = crate::tests::idp_credential();
        let xml = IdpDescriptor {
            entity_id: "https://idp.test/realms/acme",
            sso_url: "https://idp.test/sso",
            slo_url: "https://idp.test/slo",
            certificate: credential.certificate(),
            want_authn_requests_signed: false,
        }
        .metadata();
        let metadata = IdpMetadata::parse(&xml).unwrap();
        assert_eq!(metadata.entity_id, "https://idp.test/realms/acme");
        assert_eq!(
            metadata.sso_redirect_url.as_deref(),
            Some("https://idp.test/sso")
        );
        assert_eq!(
            metadata.signing_certificates,
            [credential.certificate().clone()]
        );
        assert!(!metadata.want_authn_requests_signed);
    }

    #[test]
    fn keycloaks_entities_wrapper_and_an_encryption_key_are_handled() {
        let cert = crate::tests::idp_credential().certificate().to_base64();
        let other = "MIIBroken";
        let xml = format!(
            "<md:EntitiesDescriptor xmlns:md=\"{NS_METADATA}\" xmlns:ds=\"{NS_DSIG}\" Name=\"urn:keycloak\">\
             <md:EntityDescriptor entityID=\"https://kc.test/realms/acme\">\
             <md:IDPSSODescriptor WantAuthnRequestsSigned=\"true\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
             <md:KeyDescriptor use=\"encryption\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{other}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
             <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:KeyName>k1</ds:KeyName><ds:X509Data><ds:X509Certificate>\n{cert}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
             <md:SingleSignOnService Binding=\"{BINDING_POST}\" Location=\"https://kc.test/realms/acme/protocol/saml\"/>\
             </md:IDPSSODescriptor></md:EntityDescriptor></md:EntitiesDescriptor>"
        );
        let metadata = IdpMetadata::parse(&xml).unwrap();
        assert_eq!(metadata.entity_id, "https://kc.test/realms/acme");
        assert_eq!(metadata.sso_redirect_url, None);
        assert_eq!(
            metadata.sso_post_url.as_deref(),
            Some("https://kc.test/realms/acme/protocol/saml")
        );
        assert_eq!(metadata.signing_certificates.len(), 1);
        assert!(metadata.want_authn_requests_signed);
    }

    #[test]
    fn what_an_sp_cannot_use_is_refused_with_the_reason() {
        let sp_only = format!(
            "<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" entityID=\"https://sp.test\"><md:SPSSODescriptor/></md:EntityDescriptor>"
        );
        let error = IdpMetadata::parse(&sp_only).unwrap_err();
        assert_eq!(error.code(), "saml/structure");
        assert!(
            error.to_string().contains("not an IdP's metadata"),
            "{error}"
        );
        let no_cert = format!(
            "<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" entityID=\"https://idp.test\"><md:IDPSSODescriptor>\
             <md:SingleSignOnService Binding=\"{BINDING_REDIRECT}\" Location=\"https://idp.test/sso\"/>\
             </md:IDPSSODescriptor></md:EntityDescriptor>"
        );
        assert!(IdpMetadata::parse(&no_cert)
            .unwrap_err()
            .to_string()
            .contains("no signing certificate"));
        assert_eq!(
            IdpMetadata::parse("<html><body>login</body></html>")
                .unwrap_err()
                .code(),
            "saml/structure"
        );
        assert_eq!(
            IdpMetadata::parse(
                "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>"
            )
            .unwrap_err()
            .code(),
            "saml/dtd"
        );
    }
}
