//! A minimal OIDC issuer for the cloud emulators' own tests, interop test and benchmark: it
//! serves a discovery document and a JWKS and signs ES256 tokens. It is not the IdP emulator
//! (no login, no users): only what an STS needs to verify a web-identity token.

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePrivateKey;
use serde_json::{json, Map, Value};
use tokio::task::JoinHandle;

/// A running issuer at `http://127.0.0.1:<port>/realms/test`.
pub struct TestIssuer {
    issuer: String,
    kid: String,
    key: EncodingKey,
    /// A key the JWKS does not publish, for forged tokens.
    stranger: EncodingKey,
    task: JoinHandle<()>,
}

impl TestIssuer {
    /// Binds a free loopback port and serves discovery and JWKS.
    pub async fn start() -> std::io::Result<TestIssuer> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let issuer = format!("http://{}/realms/test", listener.local_addr()?);
        let signing = SigningKey::random(&mut rand::rngs::OsRng);
        let kid = "test-es256".to_string();
        let mut jwk: Map<String, Value> =
            serde_json::from_str(&p256::PublicKey::from(signing.verifying_key()).to_jwk_string())
                .map_err(std::io::Error::other)?;
        jwk.insert("kid".into(), json!(kid));
        jwk.insert("alg".into(), json!("ES256"));
        jwk.insert("use".into(), json!("sig"));
        let discovery = json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
            "id_token_signing_alg_values_supported": ["ES256"],
        });
        let jwks = json!({ "keys": [jwk] });
        let app = Router::new()
            .route(
                "/realms/test/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route(
                "/realms/test/protocol/openid-connect/certs",
                get(move || async move { Json(jwks) }),
            );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TestIssuer {
            issuer,
            kid,
            key: encoding_key(&signing)?,
            stranger: encoding_key(&SigningKey::random(&mut rand::rngs::OsRng))?,
            task,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A signed ID token. `iss`, `iat` and `exp` (in 5 minutes) are filled in unless `claims`
    /// sets them; everything else comes from `claims`.
    pub fn token(&self, claims: Value) -> String {
        self.sign(claims, &self.key)
    }

    /// Like [`TestIssuer::token`], but signed with a key the JWKS does not publish (same `kid`).
    pub fn forged_token(&self, claims: Value) -> String {
        self.sign(claims, &self.stranger)
    }

    fn sign(&self, claims: Value, key: &EncodingKey) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut all = Map::new();
        all.insert("iss".into(), json!(self.issuer));
        all.insert("iat".into(), json!(now));
        all.insert("exp".into(), json!(now + 300));
        if let Value::Object(given) = claims {
            all.extend(given);
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &all, key).expect("ES256 signing with a fresh P-256 key")
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn encoding_key(key: &SigningKey) -> std::io::Result<EncodingKey> {
    let der = key.to_pkcs8_der().map_err(std::io::Error::other)?;
    Ok(EncodingKey::from_ec_der(der.as_bytes()))
}
