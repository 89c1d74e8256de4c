//! Fault injection: ways to make the emulator misbehave on purpose, so that a relying party's
//! rejections can be tested one by one (the OpenID Foundation's RP certification cases).
//!
//! A fault stays active until it is cleared: every token issued meanwhile is broken the same
//! way. Injecting a fault of a kind already active replaces it (`jwks_slow` with a new delay, or
//! the same fault aimed at other tokens). Claim and signature faults break ID tokens unless they
//! are aimed at access tokens ([`FaultTokens`]); refresh tokens stay valid so that the flow itself
//! can complete. `clock_skew` shifts the time claims of every token.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::state::lock;
use super::IdpError;

/// One way to misbehave. As JSON (the admin API): `{"fault": "wrong_issuer"}`,
/// `{"fault": "jwks_slow", "millis": 3000}`, `{"fault": "clock_skew", "seconds": -120}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// ID token `iss` is another realm's issuer (`…/realms/<realm>-impostor`).
    WrongIssuer,
    /// ID token `aud` is another client (`another-client`).
    WrongAudience,
    /// ID token has no `aud`.
    MissingAudience,
    /// ID token `nonce` is not the one the client sent (present even when none was sent).
    WrongNonce,
    /// ID token has no `sub`.
    MissingSub,
    /// ID token has no `iat`.
    MissingIat,
    /// ID token expired five minutes ago (`exp` = now − 300, `iat` = now − 600).
    Expired,
    /// ID token issued ten minutes in the future (`iat` = now + 600).
    IatInFuture,
    /// ID token carries `nbf` ten minutes in the future.
    NotYetValid,
    /// ID token is unsigned: header `{"alg":"none"}`, empty signature.
    AlgNone,
    /// ID token is signed with HS256 using the client secret as the key (an empty key for a
    /// public client), without a `kid`.
    Hs256ClientSecret,
    /// ID token signature does not verify (one bit flipped).
    BadSignature,
    /// ID token header has no `kid`.
    NoKid,
    /// ID token header has no `kid` while the JWKS holds several keys (the keys are rotated
    /// first when the JWKS holds only one).
    NoKidMultipleKeys,
    /// ID token header names a `kid` the JWKS does not hold.
    UnknownKid,
    /// Keys rotate right before each ID token is signed, so its `kid` is one the relying party
    /// has not cached.
    RotateBeforeSigning,
    /// ID token `aud` is `[client, "another-audience"]` and there is no `azp`.
    MultipleAudiencesWithoutAzp,
    /// ID token `azp` is another client.
    WrongAzp,
    /// ID token `at_hash` does not match the access token.
    WrongAtHash,
    /// The userinfo response names another `sub`.
    UserinfoOtherSub,
    /// The ID token of a refresh response names another `sub`.
    RefreshOtherSub,
    /// The ID token of a refresh response has another issuer.
    RefreshWrongIssuer,
    /// The certs endpoint answers 503.
    JwksDown,
    /// The certs endpoint answers after a delay.
    JwksSlow { millis: u64 },
    /// The discovery document's `issuer` is another realm's issuer.
    DiscoveryIssuerMismatch,
    /// Every issued time claim (`iat`, `exp`, `auth_time`, `nbf`) is shifted by this many seconds,
    /// as if the provider's clock were wrong.
    ClockSkew { seconds: i64 },
    /// Authorization responses leave out the RFC 9207 `iss` parameter although discovery
    /// advertises `authorization_response_iss_parameter_supported` (no effect where `iss` is not
    /// sent, see [`crate::IdpOptions::iss_parameter`]).
    IssParameterMissing,
    /// Authorization responses carry another issuer as the RFC 9207 `iss` parameter (no effect
    /// where `iss` is not sent).
    IssParameterWrong,
}

impl Fault {
    /// Whether the fault can break an access token: the claim and signature faults, but not those
    /// about the nonce, `at_hash`, refreshes, userinfo, discovery, the JWKS, the clock or the
    /// authorization response.
    pub fn breaks_access_tokens(&self) -> bool {
        matches!(
            self,
            Fault::WrongIssuer
                | Fault::WrongAudience
                | Fault::MissingAudience
                | Fault::MissingSub
                | Fault::MissingIat
                | Fault::Expired
                | Fault::IatInFuture
                | Fault::NotYetValid
                | Fault::AlgNone
                | Fault::Hs256ClientSecret
                | Fault::BadSignature
                | Fault::NoKid
                | Fault::NoKidMultipleKeys
                | Fault::UnknownKid
                | Fault::RotateBeforeSigning
                | Fault::MultipleAudiencesWithoutAzp
                | Fault::WrongAzp
        )
    }

    /// The fault's name as the admin API spells it (`wrong_issuer`).
    fn name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v["fault"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Whether Keycloak's token verification at userinfo refuses an access token this fault
    /// broke: a bad signature or key id, another issuer, no subject, outside its validity window,
    /// no or another `azp` (the client is looked up by it). The audience and `iat` are not checked.
    fn refused_by_userinfo(&self) -> bool {
        !matches!(
            self,
            Fault::WrongAudience
                | Fault::MissingAudience
                | Fault::MissingIat
                | Fault::IatInFuture
                | Fault::RotateBeforeSigning
        )
    }
}

/// Which tokens a claim or signature fault breaks. As JSON, beside the fault (the admin API):
/// `{"fault": "alg_none", "tokens": "access"}`; without `tokens`, ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTokens {
    #[default]
    Id,
    Access,
    Both,
}

impl FaultTokens {
    fn is_id(&self) -> bool {
        *self == FaultTokens::Id
    }

    fn covers(self, token: FaultTokens) -> bool {
        self == FaultTokens::Both || self == token
    }
}

/// A fault with the tokens it is aimed at: the admin API's body and state entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AimedFault {
    #[serde(flatten)]
    pub fault: Fault,
    /// Left out of the state when it is the default, so that ID-token faults read as before.
    #[serde(default, skip_serializing_if = "FaultTokens::is_id")]
    pub tokens: FaultTokens,
}

impl AimedFault {
    /// The fault, unless it is aimed at access tokens it cannot break.
    pub fn new(fault: Fault, tokens: FaultTokens) -> Result<AimedFault, IdpError> {
        if tokens != FaultTokens::Id && !fault.breaks_access_tokens() {
            return Err(IdpError::FaultTokens(fault.name()));
        }
        Ok(AimedFault { fault, tokens })
    }
}

/// The faults in force. Cheap to share: every request takes a snapshot.
#[derive(Default)]
pub(crate) struct ActiveFaults(Mutex<Vec<AimedFault>>);

impl ActiveFaults {
    pub fn inject(&self, fault: AimedFault) {
        let mut faults = lock(&self.0);
        faults.retain(|f| std::mem::discriminant(&f.fault) != std::mem::discriminant(&fault.fault));
        faults.push(fault);
    }

    pub fn clear(&self) {
        lock(&self.0).clear();
    }

    pub fn snapshot(&self) -> Faults {
        Faults(lock(&self.0).clone())
    }
}

/// A snapshot of the active faults.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults(Vec<AimedFault>);

/// What the claim faults need to know about the token being broken.
pub(crate) struct TokenFacts<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The (skewed) issuing time.
    pub now: i64,
    pub lifespan: i64,
    /// Whether the token is part of a refresh response.
    pub refresh: bool,
}

/// How a token's JOSE header and signature are to be broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureFault {
    None,
    AlgNone,
    Hs256ClientSecret,
    BadSignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KidFault {
    None,
    Absent,
    AbsentAmongSeveral,
    Unknown,
}

/// Another realm's issuer on the same server.
pub(crate) fn impostor_issuer(issuer: &str) -> String {
    format!("{issuer}-impostor")
}

impl Faults {
    pub fn all(&self) -> &[AimedFault] {
        &self.0
    }

    fn faults(&self) -> impl Iterator<Item = &Fault> {
        self.0.iter().map(|f| &f.fault)
    }

    /// The faults aimed at ID tokens ([`FaultTokens::Id`]) or at access tokens
    /// ([`FaultTokens::Access`]); those about no token are kept with the ID tokens' (where they
    /// are aimed by default).
    pub fn aimed_at(&self, tokens: FaultTokens) -> Faults {
        Faults(
            self.0
                .iter()
                .filter(|f| f.tokens.covers(tokens))
                .cloned()
                .collect(),
        )
    }

    /// Whether any fault in the snapshot makes userinfo refuse the access token it broke.
    pub fn refused_by_userinfo(&self) -> bool {
        self.faults().any(Fault::refused_by_userinfo)
    }

    pub fn has(&self, fault: &Fault) -> bool {
        self.faults().any(|f| f == fault)
    }

    /// The RFC 9207 `iss` an authorization response carries instead of `iss`.
    pub fn iss_parameter(&self, iss: Option<String>) -> Option<String> {
        if self.has(&Fault::IssParameterMissing) {
            None
        } else if self.has(&Fault::IssParameterWrong) {
            iss.map(|iss| impostor_issuer(&iss))
        } else {
            iss
        }
    }

    pub fn clock_skew(&self) -> i64 {
        self.faults()
            .find_map(|f| match f {
                Fault::ClockSkew { seconds } => Some(*seconds),
                _ => None,
            })
            .unwrap_or(0)
    }

    pub fn jwks_delay(&self) -> Option<Duration> {
        self.faults().find_map(|f| match f {
            Fault::JwksSlow { millis } => Some(Duration::from_millis(*millis)),
            _ => None,
        })
    }

    /// The signature fault in force; when several are, the first in this order wins.
    pub fn signature(&self) -> SignatureFault {
        if self.has(&Fault::AlgNone) {
            SignatureFault::AlgNone
        } else if self.has(&Fault::Hs256ClientSecret) {
            SignatureFault::Hs256ClientSecret
        } else if self.has(&Fault::BadSignature) {
            SignatureFault::BadSignature
        } else {
            SignatureFault::None
        }
    }

    pub fn kid(&self) -> KidFault {
        if self.has(&Fault::NoKidMultipleKeys) {
            KidFault::AbsentAmongSeveral
        } else if self.has(&Fault::NoKid) {
            KidFault::Absent
        } else if self.has(&Fault::UnknownKid) {
            KidFault::Unknown
        } else {
            KidFault::None
        }
    }

    /// Breaks a token's claims as the faults say (those aimed at the token: see
    /// [`Faults::aimed_at`]).
    pub fn apply_to_claims(&self, claims: &mut Map<String, Value>, facts: &TokenFacts<'_>) {
        let now = facts.now;
        for fault in self.faults() {
            match fault {
                Fault::WrongIssuer => set(claims, "iss", impostor_issuer(facts.issuer)),
                Fault::RefreshWrongIssuer if facts.refresh => {
                    set(claims, "iss", impostor_issuer(facts.issuer))
                }
                Fault::WrongAudience => set(claims, "aud", "another-client"),
                Fault::MissingAudience => {
                    claims.remove("aud");
                }
                Fault::WrongNonce => set(claims, "nonce", "not-the-nonce-you-sent"),
                Fault::MissingSub => {
                    claims.remove("sub");
                }
                Fault::RefreshOtherSub if facts.refresh => {
                    set(claims, "sub", uuid::Uuid::new_v4().to_string())
                }
                Fault::MissingIat => {
                    claims.remove("iat");
                }
                Fault::Expired => {
                    claims.insert("iat".into(), Value::from(now - 600));
                    claims.insert("exp".into(), Value::from(now - 300));
                }
                Fault::IatInFuture => {
                    claims.insert("iat".into(), Value::from(now + 600));
                    claims.insert("exp".into(), Value::from(now + 600 + facts.lifespan));
                }
                Fault::NotYetValid => {
                    claims.insert("nbf".into(), Value::from(now + 600));
                }
                Fault::MultipleAudiencesWithoutAzp => {
                    claims.insert(
                        "aud".into(),
                        serde_json::json!([facts.client_id, "another-audience"]),
                    );
                    claims.remove("azp");
                }
                Fault::WrongAzp => set(claims, "azp", "another-client"),
                Fault::WrongAtHash => set(claims, "at_hash", "AAAAAAAAAAAAAAAAAAAAAA"),
                _ => {}
            }
        }
    }
}

fn set(claims: &mut Map<String, Value>, key: &str, value: impl Into<String>) {
    claims.insert(key.to_string(), Value::String(value.into()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_and_replacement() {
        let fault: Fault =
            serde_json::from_str(r#"{"fault": "jwks_slow", "millis": 250}"#).unwrap();
        assert_eq!(fault, Fault::JwksSlow { millis: 250 });
        assert_eq!(
            serde_json::to_string(&Fault::Hs256ClientSecret).unwrap(),
            r#"{"fault":"hs256_client_secret"}"#
        );
        assert_eq!(
            serde_json::to_string(&Fault::ClockSkew { seconds: -90 }).unwrap(),
            r#"{"fault":"clock_skew","seconds":-90}"#
        );
        let active = ActiveFaults::default();
        let id = |fault| AimedFault::new(fault, FaultTokens::Id).unwrap();
        active.inject(id(Fault::JwksSlow { millis: 1 }));
        active.inject(id(Fault::NoKid));
        active.inject(id(Fault::JwksSlow { millis: 2 }));
        let snapshot = active.snapshot();
        assert_eq!(
            snapshot.all(),
            [id(Fault::NoKid), id(Fault::JwksSlow { millis: 2 })]
        );
        assert_eq!(snapshot.jwks_delay(), Some(Duration::from_millis(2)));
        active.clear();
        assert!(active.snapshot().all().is_empty());
    }

    #[test]
    fn refresh_faults_spare_the_first_id_token() {
        let faults = Faults(vec![
            AimedFault::new(Fault::RefreshOtherSub, FaultTokens::Id).unwrap(),
            AimedFault::new(Fault::RefreshWrongIssuer, FaultTokens::Id).unwrap(),
        ]);
        let mut claims = Map::new();
        claims.insert("sub".into(), "u".into());
        claims.insert("iss".into(), "i".into());
        let facts = |refresh| TokenFacts {
            issuer: "i",
            client_id: "c",
            now: 0,
            lifespan: 300,
            refresh,
        };
        faults.apply_to_claims(&mut claims, &facts(false));
        assert_eq!(
            (claims["sub"].as_str(), claims["iss"].as_str()),
            (Some("u"), Some("i"))
        );
        faults.apply_to_claims(&mut claims, &facts(true));
        assert_ne!(claims["sub"], "u");
        assert_eq!(claims["iss"], "i-impostor");
    }

    #[test]
    fn faults_are_aimed_at_id_tokens_unless_told() {
        let aimed: AimedFault = serde_json::from_str(r#"{"fault": "alg_none"}"#).unwrap();
        assert_eq!(aimed.tokens, FaultTokens::Id);
        let aimed: AimedFault =
            serde_json::from_str(r#"{"fault": "expired", "tokens": "both"}"#).unwrap();
        assert_eq!(
            (aimed.fault, aimed.tokens),
            (Fault::Expired, FaultTokens::Both)
        );
        let skew = AimedFault::new(Fault::ClockSkew { seconds: 1 }, FaultTokens::Id).unwrap();
        assert_eq!(
            serde_json::to_value(&skew).unwrap(),
            serde_json::json!({"fault": "clock_skew", "seconds": 1})
        );
        let refused = AimedFault::new(Fault::WrongNonce, FaultTokens::Access).unwrap_err();
        assert_eq!(refused.code(), "idp/fault-tokens");
        assert!(refused.to_string().contains("wrong_nonce"), "{refused}");

        let faults = Faults(vec![
            AimedFault::new(Fault::WrongIssuer, FaultTokens::Access).unwrap(),
            AimedFault::new(Fault::MissingSub, FaultTokens::Both).unwrap(),
            AimedFault::new(Fault::WrongNonce, FaultTokens::Id).unwrap(),
        ]);
        let names = |f: Faults| f.faults().map(Fault::name).collect::<Vec<_>>();
        assert_eq!(
            names(faults.aimed_at(FaultTokens::Access)),
            ["wrong_issuer", "missing_sub"]
        );
        assert_eq!(
            names(faults.aimed_at(FaultTokens::Id)),
            ["missing_sub", "wrong_nonce"]
        );
    }

    #[test]
    fn iss_parameter_faults() {
        let with = |fault| Faults(vec![AimedFault::new(fault, FaultTokens::Id).unwrap()]);
        let iss = || Some("http://idp/realms/acme".to_string());
        assert_eq!(Faults::default().iss_parameter(iss()), iss());
        assert_eq!(with(Fault::IssParameterMissing).iss_parameter(iss()), None);
        assert_eq!(
            with(Fault::IssParameterWrong)
                .iss_parameter(iss())
                .as_deref(),
            Some("http://idp/realms/acme-impostor")
        );
        assert_eq!(with(Fault::IssParameterWrong).iss_parameter(None), None);
    }
}
