//! SAML 2.0 Web Browser SSO for ssoproof: the messages, read safely, signed and verified.
//!
//! - [`ResponseSpec`] builds an IdP's `samlp:Response` with its assertion, signed (the
//!   assertion, the Response or both: RSA-SHA256, exclusive c14n, through libxmlsec1), with any
//!   NameID format, attributes (groups among them), Conditions and bearer confirmation; each
//!   field can be bent to make a faulty Response. [`attacks`] derives signature-wrapping and
//!   comment-truncation variants from a signed one.
//! - [`validate_response`] is a strict SP: one signed assertion, verified against the IdP's
//!   certificates and read only from the element the signature covers, for this SP's audience
//!   and ACS, within its time bounds, answering the AuthnRequest sent, never replayed.
//! - [`AuthnRequest`], [`LogoutRequest`], [`LogoutResponse`] and [`IdpDescriptor::metadata`]
//!   are the other messages of SP-initiated login and single logout; [`binding`] carries them on
//!   HTTP-Redirect and HTTP-POST.
//!
//! Every input is read by one parser that refuses a DTD (so XXE and billion laughs are refused,
//! never expanded), input over [`MAX_MESSAGE_BYTES`], and non-UTF-8. Every refusal is a
//! [`SamlError`] with a stable [`SamlError::code`] (`saml/…`), listed in the README.
//!
//! ```
//! # fn demo(credential: &ssoproof_saml::Credential) -> Result<(), ssoproof_saml::SamlError> {
//! use ssoproof_saml::{validate_response, Expected, MemoryReplayCache, ResponseSpec};
//! let now = time::OffsetDateTime::now_utc();
//! let acs = "https://sp.example/acs";
//! let mut spec = ResponseSpec::new("https://idp.example", acs, "https://sp.example", "alice@example.com", now);
//! spec.in_response_to = Some("_request1".into());
//! let xml = spec.build(credential)?;
//! let certificates = [credential.certificate().clone()];
//! let expected = Expected {
//!     idp_certificates: &certificates,
//!     idp_entity_id: Some("https://idp.example"),
//!     sp_entity_id: "https://sp.example",
//!     acs_url: acs,
//!     request_id: Some("_request1"),
//!     clock_skew: time::Duration::seconds(30),
//!     now,
//! };
//! let assertion = validate_response(&xml, &expected, &MemoryReplayCache::default())?;
//! assert_eq!(assertion.name_id, "alice@example.com");
//! # Ok(()) }
//! ```

pub mod attacks;
pub mod binding;
mod dsig;
mod error;
mod idp;
mod metadata;
mod sp;
mod xml;
pub mod xmlsec1;

pub use dsig::{Certificate, Credential};
pub use error::SamlError;
pub use idp::{
    new_id, status_response, Attribute, AuthnRequest, IdpDescriptor, LogoutRequest, LogoutResponse,
    NameIdFormat, ResponseSpec, SignatureAlgorithm, Signing, ATTRNAME_BASIC, ATTRNAME_UNSPECIFIED,
    ATTRNAME_URI, BINDING_POST, BINDING_REDIRECT, STATUS_SUCCESS,
};
pub use metadata::IdpMetadata;
pub use sp::{validate_response, Assertion, Expected, MemoryReplayCache, ReplayCache};
pub use xml::escape;

/// The largest SAML message read, in bytes (after base64 and DEFLATE): a Response with a few
/// hundred groups fits many times over.
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024;

#[cfg(test)]
mod tests;
