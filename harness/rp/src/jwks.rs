//! The IdP's signing keys: fetched from discovery's `jwks_uri` on first use, cached, and refetched
//! once when a token names a key the cache does not hold (key rotation). Only fruitless refetches
//! (the key still missing, or the fetch failing) are rate-limited: a flood of tokens with made-up
//! `kid`s costs the IdP at most one JWKS request per interval, while a real rotation, whose
//! refetch finds the new key, is followed however soon it comes after the last fetch (the
//! OpenID certification case rp-key-rotation-op-sign-key rotates right after one).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::Client;
use serde_json::Value;

use super::http;
use super::RpError;

#[derive(Debug, Default)]
struct State {
    /// Usable-looking keys of the last successful fetch; `None` before the first one.
    keys: Option<Vec<Jwk>>,
    /// When the last refetch for an unknown key was attempted that did not find it.
    last_fruitless_refetch: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct Jwks {
    uri: String,
    refetch_interval: Duration,
    timeout: Duration,
    state: tokio::sync::Mutex<State>,
    fetches: AtomicUsize,
}

/// The outcome of looking a token's key up in a key set.
enum Lookup<'a> {
    Found(Vec<&'a Jwk>),
    /// A key with the token's `kid` exists but cannot verify this algorithm.
    WrongKey(String),
    NotFound(String),
}

fn alg_name(alg: Algorithm) -> String {
    format!("{alg:?}")
}

/// Whether `jwk` can verify a signature made with `alg`: key type and curve fit, its `alg` (if
/// any) is `alg`, and it is not an encryption key.
fn fits(jwk: &Jwk, alg: Algorithm) -> Result<(), String> {
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return Err("is an encryption key (`use: enc`)".to_string());
    }
    if let Some(key_alg) = jwk.common.key_algorithm {
        if key_alg.to_string() != alg_name(alg) {
            return Err(format!("is for `{key_alg}`"));
        }
    }
    let ok = match (&jwk.algorithm, alg) {
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256,
        ) => true,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES384) => p.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("is {}", key_kind(jwk)))
    }
}

fn key_kind(jwk: &Jwk) -> String {
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => "an RSA key".to_string(),
        AlgorithmParameters::EllipticCurve(p) => format!("an EC {:?} key", p.curve),
        AlgorithmParameters::OctetKeyPair(p) => format!("an OKP {:?} key", p.curve),
        AlgorithmParameters::OctetKey(_) => "a symmetric (oct) key".to_string(),
        _ => "a key of an unsupported type".to_string(),
    }
}

fn count(keys: usize) -> String {
    match keys {
        1 => "1 key".to_string(),
        n => format!("{n} keys"),
    }
}

fn lookup<'a>(keys: &'a [Jwk], kid: Option<&str>, alg: Algorithm) -> Lookup<'a> {
    match kid {
        Some(kid) => match keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid))
        {
            None => Lookup::NotFound(format!(
                "the ID token names key `{kid}`, which the IdP's JWKS ({}) does not hold",
                count(keys.len())
            )),
            Some(key) => match fits(key, alg) {
                Ok(()) => Lookup::Found(vec![key]),
                Err(why) => Lookup::WrongKey(format!(
                    "the token is signed with {} but its key `{kid}` {why}",
                    alg_name(alg)
                )),
            },
        },
        None => {
            let found: Vec<&Jwk> = keys.iter().filter(|k| fits(k, alg).is_ok()).collect();
            if found.is_empty() {
                Lookup::NotFound(format!(
                    "the ID token names no key and the IdP's JWKS ({}) holds none fit for {}",
                    count(keys.len()),
                    alg_name(alg)
                ))
            } else {
                Lookup::Found(found)
            }
        }
    }
}

impl Jwks {
    pub fn new(uri: String, refetch_interval: Duration, timeout: Duration) -> Jwks {
        Jwks {
            uri,
            refetch_interval,
            timeout,
            state: tokio::sync::Mutex::new(State::default()),
            fetches: AtomicUsize::new(0),
        }
    }

    /// How many times the JWKS was requested (successfully or not).
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    async fn fetch(&self, client: &Client) -> Result<Vec<Jwk>, RpError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let unreachable =
            |request: String, problem: String| RpError::JwksUnreachable { request, problem };
        let doc = http::get_json(client, &self.uri, self.timeout)
            .await
            .map_err(|f| unreachable(f.request, f.problem))?;
        let Some(Value::Array(list)) = doc.get("keys") else {
            return Err(unreachable(
                format!("GET {}", self.uri),
                "the answer has no `keys` array".to_string(),
            ));
        };
        // Keys this crate cannot represent are skipped, not fatal: a JWKS may hold encryption
        // keys or key types beside the signing keys.
        Ok(list
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .collect())
    }

    /// Fetches the key set now and caches it, as the first validation would; returns the key
    /// ids. An empty set is an error: no token could ever verify.
    pub async fn prefetch(&self, client: &Client) -> Result<Vec<String>, RpError> {
        let mut state = self.state.lock().await;
        let keys = self.fetch(client).await?;
        if keys.is_empty() {
            return Err(RpError::JwksUnreachable {
                request: format!("GET {}", self.uri),
                problem: "the JWKS publishes no key this relying party can read".to_string(),
            });
        }
        let kids = keys
            .iter()
            .map(|k| k.common.key_id.clone().unwrap_or_else(|| "(no kid)".into()))
            .collect();
        state.keys = Some(keys);
        Ok(kids)
    }

    /// Verifies `signature` over `signing_input` with the IdP's key for `kid` (or, when the token
    /// names none, with each key of a fitting type until one verifies). A `kid` the cache does
    /// not hold, or a kid-less token no cached key verifies, triggers one refetch (rate-limited).
    pub async fn verify(
        &self,
        client: &Client,
        kid: Option<&str>,
        alg: Algorithm,
        signing_input: &str,
        signature: &str,
    ) -> Result<(), RpError> {
        // Held across fetches: concurrent validations meeting the same new key refetch once.
        let mut state = self.state.lock().await;
        let mut fresh = false;
        if state.keys.is_none() {
            state.keys = Some(self.fetch(client).await?);
            fresh = true;
        }
        let unknown = |problem: String| RpError::KidUnknown {
            kid: kid.map(str::to_string),
            problem,
        };
        let first = match lookup(state.keys.as_deref().unwrap_or_default(), kid, alg) {
            Lookup::Found(keys) => match try_keys(&keys, alg, signing_input, signature) {
                Ok(()) => return Ok(()),
                // A kid-less token may be signed by a key published since the last fetch.
                Err(problem) if kid.is_none() => RpError::SignatureInvalid { problem },
                Err(problem) => return Err(RpError::SignatureInvalid { problem }),
            },
            Lookup::WrongKey(problem) => return Err(RpError::SignatureInvalid { problem }),
            Lookup::NotFound(reason) => unknown(reason),
        };
        if fresh {
            return Err(match first {
                RpError::KidUnknown { kid, problem } => RpError::KidUnknown {
                    kid,
                    problem: format!("{problem} (JWKS fetched just now)"),
                },
                other => other,
            });
        }
        if let Some(last) = state.last_fruitless_refetch {
            let elapsed = last.elapsed();
            if elapsed < self.refetch_interval {
                let limit = format!(
                    "; the JWKS was refetched {:.1} s ago and is refetched at most once every {} s",
                    elapsed.as_secs_f64(),
                    self.refetch_interval.as_secs_f64()
                );
                return Err(match first {
                    RpError::KidUnknown { kid, problem } => RpError::KidUnknown {
                        kid,
                        problem: problem + &limit,
                    },
                    RpError::SignatureInvalid { problem } => RpError::SignatureInvalid {
                        problem: problem + &limit,
                    },
                    other => other,
                });
            }
        }
        // Counted as fruitless until it proves otherwise, so that a failed fetch counts too.
        let previous = state.last_fruitless_refetch.replace(Instant::now());
        state.keys = Some(self.fetch(client).await?);
        match lookup(state.keys.as_deref().unwrap_or_default(), kid, alg) {
            Lookup::Found(keys) => match try_keys(&keys, alg, signing_input, signature) {
                Ok(()) => {
                    state.last_fruitless_refetch = previous;
                    Ok(())
                }
                Err(problem) => Err(RpError::SignatureInvalid {
                    problem: format!("{problem}, even after refetching the JWKS"),
                }),
            },
            Lookup::WrongKey(problem) => Err(RpError::SignatureInvalid { problem }),
            Lookup::NotFound(reason) => Err(unknown(format!("{reason}, even after refetching it"))),
        }
    }
}

/// Tries each key in turn; on failure, what each key said.
fn try_keys(
    keys: &[&Jwk],
    alg: Algorithm,
    signing_input: &str,
    signature: &str,
) -> Result<(), String> {
    let mut problems = Vec::new();
    for jwk in keys {
        let name = jwk.common.key_id.as_deref().unwrap_or("(no kid)");
        let key = match DecodingKey::from_jwk(jwk) {
            Ok(key) => key,
            Err(e) => {
                problems.push(format!("key `{name}` is unusable: {e}"));
                continue;
            }
        };
        match jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &key, alg) {
            Ok(true) => return Ok(()),
            Ok(false) => problems.push(format!("key `{name}` does not verify it")),
            Err(e) => problems.push(format!("key `{name}` cannot verify it: {e}")),
        }
    }
    Err(format!(
        "{} signature: {}",
        alg_name(alg),
        problems.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwk(v: Value) -> Jwk {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn keys_fit_by_type_curve_alg_and_use() {
        let rsa = jwk(json!({"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}));
        let ec = jwk(json!({"kty": "EC", "kid": "e", "crv": "P-256", "x": "AA", "y": "AA"}));
        let ec384 = jwk(json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}));
        let enc = jwk(json!({"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}));
        let pinned = jwk(json!({"kty": "RSA", "alg": "RS512", "n": "AQAB", "e": "AQAB"}));
        assert!(fits(&rsa, Algorithm::RS256).is_ok() && fits(&rsa, Algorithm::PS256).is_ok());
        assert!(fits(&rsa, Algorithm::ES256).is_err());
        assert!(fits(&ec, Algorithm::ES256).is_ok() && fits(&ec, Algorithm::ES384).is_err());
        assert!(fits(&ec384, Algorithm::ES384).is_ok());
        assert!(fits(&enc, Algorithm::RS256)
            .unwrap_err()
            .contains("encryption"));
        assert!(fits(&pinned, Algorithm::RS256)
            .unwrap_err()
            .contains("RS512"));
        let keys = [rsa, ec, ec384, enc];
        assert!(
            matches!(lookup(&keys, Some("e"), Algorithm::ES256), Lookup::Found(k) if k.len() == 1)
        );
        assert!(matches!(
            lookup(&keys, Some("e"), Algorithm::RS256),
            Lookup::WrongKey(_)
        ));
        assert!(matches!(
            lookup(&keys, Some("zz"), Algorithm::RS256),
            Lookup::NotFound(_)
        ));
        assert!(matches!(lookup(&keys, None, Algorithm::RS256), Lookup::Found(k) if k.len() == 1));
        assert!(matches!(
            lookup(&keys, None, Algorithm::EdDSA),
            Lookup::NotFound(_)
        ));
    }
}
