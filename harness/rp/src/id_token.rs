//! ID-token validation: the algorithm allow-list, the signature, then each claim rule with its
//! own error code, so an operator can tell a clock problem from a wrong client from a forgery.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::RpError;
use ssoproof_secret::Secret;

/// Signature algorithms an ID token may use. Never `none`, never HMAC (HS*): a shared-secret
/// signature proves nothing about the IdP to a party that holds the secret too.
pub const ALLOWED_ALGS: [&str; 7] = [
    "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA",
];

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// base64url, accepting tokens with or without padding.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) fn b64url(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    /// `header.payload`, what the signature covers.
    pub signing_input: String,
    pub signature: String,
}

fn malformed(what: &str, problem: impl Into<String>) -> RpError {
    RpError::TokenMalformed {
        what: what.to_string(),
        problem: problem.into(),
    }
}

fn json_part(part: &str, name: &str) -> Result<Map<String, Value>, RpError> {
    let bytes = B64
        .decode(part)
        .map_err(|e| malformed("the ID token", format!("its {name} is not base64url: {e}")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(malformed(
            "the ID token",
            format!("its {name} is not a JSON object"),
        )),
    }
}

/// Splits and decodes `token`, and applies the algorithm allow-list.
pub(crate) fn parse(token: &Secret) -> Result<Parsed, RpError> {
    let parts: Vec<&str> = token.expose().split('.').collect();
    let [header, payload, signature] = parts[..] else {
        let problem = if parts.len() == 5 {
            "it is encrypted (JWE, 5 parts); configure the IdP to sign ID tokens without encrypting them".to_string()
        } else {
            format!(
                "a signed JWT has 3 dot-separated parts, this one has {}",
                parts.len()
            )
        };
        return Err(malformed("the ID token", problem));
    };
    let head = json_part(header, "header")?;
    let alg = match head.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        _ => return Err(malformed("the ID token", "its header has no `alg` string")),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(RpError::AlgRejected {
            alg,
            reason: "an unsigned token proves nothing",
        });
    }
    if alg.starts_with("HS") {
        return Err(RpError::AlgRejected {
            alg,
            reason: "an HMAC signature uses a secret the client shares, so it cannot prove the IdP signed the token",
        });
    }
    let allowed = ALLOWED_ALGS
        .contains(&alg.as_str())
        .then(|| alg.parse::<Algorithm>().ok())
        .flatten();
    let Some(algorithm) = allowed else {
        return Err(RpError::AlgRejected {
            alg,
            reason: "not in the allow-list RS256, RS384, RS512, PS256, ES256, ES384, EdDSA",
        });
    };
    if head.contains_key("crit") {
        return Err(malformed(
            "the ID token",
            "its header lists critical extensions (`crit`), which this relying party does not implement",
        ));
    }
    let kid = match head.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => {
            return Err(malformed(
                "the ID token",
                "its header's `kid` is not a string",
            ))
        }
    };
    let claims = json_part(payload, "payload")?;
    Ok(Parsed {
        alg: algorithm,
        kid,
        claims,
        signing_input: format!("{header}.{payload}"),
        signature: signature.to_string(),
    })
}

/// How the `nonce` claim is checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NonceRule<'a> {
    /// A login: the claim must be present and equal.
    Required(&'a str),
    /// A refresh: if present it must equal the original (OpenID Connect Core 12.2).
    IfPresent(&'a str),
    /// A session resumed from a stored refresh token: the login's nonce was not kept, so the
    /// claim cannot be compared. The refresh token, redeemed with the client's own credentials,
    /// is what ties the answer to this client.
    NotKept,
    /// A password-grant login: no authorization request carried a nonce, so none is expected;
    /// the client's own credentials at the token endpoint tie the answer to this client.
    NotSent,
}

/// What the claims must say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub issuer: &'a str,
    /// What carries the token, for messages: "the ID token", "the refreshed ID token".
    pub origin: &'a str,
    pub client_id: &'a str,
    pub nonce: NonceRule<'a>,
    pub access_token: Option<&'a Secret>,
    /// Seconds since the Unix epoch.
    pub now: i64,
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn number(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, RpError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64().or_else(|| n.as_f64().map(|f| f.floor() as i64))
        {
            Some(v) => Ok(Some(v)),
            None => Err(malformed(
                "the ID token",
                format!("its `{name}` is out of range"),
            )),
        },
        Some(other) => Err(malformed(
            "the ID token",
            format!("its `{name}` is {other}, not a number of seconds"),
        )),
    }
}

/// The `at_hash` of `access_token` for `alg`: the left half of the hash that matches the
/// algorithm's hash size, base64url-encoded (OpenID Connect Core 3.1.3.6; SHA-512 for EdDSA).
pub(crate) fn at_hash(access_token: &str, alg: Algorithm) -> String {
    let digest = match alg {
        Algorithm::RS384 | Algorithm::ES384 | Algorithm::PS384 | Algorithm::HS384 => {
            Sha384::digest(access_token.as_bytes()).to_vec()
        }
        Algorithm::RS512 | Algorithm::PS512 | Algorithm::HS512 | Algorithm::EdDSA => {
            Sha512::digest(access_token.as_bytes()).to_vec()
        }
        _ => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    b64url(&digest[..digest.len() / 2])
}

/// Applies every claim rule to a token whose signature has been verified.
pub(crate) fn check_claims(
    claims: &Map<String, Value>,
    alg: Algorithm,
    expected: &Expected<'_>,
) -> Result<(), RpError> {
    match claims.get("iss") {
        Some(Value::String(iss)) if iss == expected.issuer => {}
        other => {
            return Err(RpError::IssuerMismatch {
                origin: expected.origin.to_string(),
                expected: expected.issuer.to_string(),
                found: match other {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => "(no iss)".to_string(),
                },
                advice: "The token was issued by another issuer, or the IdP derives its issuer \
                         from the request; fix the IdP's hostname settings",
            })
        }
    }
    match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => {}
        _ => return Err(RpError::SubMissing),
    }
    let audiences: Vec<String> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|a| a.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if !audiences.iter().any(|a| a == expected.client_id) {
        return Err(RpError::AudienceMismatch {
            client_id: expected.client_id.to_string(),
            found: match claims.get("aud") {
                None => "(no aud)".to_string(),
                Some(v) => v.to_string(),
            },
        });
    }
    match claims.get("azp") {
        Some(Value::String(azp)) if azp == expected.client_id => {}
        Some(other) => {
            return Err(RpError::AzpMismatch {
                client_id: expected.client_id.to_string(),
                found: other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_string),
            })
        }
        None if audiences.len() > 1 => {
            return Err(RpError::AzpRequired { audiences });
        }
        None => {}
    }
    let now = expected.now;
    let exp = number(claims, "exp")?
        .ok_or_else(|| malformed("the ID token", "it has no `exp` (expiry) claim"))?;
    if now > exp + CLOCK_SKEW_SECS {
        return Err(RpError::TokenExpired { seconds: now - exp });
    }
    if let Some(nbf) = number(claims, "nbf")? {
        if nbf > now + CLOCK_SKEW_SECS {
            return Err(RpError::NotYetValid { seconds: nbf - now });
        }
    }
    let iat = number(claims, "iat")?.ok_or(RpError::IatMissing)?;
    if iat > now + CLOCK_SKEW_SECS {
        return Err(RpError::IatInFuture { seconds: iat - now });
    }
    let nonce = claims.get("nonce");
    match (expected.nonce, nonce) {
        (NonceRule::NotKept | NonceRule::NotSent, _) => {}
        (NonceRule::Required(want) | NonceRule::IfPresent(want), Some(Value::String(got)))
            if got == want => {}
        (NonceRule::IfPresent(_), None) => {}
        (_, None) => {
            return Err(RpError::NonceMismatch {
                problem: "is missing".to_string(),
            })
        }
        (_, Some(_)) => {
            return Err(RpError::NonceMismatch {
                problem: "differs from the one sent".to_string(),
            })
        }
    }
    if let (Some(claim), Some(token)) = (claims.get("at_hash"), expected.access_token) {
        if claim.as_str() != Some(at_hash(token.expose(), alg).as_str()) {
            return Err(RpError::AtHashMismatch);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn expected(access: Option<&Secret>) -> Expected<'_> {
        Expected {
            issuer: "https://idp",
            origin: "the ID token",
            client_id: "app",
            nonce: NonceRule::Required("n-1"),
            access_token: access,
            now: NOW,
        }
    }

    fn good() -> Map<String, Value> {
        json!({"iss": "https://idp", "sub": "u1", "aud": "app", "exp": NOW + 300, "iat": NOW, "nonce": "n-1"})
            .as_object()
            .unwrap()
            .clone()
    }

    fn code_with(change: Value, remove: &[&str]) -> &'static str {
        let mut claims = good();
        for (k, v) in change.as_object().unwrap() {
            claims.insert(k.clone(), v.clone());
        }
        for k in remove {
            claims.remove(*k);
        }
        check_claims(&claims, Algorithm::RS256, &expected(None)).map_or_else(|e| e.code(), |_| "ok")
    }

    #[test]
    fn every_claim_rule_has_its_code() {
        assert_eq!(code_with(json!({}), &[]), "ok");
        assert_eq!(
            code_with(json!({"iss": "https://idp/"}), &[]),
            "issuer_mismatch"
        );
        assert_eq!(code_with(json!({}), &["iss"]), "issuer_mismatch");
        assert_eq!(code_with(json!({}), &["sub"]), "sub_missing");
        assert_eq!(code_with(json!({"sub": ""}), &[]), "sub_missing");
        assert_eq!(code_with(json!({"aud": "other"}), &[]), "audience_mismatch");
        assert_eq!(code_with(json!({}), &["aud"]), "audience_mismatch");
        assert_eq!(code_with(json!({"aud": ["app"]}), &[]), "ok");
        assert_eq!(
            code_with(json!({"aud": ["app", "api"]}), &[]),
            "azp_required"
        );
        assert_eq!(
            code_with(json!({"aud": ["app", "api"], "azp": "app"}), &[]),
            "ok"
        );
        assert_eq!(
            code_with(json!({"aud": ["app", "api"], "azp": "api"}), &[]),
            "azp_mismatch"
        );
        assert_eq!(code_with(json!({"azp": "other"}), &[]), "azp_mismatch");
        assert_eq!(code_with(json!({"exp": NOW - 61}), &[]), "token_expired");
        assert_eq!(code_with(json!({"exp": NOW - 59}), &[]), "ok");
        assert_eq!(code_with(json!({}), &["exp"]), "token_malformed");
        assert_eq!(code_with(json!({"exp": "soon"}), &[]), "token_malformed");
        assert_eq!(code_with(json!({"nbf": NOW + 61}), &[]), "not_yet_valid");
        assert_eq!(code_with(json!({"nbf": NOW + 59}), &[]), "ok");
        assert_eq!(code_with(json!({}), &["iat"]), "iat_missing");
        assert_eq!(code_with(json!({"iat": NOW + 61}), &[]), "iat_in_future");
        assert_eq!(code_with(json!({"iat": NOW as f64 + 59.5}), &[]), "ok");
        assert_eq!(code_with(json!({"nonce": "n-2"}), &[]), "nonce_mismatch");
        assert_eq!(code_with(json!({}), &["nonce"]), "nonce_mismatch");
    }

    #[test]
    fn refresh_nonce_is_optional_but_must_match() {
        let mut e = expected(None);
        e.nonce = NonceRule::IfPresent("n-1");
        let mut claims = good();
        assert!(check_claims(&claims, Algorithm::RS256, &e).is_ok());
        claims.remove("nonce");
        assert!(check_claims(&claims, Algorithm::RS256, &e).is_ok());
        claims.insert("nonce".into(), json!("n-9"));
        assert_eq!(
            check_claims(&claims, Algorithm::RS256, &e)
                .unwrap_err()
                .code(),
            "nonce_mismatch"
        );
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_matching_hash() {
        // The example of OpenID Connect Core, appendix A.3 / A.4 (RS256).
        assert_eq!(
            at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                Algorithm::RS256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(at_hash("x", Algorithm::ES384).len(), 32); // 24 bytes
        assert_eq!(at_hash("x", Algorithm::EdDSA).len(), 43); // 32 bytes
        let token = Secret::new("access-1");
        let mut claims = good();
        claims.insert(
            "at_hash".into(),
            json!(at_hash("access-1", Algorithm::RS256)),
        );
        assert!(check_claims(&claims, Algorithm::RS256, &expected(Some(&token))).is_ok());
        let other = Secret::new("access-2");
        assert_eq!(
            check_claims(&claims, Algorithm::RS256, &expected(Some(&other)))
                .unwrap_err()
                .code(),
            "at_hash_mismatch"
        );
    }

    fn token(header: Value, payload: Value) -> Secret {
        Secret::new(format!(
            "{}.{}.c2ln",
            b64url(header.to_string().as_bytes()),
            b64url(payload.to_string().as_bytes())
        ))
    }

    #[test]
    fn the_allow_list_refuses_none_hmac_and_the_rest() {
        for alg in ["none", "None", "HS256", "HS512", "PS384", "ES512", "RS1"] {
            let err = parse(&token(json!({"alg": alg}), json!({}))).unwrap_err();
            assert_eq!(err.code(), "alg_rejected", "{alg}");
        }
        for alg in ALLOWED_ALGS {
            let parsed = parse(&token(json!({"alg": alg, "kid": "k"}), json!({"a": 1}))).unwrap();
            assert_eq!(format!("{:?}", parsed.alg), alg);
        }
    }

    #[test]
    fn structural_problems_are_token_malformed() {
        for bad in ["", "a.b", "a.b.c.d.e", "!!.e30.x"] {
            assert_eq!(
                parse(&Secret::new(bad)).unwrap_err().code(),
                "token_malformed",
                "{bad}"
            );
        }
        let err = parse(&token(json!({"alg": "RS256", "crit": ["b64"]}), json!({}))).unwrap_err();
        assert_eq!(err.code(), "token_malformed");
        let err = parse(&token(json!({"typ": "JWT"}), json!({}))).unwrap_err();
        assert_eq!(err.code(), "token_malformed");
    }
}
