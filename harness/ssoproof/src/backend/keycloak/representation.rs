//! The JSON the admin API takes: a realm copy with fresh ids, key providers, the group mapper.

use std::collections::HashMap;

use serde_json::{json, Value};

/// Keys whose string values are entity ids, and keys that refer to one.
const ID_KEYS: [&str; 3] = ["id", "_id", "internalId"];
const REFERENCE_KEYS: [&str; 2] = ["containerId", "parentId"];

/// The fixture as realm `name`. Keycloak's ids are primary keys across all realms, so a second
/// copy carrying the fixture's realm, user, group or client ids would be refused as a conflict:
/// every id becomes a UUID derived from (`name`, old id), and references to it (`containerId`,
/// `parentId`) follow. Nothing else changes.
pub(super) fn realm_copy(fixture: &Value, name: &str) -> Value {
    let mut ids = HashMap::new();
    collect_ids(fixture, name, &mut ids);
    let mut copy = fixture.clone();
    rewrite_ids(&mut copy, &ids);
    if let Some(realm) = copy.as_object_mut() {
        realm.insert("realm".into(), Value::String(name.to_string()));
    }
    copy
}

pub(super) fn copy_id(realm: &str, old: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("ssoproof:keycloak:{realm}:{old}").as_bytes(),
    )
    .to_string()
}

fn collect_ids(value: &Value, realm: &str, ids: &mut HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::String(old) if ID_KEYS.contains(&key.as_str()) => {
                        ids.entry(old.clone())
                            .or_insert_with(|| copy_id(realm, old));
                    }
                    _ => collect_ids(v, realm, ids),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, realm, ids)),
        _ => {}
    }
}

fn rewrite_ids(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let is_id =
                    ID_KEYS.contains(&key.as_str()) || REFERENCE_KEYS.contains(&key.as_str());
                match v {
                    Value::String(s) if is_id => {
                        if let Some(new) = ids.get(s.as_str()) {
                            *s = new.clone();
                        }
                    }
                    _ => rewrite_ids(v, ids),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_ids(v, ids)),
        _ => {}
    }
}

/// An `rsa-generated` key provider for the realm with internal id `realm_id`.
pub(super) fn key_component(name: &str, realm_id: &str, priority: i64) -> Value {
    json!({
        "name": name,
        "providerId": "rsa-generated",
        "providerType": "org.keycloak.keys.KeyProvider",
        "parentId": realm_id,
        "config": {
            "priority": [priority.to_string()],
            "enabled": ["true"],
            "active": ["true"],
            "algorithm": ["RS256"],
        },
    })
}

/// A priority above every key the realm has (`GET …/keys`); 200 for a fresh realm, whose
/// generated keys sit at 100.
pub(super) fn next_priority(keys: &Value) -> i64 {
    let highest = keys["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| match &k["providerPriority"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    highest.max(100) + 100
}

/// The kid of the key the new component made, which must now be the active RS256 key.
pub(super) fn new_active_kid(
    keys: &Value,
    component_id: Option<&str>,
    priority: i64,
) -> Result<String, String> {
    let active = keys["active"]["RS256"]
        .as_str()
        .ok_or("no active RS256 key after rotation")?;
    let mut listed = keys["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|k| k["algorithm"] == "RS256");
    let new = match component_id {
        Some(id) => listed.find(|k| k["providerId"] == id),
        None => listed.find(|k| k["kid"] == active && k["providerPriority"] == priority),
    };
    let kid = new
        .and_then(|k| k["kid"].as_str())
        .ok_or("the new key provider has no RS256 key")?;
    if kid != active {
        return Err(format!(
            "the new key {kid} is not the active RS256 key ({active})"
        ));
    }
    Ok(kid.to_string())
}

/// The mapper with `config."full.path"` set to `value`, or without that key (Keycloak then
/// emits plain group names: it tests `"true".equals(config.get("full.path"))`).
pub(super) fn with_full_path(mapper: &Value, value: Option<&str>) -> Value {
    let mut mapper = mapper.clone();
    if !mapper["config"].is_object() {
        mapper["config"] = json!({});
    }
    let config = mapper["config"]
        .as_object_mut()
        .expect("config is an object");
    match value {
        Some(v) => {
            config.insert("full.path".into(), Value::String(v.to_string()));
        }
        None => {
            config.remove("full.path");
        }
    }
    mapper
}

#[cfg(test)]
mod tests {
    use super::super::testkit::test_realm;
    use super::*;

    #[test]
    fn a_realm_copy_is_renamed_with_fresh_ids_and_loses_nothing() {
        let fixture = test_realm();
        let copy = realm_copy(&fixture, "acme-7");
        assert_eq!(copy["realm"], "acme-7");

        // Ids are new, deterministic, distinct per copy, and references follow them.
        let realm_id = copy["id"].as_str().unwrap();
        assert_ne!(realm_id, "acme");
        assert_eq!(realm_id, copy_id("acme-7", "acme"));
        assert_eq!(copy["roles"]["realm"][0]["containerId"], realm_id);
        let alice = copy["users"][0]["id"].as_str().unwrap();
        assert_ne!(alice, fixture["users"][0]["id"]);
        assert_eq!(copy, realm_copy(&fixture, "acme-7"));
        assert_ne!(realm_copy(&fixture, "acme-8")["users"][0]["id"], alice);

        // Mapping every id back gives the fixture again, save the name: nothing else changed.
        let mut ids = HashMap::new();
        collect_ids(&fixture, "acme-7", &mut ids);
        assert_eq!(ids.len(), 9, "{ids:?}"); // realm, 3 groups, role, 2 users, client, mapper
        let back: HashMap<String, String> = ids.into_iter().map(|(old, new)| (new, old)).collect();
        let mut restored = copy.clone();
        rewrite_ids(&mut restored, &back);
        restored["realm"] = fixture["realm"].clone();
        assert_eq!(restored, fixture);

        // Passwords, group paths and the mapper config are untouched.
        assert_eq!(
            copy["users"][0]["credentials"][0]["value"],
            "alice-password"
        );
        assert_eq!(
            copy["users"][0]["groups"],
            json!(["/engineers", "/engineers/oncall"])
        );
        assert_eq!(
            copy["clients"][0]["protocolMappers"][0]["config"]["full.path"],
            "true"
        );
    }

    #[test]
    fn a_key_component_outranks_every_existing_key() {
        assert_eq!(
            key_component("rotated-1", "realm-uuid", 200),
            json!({
                "name": "rotated-1",
                "providerId": "rsa-generated",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": "realm-uuid",
                "config": {"priority": ["200"], "enabled": ["true"], "active": ["true"], "algorithm": ["RS256"]},
            })
        );
        let keys = json!({"keys": [
            {"kid": "a", "algorithm": "RS256", "providerPriority": 100},
            {"kid": "h", "algorithm": "HS512", "providerPriority": 150},
        ]});
        assert_eq!(next_priority(&keys), 250);
        assert_eq!(next_priority(&json!({"keys": []})), 200);
        assert_eq!(
            next_priority(&json!({"keys": [{"providerPriority": "300"}]})),
            400
        );
    }

    #[test]
    fn the_new_key_must_be_the_active_one() {
        let keys = |active: &str| {
            json!({"active": {"RS256": active, "HS512": "h"}, "keys": [
                {"kid": "old", "algorithm": "RS256", "providerId": "c-old", "providerPriority": 100},
                {"kid": "new", "algorithm": "RS256", "providerId": "c-new", "providerPriority": 200},
                {"kid": "h", "algorithm": "HS512", "providerId": "c-h", "providerPriority": 100},
            ]})
        };
        assert_eq!(
            new_active_kid(&keys("new"), Some("c-new"), 200),
            Ok("new".into())
        );
        assert_eq!(new_active_kid(&keys("new"), None, 200), Ok("new".into()));
        let err = new_active_kid(&keys("old"), Some("c-new"), 200).unwrap_err();
        assert_eq!(err, "the new key new is not the active RS256 key (old)");
        assert!(new_active_kid(&keys("new"), Some("c-missing"), 200).is_err());
        assert!(new_active_kid(&json!({}), None, 200).is_err());
    }

    #[test]
    fn the_group_mapper_gets_full_path_set_or_removed() {
        let mapper = test_realm()["clients"][0]["protocolMappers"][0].clone();
        let off = with_full_path(&mapper, Some("false"));
        assert_eq!(off["config"]["full.path"], "false");
        let removed = with_full_path(&mapper, None);
        assert!(removed["config"].get("full.path").is_none());
        assert_eq!(removed["config"]["claim.name"], "groups");
        assert_eq!(removed["id"], mapper["id"]);
        assert_eq!(
            with_full_path(&json!({"name": "groups"}), Some("true"))["config"],
            json!({"full.path": "true"})
        );
    }
}
