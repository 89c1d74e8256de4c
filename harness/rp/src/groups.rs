//! Groups claim → role: resolving the claim by path, and the fail-closed role mapping.

use serde_json::Value;

use super::{Role, RpError};

/// The groups at `path` in `claims`.
///
/// A path beginning `http://` or `https://` is one literal key (Auth0's namespaced claims hold
/// dots and slashes); any other path is split on `.` and walked through nested objects. A string
/// becomes a one-element list, an array must hold only strings, anything else is
/// `groups_malformed`. When the claim is absent, Entra's overage markers (`_claim_names.groups`,
/// `hasgroups: true`) give `groups_overage`, otherwise it is `groups_missing`.
pub fn resolve_groups(claims: &Value, path: &str) -> Result<Vec<String>, RpError> {
    let segments: Vec<&str> = if path.starts_with("http://") || path.starts_with("https://") {
        vec![path]
    } else {
        path.split('.').collect()
    };
    let mut node = claims;
    for (depth, segment) in segments.iter().enumerate() {
        let Value::Object(map) = node else {
            return Err(RpError::GroupsMalformed {
                path: path.to_string(),
                found: format!(
                    "{} at `{}` (expected an object to descend into)",
                    kind(node),
                    segments[..depth].join(".")
                ),
            });
        };
        match map.get(*segment) {
            Some(child) => node = child,
            None => {
                return Err(match overage_marker(claims, path) {
                    Some(marker) => RpError::GroupsOverage { marker },
                    None => RpError::GroupsMissing {
                        path: path.to_string(),
                    },
                })
            }
        }
    }
    match node {
        Value::String(group) => Ok(vec![group.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(group) => Ok(group.clone()),
                other => Err(RpError::GroupsMalformed {
                    path: path.to_string(),
                    found: format!("an array holding {}", kind(other)),
                }),
            })
            .collect(),
        other => Err(RpError::GroupsMalformed {
            path: path.to_string(),
            found: kind(other).to_string(),
        }),
    }
}

/// Entra's group-overage markers: `"_claim_names": {"groups": …}` (also under the configured
/// claim's name) or `"hasgroups": true`.
fn overage_marker(claims: &Value, path: &str) -> Option<String> {
    let names = claims.get("_claim_names").and_then(Value::as_object);
    for key in ["groups", path] {
        if names.is_some_and(|n| n.contains_key(key)) {
            return Some(format!("`_claim_names.{key}`"));
        }
    }
    if claims.get("hasgroups") == Some(&Value::Bool(true)) {
        return Some("`hasgroups: true`".to_string());
    }
    None
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The role `groups` grant: mappings match exactly and case-sensitively, unmapped groups are
/// dropped, the highest mapped role on the ladder wins; with nothing mapped the default role
/// applies, and without one the login fails closed (`groups_unmapped`).
pub fn map_role(
    groups: &[String],
    mappings: &[(String, Role)],
    default: Option<&Role>,
) -> Result<Role, RpError> {
    groups
        .iter()
        .flat_map(|g| mappings.iter().filter(move |(m, _)| m == g).map(|(_, r)| r))
        .max()
        .or(default)
        .cloned()
        .ok_or_else(|| RpError::GroupsUnmapped {
            groups: groups.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RoleLadder;
    use serde_json::json;

    fn codes(r: Result<Vec<String>, RpError>) -> String {
        r.map_or_else(|e| e.code().to_string(), |g| g.join(","))
    }

    #[test]
    fn flat_nested_and_url_shaped_paths() {
        let claims = json!({
            "groups": ["/acme/admins", "/acme/engineers"],
            "realm_access": {"roles": ["a", "b"], "deep": {"er": "x"}},
            "https://example.com/groups": ["auth0-admins"],
            "https://example": {"com/groups": ["wrong"]},
        });
        assert_eq!(
            codes(resolve_groups(&claims, "groups")),
            "/acme/admins,/acme/engineers"
        );
        assert_eq!(codes(resolve_groups(&claims, "realm_access.roles")), "a,b");
        assert_eq!(codes(resolve_groups(&claims, "realm_access.deep.er")), "x");
        assert_eq!(
            codes(resolve_groups(&claims, "https://example.com/groups")),
            "auth0-admins"
        );
        assert_eq!(
            codes(resolve_groups(
                &json!({"http://x.org/g": "one"}),
                "http://x.org/g"
            )),
            "one"
        );
    }

    #[test]
    fn string_becomes_a_list_and_other_shapes_are_malformed() {
        assert_eq!(
            resolve_groups(&json!({"groups": "solo"}), "groups").unwrap(),
            ["solo"]
        );
        assert!(resolve_groups(&json!({"groups": []}), "groups")
            .unwrap()
            .is_empty());
        for bad in [
            json!(7),
            json!(true),
            json!(null),
            json!({"a": 1}),
            json!(["a", 1]),
        ] {
            let err = resolve_groups(&json!({ "groups": bad }), "groups").unwrap_err();
            assert_eq!(err.code(), "groups_malformed", "{bad}");
        }
        let err = resolve_groups(&json!({"realm_access": "x"}), "realm_access.roles").unwrap_err();
        assert_eq!(err.code(), "groups_malformed");
        assert!(
            err.to_string().contains("a string at `realm_access`"),
            "{err}"
        );
        let err = resolve_groups(&json!({"groups": 3}), "groups").unwrap_err();
        assert!(err.to_string().contains("is a number"), "{err}");
    }

    #[test]
    fn missing_and_overage() {
        assert_eq!(
            codes(resolve_groups(&json!({"sub": "x"}), "groups")),
            "groups_missing"
        );
        assert_eq!(
            codes(resolve_groups(
                &json!({"realm_access": {}}),
                "realm_access.roles"
            )),
            "groups_missing"
        );
        let entra = json!({
            "_claim_names": {"groups": "src1"},
            "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}},
        });
        let err = resolve_groups(&entra, "groups").unwrap_err();
        assert_eq!(err.code(), "groups_overage");
        assert!(err.to_string().contains("_claim_names.groups"), "{err}");
        assert_eq!(
            codes(resolve_groups(&json!({"hasgroups": true}), "groups")),
            "groups_overage"
        );
        assert_eq!(
            codes(resolve_groups(&json!({"hasgroups": false}), "groups")),
            "groups_missing"
        );
        // A present claim wins over a stray marker.
        assert_eq!(
            codes(resolve_groups(
                &json!({"hasgroups": true, "groups": ["g"]}),
                "groups"
            )),
            "g"
        );
    }

    fn role(name: &str) -> Role {
        RoleLadder::default().role(name).unwrap()
    }

    fn mappings() -> Vec<(String, Role)> {
        vec![
            ("/acme/admins".into(), role("admin")),
            ("/acme/engineers".into(), role("user")),
            ("/acme/readers".into(), role("viewer")),
        ]
    }

    fn groups(list: &[&str]) -> Vec<String> {
        list.iter().map(|g| g.to_string()).collect()
    }

    #[test]
    fn mapping_is_exact_case_sensitive_and_highest_wins() {
        let m = mappings();
        assert_eq!(
            map_role(&groups(&["/acme/engineers"]), &m, None).unwrap(),
            "user"
        );
        assert_eq!(
            map_role(
                &groups(&["/acme/readers", "/acme/admins", "/acme/engineers"]),
                &m,
                None
            )
            .unwrap(),
            "admin"
        );
        assert_eq!(
            map_role(&groups(&["/acme/contractors", "/acme/readers"]), &m, None).unwrap(),
            "viewer"
        );
        for near_miss in ["/ACME/admins", "/acme/admins/", "admins", " /acme/admins"] {
            let err = map_role(&groups(&[near_miss]), &m, None).unwrap_err();
            assert_eq!(err.code(), "groups_unmapped", "{near_miss}");
        }
    }

    #[test]
    fn a_custom_ladder_maps_groups_and_the_highest_wins() {
        let ladder: RoleLadder = "admin,developer,viewer".parse().unwrap();
        let on = |name: &str| ladder.role(name).unwrap();
        let m = vec![
            ("/enclii/viewers".to_string(), on("viewer")),
            ("/enclii/devs".to_string(), on("developer")),
            ("/enclii/ops".to_string(), on("admin")),
        ];
        let developer = map_role(&groups(&["/enclii/viewers", "/enclii/devs"]), &m, None).unwrap();
        assert_eq!(developer, on("developer"));
        assert_eq!(developer.to_string(), "developer");
        assert_eq!(
            map_role(
                &groups(&["/enclii/devs", "/enclii/ops", "/enclii/viewers"]),
                &m,
                None
            )
            .unwrap(),
            "admin"
        );
        // The order that counts is the ladder's, not the mappings' or the claim's.
        let reversed: Vec<_> = m.iter().rev().cloned().collect();
        assert_eq!(
            map_role(
                &groups(&["/enclii/viewers", "/enclii/devs"]),
                &reversed,
                None
            )
            .unwrap(),
            "developer"
        );
        assert_eq!(
            map_role(&groups(&["/other"]), &m, Some(&on("viewer"))).unwrap(),
            "viewer"
        );
    }

    #[test]
    fn nothing_mapped_fails_closed_unless_a_default_role_is_configured() {
        let m = mappings();
        let err = map_role(&groups(&["/acme/contractors"]), &m, None).unwrap_err();
        assert_eq!(err.code(), "groups_unmapped");
        assert!(err.to_string().contains("`/acme/contractors`"), "{err}");
        assert_eq!(
            map_role(&[], &m, None).unwrap_err().code(),
            "groups_unmapped"
        );
        assert_eq!(
            map_role(&groups(&["/acme/contractors"]), &m, Some(&role("viewer"))).unwrap(),
            "viewer"
        );
        // A default never lowers a mapped role.
        assert_eq!(
            map_role(&groups(&["/acme/admins"]), &m, Some(&role("viewer"))).unwrap(),
            "admin"
        );
    }
}
