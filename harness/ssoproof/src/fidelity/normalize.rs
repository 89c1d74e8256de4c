//! What two faithful servers may answer differently, and how it is levelled before comparing:
//! their own address (`{issuer}`, `{base}`), random values (codes, ids, nonces: their kind
//! only), times (`{number}`, but a token's lifetime `exp - iat` is kept), and the order of
//! unordered lists (scopes, groups, JSON keys).

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// Claims and parameters whose values are random per request.
const RANDOM: [&str; 9] = [
    "jti",
    "sid",
    "session_state",
    "nonce",
    "at_hash",
    "c_hash",
    "code",
    "kid",
    "reuse_id",
];
/// Claims that are points in time.
const TIMES: [&str; 4] = ["exp", "iat", "auth_time", "nbf"];

pub(super) struct Normalizer {
    issuer: String,
    base: String,
    /// The issuer's path (`/realms/acme-1`), which also prefixes the login form's action.
    path: String,
}

impl Normalizer {
    pub(super) fn new(issuer: &str) -> Normalizer {
        let parsed = url::Url::parse(issuer).ok();
        let base = parsed
            .as_ref()
            .map_or_else(|| issuer.to_string(), |u| u.origin().ascii_serialization());
        let path = parsed.map_or_else(String::new, |u| u.path().trim_end_matches('/').to_string());
        Normalizer {
            issuer: issuer.trim_end_matches('/').to_string(),
            base,
            path,
        }
    }

    pub(super) fn text(&self, text: &str) -> String {
        let text = text
            .replace(&self.issuer, "{issuer}")
            .replace(&self.base, "{base}");
        if self.path.len() > 1 && text.starts_with(&format!("{}/", self.path)) {
            text.replacen(&self.path, "{issuer path}", 1)
        } else {
            text
        }
    }

    /// A lifetime in seconds, to the nearest 10: Keycloak counts some from the session's start,
    /// a second before the token (`expires_in` 299 for a 300 s lifespan).
    fn lifetime(seconds: i64) -> i64 {
        (seconds + 5).div_euclid(10) * 10
    }

    /// Every string inside `value` with the server's address replaced; lists of strings sorted.
    pub(super) fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => {
                let mut items: Vec<Value> = items.iter().map(|v| self.value(v)).collect();
                if items.iter().all(Value::is_string) {
                    items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                }
                Value::Array(items)
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A redirect's query parameters: random ones by kind, `state` checked against ours.
    pub(super) fn callback(&self, params: &BTreeMap<String, String>, state: &str) -> Value {
        let map: Map<String, Value> = params
            .iter()
            .map(|(k, v)| {
                let value = if RANDOM.contains(&k.as_str()) {
                    json!("{random}")
                } else if k == "state" {
                    json!(if v == state {
                        "{our state}"
                    } else {
                        "{another state}"
                    })
                } else {
                    json!(self.text(v))
                };
                (k.clone(), value)
            })
            .collect();
        Value::Object(map)
    }

    /// A token response: tokens by kind, lifetimes and types as sent, scopes sorted.
    pub(super) fn token_response(&self, tokens: &Value) -> Value {
        let Some(map) = tokens.as_object() else {
            return tokens.clone();
        };
        let out: Map<String, Value> = map
            .iter()
            .map(|(k, v)| {
                let value = match k.as_str() {
                    "access_token" | "id_token" | "refresh_token" => json!("{jwt}"),
                    "scope" => json!(sorted_words(v.as_str().unwrap_or_default())),
                    "expires_in" | "refresh_expires_in" => {
                        json!(v.as_i64().map(Normalizer::lifetime))
                    }
                    _ if RANDOM.contains(&k.as_str()) => json!("{random}"),
                    _ => self.value(v),
                };
                (k.clone(), value)
            })
            .collect();
        Value::Object(out)
    }

    /// A JWT's header and claims, normalised; a part that does not decode is kept as text.
    pub(super) fn jwt(&self, jwt: &str) -> (Value, Value) {
        let mut parts = jwt.split('.');
        let mut decode = || -> Value {
            let part = parts.next().unwrap_or_default();
            URL_SAFE_NO_PAD
                .decode(part)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_else(|| json!({"undecodable": part.len()}))
        };
        let header = decode();
        let claims = decode();
        (self.claims(&header), self.claims(&claims))
    }

    /// Claims (or a JOSE header): random ones by kind, times as `{number}` plus the lifetime
    /// `exp - iat`, `sub` by shape, the rest as sent with the address replaced.
    pub(super) fn claims(&self, claims: &Value) -> Value {
        let Some(map) = claims.as_object() else {
            return self.value(claims);
        };
        let mut out: Map<String, Value> = map
            .iter()
            .map(|(k, v)| {
                let value = if RANDOM.contains(&k.as_str()) {
                    json!("{random}")
                } else if TIMES.contains(&k.as_str()) {
                    json!("{time}")
                } else if k == "sub" {
                    json!(match v.as_str() {
                        Some(s) if uuid::Uuid::parse_str(s).is_ok() => "{uuid}",
                        Some(_) => "{string}",
                        None => "{not a string}",
                    })
                } else if k == "scope" {
                    json!(sorted_words(v.as_str().unwrap_or_default()))
                } else {
                    self.value(v)
                };
                (k.clone(), value)
            })
            .collect();
        if let (Some(exp), Some(iat)) = (
            map.get("exp").and_then(Value::as_i64),
            map.get("iat").and_then(Value::as_i64),
        ) {
            out.insert("(exp - iat)".into(), json!(Normalizer::lifetime(exp - iat)));
        }
        Value::Object(out)
    }

    /// A refusal: the status and the JSON body (`error`, `error_description`) as sent.
    pub(super) fn error_answer(&self, (status, body): (u16, String)) -> Value {
        let body = serde_json::from_str::<Value>(&body)
            .map(|b| self.value(&b))
            .unwrap_or_else(|_| json!({"not JSON": body.chars().take(200).collect::<String>()}));
        json!({"status": status, "body": body})
    }

    /// A success whose content is compared elsewhere: the status and the keys it carries.
    pub(super) fn status_and_keys(&self, (status, body): &(u16, String)) -> Value {
        let keys: Vec<String> = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        json!({"status": status, "keys": keys})
    }
}

fn sorted_words(text: &str) -> Vec<&str> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    words.sort_unstable();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_randoms_and_times_are_levelled_lifetimes_kept() {
        let norm = Normalizer::new("http://127.0.0.1:4000/realms/acme-1");
        assert_eq!(
            norm.text("http://127.0.0.1:4000/realms/acme-1/protocol/openid-connect/auth"),
            "{issuer}/protocol/openid-connect/auth"
        );
        assert_eq!(
            norm.text("http://127.0.0.1:4000/resources/x"),
            "{base}/resources/x"
        );
        let claims = norm.claims(&json!({
            "iss": "http://127.0.0.1:4000/realms/acme-1", "sub": "0b6e3f7e-52c5-4b8c-9e4e-6f4ad2e0f7b1",
            "exp": 1300, "iat": 1000, "jti": "abc", "groups": ["/b", "/a"], "scope": "openid email"
        }));
        assert_eq!(
            claims,
            json!({"iss": "{issuer}", "sub": "{uuid}", "exp": "{time}", "iat": "{time}",
                   "(exp - iat)": 300, "jti": "{random}", "groups": ["/a", "/b"], "scope": ["email", "openid"]})
        );
        let params: BTreeMap<String, String> = [
            ("code", "x"),
            ("state", "s1"),
            ("iss", "http://127.0.0.1:4000/realms/acme-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            norm.callback(&params, "s1"),
            json!({"code": "{random}", "state": "{our state}", "iss": "{issuer}"})
        );
        assert_eq!(norm.callback(&params, "s2")["state"], "{another state}");
    }
}
