//! Temporary credentials minted by the STS emulator, which the Bedrock emulator looks up by
//! access key id. A session lives until its own expiry: disabling the user at the IdP later
//! changes nothing here, exactly like real AWS (the offboarding fact runbooks must state).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rand::Rng;
use time::{Duration, OffsetDateTime};

use super::config::base32;
use super::policy::Policy;
use ssoproof_secret::Secret;

/// What a set of temporary credentials stands for.
#[derive(Debug)]
pub(crate) struct Session {
    pub role_name: String,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub assumed_role_arn: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    /// The `Policy` passed to AssumeRoleWithWebIdentity: narrows the role's permissions.
    pub session_policy: Option<Policy>,
    pub expires_at: OffsetDateTime,
}

/// Sessions by access key id.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    by_key: RwLock<HashMap<String, Arc<Session>>>,
}

/// Expired sessions are kept this long, so a late call gets "expired" rather than "invalid";
/// after that they are dropped to bound memory in a long-running emulator.
const KEEP_EXPIRED: Duration = Duration::hours(12);

impl Sessions {
    /// Stores `session` under a fresh `ASIA…` access key id and returns the id.
    pub fn insert(&self, session: Session, now: OffsetDateTime) -> String {
        let access_key_id = format!("ASIA{}", base32(&rand::thread_rng().gen::<[u8; 10]>(), 16));
        let mut map = self
            .by_key
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.retain(|_, s| s.expires_at + KEEP_EXPIRED > now);
        map.insert(access_key_id.clone(), Arc::new(session));
        access_key_id
    }

    pub fn get(&self, access_key_id: &str) -> Option<Arc<Session>> {
        let map = self
            .by_key
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(access_key_id).cloned()
    }
}

/// A 40-character secret access key.
pub(crate) fn new_secret_access_key() -> Secret {
    Secret::new(random_base64(30))
}

/// A session token. Real ones are long opaque base64 blobs that start `IQoJb3JpZ2luX2Vj`;
/// keeping that prefix makes them recognisable in captured traffic.
pub(crate) fn new_session_token() -> Secret {
    Secret::new(format!("IQoJb3JpZ2luX2Vj{}", random_base64(240)))
}

fn random_base64(bytes: usize) -> String {
    use base64::Engine;
    let raw: Vec<u8> = (0..bytes).map(|_| rand::thread_rng().gen()).collect();
    base64::engine::general_purpose::STANDARD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_at: OffsetDateTime) -> Session {
        Session {
            role_name: "R".into(),
            assumed_role_arn: "arn:aws:sts::123456789012:assumed-role/R/s".into(),
            secret_access_key: new_secret_access_key(),
            session_token: new_session_token(),
            session_policy: None,
            expires_at,
        }
    }

    #[test]
    fn ids_look_like_aws_and_old_sessions_are_dropped() {
        let sessions = Sessions::default();
        let now = OffsetDateTime::now_utc();
        let old = sessions.insert(session(now - Duration::days(2)), now);
        assert!(old.starts_with("ASIA") && old.len() == 20, "{old}");
        let recent = sessions.insert(session(now - Duration::hours(1)), now);
        assert!(sessions.get(&old).is_none(), "dropped on the next insert");
        assert!(
            sessions.get(&recent).is_some(),
            "recently expired sessions stay recognisable"
        );
        assert_eq!(new_secret_access_key().expose().len(), 40);
        assert!(new_session_token().expose().starts_with("IQoJb3JpZ2luX2Vj"));
    }
}
