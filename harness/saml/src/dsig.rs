//! Enveloped XML signatures (RSA-SHA256, exclusive c14n) through libxmlsec1.
//!
//! Why libxmlsec1 (Debian's `libxmlsec1-dev`, bound by the `xmlsec` crate through bindgen) and
//! not a pure-Rust stack: it is the reference XML-DSig implementation that the SAML world's SPs
//! (pysaml2, python3-saml, ruby-saml's xmlsec mode) and `xmlsec1 --verify` run, so what we sign
//! and what we accept agree with theirs by construction, and its canonicalisation is twenty years
//! old. The one maintained pure-Rust alternative (`xml-sec` 0.4) was months old and pulls a second
//! RustCrypto generation (~140 crates); the binding costs ~45 CPU-seconds of a cold build (bindgen
//! runs twice: for libxml2 and for libxmlsec1) and needs `libxmlsec1-dev libxml2-dev libclang-dev`.
//!
//! libxmlsec1 only computes and checks digests and signature values here. Which element a
//! signature must cover, which algorithms are allowed and the XSW defences are decided before,
//! on the safe reader's tree ([`crate::xml`]); libxml2 then parses the same bytes with network
//! access, recovery and DTD loading off, and only the ID of the one element we chose is
//! registered, so a reference cannot resolve anywhere else.

use std::ptr;

use base64::Engine as _;
use libxml::parser::{Parser, ParserOptions};
use libxml::tree::{Document, Node, SaveOptions};
use xmlsec::{XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use crate::SamlError;

/// RSA-SHA256, the only signature method accepted and produced by default.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// RSA-SHA1: produced only to test that SPs refuse it.
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub(crate) const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub(crate) const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
pub(crate) const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub(crate) const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// An X.509 certificate (DER), as an IdP publishes it in metadata and KeyInfo.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate({} bytes)", self.der.len())
    }
}

impl Certificate {
    /// Reads a PEM `CERTIFICATE` block.
    ///
    /// # Errors
    /// `saml/key` when there is no certificate block or its base64 is broken.
    pub fn from_pem(pem: &str) -> Result<Self, SamlError> {
        let body = pem_body(pem, "CERTIFICATE").ok_or_else(|| SamlError::Key {
            what: "certificate",
            detail: "no -----BEGIN CERTIFICATE----- block".into(),
        })?;
        Self::from_base64(&body)
    }

    /// Reads base64 DER as metadata's and KeyInfo's `X509Certificate` hold it (whitespace ignored).
    ///
    /// # Errors
    /// `saml/key` when the base64 is broken, or libxmlsec1 cannot read the certificate.
    pub fn from_base64(text: &str) -> Result<Self, SamlError> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| SamlError::Key {
                what: "certificate",
                detail: format!("broken base64: {e}"),
            })?;
        let certificate = Self { der };
        certificate.public_key()?;
        Ok(certificate)
    }

    /// The DER bytes.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Base64 DER, on one line, as metadata's `X509Certificate` holds it.
    #[must_use]
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    /// PEM, 64 columns.
    #[must_use]
    pub fn to_pem(&self) -> String {
        let b64 = self.to_base64();
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    fn public_key(&self) -> Result<XmlSecKey, SamlError> {
        quiet();
        XmlSecKey::from_memory(&self.der, XmlSecKeyFormat::CertDer, None).map_err(|e| {
            SamlError::Key {
                what: "certificate",
                detail: format!("libxmlsec1 cannot read it: {e}"),
            }
        })
    }
}

/// An IdP's signing key and its certificate.
#[derive(Clone)]
pub struct Credential {
    key_pem: String,
    certificate: Certificate,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("key", &"<redacted>")
            .field("certificate", &self.certificate)
            .finish()
    }
}

impl Credential {
    /// Reads an unencrypted RSA private key (PKCS#8 or PKCS#1 PEM) and its certificate (PEM).
    ///
    /// # Errors
    /// `saml/key` when either cannot be read.
    pub fn from_pem(private_key_pem: &str, certificate_pem: &str) -> Result<Self, SamlError> {
        let credential = Self {
            key_pem: private_key_pem.to_owned(),
            certificate: Certificate::from_pem(certificate_pem)?,
        };
        credential.signing_key()?;
        Ok(credential)
    }

    /// The certificate published in metadata and KeyInfo.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    fn signing_key(&self) -> Result<XmlSecKey, SamlError> {
        quiet();
        let key = XmlSecKey::from_memory(self.key_pem.as_bytes(), XmlSecKeyFormat::Pem, None)
            .map_err(|_| SamlError::Key {
                what: "signing key",
                detail: "libxmlsec1 cannot read it as an unencrypted PEM private key".into(),
            })?;
        // KeyInfo's X509Data is filled from the certificate loaded into the key.
        key.load_cert_from_memory(&self.certificate.der, XmlSecKeyFormat::CertDer)
            .map_err(|e| SamlError::Key {
                what: "certificate",
                detail: format!("libxmlsec1: {e}"),
            })?;
        Ok(key)
    }
}

fn pem_body(pem: &str, label: &str) -> Option<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = pem[start..].find(&end)? + start;
    Some(pem[start..stop].to_owned())
}

/// The `ds:Signature` template placed where the schema wants it (after the Issuer); libxmlsec1
/// fills in the digest, the signature value and the certificate.
pub(crate) fn template(id: &str, method: &str) -> String {
    let digest = if method == RSA_SHA1 { SHA1 } else { SHA256 };
    format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>\
         <ds:SignatureMethod Algorithm=\"{method}\"/>\
         <ds:Reference URI=\"#{id}\"><ds:Transforms>\
         <ds:Transform Algorithm=\"{ENVELOPED}\"/><ds:Transform Algorithm=\"{EXC_C14N}\"/>\
         </ds:Transforms><ds:DigestMethod Algorithm=\"{digest}\"/><ds:DigestValue/></ds:Reference>\
         </ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"
    )
}

/// libxmlsec1 prints every failure to stderr by default; a refused signature or key is
/// reported as a [`SamlError`] instead, so its output is turned off (an emulator serving faults
/// would otherwise print a stack of C errors for each). Called before any libxmlsec1 work.
fn quiet() {
    // Not in the `xmlsec` crate's generated bindings (it leaves out errors.h); a stable
    // libxmlsec1 function since 1.2.
    extern "C" {
        fn xmlSecErrorsDefaultCallbackEnableOutput(enabled: std::os::raw::c_int);
    }
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        // Initialises libxmlsec1 first: its initialisation resets the error callback.
        drop(XmlSecSignatureContext::new());
        // SAFETY: a plain flag setter, called once libxmlsec1 is initialised.
        unsafe { xmlSecErrorsDefaultCallbackEnableOutput(0) };
    });
}

fn parse_for_crypto(xml: &str) -> Result<Document, SamlError> {
    quiet();
    let options = ParserOptions {
        recover: false,
        no_net: true,
        no_def_dtd: true,
        // The safe reader sees the message as UTF-8 (it is a `&str`); an XML declaration naming
        // another encoding must not make libxml2 verify other characters than it reads.
        encoding: Some("UTF-8"),
        ..ParserOptions::default()
    };
    Parser::default()
        .parse_string_with_options(xml, options)
        .map_err(|e| SamlError::MalformedXml {
            detail: format!("libxml2: {e:?}"),
        })
}

/// The one element whose `ID` is `id`, with its ID registered for reference resolution.
fn element_with_id(doc: &Document, id: &str) -> Option<Node> {
    fn walk(node: Node, id: &str, found: &mut Vec<Node>) {
        if node.get_attribute_no_ns("ID").as_deref() == Some(id) {
            found.push(node.clone());
        }
        for child in node.get_child_elements() {
            walk(child, id, found);
        }
    }
    let mut found = Vec::new();
    walk(doc.get_root_element()?, id, &mut found);
    let [element] = found.as_slice() else {
        return None;
    };
    let c_id = std::ffi::CString::new(id).ok()?;
    let c_name = std::ffi::CString::new("ID").ok()?;
    // SAFETY: the node and document are alive for this call; libxml2 copies the ID value.
    let registered = unsafe {
        let attr = libxml::bindings::xmlHasProp(element.node_ptr(), c_name.as_ptr().cast());
        !attr.is_null()
            && !libxml::bindings::xmlAddID(
                ptr::null_mut(),
                doc.doc_ptr(),
                c_id.as_ptr().cast(),
                attr,
            )
            .is_null()
    };
    registered.then(|| element.clone())
}

fn signature_child(element: &Node) -> Option<Node> {
    element.get_child_elements().into_iter().find(|c| {
        c.get_name() == "Signature"
            && c.get_namespace()
                .is_some_and(|ns| ns.get_href() == crate::xml::NS_DSIG)
    })
}

/// Signs the element whose ID is `id`, which must hold a [`template`].
pub(crate) fn sign(
    xml: &str,
    id: &str,
    target: &'static str,
    credential: &Credential,
) -> Result<String, SamlError> {
    let doc = parse_for_crypto(xml)?;
    let signature = element_with_id(&doc, id)
        .as_ref()
        .and_then(signature_child)
        .ok_or(SamlError::Signing { target })?;
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(credential.signing_key()?);
    context
        .sign_node(&signature)
        .map_err(|_| SamlError::Signing { target })?;
    Ok(doc.to_string_with_options(SaveOptions {
        no_declaration: true,
        ..SaveOptions::default()
    }))
}

/// Whether the `ds:Signature` child of the element whose ID is `id` verifies with `certificate`.
pub(crate) fn verify(
    xml: &str,
    id: &str,
    target: &'static str,
    certificate: &Certificate,
) -> Result<bool, SamlError> {
    let doc = parse_for_crypto(xml)?;
    let Some(signature) = element_with_id(&doc, id).as_ref().and_then(signature_child) else {
        return Err(SamlError::SignatureReference {
            target,
            detail: format!("libxml2 finds no single element with ID {id:?} holding a signature"),
        });
    };
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(certificate.public_key()?);
    // SAFETY: the context is alive; only same-document references (`#id`) may be dereferenced,
    // so a reference can never make libxmlsec1 read a file or the network.
    unsafe {
        (*context.as_ptr()).enabledReferenceUris =
            xmlsec::bindings::xmlSecTransformUriTypeSameDocument;
    }
    // A failure inside libxmlsec1 (a broken SignatureValue, an unreadable transform) is a
    // signature that does not verify.
    Ok(context.verify_node(&signature).unwrap_or(false))
}
