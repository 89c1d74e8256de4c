//! The emulator's state: the realm, the keys, the faults, and the logins, codes, sessions and
//! tokens in flight.
//!
//! Locks are taken in one order — realm, keys, store — and never held across an `.await`.
//! Store operations take the current time as a parameter, so expiry is testable without
//! waiting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Serialize;

use super::faults::{ActiveFaults, AimedFault};
use super::keys::{KeyRing, SigningKey};
use super::persona::Server;
use super::realm::{Realm, TokenSettings};
use super::tokens::RefreshKey;
use super::{IdpError, IdpOptions};

/// A poisoned lock only means another request panicked; the data is still consistent enough
/// for an emulator, and refusing every later request would be worse.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `bytes` random bytes, base64url-encoded.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// How the authorization response travels back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The granted scopes (see [`Realm::granted_scopes`]).
    pub scopes: Vec<String>,
    /// The PKCE challenge and its method.
    pub code_challenge: Option<(String, String)>,
    /// Which of the emulator's servers (issuers) the request came to; 0 for Keycloak.
    pub server: usize,
    /// Vendor-specific parameters kept for later (`access_type`, `hd`, `kc_idp_hint`).
    pub params: BTreeMap<String, String>,
    /// A SAML login (the client is a SAML client, `redirect_uri` its ACS, `state` the
    /// RelayState); `None` for OpenID Connect.
    pub saml: Option<crate::saml::SamlLogin>,
}

/// A login page that has been served and not yet completed.
#[derive(Debug, Clone)]
pub(crate) struct PendingLogin {
    pub request: AuthRequest,
    /// Decided when the page is served, as Keycloak does: the future session's id.
    pub session_id: String,
    pub tab_id: String,
    pub created: i64,
    pub stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stage {
    Credentials,
    /// Identifier-first login: the username was given, the password page is showing.
    Identified {
        login: String,
    },
    /// Away at an upstream identity provider (Keycloak brokering); the state it carries back.
    Brokering {
        alias: String,
        nonce: String,
    },
    /// The password was right; the consent page is showing.
    Consent {
        user_id: String,
        auth_time: i64,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub request: AuthRequest,
    pub user_id: String,
    pub session_id: String,
    expires_at: i64,
    used: bool,
}

/// A user session (Keycloak's SSO session) with one client session per client.
#[derive(Debug, Clone)]
pub(crate) struct UserSession {
    pub user_id: String,
    /// When the password was typed; `None` for the password grant, whose tokens carry none.
    pub auth_time: Option<i64>,
    pub started: i64,
    pub last_refresh: i64,
    pub clients: HashMap<String, ClientSession>,
}

#[derive(Debug, Clone)]
pub(crate) struct ClientSession {
    pub scopes: Vec<String>,
    rotation: Rotation,
    family: Family,
}

/// A persona's refresh-token family: the token that is current and the retired ones, with
/// when each was retired (for the grace period).
#[derive(Debug, Clone, Default)]
struct Family {
    current: Option<String>,
    retired: HashMap<String, i64>,
}

/// Keycloak's refresh-token reuse bookkeeping (`validateTokenReuse`): the refresh token last
/// used, how often, and which refreshes happened since each token was issued. Keycloak compares
/// second-resolution timestamps; counting refreshes gives the same answers without its
/// same-second blind spot.
#[derive(Debug, Clone, Default)]
struct Rotation {
    refreshes: u64,
    issued: HashMap<String, u64>,
    current: Option<String>,
    use_count: u32,
}

/// Why a refresh token's reuse is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReuseError {
    /// An older token than the one last used.
    Stale,
    /// The token last used, once more than `refreshTokenMaxReuse` allows.
    MaxReuseExceeded,
    /// A token this client session never issued.
    Unknown,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessGrant {
    pub user_id: String,
    pub session_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub server: usize,
    expires_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct IssuedIdToken {
    pub session_id: String,
    pub client_id: String,
    issued_at: i64,
}

/// Everything in flight. Expired entries are dropped as new ones arrive.
#[derive(Default)]
pub(crate) struct Store {
    logins: HashMap<String, PendingLogin>,
    codes: HashMap<String, CodeGrant>,
    sessions: HashMap<String, UserSession>,
    access_tokens: HashMap<String, AccessGrant>,
    id_tokens: HashMap<String, IssuedIdToken>,
    consents: HashSet<(String, String)>,
}

impl Store {
    /// Files a login page under a fresh session code, which it returns.
    pub fn put_login(&mut self, login: PendingLogin, now: i64, lifespan: u64) -> String {
        self.logins.retain(|_, l| now - l.created < lifespan as i64);
        let code = random_token(32);
        self.logins.insert(code.clone(), login);
        code
    }

    /// The login filed under `code`, removed: a session code is good for one submission.
    pub fn take_login(&mut self, code: &str, now: i64, lifespan: u64) -> Option<PendingLogin> {
        self.logins
            .remove(code)
            .filter(|l| now - l.created < lifespan as i64)
    }

    pub fn has_consent(&self, user_id: &str, client_id: &str) -> bool {
        self.consents
            .contains(&(user_id.to_string(), client_id.to_string()))
    }

    pub fn grant_consent(&mut self, user_id: &str, client_id: &str) {
        self.consents
            .insert((user_id.to_string(), client_id.to_string()));
    }

    /// Starts a user session with one client session in it.
    pub fn start_session(&mut self, new: NewSession<'_>, now: i64, settings: &TokenSettings) {
        self.sessions.retain(|_, s| session_alive(s, now, settings));
        let mut clients = HashMap::new();
        clients.insert(
            new.client_id.to_string(),
            ClientSession {
                scopes: new.scopes.to_vec(),
                rotation: Rotation::default(),
                family: Family::default(),
            },
        );
        self.sessions.insert(
            new.session_id.to_string(),
            UserSession {
                user_id: new.user_id.to_string(),
                auth_time: new.auth_time,
                started: now,
                last_refresh: now,
                clients,
            },
        );
    }

    /// A live session (not logged out, not idle or older than the realm allows).
    pub fn session(
        &self,
        session_id: &str,
        now: i64,
        settings: &TokenSettings,
    ) -> Option<&UserSession> {
        self.sessions
            .get(session_id)
            .filter(|s| session_alive(s, now, settings))
    }

    pub fn end_session(&mut self, session_id: &str) {
        self.sessions.remove(session_id);
    }

    /// Removes one client's session from a user session (Keycloak's "detach"): that client's
    /// refresh tokens stop working, the user's other clients are unaffected.
    pub fn detach_client(&mut self, session_id: &str, client_id: &str) {
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.clients.remove(client_id);
        }
    }

    pub fn issue_code(
        &mut self,
        code: String,
        request: AuthRequest,
        user_id: &str,
        session_id: &str,
        now: i64,
        lifespan: u64,
    ) {
        self.codes.retain(|_, c| c.expires_at > now);
        self.codes.insert(
            code,
            CodeGrant {
                request,
                user_id: user_id.to_string(),
                session_id: session_id.to_string(),
                expires_at: now + lifespan as i64,
                used: false,
            },
        );
    }

    /// Spends a code. A second use also ends the client session the code started, so tokens
    /// already issued from it stop refreshing (RFC 6749 section 10.5; Keycloak does the same).
    pub fn redeem_code(&mut self, code: &str, now: i64) -> Option<CodeGrant> {
        let grant = self.codes.get_mut(code)?;
        if grant.used {
            let (session, client) = (grant.session_id.clone(), grant.request.client_id.clone());
            self.detach_client(&session, &client);
            return None;
        }
        grant.used = true;
        (grant.expires_at > now).then(|| grant.clone())
    }

    /// Notes a refresh token issued to a client session.
    pub fn issue_refresh(&mut self, session_id: &str, client_id: &str, jti: &str) {
        if let Some(client) = self
            .sessions
            .get_mut(session_id)
            .and_then(|s| s.clients.get_mut(client_id))
        {
            let at = client.rotation.refreshes;
            client.rotation.issued.insert(jti.to_string(), at);
        }
    }

    /// Keycloak's reuse check for a refresh token about to be used, when rotation is on.
    pub fn check_reuse(
        &mut self,
        session_id: &str,
        client_id: &str,
        jti: &str,
        max_reuse: u32,
    ) -> Result<(), ReuseError> {
        let rotation = self
            .sessions
            .get_mut(session_id)
            .and_then(|s| s.clients.get_mut(client_id))
            .map(|c| &mut c.rotation)
            .ok_or(ReuseError::Unknown)?;
        let issued_at = *rotation.issued.get(jti).ok_or(ReuseError::Unknown)?;
        if rotation.current.as_deref().is_some_and(|c| c != jti) && issued_at < rotation.refreshes {
            return Err(ReuseError::Stale);
        }
        if rotation.current.as_deref() != Some(jti) {
            rotation.current = Some(jti.to_string());
            rotation.use_count = 0;
        }
        if rotation.use_count > max_reuse {
            return Err(ReuseError::MaxReuseExceeded);
        }
        rotation.use_count += 1;
        rotation.refreshes += 1;
        Ok(())
    }

    /// A persona's check of a refresh token about to be used: the current token of its family,
    /// or a retired one less than `grace` seconds after its retirement (any retired one when
    /// reuse is not detected).
    pub fn check_family(
        &mut self,
        session_id: &str,
        client_id: &str,
        jti: &str,
        clock: i64,
        grace: i64,
        reuse_detection: bool,
    ) -> Result<(), ReuseError> {
        let family = &self
            .sessions
            .get(session_id)
            .and_then(|s| s.clients.get(client_id))
            .ok_or(ReuseError::Unknown)?
            .family;
        if family.current.as_deref() == Some(jti) {
            return Ok(());
        }
        match family.retired.get(jti) {
            Some(_) if !reuse_detection => Ok(()),
            Some(retired) if clock - retired < grace => Ok(()),
            Some(_) => Err(ReuseError::Stale),
            None => Err(ReuseError::Unknown),
        }
    }

    /// Makes `jti` the family's current refresh token, retiring the previous one at `clock`.
    pub fn rotate_family(&mut self, session_id: &str, client_id: &str, jti: &str, clock: i64) {
        if let Some(family) = self
            .sessions
            .get_mut(session_id)
            .and_then(|s| s.clients.get_mut(client_id))
            .map(|c| &mut c.family)
        {
            if let Some(previous) = family.current.replace(jti.to_string()) {
                family.retired.insert(previous, clock);
            }
        }
    }

    pub fn touch_session(&mut self, session_id: &str, now: i64) {
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.last_refresh = now;
        }
    }

    pub fn record_access_token(&mut self, token: String, grant: AccessGrantInput, now: i64) {
        self.access_tokens.retain(|_, g| g.expires_at > now);
        self.access_tokens.insert(
            token,
            AccessGrant {
                user_id: grant.user_id,
                session_id: grant.session_id,
                client_id: grant.client_id,
                scopes: grant.scopes,
                server: grant.server,
                expires_at: grant.expires_at,
            },
        );
    }

    /// An access token this emulator issued and that has not expired.
    pub fn access_grant(&self, token: &str, now: i64) -> Option<&AccessGrant> {
        self.access_tokens.get(token).filter(|g| g.expires_at > now)
    }

    pub fn record_id_token(
        &mut self,
        token: String,
        session_id: &str,
        client_id: &str,
        now: i64,
        keep_for: u64,
    ) {
        self.id_tokens
            .retain(|_, t| now - t.issued_at < keep_for as i64);
        self.id_tokens.insert(
            token,
            IssuedIdToken {
                session_id: session_id.to_string(),
                client_id: client_id.to_string(),
                issued_at: now,
            },
        );
    }

    /// An ID token this emulator issued; expired ones count, as `id_token_hint` allows.
    pub fn id_token(&self, token: &str) -> Option<&IssuedIdToken> {
        self.id_tokens.get(token)
    }
}

/// A user session about to start.
pub(crate) struct NewSession<'a> {
    pub session_id: &'a str,
    pub user_id: &'a str,
    /// When the password was typed (`None` for the password grant).
    pub auth_time: Option<i64>,
    pub client_id: &'a str,
    pub scopes: &'a [String],
}

/// What to remember about an access token.
pub(crate) struct AccessGrantInput {
    pub user_id: String,
    pub session_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub server: usize,
    pub expires_at: i64,
}

/// Keycloak's endpoints under `/realms/<realm>`.
fn keycloak_server(base_url: &str, realm: &str) -> Server {
    let prefix = format!("/realms/{realm}");
    let oidc = format!("{prefix}/protocol/openid-connect");
    Server {
        id: String::new(),
        issuer: format!("{base_url}{prefix}"),
        discovery: format!("{prefix}/.well-known/openid-configuration"),
        jwks: format!("{oidc}/certs"),
        authorize: format!("{oidc}/auth"),
        token: format!("{oidc}/token"),
        userinfo: Some(format!("{oidc}/userinfo")),
        // Keycloak's logout has its own route (`endpoints::logout`).
        logout: Vec::new(),
        discovery_only: false,
    }
}

fn session_alive(session: &UserSession, now: i64, settings: &TokenSettings) -> bool {
    now - session.last_refresh < settings.sso_session_idle_timeout as i64
        && now - session.started < settings.sso_session_max_lifespan as i64
}

/// The running emulator's shared state.
pub(crate) struct Shared {
    /// The primary issuer.
    pub issuer: String,
    /// Every issuer served, with its endpoints; the first is the primary one.
    pub servers: Vec<Server>,
    pub base_url: String,
    /// Seconds added to the clock that refresh-token grace periods are measured with.
    clock_offset: AtomicI64,
    /// Identity-provider mappers removed at run time, by alias, so they can be added back.
    pub removed_idp_mappers: Mutex<Vec<(String, super::realm::IdentityProviderMapper)>>,
    pub options: IdpOptions,
    realm: RwLock<Realm>,
    keys: Mutex<KeyRing>,
    pub faults: ActiveFaults,
    pub saml: crate::saml::SamlState,
    store: Mutex<Store>,
    jwks_fetches: AtomicUsize,
    pub refresh_key: RefreshKey,
    /// The login form's `execution`: Keycloak's is the id of the flow step, stable per server.
    pub execution: String,
}

/// What `GET /_ssoproof/state` answers.
#[derive(Debug, Serialize)]
pub(crate) struct StateReport {
    pub issuer: String,
    pub faults: Vec<AimedFault>,
    pub current_kid: String,
    /// The current key's public half as PEM, for key-confusion tokens minted over HTTP.
    pub current_public_key_pem: String,
    pub published_kids: Vec<String>,
    pub jwks_fetch_count: usize,
}

impl Shared {
    pub fn new(realm: Realm, options: IdpOptions, base_url: String) -> Shared {
        let servers = match &realm.persona {
            Some(persona) => persona.dialect().servers(&base_url),
            None => vec![keycloak_server(&base_url, &realm.name)],
        };
        let overlap = match &realm.persona {
            Some(persona) if persona.dialect().publishes_only_current_key() => Duration::ZERO,
            _ => options.key_overlap,
        };
        Shared {
            issuer: servers[0].issuer.clone(),
            servers,
            clock_offset: AtomicI64::new(0),
            removed_idp_mappers: Mutex::new(Vec::new()),
            base_url,
            keys: Mutex::new(KeyRing::new(options.signing, overlap)),
            options,
            realm: RwLock::new(realm),
            faults: ActiveFaults::default(),
            saml: crate::saml::SamlState::default(),
            store: Mutex::new(Store::default()),
            jwks_fetches: AtomicUsize::new(0),
            refresh_key: RefreshKey::generate(),
            execution: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub fn realm(&self) -> RwLockReadGuard<'_, Realm> {
        self.realm.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clock refresh-token grace periods are measured with: now, plus any time the
    /// scenario let pass ([`Shared::advance_clock`]).
    pub fn clock(&self) -> i64 {
        now() + self.clock_offset.load(Ordering::SeqCst)
    }

    pub fn advance_clock(&self, seconds: i64) {
        self.clock_offset.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn realm_mut(&self) -> RwLockWriteGuard<'_, Realm> {
        self.realm.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn keys(&self) -> MutexGuard<'_, KeyRing> {
        lock(&self.keys)
    }

    pub fn rotate_keys(&self) -> String {
        self.keys().rotate()
    }

    pub fn current_key(&self) -> Arc<SigningKey> {
        self.keys().current()
    }

    /// Counts a hit on the certs endpoint and returns the keys it publishes.
    pub fn fetch_jwks(&self) -> Vec<Arc<SigningKey>> {
        self.jwks_fetches.fetch_add(1, Ordering::SeqCst);
        self.keys().published()
    }

    /// Counts a certs request that the faults answer without keys.
    pub fn count_jwks_fetch(&self) {
        self.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    }

    pub fn jwks_fetch_count(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn set_user_enabled(&self, username: &str, enabled: bool) -> Result<(), IdpError> {
        let mut realm = self.realm_mut();
        let wanted = username.to_lowercase();
        let user = realm
            .users
            .iter_mut()
            .find(|u| u.username == wanted)
            .ok_or_else(|| IdpError::UnknownUser(username.to_string()))?;
        user.enabled = enabled;
        Ok(())
    }

    pub fn set_group_mapper_full_path(
        &self,
        client_id: &str,
        value: Option<&str>,
    ) -> Result<(), IdpError> {
        let mut realm = self.realm_mut();
        let client = realm
            .clients
            .iter_mut()
            .find(|c| c.client_id == client_id)
            .ok_or_else(|| IdpError::UnknownClient(client_id.to_string()))?;
        let mut found = false;
        for mapper in client
            .protocol_mappers
            .iter_mut()
            .filter(|m| m.protocol_mapper == "oidc-group-membership-mapper")
        {
            found = true;
            match value {
                Some(value) => mapper.config.insert("full.path".into(), value.into()),
                None => mapper.config.remove("full.path"),
            };
        }
        if found {
            Ok(())
        } else {
            Err(IdpError::NoGroupMapper(client_id.to_string()))
        }
    }

    pub fn remove_protocol_mapper(
        &self,
        client_id: &str,
        mapper_name: &str,
    ) -> Result<(), IdpError> {
        let mut realm = self.realm_mut();
        let client = realm
            .clients
            .iter_mut()
            .find(|c| c.client_id == client_id)
            .ok_or_else(|| IdpError::UnknownClient(client_id.to_string()))?;
        let before = client.protocol_mappers.len();
        client.protocol_mappers.retain(|m| m.name != mapper_name);
        if client.protocol_mappers.len() == before {
            return Err(IdpError::UnknownMapper {
                client_id: client_id.to_string(),
                mapper: mapper_name.to_string(),
            });
        }
        Ok(())
    }

    /// Applies a change to the persona, as its admin console would.
    pub fn edit_persona(&self, edit: &super::persona::PersonaEdit) -> Result<(), IdpError> {
        let mut realm = self.realm_mut();
        let persona = realm
            .persona
            .as_mut()
            .ok_or_else(|| IdpError::Persona("a Keycloak realm is not a persona".into()))?;
        let before = persona.dialect().signing_key().map(str::to_string);
        persona
            .dialect_mut()
            .edit(edit)
            .map_err(IdpError::Persona)?;
        let after = persona.dialect().signing_key().map(str::to_string);
        drop(realm);
        // Another key selected in the vendor's configuration: tokens are signed with a new key.
        if after.is_some() && after != before {
            self.rotate_keys();
        }
        Ok(())
    }

    pub fn report(&self) -> StateReport {
        let mut keys = self.keys();
        StateReport {
            issuer: self.issuer.clone(),
            faults: self.faults.snapshot().all().to_vec(),
            current_kid: keys.current().kid.clone(),
            current_public_key_pem: keys.current().public_pem.clone(),
            published_kids: keys.published().iter().map(|k| k.kid.clone()).collect(),
            jwks_fetch_count: self.jwks_fetch_count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(session_id: &str, auth_time: Option<i64>) -> NewSession<'_> {
        NewSession {
            session_id,
            user_id: "u",
            auth_time,
            client_id: "app",
            scopes: &[],
        }
    }

    fn request() -> AuthRequest {
        AuthRequest {
            client_id: "app".into(),
            redirect_uri: "https://app/cb".into(),
            response_mode: ResponseMode::Query,
            state: None,
            nonce: None,
            scopes: vec!["openid".into()],
            code_challenge: None,
            server: 0,
            params: BTreeMap::new(),
            saml: None,
        }
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let settings = TokenSettings::default();
        let mut store = Store::default();
        store.start_session(new("s", Some(0)), 0, &settings);
        store.issue_code("c".into(), request(), "u", "s", 0, 60);
        store.issue_refresh("s", "app", "r1");
        assert!(store.redeem_code("c", 59).is_some());
        // A replay fails and ends the client session.
        assert!(store.redeem_code("c", 59).is_none());
        assert!(store.session("s", 1, &settings).unwrap().clients.is_empty());
        store.issue_code("d".into(), request(), "u", "s", 0, 60);
        assert!(store.redeem_code("d", 60).is_none());
    }

    #[test]
    fn reuse_detection_follows_keycloak() {
        let settings = TokenSettings::default();
        let mut store = Store::default();
        store.start_session(new("s", Some(0)), 0, &settings);
        store.issue_refresh("s", "app", "r1");
        assert_eq!(store.check_reuse("s", "app", "r1", 0), Ok(()));
        store.issue_refresh("s", "app", "r2");
        // The token just used, again.
        assert_eq!(
            store.check_reuse("s", "app", "r1", 0),
            Err(ReuseError::MaxReuseExceeded)
        );
        assert_eq!(store.check_reuse("s", "app", "r2", 0), Ok(()));
        store.issue_refresh("s", "app", "r3");
        // An older one.
        assert_eq!(
            store.check_reuse("s", "app", "r1", 0),
            Err(ReuseError::Stale)
        );
        assert_eq!(
            store.check_reuse("s", "app", "nope", 0),
            Err(ReuseError::Unknown)
        );
        // refreshTokenMaxReuse 1: one extra use.
        assert_eq!(store.check_reuse("s", "app", "r3", 1), Ok(()));
        assert_eq!(store.check_reuse("s", "app", "r3", 1), Ok(()));
        assert_eq!(
            store.check_reuse("s", "app", "r3", 1),
            Err(ReuseError::MaxReuseExceeded)
        );
    }

    #[test]
    fn refresh_families_honour_the_grace_period() {
        let settings = TokenSettings::default();
        let mut store = Store::default();
        store.start_session(new("s", Some(0)), 0, &settings);
        store.rotate_family("s", "app", "r1", 100);
        assert_eq!(store.check_family("s", "app", "r1", 100, 30, true), Ok(()));
        store.rotate_family("s", "app", "r2", 100);
        // Retired at 100: usable for 30 s, then stale.
        assert_eq!(store.check_family("s", "app", "r1", 129, 30, true), Ok(()));
        assert_eq!(
            store.check_family("s", "app", "r1", 130, 30, true),
            Err(ReuseError::Stale)
        );
        // A zero grace period accepts no retired token, even in the same second.
        assert_eq!(
            store.check_family("s", "app", "r1", 100, 0, true),
            Err(ReuseError::Stale)
        );
        // Without reuse detection (Entra) a retired token keeps working.
        assert_eq!(
            store.check_family("s", "app", "r1", 10_000, 0, false),
            Ok(())
        );
        assert_eq!(
            store.check_family("s", "app", "r2", 10_000, 0, true),
            Ok(())
        );
        assert_eq!(
            store.check_family("s", "app", "nope", 100, 30, true),
            Err(ReuseError::Unknown)
        );
    }

    #[test]
    fn sessions_end_when_idle_or_too_old() {
        let settings = TokenSettings {
            sso_session_idle_timeout: 10,
            sso_session_max_lifespan: 25,
            ..TokenSettings::default()
        };
        let mut store = Store::default();
        store.start_session(new("s", None), 0, &settings);
        assert!(store.session("s", 9, &settings).is_some());
        assert!(store.session("s", 10, &settings).is_none());
        store.touch_session("s", 9);
        store.touch_session("s", 18);
        assert!(store.session("s", 24, &settings).is_some());
        assert!(store.session("s", 25, &settings).is_none());
    }

    #[test]
    fn logins_are_taken_once_and_expire() {
        let mut store = Store::default();
        let login = PendingLogin {
            request: request(),
            session_id: "s".into(),
            tab_id: "t".into(),
            created: 0,
            stage: Stage::Credentials,
        };
        let code = store.put_login(login.clone(), 0, 1800);
        assert!(store.take_login(&code, 1, 1800).is_some());
        assert!(store.take_login(&code, 1, 1800).is_none());
        let code = store.put_login(login, 0, 1800);
        assert!(store.take_login(&code, 1800, 1800).is_none());
    }
}
