//! One scenario's realm: a fresh copy of the fixture, and the realm-admin operations on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

use super::admin::AdminApi;
use super::representation::{
    key_component, new_active_kid, next_priority, realm_copy, with_full_path,
};
use super::{failed, NAME};
use crate::backend::{BackendError, ClientRegistration, Idp, RealmFixture};
use ssoproof_secret::Secret;

pub(super) struct KeycloakIdp {
    admin: Arc<AdminApi>,
    realm: String,
    realm_id: String,
    fixture: RealmFixture,
    user_ids: Mutex<HashMap<String, String>>,
    rotations: AtomicUsize,
}

impl KeycloakIdp {
    /// Creates realm copy number `n` of the fixture and looks up its users' ids.
    pub(super) async fn create(
        admin: Arc<AdminApi>,
        fixture: RealmFixture,
        n: usize,
    ) -> Result<KeycloakIdp, BackendError> {
        let base_name = fixture.realm_name();
        if base_name.is_empty() {
            return Err(failed(format!(
                "{}: the realm export has no \"realm\" name",
                fixture.path.display()
            )));
        }
        let realm = format!("{base_name}-{n}");
        let copy = realm_copy(&fixture.json, &realm);
        admin
            .call(Method::POST, "/admin/realms", &[], Some(&copy))
            .await?;

        let path = format!("/admin/realms/{realm}");
        let rep = admin.get_json(&path, &[]).await?;
        let realm_id = rep["id"]
            .as_str()
            .ok_or_else(|| admin.failed(&format!("GET {path}"), "no realm id in the answer"))?
            .to_string();
        let idp = KeycloakIdp {
            admin,
            realm,
            realm_id,
            fixture,
            user_ids: Mutex::new(HashMap::new()),
            rotations: AtomicUsize::new(0),
        };
        // `user_id` is synchronous: look the fixture's users up now (their ids differ from the
        // fixture's, see `realm_copy`).
        let usernames: Vec<String> = idp.fixture.json["users"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["username"].as_str().map(str::to_string))
            .collect();
        for username in usernames {
            idp.lookup_user(&username).await?;
        }
        Ok(idp)
    }

    fn realm_path(&self, rest: &str) -> String {
        format!("/admin/realms/{}{rest}", self.realm)
    }

    /// The user's id in this realm: cached, else `GET …/users?username=…&exact=true`.
    async fn lookup_user(&self, username: &str) -> Result<String, BackendError> {
        if let Some(id) = self.user_ids.lock().unwrap().get(username) {
            return Ok(id.clone());
        }
        let path = self.realm_path("/users");
        let users = self
            .admin
            .get_json(&path, &[("username", username), ("exact", "true")])
            .await?;
        let id = users
            .as_array()
            .and_then(|us| {
                us.iter().find(|u| {
                    u["username"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(username))
                })
            })
            .and_then(|u| u["id"].as_str())
            .ok_or_else(|| failed(format!("no user {username:?} in realm {}", self.realm)))?
            .to_string();
        self.user_ids
            .lock()
            .unwrap()
            .insert(username.to_string(), id.clone());
        Ok(id)
    }

    /// The application client's internal id and its `groups` protocol mapper.
    async fn group_mapper(&self) -> Result<(String, Value), BackendError> {
        let client_id = self.fixture.app_client().client_id;
        let clients = self
            .admin
            .get_json(&self.realm_path("/clients"), &[("clientId", &client_id)])
            .await?;
        let client = clients
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["clientId"] == client_id.as_str()))
            .and_then(|c| c["id"].as_str())
            .ok_or_else(|| failed(format!("no client {client_id:?} in realm {}", self.realm)))?
            .to_string();
        let mappers = self
            .admin
            .get_json(
                &self.realm_path(&format!("/clients/{client}/protocol-mappers/models")),
                &[],
            )
            .await?;
        let mapper = mappers
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["name"] == GROUP_MAPPER))
            .cloned()
            .ok_or_else(|| {
                failed(format!(
                    "client {client_id:?} has no protocol mapper named {GROUP_MAPPER:?}"
                ))
            })?;
        Ok((client, mapper))
    }

    fn mapper_path(&self, client: &str, mapper: &Value) -> Result<String, BackendError> {
        let id = mapper["id"]
            .as_str()
            .ok_or_else(|| failed(format!("the {GROUP_MAPPER:?} mapper has no id")))?;
        Ok(self.realm_path(&format!("/clients/{client}/protocol-mappers/models/{id}")))
    }
}

const GROUP_MAPPER: &str = "groups";

/// Without the fixture's JSON, which holds the test users' passwords and the client secret.
impl std::fmt::Debug for KeycloakIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeycloakIdp")
            .field("issuer", &self.issuer())
            .field("realm_id", &self.realm_id)
            .field("fixture", &self.fixture.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Idp for KeycloakIdp {
    fn backend(&self) -> &'static str {
        NAME
    }

    fn issuer(&self) -> String {
        format!("{}/realms/{}", self.admin.base, self.realm)
    }

    fn client(&self) -> ClientRegistration {
        self.fixture.app_client()
    }

    fn password(&self, username: &str) -> Option<Secret> {
        self.fixture.password(username)
    }

    fn user_id(&self, username: &str) -> Option<String> {
        self.user_ids.lock().unwrap().get(username).cloned()
    }

    async fn rotate_keys(&self) -> Result<String, BackendError> {
        let n = self.rotations.fetch_add(1, Ordering::Relaxed) + 1;
        let keys_path = self.realm_path("/keys");
        let before = self.admin.get_json(&keys_path, &[]).await?;
        let priority = next_priority(&before);
        let component = key_component(&format!("rotated-{n}"), &self.realm_id, priority);
        let (headers, _) = self
            .admin
            .call(
                Method::POST,
                &self.realm_path("/components"),
                &[],
                Some(&component),
            )
            .await?;
        let component_id = headers
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
            .map(str::to_string);
        let after = self.admin.get_json(&keys_path, &[]).await?;
        new_active_kid(&after, component_id.as_deref(), priority)
            .map_err(|e| failed(format!("key rotation in realm {}: {e}", self.realm)))
    }

    async fn set_user_enabled(&self, username: &str, enabled: bool) -> Result<(), BackendError> {
        let id = self.lookup_user(username).await?;
        let path = self.realm_path(&format!("/users/{id}"));
        // PUT the whole representation back: a partial one can clear profile attributes.
        let mut user = self.admin.get_json(&path, &[]).await?;
        user["enabled"] = Value::Bool(enabled);
        self.admin
            .call(Method::PUT, &path, &[], Some(&user))
            .await?;
        Ok(())
    }

    async fn set_group_mapper_full_path(&self, value: Option<&str>) -> Result<(), BackendError> {
        let (client, mapper) = self.group_mapper().await?;
        let path = self.mapper_path(&client, &mapper)?;
        let updated = with_full_path(&mapper, value);
        self.admin
            .call(Method::PUT, &path, &[], Some(&updated))
            .await?;
        Ok(())
    }

    async fn remove_group_mapper(&self) -> Result<(), BackendError> {
        let (client, mapper) = self.group_mapper().await?;
        let path = self.mapper_path(&client, &mapper)?;
        self.admin.call(Method::DELETE, &path, &[], None).await?;
        Ok(())
    }

    /// Deletes this scenario's realm copy.
    async fn finish(&self) -> Result<(), BackendError> {
        let path = self.realm_path("");
        self.admin.call(Method::DELETE, &path, &[], None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::admin::TOKEN_PATH;
    use super::super::representation::copy_id;
    use super::super::testkit::{fake_admin, FakeKeycloak};
    use super::*;

    #[tokio::test]
    async fn a_scenario_gets_a_fresh_realm_copy_through_the_admin_api() {
        let (admin, state, seen, fixture, _dir) = fake_admin().await;
        let fixture = RealmFixture::load(&fixture, NAME).unwrap();
        let idp = KeycloakIdp::create(admin.clone(), fixture.clone(), 3)
            .await
            .unwrap();

        assert_eq!(idp.issuer(), format!("{}/realms/acme-3", admin.base));
        assert_eq!(idp.client().client_id, "acme-app");
        assert_eq!(idp.client().secret.unwrap().expose(), "acme-app-secret");
        assert_eq!(idp.password("alice").unwrap().expose(), "alice-password");
        let debug = format!("{idp:?}");
        assert!(
            !debug.contains("alice-password") && !debug.contains("acme-app-secret"),
            "{debug}"
        );
        let alice = idp.user_id("alice").unwrap();
        assert_eq!(
            alice,
            copy_id("acme-3", "11111111-1111-4111-8111-111111111111")
        );
        assert!(idp.user_id("bob").is_some());
        assert_eq!(idp.user_id("mallory"), None);
        assert_eq!(
            state.lock().unwrap().realms["acme-3"],
            realm_copy(&fixture.json, "acme-3")
        );

        let seen = seen.lock().unwrap().clone();
        let calls: Vec<String> = seen
            .iter()
            .map(|s| format!("{} {}", s.method, s.target))
            .collect();
        assert_eq!(
            calls,
            [
                format!("POST {TOKEN_PATH}"),
                "POST /admin/realms".into(),
                "GET /admin/realms/acme-3".into(),
                "GET /admin/realms/acme-3/users?username=alice&exact=true".into(),
                "GET /admin/realms/acme-3/users?username=bob&exact=true".into(),
            ]
        );
        // One token for all of it, sent as a bearer token.
        assert!(seen[1..]
            .iter()
            .all(|s| s.auth.as_deref() == Some("Bearer tok-1")));

        // Another scenario, same fixture, another realm with other ids.
        let other = KeycloakIdp::create(admin, fixture, 4).await.unwrap();
        assert_ne!(other.user_id("alice").unwrap(), alice);
    }

    #[tokio::test]
    async fn realm_admin_operations_use_the_admin_api() {
        let (admin, state, seen, fixture, _dir) = fake_admin().await;
        let idp = KeycloakIdp::create(admin, RealmFixture::load(&fixture, NAME).unwrap(), 1)
            .await
            .unwrap();
        let realm_id = copy_id("acme-1", "acme");
        seen.lock().unwrap().clear();

        assert_eq!(idp.rotate_keys().await.unwrap(), "k1");
        assert_eq!(idp.rotate_keys().await.unwrap(), "k2");
        let components: Vec<Value> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == "POST" && s.target == "/admin/realms/acme-1/components")
            .map(|s| serde_json::from_str(&s.body).unwrap())
            .collect();
        assert_eq!(components[0], key_component("rotated-1", &realm_id, 200));
        assert_eq!(components[1], key_component("rotated-2", &realm_id, 300));

        idp.set_user_enabled("bob", false).await.unwrap();
        let bob = state.lock().unwrap().realms["acme-1"]["users"][1].clone();
        assert_eq!(bob["enabled"], false);
        assert_eq!(bob["email"], "bob@acme.test", "the whole user went back");

        let mapper = |state: &Mutex<FakeKeycloak>| {
            state.lock().unwrap().realms["acme-1"]["clients"][0]["protocolMappers"].clone()
        };
        idp.set_group_mapper_full_path(None).await.unwrap();
        assert!(mapper(&state)[0]["config"].get("full.path").is_none());
        assert_eq!(mapper(&state)[0]["config"]["claim.name"], "groups");
        idp.set_group_mapper_full_path(Some("true")).await.unwrap();
        assert_eq!(mapper(&state)[0]["config"]["full.path"], "true");
        idp.remove_group_mapper().await.unwrap();
        assert_eq!(mapper(&state), json!([]));

        let error = idp.remove_group_mapper().await.unwrap_err();
        assert_eq!(error.code(), "backend/failed");
        assert_eq!(
            error.to_string(),
            "keycloak: client \"acme-app\" has no protocol mapper named \"groups\""
        );
        let error = idp.set_user_enabled("mallory", true).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "keycloak: no user \"mallory\" in realm acme-1"
        );
        assert_eq!(
            idp.jwks_fetch_count().unwrap_err().code(),
            "backend/unsupported"
        );
    }
}
