//! The IdP side: Responses with their assertion, metadata, and the messages an IdP reads
//! (AuthnRequest) or exchanges for single logout (LogoutRequest, LogoutResponse).

use time::OffsetDateTime;

use crate::dsig::{self, Credential};
use crate::xml::{self, escape, instant, NS_ASSERTION, NS_PROTOCOL};
use crate::SamlError;

/// The top-level status code of a successful Response.
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// Attribute `NameFormat` for URI-named attributes (Entra ID's claim URIs, OIDs).
pub const ATTRNAME_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
/// Attribute `NameFormat` for plain names (Keycloak's and Okta's default).
pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
/// Attribute `NameFormat` when unspecified.
pub const ATTRNAME_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
/// The HTTP-Redirect binding's URI.
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The HTTP-POST binding's URI.
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// A NameID format (SAML Core 2.0 §8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameIdFormat {
    /// `…:1.1:nameid-format:emailAddress`.
    Email,
    /// `…:2.0:nameid-format:persistent`: an opaque, stable pairwise identifier.
    Persistent,
    /// `…:2.0:nameid-format:transient`: a new opaque value every login.
    Transient,
    /// `…:1.1:nameid-format:unspecified` (Keycloak's `username` format).
    Unspecified,
}

impl NameIdFormat {
    /// Every format, for listing in metadata.
    pub const ALL: [Self; 4] = [
        Self::Email,
        Self::Persistent,
        Self::Transient,
        Self::Unspecified,
    ];

    /// The format's URI.
    #[must_use]
    pub const fn uri(self) -> &'static str {
        match self {
            Self::Email => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            Self::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            Self::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            Self::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        }
    }

    /// The format a URI names, if it is one of these.
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.uri() == uri)
    }
}

/// What the IdP signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// The assertion only.
    Assertion,
    /// The Response only (covering the assertion inside it): Keycloak's default.
    Response,
    /// The assertion, then the Response around it.
    Both,
    /// Nothing: only to test that SPs refuse it.
    Unsigned,
}

/// A signature algorithm the builder can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSA-SHA256 with a SHA-256 digest.
    RsaSha256,
    /// RSA-SHA1 with a SHA-1 digest: only to test that SPs refuse it.
    RsaSha1,
}

impl SignatureAlgorithm {
    const fn uri(self) -> &'static str {
        match self {
            Self::RsaSha256 => dsig::RSA_SHA256,
            Self::RsaSha1 => dsig::RSA_SHA1,
        }
    }
}

/// One `saml:Attribute` with its values (all `xs:string`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// `Name`, e.g. `email` or `http://schemas.microsoft.com/ws/2008/06/identity/claims/groups`.
    pub name: String,
    /// `NameFormat` ([`ATTRNAME_BASIC`], [`ATTRNAME_URI`], …); omitted when `None`.
    pub name_format: Option<String>,
    /// `FriendlyName`, omitted when `None`.
    pub friendly_name: Option<String>,
    /// The `AttributeValue`s, in order.
    pub values: Vec<String>,
}

impl Attribute {
    /// A basic-format attribute.
    #[must_use]
    pub fn basic(name: &str, values: Vec<String>) -> Self {
        Self {
            name: name.into(),
            name_format: Some(ATTRNAME_BASIC.into()),
            friendly_name: None,
            values,
        }
    }
}

/// Everything a Response says; [`ResponseSpec::new`] fills in a valid five-minute bearer
/// assertion, and each field can then be bent (a wrong audience, an expired bound…).
#[derive(Clone, Debug)]
pub struct ResponseSpec {
    /// The Response's `ID`.
    pub response_id: String,
    /// The assertion's `ID`.
    pub assertion_id: String,
    /// The IdP's entity ID (both Issuers).
    pub issuer: String,
    /// The Response's `Destination`: the SP's ACS URL.
    pub destination: String,
    /// The bearer SubjectConfirmationData's `Recipient`: the SP's ACS URL.
    pub recipient: String,
    /// The `Audience`: the SP's entity ID.
    pub audience: String,
    /// `InResponseTo` on the Response and the SubjectConfirmationData (None: IdP-initiated).
    pub in_response_to: Option<String>,
    /// The NameID value.
    pub name_id: String,
    /// The NameID format.
    pub name_id_format: NameIdFormat,
    /// The AuthnStatement's `SessionIndex` (what single logout names).
    pub session_index: String,
    /// The AttributeStatement (omitted when empty).
    pub attributes: Vec<Attribute>,
    /// `IssueInstant` and `AuthnInstant`.
    pub issue_instant: OffsetDateTime,
    /// Conditions `NotBefore`.
    pub not_before: OffsetDateTime,
    /// Conditions and SubjectConfirmationData `NotOnOrAfter`.
    pub not_on_or_after: OffsetDateTime,
    /// What is signed.
    pub signing: Signing,
    /// How.
    pub algorithm: SignatureAlgorithm,
}

/// A fresh message ID: an NCName (IDs must not start with a digit), 128 random bits.
#[must_use]
pub fn new_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

impl ResponseSpec {
    /// A valid Response for `name_id` (email format) to the SP `audience` at `acs_url`, issued
    /// `now`, valid for five minutes, signed as Keycloak signs by default (the Response).
    #[must_use]
    pub fn new(
        issuer: &str,
        acs_url: &str,
        audience: &str,
        name_id: &str,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            response_id: new_id(),
            assertion_id: new_id(),
            issuer: issuer.into(),
            destination: acs_url.into(),
            recipient: acs_url.into(),
            audience: audience.into(),
            in_response_to: None,
            name_id: name_id.into(),
            name_id_format: NameIdFormat::Email,
            session_index: new_id(),
            attributes: Vec::new(),
            issue_instant: now,
            not_before: now - time::Duration::seconds(60),
            not_on_or_after: now + time::Duration::minutes(5),
            signing: Signing::Response,
            algorithm: SignatureAlgorithm::RsaSha256,
        }
    }

    fn assertion_xml(&self) -> String {
        let signature = match self.signing {
            Signing::Assertion | Signing::Both => {
                dsig::template(&self.assertion_id, self.algorithm.uri())
            }
            Signing::Response | Signing::Unsigned => String::new(),
        };
        let in_response_to = attr("InResponseTo", self.in_response_to.as_deref());
        let attributes = if self.attributes.is_empty() {
            String::new()
        } else {
            let body: String = self.attributes.iter().map(attribute_xml).collect();
            format!("<saml:AttributeStatement>{body}</saml:AttributeStatement>")
        };
        format!(
            "<saml:Assertion xmlns:saml=\"{NS_ASSERTION}\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\">\
             <saml:Issuer>{issuer}</saml:Issuer>{signature}\
             <saml:Subject><saml:NameID Format=\"{format}\">{name_id}</saml:NameID>\
             <saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
             <saml:SubjectConfirmationData{in_response_to} NotOnOrAfter=\"{until}\" Recipient=\"{recipient}\"/>\
             </saml:SubjectConfirmation></saml:Subject>\
             <saml:Conditions NotBefore=\"{from}\" NotOnOrAfter=\"{until}\">\
             <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>\
             </saml:Conditions>\
             <saml:AuthnStatement AuthnInstant=\"{now}\" SessionIndex=\"{session}\"><saml:AuthnContext>\
             <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>\
             </saml:AuthnContext></saml:AuthnStatement>{attributes}</saml:Assertion>",
            id = escape(&self.assertion_id),
            now = instant(self.issue_instant),
            issuer = escape(&self.issuer),
            format = self.name_id_format.uri(),
            name_id = escape(&self.name_id),
            until = instant(self.not_on_or_after),
            from = instant(self.not_before),
            recipient = escape(&self.recipient),
            audience = escape(&self.audience),
            session = escape(&self.session_index),
        )
    }

    /// The Response, signed as [`ResponseSpec::signing`] says with `credential`.
    ///
    /// # Errors
    /// `saml/key` or `saml/signing` when libxmlsec1 cannot sign.
    pub fn build(&self, credential: &Credential) -> Result<String, SamlError> {
        let signature = match self.signing {
            Signing::Response | Signing::Both => {
                dsig::template(&self.response_id, self.algorithm.uri())
            }
            Signing::Assertion | Signing::Unsigned => String::new(),
        };
        let mut xml = format!(
            "<samlp:Response xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" ID=\"{id}\" \
             Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{destination}\"{in_response_to}>\
             <saml:Issuer>{issuer}</saml:Issuer>{signature}\
             <samlp:Status><samlp:StatusCode Value=\"{STATUS_SUCCESS}\"/></samlp:Status>{assertion}</samlp:Response>",
            id = escape(&self.response_id),
            now = instant(self.issue_instant),
            destination = escape(&self.destination),
            in_response_to = attr("InResponseTo", self.in_response_to.as_deref()),
            issuer = escape(&self.issuer),
            assertion = self.assertion_xml(),
        );
        if matches!(self.signing, Signing::Assertion | Signing::Both) {
            xml = dsig::sign(&xml, &self.assertion_id, "assertion", credential)?;
        }
        if matches!(self.signing, Signing::Response | Signing::Both) {
            xml = dsig::sign(&xml, &self.response_id, "response", credential)?;
        }
        Ok(xml)
    }
}

fn attr(name: &str, value: Option<&str>) -> String {
    value
        .map(|v| format!(" {name}=\"{}\"", escape(v)))
        .unwrap_or_default()
}

fn attribute_xml(attribute: &Attribute) -> String {
    let values: String = attribute
        .values
        .iter()
        .map(|v| {
            format!(
                "<saml:AttributeValue xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" \
                 xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"xs:string\">{}</saml:AttributeValue>",
                escape(v)
            )
        })
        .collect();
    format!(
        "<saml:Attribute Name=\"{}\"{}{}>{values}</saml:Attribute>",
        escape(&attribute.name),
        attr("NameFormat", attribute.name_format.as_deref()),
        attr("FriendlyName", attribute.friendly_name.as_deref()),
    )
}

/// A Response carrying only a non-success status (no assertion), unsigned.
#[must_use]
pub fn status_response(
    issuer: &str,
    destination: &str,
    in_response_to: Option<&str>,
    status: &str,
    message: &str,
    now: OffsetDateTime,
) -> String {
    format!(
        "<samlp:Response xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{now}\" Destination=\"{destination}\"{in_response_to}><saml:Issuer>{issuer}</saml:Issuer>\
         <samlp:Status><samlp:StatusCode Value=\"{status}\"/><samlp:StatusMessage>{message}</samlp:StatusMessage>\
         </samlp:Status></samlp:Response>",
        id = new_id(),
        now = instant(now),
        destination = escape(destination),
        in_response_to = attr("InResponseTo", in_response_to),
        issuer = escape(issuer),
        status = escape(status),
        message = escape(message),
    )
}

/// The IdP's endpoints as metadata names them.
#[derive(Clone, Debug)]
pub struct IdpDescriptor<'a> {
    /// The IdP's entity ID.
    pub entity_id: &'a str,
    /// The SingleSignOnService URL (both bindings).
    pub sso_url: &'a str,
    /// The SingleLogoutService URL (both bindings).
    pub slo_url: &'a str,
    /// The signing certificate.
    pub certificate: &'a dsig::Certificate,
    /// Whether the IdP wants AuthnRequests signed.
    pub want_authn_requests_signed: bool,
}

impl IdpDescriptor<'_> {
    /// The `md:EntityDescriptor` (SAML Metadata 2.0 §2.4.3), unsigned.
    #[must_use]
    pub fn metadata(&self) -> String {
        let services = |element: &str, url: &str| -> String {
            [BINDING_POST, BINDING_REDIRECT]
                .iter()
                .map(|b| {
                    format!(
                        "<md:{element} Binding=\"{b}\" Location=\"{}\"/>",
                        escape(url)
                    )
                })
                .collect()
        };
        let formats: String = NameIdFormat::ALL
            .iter()
            .map(|f| format!("<md:NameIDFormat>{}</md:NameIDFormat>", f.uri()))
            .collect();
        format!(
            "<md:EntityDescriptor xmlns:md=\"{md}\" xmlns:ds=\"{ds}\" entityID=\"{entity}\">\
             <md:IDPSSODescriptor WantAuthnRequestsSigned=\"{want}\" protocolSupportEnumeration=\"{NS_PROTOCOL}\">\
             <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate>\
             </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>{slo}{formats}{sso}</md:IDPSSODescriptor></md:EntityDescriptor>",
            md = xml::NS_METADATA,
            ds = xml::NS_DSIG,
            entity = escape(self.entity_id),
            want = self.want_authn_requests_signed,
            cert = self.certificate.to_base64(),
            slo = services("SingleLogoutService", self.slo_url),
            sso = services("SingleSignOnService", self.sso_url),
        )
    }
}

/// An `samlp:AuthnRequest`, as an SP sends it and the IdP reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthnRequest {
    /// `ID`: what the Response's `InResponseTo` must name.
    pub id: String,
    /// The SP's entity ID (`saml:Issuer`).
    pub issuer: String,
    /// `Destination`: the IdP's SSO URL.
    pub destination: Option<String>,
    /// `AssertionConsumerServiceURL`, when the SP names one.
    pub acs_url: Option<String>,
    /// `ProtocolBinding` the SP wants the Response on.
    pub protocol_binding: Option<String>,
    /// `NameIDPolicy/@Format`.
    pub name_id_format: Option<String>,
    /// `ForceAuthn`.
    pub force_authn: bool,
}

impl AuthnRequest {
    /// Reads an AuthnRequest.
    ///
    /// # Errors
    /// `saml/too-large`, `saml/dtd`, `saml/malformed-xml`, or `saml/structure` when it is not an
    /// AuthnRequest or has no Issuer or ID.
    pub fn parse(xml: &str) -> Result<Self, SamlError> {
        const WHAT: &str = "samlp:AuthnRequest";
        let doc = xml::parse(xml)?;
        let root = doc.root_element();
        if !xml::is(root, NS_PROTOCOL, "AuthnRequest") {
            return Err(wrong_root(WHAT, root));
        }
        Ok(Self {
            id: required_attr(root, "ID", WHAT)?,
            issuer: issuer(root, WHAT)?,
            destination: root.attribute("Destination").map(Into::into),
            acs_url: root
                .attribute("AssertionConsumerServiceURL")
                .map(Into::into),
            protocol_binding: root.attribute("ProtocolBinding").map(Into::into),
            name_id_format: xml::child(root, NS_PROTOCOL, "NameIDPolicy")
                .and_then(|p| p.attribute("Format"))
                .map(Into::into),
            force_authn: matches!(root.attribute("ForceAuthn"), Some("true" | "1")),
        })
    }

    /// Writes it (unsigned), issued `now`.
    #[must_use]
    pub fn to_xml(&self, now: OffsetDateTime) -> String {
        let policy = self
            .name_id_format
            .as_deref()
            .map(|f| {
                format!(
                    "<samlp:NameIDPolicy Format=\"{}\" AllowCreate=\"true\"/>",
                    escape(f)
                )
            })
            .unwrap_or_default();
        format!(
            "<samlp:AuthnRequest xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" ID=\"{id}\" \
             Version=\"2.0\" IssueInstant=\"{now}\"{destination}{acs}{binding}{force}>\
             <saml:Issuer>{issuer}</saml:Issuer>{policy}</samlp:AuthnRequest>",
            id = escape(&self.id),
            now = instant(now),
            destination = attr("Destination", self.destination.as_deref()),
            acs = attr("AssertionConsumerServiceURL", self.acs_url.as_deref()),
            binding = attr("ProtocolBinding", self.protocol_binding.as_deref()),
            force = if self.force_authn { " ForceAuthn=\"true\"" } else { "" },
            issuer = escape(&self.issuer),
        )
    }
}

/// A `samlp:LogoutRequest` (SAML Core 2.0 §3.7.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutRequest {
    /// `ID`.
    pub id: String,
    /// The sender's entity ID.
    pub issuer: String,
    /// `Destination`.
    pub destination: Option<String>,
    /// The NameID of the session to end.
    pub name_id: String,
    /// Its format, when given.
    pub name_id_format: Option<String>,
    /// The `SessionIndex`es named.
    pub session_indexes: Vec<String>,
}

impl LogoutRequest {
    /// Reads a LogoutRequest.
    ///
    /// # Errors
    /// As [`AuthnRequest::parse`]; `saml/structure` without a NameID.
    pub fn parse(xml: &str) -> Result<Self, SamlError> {
        const WHAT: &str = "samlp:LogoutRequest";
        let doc = xml::parse(xml)?;
        let root = doc.root_element();
        if !xml::is(root, NS_PROTOCOL, "LogoutRequest") {
            return Err(wrong_root(WHAT, root));
        }
        let name_id =
            xml::child(root, NS_ASSERTION, "NameID").ok_or_else(|| SamlError::Structure {
                expected: WHAT,
                detail: "no saml:NameID".into(),
            })?;
        Ok(Self {
            id: required_attr(root, "ID", WHAT)?,
            issuer: issuer(root, WHAT)?,
            destination: root.attribute("Destination").map(Into::into),
            name_id: xml::text(name_id),
            name_id_format: name_id.attribute("Format").map(Into::into),
            session_indexes: xml::children(root, NS_PROTOCOL, "SessionIndex")
                .map(xml::text)
                .collect(),
        })
    }

    /// Writes it (unsigned), issued `now`.
    #[must_use]
    pub fn to_xml(&self, now: OffsetDateTime) -> String {
        let sessions: String = self
            .session_indexes
            .iter()
            .map(|s| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", escape(s)))
            .collect();
        format!(
            "<samlp:LogoutRequest xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" ID=\"{id}\" \
             Version=\"2.0\" IssueInstant=\"{now}\"{destination}><saml:Issuer>{issuer}</saml:Issuer>\
             <saml:NameID{format}>{name_id}</saml:NameID>{sessions}</samlp:LogoutRequest>",
            id = escape(&self.id),
            now = instant(now),
            destination = attr("Destination", self.destination.as_deref()),
            issuer = escape(&self.issuer),
            format = attr("Format", self.name_id_format.as_deref()),
            name_id = escape(&self.name_id),
        )
    }
}

/// A `samlp:LogoutResponse` (SAML Core 2.0 §3.7.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutResponse {
    /// `ID`.
    pub id: String,
    /// The sender's entity ID.
    pub issuer: String,
    /// `Destination`.
    pub destination: Option<String>,
    /// The LogoutRequest's ID.
    pub in_response_to: Option<String>,
    /// The top-level status code URI.
    pub status: String,
}

impl LogoutResponse {
    /// Reads a LogoutResponse.
    ///
    /// # Errors
    /// As [`AuthnRequest::parse`]; `saml/structure` without a StatusCode.
    pub fn parse(xml: &str) -> Result<Self, SamlError> {
        const WHAT: &str = "samlp:LogoutResponse";
        let doc = xml::parse(xml)?;
        let root = doc.root_element();
        if !xml::is(root, NS_PROTOCOL, "LogoutResponse") {
            return Err(wrong_root(WHAT, root));
        }
        Ok(Self {
            id: required_attr(root, "ID", WHAT)?,
            issuer: issuer(root, WHAT)?,
            destination: root.attribute("Destination").map(Into::into),
            in_response_to: root.attribute("InResponseTo").map(Into::into),
            status: status_code(root).ok_or_else(|| SamlError::Structure {
                expected: WHAT,
                detail: "no samlp:Status/samlp:StatusCode".into(),
            })?,
        })
    }

    /// Writes it (unsigned), issued `now`.
    #[must_use]
    pub fn to_xml(&self, now: OffsetDateTime) -> String {
        format!(
            "<samlp:LogoutResponse xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" ID=\"{id}\" \
             Version=\"2.0\" IssueInstant=\"{now}\"{destination}{in_response_to}><saml:Issuer>{issuer}</saml:Issuer>\
             <samlp:Status><samlp:StatusCode Value=\"{status}\"/></samlp:Status></samlp:LogoutResponse>",
            id = escape(&self.id),
            now = instant(now),
            destination = attr("Destination", self.destination.as_deref()),
            in_response_to = attr("InResponseTo", self.in_response_to.as_deref()),
            issuer = escape(&self.issuer),
            status = escape(&self.status),
        )
    }
}

pub(crate) fn wrong_root(expected: &'static str, root: roxmltree::Node<'_, '_>) -> SamlError {
    SamlError::Structure {
        expected,
        detail: format!(
            "the root element is {{{}}}{}",
            root.tag_name().namespace().unwrap_or_default(),
            root.tag_name().name()
        ),
    }
}

pub(crate) fn required_attr(
    node: roxmltree::Node<'_, '_>,
    name: &str,
    expected: &'static str,
) -> Result<String, SamlError> {
    node.attribute(name)
        .map(Into::into)
        .ok_or_else(|| SamlError::Structure {
            expected,
            detail: format!("<{}> has no {name} attribute", node.tag_name().name()),
        })
}

fn issuer(root: roxmltree::Node<'_, '_>, expected: &'static str) -> Result<String, SamlError> {
    xml::child(root, NS_ASSERTION, "Issuer")
        .map(xml::text)
        .ok_or_else(|| SamlError::Structure {
            expected,
            detail: "no saml:Issuer".into(),
        })
}

/// `Status/StatusCode/@Value`, with a nested second-level code after a space.
pub(crate) fn status_code(root: roxmltree::Node<'_, '_>) -> Option<String> {
    let code = xml::child(
        xml::child(root, NS_PROTOCOL, "Status")?,
        NS_PROTOCOL,
        "StatusCode",
    )?;
    let top = code.attribute("Value")?;
    Some(
        match xml::child(code, NS_PROTOCOL, "StatusCode").and_then(|c| c.attribute("Value")) {
            Some(second) => format!("{top} {second}"),
            None => top.to_owned(),
        },
    )
}
