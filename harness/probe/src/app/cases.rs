//! The `probe app` catalogue: each case's stable id, what a correct application does, what
//! accepting means, how to fix it, and how the probe plays it.

use rand::RngCore;
use ssoproof_idp::{Fault, PersonaEdit};
use url::Url;

use super::session::{AuthRequest, HopError, Login, Session, Target, Whoami, HOP_IDP};
use super::{AppProbe, FixtureUser, RoleRule};
use crate::error::ProbeError;
use crate::idp::Idp;
use crate::outcome::{CaseResult, Expect, Observed};
use ssoproof_idp::{MintRequest, TokenKind};

/// Role cases are `role-<username>`.
pub const ROLE_PREFIX: &str = "role-";
/// The Entra group-overage case (with `--overage-user`).
pub const OVERAGE: &str = "groups-overage";

/// The id of the control case: a valid login that must sign the first user in.
pub const CONTROL: &str = "valid-login";

/// Least estimated entropy of `state` and `nonce`, in bits (RFC 6749 section 10.10 asks for a
/// guessing probability of at most 2^-128 for codes; the same bar for the values that bind a
/// callback to its browser).
const MIN_BITS: f64 = 128.0;

/// How the probe plays a case.
#[derive(Debug, Clone)]
enum Play {
    Control,
    /// A login while the emulator has this fault.
    Fault(Fault),
    /// The discovery-issuer fault: only for applications that read discovery at each login.
    Discovery,
    /// The userinfo-subject fault: only for applications that call userinfo (one that never
    /// does is not affected, and would accept the case for no fault of its own).
    Userinfo,
    /// An RFC 9207 `iss` fault: only where the IdP sends `iss` (the control login's callback
    /// carried it), since only then may a client rely on it.
    IssParameter(Fault),
    Tamper(Tamper),
    Inspect(Inspect),
}

#[derive(Debug, Clone, Copy)]
enum Tamper {
    StateChanged,
    StateMissing,
    CodeReplayed,
    CodeOtherSession,
    CallbackError,
}

#[derive(Debug, Clone, Copy)]
enum Inspect {
    Pkce,
    State,
    Nonce,
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

/// A case the application must refuse, played as `play` says.
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

const VALIDATE: &str = "validate the ID token with a maintained OIDC library (issuer, audience, \
                        signature with the JWKS's keys and an algorithm allow-list, expiry, \
                        nonce) and refuse the login when any check fails";

/// Every case, in report order (role cases, one per fixture user with a promise, follow).
pub const CATALOGUE: &[Case] = &[
    Case {
        id: CONTROL,
        title: "a valid login signs the user in",
        expect: Expect::Accept,
        meaning: "The application does not sign in a user the IdP vouches for: the probe's other \
                  refusals prove nothing until this passes.",
        fix: "Check the application's issuer, client id and secret, redirect URI and the \
              --whoami-url / --role-pointer given to the probe.",
        play: Play::Control,
    },
    refuse(
        "id-token-wrong-iss",
        "ID token from another issuer",
        Play::Fault(Fault::WrongIssuer),
        "A token minted by another issuer (another realm or tenant) signs users in.",
        VALIDATE,
    ),
    refuse(
        "id-token-wrong-aud",
        "ID token for another client",
        Play::Fault(Fault::WrongAudience),
        "A token issued to another application signs users in here: any app of the same IdP can \
         replay its users' tokens.",
        VALIDATE,
    ),
    refuse(
        "id-token-wrong-nonce",
        "ID token with another nonce",
        Play::Fault(Fault::WrongNonce),
        "The ID token is not bound to this browser's login: a token captured elsewhere can be \
         replayed.",
        "Send a fresh nonce with each authorization request, keep it in the session, and refuse \
         an ID token whose nonce differs.",
    ),
    refuse(
        "id-token-wrong-azp",
        "ID token authorized for another party (azp)",
        Play::Fault(Fault::WrongAzp),
        "A token whose authorized party is another client signs users in (OIDC Core 3.1.3.7 \
         says the client SHOULD check azp).",
        VALIDATE,
    ),
    refuse(
        "id-token-wrong-at-hash",
        "ID token whose at_hash does not match the access token",
        Play::Fault(Fault::WrongAtHash),
        "The access token is not bound to the ID token; an access token swapped in transit \
         goes unnoticed (in the code flow, checking at_hash is optional: defence in depth).",
        "Verify at_hash when present, as most OIDC libraries do.",
    ),
    refuse(
        "id-token-alg-none",
        "unsigned ID token (alg none)",
        Play::Fault(Fault::AlgNone),
        "Anyone can forge an ID token for any user: the signature is never checked.",
        "Allow only the IdP's signing algorithms (RS256) and never `none`.",
    ),
    refuse(
        "id-token-hs256-client-secret",
        "ID token signed HS256 with the client secret",
        Play::Fault(Fault::Hs256ClientSecret),
        "Whoever knows the client secret (every deployment of the app) can forge ID tokens.",
        "Allow only the asymmetric algorithm the IdP advertises; never HS256 with the secret \
         unless the IdP is configured for it.",
    ),
    refuse(
        "id-token-bad-signature",
        "ID token with a broken signature",
        Play::Fault(Fault::BadSignature),
        "Tampered ID tokens are accepted: the signature is not verified.",
        VALIDATE,
    ),
    refuse(
        "id-token-unknown-kid",
        "ID token signed with a key the JWKS does not hold",
        Play::Fault(Fault::UnknownKid),
        "A token signed with a key the IdP never published signs users in.",
        "Verify with the JWKS key named by kid; refetch the JWKS once for an unknown kid, then \
         refuse.",
    ),
    refuse(
        "id-token-expired",
        "expired ID token",
        Play::Fault(Fault::Expired),
        "Old ID tokens sign users in, long after they should have stopped working.",
        VALIDATE,
    ),
    refuse(
        "id-token-iat-future",
        "ID token issued ten minutes in the future",
        Play::Fault(Fault::IatInFuture),
        "Tokens from a skewed or forged clock are accepted, outliving their lifetime.",
        "Refuse an iat beyond a small clock skew (60 s).",
    ),
    refuse(
        "userinfo-other-sub",
        "userinfo names another user than the ID token",
        Play::Userinfo,
        "Profile data (e-mail, groups) of another user is attached to this session.",
        "Refuse a userinfo answer whose sub differs from the ID token's (OIDC Core 5.3.2).",
    ),
    refuse(
        "iss-parameter-missing",
        "callback without the RFC 9207 iss parameter the IdP advertises",
        Play::IssParameter(Fault::IssParameterMissing),
        "The application does not use the iss authorization-response parameter, its \
                  defence against mix-up attacks when it trusts more than one IdP (RFC 9207).",
        "When discovery advertises authorization_response_iss_parameter_supported, require \
              iss in the callback and compare it with the issuer (RFC 9207, section 2.4).",
    ),
    refuse(
        "iss-parameter-wrong",
        "callback whose RFC 9207 iss parameter names another issuer",
        Play::IssParameter(Fault::IssParameterWrong),
        "A callback that says it comes from another IdP is accepted: a mix-up attack \
                  can hand this application another IdP's code (RFC 9207).",
        "Compare the callback's iss with the issuer the login was started with and refuse \
              a mismatch (RFC 9207, section 2.4).",
    ),
    refuse(
        "discovery-issuer-mismatch",
        "discovery document names another issuer",
        Play::Discovery,
        "The application trusts a discovery document that is not its issuer's, so a \
                  spoofed document redirects its trust.",
        "Require the discovery document's issuer to equal the configured issuer byte for \
              byte (OIDC Discovery 4.3).",
    ),
    refuse(
        "state-changed",
        "callback with another state",
        Play::Tamper(Tamper::StateChanged),
        "Login CSRF: an attacker can sign a victim into the attacker's account.",
        "Keep the state in the browser's session and refuse a callback whose state differs.",
    ),
    refuse(
        "state-missing",
        "callback without state",
        Play::Tamper(Tamper::StateMissing),
        "Login CSRF: an attacker can sign a victim into the attacker's account.",
        "Refuse a callback without the state this browser was sent with.",
    ),
    refuse(
        "code-replayed",
        "callback with an authorization code already redeemed",
        Play::Tamper(Tamper::CodeReplayed),
        "A captured, used authorization code still signs someone in: the application ignores the \
         IdP's refusal of the token request.",
        "Treat any error from the token endpoint as a failed login.",
    ),
    refuse(
        "code-other-session",
        "callback with a code issued to another browser",
        Play::Tamper(Tamper::CodeOtherSession),
        "Code injection: a code stolen from a victim's browser signs the attacker in as the \
         victim (PKCE and nonce bind a code to its browser).",
        "Send PKCE S256 with a verifier kept in the session, and check the ID token's nonce.",
    ),
    refuse(
        "callback-error",
        "callback carrying error=access_denied",
        Play::Tamper(Tamper::CallbackError),
        "The application signs in someone the IdP refused.",
        "Treat an error callback as a failed login; show the IdP's error.",
    ),
    refuse(
        "pkce-s256",
        "authorization request without PKCE S256",
        Play::Inspect(Inspect::Pkce),
        "Without PKCE S256 (or with `plain`), a stolen authorization code can be redeemed by \
         someone else (RFC 9700 requires PKCE).",
        "Send code_challenge with code_challenge_method=S256 and the verifier with the token \
         request.",
    ),
    refuse(
        "state-unpredictable",
        "state missing, reused or guessable",
        Play::Inspect(Inspect::State),
        "A predictable or absent state leaves the callback open to login CSRF.",
        "Generate state from at least 128 random bits per login.",
    ),
    refuse(
        "nonce-unpredictable",
        "nonce missing, reused or guessable",
        Play::Inspect(Inspect::Nonce),
        "Without a fresh nonce, an ID token is not bound to the login that asked for it.",
        "Generate nonce from at least 128 random bits per login and check it in the ID token.",
    ),
];

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `url` with the query parameter `name` set to `value`, or removed (`None`), others kept.
fn with_param(url: &Url, name: &str, value: Option<&str>) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    let mut out = url.clone();
    out.set_query(None);
    {
        let mut query = out.query_pairs_mut();
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    if out.query() == Some("") {
        out.set_query(None);
    }
    out
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Bits a random string of this length over the characters it uses would carry: a rough,
/// generous bound (a counter or a timestamp shows as too short, not as too regular).
pub(crate) fn estimated_bits(value: &str) -> f64 {
    let has = |is: fn(&char) -> bool| value.chars().any(|c| is(&c));
    let alphabet: f64 = if value.chars().all(|c| c.is_ascii_hexdigit()) {
        16.0
    } else {
        [
            (has(char::is_ascii_digit), 10.0),
            (has(char::is_ascii_lowercase), 26.0),
            (has(char::is_ascii_uppercase), 26.0),
            (has(|c| !c.is_ascii_alphanumeric()), 4.0),
        ]
        .iter()
        .filter(|(present, _)| *present)
        .map(|(_, n)| n)
        .sum()
    };
    value.chars().count() as f64 * alphabet.max(1.0).log2()
}

/// Whether a `state` or `nonce` is present, differs between two logins and looks random.
fn check_random(name: &str, first: Option<&str>, second: Option<&str>) -> Observed {
    let weak = |detail: String| Observed::Accepted {
        status: None,
        identity: None,
        detail,
    };
    let (Some(a), Some(b)) = (first, second) else {
        return weak(format!("the authorization request carries no {name}"));
    };
    if a == b {
        return weak(format!(
            "two logins sent the same {name} ({} characters)",
            a.len()
        ));
    }
    let bits = estimated_bits(a).min(estimated_bits(b));
    if bits < MIN_BITS {
        return weak(format!(
            "the {name} carries about {bits:.0} bits at most ({} characters), under {MIN_BITS:.0}",
            a.len().min(b.len())
        ));
    }
    Observed::Refused {
        status: None,
        detail: format!("{name} differs between two logins, about {bits:.0} bits"),
    }
}

fn check_pkce(auth: &AuthRequest) -> Observed {
    match (
        auth.code_challenge.as_deref(),
        auth.code_challenge_method.as_deref(),
    ) {
        (Some(_), Some("S256")) => Observed::Refused {
            status: None,
            detail: "code_challenge_method=S256".into(),
        },
        (None, _) => Observed::Accepted {
            status: None,
            identity: None,
            detail: "the authorization request carries no code_challenge".into(),
        },
        (Some(_), method) => Observed::Accepted {
            status: None,
            identity: None,
            detail: format!(
                "code_challenge_method is {} (plain)",
                method.unwrap_or("absent, which means plain")
            ),
        },
    }
}

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

/// The fault's name as the admin API spells it (`wrong_issuer`).
fn fault_name(fault: &Fault) -> String {
    serde_json::to_value(fault)
        .ok()
        .and_then(|v| v.get("fault").and_then(|f| f.as_str()).map(str::to_string))
        .unwrap_or_default()
}

async fn with_fault<T>(
    idp: &Idp,
    fault: Fault,
    work: impl std::future::Future<Output = T>,
) -> Result<T, ProbeError> {
    idp.inject(fault).await?;
    let out = work.await;
    idp.clear_faults().await?;
    Ok(out)
}

/// A login in a fresh session, as an observation.
async fn observe_login(target: &Target, user: &FixtureUser, how: &str) -> Observed {
    let login = async {
        let session = Session::new(target)?;
        session.login(&user.username, &user.password).await
    };
    match login.await {
        Ok(login) => login.whoami.observed(&format!(
            "{how} (its callback ended with status {})",
            login.callback_status
        )),
        Err(e) => e.observed(),
    }
}

async fn play_tamper(
    tamper: Tamper,
    target: &Target,
    user: &FixtureUser,
    control: &Login,
) -> Result<Whoami, HopError> {
    let session = Session::new(target)?;
    let auth = session.start().await?;
    let callback = match tamper {
        Tamper::CallbackError => {
            let redirect_uri = auth.redirect_uri.as_deref().unwrap_or_default();
            let mut url = Url::parse(redirect_uri).map_err(|e| HopError {
                hop: super::HOP_LOGIN,
                message: format!("the authorization request's redirect_uri is not a URL: {e}"),
            })?;
            url.query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("error_description", "The user denied the request");
            if let Some(state) = &auth.state {
                url.query_pairs_mut().append_pair("state", state);
            }
            url
        }
        _ => {
            let own = session
                .sign_in(&auth, &user.username, &user.password)
                .await?;
            match tamper {
                Tamper::StateChanged => with_param(&own, "state", Some(&random_hex())),
                Tamper::StateMissing => with_param(&own, "state", None),
                Tamper::CodeReplayed => {
                    with_param(&own, "code", param(&control.callback, "code").as_deref())
                }
                Tamper::CodeOtherSession => {
                    // Another browser signs in and stops at its callback: its code is unused.
                    let other = Session::new(target)?;
                    let other_auth = other.start().await?;
                    let stolen = other
                        .sign_in(&other_auth, &user.username, &user.password)
                        .await?;
                    with_param(&own, "code", param(&stolen, "code").as_deref())
                }
                Tamper::CallbackError => unreachable!("handled above"),
            }
        }
    };
    session.deliver(&callback).await?;
    session.whoami().await
}

fn tamper_how(tamper: Tamper) -> &'static str {
    match tamper {
        Tamper::StateChanged => "the callback's state was replaced",
        Tamper::StateMissing => "the callback's state was removed",
        Tamper::CodeReplayed => "the callback carried the control login's redeemed code",
        Tamper::CodeOtherSession => "the callback carried a code issued to another browser",
        Tamper::CallbackError => "the callback carried error=access_denied",
    }
}

fn role_case(user: &FixtureUser, observed: Observed) -> CaseResult {
    let (title, expect) = match &user.rule {
        RoleRule::Role(role) => (
            format!("{} signs in as {role}", user.username),
            Expect::Accept,
        ),
        _ => (
            format!("{} (groups mapping to no role) is refused", user.username),
            Expect::Refuse,
        ),
    };
    CaseResult {
        id: format!("{ROLE_PREFIX}{}", user.username),
        title,
        expect,
        observed,
        meaning: match expect {
            Expect::Accept => "The user does not get the role the runbook promises.".into(),
            Expect::Refuse => {
                "A user the runbook says must be refused gets a session (failing open).".into()
            }
        },
        fix: "Map the IdP's groups claim to roles as the runbook says, and fail closed for \
              unmapped groups."
            .into(),
        token: None,
    }
}

async fn play_role(target: &Target, user: &FixtureUser) -> Observed {
    let login = async {
        let session = Session::new(target)?;
        session.login(&user.username, &user.password).await
    };
    match (&user.rule, login.await) {
        (_, Err(e)) if e.hop == HOP_IDP && user.rule == RoleRule::Refused => Observed::Refused {
            status: None,
            detail: format!("the IdP refused the sign-in: {}", e.message),
        },
        (_, Err(e)) => e.observed(),
        (RoleRule::Role(role), Ok(login)) => match login.whoami {
            Whoami::SignedIn {
                status,
                identity: Some(identity),
            } if identity == *role => Observed::Accepted {
                status: Some(status),
                identity: Some(identity),
                detail: "the role the runbook promises".into(),
            },
            Whoami::SignedIn {
                status,
                identity: Some(identity),
            } => Observed::Refused {
                status: Some(status),
                detail: format!("signed in as {identity}, not {role} as the runbook promises"),
            },
            Whoami::SignedIn { identity: None, .. } => Observed::Error {
                hop: super::HOP_WHOAMI.into(),
                message: "role rules need --role-pointer: the whoami answer names no role".into(),
            },
            other => other.observed("a valid login"),
        },
        (_, Ok(login)) => login.whoami.observed("a valid login"),
    }
}

/// Runs every selected case; the control first, because a probe whose valid login fails
/// cannot tell a refusal from a misconfiguration.
pub(crate) async fn run_all(
    probe: &AppProbe,
    target: &Target,
    idp: &Idp,
) -> Result<Vec<CaseResult>, ProbeError> {
    let user = &probe.users[0];
    let selected = |id: &str| probe.only.is_empty() || probe.only.iter().any(|o| o == id);
    let mut results = Vec::new();

    let control_case = &CATALOGUE[0];
    let control = async {
        let session = Session::new(target)?;
        session.login(&user.username, &user.password).await
    }
    .await;
    let control = match control {
        Ok(login) => {
            let observed = login.whoami.observed("a valid login");
            let signed_in = matches!(observed, Observed::Accepted { .. });
            results.push(result(control_case, observed));
            signed_in.then_some(login)
        }
        Err(e) => {
            results.push(result(control_case, e.observed()));
            None
        }
    };
    // A second authorization request, for the cases that compare two logins.
    let second = async { Session::new(target)?.start().await }.await;

    for case in &CATALOGUE[1..] {
        let applies = match case.play {
            Play::Discovery => probe.rediscovers,
            Play::Userinfo => probe.calls_userinfo,
            Play::IssParameter(_) => control
                .as_ref()
                .is_none_or(|c| param(&c.callback, "iss").is_some()),
            _ => true,
        };
        if !selected(case.id) || !applies {
            continue;
        }
        if let Play::Inspect(inspect) = case.play {
            let observed = match (&control, &second) {
                (Some(first), Ok(second)) => match inspect {
                    Inspect::Pkce => check_pkce(&first.auth),
                    Inspect::State => check_random(
                        "state",
                        first.auth.state.as_deref(),
                        second.state.as_deref(),
                    ),
                    Inspect::Nonce => check_random(
                        "nonce",
                        first.auth.nonce.as_deref(),
                        second.nonce.as_deref(),
                    ),
                },
                (_, Err(e)) => e.clone().observed(),
                (None, _) => control_failed(),
            };
            results.push(result(case, observed));
            continue;
        }
        let Some(control) = &control else {
            results.push(result(case, control_failed()));
            continue;
        };
        let observed = match &case.play {
            Play::Fault(fault) | Play::IssParameter(fault) => {
                let how = format!("a login with the fault `{}`", fault_name(fault));
                with_fault(idp, fault.clone(), observe_login(target, user, &how)).await?
            }
            Play::Discovery => {
                with_fault(
                    idp,
                    Fault::DiscoveryIssuerMismatch,
                    observe_login(target, user, "a login while discovery names another issuer"),
                )
                .await?
            }
            Play::Userinfo => {
                with_fault(
                    idp,
                    Fault::UserinfoOtherSub,
                    observe_login(target, user, "a login while userinfo names another user"),
                )
                .await?
            }
            Play::Tamper(tamper) => match play_tamper(*tamper, target, user, control).await {
                Ok(whoami) => whoami.observed(tamper_how(*tamper)),
                Err(e) => e.observed(),
            },
            Play::Control | Play::Inspect(_) => unreachable!("played above"),
        };
        results.push(result(case, observed));
    }

    for user in &probe.users {
        let id = format!("{ROLE_PREFIX}{}", user.username);
        if user.rule == RoleRule::Any || !selected(&id) {
            continue;
        }
        let observed = if control.is_some() {
            play_role(target, user).await
        } else {
            control_failed()
        };
        results.push(role_case(user, observed));
    }

    if let Some(user) = probe.overage_user.as_ref().filter(|_| selected(OVERAGE)) {
        let observed = if control.is_none() {
            control_failed()
        } else {
            match prepare_overage(idp, user).await {
                Ok(()) => play_role(target, user).await,
                Err(observed) => observed,
            }
        };
        results.push(overage_case(user, observed));
    }
    Ok(results)
}

/// Makes sure the IdP sends `user`'s groups as Entra's overage marker: an emulator of this
/// process is switched to "Security groups" (the case runs last, so no other case sees it); a
/// running one must already be set so, which a token minted for the user shows.
async fn prepare_overage(idp: &Idp, user: &FixtureUser) -> Result<(), Observed> {
    let error = |message: String| Observed::Error {
        hop: "IdP".into(),
        message,
    };
    if let Some(emulator) = idp.local() {
        emulator
            .edit_persona(&PersonaEdit::EntraGroupMembershipClaims {
                value: "SecurityGroup".into(),
            })
            .map_err(|e| error(format!("cannot emit Security groups claims: {e}")))?;
    }
    let mut mint = MintRequest::access(&user.username);
    mint.token = TokenKind::Id;
    let minted = idp
        .mint(&mint)
        .await
        .map_err(|e| error(format!("cannot mint {}'s ID token: {e}", user.username)))?;
    if minted
        .claims
        .get("_claim_names")
        .and_then(|n| n.get("groups"))
        .is_some()
    {
        Ok(())
    } else {
        Err(error(format!(
            "the IdP sends {}'s groups without the overage marker (`_claim_names.groups`): \
             --overage-user needs an Entra user in more than 200 groups, and an app registration \
             that emits Security groups (POST /_ssoproof/persona \
             {{\"edit\": \"entra_group_membership_claims\", \"value\": \"SecurityGroup\"}})",
            user.username
        )))
    }
}

fn overage_case(user: &FixtureUser, observed: Observed) -> CaseResult {
    let mut case = role_case(user, observed);
    case.id = OVERAGE.into();
    case.title = format!(
        "{} (more than 200 groups: Entra's overage marker instead of `groups`) {}",
        user.username,
        match &user.rule {
            RoleRule::Role(role) => format!("signs in as {role}"),
            _ => "is refused".into(),
        }
    );
    case.meaning = match case.expect {
        Expect::Accept => "A user in many groups does not get the role the runbook promises: \
                           the application does not fetch the groups the overage marker \
                           points at as the runbook says."
            .into(),
        Expect::Refuse => "A user whose groups the token does not carry gets a session: the \
                           application reads the missing `groups` claim as \"no groups\" and \
                           fails open, or grants a default role the runbook does not."
            .into(),
    };
    case.fix = "Detect `_claim_names.groups` / `_claim_sources` and do what the runbook says \
                (refuse with groups_overage, or fetch the groups from Microsoft Graph); better, \
                emit only the groups assigned to the application."
        .into();
    case
}

fn control_failed() -> Observed {
    Observed::Error {
        hop: CONTROL.into(),
        message: "the valid login did not sign the control user in, so a refusal here would \
                  prove nothing; fix the valid-login case first"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_stable_in_shape() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|c| c.id).collect();
        assert!(ids.iter().all(|id| id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        assert_eq!(CATALOGUE[0].id, CONTROL);
    }

    #[test]
    fn randomness_checks() {
        let a = "3f9c1e7a5b2d4c6e8f0a1b2c3d4e5f60";
        let b = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
        assert!(matches!(
            check_random("state", Some(a), Some(b)),
            Observed::Refused { .. }
        ));
        assert!(matches!(
            check_random("state", Some(a), Some(a)),
            Observed::Accepted { .. }
        ));
        assert!(matches!(
            check_random("state", Some("1"), Some("2")),
            Observed::Accepted { .. }
        ));
        assert!(matches!(
            check_random("nonce", None, Some(b)),
            Observed::Accepted { .. }
        ));
        // 22 base64url characters carry 128 bits.
        assert!(estimated_bits("Ab3-Ab3-Ab3-Ab3-Ab3-Ab") >= 128.0);
    }

    #[test]
    fn tampering_keeps_other_parameters() {
        let url = Url::parse("http://127.0.0.1:1/cb?code=c&state=s&iss=i").unwrap();
        assert_eq!(
            with_param(&url, "state", None).as_str(),
            "http://127.0.0.1:1/cb?code=c&iss=i"
        );
        assert_eq!(
            with_param(&url, "code", Some("d")).as_str(),
            "http://127.0.0.1:1/cb?state=s&iss=i&code=d"
        );
    }

    #[test]
    fn pkce_inspection() {
        let auth = |c: Option<&str>, m: Option<&str>| AuthRequest {
            url: Url::parse("http://i/a").unwrap(),
            client_id: None,
            redirect_uri: None,
            scope: None,
            state: None,
            nonce: None,
            code_challenge: c.map(Into::into),
            code_challenge_method: m.map(Into::into),
        };
        assert!(matches!(
            check_pkce(&auth(Some("x"), Some("S256"))),
            Observed::Refused { .. }
        ));
        assert!(matches!(
            check_pkce(&auth(Some("x"), None)),
            Observed::Accepted { .. }
        ));
        assert!(matches!(
            check_pkce(&auth(Some("x"), Some("plain"))),
            Observed::Accepted { .. }
        ));
        assert!(matches!(
            check_pkce(&auth(None, None)),
            Observed::Accepted { .. }
        ));
    }
}
