//! Signing keys and the JWKS.
//!
//! One key signs at a time. Rotation makes a new key current at once (Keycloak's "new provider
//! at a higher priority"); the previous key stays published for the overlap window so that tokens
//! it signed still verify. Each `kid` is the key's RFC 7638 thumbprint.
//!
//! Generating RSA-2048 takes a large fraction of a second, so RS256 keys come from a pool of test
//! keys embedded from the crate's `keys/` folder (parsed once per process); only when an emulator has
//! rotated through the whole pool are keys generated. ES256 and Ed25519 keys are generated on
//! the spot, which takes microseconds.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::EncodingKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::SigningAlg;

const RSA_POOL: [&str; 8] = [
    include_str!("../keys/rsa-01.pem"),
    include_str!("../keys/rsa-02.pem"),
    include_str!("../keys/rsa-03.pem"),
    include_str!("../keys/rsa-04.pem"),
    include_str!("../keys/rsa-05.pem"),
    include_str!("../keys/rsa-06.pem"),
    include_str!("../keys/rsa-07.pem"),
    include_str!("../keys/rsa-08.pem"),
];

/// The pool keys, parsed on first use and shared by every emulator in the process.
static PARSED_POOL: [OnceLock<Arc<SigningKey>>; RSA_POOL.len()] =
    [const { OnceLock::new() }; RSA_POOL.len()];

/// A private key with its public half as a JWK.
pub(crate) struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub encoding: EncodingKey,
    /// RS256 keys also sign through ring: the pure-Rust `rsa` crate behind jsonwebtoken takes
    /// several milliseconds per signature, ring a fraction of one, and a login signs twice.
    pub rsa_ring: Option<ring::signature::RsaKeyPair>,
    pub jwk: Jwk,
    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the bytes a key-confusion
    /// attack uses as an HMAC secret.
    pub public_pem: String,
}

/// A public key as the JWKS publishes it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Jwk {
    pub kid: String,
    pub kty: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub usage: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An SPKI DER public key as PEM, 64 characters a line, as OpenSSL writes it.
fn spki_pem(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

impl SigningKey {
    fn rsa(key: &rsa::RsaPrivateKey) -> SigningKey {
        // Encoding a well-formed key cannot fail.
        let der = key.to_pkcs1_der().expect("an RSA key encodes as PKCS#1");
        let public = key
            .to_public_key()
            .to_public_key_der()
            .expect("an RSA public key encodes as SPKI");
        let mut signing = SigningKey::new(
            SigningAlg::Rs256,
            EncodingKey::from_rsa_der(der.as_bytes()),
            Jwk {
                kty: "RSA",
                n: Some(b64(&key.n().to_bytes_be())),
                e: Some(b64(&key.e().to_bytes_be())),
                ..Jwk::empty()
            },
            public.as_bytes(),
        );
        signing.rsa_ring = ring::signature::RsaKeyPair::from_der(der.as_bytes()).ok();
        signing
    }

    fn pooled(index: usize) -> Arc<SigningKey> {
        PARSED_POOL[index]
            .get_or_init(|| {
                let key = rsa::RsaPrivateKey::from_pkcs8_pem(RSA_POOL[index]).expect(
                    "the embedded pool keys are valid PKCS#8 (a unit test parses them all)",
                );
                Arc::new(SigningKey::rsa(&key))
            })
            .clone()
    }

    fn generated_rsa() -> SigningKey {
        // Fails only for nonsensical sizes or prime counts, and these are fixed.
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .expect("RSA-2048 generation with fixed parameters succeeds");
        SigningKey::rsa(&key)
    }

    fn es256() -> SigningKey {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let der = secret
            .to_pkcs8_der()
            .expect("a P-256 key encodes as PKCS#8");
        let point = secret.public_key().to_encoded_point(false);
        let public = secret
            .public_key()
            .to_public_key_der()
            .expect("a P-256 public key encodes as SPKI");
        SigningKey::new(
            SigningAlg::Es256,
            EncodingKey::from_ec_der(der.as_bytes()),
            Jwk {
                kty: "EC",
                crv: Some("P-256"),
                x: point.x().map(|x| b64(x)),
                y: point.y().map(|y| b64(y)),
                ..Jwk::empty()
            },
            public.as_bytes(),
        )
    }

    fn ed25519() -> SigningKey {
        use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let der = key
            .to_pkcs8_der()
            .expect("an Ed25519 key encodes as PKCS#8");
        let public = key
            .verifying_key()
            .to_public_key_der()
            .expect("an Ed25519 public key encodes as SPKI");
        SigningKey::new(
            SigningAlg::EdDsa,
            EncodingKey::from_ed_der(der.as_bytes()),
            Jwk {
                kty: "OKP",
                crv: Some("Ed25519"),
                x: Some(b64(key.verifying_key().as_bytes())),
                ..Jwk::empty()
            },
            public.as_bytes(),
        )
    }

    fn new(alg: SigningAlg, encoding: EncodingKey, mut jwk: Jwk, spki_der: &[u8]) -> SigningKey {
        jwk.alg = alg.as_str();
        jwk.kid = jwk.thumbprint();
        SigningKey {
            kid: jwk.kid.clone(),
            alg,
            encoding,
            rsa_ring: None,
            jwk,
            public_pem: spki_pem(spki_der),
        }
    }
}

impl Jwk {
    fn empty() -> Jwk {
        Jwk {
            kid: String::new(),
            kty: "",
            alg: "",
            usage: "sig",
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        }
    }

    /// RFC 7638: SHA-256 over the required members in lexicographic order.
    fn thumbprint(&self) -> String {
        let field = |name: &str, value: &Option<String>| {
            format!("\"{name}\":\"{}\"", value.as_deref().unwrap_or(""))
        };
        let crv = self.crv.map(str::to_string);
        let members = match self.kty {
            "RSA" => vec![
                field("e", &self.e),
                "\"kty\":\"RSA\"".into(),
                field("n", &self.n),
            ],
            "EC" => vec![
                field("crv", &crv),
                "\"kty\":\"EC\"".into(),
                field("x", &self.x),
                field("y", &self.y),
            ],
            _ => vec![
                field("crv", &crv),
                "\"kty\":\"OKP\"".into(),
                field("x", &self.x),
            ],
        };
        b64(&Sha256::digest(
            format!("{{{}}}", members.join(",")).as_bytes(),
        ))
    }
}

/// The current key and the retired ones still published.
pub(crate) struct KeyRing {
    alg: SigningAlg,
    overlap: Duration,
    current: Arc<SigningKey>,
    retired: Vec<(Arc<SigningKey>, Instant)>,
    next_pool: usize,
}

impl KeyRing {
    pub fn new(alg: SigningAlg, overlap: Duration) -> KeyRing {
        let mut next_pool = 0;
        let current = fresh_key(alg, &mut next_pool);
        KeyRing {
            alg,
            overlap,
            current,
            retired: Vec::new(),
            next_pool,
        }
    }

    /// Makes a new key current; the old one stays published for the overlap window.
    pub fn rotate(&mut self) -> String {
        let new = fresh_key(self.alg, &mut self.next_pool);
        let old = std::mem::replace(&mut self.current, new);
        self.retired.push((old, Instant::now()));
        self.current.kid.clone()
    }

    pub fn current(&self) -> Arc<SigningKey> {
        self.current.clone()
    }

    /// The keys to publish, newest first: the current one and those retired within the overlap.
    pub fn published(&mut self) -> Vec<Arc<SigningKey>> {
        let overlap = self.overlap;
        self.retired
            .retain(|(_, retired_at)| retired_at.elapsed() < overlap);
        std::iter::once(self.current.clone())
            .chain(self.retired.iter().rev().map(|(key, _)| key.clone()))
            .collect()
    }
}

/// A key of `alg` no JWKS of the emulator publishes: what a vendor signs with when it uses an
/// application-specific key, and what a minted token signed with an unknown key uses. For RS256
/// the last pool key, which key rings never take; the others are generated, in microseconds.
pub(crate) fn unpublished_key(alg: SigningAlg) -> Arc<SigningKey> {
    match alg {
        SigningAlg::Rs256 => SigningKey::pooled(UNPUBLISHED_POOL_KEY),
        SigningAlg::Es256 => Arc::new(SigningKey::es256()),
        SigningAlg::EdDsa => Arc::new(SigningKey::ed25519()),
    }
}

/// The pool key kept out of every key ring, so that it stays unpublished however often keys
/// rotate.
const UNPUBLISHED_POOL_KEY: usize = RSA_POOL.len() - 1;

fn fresh_key(alg: SigningAlg, next_pool: &mut usize) -> Arc<SigningKey> {
    match alg {
        SigningAlg::Rs256 if *next_pool < UNPUBLISHED_POOL_KEY => {
            *next_pool += 1;
            SigningKey::pooled(*next_pool - 1)
        }
        SigningAlg::Rs256 => Arc::new(SigningKey::generated_rsa()),
        SigningAlg::Es256 => Arc::new(SigningKey::es256()),
        SigningAlg::EdDsa => Arc::new(SigningKey::ed25519()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pool_key_parses_and_kids_are_thumbprints() {
        let kids: Vec<String> = (0..RSA_POOL.len())
            .map(|i| SigningKey::pooled(i).kid.clone())
            .collect();
        let mut unique = kids.clone();
        unique.dedup();
        assert_eq!(unique.len(), RSA_POOL.len());
        // RFC 7638 section 3.1's example key has this thumbprint.
        let jwk = Jwk {
            kty: "RSA",
            e: Some("AQAB".into()),
            n: Some("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into()),
            ..Jwk::empty()
        };
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rotation_keeps_the_previous_key_for_the_overlap() {
        let mut ring = KeyRing::new(SigningAlg::Rs256, Duration::from_secs(600));
        let first = ring.current().kid.clone();
        let second = ring.rotate();
        assert_ne!(first, second);
        let published: Vec<String> = ring.published().iter().map(|k| k.kid.clone()).collect();
        assert_eq!(published, [second.clone(), first]);

        let mut short = KeyRing::new(SigningAlg::Es256, Duration::ZERO);
        let new = short.rotate();
        let published: Vec<String> = short.published().iter().map(|k| k.kid.clone()).collect();
        assert_eq!(published, [new]);
    }

    #[test]
    fn the_unpublished_key_stays_out_of_rings_past_the_pool() {
        let unpublished = unpublished_key(SigningAlg::Rs256).kid.clone();
        let mut ring = KeyRing::new(SigningAlg::Rs256, Duration::from_secs(600));
        // The first rotation past the pool generates a key instead.
        for _ in 0..UNPUBLISHED_POOL_KEY {
            ring.rotate();
        }
        let published: Vec<String> = ring.published().iter().map(|k| k.kid.clone()).collect();
        assert_eq!(published.len(), UNPUBLISHED_POOL_KEY + 1);
        assert!(!published.contains(&unpublished));
        assert_ne!(
            unpublished_key(SigningAlg::Es256).kid,
            unpublished_key(SigningAlg::Es256).kid
        );
    }

    #[test]
    fn public_pems_are_spki() {
        let key = SigningKey::pooled(0);
        assert!(key
            .public_pem
            .starts_with("-----BEGIN PUBLIC KEY-----\nMIIBIjAN"));
        assert!(key.public_pem.ends_with("\n-----END PUBLIC KEY-----\n"));
        assert!(key.public_pem.lines().all(|l| l.len() <= 64));
    }

    #[test]
    fn ec_and_ed_keys_publish_their_curves() {
        let es = SigningKey::es256();
        assert_eq!(
            (es.jwk.kty, es.jwk.crv, es.jwk.alg),
            ("EC", Some("P-256"), "ES256")
        );
        assert!(es.jwk.x.is_some() && es.jwk.y.is_some() && es.jwk.n.is_none());
        let ed = SigningKey::ed25519();
        assert_eq!(
            (ed.jwk.kty, ed.jwk.crv, ed.jwk.alg),
            ("OKP", Some("Ed25519"), "EdDSA")
        );
    }
}
