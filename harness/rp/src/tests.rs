//! The relying party against the mock OP: one test per certification case of
//! `rp-conformance.md` (Basic, Config, Refresh), then the contract's other rules.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};

use base64::Engine;

use super::id_token::{self, b64url};
use super::mock_op::{
    ClaimsHook, IssParam, MockOp, Style, TestKey, TokenHook, CLIENT_ID, CLIENT_SECRET, REALM,
    REDIRECT_URI,
};
use super::*;
use ssoproof_secret::Secret;

async fn start() -> (MockOp, RelyingParty) {
    let op = MockOp::start().await;
    let rp = RelyingParty::discover(op.config()).await.unwrap();
    (op, rp)
}

async fn login(op: &MockOp, rp: &RelyingParty, user: &str) -> Result<Session, RpError> {
    rp.login(user, &op.password(user)).await
}

async fn code_of(op: &MockOp, rp: &RelyingParty, user: &str) -> String {
    match login(op, rp, user).await {
        Ok(_) => "ok".to_string(),
        Err(e) => e.code().to_string(),
    }
}

fn claims(f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) -> Option<ClaimsHook> {
    Some(Arc::new(f))
}

fn token_hook(
    f: impl Fn(&Map<String, Value>, String) -> String + Send + Sync + 'static,
) -> Option<TokenHook> {
    Some(Arc::new(f))
}

/// Runs a login with the ID-token claims changed by `change`; returns the error code or "ok".
async fn with_claims(change: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) -> String {
    let (op, rp) = start().await;
    op.set(|b| b.claims_hook = claims(change));
    code_of(&op, &rp, "alice").await
}

// ---------------------------------------------------------------- Basic RP certification cases

/// rp-response_type-code, rp-scope-userinfo-claims, rp-token_endpoint-client_secret_basic,
/// rp-discovery-openid-configuration, rp-discovery-jwks_uri-keys.
#[tokio::test]
async fn rp_response_type_code_full_login() {
    let (op, rp) = start().await;
    // The email comes only from userinfo: the RP must request the scope and use the claim.
    op.set(|b| {
        b.claims_hook = claims(|c| {
            c.remove("email");
        })
    });
    let session = login(&op, &rp, "alice").await.unwrap();
    let outcome = &session.outcome;
    assert_eq!(outcome.sub, op.user("alice").sub);
    assert_eq!(outcome.email.as_deref(), Some("alice@example.com"));
    assert_eq!(outcome.groups, ["/acme/admins"]);
    assert_eq!(outcome.role, "admin");
    assert_eq!(outcome.claims["name"], "alice Example");
    assert_eq!(outcome.claims["iss"], op.issuer.as_str());
    assert!(session.refresh_token().is_some());

    let record = op.record();
    assert_eq!(
        record.events,
        [
            "authorize",
            "login",
            "token:authorization_code",
            "jwks",
            "userinfo"
        ]
    );
    let query = &record.authorize_queries[0];
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], "openid email profile");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    assert_eq!(query["code_challenge"].len(), 43);
    assert!(query["state"].len() >= 43 && query["nonce"].len() >= 43);
    // client_secret_basic, with id and secret form-urlencoded before base64 (RFC 6749 2.3.1).
    let (authorization, form) = &record.token_requests[0];
    let expected = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        CLIENT_ID,
        url::form_urlencoded::byte_serialize(CLIENT_SECRET.as_bytes()).collect::<String>()
    ));
    assert_eq!(
        authorization.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    assert!(!form
        .iter()
        .any(|(k, _)| k == "client_secret" || k == "client_id"));
    let verifier = &form.iter().find(|(k, _)| k == "code_verifier").unwrap().1;
    assert!((43..=128).contains(&verifier.len()));
    // The JWKS came from discovery's (random) jwks_uri.
    assert_eq!(rp.discovery()["jwks_uri"], op.jwks_url().as_str());
    assert_eq!(rp.jwks_fetches(), 1);
    assert_eq!(record.jwks_fetches, 1);
}

#[tokio::test]
async fn state_and_nonce_are_fresh_for_every_login() {
    let (op, rp) = start().await;
    login(&op, &rp, "alice").await.unwrap();
    login(&op, &rp, "bob").await.unwrap();
    let q = op.record().authorize_queries;
    assert_ne!(q[0]["state"], q[1]["state"]);
    assert_ne!(q[0]["nonce"], q[1]["nonce"]);
    assert_ne!(q[0]["code_challenge"], q[1]["code_challenge"]);
}

/// rp-id_token-issuer-mismatch
#[tokio::test]
async fn rp_id_token_issuer_mismatch() {
    let code = with_claims(|c| {
        c.insert("iss".into(), json!("https://attacker.example/realms/acme"));
    })
    .await;
    assert_eq!(code, "issuer_mismatch");
}

/// rp-id_token-sub
#[tokio::test]
async fn rp_id_token_sub_missing() {
    assert_eq!(
        with_claims(|c| {
            c.remove("sub");
        })
        .await,
        "sub_missing"
    );
}

/// rp-id_token-aud: invalid and missing.
#[tokio::test]
async fn rp_id_token_aud_invalid_or_missing() {
    assert_eq!(
        with_claims(|c| {
            c.insert("aud".into(), json!("other-app"));
        })
        .await,
        "audience_mismatch"
    );
    assert_eq!(
        with_claims(|c| {
            c.remove("aud");
        })
        .await,
        "audience_mismatch"
    );
    assert_eq!(
        with_claims(|c| {
            c.insert("aud".into(), json!(["x", "y"]));
        })
        .await,
        "audience_mismatch"
    );
}

/// rp-id_token-iat
#[tokio::test]
async fn rp_id_token_iat_missing() {
    assert_eq!(
        with_claims(|c| {
            c.remove("iat");
        })
        .await,
        "iat_missing"
    );
}

/// rp-id_token-kid-absent-single-jwks
#[tokio::test]
async fn rp_id_token_kid_absent_single_jwks() {
    let (op, rp) = start().await;
    op.set(|b| {
        b.omit_kid = true;
        b.publish_kids = false;
    });
    assert_eq!(code_of(&op, &rp, "alice").await, "ok");
}

/// rp-id_token-kid-absent-multiple-jwks: the RP tries each key of the right type.
#[tokio::test]
async fn rp_id_token_kid_absent_multiple_jwks() {
    let (op, rp) = start().await;
    let signer = TestKey::es256("key-b");
    op.set(|b| {
        b.published = vec![
            TestKey::es256("key-a"),
            TestKey::rs256("key-r"),
            signer.clone(),
            TestKey::es256("key-c"),
        ];
        b.signer = signer;
        b.omit_kid = true;
    });
    assert_eq!(code_of(&op, &rp, "alice").await, "ok");
    // None of several keys verifies: a bad signature, not a missing key.
    let (op, rp) = start().await;
    op.set(|b| {
        b.published = vec![TestKey::es256("key-a"), TestKey::es256("key-c")];
        b.signer = TestKey::es256("key-b");
        b.omit_kid = true;
    });
    assert_eq!(code_of(&op, &rp, "alice").await, "signature_invalid");
}

/// Without kids, a rotation shows up as a signature no cached key verifies: one refetch.
#[tokio::test]
async fn kid_absent_key_rotation_refetches_once() {
    let (op, rp) = start().await;
    op.set(|b| {
        b.omit_kid = true;
        b.publish_kids = false;
    });
    login(&op, &rp, "alice").await.unwrap();
    let new = TestKey::es256("key-2");
    op.set(|b| {
        b.published = vec![new.clone()];
        b.signer = new;
    });
    login(&op, &rp, "alice").await.unwrap();
    assert_eq!(rp.jwks_fetches(), 2);
    // Forged kid-less tokens right after: the rotation's refetch found its key and does not
    // count, so the first forgery costs one fruitless refetch; the next ones none.
    op.set(|b| b.token_hook = token_hook(|_, t| tampered(t)));
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "signature_invalid");
    assert!(err.to_string().contains("even after refetching"), "{err}");
    assert_eq!(rp.jwks_fetches(), 3);
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "signature_invalid");
    assert!(err.to_string().contains("at most once every"), "{err}");
    assert_eq!(rp.jwks_fetches(), 3);
}

/// rp-id_token-sig-rs256
#[tokio::test]
async fn rp_id_token_sig_rs256() {
    let (op, rp) = start().await;
    let key = TestKey::rs256("rsa-1");
    op.set(|b| {
        b.published = vec![key.clone()];
        b.signer = key;
    });
    let session = login(&op, &rp, "bob").await.unwrap();
    assert_eq!(session.outcome.role, "user");
}

fn unsigned(claims: &Map<String, Value>) -> String {
    format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(Value::Object(claims.clone()).to_string().as_bytes())
    )
}

/// rp-id_token-sig-none: an enterprise RP rejects unsigned tokens, even from the token endpoint.
#[tokio::test]
async fn rp_id_token_sig_none_rejected() {
    let (op, rp) = start().await;
    op.set(|b| b.token_hook = token_hook(|c, _| unsigned(c)));
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "alg_rejected");
    assert!(err.to_string().contains("`none`"), "{err}");
}

/// The payload changed after signing: the signature no longer covers it.
fn tampered(token: String) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    payload["email"] = json!("mallory@example.com");
    format!(
        "{}.{}.{}",
        parts[0],
        b64url(payload.to_string().as_bytes()),
        parts[2]
    )
}

/// rp-id_token-bad-sig-rs256 (and the ES256 and EdDSA variants).
#[tokio::test]
async fn rp_id_token_bad_sig_rs256_es256_eddsa() {
    for key in [
        TestKey::rs256("rsa-1"),
        TestKey::es256("ec-1"),
        TestKey::ed25519("ed-1"),
    ] {
        let (op, rp) = start().await;
        op.set(|b| {
            b.published = vec![key.clone()];
            b.signer = key.clone();
        });
        assert_eq!(code_of(&op, &rp, "alice").await, "ok", "{:?}", key.alg);
        op.set(|b| b.token_hook = token_hook(|_, t| tampered(t)));
        assert_eq!(
            code_of(&op, &rp, "alice").await,
            "signature_invalid",
            "{:?}",
            key.alg
        );
    }
}

/// rp-id_token-bad-sig-hs256: HMAC signed with the client secret (the classic confusion attack).
#[tokio::test]
async fn rp_id_token_hs256_rejected() {
    let (op, rp) = start().await;
    op.set(|b| {
        b.token_hook = token_hook(|c, _| {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("key-1".into());
            jsonwebtoken::encode(
                &header,
                c,
                &EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
            )
            .unwrap()
        })
    });
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "alg_rejected");
    assert!(err.to_string().contains("HS256"), "{err}");
}

/// rp-userinfo-bad-sub-claim
#[tokio::test]
async fn rp_userinfo_bad_sub_claim() {
    let (op, rp) = start().await;
    op.set(|b| {
        b.userinfo_hook = claims(|c| {
            c.insert("sub".into(), json!("someone-else"));
        })
    });
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "userinfo_sub_mismatch");
    assert!(err.to_string().contains("someone-else"), "{err}");
}

/// rp-nonce-invalid
#[tokio::test]
async fn rp_nonce_invalid() {
    assert_eq!(
        with_claims(|c| {
            c.insert("nonce".into(), json!("replayed"));
        })
        .await,
        "nonce_mismatch"
    );
    assert_eq!(
        with_claims(|c| {
            c.remove("nonce");
        })
        .await,
        "nonce_mismatch"
    );
}

/// rp-token_endpoint-client_secret_post, and a public client sending only its id.
#[tokio::test]
async fn client_secret_post_and_public_client() {
    let op = MockOp::start().await;
    op.set(|b| b.auth_method = Some(AuthMethod::ClientSecretPost));
    let mut config = op.config();
    config.auth_method = AuthMethod::ClientSecretPost;
    let rp = RelyingParty::discover(config).await.unwrap();
    login(&op, &rp, "alice").await.unwrap();
    let (authorization, form) = op.record().token_requests.remove(0);
    assert!(authorization.is_none());
    assert!(form.contains(&("client_secret".into(), CLIENT_SECRET.into())));

    let op = MockOp::start().await;
    op.set(|b| {
        b.client_secret = None;
        b.auth_method = None;
    });
    let mut config = op.config();
    config.client_secret = None;
    let rp = RelyingParty::discover(config).await.unwrap();
    login(&op, &rp, "alice").await.unwrap();
    let (authorization, form) = op.record().token_requests.remove(0);
    assert!(authorization.is_none());
    assert!(form.contains(&("client_id".into(), CLIENT_ID.into())));
}

// --------------------------------------------------------------- Config RP certification cases

/// rp-discovery-issuer-not-matching-config
#[tokio::test]
async fn rp_discovery_issuer_not_matching_config() {
    let op = MockOp::start().await;
    // The trailing-slash trap: same discovery URL, different string.
    let mut config = op.config();
    config.issuer = format!("{}/", op.issuer);
    let err = RelyingParty::discover(config).await.unwrap_err();
    assert_eq!(err.code(), "issuer_mismatch");
    // Discovery reporting another issuer.
    op.set(|b| b.discovery_issuer = Some("https://internal:8443/realms/acme".into()));
    let err = RelyingParty::discover(op.config()).await.unwrap_err();
    assert_eq!(err.code(), "issuer_mismatch");
    assert!(
        err.to_string()
            .contains("https://internal:8443/realms/acme"),
        "{err}"
    );
}

/// rp-key-rotation-op-sign-key: keys rotate after the first ID token; one refetch.
#[tokio::test]
async fn rp_key_rotation_op_sign_key() {
    let (op, rp) = start().await;
    login(&op, &rp, "alice").await.unwrap();
    assert_eq!(rp.jwks_fetches(), 1);
    let new = TestKey::es256("key-2");
    op.set(|b| {
        b.published = vec![new.clone()];
        b.signer = new;
    });
    login(&op, &rp, "alice").await.unwrap();
    assert_eq!(rp.jwks_fetches(), 2);
    // The new key is cached now: no more fetches.
    login(&op, &rp, "bob").await.unwrap();
    assert_eq!(rp.jwks_fetches(), 2);
}

/// issue 10: the keys fetched before any token (as the doctor does), the OP rotating right
/// after, and again right after that: each rotation's refetch is granted, however soon after
/// the last; made-up kids still cost at most one fruitless refetch per interval.
#[tokio::test]
async fn rotation_right_after_a_fetch_is_followed_and_floods_are_still_limited() {
    let (op, rp) = start().await;
    rp.fetch_keys().await.unwrap();
    for (round, kid) in ["key-2", "key-3"].into_iter().enumerate() {
        let new = TestKey::es256(kid);
        op.set(|b| {
            b.published = vec![new.clone()];
            b.signer = new;
        });
        login(&op, &rp, "alice").await.unwrap();
        assert_eq!(rp.jwks_fetches(), round + 2);
    }
    for i in 0..5 {
        op.set(|b| b.signer = TestKey::es256(&format!("made-up-{i}")));
        assert_eq!(code_of(&op, &rp, "alice").await, "kid_unknown");
    }
    assert_eq!(rp.jwks_fetches(), 4);
    assert_eq!(op.record().jwks_fetches, 4);
    // Within the interval after the fruitless refetch, even a real rotation waits.
    let new = TestKey::es256("key-4");
    op.set(|b| {
        b.published = vec![new.clone()];
        b.signer = new;
    });
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert!(err.to_string().contains("at most once every"), "{err}");
    assert_eq!(rp.jwks_fetches(), 4);
}

/// rp-key-rotation-op-sign-key-native: a new key appears (beside the old) just before signing.
#[tokio::test]
async fn rp_key_rotation_op_sign_key_native() {
    let (op, rp) = start().await;
    login(&op, &rp, "alice").await.unwrap();
    let old = op.record().events.len();
    let new = TestKey::rs256("key-rsa-2");
    op.set(|b| {
        b.published.push(new.clone());
        b.signer = new;
    });
    login(&op, &rp, "carol").await.unwrap();
    assert_eq!(rp.jwks_fetches(), 2);
    assert_eq!(
        op.record().events[old..]
            .iter()
            .filter(|e| *e == "jwks")
            .count(),
        1
    );
}

/// Unknown kids refetch at most once per interval, so a flood cannot hammer the IdP.
#[tokio::test]
async fn unknown_kid_refetch_is_rate_limited() {
    let op = MockOp::start().await;
    let mut config = op.config();
    config.jwks_refetch_interval = Duration::from_millis(700);
    let rp = RelyingParty::discover(config).await.unwrap();
    login(&op, &rp, "alice").await.unwrap();
    op.set(|b| b.signer = TestKey::es256("never-published"));
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "kid_unknown");
    assert!(err.to_string().contains("even after refetching"), "{err}");
    assert_eq!(rp.jwks_fetches(), 2);
    for _ in 0..5 {
        let err = login(&op, &rp, "alice").await.unwrap_err();
        assert_eq!(err.code(), "kid_unknown");
        assert!(err.to_string().contains("at most once every"), "{err}");
    }
    assert_eq!(rp.jwks_fetches(), 2);
    assert_eq!(op.record().jwks_fetches, 2);
    tokio::time::sleep(Duration::from_millis(750)).await;
    assert_eq!(code_of(&op, &rp, "alice").await, "kid_unknown");
    assert_eq!(rp.jwks_fetches(), 3);
}

/// A key with the token's kid but of the wrong type is a bad signature, not an unknown key.
#[tokio::test]
async fn kid_naming_a_key_of_another_type() {
    let (op, rp) = start().await;
    let ec = TestKey::es256("shared-kid");
    let mut rsa = TestKey::rs256("shared-kid");
    rsa.jwk.as_object_mut().unwrap().remove("alg");
    op.set(|b| {
        b.published = vec![rsa];
        b.signer = ec;
    });
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "signature_invalid");
    assert!(err.to_string().contains("RSA key"), "{err}");
}

#[tokio::test]
async fn jwks_unreachable_is_typed() {
    let (op, rp) = start().await;
    op.set(|b| b.jwks_broken = true);
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "jwks_unreachable");
    let text = err.to_string();
    assert!(
        text.contains(&format!("GET {}", op.jwks_url())) && text.contains("503"),
        "{text}"
    );
}

#[tokio::test]
async fn downgrade_advertised_is_refused_at_discovery() {
    let op = MockOp::start().await;
    op.set(|b| {
        b.discovery_extra.insert(
            "id_token_signing_alg_values_supported".into(),
            json!(["HS256", "none"]),
        );
    });
    let err = RelyingParty::discover(op.config()).await.unwrap_err();
    assert_eq!(err.code(), "alg_unsupported");
}

// ------------------------------------------------------------------ Refresh certification cases

/// A store that records its calls into the OP's event log, so the order is visible.
struct LoggingStore<'a> {
    op: &'a MockOp,
    inner: MemoryTokenStore,
}

impl TokenStore for LoggingStore<'_> {
    fn save_refresh_token(&self, token: &Secret) -> Result<(), RpError> {
        self.op.log(format!("store:save {}", token.expose()));
        self.inner.save_refresh_token(token)
    }
    fn load_refresh_token(&self) -> Result<Option<Secret>, RpError> {
        self.inner.load_refresh_token()
    }
}

/// oidcc-client-test-refresh-token: refresh (with rotation), then userinfo; the new refresh
/// token is stored before anything uses it.
#[tokio::test]
async fn refresh_token_rotation_then_userinfo() {
    let (op, rp) = start().await;
    let mut session = login(&op, &rp, "alice").await.unwrap();
    let first = session.refresh_token().unwrap().expose().to_string();
    let first_access = session.access_token().expose().to_string();
    let store = LoggingStore {
        op: &op,
        inner: MemoryTokenStore::new(),
    };
    let before = op.record().events.len();

    let outcome = rp.refresh(&mut session, &store).await.unwrap();
    assert_eq!(outcome.role, "admin");
    let second = session.refresh_token().unwrap().expose().to_string();
    assert_ne!(second, first);
    assert_ne!(session.access_token().expose(), first_access);
    assert_eq!(
        store.load_refresh_token().unwrap().unwrap().expose(),
        second
    );

    rp.refresh(&mut session, &store).await.unwrap();
    let third = session.refresh_token().unwrap().expose().to_string();
    let events = op.record().events[before..].to_vec();
    assert_eq!(
        events,
        [
            format!("token:refresh_token {first}"),
            format!("store:save {second}"),
            "userinfo".to_string(),
            format!("token:refresh_token {second}"),
            format!("store:save {third}"),
            "userinfo".to_string(),
        ]
    );
}

#[tokio::test]
async fn refresh_with_the_file_store_and_without_rotation() {
    let (op, rp) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("alice.refresh"));
    let mut session = login(&op, &rp, "alice").await.unwrap();
    rp.refresh(&mut session, &store).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(store.path()).unwrap(),
        session.refresh_token().unwrap().expose()
    );
    // No rotation and no ID token in the refresh response: the old refresh token stays.
    op.set(|b| {
        b.rotate_refresh = false;
        b.refresh_id_token = false;
    });
    let kept = session.refresh_token().unwrap().clone();
    let outcome = rp.refresh(&mut session, &store).await.unwrap();
    assert_eq!(session.refresh_token(), Some(&kept));
    assert_eq!(outcome.groups, ["/acme/admins"]);
}

#[tokio::test]
async fn a_later_process_resumes_the_session_from_the_stored_refresh_token() {
    let (op, rp) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("alice.refresh"));
    let err = rp.resume(&store).await.unwrap_err();
    assert_eq!(err.code(), "refresh_failed");
    assert!(err.to_string().contains("holds no refresh token"), "{err}");

    let session = login(&op, &rp, "alice").await.unwrap();
    store
        .save_refresh_token(session.refresh_token().unwrap())
        .unwrap();
    // Another process: a fresh relying party, the same store.
    let later = RelyingParty::discover(op.config()).await.unwrap();
    let resumed = later.resume(&store).await.unwrap();
    assert_eq!(resumed.outcome.sub, session.outcome.sub);
    assert_eq!(resumed.outcome.role, "admin");
    // Rotation: the store already holds the new token, which the session carries.
    let saved = store.load_refresh_token().unwrap().unwrap();
    assert_ne!(&saved, session.refresh_token().unwrap());
    assert_eq!(resumed.refresh_token(), Some(&saved));

    // A refresh answer without an ID token cannot resume a session.
    op.set(|b| b.refresh_id_token = false);
    let err = later.resume(&store).await.unwrap_err();
    assert_eq!(err.code(), "refresh_failed");
    assert!(err.to_string().contains("without an `id_token`"), "{err}");
}

#[tokio::test]
async fn keys_can_be_fetched_before_any_token() {
    let (op, rp) = start().await;
    let kids = rp.fetch_keys().await.unwrap();
    assert!(!kids.is_empty());
    assert_eq!(rp.jwks_fetches(), 1);
    // The validation of the login uses the keys just fetched.
    login(&op, &rp, "alice").await.unwrap();
    assert_eq!(rp.jwks_fetches(), 1);
}

/// oidcc-client-test-refresh-token-invalid-issuer
#[tokio::test]
async fn refresh_token_invalid_issuer() {
    let (op, rp) = start().await;
    let mut session = login(&op, &rp, "alice").await.unwrap();
    op.set(|b| {
        b.refresh_claims_hook = claims(|c| {
            c.insert("iss".into(), json!("https://other.example/realms/acme"));
        })
    });
    let err = rp
        .refresh(&mut session, &MemoryTokenStore::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "issuer_mismatch");
    assert!(
        err.to_string().starts_with("the refreshed ID token"),
        "{err}"
    );
}

/// oidcc-client-test-refresh-token-invalid-sub
#[tokio::test]
async fn refresh_token_invalid_sub() {
    let (op, rp) = start().await;
    let mut session = login(&op, &rp, "alice").await.unwrap();
    let before = session.outcome.clone();
    op.set(|b| {
        b.refresh_claims_hook = claims(|c| {
            c.insert("sub".into(), json!("11111111-aaaa-4aaa-8aaa-000000000002"));
        })
    });
    let err = rp
        .refresh(&mut session, &MemoryTokenStore::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "sub_mismatch");
    assert_eq!(session.outcome, before);
}

struct FailingStore;

impl TokenStore for FailingStore {
    fn save_refresh_token(&self, _: &Secret) -> Result<(), RpError> {
        Err(RpError::TokenStoreFailed {
            problem: "disk full".to_string(),
        })
    }
    fn load_refresh_token(&self) -> Result<Option<Secret>, RpError> {
        Ok(None)
    }
}

/// A store that cannot save aborts the refresh before the new token is used for anything.
#[tokio::test]
async fn failing_store_aborts_the_refresh() {
    let (op, rp) = start().await;
    let mut session = login(&op, &rp, "alice").await.unwrap();
    let old_refresh = session.refresh_token().unwrap().clone();
    let old_access = session.access_token().clone();
    let before = op.record().events.len();
    let err = rp.refresh(&mut session, &FailingStore).await.unwrap_err();
    assert_eq!(err.code(), "token_store_failed");
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(session.refresh_token(), Some(&old_refresh));
    assert_eq!(session.access_token(), &old_access);
    let events = op.record().events[before..].to_vec();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].starts_with("token:refresh_token"));
}

#[tokio::test]
async fn reused_refresh_token_is_refused() {
    let (op, rp) = start().await;
    let mut session = login(&op, &rp, "alice").await.unwrap();
    let mut stale = session.clone();
    rp.refresh(&mut session, &MemoryTokenStore::new())
        .await
        .unwrap();
    let err = rp
        .refresh(&mut stale, &MemoryTokenStore::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "refresh_failed");
    assert!(err.to_string().contains("invalid_grant"), "{err}");
}

#[tokio::test]
async fn refresh_reevaluates_groups() {
    let (op, rp) = start().await;
    let mut session = login(&op, &rp, "carol").await.unwrap();
    assert_eq!(session.outcome.role, "admin");
    op.set(|b| {
        b.refresh_claims_hook = claims(|c| {
            c.insert("groups".into(), json!(["/acme/contractors"]));
        })
    });
    let err = rp
        .refresh(&mut session, &MemoryTokenStore::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "groups_unmapped");
}

// ------------------------------------------------------ Authorization response (state, RFC 9207)

#[tokio::test]
async fn state_mismatch() {
    let (op, rp) = start().await;
    op.set(|b| b.state_override = Some("forged".into()));
    assert_eq!(code_of(&op, &rp, "alice").await, "state_mismatch");
}

#[tokio::test]
async fn rfc9207_iss_parameter() {
    let op = MockOp::start().await;
    op.set(|b| {
        b.discovery_extra.insert(
            "authorization_response_iss_parameter_supported".into(),
            json!(true),
        );
    });
    let rp = RelyingParty::discover(op.config()).await.unwrap();
    assert_eq!(code_of(&op, &rp, "alice").await, "ok");
    op.set(|b| b.iss_param = IssParam::Omitted);
    assert_eq!(code_of(&op, &rp, "alice").await, "iss_param_mismatch");
    op.set(|b| b.iss_param = IssParam::Wrong);
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "iss_param_mismatch");
    assert!(err.to_string().contains("attacker.example"), "{err}");

    // Not advertised: a missing iss is fine, a wrong one is still refused.
    let (op, rp) = start().await;
    op.set(|b| b.iss_param = IssParam::Omitted);
    assert_eq!(code_of(&op, &rp, "alice").await, "ok");
    op.set(|b| b.iss_param = IssParam::Wrong);
    assert_eq!(code_of(&op, &rp, "alice").await, "iss_param_mismatch");
}

// ---------------------------------------------------------------- The other ID-token rules

#[tokio::test]
async fn azp_rules() {
    assert_eq!(
        with_claims(|c| {
            c.insert("aud".into(), json!([CLIENT_ID, "api"]));
        })
        .await,
        "azp_required"
    );
    assert_eq!(
        with_claims(|c| {
            c.insert("aud".into(), json!([CLIENT_ID, "api"]));
            c.insert("azp".into(), json!("api"));
        })
        .await,
        "azp_mismatch"
    );
    assert_eq!(
        with_claims(|c| {
            c.insert("aud".into(), json!([CLIENT_ID, "api"]));
            c.insert("azp".into(), json!(CLIENT_ID));
        })
        .await,
        "ok"
    );
}

#[tokio::test]
async fn time_rules_with_skew() {
    let now = id_token::now();
    assert_eq!(
        with_claims(move |c| {
            c.insert("exp".into(), json!(now - 120));
        })
        .await,
        "token_expired"
    );
    assert_eq!(
        with_claims(move |c| {
            c.insert("exp".into(), json!(now - 30));
        })
        .await,
        "ok"
    );
    assert_eq!(
        with_claims(move |c| {
            c.insert("nbf".into(), json!(now + 120));
        })
        .await,
        "not_yet_valid"
    );
    assert_eq!(
        with_claims(move |c| {
            c.insert("iat".into(), json!(now + 120));
        })
        .await,
        "iat_in_future"
    );
    assert_eq!(
        with_claims(move |c| {
            c.insert("iat".into(), json!(now + 30));
        })
        .await,
        "ok"
    );
}

#[tokio::test]
async fn at_hash_must_match_when_present() {
    assert_eq!(
        with_claims(|c| {
            c.insert("at_hash".into(), json!("AAAAAAAAAAAAAAAAAAAAAA"));
        })
        .await,
        "at_hash_mismatch"
    );
    assert_eq!(
        with_claims(|c| {
            c.remove("at_hash");
        })
        .await,
        "ok"
    );
}

#[tokio::test]
async fn eddsa_tokens_are_accepted() {
    let (op, rp) = start().await;
    let key = TestKey::ed25519("ed-1");
    op.set(|b| {
        b.published = vec![TestKey::es256("other"), key.clone()];
        b.signer = key;
    });
    assert_eq!(code_of(&op, &rp, "alice").await, "ok");
}

// ------------------------------------------------------------------ Groups and roles end to end

#[tokio::test]
async fn roles_for_the_runbook_users() {
    let (op, rp) = start().await;
    assert_eq!(
        login(&op, &rp, "alice").await.unwrap().outcome.role,
        "admin"
    );
    assert_eq!(login(&op, &rp, "bob").await.unwrap().outcome.role, "user");
    assert_eq!(
        login(&op, &rp, "carol").await.unwrap().outcome.role,
        "admin"
    );
    assert_eq!(code_of(&op, &rp, "dave").await, "groups_unmapped");
    assert_eq!(code_of(&op, &rp, "erin").await, "groups_missing");

    let mut config = op.config();
    config.default_role = Some(config.roles.role("viewer").unwrap());
    let rp = RelyingParty::discover(config).await.unwrap();
    assert_eq!(
        login(&op, &rp, "dave").await.unwrap().outcome.role,
        "viewer"
    );
    // A default role does not excuse a missing claim.
    assert_eq!(code_of(&op, &rp, "erin").await, "groups_missing");
}

#[tokio::test]
async fn a_configured_ladder_names_the_roles() {
    let (op, _) = start().await;
    let mut config = op.config();
    config.roles = "admin,developer,viewer".parse().unwrap();
    let role = |name: &str| config.roles.role(name).unwrap();
    config.role_mappings = vec![
        ("/acme/engineers".into(), role("developer")),
        ("/acme/admins".into(), role("admin")),
    ];
    config.default_role = Some(role("viewer"));
    let rp = RelyingParty::discover(config).await.unwrap();
    // carol is in both groups: the ladder's order decides.
    for (user, expected) in [
        ("alice", "admin"),
        ("bob", "developer"),
        ("carol", "admin"),
        ("dave", "viewer"),
    ] {
        assert_eq!(
            login(&op, &rp, user).await.unwrap().outcome.role,
            expected,
            "{user}"
        );
    }
}

#[tokio::test]
async fn roles_of_another_ladder_are_refused() {
    let (op, _) = start().await;
    let mut config = op.config();
    // The mappings still hold the default ladder's `admin` and `user`.
    config.roles = "admin,developer,viewer".parse().unwrap();
    let err = RelyingParty::discover(config.clone()).await.unwrap_err();
    assert_eq!(err.code(), "config_invalid");
    assert_eq!(
        err.to_string().split_once(": ").map_or("", |(_, m)| m),
        "the group `/acme/admins` maps to `admin` of the ladder admin > user > viewer, not of the \
         application's roles admin > developer > viewer"
    );

    config.role_mappings.clear();
    config.default_role = Some(RoleLadder::default().role("viewer").unwrap());
    let err = RelyingParty::discover(config).await.unwrap_err();
    assert_eq!(err.code(), "config_invalid");
    assert!(
        err.to_string()
            .contains("the default role `viewer` is of the ladder admin > user > viewer"),
        "{err}"
    );
}

#[tokio::test]
async fn url_shaped_groups_claim_and_overage() {
    let op = MockOp::start().await;
    op.set(|b| {
        b.claims_hook = claims(|c| {
            let groups = c.remove("groups").unwrap();
            c.insert("https://example.com/groups".into(), groups);
        })
    });
    let mut config = op.config();
    config.groups_claim = "https://example.com/groups".into();
    let rp = RelyingParty::discover(config).await.unwrap();
    assert_eq!(
        login(&op, &rp, "alice").await.unwrap().outcome.groups,
        ["/acme/admins"]
    );

    let (op, rp) = start().await;
    op.set(|b| {
        b.claims_hook = claims(|c| {
            c.remove("groups");
            c.insert("_claim_names".into(), json!({"groups": "src1"}));
            c.insert(
                "_claim_sources".into(),
                json!({"src1": {"endpoint": "https://graph.windows.net/t/users/u/getMemberObjects"}}),
            );
        })
    });
    assert_eq!(code_of(&op, &rp, "alice").await, "groups_overage");
}

// ------------------------------------------------------------------------ The browser driver

#[tokio::test]
async fn node_oidc_provider_style_login_with_consent() {
    let (op, rp) = start().await;
    op.set(|b| b.style = Style::NodeOidc);
    let session = login(&op, &rp, "bob").await.unwrap();
    assert_eq!(session.outcome.role, "user");
    let events = op.record().events;
    assert_eq!(events[..3], ["authorize", "login", "consent"]);
}

#[tokio::test]
async fn wrong_password_is_login_failed_with_the_page_message() {
    for style in [Style::Keycloak, Style::NodeOidc] {
        let (op, rp) = start().await;
        op.set(|b| b.style = style);
        let err = rp
            .login("alice", &Secret::new("wrong-pw-123"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "login_failed");
        let text = err.to_string();
        let expected = match style {
            Style::Keycloak => "Invalid username or password.",
            Style::NodeOidc => "Invalid login or password.",
        };
        assert!(text.contains(expected), "{text}");
        assert!(
            !text.contains("session_code") && !text.contains("wrong-pw-123"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn unregistered_redirect_uri_shows_the_idp_page() {
    let op = MockOp::start().await;
    let mut config = op.config();
    config.redirect_uri = "https://app.example.com/other".into();
    let rp = RelyingParty::discover(config).await.unwrap();
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "login_failed");
    let text = err.to_string();
    assert!(text.contains("Invalid parameter: redirect_uri"), "{text}");
    assert!(text.contains("We are sorry..."), "{text}");
    assert!(text.contains("no form holding a password input"), "{text}");
    assert!(text.contains("400 Bad Request"), "{text}");
}

#[tokio::test]
async fn error_redirect_is_idp_error() {
    let (op, rp) = start().await;
    op.set(|b| {
        b.callback_error = Some((
            "access_denied".into(),
            "User is not assigned to the client application.".into(),
        ))
    });
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "idp_error");
    let text = err.to_string();
    assert!(
        text.contains("`access_denied`: User is not assigned"),
        "{text}"
    );
}

// ---------------------------------------------------------- HTTP failures become typed errors

#[tokio::test]
async fn token_endpoint_failures() {
    let (op, rp) = start().await;
    op.set(|b| b.token_broken = true);
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "token_request_failed");
    let text = err.to_string();
    assert!(
        text.contains(&format!("POST {}/protocol/token", op.issuer)),
        "{text}"
    );
    assert!(text.contains("500 Internal Server Error"), "{text}");

    let op = MockOp::start().await;
    let mut config = op.config();
    config.client_secret = Some(Secret::new("regenerated-elsewhere"));
    let rp = RelyingParty::discover(config).await.unwrap();
    let err = login(&op, &rp, "alice").await.unwrap_err();
    assert_eq!(err.code(), "token_request_failed");
    assert!(err.to_string().contains("invalid_client"), "{err}");
}

#[tokio::test]
async fn discovery_failures_and_timeouts() {
    // Nothing listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let config = ClientConfig::new(format!("http://{closed}{REALM}"), CLIENT_ID, REDIRECT_URI);
    let err = RelyingParty::discover(config).await.unwrap_err();
    assert_eq!(err.code(), "discovery_failed");
    assert!(err.to_string().contains("cannot connect"), "{err}");

    // Accepts, never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = silent.accept().await.unwrap();
            held.push(socket);
        }
    });
    let mut config = ClientConfig::new(format!("http://{addr}{REALM}"), CLIENT_ID, REDIRECT_URI);
    config.timeout = Duration::from_millis(300);
    let err = RelyingParty::discover(config).await.unwrap_err();
    hold.abort();
    assert_eq!(err.code(), "discovery_failed");
    let text = err.to_string();
    assert!(text.contains("no answer within 0.3 s"), "{text}");
    assert!(
        text.contains(&format!(
            "GET http://{addr}{REALM}/.well-known/openid-configuration"
        )),
        "{text}"
    );

    // A wrong realm: a 404 from a live server.
    let op = MockOp::start().await;
    let config = ClientConfig::new(op.issuer.replace("acme", "acme2"), CLIENT_ID, REDIRECT_URI);
    let err = RelyingParty::discover(config).await.unwrap_err();
    assert_eq!(err.code(), "discovery_failed");
    assert!(err.to_string().contains("404"), "{err}");
}

#[tokio::test]
async fn invalid_configurations() {
    for (issuer, redirect, scopes) in [
        ("sso.example.com", REDIRECT_URI, "openid"),
        ("https://sso.example.com/realms/acme", "/callback", "openid"),
        (
            "https://sso.example.com/realms/acme",
            REDIRECT_URI,
            "email profile",
        ),
    ] {
        let mut config = ClientConfig::new(issuer, CLIENT_ID, redirect);
        config.scopes = scopes.split(' ').map(String::from).collect();
        let err = RelyingParty::discover(config).await.unwrap_err();
        assert_eq!(err.code(), "config_invalid", "{issuer} {redirect} {scopes}");
    }
}

/// issue 11: `--ca-cert <not a PEM file>` did not name the file. Each way a CA file can be
/// wrong is `config_invalid` naming it and what is wrong.
#[test]
fn ca_certificate_files_are_named_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("notes.txt");
    std::fs::write(&not_pem, "just some notes\n").unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");
    for (path, why) in [
        (&not_pem, "holds no PEM certificate"),
        (&broken, "is not a valid PEM certificate"),
        (&missing, "cannot be read"),
        (
            &dir.path().to_path_buf(),
            "cannot be read: it is a directory",
        ),
    ] {
        let mut config = ClientConfig::new("https://idp.example", CLIENT_ID, REDIRECT_URI);
        let err = config.trust_ca_file(path).unwrap_err();
        assert_eq!(err.code(), "config_invalid");
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "the CA certificate file `{}` {why}",
                path.display()
            )),
            "{text}"
        );
        assert!(config.trusted_ca_pem.is_none());
    }
    let good = dir.path().join("ca.pem");
    let ca = ssoproof_server::tls::LocalCa::generate().unwrap();
    std::fs::write(&good, ca.cert_pem()).unwrap();
    let mut config = ClientConfig::new("https://idp.example", CLIENT_ID, REDIRECT_URI);
    config.trust_ca_file(&good).unwrap();
    assert_eq!(config.trusted_ca_pem.as_deref(), Some(ca.cert_pem()));
}

// ------------------------------------------------------------------------------ No leaks

/// No secret (client secret, password) and no token the OP issued appears in any error message,
/// any `Debug` output, or the serialized outcome.
#[tokio::test]
async fn secrets_and_tokens_never_leak() {
    let (op, rp) = start().await;
    let mut texts = Vec::new();
    let show = |err: RpError| format!("{err} {err:?}");

    let mut session = login(&op, &rp, "alice").await.unwrap();
    let mut stale = session.clone();
    texts.push(format!("{session:?} {rp:?} {:?}", rp.config()));
    texts.push(serde_json::to_string(&session.outcome).unwrap());
    rp.refresh(&mut session, &MemoryTokenStore::new())
        .await
        .unwrap();
    texts.push(show(
        rp.refresh(&mut stale, &MemoryTokenStore::new())
            .await
            .unwrap_err(),
    ));
    texts.push(show(
        rp.login("alice", &Secret::new("alice-pw-Wrong9"))
            .await
            .unwrap_err(),
    ));
    op.set(|b| {
        b.userinfo_hook = claims(|c| {
            c.insert("sub".into(), json!("x"));
        })
    });
    texts.push(show(login(&op, &rp, "alice").await.unwrap_err()));
    op.set(|b| {
        b.userinfo_hook = None;
        b.token_hook = token_hook(|_, t| tampered(t));
    });
    texts.push(show(login(&op, &rp, "alice").await.unwrap_err()));
    op.set(|b| b.token_hook = None);
    texts.push(show(
        rp.refresh(&mut session, &FailingStore).await.unwrap_err(),
    ));
    let mut config = op.config();
    config.client_secret = Some(Secret::new("wrong-client-secret"));
    let wrong = RelyingParty::discover(config).await.unwrap();
    texts.push(show(login(&op, &wrong, "alice").await.unwrap_err()));

    let mut forbidden: Vec<String> = op.record().issued;
    forbidden.extend([
        CLIENT_SECRET.to_string(),
        "wrong-client-secret".to_string(),
        op.user("alice").password,
        "alice-pw-Wrong9".to_string(),
    ]);
    assert!(forbidden.len() > 8);
    for text in &texts {
        for secret in &forbidden {
            assert!(!text.contains(secret.as_str()), "{secret} leaked in {text}");
        }
    }
}

/// The login future can be spawned: the HTML parser never lives across an await.
#[tokio::test]
async fn login_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (op, rp) = start().await;
    let password = op.password("alice");
    let future = rp.login("alice", &password);
    assert_send(&future);
    future.await.unwrap();
    let rp = Arc::new(rp);
    let spawned = {
        let rp = rp.clone();
        tokio::spawn(async move {
            rp.login("bob", &password_of("bob"))
                .await
                .map(|s| s.outcome.role)
        })
    };
    assert_eq!(spawned.await.unwrap().unwrap(), "user");
}

fn password_of(user: &str) -> Secret {
    Secret::new(format!("{user}-pw-Secret1"))
}

/// What `ssoproof login` prints: no tokens unless asked for.
#[tokio::test]
async fn rendered_outcome_shows_tokens_only_on_request() {
    let (op, rp) = start().await;
    let session = login(&op, &rp, "alice").await.unwrap();
    let tokens = [
        session.id_token().expose().to_string(),
        session.access_token().expose().to_string(),
        session.refresh_token().unwrap().expose().to_string(),
    ];
    let text = render::success_json(&session, false);
    assert!(
        text.starts_with("{\n  \"outcome\": \"ok\",\n  \"sub\": "),
        "{text}"
    );
    let plain: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(plain["outcome"], "ok");
    assert_eq!(plain["role"], "admin");
    assert_eq!(plain["groups"], json!(["/acme/admins"]));
    assert_eq!(plain["email"], "alice@example.com");
    assert_eq!(plain["sub"], op.user("alice").sub.as_str());
    let human = render::success_human(&session, false);
    assert!(human.contains("role:   admin"), "{human}");
    for token in &tokens {
        assert!(!plain.to_string().contains(token.as_str()));
        assert!(!human.contains(token.as_str()));
    }
    let shown: Value = serde_json::from_str(&render::success_json(&session, true)).unwrap();
    assert_eq!(shown["tokens"]["id_token"], tokens[0].as_str());
    assert_eq!(shown["tokens"]["access_token"], tokens[1].as_str());
    assert_eq!(shown["tokens"]["refresh_token"], tokens[2].as_str());
    assert!(render::success_human(&session, true).contains(tokens[1].as_str()));
}

// ------------------------------------------------------------- Hostile IdPs (issue 11)

/// Serves `app` on a loopback port; returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

/// A configuration for an IdP whose discovery is honest and whose authorization endpoint is
/// `authorization_endpoint` (a hostile one).
async fn idp_with_authorization_endpoint(authorization_endpoint: String) -> ClientConfig {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": authorization_endpoint,
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
    });
    let app = axum::Router::new().route(
        "/.well-known/openid-configuration",
        axum::routing::get(move || async move { axum::Json(doc) }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut config = ClientConfig::new(issuer, CLIENT_ID, REDIRECT_URI);
    config.timeout = Duration::from_secs(5);
    config
}

/// A login page over the 1 MiB limit, sent without a length (so the cap must count while
/// reading), is `login_failed` naming the page; nothing larger is buffered.
#[tokio::test]
async fn oversized_login_pages_are_refused_by_name() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let raw = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page = format!("http://{}/huge/login", raw.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = raw.accept().await.unwrap();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let chunk = "<div>".repeat(1024);
                for _ in 0..(http::MAX_BODY_BYTES / chunk.len() + 2) {
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let config = idp_with_authorization_endpoint(page.clone()).await;
    let rp = RelyingParty::discover(config).await.unwrap();
    let err = rp.login("alice", &password_of("alice")).await.unwrap_err();
    assert_eq!(err.code(), "login_failed");
    let text = err.to_string();
    assert!(
        text.contains(&format!("sign-in failed at {page}")),
        "{text}"
    );
    assert!(text.contains("larger than 1 MiB"), "{text}");
}

/// `with_deadline` bounds the whole sign-in, not each request: a chain of slow redirects, each
/// well within the request timeout, ends at the deadline.
#[tokio::test]
async fn the_deadline_bounds_a_chain_of_slow_requests() {
    let hop = axum::routing::get(|| async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        axum::response::Redirect::to("/auth")
    });
    let base = serve(axum::Router::new().route("/auth", hop)).await;
    let config = idp_with_authorization_endpoint(format!("{base}/auth")).await;
    let err = with_deadline(Duration::from_millis(500), async {
        let rp = RelyingParty::discover(config).await?;
        rp.login("alice", &password_of("alice")).await
    })
    .await
    .unwrap_err();
    assert_eq!(err.code(), "deadline_exceeded");
    assert!(err.to_string().contains("within 0.5 s"), "{err}");
}

/// issue 11: a page of 100,000 nested `<div>`s takes the parser minutes. The deadline ends the
/// sign-in, and the parse stops with it (the runtime could not shut down otherwise).
#[tokio::test]
async fn the_deadline_stops_a_slow_page_parse() {
    let page = "<div>".repeat(100_000);
    let base = serve(axum::Router::new().route(
        "/auth",
        axum::routing::get(move || async move { axum::response::Html(page) }),
    ))
    .await;
    let config = idp_with_authorization_endpoint(format!("{base}/auth")).await;
    let rp = RelyingParty::discover(config).await.unwrap();
    let err = with_deadline(
        Duration::from_secs(1),
        rp.login("alice", &password_of("alice")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "deadline_exceeded");
}

/// issue 11: `--password p` turned ssoproof's own message into "[redacted]assword" soup.
#[tokio::test]
async fn a_short_password_leaves_the_message_readable() {
    let (_op, rp) = start().await;
    let err = rp.login("alice", &Secret::new("p")).await.unwrap_err();
    assert_eq!(err.code(), "login_failed");
    let text = err.to_string();
    assert!(!text.contains(ssoproof_secret::REDACTED), "{text}");
    assert!(text.contains("Invalid username or password."), "{text}");
    assert!(text.contains("check the username and password"), "{text}");
}

/// A hostile IdP that puts the password it was given into the ID token's claims or the `iss`
/// parameter does not get it printed.
#[tokio::test]
async fn the_password_quoted_back_in_claims_is_redacted() {
    let password = password_of("alice").expose().to_string();
    for claim in ["iss", "aud", "sub"] {
        let (op, rp) = start().await;
        let value = password.clone();
        op.set(|b| {
            b.claims_hook = claims(move |c| {
                c.insert(claim.into(), json!(value));
            })
        });
        let err = login(&op, &rp, "alice").await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains(&password), "{claim}: {text}");
        assert!(text.contains(ssoproof_secret::REDACTED), "{claim}: {text}");
    }
}

/// A hostile IdP quoting the client secret in a refreshed or resumed ID token's claims gets
/// it redacted, as in a login.
#[tokio::test]
async fn the_client_secret_quoted_back_on_refresh_or_resume_is_redacted() {
    let (op, rp) = start().await;
    let mut session = login(&op, &rp, "alice").await.unwrap();
    let store = MemoryTokenStore::new();
    store
        .save_refresh_token(session.refresh_token().unwrap())
        .unwrap();
    op.set(|b| {
        b.refresh_claims_hook = claims(|c| {
            c.insert("iss".into(), json!(CLIENT_SECRET));
        })
    });
    for err in [
        rp.refresh(&mut session, &store)
            .await
            .map(|_| ())
            .unwrap_err(),
        rp.resume(&store).await.map(|_| ()).unwrap_err(),
    ] {
        let text = format!("{err} {err:?}");
        assert_eq!(err.code(), "issuer_mismatch", "{text}");
        assert!(!text.contains(CLIENT_SECRET), "{text}");
        assert!(text.contains(ssoproof_secret::REDACTED), "{text}");
    }
}

/// issue 11: a token endpoint that echoes the request got the client secret printed back,
/// percent-encoded (`client_secret_post`) or inside the Basic credentials.
#[tokio::test]
async fn an_echoing_token_endpoint_never_gets_the_client_secret_printed() {
    use axum::response::IntoResponse;
    let secret = "pa\"ss\\w\u{f6}rd/+&= x";
    let form = form_encode(secret);
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{form}", form_encode(CLIENT_ID)));
    let json_escaped = serde_json::to_string(secret).unwrap();
    let forbidden = [
        secret.to_string(),
        form.clone(),
        form.replace('+', "%20"),
        basic,
        json_escaped[1..json_escaped.len() - 1].to_string(),
    ];
    type Echo = fn(Option<&str>, &str) -> axum::response::Response;
    let echoes: [(&str, Echo); 4] = [
        ("plain text", |auth, body| {
            (
                axum::http::StatusCode::BAD_REQUEST,
                format!("Authorization: {} body: {body}", auth.unwrap_or("-")),
            )
                .into_response()
        }),
        ("an OAuth error", |auth, body| {
            (
                axum::http::StatusCode::BAD_REQUEST,
                axum::Json(json!({
                    "error": "invalid_request",
                    "error_description": format!("{} {body}", auth.unwrap_or("-")),
                })),
            )
                .into_response()
        }),
        ("decoded JSON", |auth, body| {
            let decoded: Map<String, Value> = url::form_urlencoded::parse(body.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            (
                axum::http::StatusCode::BAD_REQUEST,
                axum::Json(json!({"authorization": auth, "form": decoded})),
            )
                .into_response()
        }),
        ("a token type", |auth, body| {
            axum::Json(json!({
                "access_token": "a",
                "token_type": format!("{} {body}", auth.unwrap_or("-")),
            }))
            .into_response()
        }),
    ];
    for method in [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost] {
        for (shape, echo) in echoes {
            let op = MockOp::start().await;
            op.set(|b| b.token_responder = Some(Arc::new(echo)));
            let mut config = op.config();
            config.client_secret = Some(Secret::new(secret));
            config.auth_method = method;
            let rp = RelyingParty::discover(config).await.unwrap();
            let err = login(&op, &rp, "alice").await.unwrap_err();
            assert_eq!(err.code(), "token_request_failed", "{method:?} {shape}");
            let text = format!("{err} {err:?}");
            // The echo is quoted (so the test can see a leak) ...
            assert!(text.contains("grant_type"), "{method:?} {shape}: {text}");
            // ... without the secret in any form it was sent in.
            for leak in &forbidden {
                assert!(
                    !text.contains(leak.as_str()),
                    "{method:?} {shape}: `{leak}` in {text}"
                );
            }
        }
    }
}

/// A probe's walk: redirects are followed while the caller accepts them, the first refused
/// one is handed back unvisited, cookies set on the way are sent again, and a loop is an
/// error naming the request.
#[tokio::test]
async fn browser_follows_redirects_until_told_to_stop() {
    use axum::http::header;
    use axum::response::IntoResponse;
    let app = axum::Router::new()
        .route(
            "/start",
            axum::routing::get(|| async {
                (
                    axum::http::StatusCode::FOUND,
                    [
                        (header::LOCATION, "/next"),
                        (header::SET_COOKIE, "sid=s1; Path=/"),
                    ],
                )
                    .into_response()
            }),
        )
        .route(
            "/next",
            axum::routing::get(|headers: axum::http::HeaderMap| async move {
                let cookie = headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                (
                    axum::http::StatusCode::FOUND,
                    [(
                        header::LOCATION,
                        format!("http://idp.invalid/auth?c={cookie}"),
                    )],
                )
                    .into_response()
            }),
        )
        .route(
            "/loop",
            axum::routing::get(|| async { axum::response::Redirect::to("/loop") }),
        );
    let base = serve(app).await;
    let browser = Browser::new(Duration::from_secs(5), &[]).unwrap();
    let start = Url::parse(&format!("{base}/start")).unwrap();
    let walk = browser
        .follow(&start, |next| next.host_str() != Some("idp.invalid"))
        .await
        .unwrap();
    assert_eq!(walk.status, 302);
    assert_eq!(
        walk.stopped_at.unwrap().as_str(),
        "http://idp.invalid/auth?c=sid=s1"
    );
    let looping = Url::parse(&format!("{base}/loop")).unwrap();
    let err = browser.follow(&looping, |_| true).await.unwrap_err();
    assert!(err.problem.contains("redirect loop"), "{err}");
    assert!(err.request.starts_with("GET http://"), "{err}");
}

// ------------------------------------------------------- The browser driver (headless Chromium)

fn chromium(dir: &tempfile::TempDir) -> LoginDriver {
    LoginDriver::Browser(BrowserOptions {
        screenshots: dir.path().to_path_buf(),
    })
}

/// The same login pages as the form driver's tests, typed into by a real Chromium: the
/// Keycloak-style form, and node-oidc-provider's login then consent.
#[tokio::test]
async fn chromium_signs_in_on_keycloak_and_node_oidc_pages() {
    if !chromium::tests::chromium_or_skip("chromium_signs_in_on_keycloak_and_node_oidc_pages") {
        return;
    }
    for style in [Style::Keycloak, Style::NodeOidc] {
        let (op, rp) = start().await;
        op.set(|b| b.style = style);
        let dir = tempfile::tempdir().unwrap();
        let session = rp
            .login_with(&chromium(&dir), "bob", &op.password("bob"))
            .await
            .unwrap();
        assert_eq!(session.outcome.role, "user");
        let events = op.record().events;
        let expected: &[&str] = match style {
            Style::Keycloak => &["authorize", "login"],
            Style::NodeOidc => &["authorize", "login", "consent"],
        };
        assert_eq!(&events[..expected.len()], expected, "{style:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

/// A wrong password is the form driver's rejected login, with the page's message, and a
/// screenshot; the password is in neither the message nor (cleared first) the screenshot.
#[tokio::test]
async fn chromium_wrong_password_is_login_failed_with_a_screenshot() {
    if !chromium::tests::chromium_or_skip(
        "chromium_wrong_password_is_login_failed_with_a_screenshot",
    ) {
        return;
    }
    for style in [Style::Keycloak, Style::NodeOidc] {
        let (op, rp) = start().await;
        op.set(|b| b.style = style);
        let dir = tempfile::tempdir().unwrap();
        let err = rp
            .login_with(&chromium(&dir), "alice", &Secret::new("wrong-pw-123"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "login_failed");
        let text = err.to_string();
        let expected = match style {
            Style::Keycloak => "Invalid username or password.",
            Style::NodeOidc => "Invalid login or password.",
        };
        assert!(text.contains(expected), "{text}");
        assert!(
            !text.contains("session_code") && !text.contains("wrong-pw-123"),
            "{text}"
        );
        let RpError::LoginFailed {
            screenshot: Some(path),
            ..
        } = &err
        else {
            panic!("no screenshot: {err:?}");
        };
        assert!(path.starts_with(dir.path()), "{}", path.display());
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(std::fs::read(path).unwrap().starts_with(b"\x89PNG"));
    }
}

/// issue 15: `Browser::post` submits a form as a browser posts an auto-submitted SAML Response
/// to an ACS URL (form-encoded, the session's cookies sent), then follows the redirects.
#[tokio::test]
async fn browser_post_submits_the_form_and_follows_the_redirect() {
    use axum::http::header;
    use axum::response::IntoResponse;
    let app = axum::Router::new()
        .route(
            "/acs",
            axum::routing::post(|headers: axum::http::HeaderMap, body: String| async move {
                let form_encoded = headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    == Some("application/x-www-form-urlencoded");
                let status = if form_encoded && body == "SAMLResponse=PHI%2B&RelayState=r+1" {
                    axum::http::StatusCode::SEE_OTHER
                } else {
                    axum::http::StatusCode::BAD_REQUEST
                };
                (
                    status,
                    [
                        (header::LOCATION, "/whoami"),
                        (header::SET_COOKIE, "sid=s1; Path=/"),
                    ],
                )
                    .into_response()
            }),
        )
        .route(
            "/whoami",
            axum::routing::get(|headers: axum::http::HeaderMap| async move {
                let cookie = headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                format!("{{\"cookie\":\"{cookie}\"}}")
            }),
        );
    let base = serve(app).await;
    let browser = Browser::new(Duration::from_secs(5), &[]).unwrap();
    let acs = Url::parse(&format!("{base}/acs")).unwrap();
    let fields = [
        ("SAMLResponse".to_string(), "PHI+".to_string()),
        ("RelayState".to_string(), "r 1".to_string()),
    ];
    let walk = browser.post(&acs, &fields, |_| true).await.unwrap();
    assert_eq!(
        (walk.status, walk.body.as_str()),
        (200, "{\"cookie\":\"sid=s1\"}")
    );
    assert!(walk.url.as_str().ends_with("/whoami"), "{}", walk.url);
    // Stopped before the redirect: the POST's own answer.
    let walk = browser.post(&acs, &fields, |_| false).await.unwrap();
    assert_eq!(walk.status, 303);
}

/// issue 15: the OIDC sign-in and the SAML one each stop where the other's answer arrives, and
/// say why instead of posting or following it.
#[tokio::test]
async fn each_sign_in_refuses_the_other_bindings_arrival() {
    let app = axum::Router::new()
        .route(
            "/post-page",
            axum::routing::get(|| async {
                axum::response::Html(
                    "<html><body><form method=\"post\" action=\"http://127.0.0.1/saml/acs\">\
                     <input type=\"hidden\" name=\"SAMLResponse\" value=\"PHI+\"/></form></body></html>",
                )
            }),
        )
        .route(
            "/redirect",
            axum::routing::get(|| async { axum::response::Redirect::to("http://127.0.0.1/saml/acs?SAMLResponse=x") }),
        );
    let base = serve(app).await;
    let browser = Browser::new(Duration::from_secs(5), &[]).unwrap();
    let password = Secret::new("pw-123");
    let acs = "http://127.0.0.1/saml/acs";
    let page = Url::parse(&format!("{base}/post-page")).unwrap();
    let fields = browser
        .sign_in_posting(&page, acs, "alice", &password, &[])
        .await
        .unwrap();
    assert_eq!(fields, [("SAMLResponse".to_string(), "PHI+".to_string())]);
    let error = browser
        .sign_in(&page, acs, "alice", &password, &[])
        .await
        .unwrap_err();
    assert_eq!(error.code(), "login_failed");
    assert!(error.to_string().contains("form_post"), "{error}");
    let redirect = Url::parse(&format!("{base}/redirect")).unwrap();
    let error = browser
        .sign_in_posting(&redirect, acs, "alice", &password, &[])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("HTTP-POST binding"), "{error}");
    assert!(
        !error.to_string().contains("SAMLResponse=x"),
        "the query is not shown: {error}"
    );
}
