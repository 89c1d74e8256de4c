//! Client authentication at the token endpoint: `client_secret_basic` (HTTP Basic, with the id
//! and secret form-urlencoded first as RFC 6749 section 2.3.1 requires) or `client_secret_post`;
//! a public client names itself with `client_id` alone.
//!
//! Keycloak's answers differ by cause, and runbooks get this wrong: an unknown client is
//! `invalid_client`, but a confidential client with a missing or wrong secret is
//! `unauthorized_client` (both HTTP 401, both "Invalid client or Invalid client credentials").

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::params::Params;
use super::responses::oauth_error;
use crate::realm::{Client, Realm};

const INVALID_CLIENT: &str = "Invalid client or Invalid client credentials";

/// Why a client was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No such client, or it is disabled.
    UnknownClient,
    /// A confidential client without the right secret.
    BadSecret,
}

impl Refusal {
    pub fn response(self) -> Response {
        let error = match self {
            Refusal::UnknownClient => "invalid_client",
            Refusal::BadSecret => "unauthorized_client",
        };
        oauth_error(StatusCode::UNAUTHORIZED, error, INVALID_CLIENT)
    }
}

/// The authenticated client.
pub(crate) fn authenticate<'r>(
    realm: &'r Realm,
    headers: &HeaderMap,
    form: &Params,
) -> Result<&'r Client, Refusal> {
    let (client_id, secret) = match basic_credentials(headers) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            form.non_empty("client_id").map(str::to_string),
            form.get("client_secret").map(str::to_string),
        ),
    };
    let client = client_id.as_deref().and_then(|id| realm.client(id));
    let Some(client) = client.filter(|c| c.enabled) else {
        return Err(Refusal::UnknownClient);
    };
    if client.public_client {
        return Ok(client);
    }
    let expected = client.secret.as_ref().map(|s| s.expose());
    match secret {
        Some(secret) if Some(secret.as_str()) == expected => Ok(client),
        _ => Err(Refusal::BadSecret),
    }
}

/// The id and secret of an `Authorization: Basic` header; `None` when there is none or it is
/// malformed, in which case the form parameters are used, as Keycloak does.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

fn form_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn basic(raw: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(raw))).unwrap(),
        );
        headers
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(
            basic_credentials(&basic("my%3Aapp:s%2Bcr+t")),
            Some(("my:app".into(), "s+cr t".into()))
        );
        assert_eq!(basic_credentials(&basic("no-colon")), None);
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic_credentials(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&headers), None);
    }
}
