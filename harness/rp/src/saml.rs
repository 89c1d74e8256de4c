//! The reference SAML 2.0 service provider: SP-initiated Web Browser SSO, strictly.
//!
//! The IdP's metadata (fetched, or read from a file by the caller) gives its entity ID, its
//! HTTP-Redirect SingleSignOnService and its signing certificates. A login sends an unsigned
//! AuthnRequest on the HTTP-Redirect binding, signs the user in through the IdP's login form
//! with the same [`Browser`] as the OIDC login, stops at the form the IdP posts to the ACS URL
//! (nothing need listen there), and validates its `SAMLResponse` with
//! [`ssoproof_saml::validate_response`]: signature, XSW and comment defences, Issuer,
//! Destination, Recipient, Audience, time bounds, InResponseTo and replay. Groups come from a
//! configurable attribute and map to a role as in the OIDC login, failing closed.
//!
//! Why here, beside the OIDC relying party, and not in `ssoproof-saml`: this half is the browser,
//! the HTTP client, the role ladder and the error codes that `ssoproof login` shares with OIDC;
//! `ssoproof-saml` stays the protocol (messages, signatures, validation) with no network.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use ssoproof_saml::{
    binding, validate_response, Assertion, AuthnRequest, Expected, IdpMetadata, MemoryReplayCache,
    NameIdFormat, BINDING_POST,
};
use ssoproof_secret::Secret;
use url::Url;

use crate::{http, map_role, Browser, Role, RoleLadder, RpError};

/// Entra ID's SAML group-overage marker: an attribute holding a Graph link instead of the
/// groups, when the user is in more than 150.
const ENTRA_GROUPS_LINK: &str = "http://schemas.microsoft.com/claims/groups.link";

/// Where the IdP's metadata comes from.
#[derive(Debug, Clone)]
pub enum MetadataSource {
    /// Fetched from this URL (Keycloak: `<base>/realms/<realm>/protocol/saml/descriptor`).
    Url(String),
    /// Already read, from `origin` (a file name, for messages).
    Document { origin: String, xml: String },
}

impl MetadataSource {
    /// An http(s) URL is fetched; anything else is a file, read with the one reader of
    /// user-named files (regular files only, size-capped).
    pub fn from_arg(arg: &str) -> Result<MetadataSource, RpError> {
        if arg.starts_with("http://") || arg.starts_with("https://") {
            return Ok(MetadataSource::Url(arg.to_string()));
        }
        let xml = ssoproof_config::fs::read_to_string(Path::new(arg)).map_err(|e| {
            RpError::MetadataFailed {
                origin: format!("the metadata file `{arg}`"),
                problem: format!("cannot be read: {e}"),
            }
        })?;
        Ok(MetadataSource::Document {
            origin: format!("the metadata file `{arg}`"),
            xml,
        })
    }
}

/// The service provider's configuration, as in the SAML runbook's "Application-side
/// configuration".
#[derive(Debug, Clone)]
pub struct SpConfig {
    pub metadata: MetadataSource,
    /// This SP's entity ID: the AuthnRequest's Issuer and the Audience it must be named in
    /// (Keycloak: the SAML client's Client ID).
    pub entity_id: String,
    /// This SP's Assertion Consumer Service URL (HTTP-POST): nothing need listen there.
    pub acs_url: String,
    /// The NameID format asked for in the AuthnRequest's NameIDPolicy; `None` leaves it to
    /// the IdP.
    pub name_id_format: Option<NameIdFormat>,
    /// The attribute holding the groups (its Name, or else its FriendlyName). Default `groups`.
    pub groups_attribute: String,
    pub roles: RoleLadder,
    pub role_mappings: Vec<(String, Role)>,
    pub default_role: Option<Role>,
    /// Tolerated clock difference with the IdP. Default 60 s, as for ID tokens.
    pub clock_skew: Duration,
    /// Limit for every network request. Default 10 s.
    pub timeout: Duration,
    /// PEM certificates trusted besides the public roots.
    pub trusted_ca_pem: Option<String>,
}

impl SpConfig {
    /// A configuration with the defaults: groups attribute `groups`, roles
    /// `admin > user > viewer`, no mappings, no default role, 60 s skew, 10 s timeout.
    pub fn new(
        metadata: MetadataSource,
        entity_id: impl Into<String>,
        acs_url: impl Into<String>,
    ) -> SpConfig {
        SpConfig {
            metadata,
            entity_id: entity_id.into(),
            acs_url: acs_url.into(),
            name_id_format: None,
            groups_attribute: "groups".to_string(),
            roles: RoleLadder::default(),
            role_mappings: Vec::new(),
            default_role: None,
            clock_skew: Duration::from_secs(crate::CLOCK_SKEW_SECS.unsigned_abs()),
            timeout: Duration::from_secs(10),
            trusted_ca_pem: None,
        }
    }

    /// Trusts the certificates of the PEM file at `path`, as
    /// [`ClientConfig::trust_ca_file`](crate::ClientConfig::trust_ca_file) does.
    pub fn trust_ca_file(&mut self, path: &Path) -> Result<(), RpError> {
        self.trusted_ca_pem = Some(crate::read_ca_file(path)?);
        Ok(())
    }

    /// Checks the configuration without any request (`config_invalid` otherwise).
    pub fn validate(&self) -> Result<(), RpError> {
        let invalid = |problem: String| Err(RpError::ConfigInvalid { problem });
        if self.entity_id.trim().is_empty() {
            return invalid("the SP entity ID is empty".to_string());
        }
        match Url::parse(&self.acs_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.fragment().is_none() => {}
            _ => {
                return invalid(format!(
                    "the ACS URL `{}` is not an absolute http(s) URL without a fragment",
                    self.acs_url
                ))
            }
        }
        if self.groups_attribute.is_empty() {
            return invalid("the groups attribute name is empty".to_string());
        }
        if let Err(problem) = self
            .roles
            .check_config(&self.role_mappings, self.default_role.as_ref())
        {
            return invalid(problem);
        }
        if self.timeout.is_zero() {
            return invalid("the timeout is zero".to_string());
        }
        Ok(())
    }
}

/// Who signed in over SAML, and with which role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamlLogin {
    pub name_id: String,
    pub name_id_format: Option<String>,
    /// The `email` attribute (or the NameID, when its format is emailAddress).
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub role: Role,
    /// The AuthnStatement's SessionIndex, which single logout names.
    pub session_index: Option<String>,
    /// Every attribute by Name, values in order.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Whether the assertion itself was signed (else only the Response around it).
    pub assertion_signed: bool,
    pub response_signed: bool,
}

/// What the IdP posted to the ACS URL for one AuthnRequest.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The AuthnRequest's ID, which the Response must answer.
    pub request_id: String,
    /// The `SAMLResponse` field, base64 as posted.
    pub saml_response: String,
}

/// A service provider bound to one IdP's metadata. It keeps the IDs of the assertions it
/// accepted, so a replayed one is refused for as long as it lives.
#[derive(Debug)]
pub struct ServiceProvider {
    config: SpConfig,
    idp: IdpMetadata,
    sso_url: Url,
    roots: Vec<reqwest::Certificate>,
    replay: MemoryReplayCache,
}

impl ServiceProvider {
    /// Validates `config` and reads the IdP's metadata (fetching it when it is a URL).
    pub async fn new(config: SpConfig) -> Result<ServiceProvider, RpError> {
        config.validate()?;
        let roots = crate::pem_roots_of(config.trusted_ca_pem.as_deref())?;
        let (origin, xml) = match &config.metadata {
            MetadataSource::Document { origin, xml } => (origin.clone(), xml.clone()),
            MetadataSource::Url(url) => (
                format!("GET {url}"),
                fetch_metadata(url, &config, &roots).await?,
            ),
        };
        let failed = |problem: String| RpError::MetadataFailed {
            origin: origin.clone(),
            problem,
        };
        let idp = IdpMetadata::parse(&xml).map_err(|e| failed(format!("[{}] {e}", e.code())))?;
        let sso = idp.sso_redirect_url.as_deref().ok_or_else(|| {
            failed(format!(
                "the IdP offers no SingleSignOnService on the HTTP-Redirect binding (only {BINDING_POST}), \
                 which this SP sends its AuthnRequest on"
            ))
        })?;
        let sso_url = Url::parse(sso)
            .map_err(|e| failed(format!("the SingleSignOnService `{sso}` is not a URL: {e}")))?;
        Ok(ServiceProvider {
            config,
            idp,
            sso_url,
            roots,
            replay: MemoryReplayCache::default(),
        })
    }

    /// The IdP as its metadata describes it.
    pub fn idp(&self) -> &IdpMetadata {
        &self.idp
    }

    pub fn config(&self) -> &SpConfig {
        &self.config
    }

    /// A fresh AuthnRequest and the SSO URL that carries it on the HTTP-Redirect binding.
    pub fn authn_request(&self) -> (AuthnRequest, Url) {
        let request = AuthnRequest {
            id: ssoproof_saml::new_id(),
            issuer: self.config.entity_id.clone(),
            destination: Some(self.sso_url.to_string()),
            acs_url: Some(self.config.acs_url.clone()),
            protocol_binding: Some(BINDING_POST.to_string()),
            name_id_format: self.config.name_id_format.map(|f| f.uri().to_string()),
            force_authn: false,
        };
        let xml = request.to_xml(time::OffsetDateTime::now_utc());
        let mut url = self.sso_url.clone();
        url.query_pairs_mut()
            .append_pair("SAMLRequest", &binding::redirect_encode(&xml));
        (request, url)
    }

    /// Signs `username` in at the IdP and validates the Response it posts back.
    pub async fn login(&self, username: &str, password: &Secret) -> Result<SamlLogin, RpError> {
        let posted = self.sign_in(username, password).await?;
        self.accept(&posted.saml_response, Some(&posted.request_id))
    }

    /// Signs `username` in at the IdP and returns what it posts back, unvalidated (for tests
    /// that hold one Response to several expectations; [`login`](Self::login) validates it).
    pub async fn sign_in(&self, username: &str, password: &Secret) -> Result<Posted, RpError> {
        let (request, start) = self.authn_request();
        let browser = Browser::new(self.config.timeout, &self.roots).map_err(|reason| {
            RpError::LoginFailed {
                page: crate::browser::display_url(&start),
                reason,
                screenshot: None,
            }
        })?;
        let fields = browser
            .sign_in_posting(
                &start,
                &self.config.acs_url,
                username,
                password,
                &[password],
            )
            .await?;
        let response = fields
            .iter()
            .find(|(name, _)| name == "SAMLResponse")
            .map(|(_, value)| value.as_str())
            .ok_or_else(|| RpError::LoginFailed {
                page: self.config.acs_url.clone(),
                reason: "the IdP posted a form to the ACS URL without a `SAMLResponse` field"
                    .to_string(),
                screenshot: None,
            })?;
        Ok(Posted {
            request_id: request.id,
            saml_response: response.to_string(),
        })
    }

    /// Validates an HTTP-POST `SAMLResponse` field (base64) answering the AuthnRequest
    /// `request_id` (`None`: an IdP-initiated, unsolicited Response), then maps the groups.
    pub fn accept(
        &self,
        saml_response: &str,
        request_id: Option<&str>,
    ) -> Result<SamlLogin, RpError> {
        let xml = binding::post_decode("SAMLResponse", saml_response)?;
        let expected = Expected {
            idp_certificates: &self.idp.signing_certificates,
            idp_entity_id: Some(&self.idp.entity_id),
            sp_entity_id: &self.config.entity_id,
            acs_url: &self.config.acs_url,
            request_id,
            clock_skew: time::Duration::try_from(self.config.clock_skew)
                .unwrap_or(time::Duration::MAX),
            now: time::OffsetDateTime::now_utc(),
        };
        let assertion = validate_response(&xml, &expected, &self.replay)?;
        self.outcome(assertion)
    }

    fn outcome(&self, assertion: Assertion) -> Result<SamlLogin, RpError> {
        let name = &self.config.groups_attribute;
        let groups = match assertion.attribute(name) {
            Some(values) => values.to_vec(),
            None if assertion.attribute(ENTRA_GROUPS_LINK).is_some() => {
                return Err(RpError::GroupsOverage {
                    marker: format!("the attribute `{ENTRA_GROUPS_LINK}`"),
                })
            }
            None => {
                return Err(RpError::GroupsAttributeMissing {
                    attribute: name.clone(),
                    present: assertion
                        .attributes
                        .iter()
                        .map(|a| a.name.clone())
                        .collect(),
                })
            }
        };
        let role = map_role(
            &groups,
            &self.config.role_mappings,
            self.config.default_role.as_ref(),
        )?;
        let email = assertion
            .attribute("email")
            .and_then(|v| v.first().cloned())
            .or_else(|| {
                (assertion.name_id_format.as_deref() == Some(NameIdFormat::Email.uri()))
                    .then(|| assertion.name_id.clone())
            });
        let mut attributes = BTreeMap::new();
        for attribute in &assertion.attributes {
            attributes
                .entry(attribute.name.clone())
                .or_insert_with(Vec::new)
                .extend(attribute.values.iter().cloned());
        }
        Ok(SamlLogin {
            name_id: assertion.name_id,
            name_id_format: assertion.name_id_format,
            email,
            groups,
            role,
            session_index: assertion.session_index,
            attributes,
            assertion_signed: assertion.assertion_signed,
            response_signed: assertion.response_signed,
        })
    }
}

async fn fetch_metadata(
    url: &str,
    config: &SpConfig,
    roots: &[reqwest::Certificate],
) -> Result<String, RpError> {
    let label = format!("GET {url}");
    let failed = |problem: String| RpError::MetadataFailed {
        origin: label.clone(),
        problem,
    };
    let client =
        http::back_channel_client(config.timeout, roots).map_err(|e| RpError::ConfigInvalid {
            problem: format!("cannot build an HTTP client: {e}"),
        })?;
    let request = client.get(url).header(
        reqwest::header::ACCEPT,
        "application/samlmetadata+xml, application/xml, text/xml",
    );
    let response = http::send(request, &label, config.timeout)
        .await
        .map_err(|f| failed(f.problem))?;
    let answer = http::read(response, &label, config.timeout)
        .await
        .map_err(|f| failed(f.problem))?;
    if answer.status != reqwest::StatusCode::OK {
        return Err(failed(answer.problem(&[])));
    }
    Ok(answer.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssoproof_saml::{binding::post_encode, Attribute, Credential, IdpDescriptor, ResponseSpec};

    const IDP: &str = "https://idp.test/realms/acme";
    const SP: &str = "https://sp.test/saml";
    const ACS: &str = "http://127.0.0.1/saml/acs";

    fn credential() -> Credential {
        Credential::from_pem(
            include_str!("../../saml/tests/fixtures/idp-key.pem"),
            include_str!("../../saml/tests/fixtures/idp-cert.pem"),
        )
        .unwrap()
    }

    async fn sp(configure: impl FnOnce(&mut SpConfig)) -> ServiceProvider {
        let credential = credential();
        let xml = IdpDescriptor {
            entity_id: IDP,
            sso_url: "https://idp.test/sso",
            slo_url: "https://idp.test/slo",
            certificate: credential.certificate(),
            want_authn_requests_signed: false,
        }
        .metadata();
        let source = MetadataSource::Document {
            origin: "test".into(),
            xml,
        };
        let mut config = SpConfig::new(source, SP, ACS);
        let admin = config.roles.role("admin").unwrap();
        config.role_mappings = vec![("/acme/admins".into(), admin)];
        configure(&mut config);
        ServiceProvider::new(config).await.unwrap()
    }

    fn response(request_id: &str, attributes: Vec<Attribute>) -> String {
        let mut spec = ResponseSpec::new(
            IDP,
            ACS,
            SP,
            "alice@example.com",
            time::OffsetDateTime::now_utc(),
        );
        spec.in_response_to = Some(request_id.into());
        spec.attributes = attributes;
        post_encode(&spec.build(&credential()).unwrap())
    }

    #[tokio::test]
    async fn the_authn_request_names_this_sp_and_its_acs() {
        let sp = sp(|_| {}).await;
        let (request, url) = sp.authn_request();
        assert_eq!(url.as_str().split('?').next(), Some("https://idp.test/sso"));
        let (_, encoded) = url.query_pairs().find(|(k, _)| k == "SAMLRequest").unwrap();
        let parsed =
            AuthnRequest::parse(&binding::redirect_decode("SAMLRequest", &encoded).unwrap())
                .unwrap();
        assert_eq!(parsed, request);
        assert_eq!(
            (parsed.issuer.as_str(), parsed.acs_url.as_deref()),
            (SP, Some(ACS))
        );
        assert_eq!(parsed.protocol_binding.as_deref(), Some(BINDING_POST));
    }

    #[tokio::test]
    async fn an_accepted_response_is_refused_the_second_time() {
        let sp = sp(|_| {}).await;
        let groups = Attribute::basic("groups", vec!["/acme/admins".into()]);
        let posted = response("_r1", vec![groups]);
        let login = sp.accept(&posted, Some("_r1")).unwrap();
        assert_eq!(
            (login.name_id.as_str(), login.role.name()),
            ("alice@example.com", "admin")
        );
        assert_eq!(login.email.as_deref(), Some("alice@example.com"));
        assert_eq!(
            sp.accept(&posted, Some("_r1")).unwrap_err().code(),
            "saml/replay"
        );
    }

    #[tokio::test]
    async fn groups_come_from_the_configured_attribute_or_fail_closed() {
        let sp_member_of = sp(|c| c.groups_attribute = "memberOf".into()).await;
        let member_of = Attribute::basic("memberOf", vec!["/acme/admins".into()]);
        assert_eq!(
            sp_member_of
                .accept(&response("_r", vec![member_of]), Some("_r"))
                .unwrap()
                .role
                .name(),
            "admin"
        );
        let sp = sp(|_| {}).await;
        let error = sp
            .accept(
                &response("_r", vec![Attribute::basic("email", vec![])]),
                Some("_r"),
            )
            .unwrap_err();
        assert_eq!(error.code(), "groups_missing");
        assert!(error.to_string().contains("it has `email`"), "{error}");
        let link = Attribute::basic(
            ENTRA_GROUPS_LINK,
            vec!["https://graph.microsoft.com/v1.0/users/x/getMemberObjects".into()],
        );
        assert_eq!(
            sp.accept(&response("_r", vec![link]), Some("_r"))
                .unwrap_err()
                .code(),
            "groups_overage"
        );
        let unmapped = Attribute::basic("groups", vec!["/acme/contractors".into()]);
        assert_eq!(
            sp.accept(&response("_r", vec![unmapped]), Some("_r"))
                .unwrap_err()
                .code(),
            "groups_unmapped"
        );
    }

    #[tokio::test]
    async fn metadata_without_a_redirect_sso_service_is_metadata_failed() {
        let xml = IdpDescriptor {
            entity_id: IDP,
            sso_url: "https://idp.test/sso",
            slo_url: "https://idp.test/slo",
            certificate: credential().certificate(),
            want_authn_requests_signed: false,
        }
        .metadata()
        .replace(ssoproof_saml::BINDING_REDIRECT, "urn:example:other");
        let config = SpConfig::new(
            MetadataSource::Document {
                origin: "the metadata file `m.xml`".into(),
                xml,
            },
            SP,
            ACS,
        );
        let error = ServiceProvider::new(config).await.unwrap_err();
        assert_eq!(error.code(), "metadata_failed");
        assert!(
            error.to_string().contains("m.xml") && error.to_string().contains("HTTP-Redirect"),
            "{error}"
        );
    }
}
