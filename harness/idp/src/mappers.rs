//! Protocol mappers: how Keycloak turns a user into claims.
//!
//! Each mapper is evaluated the way Keycloak's `OIDCAttributeMapperHelper` does it: a flag is on
//! only when its config value is exactly the string `"true"` (so a mapper written by hand
//! without `full.path` emits plain group names, the trap the Keycloak runbook warns about), except
//! that a mapper with no `userinfo.token.claim` at all follows its `id.token.claim` (Keycloak's
//! backwards-compatibility rule). An empty value list adds no claim, so a user in no group gets
//! no `groups` claim rather than an empty list. A `claim.name` with dots makes nested objects
//! (`realm_access.roles`); `\.` is a literal dot.
//!
//! A user holds the export's `realmRoles` and nothing else. Keycloak grants its default roles
//! (`default-roles-<realm>`, `offline_access`, the `account` client's roles) to users created
//! through the admin API or registration, not to users imported with a realm: Keycloak 26.7.3
//! serving `fixtures/keycloak-realm.json` puts no `realm_access`, no `resource_access` and no
//! `aud: account` in the access token (the fidelity suite saw it). So client-role mappers and
//! the audience-resolve mapper, which follow client roles, add nothing here.

use serde_json::{Map, Value};

use super::realm::{Client, ProtocolMapper, Realm, User};

/// Whether the emulator reproduces a mapper type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    Emulated,
    /// A real Keycloak type the emulator does not reproduce (reported, then ignored).
    NotEmulated,
    Unknown,
}

const EMULATED: &[&str] = &[
    "oidc-acr-mapper",
    "oidc-address-mapper",
    "oidc-allowed-origins-mapper",
    "oidc-audience-mapper",
    "oidc-audience-resolve-mapper",
    "oidc-full-name-mapper",
    "oidc-group-membership-mapper",
    "oidc-hardcoded-claim-mapper",
    "oidc-organization-membership-mapper",
    "oidc-session-state-mapper",
    "oidc-sub-mapper",
    "oidc-usermodel-attribute-mapper",
    "oidc-usermodel-client-role-mapper",
    "oidc-usermodel-property-mapper",
    "oidc-usermodel-realm-role-mapper",
    "oidc-usersessionmodel-note-mapper",
];

const NOT_EMULATED: &[&str] = &[
    "oidc-claims-param-token-mapper",
    "oidc-hardcoded-role-mapper",
    "oidc-nonce-backwards-compatible-mapper",
    "oidc-role-name-mapper",
    "oidc-sha256-pairwise-sub-mapper",
];

/// For messages that ask for a real mapper type.
pub(crate) const EXAMPLE_TYPES: &str =
    "oidc-group-membership-mapper, oidc-usermodel-attribute-mapper or oidc-usermodel-property-mapper";

pub(crate) fn support(mapper_type: &str) -> Support {
    if EMULATED.contains(&mapper_type) {
        Support::Emulated
    } else if NOT_EMULATED.contains(&mapper_type) || mapper_type.starts_with("script-") {
        Support::NotEmulated
    } else {
        Support::Unknown
    }
}

/// Mapper types that write to the claim named by `claim.name`.
pub(crate) fn needs_claim_name(mapper_type: &str) -> bool {
    matches!(
        mapper_type,
        "oidc-group-membership-mapper"
            | "oidc-usermodel-property-mapper"
            | "oidc-usermodel-attribute-mapper"
            | "oidc-hardcoded-claim-mapper"
            | "oidc-usermodel-realm-role-mapper"
            | "oidc-usermodel-client-role-mapper"
            | "oidc-usersessionmodel-note-mapper"
    )
}

/// Which document the claims are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    IdToken,
    AccessToken,
    Userinfo,
}

/// Whose claims: the user, in the session and client a token is for.
pub(crate) struct Subject<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub session_id: &'a str,
    /// When the user typed the password; `None` for the password grant.
    pub auth_time: Option<i64>,
}

/// The mappers that apply to a token: the granted client scopes', then the client's own.
pub(crate) fn effective<'r>(
    realm: &'r Realm,
    client: &'r Client,
    scopes: &[String],
) -> Vec<&'r ProtocolMapper> {
    scopes
        .iter()
        .filter_map(|name| realm.client_scope(name))
        .flat_map(|scope| scope.protocol_mappers.iter())
        .chain(client.protocol_mappers.iter())
        .collect()
}

/// Adds the claims of every mapper flagged for `target`.
pub(crate) fn apply<'m>(
    mappers: impl IntoIterator<Item = &'m ProtocolMapper>,
    subject: &Subject<'_>,
    target: Target,
    claims: &mut Map<String, Value>,
) {
    for mapper in mappers {
        if applies_to(mapper, target) {
            evaluate(mapper, subject, claims);
        }
    }
}

fn applies_to(mapper: &ProtocolMapper, target: Target) -> bool {
    match target {
        Target::IdToken => mapper.is_true("id.token.claim"),
        Target::AccessToken => mapper.is_true("access.token.claim"),
        Target::Userinfo => match mapper.config("userinfo.token.claim") {
            None => mapper.is_true("id.token.claim"),
            Some(value) => value == "true",
        },
    }
}

fn evaluate(mapper: &ProtocolMapper, subject: &Subject<'_>, claims: &mut Map<String, Value>) {
    let user = subject.user;
    let claim = mapper.config("claim.name").unwrap_or("");
    match mapper.protocol_mapper.as_str() {
        "oidc-group-membership-mapper" => {
            let full_path = mapper.is_true("full.path");
            let groups: Vec<Value> = user
                .groups
                .iter()
                .map(|path| {
                    let name = if full_path {
                        path.as_str()
                    } else {
                        path.rsplit('/').next().unwrap_or(path)
                    };
                    Value::String(name.to_string())
                })
                .collect();
            // Keycloak forces this mapper multivalued: always a list.
            if !groups.is_empty() {
                set_claim(claims, claim, Value::Array(groups));
            }
        }
        "oidc-usermodel-property-mapper" => {
            let property = mapper.config("user.attribute").unwrap_or("");
            if let Some(value) = property_of(user, property) {
                set_claim(claims, claim, convert(mapper, value));
            }
        }
        "oidc-usermodel-attribute-mapper" => {
            let attribute = mapper.config("user.attribute").unwrap_or("");
            let values: Vec<Value> = match property_of(user, attribute) {
                Some(value) if is_profile_attribute(attribute) => vec![value],
                _ => user
                    .attributes
                    .get(attribute)
                    .map(|v| v.iter().cloned().map(Value::String).collect())
                    .unwrap_or_default(),
            };
            if let Some(value) = list_value(mapper, values) {
                set_claim(claims, claim, value);
            }
        }
        "oidc-full-name-mapper" => {
            let parts: Vec<&str> = [&user.first_name, &user.last_name]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            if !parts.is_empty() {
                claims.insert("name".into(), Value::String(parts.join(" ")));
            }
        }
        "oidc-hardcoded-claim-mapper" => {
            if let Some(value) = mapper.config("claim.value") {
                set_claim(claims, claim, convert(mapper, Value::String(value.into())));
            }
        }
        "oidc-sub-mapper" => {
            claims.insert("sub".into(), Value::String(user.id.clone()));
        }
        // The only session note the emulator keeps is the login time.
        "oidc-usersessionmodel-note-mapper"
            if mapper.config("user.session.note") == Some("AUTH_TIME") =>
        {
            if let Some(auth_time) = subject.auth_time {
                set_claim(claims, claim, Value::from(auth_time));
            }
        }
        "oidc-acr-mapper" => {
            claims.insert("acr".into(), Value::String("1".into()));
        }
        "oidc-allowed-origins-mapper" => {
            let origins = allowed_origins(subject.client);
            if !origins.is_empty() {
                claims.insert(
                    "allowed-origins".into(),
                    Value::Array(origins.into_iter().map(Value::String).collect()),
                );
            }
        }
        "oidc-usermodel-realm-role-mapper" => {
            let roles = realm_roles(user).into_iter().map(Value::String).collect();
            if let Some(value) = list_value(mapper, roles) {
                set_claim(claims, claim, value);
            }
        }
        // Imported users hold no client roles, so these resolve to nothing (see the module doc).
        "oidc-usermodel-client-role-mapper" | "oidc-audience-resolve-mapper" => {}
        "oidc-audience-mapper" => {
            for key in ["included.client.audience", "included.custom.audience"] {
                if let Some(audience) = mapper.config(key).filter(|a| !a.is_empty()) {
                    add_audience(claims, audience);
                }
            }
        }
        "oidc-address-mapper" => {
            let mut address = Map::new();
            for (attribute, field) in [
                ("formatted", "formatted"),
                ("street", "street_address"),
                ("locality", "locality"),
                ("region", "region"),
                ("postal_code", "postal_code"),
                ("country", "country"),
            ] {
                let key = format!("user.attribute.{attribute}");
                let attribute = mapper.config(&key).unwrap_or(attribute);
                if let Some(value) = user.attributes.get(attribute).and_then(|v| v.first()) {
                    address.insert(field.into(), Value::String(value.clone()));
                }
            }
            if !address.is_empty() {
                claims.insert("address".into(), Value::Object(address));
            }
        }
        "oidc-session-state-mapper" => {
            claims.insert(
                "session_state".into(),
                Value::String(subject.session_id.to_string()),
            );
        }
        // Organizations are not emulated: nobody is a member of one, which adds nothing. Other
        // session notes are never set.
        _ => {}
    }
}

/// The user-profile attributes Keycloak also exposes as properties.
fn is_profile_attribute(name: &str) -> bool {
    matches!(name, "username" | "email" | "firstName" | "lastName")
}

fn property_of(user: &User, property: &str) -> Option<Value> {
    let text = |s: &Option<String>| s.clone().map(Value::String);
    match property {
        "username" => Some(Value::String(user.username.clone())),
        "email" => text(&user.email),
        "firstName" => text(&user.first_name),
        "lastName" => text(&user.last_name),
        "emailVerified" => Some(Value::Bool(user.email_verified)),
        "enabled" => Some(Value::Bool(user.enabled)),
        "id" => Some(Value::String(user.id.clone())),
        _ => None,
    }
}

/// Keycloak's `mapAttributeValue`: no value adds nothing; `multivalued` keeps a list, otherwise
/// the first value is used.
fn list_value(mapper: &ProtocolMapper, values: Vec<Value>) -> Option<Value> {
    if mapper.is_true("multivalued") {
        (!values.is_empty())
            .then(|| Value::Array(values.into_iter().map(|v| convert(mapper, v)).collect()))
    } else {
        values.into_iter().next().map(|v| convert(mapper, v))
    }
}

/// `jsonType.label`: the claim's JSON type.
fn convert(mapper: &ProtocolMapper, value: Value) -> Value {
    let text = match &value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match mapper.config("jsonType.label") {
        Some("boolean") => Value::Bool(text.eq_ignore_ascii_case("true")),
        Some("long") | Some("int") => text.parse::<i64>().map(Value::from).unwrap_or(value),
        Some("JSON") => serde_json::from_str(&text).unwrap_or(value),
        Some("String") => Value::String(text),
        _ => value,
    }
}

/// Writes `value` at a claim path: `a.b` nests, `a\.b` is one key.
fn set_claim(claims: &mut Map<String, Value>, path: &str, value: Value) {
    if path.is_empty() {
        return;
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                current.push('.');
                chars.next();
            }
            '.' => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    let (last, parents) = parts.split_last().expect("split always yields one part");
    let mut target = claims;
    for part in parents {
        let entry = target
            .entry(part.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        target = entry.as_object_mut().expect("made an object just above");
    }
    target.insert(last.clone(), value);
}

fn add_audience(claims: &mut Map<String, Value>, audience: &str) {
    let entry = claims
        .entry("aud")
        .or_insert_with(|| Value::Array(Vec::new()));
    let mut list = match entry.take() {
        Value::Array(list) => list,
        Value::String(single) => vec![Value::String(single)],
        _ => Vec::new(),
    };
    if !list.iter().any(|a| a == audience) {
        list.push(Value::String(audience.to_string()));
    }
    // Keycloak writes a single audience as a string.
    *entry = if list.len() == 1 {
        list.remove(0)
    } else {
        Value::Array(list)
    };
}

/// Every realm role the user holds: the export's `realmRoles` (see the module doc).
pub(crate) fn realm_roles(user: &User) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for role in &user.realm_roles {
        if !roles.contains(role) {
            roles.push(role.clone());
        }
    }
    roles
}

/// The client's web origins, `+` standing for the origins of its redirect URIs.
fn allowed_origins(client: &Client) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    for origin in &client.web_origins {
        let resolved: Vec<String> = if origin == "+" {
            client
                .redirect_uris
                .iter()
                .filter_map(|uri| url::Url::parse(uri).ok())
                .map(|url| url.origin().ascii_serialization())
                .filter(|o| o != "null")
                .collect()
        } else {
            vec![origin.clone()]
        };
        for origin in resolved {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
    }
    origins
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::Path;

    fn group_mapper(config: &[(&str, &str)]) -> ProtocolMapper {
        ProtocolMapper {
            name: "groups".into(),
            protocol_mapper: "oidc-group-membership-mapper".into(),
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn realm() -> Realm {
        Realm::from_keycloak_json(
            r#"{"realm": "r", "enabled": true,
                "groups": [{"name": "acme", "subGroups": [{"name": "admins"}, {"name": "engineers"}]}],
                "users": [
                    {"username": "carol", "enabled": true, "firstName": "Carol", "groups": ["/acme/admins", "acme/engineers"]},
                    {"username": "nobody", "enabled": true}
                ],
                "clients": [{"clientId": "app", "secret": "s", "redirectUris": ["https://app.example.com/cb"], "webOrigins": ["+"]}]}"#,
            Path::new("r.json"),
        )
        .unwrap()
    }

    fn claims_for(
        realm: &Realm,
        username: &str,
        mapper: &ProtocolMapper,
        target: Target,
    ) -> Map<String, Value> {
        let subject = Subject {
            client: &realm.clients[0],
            user: realm.user(username).unwrap(),
            session_id: "sid",
            auth_time: Some(7),
        };
        let mut claims = Map::new();
        apply([mapper], &subject, target, &mut claims);
        claims
    }

    #[test]
    fn full_path_only_when_exactly_the_string_true() {
        let realm = realm();
        let full = group_mapper(&[
            ("claim.name", "groups"),
            ("full.path", "true"),
            ("id.token.claim", "true"),
        ]);
        assert_eq!(
            claims_for(&realm, "carol", &full, Target::IdToken)["groups"],
            serde_json::json!(["/acme/admins", "/acme/engineers"])
        );
        for value in [None, Some("TRUE"), Some("yes"), Some("false")] {
            let mut config = vec![("claim.name", "groups"), ("id.token.claim", "true")];
            if let Some(v) = value {
                config.push(("full.path", v));
            }
            assert_eq!(
                claims_for(&realm, "carol", &group_mapper(&config), Target::IdToken)["groups"],
                serde_json::json!(["admins", "engineers"]),
                "full.path = {value:?}"
            );
        }
    }

    #[test]
    fn token_flags_and_the_userinfo_fallback() {
        let realm = realm();
        let id_only = group_mapper(&[("claim.name", "groups"), ("id.token.claim", "true")]);
        assert!(claims_for(&realm, "carol", &id_only, Target::AccessToken).is_empty());
        // No userinfo flag at all: follows the ID-token flag (Keycloak's compatibility rule).
        assert!(claims_for(&realm, "carol", &id_only, Target::Userinfo).contains_key("groups"));
        let no_userinfo = group_mapper(&[
            ("claim.name", "groups"),
            ("id.token.claim", "true"),
            ("userinfo.token.claim", "false"),
        ]);
        assert!(claims_for(&realm, "carol", &no_userinfo, Target::Userinfo).is_empty());
        let access = group_mapper(&[("claim.name", "groups"), ("access.token.claim", "True")]);
        assert!(claims_for(&realm, "carol", &access, Target::AccessToken).is_empty());
    }

    #[test]
    fn no_group_means_no_claim_and_dotted_names_nest() {
        let realm = realm();
        let mapper = group_mapper(&[("claim.name", "acme.groups"), ("id.token.claim", "true")]);
        assert!(claims_for(&realm, "nobody", &mapper, Target::IdToken).is_empty());
        assert_eq!(
            claims_for(&realm, "carol", &mapper, Target::IdToken)["acme"]["groups"],
            serde_json::json!(["admins", "engineers"])
        );
        let literal = group_mapper(&[("claim.name", r"acme\.groups"), ("id.token.claim", "true")]);
        assert!(claims_for(&realm, "carol", &literal, Target::IdToken).contains_key("acme.groups"));
    }

    #[test]
    fn types_roles_origins_and_audience() {
        let realm = realm();
        let hardcoded = ProtocolMapper {
            name: "tier".into(),
            protocol_mapper: "oidc-hardcoded-claim-mapper".into(),
            config: [
                ("claim.name", "tier"),
                ("claim.value", "3"),
                ("jsonType.label", "long"),
                ("access.token.claim", "true"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        };
        assert_eq!(
            claims_for(&realm, "carol", &hardcoded, Target::AccessToken)["tier"],
            serde_json::json!(3)
        );
        let roles = realm.client_scope("roles").unwrap();
        let subject = Subject {
            client: &realm.clients[0],
            user: realm.user("carol").unwrap(),
            session_id: "sid",
            auth_time: None,
        };
        let mut claims = Map::new();
        apply(
            &roles.protocol_mappers,
            &subject,
            Target::AccessToken,
            &mut claims,
        );
        // An imported user without `realmRoles` holds no role at all, as in Keycloak.
        for absent in ["realm_access", "resource_access", "aud"] {
            assert!(!claims.contains_key(absent), "{absent} in {claims:?}");
        }
        let mut with_role = realm.user("carol").unwrap().clone();
        with_role.realm_roles = vec!["auditor".into()];
        let subject_with_role = Subject {
            user: &with_role,
            ..subject
        };
        let mut role_claims = Map::new();
        apply(
            &roles.protocol_mappers,
            &subject_with_role,
            Target::AccessToken,
            &mut role_claims,
        );
        assert_eq!(
            role_claims["realm_access"]["roles"],
            serde_json::json!(["auditor"])
        );
        let origins = realm.client_scope("web-origins").unwrap();
        apply(
            &origins.protocol_mappers,
            &subject,
            Target::AccessToken,
            &mut claims,
        );
        assert_eq!(
            claims["allowed-origins"],
            serde_json::json!(["https://app.example.com"])
        );
    }
}
