//! SAML 2.0 at Keycloak's paths under `/realms/<realm>/protocol/saml`, for the realm's SAML
//! clients: the IdP metadata (`/descriptor`), SP-initiated login with an AuthnRequest on the
//! HTTP-Redirect or HTTP-POST binding, IdP-initiated login (`/clients/<url name>`), single
//! logout, and faults ([`SamlFault`]) that bend or attack the Responses.
//!
//! Paths, attributes and defaults are Keycloak 26's (`SamlService`, `SamlProtocol`,
//! `SamlClient` and the `saml-*-mapper` classes in its source): the IdP's entity ID is the
//! realm's issuer, a client's `clientId` is its SP's entity ID, the Response is signed unless
//! `saml.server.signature` is `false`, the assertion when `saml.assertion.signature` is `true`,
//! and `saml_name_id_format` picks the NameID (`username`, `email`, `transient`, `persistent`)
//! unless the AuthnRequest's NameIDPolicy asks for another and `saml.force.name.id.format` is
//! not `true`.
//!
//! Where it differs from Keycloak: AuthnRequest signatures are not checked (an import warns of a
//! client that requires them); the login form is the OIDC one, with no single-sign-on session,
//! so single logout answers Success without another session to end; the Response is signed by a
//! fixed key (the realm's first RSA key), which key rotation does not change.

use std::sync::{Arc, LazyLock, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use ssoproof_saml::attacks::{self, Xsw};
use ssoproof_saml::{
    binding, new_id, Attribute, AuthnRequest, Credential, IdpDescriptor, LogoutRequest,
    LogoutResponse, NameIdFormat, ResponseSpec, SamlError, SignatureAlgorithm, Signing,
    ATTRNAME_BASIC, ATTRNAME_UNSPECIFIED, ATTRNAME_URI, STATUS_SUCCESS,
};

use crate::endpoints::show_login;
use crate::endpoints::Params;
use crate::pages;
use crate::realm::{Realm, SamlClient, User};
use crate::state::{now, random_token, AuthRequest, PendingLogin, ResponseMode, Shared, Stage};

/// A way the emulator's SAML Responses misbehave, until [`crate::Emulator::clear_saml_faults`].
/// As JSON (the admin API): `{"fault": "xsw_evil_before"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SamlFault {
    /// Neither the assertion nor the Response is signed.
    Unsigned,
    /// Signed by another key (its certificate in KeyInfo), not the one in the metadata.
    OtherKey,
    /// Signed with RSA-SHA1 and a SHA-1 digest.
    Sha1,
    /// XSW3: an unsigned assertion for `admin` before the signed one.
    XswEvilBefore,
    /// XSW4: an unsigned assertion for `admin` wrapping the signed one.
    XswOriginalInsideEvil,
    /// XSW7: the signed assertion moved into `samlp:Extensions`, one for `admin` in its place.
    XswOriginalInExtensions,
    /// XSW8: the signed assertion inside the `ds:Object` of a signature on one for `admin`.
    XswOriginalInSignatureObject,
    /// An assertion for `admin` with the signed one's ID, before it.
    XswSameIdBefore,
    /// A comment inside the NameID (`alice@example<!---->.com`), which the signature does not
    /// cover: an SP that reads only the first text node sees a shorter name.
    NameIdComment,
    /// The Audience is another SP (`https://another-sp.example`).
    WrongAudience,
    /// The bearer confirmation's Recipient is another ACS.
    WrongRecipient,
    /// The Response's Destination is another ACS.
    WrongDestination,
    /// Issued ten minutes ago, expired five minutes ago.
    Expired,
    /// NotBefore ten minutes in the future.
    NotYetValid,
    /// InResponseTo names another request.
    WrongInResponseTo,
    /// Every Response after the first is the first one again, assertion ID and all.
    Replay,
    /// The assertion is an EncryptedAssertion for a key that is not the SP's.
    EncryptedAssertion,
}

/// The SAML half of the emulator's state: the faults and, for [`SamlFault::Replay`], the first
/// Response sent while it is active.
#[derive(Default)]
pub(crate) struct SamlState {
    faults: Mutex<Vec<SamlFault>>,
    replayed: Mutex<Option<String>>,
}

impl SamlState {
    pub fn inject(&self, fault: SamlFault) {
        let mut faults = lock(&self.faults);
        if !faults.contains(&fault) {
            faults.push(fault);
        }
    }

    pub fn clear(&self) {
        lock(&self.faults).clear();
        *lock(&self.replayed) = None;
    }

    fn faults(&self) -> Vec<SamlFault> {
        lock(&self.faults).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A key and a self-signed certificate for it, named after `name`.
fn credential(key_pem: &str, name: &str) -> Credential {
    // Compiled-in pool keys: failing here is a build defect, caught by every SAML test.
    let key_pair = rcgen::KeyPair::from_pem(key_pem).expect("pool keys are RSA PKCS#8");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("no names");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let certificate = params
        .self_signed(&key_pair)
        .expect("RSA self-signing works");
    Credential::from_pem(key_pem, &certificate.pem()).expect("libxmlsec1 reads pool keys")
}

/// The IdP's signing credential, and the one [`SamlFault::OtherKey`] signs with.
static CREDENTIALS: LazyLock<(Credential, Credential)> = LazyLock::new(|| {
    let (signing, other) = crate::keys::saml_key_pems();
    (
        credential(signing, "ssoproof emulator"),
        credential(other, "not the IdP"),
    )
});

/// The certificate the metadata publishes (PEM).
pub(crate) fn certificate_pem() -> String {
    CREDENTIALS.0.certificate().to_pem()
}

/// One SAML IdP the emulator serves: the realm's (Keycloak: one for every SAML client) or a
/// persona's (Okta: one per SAML app; Entra ID: one per tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SamlIdp {
    /// The Issuer of its Responses and the metadata's entityID.
    pub entity_id: String,
    /// Where its metadata is served (absolute).
    pub metadata_url: String,
    /// Its SingleSignOnService (and single logout) URL (absolute).
    pub sso_url: String,
    /// The one SP (entity ID) its endpoints serve, as an Okta app's do; `None`: any SAML client.
    pub sp: Option<String>,
}

/// What a SAML login carries through the login form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SamlLogin {
    /// The IdP whose SSO URL the login started at: it issues the Response.
    pub idp: Arc<SamlIdp>,
    /// The AuthnRequest's ID (`None` for IdP-initiated login).
    pub request_id: Option<String>,
    /// The NameIDPolicy format the AuthnRequest asked for.
    pub name_id_format: Option<String>,
}

/// The Keycloak realm's SAML endpoints under `<base>/protocol/saml` (`issuer` is `<base>` as a
/// URL): IdP-initiated login besides the shared ones.
pub(crate) fn routes(base: &str, issuer: &str) -> Router<Arc<Shared>> {
    let saml = format!("{base}/protocol/saml");
    idp_routes(&format!("{saml}/descriptor"), &saml, keycloak_idp(issuer))
        .route(&format!("{saml}/clients/{{name}}"), get(idp_initiated))
}

fn keycloak_idp(issuer: &str) -> SamlIdp {
    SamlIdp {
        entity_id: issuer.to_string(),
        metadata_url: format!("{issuer}/protocol/saml/descriptor"),
        sso_url: format!("{issuer}/protocol/saml"),
        sp: None,
    }
}

/// A persona's SAML IdPs, at the vendor's paths (their URLs on `base_url`).
pub(crate) fn persona_routes(base_url: &str, idps: Vec<SamlIdp>) -> Router<Arc<Shared>> {
    let mut router = Router::new();
    for idp in idps {
        let path = |url: &str| url.strip_prefix(base_url).unwrap_or(url).to_string();
        let (metadata, sso) = (path(&idp.metadata_url), path(&idp.sso_url));
        router = router.merge(idp_routes(&metadata, &sso, idp));
    }
    router
}

/// Metadata at `metadata`, SSO and single logout on both bindings at `sso`.
fn idp_routes(metadata: &str, sso: &str, idp: SamlIdp) -> Router<Arc<Shared>> {
    let idp = Arc::new(idp);
    let (for_get, for_post, for_metadata) = (idp.clone(), idp.clone(), idp);
    Router::new()
        .route(
            sso,
            get(
                move |State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery| async move {
                    redirect_binding(&shared, &for_get, query)
                },
            )
            .post(
                move |State(shared): State<Arc<Shared>>, body: Bytes| async move {
                    post_binding(&shared, &for_post, &body)
                },
            ),
        )
        .route(
            metadata,
            get(move || async move { descriptor(&for_metadata) }),
        )
}

fn descriptor(idp: &SamlIdp) -> Response {
    let xml = IdpDescriptor {
        entity_id: &idp.entity_id,
        sso_url: &idp.sso_url,
        slo_url: &idp.sso_url,
        certificate: CREDENTIALS.0.certificate(),
        want_authn_requests_signed: false,
    }
    .metadata();
    xml_response(xml)
}

fn xml_response(xml: String) -> Response {
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml;charset=utf-8"),
    );
    response
}

/// Keycloak's answer to a SAML request it cannot serve: an error page, never a redirect to an
/// ACS that is not known to be the SP's.
fn invalid(realm: &Realm, detail: &str) -> Response {
    pages::error(
        StatusCode::BAD_REQUEST,
        realm.title(),
        &format!("Invalid Request: {detail}"),
    )
}

fn redirect_binding(shared: &Shared, idp: &Arc<SamlIdp>, query: Option<String>) -> Response {
    let params = Params::query(query.as_deref());
    let decoded = params
        .get("SAMLRequest")
        .map(|value| binding::redirect_decode("SAMLRequest", value));
    handle(
        shared,
        idp,
        decoded,
        params.get("RelayState"),
        "HTTP-Redirect",
    )
}

fn post_binding(shared: &Shared, idp: &Arc<SamlIdp>, body: &[u8]) -> Response {
    let params = Params::parse(body);
    let decoded = params
        .get("SAMLRequest")
        .map(|value| binding::post_decode("SAMLRequest", value));
    handle(shared, idp, decoded, params.get("RelayState"), "HTTP-POST")
}

fn handle(
    shared: &Shared,
    idp: &Arc<SamlIdp>,
    decoded: Option<Result<String, SamlError>>,
    relay_state: Option<&str>,
    binding_name: &str,
) -> Response {
    let realm = shared.realm();
    let xml = match decoded {
        None => {
            return invalid(
                &realm,
                &format!("no SAMLRequest on the {binding_name} binding"),
            )
        }
        Some(Err(error)) => return invalid(&realm, &format!("{} ({})", error, error.code())),
        Some(Ok(xml)) => xml,
    };
    match AuthnRequest::parse(&xml) {
        Ok(request) => authn_request(shared, idp, &realm, &request, relay_state),
        Err(SamlError::Structure { .. }) => match LogoutRequest::parse(&xml) {
            Ok(request) => logout(idp, &realm, &request, relay_state),
            Err(error) => invalid(
                &realm,
                &format!(
                    "the SAMLRequest is neither an AuthnRequest nor a LogoutRequest: {error} ({})",
                    error.code()
                ),
            ),
        },
        Err(error) => invalid(&realm, &format!("{error} ({})", error.code())),
    }
}

/// The SP's client, refused when unknown, disabled, or not the one `idp` serves.
fn client<'r>(
    realm: &'r Realm,
    idp: &SamlIdp,
    entity_id: &str,
) -> Result<&'r SamlClient, Response> {
    if let Some(sp) = idp.sp.as_deref().filter(|sp| *sp != entity_id) {
        return Err(invalid(
            realm,
            &format!("this SSO URL serves the SP {sp:?}, not {entity_id:?}"),
        ));
    }
    match realm.saml_client(entity_id) {
        Some(client) if client.enabled => Ok(client),
        Some(_) => Err(invalid(
            realm,
            &format!("the SAML client {entity_id:?} is disabled"),
        )),
        None => Err(invalid(
            realm,
            &format!("no SAML client {entity_id:?} in the realm"),
        )),
    }
}

fn authn_request(
    shared: &Shared,
    idp: &Arc<SamlIdp>,
    realm: &Realm,
    request: &AuthnRequest,
    relay_state: Option<&str>,
) -> Response {
    let client = match client(realm, idp, &request.issuer) {
        Ok(client) => client,
        Err(page) => return page,
    };
    let sso = &idp.sso_url;
    if request.destination.as_deref().is_some_and(|d| d != sso) {
        return invalid(
            realm,
            &format!("the AuthnRequest's Destination is not {sso}"),
        );
    }
    let acs = match request.acs_url.as_deref() {
        Some(url)
            if crate::redirect::matches(&client.redirect_uris, url)
                || client.acs_post() == Some(url) =>
        {
            url
        }
        Some(url) => {
            return invalid(
                realm,
                &format!("the ACS URL {url:?} is not a redirect URI of the SAML client"),
            )
        }
        None => match client.acs_post() {
            Some(url) => url,
            None => return invalid(realm, "no ACS URL in the request and none configured"),
        },
    };
    start_login(
        shared,
        realm,
        client,
        acs,
        relay_state,
        SamlLogin {
            idp: idp.clone(),
            request_id: Some(request.id.clone()),
            name_id_format: request.name_id_format.clone(),
        },
    )
}

fn start_login(
    shared: &Shared,
    realm: &Realm,
    client: &SamlClient,
    acs: &str,
    relay_state: Option<&str>,
    saml: SamlLogin,
) -> Response {
    let login = PendingLogin {
        request: AuthRequest {
            client_id: client.client_id.clone(),
            redirect_uri: acs.to_string(),
            response_mode: ResponseMode::FormPost,
            state: relay_state.map(str::to_string),
            nonce: None,
            scopes: Vec::new(),
            code_challenge: None,
            server: 0,
            params: Default::default(),
            saml: Some(saml),
        },
        session_id: random_token(18),
        tab_id: random_token(8),
        created: now(),
        stage: Stage::Credentials,
    };
    // A persona signs in on its own login page; a Keycloak realm on Keycloak's form.
    if realm.persona.is_some() {
        crate::endpoints::show_persona_login(shared, realm, login, None)
    } else {
        show_login(shared, realm, login, "", None)
    }
}

/// `GET /protocol/saml/clients/<name>`: IdP-initiated login for the client whose
/// `saml_idp_initiated_sso_url_name` is `name`, to its POST ACS.
async fn idp_initiated(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    let realm = shared.realm();
    let idp = Arc::new(keycloak_idp(&shared.issuer));
    let client = realm
        .saml_clients
        .iter()
        .find(|c| c.attribute("saml_idp_initiated_sso_url_name") == Some(name.as_str()));
    let Some(client) = client.filter(|c| c.enabled) else {
        return invalid(
            &realm,
            &format!("no SAML client has the IdP-initiated URL name {name:?}"),
        );
    };
    let Some(acs) = client.acs_post() else {
        return invalid(
            &realm,
            "the client has no saml_assertion_consumer_url_post for IdP-initiated login",
        );
    };
    let relay = client.attribute("saml_idp_initiated_sso_relay_state");
    start_login(
        &shared,
        &realm,
        client,
        acs,
        relay,
        SamlLogin {
            idp,
            request_id: None,
            name_id_format: None,
        },
    )
}

fn logout(
    idp: &SamlIdp,
    realm: &Realm,
    request: &LogoutRequest,
    relay_state: Option<&str>,
) -> Response {
    let client = match client(realm, idp, &request.issuer) {
        Ok(client) => client,
        Err(page) => return page,
    };
    let answer = |destination: &str| LogoutResponse {
        id: new_id(),
        issuer: idp.entity_id.clone(),
        destination: Some(destination.to_string()),
        in_response_to: Some(request.id.clone()),
        status: STATUS_SUCCESS.into(),
    };
    let at = time::OffsetDateTime::now_utc();
    if let Some(url) = client.attribute("saml_single_logout_service_url_post") {
        let xml = answer(url).to_xml(at);
        return html(binding::post_form(url, "SAMLResponse", &xml, relay_state));
    }
    if let Some(url) = client.attribute("saml_single_logout_service_url_redirect") {
        let xml = answer(url).to_xml(at);
        let Ok(mut target) = url::Url::parse(url) else {
            return invalid(
                realm,
                &format!("the client's single logout URL {url:?} is not a URL"),
            );
        };
        target
            .query_pairs_mut()
            .append_pair("SAMLResponse", &binding::redirect_encode(&xml));
        if let Some(relay) = relay_state {
            target.query_pairs_mut().append_pair("RelayState", relay);
        }
        return Redirect::to(target.as_str()).into_response();
    }
    invalid(realm, "the client has no single logout service URL")
}

fn html(page: String) -> Response {
    let mut response = (StatusCode::OK, page).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, must-revalidate, max-age=0"),
    );
    response
}

/// The NameID for `user` at `client`: Keycloak's `saml_name_id_format` unless the request asked
/// for another format and the client does not force its own. A user without an e-mail address
/// has no email NameID: Keycloak refuses the login then too.
fn name_id(
    client: &SamlClient,
    login: &SamlLogin,
    user: &User,
) -> Result<(String, NameIdFormat), String> {
    let configured = match client.attribute("saml_name_id_format") {
        Some("email") => NameIdFormat::Email,
        Some("transient") => NameIdFormat::Transient,
        Some("persistent") => NameIdFormat::Persistent,
        _ => NameIdFormat::Unspecified,
    };
    // A persona's NameID value comes from a user property of the vendor's choosing.
    let source = client.attribute("persona.name_id.source");
    let requested = login
        .name_id_format
        .as_deref()
        .and_then(NameIdFormat::from_uri);
    let format = match requested {
        Some(format) if client.attribute("saml.force.name.id.format") != Some("true") => format,
        _ => configured,
    };
    let value = match (format, source) {
        (NameIdFormat::Transient | NameIdFormat::Persistent, _) | (_, None) => None,
        (_, Some("username")) => Some(user.username.clone()),
        (_, Some("id")) => Some(user.id.clone()),
        (_, Some(_)) => Some(email(user)?),
    };
    let value = match (format, value) {
        (_, Some(value)) => value,
        (NameIdFormat::Email, None) => email(user)?,
        (NameIdFormat::Unspecified, None) => user.username.clone(),
        (NameIdFormat::Transient, None) => format!("G-{}", uuid::Uuid::new_v4()),
        // Keycloak stores a random `G-<uuid>` per user and client; a name-based UUID is as stable.
        (NameIdFormat::Persistent, None) => format!(
            "G-{}",
            uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!("{}|{}", user.id, client.client_id).as_bytes()
            )
        ),
    };
    Ok((value, format))
}

fn email(user: &User) -> Result<String, String> {
    user.email.clone().ok_or_else(|| {
        format!(
            "user {:?} has no e-mail address for the email NameID format",
            user.username
        )
    })
}

/// Keycloak's `attribute.nameformat` values.
fn name_format(mapper: &crate::realm::ProtocolMapper) -> String {
    match mapper.config("attribute.nameformat") {
        Some("URI Reference") => ATTRNAME_URI,
        Some("Unspecified") => ATTRNAME_UNSPECIFIED,
        _ => ATTRNAME_BASIC,
    }
    .to_string()
}

/// The AttributeStatement for `user`: the persona's attribute statements or claims, or the
/// Keycloak client's mappers.
fn attributes(realm: &Realm, client: &SamlClient, user: &User) -> Vec<Attribute> {
    match &realm.persona {
        Some(persona) => persona.dialect().saml_attributes(client, user),
        None => mapper_attributes(client, user),
    }
}

/// The AttributeStatement the Keycloak client's mappers make for `user`.
fn mapper_attributes(client: &SamlClient, user: &User) -> Vec<Attribute> {
    let mut out = Vec::new();
    for mapper in &client.protocol_mappers {
        let name = mapper
            .config("attribute.name")
            .unwrap_or(&mapper.name)
            .to_string();
        let attribute = |values: Vec<String>| Attribute {
            name: name.clone(),
            name_format: Some(name_format(mapper)),
            friendly_name: mapper.config("friendly.name").map(str::to_string),
            values,
        };
        match mapper.protocol_mapper.as_str() {
            "saml-user-property-mapper" => {
                let value = match mapper.config("user.attribute") {
                    Some("email") => user.email.clone(),
                    Some("firstName") => user.first_name.clone(),
                    Some("lastName") => user.last_name.clone(),
                    Some("username") => Some(user.username.clone()),
                    _ => None,
                };
                out.extend(value.map(|v| attribute(vec![v])));
            }
            "saml-user-attribute-mapper" => {
                let values = mapper
                    .config("user.attribute")
                    .and_then(|a| user.attributes.get(a))
                    .cloned()
                    .unwrap_or_default();
                if !values.is_empty() {
                    out.push(attribute(values));
                }
            }
            "saml-group-membership-mapper" => {
                // Keycloak's defaults: full paths, and one Attribute per group unless `single`.
                let full_path = mapper.config("full.path") != Some("false");
                let groups: Vec<String> = user
                    .groups
                    .iter()
                    .map(|g| {
                        if full_path {
                            g.clone()
                        } else {
                            g.rsplit('/').next().unwrap_or(g).to_string()
                        }
                    })
                    .collect();
                if groups.is_empty() {
                    continue;
                }
                if mapper.is_true("single") {
                    out.push(attribute(groups));
                } else {
                    out.extend(groups.into_iter().map(|g| attribute(vec![g])));
                }
            }
            _ => {}
        }
    }
    out
}

/// The Response for `user`, with the active faults applied, posted to the ACS.
pub(crate) fn finish(
    shared: &Shared,
    realm: &Realm,
    login: &PendingLogin,
    user: &User,
) -> Response {
    let request = &login.request;
    let Some(saml) = &request.saml else {
        return invalid(realm, "not a SAML login");
    };
    let Some(client) = realm.saml_client(&request.client_id) else {
        return invalid(realm, "the SAML client is gone");
    };
    let name_id = match name_id(client, saml, user) {
        Ok(name_id) => name_id,
        Err(message) => return invalid(realm, &message),
    };
    let faults = shared.saml.faults();
    let xml = match response_xml(
        shared,
        realm,
        client,
        saml,
        user,
        name_id,
        &request.redirect_uri,
        &faults,
    ) {
        Ok(xml) => xml,
        Err(error) => return invalid(realm, &format!("{error} ({})", error.code())),
    };
    html(binding::post_form(
        &request.redirect_uri,
        "SAMLResponse",
        &xml,
        request.state.as_deref(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn response_xml(
    shared: &Shared,
    realm: &Realm,
    client: &SamlClient,
    saml: &SamlLogin,
    user: &User,
    (name_id, format): (String, NameIdFormat),
    acs: &str,
    faults: &[SamlFault],
) -> Result<String, SamlError> {
    if faults.contains(&SamlFault::Replay) {
        if let Some(first) = lock(&shared.saml.replayed).clone() {
            return Ok(first);
        }
    }
    let now = time::OffsetDateTime::from_unix_timestamp(shared.clock())
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let mut spec = ResponseSpec::new(&saml.idp.entity_id, acs, &client.client_id, &name_id, now);
    spec.name_id_format = format;
    spec.in_response_to = saml.request_id.clone();
    spec.attributes = attributes(realm, client, user);
    spec.signing = match (client.signs_documents(), client.signs_assertions()) {
        (true, true) => Signing::Both,
        (true, false) => Signing::Response,
        (false, true) => Signing::Assertion,
        (false, false) => Signing::Unsigned,
    };
    if client.attribute("saml.signature.algorithm") == Some("RSA_SHA1") {
        spec.algorithm = SignatureAlgorithm::RsaSha1;
    }
    let mut credential = &CREDENTIALS.0;
    for fault in faults {
        match fault {
            SamlFault::Unsigned => spec.signing = Signing::Unsigned,
            SamlFault::OtherKey => credential = &CREDENTIALS.1,
            SamlFault::Sha1 => spec.algorithm = SignatureAlgorithm::RsaSha1,
            SamlFault::WrongAudience => spec.audience = "https://another-sp.example".into(),
            SamlFault::WrongRecipient => spec.recipient = "https://another-sp.example/acs".into(),
            SamlFault::WrongDestination => {
                spec.destination = "https://another-sp.example/acs".into()
            }
            SamlFault::Expired => {
                spec.issue_instant = now - time::Duration::minutes(10);
                spec.not_before = now - time::Duration::minutes(11);
                spec.not_on_or_after = now - time::Duration::minutes(5);
            }
            SamlFault::NotYetValid => spec.not_before = now + time::Duration::minutes(10),
            SamlFault::WrongInResponseTo => spec.in_response_to = Some(new_id()),
            _ => {}
        }
    }
    // The wrapping attacks need a signed assertion to wrap.
    let wraps = faults.iter().any(|f| xsw(*f).is_some());
    if wraps && spec.signing == Signing::Response {
        spec.signing = Signing::Assertion;
    }
    let mut xml = spec.build(credential)?;
    for fault in faults {
        if let Some(variant) = xsw(*fault) {
            xml = attacks::wrap(&xml, variant, "admin")?;
        }
        match fault {
            SamlFault::NameIdComment => xml = attacks::comment_in_name_id(&xml)?,
            SamlFault::EncryptedAssertion => {
                xml = attacks::encrypted_for_another_key(&xml, CREDENTIALS.1.certificate())?;
            }
            _ => {}
        }
    }
    if faults.contains(&SamlFault::Replay) {
        *lock(&shared.saml.replayed) = Some(xml.clone());
    }
    Ok(xml)
}

fn xsw(fault: SamlFault) -> Option<Xsw> {
    Some(match fault {
        SamlFault::XswEvilBefore => Xsw::EvilBefore,
        SamlFault::XswOriginalInsideEvil => Xsw::OriginalInsideEvil,
        SamlFault::XswOriginalInExtensions => Xsw::OriginalInExtensions,
        SamlFault::XswOriginalInSignatureObject => Xsw::OriginalInSignatureObject,
        SamlFault::XswSameIdBefore => Xsw::SameIdBefore,
        _ => return None,
    })
}
