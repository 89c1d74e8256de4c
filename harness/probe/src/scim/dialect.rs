//! How the provisioning clients of two IdP vendors shape their requests, as data: the
//! `--dialect` cases send exactly these shapes, because servers that pass the RFC's own
//! examples still break on them.
//!
//! Sources (public, by title; where a shape is from memory of the page rather than checked
//! against it for this version, the field's comment says so):
//! - Microsoft, "Known issues and resolutions with SCIM 2.0 protocol compliance of the
//!   Microsoft Entra user provisioning service": PATCH `op` values in mixed case (`Replace`,
//!   `Add`, `Remove`) and booleans sent as strings (`"False"`), both still sent by the default
//!   `scim` job unless the tenant opts into the fixed behaviour (checked against the page; the
//!   string booleans also in ZITADEL's changelog, which relaxed its parser for them).
//! - Microsoft, "Tutorial: Develop and plan provisioning for a SCIM endpoint": the request
//!   examples for disabling a user, and adding and removing group members (`path: members`,
//!   `value: [{"$ref": null, "value": id}]`) (from memory).
//! - Okta, "SCIM 2.0 protocol reference" (Okta developer docs): profile updates as a `PUT` of
//!   the whole user, `active` toggled by a path-less `replace` with `{"active": false}`, and
//!   group push: rename by a path-less `replace` of `{id, displayName}`, member removal by the
//!   filter path `members[value eq "id"]` (from memory).

use serde_json::{json, Value};

/// A provisioning client's dialect, as `--dialect` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// RFC 7644's own request shapes only.
    #[default]
    Rfc,
    EntraId,
    Okta,
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(text: &str) -> Result<Dialect, String> {
        match text {
            "rfc" => Ok(Dialect::Rfc),
            "entra-id" | "entra" => Ok(Dialect::EntraId),
            "okta" => Ok(Dialect::Okta),
            _ => Err(format!(
                "unknown dialect `{text}`; use rfc, entra-id or okta"
            )),
        }
    }
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Rfc => "rfc",
            Dialect::EntraId => "entra-id",
            Dialect::Okta => "okta",
        }
    }

    /// The vendor's request shapes; `None` for the RFC, whose shapes the main catalogue sends.
    pub fn shapes(self) -> Option<&'static Shapes> {
        match self {
            Dialect::Rfc => None,
            Dialect::EntraId => Some(&ENTRA_ID),
            Dialect::Okta => Some(&OKTA),
        }
    }
}

/// How a vendor's client sends what the dialect cases drive.
#[derive(Debug)]
pub struct Shapes {
    pub dialect: Dialect,
    /// The PATCH `op` values it sends for add, replace and remove.
    pub ops: [&'static str; 3],
    /// How it writes `true` and `false` in PATCH values.
    pub booleans: Booleans,
    /// How it changes a user's profile (here: `displayName`).
    pub profile_update: ProfileUpdate,
    /// How it sets `active`.
    pub active: ActiveToggle,
    /// How it renames a group.
    pub rename: Rename,
    /// How it writes a member it adds.
    pub member: Member,
    /// How it removes a group member.
    pub member_removal: MemberRemoval,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// `{"$ref": null, "value": id}`.
    NullRef,
    /// `{"value": id, "display": userName}`.
    WithDisplay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booleans {
    Json,
    /// `"True"` / `"False"`.
    CapitalizedStrings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileUpdate {
    /// PATCH `replace` with `path: displayName`.
    PatchPath,
    /// PUT of the whole user as the client last read it, changed.
    Put,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveToggle {
    /// PATCH `replace` with `path: active`.
    PatchPath,
    /// PATCH `replace` without a path, `value: {"active": …}`.
    PatchValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rename {
    /// PATCH `replace` with `path: displayName`.
    PatchPath,
    /// PATCH `replace` without a path, `value: {"id": …, "displayName": …}`.
    PatchValueWithId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRemoval {
    /// `remove` with `path: members` and `value: [{"$ref": null, "value": id}]`.
    ValueList,
    /// `remove` with `path: members[value eq "id"]`, no value.
    FilterPath,
}

pub static ENTRA_ID: Shapes = Shapes {
    dialect: Dialect::EntraId,
    ops: ["Add", "Replace", "Remove"],
    booleans: Booleans::CapitalizedStrings,
    profile_update: ProfileUpdate::PatchPath,
    active: ActiveToggle::PatchPath,
    rename: Rename::PatchPath,
    member: Member::NullRef,
    member_removal: MemberRemoval::ValueList,
};

pub static OKTA: Shapes = Shapes {
    dialect: Dialect::Okta,
    ops: ["add", "replace", "remove"],
    booleans: Booleans::Json,
    profile_update: ProfileUpdate::Put,
    active: ActiveToggle::PatchValue,
    rename: Rename::PatchValueWithId,
    member: Member::WithDisplay,
    member_removal: MemberRemoval::FilterPath,
};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A PatchOp message of `operations`.
pub fn patch(operations: Vec<Value>) -> Value {
    json!({ "schemas": [PATCH_OP], "Operations": operations })
}

/// The PATCH that deactivates a user (`active` false), as `dialect`'s client sends it: the RFC's
/// own shape (RFC 7644 §3.5.2.3) without a dialect.
pub fn deactivation(dialect: Dialect) -> Value {
    match dialect.shapes() {
        Some(shapes) => shapes.set_active(false),
        None => patch(vec![
            json!({ "op": "replace", "path": "active", "value": false }),
        ]),
    }
}

impl Shapes {
    pub fn add(&self) -> &'static str {
        self.ops[0]
    }

    pub fn replace(&self) -> &'static str {
        self.ops[1]
    }

    pub fn remove(&self) -> &'static str {
        self.ops[2]
    }

    pub fn boolean(&self, value: bool) -> Value {
        match self.booleans {
            Booleans::Json => Value::Bool(value),
            Booleans::CapitalizedStrings => {
                Value::String(if value { "True" } else { "False" }.into())
            }
        }
    }

    /// The PATCH that sets `active`.
    pub fn set_active(&self, active: bool) -> Value {
        let value = self.boolean(active);
        patch(vec![match self.active {
            ActiveToggle::PatchPath => {
                json!({ "op": self.replace(), "path": "active", "value": value })
            }
            ActiveToggle::PatchValue => {
                json!({ "op": self.replace(), "value": { "active": value } })
            }
        }])
    }

    /// The PATCH that renames group `id`.
    pub fn rename(&self, id: &str, name: &str) -> Value {
        patch(vec![match self.rename {
            Rename::PatchPath => {
                json!({ "op": self.replace(), "path": "displayName", "value": name })
            }
            Rename::PatchValueWithId => {
                json!({ "op": self.replace(), "value": { "id": id, "displayName": name } })
            }
        }])
    }

    /// The PATCH that adds `user` (id, userName) to a group.
    pub fn add_member(&self, user: &str, user_name: &str) -> Value {
        let member = match self.member {
            Member::NullRef => json!({ "$ref": null, "value": user }),
            Member::WithDisplay => json!({ "value": user, "display": user_name }),
        };
        patch(vec![
            json!({ "op": self.add(), "path": "members", "value": [member] }),
        ])
    }

    /// The PATCH that removes `user` from a group.
    pub fn remove_member(&self, user: &str) -> Value {
        patch(vec![match self.member_removal {
            MemberRemoval::ValueList => json!({
                "op": self.remove(), "path": "members", "value": [{ "$ref": null, "value": user }]
            }),
            MemberRemoval::FilterPath => json!({
                "op": self.remove(), "path": format!("members[value eq \"{user}\"]")
            }),
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_sends_capitalized_ops_and_string_booleans() {
        assert_eq!(
            ENTRA_ID.set_active(false),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Replace", "path": "active", "value": "False"}]})
        );
        assert_eq!(
            ENTRA_ID.remove_member("u1")["Operations"][0],
            json!({"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}]})
        );
    }

    #[test]
    fn okta_toggles_active_without_a_path_and_removes_members_by_filter() {
        assert_eq!(
            OKTA.set_active(false)["Operations"][0],
            json!({"op": "replace", "value": {"active": false}})
        );
        assert_eq!(
            OKTA.remove_member("u1")["Operations"][0],
            json!({"op": "remove", "path": "members[value eq \"u1\"]"})
        );
        assert_eq!(
            OKTA.rename("g1", "eng")["Operations"][0],
            json!({"op": "replace", "value": {"id": "g1", "displayName": "eng"}})
        );
    }

    #[test]
    fn dialects_parse_by_name_and_refuse_others() {
        assert_eq!("entra-id".parse::<Dialect>(), Ok(Dialect::EntraId));
        assert_eq!("okta".parse::<Dialect>(), Ok(Dialect::Okta));
        assert!("azure"
            .parse::<Dialect>()
            .unwrap_err()
            .contains("rfc, entra-id or okta"));
    }
}
