//! Fault injection: ways to make the emulator misbehave on purpose, so that a relying party's
//! rejections can be tested one by one (the OpenID Foundation's RP certification cases).
//!
//! A fault stays active until it is cleared: every token issued meanwhile is broken the same
//! way. Injecting a fault of a kind already active replaces it (`jwks_slow` with a new delay).
//! Claim and signature faults apply to ID tokens only; access and refresh tokens stay valid so
//! that the flow itself can complete, except for `clock_skew`, which shifts the time claims of
//! every token.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::state::lock;

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
}

/// The faults in force. Cheap to share: every request takes a snapshot.
#[derive(Default)]
pub(crate) struct ActiveFaults(Mutex<Vec<Fault>>);

impl ActiveFaults {
    pub fn inject(&self, fault: Fault) {
        let mut faults = lock(&self.0);
        faults.retain(|f| std::mem::discriminant(f) != std::mem::discriminant(&fault));
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
pub(crate) struct Faults(Vec<Fault>);

/// What the ID-token faults need to know about the token being broken.
pub(crate) struct IdTokenFacts<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The (skewed) issuing time.
    pub now: i64,
    pub lifespan: i64,
    /// Whether the token is part of a refresh response.
    pub refresh: bool,
}

/// How the ID token's JOSE header and signature are to be broken.
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
    pub fn all(&self) -> &[Fault] {
        &self.0
    }

    pub fn has(&self, fault: &Fault) -> bool {
        self.0.contains(fault)
    }

    pub fn clock_skew(&self) -> i64 {
        self.0
            .iter()
            .find_map(|f| match f {
                Fault::ClockSkew { seconds } => Some(*seconds),
                _ => None,
            })
            .unwrap_or(0)
    }

    pub fn jwks_delay(&self) -> Option<Duration> {
        self.0.iter().find_map(|f| match f {
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

    /// Breaks the claims of an ID token as the active faults say.
    pub fn apply_to_id_token(&self, claims: &mut Map<String, Value>, facts: &IdTokenFacts<'_>) {
        let now = facts.now;
        for fault in &self.0 {
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
        active.inject(Fault::JwksSlow { millis: 1 });
        active.inject(Fault::NoKid);
        active.inject(Fault::JwksSlow { millis: 2 });
        let snapshot = active.snapshot();
        assert_eq!(
            snapshot.all(),
            [Fault::NoKid, Fault::JwksSlow { millis: 2 }]
        );
        assert_eq!(snapshot.jwks_delay(), Some(Duration::from_millis(2)));
        active.clear();
        assert!(active.snapshot().all().is_empty());
    }

    #[test]
    fn refresh_faults_spare_the_first_id_token() {
        let faults = Faults(vec![Fault::RefreshOtherSub, Fault::RefreshWrongIssuer]);
        let mut claims = Map::new();
        claims.insert("sub".into(), "u".into());
        claims.insert("iss".into(), "i".into());
        let facts = |refresh| IdTokenFacts {
            issuer: "i",
            client_id: "c",
            now: 0,
            lifespan: 300,
            refresh,
        };
        faults.apply_to_id_token(&mut claims, &facts(false));
        assert_eq!(
            (claims["sub"].as_str(), claims["iss"].as_str()),
            (Some("u"), Some("i"))
        );
        faults.apply_to_id_token(&mut claims, &facts(true));
        assert_ne!(claims["sub"], "u");
        assert_eq!(claims["iss"], "i-impostor");
    }
}
