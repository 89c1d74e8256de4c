//! Verifying a web-identity token the way a cloud's STS does: find the issuer's keys (from its
//! discovery document and JWKS, fetched from the cloud's side, or from keys configured inline),
//! check the signature with an allowed algorithm, and hand back the header and claims. Issuer,
//! audience and time rules differ between AWS and Google, so each STS emulator applies its own.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::{Map, Value};

/// Why a token's keys could not be found or its signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0} is not accepted")]
    Algorithm(String),
    #[error("cannot fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("no key with kid {kid:?} in the issuer's JWKS")]
    UnknownKid { kid: Option<String> },
    #[error("the signature does not verify")]
    Signature,
}

/// Where an STS gets the issuer's keys.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// `<issuer>/.well-known/openid-configuration` → `jwks_uri`, fetched over HTTP(S).
    Discovery { issuer: String },
    /// A JWKS configured inline (Google's `jwksJson`): nothing is fetched.
    Inline(JwkSet),
}

/// A token whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub header: Header,
    pub claims: Map<String, Value>,
}

/// The unverified header and claims, for the checks an STS makes before it fetches keys
/// (which issuer is this for, is it expired).
pub fn peek(token: &str) -> Result<(Header, Map<String, Value>), KeyError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| KeyError::Malformed(e.to_string()))?;
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| KeyError::Malformed("no payload".into()))?;
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| KeyError::Malformed(format!("payload is not base64url: {e}")))?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|e| KeyError::Malformed(format!("payload is not a JSON object: {e}")))?;
    Ok((header, claims))
}

/// Verifies `token`'s signature with a key from `source`, accepting only `algorithms`.
pub async fn verify(
    http: &reqwest::Client,
    token: &str,
    source: &KeySource,
    algorithms: &[Algorithm],
) -> Result<VerifiedToken, KeyError> {
    let (header, _) = peek(token)?;
    if !algorithms.contains(&header.alg) {
        return Err(KeyError::Algorithm(format!("{:?}", header.alg)));
    }
    let jwks = match source {
        KeySource::Inline(set) => set.clone(),
        KeySource::Discovery { issuer } => fetch_jwks(http, issuer).await?,
    };
    let candidates: Vec<_> = jwks
        .keys
        .iter()
        .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .collect();
    if candidates.is_empty() {
        return Err(KeyError::UnknownKid {
            kid: header.kid.clone(),
        });
    }
    let mut validation = Validation::new(header.alg);
    // Only the signature is checked here; each STS applies its own claim rules.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation) {
            return Ok(VerifiedToken {
                header,
                claims: data.claims,
            });
        }
    }
    Err(KeyError::Signature)
}

async fn fetch_jwks(http: &reqwest::Client, issuer: &str) -> Result<JwkSet, KeyError> {
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery: Value = get_json(http, &discovery_url).await?;
    let jwks_uri = discovery["jwks_uri"]
        .as_str()
        .ok_or_else(|| KeyError::Fetch {
            url: discovery_url.clone(),
            reason: "the discovery document has no jwks_uri".into(),
        })?;
    let jwks: Value = get_json(http, jwks_uri).await?;
    serde_json::from_value(jwks).map_err(|e| KeyError::Fetch {
        url: jwks_uri.to_string(),
        reason: format!("not a JWKS: {e}"),
    })
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, KeyError> {
    let fail = |reason: String| KeyError::Fetch {
        url: url.to_string(),
        reason,
    };
    let response = http
        .get(url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    response
        .json()
        .await
        .map_err(|e| fail(format!("not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_reads_header_and_claims_and_refuses_garbage() {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"iss": "https://i.test", "sub": "s"}),
            &jsonwebtoken::EncodingKey::from_secret(b"k"),
        )
        .unwrap();
        let (header, claims) = peek(&token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(claims["iss"], "https://i.test");
        assert!(matches!(peek("not-a-jwt"), Err(KeyError::Malformed(_))));
        assert!(matches!(peek("e30.!!!.x"), Err(KeyError::Malformed(_))));
    }

    #[tokio::test]
    async fn refuses_algorithms_outside_the_list_before_fetching() {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"iss": "https://i.test"}),
            &jsonwebtoken::EncodingKey::from_secret(b"k"),
        )
        .unwrap();
        let source = KeySource::Discovery {
            issuer: "http://127.0.0.1:9".into(),
        };
        let result = verify(
            &reqwest::Client::new(),
            &token,
            &source,
            &[Algorithm::RS256],
        )
        .await;
        assert_eq!(result.unwrap_err(), KeyError::Algorithm("HS256".into()));
    }
}
