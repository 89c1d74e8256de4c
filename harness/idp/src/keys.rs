//! Signing keys and the JWKS.
//!
//! One key signs at a time. Rotation makes a new key current at once (Keycloak's "new provider
//! at a higher priority"); the previous key stays published for the overlap window so that tokens
//! it signed still verify. Each `kid` is the key's RFC 7638 thumbprint.
//!
//! Generating RSA-2048 takes 100–700 ms, so RS256 keys come from a pool of 64 test keys embedded
//! from the crate's `keys/rsa-pool.pem` (each parsed once per process, on first use): 63 that
//! rings take in order, so an emulator starts and rotates 62 times without generating a key,
//! and one that no ring publishes ([`unpublished_key`]). Once any ring has used half the
//! rotation keys, a background thread generates RSA keys ahead into a small stock of spares,
//! so that rotations past the pool take a ready key too. ES256 and Ed25519 keys are generated
//! on the spot, which takes microseconds.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, LazyLock, Mutex, Once, OnceLock};
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

/// PKCS#8 PEM blocks, one after the other.
const RSA_POOL_PEM: &str = include_str!("../keys/rsa-pool.pem");

/// The pool's PEM blocks, in file order.
static RSA_POOL: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    const END: &str = "-----END PRIVATE KEY-----";
    RSA_POOL_PEM
        .split_inclusive(END)
        .map(str::trim)
        .filter(|block| block.ends_with(END))
        .collect()
});

/// The pool keys, parsed on first use and shared by every emulator in the process.
static PARSED_POOL: LazyLock<Vec<OnceLock<Arc<SigningKey>>>> =
    LazyLock::new(|| RSA_POOL.iter().map(|_| OnceLock::new()).collect());

/// How many pool keys rings take in order: all but the last, which is [`unpublished_key`].
fn rotation_pool_len() -> usize {
    RSA_POOL.len() - 1
}

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

/// The PKCS#8 PEM of the SAML signing key (the first pool key, the one a fresh ring makes
/// current: Keycloak signs SAML with the realm's RSA key too) and of the key the `other_key`
/// SAML fault signs with (the unpublished pool key).
pub(crate) fn saml_key_pems() -> (&'static str, &'static str) {
    (RSA_POOL[0], RSA_POOL[rotation_pool_len()])
}

/// A key of `alg` no JWKS of the emulator publishes: what a vendor signs with when it uses an
/// application-specific key, and what a minted token signed with an unknown key uses. For RS256
/// the last pool key, which key rings never take; the others are generated, in microseconds.
pub(crate) fn unpublished_key(alg: SigningAlg) -> Arc<SigningKey> {
    match alg {
        SigningAlg::Rs256 => SigningKey::pooled(rotation_pool_len()),
        SigningAlg::Es256 => Arc::new(SigningKey::es256()),
        SigningAlg::EdDsa => Arc::new(SigningKey::ed25519()),
    }
}

fn fresh_key(alg: SigningAlg, next_pool: &mut usize) -> Arc<SigningKey> {
    match alg {
        SigningAlg::Rs256 => {
            let index = *next_pool;
            *next_pool += 1;
            if index == rotation_pool_len() / 2 {
                SPARES.start();
            }
            if index < rotation_pool_len() {
                SigningKey::pooled(index)
            } else {
                SPARES.take()
            }
        }
        SigningAlg::Es256 => Arc::new(SigningKey::es256()),
        SigningAlg::EdDsa => Arc::new(SigningKey::ed25519()),
    }
}

/// RSA keys generated ahead, for rings that have used up the pool. Each key is taken by one
/// ring only, so kids never repeat within an emulator (nor across emulators).
struct Spares {
    /// Oldest first.
    stock: Mutex<VecDeque<Arc<SigningKey>>>,
    /// Signalled when a key is taken, so the generator refills.
    taken: Condvar,
    generator: Once,
}

/// How many keys the generator keeps ready: a burst of rotations longer than this waits for
/// generation again, one key at a time.
const SPARE_STOCK: usize = 8;

static SPARES: Spares = Spares {
    stock: Mutex::new(VecDeque::new()),
    taken: Condvar::new(),
    generator: Once::new(),
};

impl Spares {
    /// Starts the generator thread (once per process). If it cannot start, rotations past the
    /// pool generate their keys on the spot instead.
    fn start(&'static self) {
        self.generator.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("ssoproof-idp-keys".into())
                .spawn(move || self.generate());
        });
    }

    fn generate(&self) {
        loop {
            {
                let mut stock = self.lock();
                while stock.len() >= SPARE_STOCK {
                    stock = self.taken.wait(stock).unwrap_or_else(|p| p.into_inner());
                }
            }
            // Outside the lock: generation takes a large fraction of a second.
            let key = Arc::new(SigningKey::generated_rsa());
            self.lock().push_back(key);
        }
    }

    /// A ready key, or one generated now when the stock is empty.
    fn take(&self) -> Arc<SigningKey> {
        let ready = self.lock().pop_front();
        self.taken.notify_one();
        ready.unwrap_or_else(|| Arc::new(SigningKey::generated_rsa()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<SigningKey>>> {
        // A panic elsewhere while holding the lock leaves a list of keys that is still valid.
        self.stock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pool_key_parses_and_kids_are_thumbprints() {
        assert_eq!(RSA_POOL.len(), 64);
        let mut kids: Vec<String> = (0..RSA_POOL.len())
            .map(|i| SigningKey::pooled(i).kid.clone())
            .collect();
        kids.sort();
        kids.dedup();
        assert_eq!(kids.len(), RSA_POOL.len());
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

    /// The only test that rotates a ring past the pool, so that no other takes the spares it
    /// watches.
    #[test]
    fn rotations_past_the_pool_take_generated_spares_and_never_repeat_a_kid() {
        let mut ring = KeyRing::new(SigningAlg::Rs256, Duration::from_secs(600));
        let mut kids = vec![ring.current().kid.clone()];
        for _ in 0..rotation_pool_len() / 2 {
            kids.push(ring.rotate());
        }
        // Half the pool is used: the generator fills the stock (a hang guard, not a timing
        // threshold).
        let deadline = Instant::now() + Duration::from_secs(300);
        while SPARES.lock().len() < SPARE_STOCK {
            assert!(Instant::now() < deadline, "no spare keys generated");
            std::thread::sleep(Duration::from_millis(20));
        }
        let stocked: Vec<String> = SPARES.lock().iter().map(|k| k.kid.clone()).collect();
        while kids.len() < rotation_pool_len() {
            kids.push(ring.rotate());
        }
        // Past the pool, the oldest spare.
        let past = ring.rotate();
        assert_eq!(past, stocked[0]);
        kids.push(past);
        kids.push(ring.rotate());

        let total = kids.len();
        kids.push(unpublished_key(SigningAlg::Rs256).kid.clone());
        kids.sort();
        kids.dedup();
        assert_eq!(
            kids.len(),
            total + 1,
            "a kid repeated, or the unpublished key was used"
        );
    }

    #[test]
    fn the_unpublished_key_stays_out_of_rings_past_the_pool() {
        let unpublished = unpublished_key(SigningAlg::Rs256).kid.clone();
        let mut ring = KeyRing::new(SigningAlg::Rs256, Duration::from_secs(600));
        // The first rotation past the pool generates a key instead.
        for _ in 0..rotation_pool_len() {
            ring.rotate();
        }
        let published: Vec<String> = ring.published().iter().map(|k| k.kid.clone()).collect();
        assert_eq!(published.len(), rotation_pool_len() + 1);
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
