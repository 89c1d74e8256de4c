//! Attribute mapping and attribute condition: how a workforce provider turns a subject token's
//! claims (`assertion`) into Google's view of the caller (`google.subject`, `google.groups`,
//! `attribute.*`), and decides whether to let it in at all.

use std::collections::BTreeMap;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::cel::CelExpr;
use ssoproof_config::deserialize_checked_impl;

/// Google caps `google.subject` at 127 bytes.
pub const SUBJECT_MAX_BYTES: usize = 127;
/// Google caps the attribute condition at 4096 characters.
pub const CONDITION_MAX_CHARS: usize = 4096;

/// The `google.*` targets a mapping may write, besides `attribute.NAME`.
const GOOGLE_TARGETS: [&str; 5] = [
    "google.subject",
    "google.groups",
    "google.display_name",
    "google.profile_photo",
    "google.posix_username",
];

/// `attributeMapping`: target attribute → CEL over `assertion`. Always maps `google.subject`.
#[derive(Debug, Clone)]
pub struct AttributeMapping(BTreeMap<String, CelExpr>);

/// A mapping target and its CEL source, checked and compiled.
fn mapping_entry(target: &str, source: &str) -> Result<CelExpr, String> {
    let valid_target = GOOGLE_TARGETS.contains(&target)
        || target.strip_prefix("attribute.").is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if !valid_target {
        return Err(format!(
            "`{target}` cannot be mapped: use {} or attribute.NAME (lowercase letters, digits, underscores)",
            GOOGLE_TARGETS.join(", ")
        ));
    }
    CelExpr::compile(source)
        .map_err(|e| format!("invalid CEL `{}`: {e}", super::cel::excerpt(source)))
}

impl<'de> Deserialize<'de> for AttributeMapping {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MappingVisitor)
    }
}

struct MappingVisitor;

impl<'de> Visitor<'de> for MappingVisitor {
    type Value = AttributeMapping;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map of target attribute to CEL expression")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttributeMapping, A::Error> {
        let mut mapping = BTreeMap::new();
        while let Some(target) = map.next_key::<String>()? {
            // Compiled while the value is read, so an error points at the value's line.
            let expr = map.next_value_seed(EntrySeed(&target))?;
            if mapping.insert(target.clone(), expr).is_some() {
                return Err(de::Error::custom(format!("`{target}` is mapped twice")));
            }
        }
        if !mapping.contains_key("google.subject") {
            return Err(de::Error::custom(
                "the attribute mapping must map `google.subject` (e.g. `google.subject: assertion.sub`)",
            ));
        }
        Ok(AttributeMapping(mapping))
    }
}

struct EntrySeed<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = CelExpr;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<CelExpr, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for EntrySeed<'_> {
    type Value = CelExpr;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CEL expression")
    }

    fn visit_str<E: de::Error>(self, source: &str) -> Result<CelExpr, E> {
        mapping_entry(self.0, source).map_err(E::custom)
    }
}

impl AttributeMapping {
    pub fn iter(&self) -> impl Iterator<Item = (&str, &CelExpr)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// `attributeCondition`: CEL over `assertion`, `google` and `attribute` that must be true.
#[derive(Debug, Clone)]
pub struct AttributeCondition(CelExpr);

deserialize_checked_impl!(AttributeCondition);

impl TryFrom<String> for AttributeCondition {
    type Error = String;

    fn try_from(source: String) -> Result<Self, String> {
        let chars = source.chars().count();
        if chars > CONDITION_MAX_CHARS {
            return Err(format!(
                "the attribute condition has {chars} characters; Google allows at most {CONDITION_MAX_CHARS}"
            ));
        }
        CelExpr::compile(&source)
            .map(AttributeCondition)
            .map_err(|e| format!("invalid CEL in the attribute condition: {e}"))
    }
}

impl AttributeCondition {
    pub fn source(&self) -> &str {
        self.0.source()
    }
}

/// Google's view of a federated caller, as the mapping produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    pub subject: String,
    pub groups: Vec<String>,
    /// `attribute.NAME` values, keyed by NAME.
    pub attributes: BTreeMap<String, Value>,
}

/// Why a token's claims were refused after its signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The condition was false, not a boolean, or failed to evaluate.
    Condition,
    /// `google.subject` did not come out as a non-empty string.
    SubjectNotString,
    /// `google.subject` is longer than 127 bytes.
    SubjectTooLong,
    /// `google.groups` is neither a string nor a list of strings.
    GroupsNotList,
}

/// Applies `mapping` and `condition` to the token's `claims`.
///
/// A mapping expression that fails (typically a claim the token lacks, like `groups` from an
/// IdP that sends none) leaves its attribute unset instead of refusing the token: the caller
/// then simply lacks that group or attribute, and IAM, not STS, says no. A condition that
/// fails to evaluate refuses the token, as Google does.
pub fn apply(
    mapping: &AttributeMapping,
    condition: Option<&AttributeCondition>,
    claims: &Map<String, Value>,
) -> Result<Identity, Rejection> {
    let assertion = Value::Object(claims.clone());
    let mut google = Map::new();
    let mut attribute = Map::new();
    for (target, expr) in mapping.iter() {
        let Ok(value) = expr.evaluate(&[("assertion", &assertion)]) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        match target.split_once('.') {
            Some(("google", name)) => google.insert(name.to_string(), value),
            Some((_, name)) => attribute.insert(name.to_string(), value),
            None => None,
        };
    }
    if let Some(condition) = condition {
        let verdict = condition.0.evaluate(&[
            ("assertion", &assertion),
            ("google", &Value::Object(google.clone())),
            ("attribute", &Value::Object(attribute.clone())),
        ]);
        if verdict != Ok(Value::Bool(true)) {
            return Err(Rejection::Condition);
        }
    }
    let subject = match google.get("subject") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(Rejection::SubjectNotString),
    };
    if subject.len() > SUBJECT_MAX_BYTES {
        return Err(Rejection::SubjectTooLong);
    }
    let groups = match google.get("groups") {
        None => Vec::new(),
        Some(Value::String(group)) => vec![group.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|g| g.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or(Rejection::GroupsNotList)?,
        _ => return Err(Rejection::GroupsNotList),
    };
    Ok(Identity {
        subject,
        groups,
        attributes: attribute.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(pairs: &[(&str, &str)]) -> Result<AttributeMapping, String> {
        let yaml: String = pairs
            .iter()
            .map(|(k, v)| format!("{k}: {}\n", serde_json::to_string(v).unwrap()))
            .collect();
        serde_yaml_ng::from_str(&yaml).map_err(|e| e.to_string())
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn condition(source: &str) -> AttributeCondition {
        AttributeCondition::try_from(source.to_string()).unwrap()
    }

    #[test]
    fn maps_subject_groups_and_attributes() {
        let m = mapping(&[
            ("google.subject", "assertion.sub"),
            ("google.groups", "assertion.groups"),
            ("attribute.email", "'mail:' + assertion.email"),
        ])
        .unwrap();
        let identity = apply(
            &m,
            None,
            &claims(json!({"sub": "u1", "groups": ["eng"], "email": "a@acme.test"})),
        )
        .unwrap();
        assert_eq!(identity.subject, "u1");
        assert_eq!(identity.groups, ["eng"]);
        assert_eq!(identity.attributes["email"], json!("mail:a@acme.test"));
    }

    #[test]
    fn a_claim_the_token_lacks_leaves_the_attribute_unset() {
        let m = mapping(&[
            ("google.subject", "assertion.sub"),
            ("google.groups", "assertion.groups"),
        ])
        .unwrap();
        let identity = apply(&m, None, &claims(json!({"sub": "u1"}))).unwrap();
        assert!(identity.groups.is_empty());
    }

    #[test]
    fn condition_true_false_and_error() {
        let m = mapping(&[
            ("google.subject", "assertion.sub"),
            ("attribute.dept", "assertion.dept"),
        ])
        .unwrap();
        let token = claims(json!({"sub": "u1", "dept": "eng"}));
        let pass = condition("attribute.dept == 'eng' && google.subject == assertion.sub");
        assert!(apply(&m, Some(&pass), &token).is_ok());
        let fail = condition("attribute.dept == 'sales'");
        assert_eq!(apply(&m, Some(&fail), &token), Err(Rejection::Condition));
        let error = condition("assertion.missing == 'x'");
        assert_eq!(apply(&m, Some(&error), &token), Err(Rejection::Condition));
        let not_bool = condition("assertion.sub");
        assert_eq!(
            apply(&m, Some(&not_bool), &token),
            Err(Rejection::Condition)
        );
    }

    #[test]
    fn subject_must_be_a_short_string() {
        let m = mapping(&[("google.subject", "assertion.sub")]).unwrap();
        assert_eq!(
            apply(&m, None, &claims(json!({}))),
            Err(Rejection::SubjectNotString)
        );
        assert_eq!(
            apply(&m, None, &claims(json!({"sub": 7}))),
            Err(Rejection::SubjectNotString)
        );
        assert_eq!(
            apply(&m, None, &claims(json!({"sub": ""}))),
            Err(Rejection::SubjectNotString)
        );
        let long = "é".repeat(64); // 128 bytes, 64 characters: the limit is in bytes
        assert_eq!(
            apply(&m, None, &claims(json!({"sub": long}))),
            Err(Rejection::SubjectTooLong)
        );
        assert!(apply(&m, None, &claims(json!({"sub": "x".repeat(127)}))).is_ok());
    }

    #[test]
    fn groups_must_be_strings() {
        let m = mapping(&[
            ("google.subject", "assertion.sub"),
            ("google.groups", "assertion.groups"),
        ])
        .unwrap();
        let single = apply(&m, None, &claims(json!({"sub": "u", "groups": "eng"}))).unwrap();
        assert_eq!(single.groups, ["eng"]);
        assert_eq!(
            apply(&m, None, &claims(json!({"sub": "u", "groups": [1]}))),
            Err(Rejection::GroupsNotList)
        );
    }

    #[test]
    fn bad_mappings_and_conditions_are_refused_when_loaded() {
        let err = mapping(&[("attribute.email", "assertion.email")]).unwrap_err();
        assert!(err.contains("must map `google.subject`"), "{err}");
        let err =
            mapping(&[("google.subject", "assertion.sub"), ("google.email", "x")]).unwrap_err();
        assert!(err.contains("`google.email` cannot be mapped"), "{err}");
        let err =
            mapping(&[("google.subject", "assertion.sub"), ("attribute.Dept", "x")]).unwrap_err();
        assert!(err.contains("`attribute.Dept` cannot be mapped"), "{err}");
        let err = mapping(&[("google.subject", "assertion.sub +")]).unwrap_err();
        assert!(err.contains("invalid CEL `assertion.sub +`"), "{err}");
        let err = AttributeCondition::try_from("a ==".to_string()).unwrap_err();
        assert!(
            err.starts_with("invalid CEL in the attribute condition"),
            "{err}"
        );
        let long = format!("assertion.sub == '{}'", "x".repeat(4096));
        let err = AttributeCondition::try_from(long).unwrap_err();
        assert!(err.contains("Google allows at most 4096"), "{err}");
    }
}
