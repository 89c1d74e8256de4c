//! `probe app --saml`: the probe acts as the browser of a web application with a SAML login,
//! against the emulator as its IdP (the application trusts the emulator's metadata,
//! `<base>/realms/<realm>/protocol/saml/descriptor`). For each case it opens a fresh session at
//! the application's login URL, follows it to the emulator's SSO URL (capturing the
//! AuthnRequest: its ID and ACS URL), signs in as a fixture user while the emulator misbehaves
//! (or tampers with the posted `SAMLResponse` itself), posts the Response to the ACS URL as the
//! browser would, and asks the whoami URL whether a session was created.
//!
//! The emulator plays the IdP rather than a second, probe-owned IdP: it already serves
//! metadata, the login form and every SAML fault, built with `ssoproof-saml`'s builder and
//! attacks, so the application is configured once, as in a real setup.

use base64::Engine as _;
use ssoproof_idp::SamlFault;
use ssoproof_saml::{binding, AuthnRequest};
use url::Url;

use super::session::{HopError, Session, Target, HOP_LOGIN};
use super::FixtureUser;
use crate::error::ProbeError;
use crate::idp::Idp;
use crate::outcome::{CaseResult, Expect, Observed, ProbeKind, ProbeReport};
use crate::target::check_target;

/// The id of the control case.
pub const CONTROL: &str = "valid-login";

/// What `probe app --saml` is pointed at.
#[derive(Debug, Clone)]
pub struct SamlAppProbe {
    pub target: Target,
    /// Signs in for every case.
    pub user: FixtureUser,
    pub allow_remote: bool,
    /// Run only these case ids (empty: all).
    pub only: Vec<String>,
    pub vendor: String,
}

/// How the probe plays a case.
#[derive(Debug, Clone, Copy)]
enum Play {
    Control,
    /// A login while the emulator has this fault.
    Fault(SamlFault),
    /// A second login while the emulator replays the first login's Response.
    Replay,
    /// A login whose posted `SAMLResponse` the probe replaces.
    Tamper(Tamper),
}

#[derive(Debug, Clone, Copy)]
enum Tamper {
    MalformedXml,
    Xxe,
    BillionLaughs,
    Oversized,
}

impl Tamper {
    /// The replacement `SAMLResponse` field.
    fn field(self) -> String {
        let xml = match self {
            Tamper::MalformedXml => "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"><unclosed>".to_string(),
            Tamper::Xxe => "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
                 <samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&x;</samlp:Response>"
                .to_string(),
            Tamper::BillionLaughs => {
                let mut bomb = String::from("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY l0 \"lol\">");
                for i in 1..10 {
                    bomb.push_str(&format!("<!ENTITY l{i} \"{}\">", format!("&l{};", i - 1).repeat(10)));
                }
                bomb.push_str("]><samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&l9;</samlp:Response>");
                bomb
            }
            // 2 MiB of XML: four times what a strict SP reads.
            Tamper::Oversized => format!(
                "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">{}</samlp:Response>",
                "<x/>".repeat(512 * 1024)
            ),
        };
        base64::engine::general_purpose::STANDARD.encode(xml)
    }
}

/// One case of the catalogue.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: &'static str,
    pub title: &'static str,
    pub expect: Expect,
    pub meaning: &'static str,
    pub fix: &'static str,
    play: Play,
}

const fn refuse(
    id: &'static str,
    title: &'static str,
    play: Play,
    meaning: &'static str,
    fix: &'static str,
) -> Case {
    Case {
        id,
        title,
        expect: Expect::Refuse,
        meaning,
        fix,
        play,
    }
}

const FORGED: &str = "anyone can sign in as anyone: the Response's origin is not checked";
const MISDIRECTED: &str = "a Response issued to another service provider (or another of its endpoints) signs users in here: any SP of the same IdP can replay its users' Responses to this one";
const BAD_INPUT: &str = "the SP reads input it must refuse before reading: a parser that expands entities reads local files (XXE) or exhausts memory, and an unbounded body exhausts the process";

/// The catalogue, the control first.
pub const CATALOGUE: &[Case] = &[
    Case {
        id: CONTROL,
        title: "a valid, signed Response for the user",
        expect: Expect::Accept,
        meaning: "the application does not sign users in over SAML at all: check its IdP metadata, entity ID and ACS URL",
        fix: "configure the SP with the emulator's metadata and the realm's SAML client (entity ID, ACS URL)",
        play: Play::Control,
    },
    refuse("unsigned", "neither the assertion nor the Response signed", Play::Fault(SamlFault::Unsigned), FORGED, "require a signature on the assertion or the Response (want_assertions_signed), never accept an unsigned one"),
    refuse("signed-by-other-key", "signed by a key that is not in the IdP's metadata (its certificate in KeyInfo)", Play::Fault(SamlFault::OtherKey), FORGED, "verify with the certificates from the IdP's metadata only, never with the KeyInfo the message carries"),
    refuse("sha1-signature", "signed with RSA-SHA1 and a SHA-1 digest", Play::Fault(SamlFault::Sha1), "a signature algorithm with practical collisions is trusted: a downgrade the IdP never chose", "allow only RSA-SHA256 or stronger signature and digest methods"),
    refuse("xsw-evil-before", "signature wrapping XSW3: an unsigned assertion for another user before the signed one", Play::Fault(SamlFault::XswEvilBefore), FORGED, "read the assertion only from the element the verified signature references; refuse a Response with more than one assertion"),
    refuse("xsw-original-inside-evil", "signature wrapping XSW4: the signed assertion inside an unsigned one", Play::Fault(SamlFault::XswOriginalInsideEvil), FORGED, "read the assertion only from the element the verified signature references; refuse nested assertions"),
    refuse("xsw-original-in-extensions", "signature wrapping XSW7: the signed assertion moved into Extensions", Play::Fault(SamlFault::XswOriginalInExtensions), FORGED, "read the assertion only from the element the verified signature references; refuse one not directly under the Response"),
    refuse("xsw-original-in-signature-object", "signature wrapping XSW8: the signed assertion inside a signature's Object", Play::Fault(SamlFault::XswOriginalInSignatureObject), FORGED, "read the assertion only from the element the verified signature references"),
    refuse("xsw-same-id-before", "signature wrapping: an assertion with the signed one's ID before it", Play::Fault(SamlFault::XswSameIdBefore), FORGED, "refuse a document where two elements carry the same ID"),
    refuse("nameid-comment", "a comment inside the NameID (not covered by the signature)", Play::Fault(SamlFault::NameIdComment), "a reader that stops at the comment sees a shorter NameID than was signed (the 2018 truncation bugs): `admin@example.com<!---->.evil.test` signs in as admin@example.com; an SP that reads the whole text is not misled, but cannot tell", "refuse comments in assertions, or read the NameID's whole text (never the first text node)"),
    refuse("wrong-audience", "the Audience names another SP", Play::Fault(SamlFault::WrongAudience), MISDIRECTED, "check that an AudienceRestriction names this SP's entity ID"),
    refuse("wrong-recipient", "the bearer confirmation's Recipient is another ACS URL", Play::Fault(SamlFault::WrongRecipient), MISDIRECTED, "check the bearer SubjectConfirmationData's Recipient against this ACS URL"),
    refuse("wrong-destination", "the Response's Destination is another ACS URL", Play::Fault(SamlFault::WrongDestination), MISDIRECTED, "check the Response's Destination against this ACS URL"),
    refuse("expired", "expired five minutes ago (NotOnOrAfter)", Play::Fault(SamlFault::Expired), "a captured Response stays usable forever", "check NotOnOrAfter of the Conditions and the bearer confirmation, with a small clock skew"),
    refuse("not-yet-valid", "NotBefore ten minutes in the future", Play::Fault(SamlFault::NotYetValid), "Responses minted for later (or by an IdP with a wrong clock) are accepted now", "check the Conditions' NotBefore, with a small clock skew"),
    refuse("wrong-in-response-to", "InResponseTo names another AuthnRequest", Play::Fault(SamlFault::WrongInResponseTo), "a Response for another login (another browser's) signs this browser in: login CSRF and Response injection", "keep the AuthnRequest ID in the session and check InResponseTo against it"),
    refuse("replayed", "the first login's Response posted again in a second login", Play::Replay, "a captured Response signs its user in again (from logs, a proxy, browser history)", "remember accepted assertion IDs until they expire and refuse a second use; check InResponseTo"),
    refuse("encrypted-for-other-key", "an EncryptedAssertion for a key that is not the SP's", Play::Fault(SamlFault::EncryptedAssertion), "the SP accepts an assertion it could not decrypt, or falls back to something else in the Response", "refuse a Response whose assertion cannot be decrypted with the SP's own key"),
    refuse("malformed-xml", "a SAMLResponse that is not well-formed XML", Play::Tamper(Tamper::MalformedXml), BAD_INPUT, "refuse it with a client error before anything else"),
    refuse("xxe", "a SAMLResponse with an external entity (XXE)", Play::Tamper(Tamper::Xxe), BAD_INPUT, "refuse any DOCTYPE: never load DTDs or expand entities"),
    refuse("billion-laughs", "a SAMLResponse with nested entities (billion laughs)", Play::Tamper(Tamper::BillionLaughs), BAD_INPUT, "refuse any DOCTYPE: never expand entities"),
    refuse("oversized", "a 2 MiB SAMLResponse", Play::Tamper(Tamper::Oversized), BAD_INPUT, "cap the POST body and the decoded message (a few hundred KiB is plenty)"),
];

fn result(case: &Case, observed: Observed) -> CaseResult {
    CaseResult {
        id: case.id.to_string(),
        title: case.title.to_string(),
        expect: case.expect,
        observed,
        meaning: case.meaning.to_string(),
        fix: case.fix.to_string(),
        token: None,
    }
}

/// Runs the catalogue (faults one at a time, cleared after each case).
pub async fn run(probe: &SamlAppProbe, idp: &Idp) -> Result<ProbeReport, ProbeError> {
    check_target(&probe.target.login_url, probe.allow_remote)?;
    check_target(&probe.target.whoami_url, probe.allow_remote)?;
    if let Some(id) = probe
        .only
        .iter()
        .find(|id| !CATALOGUE.iter().any(|c| c.id == id.as_str()))
    {
        return Err(ProbeError::Usage {
            message: format!(
                "unknown case `{id}`; the case ids are listed in the README, section \"`ssoproof probe app --saml`\""
            ),
        });
    }
    idp.clear_saml_faults().await?;
    let selected = |id: &str| probe.only.is_empty() || probe.only.iter().any(|o| o == id);
    let mut cases = Vec::new();
    let control = login(probe, None).await;
    let control_passed = matches!(control, Ok(Observed::Accepted { .. }));
    cases.push(result(
        &CATALOGUE[0],
        control.unwrap_or_else(HopError::observed),
    ));
    for case in CATALOGUE[1..].iter().filter(|c| selected(c.id)) {
        let observed = if control_passed {
            play(probe, idp, case.play).await?
        } else {
            Observed::Error {
                hop: CONTROL.into(),
                message: "the valid login did not sign the user in, so a refusal here would prove nothing; fix the valid-login case first".into(),
            }
        };
        cases.push(result(case, observed));
    }
    let mut shown = probe.target.login_url.clone();
    shown.set_query(None);
    Ok(ProbeReport {
        probe: ProbeKind::App,
        target: shown.to_string(),
        issuer: idp.issuer(),
        vendor: probe.vendor.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        cases,
    })
}

async fn play(probe: &SamlAppProbe, idp: &Idp, play: Play) -> Result<Observed, ProbeError> {
    let observed = match play {
        Play::Control => login(probe, None).await,
        Play::Fault(fault) => {
            idp.inject_saml(fault).await?;
            login(probe, None).await
        }
        Play::Replay => {
            idp.inject_saml(SamlFault::Replay).await?;
            // The first login under the fault is recorded (and valid); the second gets it again.
            match login(probe, None).await {
                Ok(_) => login(probe, None).await,
                Err(e) => Err(e),
            }
        }
        Play::Tamper(tamper) => login(probe, Some(tamper)).await,
    };
    idp.clear_saml_faults().await?;
    Ok(observed.unwrap_or_else(HopError::observed))
}

/// One login in a fresh session: the application's AuthnRequest, the IdP's login form, the
/// Response posted to the ACS URL (replaced by `tamper`'s), and whoami.
async fn login(probe: &SamlAppProbe, tamper: Option<Tamper>) -> Result<Observed, HopError> {
    let session = Session::new(&probe.target)?;
    let auth = session.start().await?.url;
    let acs = acs_url(&auth)?;
    let user = &probe.user;
    let mut fields = session
        .sign_in_posting(&auth, acs.as_str(), &user.username, &user.password)
        .await?;
    let how = match tamper {
        Some(tamper) => {
            let field = tamper.field();
            for (name, value) in &mut fields {
                if name == "SAMLResponse" {
                    value.clone_from(&field);
                }
            }
            "the posted SAMLResponse replaced"
        }
        None => "the IdP's Response posted to the ACS URL",
    };
    session.post_to_app(&acs, &fields).await?;
    Ok(session.whoami().await?.observed(how))
}

/// The ACS URL the application's AuthnRequest (HTTP-Redirect binding) names.
fn acs_url(auth: &Url) -> Result<Url, HopError> {
    let failed = |message: String| HopError {
        hop: HOP_LOGIN,
        message,
    };
    let encoded = auth
        .query_pairs()
        .find(|(k, _)| k == "SAMLRequest")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| failed("the application sent the browser to the IdP without a SAMLRequest on the HTTP-Redirect binding".into()))?;
    let request = binding::redirect_decode("SAMLRequest", &encoded)
        .and_then(|xml| AuthnRequest::parse(&xml))
        .map_err(|e| {
            failed(format!(
                "the application's AuthnRequest is refused: [{}] {e}",
                e.code()
            ))
        })?;
    let acs = request.acs_url.ok_or_else(|| {
        failed("the application's AuthnRequest names no AssertionConsumerServiceURL; the probe posts the Response where the SP asks for it".into())
    })?;
    Url::parse(&acs).map_err(|e| {
        failed(format!(
            "the AuthnRequest's ACS URL `{acs}` is not a URL: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_are_unique_and_the_control_comes_first() {
        let mut ids: Vec<_> = CATALOGUE.iter().map(|c| c.id).collect();
        assert_eq!(ids[0], CONTROL);
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
    }

    #[test]
    fn every_tampered_response_is_refused_by_the_reference_validator_with_its_code() {
        for (tamper, code) in [
            (Tamper::MalformedXml, "saml/malformed-xml"),
            (Tamper::Xxe, "saml/dtd"),
            (Tamper::BillionLaughs, "saml/dtd"),
            (Tamper::Oversized, "saml/too-large"),
        ] {
            let error = binding::post_decode("SAMLResponse", &tamper.field())
                .and_then(|xml| AuthnRequest::parse(&xml).map(|_| ()))
                .unwrap_err();
            assert_eq!(error.code(), code, "{tamper:?}");
        }
    }
}
