//! The catalogue of `probe api`: each case's stable id, what a correct API does with it, what
//! accepting it means and how to fix that, and how its token is made.

use serde_json::{json, Map, Value};

use super::craft::KeyForm;
use crate::outcome::Expect;
use ssoproof_idp::{MintRequest, Signing, TokenKind};

/// The clock skew the probe grants: tokens expired (or not yet valid) by less than this must
/// be accepted, by more must be refused. 60 s is what most libraries and gateways allow.
pub const SKEW_SECONDS: i64 = 60;
/// How far outside (30 s) or inside (120 s) the skew the time cases are.
const WITHIN: i64 = 30;
const BEYOND: i64 = 120;
/// The claims padding of the oversized case: far past the 8-16 KiB header limits of common
/// servers, far below what a sane one would need to buffer.
pub const OVERSIZED_BYTES: usize = 64 * 1024;

/// How the case's token is made.
#[derive(Debug, Clone)]
pub enum Recipe {
    /// Minted by the IdP: its generated claims, with these changes.
    Minted(MintRequest),
    /// The valid token's header and claims, forged by the probe.
    Forged(Forgery),
    /// The valid token's claims, signed by another issuer (a second emulator) with its key.
    OtherIssuer,
    /// The IdP publishes a new key and signs with it; run last, against a warm JWKS cache.
    Rotation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// `alg` set to this spelling of `none`, no signature.
    AlgNone(&'static str),
    /// HS256 with the issuer's RSA public key, written this way, as the HMAC secret.
    KeyConfusion(KeyForm),
    StripSignature,
    CorruptSignature,
    /// The probe's public key in the `jwk` header, signed with the probe's key.
    EmbeddedJwk,
    /// `jku` naming the probe's JWKS.
    Jku,
    /// `x5u` naming the probe's certificate.
    X5u,
    /// `kid: ../../../../../../dev/null`, HS256 with an empty key.
    KidPath,
    /// `kid: ' UNION SELECT 'key' --`, HS256 with the key `key`.
    KidSql,
    /// `alg: ES256` with r = s = 0, raw or DER.
    Es256Zero {
        der: bool,
    },
}

/// What counts as the refusal a case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401 or 403.
    Unauthorized,
    /// Only 403: the token is valid, the user is not allowed (a 401 would mean the token
    /// itself was refused, and the group rule never ran).
    Forbidden,
    /// Any 4xx: a request too large to take is refused at whichever layer sees it first.
    ClientError,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub title: String,
    pub expect: Expect,
    pub refusal: Refusal,
    pub meaning: String,
    pub fix: String,
    pub recipe: Recipe,
}

/// Who the probe asks tokens for, and the API's rules.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The user of the valid token and the forgeries.
    pub user: String,
    /// The audience the API expects.
    pub audience: String,
    /// A group whose members the API allows (tokens minted with and without it).
    pub group: Option<GroupRule>,
    /// Users of the realm the API must allow, and refuse with 403.
    pub allowed_users: Vec<String>,
    pub denied_users: Vec<String>,
    /// Unix time the time cases are relative to.
    pub now: i64,
    /// Run only these cases (and the valid token, the control); empty: all.
    pub only: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct GroupRule {
    pub group: String,
    /// The claim the API reads groups from (`groups`, or a vendor's namespaced claim).
    pub claim: String,
}

const KEY_CONFUSION_MEANING: &str =
    "Anyone can sign tokens the API accepts: the issuer's public key \
is public, and the API verified an HMAC made with it. Any user, any group.";
const KEY_CONFUSION_FIX: &str = "Pin the algorithm the API accepts (RS256, or what the issuer \
signs with) instead of taking it from the token's header, and never hand an RSA public key to \
an HMAC verifier.";
const FORGED_MEANING: &str = "Anyone can forge tokens the API accepts, for any user and any group.";
const NO_HEADER_KEYS_FIX: &str = "Verify only with the issuer's keys from its configured JWKS; \
ignore key material or key URLs (`jwk`, `jku`, `x5u`, `x5c`) that the token itself carries.";

impl Settings {
    /// The user's token with the API's audience, in the API's group when it has a group rule.
    fn mint(&self, claims: Value) -> MintRequest {
        let mut mint = MintRequest::access(&self.user);
        mint.claims
            .insert("aud".into(), self.audience.clone().into());
        if let Some(rule) = &self.group {
            mint.claims.insert(rule.claim.clone(), json!([rule.group]));
        }
        merge(&mut mint.claims, claims);
        mint
    }

    /// Another realm user's token, with the groups the realm gives them.
    fn mint_for(&self, user: &str) -> MintRequest {
        let mut mint = MintRequest::access(user);
        mint.claims
            .insert("aud".into(), self.audience.clone().into());
        mint
    }
}

fn merge(into: &mut Map<String, Value>, value: Value) {
    if let Value::Object(map) = value {
        into.extend(map);
    }
}

fn case(id: &str, title: &str, expect: Expect, meaning: &str, fix: &str, recipe: Recipe) -> Case {
    Case {
        id: id.into(),
        title: title.into(),
        expect,
        refusal: Refusal::Unauthorized,
        meaning: meaning.into(),
        fix: fix.into(),
        recipe,
    }
}

/// The valid token's case: always first, the control every other case is read against.
pub const VALID: &str = "valid";
/// The rotation case: always last.
pub const ROTATION: &str = "key-rotation";

/// The cases `s.only` selects (all when it is empty), the valid token always first; an id the
/// catalogue does not have is an error that lists the ones it has.
pub fn select(s: &Settings) -> Result<Vec<Case>, String> {
    let mut cases = catalogue(s);
    if let Some(unknown) = s.only.iter().find(|id| !cases.iter().any(|c| &c.id == *id)) {
        let known: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        return Err(format!(
            "--case {unknown}: no such case; the cases are {}",
            known.join(", ")
        ));
    }
    if !s.only.is_empty() {
        cases.retain(|c| c.id == VALID || s.only.contains(&c.id));
    }
    Ok(cases)
}

/// Every case, in report order.
pub fn catalogue(s: &Settings) -> Vec<Case> {
    use Expect::{Accept, Refuse};
    use Forgery::*;
    let now = s.now;
    let forged = |id: &str, title: &str, forgery: Forgery, fix: &str| {
        case(
            id,
            title,
            Refuse,
            FORGED_MEANING,
            fix,
            Recipe::Forged(forgery),
        )
    };
    let none_fix =
        "Pin the accepted algorithms; never accept `none` (in any spelling) on a bearer token.";
    let signature_fix = "Verify the signature before reading any claim, and refuse a token whose signature is missing or wrong.";
    let mut cases =
        vec![
        case(
            VALID,
            "valid access token",
            Accept,
            "The API refuses a valid token (or reports another identity than the token's): the \
             probe's configuration (issuer, audience, URL) or the API's is wrong, and the other \
             verdicts cannot be trusted until this passes.",
            "Point the API at the issuer the probe printed and the audience given with --audience.",
            Recipe::Minted(s.mint(json!({}))),
        ),
        forged("alg-none", "alg: none, no signature", AlgNone("none"), none_fix),
        forged("alg-none-title", "alg: None, no signature", AlgNone("None"), none_fix),
        forged("alg-none-upper", "alg: NONE, no signature", AlgNone("NONE"), none_fix),
        forged("alg-none-mixed", "alg: nOnE, no signature", AlgNone("nOnE"), none_fix),
    ];
    for (id, title, form) in [
        (
            "hs256-key-confusion",
            "HS256 keyed with the issuer's public key (SPKI PEM)",
            KeyForm::SpkiPem,
        ),
        (
            "hs256-key-confusion-pkcs1",
            "HS256 keyed with the issuer's public key (PKCS#1 PEM)",
            KeyForm::Pkcs1Pem,
        ),
        (
            "hs256-key-confusion-der",
            "HS256 keyed with the issuer's public key (DER)",
            KeyForm::SpkiDer,
        ),
        (
            "hs256-key-confusion-jwk",
            "HS256 keyed with the issuer's JWK as JSON",
            KeyForm::JwkJson,
        ),
    ] {
        cases.push(case(
            id,
            title,
            Refuse,
            KEY_CONFUSION_MEANING,
            KEY_CONFUSION_FIX,
            Recipe::Forged(KeyConfusion(form)),
        ));
    }
    cases.extend([
        forged("signature-stripped", "signature removed", StripSignature, signature_fix),
        forged("signature-corrupted", "signature altered", CorruptSignature, signature_fix),
        case(
            "kid-unknown",
            "signed by a key the issuer does not publish",
            Refuse,
            FORGED_MEANING,
            "Refuse a token whose `kid` is not in the issuer's JWKS (after at most one refetch).",
            Recipe::Minted(MintRequest { signing: Signing::Unpublished, ..s.mint(json!({})) }),
        ),
        forged("jwk-header", "key embedded in the `jwk` header", EmbeddedJwk, NO_HEADER_KEYS_FIX),
        forged("jku-header", "`jku` naming the probe's JWKS", Jku, NO_HEADER_KEYS_FIX),
        forged("x5u-header", "`x5u` naming the probe's certificate", X5u, NO_HEADER_KEYS_FIX),
        forged(
            "kid-path-traversal",
            "`kid` a path (../../dev/null), HS256 with an empty key",
            KidPath,
            "Look `kid` up in the JWKS only; never use it as a file path, and pin the algorithm.",
        ),
        forged(
            "kid-sql-injection",
            "`kid` an SQL injection, HS256 with the key `key`",
            KidSql,
            "Look `kid` up in the JWKS only; never splice it into a query, and pin the algorithm.",
        ),
        forged(
            "es256-zero-signature",
            "ES256 with r = s = 0 (CVE-2022-21449), raw",
            Es256Zero { der: false },
            "Update the JWT library and the runtime (Java 15-18 must be patched); refuse r or s of zero.",
        ),
        forged(
            "es256-zero-signature-der",
            "ES256 with r = s = 0 (CVE-2022-21449), DER",
            Es256Zero { der: true },
            "Update the JWT library and the runtime (Java 15-18 must be patched); refuse r or s of zero.",
        ),
    ]);
    let time_fix = "Check `exp`, `nbf` and `iat` with a clock skew of at most 60 s.";
    let skew_fix =
        "Allow a clock skew (about 60 s): the IdP's clock and the API's are never equal.";
    let replay = "A stolen or leaked token stays usable past its lifetime.";
    let too_strict = "The API refuses tokens a clock difference of seconds makes look expired or early: users see spurious 401s.";
    cases.extend([
        case("expired", "expired 120 s ago (beyond 60 s skew)", Refuse, replay, time_fix,
            Recipe::Minted(s.mint(json!({"iat": now - 420, "exp": now - BEYOND})))),
        case("expired-within-skew", "expired 30 s ago (within 60 s skew)", Accept, too_strict, skew_fix,
            Recipe::Minted(s.mint(json!({"iat": now - 330, "exp": now - WITHIN})))),
        case("nbf-future", "not valid for 120 s (nbf, beyond skew)", Refuse,
            "Tokens minted for later use work now: a pre-issued token is not held back.", time_fix,
            Recipe::Minted(s.mint(json!({"nbf": now + BEYOND})))),
        case("nbf-within-skew", "not valid for 30 s (nbf, within skew)", Accept, too_strict, skew_fix,
            Recipe::Minted(s.mint(json!({"nbf": now + WITHIN})))),
        case("iat-future", "issued 120 s in the future (beyond skew)", Refuse,
            "The API takes a token from the future: an issuer with a broken clock, or a forged `iat` that lengthens a token's life, goes unnoticed.",
            time_fix,
            Recipe::Minted(s.mint(json!({"iat": now + BEYOND, "exp": now + BEYOND + 300})))),
        case("iat-within-skew", "issued 30 s in the future (within skew)", Accept, too_strict, skew_fix,
            Recipe::Minted(s.mint(json!({"iat": now + WITHIN, "exp": now + WITHIN + 300})))),
    ]);
    let issuer_fix = "Require `iss` to equal the configured issuer exactly.";
    let audience_fix =
        "Require `aud` to contain the API's own audience; refuse tokens without one.";
    let audience_meaning = "A token issued for another application (another API, a client's ID token) works here: any application that receives users' tokens can replay them against this API.";
    cases.extend([
        case("iss-wrong", "`iss` another issuer's (signed by the trusted key)", Refuse,
            "The API does not check who issued the token: tokens from another realm or tenant sharing the key work here.",
            issuer_fix, Recipe::Minted(s.mint(json!({"iss": "https://impostor.ssoproof.invalid/realms/acme"})))),
        case("iss-missing", "no `iss`", Refuse,
            "The API does not check who issued the token.", issuer_fix,
            Recipe::Minted(s.mint(json!({"iss": null})))),
        case("aud-wrong", "`aud` another API's", Refuse, audience_meaning, audience_fix,
            Recipe::Minted(s.mint(json!({"aud": "https://other-api.ssoproof.invalid"})))),
        case("aud-missing", "no `aud`", Refuse, audience_meaning, audience_fix,
            Recipe::Minted(s.mint(json!({"aud": null})))),
        case("id-token", "an ID token offered as an access token", Refuse,
            "The API takes ID tokens, which every client of the IdP receives and which prove a login, not a grant to call this API.",
            "Accept access tokens only: check `aud` is the API's (not a client id) and the token type (`typ` `at+jwt`, or the IdP's access-token marker).",
            Recipe::Minted(MintRequest { token: TokenKind::Id, ..MintRequest::access(&s.user) })),
        case("crit-unknown", "unknown `crit` header extension", Refuse,
            "The API ignores header parameters the token says must be understood (RFC 7515 §4.1.11): a future security extension would be silently skipped.",
            "Use a JWT library that refuses unknown `crit` extensions.",
            Recipe::Minted(MintRequest {
                header: json!({"crit": ["urn:ssoproof:unknown"], "urn:ssoproof:unknown": true})
                    .as_object().cloned().unwrap_or_default(),
                ..s.mint(json!({}))
            })),
        case("other-issuer", "another issuer's token, signed with its own key", Refuse,
            "The API trusts keys it was not configured with (any issuer's, or the first one it meets).",
            "Trust only the configured issuer's JWKS, and require `iss` to match it.",
            Recipe::OtherIssuer),
        Case {
            refusal: Refusal::ClientError,
            ..case("oversized", "a 64 KiB token (validly signed)", Refuse,
                "The API parses and verifies arbitrarily large tokens: cheap requests cost it memory and CPU. Refusing with any 4xx is right; a 5xx or a dropped connection is not.",
                "Cap the request header size (8-16 KiB is common) in the server or gateway in front of the API.",
                Recipe::Minted(s.mint(json!({"pad": "A".repeat(OVERSIZED_BYTES)}))))
        },
    ]);
    if let Some(rule) = &s.group {
        // Every other token of the user carries the group (the valid case is the member's).
        cases.push(Case {
            refusal: Refusal::Forbidden,
            ..case(
                "group-non-member",
                &format!("not a member of {}", rule.group),
                Refuse,
                "A user outside the group reaches what the group rule protects.",
                "Enforce the group rule on every route it protects (a 403 for non-members).",
                Recipe::Minted(
                    s.mint(json!({ rule.claim.clone(): ["ssoproof-probe-other-group"] })),
                ),
            )
        });
    }
    for user in &s.allowed_users {
        cases.push(case(
            &format!("user-allowed:{user}"),
            &format!("{user} (allowed by the realm's groups)"),
            Accept,
            "The API refuses a user its group rule allows.",
            "Check the claim the group rule reads and the user's groups in the realm.",
            Recipe::Minted(s.mint_for(user)),
        ));
    }
    for user in &s.denied_users {
        cases.push(Case {
            refusal: Refusal::Forbidden,
            ..case(
                &format!("user-denied:{user}"),
                &format!("{user} (not allowed by the realm's groups)"),
                Refuse,
                "A user outside the allowed groups reaches what the group rule protects.",
                "Enforce the group rule on every route it protects (a 403 for non-members).",
                Recipe::Minted(s.mint_for(user)),
            )
        });
    }
    cases.push(case(
        ROTATION,
        "signed by a newly rotated key",
        Accept,
        "After the IdP rotates its signing key the API refuses new tokens until it refetches its \
         JWKS (at a restart, when its cache expires, or after a cooldown since its last fetch): an \
         outage at each rotation.",
        "Refetch the JWKS when a token names an unknown `kid`, rate-limited by seconds, not \
         blocked for minutes.",
        Recipe::Rotation,
    ));
    cases
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn settings() -> Settings {
        Settings {
            user: "alice".into(),
            audience: "api".into(),
            group: Some(GroupRule {
                group: "AI-Power-Users".into(),
                claim: "groups".into(),
            }),
            allowed_users: vec!["carol".into()],
            denied_users: vec!["dave".into()],
            now: 1_000_000,
            only: Vec::new(),
        }
    }

    #[test]
    fn ids_are_unique_valid_first_rotation_last_and_every_case_explains_itself() {
        let cases = catalogue(&settings());
        let ids: HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), cases.len());
        assert_eq!(cases[0].id, VALID);
        assert_eq!(cases.last().unwrap().id, ROTATION);
        for c in &cases {
            assert!(!c.meaning.is_empty() && !c.fix.is_empty(), "{}", c.id);
        }
        for id in ["user-allowed:carol", "user-denied:dave", "group-non-member"] {
            assert!(ids.contains(id), "{id}");
        }
    }

    #[test]
    fn a_selection_keeps_the_valid_control_and_refuses_unknown_ids() {
        let only = |ids: &[&str]| Settings {
            only: ids.iter().map(|id| id.to_string()).collect(),
            ..settings()
        };
        let ids = |cases: Vec<Case>| cases.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(select(&only(&["alg-none", ROTATION])).unwrap()),
            [VALID, "alg-none", ROTATION]
        );
        assert_eq!(
            select(&only(&[])).unwrap().len(),
            catalogue(&settings()).len()
        );
        let error = select(&only(&["alg-nope"])).unwrap_err();
        assert!(
            error.starts_with("--case alg-nope: no such case; the cases are valid, alg-none,"),
            "{error}"
        );
    }

    #[test]
    fn minted_cases_ask_for_what_their_title_says() {
        let cases = catalogue(&settings());
        let mint = |id: &str| match &cases.iter().find(|c| c.id == id).unwrap().recipe {
            Recipe::Minted(mint) => mint.clone(),
            other => panic!("{id}: {other:?}"),
        };
        assert_eq!(mint(VALID).claims["aud"], "api");
        assert_eq!(mint("expired").claims["exp"], 1_000_000 - 120);
        assert_eq!(mint("expired-within-skew").claims["exp"], 1_000_000 - 30);
        assert_eq!(mint("nbf-future").claims["nbf"], 1_000_000 + 120);
        assert_eq!(mint("iat-future").claims["iat"], 1_000_000 + 120);
        assert_eq!(mint("iss-missing").claims["iss"], Value::Null);
        assert_eq!(mint("aud-missing").claims["aud"], Value::Null);
        assert_eq!(mint("id-token").token, TokenKind::Id);
        assert_eq!(mint("kid-unknown").signing, Signing::Unpublished);
        assert_eq!(
            mint("crit-unknown").header["crit"][0],
            "urn:ssoproof:unknown"
        );
        assert_eq!(mint(VALID).claims["groups"][0], "AI-Power-Users");
        assert_eq!(mint("expired").claims["groups"][0], "AI-Power-Users");
        assert_ne!(
            mint("group-non-member").claims["groups"][0],
            "AI-Power-Users"
        );
        assert_eq!(mint("user-denied:dave").username.as_deref(), Some("dave"));
        let pad = mint("oversized").claims["pad"].as_str().unwrap().len();
        assert_eq!(pad, OVERSIZED_BYTES);
    }
}
