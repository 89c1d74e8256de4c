//! SAML for the Okta and Entra ID personas: the vendors' paths and issuers, their attribute
//! names, Okta's filtered group attribute statement and Entra's group object ids and overage
//! marker, each signed in through the reference SP (`ssoproof_rp::saml::ServiceProvider`).

use ssoproof_rp::saml::{MetadataSource, ServiceProvider, SpConfig};
use ssoproof_saml::{Certificate, NameIdFormat};
use ssoproof_secret::Secret;

use super::*;
use crate::SamlFault;

const SP: &str = "https://sp.acme.test/saml";
const ACS: &str = "http://127.0.0.1/saml/acs";
const OKTA_APP: &str = "0oa9s8r7q6p5o4n3m2l1";
const TENANT: &str = "00000000-0000-0000-0000-000000000000";
const CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
const ENTRA_GROUPS: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups";

async fn persona(file: &str) -> Emulator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/idp")
        .join(file);
    Emulator::start(Realm::from_persona(path).unwrap(), IdpOptions::default())
        .await
        .unwrap()
}

async fn sp(metadata: String, groups_attribute: &str) -> ServiceProvider {
    let mut config = SpConfig::new(MetadataSource::Url(metadata), SP, ACS);
    config.groups_attribute = groups_attribute.to_string();
    config.default_role = Some(config.roles.role("viewer").unwrap());
    ServiceProvider::new(config).await.unwrap()
}

fn okta_metadata(emulator: &Emulator) -> String {
    format!("{}/app/{OKTA_APP}/sso/saml/metadata", emulator.base_url())
}

fn entra_metadata(emulator: &Emulator) -> String {
    format!(
        "{}/{TENANT}/federationmetadata/2007-06/federationmetadata.xml",
        emulator.base_url()
    )
}

fn password(user: &str) -> Secret {
    Secret::from(format!("{user}-password"))
}

#[tokio::test]
async fn okta_signs_alice_in_with_its_attribute_statements_and_filtered_groups() {
    let emulator = persona("okta.yaml").await;
    let sp = sp(okta_metadata(&emulator), "groups").await;
    assert_eq!(
        sp.idp().entity_id,
        format!("http://www.okta.com/{OKTA_APP}")
    );
    assert_eq!(
        sp.idp().sso_redirect_url.as_deref(),
        Some(
            format!(
                "{}/app/acme_acmesaml_1/{OKTA_APP}/sso/saml",
                emulator.base_url()
            )
            .as_str()
        )
    );
    let login = sp
        .login("alice@example.com", &password("alice"))
        .await
        .unwrap();
    assert_eq!(login.name_id, "alice@example.com");
    assert_eq!(
        login.name_id_format.as_deref(),
        Some(NameIdFormat::Email.uri())
    );
    // `app-wiki` and `Everyone` do not start with `acme-`.
    assert_eq!(login.groups, vec!["acme-admins"]);
    assert_eq!(login.attributes["firstName"], vec!["Alice"]);
    assert_eq!(login.attributes["lastName"], vec!["Admin"]);
    assert_eq!(login.attributes["email"], vec!["alice@example.com"]);
    // "Response: Signed" and "Assertion Signature: Signed".
    assert!(login.response_signed && login.assertion_signed);

    // Another SP's AuthnRequest at this app's SSO URL is refused.
    let request = ssoproof_saml::AuthnRequest {
        id: ssoproof_saml::new_id(),
        issuer: "https://another-sp.example".into(),
        destination: None,
        acs_url: None,
        protocol_binding: None,
        name_id_format: None,
        force_authn: false,
    };
    let page = http()
        .get(sp.idp().sso_redirect_url.clone().unwrap())
        .query(&[(
            "SAMLRequest",
            ssoproof_saml::binding::redirect_encode(
                &request.to_xml(time::OffsetDateTime::now_utc()),
            ),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::BAD_REQUEST);
    let text = page.text().await.unwrap();
    assert!(text.contains("https://another-sp.example"), "{text}");
}

#[tokio::test]
async fn okta_leaves_the_group_attribute_out_when_no_group_passes_the_filter() {
    let emulator = persona("okta.yaml").await;
    let sp = sp(okta_metadata(&emulator), "groups").await;
    let error = sp
        .login("uma@example.com", &password("uma"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "groups_missing", "{error}");
}

#[tokio::test]
async fn entra_signs_alice_in_with_its_claim_uris_and_group_object_ids() {
    let emulator = persona("entra-id.yaml").await;
    let sp = sp(entra_metadata(&emulator), ENTRA_GROUPS).await;
    assert_eq!(
        sp.idp().entity_id,
        format!("https://sts.windows.net/{TENANT}/")
    );
    assert_eq!(
        sp.idp().sso_redirect_url.as_deref(),
        Some(format!("{}/{TENANT}/saml2", emulator.base_url()).as_str())
    );
    let login = sp
        .login("alice@example.com", &password("alice"))
        .await
        .unwrap();
    assert_eq!(login.name_id, "alice@example.com");
    let claim = |name: &str| login.attributes[name].clone();
    assert_eq!(
        claim(&format!("{CLAIMS}/emailaddress")),
        vec!["alice@example.com"]
    );
    assert_eq!(claim(&format!("{CLAIMS}/name")), vec!["alice@example.com"]);
    assert_eq!(claim(&format!("{CLAIMS}/givenname")), vec!["Alice"]);
    assert_eq!(claim(&format!("{CLAIMS}/surname")), vec!["Admin"]);
    assert_eq!(
        claim("http://schemas.microsoft.com/identity/claims/tenantid"),
        vec![TENANT]
    );
    let oid = claim("http://schemas.microsoft.com/identity/claims/objectidentifier");
    assert!(uuid::Uuid::parse_str(&oid[0]).is_ok(), "{oid:?}");
    // Security groups, as object ids: acme-admins and all-staff.
    let mut groups = login.groups.clone();
    groups.sort();
    assert_eq!(
        groups,
        vec![
            "11111111-1111-1111-1111-111111111111",
            "66666666-6666-6666-6666-666666666666"
        ]
    );
    // "Sign SAML assertion", Entra's default.
    assert!(login.assertion_signed && !login.response_signed);
}

#[tokio::test]
async fn entra_sends_groups_link_instead_of_the_groups_above_150() {
    let emulator = persona("entra-id.yaml").await;
    let sp = sp(entra_metadata(&emulator), ENTRA_GROUPS).await;
    let posted = sp
        .sign_in("olga@example.com", &password("olga"))
        .await
        .unwrap();
    let xml = ssoproof_saml::binding::post_decode("SAMLResponse", &posted.saml_response).unwrap();
    assert!(xml.contains("http://schemas.microsoft.com/claims/groups.link"));
    assert!(!xml.contains(ENTRA_GROUPS), "no groups claim at all");
    let error = sp
        .accept(&posted.saml_response, Some(&posted.request_id))
        .unwrap_err();
    assert_eq!(error.code(), "groups_overage", "{error}");
}

#[tokio::test]
async fn persona_responses_take_the_saml_faults() {
    let emulator = persona("entra-id.yaml").await;
    let sp = sp(entra_metadata(&emulator), ENTRA_GROUPS).await;
    emulator.inject_saml(SamlFault::WrongAudience);
    let error = sp
        .login("alice@example.com", &password("alice"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("another-sp.example"), "{error}");
    emulator.clear_saml_faults();
    emulator.inject_saml(SamlFault::XswEvilBefore);
    assert!(sp
        .login("alice@example.com", &password("alice"))
        .await
        .is_err());
    emulator.clear_saml_faults();
    sp.login("alice@example.com", &password("alice"))
        .await
        .unwrap();
}

#[tokio::test]
async fn xmlsec1_verifies_an_okta_persona_response() {
    if !ssoproof_saml::xmlsec1::available() {
        println!("SKIPPED: no `xmlsec1` on PATH (apt-get install xmlsec1; .ci/run does)");
        return;
    }
    let emulator = persona("okta.yaml").await;
    let sp = sp(okta_metadata(&emulator), "groups").await;
    let posted = sp
        .sign_in("alice@example.com", &password("alice"))
        .await
        .unwrap();
    let xml = ssoproof_saml::binding::post_decode("SAMLResponse", &posted.saml_response).unwrap();
    let certificate = Certificate::from_pem(&emulator.saml_certificate_pem()).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    for parent in ["Assertion", "Response"] {
        assert!(
            ssoproof_saml::xmlsec1::verifies(scratch.path(), &xml, parent, &certificate).unwrap(),
            "{parent}"
        );
    }
}

#[test]
fn persona_saml_sections_are_strict() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/idp/okta.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let typo = text.replace("    audience_uri:", "    audience_url:");
    let error = crate::persona::parse(&typo, &path).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("audience_uri"), "{message}");
    let line = typo
        .lines()
        .position(|l| l.contains("audience_url"))
        .unwrap()
        + 1;
    assert!(message.contains(&format!(":{line}")), "{message}");

    let bad_value = text.replace("value: user.firstName", "value: user.firstname");
    let message = crate::persona::parse(&bad_value, &path)
        .unwrap_err()
        .to_string();
    assert!(message.contains("user.firstName"), "{message}");

    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/idp/entra-id.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let bad_source = text.replace("source: user.givenname", "source: user.givename");
    let message = crate::persona::parse(&bad_source, &path)
        .unwrap_err()
        .to_string();
    assert!(message.contains("user.givenname"), "{message}");
    let bad_option = text.replace("Sign SAML assertion ", "Sign SAML assertions ");
    assert!(crate::persona::parse(&bad_option, &path).is_err());
}

#[tokio::test]
async fn the_serve_summary_names_each_saml_metadata_url() {
    let okta = persona("okta.yaml").await;
    let summary = crate::serve_summary(&okta);
    let expected = format!(
        "SAML       {}  (entity ID http://www.okta.com/{OKTA_APP})",
        okta_metadata(&okta)
    );
    assert!(
        summary.contains(&expected),
        "{expected} missing from\n{summary}"
    );
    assert!(summary.contains("https://sp.acme.test/saml  ACS: http://127.0.0.1/saml/acs"));
    let entra = persona("entra-id.yaml").await;
    let summary = crate::serve_summary(&entra);
    let expected = format!(
        "SAML       {}  (entity ID https://sts.windows.net/{TENANT}/)",
        entra_metadata(&entra)
    );
    assert!(
        summary.contains(&expected),
        "{expected} missing from\n{summary}"
    );
    // A persona without a SAML section serves no SAML.
    let auth0 = persona("auth0.yaml").await;
    assert!(!crate::serve_summary(&auth0).contains("SAML"));
}

#[tokio::test]
async fn the_name_id_comes_from_the_configured_source_in_any_format() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/idp/entra-id.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "{format: email_address, source: user.userprincipalname}",
        "{format: unspecified, source: user.objectid}",
    );
    let realm = crate::persona::parse(&text, &path).unwrap();
    let emulator = Emulator::start(realm, IdpOptions::default()).await.unwrap();
    let sp = sp(entra_metadata(&emulator), ENTRA_GROUPS).await;
    let login = sp
        .login("alice@example.com", &password("alice"))
        .await
        .unwrap();
    assert_eq!(
        login.name_id_format.as_deref(),
        Some(NameIdFormat::Unspecified.uri())
    );
    let oid = &login.attributes["http://schemas.microsoft.com/identity/claims/objectidentifier"];
    assert_eq!(&login.name_id, &oid[0]);
}
