//! Tokens the IdP would never sign: JWS compact serializations put together by hand, so that a
//! header can say anything (`alg: nOnE`, a `kid` that is a path, a `jku` URL), and the probe's
//! own key and key server for the cases that ask the API to trust a key the token names.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Map, Value};
use ssoproof_server::ServerHandle;

use crate::error::ProbeError;

/// `base64url(header).base64url(claims)`: what a JWS signs.
pub fn signing_input(header: &Map<String, Value>, claims: &Map<String, Value>) -> String {
    let part =
        |map: &Map<String, Value>| URL_SAFE_NO_PAD.encode(Value::Object(map.clone()).to_string());
    format!("{}.{}", part(header), part(claims))
}

/// A compact JWS with `signature` as its third part, whatever the header says.
pub fn with_signature(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    signature: &[u8],
) -> String {
    format!(
        "{}.{}",
        signing_input(header, claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A compact JWS signed with `key` by `alg` (the header's `alg` is the caller's business).
pub fn signed(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    key: &EncodingKey,
    alg: Algorithm,
) -> Result<String, ProbeError> {
    let input = signing_input(header, claims);
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).map_err(|e| ProbeError::Keys {
            message: e.to_string(),
        })?;
    Ok(format!("{input}.{signature}"))
}

/// HS256 over the token with `secret` as the HMAC key.
pub fn hs256(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    secret: &[u8],
) -> Result<String, ProbeError> {
    signed(
        header,
        claims,
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
}

/// The token with its signature replaced by one whose first byte differs.
pub fn corrupt_signature(token: &str) -> Option<String> {
    let (input, signature) = token.rsplit_once('.')?;
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).ok()?;
    *bytes.first_mut()? ^= 0xff;
    Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The token with an empty signature part.
pub fn strip_signature(token: &str) -> Option<String> {
    let (input, _) = token.rsplit_once('.')?;
    Some(format!("{input}."))
}

/// A compact JWS taken apart.
#[derive(Debug)]
pub struct Parts {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signature: Vec<u8>,
}

/// The header, claims and signature of a compact JWS, to check what a forgery carries.
pub fn decode_parts(token: &str) -> Option<Parts> {
    let mut parts = token.split('.');
    let json = |part: Option<&str>| -> Option<Map<String, Value>> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part?).ok()?).ok()
    };
    let header = json(parts.next())?;
    let claims = json(parts.next())?;
    let signature = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    Some(Parts {
        header,
        claims,
        signature,
    })
}

/// An ES256 signature of zero: r = s = 0, in JWS's raw form (64 bytes) or as the DER a
/// misconfigured verifier may take (CVE-2022-21449: Java 15-18 accepted it for any key).
pub fn es256_zero_signature(der: bool) -> Vec<u8> {
    if der {
        vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]
    } else {
        vec![0; 64]
    }
}

/// The issuer's public key in each form a key-confusion attacker feeds to HMAC: the library
/// under test may turn its configured "key" (a PEM file, a JWK) into HMAC bytes.
pub struct IssuerKey {
    forms: Vec<(KeyForm, Vec<u8>)>,
}

/// How the public key was written before it was used as an HMAC secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo), as most libraries load it.
    SpkiPem,
    /// `-----BEGIN RSA PUBLIC KEY-----` (PKCS #1; RSA keys only).
    Pkcs1Pem,
    /// The SubjectPublicKeyInfo DER bytes.
    SpkiDer,
    /// The JWK as the JWKS publishes it, serialized as JSON.
    JwkJson,
}

impl IssuerKey {
    /// The key with `kid` from a JWKS (or its first key when `kid` is absent), in every form its
    /// type has: RSA all four, EC P-256 SPKI PEM, DER and JWK, any other type its JWK.
    pub fn from_jwks(jwks: &Value, kid: Option<&str>) -> Result<IssuerKey, String> {
        let keys = jwks["keys"].as_array().ok_or("the JWKS has no `keys`")?;
        let jwk = keys
            .iter()
            .find(|k| kid.is_none_or(|kid| k["kid"] == kid))
            .ok_or_else(|| format!("the JWKS has no key with kid {kid:?}"))?;
        let unusable = |e: &dyn std::fmt::Display| format!("the issuer's JWK is not usable: {e}");
        let mut forms = match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
            (Some("RSA"), _) => {
                let component = |name: &str| -> Result<BigUint, String> {
                    let text = jwk[name]
                        .as_str()
                        .ok_or(format!("the JWK has no `{name}`"))?;
                    let bytes = URL_SAFE_NO_PAD
                        .decode(text)
                        .map_err(|e| format!("the JWK's `{name}` is not base64url: {e}"))?;
                    Ok(BigUint::from_bytes_be(&bytes))
                };
                let public = RsaPublicKey::new(component("n")?, component("e")?)
                    .map_err(|e| unusable(&e))?;
                vec![
                    (
                        KeyForm::SpkiPem,
                        public
                            .to_public_key_pem(LineEnding::LF)
                            .map_err(|e| unusable(&e))?
                            .into_bytes(),
                    ),
                    (
                        KeyForm::Pkcs1Pem,
                        public
                            .to_pkcs1_pem(LineEnding::LF)
                            .map_err(|e| unusable(&e))?
                            .into_bytes(),
                    ),
                    (
                        KeyForm::SpkiDer,
                        public
                            .to_public_key_der()
                            .map_err(|e| unusable(&e))?
                            .into_vec(),
                    ),
                ]
            }
            (Some("EC"), Some("P-256")) => {
                // Only the key's own members: the parser refuses `kid`, `use` and `alg`.
                let bare = json!({"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]});
                let public =
                    p256::PublicKey::from_jwk_str(&bare.to_string()).map_err(|e| unusable(&e))?;
                vec![
                    (
                        KeyForm::SpkiPem,
                        p256::pkcs8::EncodePublicKey::to_public_key_pem(&public, LineEnding::LF)
                            .map_err(|e| unusable(&e))?
                            .into_bytes(),
                    ),
                    (
                        KeyForm::SpkiDer,
                        p256::pkcs8::EncodePublicKey::to_public_key_der(&public)
                            .map_err(|e| unusable(&e))?
                            .into_vec(),
                    ),
                ]
            }
            _ => Vec::new(),
        };
        forms.push((KeyForm::JwkJson, jwk.to_string().into_bytes()));
        Ok(IssuerKey { forms })
    }

    /// Whether the key's type has this form (PKCS #1 is RSA's alone, SPKI needs RSA or EC).
    pub fn supports(&self, form: KeyForm) -> bool {
        self.forms.iter().any(|(f, _)| *f == form)
    }

    /// The key written in `form`, as HMAC key bytes.
    pub fn as_hmac_secret(&self, form: KeyForm) -> Option<&[u8]> {
        self.forms
            .iter()
            .find(|(f, _)| *f == form)
            .map(|(_, bytes)| bytes.as_slice())
    }
}

/// The probe's own RSA key: the "attacker" key the `jwk`, `jku` and `x5u` cases ask the API to
/// trust, with its public JWK and a self-signed certificate.
pub struct AttackerKey {
    encoding: EncodingKey,
    pub jwk: Value,
    pub cert_pem: String,
}

pub const ATTACKER_KID: &str = "ssoproof-probe-attacker";

impl AttackerKey {
    /// Generates the key (RSA 2048: a few hundred milliseconds, so on a blocking thread).
    pub async fn generate() -> Result<AttackerKey, ProbeError> {
        tokio::task::spawn_blocking(AttackerKey::generate_blocking)
            .await
            .map_err(|e| ProbeError::Keys {
                message: e.to_string(),
            })?
    }

    fn generate_blocking() -> Result<AttackerKey, ProbeError> {
        let error = |message: String| ProbeError::Keys { message };
        let private =
            RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(|e| error(e.to_string()))?;
        let pkcs1 = private.to_pkcs1_der().map_err(|e| error(e.to_string()))?;
        let pkcs8 = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| error(e.to_string()))?;
        let key_pair =
            rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
                .map_err(|e| error(e.to_string()))?;
        let cert = rcgen::CertificateParams::new(vec!["probe.ssoproof.invalid".to_string()])
            .and_then(|params| params.self_signed(&key_pair))
            .map_err(|e| error(e.to_string()))?;
        let public = private.to_public_key();
        let b64 = |n: &BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
        Ok(AttackerKey {
            encoding: EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            jwk: json!({
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": ATTACKER_KID,
                "n": b64(public.n()),
                "e": b64(public.e()),
            }),
            cert_pem: cert.pem(),
        })
    }

    /// RS256 with the probe's key.
    pub fn sign(
        &self,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<String, ProbeError> {
        signed(header, claims, &self.encoding, Algorithm::RS256)
    }
}

/// A loopback server handing out the probe's key, one path per case, so that the report can
/// say whether the API fetched a key URL a token named.
pub struct KeyServer {
    base: String,
    fetches: Arc<Mutex<HashMap<String, usize>>>,
    _server: ServerHandle,
}

#[derive(Clone)]
struct Served {
    jwks: Value,
    cert_pem: String,
    fetches: Arc<Mutex<HashMap<String, usize>>>,
}

impl KeyServer {
    pub async fn start(key: &AttackerKey) -> Result<KeyServer, ProbeError> {
        let error = |e: std::io::Error| ProbeError::KeyServer {
            message: e.to_string(),
        };
        let fetches = Arc::new(Mutex::new(HashMap::new()));
        let served = Served {
            jwks: json!({ "keys": [key.jwk.clone()] }),
            cert_pem: key.cert_pem.clone(),
            fetches: fetches.clone(),
        };
        let app = axum::Router::new()
            .route("/jwks/{case}", get(serve_jwks))
            .route("/cert/{case}", get(serve_cert))
            .with_state(served);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(error)?;
        let server = ServerHandle::spawn(listener, app).map_err(error)?;
        Ok(KeyServer {
            base: format!("http://{}", server.local_addr()),
            fetches,
            _server: server,
        })
    }

    /// The JWKS URL for `case`'s `jku`.
    pub fn jwks_url(&self, case: &str) -> String {
        format!("{}/jwks/{case}", self.base)
    }

    /// The certificate URL for `case`'s `x5u`.
    pub fn cert_url(&self, case: &str) -> String {
        format!("{}/cert/{case}", self.base)
    }

    /// How often the API fetched `case`'s key URL.
    pub fn fetches(&self, case: &str) -> usize {
        lock(&self.fetches).get(case).copied().unwrap_or(0)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve_jwks(State(served): State<Served>, Path(case): Path<String>) -> impl IntoResponse {
    *lock(&served.fetches).entry(case).or_default() += 1;
    axum::Json(served.jwks)
}

async fn serve_cert(State(served): State<Served>, Path(case): Path<String>) -> impl IntoResponse {
    *lock(&served.fetches).entry(case).or_default() += 1;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/pem-certificate-chain",
        )],
        served.cert_pem,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    fn claims() -> Map<String, Value> {
        json!({"sub": "alice", "exp": 4_000_000_000u64})
            .as_object()
            .unwrap()
            .clone()
    }

    fn header(alg: &str) -> Map<String, Value> {
        json!({"alg": alg, "typ": "JWT"})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn hand_made_hs256_verifies_with_the_same_secret_and_carries_the_header_as_given() {
        let mut h = header("HS256");
        h.insert("kid".into(), "../../../../dev/null".into());
        let token = hs256(&h, &claims(), b"").unwrap();
        let parts = decode_parts(&token).unwrap();
        assert_eq!(parts.header["kid"], "../../../../dev/null");
        assert_eq!(parts.claims["sub"], "alice");
        let (input, signature) = token.rsplit_once('.').unwrap();
        assert!(jsonwebtoken::crypto::verify(
            signature,
            input.as_bytes(),
            &DecodingKey::from_secret(b""),
            Algorithm::HS256
        )
        .unwrap());
    }

    #[test]
    fn stripped_and_corrupted_signatures() {
        let token = hs256(&header("HS256"), &claims(), b"key").unwrap();
        let stripped = strip_signature(&token).unwrap();
        assert!(stripped.ends_with('.'));
        assert_eq!(decode_parts(&stripped).unwrap().signature, Vec::<u8>::new());
        let corrupted = corrupt_signature(&token).unwrap();
        let original = decode_parts(&token).unwrap().signature;
        let changed = decode_parts(&corrupted).unwrap().signature;
        assert_eq!(original.len(), changed.len());
        assert_ne!(original[0], changed[0]);
        assert_eq!(original[1..], changed[1..]);
        assert_eq!(
            token.rsplit_once('.').unwrap().0,
            corrupted.rsplit_once('.').unwrap().0
        );
    }

    #[test]
    fn zero_es256_signatures() {
        let raw = with_signature(&header("ES256"), &claims(), &es256_zero_signature(false));
        assert_eq!(decode_parts(&raw).unwrap().signature, vec![0; 64]);
        let der = with_signature(&header("ES256"), &claims(), &es256_zero_signature(true));
        // SEQUENCE { INTEGER 0, INTEGER 0 }
        assert_eq!(
            decode_parts(&der).unwrap().signature,
            [0x30, 6, 2, 1, 0, 2, 1, 0]
        );
    }

    #[tokio::test]
    async fn the_attacker_key_signs_what_its_jwk_and_certificate_verify() {
        let key = AttackerKey::generate().await.unwrap();
        let token = key.sign(&header("RS256"), &claims()).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.jwk.clone()).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        let decoded = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_jwk(&jwk).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims["sub"], "alice");
        assert!(key.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));

        // The key-confusion secrets are the issuer's public key in each written form.
        let issuer = IssuerKey::from_jwks(&json!({"keys": [key.jwk]}), Some(ATTACKER_KID)).unwrap();
        let pem =
            String::from_utf8(issuer.as_hmac_secret(KeyForm::SpkiPem).unwrap().to_vec()).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        let pkcs1 = std::str::from_utf8(issuer.as_hmac_secret(KeyForm::Pkcs1Pem).unwrap()).unwrap();
        assert!(
            pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"),
            "{pkcs1}"
        );
        let der = issuer.as_hmac_secret(KeyForm::SpkiDer).unwrap();
        assert_eq!(der[0], 0x30, "a DER SEQUENCE");
        assert!(DecodingKey::from_rsa_pem(pem.as_bytes()).is_ok());
        let jwk_json: Value =
            serde_json::from_slice(issuer.as_hmac_secret(KeyForm::JwkJson).unwrap()).unwrap();
        assert_eq!(jwk_json["kid"], ATTACKER_KID);
    }

    #[test]
    fn an_ec_key_has_no_pkcs1_form_and_an_okp_key_only_its_jwk() {
        let secret = p256::SecretKey::random(&mut rand::thread_rng());
        let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = "ec".into();
        let ec = IssuerKey::from_jwks(&json!({"keys": [jwk]}), Some("ec")).unwrap();
        assert!(ec.supports(KeyForm::SpkiPem) && ec.supports(KeyForm::SpkiDer));
        assert!(!ec.supports(KeyForm::Pkcs1Pem));
        let pem = std::str::from_utf8(ec.as_hmac_secret(KeyForm::SpkiPem).unwrap()).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        let okp = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "ed"}]});
        let okp = IssuerKey::from_jwks(&okp, Some("ed")).unwrap();
        assert!(okp.supports(KeyForm::JwkJson) && !okp.supports(KeyForm::SpkiPem));
        assert!(IssuerKey::from_jwks(&okp_jwks_without("ed"), Some("ed")).is_err());
    }

    fn okp_jwks_without(kid: &str) -> Value {
        json!({"keys": [{"kty": "OKP", "kid": format!("not-{kid}")}]})
    }

    #[tokio::test]
    async fn the_key_server_counts_fetches_per_case() {
        let key = AttackerKey::generate().await.unwrap();
        let server = KeyServer::start(&key).await.unwrap();
        let jwks: Value = reqwest::get(server.jwks_url("jku"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(jwks["keys"][0]["kid"], ATTACKER_KID);
        let cert = reqwest::get(server.cert_url("x5u"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(cert, key.cert_pem);
        assert_eq!(server.fetches("jku"), 1);
        assert_eq!(server.fetches("x5u"), 1);
        assert_eq!(server.fetches("other"), 0);
    }
}
