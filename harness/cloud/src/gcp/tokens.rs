//! Access tokens minted by the emulated STS: opaque strings (like Google's `ya29.…`) that stand
//! for a grant kept here, so Vertex can tell who is calling and a test can see what was minted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::Engine;
use rand::RngCore;

use super::iam::Caller;
use ssoproof_secret::Secret;

/// What a bearer token stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub caller: Caller,
    /// `projects/…/providers/…` for a federated token; the issuer for a Google account token.
    pub issued_by: String,
    pub scopes: Vec<String>,
    /// The `userProject` of the STS exchange, if any.
    pub user_project: Option<String>,
    pub expires_at: SystemTime,
}

impl Grant {
    pub fn is_expired(&self, now: SystemTime) -> bool {
        now >= self.expires_at
    }
}

/// Minted tokens and their grants. Expired grants stay an hour, so a late call can be told
/// "expired" rather than "unknown", then go.
#[derive(Debug, Default)]
pub struct TokenStore {
    grants: Mutex<HashMap<String, Grant>>,
}

const KEEP_EXPIRED: Duration = Duration::from_secs(3600);

impl TokenStore {
    pub fn mint(&self, grant: Grant) -> Secret {
        let mut bytes = [0u8; 48];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = format!(
            "ya29.d.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let now = SystemTime::now();
        let mut grants = self.lock();
        grants.retain(|_, g| g.expires_at + KEEP_EXPIRED > now);
        grants.insert(token.clone(), grant);
        Secret::new(token)
    }

    pub fn lookup(&self, token: &str) -> Option<Grant> {
        self.lock().get(token).cloned()
    }

    /// Every grant still held, for tests and reports (never the tokens themselves).
    pub fn grants(&self) -> Vec<Grant> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Grant>> {
        // A panic while holding the lock cannot leave the map half-updated: keep serving.
        self.grants.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires_in: Duration) -> Grant {
        Grant {
            caller: Caller::GoogleUser {
                email: "a@example.com".into(),
            },
            issued_by: "https://accounts.google.test".into(),
            scopes: vec![],
            user_project: None,
            expires_at: SystemTime::now() + expires_in,
        }
    }

    #[test]
    fn mints_distinct_opaque_tokens_and_finds_their_grants() {
        let store = TokenStore::default();
        let a = store.mint(grant(Duration::from_secs(60)));
        let b = store.mint(grant(Duration::from_secs(60)));
        assert_ne!(a, b);
        assert!(a.expose().starts_with("ya29.d."));
        assert!(store.lookup(a.expose()).is_some());
        assert!(store.lookup("ya29.d.unknown").is_none());
        assert_eq!(store.grants().len(), 2);
    }
}
