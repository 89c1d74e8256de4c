//! Property tests: whatever a realm export or a persona file holds, loading it returns a realm
//! or a typed error with a documented code and a message, and never panics (issue 11).
//!
//! Bounded for `cargo test`: proptest's default of 256 cases per property, a few seconds in
//! all; `PROPTEST_CASES=100000 cargo test -p ssoproof-idp --test never_panics` runs longer.

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{Map, Value};
use ssoproof_idp::Realm;

const REALM_CODES: &[&str] = &[
    "realm/read",
    "realm/syntax",
    "realm/missing-field",
    "realm/invalid",
    "realm/unknown-mapper",
    "realm/unknown-group",
];
const PERSONA_CODES: &[&str] = &["persona/read", "persona/syntax", "persona/invalid"];

/// Keys the importer and the personas read, so that generated documents reach past the first
/// check; plus arbitrary ones.
const KEYS: &[&str] = &[
    "realm",
    "enabled",
    "users",
    "clients",
    "groups",
    "subGroups",
    "username",
    "clientId",
    "name",
    "id",
    "credentials",
    "type",
    "value",
    "temporary",
    "protocolMappers",
    "protocolMapper",
    "protocol",
    "config",
    "attributes",
    "clientScopes",
    "identityProviders",
    "alias",
    "providerId",
    "identityProviderMappers",
    "identityProviderAlias",
    "identityProviderMapper",
    "defaultGroups",
    "accessTokenLifespan",
    "refreshTokenMaxReuse",
    "publicClient",
    "secret",
    "redirectUris",
    "federatedIdentities",
    "defaultClientScopes",
    "authenticationFlows",
    "roles",
    "vendor",
    "tenant",
    "display_name",
    "count",
    "member_of",
    "user_principal_name",
    "password",
    "app_registrations",
    "org",
    "apps",
    "login",
    "filter",
    "user_pool",
    "app_clients",
    "provider",
    "application",
    "property_mappings",
    "scope_mappings",
    "slug",
];

/// Strings the importer and the personas give meaning to.
const WORDS: &[&str] = &[
    "r",
    "password",
    "openid-connect",
    "saml",
    "oidc-group-membership-mapper",
    "oidc-hardcoded-group-idp-mapper",
    "oidc-hardcoded-claim-mapper",
    "made-up",
    "google",
    "oidc",
    "/g",
    "g",
    "${SSOPROOF_UNSET}",
    "${X:d}",
    "**********",
    "S256",
    "plain",
    "true",
    "okta",
    "auth0",
    "entra",
    "cognito",
    "team-{n}",
    "REGEX",
    "(",
    "",
    "é",
    "\u{0}",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => select(KEYS).prop_map(str::to_string), 1 => "[a-zA-Z._]{0,10}"]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A top-level object, with a realm name most of the time so the import gets past it.
fn document() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(key(), value(), 0..8),
        prop::option::weighted(0.9, select(WORDS)),
    )
        .prop_map(|(map, realm)| {
            let mut object: Map<String, Value> = map.into_iter().collect();
            if let Some(realm) = realm {
                object.insert("realm".into(), realm.into());
            }
            Value::Object(object)
        })
}

/// Up to eight bytes replaced: JSON and YAML punctuation mostly, any byte sometimes.
fn byte_edits() -> impl Strategy<Value = Vec<(Index, u8)>> {
    let byte = prop_oneof![
        3 => select(b"{}[]\":,0-e.tn\\x #&*!|>-'\n ".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec((any::<Index>(), byte), 1..8)
}

fn mutate(text: &str, edits: &[(Index, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for (at, byte) in edits {
        let i = at.index(bytes.len());
        bytes[i] = *byte;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Line-level edits of a YAML file: a line dropped, repeated, or its value replaced by one a
/// persona must refuse or bound.
#[derive(Debug, Clone)]
enum LineEdit {
    Drop(Index),
    Repeat(Index),
    Value(Index, &'static str),
}

fn line_edits() -> impl Strategy<Value = Vec<LineEdit>> {
    let replacement = select(
        &[
            "-1",
            "4000000000",
            "18446744073709551615",
            "0",
            "10000",
            "[]",
            "{}",
            "~",
            "\"\"",
            "\"x\"",
            "[a, b]",
            "{a: 1}",
            "&a x",
            "*a",
            "!!binary AA==",
            "\"{n}\"",
            "1e999",
            "true",
            "'('",
        ][..],
    );
    let edit = prop_oneof![
        any::<Index>().prop_map(LineEdit::Drop),
        any::<Index>().prop_map(LineEdit::Repeat),
        (any::<Index>(), replacement).prop_map(|(i, v)| LineEdit::Value(i, v)),
    ];
    prop::collection::vec(edit, 1..5)
}

fn edit_lines(text: &str, edits: &[LineEdit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for edit in edits {
        if lines.is_empty() {
            break;
        }
        match edit {
            LineEdit::Drop(i) => {
                lines.remove(i.index(lines.len()));
            }
            LineEdit::Repeat(i) => {
                let i = i.index(lines.len());
                lines.insert(i, lines[i].clone());
            }
            LineEdit::Value(i, value) => {
                // Among the lines with a value, so that most edits change one.
                let valued: Vec<usize> = (0..lines.len())
                    .filter(|&l| lines[l].contains(": "))
                    .collect();
                if valued.is_empty() {
                    continue;
                }
                let l = valued[i.index(valued.len())];
                let key = lines[l].split_once(": ").map(|(k, _)| k.to_string());
                if let Some(key) = key {
                    lines[l] = format!("{key}: {value}");
                }
            }
        }
    }
    lines.join("\n")
}

fn fixture(relative: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(relative),
    )
    .unwrap()
}

const PERSONAS: &[&str] = &[
    "idp/okta.yaml",
    "idp/auth0.yaml",
    "idp/entra-id.yaml",
    "idp/google-workspace.yaml",
    "idp/cognito.yaml",
    "idp/authentik.yaml",
];

fn check_realm(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = Realm::from_keycloak_json(text, Path::new("fuzz.json")) {
        prop_assert!(
            REALM_CODES.contains(&e.code()),
            "undocumented code {}",
            e.code()
        );
        prop_assert!(e.to_string().starts_with("fuzz.json"), "{e}");
    }
    Ok(())
}

fn check_persona(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = Realm::from_persona_yaml(text, Path::new("fuzz.yaml")) {
        prop_assert!(
            PERSONA_CODES.contains(&e.code()),
            "undocumented code {}",
            e.code()
        );
        prop_assert!(e.to_string().starts_with("fuzz.yaml"), "{e}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn a_generated_realm_export_never_panics(doc in document()) {
        check_realm(&doc.to_string())?;
    }

    #[test]
    fn a_mutated_realm_export_never_panics(edits in byte_edits()) {
        check_realm(&mutate(&fixture("keycloak-realm.json"), &edits))?;
    }

    #[test]
    fn a_mutated_broker_realm_never_panics(edits in byte_edits()) {
        check_realm(&mutate(&fixture("keycloak-google-broker.json"), &edits))?;
    }

    #[test]
    fn a_persona_with_edited_lines_never_panics(
        file in select(PERSONAS),
        edits in line_edits(),
    ) {
        check_persona(&edit_lines(&fixture(file), &edits))?;
    }

    #[test]
    fn a_persona_with_mutated_bytes_never_panics(
        file in select(PERSONAS),
        edits in byte_edits(),
    ) {
        check_persona(&mutate(&fixture(file), &edits))?;
    }

    /// JSON is YAML: generated documents with persona keys, under each vendor.
    #[test]
    fn a_generated_persona_never_panics(
        doc in document(),
        vendor in select(&["okta", "auth0", "entra", "google", "cognito", "authentik"][..]),
    ) {
        let mut doc = doc;
        doc.as_object_mut().unwrap().insert("vendor".into(), vendor.into());
        check_persona(&doc.to_string())?;
    }
}
