//! Test-only OIDC issuers: an ES256 key that signs tokens, and a tiny HTTPS server publishing
//! its discovery document and JWKS with a certificate from the local CA.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{json, Value};

use crate::server::ServerHandle;
use crate::tls::{serve_tls, LocalCa};

/// An ES256 signing key and its public JWK.
pub struct TestKey {
    pub kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl TestKey {
    pub fn generate(kid: &str) -> TestKey {
        let signing = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let pem = signing.to_pkcs8_pem(LineEnding::LF).unwrap();
        let public = p256::PublicKey::from(signing.verifying_key());
        let mut jwk: Value = serde_json::from_str(&public.to_jwk_string()).unwrap();
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        TestKey {
            kid: kid.to_string(),
            encoding: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            jwk,
        }
    }

    /// `{"keys": [jwk]}` as a string, for `jwks_json`.
    pub fn jwks_json(&self) -> String {
        json!({"keys": [self.jwk]}).to_string()
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        self.sign_with(header, claims)
    }

    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// An issuer served over HTTPS at `https://127.0.0.1:PORT{path}`.
pub struct TestIssuer {
    pub issuer: String,
    pub key: TestKey,
    _server: ServerHandle,
}

impl TestIssuer {
    pub async fn start(ca: &LocalCa, path: &str) -> TestIssuer {
        let key = TestKey::generate("k1");
        let jwks = json!({"keys": [key.jwk]});
        let (addr, server) = {
            let cert = ca.issue_server_cert(&["127.0.0.1"]).unwrap();
            // The issuer URL needs the port, which is only known once bound: serve the
            // documents from a shared cell filled in right after.
            let issuer_cell = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
            let cell = issuer_cell.clone();
            let router = axum::Router::new()
                .route(
                    &format!("{path}/.well-known/openid-configuration"),
                    axum::routing::get(move || {
                        let issuer = cell.get().cloned().unwrap_or_default();
                        async move {
                            axum::Json(json!({
                                "issuer": issuer,
                                "jwks_uri": format!("{issuer}/certs"),
                            }))
                        }
                    }),
                )
                .route(
                    &format!("{path}/certs"),
                    axum::routing::get(move || async move { axum::Json(jwks) }),
                );
            let (addr, server) = serve_tls(
                router,
                "127.0.0.1:0".parse().unwrap(),
                cert.server_config().unwrap(),
            )
            .await
            .unwrap();
            issuer_cell
                .set(format!("https://127.0.0.1:{}{path}", addr.port()))
                .unwrap();
            (addr, server)
        };
        TestIssuer {
            issuer: format!("https://127.0.0.1:{}{path}", addr.port()),
            key,
            _server: server,
        }
    }

    /// A valid ID token for `aud` with these extra claims (which may override the defaults).
    pub fn id_token(&self, aud: &str, extra: Value) -> String {
        let now = unix_now();
        let mut claims = json!({
            "iss": self.issuer,
            "aud": aud,
            "sub": "6f1d0c1e-alice",
            "email": "alice@acme.test",
            "groups": ["engineers"],
            "iat": now - 5,
            "exp": now + 300,
        });
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                if v.is_null() {
                    claims.remove(k);
                } else {
                    claims.insert(k.clone(), v.clone());
                }
            }
        }
        self.key.sign(&claims)
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
