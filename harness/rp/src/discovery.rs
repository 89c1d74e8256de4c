//! OpenID Provider discovery: `<issuer>/.well-known/openid-configuration`, checked strictly.

use std::time::Duration;

use reqwest::Client;
use serde_json::{Map, Value};
use url::Url;

use super::http;
use super::id_token::ALLOWED_ALGS;
use super::RpError;

/// What the relying party takes from the discovery document.
#[derive(Debug, Clone)]
pub(crate) struct Provider {
    pub document: Value,
    pub authorization_endpoint: Url,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    /// RFC 9207: the authorization response carries `iss`, which is then required.
    pub iss_parameter_supported: bool,
}

/// The discovery URL: the issuer without its terminating `/`, then the well-known path
/// (OpenID Connect Discovery 1.0, section 4).
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.strip_suffix('/').unwrap_or(issuer)
    )
}

pub(crate) async fn discover(
    client: &Client,
    issuer: &str,
    timeout: Duration,
) -> Result<Provider, RpError> {
    let url = discovery_url(issuer);
    let document =
        http::get_json(client, &url, timeout)
            .await
            .map_err(|f| RpError::DiscoveryFailed {
                request: f.request,
                problem: f.problem,
            })?;
    check(issuer, &url, document)
}

fn endpoint(doc: &Map<String, Value>, key: &str, url: &str) -> Result<Option<Url>, RpError> {
    let Some(value) = doc.get(key) else {
        return Ok(None);
    };
    let parsed = value
        .as_str()
        .and_then(|s| Url::parse(s).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    match parsed {
        Some(url) => Ok(Some(url)),
        None => Err(RpError::DiscoveryFailed {
            request: format!("GET {url}"),
            problem: format!("`{key}` is {value}, not an absolute http(s) URL"),
        }),
    }
}

/// Metadata that OpenID Connect Discovery 1.0 (section 3), RFC 8414 and RFC 9126 define as JSON
/// arrays of strings. A wrong type is refused rather than read as absent: that would skip the
/// downgrade checks on the very values a hostile or broken IdP got wrong.
const STRING_ARRAYS: [&str; 27] = [
    "scopes_supported",
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "acr_values_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "id_token_encryption_alg_values_supported",
    "id_token_encryption_enc_values_supported",
    "userinfo_signing_alg_values_supported",
    "userinfo_encryption_alg_values_supported",
    "userinfo_encryption_enc_values_supported",
    "request_object_signing_alg_values_supported",
    "request_object_encryption_alg_values_supported",
    "request_object_encryption_enc_values_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "display_values_supported",
    "claim_types_supported",
    "claims_supported",
    "claims_locales_supported",
    "ui_locales_supported",
    "code_challenge_methods_supported",
    "revocation_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_methods_supported",
    "dpop_signing_alg_values_supported",
    "authorization_signing_alg_values_supported",
];

/// Metadata defined as booleans that this relying party acts on.
const BOOLEANS: [&str; 1] = ["authorization_response_iss_parameter_supported"];

/// What a JSON value is, for messages; strings and numbers are quoted (shortened).
fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(text) if text.chars().count() > 60 => {
            format!(
                "the string \"{}…\"",
                text.chars().take(60).collect::<String>()
            )
        }
        Value::String(text) => format!("the string \"{text}\""),
        Value::Array(_) => "an array with an element that is not a string".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// Refuses metadata of the wrong type, naming the key and what it holds instead.
fn check_types(doc: &Map<String, Value>) -> Result<(), String> {
    for key in STRING_ARRAYS {
        match doc.get(key) {
            None => {}
            Some(Value::Array(list)) if list.iter().all(Value::is_string) => {}
            Some(other) => {
                return Err(format!(
                    "`{key}` is {}, not an array of strings (OpenID Connect Discovery 1.0, \
                     section 3); fix the IdP's metadata",
                    kind(other)
                ))
            }
        }
    }
    for key in BOOLEANS {
        match doc.get(key) {
            None | Some(Value::Bool(_)) => {}
            Some(other) => {
                return Err(format!(
                    "`{key}` is {}, not a boolean; fix the IdP's metadata",
                    kind(other)
                ))
            }
        }
    }
    Ok(())
}

/// The strings of an array-typed key that [`check_types`] passed; `None` when absent.
fn strings(doc: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    let list = doc.get(key)?.as_array()?;
    Some(
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    )
}

/// Checks a fetched discovery document against the configured issuer.
pub(crate) fn check(issuer: &str, url: &str, doc: Map<String, Value>) -> Result<Provider, RpError> {
    let failed = |problem: String| RpError::DiscoveryFailed {
        request: format!("GET {url}"),
        problem,
    };
    match doc.get("issuer") {
        Some(Value::String(found)) if found == issuer => {}
        Some(Value::String(found)) => {
            return Err(RpError::IssuerMismatch {
                origin: format!("the discovery document at {url}"),
                expected: issuer.to_string(),
                found: found.clone(),
                advice: "Configure the issuer exactly as discovery reports it (watch for a \
                         trailing slash, the scheme and the host); if discovery reports an \
                         internal host or scheme, fix the IdP's hostname and proxy settings",
            })
        }
        _ => return Err(failed("the document has no `issuer` string".to_string())),
    }
    let required = |key: &str| -> Result<Url, RpError> {
        endpoint(&doc, key, url)?.ok_or_else(|| failed(format!("the document has no `{key}`")))
    };
    let authorization_endpoint = required("authorization_endpoint")?;
    let token_endpoint = required("token_endpoint")?.to_string();
    let jwks_uri = required("jwks_uri")?.to_string();
    let userinfo_endpoint = endpoint(&doc, "userinfo_endpoint", url)?.map(|u| u.to_string());
    check_types(&doc).map_err(failed)?;

    if let Some(types) = strings(&doc, "response_types_supported") {
        if !types.iter().any(|t| t == "code") {
            return Err(failed(format!(
                "`response_types_supported` is {types:?}, without `code`: the IdP does not offer \
                 the authorization-code flow"
            )));
        }
    }
    if let Some(algs) = strings(&doc, "id_token_signing_alg_values_supported") {
        if !algs.iter().any(|a| ALLOWED_ALGS.contains(&a.as_str())) {
            return Err(RpError::AlgUnsupported {
                advertised: algs,
                allowed: ALLOWED_ALGS.join(", "),
            });
        }
    }
    if let Some(methods) = strings(&doc, "code_challenge_methods_supported") {
        if !methods.iter().any(|m| m == "S256") {
            return Err(RpError::PkceUnsupported {
                advertised: methods,
            });
        }
    }
    let iss_parameter_supported =
        doc.get("authorization_response_iss_parameter_supported") == Some(&Value::Bool(true));
    Ok(Provider {
        document: Value::Object(doc),
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        jwks_uri,
        iss_parameter_supported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://sso.example.com/realms/acme";

    fn doc(extra: Value) -> Map<String, Value> {
        let mut base = json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://sso.example.com/realms/acme/protocol/openid-connect/auth",
            "token_endpoint": "https://sso.example.com/realms/acme/protocol/openid-connect/token",
            "userinfo_endpoint": "https://sso.example.com/realms/acme/protocol/openid-connect/userinfo",
            "jwks_uri": "https://sso.example.com/realms/acme/protocol/openid-connect/certs",
            "response_types_supported": ["code", "id_token"],
            "id_token_signing_alg_values_supported": ["PS384", "RS256", "HS256"],
            "code_challenge_methods_supported": ["plain", "S256"],
        });
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base.as_object().unwrap().clone()
    }

    fn code(r: Result<Provider, RpError>) -> &'static str {
        r.map_or_else(|e| e.code(), |_| "ok")
    }

    #[test]
    fn url_drops_one_trailing_slash() {
        assert_eq!(
            discovery_url("https://acme.auth0.com/"),
            "https://acme.auth0.com/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url(ISSUER),
            format!("{ISSUER}/.well-known/openid-configuration")
        );
    }

    #[test]
    fn a_good_document() {
        let p = check(ISSUER, "u", doc(json!({}))).unwrap();
        assert_eq!(
            p.jwks_uri,
            "https://sso.example.com/realms/acme/protocol/openid-connect/certs"
        );
        assert!(!p.iss_parameter_supported);
        let p = check(
            ISSUER,
            "u",
            doc(json!({"authorization_response_iss_parameter_supported": true})),
        )
        .unwrap();
        assert!(p.iss_parameter_supported);
    }

    #[test]
    fn issuer_must_be_byte_equal() {
        // rp-discovery-issuer-not-matching-config, and the trailing-slash trap.
        let err = check(&format!("{ISSUER}/"), "u", doc(json!({}))).unwrap_err();
        assert_eq!(err.code(), "issuer_mismatch");
        let text = err.to_string();
        assert!(
            text.contains(&format!("`{ISSUER}/`")) && text.contains("trailing slash"),
            "{text}"
        );
        assert_eq!(
            code(check(
                ISSUER,
                "u",
                doc(json!({"issuer": "https://SSO.example.com/realms/acme"}))
            )),
            "issuer_mismatch"
        );
        assert_eq!(
            code(check(ISSUER, "u", doc(json!({"issuer": 5})))),
            "discovery_failed"
        );
    }

    #[test]
    fn downgrade_and_pkce_and_endpoints() {
        assert_eq!(
            code(check(
                ISSUER,
                "u",
                doc(json!({"id_token_signing_alg_values_supported": ["HS256", "none"]}))
            )),
            "alg_unsupported"
        );
        assert_eq!(
            code(check(
                ISSUER,
                "u",
                doc(json!({"code_challenge_methods_supported": ["plain"]}))
            )),
            "pkce_unsupported"
        );
        assert_eq!(
            code(check(
                ISSUER,
                "u",
                doc(json!({"response_types_supported": ["id_token"]}))
            )),
            "discovery_failed"
        );
        assert_eq!(
            code(check(ISSUER, "u", doc(json!({"jwks_uri": "/certs"})))),
            "discovery_failed"
        );
        let mut d = doc(json!({}));
        d.remove("token_endpoint");
        let err = check(ISSUER, "u", d).unwrap_err();
        assert!(err.to_string().contains("no `token_endpoint`"), "{err}");
        let mut d = doc(json!({}));
        d.remove("userinfo_endpoint");
        assert!(check(ISSUER, "u", d).unwrap().userinfo_endpoint.is_none());
    }

    /// issue 11: a string where an array belongs was read as absent, skipping the downgrade
    /// checks; every array- or boolean-typed key of the wrong type is `discovery_failed`.
    #[test]
    fn metadata_of_the_wrong_type_is_refused_by_name() {
        for (key, value, shown) in [
            (
                "code_challenge_methods_supported",
                json!("plain"),
                "the string \"plain\"",
            ),
            (
                "id_token_signing_alg_values_supported",
                json!("HS256"),
                "the string",
            ),
            ("response_types_supported", json!("id_token"), "the string"),
            ("scopes_supported", json!({"openid": true}), "an object"),
            (
                "token_endpoint_auth_methods_supported",
                json!(["a", 1]),
                "an array with an element",
            ),
            ("claims_supported", Value::Null, "null"),
            (
                "authorization_response_iss_parameter_supported",
                json!("true"),
                "the string",
            ),
        ] {
            let err = check(ISSUER, "u", doc(json!({ key: value }))).unwrap_err();
            assert_eq!(err.code(), "discovery_failed", "{key}");
            let text = err.to_string();
            assert!(text.contains(&format!("`{key}` is {shown}")), "{text}");
        }
        assert!(STRING_ARRAYS.iter().all(|k| !BOOLEANS.contains(k)));
    }

    mod properties {
        //! Arbitrary discovery documents: a typed error or a provider that keeps every promise
        //! (byte-equal issuer, well-typed metadata, no advertised downgrade), never a panic.
        //! 256 cases each by default (`PROPTEST_CASES` raises it), well under a second.
        use super::*;
        use crate::http::Answer;
        use proptest::prelude::*;
        use reqwest::StatusCode;

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                ".{0,10}".prop_map(Value::String),
                prop::sample::select(vec![
                    "code",
                    "S256",
                    "plain",
                    "RS256",
                    "HS256",
                    "none",
                    "id_token",
                    "https://sso.example.com/x",
                    "/relative",
                    ISSUER,
                ])
                .prop_map(|s| Value::String(s.to_string())),
            ];
            leaf.prop_recursive(3, 24, 5, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                    prop::collection::btree_map(".{0,6}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn key() -> impl Strategy<Value = String> {
            let mut known: Vec<&str> = STRING_ARRAYS.to_vec();
            known.extend(BOOLEANS);
            known.extend([
                "issuer",
                "authorization_endpoint",
                "token_endpoint",
                "userinfo_endpoint",
                "jwks_uri",
            ]);
            prop_oneof![
                prop::sample::select(known).prop_map(str::to_string),
                ".{0,12}",
            ]
        }

        /// The good document with up to 8 keys replaced (`Some`) or removed (`None`).
        fn document() -> impl Strategy<Value = Map<String, Value>> {
            prop::collection::vec((key(), prop::option::of(value())), 0..8).prop_map(|edits| {
                let mut d = doc(json!({}));
                for (k, v) in edits {
                    match v {
                        Some(v) => d.insert(k, v),
                        None => d.remove(&k),
                    };
                }
                d
            })
        }

        fn advertised<'a>(d: &'a Map<String, Value>, key: &str) -> Option<Vec<&'a str>> {
            d.get(key).map(|v| {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap())
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn documents_pass_only_when_every_promise_holds(d in document()) {
                match check(ISSUER, "u", d.clone()) {
                    Err(e) => prop_assert!(crate::meaning_of(e.code()).is_some()),
                    Ok(p) => {
                        prop_assert_eq!(d.get("issuer"), Some(&json!(ISSUER)));
                        for key in STRING_ARRAYS {
                            if let Some(v) = d.get(key) {
                                let strings = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
                                prop_assert!(strings, "{}", key);
                            }
                        }
                        if let Some(types) = advertised(&d, "response_types_supported") {
                            prop_assert!(types.contains(&"code"));
                        }
                        if let Some(algs) = advertised(&d, "id_token_signing_alg_values_supported") {
                            prop_assert!(algs.iter().any(|a| ALLOWED_ALGS.contains(a)));
                        }
                        if let Some(methods) = advertised(&d, "code_challenge_methods_supported") {
                            prop_assert!(methods.contains(&"S256"));
                        }
                        prop_assert_eq!(
                            p.iss_parameter_supported,
                            d.get("authorization_response_iss_parameter_supported") == Some(&json!(true))
                        );
                    }
                }
            }

            /// Whatever body a discovery URL answers with: a JSON object or a described problem.
            #[test]
            fn arbitrary_answers_never_panic(body in ".{0,200}", status in 100u16..600) {
                let answer = Answer {
                    status: StatusCode::from_u16(status).unwrap(),
                    content_type: "application/json".to_string(),
                    location: None,
                    body,
                };
                let _ = answer.json_object(&[]);
            }
        }
    }
}
