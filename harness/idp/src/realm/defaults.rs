//! Keycloak's built-in client scopes, which Keycloak creates when an export names none, with the
//! protocol mappers that put the profile, e-mail, role and session claims into tokens.

use std::collections::BTreeMap;

use super::{ClientScope, ProtocolMapper};

/// The scopes a new client gets as defaults (always applied), in Keycloak's order.
pub(super) const DEFAULT_SCOPES: [&str; 6] =
    ["web-origins", "acr", "profile", "roles", "basic", "email"];

/// The scopes a new client may request with the `scope` parameter.
pub(super) const OPTIONAL_SCOPES: [&str; 5] = [
    "address",
    "phone",
    "offline_access",
    "organization",
    "microprofile-jwt",
];

const ID: u8 = 1;
const ACCESS: u8 = 2;
const USERINFO: u8 = 4;

fn mapper(name: &str, kind: &str, targets: u8, config: &[(&str, &str)]) -> ProtocolMapper {
    let mut map: BTreeMap<String, String> = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (flag, key) in [
        (ID, "id.token.claim"),
        (ACCESS, "access.token.claim"),
        (USERINFO, "userinfo.token.claim"),
    ] {
        map.insert(key.to_string(), (targets & flag != 0).to_string());
    }
    ProtocolMapper {
        name: name.to_string(),
        protocol_mapper: kind.to_string(),
        config: map,
    }
}

fn attribute(name: &str, attribute: &str, claim: &str, json_type: &str) -> ProtocolMapper {
    mapper(
        name,
        "oidc-usermodel-attribute-mapper",
        ID | ACCESS | USERINFO,
        &[
            ("user.attribute", attribute),
            ("claim.name", claim),
            ("jsonType.label", json_type),
        ],
    )
}

fn scope(name: &str, include_in_token_scope: bool, mappers: Vec<ProtocolMapper>) -> ClientScope {
    ClientScope {
        name: name.to_string(),
        include_in_token_scope,
        protocol_mappers: mappers,
    }
}

pub(super) fn builtin_client_scopes() -> Vec<ClientScope> {
    let profile = [
        ("username", "username", "preferred_username"),
        ("given name", "firstName", "given_name"),
        ("family name", "lastName", "family_name"),
        ("middle name", "middleName", "middle_name"),
        ("nickname", "nickname", "nickname"),
        ("profile", "profile", "profile"),
        ("picture", "picture", "picture"),
        ("website", "website", "website"),
        ("gender", "gender", "gender"),
        ("birthdate", "birthdate", "birthdate"),
        ("zoneinfo", "zoneinfo", "zoneinfo"),
        ("locale", "locale", "locale"),
    ];
    let mut profile_mappers = vec![mapper(
        "full name",
        "oidc-full-name-mapper",
        ID | ACCESS | USERINFO,
        &[],
    )];
    profile_mappers.extend(
        profile
            .iter()
            .map(|(name, attr, claim)| attribute(name, attr, claim, "String")),
    );
    vec![
        scope("profile", true, profile_mappers),
        scope(
            "email",
            true,
            vec![
                attribute("email", "email", "email", "String"),
                mapper(
                    "email verified",
                    "oidc-usermodel-property-mapper",
                    ID | ACCESS | USERINFO,
                    &[
                        ("user.attribute", "emailVerified"),
                        ("claim.name", "email_verified"),
                        ("jsonType.label", "boolean"),
                    ],
                ),
            ],
        ),
        scope(
            "roles",
            false,
            vec![
                mapper(
                    "realm roles",
                    "oidc-usermodel-realm-role-mapper",
                    ACCESS,
                    &[
                        ("claim.name", "realm_access.roles"),
                        ("jsonType.label", "String"),
                        ("multivalued", "true"),
                    ],
                ),
                mapper(
                    "client roles",
                    "oidc-usermodel-client-role-mapper",
                    ACCESS,
                    &[
                        ("claim.name", "resource_access.${client_id}.roles"),
                        ("jsonType.label", "String"),
                        ("multivalued", "true"),
                    ],
                ),
                mapper(
                    "audience resolve",
                    "oidc-audience-resolve-mapper",
                    ACCESS,
                    &[],
                ),
            ],
        ),
        scope(
            "web-origins",
            false,
            vec![mapper(
                "allowed web origins",
                "oidc-allowed-origins-mapper",
                ACCESS,
                &[],
            )],
        ),
        scope(
            "acr",
            false,
            vec![mapper("acr loa level", "oidc-acr-mapper", ID | ACCESS, &[])],
        ),
        scope(
            "basic",
            false,
            vec![
                mapper("sub", "oidc-sub-mapper", ACCESS, &[]),
                mapper(
                    "auth_time",
                    "oidc-usersessionmodel-note-mapper",
                    ID | ACCESS,
                    &[
                        ("user.session.note", "AUTH_TIME"),
                        ("claim.name", "auth_time"),
                        ("jsonType.label", "long"),
                    ],
                ),
            ],
        ),
        scope(
            "address",
            true,
            vec![mapper(
                "address",
                "oidc-address-mapper",
                ID | ACCESS | USERINFO,
                &[],
            )],
        ),
        scope(
            "phone",
            true,
            vec![
                attribute("phone number", "phoneNumber", "phone_number", "String"),
                attribute(
                    "phone number verified",
                    "phoneNumberVerified",
                    "phone_number_verified",
                    "boolean",
                ),
            ],
        ),
        scope("offline_access", true, Vec::new()),
        scope(
            "organization",
            true,
            vec![mapper(
                "organization",
                "oidc-organization-membership-mapper",
                ID | ACCESS | USERINFO,
                &[],
            )],
        ),
        scope(
            "microprofile-jwt",
            true,
            vec![
                mapper(
                    "upn",
                    "oidc-usermodel-property-mapper",
                    ID | ACCESS,
                    &[
                        ("user.attribute", "username"),
                        ("claim.name", "upn"),
                        ("jsonType.label", "String"),
                    ],
                ),
                mapper(
                    "groups",
                    "oidc-usermodel-realm-role-mapper",
                    ID | ACCESS,
                    &[
                        ("claim.name", "groups"),
                        ("jsonType.label", "String"),
                        ("multivalued", "true"),
                    ],
                ),
            ],
        ),
    ]
}
