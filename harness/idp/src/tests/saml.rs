//! SAML at Keycloak's paths: metadata, SP-initiated login on both bindings, IdP-initiated
//! login, single logout and every SAML fault, checked by ssoproof-saml's strict SP.

use reqwest::StatusCode;
use ssoproof_saml::{
    binding, new_id, validate_response, Assertion, AuthnRequest, Certificate, Expected,
    LogoutRequest, LogoutResponse, MemoryReplayCache, SamlError, BINDING_POST, STATUS_SUCCESS,
};

use super::*;
use crate::SamlFault;

const SP: &str = "https://sp.acme.test/saml";
const ACS: &str = "http://127.0.0.1/saml/acs";

fn authn_request(emulator: &Emulator) -> AuthnRequest {
    AuthnRequest {
        id: new_id(),
        issuer: SP.into(),
        destination: Some(format!("{}/protocol/saml", emulator.issuer())),
        acs_url: Some(ACS.into()),
        protocol_binding: Some(BINDING_POST.into()),
        name_id_format: None,
        force_authn: false,
    }
}

/// The hidden field `name` of the auto-submitting form on `page`, and the form's action.
fn posted(page: &str, name: &str) -> (String, String) {
    let document = Html::parse_document(page);
    let form = document
        .select(&Selector::parse("form").unwrap())
        .next()
        .expect("a form");
    let field = document
        .select(&Selector::parse(&format!("input[name={name}]")).unwrap())
        .next()
        .unwrap_or_else(|| panic!("no {name} in {page}"));
    (
        form.value().attr("action").unwrap().to_string(),
        field.value().attr("value").unwrap().to_string(),
    )
}

/// Sends `request` on the HTTP-Redirect binding, logs in as `username`, and returns the
/// Response XML the browser would post to the request's ACS (checking it posts there, with the
/// RelayState).
async fn login(emulator: &Emulator, request: &AuthnRequest, username: &str) -> String {
    let http = http();
    let page = http
        .get(format!("{}/protocol/saml", emulator.issuer()))
        .query(&[
            (
                "SAMLRequest",
                binding::redirect_encode(&request.to_xml(time::OffsetDateTime::now_utc())),
            ),
            ("RelayState", "relay-1".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let acs = request.acs_url.as_deref().unwrap_or(ACS);
    submit_to(
        emulator,
        &http,
        &page.text().await.unwrap(),
        username,
        Some("relay-1"),
        acs,
    )
    .await
}

async fn submit(
    emulator: &Emulator,
    http: &reqwest::Client,
    page: &str,
    username: &str,
    relay: Option<&str>,
) -> String {
    submit_to(emulator, http, page, username, relay, ACS).await
}

async fn submit_to(
    emulator: &Emulator,
    http: &reqwest::Client,
    page: &str,
    username: &str,
    relay: Option<&str>,
    acs: &str,
) -> String {
    let action = form_action(page, "kc-form-login");
    let answer = http
        .post(format!("{}{action}", emulator.base_url()))
        .form(&[
            ("username", username),
            ("password", &format!("{username}-password")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let page = answer.text().await.unwrap();
    let (action, response) = posted(&page, "SAMLResponse");
    assert_eq!(action, acs);
    match relay {
        Some(relay) => assert_eq!(posted(&page, "RelayState").1, relay),
        None => assert!(!page.contains("RelayState"), "{page}"),
    }
    binding::post_decode("SAMLResponse", &response).unwrap()
}

fn validate(
    emulator: &Emulator,
    xml: &str,
    request_id: Option<&str>,
) -> Result<Assertion, SamlError> {
    let certificates = [Certificate::from_pem(&emulator.saml_certificate_pem()).unwrap()];
    let expected = Expected {
        idp_certificates: &certificates,
        idp_entity_id: Some(&emulator.issuer()),
        sp_entity_id: SP,
        acs_url: ACS,
        request_id,
        clock_skew: time::Duration::seconds(30),
        now: time::OffsetDateTime::now_utc(),
    };
    validate_response(xml, &expected, &MemoryReplayCache::default())
}

#[tokio::test]
async fn the_descriptor_publishes_the_signing_certificate_and_endpoints() {
    let emulator = start().await;
    let response = http()
        .get(format!("{}/protocol/saml/descriptor", emulator.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let xml = response.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.root_element().attribute("entityID"),
        Some(emulator.issuer().as_str())
    );
    let cert = doc
        .descendants()
        .find(|n| n.has_tag_name("X509Certificate"))
        .unwrap();
    assert_eq!(
        Certificate::from_base64(cert.text().unwrap()).unwrap(),
        Certificate::from_pem(&emulator.saml_certificate_pem()).unwrap()
    );
    let sso = format!("{}/protocol/saml", emulator.issuer());
    assert!(doc
        .descendants()
        .any(|n| n.has_tag_name("SingleSignOnService")
            && n.attribute("Location") == Some(sso.as_str())));
}

#[tokio::test]
async fn sp_initiated_login_on_the_redirect_binding_signs_both_and_maps_attributes() {
    let emulator = start().await;
    let request = authn_request(&emulator);
    let xml = login(&emulator, &request, "carol").await;
    let assertion = validate(&emulator, &xml, Some(&request.id)).unwrap();
    // The fixture client: email NameID, assertion and document signed, groups in one attribute.
    assert_eq!(assertion.name_id, "carol@example.com");
    assert!(assertion.assertion_signed && assertion.response_signed);
    assert_eq!(assertion.attribute("email").unwrap(), ["carol@example.com"]);
    assert_eq!(
        assertion.attribute("groups").unwrap(),
        ["/acme/admins", "/acme/engineers"]
    );
}

#[tokio::test]
async fn the_post_binding_and_a_requested_name_id_format_are_honoured() {
    let emulator = start().await;
    let mut request = authn_request(&emulator);
    request.name_id_format = Some(ssoproof_saml::NameIdFormat::Persistent.uri().into());
    let http = http();
    let page = http
        .post(format!("{}/protocol/saml", emulator.issuer()))
        .form(&[(
            "SAMLRequest",
            binding::post_encode(&request.to_xml(time::OffsetDateTime::now_utc())),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let xml = submit(&emulator, &http, &page.text().await.unwrap(), "alice", None).await;
    let first = validate(&emulator, &xml, Some(&request.id)).unwrap();
    assert!(first.name_id.starts_with("G-"), "{}", first.name_id);
    assert_eq!(
        first.name_id_format.as_deref(),
        Some(ssoproof_saml::NameIdFormat::Persistent.uri())
    );
    // Persistent: the same for the next login.
    let again = login(&emulator, &request, "alice").await;
    assert_eq!(
        validate(&emulator, &again, Some(&request.id))
            .unwrap()
            .name_id,
        first.name_id
    );
}

#[tokio::test]
async fn idp_initiated_login_answers_unsolicited() {
    let emulator = start().await;
    let http = http();
    let page = http
        .get(format!(
            "{}/protocol/saml/clients/acme-sp",
            emulator.issuer()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let xml = submit(&emulator, &http, &page.text().await.unwrap(), "bob", None).await;
    let assertion = validate(&emulator, &xml, None).unwrap();
    assert_eq!(assertion.name_id, "bob@example.com");
    assert_eq!(
        validate(&emulator, &xml, Some("_sent")).unwrap_err().code(),
        "saml/in-response-to"
    );
}

#[tokio::test]
async fn single_logout_answers_success_to_the_sp() {
    let emulator = start().await;
    let request = LogoutRequest {
        id: new_id(),
        issuer: SP.into(),
        destination: Some(format!("{}/protocol/saml", emulator.issuer())),
        name_id: "alice@example.com".into(),
        name_id_format: None,
        session_indexes: vec!["_s1".into()],
    };
    let page = http()
        .get(format!("{}/protocol/saml", emulator.issuer()))
        .query(&[(
            "SAMLRequest",
            binding::redirect_encode(&request.to_xml(time::OffsetDateTime::now_utc())),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let (action, value) = posted(&page.text().await.unwrap(), "SAMLResponse");
    assert_eq!(action, "http://127.0.0.1/saml/slo");
    let answer =
        LogoutResponse::parse(&binding::post_decode("SAMLResponse", &value).unwrap()).unwrap();
    assert_eq!(answer.in_response_to.as_deref(), Some(request.id.as_str()));
    assert_eq!(answer.status, STATUS_SUCCESS);
    assert_eq!(answer.issuer, emulator.issuer());
}

#[tokio::test]
async fn bad_requests_get_an_error_page_naming_the_problem() {
    let emulator = start().await;
    let sso = format!("{}/protocol/saml", emulator.issuer());
    let mut unknown = authn_request(&emulator);
    unknown.issuer = "https://unknown-sp.test".into();
    let mut foreign_acs = authn_request(&emulator);
    foreign_acs.acs_url = Some("https://evil.test/acs".into());
    let now = time::OffsetDateTime::now_utc();
    let bomb = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><r>&b;</r>";
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![], "no SAMLRequest"),
        (vec![("SAMLRequest", "%%%".into())], "saml/binding"),
        (
            vec![("SAMLRequest", binding::redirect_encode("<unclosed"))],
            "saml/malformed-xml",
        ),
        (
            vec![("SAMLRequest", binding::redirect_encode(bomb))],
            "saml/dtd",
        ),
        (
            vec![(
                "SAMLRequest",
                binding::redirect_encode(&unknown.to_xml(now)),
            )],
            "no SAML client",
        ),
        (
            vec![(
                "SAMLRequest",
                binding::redirect_encode(&foreign_acs.to_xml(now)),
            )],
            "is not a redirect URI of the SAML client",
        ),
        (
            vec![("SAMLRequest", binding::redirect_encode("<other/>"))],
            "neither an AuthnRequest nor a LogoutRequest",
        ),
    ];
    for (query, message) in cases {
        let page = http().get(&sso).query(&query).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{message}");
        let text = page.text().await.unwrap();
        assert!(text.contains(message), "{message}: {text}");
    }
    // An oversized POST is refused with a status, never read whole.
    let huge = "A".repeat(4 * 1024 * 1024);
    let answer = http()
        .post(&sso)
        .form(&[("SAMLRequest", huge)])
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_client_error(), "{}", answer.status());
}

#[tokio::test]
async fn every_saml_fault_is_refused_by_the_strict_sp() {
    let emulator = start().await;
    let cases = [
        (SamlFault::Unsigned, "saml/unsigned"),
        (SamlFault::OtherKey, "saml/untrusted-certificate"),
        (SamlFault::Sha1, "saml/weak-algorithm"),
        (SamlFault::XswEvilBefore, "saml/assertion-count"),
        (SamlFault::XswOriginalInsideEvil, "saml/assertion-count"),
        (SamlFault::XswOriginalInExtensions, "saml/assertion-count"),
        (
            SamlFault::XswOriginalInSignatureObject,
            "saml/assertion-count",
        ),
        (SamlFault::XswSameIdBefore, "saml/assertion-count"),
        (SamlFault::NameIdComment, "saml/comment"),
        (SamlFault::WrongAudience, "saml/audience"),
        (SamlFault::WrongRecipient, "saml/recipient"),
        (SamlFault::WrongDestination, "saml/destination"),
        (SamlFault::Expired, "saml/expired"),
        (SamlFault::NotYetValid, "saml/not-yet-valid"),
        (SamlFault::WrongInResponseTo, "saml/in-response-to"),
        (SamlFault::EncryptedAssertion, "saml/encrypted-assertion"),
    ];
    for (fault, code) in cases {
        emulator.inject_saml(fault);
        let request = authn_request(&emulator);
        let xml = login(&emulator, &request, "alice").await;
        let refused = validate(&emulator, &xml, Some(&request.id));
        assert_eq!(
            refused.as_ref().map_err(SamlError::code).err(),
            Some(code),
            "{fault:?}: {refused:?}"
        );
        emulator.clear_saml_faults();
    }
    // After clearing, the same login passes: each refusal above was the fault's doing.
    let request = authn_request(&emulator);
    validate(
        &emulator,
        &login(&emulator, &request, "alice").await,
        Some(&request.id),
    )
    .unwrap();
}

#[tokio::test]
async fn the_replay_fault_resends_the_first_response() {
    let emulator = start().await;
    emulator.inject_saml(SamlFault::Replay);
    let request = authn_request(&emulator);
    let first = login(&emulator, &request, "alice").await;
    let second = login(&emulator, &request, "bob").await;
    assert_eq!(first, second);
    let certificates = [Certificate::from_pem(&emulator.saml_certificate_pem()).unwrap()];
    let expected = Expected {
        idp_certificates: &certificates,
        idp_entity_id: Some(&emulator.issuer()),
        sp_entity_id: SP,
        acs_url: ACS,
        request_id: Some(&request.id),
        clock_skew: time::Duration::seconds(30),
        now: time::OffsetDateTime::now_utc(),
    };
    let cache = MemoryReplayCache::default();
    validate_response(&first, &expected, &cache).unwrap();
    assert_eq!(
        validate_response(&second, &expected, &cache)
            .unwrap_err()
            .code(),
        "saml/replay"
    );
}

#[tokio::test]
async fn saml_faults_are_injected_and_cleared_over_the_admin_api() {
    let emulator = start().await;
    let faults = format!("{}/_ssoproof/saml/faults", emulator.base_url());
    let injected = http()
        .post(&faults)
        .json(&serde_json::json!({"fault": "wrong_audience"}))
        .send()
        .await
        .unwrap();
    assert_eq!(injected.status(), StatusCode::NO_CONTENT);
    let request = authn_request(&emulator);
    let xml = login(&emulator, &request, "alice").await;
    assert_eq!(
        validate(&emulator, &xml, Some(&request.id))
            .unwrap_err()
            .code(),
        "saml/audience"
    );
    let unknown = http()
        .post(&faults)
        .json(&serde_json::json!({"fault": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        http().delete(&faults).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let xml = login(&emulator, &request, "alice").await;
    validate(&emulator, &xml, Some(&request.id)).unwrap();
}

#[tokio::test]
async fn xmlsec1_verifies_the_emulators_signatures() {
    if !ssoproof_saml::xmlsec1::available() {
        println!("SKIPPED: no `xmlsec1` on PATH (apt-get install xmlsec1; .ci/run does)");
        return;
    }
    let emulator = start().await;
    let request = authn_request(&emulator);
    let xml = login(&emulator, &request, "alice").await;
    let certificate = Certificate::from_pem(&emulator.saml_certificate_pem()).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    for parent in ["Assertion", "Response"] {
        assert!(
            ssoproof_saml::xmlsec1::verifies(scratch.path(), &xml, parent, &certificate).unwrap(),
            "{parent}"
        );
    }
    // The other-key fault's signature is refused by xmlsec1 too, with the published certificate.
    emulator.inject_saml(SamlFault::OtherKey);
    let xml = login(&emulator, &authn_request(&emulator), "alice").await;
    assert!(
        !ssoproof_saml::xmlsec1::verifies(scratch.path(), &xml, "Response", &certificate).unwrap()
    );
}

#[tokio::test]
async fn a_disabled_user_gets_the_form_again_not_a_response() {
    let emulator = start().await;
    let http = http();
    let request = authn_request(&emulator);
    let page = http
        .get(format!("{}/protocol/saml", emulator.issuer()))
        .query(&[(
            "SAMLRequest",
            binding::redirect_encode(&request.to_xml(time::OffsetDateTime::now_utc())),
        )])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = form_action(&page, "kc-form-login");
    let answer = http
        .post(format!("{}{action}", emulator.base_url()))
        .form(&[("username", "erin"), ("password", "erin-password")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(answer.contains("Account is disabled"), "{answer}");
    assert!(!answer.contains("SAMLResponse"), "{answer}");
}

#[tokio::test]
async fn a_saml_login_page_offers_no_identity_provider() {
    let realm = Realm::from_keycloak_json(
        r#"{"realm": "r", "enabled": true,
            "identityProviders": [{"alias": "google", "providerId": "google", "enabled": true,
                                   "config": {"clientId": "c", "clientSecret": "s"}}],
            "clients": [{"clientId": "app", "secret": "s", "redirectUris": ["http://127.0.0.1/cb"]},
                        {"clientId": "https://sp.test", "protocol": "saml", "redirectUris": ["http://127.0.0.1/acs"],
                         "attributes": {"saml.client.signature": "false"}}]}"#,
        std::path::Path::new("r.json"),
    )
    .unwrap();
    let emulator = Emulator::start(realm, IdpOptions::default()).await.unwrap();
    let request = AuthnRequest {
        issuer: "https://sp.test".into(),
        acs_url: Some("http://127.0.0.1/acs".into()),
        ..authn_request(&emulator)
    };
    let page = http()
        .get(format!("{}/protocol/saml", emulator.issuer()))
        .query(&[(
            "SAMLRequest",
            binding::redirect_encode(&request.to_xml(time::OffsetDateTime::now_utc())),
        )])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("kc-form-login"), "{page}");
    assert!(!page.contains("/broker/google/login"), "{page}");
    // The OIDC login page of the same realm does offer it: the check above can fail.
    let oidc = Login::for_client(&emulator, "app", "http://127.0.0.1/cb")
        .authorize()
        .await
        .text()
        .await
        .unwrap();
    assert!(oidc.contains("/broker/google/login"), "{oidc}");
}

/// A realm with one SAML client per Keycloak setting under test, each ACS its own path.
fn settings_realm() -> Realm {
    let client = |id: &str, attributes: &str, mappers: &str| {
        format!(
            r#"{{"clientId": "{id}", "protocol": "saml", "redirectUris": ["http://127.0.0.1/{id}/acs"],
                "attributes": {{"saml.client.signature": "false"{attributes}}}, "protocolMappers": [{mappers}]}}"#
        )
    };
    let groups = r#"{"name": "g", "protocol": "saml", "protocolMapper": "saml-group-membership-mapper",
                     "config": {"attribute.name": "memberOf", "full.path": "false", "single": "false",
                                "attribute.nameformat": "URI Reference", "friendly.name": "groups"}}"#;
    let clients = [
        client("response-only", "", ""),
        client(
            "assertion-only",
            r#", "saml.server.signature": "false", "saml.assertion.signature": "true""#,
            "",
        ),
        client(
            "transient",
            r#", "saml_name_id_format": "transient", "saml.force.name.id.format": "true""#,
            groups,
        ),
        client("email", r#", "saml_name_id_format": "email""#, ""),
    ]
    .join(",");
    Realm::from_keycloak_json(
        &format!(
            r#"{{"realm": "r", "enabled": true,
                "groups": [{{"name": "acme", "subGroups": [{{"name": "admins"}}, {{"name": "engineers"}}]}}],
                "users": [{{"username": "carol", "enabled": true, "email": "carol@example.com",
                            "credentials": [{{"type": "password", "value": "carol-password"}}],
                            "groups": ["/acme/admins", "/acme/engineers"]}},
                          {{"username": "nomail", "enabled": true,
                            "credentials": [{{"type": "password", "value": "nomail-password"}}]}}],
                "clients": [{clients}]}}"#
        ),
        std::path::Path::new("r.json"),
    )
    .unwrap()
}

#[tokio::test]
async fn keycloaks_client_settings_choose_signatures_name_ids_and_attribute_shapes() {
    let emulator = Emulator::start(settings_realm(), IdpOptions::default())
        .await
        .unwrap();
    let certificates = [Certificate::from_pem(&emulator.saml_certificate_pem()).unwrap()];
    let run = |sp: &'static str, format: Option<&str>| {
        let mut request = authn_request(&emulator);
        request.issuer = sp.into();
        request.acs_url = Some(format!("http://127.0.0.1/{sp}/acs"));
        request.name_id_format = format.map(str::to_string);
        request
    };
    let check = |sp: &str, xml: &str, id: &str| {
        let acs = format!("http://127.0.0.1/{sp}/acs");
        let expected = Expected {
            idp_certificates: &certificates,
            idp_entity_id: None,
            sp_entity_id: sp,
            acs_url: &acs,
            request_id: Some(id),
            clock_skew: time::Duration::seconds(30),
            now: time::OffsetDateTime::now_utc(),
        };
        validate_response(xml, &expected, &MemoryReplayCache::default()).unwrap()
    };
    // Keycloak's defaults: the document signed, not the assertion; NameID `username`.
    let request = run("response-only", None);
    let xml = login(&emulator, &request, "carol").await;
    let assertion = check("response-only", &xml, &request.id);
    assert!(assertion.response_signed && !assertion.assertion_signed);
    assert_eq!(
        (
            assertion.name_id.as_str(),
            assertion.name_id_format.as_deref()
        ),
        (
            "carol",
            Some(ssoproof_saml::NameIdFormat::Unspecified.uri())
        )
    );

    let request = run("assertion-only", None);
    let assertion = check(
        "assertion-only",
        &login(&emulator, &request, "carol").await,
        &request.id,
    );
    assert!(!assertion.response_signed && assertion.assertion_signed);

    // A forced transient NameID wins over the request's persistent one; groups one per
    // attribute, by name, with the URI name format and the friendly name.
    let request = run(
        "transient",
        Some(ssoproof_saml::NameIdFormat::Persistent.uri()),
    );
    let assertion = check(
        "transient",
        &login(&emulator, &request, "carol").await,
        &request.id,
    );
    assert_eq!(
        assertion.name_id_format.as_deref(),
        Some(ssoproof_saml::NameIdFormat::Transient.uri())
    );
    let member_of: Vec<_> = assertion
        .attributes
        .iter()
        .filter(|a| a.name == "memberOf")
        .collect();
    assert_eq!(member_of.len(), 2, "{:?}", assertion.attributes);
    assert_eq!(member_of[0].values, ["admins"]);
    assert_eq!(member_of[1].values, ["engineers"]);
    assert_eq!(
        member_of[0].name_format.as_deref(),
        Some(ssoproof_saml::ATTRNAME_URI)
    );
    assert_eq!(member_of[0].friendly_name.as_deref(), Some("groups"));

    // The email NameID of a user without an e-mail address: an error page, as in Keycloak.
    let http = http();
    let request = run("email", None);
    let page = http
        .get(format!("{}/protocol/saml", emulator.issuer()))
        .query(&[(
            "SAMLRequest",
            binding::redirect_encode(&request.to_xml(time::OffsetDateTime::now_utc())),
        )])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = form_action(&page, "kc-form-login");
    let answer = http
        .post(format!("{}{action}", emulator.base_url()))
        .form(&[("username", "nomail"), ("password", "nomail-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let text = answer.text().await.unwrap();
    assert!(text.contains("has no e-mail address"), "{text}");
}
