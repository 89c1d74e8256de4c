//! The application's roles: a ladder of names, highest first, and roles as rungs of it.
//!
//! A [`Role`] is only ever made by its [`RoleLadder`], so it always names a rung that exists;
//! [`ClientConfig`](crate::ClientConfig) refuses mappings whose roles come from another ladder.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// The application's roles, highest first; `admin > user > viewer` unless configured otherwise.
/// Never empty, names unique, each usable in `GROUP=ROLE` and comma-separated lists.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleLadder(Arc<[String]>);

/// Why a list of names is not a role ladder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LadderError {
    #[error("the role ladder is empty; name at least one role")]
    Empty,
    #[error("the role `{0}` appears twice in the ladder")]
    Duplicate(String),
    #[error("`{name}` is not a role name: {reason}")]
    BadName { name: String, reason: &'static str },
}

/// A name the ladder does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{name}`; expected {}", ladder.alternatives())]
pub struct UnknownRole {
    pub name: String,
    pub ladder: RoleLadder,
}

impl RoleLadder {
    /// The ladder of an application that configures none.
    pub const DEFAULT: [&'static str; 3] = ["admin", "user", "viewer"];

    /// `names`, highest first.
    pub fn new<S: Into<String>>(
        names: impl IntoIterator<Item = S>,
    ) -> Result<RoleLadder, LadderError> {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.is_empty() {
            return Err(LadderError::Empty);
        }
        for (i, name) in names.iter().enumerate() {
            let bad = |reason| {
                Err(LadderError::BadName {
                    name: name.clone(),
                    reason,
                })
            };
            if name.is_empty() {
                return bad("it is empty");
            }
            // `=` splits GROUP=ROLE at its last sign, `,` separates `--roles`.
            if name
                .chars()
                .any(|c| c.is_whitespace() || c == ',' || c == '=')
            {
                return bad("it holds whitespace, `,` or `=`");
            }
            if names[..i].contains(name) {
                return Err(LadderError::Duplicate(name.clone()));
            }
        }
        Ok(RoleLadder(names.into()))
    }

    /// The role called `name`: exact and case-sensitive, like the mappings.
    pub fn role(&self, name: &str) -> Result<Role, UnknownRole> {
        self.0
            .iter()
            .position(|n| n == name)
            .map(|rank| Role {
                ladder: self.clone(),
                rank,
            })
            .ok_or_else(|| UnknownRole {
                name: name.to_string(),
                ladder: self.clone(),
            })
    }

    /// The names, highest first.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// The roles, highest first.
    pub fn roles(&self) -> impl Iterator<Item = Role> + '_ {
        (0..self.0.len()).map(|rank| Role {
            ladder: self.clone(),
            rank,
        })
    }

    /// Why `mappings` and `default` do not fit this ladder, if they do not: a role is made by
    /// its ladder, so only one of another ladder can slip into a configuration. Shared by the
    /// OIDC and SAML configurations.
    pub(crate) fn check_config(
        &self,
        mappings: &[(String, Role)],
        default: Option<&Role>,
    ) -> Result<(), String> {
        if let Some((group, role)) = mappings.iter().find(|(_, role)| !self.contains(role)) {
            return Err(format!(
                "the group `{group}` maps to `{role}` of the ladder {}, not of the application's roles {self}",
                role.ladder(),
            ));
        }
        if let Some(role) = default.filter(|role| !self.contains(role)) {
            return Err(format!(
                "the default role `{role}` is of the ladder {}, not of the application's roles {self}",
                role.ladder(),
            ));
        }
        Ok(())
    }

    /// Whether `role` is a rung of this ladder (and not of another one).
    pub fn contains(&self, role: &Role) -> bool {
        role.ladder == *self
    }

    /// `viewer, user or admin`: lowest first, as a reader climbs.
    fn alternatives(&self) -> String {
        let mut names: Vec<&str> = self.0.iter().rev().map(String::as_str).collect();
        let last = names.pop().expect("a ladder is never empty");
        if names.is_empty() {
            last.to_string()
        } else {
            format!("{} or {last}", names.join(", "))
        }
    }
}

impl Default for RoleLadder {
    fn default() -> RoleLadder {
        RoleLadder::new(RoleLadder::DEFAULT).expect("the default ladder is valid")
    }
}

/// `admin,developer,viewer`, highest first; spaces around the commas are ignored.
impl FromStr for RoleLadder {
    type Err = LadderError;

    fn from_str(text: &str) -> Result<RoleLadder, LadderError> {
        if text.trim().is_empty() {
            return Err(LadderError::Empty);
        }
        RoleLadder::new(text.split(',').map(str::trim))
    }
}

/// `admin > user > viewer`.
impl fmt::Display for RoleLadder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" > "))
    }
}

impl fmt::Debug for RoleLadder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoleLadder({self})")
    }
}

/// One rung of a ladder. A higher role compares greater, so the highest of several is `max`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Role {
    ladder: RoleLadder,
    /// Index into the ladder: 0 is the highest.
    rank: usize,
}

impl Role {
    pub fn name(&self) -> &str {
        &self.ladder.0[self.rank]
    }

    pub fn ladder(&self) -> &RoleLadder {
        &self.ladder
    }
}

impl Ord for Role {
    fn cmp(&self, other: &Role) -> std::cmp::Ordering {
        // Roles of different ladders have no meaningful order; the ladder tie-break only keeps
        // `Ord` consistent with `Eq`.
        other
            .rank
            .cmp(&self.rank)
            .then_with(|| self.ladder.cmp(&other.ladder))
    }
}

impl PartialOrd for Role {
    fn partial_cmp(&self, other: &Role) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Role({})", self.name())
    }
}

/// As its name: `"admin"`.
impl Serialize for Role {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl PartialEq<str> for Role {
    fn eq(&self, name: &str) -> bool {
        self.name() == name
    }
}

impl PartialEq<&str> for Role {
    fn eq(&self, name: &&str) -> bool {
        self.name() == *name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_ladder_orders_parses_and_prints_as_before() {
        let ladder = RoleLadder::default();
        assert_eq!(ladder.to_string(), "admin > user > viewer");
        let [admin, user, viewer] = ["admin", "user", "viewer"].map(|n| ladder.role(n).unwrap());
        assert!(viewer < user && user < admin);
        assert_eq!(
            ladder.roles().collect::<Vec<_>>(),
            [admin.clone(), user, viewer]
        );
        assert_eq!(admin, "admin");
        assert_eq!(serde_json::to_string(&admin).unwrap(), "\"admin\"");
        let err = ladder.role("Admin").unwrap_err();
        assert_eq!(err.name, "Admin");
        assert_eq!(
            err.to_string(),
            "unknown role `Admin`; expected viewer, user or admin"
        );
    }

    #[test]
    fn a_custom_ladder_is_ordered_as_given() {
        let ladder: RoleLadder = "admin, developer,viewer".parse().unwrap();
        assert_eq!(ladder.names(), ["admin", "developer", "viewer"]);
        let developer = ladder.role("developer").unwrap();
        assert!(developer < ladder.role("admin").unwrap());
        assert!(developer > ladder.role("viewer").unwrap());
        assert_eq!(
            ladder.role("user").unwrap_err().to_string(),
            "unknown role `user`; expected viewer, developer or admin"
        );
        let one: RoleLadder = "owner".parse().unwrap();
        assert_eq!(
            one.role("x").unwrap_err().to_string(),
            "unknown role `x`; expected owner"
        );
        // The same name on another ladder is another role.
        assert!(!RoleLadder::default().contains(&ladder.role("admin").unwrap()));
        assert!(ladder.contains(&developer));
    }

    #[test]
    fn invalid_ladders_are_refused() {
        assert_eq!("".parse::<RoleLadder>(), Err(LadderError::Empty));
        assert_eq!(
            RoleLadder::new(Vec::<String>::new()),
            Err(LadderError::Empty)
        );
        assert_eq!(
            "admin,viewer,admin".parse::<RoleLadder>(),
            Err(LadderError::Duplicate("admin".into()))
        );
        for (text, bad) in [("admin,,viewer", ""), ("a=b", "a=b")] {
            let err = text.parse::<RoleLadder>().unwrap_err();
            assert!(
                matches!(&err, LadderError::BadName { name, .. } if name == bad),
                "{text}: {err:?}"
            );
        }
        assert_eq!(
            RoleLadder::new(["power user"]).unwrap_err().to_string(),
            "`power user` is not a role name: it holds whitespace, `,` or `=`"
        );
    }
}
