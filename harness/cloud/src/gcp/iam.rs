//! IAM principals as Google writes them in policy bindings, and whether a caller is one of them.

use std::fmt;

use super::attributes::Identity;
use ssoproof_config::deserialize_checked_impl;

const WORKFORCE_PREFIX: &str = "//iam.googleapis.com/locations/global/workforcePools/";

/// A member of an IAM binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// `principal://iam.googleapis.com/locations/global/workforcePools/POOL/subject/SUBJECT`
    Subject { pool: String, subject: String },
    /// `principalSet://iam.googleapis.com/locations/global/workforcePools/POOL/group/GROUP`
    Group { pool: String, group: String },
    /// `principalSet://iam.googleapis.com/locations/global/workforcePools/POOL/attribute.NAME/VALUE`
    Attribute {
        pool: String,
        name: String,
        value: String,
    },
    /// `principalSet://iam.googleapis.com/locations/global/workforcePools/POOL/*`
    Pool { pool: String },
    /// `user:EMAIL`: a Google account.
    User { email: String },
}

/// Who is calling, once their bearer token was recognised.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    /// A workforce identity, through an STS token exchange.
    Federated { pool: String, identity: Identity },
    /// A Google account, with its own OAuth token.
    GoogleUser { email: String },
}

impl Member {
    /// The workforce pool this member belongs to, if any.
    pub fn pool(&self) -> Option<&str> {
        match self {
            Member::Subject { pool, .. }
            | Member::Group { pool, .. }
            | Member::Attribute { pool, .. }
            | Member::Pool { pool } => Some(pool),
            Member::User { .. } => None,
        }
    }

    pub fn matches(&self, caller: &Caller) -> bool {
        match (self, caller) {
            (Member::User { email }, Caller::GoogleUser { email: theirs }) => {
                email.eq_ignore_ascii_case(theirs)
            }
            (Member::User { .. }, _) | (_, Caller::GoogleUser { .. }) => false,
            (member, Caller::Federated { pool, identity }) => {
                member.pool() == Some(pool.as_str())
                    && match member {
                        Member::Subject { subject, .. } => *subject == identity.subject,
                        Member::Group { group, .. } => identity.groups.contains(group),
                        Member::Attribute { name, value, .. } => {
                            match identity.attributes.get(name) {
                                Some(serde_json::Value::String(s)) => s == value,
                                Some(serde_json::Value::Array(items)) => {
                                    items.iter().any(|i| i.as_str() == Some(value))
                                }
                                _ => false,
                            }
                        }
                        Member::Pool { .. } => true,
                        Member::User { .. } => false,
                    }
            }
        }
    }
}

deserialize_checked_impl!(Member);

impl TryFrom<String> for Member {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let invalid = || {
            format!(
                "`{text}` is not an IAM principal this emulator knows: use \
                 principal://iam.googleapis.com/locations/global/workforcePools/POOL/subject/SUBJECT, \
                 principalSet://…/workforcePools/POOL/group/GROUP, …/POOL/attribute.NAME/VALUE, \
                 …/POOL/* or user:EMAIL"
            )
        };
        if let Some(email) = text.strip_prefix("user:") {
            return match email.split_once('@') {
                Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                    Ok(Member::User {
                        email: email.to_string(),
                    })
                }
                _ => Err(invalid()),
            };
        }
        let (set, rest) = if let Some(rest) = text.strip_prefix("principalSet:") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("principal:") {
            (false, rest)
        } else {
            return Err(invalid());
        };
        let rest = rest.strip_prefix(WORKFORCE_PREFIX).ok_or_else(invalid)?;
        let (pool, rest) = rest.split_once('/').ok_or_else(invalid)?;
        if pool.is_empty() {
            return Err(invalid());
        }
        let pool = pool.to_string();
        let member = match (set, rest.split_once('/')) {
            (false, Some(("subject", subject))) if !subject.is_empty() => Member::Subject {
                pool,
                subject: subject.to_string(),
            },
            (true, Some(("group", group))) if !group.is_empty() => Member::Group {
                pool,
                group: group.to_string(),
            },
            (true, Some((attribute, value))) if !value.is_empty() => {
                let name = attribute.strip_prefix("attribute.").ok_or_else(invalid)?;
                if name.is_empty() {
                    return Err(invalid());
                }
                Member::Attribute {
                    pool,
                    name: name.to_string(),
                    value: value.to_string(),
                }
            }
            (true, None) if rest == "*" => Member::Pool { pool },
            _ => return Err(invalid()),
        };
        Ok(member)
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Member::Subject { pool, subject } => {
                write!(f, "principal:{WORKFORCE_PREFIX}{pool}/subject/{subject}")
            }
            Member::Group { pool, group } => {
                write!(f, "principalSet:{WORKFORCE_PREFIX}{pool}/group/{group}")
            }
            Member::Attribute { pool, name, value } => {
                write!(
                    f,
                    "principalSet:{WORKFORCE_PREFIX}{pool}/attribute.{name}/{value}"
                )
            }
            Member::Pool { pool } => write!(f, "principalSet:{WORKFORCE_PREFIX}{pool}/*"),
            Member::User { email } => write!(f, "user:{email}"),
        }
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Federated { pool, identity } => write!(
                f,
                "principal:{WORKFORCE_PREFIX}{pool}/subject/{}",
                identity.subject
            ),
            Caller::GoogleUser { email } => write!(f, "user:{email}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(text: &str) -> Member {
        Member::try_from(text.to_string()).unwrap()
    }

    fn federated(pool: &str, subject: &str, groups: &[&str]) -> Caller {
        Caller::Federated {
            pool: pool.into(),
            identity: Identity {
                subject: subject.into(),
                groups: groups.iter().map(|g| g.to_string()).collect(),
                attributes: [("dept".to_string(), json!("eng"))].into(),
            },
        }
    }

    #[test]
    fn parses_and_prints_every_form() {
        for text in [
            "principal://iam.googleapis.com/locations/global/workforcePools/acme/subject/u-1",
            "principalSet://iam.googleapis.com/locations/global/workforcePools/acme/group/eng",
            "principalSet://iam.googleapis.com/locations/global/workforcePools/acme/attribute.dept/eng",
            "principalSet://iam.googleapis.com/locations/global/workforcePools/acme/*",
            "user:alice@example.com",
        ] {
            assert_eq!(member(text).to_string(), text);
        }
        for bad in [
            "alice@example.com",
            "user:alice",
            "principal://iam.googleapis.com/locations/global/workforcePools/acme/group/eng",
            "principalSet://iam.googleapis.com/locations/global/workforcePools/acme/subject/u",
            "principalSet://iam.googleapis.com/locations/global/workforcePools//*",
            "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*",
            "principalSet://iam.googleapis.com/locations/global/workforcePools/acme/dept/eng",
        ] {
            assert!(Member::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn matches_by_pool_subject_group_attribute_and_email() {
        let caller = federated("acme", "u-1", &["eng"]);
        let prefix = "iam.googleapis.com/locations/global/workforcePools";
        assert!(member(&format!("principal://{prefix}/acme/subject/u-1")).matches(&caller));
        assert!(!member(&format!("principal://{prefix}/acme/subject/u-2")).matches(&caller));
        assert!(!member(&format!("principal://{prefix}/other/subject/u-1")).matches(&caller));
        assert!(member(&format!("principalSet://{prefix}/acme/group/eng")).matches(&caller));
        assert!(!member(&format!("principalSet://{prefix}/acme/group/ops")).matches(&caller));
        assert!(
            member(&format!("principalSet://{prefix}/acme/attribute.dept/eng")).matches(&caller)
        );
        assert!(member(&format!("principalSet://{prefix}/acme/*")).matches(&caller));
        assert!(!member("user:u-1@acme.test").matches(&caller));
        let google = Caller::GoogleUser {
            email: "Alice@Example.com".into(),
        };
        assert!(member("user:alice@example.com").matches(&google));
        assert!(!member(&format!("principalSet://{prefix}/acme/*")).matches(&google));
    }
}
