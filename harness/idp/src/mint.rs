//! Minted tokens: an access or ID token with any claims, header, key and algorithm, for test
//! suites that check how an application validates tokens ([`crate::Emulator::mint`],
//! `POST /_ssoproof/tokens`).
//!
//! The claims start as the token endpoint would issue them for the user (the same code builds
//! both), then the request's claims are merged over them. The header is what the request makes of
//! the generated one, and the signature is computed over that header byte for byte, so a `kid`
//! naming a path, a `crit` or a `jku` is validly signed. Minted tokens are not recorded: the
//! emulator's own userinfo endpoint refuses them, as it refuses any token it did not issue.

use std::collections::BTreeMap;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::keys::{self, SigningKey};
use super::persona::{AccessToken, Ctx, Dialect, Server};
use super::realm::{Client, Realm, User, OPENID};
use super::state::{now, Shared};
use super::tokens::{key_signature, signing_input, Grant, KeycloakClaims};
use super::IdpError;

/// What to mint. As JSON (the admin API), every field optional:
/// `{"token": "access", "username": "alice", "claims": {"aud": "api"}, "header": {"kid": "x"},
/// "signing": {"hs256": "secret"}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    #[serde(default)]
    pub token: TokenKind,
    /// A user of the realm or persona: the claims are those a real login of that user gets (the
    /// mappers' or the vendor's `sub`, names, e-mail, groups, roles). `None`: only the claims
    /// that describe no user (`iss`, `iat`, `exp`, `jti`, `azp`, an ID token's `aud`), plus
    /// [`MintRequest::claims`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The client the token is for (`azp`; an ID token's `aud`). `None`: the first client with
    /// a redirect URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Merged over the generated claims; a JSON `null` removes that claim.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// Merged over the generated JOSE header (`alg`, `typ`, `kid`); a JSON `null` removes that
    /// member. The signature is computed over the header as it ends up, whatever it says.
    #[serde(default)]
    pub header: Map<String, Value>,
    #[serde(default)]
    pub signing: Signing,
}

impl MintRequest {
    /// An access token for `username`, signed with the current key.
    pub fn access(username: &str) -> MintRequest {
        MintRequest {
            username: Some(username.to_string()),
            ..MintRequest::default()
        }
    }
}

/// Which token to mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    #[default]
    Access,
    Id,
}

/// How a minted token is signed. As JSON: `"current"`, `"unpublished"`, `"none"` or
/// `{"hs256": "<secret>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signing {
    /// The current published key, with its algorithm; the header names its `kid`.
    #[default]
    Current,
    /// A valid key of the same algorithm that the JWKS never publishes; the header names its
    /// `kid` (an RFC 7638 thumbprint like the others).
    Unpublished,
    /// `alg: none` and an empty signature; the header has no `kid`.
    None,
    /// HMAC-SHA256 with these bytes as the key, e.g. the current public key's PEM
    /// ([`crate::Emulator::public_key_pem`]) for a key-confusion test; the header keeps the
    /// current key's `kid`, as an attacker's copy of a real token would.
    Hs256(String),
}

/// A minted token, with the header and claims it carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Minted {
    pub token: String,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

pub(crate) fn mint(shared: &Shared, request: &MintRequest) -> Result<Minted, IdpError> {
    let realm = shared.realm();
    let client = match &request.client_id {
        Some(id) => realm
            .client(id)
            .ok_or_else(|| IdpError::UnknownClient(id.clone()))?,
        None => realm
            .clients
            .iter()
            .find(|c| !c.redirect_uris.is_empty())
            .ok_or_else(|| IdpError::UnknownClient("(any with a redirect URI)".into()))?,
    };
    let user = match &request.username {
        Some(name) => Some(
            realm
                .user(name)
                .ok_or_else(|| IdpError::UnknownUser(name.clone()))?,
        ),
        None => None,
    };
    let now = now();
    let mut claims = match (realm.persona.as_ref(), user) {
        (None, Some(user)) => keycloak_claims(shared, &realm, client, user, request.token, now),
        (Some(persona), Some(user)) => {
            persona_claims(shared, persona.dialect(), client, user, request.token, now)?
        }
        (persona, None) => bare_claims(
            shared,
            &realm,
            persona.map(|p| p.dialect()),
            client,
            request.token,
            now,
        ),
    };
    drop(realm);
    merge(&mut claims, &request.claims);

    let current = shared.current_key();
    let (signer, mut header) = match &request.signing {
        Signing::Current => (Signer::Key(current.clone()), key_header(&current)),
        Signing::Unpublished => {
            let key = keys::unpublished_key(current.alg);
            let header = key_header(&key);
            (Signer::Key(key), header)
        }
        Signing::None => (Signer::Unsigned, header_of("none", None)),
        Signing::Hs256(secret) => (Signer::Hmac(secret), header_of("HS256", Some(&current.kid))),
    };
    merge(&mut header, &request.header);
    let header_json = serde_json::to_vec(&header).expect("a JSON object serializes");
    let input = signing_input(&header_json, &claims);
    let signature = match signer {
        Signer::Key(key) => key_signature(&key, &input),
        Signer::Hmac(secret) => hmac_sha256(secret, &input),
        Signer::Unsigned => String::new(),
    };
    Ok(Minted {
        token: format!("{input}.{signature}"),
        header,
        claims,
    })
}

enum Signer<'a> {
    Key(Arc<SigningKey>),
    Hmac(&'a str),
    Unsigned,
}

fn key_header(key: &SigningKey) -> Map<String, Value> {
    header_of(key.alg.as_str(), Some(&key.kid))
}

fn header_of(alg: &str, kid: Option<&str>) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(alg));
    header.insert("typ".into(), Value::from("JWT"));
    if let Some(kid) = kid {
        header.insert("kid".into(), Value::from(kid));
    }
    header
}

fn hmac_sha256(secret: &str, input: &str) -> String {
    jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .expect("HMAC signing accepts any key")
}

/// `overrides` over `target`; a `null` removes the member.
fn merge(target: &mut Map<String, Value>, overrides: &Map<String, Value>) {
    for (name, value) in overrides {
        if value.is_null() {
            target.remove(name);
        } else {
            target.insert(name.clone(), value.clone());
        }
    }
}

/// A Keycloak login's claims: the client's default scopes, a fresh session, signed in now.
fn keycloak_claims(
    shared: &Shared,
    realm: &Realm,
    client: &Client,
    user: &User,
    kind: TokenKind,
    now: i64,
) -> Map<String, Value> {
    let scopes = realm.granted_scopes(client, &[OPENID]);
    let session_id = uuid::Uuid::new_v4().to_string();
    let claims = KeycloakClaims {
        issuer: &shared.issuer,
        grant: Grant::AuthorizationCode,
        client,
        user,
        session_id: &session_id,
        auth_time: Some(now),
        scopes: &scopes,
        nonce: None,
        now,
        skew: 0,
    };
    match kind {
        TokenKind::Access => claims.access_token(realm),
        TokenKind::Id => claims.id_token(realm, None),
    }
}

/// A persona login's claims, through the primary issuer, with the profile scopes and `groups`
/// where the vendor grants them.
fn persona_claims(
    shared: &Shared,
    dialect: &dyn Dialect,
    client: &Client,
    user: &User,
    kind: TokenKind,
    now: i64,
) -> Result<Map<String, Value>, IdpError> {
    let server = &shared.servers[0];
    let issuer = dialect.token_issuer(server, &shared.servers);
    let scopes = persona_scopes(dialect, server, client);
    // As an application that asks for its API's audience (Auth0 issues JWT access tokens only
    // then).
    let params: BTreeMap<String, String> = dialect
        .default_audience()
        .map(|audience| ("audience".to_string(), audience))
        .into_iter()
        .collect();
    let session_id = uuid::Uuid::new_v4().to_string();
    let ctx = Ctx {
        server,
        issuer: &issuer,
        client,
        user,
        scopes: &scopes,
        nonce: None,
        now,
        auth_time: Some(now),
        session_id: &session_id,
        params: &params,
    };
    match kind {
        TokenKind::Id => Ok(dialect.id_token(&ctx)),
        TokenKind::Access => match dialect.access_token(&ctx) {
            AccessToken::Jwt(claims) => Ok(claims),
            AccessToken::Opaque(_) => Err(IdpError::OpaqueAccessToken {
                vendor: dialect.vendor(),
            }),
        },
    }
}

/// `openid` and each of `profile`, `email`, `groups` the vendor grants this client when asked
/// for it (vendors refuse or drop the scopes they do not know).
fn persona_scopes(dialect: &dyn Dialect, server: &Server, client: &Client) -> Vec<String> {
    let mut requested = vec![OPENID];
    for scope in ["profile", "email", "groups"] {
        let granted = dialect.check_scopes(server, client, &[OPENID, scope]);
        if granted.is_ok_and(|g| g.iter().any(|s| s == scope)) {
            requested.push(scope);
        }
    }
    dialect
        .check_scopes(server, client, &requested)
        .unwrap_or_else(|_| vec![OPENID.to_string()])
}

/// The claims that describe no user: issuer, times, id, and who the token is for.
fn bare_claims(
    shared: &Shared,
    realm: &Realm,
    dialect: Option<&dyn Dialect>,
    client: &Client,
    kind: TokenKind,
    now: i64,
) -> Map<String, Value> {
    let (issuer, lifetime) = match dialect {
        Some(dialect) => {
            let lifetimes = dialect.lifetimes();
            let lifetime = match kind {
                TokenKind::Access => lifetimes.access_token,
                TokenKind::Id => lifetimes.id_token,
            };
            (
                dialect.token_issuer(&shared.servers[0], &shared.servers),
                lifetime,
            )
        }
        None => (
            shared.issuer.clone(),
            realm.tokens.access_token_lifespan as i64,
        ),
    };
    let mut claims = Map::new();
    claims.insert("iss".into(), Value::from(issuer));
    claims.insert("iat".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now + lifetime));
    claims.insert("jti".into(), Value::from(uuid::Uuid::new_v4().to_string()));
    if kind == TokenKind::Id {
        claims.insert("aud".into(), Value::from(client.client_id.as_str()));
    }
    claims.insert("azp".into(), Value::from(client.client_id.as_str()));
    if dialect.is_none() {
        // Keycloak types its tokens.
        let typ = match kind {
            TokenKind::Access => "Bearer",
            TokenKind::Id => "ID",
        };
        claims.insert("typ".into(), Value::from(typ));
    }
    claims
}
