//! Groups claim → role: resolving the claim by path, and the fail-closed role mapping.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use super::RpError;

/// The application's roles, ordered by power: `Viewer < User < Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    User,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::User, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not `viewer`, `user` or `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; expected viewer, user or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    /// Exact and lower-case, like the mappings: `Admin` is not a role name.
    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| UnknownRole(text.to_string()))
    }
}

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
/// dropped, the highest mapped role wins; with nothing mapped the default role applies, and
/// without one the login fails closed (`groups_unmapped`).
pub fn map_role(
    groups: &[String],
    mappings: &[(String, Role)],
    default: Option<Role>,
) -> Result<Role, RpError> {
    groups
        .iter()
        .flat_map(|g| {
            mappings
                .iter()
                .filter(move |(m, _)| m == g)
                .map(|(_, r)| *r)
        })
        .max()
        .or(default)
        .ok_or_else(|| RpError::GroupsUnmapped {
            groups: groups.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn mappings() -> Vec<(String, Role)> {
        vec![
            ("/acme/admins".into(), Role::Admin),
            ("/acme/engineers".into(), Role::User),
            ("/acme/readers".into(), Role::Viewer),
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
            Role::User
        );
        assert_eq!(
            map_role(
                &groups(&["/acme/readers", "/acme/admins", "/acme/engineers"]),
                &m,
                None
            )
            .unwrap(),
            Role::Admin
        );
        assert_eq!(
            map_role(&groups(&["/acme/contractors", "/acme/readers"]), &m, None).unwrap(),
            Role::Viewer
        );
        for near_miss in ["/ACME/admins", "/acme/admins/", "admins", " /acme/admins"] {
            let err = map_role(&groups(&[near_miss]), &m, None).unwrap_err();
            assert_eq!(err.code(), "groups_unmapped", "{near_miss}");
        }
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
            map_role(&groups(&["/acme/contractors"]), &m, Some(Role::Viewer)).unwrap(),
            Role::Viewer
        );
        // A default never lowers a mapped role.
        assert_eq!(
            map_role(&groups(&["/acme/admins"]), &m, Some(Role::Viewer)).unwrap(),
            Role::Admin
        );
    }

    #[test]
    fn roles_parse_print_and_order() {
        assert!(Role::Viewer < Role::User && Role::User < Role::Admin);
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
        }
        assert_eq!(
            "Admin".parse::<Role>().unwrap_err(),
            UnknownRole("Admin".into())
        );
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
    }
}
