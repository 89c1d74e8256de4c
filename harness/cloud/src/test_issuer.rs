//! A minimal OIDC issuer for the cloud emulators' tests, the interop test, the scenarios'
//! Google-account leg and the benchmarks: it serves a discovery document and a JWKS (over plain
//! HTTP, or HTTPS with a certificate from a [`LocalCa`]) and signs ES256 tokens. It is not the
//! IdP emulator (no login, no users): only what an STS or Vertex needs to verify a token.

use std::io;
use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePrivateKey;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;

use ssoproof_server::tls::{serve_tls, LocalCa};
use ssoproof_server::ServerHandle;

/// An ES256 signing key and its public JWK.
pub struct TestKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl TestKey {
    /// A fresh P-256 key published under `kid`.
    pub fn generate(kid: &str) -> TestKey {
        let signing = SigningKey::random(&mut rand::rngs::OsRng);
        let der = signing
            .to_pkcs8_der()
            .expect("a fresh P-256 key encodes as PKCS#8");
        let public = p256::PublicKey::from(signing.verifying_key());
        let mut jwk: Value =
            serde_json::from_str(&public.to_jwk_string()).expect("p256 writes a JSON JWK");
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        TestKey {
            kid: kid.to_string(),
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            jwk,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `{"keys": [jwk]}` as a string, for Google's inline `jwks_json`.
    pub fn jwks_json(&self) -> String {
        json!({"keys": [self.jwk]}).to_string()
    }

    /// `claims` signed with a header naming this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        self.sign_with(header, claims)
    }

    /// `claims` signed under any header (no `kid`, another `kid`, …).
    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("ES256 signing with a valid P-256 key")
    }
}

/// A running issuer at `http(s)://127.0.0.1:<port><path>`; dropping it stops the server.
pub struct TestIssuer {
    issuer: String,
    key: TestKey,
    /// Same `kid`, but not in the JWKS: for forged tokens.
    stranger: TestKey,
    _server: ServerHandle,
}

impl TestIssuer {
    /// Plain HTTP at `http://127.0.0.1:<port>/realms/test` (an AWS lab issuer).
    pub async fn start() -> io::Result<TestIssuer> {
        TestIssuer::serve("/realms/test", None).await
    }

    /// HTTPS at `https://127.0.0.1:<port><path>` with a certificate from `ca` (Google requires
    /// https issuers).
    pub async fn start_https(ca: &LocalCa, path: &str) -> io::Result<TestIssuer> {
        TestIssuer::serve(path, Some(ca)).await
    }

    async fn serve(path: &str, ca: Option<&LocalCa>) -> io::Result<TestIssuer> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let scheme = if ca.is_some() { "https" } else { "http" };
        let issuer = format!("{scheme}://{}{path}", listener.local_addr()?);
        let key = TestKey::generate("test-es256");
        let discovery = json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
            "id_token_signing_alg_values_supported": ["ES256"],
        });
        let jwks = json!({ "keys": [key.jwk] });
        let router = Router::new()
            .route(
                &format!("{path}/.well-known/openid-configuration"),
                get(move || async move { Json(discovery) }),
            )
            .route(
                &format!("{path}/protocol/openid-connect/certs"),
                get(move || async move { Json(jwks) }),
            );
        let server = match ca {
            None => ServerHandle::spawn(listener, router)?,
            Some(ca) => {
                let config = ca
                    .issue_server_cert(&["127.0.0.1"])
                    .and_then(|cert| cert.server_config())
                    .map_err(io::Error::other)?;
                serve_tls(listener, router, config)?
            }
        };
        Ok(TestIssuer {
            issuer,
            key,
            stranger: TestKey::generate("test-es256"),
            _server: server,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The published key, for tokens with unusual headers.
    pub fn key(&self) -> &TestKey {
        &self.key
    }

    /// A signed token. `iss`, `iat` (5 s ago) and `exp` (in 5 minutes) are filled in; `claims`
    /// adds to or overrides them, and a `null` claim removes one.
    pub fn token(&self, claims: Value) -> String {
        self.key.sign(&self.claims(claims))
    }

    /// Like [`TestIssuer::token`], but signed with a key the JWKS does not publish (same `kid`).
    pub fn forged_token(&self, claims: Value) -> String {
        self.stranger.sign(&self.claims(claims))
    }

    fn claims(&self, given: Value) -> Value {
        let now = unix_now();
        let mut all = Map::new();
        all.insert("iss".into(), json!(self.issuer));
        all.insert("iat".into(), json!(now - 5));
        all.insert("exp".into(), json!(now + 300));
        if let Value::Object(given) = given {
            for (name, value) in given {
                if value.is_null() {
                    all.remove(&name);
                } else {
                    all.insert(name, value);
                }
            }
        }
        Value::Object(all)
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
