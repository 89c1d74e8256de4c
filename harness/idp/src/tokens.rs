//! Token issuance: the claims Keycloak 26 puts in access, ID and refresh tokens, and signing.
//!
//! Access and ID tokens are signed with the current key ([`super::keys`]); refresh tokens, as in
//! Keycloak, are HS512 JWTs under a key of the realm's own that never leaves the server. The
//! token response carries Keycloak's nine fields in Keycloak's order. Faults are applied to the
//! ID and access tokens here (each those aimed at it); the deliberately broken signatures (`alg: none`, a flipped bit) are written by
//! hand, everything else goes through `jsonwebtoken`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};

use std::collections::BTreeMap;

use super::faults::{Fault, FaultTokens, Faults, KidFault, SignatureFault, TokenFacts};
use super::keys::SigningKey;
use super::mappers::{self, Subject, Target};
use super::persona::{AccessToken, Ctx, Dialect, Issued};
use super::realm::{Client, Realm, User, OPENID};
use super::state::{now, AccessGrantInput, Shared};
use super::SigningAlg;

/// The token endpoint's success body.
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_expires_in: u64,
    pub refresh_token: String,
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(rename = "not-before-policy")]
    pub not_before_policy: u64,
    pub session_state: String,
    pub scope: String,
}

/// The grant a token comes from; Keycloak prefixes access-token ids with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    AuthorizationCode,
    Password,
    Refresh,
}

impl Grant {
    fn jti_prefix(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "onrtac:",
            Grant::Password => "onrtro:",
            Grant::Refresh => "onrtrt:",
        }
    }
}

/// Who gets tokens, for which session and scopes.
pub(crate) struct Issue<'a> {
    pub grant: Grant,
    pub client: &'a Client,
    pub user: &'a User,
    pub session_id: &'a str,
    pub auth_time: Option<i64>,
    pub session_started: i64,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
}

/// What Keycloak's access and ID token claims are made of: the real token endpoint's issue and
/// a minted token's share it.
pub(crate) struct KeycloakClaims<'a> {
    pub issuer: &'a str,
    pub grant: Grant,
    pub client: &'a Client,
    pub user: &'a User,
    pub session_id: &'a str,
    pub auth_time: Option<i64>,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    /// The (possibly skewed) issuing time.
    pub now: i64,
    /// The clock skew in force, which shifts `auth_time` too.
    pub skew: i64,
}

impl KeycloakClaims<'_> {
    fn subject(&self) -> Subject<'_> {
        Subject {
            client: self.client,
            user: self.user,
            session_id: self.session_id,
            auth_time: self.auth_time,
        }
    }

    /// The access token's claims, as Keycloak 26 issues them.
    pub fn access_token(&self, realm: &Realm) -> Map<String, Value> {
        let lifespan = realm.tokens.access_token_lifespan as i64;
        let mut access = Map::new();
        access.insert("exp".into(), Value::from(self.now + lifespan));
        access.insert("iat".into(), Value::from(self.now));
        access.insert(
            "jti".into(),
            Value::from(format!(
                "{}{}",
                self.grant.jti_prefix(),
                uuid::Uuid::new_v4()
            )),
        );
        access.insert("iss".into(), Value::from(self.issuer));
        access.insert("typ".into(), Value::from("Bearer"));
        access.insert("azp".into(), Value::from(self.client.client_id.as_str()));
        access.insert("sid".into(), Value::from(self.session_id));
        access.insert("scope".into(), Value::from(realm.scope_claim(self.scopes)));
        mappers::apply(
            mappers::effective(realm, self.client, self.scopes),
            &self.subject(),
            Target::AccessToken,
            &mut access,
        );
        shift_auth_time(&mut access, self.skew);
        access
    }

    /// The ID token's claims, as Keycloak 26 issues them; `at_hash` when there is an access token
    /// to hash.
    pub fn id_token(&self, realm: &Realm, at_hash: Option<String>) -> Map<String, Value> {
        let lifespan = realm.tokens.access_token_lifespan as i64;
        let client_id = self.client.client_id.as_str();
        let mut id = Map::new();
        id.insert("exp".into(), Value::from(self.now + lifespan));
        id.insert("iat".into(), Value::from(self.now));
        id.insert("jti".into(), Value::from(uuid::Uuid::new_v4().to_string()));
        id.insert("iss".into(), Value::from(self.issuer));
        id.insert("aud".into(), Value::from(client_id));
        id.insert("sub".into(), Value::from(self.user.id.clone()));
        id.insert("typ".into(), Value::from("ID"));
        id.insert("azp".into(), Value::from(client_id));
        if let Some(nonce) = self.nonce {
            id.insert("nonce".into(), Value::from(nonce));
        }
        id.insert("sid".into(), Value::from(self.session_id));
        if let Some(at_hash) = at_hash {
            id.insert("at_hash".into(), Value::from(at_hash));
        }
        mappers::apply(
            mappers::effective(realm, self.client, self.scopes),
            &self.subject(),
            Target::IdToken,
            &mut id,
        );
        shift_auth_time(&mut id, self.skew);
        id
    }
}

/// Issues the tokens of one token response and remembers them.
pub(crate) fn issue(shared: &Shared, realm: &Realm, issue: &Issue<'_>) -> TokenResponse {
    let faults = shared.faults.snapshot();
    let real_now = now();
    let t = real_now + faults.clock_skew();
    let settings = &realm.tokens;
    let lifespan = settings.access_token_lifespan as i64;
    let refresh_lifespan = (settings.sso_session_idle_timeout as i64)
        .min(settings.sso_session_max_lifespan as i64 - (real_now - issue.session_started))
        .max(0);
    let with_id_token = issue.scopes.iter().any(|s| s == OPENID);
    let scope = realm.scope_claim(issue.scopes);
    let client_id = issue.client.client_id.as_str();
    let claims = KeycloakClaims {
        issuer: &shared.issuer,
        grant: issue.grant,
        client: issue.client,
        user: issue.user,
        session_id: issue.session_id,
        auth_time: issue.auth_time,
        scopes: issue.scopes,
        nonce: issue.nonce,
        now: t,
        skew: faults.clock_skew(),
    };

    let (id_faults, access_faults) = aimed(shared, &faults, with_id_token);
    let key = shared.current_key();
    let secret = issue.client.secret.as_ref().map_or("", |s| s.expose());
    let facts = TokenFacts {
        issuer: &shared.issuer,
        client_id,
        now: t,
        lifespan,
        refresh: issue.grant == Grant::Refresh,
    };

    let mut access = claims.access_token(realm);
    access_faults.apply_to_claims(&mut access, &facts);
    let access_token = sign_with_faults(shared, &access_faults, &access, secret);

    let id_token = with_id_token.then(|| {
        let mut id = claims.id_token(realm, Some(at_hash(key.alg, &access_token)));
        id_faults.apply_to_claims(&mut id, &facts);
        sign_with_faults(shared, &id_faults, &id, secret)
    });

    let refresh_jti = uuid::Uuid::new_v4().to_string();
    let mut refresh = Map::new();
    refresh.insert("exp".into(), Value::from(t + refresh_lifespan));
    refresh.insert("iat".into(), Value::from(t));
    refresh.insert("jti".into(), Value::from(refresh_jti.clone()));
    refresh.insert("iss".into(), Value::from(shared.issuer.clone()));
    refresh.insert("aud".into(), Value::from(shared.issuer.clone()));
    refresh.insert("sub".into(), Value::from(issue.user.id.clone()));
    refresh.insert("typ".into(), Value::from("Refresh"));
    refresh.insert("azp".into(), Value::from(client_id));
    refresh.insert("sid".into(), Value::from(issue.session_id));
    // Keycloak 26.7.3 lists every granted scope here, also those left out of the access
    // token's `scope` (`acr`, `basic`, `roles`, `web-origins`), and adds `reuse_id` and `prov`
    // (the fidelity suite saw them; nothing here reads them).
    refresh.insert("scope".into(), Value::from(issue.scopes.join(" ")));
    refresh.insert(
        "reuse_id".into(),
        Value::from(uuid::Uuid::new_v4().to_string()),
    );
    refresh.insert("prov".into(), Value::from("default"));
    let refresh_token = shared.refresh_key.sign(&refresh);

    let mut store = shared.store();
    if !access_faults.refused_by_userinfo() {
        store.record_access_token(
            access_token.clone(),
            AccessGrantInput {
                user_id: issue.user.id.clone(),
                session_id: issue.session_id.to_string(),
                client_id: client_id.to_string(),
                scopes: issue.scopes.to_vec(),
                server: 0,
                expires_at: real_now + lifespan,
            },
            real_now,
        );
    }
    if let Some(id_token) = &id_token {
        store.record_id_token(
            id_token.clone(),
            issue.session_id,
            client_id,
            real_now,
            settings.sso_session_max_lifespan,
        );
    }
    store.issue_refresh(issue.session_id, client_id, &refresh_jti);
    drop(store);

    TokenResponse {
        access_token,
        expires_in: settings.access_token_lifespan,
        refresh_expires_in: refresh_lifespan as u64,
        refresh_token,
        token_type: "Bearer",
        id_token,
        not_before_policy: 0,
        session_state: issue.session_id.to_string(),
        scope,
    }
}

/// Who gets a persona's tokens, through which server, for which session and scopes.
pub(crate) struct PersonaIssue<'a> {
    pub grant: Grant,
    pub server: usize,
    pub client: &'a Client,
    pub user: &'a User,
    pub session_id: &'a str,
    pub auth_time: Option<i64>,
    pub session_started: i64,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub params: &'a BTreeMap<String, String>,
    /// The refresh token presented, at a refresh.
    pub presented_refresh: Option<&'a str>,
}

/// Issues a persona's tokens: the vendor shapes the claims and the response; signing, faults,
/// refresh-token families and the bookkeeping are shared with Keycloak's.
pub(crate) fn issue_persona(
    shared: &Shared,
    realm: &Realm,
    dialect: &dyn Dialect,
    issue: &PersonaIssue<'_>,
) -> Value {
    let faults = shared.faults.snapshot();
    let real_now = now();
    let skew = faults.clock_skew();
    let t = real_now + skew;
    let server = &shared.servers[issue.server];
    let issuer = dialect.token_issuer(server, &shared.servers);
    let client_id = issue.client.client_id.as_str();
    let ctx = Ctx {
        server,
        issuer: &issuer,
        client: issue.client,
        user: issue.user,
        scopes: issue.scopes,
        nonce: issue.nonce,
        now: t,
        auth_time: issue.auth_time.map(|a| a + skew),
        session_id: issue.session_id,
        params: issue.params,
    };
    let lifetimes = dialect.lifetimes();
    let with_id_token = issue.scopes.iter().any(|s| s == OPENID);
    let (id_faults, access_faults) = aimed(shared, &faults, with_id_token);
    let key = shared.current_key();
    let secret = issue.client.secret.as_ref().map_or("", |s| s.expose());
    let facts = |lifespan| TokenFacts {
        issuer: &issuer,
        client_id,
        now: t,
        lifespan,
        refresh: issue.grant == Grant::Refresh,
    };
    // An opaque access token is no JWT for a fault to break: it stays valid.
    let (access_token, access_refused) = match dialect.access_token(&ctx) {
        AccessToken::Jwt(mut claims) => {
            access_faults.apply_to_claims(&mut claims, &facts(lifetimes.access_token));
            (
                sign_with_faults(shared, &access_faults, &claims, secret),
                access_faults.refused_by_userinfo(),
            )
        }
        AccessToken::Opaque(token) => (token, false),
    };
    let id_token = with_id_token.then(|| {
        let mut id = dialect.id_token(&ctx);
        if dialect.at_hash() {
            id.insert(
                "at_hash".into(),
                Value::from(at_hash(key.alg, &access_token)),
            );
        }
        id_faults.apply_to_claims(&mut id, &facts(lifetimes.id_token));
        if dialect.id_token_hs256(issue.client) {
            let mut header = Header::new(Algorithm::HS256);
            header.typ = Some("JWT".into());
            jsonwebtoken::encode(&header, &id, &EncodingKey::from_secret(secret.as_bytes()))
                .expect("HMAC signing accepts any key")
        } else if dialect.unpublished_signing_key(issue.client) {
            sign(&super::keys::unpublished_key(SigningAlg::Rs256), &id, None)
        } else {
            sign_with_faults(shared, &id_faults, &id, secret)
        }
    });

    let policy = dialect.refresh(&ctx);
    let refresh_token = match (issue.grant, policy) {
        (_, None) => None,
        (Grant::Refresh, Some(policy)) if !policy.rotate => policy
            .echo
            .then(|| issue.presented_refresh.unwrap_or_default().to_string()),
        (_, Some(_)) => {
            let jti = uuid::Uuid::new_v4().to_string();
            let mut refresh = Map::new();
            refresh.insert(
                "exp".into(),
                Value::from(t + realm.tokens.sso_session_idle_timeout as i64),
            );
            refresh.insert("iat".into(), Value::from(t));
            refresh.insert("jti".into(), Value::from(jti.clone()));
            refresh.insert("iss".into(), Value::from(issuer.clone()));
            refresh.insert("sub".into(), Value::from(issue.user.id.clone()));
            refresh.insert("typ".into(), Value::from("Refresh"));
            refresh.insert("azp".into(), Value::from(client_id));
            refresh.insert("sid".into(), Value::from(issue.session_id));
            refresh.insert("srv".into(), Value::from(issue.server));
            if !issue.params.is_empty() {
                // Read back at the refresh: the vendor decides from them (Google's
                // `access_type=offline`).
                let params = issue.params.iter();
                refresh.insert(
                    "prm".into(),
                    Value::Object(
                        params
                            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                            .collect(),
                    ),
                );
            }
            let token = shared.refresh_key.sign(&refresh);
            shared
                .store()
                .rotate_family(issue.session_id, client_id, &jti, shared.clock());
            Some(token)
        }
    };

    let mut store = shared.store();
    if !access_refused {
        store.record_access_token(
            access_token.clone(),
            AccessGrantInput {
                user_id: issue.user.id.clone(),
                session_id: issue.session_id.to_string(),
                client_id: client_id.to_string(),
                scopes: issue.scopes.to_vec(),
                server: issue.server,
                expires_at: real_now + lifetimes.access_token,
            },
            real_now,
        );
    }
    if let Some(id_token) = &id_token {
        store.record_id_token(
            id_token.clone(),
            issue.session_id,
            client_id,
            real_now,
            realm.tokens.sso_session_max_lifespan,
        );
    }
    drop(store);
    let _ = issue.session_started;
    dialect.token_response(Issued {
        access_token,
        id_token,
        refresh_token,
        scopes: issue.scopes.to_vec(),
        expires_in: lifetimes.access_token,
    })
}

/// `auth_time` comes from the session; a skewed clock shifts it with the other time claims.
fn shift_auth_time(claims: &mut Map<String, Value>, skew: i64) {
    if let Some(auth_time) = claims.get("auth_time").and_then(Value::as_i64) {
        claims.insert("auth_time".into(), Value::from(auth_time + skew));
    }
}

/// OIDC Core 3.1.3.6: the left half of the access token's hash, with the hash of the signing
/// algorithm (SHA-512 for Ed25519).
pub(crate) fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    let digest = match alg {
        SigningAlg::EdDsa => Sha512::digest(access_token.as_bytes()).to_vec(),
        SigningAlg::Rs256 | SigningAlg::Es256 => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Signs with `key`; `kid` overrides the header's key id (`Some(None)` leaves it out).
fn sign(key: &SigningKey, claims: &Map<String, Value>, kid: Option<Option<String>>) -> String {
    let mut header = Header::new(key.alg.jwt_algorithm());
    header.kid = kid.unwrap_or_else(|| Some(key.kid.clone()));
    let header = serde_json::to_vec(&header).expect("a JWT header serializes");
    let input = signing_input(&header, claims);
    let signature = key_signature(key, &input);
    format!("{input}.{signature}")
}

/// `base64url(header).base64url(claims)`: the header bytes exactly as given.
pub(crate) fn signing_input(header: &[u8], claims: &Map<String, Value>) -> String {
    let payload = serde_json::to_vec(claims).expect("a JSON object serializes");
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

/// The base64url signature of `input` under `key`, with the key's own algorithm. RS256 goes
/// through ring: the pure-Rust `rsa` crate behind jsonwebtoken takes several milliseconds per
/// signature, ring a fraction of one.
pub(crate) fn key_signature(key: &SigningKey, input: &str) -> String {
    let Some(pair) = &key.rsa_ring else {
        return jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &key.encoding,
            key.alg.jwt_algorithm(),
        )
        .expect("signing with a key of its own algorithm succeeds");
    };
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .expect("RSA signing with a valid key and a correctly sized buffer succeeds");
    URL_SAFE_NO_PAD.encode(signature)
}

/// The faults aimed at the ID token and at the access token of one response; rotates the keys
/// first when `rotate_before_signing` is aimed at a token the response carries.
fn aimed(shared: &Shared, faults: &Faults, with_id_token: bool) -> (Faults, Faults) {
    let id = faults.aimed_at(FaultTokens::Id);
    let access = faults.aimed_at(FaultTokens::Access);
    let rotate = &Fault::RotateBeforeSigning;
    if (with_id_token && id.has(rotate)) || access.has(rotate) {
        shared.rotate_keys();
    }
    (id, access)
}

/// Signs with the current key, or breaks the header and signature as the faults aimed at the
/// token say.
fn sign_with_faults(
    shared: &Shared,
    faults: &Faults,
    claims: &Map<String, Value>,
    client_secret: &str,
) -> String {
    let kid_fault = faults.kid();
    if kid_fault == KidFault::AbsentAmongSeveral && shared.keys().published().len() < 2 {
        shared.rotate_keys();
    }
    let key = shared.current_key();
    let kid = match kid_fault {
        KidFault::None => None,
        KidFault::Absent | KidFault::AbsentAmongSeveral => Some(None),
        KidFault::Unknown => Some(Some(format!("unknown-{}", uuid::Uuid::new_v4()))),
    };
    match faults.signature() {
        SignatureFault::None => sign(&key, claims, kid),
        SignatureFault::BadSignature => flip_signature_bit(&sign(&key, claims, kid)),
        SignatureFault::Hs256ClientSecret => jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(client_secret.as_bytes()),
        )
        .expect("HMAC signing accepts any key"),
        SignatureFault::AlgNone => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
            format!("{header}.{payload}.")
        }
    }
}

/// The same token with one bit of its signature flipped: well-formed, and never valid.
fn flip_signature_bit(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("a JWS has three parts");
    let mut bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("jsonwebtoken writes base64url");
    bytes[0] ^= 0x01;
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The realm's refresh-token key (Keycloak's `hmac-generated-hs512` provider).
pub(crate) struct RefreshKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl RefreshKey {
    pub fn generate() -> RefreshKey {
        let mut secret = [0u8; 64];
        rand::thread_rng().fill_bytes(&mut secret);
        RefreshKey {
            kid: uuid::Uuid::new_v4().to_string(),
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
        }
    }

    fn sign(&self, claims: &Map<String, Value>) -> String {
        let mut header = Header::new(Algorithm::HS512);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("HMAC signing cannot fail")
    }

    /// The claims of a refresh token this realm signed, whatever its expiry; `None` for anything
    /// else.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        let mut validation = Validation::new(Algorithm::HS512);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_spec_example() {
        // OIDC Core A.3: this access token's at_hash, computed with SHA-256.
        assert_eq!(
            at_hash(
                SigningAlg::Rs256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn refresh_tokens_verify_only_under_their_key() {
        let key = RefreshKey::generate();
        let mut claims = Map::new();
        claims.insert("typ".into(), "Refresh".into());
        claims.insert("exp".into(), Value::from(1));
        let token = key.sign(&claims);
        assert_eq!(key.verify(&token).unwrap()["typ"], "Refresh");
        assert!(RefreshKey::generate().verify(&token).is_none());
        assert!(key.verify("garbage").is_none());
        assert!(key.verify(&flip_signature_bit(&token)).is_none());
    }
}
